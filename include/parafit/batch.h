// parafit/batch.h — many independent fits of one model in one call: what `parafit batch` does.
//
// Each fit runs the same Levenberg-Marquardt as `parafit fit` (the same damping, scaling, bounds,
// tolerances, restarts and verdicts), on its own rows, with no statistics pass beyond its
// standard errors. Fits are dealt to threads in blocks; a fit's result depends only on its own rows,
// so the result is the same, bit for bit, for any number of threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "parafit/context.h"
#include "parafit/dataset.h"
#include "parafit/levenberg_marquardt.h"
#include "parafit/model.h"
#include "parafit/problem.h"

namespace parafit {

// What one fit of a batch ended with.
enum class BatchStatus : std::uint8_t {
  kConverged,      // a convergence rule fired at a regular J^T W J (as `fit`'s converged verdicts)
  kNotConverged,   // iteration limit, no progress or a flat region, after the restarts
  kSingular,       // converged where J^T W J is rank-deficient: estimates not identifiable
  kNonFinite,      // the model or the cost is not finite at the start (or a data value is not)
  kTooFewPoints,   // fewer points with non-zero weight than free parameters (an empty group too)
  kNoStart,        // the self-start rule failed on this fit's data (give starting values)
};
inline constexpr std::size_t kBatchStatusCount = 6;
std::string_view to_string(BatchStatus s);

// The cost each fit minimises.
enum class Estimator : std::uint8_t {
  kLeastSquares,  // sum w (y - f)^2 (chi-square with weights 1/sigma^2)
  kPoissonMle,    // the Poisson deviance 2 sum w (f - y + y log(y / f)); y are counts, f > 0
};
std::string_view to_string(Estimator e);

// The fits' data, one after another: fit k owns rows [offsets[k], offsets[k + 1]).
struct BatchData {
  std::vector<std::vector<double>> inputs;  // per model input: every row's value
  std::vector<double> y;
  std::vector<double> weights;              // empty: every weight is 1
  std::vector<std::size_t> offsets = {0};   // fits() + 1 entries
  std::vector<std::string> ids;             // per fit: its group id (empty: numbered from 0)

  std::size_t fits() const { return offsets.size() - 1; }
  std::size_t rows_of(std::size_t k) const { return offsets[k + 1] - offsets[k]; }
  // Throws parafit::Error when the parts do not fit together (sizes, offsets, input count).
  void validate(std::size_t num_inputs) const;
};

struct BatchSpec {
  Estimator estimator = Estimator::kLeastSquares;
  // Starting values: empty (every fit self-starts), one vector of all parameters (every fit starts
  // there), or fits() x p values row by row (fit k starts at row k; a NaN row self-starts).
  std::vector<double> start;
  // Parameters held at a value in every fit (index, value): it overrides the start.
  std::vector<std::pair<std::size_t, double>> fix;
  std::vector<ParameterBounds> bounds;  // empty, or one box per parameter, for every fit
  LevenbergMarquardtOptions solver;
  // Evaluate the model and take the cost's sums in float, 16 fits per group (one AVX-512 register),
  // as Cpufit does; the LM's steps and decisions stay in double. Built-in families with a lane
  // kernel only, and solver.function_tolerance >= kFloat32MinTolerance (float rounds the cost to
  // about 1e-7 of itself).
  bool float32 = false;
};

inline constexpr double kFloat32MinTolerance = 1e-6;
inline constexpr double kFloat32DefaultTolerance = 1e-4;  // Cpufit's

// One row per fit; estimates and standard errors are fits() x p, row by row.
struct BatchResult {
  std::size_t parameters = 0;
  std::vector<std::string> parameter_names;
  std::vector<double> estimates;
  std::vector<double> std_errors;   // NaN for fixed parameters, parameters at a bound, singular fits
  std::vector<double> cost;         // chi-square (weighted RSS) or deviance at the estimates
  std::vector<std::uint32_t> iterations;
  std::vector<std::uint32_t> points;  // points with non-zero weight
  std::vector<BatchStatus> status;

  std::size_t fits() const { return status.size(); }
  std::array<std::size_t, kBatchStatusCount> counts() const;
  // "100000 fits: 99812 converged, 150 not converged, 38 singular"
  std::string summary_line() const;
};

// --- Assembling the fits' data ---------------------------------------------------------------

// Long format: the rows of each value of column `group` form one fit, the fits in the order their
// values first appear, each fit's rows in file order. `inputs` are the model's input columns, `y`
// the response (one value per row of data: a column, or a formula's left side), `weights` a column
// name or empty. The ids are the group values as written by fmt ("17", "2.5").
BatchData batch_from_long(const Dataset& data, const std::string& group, const std::vector<std::string>& inputs,
                          std::span<const double> y, const std::string& weights = {});

// Wide format: one fit per row of data, its points the columns `y_columns`; the model's one input
// is either `x_values` (the same for every fit, one per y column) or per row from `x_columns`
// (one per y column). `weight_columns`, when given, holds each point's weight (one per y column).
// Ids are the row numbers from 0.
BatchData batch_from_wide(const Dataset& data, const std::vector<std::string>& y_columns,
                          const std::vector<double>& x_values, const std::vector<std::string>& x_columns = {},
                          const std::vector<std::string>& weight_columns = {});

// A fits x points matrix (row by row), with the x values of its columns.
BatchData batch_from_matrix(std::span<const double> values, std::size_t fits, std::size_t points,
                            const std::vector<double>& x_values);

// Fits [first, first + count) of `data` (one rank's share of them), with their ids.
BatchData batch_slice(const BatchData& data, std::size_t first, std::size_t count);

// The most parameters a batch model may have (poly:20 has 21).
inline constexpr std::size_t kMaxBatchParameters = 24;

// Fits every fit of `data` with `model`. Throws parafit::Error for a bad spec (start of the wrong
// length, a bound excluding a start, a model with too many parameters); a fit whose data are bad
// gets its status, and the others go on.
BatchResult fit_batch(const Model& model, const BatchData& data, const BatchSpec& spec, const Context& context = {});

}  // namespace parafit
