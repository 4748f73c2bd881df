// The batch engine: fits dealt to threads in blocks; on each thread a few fits in flight at once
// (lanes), each driven by its own SmallLm. A fit that ends leaves its lane to the next fit of the
// block, so the others go on. Every fit's arithmetic is its own: results do not depend on the
// number of threads, the lane count or the order fits finish in.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <type_traits>

#include "batch/batch_sums.h"
#include "batch/lane_kernels.h"
#include "batch/lane_step.h"
#include "batch/small_lm.h"
#include "parafit/batch.h"
#include "parafit/error.h"
#include "parallel/thread_loops.h"
#include "solve/lm_rules.h"
#include "solve/rank_deficiency.h"
#include "solve/spd_inverse.h"

namespace parafit {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t kLanes = 8;          // fits in flight per thread
constexpr std::size_t kFitsPerTask = 256;  // fits per block dealt to a thread
using detail::kFalseMinimumCosine;  // `fit`'s verdicts and restarts: solve/lm_rules.h
using detail::kPerfectFitFraction;
using detail::kRestartDamping;

// What the whole batch shares.
struct Plan {
  const Model& model;
  const BatchData& data;
  const BatchSpec& spec;
  std::size_t p = 0;
  std::vector<std::size_t> free;
  std::vector<ParameterBounds> bounds;
  std::vector<std::optional<double>> fixed;  // per parameter
  detail::SmallLmSetup setup;
};

// The end of one LM run of a fit.
struct Outcome {
  Termination termination = Termination::kMaxIterations;
  detail::SmallVector theta;
  detail::SmallMatrix H;
  double cost = 0, cosine = 0;
  int iterations = 0;
  std::vector<bool> at_bound;  // per free parameter
  std::optional<detail::SmallVector> inverse_diagonal;  // SmallLm::inverse_diagonal()

  bool usable() const { return converged(termination); }
};

class FitRun {
 public:
  explicit FitRun(const Plan& plan) : plan_(plan) {}
  bool busy() const { return busy_; }
  // Takes fit k. Returns false when the fit ended before any evaluation (its result is written).
  bool begin(std::size_t k, BatchResult& out);
  // Where the solver wants the sums next (all parameters).
  std::span<const double> trial() const { return lm_.trial(); }
  std::size_t fit() const { return k_; }
  // Feeds the sums at trial(), taking the damped steps one by one; writes the result when the fit
  // has ended.
  void consume(const detail::SmallSums& sums, BatchResult& out);
  // The same in halves, for steps taken in lanes (SmallLm::feed_sums, step_input, take_step): kDone
  // says the fit has ended (its result written); a failed run that restarts wants an evaluation.
  using Next = detail::SmallLm::Next;
  Next feed(const detail::SmallSums& sums, BatchResult& out);
  detail::DampedStepInput step_input(bool* held, double* theta, double* lower, double* upper) const {
    return lm_.step_input(held, theta, lower, upper);
  }
  Next take_step(const detail::DampedStep& step, const double* trial, BatchResult& out);
  // Evaluates the model on the fit's own rows (the path without a lane kernel) and consumes.
  void step_alone(BatchResult& out);

 private:
  void record(BatchStatus status, BatchResult& out);
  void record(const Outcome& o, BatchResult& out);
  Outcome outcome() const;
  Next end_run(BatchResult& out);  // restarts a failed run (kEvaluate) or records the fit (kDone)

  const Plan& plan_;
  std::size_t k_ = 0, begin_ = 0, points_ = 0;
  bool busy_ = false;
  int run_ = 0;  // 0: the first run; 1, 2: the restarts
  std::vector<double> start_, f_, J_;  // f and J: the path without a lane kernel
  std::vector<const double*> inputs_;
  detail::SmallLm lm_;
  detail::SmallSums sums_;
  std::optional<Outcome> best_;
};

bool FitRun::begin(std::size_t k, BatchResult& out) {
  const BatchData& d = plan_.data;
  const std::size_t p = plan_.p, n = d.rows_of(k);
  k_ = k;
  begin_ = d.offsets[k];
  run_ = 0;
  best_.reset();
  start_.clear();  // a fit that ends before its start is known reports no start
  inputs_.resize(d.inputs.size());
  for (std::size_t v = 0; v < d.inputs.size(); ++v) inputs_[v] = d.inputs[v].data() + begin_;
  // A bad value in a row that counts makes the fit non-finite; a bad weight too.
  points_ = 0;
  bool finite = true;
  for (std::size_t i = begin_; i < begin_ + n; ++i) {
    const double w = d.weights.empty() ? 1.0 : d.weights[i];
    if (!(w >= 0) || !std::isfinite(w)) finite = false;
    if (w == 0) continue;
    ++points_;
    finite = finite && std::isfinite(d.y[i]);
    for (const auto& column : d.inputs) finite = finite && std::isfinite(column[i]);
    // float32: a value beyond float's range is not finite there either.
    if (plan_.spec.float32)
      finite = finite && std::isfinite(float(w)) && std::isfinite(float(d.y[i])) &&
               std::all_of(d.inputs.begin(), d.inputs.end(), [&](const auto& c) { return std::isfinite(float(c[i])); });
  }
  out.points[k] = std::uint32_t(points_);
  if (points_ < plan_.free.size()) {
    record(BatchStatus::kTooFewPoints, out);
    return false;
  }
  if (!finite) {
    record(BatchStatus::kNonFinite, out);
    return false;
  }
  // The start: given values, the fixed ones, and the self-start for whatever is left.
  start_.assign(p, kNaN);
  const std::vector<double>& given = plan_.spec.start;
  if (given.size() == p) start_ = given;
  else if (!given.empty()) std::copy_n(given.begin() + std::ptrdiff_t(k * p), p, start_.begin());
  for (std::size_t j = 0; j < p; ++j)
    if (plan_.fixed[j]) start_[j] = *plan_.fixed[j];
  if (std::any_of(start_.begin(), start_.end(), [](double v) { return std::isnan(v); })) {
    std::vector<std::span<const double>> columns;
    for (const double* c : inputs_) columns.emplace_back(c, n);
    std::vector<double> self;
    try {
      self = plan_.model.initial_values(columns, std::span<const double>(d.y.data() + begin_, n));
    } catch (const Error&) {
      record(BatchStatus::kNoStart, out);
      return false;
    }
    for (std::size_t j = 0; j < p; ++j)
      if (std::isnan(start_[j])) start_[j] = std::clamp(self[j], plan_.bounds[j].lower, plan_.bounds[j].upper);
  }
  f_.resize(n);
  J_.resize(n * p);
  lm_.start(plan_.setup, start_, plan_.setup.options.initial_damping, plan_.setup.options.max_damping);
  busy_ = true;
  return true;
}

Outcome FitRun::outcome() const {
  Outcome o;
  o.termination = lm_.termination();
  o.theta = Eigen::Map<const Eigen::VectorXd>(lm_.theta().data(), Eigen::Index(lm_.theta().size()));
  o.H = lm_.H();
  o.cost = lm_.cost();
  o.iterations = lm_.iterations();
  o.cosine = lm_.gradient_cosine();
  o.at_bound.resize(plan_.free.size());
  for (std::size_t a = 0; a < plan_.free.size(); ++a) o.at_bound[a] = lm_.at_bound(Eigen::Index(a));
  if (const detail::SmallVector* d = lm_.inverse_diagonal()) o.inverse_diagonal = *d;
  return o;
}

void FitRun::step_alone(BatchResult& out) {
  const BatchData& d = plan_.data;
  const std::size_t n = d.rows_of(k_);
  const std::span<const double> theta = lm_.trial();
  plan_.model.evaluate(theta.data(), RowBlock{n, inputs_.data()}, f_.data(), J_.data(), n);
  const detail::FitRows rows{n, d.y.data() + begin_, d.weights.empty() ? nullptr : d.weights.data() + begin_};
  detail::batch_sums(plan_.spec.estimator, rows, f_.data(), J_.data(), plan_.free, sums_);
  consume(sums_, out);
}

void FitRun::consume(const detail::SmallSums& sums, BatchResult& out) {
  bool held[kMaxBatchParameters];
  double theta[kMaxBatchParameters], lower[kMaxBatchParameters], upper[kMaxBatchParameters],
      trial[kMaxBatchParameters], work[detail::damped_step_work(kMaxBatchParameters)];
  Next next = feed(sums, out);
  while (next == Next::kStep)
    next = take_step(detail::damped_step(step_input(held, theta, lower, upper), trial, work), trial, out);
}

FitRun::Next FitRun::feed(const detail::SmallSums& sums, BatchResult& out) {
  const Next next = lm_.feed_sums(sums);
  return next == Next::kDone ? end_run(out) : next;
}

FitRun::Next FitRun::take_step(const detail::DampedStep& step, const double* trial, BatchResult& out) {
  const Next next = lm_.take_step(step, trial);
  return next == Next::kDone ? end_run(out) : next;
}

FitRun::Next FitRun::end_run(BatchResult& out) {
  // A run has ended: restart a failed one with heavier damping, as `fit` does.
  Outcome o = outcome();
  if (run_ == 0 && (o.usable() || o.termination == Termination::kNonFiniteStart ||
                    !plan_.setup.options.restart_on_failure)) {
    record(o, out);
    return Next::kDone;
  }
  if (!best_ || o.usable() || (!best_->usable() && o.cost < best_->cost)) best_ = std::move(o);
  if (best_->usable() || run_ == 2) {
    record(*best_, out);
    return Next::kDone;
  }
  const double damping = kRestartDamping[run_++];
  lm_.start(plan_.setup, start_, damping, std::max(plan_.setup.options.max_damping, damping * 1e3));
  return Next::kEvaluate;
}

void FitRun::record(BatchStatus status, BatchResult& out) {
  busy_ = false;
  const std::size_t p = plan_.p;
  out.status[k_] = status;
  std::fill_n(out.estimates.begin() + std::ptrdiff_t(k_ * p), p, kNaN);
  if (status != BatchStatus::kTooFewPoints && status != BatchStatus::kNoStart && !start_.empty())
    std::copy(start_.begin(), start_.end(), out.estimates.begin() + std::ptrdiff_t(k_ * p));
  std::fill_n(out.std_errors.begin() + std::ptrdiff_t(k_ * p), p, kNaN);
  out.cost[k_] = kNaN;
  out.iterations[k_] = 0;
}

void FitRun::record(const Outcome& o, BatchResult& out) {
  busy_ = false;
  const std::size_t p = plan_.p, q = plan_.free.size();
  const BatchData& d = plan_.data;
  Termination t = o.termination;
  // `fit`'s last verdict: a convergence rule that fired far from a minimum.
  if (converged(t) && o.cosine > kFalseMinimumCosine && plan_.spec.estimator == Estimator::kLeastSquares) {
    double sw = 0, swy = 0;
    for (std::size_t i = begin_; i < begin_ + d.rows_of(k_); ++i) {
      const double w = d.weights.empty() ? 1.0 : d.weights[i];
      sw += w;
      swy += w * d.y[i];
    }
    double tss = 0;
    for (std::size_t i = begin_; i < begin_ + d.rows_of(k_); ++i) {
      const double w = d.weights.empty() ? 1.0 : d.weights[i];
      tss += w * (d.y[i] - swy / sw) * (d.y[i] - swy / sw);
    }
    if (o.cost > kPerfectFitFraction * tss) t = Termination::kNotAMinimum;
  }
  BatchStatus status = BatchStatus::kNotConverged;
  if (converged(t)) status = BatchStatus::kConverged;
  else if (t == Termination::kSingularGradient) status = BatchStatus::kSingular;
  else if (t == Termination::kNonFiniteStart) status = BatchStatus::kNonFinite;
  out.status[k_] = status;
  out.cost[k_] = o.cost;
  out.iterations[k_] = std::uint32_t(o.iterations);
  double* est = out.estimates.data() + k_ * p;
  double* se = out.std_errors.data() + k_ * p;
  for (std::size_t j = 0; j < p; ++j) est[j] = o.theta(Eigen::Index(j));
  std::fill_n(se, p, kNaN);
  if (t == Termination::kNonFiniteStart) return;

  // Standard errors as `fit`'s: sigma^2 (J^T W J)^-1 over the parameters estimated (free, not at a
  // bound), inverted in the scaled variables; none when J^T W J is rank-deficient. A Poisson fit's
  // covariance is the inverse Fisher information (no dispersion factor).
  std::size_t keep[kMaxBatchParameters], m = 0;
  for (std::size_t a = 0; a < q; ++a)
    if (!o.at_bound[a]) keep[m++] = a;
  if (m == 0) return;
  const double df = double(points_) - double(m);
  const double s2 = plan_.spec.estimator == Estimator::kPoissonMle ? 1.0 : (df > 0 ? o.cost / df : kNaN);
  // A converged verdict has already ranked and inverted this very matrix (SmallLm::finish: the
  // same parameters off their bounds); others are ranked and inverted here.
  if (o.inverse_diagonal) {
    for (std::size_t a = 0; a < m; ++a) se[plan_.free[keep[a]]] = std::sqrt(s2 * (*o.inverse_diagonal)(Eigen::Index(a)));
    return;
  }
  double H[kMaxBatchParameters * kMaxBatchParameters], Hinv[kMaxBatchParameters * kMaxBatchParameters],
      work[detail::spd_inverse_work(kMaxBatchParameters)];
  for (std::size_t a = 0; a < m; ++a)
    for (std::size_t b = 0; b < m; ++b) H[a * m + b] = o.H(Eigen::Index(keep[a]), Eigen::Index(keep[b]));
  if (!converged(t) &&
      detail::rank_deficiency(Eigen::Map<const Eigen::MatrixXd>(H, Eigen::Index(m), Eigen::Index(m))).deficient())
    return;
  if (!detail::scaled_spd_inverse(m, H, Hinv, work)) return;
  for (std::size_t a = 0; a < m; ++a) se[plan_.free[keep[a]]] = std::sqrt(s2 * Hinv[a * m + a]);
}

// kLanesOf<T> fits of one point count evaluated together by a family's lane kernel in T (double,
// or float for --float32: the model and the sums in float, the LM's steps and decisions in double);
// a fit of another point count runs alone.
template <class T>
class LaneGroup {
 public:
  LaneGroup(const Plan& plan, detail::LaneEvaluateOf<T> kernel)
      : plan_(plan), kernel_(kernel), runs_(L, FitRun(plan)), lane_busy_(L, false), sums_(L) {}

  void run(std::size_t first, std::size_t last, BatchResult& out) {
    const BatchData& d = plan_.data;
    // The lanes take the block's point count: its first non-empty fit's.
    n_ = 0;
    for (std::size_t k = first; k < last && n_ == 0; ++k) n_ = d.rows_of(k);
    const std::size_t p = plan_.p, q = plan_.free.size();
    x_.assign(n_ * L, T(0));
    y_.assign(n_ * L, T(0));
    if (!d.weights.empty()) w_.assign(n_ * L, T(0));
    theta_.assign(p * L, T(1));
    f_.resize(n_ * L);
    J_.resize(p * n_ * L);
    gram_.resize((q + 1) * (q + 2) / 2 * L);
    next_ = first;
    last_ = last;
    for (std::size_t l = 0; l < L; ++l) refill(l, out);
    while (std::any_of(lane_busy_.begin(), lane_busy_.end(), [](bool b) { return b; })) {
      for (std::size_t l = 0; l < L; ++l)
        if (lane_busy_[l]) {
          const std::span<const double> t = runs_[l].trial();
          for (std::size_t j = 0; j < p; ++j) theta_[j * L + l] = T(t[j]);
        }
      kernel_(n_, theta_.data(), x_.data(), f_.data(), J_.data());
      const T* cols[kMaxBatchParameters];
      for (std::size_t a = 0; a < q; ++a) cols[a] = J_.data() + plan_.free[a] * n_ * L;
      const T* w = w_.empty() ? nullptr : w_.data();
      if (plan_.spec.estimator == Estimator::kLeastSquares)
        detail::lane_gram(n_, q + 1, y_.data(), f_.data(), w, cols, gram_.data());
      else
        detail::lane_poisson(n_, q, y_.data(), f_.data(), w, cols, gram_.data());
      for (std::size_t l = 0; l < L; ++l) {
        if (!lane_busy_[l]) continue;
        unpack(l);
        next_step_[l] = runs_[l].feed(sums_[l], out);
      }
      take_steps(out);
      for (std::size_t l = 0; l < L; ++l)
        if (lane_busy_[l] && next_step_[l] == Next::kDone) {
          lane_busy_[l] = false;
          refill(l, out);
        }
    }
  }

 private:
  static constexpr std::size_t L = detail::kLanesOf<T>;
  static constexpr std::size_t S = detail::kFitLanes;  // lanes of a lane step (doubles)
  static_assert(L % S == 0);

  using Next = FitRun::Next;

  // The damped steps the lanes want, S lanes at a time (batch/lane_step.h) for models of up to
  // kMaxLaneStepParameters free parameters, else one by one; again while a lane's step was refused
  // without an evaluation.
  void take_steps(BatchResult& out) {
    const std::size_t q = plan_.free.size();
    bool held[kMaxBatchParameters];
    double theta[kMaxBatchParameters], lower[kMaxBatchParameters], upper[kMaxBatchParameters],
        trial[kMaxBatchParameters], work[detail::damped_step_work(kMaxBatchParameters)];
    const auto wants = [&](std::size_t l) { return lane_busy_[l] && next_step_[l] == Next::kStep; };
    for (std::size_t base = 0; base < L; base += S) {
      for (;;) {
        bool any = false;
        for (std::size_t l = base; l < base + S; ++l) any = any || wants(l);
        if (!any) break;
        if (q <= detail::kMaxLaneStepParameters) {
          for (std::size_t l = base; l < base + S; ++l)
            if (wants(l)) step_in_.set(l - base, runs_[l].step_input(held, theta, lower, upper));
          detail::lane_damped_steps(q, step_in_, step_out_);
        }
        for (std::size_t l = base; l < base + S; ++l) {
          if (!wants(l)) continue;
          const detail::DampedStep step =
              q <= detail::kMaxLaneStepParameters
                  ? step_out_.get(l - base, q, trial)
                  : detail::damped_step(runs_[l].step_input(held, theta, lower, upper), trial, work);
          next_step_[l] = runs_[l].take_step(step, trial, out);
        }
      }
    }
  }

  // Lane l's sums: the Gram sums' lane (least squares), or the Poisson sums over its points.
  void unpack(std::size_t l) {
    const std::size_t q = plan_.free.size();
    detail::SmallSums& s = sums_[l];
    if (plan_.spec.estimator == Estimator::kLeastSquares) {
      s.g.resize(Eigen::Index(q));
      s.H.resize(Eigen::Index(q), Eigen::Index(q));
      std::size_t t = 0;
      for (std::size_t k = 0; k <= q; ++k)
        for (std::size_t c = k; c <= q; ++c, ++t) {
          const double v = double(gram_[t * L + l]);
          if (k == 0 && c == 0) s.cost = v;
          else if (k == 0) s.g(Eigen::Index(c - 1)) = v;
          else s.H(Eigen::Index(k - 1), Eigen::Index(c - 1)) = s.H(Eigen::Index(c - 1), Eigen::Index(k - 1)) = v;
        }
      return;
    }
    s.g.resize(Eigen::Index(q));
    s.H.resize(Eigen::Index(q), Eigen::Index(q));
    s.cost = double(gram_[l]);
    for (std::size_t a = 0; a < q; ++a) s.g(Eigen::Index(a)) = double(gram_[(1 + a) * L + l]);
    std::size_t t = 1 + q;
    for (std::size_t a = 0; a < q; ++a)
      for (std::size_t b = 0; b <= a; ++b, ++t)
        s.H(Eigen::Index(a), Eigen::Index(b)) = s.H(Eigen::Index(b), Eigen::Index(a)) = double(gram_[t * L + l]);
  }

  // Gives lane l the next fit of the block with this point count; others run alone meanwhile (in
  // double by the model's own evaluation, with the lanes' bits; in float in a group of their own).
  void refill(std::size_t l, BatchResult& out) {
    const BatchData& d = plan_.data;
    while (next_ < last_) {
      const std::size_t k = next_++;
      FitRun& run = runs_[l];
      if (d.rows_of(k) != n_) {
        if constexpr (std::is_same_v<T, float>) {
          LaneGroup<T>(plan_, kernel_).run(k, k + 1, out);
        } else {
          if (!run.begin(k, out)) continue;
          while (run.busy()) run.step_alone(out);
        }
        continue;
      }
      if (!run.begin(k, out)) continue;
      const std::size_t b = d.offsets[k];
      for (std::size_t i = 0; i < n_; ++i) {
        x_[i * L + l] = T(d.inputs[0][b + i]);
        y_[i * L + l] = T(d.y[b + i]);
        if (!w_.empty()) w_[i * L + l] = T(d.weights[b + i]);
      }
      lane_busy_[l] = true;
      return;
    }
  }

  const Plan& plan_;
  detail::LaneEvaluateOf<T> kernel_;
  std::vector<FitRun> runs_;
  std::vector<bool> lane_busy_;
  std::vector<detail::SmallSums> sums_;
  Next next_step_[L] = {};
  detail::LaneStepInput step_in_;
  detail::LaneStepOutput step_out_;
  std::size_t n_ = 0, next_ = 0, last_ = 0;
  std::vector<T> x_, y_, w_, theta_, f_, J_, gram_;
};

Plan make_plan(const Model& model, const BatchData& data, const BatchSpec& spec) {
  Plan plan{model, data, spec, 0, {}, {}, {}, {}};
  const std::size_t p = model.num_parameters();
  plan.p = p;
  if (p > kMaxBatchParameters)
    throw Error(fmt::format("batch fits take models of at most {} parameters; '{}' has {}", kMaxBatchParameters,
                            model.name(), p),
                Error::Kind::kUsage);
  data.validate(model.num_inputs());
  if (!spec.start.empty() && spec.start.size() != p && spec.start.size() != data.fits() * p)
    throw Error(fmt::format("batch starting values: {} values for {} parameters and {} fits (give {} for all "
                            "fits, or {} x {})",
                            spec.start.size(), p, data.fits(), p, data.fits(), p),
                Error::Kind::kUsage);
  if (!spec.bounds.empty() && spec.bounds.size() != p)
    throw Error(fmt::format("batch bounds: {} boxes for {} parameters", spec.bounds.size(), p), Error::Kind::kUsage);
  plan.bounds = spec.bounds.empty() ? std::vector<ParameterBounds>(p) : spec.bounds;
  plan.fixed.assign(p, std::nullopt);
  for (const auto& [j, value] : spec.fix) {
    if (j >= p) throw Error(fmt::format("batch: fixed parameter index {} of {}", j, p), Error::Kind::kUsage);
    plan.fixed[j] = value;
  }
  for (std::size_t j = 0; j < p; ++j) {
    const ParameterBounds b = plan.bounds[j];
    if (!(b.lower <= b.upper))
      throw Error(fmt::format("bounds of parameter '{}' are empty: [{}, {}]", model.parameter_names()[j], b.lower,
                              b.upper),
                  Error::Kind::kUsage);
    if (plan.fixed[j] && !(*plan.fixed[j] >= b.lower && *plan.fixed[j] <= b.upper))
      throw Error(fmt::format("fixed value of parameter '{}' is {}, outside its bounds [{}, {}]",
                              model.parameter_names()[j], *plan.fixed[j], b.lower, b.upper),
                  Error::Kind::kUsage);
    if (spec.start.size() == p && !plan.fixed[j] && !std::isnan(spec.start[j]) &&
        !(spec.start[j] >= b.lower && spec.start[j] <= b.upper))
      throw Error(fmt::format("start value of parameter '{}' is {}, outside its bounds [{}, {}]",
                              model.parameter_names()[j], spec.start[j], b.lower, b.upper),
                  Error::Kind::kUsage);
    if (!plan.fixed[j]) plan.free.push_back(j);
  }
  if (spec.float32 && !(spec.solver.function_tolerance >= kFloat32MinTolerance))
    throw Error(fmt::format("float32 batch fits need a function tolerance of at least {:g} (float rounds the cost "
                            "to about 1e-7 of itself); {:g} was given",
                            kFloat32MinTolerance, spec.solver.function_tolerance),
                Error::Kind::kUsage);
  std::string why;
  if (!spec.solver.IsValid(&why)) throw Error("invalid solver options: " + why, Error::Kind::kUsage);
  plan.setup.options = spec.solver;
  plan.setup.free = plan.free;
  plan.setup.bounds = plan.bounds;
  plan.setup.rounded_cost = spec.float32;
  plan.setup.bounded = std::any_of(plan.free.begin(), plan.free.end(), [&](std::size_t j) {
    return std::isfinite(plan.bounds[j].lower) || std::isfinite(plan.bounds[j].upper);
  });
  return plan;
}

// Per-fit starting values outside the bounds: the fit's start is moved onto the nearest bound
// only for self-started values; a given one is an error of that fit's row, reported up front.
void check_per_fit_starts(const Plan& plan) {
  const std::vector<double>& s = plan.spec.start;
  if (s.size() == plan.p || s.empty()) return;
  for (std::size_t k = 0; k < plan.data.fits(); ++k)
    for (std::size_t j = 0; j < plan.p; ++j) {
      const double v = s[k * plan.p + j];
      const ParameterBounds b = plan.bounds[j];
      if (!std::isnan(v) && !plan.fixed[j] && !(v >= b.lower && v <= b.upper))
        throw Error(fmt::format("start value of parameter '{}' for fit {} is {}, outside its bounds [{}, {}]",
                                plan.model.parameter_names()[j], k + 1, v, b.lower, b.upper),
                    Error::Kind::kUsage);
    }
}

}  // namespace

std::string_view to_string(BatchStatus s) {
  switch (s) {
    case BatchStatus::kConverged: return "converged";
    case BatchStatus::kNotConverged: return "not-converged";
    case BatchStatus::kSingular: return "singular";
    case BatchStatus::kNonFinite: return "non-finite";
    case BatchStatus::kTooFewPoints: return "too-few-points";
    case BatchStatus::kNoStart: return "no-start";
  }
  return "?";
}

std::string_view to_string(Estimator e) { return e == Estimator::kLeastSquares ? "lse" : "poisson-mle"; }

void BatchData::validate(std::size_t num_inputs) const {
  if (inputs.size() != num_inputs)
    throw Error(fmt::format("batch data: {} input column(s) for a model of {}", inputs.size(), num_inputs));
  if (offsets.empty() || offsets.front() != 0 || offsets.back() != y.size())
    throw Error("batch data: the fits' offsets do not cover the rows");
  for (std::size_t k = 0; k + 1 < offsets.size(); ++k)
    if (offsets[k] > offsets[k + 1]) throw Error("batch data: the fits' offsets decrease");
  for (const auto& c : inputs)
    if (c.size() != y.size()) throw Error("batch data: an input column's length differs from the response's");
  if (!weights.empty() && weights.size() != y.size())
    throw Error("batch data: the weights' length differs from the response's");
  if (!ids.empty() && ids.size() != fits()) throw Error("batch data: one id per fit is needed");
}

std::array<std::size_t, kBatchStatusCount> BatchResult::counts() const {
  std::array<std::size_t, kBatchStatusCount> c{};
  for (const BatchStatus s : status) ++c[std::size_t(s)];
  return c;
}

std::string BatchResult::summary_line() const {
  const auto c = counts();
  std::string out = fmt::format("{} fits:", fits());
  bool first = true;
  for (std::size_t s = 0; s < kBatchStatusCount; ++s) {
    if (c[s] == 0 && s != 0) continue;
    out += fmt::format("{} {} {}", first ? "" : ",", c[s], to_string(BatchStatus(s)));
    first = false;
  }
  return out;
}

BatchResult fit_batch(const Model& model, const BatchData& data, const BatchSpec& spec, const Context& context) {
  const Plan plan = make_plan(model, data, spec);
  check_per_fit_starts(plan);
  const std::size_t fits = data.fits(), p = plan.p;
  BatchResult out;
  out.parameters = p;
  out.parameter_names = model.parameter_names();
  out.estimates.assign(fits * p, kNaN);
  out.std_errors.assign(fits * p, kNaN);
  out.cost.assign(fits, kNaN);
  out.iterations.assign(fits, 0);
  out.points.assign(fits, 0);
  out.status.assign(fits, BatchStatus::kNotConverged);
  const std::size_t tasks = (fits + kFitsPerTask - 1) / kFitsPerTask;
  const detail::LaneEvaluate kernel = detail::lane_kernel(model);
  const detail::LaneEvaluateOf<float> kernel_float = detail::lane_kernel_float(model);
  if (spec.float32 && kernel_float == nullptr)
    throw Error(fmt::format("float32 batch fits run on the built-in families' lane kernels (gauss, exp-decay, "
                            "exp-growth, asymptotic, michaelis-menten, gompertz, logistic4, log, power, poly:1 "
                            "to poly:5); '{}' has none: fit it in float64",
                            model.name()),
                Error::Kind::kUsage);
  detail::parallel_for(context.resolved_threads(), tasks, [&](std::size_t task) {
    const std::size_t first = task * kFitsPerTask, last = std::min(fits, first + kFitsPerTask);
    if (spec.float32) {
      LaneGroup<float>(plan, kernel_float).run(first, last, out);
      return;
    }
    if (kernel != nullptr) {
      LaneGroup<double>(plan, kernel).run(first, last, out);
      return;
    }
    std::vector<FitRun> runs(kLanes, FitRun(plan));
    std::size_t next = first;
    const auto refill = [&](FitRun& run) {
      while (!run.busy() && next < last) run.begin(next++, out);
    };
    for (FitRun& run : runs) refill(run);
    for (bool any = true; any;) {
      any = false;
      for (FitRun& run : runs) {
        if (!run.busy()) continue;
        run.step_alone(out);
        refill(run);
        any = any || run.busy();
      }
    }
  });
  return out;
}

}  // namespace parafit
