// fast_exp.h — exp() for the model row loops in a form GCC can vectorise, and the run-time
// dispatch that compiles those loops twice (baseline x86-64 and AVX2).
//
// std::exp is an opaque library call unless the build uses -ffast-math, so a loop calling it is
// never vectorised, and nearly all of an exp-model fit is spent in it. vexp() is a branch-free
// replacement: Cody–Waite reduction x = n*ln2 + r, a degree-13 Taylor polynomial for exp(r) on
// |r| <= ln2/2, and 2^n assembled from exponent bits. It is within about 1 ulp of std::exp,
// including overflow to inf, gradual underflow into the subnormals, and NaN.
//
// Same bits everywhere. vexp uses only IEEE-exact operations (+, *, compare-and-select, integer
// ops on the bit pattern) in a fixed order, so a 4-wide AVX2 loop, a 2-wide SSE2 loop and scalar
// code all round identically — provided nothing is contracted into an FMA (an FMA rounds once
// where the source rounds twice). The target("avx2") copies below do not enable FMA, and the
// model sources are compiled with -ffp-contract=off (src/CMakeLists.txt) so that even a build
// with -march=native keeps the bits. The row loops therefore call vexp on every path: a fit gives
// the same result on every x86-64 machine, whichever copy of the loops runs.
//
// Why two copies: vexp pays off only with wide vectors. With AVX2 (4 doubles per register) it is
// several times faster than glibc's exp; with baseline SSE2 (2 per register) it costs about as
// much as glibc's exp. The library is built for baseline x86-64, so each row loop is written once
// as an always_inline function and instantiated twice through run_baseline / run_avx2, and
// run_dispatched picks one per call from the CPU (checked once).
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
  // and |n| <= 1077 needs 11).
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  // Adding 1.5*2^52 rounds to an integer and leaves it in the low mantissa bits, without a
  // float-to-int conversion (undefined for NaN, and not vectorisable for int64 before AVX-512).
  constexpr double kShifter = 0x1.8p52;

  // Clamp so that n stays small enough for 2^n to be built below: exp(-746) is 0 and exp(710) is
  // inf, as are the results for anything beyond. The clamped value is built with copysign rather
  // than written as a constant: a constant lets GCC fold the rest of the function into a separate
  // branch, which is then no longer if-convertible and the loop stays scalar. NaN compares false
  // and passes through to a NaN result.
  x = x < -746.0 ? std::copysign(746.0, x) : x;
  x = x > 710.0 ? std::copysign(710.0, x) : x;

  const double n = (x * kLog2e + kShifter) - kShifter;
  const double r = (x - n * kLn2Hi) - n * kLn2Lo;

  double p = 1.0 / 6227020800.0;  // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;

  // 2^n as two normal factors: one factor cannot represent 2^1024 or 2^-1075, and multiplying by
  // the second one last rounds once into the subnormal range, as std::exp does.
  const double n_hi = (n * 0.5 + kShifter) - kShifter;
  const double n_lo = n - n_hi;
  constexpr std::uint64_t kBias = std::bit_cast<std::uint64_t>(kShifter) - 1023;
  const double s_hi =
      std::bit_cast<double>((std::bit_cast<std::uint64_t>(n_hi + kShifter) - kBias) << 52);
  const double s_lo =
      std::bit_cast<double>((std::bit_cast<std::uint64_t>(n_lo + kShifter) - kBias) << 52);
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
