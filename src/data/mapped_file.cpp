// data/mapped_file.cpp — POSIX implementation of MappedFile.
#include "data/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "parafit/error.h"

namespace parafit::detail {
namespace {

[[noreturn]] void fail_open(const std::string& path, int err) {
  throw Error("cannot open '" + path + "': " + std::strerror(err));
}

// Closes the descriptor on every path out of the constructor; the mapping outlives it.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() { ::close(fd_); }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;

 private:
  int fd_;
};

// The most a stream is read into memory: half the machine's memory. A stream that never ends
// (`yes |`, a pipe from the zero device) then stops with a message instead of taking it all.
std::size_t stream_limit() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return std::size_t{8} << 30;
  return static_cast<std::size_t>(pages) / 2 * static_cast<std::size_t>(page);
}

// Reads a stream that cannot be mapped (a pipe, a socket, a character device) to its end. A
// character device that gives a NUL byte (the zero device, a random-number device) is binary
// and may never end: it is refused at its first chunk (a pipe may carry binary data, e.g. .npy).
std::vector<char> read_all(int fd, const std::string& path, bool device) {
  const std::size_t limit = stream_limit();
  std::vector<char> bytes;
  std::size_t used = 0;
  for (;;) {
    if (used > limit)
      throw Error(fmt::format("'{}': a stream longer than {} MiB (half this machine's memory, the most parafit holds); "
                              "save it to a file and give that",
                              path, limit >> 20));
    if (bytes.size() - used < 65536) bytes.resize(used + 65536 + bytes.size());
    const ssize_t n = ::read(fd, bytes.data() + used, bytes.size() - used);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_open(path, errno);
    }
    if (device && std::memchr(bytes.data() + used, '\0', static_cast<std::size_t>(n)) != nullptr)
      throw Error(fmt::format("cannot read '{}': it is a character device that gives binary data (NUL bytes), not a "
                              "file (give a file, a pipe or a directory of .npy files)",
                              path));
    used += static_cast<std::size_t>(n);
  }
  bytes.resize(used);
  return bytes;
}

}  // namespace

MappedFile::MappedFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_open(path, errno);
  FdGuard guard(fd);

  struct stat info {};
  if (::fstat(fd, &info) != 0) fail_open(path, errno);
  if (S_ISDIR(info.st_mode)) fail_open(path, EISDIR);
  // A disk is never data to read whole.
  if (S_ISBLK(info.st_mode))
    throw Error(fmt::format("cannot read '{}': it is a block device, not a file (give a file, a pipe or a directory "
                            "of .npy files)",
                            path));

  if (!S_ISREG(info.st_mode)) {
    fallback_ = read_all(fd, path, S_ISCHR(info.st_mode));
    data_ = fallback_.data();
    size_ = fallback_.size();
    return;
  }

  size_ = static_cast<std::size_t>(info.st_size);
  if (size_ == 0) return;  // mmap rejects a zero length; an empty view is all we need

  void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) fail_open(path, errno);
  // Only a hint: failure just means no extra read-ahead.
  (void)::madvise(p, size_, MADV_SEQUENTIAL);
  mapping_ = p;
  data_ = static_cast<const char*>(p);
}

MappedFile::~MappedFile() { release(); }

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      mapping_(std::exchange(other.mapping_, nullptr)),
      fallback_(std::move(other.fallback_)) {
  // A moved vector keeps its buffer, so data_ stays valid when it pointed into fallback_.
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapping_ = std::exchange(other.mapping_, nullptr);
    fallback_ = std::move(other.fallback_);
  }
  return *this;
}

void MappedFile::drop(std::size_t offset, std::size_t length) const noexcept {
  if (mapping_ == nullptr || offset >= size_) return;
  length = std::min(length, size_ - offset);
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t begin = (offset + page - 1) / page * page;  // whole pages only
  const std::size_t end = (offset + length == size_) ? size_ : (offset + length) / page * page;
  if (end <= begin) return;
  // Only a hint: a read-only private mapping refaults the same bytes from the file if touched.
  (void)::madvise(static_cast<char*>(mapping_) + begin, end - begin, MADV_DONTNEED);
}

void MappedFile::release() noexcept {
  if (mapping_ != nullptr) ::munmap(mapping_, size_);
  mapping_ = nullptr;
  data_ = nullptr;
  size_ = 0;
  fallback_.clear();
}

}  // namespace parafit::detail
