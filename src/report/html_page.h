// report/html_page.h — one self-contained HTML page: tables, text and interactive charts drawn by
// the inlined dygraphs (report/dygraphs_assets.h) from the data embedded in the page.
//
// Each chart is a div whose data and dygraphs options travel as JSON in the page; a small page
// script (ours: no plotting of its own) hands them to `new Dygraph`. When a chart has drawn, its
// div gets data-points="<rows drawn>" (beside data-rows, the rows given), and the body
// data-charts-drawn counts them; a script error lands in #parafit-errors. The browser test reads
// these through the DOM.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace parafit::detail {

struct Chart {
  std::string title, caption, xlabel, ylabel;
  std::vector<std::string> labels;  // the x axis's, then each series'
  nlohmann::json rows = nlohmann::json::array();  // [x, series values...] by increasing x; null: none
  nlohmann::json options = nlohmann::json::object();  // dygraphs options, over the page's defaults
};

class HtmlPage {
 public:
  explicit HtmlPage(std::string title) : title_(std::move(title)) {}
  // A section heading, and raw HTML (the caller escapes text: escape_html).
  void heading(std::string_view text);
  void html(std::string_view fragment);
  // A chart of no rows becomes a line saying there is nothing to draw.
  void chart(Chart chart);
  std::string render() const;

 private:
  std::string title_;
  std::string body_;
  std::vector<Chart> charts_;
};

// A chart's rows from points of several series: each point its own row [x, null.., value, null..]
// (or one row holding several series' bands),
// all rows by increasing x (stable: a series' points keep their order). With `bars`, a plain value
// v is written [v, v, v] (dygraphs' customBars wants every cell as [low, mid, high]).
class ChartRows {
 public:
  ChartRows(std::size_t series, bool bars) : series_(series), bars_(bars) {}
  void add(double x, std::size_t series, double value);
  // One row with several series' bands: bands[k] = {series, low, mid, high}.
  struct Band {
    std::size_t series;
    double low, mid, high;
  };
  void add_bands(double x, std::initializer_list<Band> bands);
  nlohmann::json rows() const;

 private:
  struct Cell {
    double x;
    std::vector<std::pair<std::size_t, nlohmann::json>> values;
  };
  std::size_t series_;
  bool bars_;
  std::vector<Cell> cells_;
};

std::string escape_html(std::string_view text);

// A table: a header row, then the rows (cells already escaped). Numeric cells align right.
std::string html_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// A number as the tables show it: 7 significant digits, "-" for NaN, "Inf"/"-Inf".
std::string cell(double value);

}  // namespace parafit::detail
