#!/usr/bin/env bash
# W3 on 1 and 2 MPI ranks, with the optimizer state replicated and sharded (ZeRO-1), rounds in
# alternating order so that the machine's drift hits every configuration alike; also the machine's
# own 2-process ceiling (a compute-bound loop) in the same run. Prints every run and a summary of
# medians and bests, and the ratios to 1 rank x 1 thread.
#
#   bench/zero1_w3.sh [rounds] [rows]      (defaults 5, 1000000; needs build/bench/bench_w3_mpi)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
rows=${2:-1000000}
bin=build/bench/bench_w3_mpi
[ -x "$bin" ] || { echo "zero1_w3.sh: build $bin first (scripts/build.sh)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
# --bind-to none: Open MPI would otherwise pin each rank to one core (bench/mpi_w1.sh).
run() { mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$@"; }

echo "ZeRO-1 on W3, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
configs=("1 off 1" "2 off 1" "2 on 1" "1 off 2")
declare -A samples
for ((round = 1; round <= rounds; ++round)); do
  order=("${configs[@]}")
  if ((round % 2 == 0)); then order=("${configs[3]}" "${configs[2]}" "${configs[1]}" "${configs[0]}"); fi
  for c in "${order[@]}"; do
    read -r np shard threads <<<"$c"
    line=$(run "$np" "$bin" "$rows" "$shard" "$threads" | grep '^W3 ')
    echo "round $round: $line"
    sps=$(sed -E 's/.*: ([0-9]+) samples\/s.*/\1/' <<<"$line")
    samples["$c"]+="$sps "
  done
  echo "round $round: $(run 2 "$bin" ceiling)"
done

stat() {  # values... -> "median best"
  printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; print m, v[NR]}'
}
echo
echo "samples/s over $rounds rounds (median, best) and ratio of medians to 1 rank x 1 thread:"
read -r base _ <<<"$(stat ${samples["1 off 1"]})"
for c in "${configs[@]}"; do
  read -r np shard threads <<<"$c"
  read -r med best <<<"$(stat ${samples[$c]})"
  label="$np rank(s) x $threads thread(s), optimizer $([ "$shard" = on ] && echo sharded || echo replicated)"
  printf '  %-52s median %9.0f  best %9.0f  x%.2f\n' "$label" "$med" "$best" "$(echo "$med / $base" | bc -l)"
done
