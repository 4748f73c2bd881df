#!/usr/bin/env bash
# Configures and builds parafit (Release) after installing what is missing.
# Extra arguments go to CMake's configure step, e.g. scripts/build.sh -DPARAFIT_WARNINGS_AS_ERRORS=ON
# BUILD_DIR (default build) is the build directory; TARGETS (default: all) the targets to build,
# e.g. TARGETS=parafit_cli for the command alone.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)
dir=${BUILD_DIR:-build}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
targets=()
for t in ${TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$dir" -j"$jobs" "${targets[@]}"
