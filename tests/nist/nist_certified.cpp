#include "nist_certified.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "parafit/error.h"
#include "parafit/formula.h"

namespace nist {
namespace {

// The columns `names` of `p` as a RowBlock's input pointers.
std::vector<const double*> column_pointers(const NistProblem& p, const std::vector<std::string>& names) {
  std::vector<const double*> out;
  for (const std::string& name : names) {
    const auto it = std::find(p.columns.begin(), p.columns.end(), name);
    if (it == p.columns.end())
      throw parafit::Error(fmt::format("{}: the formula reads column '{}', which the data lacks",
                                       p.name, name));
    out.push_back(p.data[std::size_t(it - p.columns.begin())].data());
  }
  return out;
}

}  // namespace

CertifiedEvaluation evaluate_at_certified(const NistProblem& p, const std::string& formula) {
  parafit::FormulaSpec spec;
  spec.text = formula;
  spec.columns = p.columns;
  for (const NistParameter& param : p.parameters) spec.parameters.push_back(param.name);
  const parafit::CompiledFormula compiled = parafit::compile_formula(spec);
  const parafit::Model& model = *compiled.model;
  if (model.parameter_names() != spec.parameters)
    throw parafit::Error(fmt::format("{}: the compiled formula has parameters {}, the file {}", p.name,
                                     fmt::join(model.parameter_names(), " "),
                                     fmt::join(spec.parameters, " ")));

  const std::size_t n = p.rows();
  const std::size_t np = p.parameters.size();
  constexpr std::size_t kBlock = 64;  // rows per model call, as the solver makes them

  // The response: the y column, or the formula's left-hand side (Nelson: log(y)).
  std::vector<double> response(n);
  if (compiled.response) {
    const std::vector<const double*> in = column_pointers(p, compiled.response_columns);
    std::vector<const double*> block_in(in.size());
    for (std::size_t begin = 0; begin < n; begin += kBlock) {
      const std::size_t size = std::min(kBlock, n - begin);
      for (std::size_t k = 0; k < in.size(); ++k) block_in[k] = in[k] + begin;
      compiled.response(parafit::RowBlock{size, block_in.data()}, response.data() + begin);
    }
  } else {
    response = p.data.front();
  }

  const std::vector<const double*> in = column_pointers(p, compiled.inputs);
  const std::vector<double> theta = p.certified_values();
  std::vector<double> f(n);
  Eigen::MatrixXd J(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(np));
  // In blocks, as the solver calls it (J keeps leading dimension n).
  std::vector<const double*> block_in(in.size());
  for (std::size_t begin = 0; begin < n; begin += kBlock) {
    const std::size_t size = std::min(kBlock, n - begin);
    for (std::size_t k = 0; k < in.size(); ++k) block_in[k] = in[k] + begin;
    model.evaluate(theta.data(), parafit::RowBlock{size, block_in.data()}, f.data() + begin,
                   J.data() + begin, n);
  }

  CertifiedEvaluation out;
  long double rss = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const long double r = (long double)response[i] - (long double)f[i];
    rss += r * r;
  }
  out.rss = double(rss);

  // (J^T J)^-1 = R^-1 R^-T from J = QR, which loses half the digits the normal equations would.
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(J);
  const Eigen::MatrixXd R =
      qr.matrixQR().topRows(Eigen::Index(np)).triangularView<Eigen::Upper>();
  const Eigen::MatrixXd Rinv =
      R.triangularView<Eigen::Upper>().solve(Eigen::MatrixXd::Identity(Eigen::Index(np), Eigen::Index(np)));
  for (std::size_t j = 0; j < np; ++j) {
    const double se = p.certified_residual_sd * Rinv.row(Eigen::Index(j)).norm();
    out.std_errors.push_back(se);
    out.se_lre.push_back(lre(se, p.parameters[j].certified_sd));
  }
  out.min_se_lre = np == 0 ? 0 : *std::min_element(out.se_lre.begin(), out.se_lre.end());
  return out;
}

}  // namespace nist
