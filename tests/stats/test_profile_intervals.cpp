// Profile-likelihood intervals (FitSpec::profile_intervals, `fit --ci profile`) against R 4.2's
// values for Puromycin (Michaelis-Menten), BOD (the asymptotic model) and NIST's Misra1a
// (tests/data/profile: the data, the values and the R script that made them). The exact crossings
// of the profile t statistic (R's uniroot over R's own refits) must agree to 1e-6 of the
// interval's width; R's confint, which interpolates a spline through a profile grid, to 3e-3 (it
// is off the exact crossing by up to 2.3e-3 of the width on BOD's six points). The estimates agree
// to 1e-5: nls stops at a relative offset of 1e-5, parafit at 1e-15 relative decrease.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "parafit/error.h"
#include "parafit/fit.h"
#include "parafit/table.h"

namespace parafit {
namespace {

const std::string kDir = PARAFIT_PROFILE_DATA_DIR;

struct Case {
  std::string name, file, model, y;
  std::vector<std::string> x;
  std::vector<std::pair<std::string, double>> start;
  std::vector<std::string> r_names;  // R's names of the parameters, in parafit's order
};

std::vector<Case> cases() {
  return {
      {"puromycin", "puromycin.csv", "michaelis-menten", "rate", {"conc"}, {}, {"Vm", "K"}},
      {"bod", "bod.csv", "A*(1-exp(-exp(lrc)*Time))", "demand", {}, {{"A", 20.0}, {"lrc", std::log(0.35)}},
       {"A", "lrc"}},
      {"misra1a", "misra1a.csv", "b1*(1-exp(-b2*x))", "y", {}, {{"b1", 250.0}, {"b2", 5e-4}}, {"b1", "b2"}},
  };
}

FitResult profile_fit(const Case& c, double level) {
  FitSpec spec;
  spec.model = c.model;
  spec.x = c.x;
  spec.y = c.y;
  spec.start = c.start;
  spec.confidence_level = level;
  spec.profile_intervals = true;
  return fit(read_table(kDir + "/" + c.file), spec);
}

TEST(ProfileIntervals, MatchRsProfileOfNlsFits) {
  std::ifstream in(kDir + "/reference.json");
  const nlohmann::json ref = nlohmann::json::parse(in);
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    for (const double level : {0.95, 0.90}) {
      const FitResult r = profile_fit(c, level);
      ASSERT_TRUE(r.summary.IsSolutionUsable()) << r.summary.message;
      EXPECT_EQ(r.statistics.ci_method, "profile");
      for (std::size_t j = 0; j < c.r_names.size(); ++j) {
        const nlohmann::json& want = ref[c.name][c.r_names[j]];
        const ParameterEstimate& pe = r.statistics.parameters[j];
        EXPECT_NEAR(pe.estimate, want["estimate"].get<double>(), 1e-5 * std::abs(pe.estimate));
        const nlohmann::json& confint = want[level == 0.95 ? "ci95" : "ci90"];
        const double width = confint[1].get<double>() - confint[0].get<double>();
        EXPECT_NEAR(pe.ci_lower, confint[0].get<double>(), 3e-3 * width) << c.r_names[j] << " " << level;
        EXPECT_NEAR(pe.ci_upper, confint[1].get<double>(), 3e-3 * width) << c.r_names[j] << " " << level;
        const nlohmann::json& exact = want[level == 0.95 ? "exact95" : "exact90"];
        EXPECT_NEAR(pe.ci_lower, exact[0].get<double>(), 1e-6 * width) << c.r_names[j] << " " << level;
        EXPECT_NEAR(pe.ci_upper, exact[1].get<double>(), 1e-6 * width) << c.r_names[j] << " " << level;
        // Profile intervals are not Wald's: BOD's are far from symmetric.
        if (c.name == "bod" && j == 0) {
          EXPECT_GT(pe.ci_upper - pe.estimate, 2 * (pe.estimate - pe.ci_lower));
        }
      }
    }
  }
}

TEST(ProfileIntervals, AreForTheSquaredLossOnly) {
  FitSpec spec;
  spec.model = "michaelis-menten";
  spec.x = {"conc"};
  spec.y = "rate";
  spec.profile_intervals = true;
  spec.loss = parse_loss("huber:5");
  try {
    fit(read_table(kDir + "/puromycin.csv"), spec);
    FAIL() << "a robust profile was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kUsage);
    EXPECT_NE(std::string(e.what()).find("profile-likelihood intervals are for the squared loss"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace parafit
