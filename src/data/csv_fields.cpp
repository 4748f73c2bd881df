// data/csv_fields.cpp — field splitting for the header and for error reporting.
#include "data/csv_fields.h"

namespace parafit::detail {

const char* scan_field(const CsvText& text, const char* p, char delimiter, std::string* value,
                       const char** start) {
  const char* end = text.end();
  while (p < end && is_blank(*p, delimiter)) ++p;
  if (start != nullptr) *start = p;

  if (p < end && *p == '"') {
    bool escaped = false;
    const char* close = find_closing_quote(text, p, escaped);
    if (value != nullptr) {
      value->clear();
      for (const char* c = p + 1; c < close; ++c) {
        value->push_back(*c);
        if (*c == '"') ++c;  // the second quote of a "" pair
      }
    }
    return end_of_quoted_field(text, p, close, delimiter);
  }

  const char* stop = p;
  while (stop < end && !is_field_end(*stop, delimiter)) ++stop;
  if (value != nullptr) {
    const char* last = stop;
    while (last > p && is_blank(last[-1], delimiter)) --last;
    value->assign(p, last);
  }
  return stop;
}

const char* skip_line_end(const CsvText& text, const char* p) {
  const char* end = text.end();
  if (p == end) return p;
  if (*p == '\n') return p + 1;
  if (*p == '\r') {
    if (p + 1 == end) return end;
    if (p[1] == '\n') return p + 2;
  }
  text.fail_at(p, "unexpected character '" + CsvText::excerpt(p, p + 1) +
                      "' where the line should end");
}

std::size_t count_fields(const CsvText& text, const char* row, char delimiter) {
  std::size_t fields = 1;
  const char* p = scan_field(text, row, delimiter, nullptr, nullptr);
  while (p < text.end() && *p == delimiter) {
    ++fields;
    p = scan_field(text, p + 1, delimiter, nullptr, nullptr);
  }
  return fields;
}

}  // namespace parafit::detail
