// report/dygraphs_assets.h — Debian's dygraphs (libjs-dygraphs 2.2.1, MIT licence), compiled in by
// cmake/EmbedDygraphs.cmake: the HTML report inlines it, so the file opens with no network.
#pragma once

#include <string>

namespace parafit::detail {

const std::string& dygraphs_js();   // dygraph.min.js, its licence comment first
const std::string& dygraphs_css();  // dygraph.min.css

}  // namespace parafit::detail
