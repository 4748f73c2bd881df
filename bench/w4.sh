#!/usr/bin/env bash
# W4 (issue 12): the wide MLP 16-2048-2048-2048-1 on 1 and 2 ranks of 1 thread each, in one run:
# replicated (data parallel) on 1 and 2 ranks, --tensor-parallel 2, and --pipeline-stages 2 with
# M = 4, 8, 16 under each schedule (and 1F1B with --recompute at M = 16), REPS rounds round-robin,
# beside PyTorch on 1 thread (bench/compare/w4_torch.py, bench-only) and the machine's 2-process
# ceiling. Prints every run's lines (bench_w4's figures per rank), then the medians.
#
#   bench/w4.sh            (after building bench_w4: cmake --build build --target bench_w4)
#
# Environment: ROWS (default 5120: 20 steps of 256), REPS (default 3), BUILD (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-5120}
REPS=${REPS:-3}
BUILD=${BUILD:-build}
bench=$BUILD/bench/bench_w4
[ -x "$bench" ] || { echo "w4.sh: build $bench first (cmake --build $BUILD --target bench_w4)" >&2; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi() { mpirun --oversubscribe --bind-to none -np "$@"; }
have_torch=0
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then have_torch=1; else scripts/setup-bench.sh && have_torch=1; fi
out=$(mktemp /tmp/parafit-w4.XXXXXX)
trap 'rm -f "$out"' EXIT
{
  echo "# W4 $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, ROWS=$ROWS REPS=$REPS"
  echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); $("$BUILD"/bench/bench_w3 0 | grep -m1 '^CPU:' | sed 's/^CPU: [^;]*; //')"
  mpi 2 "$bench" ceiling
} | tee "$out"
configs=("1 replicated" "2 replicated" "2 tensor")
for m in 4 8 16; do for s in 1f1b gpipe; do configs+=("2 pipeline $m $s"); done; done
configs+=("2 pipeline 16 1f1b recompute")
for rep in $(seq "$REPS"); do
  for c in "${configs[@]}"; do
    read -r np rest <<<"$c"
    mpi "$np" "$bench" "$ROWS" $rest | tee -a "$out"
  done
  [ "$have_torch" = 1 ] && /usr/bin/python3 bench/compare/w4_torch.py --steps $((ROWS / 256)) | tee -a "$out"
done
echo
echo "== medians over $REPS rounds (samples/s; s/step)"
/usr/bin/python3 - "$out" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    m = re.match(r"W4 (.*?): (\d+) samples/s, ([\d.]+) s/step", line)
    if m: runs.setdefault(m.group(1), []).append((float(m.group(2)), float(m.group(3))))
    m = re.match(r"tool=pytorch .*samples_per_s=(\d+) step_seconds=([\d.]+)", line)
    if m: runs.setdefault("pytorch 1 thread", []).append((float(m.group(1)), float(m.group(2))))
base = statistics.median(r[0] for r in runs.get("replicated D=1", [(1, 1)]))
for name, r in runs.items():
    sps = statistics.median(x[0] for x in r)
    print(f"{name:32s} {sps:8.0f} samples/s  {statistics.median(x[1] for x in r):.4f} s/step  "
          f"x{sps / base:.2f} of replicated D=1  (best {max(x[0] for x in r):.0f})")
PY
