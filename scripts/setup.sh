#!/usr/bin/env bash
# Installs the Debian 12 packages parafit needs to build (the main job: scripts/quickstart.sh) and,
# with --test, also those only the tests need (scripts/test.sh). Bench-only packages are in
# scripts/setup-bench.sh.
# Idempotent: when everything is present it prints nothing and takes well under a second.
# Usage: scripts/setup.sh [--test]
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libeigen3-dev libcli11-dev nlohmann-json3-dev libfmt-dev libfast-float-dev libhwy-dev
  # The MPI backend (src/parallel/mpi_communicator.cpp): parafit runs under mpirun.
  libopenmpi-dev openmpi-bin
  # The charts of --report (src/report/): dygraphs, compiled into the library and inlined into the HTML.
  libjs-dygraphs
)
if [ "${1:-}" = --test ]; then
  packages+=(
    libgtest-dev libgmock-dev
    # The fuzzers and sanitizer builds (tests/fuzz/run.sh, scripts/sanitize.sh): clang, its
    # libFuzzer/sanitizer runtimes, and its OpenMP runtime with Archer (libarcher.so, for TSan).
    clang libclang-rt-14-dev libomp-dev
    # Keeps compiled objects between runs of scripts/test.sh (the CI): three builds of everything
    # otherwise take most of its time.
    ccache
    # The report's browser test (tests/report/browser_test.sh) renders reports in headless Chromium.
    chromium
  )
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
