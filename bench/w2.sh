#!/usr/bin/env bash
# W2 (issue 13): parafit's batch fits (bench_w2) beside Cpufit (bench/compare/cpufit_w2.cpp) on the
# same 100,000 Gaussian peaks, in one run, REPS rounds alternating the two, then the medians.
#
# Cpufit is not packaged: it is built here from ../shared/anchors/gpufit (the Gpufit project's
# Cpufit sources at commit a0bd66c, github.com/gpufit/Gpufit, MIT licence) into bench-build/cpufit,
# never into parafit's build.
#
#   bench/w2.sh          (after building bench_w2: cmake --build build --target bench_w2)
#
# Environment: FITS (default 100000), REPS (default 3), BUILD (default build),
#              ANCHORS (default ../shared/anchors).
set -euo pipefail
cd "$(dirname "$0")/.."
FITS=${FITS:-100000}
REPS=${REPS:-3}
BUILD=${BUILD:-build}
ANCHORS=${ANCHORS:-../shared/anchors}
bench=$BUILD/bench/bench_w2
[ -x "$bench" ] || { echo "w2.sh: build $bench first (cmake --build $BUILD --target bench_w2)" >&2; exit 2; }
src=$ANCHORS/gpufit
[ -f "$src/Cpufit/cpufit.h" ] || { echo "w2.sh: no Cpufit sources in $src (set ANCHORS)" >&2; exit 2; }
out=bench-build/cpufit
mkdir -p "$out"
if [ ! -x "$out/cpufit_w2" ] || [ bench/compare/cpufit_w2.cpp -nt "$out/cpufit_w2" ] || [ bench/w2_data.h -nt "$out/cpufit_w2" ]; then
  echo "== building Cpufit from $src (its README's flags)" >&2
  g++ -O3 -march=native -std=c++14 -fPIC -shared -o "$out/libCpufit.so" \
    "$src"/Cpufit/cpufit.cpp "$src"/Cpufit/info.cpp "$src"/Cpufit/lm_fit.cpp "$src"/Cpufit/lm_fit_cpp.cpp \
    "$src"/Cpufit/interface.cpp
  g++ -O3 -march=native -std=c++20 -I"$src/Cpufit" -o "$out/cpufit_w2" bench/compare/cpufit_w2.cpp \
    -L"$out" -lCpufit -Wl,-rpath,"$(cd "$out" && pwd)"
fi
log=$(mktemp /tmp/parafit-w2.XXXXXX)
trap 'rm -f "$log"' EXIT
{
  echo "# W2 $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, FITS=$FITS REPS=$REPS"
  echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
} | tee "$log"
for rep in $(seq "$REPS"); do
  "$bench" "$FITS" 1 | tee -a "$log"
  "$out/cpufit_w2" "$FITS" 1 | tee -a "$log"
done
echo
echo "== medians over $REPS rounds"
/usr/bin/python3 - "$log" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    if not line.startswith("tool="): continue
    kv = dict(p.split("=", 1) for p in line.split())
    runs.setdefault((kv["estimator"], kv["threads"], kv["tool"]), []).append(kv)
med = lambda rs, k: statistics.median(float(r[k]) for r in rs)
for (est, th, tool), rs in sorted(runs.items()):
    print(f"{est:12s} {th} thread(s) {tool:20s} {med(rs, 'fits_per_s'):10.0f} fits/s (best {max(float(r['fits_per_s']) for r in rs):.0f})"
          f"  converged {med(rs, 'converged'):.4f}  iterations {med(rs, 'mean_iterations'):.2f}  median rel. error a {med(rs, 'err_a'):.2e} mu {med(rs, 'err_mu'):.2e}"
          f" s {med(rs, 'err_s'):.2e} c {med(rs, 'err_c'):.2e}")
for est in ("lse", "poisson-mle"):
    for th in ("1", "2"):
        for tool in ("parafit", "parafit-tol1e-4", "parafit-f32-tol1e-4"):
            p, c = runs.get((est, th, tool)), runs.get((est, th, "cpufit"))
            if p and c:
                print(f"{est} on {th} thread(s): {tool} / Cpufit = {med(p, 'fits_per_s') / med(c, 'fits_per_s'):.2f}x"
                      f" in fits/s, {med(p, 'fits_per_s') * med(p, 'mean_iterations') / (med(c, 'fits_per_s') * med(c, 'mean_iterations')):.2f}x in iterations/s")
PY
