// data/mapped_file.h — read-only view of a whole file, memory-mapped when possible.
//
// The CSV reader scans a file once from start to end; mapping it avoids copying it through a
// buffer and lets the kernel read ahead (we ask for MADV_SEQUENTIAL). Streams that cannot be mapped
// (pipes, /dev/stdin from a pipe) are read into memory instead, up to half the machine's memory,
// so callers see the same interface. A character device is read the same way (/dev/null, a
// terminal) unless it gives NUL bytes (the zero device): that is refused at its first chunk.
// Block devices are refused.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace parafit::detail {

class MappedFile {
 public:
  // Opens and maps `path`. Throws parafit::Error "cannot open 'path': reason" when the file is
  // missing, unreadable or a directory, "cannot read 'path': it is a ... device" for a
  // block device or a binary character device, and an error for a stream longer than the limit. An empty file gives an empty view.
  explicit MappedFile(const std::string& path);
  ~MappedFile();

  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;

  const char* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::string_view view() const { return {data_, size_}; }

  // Says the caller is done with bytes [offset, offset + length): their whole pages leave this
  // process's resident set (the kernel's page cache keeps them, and reading them again still
  // works). A reader that copies a file into columns calls it behind the copy, so the process
  // never holds the file and the columns at once: peak memory stays near the size of the data.
  void drop(std::size_t offset, std::size_t length) const noexcept;

 private:
  void release() noexcept;

  const char* data_ = nullptr;
  std::size_t size_ = 0;
  void* mapping_ = nullptr;     // non-null when data_ points into an mmap region
  std::vector<char> fallback_;  // holds the bytes of a file that could not be mapped
};

}  // namespace parafit::detail
