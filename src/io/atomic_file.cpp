#include "io/atomic_file.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "parafit/error.h"

namespace parafit::detail {
namespace {

std::string cannot(const char* what, const std::string& path, int err) {
  return fmt::format("cannot write {} '{}': {}", what, path, std::strerror(err != 0 ? err : EIO));
}

// The temporary file for `target`. The process id keeps two writers (two ranks given the same
// path by mistake) off each other's temporary file.
std::string temp_name(const std::string& target) { return fmt::format("{}.tmp.{}", target, ::getpid()); }

// Where to write for `path`, and whether by a temporary file and rename. An existing device or pipe
// is written directly (renaming over it would replace the device node itself, for root); a
// directory is refused.
struct Destination {
  std::string target;
  bool replace = true;
  mode_t mode = 0;  // an existing file's permissions, which the new one keeps
};

Destination destination(const std::string& path, const char* what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {path, true, 0};  // a new file (or a dangling link)
  if (S_ISDIR(st.st_mode)) throw Error(cannot(what, path, EISDIR));
  if (!S_ISREG(st.st_mode)) return {path, false, 0};
  // Renaming needs only the directory's permission; a file the user may not write stays refused,
  // as it was when outputs were written in place.
  if (::access(path.c_str(), W_OK) != 0) throw Error(cannot(what, path, errno));
  std::error_code ec;
  const std::filesystem::path real = std::filesystem::canonical(path, ec);
  return {ec ? path : real.string(), true, st.st_mode & 07777};
}

}  // namespace

AtomicFile::AtomicFile(const std::string& path, const char* what) : path_(path), what_(what) {
  const Destination d = destination(path, what);
  target_ = d.target;
  if (d.replace) temp_ = temp_name(target_);
  file_ = std::fopen(temp_.empty() ? target_.c_str() : temp_.c_str(), "wb");
  if (file_ == nullptr) throw Error(cannot(what_, path_, errno));
  if (d.mode != 0 && ::fchmod(::fileno(file_), d.mode) != 0) fail(errno);
}

AtomicFile::~AtomicFile() {
  if (file_ != nullptr) std::fclose(file_);
  if (!temp_.empty()) std::remove(temp_.c_str());
}

void AtomicFile::fail(int err) {
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
  if (!temp_.empty()) std::remove(temp_.c_str());
  temp_.clear();
  throw Error(cannot(what_, path_, err));
}

void AtomicFile::write(const void* data, std::size_t size) {
  if (file_ == nullptr) throw Error(cannot(what_, path_, EBADF));
  if (size > 0 && std::fwrite(data, 1, size, file_) != size) fail(errno);
}

void AtomicFile::commit() {
  if (file_ == nullptr) throw Error(cannot(what_, path_, EBADF));
  // A full disk may show only here: in the flush of the last buffer, in fsync or in fclose.
  if (std::fflush(file_) != 0 || std::ferror(file_) != 0) fail(errno);
  if (!temp_.empty() && ::fsync(::fileno(file_)) != 0) fail(errno);
  std::FILE* f = file_;
  file_ = nullptr;
  if (std::fclose(f) != 0) fail(errno);
  if (temp_.empty()) return;
  if (std::rename(temp_.c_str(), target_.c_str()) != 0) fail(errno);
  temp_.clear();
}

void write_file_atomically(const std::string& path, const std::string& text, const char* what) {
  AtomicFile file(path, what);
  file.write(text);
  file.commit();
}

void check_writable(const std::string& path, const char* what) {
  const Destination d = destination(path, what);
  if (!d.replace) {  // a device or pipe: opening a pipe could block, so ask for permission only
    if (::access(path.c_str(), W_OK) != 0) throw Error(cannot(what, path, errno));
    return;
  }
  const std::string temp = temp_name(d.target);
  std::FILE* f = std::fopen(temp.c_str(), "wb");
  if (f == nullptr) throw Error(cannot(what, path, errno));
  std::fclose(f);
  std::remove(temp.c_str());
}

}  // namespace parafit::detail
