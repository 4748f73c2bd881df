#!/usr/bin/env bash
# Installs the Debian 12 packages parafit needs to build and test.
# Idempotent: when everything is present it prints nothing and takes well under a second.
# Usage: scripts/setup.sh
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libeigen3-dev libcli11-dev nlohmann-json3-dev libfmt-dev libfast-float-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # The fuzzers and sanitizer builds (tests/fuzz/run.sh, scripts/sanitize.sh): clang, its
  # libFuzzer/sanitizer runtimes, and its OpenMP runtime with Archer (libarcher.so, for TSan).
  clang libclang-rt-14-dev libomp-dev
  # The MPI backend (src/parallel/mpi_communicator.cpp) and its mpirun tests (tests/mpi/).
  libopenmpi-dev openmpi-bin
)

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
