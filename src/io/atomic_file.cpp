#include "io/atomic_file.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "parafit/error.h"

namespace parafit::detail {

void write_file_atomically(const std::string& path, const std::string& text, const char* what) {
  // The process id keeps two writers (two ranks given the same path by mistake) off each other's
  // temporary file.
  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) throw Error(fmt::format("cannot write {} '{}': {}", what, path, std::strerror(errno)));
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0 &&
                       ::fsync(::fileno(f)) == 0;
  const int err = errno;
  if (std::fclose(f) != 0 || !written) {
    std::remove(tmp.c_str());
    throw Error(fmt::format("cannot write {} '{}': {}", what, path, std::strerror(err != 0 ? err : EIO)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    throw Error(fmt::format("cannot write {} '{}': {}", what, path, std::strerror(e)));
  }
}

}  // namespace parafit::detail
