#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and fits the bundled example data set
# (100,000 rows of exponential decay) with exp-decay on all cores, printing the summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
exec build/apps/parafit/parafit fit --data examples/data/decay.csv --model exp-decay "$@"
