#!/usr/bin/env bash
# Runs the W1 tool comparison (see bench/compare/README.md): installs the bench-only packages,
# builds the comparison programs into bench-build/compare and parafit's bench_w1 into build/,
# runs every tool one after another (parafit first and last, to expose drift) and prints a table.
#
#   bench/compare/run.sh
#
# Environment:
#   ROWS           rows of W1 (default 10000000)
#   REPS           fits per program; each reports the median and the best (default 3)
#   AUTODIFF_ROWS  rows for the Ceres one-block-per-row case, if memory is short (default ROWS)
#   AUTODIFF_REPS  fits for that case (default 1; its problem is built once)
#   PYTHON         interpreter with NumPy and SciPy (default /usr/bin/python3, Debian's)
# The raw key=value lines and the table are also saved to bench-build/compare/results-ROWS.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROWS=${ROWS:-10000000}
REPS=${REPS:-3}
AUTODIFF_ROWS=${AUTODIFF_ROWS:-$ROWS}
AUTODIFF_REPS=${AUTODIFF_REPS:-1}
PYTHON=${PYTHON:-/usr/bin/python3}
jobs=$(nproc 2>/dev/null || echo 2)
out=bench-build/compare

scripts/setup.sh        # parafit's own build dependencies (no-op when present)
scripts/setup-bench.sh  # GSL, Ceres, NumPy, SciPy: bench-only

echo "== building the comparison programs ($out)" >&2
cmake -S bench/compare -B "$out" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$out" -j"$jobs" >/dev/null
echo "== building parafit's bench_w1 (build/)" >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target bench_w1 -j"$jobs" >/dev/null

log="$out/results-$ROWS.txt"
rows_tsv=$(mktemp)
trap 'rm -f "$rows_tsv"' EXIT
: >"$log"
{
  echo "# W1 tool comparison, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, ROWS=$ROWS REPS=$REPS"
  echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$log"

# key=value lookup in one result line.
kv() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -1; }

# parafit: bench_w1 prints "parafit N thread(s): fit X s (...), K iterations, ..." (best of 3) and
# "peak memory (whole process, VmHWM): M MB ...".
run_parafit() {
  local label=$1 text
  echo "== parafit ($label): build/bench/bench_w1 $ROWS 2" >&2
  if ! text=$(build/bench/bench_w1 "$ROWS" 2 2>&1); then
    echo "$text" | tee -a "$log"
    printf 'parafit (%s)\t-\tfailed\t-\t-\t-\t-\t\n' "$label" >>"$rows_tsv"
    return 0
  fi
  echo "$text" | sed 's/^/  /' | tee -a "$log" >&2
  local peak
  peak=$(sed -n 's/^peak memory (whole process, VmHWM): \([0-9.]*\) MB.*/\1/p' <<<"$text")
  for t in 1 2; do
    local line s it
    line=$(grep -E "^parafit $t threads?: fit " <<<"$text" || true)
    s=$(sed -n 's/^parafit [0-9]* threads*: fit \([0-9.]*\) s.*/\1/p' <<<"$line")
    it=$(sed -n 's/.*, \([0-9]*\) iterations,.*/\1/p' <<<"$line")
    printf 'parafit (%s)\t%s\t-\t%s\t%s\t%s\t%s\t%s\n' "$label" "$t" "$s" "$it" "$peak" "$ROWS" \
      "best of 3 (bench_w1); peak is the whole bench_w1 process" >>"$rows_tsv"
  done
}

# Any other tool: one key=value line on stdout.
run_tool() {
  local note=$1
  shift
  echo "== $*" >&2
  local line
  if ! line=$("$@" | grep '^tool=' | tail -1) || [ -z "$line" ]; then
    echo "FAILED: $*" | tee -a "$log"
    printf '%s\t-\tfailed\t-\t-\t-\t-\t\n' "$(basename "$1") $2" >>"$rows_tsv"
    return 0
  fi
  echo "  $line" | tee -a "$log" >&2
  local extra=$note b
  b=$(kv "$line" build_seconds)
  [ -n "$b" ] && extra="build problem $(printf '%.2f' "$b") s (not in fit); $extra"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(kv "$line" tool)" "$(kv "$line" threads)" \
    "$(kv "$line" fit_seconds)" "$(kv "$line" min_seconds)" "$(kv "$line" iterations)" \
    "$(kv "$line" peak_MB)" "$(kv "$line" rows)" "$extra" >>"$rows_tsv"
}

run_parafit first
run_tool "LM trust region, More scaling, Cholesky, analytic J" "$out/w1_gsl" "$ROWS" "$REPS"
run_tool "64 blocks, analytic J, DENSE_NORMAL_CHOLESKY" "$out/w1_ceres_expert" "$ROWS" 2 "$REPS"
run_tool "64 blocks, analytic J, DENSE_NORMAL_CHOLESKY" "$out/w1_ceres_expert" "$ROWS" 1 "$REPS"
run_tool "defaults: lm (MINPACK lmdif), finite-difference J" "$PYTHON" bench/compare/w1_scipy.py curve_fit "$ROWS" "$REPS"
run_tool "default method trf, analytic J" "$PYTHON" bench/compare/w1_scipy.py least_squares "$ROWS" "$REPS"
run_tool "method=lm (MINPACK lmder), analytic J" "$PYTHON" bench/compare/w1_scipy.py least_squares "$ROWS" "$REPS" --method lm
run_tool "1 AutoDiff block per row, default options" "$out/w1_ceres_autodiff" "$AUTODIFF_ROWS" 2 "$AUTODIFF_REPS"
run_parafit last

# Table. Ratio = the tool's best fit time / parafit's 2-thread best (the better of its first and last
# run, each itself a best of 3; both are in the table, so drift shows);
# "median" is the median of the REPS fits (bench_w1 prints only its best).
{
  echo
  awk -F'\t' -v rows="$ROWS" '
    { line[NR] = $0; if ($1 ~ /^parafit/ && $2 == 2 && $4 ~ /^[0-9.]+$/ && (ref == 0 || $4 + 0 < ref)) ref = $4 + 0 }
    END {
      printf "W1, %d rows: fit time only (data in memory). ratio = best_s / parafit 2-thread best_s (%.3f s)\n", rows, ref
      printf "%-27s %7s %9s %9s %8s %6s %9s  %s\n", "tool", "threads", "median_s", "best_s", "ratio", "iters", "peak_MB", "notes"
      for (i = 1; i <= NR; i++) {
        split(line[i], f, "\t")
        ratio = (ref > 0 && f[4] != "" && f[4] != "-") ? sprintf("%.2f", f[4] / ref) : "-"
        note = f[8]
        if (f[7] != "" && f[7] != "-" && f[7] != rows) note = "ROWS=" f[7] " (not comparable); " note
        printf "%-27s %7s %9s %9s %8s %6s %9s  %s\n", f[1], f[2], f[3], f[4], ratio, f[5], f[6], note
      }
    }' "$rows_tsv"
} | tee -a "$log"
echo "(saved to $log)" >&2
