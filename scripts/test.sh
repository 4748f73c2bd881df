#!/usr/bin/env bash
# Builds parafit with warnings as errors into build-test/ and runs every test: the formula fuzzer
# for a short while, then the unit, NIST, command-line and install tests.
# Its own directory: -Werror changes every compile command, so sharing build/ with quickstart.sh
# (no -Werror) would recompile everything each time one follows the other.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=build-test scripts/build.sh -DPARAFIT_WARNINGS_AS_ERRORS=ON -DPARAFIT_BUILD_TESTS=ON
# The formula fuzzer: a separate clang build with libFuzzer, ASan and UBSan, run for 30 seconds
# (skipped with a message when clang is missing). FUZZ_SECONDS=0 skips it.
if [ "${FUZZ_SECONDS:-30}" != 0 ]; then
  tests/fuzz/run.sh "${FUZZ_SECONDS:-30}"
fi
jobs=$(nproc 2>/dev/null || echo 2)
ctest --test-dir build-test --output-on-failure -j"$jobs" "$@"
