#!/usr/bin/env bash
# Runs the W3 tool comparison (MLP training; see bench/compare/README.md): installs the bench-only
# packages, writes W3 once as a .npy directory in a temporary folder, then runs every
# configuration REPS times, round-robin (so drift on a busy machine hits all of them alike), and
# prints each raw result line and a table of medians.
#
#   bench/compare/run_w3.sh
#
# Environment:
#   ROWS     rows of W3 (default 1000000)
#   REPS     runs per configuration, one epoch each; the table shows the median (default 3)
#   SEED     data seed for w3_data.py (default 20261203)
#   PYTHON   interpreter with Debian's torch/sklearn/numpy (default /usr/bin/python3)
#   PARAFIT  parafit CLI (default build/apps/parafit/parafit); its runs are skipped when it is
#            not built
#   CONFIGS  the configurations to run, space-separated (default: all of parafit_t1 parafit_t2
#            parafit_mpi2 pytorch_t1 pytorch_t2 pytorch_ddp2 sklearn_t1); e.g.
#            CONFIGS="parafit_t1 pytorch_t1" for the single-thread comparison alone
#   PARAFIT_SIMD_TARGET  forces parafit's SIMD target (AVX3, AVX2, SSE4, SCALAR; default the best
#            this CPU runs): the header names the target, as build/bench/bench_w3 reports it
# The raw key=value lines and the table are also saved to bench-build/compare/w3-results-ROWS.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROWS=${ROWS:-1000000}
REPS=${REPS:-3}
SEED=${SEED:-20261203}
PYTHON=${PYTHON:-/usr/bin/python3}
PARAFIT=${PARAFIT:-build/apps/parafit/parafit}
here=bench/compare

scripts/setup-bench.sh  # python3-torch, python3-sklearn, python3-numpy: bench-only

work=$(mktemp -d /tmp/parafit-w3.XXXXXX)
trap 'rm -rf "$work"' EXIT
data=$work/w3
mkdir -p bench-build/compare
log=bench-build/compare/w3-results-$ROWS.txt
{
  echo "# W3 tool comparison, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, ROWS=$ROWS REPS=$REPS"
  echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
  # parafit's SIMD target, from bench_w3 (the same library and environment as the CLI).
  bench_w3=$(dirname "$PARAFIT")/../../bench/bench_w3
  if [ -x "$bench_w3" ]; then
    echo "# parafit $("$bench_w3" 0 | grep -m1 '^CPU:' | sed 's/^CPU: .*; //')"
  else
    echo "# parafit SIMD target: ${PARAFIT_SIMD_TARGET:-the best this CPU runs} (build bench_w3 to name it)"
  fi
} | tee "$log"
"$PYTHON" "$here/w3_data.py" --rows "$ROWS" --seed "$SEED" --out "$data" | tee -a "$log"

# ---- parafit hook --------------------------------------------------------------------------
# parafit's own runs (skipped, with a note, when the CLI is not built: `parafit train --help` must
# print train's usage). Fields read from --json (schema parafit-train/1): run.samples_per_s,
# summary.train_mse, run.seconds; samples_per_s falls back to rows / seconds.
have_parafit_train() { [ -x "$PARAFIT" ] && "$PARAFIT" train --help 2>/dev/null | grep -q '^Usage: .*train'; }

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
parafit_run() {  # ranks threads
  local ranks=$1 threads=$2 json="$work/parafit-r$1t$2.json"
  local cmd=("$PARAFIT" train --data "$data" --y y --model 'mlp:64,64' --activation tanh
             --optimizer adam --lr 1e-3 --batch 256 --epochs 1 --seed 1 --threads "$threads" --json "$json")
  rm -f "$json"
  if [ "$ranks" -gt 1 ]; then
    # --bind-to none as in bench/mpi_w1.sh: Open MPI would pin each rank to one core.
    mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$ranks" "${cmd[@]}" >&2
  else
    "${cmd[@]}" >&2
  fi
  "$PYTHON" - "$json" "$ranks" "$threads" "$ROWS" <<'EOF'
import json, sys
path, ranks, threads, rows = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
doc = json.load(open(path))
def find(d, key):  # first value of `key` anywhere in the document
    if isinstance(d, dict) and key in d:
        return d[key]
    for v in (d.values() if isinstance(d, dict) else d if isinstance(d, list) else ()):
        r = find(v, key)
        if r is not None:
            return r
    return None
sec, mse, sps = find(doc, "seconds"), find(doc, "train_mse"), find(doc, "samples_per_s")
if sps is None and sec:
    sps = rows / sec
fmt = lambda v, f: "NA" if v is None else format(v, f)
print(f"tool={'parafit_mpi' if ranks > 1 else 'parafit'} threads={threads} rows={rows} "
      f"samples_per_s={fmt(sps, '.0f')} train_mse={fmt(mse, '.6g')} seconds={fmt(sec, '.3f')} processes={ranks}")
EOF
}
# ---- end of parafit hook ---------------------------------------------------------------------

# Configurations: name, then its label for the table.
configs=()
if have_parafit_train; then
  configs+=(parafit_t1 parafit_t2 parafit_mpi2)
else
  echo "# parafit: '$PARAFIT train' not found (build it: scripts/build.sh); parafit rows skipped" | tee -a "$log"
fi
configs+=(pytorch_t1 pytorch_t2 pytorch_ddp2 sklearn_t1)
if [ -n "${CONFIGS:-}" ]; then  # keep the requested ones, in the default order
  wanted=" $CONFIGS "
  kept=()
  for c in "${configs[@]}"; do [[ $wanted == *" $c "* ]] && kept+=("$c"); done
  configs=("${kept[@]}")
fi

run_one() {
  case $1 in
    parafit_t1) parafit_run 1 1 ;;
    parafit_t2) parafit_run 1 2 ;;
    parafit_mpi2) parafit_run 2 1 ;;
    pytorch_t1) "$PYTHON" "$here/w3_torch.py" --data "$data" --threads 1 ;;
    pytorch_t2) "$PYTHON" "$here/w3_torch.py" --data "$data" --threads 2 ;;
    pytorch_ddp2) "$PYTHON" "$here/w3_torch.py" --data "$data" --ddp 2 ;;
    sklearn_t1) "$PYTHON" "$here/w3_sklearn.py" --data "$data" --threads 1 ;;
  esac
}

results=$work/results.tsv  # config \t key=value line \t rep
: >"$results"
for rep in $(seq "$REPS"); do
  for c in "${configs[@]}"; do
    echo "== rep $rep/$REPS: $c" >&2
    if line=$(run_one "$c" | grep '^tool=' | tail -1) && [ -n "$line" ]; then
      echo "$line" | tee -a "$log"
      printf '%s\t%s\t%s\n' "$c" "$line" "$rep" >>"$results"
    else
      echo "FAILED: $c (rep $rep)" | tee -a "$log"
    fi
  done
done

kv() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -1; }
# Median of the numbers on stdin (NA lines ignored); NA when there are none.
median() { { grep -v '^NA$' || true; } | sort -g | awk '{a[NR] = $1} END {
  if (NR == 0) print "NA"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# Table: medians over the successful reps; ratio = the configuration's median samples/s over the
# reference's: parafit on 2 threads when it ran, otherwise PyTorch on 1 thread.
ref=pytorch_t1
grep -q "^parafit_t2"$'\t'"tool=.*samples_per_s=[0-9]" "$results" && ref=parafit_t2
# Paired ratio: the median over the reps of (the configuration's samples/s in that rep / the
# reference's in the same rep). The runs of one rep follow each other within seconds, so this is
# the figure least moved by the machine's drift between reps.
paired() {
  awk -F'\t' -v c="$1" -v ref="$ref" '
    { split($2, kvs, " "); for (i in kvs) if (kvs[i] ~ /^samples_per_s=/) { v = substr(kvs[i], 15); if (v != "NA") sps[$1, $3] = v } }
    END { for (k in sps) { split(k, p, SUBSEP); if (p[1] == c && ((ref, p[2]) in sps) && sps[ref, p[2]] > 0) print sps[k] / sps[ref, p[2]] } }' \
    "$results" | median
}
table=$work/table.tsv
: >"$table"
for c in "${configs[@]}"; do
  lines=$(awk -F'\t' -v c="$c" '$1 == c {print $2}' "$results")
  n=0
  [ -n "$lines" ] && n=$(wc -l <<<"$lines")
  col() { [ "$n" -gt 0 ] && while read -r l; do kv "$l" "$1"; done <<<"$lines" | median || echo NA; }
  best() { [ "$n" -gt 0 ] && while read -r l; do kv "$l" samples_per_s; done <<<"$lines" | { grep -v '^NA$' || true; } |
             sort -g | tail -1 | grep . || echo NA; }
  first=$(head -1 <<<"$lines")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$(kv "$first" processes)" "$(kv "$first" threads)" \
    "$(col samples_per_s)" "$(col train_mse)" "$(col seconds)" "$n" "$(kv "$first" tool)" "$(best)" "$(paired "$c")" \
    >>"$table"
done
{
  echo
  awk -F'\t' -v rows="$ROWS" -v ref="$ref" '
    { line[NR] = $0; sps[$1] = $4; top[$1] = $9 }
    END {
      printf "W3, %d rows, MLP 16-64-64-1 tanh, Adam 1e-3, batch 256, 1 epoch: medians of the runs\n", rows
      printf "ratio = median samples/s / %s median samples/s; best = the fastest run, best ratio = best / %s best;\n", ref, ref
      printf "paired = the median over reps of the ratio to %s in the same rep (least moved by drift)\n", ref
      printf "%-14s %5s %7s %13s %8s %11s %9s %4s %13s %10s %7s\n", "config", "procs", "threads", "samples_per_s", "ratio", "train_mse", "seconds", "runs", "best", "best ratio", "paired"
      for (i = 1; i <= NR; i++) {
        split(line[i], f, "\t")
        ratio = (f[4] != "NA" && sps[ref] != "NA" && sps[ref] > 0) ? sprintf("%.2f", f[4] / sps[ref]) : "-"
        bratio = (f[9] != "NA" && top[ref] != "NA" && top[ref] > 0) ? sprintf("%.2f", f[9] / top[ref]) : "-"
        pratio = (f[10] != "NA" && f[10] != "") ? sprintf("%.2f", f[10]) : "-"
        printf "%-14s %5s %7s %13s %8s %11s %9s %4s %13s %10s %7s\n", f[1], (f[2] == "" ? 1 : f[2]), f[3], f[4], ratio, f[5], f[6], f[7], f[9], bratio, pratio
      }
    }' "$table"
} | tee -a "$log"
echo "(saved to $log)" >&2
