#!/usr/bin/env bash
# W5 (issue 11): time to reach a training MSE of 0.002 on W3 with every gradient exchange, with and
# without a straggler, and PyTorch DDP (Gloo) beside it as the anchor — all in one run.
#
#   bench/w5.sh                         # 4 and 2 workers, no straggler and --slow 1:2
#   WORKERS="4" REPS=2 bench/w5.sh
#
# Each configuration runs REPS times, round-robin; the table shows the median time to target and
# its ratio to sync's with the same workers and straggler. Workers are MPI ranks of 1 thread
# (sync, local:H; ssp:S adds one server rank), or the threads of one rank (hogwild, and
# sync-threads: sync on one rank's threads, hogwild's like-for-like baseline without a
# straggler; a straggler slows a rank or a Hogwild thread, and sync's threads have none). On a 2-core
# machine 4 workers are oversubscribed (the header says how many cores there are).
# Environment: ROWS (1000000), REPS (1), EPOCHS (the most epochs a run may take, 1), EVERY
# (evaluate every this many steps, 50), TARGET (0.002), WORKERS ("4 2"), MODES (default
# "sync ssp:1 ssp:4 local:4 local:16 hogwild sync-threads ddp"), PYTHON (/usr/bin/python3).
# bench_w5 must be built (build/bench/bench_w5); the raw lines and the table are also saved to
# bench-build/w5-results.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
REPS=${REPS:-1}
EPOCHS=${EPOCHS:-1}
EVERY=${EVERY:-50}
TARGET=${TARGET:-0.002}
WORKERS=${WORKERS:-4 2}
MODES=${MODES:-sync ssp:1 ssp:4 local:4 local:16 hogwild sync-threads ddp}
PYTHON=${PYTHON:-/usr/bin/python3}
W5=build/bench/bench_w5
[ -x "$W5" ] || { echo "bench/w5.sh: build $W5 first (scripts/build.sh -DPARAFIT_BUILD_BENCH=ON)" >&2; exit 1; }
case " $MODES " in *" ddp "*) scripts/setup-bench.sh ;; esac  # PyTorch: bench-only

work=$(mktemp -d /tmp/parafit-w5.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p bench-build
log=bench-build/w5-results.txt
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
{
  echo "# W5, $(date -u +%Y-%m-%dT%H:%M:%SZ): $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')); load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# ROWS=$ROWS REPS=$REPS EPOCHS=$EPOCHS EVERY=$EVERY TARGET=$TARGET; workers beyond $(nproc) are oversubscribed"
} | tee "$log"
"$PYTHON" bench/compare/w3_data.py --rows "$ROWS" --seed 20261203 --out "$work/w3" | tee -a "$log"

run() {  # mode workers slow
  local mode=$1 w=$2 slow=$3 args=(--data "$work/w3" --target "$TARGET" --every "$EVERY" --epochs "$EPOCHS")
  [ "$slow" != none ] && args+=(--slow "$slow")
  case $mode in
    ddp) "$PYTHON" bench/compare/w5_torch.py "${args[@]}" --ddp "$w" ;;
    hogwild) mpirun --oversubscribe --bind-to none -np 1 "$W5" "${args[@]}" --sync hogwild --threads "$w" ;;
    sync-threads)
      [ "$slow" != none ] && return 0  # no straggler to slow among sync's threads
      mpirun --oversubscribe --bind-to none -np 1 "$W5" "${args[@]}" --sync sync --threads "$w" | sed 's/sync=sync/sync=sync-threads/' ;;
    ssp:*) mpirun --oversubscribe --bind-to none -np $((w + 1)) "$W5" "${args[@]}" --sync "$mode" --servers 1 ;;
    *) mpirun --oversubscribe --bind-to none -np "$w" "$W5" "${args[@]}" --sync "$mode" ;;
  esac
}

results=$work/results.txt
: >"$results"
for rep in $(seq "$REPS"); do
  for w in $WORKERS; do
    for slow in none 1:2; do
      for mode in $MODES; do
        echo "== rep $rep: $mode, $w workers, straggler $slow" >&2
        [ "$mode" = sync-threads ] && [ "$slow" != none ] && continue
        if line=$(run "$mode" "$w" "$slow" 2>&1 | grep '^tool=' | tail -1) && [ -n "$line" ]; then
          echo "$line" | tee -a "$log"
          echo "$line" >>"$results"
        else
          echo "FAILED: $mode $w $slow (rep $rep)" | tee -a "$log"
        fi
      done
    done
  done
done

"$PYTHON" - "$results" <<'EOF' | tee -a "$log"
import statistics, sys
rows = [dict(kv.split("=", 1) for kv in line.split()) for line in open(sys.argv[1]) if line.strip()]
groups = {}
for r in rows:
    groups.setdefault((r["sync"], int(r["workers"]), r["slow"]), []).append(r)
def median(xs):
    return statistics.median(xs) if xs else float("nan")
print()
print("W5: time to a training MSE of 0.002 on a fixed 20,000-row sample (rank 0's training time, evaluations excluded)")
print("ratio = sync's median time / this median time, same workers and straggler (> 1: sooner than sync; sync on")
print("MPI ranks, the issue's baseline); vs thr = sync-threads' time without a straggler / this time (hogwild's")
print("like-for-like baseline: the same threads of one process); slowdown = this mode's time with the straggler / without")
print(f"{'mode':<12} {'workers':>7} {'straggler':>9} {'reached':>8} {'s to target':>11} {'ratio':>6} {'vs thr':>6} {'slowdown':>8} {'steps':>6} {'stale mean/max':>14} {'runs':>4}")
for (mode, w, slow), rs in sorted(groups.items(), key=lambda g: (-g[0][1], g[0][2], g[0][0])):
    reached = [r for r in rs if r["reached"] == "yes"]
    t = median([float(r["seconds_to_target"]) for r in reached])
    steps = round(median([int(r["steps_to_target"]) for r in reached])) if reached else 0
    base = groups.get(("sync", w, slow), [])
    tb = median([float(r["seconds_to_target"]) for r in base if r["reached"] == "yes"])
    ratio = f"{tb / t:.2f}" if reached and tb == tb else "-"
    tt = median([float(r["seconds_to_target"]) for r in groups.get(("sync-threads", w, "none"), []) if r["reached"] == "yes"])
    vs_thr = f"{tt / t:.2f}" if reached and tt == tt and mode in ("hogwild", "sync-threads") else "-"
    calm = median([float(r["seconds_to_target"]) for r in groups.get((mode, w, "none"), []) if r["reached"] == "yes"])
    slowdown = f"{t / calm:.2f}" if reached and calm == calm and slow != "none" else "-"
    stale = f"{float(rs[0].get('staleness_mean', 0)):.2f}/{rs[0].get('staleness_max', 0)}" if "staleness_max" in rs[0] else "-"
    shown = f"{t:.3f}" if reached else f">{float(rs[0]['seconds_total']):.1f}"
    print(f"{mode:<12} {w:>7} {slow:>9} {len(reached)}/{len(rs):<6} {shown:>11} {ratio:>6} {vs_thr:>6} {slowdown:>8} {steps if reached else '-':>6} {stale:>14} {len(rs):>4}")
EOF
echo "(saved to $log)" >&2
