// `parafit fit --loss`: a robust fit's summary and JSON name the loss, its sum of rho and the
// sandwich covariance, give no likelihood, and agree with the library's fit; the same bytes on
// 1 and 2 threads and (under mpirun) on 1 and 2 ranks. `parafit train --loss`: the summary, JSON
// and progress name the loss; a bad loss is a usage error naming the flag.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "cli_runner.h"

namespace parafit::testing {
namespace {

using nlohmann::json;

const std::string kData = std::string(PARAFIT_ROBUST_DATA_DIR) + "/outliers.csv";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

double read_reference_b(const std::string& loss) {
  const json ref = json::parse(read_file(std::string(PARAFIT_ROBUST_DATA_DIR) + "/reference.json"));
  return ref["fits"][loss]["b"].get<double>();
}

TEST(CliLoss, SummaryAndJsonNameTheLossAndTheSandwich) {
  const auto dir = scratch_dir();
  const std::string args = "fit --data '" + kData + "' --model exp-decay --start a=4,b=0.5,c=1.5 --loss huber:0.2";
  const auto r1 = run_parafit(args + " --threads 1 --json '" + dir + "/h1.json'", dir);
  const auto r2 = run_parafit(args + " --threads 2 --json '" + dir + "/h2.json'", dir);
  ASSERT_EQ(r1.code, 0) << r1.err;
  ASSERT_EQ(r2.code, 0) << r2.err;
  EXPECT_EQ(r1.out, r2.out);
  EXPECT_TRUE(contains(r1.out, "Loss: huber:0.2 (sum of rho 13.88163899)")) << r1.out;
  EXPECT_TRUE(contains(r1.out, "sandwich covariance")) << r1.out;
  EXPECT_TRUE(contains(r1.out, "not given for a robust loss")) << r1.out;
  EXPECT_TRUE(contains(r1.out, "a   5.095329")) << r1.out;
  const json j = json::parse(read_file(dir + "/h1.json"));
  EXPECT_EQ(j["statistics"]["loss"], "huber:0.2");
  EXPECT_EQ(j["statistics"]["covariance_kind"], "sandwich");
  EXPECT_NEAR(j["statistics"]["loss_cost"].get<double>(), 13.88163899255436, 1e-8);
  EXPECT_TRUE(j["statistics"]["aic"].is_null());
  EXPECT_NEAR(j["parameters"][1]["estimate"].get<double>(), 0.4065683750657373, 1e-7);
  const json j2 = json::parse(read_file(dir + "/h2.json"));
  EXPECT_EQ(j["parameters"], j2["parameters"]);
  EXPECT_EQ(j["covariance"], j2["covariance"]);

  // The squared loss prints R's summary as before, and its JSON says so.
  const auto sq = run_parafit("fit --data '" + kData + "' --model exp-decay --json '" + dir + "/s.json'", dir);
  ASSERT_EQ(sq.code, 0) << sq.err;
  EXPECT_FALSE(contains(sq.out, "Loss:"));
  EXPECT_TRUE(contains(sq.out, "Log-likelihood:"));
  const json s = json::parse(read_file(dir + "/s.json"));
  EXPECT_EQ(s["statistics"]["loss"], "squared");
  EXPECT_EQ(s["statistics"]["loss_cost"], s["statistics"]["rss"]);
}

TEST(CliLoss, TrainNamesTheLossItMinimises) {
  const auto dir = scratch_dir();
  const std::string args = "train --data '" + kData +
                           "' --model exp-decay --start a=4,b=0.5,c=1.5 --optimizer lbfgs --loss cauchy:0.2";
  const auto r = run_parafit(args + " --json '" + dir + "/t.json'", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "Loss:       cauchy:0.2")) << r.out;
  EXPECT_TRUE(contains(r.out, "train loss")) << r.out;
  EXPECT_TRUE(contains(r.out, "Final loss:  training")) << r.out;
  const json j = json::parse(read_file(dir + "/t.json"));
  EXPECT_EQ(j["optimizer"]["loss"], "cauchy:0.2");
  EXPECT_TRUE(j["summary"]["train_loss"].is_number());
  EXPECT_TRUE(j["summary"]["train_mse"].is_number());
  EXPECT_GT(j["summary"]["train_mse"].get<double>(), j["summary"]["train_loss"].get<double>());
  EXPECT_TRUE(j["history"][0].contains("train_loss"));
  EXPECT_FALSE(j["history"][0].contains("train_mse"));
  // The estimates are the robust fit's (tests/data/robust: scipy's cauchy minimum).
  EXPECT_NEAR(j["parameters"]["b"].get<double>(), read_reference_b("cauchy"), 2e-6);

  const auto sgd = run_parafit("train --data '" + kData + "' --model exp-decay --epochs 2 --loss huber:0.2", dir);
  ASSERT_EQ(sgd.code, 0) << sgd.err;
  EXPECT_TRUE(contains(sgd.err, "train loss")) << sgd.err;

  const auto bad = run_parafit("train --data '" + kData + "' --model exp-decay --loss huber:-1", dir);
  EXPECT_EQ(bad.code, 2) << bad.err;
  EXPECT_TRUE(contains(bad.err, "--loss: 'huber:-1' has scale '-1', not a finite number > 0")) << bad.err;
}

#ifdef PARAFIT_MPIEXEC
TEST(CliLossMpi, ARobustFitGivesTheSameBytesOnOneAndTwoRanks) {
  const auto dir = scratch_dir();
  const std::string args = "fit --data '" + kData + "' --model exp-decay --start a=4,b=0.5,c=1.5 --loss tukey:0.2";
  const auto one = run_mpi(1, args + " --json '" + dir + "/r1.json'", dir);
  const auto two = run_mpi(2, args + " --json '" + dir + "/r2.json'", dir);
  ASSERT_EQ(one.code, 0) << one.err;
  ASSERT_EQ(two.code, 0) << two.err;
  EXPECT_EQ(one.out, two.out);
  const json a = json::parse(read_file(dir + "/r1.json")), b = json::parse(read_file(dir + "/r2.json"));
  EXPECT_EQ(a["parameters"], b["parameters"]);
  EXPECT_EQ(a["statistics"]["loss_cost"], b["statistics"]["loss_cost"]);
}
#endif

}  // namespace
}  // namespace parafit::testing
