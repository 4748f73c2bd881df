#!/usr/bin/env bash
# The CI entry (.ci/run): builds parafit with warnings as errors and runs every test (the unit,
# NIST, command-line, MPI and install tests), then the hardening jobs, each in its own build
# directory (docs/sanitizers.md):
#   1. build-asan/: the ASan+UBSan build and the libFuzzer targets; each fuzzer runs 20 s
#      (tests/fuzz/run.sh), then the whole test suite runs under ASan+UBSan;
#   2. build-tsan/: the TSan build runs the threaded and ranks-as-threads tests.
# FUZZ_SECONDS=0 skips the fuzzers; SANITIZE="" skips the sanitizer builds (SANITIZE=asan only the
# ASan one). Extra arguments go to the first ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh -DPARAFIT_WARNINGS_AS_ERRORS=ON -DPARAFIT_BUILD_TESTS=ON
jobs=$(nproc 2>/dev/null || echo 2)
ctest --test-dir build --output-on-failure -j"$jobs" "$@"

sanitize=${SANITIZE-asan tsan}
if [[ " $sanitize " == *" asan "* ]]; then
  # Builds build-asan/ (the fuzzers included) first, then fuzzes, then the suite under ASan.
  scripts/sanitize.sh configure asan
  cmake --build build-asan -j"$jobs"
  if [ "${FUZZ_SECONDS:-20}" != 0 ]; then
    tests/fuzz/run.sh "${FUZZ_SECONDS:-20}"
  fi
  scripts/sanitize.sh asan
elif [ "${FUZZ_SECONDS:-20}" != 0 ]; then
  tests/fuzz/run.sh "${FUZZ_SECONDS:-20}"
fi
if [[ " $sanitize " == *" tsan "* ]]; then
  scripts/sanitize.sh tsan
fi
