#!/usr/bin/env bash
# Builds parafit with warnings as errors and runs every test (unit, command line, install).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh -DPARAFIT_WARNINGS_AS_ERRORS=ON -DPARAFIT_BUILD_TESTS=ON
jobs=$(nproc 2>/dev/null || echo 2)
ctest --test-dir build --output-on-failure -j"$jobs" "$@"
