// The NIST StRD nonlinear-regression accuracy tests.
//
//   NistParser.*, NistLre.*, NistModels.*   the .dat parser, the LRE measure and the formula table
//   NistFormulas/Formula.*/<problem>         each formula against NIST's own numbers, no solver: its
//                                            text matches the file's, the RSS at the certified
//                                            values is the certified RSS, and so are the standard
//                                            errors from its Jacobian there
//   Nist/Fit.*/<problem>_start<k>            each of the 54 fits through parafit::fit (default
//                                            options) reaches the certified values
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <ostream>
#include <numbers>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "nist_certified.h"
#include "nist_fit.h"
#include "nist_models.h"
#include "nist_problem.h"
#include "parafit/error.h"
#include "simd/target.h"

namespace nist {
namespace {

std::string data_path(const std::string& problem) {
  return std::string(PARAFIT_NIST_DATA_DIR) + "/" + problem + ".dat";
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The message of the parafit::Error that `f` throws ("" if none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const parafit::Error& e) {
    return e.what();
  }
  return "";
}

// Replaces line `n` (from 1) of a CRLF text.
std::string with_line(const std::string& text, std::size_t n, const std::string& replacement) {
  std::size_t begin = 0;
  for (std::size_t k = 1; k < n; ++k) begin = text.find('\n', begin) + 1;
  const std::size_t end = text.find('\n', begin);
  return text.substr(0, begin) + replacement + "\r" + text.substr(end);
}

// ---- parser ----

TEST(NistParser, Misra1a) {
  const NistProblem p = read_nist_problem(data_path("Misra1a"));
  EXPECT_EQ(p.name, "Misra1a");
  EXPECT_EQ(p.difficulty, "Lower");
  EXPECT_EQ(p.data_kind, "Observed");
  EXPECT_EQ(p.model_class, "Exponential Class");
  EXPECT_EQ(p.model_response, "y");
  EXPECT_EQ(p.model_rhs, "b1*(1-exp[-b2*x])");
  EXPECT_TRUE(p.constants.empty());
  ASSERT_EQ(p.parameters.size(), 2u);
  EXPECT_EQ(p.parameters[0].name, "b1");
  EXPECT_EQ(p.parameters[0].start1, 500.0);
  EXPECT_EQ(p.parameters[0].start2, 250.0);
  EXPECT_EQ(p.parameters[0].certified, 2.3894212918E+02);
  EXPECT_EQ(p.parameters[0].certified_sd, 2.7070075241E+00);
  EXPECT_EQ(p.parameters[1].name, "b2");
  EXPECT_EQ(p.parameters[1].start1, 0.0001);
  EXPECT_EQ(p.parameters[1].start2, 0.0005);
  EXPECT_EQ(p.parameters[1].certified, 5.5015643181E-04);
  EXPECT_EQ(p.parameters[1].certified_sd, 7.2668688436E-06);
  EXPECT_EQ(p.certified_rss, 1.2455138894E-01);
  EXPECT_EQ(p.certified_residual_sd, 1.0187876330E-01);
  EXPECT_EQ(p.degrees_of_freedom, 12);
  EXPECT_EQ(p.observations, 14u);
  EXPECT_EQ(p.columns, (std::vector<std::string>{"y", "x"}));
  EXPECT_EQ(p.predictors(), (std::vector<std::string>{"x"}));
  ASSERT_EQ(p.rows(), 14u);
  EXPECT_EQ(p.data[0].front(), 10.07);
  EXPECT_EQ(p.data[1].front(), 77.6);
  EXPECT_EQ(p.data[0].back(), 81.78);
  EXPECT_EQ(p.data[1].back(), 760.0);
  EXPECT_EQ(p.start_values(1), (std::vector<std::pair<std::string, double>>{{"b1", 500}, {"b2", 0.0001}}));
  EXPECT_EQ(p.start_values(2), (std::vector<std::pair<std::string, double>>{{"b1", 250}, {"b2", 0.0005}}));

  const parafit::Dataset d = p.dataset();
  EXPECT_EQ(d.rows(), 14u);
  EXPECT_EQ(d.names(), p.columns);
  EXPECT_EQ(d.column("x")[3], 190.8);
}

TEST(NistParser, NelsonHasTwoPredictorsAndALogResponse) {
  const NistProblem p = read_nist_problem(data_path("Nelson"));
  EXPECT_EQ(p.columns, (std::vector<std::string>{"y", "x1", "x2"}));
  EXPECT_EQ(p.predictors(), (std::vector<std::string>{"x1", "x2"}));
  EXPECT_EQ(p.rows(), 128u);
  EXPECT_EQ(p.model_response, "log[y]");
  EXPECT_EQ(p.model_rhs, "b1 - b2*x1 * exp[-b3*x2]");
  EXPECT_EQ(p.parameters[1].start2, 0.000000005);
  EXPECT_EQ(p.parameters[2].certified, -5.7701013174E-02);
  EXPECT_EQ(p.data[0].back(), 1.20);
  EXPECT_EQ(p.data[1].back(), 64.0);
  EXPECT_EQ(p.data[2].back(), 275.0);
}

TEST(NistParser, JoinsFormulasOverSeveralLines) {
  const NistProblem enso = read_nist_problem(data_path("ENSO"));
  EXPECT_EQ(enso.model_rhs,
            "b1 + b2*cos( 2*pi*x/12 ) + b3*sin( 2*pi*x/12 ) + b5*cos( 2*pi*x/b4 ) + "
            "b6*sin( 2*pi*x/b4 ) + b8*cos( 2*pi*x/b7 ) + b9*sin( 2*pi*x/b7 )");
  EXPECT_EQ(enso.parameters.size(), 9u);
  EXPECT_EQ(enso.rows(), 168u);
  EXPECT_EQ(enso.parameters[8].certified, 1.4966870418E+00);

  const NistProblem hahn = read_nist_problem(data_path("Hahn1"));
  EXPECT_EQ(hahn.model_rhs, "(b1+b2*x+b3*x**2+b4*x**3) / (1+b5*x+b6*x**2+b7*x**3)");
  EXPECT_EQ(hahn.model_class, "Rational Class (cubic/cubic)");
  EXPECT_EQ(hahn.parameters[6].start2, -0.0000001);
}

// Roszman1.dat must be NIST's original: b1 = 0.20196866396 for the arctan model (a later Ceres
// copy changed it to 1.20196866396 to suit atan2; see tests/data/nist/README.md).
TEST(NistParser, Roszman1IsNistsOriginal) {
  const NistProblem p = read_nist_problem(data_path("Roszman1"));
  ASSERT_EQ(p.constants.size(), 1u);
  EXPECT_EQ(p.constants[0].first, "pi");
  EXPECT_EQ(p.constants[0].second, std::numbers::pi);
  EXPECT_EQ(p.model_rhs, "b1 - b2*x - arctan[b3/(x-b4)]/pi");
  EXPECT_EQ(p.parameters[0].certified, 2.0196866396E-01);
}

TEST(NistParser, EveryFileParsesConsistently) {
  std::set<std::string> difficulties;
  int lower = 0, average = 0, higher = 0;
  for (const NistModel& m : nist_models()) {
    SCOPED_TRACE(m.name);
    const NistProblem p = read_nist_problem(data_path(m.name));
    EXPECT_EQ(p.name, m.name);
    EXPECT_EQ(p.rows(), p.observations);
    // Rat43.dat says 9 degrees of freedom, though 15 rows - 4 parameters = 11 and its residual
    // standard deviation uses 11: an erratum in NIST's file, kept as published.
    const std::size_t df = p.rows() - p.parameters.size();
    EXPECT_EQ(std::size_t(p.degrees_of_freedom), m.name == "Rat43" ? 9u : df);
    EXPECT_EQ(p.columns.front(), "y");
    EXPECT_EQ(p.predictors().size(), m.name == "Nelson" ? 2u : 1u);
    for (std::size_t j = 0; j < p.parameters.size(); ++j) {
      EXPECT_EQ(p.parameters[j].name, "b" + std::to_string(j + 1));
      EXPECT_GT(p.parameters[j].certified_sd, 0.0);
      EXPECT_NE(p.parameters[j].certified, 0.0);
    }
    // Certified residual sd = sqrt(RSS / df), to the 11 digits given.
    EXPECT_GE(lre(std::sqrt(p.certified_rss / double(df)), p.certified_residual_sd), 10.0);
    lower += p.difficulty == "Lower";
    average += p.difficulty == "Average";
    higher += p.difficulty == "Higher";
    // The same file with LF line ends parses to the same problem.
    std::string lf = read_text(data_path(m.name));
    std::erase(lf, '\r');
    const NistProblem q = parse_nist_problem(lf, m.name + ".dat");
    EXPECT_EQ(q.model_rhs, p.model_rhs);
    EXPECT_EQ(q.data, p.data);
    EXPECT_EQ(q.certified_rss, p.certified_rss);
  }
  EXPECT_EQ(lower, 8);
  EXPECT_EQ(average, 11);
  EXPECT_EQ(higher, 8);
}

TEST(NistParser, ReportsFileAndLineOfMalformedInput) {
  const std::string good = read_text(data_path("Misra1a"));
  ASSERT_NO_THROW(parse_nist_problem(good, "bad.dat"));
  const auto parse = [](const std::string& text) { return [text] { parse_nist_problem(text, "bad.dat"); }; };

  std::string e = error_of(parse(with_line(good, 63, "      17.94E0     14x1.1E0")));
  EXPECT_NE(e.find("bad.dat:63:"), std::string::npos) << e;
  EXPECT_NE(e.find("'14x1.1E0' is not a number"), std::string::npos) << e;

  e = error_of(parse(with_line(good, 70, "      55.05E0")));
  EXPECT_NE(e.find("bad.dat:70: expected 2 numbers (y x), found 1 fields"), std::string::npos) << e;

  e = error_of(parse(with_line(good, 70, "      55.05E0   1.0   2.0")));
  EXPECT_NE(e.find("bad.dat:70:"), std::string::npos) << e;

  e = error_of(parse(with_line(good, 42, "  b2 =     0.0001      0.0005      5.5015643181E-04")));
  EXPECT_NE(e.find("bad.dat:42: expected 'name = start1 start2 certified sd'"), std::string::npos) << e;

  e = error_of(parse(with_line(good, 44, "Residual Sum of Squ:  1.2455138894E-01")));
  EXPECT_NE(e.find("no 'Residual Sum of Squares:' line"), std::string::npos) << e;

  e = error_of(parse(with_line(good, 47, "Number of Observations:     15")));
  EXPECT_NE(e.find("bad.dat:47: 15 observations certified, but the data has 14 rows"),
            std::string::npos) << e;

  e = error_of(parse(with_line(good, 46, "Degrees of Freedom:     twelve")));
  EXPECT_NE(e.find("bad.dat:46: degrees of freedom: 'twelve' is not an integer"), std::string::npos) << e;

  e = error_of(parse(with_line(good, 60, "Values: y x")));
  EXPECT_NE(e.find("bad.dat:60: expected the data header"), std::string::npos) << e;

  e = error_of(parse(with_line(good, 34, "               y = b1*(1-exp[-b2*x])")));
  EXPECT_NE(e.find("bad.dat:34: the model formula does not end in the error term"), std::string::npos) << e;

  e = error_of(parse(with_line(good, 7, "               Data              (lines 61 to 80)")));
  EXPECT_NE(e.find("before the last data line 80"), std::string::npos) << e;

  e = error_of(parse(with_line(good, 7, "               Data              (lines 61 to 73)")));
  EXPECT_NE(e.find("bad.dat:74: text after the last data line 73"), std::string::npos) << e;

  e = error_of(parse(good.substr(0, good.find("Procedure:"))));
  EXPECT_NE(e.find("bad.dat:1: no 'Procedure:' line"), std::string::npos) << e;

  e = error_of([] { read_nist_problem("/nonexistent/Nope.dat"); });
  EXPECT_NE(e.find("/nonexistent/Nope.dat: cannot open"), std::string::npos) << e;
}

// ---- LRE ----

TEST(NistLre, FollowsNistsConventions) {
  EXPECT_EQ(lre(2.5, 2.5), 11.0);
  EXPECT_EQ(lre(2.5, 2.5, 15), 15.0);
  EXPECT_NEAR(lre(1.0001, 1.0), 4.0, 1e-9);
  EXPECT_NEAR(lre(-0.999999, -1.0), 6.0, 1e-6);
  EXPECT_EQ(lre(1.0 + 1e-14, 1.0), 11.0);       // capped at the certified digits
  EXPECT_EQ(lre(3.5, 1.0), 0.0);                // more than 100% off
  EXPECT_EQ(lre(-1.0, 1.0), 0.0);
  EXPECT_EQ(lre(std::nan(""), 1.0), 0.0);
  EXPECT_EQ(lre(INFINITY, 1.0), 0.0);
  EXPECT_NEAR(lre(1e-5, 0.0), 5.0, 1e-9);       // certified 0: absolute error
}

// ---- the formula table ----

TEST(NistModels, OneFormulaPerDataFile) {
  std::set<std::string> names;
  for (const NistModel& m : nist_models()) EXPECT_TRUE(names.insert(m.name).second) << m.name;
  EXPECT_EQ(names.size(), 27u);
  std::set<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(PARAFIT_NIST_DATA_DIR))
    if (entry.path().extension() == ".dat") files.insert(entry.path().stem().string());
  EXPECT_EQ(files, names);
  EXPECT_EQ(nist_model("Nelson").formula, "log(y) ~ b1 - b2*x1*exp(-b3*x2)");
  EXPECT_THROW(nist_model("Misra9"), parafit::Error);
}

std::vector<std::string> problem_names() {
  std::vector<std::string> out;
  for (const NistModel& m : nist_models()) out.push_back(m.name);
  return out;
}

class Formula : public testing::TestWithParam<std::string> {};

// The formula says what the file says, in parafit's notation.
TEST_P(Formula, MatchesTheFilesText) {
  const NistProblem p = read_nist_problem(data_path(GetParam()));
  EXPECT_EQ(normalized_formula(nist_model(GetParam()).formula),
            normalized_nist_formula(p.model_response, p.model_rhs));
}

// At the certified parameters the formula gives the certified RSS, and its Jacobian the certified
// standard errors (with the certified residual standard deviation): a check of the formula, the
// parser and the formula compiler that does not involve the solver.
TEST_P(Formula, ReproducesTheCertifiedValues) {
  const NistProblem p = read_nist_problem(data_path(GetParam()));
  const CertifiedEvaluation at = evaluate_at_certified(p, nist_model(GetParam()).formula);
  RecordProperty("rss_lre", std::to_string(lre(at.rss, p.certified_rss)));
  RecordProperty("min_se_lre", std::to_string(at.min_se_lre));
  if (rss_is_unreachable(p.name)) {
    // Lanczos1: the certified RSS (1.4e-25) is below double rounding of the residuals, and the
    // certified values, rounded to 11 digits, give about 4e-21. A wrong formula would give
    // residuals of order 1e-3 or more.
    EXPECT_LT(at.rss, 1e-19);
  } else {
    EXPECT_GE(lre(at.rss, p.certified_rss), 9.0)
        << std::setprecision(11) << "RSS at the certified values " << at.rss << ", certified "
        << p.certified_rss;
  }
  std::vector<std::string> names;
  for (const NistParameter& param : p.parameters) names.push_back(param.name);
  EXPECT_GE(at.min_se_lre, 8.0) << "standard error LREs: " << describe_lres(names, at.se_lre);
}

INSTANTIATE_TEST_SUITE_P(NistFormulas, Formula, testing::ValuesIn(problem_names()),
                         [](const testing::TestParamInfo<std::string>& info) { return info.param; });

// ---- the 54 fits ----

struct FitCase {
  std::string problem;
  int start = 1;
};

void PrintTo(const FitCase& c, std::ostream* os) { *os << c.problem << " start " << c.start; }

std::vector<FitCase> fit_cases() {
  std::vector<FitCase> out;
  for (const NistModel& m : nist_models())
    for (int start : {1, 2}) out.push_back({m.name, start});
  return out;
}

class Fit : public testing::TestWithParam<FitCase> {};

// parafit::fit with the default solver options, from NIST's start, converges to the certified
// values: at least 6 digits in every parameter, 4 in every standard error, 6 in the RSS.
TEST_P(Fit, ReachesTheCertifiedValues) {
  const FitCase& c = GetParam();
  const NistProblem p = read_nist_problem(data_path(c.problem));
  const NistFitOutcome r = run_nist_fit(p, nist_model(c.problem).formula, c.start);
  RecordProperty("min_param_lre", std::to_string(r.min_param_lre));
  RecordProperty("min_se_lre", std::to_string(r.min_se_lre));
  RecordProperty("rss_lre", std::to_string(r.rss_lre));
  RecordProperty("iterations", r.iterations);
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(r.converged) << "stopped on " << r.termination << " after " << r.iterations
                           << " iterations";
  EXPECT_GE(r.min_param_lre, 6.0) << "parameter LREs: " << describe_lres(r.names, r.param_lre);
  if (rss_is_unreachable(c.problem)) return;  // judged by its parameters only
  EXPECT_GE(r.min_se_lre, 4.0) << "standard error LREs: " << describe_lres(r.names, r.se_lre);
  EXPECT_GE(r.rss_lre, 6.0) << std::setprecision(11) << "RSS " << r.rss << ", certified "
                            << p.certified_rss;
}

INSTANTIATE_TEST_SUITE_P(Nist, Fit, testing::ValuesIn(fit_cases()),
                         [](const testing::TestParamInfo<FitCase>& info) {
                           return info.param.problem + "_start" + std::to_string(info.param.start);
                         });

// The same fit on every SIMD target this machine runs, forced in turn, gives the same bits as on
// the best one: estimates, standard errors, RSS and iteration count (the formula tape, the Gram
// kernel and the solver's reductions all take part).
TEST_P(Fit, HasTheSameBitsOnEverySimdTarget) {
  const FitCase& c = GetParam();
  const NistProblem p = read_nist_problem(data_path(c.problem));
  const std::vector<parafit::simd::TargetInfo> targets = parafit::simd::available_targets();
  ASSERT_FALSE(targets.empty());
  const NistFitOutcome best = run_nist_fit(p, nist_model(c.problem).formula, c.start);
  const auto bits = [](double x) { return std::bit_cast<std::uint64_t>(x); };
  for (std::size_t t = 1; t < targets.size(); ++t) {
    parafit::simd::ScopedTarget forced(targets[t]);
    const NistFitOutcome r = run_nist_fit(p, nist_model(c.problem).formula, c.start);
    EXPECT_EQ(r.error, best.error) << targets[t].name;
    EXPECT_EQ(r.iterations, best.iterations) << targets[t].name;
    EXPECT_EQ(bits(r.rss), bits(best.rss)) << targets[t].name;
    ASSERT_EQ(r.estimates.size(), best.estimates.size());
    for (std::size_t k = 0; k < r.estimates.size(); ++k) {
      EXPECT_EQ(bits(r.estimates[k]), bits(best.estimates[k])) << targets[t].name << " " << r.names[k];
      EXPECT_EQ(bits(r.std_errors[k]), bits(best.std_errors[k])) << targets[t].name << " " << r.names[k];
    }
  }
}

}  // namespace
}  // namespace nist
