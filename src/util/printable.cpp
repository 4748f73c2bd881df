// printable(): the one way every message shows bytes the user gave (parafit/error.h).
#include <fmt/format.h>

#include "parafit/error.h"

namespace parafit {
namespace {

// Length of the valid UTF-8 sequence starting at s[i] (2 to 4), or 0 when there is none.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  std::size_t n = 0;
  unsigned min = 0;
  unsigned code = 0;
  if (c >= 0xC2 && c <= 0xDF) n = 2, min = 0x80, code = c & 0x1Fu;
  else if (c >= 0xE0 && c <= 0xEF) n = 3, min = 0x800, code = c & 0x0Fu;
  else if (c >= 0xF0 && c <= 0xF4) n = 4, min = 0x10000, code = c & 0x07u;
  else return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0u) != 0x80u) return 0;
    code = (code << 6) | (byte(i + k) & 0x3Fu);
  }
  // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
  if (code < min || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF) return 0;
  // C1 controls (U+0080..U+009F) are control characters too.
  if (code < 0xA0) return 0;
  return n;
}

}  // namespace

std::string printable(std::string_view text, std::size_t max_chars) {
  std::string out;
  out.reserve(text.size());
  std::size_t shown = 0;
  for (std::size_t i = 0; i < text.size(); ++shown) {
    if (max_chars != 0 && shown == max_chars) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else if (const std::size_t n = c >= 0x80 ? utf8_length(text, i) : 0; n > 0) {
      out.append(text.substr(i, n));
      i += n;
      continue;
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
    ++i;
  }
  return out;
}

}  // namespace parafit
