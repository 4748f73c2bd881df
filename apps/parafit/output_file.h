// An output destination that is a file, replaced atomically (io/atomic_file.h), or, for "-",
// standard output.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <optional>
#include <string>

#include "io/atomic_file.h"
#include "parafit/error.h"

namespace parafit::cli {

class OutputFile {
 public:
  // Nothing appears at `path` until close(): a command that fails part-way leaves the file that
  // was there before (and no temporary file).
  explicit OutputFile(const std::string& path) {
    if (path != "-") file_.emplace(path, "output file");
  }

  void write(const fmt::memory_buffer& buf) {
    if (file_) {
      file_->write(buf.data(), buf.size());
    } else if (std::fwrite(buf.data(), 1, buf.size(), stdout) != buf.size()) {
      throw Error("cannot write to standard output");
    }
  }
  // Writes `buf` out and empties it once it holds more than a megabyte, so output is streamed.
  void flush_if_large(fmt::memory_buffer& buf) {
    if (buf.size() > (1 << 20)) {
      write(buf);
      buf.clear();
    }
  }
  void close() {
    if (file_) {
      file_->commit();
    } else if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
      throw Error("cannot write to standard output");
    }
  }

 private:
  std::optional<detail::AtomicFile> file_;
};

}  // namespace parafit::cli
