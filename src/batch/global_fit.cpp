// Global fits (parafit/global_fit.h): LM over shared and per-group parameters, the per-group blocks
// eliminated by the Schur complement. Unknowns are laid out [shared k | group 0's m | group 1's m ...].
#include "parafit/global_fit.h"

#include <fmt/format.h>

#include <Eigen/Cholesky>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numbers>

#include "parafit/distributed.h"
#include "parafit/error.h"
#include "parallel/thread_loops.h"
#include "solve/lm_rules.h"
#include "solve/rank_deficiency.h"

namespace parafit {
namespace {

using Eigen::Index;
using Eigen::MatrixXd;
using Eigen::VectorXd;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t kGroupsPerTask = 64;

// The normal equations at one point: the shared block, and each group's blocks.
struct Sums {
  double rss = 0;
  MatrixXd A;      // k x k: sum over all rows of w J_S J_S^T
  VectorXd gS;     // k: sum of w J_S r
  std::vector<MatrixXd> B, D;  // per group: k x m (w J_S J_g^T) and m x m (w J_g J_g^T)
  std::vector<VectorXd> g;     // per group: m (w J_g r)
  bool finite = true;
};

// Under a communicator, each rank holds a contiguous run of the groups (BatchData's fits, first at
// first()) and every rank holds all the unknowns. Whatever sums over groups is gathered group by
// group (allgatherv, ranks in order) and added in group order on every rank: the bits of one
// process, for any number of ranks and threads.
class GlobalProblem {
 public:
  GlobalProblem(const Model& model, const BatchData& data, const std::vector<std::size_t>& shared,
                const std::vector<std::pair<std::size_t, double>>& fixed, const std::vector<ParameterBounds>& bounds,
                int threads, Communicator& comm)
      : model_(model), data_(data), shared_(shared), fixed_(fixed),
        bounds_(bounds.empty() ? std::vector<ParameterBounds>(model.num_parameters()) : bounds), threads_(threads),
        comm_(comm) {
    const auto held = [&](std::size_t j) {
      return std::any_of(fixed.begin(), fixed.end(), [j](const auto& f) { return f.first == j; });
    };
    for (std::size_t j = 0; j < model.num_parameters(); ++j)
      if (std::find(shared.begin(), shared.end(), j) == shared.end() && !held(j)) local_.push_back(j);
    k_ = shared_.size();
    m_ = local_.size();
    groups_ = data.fits();
    const RowLayout layout = row_layout(comm, groups_);
    first_ = layout.offset;
    all_groups_ = layout.total;
  }
  std::size_t k() const { return k_; }
  std::size_t m() const { return m_; }
  std::size_t groups() const { return groups_; }          // this rank's
  std::size_t all_groups() const { return all_groups_; }  // every rank's
  std::size_t first() const { return first_; }
  std::size_t unknowns() const { return k_ + all_groups_ * m_; }
  const std::vector<std::size_t>& local() const { return local_; }
  Communicator& comm() const { return comm_; }

  // The box of unknown u ([shared | group 0's m | ...]).
  ParameterBounds bounds_of(Index u) const {
    return bounds_[std::size_t(u) < k_ ? shared_[std::size_t(u)] : local_[(std::size_t(u) - k_) % m_]];
  }
  // Unknowns on a bound with the gradient pointing out of the box (fit's active set): they take
  // no part in the next step. The same on every rank (theta and g are).
  std::vector<char> held(const VectorXd& theta, const VectorXd& g) const {
    std::vector<char> out(std::size_t(theta.size()), 0);
    for (Index u = 0; u < theta.size(); ++u) {
      const ParameterBounds b = bounds_of(u);
      out[std::size_t(u)] = (theta(u) <= b.lower && g(u) <= 0) || (theta(u) >= b.upper && g(u) >= 0);
    }
    return out;
  }

  // The model's parameter vector of this rank's group g.
  void parameters_of(const VectorXd& theta, std::size_t g, double* out) const {
    for (const auto& [j, value] : fixed_) out[j] = value;
    for (std::size_t a = 0; a < k_; ++a) out[shared_[a]] = theta(Index(a));
    for (std::size_t b = 0; b < m_; ++b) out[local_[b]] = theta(Index(k_ + (first_ + g) * m_ + b));
  }
  // Every group's `width` values (this rank's in `mine`, group by group), in group order.
  std::vector<double> gather(const std::vector<double>& mine) const {
    return comm_.size() > 1 ? comm_.allgatherv(mine) : mine;
  }
  // True on every rank when it is on all of them.
  bool all(bool mine) const {
    std::vector<double> v = {mine ? 1.0 : 0.0};
    if (comm_.size() > 1) comm_.allreduce(v, ReduceOp::kMin);
    return v[0] == 1.0;
  }

  void evaluate(const VectorXd& theta, Sums& s) const {
    const std::size_t p = model_.num_parameters();
    s.B.resize(groups_);
    s.D.resize(groups_);
    s.g.resize(groups_);
    std::vector<MatrixXd> A(groups_);
    std::vector<VectorXd> gS(groups_);
    std::vector<double> rss(groups_);
    const std::size_t tasks = (groups_ + kGroupsPerTask - 1) / kGroupsPerTask;
    detail::parallel_for(threads_, tasks, [&](std::size_t task) {
      std::vector<double> params(p), f, J;
      std::vector<const double*> inputs(data_.inputs.size());
      const std::size_t last = std::min(groups_, (task + 1) * kGroupsPerTask);
      for (std::size_t g = task * kGroupsPerTask; g < last; ++g) {
        const std::size_t n = data_.rows_of(g), b0 = data_.offsets[g];
        parameters_of(theta, g, params.data());
        for (std::size_t v = 0; v < inputs.size(); ++v) inputs[v] = data_.inputs[v].data() + b0;
        f.resize(n);
        J.resize(n * p);
        model_.evaluate(params.data(), RowBlock{n, inputs.data()}, f.data(), J.data(), n);
        MatrixXd& Ag = A[g] = MatrixXd::Zero(Index(k_), Index(k_));
        VectorXd& gSg = gS[g] = VectorXd::Zero(Index(k_));
        MatrixXd& Bg = s.B[g] = MatrixXd::Zero(Index(k_), Index(m_));
        MatrixXd& Dg = s.D[g] = MatrixXd::Zero(Index(m_), Index(m_));
        VectorXd& gg = s.g[g] = VectorXd::Zero(Index(m_));
        double r2 = 0;
        for (std::size_t i = 0; i < n; ++i) {
          const double w = data_.weights.empty() ? 1.0 : data_.weights[b0 + i];
          if (w == 0) continue;
          const double r = data_.y[b0 + i] - f[i];
          r2 += w * r * r;
          for (std::size_t a = 0; a < k_; ++a) {
            const double ja = w * J[shared_[a] * n + i];
            gSg(Index(a)) += ja * r;
            for (std::size_t c = 0; c < k_; ++c) Ag(Index(a), Index(c)) += ja * J[shared_[c] * n + i];
            for (std::size_t c = 0; c < m_; ++c) Bg(Index(a), Index(c)) += ja * J[local_[c] * n + i];
          }
          for (std::size_t b = 0; b < m_; ++b) {
            const double jb = w * J[local_[b] * n + i];
            gg(Index(b)) += jb * r;
            for (std::size_t c = 0; c < m_; ++c) Dg(Index(b), Index(c)) += jb * J[local_[c] * n + i];
          }
        }
        rss[g] = r2;
      }
    });
    // The shared sums in group order, over every rank's groups: the same bits for any number of
    // threads and ranks.
    const std::size_t w = 1 + k_ + k_ * k_;
    std::vector<double> packed(groups_ * w);
    for (std::size_t g = 0; g < groups_; ++g) {
      double* at = packed.data() + g * w;
      at[0] = rss[g];
      std::copy(gS[g].data(), gS[g].data() + k_, at + 1);
      std::copy(A[g].data(), A[g].data() + k_ * k_, at + 1 + k_);
    }
    const std::vector<double> every = gather(packed);
    s.A = MatrixXd::Zero(Index(k_), Index(k_));
    s.gS = VectorXd::Zero(Index(k_));
    s.rss = 0;
    for (std::size_t g = 0; g < all_groups_; ++g) {
      const double* at = every.data() + g * w;
      s.A += Eigen::Map<const MatrixXd>(at + 1 + k_, Index(k_), Index(k_));
      s.gS += Eigen::Map<const VectorXd>(at + 1, Index(k_));
      s.rss += at[0];
    }
    bool finite = std::isfinite(s.rss) && s.A.allFinite() && s.gS.allFinite();
    for (std::size_t g = 0; g < groups_ && finite; ++g)
      finite = s.B[g].allFinite() && s.D[g].allFinite() && s.g[g].allFinite();
    s.finite = all(finite);
  }

  // H's diagonal and g over all unknowns.
  VectorXd diagonal(const Sums& s) const {
    return over_all(s.A.diagonal(), [&](std::size_t g) { return VectorXd(s.D[g].diagonal()); });
  }
  VectorXd gradient(const Sums& s) const {
    return over_all(s.gS, [&](std::size_t g) { return s.g[g]; });
  }
  // Group g's blocks with its held unknowns (and the held shared ones) taken out: identity rows
  // of D_g, no coupling in B_g, a zero right side (gg may be empty).
  void hold(const std::vector<char>& held, std::size_t g, MatrixXd& Dg, MatrixXd& Bg, VectorXd& gg) const {
    for (std::size_t a = 0; a < k_; ++a)
      if (held[a]) Bg.row(Index(a)).setZero();
    for (std::size_t b = 0; b < m_; ++b)
      if (held[k_ + (first_ + g) * m_ + b]) {
        Dg.row(Index(b)).setZero();
        Dg.col(Index(b)).setZero();
        Dg(Index(b), Index(b)) = 1.0;
        Bg.col(Index(b)).setZero();
        if (gg.size() > 0) gg(Index(b)) = 0.0;
      }
  }

  // x^T H x blockwise, the groups' terms added in group order.
  double quadratic(const Sums& s, const VectorXd& x) const {
    const VectorXd xs = x.head(Index(k_));
    std::vector<double> terms(groups_);
    for (std::size_t g = 0; g < groups_; ++g) {
      const VectorXd xg = x.segment(Index(k_ + (first_ + g) * m_), Index(m_));
      terms[g] = 2.0 * xs.dot(s.B[g] * xg) + xg.dot(s.D[g] * xg);
    }
    double q = xs.dot(s.A * xs);
    for (const double t : gather(terms)) q += t;
    return q;
  }
  // [shared | every group's m values], this rank's groups' from `of`.
  template <class Of>
  VectorXd over_all(const VectorXd& shared, const Of& of) const {
    std::vector<double> mine(groups_ * m_);
    for (std::size_t g = 0; g < groups_; ++g) {
      const VectorXd v = of(g);
      std::copy(v.data(), v.data() + m_, mine.begin() + std::ptrdiff_t(g * m_));
    }
    const std::vector<double> every = gather(mine);
    VectorXd out(static_cast<Index>(unknowns()));
    out.head(Index(k_)) = shared;
    std::copy(every.begin(), every.end(), out.data() + k_);
    return out;
  }

  // Solves (H + lambda D^2) delta = g in the scaled variables (D = diag(d)) by eliminating the
  // groups' blocks. False when a block or the Schur complement cannot be factored.
  // An unknown that is held (held[u]) is an identity row without coupling and a zero right side:
  // its step is 0.
  bool solve(const Sums& s, const VectorXd& d, double lambda, const std::vector<char>& held, VectorXd& delta) const {
    const VectorXd dS = d.head(Index(k_));
    MatrixXd S = dS.cwiseInverse().asDiagonal() * s.A * dS.cwiseInverse().asDiagonal();
    S.diagonal().array() += lambda;
    VectorXd rhs = s.gS.cwiseQuotient(dS);
    for (std::size_t a = 0; a < k_; ++a)
      if (held[a]) {
        S.row(Index(a)).setZero();
        S.col(Index(a)).setZero();
        S(Index(a), Index(a)) = 1.0;
        rhs(Index(a)) = 0.0;
      }
    // Each group's elimination in parallel; their terms subtracted in group order (same bits for
    // any number of threads and ranks).
    std::vector<MatrixXd> X(groups_);
    std::vector<VectorXd> y(groups_);
    const std::size_t w = k_ + k_ * k_;
    std::vector<double> packed(groups_ * w);
    std::vector<char> failed(groups_, 0);
    const std::size_t tasks = (groups_ + kGroupsPerTask - 1) / kGroupsPerTask;
    detail::parallel_for(threads_, tasks, [&](std::size_t task) {
      const std::size_t last = std::min(groups_, (task + 1) * kGroupsPerTask);
      for (std::size_t g = task * kGroupsPerTask; g < last; ++g) {
        const VectorXd dg = d.segment(Index(k_ + (first_ + g) * m_), Index(m_));
        MatrixXd Dg = dg.cwiseInverse().asDiagonal() * s.D[g] * dg.cwiseInverse().asDiagonal();
        Dg.diagonal().array() += lambda;
        MatrixXd Bg = dS.cwiseInverse().asDiagonal() * s.B[g] * dg.cwiseInverse().asDiagonal();
        VectorXd gg = s.g[g].cwiseQuotient(dg);
        hold(held, g, Dg, Bg, gg);
        const Eigen::LLT<MatrixXd> llt(Dg);
        if (llt.info() != Eigen::Success) {
          failed[g] = 1;
          continue;
        }
        X[g] = llt.solve(Bg.transpose());  // m x k
        y[g] = llt.solve(gg);
        const VectorXd By = Bg * y[g];
        const MatrixXd BX = Bg * X[g];
        std::copy(By.data(), By.data() + k_, packed.begin() + std::ptrdiff_t(g * w));
        std::copy(BX.data(), BX.data() + k_ * k_, packed.begin() + std::ptrdiff_t(g * w + k_));
      }
    });
    if (!all(std::find(failed.begin(), failed.end(), 1) == failed.end())) return false;
    const std::vector<double> every = gather(packed);
    for (std::size_t g = 0; g < all_groups_; ++g) {
      S -= Eigen::Map<const MatrixXd>(every.data() + g * w + k_, Index(k_), Index(k_));
      rhs -= Eigen::Map<const VectorXd>(every.data() + g * w, Index(k_));
    }
    const Eigen::LDLT<MatrixXd> ldlt(S);
    if (ldlt.info() != Eigen::Success) return false;
    const VectorXd ds = ldlt.solve(rhs);
    if (!ds.allFinite()) return false;  // the same on every rank: S and rhs are
    std::vector<double> mine(groups_ * m_);
    for (std::size_t g = 0; g < groups_; ++g) {
      const VectorXd dg = d.segment(Index(k_ + (first_ + g) * m_), Index(m_));
      const VectorXd v = (y[g] - X[g] * ds).cwiseQuotient(dg);
      std::copy(v.data(), v.data() + m_, mine.begin() + std::ptrdiff_t(g * m_));
    }
    const std::vector<double> every_dg = gather(mine);
    delta.resize(static_cast<Index>(unknowns()));
    delta.head(Index(k_)) = ds.cwiseQuotient(dS);
    std::copy(every_dg.begin(), every_dg.end(), delta.data() + k_);
    return all(delta.allFinite());
  }

 private:
  const Model& model_;
  const BatchData& data_;
  std::vector<std::size_t> shared_, local_;
  std::vector<std::pair<std::size_t, double>> fixed_;
  std::vector<ParameterBounds> bounds_;  // per parameter
  std::size_t k_ = 0, m_ = 0, groups_ = 0, first_ = 0, all_groups_ = 0;
  int threads_ = 1;
  Communicator& comm_;
};

// fit's gradient cosine, over the unknowns not held at a bound.
double gradient_cosine(const VectorXd& g, const VectorXd& h, double rss, const std::vector<char>& held) {
  if (!(rss > 0)) return 0.0;
  double worst = 0;
  for (Index a = 0; a < g.size(); ++a)
    if (!held[std::size_t(a)] && h(a) > 0) worst = std::max(worst, std::abs(g(a)) / std::sqrt(h(a) * rss));
  return worst;
}

// Starting values: the given ones, else each group's self-start (shared: the median over every
// rank's groups). A failed self-start is agreed on by every rank before it throws.
VectorXd starting_values(const Model& model, const BatchData& data, const GlobalFitSpec& spec, const GlobalProblem& P,
                         int threads) {
  const std::size_t p = model.num_parameters(), G = data.fits();
  std::vector<double> given = spec.start.empty() ? std::vector<double>(p, kNaN) : spec.start;
  for (const auto& [j, value] : spec.fix) given[j] = value;  // a held parameter needs no start
  const bool need = std::any_of(given.begin(), given.end(), [](double v) { return std::isnan(v); });
  std::vector<double> self(G * p, kNaN);
  std::string error;
  if (need) {
    try {
      detail::parallel_for(threads, G, [&](std::size_t g) {
        const std::size_t n = data.rows_of(g), b0 = data.offsets[g];
        std::vector<std::span<const double>> columns;
        for (const auto& c : data.inputs) columns.emplace_back(c.data() + b0, n);
        try {
          const std::vector<double> v = model.initial_values(columns, std::span<const double>(data.y.data() + b0, n));
          std::copy(v.begin(), v.end(), self.begin() + std::ptrdiff_t(g * p));
        } catch (const Error& e) {
          throw Error(fmt::format("group '{}': no self-start ({}); give --start",
                                  data.ids.empty() ? std::to_string(P.first() + g) : data.ids[g], e.what()),
                      Error::Kind::kData);
        }
      });
    } catch (const Error& e) {
      error = e.what();
    }
  }
  agree_or_throw(P.comm(), error);
  const std::vector<double> every = need ? P.gather(self) : self;
  VectorXd theta(static_cast<Index>(P.unknowns()));
  for (std::size_t a = 0; a < spec.shared.size(); ++a) {
    const std::size_t j = spec.shared[a];
    double v = given[j];
    if (std::isnan(v)) {
      std::vector<double> all;
      for (std::size_t g = 0; g < P.all_groups(); ++g) all.push_back(every[g * p + j]);
      std::nth_element(all.begin(), all.begin() + std::ptrdiff_t(all.size() / 2), all.end());
      v = all[all.size() / 2];
    }
    theta(Index(a)) = std::isnan(given[j]) ? std::clamp(v, P.bounds_of(Index(a)).lower, P.bounds_of(Index(a)).upper) : v;
  }
  for (std::size_t g = 0; g < P.all_groups(); ++g)
    for (std::size_t b = 0; b < P.m(); ++b) {
      const std::size_t j = P.local()[b];
      const Index u = Index(P.k() + g * P.m() + b);
      const ParameterBounds box = P.bounds_of(u);
      theta(u) = std::isnan(given[j]) ? std::clamp(every[g * p + j], box.lower, box.upper) : given[j];
    }
  return theta;
}

// Every group's id, in group order: this rank's ids (or numbers) gathered from every rank.
std::vector<std::string> all_ids(const BatchData& data, const GlobalProblem& P) {
  std::string mine;
  for (std::size_t g = 0; g < data.fits(); ++g)
    mine += (data.ids.empty() ? std::to_string(P.first() + g) : data.ids[g]) + '\n';
  std::string every = mine;
  if (P.comm().size() > 1) {
    const std::vector<std::byte> bytes = P.comm().allgatherv(std::vector<std::byte>(
        reinterpret_cast<const std::byte*>(mine.data()), reinterpret_cast<const std::byte*>(mine.data() + mine.size())));
    every.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  std::vector<std::string> ids;
  for (std::size_t from = 0, at; (at = every.find('\n', from)) != std::string::npos; from = at + 1)
    ids.push_back(every.substr(from, at - from));
  return ids;
}

// R², AIC, BIC and the log-likelihood as `fit` computes them (stats/fit_statistics.cpp), from
// per-group sums gathered and added in group order (one process's bits for any rank count).
void response_statistics(const BatchData& data, const GlobalProblem& P, GlobalFitResult& out) {
  const std::size_t G = data.fits();
  const auto weight = [&](std::size_t i) { return data.weights.empty() ? 1.0 : data.weights[i]; };
  std::vector<double> mine(3 * G, 0.0);  // per group: sum log w (w > 0), sum w, sum w y
  for (std::size_t g = 0; g < G; ++g)
    for (std::size_t i = data.offsets[g]; i < data.offsets[g + 1]; ++i) {
      const double w = weight(i);
      if (w > 0) mine[3 * g] += std::log(w);
      mine[3 * g + 1] += w;
      mine[3 * g + 2] += w * data.y[i];
    }
  const std::vector<double> every = P.gather(mine);
  double sum_log_w = 0, sw = 0, swy = 0;
  for (std::size_t g = 0; g < every.size() / 3; ++g) {
    sum_log_w += every[3 * g];
    sw += every[3 * g + 1];
    swy += every[3 * g + 2];
  }
  const double mean = swy / sw;
  std::vector<double> tss_mine(G, 0.0);
  for (std::size_t g = 0; g < G; ++g)
    for (std::size_t i = data.offsets[g]; i < data.offsets[g + 1]; ++i) {
      const double d = data.y[i] - mean;
      tss_mine[g] += weight(i) * d * d;
    }
  out.tss = 0;
  for (const double t : P.gather(tss_mine)) out.tss += t;
  const double n = double(out.observations), params = n - out.df + 1.0;  // the estimated unknowns and sigma
  out.r_squared = out.tss > 0 ? 1.0 - out.rss / out.tss : kNaN;
  out.adj_r_squared = out.df > 0 ? 1.0 - (1.0 - out.r_squared) * (n - 1.0) / out.df : kNaN;
  out.log_likelihood = -0.5 * n * (std::log(2.0 * std::numbers::pi) + 1.0 - std::log(n) - sum_log_w / n + std::log(out.rss));
  out.aic = -2.0 * out.log_likelihood + 2.0 * params;
  out.bic = -2.0 * out.log_likelihood + std::log(n) * params;
}

}  // namespace

GlobalFitResult fit_global(const Model& model, const BatchData& data, const GlobalFitSpec& spec,
                           const Context& context) {
  const std::size_t p = model.num_parameters();
  LocalCommunicator alone;
  Communicator& comm = context.communicator != nullptr ? *context.communicator : alone;
  std::string bad_data;  // one rank's malformed data must not leave the others in a collective
  try {
    data.validate(model.num_inputs());
  } catch (const Error& e) {
    bad_data = e.what();
  }
  agree_or_throw(comm, bad_data);
  if (spec.shared.empty()) throw Error("a global fit needs at least one shared parameter", Error::Kind::kUsage);
  std::vector<bool> seen(p, false);
  for (const std::size_t j : spec.shared) {
    if (j >= p || seen[j]) throw Error("shared parameters: an index out of range or given twice", Error::Kind::kUsage);
    seen[j] = true;
  }
  for (const auto& [j, value] : spec.fix) {
    if (j >= p || seen[j])
      throw Error(j < p ? fmt::format("parameter '{}' is both shared and fixed, or fixed twice", model.parameter_names()[j])
                        : std::string("fixed parameters: an index out of range"),
                  Error::Kind::kUsage);
    if (!std::isfinite(value))
      throw Error(fmt::format("fixed value of parameter '{}' is not finite", model.parameter_names()[j]),
                  Error::Kind::kUsage);
    seen[j] = true;
  }
  if (spec.shared.size() == p)
    throw Error("every parameter is shared: that is one fit of all the data (drop --shared and --group)",
                Error::Kind::kUsage);
  if (spec.shared.size() + spec.fix.size() == p)
    throw Error("no parameter is left per group (every one is shared or fixed): that is one fit of all the data "
                "(drop --shared and --group)",
                Error::Kind::kUsage);
  if (!spec.start.empty() && spec.start.size() != p)
    throw Error(fmt::format("global fit: {} start values for {} parameters", spec.start.size(), p), Error::Kind::kUsage);
  if (!spec.bounds.empty() && spec.bounds.size() != p)
    throw Error(fmt::format("global fit: {} boxes for {} parameters", spec.bounds.size(), p), Error::Kind::kUsage);
  for (std::size_t j = 0; j < spec.bounds.size(); ++j) {
    const ParameterBounds b = spec.bounds[j];
    const std::string& name = model.parameter_names()[j];
    if (!(b.lower <= b.upper))
      throw Error(fmt::format("bounds of parameter '{}' are empty: [{}, {}]", name, b.lower, b.upper), Error::Kind::kUsage);
    if (!spec.start.empty() && !std::isnan(spec.start[j]) && !(spec.start[j] >= b.lower && spec.start[j] <= b.upper))
      throw Error(fmt::format("start value of parameter '{}' is {}, outside its bounds [{}, {}]", name, spec.start[j],
                              b.lower, b.upper),
                  Error::Kind::kUsage);
    for (const auto& [fj, value] : spec.fix)
      if (fj == j && !(value >= b.lower && value <= b.upper))
        throw Error(fmt::format("fixed value of parameter '{}' is {}, outside its bounds [{}, {}]", name, value,
                                b.lower, b.upper),
                    Error::Kind::kUsage);
  }
  std::string why;
  if (!spec.solver.IsValid(&why)) throw Error("invalid solver options: " + why, Error::Kind::kUsage);

  GlobalProblem P(model, data, spec.shared, spec.fix, spec.bounds, context.resolved_threads(), comm);
  GlobalFitResult out;
  out.parameter_names = model.parameter_names();
  out.shared = spec.shared;
  out.fixed = spec.fix;
  out.local = P.local();
  out.group_ids = all_ids(data, P);
  std::vector<double> rows = {0};
  for (std::size_t i = 0; i < data.y.size(); ++i) rows[0] += (data.weights.empty() || data.weights[i] != 0) ? 1 : 0;
  if (comm.size() > 1) comm.allreduce(rows);
  out.observations = std::size_t(rows[0]);
  if (out.observations < P.unknowns())
    throw Error(fmt::format("a global fit of {} groups has {} unknowns ({} shared + {} x {} per group) but only {} "
                            "rows with non-zero weight",
                            P.all_groups(), P.unknowns(), P.k(), P.all_groups(), P.m(), out.observations),
                Error::Kind::kData);
  std::string error;
  for (std::size_t grp = 0; grp < P.groups() && error.empty(); ++grp) {
    std::size_t used = 0;
    for (std::size_t i = data.offsets[grp]; i < data.offsets[grp + 1]; ++i)
      used += (data.weights.empty() || data.weights[i] != 0) ? 1 : 0;
    if (used < P.m())
      error = fmt::format("group '{}' has {} row(s) with non-zero weight, fewer than its {} own parameters",
                          out.group_ids[P.first() + grp], used, P.m());
  }
  agree_or_throw(comm, error);
  const LevenbergMarquardtOptions& o = spec.solver;
  VectorXd theta = starting_values(model, data, spec, P, context.resolved_threads());
  Sums sums, trial_sums;
  P.evaluate(theta, sums);
  if (!sums.finite)  // agreed: every rank has the same verdict
    throw AgreedError("the global fit's sums of squares are not finite at the start values: a NaN or Inf in the data, or "
                "a start where the model is undefined (give --start)");
  out.initial_rss = sums.rss;
  VectorXd h = P.diagonal(sums), g = P.gradient(sums);
  VectorXd scale2 = h;
  for (Index a = 0; a < scale2.size(); ++a)
    if (!(scale2(a) > 0)) scale2(a) = 1.0;
  double lambda = o.initial_damping, nu = 2.0;
  Termination t = Termination::kMaxIterations;
  std::vector<char> held = P.held(theta, g);  // fit's active set; it changes only with theta and g
  if (gradient_cosine(g, h, sums.rss, held) <= o.gradient_tolerance) t = Termination::kGradientTolerance;
  while (t == Termination::kMaxIterations && out.iterations < o.max_iterations) {
    ++out.iterations;
    const VectorXd d = scale2.cwiseSqrt();
    VectorXd delta;
    bool accept = false;
    double rho = 0;
    if (P.solve(sums, d, lambda, held, delta)) {
      // The trial clamped into the boxes, and the step actually taken (fit's rules).
      VectorXd trial(theta.size());
      for (Index u = 0; u < theta.size(); ++u)
        trial(u) = std::clamp(theta(u) + delta(u), P.bounds_of(u).lower, P.bounds_of(u).upper);
      const VectorXd step = trial - theta;
      const double predicted = 2.0 * g.dot(step) - P.quadratic(sums, step);
      const double scaled_step = d.cwiseProduct(step).norm(), scaled_theta = d.cwiseProduct(theta).norm();
      if (scaled_step <= o.parameter_tolerance * (scaled_theta + o.parameter_tolerance)) {
        t = Termination::kParameterTolerance;
        break;
      }
      if (predicted > 0) {
        P.evaluate(trial, trial_sums);
        if (trial_sums.finite) {
          const double actual = sums.rss - trial_sums.rss;
          rho = actual / predicted;
          accept = rho > o.min_relative_decrease;
          if (accept) {
            const bool small = std::abs(actual) <= o.function_tolerance * sums.rss &&
                               predicted <= o.function_tolerance * sums.rss && rho <= 2.0;
            theta = trial;
            std::swap(sums, trial_sums);
            h = P.diagonal(sums);
            g = P.gradient(sums);
            held = P.held(theta, g);
            if (small) {
              t = Termination::kFunctionTolerance;
              break;
            }
          }
        }
      }
    }
    if (accept) scale2 = scale2.cwiseMax(h);
    detail::update_damping(accept, rho, lambda, nu);
    if (gradient_cosine(g, h, sums.rss, held) <= o.gradient_tolerance) t = Termination::kGradientTolerance;
    else if (lambda > o.max_damping) t = Termination::kNoProgress;
  }

  // Statistics at the estimates: the Schur complement S of J^T W J gives the shared covariance
  // sigma^2 S^-1; a group's block of the inverse is D_g^-1 + (D_g^-1 B_g^T) S^-1 (B_g D_g^-1).
  // Unknowns held at a bound are not estimated: no standard error, not counted in df (as `fit`).
  const std::size_t k = P.k(), m = P.m(), G = P.groups();
  const std::vector<char>& at_bound = held;
  out.shared_at_bound.assign(at_bound.begin(), at_bound.begin() + std::ptrdiff_t(k));
  out.local_at_bound.assign(at_bound.begin() + std::ptrdiff_t(k), at_bound.end());
  out.rss = sums.rss;
  out.df = double(out.observations) - double(P.unknowns()) +
           double(std::count(at_bound.begin(), at_bound.end(), char(1)));
  out.sigma = out.df > 0 ? std::sqrt(out.rss / out.df) : kNaN;
  response_statistics(data, P, out);
  out.shared_estimates.assign(theta.data(), theta.data() + k);
  out.local_estimates.assign(theta.data() + k, theta.data() + theta.size());
  out.shared_std_errors.assign(k, kNaN);
  out.local_std_errors.assign(P.all_groups() * m, kNaN);
  out.shared_covariance = MatrixXd::Constant(Index(k), Index(k), kNaN);
  std::vector<MatrixXd> X(G);  // D_g^-1 B_g^T
  std::vector<double> packed(G * k * k);
  bool singular = false;
  std::vector<MatrixXd> D(G);  // D_g with the unknowns at a bound taken out
  VectorXd none;
  for (std::size_t grp = 0; grp < G && !singular; ++grp) {
    D[grp] = sums.D[grp];
    MatrixXd B = sums.B[grp];
    P.hold(at_bound, grp, D[grp], B, none);
    const Eigen::LLT<MatrixXd> llt(D[grp]);
    singular = detail::rank_deficiency(D[grp]).deficient() || llt.info() != Eigen::Success;
    if (singular) break;
    X[grp] = llt.solve(B.transpose());
    const MatrixXd BX = B * X[grp];
    std::copy(BX.data(), BX.data() + k * k, packed.begin() + std::ptrdiff_t(grp * k * k));
  }
  out.singular = !P.all(!singular);
  MatrixXd S = sums.A;
  if (!out.singular) {
    const std::vector<double> every = P.gather(packed);
    for (std::size_t grp = 0; grp < P.all_groups(); ++grp)
      S -= Eigen::Map<const MatrixXd>(every.data() + grp * k * k, Index(k), Index(k));
  }
  for (std::size_t a = 0; a < k; ++a)
    if (at_bound[a]) {
      S.row(Index(a)).setZero();
      S.col(Index(a)).setZero();
      S(Index(a), Index(a)) = 1.0;
    }
  out.singular = out.singular || detail::rank_deficiency(S).deficient();
  if (!out.singular) {
    const VectorXd s = S.diagonal().cwiseSqrt();
    const Eigen::LLT<MatrixXd> llt(s.cwiseInverse().asDiagonal() * S * s.cwiseInverse().asDiagonal());
    out.singular = llt.info() != Eigen::Success;  // the same on every rank: S is
    if (!out.singular) {
      MatrixXd C = s.cwiseInverse().asDiagonal() * llt.solve(MatrixXd::Identity(Index(k), Index(k))) *
                   s.cwiseInverse().asDiagonal();
      C = 0.5 * (C + C.transpose()).eval();
      const double s2 = out.sigma * out.sigma;
      out.shared_covariance = s2 * C;
      for (std::size_t a = 0; a < k; ++a) {
        if (!at_bound[a]) continue;
        out.shared_covariance.row(Index(a)).setConstant(kNaN);
        out.shared_covariance.col(Index(a)).setConstant(kNaN);
      }
      for (std::size_t a = 0; a < k; ++a) out.shared_std_errors[a] = std::sqrt(out.shared_covariance(Index(a), Index(a)));
      std::vector<double> se(G * m);
      for (std::size_t grp = 0; grp < G; ++grp) {
        const Eigen::LLT<MatrixXd> lg(D[grp]);
        const MatrixXd V = lg.solve(MatrixXd::Identity(Index(m), Index(m))) + X[grp] * C * X[grp].transpose();
        for (std::size_t b = 0; b < m; ++b)
          se[grp * m + b] = at_bound[k + (P.first() + grp) * m + b] ? kNaN : std::sqrt(s2 * V(Index(b), Index(b)));
      }
      out.local_std_errors = P.gather(se);
    }
  }
  if (converged(t) && out.singular) t = Termination::kSingularGradient;
  out.termination = t;
  switch (t) {
    case Termination::kGradientTolerance: out.message = "the gradient fell below the gradient tolerance"; break;
    case Termination::kFunctionTolerance: out.message = "the relative decrease of the RSS fell below the function tolerance"; break;
    case Termination::kParameterTolerance: out.message = "the relative step fell below the parameter tolerance"; break;
    case Termination::kNoProgress: out.message = "no step decreased the RSS, even with maximal damping"; break;
    case Termination::kSingularGradient:
      out.message = "singular gradient: J^T W J is rank-deficient at the estimates (the parameters are not identifiable)";
      break;
    default: out.message = fmt::format("stopped after the maximum of {} iterations", o.max_iterations); break;
  }
  return out;
}

}  // namespace parafit
