#include "parafit/error.h"

namespace parafit {
namespace {

// ASCII record and unit separators: never part of a message's own text.
constexpr char kOpen = '\x1e';
constexpr char kClose = '\x1f';

}  // namespace

std::string option_name(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out += kOpen;
  out += name;
  out += kClose;
  return out;
}

std::string render_options(std::string_view marked, const std::function<std::string(std::string_view)>& rename) {
  std::string out;
  out.reserve(marked.size());
  std::size_t at = 0;
  while (at < marked.size()) {
    const std::size_t open = marked.find(kOpen, at);
    const std::size_t close = open == std::string_view::npos ? open : marked.find(kClose, open);
    if (close == std::string_view::npos) {
      out += marked.substr(at);
      break;
    }
    out += marked.substr(at, open - at);
    out += rename(marked.substr(open + 1, close - open - 1));
    at = close + 1;
  }
  return out;
}

Error::Error(const std::string& message, Kind kind)
    : std::runtime_error(render_options(message, [](std::string_view name) { return "`" + std::string(name) + "`"; })),
      marked_(message),
      kind_(kind) {}

std::string marked_message(const std::exception& e) {
  if (const auto* error = dynamic_cast<const Error*>(&e)) return error->marked();
  return e.what();
}

}  // namespace parafit
