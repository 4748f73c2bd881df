// io/atomic_file.h — replacing a file so that readers see the old contents or the new, never half.
#pragma once

#include <string>

namespace parafit::detail {

// Writes `text` to a temporary file next to `path`, flushes it to disk (fsync) and renames it over
// `path`: a crash at any point leaves the old file or the new one. Throws parafit::Error
// "cannot write <what> '<path>': <reason>" (the temporary file is removed).
void write_file_atomically(const std::string& path, const std::string& text, const char* what);

}  // namespace parafit::detail
