// data/csv_text.h — the bytes of a CSV file plus what is needed to report errors in it.
//
// Positions are plain pointers while parsing; line and column numbers are only worked out when an
// error is thrown, so the hot loop never counts lines.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace parafit::detail {

// True for the blanks allowed around a field. A tab is a blank unless it is the delimiter.
inline bool is_blank(char c, char delimiter) {
  return (c == ' ' || c == '\t') && c != delimiter;
}

// Skips a line that is blank (spaces, tabs, '\r' only) or a comment (first non-blank is '#').
// Returns the start of the next line, or nullptr when the line at `p` holds data.
inline const char* skip_ignorable_line(const char* p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) ++p;
  if (p == end) return end;
  if (*p == '\n') return p + 1;
  if (*p != '#') return nullptr;
  while (p < end && *p != '\n') ++p;
  return p < end ? p + 1 : end;
}

class CsvText {
 public:
  // `begin` is the start of the file (line numbers count from it); `end` is where reading stops:
  // the end of the file, or the end of a shard. `quoted_line_breaks` false makes a line break
  // inside a quoted field an error (sharded reads, where rows must be single lines).
  CsvText(std::string path, const char* begin, const char* end, bool quoted_line_breaks = true)
      : path_(std::move(path)), begin_(begin), end_(end), quoted_line_breaks_(quoted_line_breaks) {}

  const std::string& path() const { return path_; }
  const char* begin() const { return begin_; }
  const char* end() const { return end_; }
  bool quoted_line_breaks() const { return quoted_line_breaks_; }

  // Throws parafit::Error "path:line:column: message" for the byte at `at`.
  [[noreturn]] void fail_at(const char* at, std::string_view message) const;
  // Throws parafit::Error "path: message" for problems that have no position.
  [[noreturn]] void fail(std::string_view message) const;

  // The text from `from` to `to`, shortened if long and with control characters escaped, ready
  // to be put in quotes in a message.
  static std::string excerpt(const char* from, const char* to);
  // The text from `at` to the end of its line (not including "\r\n"), as an excerpt.
  std::string rest_of_line(const char* at) const;

 private:
  std::string path_;
  const char* begin_;
  const char* end_;
  bool quoted_line_breaks_;
};

}  // namespace parafit::detail
