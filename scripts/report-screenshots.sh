#!/usr/bin/env bash
# Refreshes the report screenshots in docs/images/ (README.md and docs/report.md show them) from
# the browser test's: builds the parafit command, runs tests/report/browser_test.sh, copies its
# screenshots of a fit, a batch and a training run.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build} TARGETS=parafit_cli scripts/build.sh >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tests/report/browser_test.sh "${BUILD_DIR:-build}/apps/parafit/parafit" "$work"
for name in fit batch train; do cp "$work/$name.png" "docs/images/report-$name.png"; done
echo "docs/images/report-{fit,batch,train}.png refreshed"
