// data/csv_fields.h — splitting a CSV line into fields, shared by the header and row parsers.
//
// A field is: optional blanks, then either a quoted string ("" inside stands for one quote, and
// delimiters and newlines inside do not end it; newlines only where the CsvText allows them) or
// unquoted text up to the next delimiter or line end, then optional blanks. These helpers are for
// the cold paths (the header, counting fields for an error message, skipping a quoted field); the
// number parser in csv_reader.cpp inlines its own fast path for unquoted fields.
#pragma once

#include <cstring>
#include <string>

#include "data/csv_text.h"

namespace parafit::detail {

// True where a field stops: the delimiter or the end of the line.
inline bool is_field_end(char c, char delimiter) {
  return c == delimiter || c == '\n' || c == '\r';
}

// `open` points at an opening quote. Returns the matching closing quote; sets `escaped` if the
// field holds "" pairs. Throws for a quote that is never closed, pointing at the opening quote,
// and, when the text does not allow line breaks inside quotes, for one closed on a later line.
inline const char* find_closing_quote(const CsvText& text, const char* open, bool& escaped) {
  const char* p = open + 1;
  const char* end = text.end();
  if (!text.quoted_line_breaks()) {
    if (const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p))) {
      end = static_cast<const char*>(nl);
    }
  }
  escaped = false;
  for (;;) {
    const void* q = p < end ? std::memchr(p, '"', static_cast<std::size_t>(end - p)) : nullptr;
    if (q == nullptr) {
      if (end != text.end()) {
        text.fail_at(open, "quoted field '" + text.rest_of_line(open) +
                               "' is not closed on its line; a sharded read (shard_count > 1) "
                               "needs every row on one line, without line breaks inside quotes");
      }
      text.fail_at(open, "unterminated quoted field '" + text.rest_of_line(open) + "'");
    }
    p = static_cast<const char*>(q);
    if (p + 1 < end && p[1] == '"') {
      escaped = true;
      p += 2;
      continue;
    }
    return p;
  }
}

// After the closing quote at `close`: skips blanks and checks that the field ends there.
inline const char* end_of_quoted_field(const CsvText& text, const char* open, const char* close,
                                       char delimiter) {
  const char* p = close + 1;
  while (p < text.end() && is_blank(*p, delimiter)) ++p;
  if (p < text.end() && !is_field_end(*p, delimiter)) {
    const char* stop = p;
    while (stop < text.end() && !is_field_end(*stop, delimiter)) ++stop;
    text.fail_at(p, "unexpected text after closing quote in field '" +
                        CsvText::excerpt(open, stop) + "'");
  }
  return p;
}

// Reads the field starting at `p` and returns where it ends (at the delimiter, the line end or
// the end of the file). When `value` is given it receives the field's text: unquoted, "" turned
// into ", and blanks around it removed. `start` receives the field's first non-blank byte.
const char* scan_field(const CsvText& text, const char* p, char delimiter, std::string* value,
                       const char** start);

// Steps over the line end at `p` ("\n", "\r\n", or the end of the file). Throws if `p` is at
// anything else, e.g. a lone '\r'.
const char* skip_line_end(const CsvText& text, const char* p);

// Counts the fields of the row starting at `row` (honouring quotes), for error messages.
std::size_t count_fields(const CsvText& text, const char* row, char delimiter);

}  // namespace parafit::detail
