// fast_exp.h — exp() for the model row loops in a form GCC can vectorise, and the run-time
// dispatch that compiles those loops twice (baseline x86-64 and AVX2).
//
// std::exp is an opaque library call unless the build uses -ffast-math, so a loop calling it is
// never vectorised, and nearly all of an exp-model fit is spent in it. vexp() is a branch-free
// replacement: Cody–Waite reduction x = n*ln2 + r, the degree-13 Taylor polynomial for exp(r) on
// |r| <= ln2/2, and 2^n assembled from exponent bits. It is within 1.2 ulp of exp (so at most
// one double away from glibc's std::exp), including overflow to inf, gradual underflow into the
// subnormals, and NaN.
//
// Same bits everywhere. vexp uses only correctly rounded IEEE operations (+, -, *) and exact ones
// (fabs, copysign, compare-and-select, integer ops on the bit pattern) in a fixed order, so a 4-wide AVX2 loop, a 2-wide SSE2 loop and scalar
// code all round identically — provided nothing is contracted into an FMA (an FMA rounds once
// where the source rounds twice). The target("avx2") copies below do not enable FMA, and the
// model sources are compiled with -ffp-contract=off (src/CMakeLists.txt) so that even a build
// with -march=native keeps the bits. The row loops therefore call vexp on every path: a fit gives
// the same result on every x86-64 machine, whichever copy of the loops runs.
//
// Why two copies: vexp pays off only with wide vectors. In the exp-decay row loop (Zen 4) it takes
// 1.5 ns a row with AVX2 (4 doubles per register) against 3.3 with glibc's exp, and with
// baseline SSE2 (2 per register) about as long as glibc's exp. The library is built for baseline
// x86-64, so each row loop is written once as an always_inline function and instantiated twice
// through run_baseline / run_avx2, and run_dispatched picks one per call from the CPU (checked
// once).
#pragma once

#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#define PARAFIT_HAVE_AVX2_LOOPS 1
#else
#define PARAFIT_HAVE_AVX2_LOOPS 0
#endif

namespace parafit::detail {

// always_inline: a vexp call left out of line would keep its loop scalar.
[[gnu::always_inline]] inline double vexp(double x) {
  constexpr double kLog2e = 1.4426950408889634074;
  // ln2 split so that n*kLn2Hi is exact for every n reached here (kLn2Hi has 32 significant bits
  // and |n| <= 1076 needs 11).
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  // Adding 1.5*2^52 rounds to an integer and leaves it in the low mantissa bits, without a
  // float-to-int conversion (undefined for NaN, and not vectorisable for int64 before AVX-512).
  constexpr double kShifter = 0x1.8p52;

  // exp(-746) is 0 and exp(746) is inf, as is everything beyond, so |x| is clamped to 746: that
  // keeps |n| <= 1076, for which 2^n is built below, and one compare serves both ends. The clamped
  // value is built with copysign rather than written as a constant: a constant lets GCC fold the
  // rest of the function into a separate branch, which is then no longer if-convertible and the
  // loop stays scalar. NaN compares false and passes through to a NaN result.
  x = std::fabs(x) > 746.0 ? std::copysign(746.0, x) : x;

  // x = n*ln2 + r, n = round(x/ln2), |r| <= ln2/2 (Cody–Waite: x - n*kLn2Hi is exact).
  const double t = x * kLog2e + kShifter;  // kShifter + n, exactly
  const double n = t - kShifter;
  const double r = (x - n * kLn2Hi) - n * kLn2Lo;

  // exp(r) = 1 + r + r^2*h(r), h = 1/2! + r/3! + ... + r^11/13! (the series' remainder is below
  // 0.04 ulp). h is summed in Estrin's form: its terms are independent, so the longest chain of
  // dependent operations in the polynomial is 8 instead of Horner's 26, and the row loops are
  // bound by that latency more than by the number of operations (Horner made them 1.5x slower).
  // Adding r and then 1 last keeps the rounding errors of h small against the result: within 1.2
  // ulp in all (the analysis is in tests/model/test_model_fast_exp.cpp).
  const double r2 = r * r;
  const double r4 = r2 * r2;
  const double r8 = r4 * r4;
  const double h01 = 1.0 / 2.0 + r * (1.0 / 6.0);
  const double h23 = 1.0 / 24.0 + r * (1.0 / 120.0);
  const double h45 = 1.0 / 720.0 + r * (1.0 / 5040.0);
  const double h67 = 1.0 / 40320.0 + r * (1.0 / 362880.0);
  const double h89 = 1.0 / 3628800.0 + r * (1.0 / 39916800.0);
  const double h1011 = 1.0 / 479001600.0 + r * (1.0 / 6227020800.0);
  const double h = ((h01 + r2 * h23) + r4 * (h45 + r2 * h67)) + r8 * (h89 + r2 * h1011);
  const double p = 1.0 + (r + r2 * h);

  // 2^n as two normal factors 2^floor(n/2) * 2^ceil(n/2): one factor cannot represent 2^1024 or
  // 2^-1075, and multiplying by the second one last rounds once into the subnormal range, as
  // std::exp does. Their biased exponents come from t's bits, which are kShifter's plus n:
  // u = n + 2*1023 lies in [970, 3122], and its halves in [485, 1561], all normal exponents.
  const std::uint64_t u =
      std::bit_cast<std::uint64_t>(t) - (std::bit_cast<std::uint64_t>(kShifter) - 2 * 1023);
  const std::uint64_t e_hi = u >> 1;
  const std::uint64_t e_lo = u - e_hi;
  const double s_hi = std::bit_cast<double>(e_hi << 52);
  const double s_lo = std::bit_cast<double>(e_lo << 52);
  return p * s_hi * s_lo;
}

// ---- Run-time dispatch of the row loops ----

// Which compiled copy of the row loops runs.
enum class LoopIsa : int { baseline = 0, avx2 = 1 };

// Whether this CPU (and OS: libgcc checks that the YMM state is enabled) can run AVX2 code.
inline bool cpu_has_avx2() noexcept {
#if PARAFIT_HAVE_AVX2_LOOPS
  // __builtin_cpu_init first: this may run from a static constructor before libgcc's own.
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return has;
#else
  return false;
#endif
}

// -1: choose from the CPU; otherwise a forced LoopIsa (see ScopedLoopIsa).
inline std::atomic<int> forced_loop_isa{-1};

// The copy run_dispatched uses now: the best the CPU can run, unless forced.
inline LoopIsa active_loop_isa() noexcept {
  const int forced = forced_loop_isa.load(std::memory_order_relaxed);
  if (forced == static_cast<int>(LoopIsa::baseline)) return LoopIsa::baseline;
  // Forcing AVX2 on a CPU without it falls back rather than faulting.
  return cpu_has_avx2() ? LoopIsa::avx2 : LoopIsa::baseline;
}

// Forces one copy for the whole process while it lives, so that tests and benchmarks can compare
// the two. Not for use while fits run on other threads.
class ScopedLoopIsa {
 public:
  explicit ScopedLoopIsa(LoopIsa isa) noexcept
      : previous_(forced_loop_isa.exchange(static_cast<int>(isa))) {}
  ~ScopedLoopIsa() { forced_loop_isa.store(previous_); }
  ScopedLoopIsa(const ScopedLoopIsa&) = delete;
  ScopedLoopIsa& operator=(const ScopedLoopIsa&) = delete;

 private:
  int previous_;
};

// The two copies of a loop. `Loop` must be an [[gnu::always_inline]] function: it is then compiled
// into each wrapper with the wrapper's instruction set (GCC inlines baseline code into an AVX2
// function, not the other way round). Its __restrict parameters keep their meaning once inlined.
template <auto Loop, class... Args>
void run_baseline(Args... args) {
  Loop(args...);
}

#if PARAFIT_HAVE_AVX2_LOOPS
// "avx2" alone, not "arch=x86-64-v3": the latter enables FMA too.
template <auto Loop, class... Args>
[[gnu::target("avx2")]] void run_avx2(Args... args) {
  Loop(args...);
}
#else
template <auto Loop, class... Args>
void run_avx2(Args... args) {
  Loop(args...);
}
#endif

// Runs the copy of `Loop` that active_loop_isa() picks. The check costs a few loads per call;
// callers run it once per block of rows.
template <auto Loop, class... Args>
void run_dispatched(Args... args) {
  if (active_loop_isa() == LoopIsa::avx2) {
    run_avx2<Loop>(args...);
  } else {
    run_baseline<Loop>(args...);
  }
}

}  // namespace parafit::detail
