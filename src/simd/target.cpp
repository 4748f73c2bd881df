// target.cpp — Highway's target selection behind simd/target.h. This file is compiled once per
// target (hwy/foreach_target.h) only for ActiveBits/DoubleLanes, which report what a dispatched
// kernel would see.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd/target.cpp"  // NOLINT(bugprone-suspicious-include)
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace parafit::simd::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

std::int64_t ActiveBits() { return HWY_TARGET; }
std::size_t DoubleLanes() { return hn::Lanes(hn::ScalableTag<double>()); }

}  // namespace parafit::simd::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>

#include "parafit/error.h"
#include "simd/target.h"

namespace parafit::simd {
HWY_EXPORT(ActiveBits);
HWY_EXPORT(DoubleLanes);

namespace {

std::string describe(std::int64_t bits) {
  switch (bits) {
#if HWY_ARCH_X86
    case HWY_AVX3_DL: return "AVX-512 with VNNI/VBMI2 (Highway AVX3_DL)";
    case HWY_AVX3: return "AVX-512 (Highway AVX3)";
    case HWY_AVX2: return "AVX2 with FMA (Highway AVX2)";
    case HWY_SSE4: return "SSE4 (Highway SSE4)";
    case HWY_SSSE3: return "SSSE3 (Highway SSSE3)";
#endif
    case HWY_SCALAR: return "scalar, no SIMD (Highway SCALAR)";
    case HWY_EMU128: return "scalar emulation of 128-bit vectors (Highway EMU128)";
    default: return std::string(hwy::TargetName(bits)) + " (Highway)";
  }
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The real supported set, read before anything is forced: SupportedTargets() reports the forced
// set while a target is forced.
const std::vector<TargetInfo>& targets() {
  static const std::vector<TargetInfo> list = [] {
    std::vector<TargetInfo> out;
    const std::int64_t have = hwy::SupportedTargets() & HWY_TARGETS;
    // Lower bits are better targets.
    for (std::int64_t rest = have; rest != 0; rest &= rest - 1) {
      const std::int64_t bit = rest & -rest;
      TargetInfo t;
      t.bits = bit;
      t.name = hwy::TargetName(bit);
      t.description = describe(bit);
      out.push_back(std::move(t));
    }
    // The lane counts, from each target's own code.
    for (TargetInfo& t : out) {
      hwy::SetSupportedTargetsForTest(t.bits);
      t.double_lanes = HWY_DYNAMIC_DISPATCH(DoubleLanes)();
    }
    hwy::SetSupportedTargetsForTest(0);
    return out;
  }();
  return list;
}

std::int64_t g_forced = 0;  // 0: automatic

void apply(std::int64_t bits) {
  targets();  // read the real set first
  g_forced = bits;
  hwy::SetSupportedTargetsForTest(bits);
}

std::string available_list() {
  std::string out;
  for (const TargetInfo& t : targets()) {
    if (!out.empty()) out += ", ";
    out += t.name;
  }
  return out;
}

}  // namespace

std::vector<TargetInfo> available_targets() { return targets(); }

TargetInfo active_target() {
  const std::int64_t bits = HWY_DYNAMIC_DISPATCH(ActiveBits)();
  for (const TargetInfo& t : targets())
    if (t.bits == bits) return t;
  TargetInfo t;
  t.bits = bits;
  t.name = hwy::TargetName(bits);
  t.description = describe(bits);
  t.double_lanes = HWY_DYNAMIC_DISPATCH(DoubleLanes)();
  return t;
}

TargetInfo find_target(std::string_view name) {
  std::string want = lower(name);
  if (want == "avx512" || want == "avx-512") want = "avx3";
  for (const TargetInfo& t : targets())
    if (lower(t.name) == want) return t;
  // The fallback without SIMD is SCALAR in GCC 12 builds and EMU128 (the same code on 128-bit
  // arrays) in clang's: "baseline" and "scalar" name whichever this build has.
  if (want == "baseline" || want == "scalar") return targets().back();
  throw usage_error("SIMD target '" + printable(name, 40) + "' is not available on this machine; " +
                    "available: " + available_list() + " (best first)");
}

void force_target(const TargetInfo& target) { apply(target.bits); }

void clear_forced_target() { apply(0); }

void apply_target_from_environment() {
  const char* env = std::getenv("PARAFIT_SIMD_TARGET");
  if (env == nullptr || *env == '\0') return;
  try {
    force_target(find_target(env));
  } catch (const Error& e) {
    throw usage_error(std::string("PARAFIT_SIMD_TARGET: ") + e.what());
  }
}

ScopedTarget::ScopedTarget(const TargetInfo& target) : previous_((targets(), g_forced)) {
  apply(target.bits);
}

ScopedTarget::~ScopedTarget() { apply(previous_); }

}  // namespace parafit::simd
#endif  // HWY_ONCE
