// The HTML report's data (src/report/): decimation against brute force and across rank counts,
// the Q-Q plot's quantiles against sorting, the page's structure (inlined library, no network,
// escaping), the curve and bands against predict(), and the size of a large fit's report.
// tests/report/browser_test.sh renders reports in a real browser.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <unsupported/Eigen/SpecialFunctions>
#include <vector>

#include "parafit/distributed.h"
#include "parafit/fit.h"
#include "parafit/html_report.h"
#include "parafit/model_file.h"
#include "parafit/thread_communicator.h"
#include "parallel/strata.h"
#include "report/decimate.h"
#include "report/html_page.h"

namespace parafit {
namespace {

std::vector<double> noisy(std::size_t n, std::uint64_t seed, double spread = 1.0) {
  detail::Rng rng(seed);
  std::vector<double> v(n);
  for (auto& x : v) x = spread * rng.normal();
  return v;
}

// The points of rank r's share [n r / k, n (r + 1) / k) of key/value, decimated on k ranks.
std::vector<detail::Points> on_ranks(int k, const std::vector<double>& key, const std::vector<double>& value,
                                     const detail::Decimation& how) {
  std::vector<detail::Points> out(static_cast<std::size_t>(k));
  run_ranks(k, [&](Communicator& comm) {
    const std::size_t r = std::size_t(comm.rank()), n = key.size();
    const std::size_t first = n * r / std::size_t(k), last = n * (r + 1) / std::size_t(k);
    out[r] = detail::decimate(std::span(key).subspan(first, last - first),
                              std::span(value).subspan(first, last - first), comm, first, how);
  });
  return out;
}

TEST(ReportDecimate, FewRowsAreAllDrawnSortedByKey) {
  const std::vector<double> key = {3, 1, 2, NAN, 1}, value = {30, 10, 20, 5, 11};
  LocalCommunicator comm;
  const detail::Points p = detail::decimate(key, value, comm, 0, {});
  EXPECT_FALSE(p.decimated);
  EXPECT_EQ(p.rows, 4u);
  EXPECT_EQ(p.x, (std::vector<double>{1, 1, 2, 3}));
  EXPECT_EQ(p.y, (std::vector<double>{10, 11, 20, 30}));  // equal keys in row order
}

TEST(ReportDecimate, KeepsEachColumnsExtremesAndASampleTheSameOnAnyRanks) {
  const std::size_t n = 200000;
  std::vector<double> key = noisy(n, 1), value = noisy(n, 2);
  value[12345] = 50;  // an outlier: always drawn
  const detail::Decimation how{100, 5000, 2000};
  const std::vector<detail::Points> one = on_ranks(1, key, value, how);
  const detail::Points& p = one[0];
  ASSERT_TRUE(p.decimated);
  EXPECT_EQ(p.rows, n);
  // About `sample` rows sampled (binomial: sd ~ 45).
  EXPECT_NEAR(double(p.sampled), 2000.0, 250.0);
  EXPECT_LE(p.x.size(), p.sampled + 2 * how.columns);
  EXPECT_NE(std::find(p.y.begin(), p.y.end(), 50.0), p.y.end());
  // Brute force: every column's least and greatest value is among the points, at its key.
  const double lo = *std::min_element(key.begin(), key.end()), hi = *std::max_element(key.begin(), key.end());
  const double width = (hi - lo) / double(how.columns);
  std::vector<double> least(how.columns, INFINITY), most(how.columns, -INFINITY);
  std::vector<double> least_key(how.columns), most_key(how.columns);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = std::min(how.columns - 1, std::size_t((key[i] - lo) / width));
    if (value[i] < least[c]) least[c] = value[i], least_key[c] = key[i];
    if (value[i] > most[c]) most[c] = value[i], most_key[c] = key[i];
  }
  const auto has = [&](double x, double y) {
    for (std::size_t i = 0; i < p.x.size(); ++i)
      if (p.x[i] == x && p.y[i] == y) return true;
    return false;
  };
  for (std::size_t c = 0; c < how.columns; ++c) {
    if (!std::isfinite(least[c])) continue;
    EXPECT_TRUE(has(least_key[c], least[c])) << "column " << c;
    EXPECT_TRUE(has(most_key[c], most[c])) << "column " << c;
  }
  EXPECT_TRUE(std::is_sorted(p.x.begin(), p.x.end()));
  // The same points for 2 and 3 ranks.
  for (const int k : {2, 3})
    for (const detail::Points& q : on_ranks(k, key, value, how)) {
      EXPECT_EQ(q.x, p.x) << k << " ranks";
      EXPECT_EQ(q.y, p.y) << k << " ranks";
    }
}

TEST(ReportQq, ExactForFewRowsAndWithinABinForMany) {
  LocalCommunicator comm;
  const std::vector<double> few = {0.3, -1.2, 2.5, 0.0};
  const detail::Points p = detail::normal_qq(few, comm, 2000, 5000);
  ASSERT_EQ(p.x.size(), 4u);
  EXPECT_EQ(p.y, (std::vector<double>{-1.2, 0.0, 0.3, 2.5}));
  EXPECT_NEAR(p.x[0], -1.1503493803760079, 1e-12);  // qnorm(0.125) in R
  EXPECT_NEAR(p.x[3], 1.1503493803760079, 1e-12);

  const std::vector<double> many = noisy(300000, 7, 2.0);
  std::vector<double> sorted = many;
  std::sort(sorted.begin(), sorted.end());
  const detail::Points q = detail::normal_qq(many, comm, 500, 5000);
  ASSERT_EQ(q.x.size(), 500u);
  EXPECT_EQ(q.y.front(), sorted.front());
  EXPECT_EQ(q.y.back(), sorted.back());
  const double bin = (sorted.back() - sorted.front()) / 65536.0;
  for (std::size_t k = 1; k + 1 < 500; ++k) {
    const double prob = (double(k) + 0.5) / 500.0;
    EXPECT_NEAR(q.x[k], Eigen::numext::ndtri(prob), 1e-12);
    // The order statistics on either side of rank prob * n bracket the histogram's value.
    const double rank = prob * double(sorted.size());
    const double below = sorted[std::size_t(std::floor(rank)) - 1], above = sorted[std::size_t(std::ceil(rank))];
    EXPECT_GE(q.y[k], below - bin) << k;
    EXPECT_LE(q.y[k], above + bin) << k;
  }
  // And across ranks, the same points.
  std::vector<detail::Points> split(2);
  run_ranks(2, [&](Communicator& c) {
    const std::size_t r = std::size_t(c.rank()), half = many.size() / 2;
    split[r] = detail::normal_qq(std::span(many).subspan(r * half, half), c, 500, 5000);
  });
  EXPECT_EQ(split[0].y, q.y);
  EXPECT_EQ(split[1].y, q.y);
}

TEST(ReportPage, IsSelfContainedAndEscapesItsText) {
  detail::HtmlPage page("a <b> & \"c\"");
  page.heading("x < y");
  detail::Chart chart;
  chart.title = "</script><script>alert(1)</script>";
  chart.labels = {"x", "y"};
  detail::ChartRows rows(1, false);
  rows.add(2, 0, 1.0);
  rows.add(1, 0, NAN);
  chart.rows = rows.rows();
  page.chart(chart);
  const std::string html = page.render();
  EXPECT_NE(html.find("<title>a &lt;b&gt; &amp; &quot;c&quot;</title>"), std::string::npos);
  EXPECT_NE(html.find("<h2>x &lt; y</h2>"), std::string::npos);
  EXPECT_NE(html.find("@license https://github.com/danvk/dygraphs"), std::string::npos);  // inlined, licence kept
  EXPECT_EQ(html.find("alert(1)</script>"), std::string::npos);  // cannot close the data's <script>
  EXPECT_NE(html.find(R"(<\/script><script>alert(1)<\/script>)"), std::string::npos);
  EXPECT_NE(html.find(R"("rows":[[1.0,null],[2.0,1.0]])"), std::string::npos);  // sorted by x, NaN as null
  // Nothing is fetched: no element refers to a file or address (dygraphs sets an annotation's icon
  // from its option, and its range selector's image is a data: URL).
  EXPECT_EQ(html.find("<script src"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  // A chart with nothing to draw is a sentence, not an empty chart.
  detail::HtmlPage empty("e");
  detail::Chart none;
  none.title = "Histogram of a";
  none.caption = "No finite values.";
  empty.chart(none);
  const std::string e = empty.render();
  EXPECT_NE(e.find("<strong>Histogram of a</strong>: nothing to draw. No finite values."), std::string::npos);
  EXPECT_EQ(e.find("<div class=\"chart\""), std::string::npos);
}

// The data a report embeds, parsed back.
nlohmann::json report_data(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"parafit-data\">";
  const std::size_t a = html.find(open) + open.size(), b = html.find("</script>", a);
  return nlohmann::json::parse(html.substr(a, b - a));
}

Dataset decay(std::size_t n) {
  detail::Rng rng(3);
  std::vector<double> x(n), y(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = 5.0 * double(i) / double(n);
    y[i] = 2.5 * std::exp(-1.3 * x[i]) + 0.5 + 0.05 * rng.normal();
  }
  Dataset d;
  d.add_column("x", std::move(x));
  d.add_column("y", std::move(y));
  return d;
}

TEST(ReportFit, TheCurveAndBandsArePredictsAndEveryPlotIsThere) {
  const Dataset data = decay(300);
  FitSpec spec;
  spec.model = "exp-decay";
  const FitResult r = fit(data, spec);
  const std::string html = fit_report_html(data, r);
  const nlohmann::json d = report_data(html);
  ASSERT_EQ(d["charts"].size(), 5u);  // data+curve, residuals vs fitted and vs x, Q-Q, cost
  const nlohmann::json& main = d["charts"][0];
  EXPECT_EQ(main["options"]["customBars"], true);
  // Rows: 300 data points and 400 grid points, whose bands are predict()'s at the same x.
  ASSERT_EQ(main["rows"].size(), 700u);
  EXPECT_EQ(main["labels"].size(), 4u);
  Dataset grid;
  std::vector<double> gx;
  for (const auto& row : main["rows"])
    if (row[2].is_array()) gx.push_back(row[0].get<double>());
  ASSERT_EQ(gx.size(), 400u);
  grid.add_column("x", gx);
  PredictOptions want;
  want.interval = IntervalKind::kPrediction;
  const Predictions pred = predict(saved_model_from(r), grid, {}, want);
  std::size_t g = 0;
  for (const auto& row : main["rows"]) {
    if (!row[2].is_array()) continue;
    EXPECT_NEAR(row[3][0].get<double>(), pred.lower[g], 1e-6 * std::abs(pred.lower[g]) + 1e-12);
    EXPECT_NEAR(row[3][1].get<double>(), pred.fit[g], 1e-6 * std::abs(pred.fit[g]));
    EXPECT_NEAR(row[3][2].get<double>(), pred.upper[g], 1e-6 * std::abs(pred.upper[g]));
    EXPECT_LT(row[2][0].get<double>(), row[2][1].get<double>());  // confidence band around the fit
    EXPECT_GT(row[2][0].get<double>(), row[3][0].get<double>());  // inside the prediction band
    ++g;
  }
  // The cost chart holds the LM's history.
  EXPECT_EQ(d["charts"][4]["rows"].size(), r.summary.rss_history.size());
  // The Q-Q plot has every row (300 <= all_points).
  EXPECT_EQ(d["charts"][3]["rows"].size(), 300u + 2u);
}

TEST(ReportFit, ALargeFitsReportStaysSmallAndTheSameOnAnyRanks) {
  // 1M rows: every scatter plot is decimated, so the page does not grow with the rows (a 10M-row
  // fit's report is measured in docs/report.md).
  const Dataset data = decay(1000000);
  FitSpec spec;
  spec.model = "exp-decay";
  const FitResult r = fit(data, spec);
  const std::string html = fit_report_html(data, r);
  EXPECT_LT(html.size(), 3u * 1000 * 1000);
  const nlohmann::json d = report_data(html);
  for (const auto& chart : d["charts"]) EXPECT_LE(chart["rows"].size(), 5000u) << chart["title"];
  // Two ranks (each its half of the rows) give rank 0 the same page.
  std::vector<std::string> pages(2);
  run_ranks(2, [&](Communicator& comm) {
    const std::size_t half = data.rows() / 2, first = half * std::size_t(comm.rank());
    Dataset mine;
    for (const std::string& name : data.names()) {
      const auto col = data.column(name).subspan(first, half);
      mine.add_column(name, std::vector<double>(col.begin(), col.end()));
    }
    const Context ctx{.communicator = &comm};
    align_to_chunks(mine, comm, ctx.chunk_rows);
    const FitResult rr = fit(mine, spec, ctx);
    pages[std::size_t(comm.rank())] = fit_report_html(mine, rr, ctx);
  });
  EXPECT_EQ(pages[0], html);
  EXPECT_EQ(pages[1], "");
}

}  // namespace
}  // namespace parafit
