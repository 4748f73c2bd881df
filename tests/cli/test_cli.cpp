#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "cli_runner.h"

namespace parafit::testing {
namespace {

using nlohmann::json;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// exp-decay data: y = 2.5 exp(-1.3 x) + 0.5 + N(0, 0.05^2).
std::string gen_decay(const std::string& dir, std::size_t rows, int seed = 3) {
  const std::string path = dir + "/decay.csv";
  const auto r = run_parafit("gen --model exp-decay --params a=2.5,b=1.3,c=0.5 --rows " + std::to_string(rows) +
                                 " --x-range 0:5 --noise 0.05 --seed " + std::to_string(seed) + " --out '" + path + "'",
                             dir);
  EXPECT_EQ(r.code, 0) << r.err;
  return path;
}

TEST(Cli, ModelsListsEveryFamily) {
  const auto dir = scratch_dir();
  const auto r = run_parafit("models", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* name : {"poly:k", "exp-decay", "exp-growth", "log", "power", "logistic4", "gauss",
                           "michaelis-menten", "gompertz", "asymptotic"})
    EXPECT_TRUE(contains(r.out, name)) << name;
}

TEST(Cli, HelpOnEveryCommand) {
  const auto dir = scratch_dir();
  for (const char* cmd : {"", "fit", "predict", "gen", "models"}) {
    const auto r = run_parafit(std::string(cmd) + " --help", dir);
    EXPECT_EQ(r.code, 0) << cmd;
    EXPECT_TRUE(contains(r.out, "Usage")) << cmd << r.out;
  }
  EXPECT_TRUE(contains(run_parafit("fit --help", dir).out, "--weights"));
}

TEST(Cli, BadUsageExitsTwoWithTheUsageLine) {
  const auto dir = scratch_dir();
  struct Case {
    std::string args, expect;
  };
  const std::vector<Case> cases = {
      {"", "A subcommand is required"},
      {"fit --model exp-decay", "--data is required"},
      {"fit --data x.csv --model exp-decay --bogus", "bogus"},
      {"fit --data x.csv --model exp-decay --threads 0", "--threads"},
      {"fit --data x.csv --model exp-decay --start a=oops", "--start a: 'oops' is not a finite number"},
      {"fit --data x.csv --model exp-decay --start a", "--start: 'a' is not of the form name=number"},
      {"fit --data x.csv --model exp-decay --bounds a=5:1", "lower bound above upper bound"},
      {"gen --model exp-decay --params a=1,b=2 --rows 5 --out -", "no value for parameter 'c'"},
      {"gen --model exp-decay --params a=1,b=2,c=3 --rows 5 --x-range 3:1 --out -", "needs lo < hi"},
  };
  for (const auto& c : cases) {
    const auto r = run_parafit(c.args, dir);
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.err;
    EXPECT_TRUE(contains(r.err, c.expect)) << c.args << "\n" << r.err;
    EXPECT_TRUE(contains(r.err, "Usage:")) << c.args << "\n" << r.err;
  }
}

TEST(Cli, BadDataExitsOneAndSaysWhere) {
  const auto dir = scratch_dir();
  write_file(dir + "/bad.csv", "x,y\n1,2\n2,abc\n");
  write_file(dir + "/nan.csv", "x,y\n1,2\n2,nan\n3,4\n4,5\n5,6\n");
  struct Case {
    std::string args, expect;
  };
  const std::vector<Case> cases = {
      {"fit --data '" + dir + "/none.csv' --model exp-decay", "none.csv"},
      {"fit --data '" + dir + "/bad.csv' --model exp-decay", "bad.csv:3:3"},
      {"fit --data '" + dir + "/bad.csv' --model exp-decay --y z", "no column named 'z'"},
      {"fit --data '" + dir + "/nan.csv' --model poly:1", "nan.csv:3:3"},
  };
  for (const auto& c : cases) {
    const auto r = run_parafit(c.args, dir);
    EXPECT_EQ(r.code, 1) << c.args << "\n" << r.err;
    EXPECT_TRUE(contains(r.err, c.expect)) << c.args << "\n" << r.err;
  }
  const auto dropped = run_parafit("fit --data '" + dir + "/nan.csv' --model poly:1 --drop-missing", dir);
  EXPECT_EQ(dropped.code, 0) << dropped.err;
  EXPECT_TRUE(contains(dropped.err, "dropped 1 row")) << dropped.err;
  EXPECT_TRUE(contains(dropped.out, "4 observations")) << dropped.out;
}

TEST(Cli, FitsTheBundledExample) {
  const auto dir = scratch_dir();
  const auto r = run_parafit(std::string("fit --data '") + PARAFIT_EXAMPLES_DIR + "/decay.csv' --model exp-decay", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "Residual standard error")) << r.out;
  EXPECT_TRUE(contains(r.out, "Converged")) << r.out;
}

TEST(Cli, SameDigitsAndJsonForAnyThreadCount) {
  const auto dir = scratch_dir();
  const std::string data = gen_decay(dir, 60000);
  std::string first_out;
  json first_json;
  for (int threads : {1, 2, 3, 7}) {
    const std::string js = dir + "/fit" + std::to_string(threads) + ".json";
    const auto r = run_parafit("fit --data '" + data + "' --model exp-decay --start a=1,b=1,c=0 --threads " +
                                   std::to_string(threads) + " --json '" + js + "'",
                               dir);
    ASSERT_EQ(r.code, 0) << r.err;
    json doc = json::parse(read_file(js));
    EXPECT_EQ(doc["run"]["threads"], threads);
    doc.erase("run");  // thread count and timing: the only values allowed to differ
    if (threads == 1) {
      first_out = r.out;
      first_json = doc;
      EXPECT_GT(doc["convergence"]["iterations"].get<int>(), 2);
    } else {
      EXPECT_EQ(r.out, first_out) << threads << " threads";
      EXPECT_EQ(doc, first_json) << threads << " threads";
      EXPECT_EQ(doc.dump(), first_json.dump());
    }
  }
}

TEST(Cli, NonConvergenceSaysSoAndExitsOne) {
  const auto dir = scratch_dir();
  const std::string data = gen_decay(dir, 2000);
  const auto r = run_parafit("fit --data '" + data + "' --model exp-decay --start a=1,b=1,c=0 --max-iterations 1 --json '" +
                                 dir + "/r.json' --save '" + dir + "/m.json'",
                             dir);
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.out, "NOT CONVERGED")) << r.out;
  EXPECT_TRUE(contains(r.err, "not saved")) << r.err;
  const json doc = json::parse(read_file(dir + "/r.json"));
  EXPECT_EQ(doc["convergence"]["converged"], false);
  EXPECT_EQ(doc["convergence"]["termination"], "maximum iterations");
}

TEST(Cli, GenIsDeterministicForASeed) {
  const auto dir = scratch_dir();
  auto gen = [&](int seed, const std::string& name) {
    const auto r = run_parafit("gen --model gauss --params a=3,mu=5,s=1,c=0.2 --rows 500 --noise 0.1 --seed " +
                                   std::to_string(seed) + " --out '" + dir + "/" + name + "'",
                               dir);
    EXPECT_EQ(r.code, 0) << r.err;
    return read_file(dir + "/" + name);
  };
  const std::string a = gen(5, "a.csv"), b = gen(5, "b.csv"), c = gen(6, "c.csv");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(std::count(a.begin(), a.end(), '\n'), 501);
}

// For a straight line the standard error of the fitted mean has a closed form:
// se(x0) = sigma * sqrt(1/n + (x0 - mean x)^2 / Sxx).
TEST(Cli, PredictMatchesTheClosedFormForAStraightLine) {
  const auto dir = scratch_dir();
  const auto g = run_parafit("gen --model poly:1 --params b0=1,b1=0.5 --rows 200 --noise 0.3 --seed 9 --out '" +
                                 dir + "/line.csv'",
                             dir);
  ASSERT_EQ(g.code, 0) << g.err;
  const auto f = run_parafit("fit --data '" + dir + "/line.csv' --model poly:1 --save '" + dir + "/m.json'", dir);
  ASSERT_EQ(f.code, 0) << f.err;
  write_file(dir + "/new.csv", "x\n0\n2.5\n10\n");
  const auto p = run_parafit("predict --model-file '" + dir + "/m.json' --data '" + dir + "/new.csv' --out '" +
                                 dir + "/pred.csv'",
                             dir);
  ASSERT_EQ(p.code, 0) << p.err;

  // Closed form from the data file.
  std::vector<double> xs, ys;
  {
    std::istringstream in(read_file(dir + "/line.csv"));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      const auto comma = line.find(',');
      xs.push_back(std::stod(line.substr(0, comma)));
      ys.push_back(std::stod(line.substr(comma + 1)));
    }
  }
  const double n = double(xs.size());
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) mx += xs[i] / n, my += ys[i] / n;
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) sxx += (xs[i] - mx) * (xs[i] - mx), sxy += (xs[i] - mx) * (ys[i] - my);
  const double b1 = sxy / sxx, b0 = my - b1 * mx;
  double rss = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) rss += std::pow(ys[i] - b0 - b1 * xs[i], 2);
  const double sigma = std::sqrt(rss / (n - 2));

  std::istringstream in(read_file(dir + "/pred.csv"));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "x,fit,se_fit,lwr95,upr95");
  for (double x0 : {0.0, 2.5, 10.0}) {
    ASSERT_TRUE(std::getline(in, line));
    std::vector<double> v;
    std::stringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) v.push_back(std::stod(cell));
    ASSERT_EQ(v.size(), 5u);
    EXPECT_DOUBLE_EQ(v[0], x0);
    EXPECT_NEAR(v[1], b0 + b1 * x0, 1e-9);
    const double se = sigma * std::sqrt(1 / n + (x0 - mx) * (x0 - mx) / sxx);
    EXPECT_NEAR(v[2], se, 1e-9 * se);
    EXPECT_NEAR(v[4] - v[1], 1.9720175 * se, 1e-6 * se);  // qt(0.975, 198)
  }
}

TEST(Cli, DamagedModelFilesGetAClearError) {
  const auto dir = scratch_dir();
  const std::string data = gen_decay(dir, 1000);
  ASSERT_EQ(run_parafit("fit --data '" + data + "' --model exp-decay --save '" + dir + "/m.json'", dir).code, 0);
  const std::string good = read_file(dir + "/m.json");
  write_file(dir + "/x.csv", "x\n1\n");
  auto predict_with = [&](const std::string& text) {
    write_file(dir + "/bad.json", text);
    return run_parafit("predict --model-file '" + dir + "/bad.json' --data '" + dir + "/x.csv'", dir);
  };
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string t = good;
    const auto at = t.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return t.replace(at, from.size(), to);
  };
  struct Case {
    std::string text, expect;
  };
  const std::vector<Case> cases = {
      {good.substr(0, good.size() / 2), "not valid JSON"},
      {"", "not valid JSON"},
      {replaced("\"name\": \"b\"", "\"name\": \"k\""), "parameters[1].name: 'k' where model 'exp-decay' has 'b'"},
      {replaced("\"version\": 1", "\"version\": 7"), "version"},
      {replaced("\"format\": \"parafit-model\"", "\"format\": \"other\""), "format"},
      {replaced("\"name\": \"exp-decay\"", "\"name\": \"exp-decoy\""), "unknown model 'exp-decoy'"},
      {replaced("\"response\": \"y\",", ""), "response: missing"},
      {replaced("\"df\": ", "\"df\": \"many\", \"old_df\": "), "df: expected a number"},
      // An edited formula was ignored (the model is built from its name): now refused.
      {replaced("\"formula\": \"a*exp(-b*x) + c\"", "\"formula\": \"a*exp(-b*x)\""),
       "model.formula: 'a*exp(-b*x)' is not the formula of model.name 'exp-decay'"},
  };
  for (const auto& c : cases) {
    const auto r = predict_with(c.text);
    EXPECT_EQ(r.code, 1) << c.expect;
    EXPECT_TRUE(contains(r.err, "invalid model file")) << r.err;
    EXPECT_TRUE(contains(r.err, c.expect)) << c.expect << "\n" << r.err;
  }
  const auto ok = predict_with(good);
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(run_parafit("predict --model-file '" + dir + "/missing.json' --data '" + dir + "/x.csv'", dir).code, 1);
}

TEST(Cli, WeightsFixAndBoundsFromTheCommandLine) {
  const auto dir = scratch_dir();
  write_file(dir + "/w.csv", "# weighted data\nx;y;w\n1;2.1;1\n2;3.9;2\n3;6.2;1\n4;7.8;0.5\n5;10.1;1\n");
  const auto r = run_parafit("fit --data '" + dir + "/w.csv' --model poly:1 --weights w --fix b0=0 --json '" + dir +
                                 "/r.json'",
                             dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const json doc = json::parse(read_file(dir + "/r.json"));
  // Weighted regression through the origin: b1 = sum w x y / sum w x^2.
  const double xs[] = {1, 2, 3, 4, 5}, ys[] = {2.1, 3.9, 6.2, 7.8, 10.1}, ws[] = {1, 2, 1, 0.5, 1};
  double num = 0, den = 0;
  for (int i = 0; i < 5; ++i) num += ws[i] * xs[i] * ys[i], den += ws[i] * xs[i] * xs[i];
  EXPECT_NEAR(doc["parameters"][1]["estimate"].get<double>(), num / den, 1e-12);
  EXPECT_EQ(doc["parameters"][0]["fixed"], true);
  EXPECT_TRUE(doc["parameters"][0]["std_error"].is_null());
  EXPECT_EQ(doc["data"]["weights"], "w");
  const auto b = run_parafit("fit --data '" + dir + "/w.csv' --model poly:1 --weights w --bounds b1=0:1.5", dir);
  EXPECT_EQ(b.code, 0) << b.err;
  EXPECT_TRUE(contains(b.out, "(at bound)")) << b.out;
}

}  // namespace
}  // namespace parafit::testing

namespace parafit::testing {
namespace {

// NIST's Misra1a (14 rows) with its certified estimates: a formula fit through the command line.
const char* kMisra1a =
    "y,x\n10.07,77.6\n14.73,114.9\n17.94,141.1\n23.93,190.8\n29.61,239.9\n35.18,289.0\n40.02,332.8\n"
    "44.82,378.4\n50.76,434.8\n55.05,477.3\n61.01,536.8\n66.40,593.1\n75.47,689.1\n81.78,760.0\n";

TEST(CliFormula, FitsSavesAndPredictsAFormulaModel) {
  const auto dir = scratch_dir();
  write_file(dir + "/misra.csv", kMisra1a);
  const auto r = run_parafit("fit --data '" + dir + "/misra.csv' --model 'b1*(1-exp(-b2*x))' --start b1=500,b2=1e-4 "
                             "--json '" + dir + "/r.json' --save '" + dir + "/m.json'", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "Model: y ~ b1*(1-exp(-b2*x))")) << r.out;
  const json doc = json::parse(read_file(dir + "/r.json"));
  EXPECT_NEAR(doc["parameters"][0]["estimate"].get<double>(), 2.3894212918E+02, 1e-6 * 2.3894212918E+02);
  EXPECT_NEAR(doc["parameters"][1]["estimate"].get<double>(), 5.5015643181E-04, 1e-6 * 5.5015643181E-04);
  EXPECT_NEAR(doc["parameters"][0]["std_error"].get<double>(), 2.7070075241E+00, 1e-4 * 2.7070075241E+00);
  EXPECT_EQ(doc["data"]["x"], json::array({"x"}));

  write_file(dir + "/new.csv", "x\n100\n");
  const auto p = run_parafit("predict --model-file '" + dir + "/m.json' --data '" + dir + "/new.csv'", dir);
  ASSERT_EQ(p.code, 0) << p.err;
  const double b1 = doc["parameters"][0]["estimate"], b2 = doc["parameters"][1]["estimate"];
  const std::string row = p.out.substr(p.out.find('\n') + 1);  // "100,fit,se,lwr,upr"
  const double fit100 = std::stod(row.substr(row.find(',') + 1));
  EXPECT_NEAR(fit100, b1 * (1 - std::exp(-b2 * 100)), 1e-12 * fit100);
}

TEST(CliFormula, TransformedResponseAndErrors) {
  const auto dir = scratch_dir();
  write_file(dir + "/misra.csv", kMisra1a);
  const auto r = run_parafit("fit --data '" + dir + "/misra.csv' --model 'log(y) ~ b1 + b2*log(x)' --start b1=0,b2=1 "
                             "--json '" + dir + "/r.json'", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  // log y = b1 + b2 log x is linear: compare with the closed-form least squares on the logs.
  std::vector<double> lx, ly;
  std::istringstream in(kMisra1a);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    ly.push_back(std::log(std::stod(line.substr(0, line.find(',')))));
    lx.push_back(std::log(std::stod(line.substr(line.find(',') + 1))));
  }
  double mx = 0, my = 0, sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < lx.size(); ++i) mx += lx[i] / lx.size(), my += ly[i] / ly.size();
  for (std::size_t i = 0; i < lx.size(); ++i) sxx += (lx[i] - mx) * (lx[i] - mx), sxy += (lx[i] - mx) * (ly[i] - my);
  const json doc = json::parse(read_file(dir + "/r.json"));
  EXPECT_NEAR(doc["parameters"][1]["estimate"].get<double>(), sxy / sxx, 1e-10);
  EXPECT_EQ(doc["data"]["y"], "log(y)");

  const auto bad = run_parafit("fit --data '" + dir + "/misra.csv' --model 'b1*(1-exq(-b2*x))' --start b1=1,b2=1", dir);
  EXPECT_EQ(bad.code, 2);  // a bad --model is bad usage (tests/cli/test_cli_usage.cpp)
  EXPECT_TRUE(contains(bad.err, "unknown function 'exq' (did you mean 'exp'?)")) << bad.err;
  const auto nostart = run_parafit("fit --data '" + dir + "/misra.csv' --model 'b1*(1-exp(-b2*x))' --start b1=1", dir);
  EXPECT_EQ(nostart.code, 2);
  EXPECT_TRUE(contains(nostart.err, "give --start for b2")) << nostart.err;
}

}  // namespace
}  // namespace parafit::testing
