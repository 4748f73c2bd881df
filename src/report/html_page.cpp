#include "report/html_page.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "report/dygraphs_assets.h"

namespace parafit::detail {
namespace {

constexpr std::string_view kStyle = R"css(
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1120px;
       color: #1d2327; padding: 0 16px; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 1.8em; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
.sub { color: #57606a; margin-top: 0; }
table { border-collapse: collapse; margin: 8px 0; font-size: 0.92em; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eaeef2; }
th { text-align: left; background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f8fa; padding: 10px; overflow-x: auto; font-size: 0.85em; }
.chart-box { margin: 14px 0 26px 0; }
.chart { width: 100%; height: 340px; }
.legend { min-height: 1.4em; font-size: 0.85em; color: #57606a; }
.caption { font-size: 0.85em; color: #57606a; margin: 4px 0 0 0; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 0 24px; }
#parafit-errors { color: #b42318; white-space: pre-wrap; }
.dygraph-title { font-size: 15px; }
.dygraph-label { font-size: 13px; }
)css";

// The page script: hands each chart's data and options to dygraphs, and records in the DOM what
// was drawn and any error.
constexpr std::string_view kScript = R"js(
(function () {
  var errors = document.getElementById('parafit-errors');
  function fail(message) { errors.hidden = false; errors.textContent += message + '\n'; }
  window.addEventListener('error', function (e) { fail(e.message || String(e)); });
  var spec = JSON.parse(document.getElementById('parafit-data').textContent);
  var drawn = 0;
  document.body.setAttribute('data-charts', String(spec.charts.length));
  spec.charts.forEach(function (c, i) {
    var div = document.getElementById('chart-' + i);
    var options = {
      labels: c.labels, title: c.title, xlabel: c.xlabel, ylabel: c.ylabel,
      legend: 'always', labelsDiv: document.getElementById('legend-' + i), labelsSeparateLines: false,
      connectSeparatedPoints: true, animatedZooms: false, digitsAfterDecimal: 4, maxNumberWidth: 8,
      drawCallback: function (g, initial) {
        if (!initial) return;
        div.setAttribute('data-points', String(g.numRows()));
        drawn += 1;
        document.body.setAttribute('data-charts-drawn', String(drawn));
      }
    };
    for (var k in c.options) options[k] = c.options[k];
    try { new Dygraph(div, c.rows, options); } catch (e) { fail('chart ' + i + ' (' + c.title + '): ' + e); }
  });
})();
)js";

// JSON inside a <script> element: "</" would end it early.
std::string script_safe(std::string json) {
  std::string out;
  out.reserve(json.size());
  for (std::size_t i = 0; i < json.size(); ++i) {
    if (json[i] == '<' && i + 1 < json.size() && json[i + 1] == '/') {
      out += "<\\/";
      ++i;
    } else {
      out += json[i];
    }
  }
  return out;
}

}  // namespace

std::string escape_html(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string cell(double value) {
  if (std::isnan(value)) return "-";
  if (std::isinf(value)) return value > 0 ? "Inf" : "-Inf";
  return fmt::format("{:.7g}", value);
}

std::string html_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  const auto numeric = [](const std::string& s) {
    return !s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s == "-" || s == "Inf" || s == "-Inf" ||
                          (s[0] == '-' && s.size() > 1) || s[0] == '<');
  };
  std::string out = "<table><thead><tr>";
  for (const auto& h : header) out += "<th>" + h + "</th>";
  out += "</tr></thead><tbody>\n";
  for (const auto& row : rows) {
    out += "<tr>";
    for (std::size_t c = 0; c < row.size(); ++c)
      out += (c > 0 && numeric(row[c]) ? "<td class=\"num\">" : "<td>") + row[c] + "</td>";
    out += "</tr>\n";
  }
  return out + "</tbody></table>\n";
}

namespace {
// JSON has no NaN or infinity: a cell that is not finite is null (dygraphs: no point). Seven
// significant digits are more than a chart resolves and halve the page against round-trip digits.
nlohmann::json number(double v) {
  if (!std::isfinite(v)) return nullptr;
  return std::strtod(fmt::format("{:.7g}", v).c_str(), nullptr);
}
}  // namespace

void ChartRows::add(double x, std::size_t series, double value) {
  if (!std::isfinite(x)) return;
  nlohmann::json cell =
      bars_ ? nlohmann::json::array({number(value), number(value), number(value)}) : number(value);
  cells_.push_back({x, {{series, std::move(cell)}}});
}

void ChartRows::add_bands(double x, std::initializer_list<Band> bands) {
  if (!std::isfinite(x)) return;
  Cell c{x, {}};
  for (const Band& b : bands)
    c.values.emplace_back(b.series, nlohmann::json::array({number(b.low), number(b.mid), number(b.high)}));
  cells_.push_back(std::move(c));
}

nlohmann::json ChartRows::rows() const {
  std::vector<std::size_t> order(cells_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return cells_[a].x < cells_[b].x; });
  nlohmann::json out = nlohmann::json::array();
  for (const std::size_t i : order) {
    nlohmann::json row = nlohmann::json::array({number(cells_[i].x)});
    for (std::size_t s = 0; s < series_; ++s) row.push_back(nullptr);
    for (const auto& [series, value] : cells_[i].values) row[series + 1] = value;
    out.push_back(std::move(row));
  }
  return out;
}

void HtmlPage::heading(std::string_view text) { body_ += "<h2>" + escape_html(text) + "</h2>\n"; }

void HtmlPage::html(std::string_view fragment) { body_.append(fragment); }

void HtmlPage::chart(Chart chart) {
  if (chart.rows.empty()) {  // dygraphs draws nothing from no rows (and complains): say so instead
    body_ += "<p><strong>" + escape_html(chart.title) + "</strong>: nothing to draw." +
             (chart.caption.empty() ? std::string() : " " + escape_html(chart.caption)) + "</p>\n";
    return;
  }
  const std::size_t i = charts_.size();
  body_ += fmt::format(
      "<div class=\"chart-box\"><div class=\"legend\" id=\"legend-{0}\"></div>"
      "<div class=\"chart\" id=\"chart-{0}\" data-rows=\"{1}\"></div>{2}</div>\n",
      i, chart.rows.size(),
      chart.caption.empty() ? std::string() : "<p class=\"caption\">" + escape_html(chart.caption) + "</p>");
  charts_.push_back(std::move(chart));
}

std::string HtmlPage::render() const {
  nlohmann::json spec;
  spec["charts"] = nlohmann::json::array();
  for (const Chart& c : charts_)
    spec["charts"].push_back({{"title", c.title},
                              {"xlabel", c.xlabel},
                              {"ylabel", c.ylabel},
                              {"labels", c.labels},
                              {"rows", c.rows},
                              {"options", c.options}});
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"generator\" content=\"parafit\">\n";
  out += "<title>" + escape_html(title_) + "</title>\n";
  out += "<style>\n" + dygraphs_css() + "\n" + std::string(kStyle) + "</style>\n";
  // dygraphs 2.2.1 (MIT licence: its first line), from Debian's libjs-dygraphs.
  out += "<script>\n" + dygraphs_js() + "\n</script>\n";
  out += "</head>\n<body>\n";
  out += "<h1>" + escape_html(title_) + "</h1>\n";
  out += "<pre id=\"parafit-errors\" hidden></pre>\n";
  out += body_;
  out += "<p class=\"caption\">Charts: drag to zoom (shift-drag pans), double-click to zoom out; the legend shows "
         "the values under the pointer.</p>\n";
  out += "<script type=\"application/json\" id=\"parafit-data\">" +
         script_safe(spec.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) + "</script>\n";
  out += "<script>" + std::string(kScript) + "</script>\n";
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace parafit::detail
