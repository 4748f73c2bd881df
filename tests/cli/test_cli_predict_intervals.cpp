// `parafit predict --interval confidence|prediction --level L [--weights COL]`: the columns, the
// prediction band wider than the mean's by sigma^2, the level in the header, and the usage errors.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.h"

namespace parafit::testing {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::vector<std::vector<double>> numbers(const std::string& csv, std::string* header) {
  std::istringstream in(csv);
  std::getline(in, *header);
  std::vector<std::vector<double>> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<double> row;
    std::istringstream ls(line);
    for (std::string cell; std::getline(ls, cell, ',');) row.push_back(std::stod(cell));
    rows.push_back(row);
  }
  return rows;
}

TEST(CliPredictIntervals, PredictionBandsAddSigmaSquared) {
  const auto dir = scratch_dir();
  const std::string data = std::string(PARAFIT_EXAMPLES_DIR) + "/decay.csv";
  const auto f = run_parafit("fit --data '" + data + "' --model exp-decay --save '" + dir + "/m.json' --json '" + dir +
                                 "/fit.json'",
                             dir);
  ASSERT_EQ(f.code, 0) << f.err;
  write_file(dir + "/new.csv", "x,w\n0.5,1\n2,4\n7.5,0.25\n");
  const std::string base = "predict --model-file '" + dir + "/m.json' --data '" + dir + "/new.csv'";
  const auto conf = run_parafit(base + " --level 0.9", dir);
  const auto pred = run_parafit(base + " --interval prediction --level 0.9", dir);
  const auto weighted = run_parafit(base + " --interval prediction --level 0.9 --weights w", dir);
  ASSERT_EQ(conf.code, 0) << conf.err;
  ASSERT_EQ(pred.code, 0) << pred.err;
  ASSERT_EQ(weighted.code, 0) << weighted.err;
  std::string hc, hp, hw;
  const auto c = numbers(conf.out, &hc), p = numbers(pred.out, &hp), w = numbers(weighted.out, &hw);
  EXPECT_EQ(hc, "x,fit,se_fit,lwr90,upr90");
  EXPECT_EQ(hp, "x,fit,se_fit,se_pred,lwr90,upr90");
  EXPECT_EQ(hw, hp);
  // sigma from the fit's summary line "Residual standard error: ..."
  const std::string text = f.out;
  const std::size_t at = text.find("Residual standard error: ");
  ASSERT_NE(at, std::string::npos);
  const double sigma = std::stod(text.substr(at + 25));
  const double weights[] = {1.0, 4.0, 0.25};
  ASSERT_EQ(p.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(c[i][1], p[i][1]);  // the same fitted value and se_fit
    EXPECT_EQ(c[i][2], p[i][2]);
    const double se_fit = p[i][2];
    EXPECT_NEAR(p[i][3], std::sqrt(se_fit * se_fit + sigma * sigma), 1e-3 * p[i][3]);  // sigma printed to 4 digits
    EXPECT_NEAR(w[i][3], std::sqrt(se_fit * se_fit + sigma * sigma / weights[i]), 1e-3 * w[i][3]);
    // Symmetric about the fit, and the band of a new observation is wider than the mean's.
    EXPECT_NEAR(p[i][5] - p[i][1], p[i][1] - p[i][4], 1e-12 * std::abs(p[i][1]) + 1e-12);
    EXPECT_GT(p[i][5] - p[i][4], c[i][4] - c[i][3]);
    EXPECT_NEAR((p[i][5] - p[i][4]) / (c[i][4] - c[i][3]), p[i][3] / se_fit, 1e-9 * p[i][3] / se_fit);
  }
  const auto lonely = run_parafit(base + " --weights w", dir);
  EXPECT_EQ(lonely.code, 2);
  EXPECT_TRUE(contains(lonely.err, "--weights weighs new observations")) << lonely.err;
  const auto bad_kind = run_parafit(base + " --interval tolerance", dir);
  EXPECT_EQ(bad_kind.code, 2);
  EXPECT_TRUE(contains(bad_kind.err, "--interval")) << bad_kind.err;
  write_file(dir + "/zero.csv", "x,w\n0.5,1\n2,0\n");
  const auto zero = run_parafit("predict --model-file '" + dir + "/m.json' --data '" + dir +
                                    "/zero.csv' --interval prediction --weights w",
                                dir);
  EXPECT_EQ(zero.code, 2);
  EXPECT_TRUE(contains(zero.err, "zero.csv:3")) << zero.err;
  EXPECT_TRUE(contains(zero.err, "must be finite and > 0")) << zero.err;
}

}  // namespace
}  // namespace parafit::testing
