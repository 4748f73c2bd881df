// The fit's honesty at the command line (issue 9): an unidentifiable model is not "converged", the
// confidence labels keep every digit of the level, a prediction is never a silent inf or 0, and a
// row that breaks the fit is named by file and line with what is wrong there.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_runner.h"

namespace parafit::testing {
namespace {

using nlohmann::json;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// y = 2.5 exp(-1.3 x) + 0.5 + N(0, 0.05^2) on 2,000 rows (all positive): header on line 1, data row i on line i + 1.
std::string decay_csv(const std::string& dir) {
  const std::string path = dir + "/decay.csv";
  const auto r = run_parafit("gen --model exp-decay --params a=2.5,b=1.3,c=0.5 --rows 2000 --x-range 0:5 "
                             "--noise 0.05 --seed 5 --out '" + path + "'",
                             dir);
  EXPECT_EQ(r.code, 0) << r.err;
  return path;
}

// decay.csv with line `line` (1-based, counting the header) replaced by `text`.
std::string with_line(const std::string& dir, const std::string& name, std::size_t line, const std::string& text) {
  const std::string src = read_file(decay_csv(dir));
  std::string out;
  std::size_t at = 0, n = 1;
  while (at < src.size()) {
    const std::size_t end = src.find('\n', at);
    out += n == line ? text : src.substr(at, end - at);
    out += '\n';
    at = end + 1;
    ++n;
  }
  write_file(dir + "/" + name, out);
  return dir + "/" + name;
}

TEST(CliFitHonesty, UnidentifiableModelIsASingularGradientAndExitsOne) {
  const auto dir = scratch_dir();
  const auto data = decay_csv(dir);
  const auto r = run_parafit("fit --data '" + data + "' --model 'a*b*exp(-k*x)' --start a=1,b=1,k=1 --json '" +
                                 dir + "/r.json' --save '" + dir + "/m.json'",
                             dir);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "NOT CONVERGED")) << r.out;
  EXPECT_TRUE(contains(r.out, "singular gradient")) << r.out;
  EXPECT_TRUE(contains(r.out, "'a', 'b' cannot be told apart")) << r.out;
  EXPECT_FALSE(contains(r.out, "Converged:")) << r.out;
  EXPECT_FALSE(contains(r.out, "Achieved convergence tolerance")) << r.out;
  // The standard errors are NA, as R prints them, and null in the JSON.
  EXPECT_TRUE(contains(r.out, "a  ")) << r.out;
  const std::string a_row = r.out.substr(r.out.find("\na ") + 1, r.out.find('\n', r.out.find("\na ") + 1) - r.out.find("\na ") - 1);
  EXPECT_TRUE(contains(a_row, "NA")) << a_row;
  const json doc = json::parse(read_file(dir + "/r.json"));
  EXPECT_EQ(doc["convergence"]["termination"], "singular gradient");
  EXPECT_FALSE(doc["convergence"]["converged"].get<bool>());
  for (const auto& p : doc["parameters"]) EXPECT_TRUE(p["std_error"].is_null()) << p.dump();
  EXPECT_TRUE(doc["statistics"]["singular"].get<bool>());
  EXPECT_TRUE(doc["statistics"]["relative_offset"].is_null());
  EXPECT_TRUE(read_file(dir + "/m.json").empty()) << "a singular fit must not be saved";
}

TEST(CliFitHonesty, ConfidenceLabelsKeepEveryDigitOfTheLevel) {
  const auto dir = scratch_dir();
  const auto data = decay_csv(dir);
  const auto r = run_parafit("fit --data '" + data + "' --model exp-decay --conf-level 0.995 --save '" + dir + "/m.json'", dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "  0.25 %  ")) << r.out;
  EXPECT_TRUE(contains(r.out, "  99.75 %\n")) << r.out;
  write_file(dir + "/new.csv", "x\n1\n");
  const auto p = run_parafit("predict --model-file '" + dir + "/m.json' --data '" + dir + "/new.csv'", dir);
  ASSERT_EQ(p.code, 0) << p.err;
  EXPECT_EQ(p.out.substr(0, p.out.find('\n')), "x,fit,se_fit,lwr99.5,upr99.5");

  // The usual level keeps its usual labels.
  const auto usual = run_parafit("fit --data '" + data + "' --model exp-decay --conf-level 0.9", dir);
  ASSERT_EQ(usual.code, 0) << usual.err;
  EXPECT_TRUE(contains(usual.out, "  5 %  ")) << usual.out;
  EXPECT_TRUE(contains(usual.out, "  95 %\n")) << usual.out;
}

TEST(CliFitHonesty, NonFinitePredictionIsAnErrorNamingRowAndQuantity) {
  const auto dir = scratch_dir();
  const auto data = decay_csv(dir);
  ASSERT_EQ(run_parafit("fit --data '" + data + "' --model exp-decay --save '" + dir + "/m.json'", dir).code, 0);
  json model = json::parse(read_file(dir + "/m.json"));
  model["parameters"][0]["estimate"] = 1e308;
  write_file(dir + "/m308.json", model.dump());
  // Row 1 (x = 0) is finite; at row 2 the variance of the fitted value overflows (it used to print
  // se_fit inf, inf and then 0).
  write_file(dir + "/new.csv", "x\n0\n# a comment\n0.5\n1\n2\n");
  const auto p = run_parafit("predict --model-file '" + dir + "/m308.json' --data '" + dir + "/new.csv'", dir);
  EXPECT_EQ(p.code, 1) << p.out;
  EXPECT_TRUE(contains(p.err, "cannot predict at data row 2 (" + dir + "/new.csv:4)")) << p.err;
  EXPECT_TRUE(contains(p.err, "the standard error of the fit (se_fit) is ")) << p.err;
  EXPECT_FALSE(contains(p.out, "inf")) << p.out;

  // A fitted value that overflows: exp(-b x) with b = -2000 at x = 0.5.
  model["parameters"][0]["estimate"] = 1.0;
  model["parameters"][1]["estimate"] = -2000.0;
  write_file(dir + "/mb.json", model.dump());
  const auto q = run_parafit("predict --model-file '" + dir + "/mb.json' --data '" + dir + "/new.csv'", dir);
  EXPECT_EQ(q.code, 1) << q.out;
  EXPECT_TRUE(contains(q.err, "cannot predict at data row 2 (")) << q.err;
  EXPECT_TRUE(contains(q.err, "the fitted value is inf")) << q.err;

  // A derivative that is not finite where the value is: d/dc sqrt(c x) = x / (2 sqrt(c x)) is 0/0
  // at x = 0 (it used to give se_fit 0 there).
  json formula = json::parse(read_file(dir + "/m.json"));
  formula["model"]["name"] = "a*exp(-b*x) + sqrt(c*x)";
  formula["model"]["formula"] = "a*exp(-b*x) + sqrt(c*x)";
  write_file(dir + "/msqrt.json", formula.dump());
  const auto d = run_parafit("predict --model-file '" + dir + "/msqrt.json' --data '" + dir + "/new.csv'", dir);
  EXPECT_EQ(d.code, 1) << d.out;
  EXPECT_TRUE(contains(d.err, "cannot predict at data row 1 (" + dir + "/new.csv:2): the derivative of the model "
                              "with respect to 'c' is NaN")) << d.err;
}

TEST(CliFitHonesty, UndefinedResponseNamesFileLineAndValue) {
  const auto dir = scratch_dir();
  const auto data = with_line(dir, "neg.csv", 52, "1.0,-1");
  const auto r = run_parafit("fit --data '" + data + "' --model 'log(y) ~ a - b*x' --start a=1,b=1", dir);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(contains(r.err, "the response 'log(y)' is NaN at data row 51 (" + data + ":52), where y = -1")) << r.err;
  EXPECT_TRUE(contains(r.err, "--drop-missing drops only rows with empty, NaN or Inf fields")) << r.err;
  EXPECT_FALSE(contains(r.err, "-nan")) << r.err;
}

TEST(CliFitHonesty, OutlierIsBlamedOnTheDataRowNotTheStart) {
  const auto dir = scratch_dir();
  const auto data = with_line(dir, "outlier.csv", 72, "1.0,1e300");
  const auto r = run_parafit("fit --data '" + data + "' --model 'a*exp(-b*x)' --start a=1,b=1", dir);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(contains(r.err, "data row 71 (" + data + ":72)")) << r.err;
  EXPECT_TRUE(contains(r.err, "y = 1e+300")) << r.err;
  EXPECT_TRUE(contains(r.err, "the data value")) << r.err;
  EXPECT_FALSE(contains(r.err, "give other start values")) << r.err;
}

TEST(CliFitHonesty, ModelUndefinedAtARowSaysSoAndCountsDroppedRows) {
  const auto dir = scratch_dir();
  const auto data = with_line(dir, "zero.csv", 32, "0,1.5");
  const auto r = run_parafit("fit --data '" + data + "' --model 'a + b*log(x)' --start a=1,b=1", dir);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(contains(r.err, "data row 31 (" + data + ":32)")) << r.err;
  EXPECT_TRUE(contains(r.err, "the model is undefined there (its value is -inf")) << r.err;
  EXPECT_FALSE(contains(r.err, "give other start values")) << r.err;

  // With --drop-missing, the rows dropped before it shift the line: a NaN row and a comment above.
  std::string text = read_file(data);
  const std::size_t line3 = text.find('\n', text.find('\n') + 1) + 1;
  text.insert(line3, "1.0,nan\n# a comment\n");
  write_file(dir + "/zero2.csv", text);
  const auto d = run_parafit("fit --data '" + dir + "/zero2.csv' --model 'a + b*log(x)' --start a=1,b=1 --drop-missing", dir);
  EXPECT_EQ(d.code, 1) << d.out;
  EXPECT_TRUE(contains(d.err, "data row 31 (" + dir + "/zero2.csv:34; counting only the rows kept by --drop-missing)"))
      << d.err;

  // Undefined at every row: then it is the starting values.
  const auto s = run_parafit("fit --data '" + data + "' --model 'a + log(b*x)' --start a=1,b=-1", dir);
  EXPECT_EQ(s.code, 1);
  EXPECT_TRUE(contains(s.err, "and at every other row: the starting values (a=1, b=-1) are outside its domain")) << s.err;
}

}  // namespace
}  // namespace parafit::testing
