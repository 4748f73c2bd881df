// `parafit fit --trace` and `--residuals FILE`: one trace line per iteration with the JSON's
// costs, the residuals file's columns and rows (leverages summing to the parameters estimated),
// the same residuals bytes on 1 and 2 threads and, under mpirun, on 1 and 2 ranks.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.h"

namespace parafit::testing {
namespace {

using nlohmann::json;

const std::string kData = std::string(PARAFIT_EXAMPLES_DIR) + "/decay.csv";

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(CliDiagnostics, TraceHasOneLinePerIteration) {
  const auto dir = scratch_dir();
  const auto r = run_parafit("fit --data '" + kData + "' --model exp-decay --start a=1,b=1,c=0 --trace --json '" +
                                 dir + "/f.json'",
                             dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(read_file(dir + "/f.json"));
  const int iterations = j["convergence"]["iterations"];
  const auto trace = lines(r.err);
  ASSERT_EQ(int(trace.size()), iterations + 1) << r.err;  // the header, then one line each
  EXPECT_NE(trace[0].find("iter run"), std::string::npos) << trace[0];
  EXPECT_NE(trace[0].find("lambda"), std::string::npos);
  for (const char* name : {" a", " b", " c"}) EXPECT_NE(trace[0].find(name), std::string::npos);
  // The cost column of the last line is the final RSS.
  std::istringstream last(trace.back());
  int it = 0, run = 0;
  double cost = 0;
  last >> it >> run >> cost;
  EXPECT_EQ(it, iterations);
  EXPECT_NEAR(cost, j["convergence"]["final_rss"].get<double>(), 1e-9 * cost);
  // Standard output is the summary alone.
  EXPECT_EQ(r.out.find("iter run"), std::string::npos);
}

TEST(CliDiagnostics, ResidualsFileHasEveryRow) {
  const auto dir = scratch_dir();
  const std::string base = "fit --data '" + kData + "' --model exp-decay --residuals '" + dir;
  const auto one = run_parafit(base + "/r1.csv' --threads 1", dir);
  const auto two = run_parafit(base + "/r2.csv' --threads 2", dir);
  ASSERT_EQ(one.code, 0) << one.err;
  ASSERT_EQ(two.code, 0) << two.err;
  const std::string text = read_file(dir + "/r1.csv");
  EXPECT_EQ(text, read_file(dir + "/r2.csv"));
  const auto rows = lines(text);
  EXPECT_EQ(rows[0], "x,y,fitted,residual,std_residual,leverage");
  EXPECT_EQ(rows.size(), lines(read_file(kData)).size());
  double sum_h = 0;
  for (std::size_t i = 1; i < rows.size(); ++i) sum_h += std::stod(rows[i].substr(rows[i].rfind(',') + 1));
  EXPECT_NEAR(sum_h, 3.0, 1e-9);
  // A singular fit has no leverages: no file, a message, the fit's own exit code.
  const auto singular = run_parafit("fit --data '" + kData + "' --model 'a*b*exp(-c*x)' --start a=1,b=2,c=1 "
                                        "--residuals '" + dir + "/s.csv'",
                                    dir);
  EXPECT_EQ(singular.code, 1) << singular.err;
  EXPECT_NE(singular.err.find("no residuals written"), std::string::npos) << singular.err;
  EXPECT_TRUE(read_file(dir + "/s.csv").empty());
  const auto clash = run_parafit("fit --data '" + kData + "' --model exp-decay --residuals '" + kData + "'", dir);
  EXPECT_EQ(clash.code, 2) << clash.err;
}

#ifdef PARAFIT_MPIEXEC
TEST(CliDiagnosticsMpi, ResidualsAreTheSameBytesOnOneAndTwoRanks) {
  const auto dir = scratch_dir();
  const std::string base = "fit --data '" + kData + "' --model exp-decay --loss cauchy:0.05 --residuals '" + dir;
  const auto one = run_mpi(1, base + "/r1.csv'", dir);
  const auto two = run_mpi(2, base + "/r2.csv'", dir);
  ASSERT_EQ(one.code, 0) << one.err;
  ASSERT_EQ(two.code, 0) << two.err;
  EXPECT_EQ(read_file(dir + "/r1.csv"), read_file(dir + "/r2.csv"));
  EXPECT_EQ(lines(read_file(dir + "/r2.csv")).size(), lines(read_file(kData)).size());
}

TEST(CliDiagnosticsMpi, ProfileIntervalsAreTheSameOnOneAndTwoRanks) {
  const auto dir = scratch_dir();
  const std::string args = "fit --data '" + kData + "' --model exp-decay --ci profile";
  const auto one = run_mpi(1, args, dir);
  const auto two = run_mpi(2, args, dir);
  ASSERT_EQ(one.code, 0) << one.err;
  ASSERT_EQ(two.code, 0) << two.err;
  EXPECT_EQ(one.out, two.out);
  EXPECT_NE(one.out.find("Intervals: profile likelihood"), std::string::npos) << one.out;
}
#endif

}  // namespace
}  // namespace parafit::testing
