#!/usr/bin/env bash
# Builds the formula fuzzer with clang (libFuzzer + AddressSanitizer + UBSan) into build-fuzz/ and
# runs it for a while on a copy of the seed corpus. Separate from the CMake build: only the formula
# sources (src/expr, src/util) go in, so it compiles in well under a minute.
#
#   tests/fuzz/run.sh [seconds]        default 30; FUZZ_SECONDS works too
#   tests/fuzz/run.sh 3600             a longer run (docs/formulas.md)
# Exits 0 when clang is missing (with a message), non-zero when the fuzzer finds a crash; the
# crashing input is then left in build-fuzz/ as crash-<sha1>.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-${FUZZ_SECONDS:-30}}

cxx=${FUZZ_CXX:-clang++}
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "fuzz: skipped: $cxx not found (scripts/setup.sh installs clang and libclang-rt-14-dev)"
  exit 0
fi

out=build-fuzz
mkdir -p "$out/obj" "$out/corpus"
flags=(-std=c++20 -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
       -Iinclude -Isrc -I/usr/include/eigen3)
# Compile each source in parallel: the sanitizer build of the kernels is the slow one.
sources=(src/expr/*.cpp src/util/*.cpp tests/fuzz/formula_fuzz.cpp)
jobs=$(nproc 2>/dev/null || echo 2)
printf '%s\n' "${sources[@]}" | xargs -P "$jobs" -I{} sh -c \
  "$cxx ${flags[*]} -c {} -o $out/obj/\$(basename {} .cpp).o"
# Link exactly the objects of today's sources, never a stale one left from a renamed file.
objects=()
for src in "${sources[@]}"; do objects+=("$out/obj/$(basename "$src" .cpp).o"); done
"$cxx" -fsanitize=fuzzer,address,undefined "${objects[@]}" -lfmt -o "$out/formula_fuzz"

cp -n tests/fuzz/corpus/* "$out/corpus/" 2>/dev/null || true
echo "fuzz: running formula_fuzz for ${seconds}s"
# -max_len: formulas up to 4 KiB; the length limit itself is unit-tested. Leaks are errors too.
# New inputs go to build-fuzz/corpus (kept between runs); the seeds are only read.
"$out/formula_fuzz" -max_total_time="$seconds" -max_len=4096 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$out/" "$out/corpus" tests/fuzz/corpus 2> "$out/fuzz.log" || {
  status=$?
  tail -n 60 "$out/fuzz.log"
  echo "fuzz: formula_fuzz FAILED (exit $status); log: $out/fuzz.log"
  exit "$status"
}
grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$out/fuzz.log" | tr '\n' ' ' | sed 's/^/fuzz: ok: /'
echo
