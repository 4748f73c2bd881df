// An output destination that is a file or, for "-", standard output.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <string>

#include "parafit/error.h"

namespace parafit::cli {

class OutputFile {
 public:
  explicit OutputFile(const std::string& path) : path_(path) {
    if (path == "-") {
      file_ = stdout;
    } else {
      file_ = std::fopen(path.c_str(), "wb");
      if (file_ == nullptr) throw Error(fmt::format("cannot write '{}'", path));
      owned_ = true;
    }
  }
  ~OutputFile() {
    if (owned_) std::fclose(file_);
  }
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void write(const fmt::memory_buffer& buf) {
    if (std::fwrite(buf.data(), 1, buf.size(), file_) != buf.size())
      throw Error(fmt::format("cannot write '{}' (disk full?)", path_));
  }
  // Writes `buf` out and empties it once it holds more than a megabyte, so output is streamed.
  void flush_if_large(fmt::memory_buffer& buf) {
    if (buf.size() > (1 << 20)) {
      write(buf);
      buf.clear();
    }
  }
  void close() {
    const bool ok = std::fflush(file_) == 0 && !std::ferror(file_);
    if (owned_) {
      owned_ = false;
      if (std::fclose(file_) != 0 || !ok) throw Error(fmt::format("cannot write '{}'", path_));
    } else if (!ok) {
      throw Error(fmt::format("cannot write '{}'", path_));
    }
  }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  bool owned_ = false;
};

}  // namespace parafit::cli
