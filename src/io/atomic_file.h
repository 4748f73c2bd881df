// io/atomic_file.h — replacing a file so that readers see the old contents or the new, never half.
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

namespace parafit::detail {

// A file being replaced: what is written goes to a temporary file next to `path`; commit() flushes
// it to disk (fsync) and renames it over `path`, so a crash or an error at any point leaves the old
// file or the new one. Destroyed without commit() (an error part-way), it removes the temporary
// file and `path` is untouched. The new file keeps the old one's permissions, and an existing
// file the user may not write is refused. A symbolic link is written through (its target is
// replaced). A path that names a device or a pipe (/dev/null, /dev/full) cannot be replaced and is
// written directly. Errors throw parafit::Error "cannot write <what> '<path>': <reason>".
class AtomicFile {
 public:
  AtomicFile(const std::string& path, const char* what);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, std::size_t size);
  void write(std::string_view text) { write(text.data(), text.size()); }
  void commit();

 private:
  [[noreturn]] void fail(int err);

  std::string path_;    // as given, for messages
  std::string target_;  // the file replaced: path_ with a final symbolic link followed
  std::string temp_;    // empty when written directly
  const char* what_;
  std::FILE* file_ = nullptr;
};

// Writes `text` to `path` as AtomicFile does.
void write_file_atomically(const std::string& path, const std::string& text, const char* what);

// Checks, before the work that produces it, that `path` can be written: not a directory, and its
// directory takes a new file (the temporary file is created and removed). Throws as AtomicFile.
void check_writable(const std::string& path, const char* what);

}  // namespace parafit::detail
