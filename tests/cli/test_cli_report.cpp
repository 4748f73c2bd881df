// `--report FILE` on fit, batch and train: the page is written, holds the charts and the inlined
// library, and a fit's report is the same bytes for 1 and 2 threads and (under mpirun) 1 and 2
// ranks. The browser test (tests/report/browser_test.sh) renders them.
#include <gtest/gtest.h>

#include <string>

#include "cli_runner.h"

namespace parafit::testing {
namespace {

const std::string kDecay = std::string(PARAFIT_EXAMPLES_DIR) + "/decay.csv";
const std::string kPeaks = std::string(PARAFIT_EXAMPLES_DIR) + "/peaks.csv";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::size_t count(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

TEST(CliReport, AFitsReportIsTheSameBytesOnAnyThreads) {
  const auto dir = scratch_dir();
  const std::string args = "fit --data '" + kDecay + "' --model exp-decay --report '" + dir;
  const auto one = run_parafit(args + "/r1.html' --threads 1", dir);
  const auto two = run_parafit(args + "/r2.html' --threads 2", dir);
  ASSERT_EQ(one.code, 0) << one.err;
  ASSERT_EQ(two.code, 0) << two.err;
  const std::string html = read_file(dir + "/r1.html");
  EXPECT_EQ(html, read_file(dir + "/r2.html"));
  EXPECT_TRUE(contains(html, "<!DOCTYPE html>"));
  EXPECT_TRUE(contains(html, "@license https://github.com/danvk/dygraphs"));
  EXPECT_EQ(count(html, "<div class=\"chart\""), 5u);  // curve, residuals x2, Q-Q, cost
  EXPECT_TRUE(contains(html, "100000 rows, drawn as a sample of"));  // decimated
  EXPECT_TRUE(contains(html, "95% prediction band"));
  EXPECT_LT(html.size(), 3u * 1000 * 1000);
}

TEST(CliReport, BatchAndTrainWriteTheirReports) {
  const auto dir = scratch_dir();
  const auto batch = run_parafit("batch --data '" + kPeaks + "' --y-columns y0..y31 --model gauss --estimator "
                                 "poisson-mle --out '" + dir + "/fits.csv' --report '" + dir + "/b.html'",
                                 dir);
  ASSERT_EQ(batch.code, 0) << batch.err;
  const std::string b = read_file(dir + "/b.html");
  EXPECT_EQ(count(b, "<div class=\"chart\""), 5u);  // a, mu, s, c and the cost
  EXPECT_TRUE(contains(b, "Histogram of mu"));
  EXPECT_TRUE(contains(b, "20 fits: 20 converged"));

  const auto train = run_parafit("train --data '" + kDecay + "' --model exp-decay --epochs 3 --val-split 0.1 "
                                 "--report '" + dir + "/t.html'",
                                 dir);
  ASSERT_EQ(train.code, 0) << train.err;
  const std::string t = read_file(dir + "/t.html");
  EXPECT_EQ(count(t, "<div class=\"chart\""), 2u);
  EXPECT_TRUE(contains(t, "Training and validation MSE per epoch"));
  EXPECT_TRUE(contains(t, "samples/s"));
}

#ifdef PARAFIT_MPIEXEC
TEST(CliReportMpi, AFitsReportIsTheSameBytesOnOneAndTwoRanks) {
  const auto dir = scratch_dir();
  const std::string args = "fit --data '" + kDecay + "' --model exp-decay --loss huber:0.05 --report '" + dir;
  const auto one = run_mpi(1, args + "/m1.html'", dir);
  const auto two = run_mpi(2, args + "/m2.html'", dir);
  ASSERT_EQ(one.code, 0) << one.err;
  ASSERT_EQ(two.code, 0) << two.err;
  EXPECT_EQ(read_file(dir + "/m1.html"), read_file(dir + "/m2.html"));
}
#endif

}  // namespace
}  // namespace parafit::testing
