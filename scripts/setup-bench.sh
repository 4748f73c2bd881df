#!/usr/bin/env bash
# Installs the Debian 12 packages that only the tool comparison in bench/compare needs
# (GSL, Ceres Solver with Eigen/glog/gflags, NumPy, SciPy; for W3 PyTorch and scikit-learn).
# They are not part of parafit's build: scripts/setup.sh does not install them and neither the
# main build nor CI uses them.
# Idempotent: when everything is present it prints nothing and takes well under a second;
# `apt-get update` runs only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake g++
  libgsl-dev libceres-dev
  python3 python3-numpy python3-scipy
  # W3 (MLP training, bench/compare/w3_*.py): Debian's PyTorch 1.13 (CPU) and scikit-learn
  python3-torch python3-sklearn python3-threadpoolctl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup-bench: installing ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
