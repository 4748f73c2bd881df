#!/usr/bin/env bash
# Quick start: installs what is missing, builds the parafit command alone (no tests, benchmarks or
# examples) into build/, and fits the bundled example data set (100,000 rows of exponential
# decay) with exp-decay on all cores, printing the summary.
# scripts/test.sh builds into its own directory (build-test/), so neither rebuilds the other's work.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=build TARGETS=parafit_cli scripts/build.sh \
  -DPARAFIT_BUILD_TESTS=OFF -DPARAFIT_BUILD_BENCH=OFF -DPARAFIT_BUILD_EXAMPLES=OFF
exec build/apps/parafit/parafit fit --data examples/data/decay.csv --model exp-decay "$@"
