#include "solve/normal_equations.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "parallel/chunked_sum.h"
#include "solve/gram_block.h"
#include "loss/robust_rows.h"

namespace parafit::detail {
namespace {

// ---- The Gram kernel ----
//
// Everything a pass needs is the upper triangle of the weighted Gram matrix of the m = q + 1
// columns [r, J_c0, ..., J_c(q-1)] (r = y - f): S(k, l) = sum_i (w_i v_k[i]) v_l[i], k <= l. Laid
// out row by row it is exactly [rss, g, H upper triangle row by row]. The kernel computes these
// sums for a block of rows (L1-resident f and J) in as few passes over the block as registers
// allow: all of them in one pass for m <= 4 (up to three free parameters: 10 sums, 10 AVX2
// registers), otherwise in tiles of at most 8 or 10 sums, one pass over the block each.
//
// Same bits everywhere. Every sum has 4 lanes; row i of a block goes to lane i mod 4, the lanes
// start at zero in each block and are added into the chunk's lanes at its end (gram_block, the
// SIMD part, on every target alike), and the 4 lanes of a chunk are combined as
// (l0 + l1) + (l2 + l3) (GramChunk::finish). Those are all the roundings, in a fixed order, so
// every SIMD target, the one-pass and the tiled kernels for a given sum, and any thread count give
// identical bits.

// Columns per triangular tile, and per side of a rectangular one (whose rows go 2 at a time):
// 10 or 8 accumulators plus the loaded columns fit the 16 AVX2 registers.
constexpr std::size_t kPanel = 4;
constexpr std::size_t kRectRows = 2;

// Position of S(k, l), k <= l, in the upper triangle of an m x m matrix stored row by row.
constexpr std::size_t upper_index(std::size_t m, std::size_t k, std::size_t l) {
  return k * (2 * m - k + 1) / 2 + (l - k);
}

// One pass over a block: u columns [u0, u0+a) against v columns [v0, v0+b) of the Gram matrix;
// triangular when u0 == v0 (then a == b).
struct Tile {
  std::size_t u0, a, v0, b;
  bool triangular() const { return u0 == v0; }
  std::array<std::size_t, kPanel * kPanel> index{};  // where each of its sums goes, in tile order
};

// The tiles covering the upper triangle of the m x m Gram matrix: one triangle when m <= 4,
// otherwise the triangles of panels of 4 columns on the diagonal and the rectangles between
// panels, 2 rows at a time.
std::vector<Tile> plan_tiles(std::size_t m) {
  std::vector<Tile> tiles;
  auto add = [&](std::size_t u0, std::size_t a, std::size_t v0, std::size_t b) {
    Tile t{u0, a, v0, b};
    std::size_t k = 0;
    for (std::size_t i = 0; i < a; ++i)
      for (std::size_t j = u0 == v0 ? i : 0; j < b; ++j) t.index[k++] = upper_index(m, u0 + i, v0 + j);
    tiles.push_back(t);
  };
  for (std::size_t p0 = 0; p0 < m; p0 += kPanel) {
    const std::size_t a = std::min(kPanel, m - p0);
    add(p0, a, p0, a);
    for (std::size_t r0 = p0; r0 < p0 + a; r0 += kRectRows)
      for (std::size_t q0 = p0 + kPanel; q0 < m; q0 += kPanel)
        add(r0, std::min(kRectRows, p0 + a - r0), q0, std::min(kPanel, m - q0));
  }
  return tiles;
}

// Accumulates the Gram sums of one chunk, block by block, into 4 lanes per sum.
class GramChunk {
 public:
  // m columns: the residual and the m - 1 chosen Jacobian columns.
  GramChunk(std::size_t m, const std::vector<Tile>& tiles, bool weighted)
      : m_(m), tiles_(tiles), weighted_(weighted), acc_(kGramLanes * m * (m + 1) / 2, 0.0) {}

  // Rows of a block: y, f, the weights (or nullptr), and cols[1..m) the Jacobian columns;
  // r must have room for n values (used when the block takes more than one pass).
  void add_block(std::size_t n, const double* y, const double* f, const double* w,
                 const double* const* cols, double* r) {
    if (tiles_.size() == 1) {  // one pass; r = y - f on the fly
      const GramTileShape shape{int(m_), 0, true, true, weighted_};
      gram_block(shape, n, GramInputs{cols, y, f, w}, acc_.data(), tiles_[0].index.data());
      return;
    }
    for (std::size_t i = 0; i < n; ++i) r[i] = y[i] - f[i];
    std::array<const double*, 2 * kPanel> tile_cols{};
    for (const Tile& t : tiles_) {
      auto column = [&](std::size_t k) { return k == 0 ? r : cols[k]; };
      for (std::size_t i = 0; i < t.a; ++i) tile_cols[i] = column(t.u0 + i);
      if (!t.triangular())
        for (std::size_t j = 0; j < t.b; ++j) tile_cols[t.a + j] = column(t.v0 + j);
      const GramTileShape shape{int(t.a), int(t.b), t.triangular(), false, weighted_};
      gram_block(shape, n, GramInputs{tile_cols.data(), y, f, w}, acc_.data(), t.index.data());
    }
  }

  // The chunk's sums: each sum's lanes combined as (l0 + l1) + (l2 + l3).
  void finish(std::span<double> out) const {
    for (std::size_t k = 0; k < out.size(); ++k) {
      const double* l = acc_.data() + kGramLanes * k;
      out[k] = (l[0] + l[1]) + (l[2] + l[3]);
    }
  }

 private:
  std::size_t m_;
  const std::vector<Tile>& tiles_;
  bool weighted_;
  std::vector<double> acc_;
};

// Pointers to the inputs of rows [begin, begin+n) for a model call.
struct BlockInputs {
  std::array<const double*, 8> small{};
  std::vector<const double*> large;
  const double* const* bind(const Problem& problem, std::size_t begin) {
    const std::size_t k = problem.inputs.size();
    const double** out = small.data();
    if (k > small.size()) {
      large.resize(k);
      out = large.data();
    }
    for (std::size_t c = 0; c < k; ++c) out[c] = problem.inputs[c].data() + begin;
    return out;
  }
};

// The least-squares row kernel: per call, the Gram sums of [r, J_c...] over the rows given (see
// GramChunk), added to the running sums. The chunked sum calls it once per chunk on zeroed sums.
// With a robust loss (RowWeighting, below) each row's weight is replaced by a weight from the
// loss at its residual, taken per block before the Gram sums, and the first sum by the loss.
class GramKernel final : public RowKernel {
 public:
  // `columns` empty: the residual sum of squares alone, without the Jacobian. `loss` null: the
  // squared loss (the problem's weights as they are).
  GramKernel(const Problem& problem, std::span<const std::size_t> columns, const Loss* loss = nullptr,
             RowWeighting weighting = RowWeighting::kIrls)
      : problem_(problem),
        columns_(columns.begin(), columns.end()),
        m_(columns.size() + 1),
        jacobian_(!columns.empty()),
        loss_(loss != nullptr && !loss->squared() ? loss : nullptr),
        weighting_(weighting),
        weighted_(!problem.weights.empty() || loss_ != nullptr),
        tiles_(plan_tiles(m_)),
        block_(problem.model->block_rows() == 0 ? kBlockRows
                                                : std::min<std::size_t>(problem.model->block_rows(), 65536)) {}

  // Layout of the sums: [rss, g_0..g_{q-1}, H upper triangle row by row] — the upper triangle of
  // the Gram matrix of [r, J_c0, ..., J_c(q-1)].
  std::size_t width() const override { return m_ * (m_ + 1) / 2; }
  std::unique_ptr<RowSums> make_sums() const override { return std::make_unique<VectorSums>(width()); }
  std::unique_ptr<RowWorker> make_worker() const override { return std::make_unique<Worker>(*this); }

 private:
  class Worker final : public RowWorker {
   public:
    explicit Worker(const GramKernel& k)
        : k_(k),
          // f, r, then J (p columns of block_ rows).
          buffer_(k.block_ * (k.jacobian_ ? 2 + k.problem_.model->num_parameters() : 1)),
          cols_(k.m_),
          gram_(k.width()),
          loss_weights_(k.loss_ != nullptr ? k.block_ : 0) {
      if (k.jacobian_) {
        double* J = buffer_.data() + 2 * k.block_;
        for (std::size_t a = 0; a + 1 < k.m_; ++a) cols_[1 + a] = J + k.columns_[a] * k.block_;
      }
    }
    void set_parameters(std::span<const double> theta) override { theta_.assign(theta.begin(), theta.end()); }
    void accumulate(const RowSet& rows, RowSums& sums) override {
      // The model reads its inputs in place: the chunked sum hands this kernel contiguous chunks.
      if (!rows.contiguous()) throw std::logic_error("GramKernel: rows must be a contiguous range");
      const Problem& problem = k_.problem_;
      const std::size_t begin = rows.begin(), end = begin + rows.size();
      double* f = buffer_.data();
      const std::size_t block = k_.block_;
      double* r = k_.jacobian_ ? f + block : nullptr;
      double* J = k_.jacobian_ ? f + 2 * block : nullptr;
      GramChunk gram(k_.m_, k_.tiles_, k_.weighted_);
      const double* weights = problem.weights.empty() ? nullptr : problem.weights.data();
      std::array<double, kGramLanes> loss_lanes{};  // the chunk's sum of rho, 4 lanes as the Gram's
      for (std::size_t b = begin; b < end; b += block) {
        const std::size_t n = std::min(block, end - b);
        problem.model->evaluate(theta_.data(), RowBlock{n, inputs_.bind(problem, b)}, f, J,
                                k_.jacobian_ ? block : 0);
        const double* w = weights != nullptr ? weights + b : nullptr;
        if (k_.loss_ != nullptr) {
          robust_row_weights(*k_.loss_, k_.weighting_, n, problem.y.data() + b, f, w, loss_weights_.data(),
                             loss_lanes);
          w = loss_weights_.data();
        }
        gram.add_block(n, problem.y.data() + b, f, w, k_.jacobian_ ? cols_.data() : nullptr, r);
      }
      gram.finish(gram_);
      if (k_.loss_ != nullptr) gram_[0] = (loss_lanes[0] + loss_lanes[1]) + (loss_lanes[2] + loss_lanes[3]);
      std::span<double> out = static_cast<VectorSums&>(sums).values();
      for (std::size_t k = 0; k < gram_.size(); ++k) out[k] = out[k] + gram_[k];
    }

   private:
    const GramKernel& k_;
    std::vector<double> theta_, buffer_;
    std::vector<const double*> cols_;
    std::vector<double> gram_, loss_weights_;
    BlockInputs inputs_;
  };

  const Problem& problem_;
  std::vector<std::size_t> columns_;
  std::size_t m_;
  bool jacobian_;
  const Loss* loss_;
  RowWeighting weighting_;
  bool weighted_;
  std::vector<Tile> tiles_;
  std::size_t block_;  // rows per model call (the model's block_rows, or kBlockRows)
};

// [rss, g, H upper triangle row by row] as NormalEquations over q columns.
NormalEquations unpack(const std::vector<double>& sums, std::size_t q) {
  NormalEquations ne;
  ne.rss = sums[0];
  ne.g = Eigen::Map<const Eigen::VectorXd>(sums.data() + 1, static_cast<Eigen::Index>(q));
  ne.H.resize(static_cast<Eigen::Index>(q), static_cast<Eigen::Index>(q));
  std::size_t h = 1 + q;
  for (std::size_t a = 0; a < q; ++a)
    for (std::size_t c = a; c < q; ++c) {
      ne.H(Eigen::Index(a), Eigen::Index(c)) = sums[h];
      ne.H(Eigen::Index(c), Eigen::Index(a)) = sums[h];
      ++h;
    }
  return ne;
}

}  // namespace

NormalEquations accumulate_normal_equations(const Problem& problem, const Context& ctx,
                                            std::span<const double> theta,
                                            std::span<const std::size_t> columns) {
  const std::vector<double> sums =
      chunked_sum(ctx, problem.rows(), GramKernel(problem, columns, &problem.loss), theta);
  return unpack(sums, columns.size());
}


double residual_sum_of_squares(const Problem& problem, const Context& ctx,
                               std::span<const double> theta) {
  return chunked_sum(ctx, problem.rows(), GramKernel(problem, {}), theta)[0];
}

RobustCovarianceSums robust_covariance_sums(const Problem& problem, const Context& ctx,
                                            std::span<const double> theta, std::span<const std::size_t> columns) {
  RobustCovarianceSums out;
  out.A = unpack(chunked_sum(ctx, problem.rows(),
                             GramKernel(problem, columns, &problem.loss, RowWeighting::kCurvature), theta),
                 columns.size())
              .H;
  out.B = unpack(chunked_sum(ctx, problem.rows(), GramKernel(problem, columns, &problem.loss, RowWeighting::kScore),
                             theta),
                 columns.size())
              .H;
  return out;
}

}  // namespace parafit::detail
