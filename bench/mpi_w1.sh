#!/usr/bin/env bash
# W1 under mpirun: 10,000,000 rows of y = 2.5 exp(-1.3 x) + 0.5 + N(0, 0.05^2) read from .npy,
# fitted with exp-decay from (1, 1, 0) on 1 rank x 1 thread, 2 ranks x 1 thread and 1 rank x 2
# threads. Prints wall time, time per iteration, bytes all-reduced per data pass, peak memory per
# rank and scaling efficiency; then the alpha-beta figures of every collective (bench_collectives) and the
# load time of the same data from CSV and from .npy, sharded across 2 ranks (bench_load).
#
#   bench/mpi_w1.sh [rows]        (build first: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-10000000}
P=build/apps/parafit/parafit
work=$(mktemp -d /tmp/parafit-mpi-w1.XXXXXX)
trap 'rm -rf "$work"' EXIT
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# --bind-to none: Open MPI binds each of up to 2 ranks to one core by default, which would hold
# "1 rank x 2 threads" to a single core; unbound, the OS places ranks and threads alike.
mpi() { mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$@"; }
field() { grep -m1 "\"$1\"" "$2" | sed 's/.*: *//; s/,$//'; }

"$P" gen --model exp-decay --params a=2.5,b=1.3,c=0.5 --rows "$rows" --x-range 0:5 --noise 0.05 --seed 7 --out "$work/w1.csv"
"$P" convert --data "$work/w1.csv" --out "$work/w1" >/dev/null
echo "W1: $rows rows; CSV $(du -m "$work/w1.csv" | cut -f1) MB, .npy $(du -sm "$work/w1" | cut -f1) MB; $(nproc) cores"

declare -A wall per_iter
for run in "1 1" "2 1" "1 2"; do
  set -- $run
  ranks=$1 threads=$2 json="$work/r$1t$2.json"
  best=""
  for rep in 1 2 3; do
    mpi "$ranks" "$P" fit --data "$work/w1" --model exp-decay --start a=1,b=1,c=0 --threads "$threads" --json "$json" >/dev/null
    s=$(field seconds "$json")
    if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then best=$s; cp "$json" "$json.best"; fi
  done
  json="$json.best"
  iters=$(field iterations "$json"); passes=$(field data_passes "$json")
  bytes=$(field collective_bytes "$json"); colls=$(field collectives "$json")
  peaks=$(tr -d '\n ' < "$json" | sed 's/.*"peak_rss_bytes":\[\([^]]*\)\].*/\1/')
  wall[$ranks.$threads]=$best
  per_iter[$ranks.$threads]=$(awk "BEGIN{printf \"%.4f\", $best / $iters}")
  printf '%d rank(s) x %d thread(s): fit %.3f s (best of 3), %d iterations, %d data passes, %s s/iteration, %s collectives, %s bytes rank 0 passed to collectives in the whole run, peak RSS per rank (MB): %s\n' \
    "$ranks" "$threads" "$best" "$iters" "$passes" "${per_iter[$ranks.$threads]}" "$colls" "$bytes" \
    "$(echo "$peaks" | tr ',' '\n' | awk '{printf "%s%.0f", (NR>1?", ":""), $1/1e6}')"
done
# One LM data pass all-reduces the exact sums of 1 + q + q(q+1)/2 = 10 values for q = 3 parameters:
# 10 x 69 int64 limbs + 10 doubles for non-finite values, and one int64 allgathered to agree on success.
echo "bytes a rank passes to collectives per data pass (q = 3): $((10 * 69 * 8 + 10 * 8)) all-reduced + 8 allgathered"
awk -v t1="${wall[1.1]}" -v t2="${wall[2.1]}" -v tt="${wall[1.2]}" 'BEGIN{
  printf "scaling efficiency: 2 ranks x 1 thread %.0f%%, 1 rank x 2 threads %.0f%%; 2 ranks / 2 threads time ratio %.2f\n",
         100*t1/(2*t2), 100*t1/(2*tt), t2/tt }'
echo "--- cost of each collective (alpha-beta) on 2 ranks, and of the failure guard"
mpi 2 build/bench/bench_collectives
echo "--- loading the same data (bench_load: CSV vs .npy, whole and 2 shards)"
build/bench/bench_load "$rows" 2>/dev/null || echo "(bench_load not built)"
