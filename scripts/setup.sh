#!/usr/bin/env bash
# Installs the Debian 12 packages parafit needs to build (the main job: scripts/quickstart.sh); with
# --python, also those of the Python package (python/: pybind11, numpy); with --test, also those
# only the tests need (scripts/test.sh), the Python package's included. Bench-only packages are in
# scripts/setup-bench.sh.
# Idempotent: when everything is present it prints nothing and takes well under a second.
# Usage: scripts/setup.sh [--python | --test]
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libeigen3-dev libcli11-dev nlohmann-json3-dev libfmt-dev libfast-float-dev libhwy-dev
  # The MPI backend (src/parallel/mpi_communicator.cpp): parafit runs under mpirun.
  libopenmpi-dev openmpi-bin
  # The charts of --report (src/report/): dygraphs, compiled into the library and inlined into the HTML.
  libjs-dygraphs
)
python=(
  # The Python package (python/, -DPARAFIT_BUILD_PYTHON=ON): the module is built with pybind11 on
  # Debian's Python 3, and works on numpy arrays.
  python3-dev python3-pybind11 pybind11-dev python3-numpy
)
if [ "${1:-}" = --python ]; then
  packages+=("${python[@]}")
fi
if [ "${1:-}" = --test ]; then
  packages+=("${python[@]}"
    # The Python tests (python/tests): pytest, scipy (curve_fit's reference), scikit-learn
    # (check_estimator), mpi4py (mpirun with Python).
    python3-pytest python3-scipy python3-sklearn python3-mpi4py
    # (pandas: check_estimator also checks DataFrame input when pandas is there)
    python3-pandas
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
