#!/usr/bin/env bash
# The CI entry (.ci/run): builds parafit with warnings as errors into build-test/ and runs every
# test (the unit, NIST, command-line, MPI, catalogue, install, browser and Python tests), then the
# hardening jobs, each in its own build directory (docs/sanitizers.md):
#   1. build-asan/: the ASan+UBSan build and the libFuzzer targets: the whole test suite runs
#      under ASan+UBSan, then each fuzzer for 20 s, two at a time (tests/fuzz/run.sh);
#   2. build-tsan/: the TSan build runs the threaded and ranks-as-threads tests.
# FUZZ_SECONDS=0 skips the fuzzers; SANITIZE="" skips the sanitizer builds (SANITIZE=asan only the
# ASan one). Extra arguments go to the first ctest.
# build-test/ is not build/: -Werror changes every compile command, so sharing build/ with
# quickstart.sh (no -Werror) would recompile everything each time one follows the other.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test   # the test-only packages too (GoogleTest, clang, ccache)
# ccache keeps the objects of all three builds in its own cache outside the checkout (~/.cache/ccache
# unless CCACHE_DIR says otherwise), so a run after a small change recompiles little; a first run
# fills it. CCACHE_BASEDIR makes the paths inside this checkout relative: clones elsewhere share
# the cache. PARAFIT_CCACHE=0 builds without it.
if [ "${PARAFIT_CCACHE:-1}" != 0 ] && command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR=$PWD PARAFIT_COMPILER_LAUNCHER=ccache
fi
BUILD_DIR=build-test scripts/build.sh -DPARAFIT_WARNINGS_AS_ERRORS=ON -DPARAFIT_BUILD_TESTS=ON -DPARAFIT_BUILD_PYTHON=ON \
  ${PARAFIT_COMPILER_LAUNCHER:+-DCMAKE_CXX_COMPILER_LAUNCHER=$PARAFIT_COMPILER_LAUNCHER}
jobs=$(nproc 2>/dev/null || echo 2)
ctest --test-dir build-test --output-on-failure -j"$jobs" "$@"

sanitize=${SANITIZE-asan tsan}
if [[ " $sanitize " == *" asan "* ]]; then
  scripts/sanitize.sh asan   # builds build-asan/, the fuzzers included, and runs the suite there
fi
if [ "${FUZZ_SECONDS:-20}" != 0 ]; then
  tests/fuzz/run.sh "${FUZZ_SECONDS:-20}"
fi
if [[ " $sanitize " == *" tsan "* ]]; then
  scripts/sanitize.sh tsan
fi
