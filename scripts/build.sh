#!/usr/bin/env bash
# Configures and builds parafit (Release) in ./build, after installing what is missing.
# Extra arguments go to CMake's configure step, e.g. scripts/build.sh -DPARAFIT_WARNINGS_AS_ERRORS=ON
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$jobs"
