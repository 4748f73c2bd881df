// data/csv_header.cpp — header row and delimiter detection.
#include "data/csv_header.h"

#include <array>
#include <cstring>
#include <string_view>

#include "data/csv_fields.h"
#include "parafit/error.h"

namespace parafit::detail {
namespace {

// Picks the most frequent of ',', '\t' and ';' outside quotes on the header line; ties go to the
// earlier one in that list, and a line with none of them (a single column) gets ','.
char detect_delimiter(const char* line, const char* end) {
  constexpr std::array<char, 3> kCandidates{',', '\t', ';'};
  std::array<std::size_t, 3> counts{};
  bool quoted = false;
  for (const char* p = line; p < end; ++p) {
    const char c = *p;
    if (c == '"') {
      quoted = !quoted;  // a "" pair toggles twice, so escapes need no special case
    } else if (!quoted) {
      if (c == '\n') break;
      for (std::size_t i = 0; i < kCandidates.size(); ++i) counts[i] += (c == kCandidates[i]);
    }
  }
  std::size_t best = 0;
  for (std::size_t i = 1; i < counts.size(); ++i) {
    if (counts[i] > counts[best]) best = i;
  }
  return counts[best] > 0 ? kCandidates[best] : ',';
}

void check_delimiter(const CsvText& text, char delimiter) {
  // These bytes already mean something else in the format, so they cannot also split fields.
  if (delimiter == '"' || delimiter == '\n' || delimiter == '\r') {
    text.fail("invalid delimiter '" + CsvText::excerpt(&delimiter, &delimiter + 1) +
              "' (a quote or line break cannot separate fields)");
  }
}

// Bytes looked at to tell text from UTF-16 or binary: enough for any header line worth reading.
constexpr std::size_t kSniffBytes = 4096;

// A file that is not UTF-8 (or ASCII) text is named for what it looks like, before its bytes are
// read as fields: otherwise the message would be about a "column" made of raw bytes.
void check_looks_like_text(const CsvText& text) {
  const std::string_view head(text.begin(),
                              std::min<std::size_t>(kSniffBytes, static_cast<std::size_t>(text.end() - text.begin())));
  const std::string start = "'" + printable(head.substr(0, 8)) + "'";
  if (head.starts_with("\xFF\xFE") || head.starts_with("\xFE\xFF"))
    text.fail("looks like UTF-16 text (it starts with the byte order mark " + start +
              "); parafit reads UTF-8 or ASCII: save it as UTF-8");
  std::array<std::size_t, 2> nuls{};  // NUL bytes at even and odd offsets
  std::size_t odd_bytes = 0;          // control bytes that text does not hold
  for (std::size_t i = 0; i < head.size(); ++i) {
    const auto c = static_cast<unsigned char>(head[i]);
    if (c == 0) ++nuls[i % 2];
    else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) ++odd_bytes;
  }
  // ASCII as UTF-16 is every other byte NUL.
  const std::size_t pairs = head.size() / 2;
  if (pairs >= 2 && std::max(nuls[0], nuls[1]) * 10 >= pairs * 9 && std::min(nuls[0], nuls[1]) * 10 <= pairs)
    text.fail("looks like UTF-16 text (every other byte is NUL; it starts " + start +
              "); parafit reads UTF-8 or ASCII: save it as UTF-8");
  if (nuls[0] + nuls[1] > 0 || odd_bytes * 20 > head.size())
    text.fail("looks like binary, not CSV text (NUL or control bytes; it starts " + start +
              "); give a CSV file or a directory of .npy files");
}

}  // namespace

CsvHeader read_header(const CsvText& text, char delimiter) {
  if (text.begin() == text.end()) text.fail("file is empty (no header row)");
  check_looks_like_text(text);
  if (delimiter != 0) check_delimiter(text, delimiter);

  const char* p = text.begin();
  constexpr char kBom[] = "\xEF\xBB\xBF";
  if (text.end() - p >= 3 && std::memcmp(p, kBom, 3) == 0) p += 3;

  // Comments and blank lines may come before the header too.
  while (p < text.end()) {
    const char* next = skip_ignorable_line(p, text.end());
    if (next == nullptr) break;
    p = next;
  }
  if (p == text.end()) text.fail("file is empty (no header row, only blank or comment lines)");

  CsvHeader header;
  header.line = p;
  header.delimiter = delimiter != 0 ? delimiter : detect_delimiter(p, text.end());

  for (;;) {
    std::string name;
    const char* start = nullptr;
    p = scan_field(text, p, header.delimiter, &name, &start);
    header.names.push_back(std::move(name));
    header.name_positions.push_back(start);
    if (p == text.end() || *p != header.delimiter) break;
    ++p;
  }
  header.data = skip_line_end(text, p);
  return header;
}

}  // namespace parafit::detail
