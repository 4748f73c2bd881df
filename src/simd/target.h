// target.h — which instruction set parafit's SIMD kernels run on, and the one switch that picks it.
//
// Every kernel with SIMD code is written once against Google Highway's portable vectors and compiled
// by Highway for each target in the build (x86-64: AVX-512 — Highway's "AVX3" —, AVX2, SSE4 and a
// scalar fallback; ARM: NEON/SVE). Highway's dynamic dispatch (HWY_DYNAMIC_DISPATCH) runs the best
// copy this CPU supports, chosen at run time: the binary itself is built for baseline x86-64.
// Every copy gives the same bits (docs/design.md, "One SIMD home"), so the choice is a matter of
// speed only; forcing a narrower target is how tests prove that and benchmarks measure each gain.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace parafit::simd {

struct TargetInfo {
  std::int64_t bits = 0;     // Highway's target bit (HWY_AVX3, ...)
  std::string name;          // Highway's name: "AVX3", "AVX2", "SSE4", "SCALAR", "NEON", ...
  std::string description;   // for people: "AVX-512 (Highway AVX3)", "scalar (no SIMD)", ...
  std::size_t double_lanes = 1;  // doubles per vector register on this target
};

// The targets this build has code for that this CPU can run, best first.
std::vector<TargetInfo> available_targets();

// The target the kernels run on now: the best available one unless a ScopedTarget or
// PARAFIT_SIMD_TARGET narrowed the choice.
TargetInfo active_target();

// The available target called `name` (case-insensitive; "avx512" is an alias of AVX3, "baseline"
// and "scalar" of the fallback without SIMD: SCALAR in GCC builds, EMU128 in clang builds). Throws parafit::Error (usage) naming the available
// targets when there is no such target here.
TargetInfo find_target(std::string_view name);

// Runs every kernel on `target` from now on (nullptr-equivalent: bits == 0 restores the
// automatic choice). Not for use while kernels run on other threads.
void force_target(const TargetInfo& target);
void clear_forced_target();

// Applies PARAFIT_SIMD_TARGET from the environment if set (the command line calls this once at
// start-up). An unknown or unavailable name is a usage error naming the available targets.
void apply_target_from_environment();

// Forces a target while it lives and restores the previous choice after (tests, benchmarks).
class ScopedTarget {
 public:
  explicit ScopedTarget(const TargetInfo& target);
  explicit ScopedTarget(std::string_view name) : ScopedTarget(find_target(name)) {}
  ~ScopedTarget();
  ScopedTarget(const ScopedTarget&) = delete;
  ScopedTarget& operator=(const ScopedTarget&) = delete;

 private:
  std::int64_t previous_;
};

}  // namespace parafit::simd
