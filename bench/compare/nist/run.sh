#!/usr/bin/env bash
# Runs the NIST StRD accuracy comparison (see bench/compare/nist/README.md): installs the bench-only
# packages, builds nist_ceres and nist_gsl into bench-build/compare-nist, builds parafit's
# nist_table with the main build (build/), runs every tool on the 54 fits (27 problems x 2 starts)
# and prints each per-fit table and a summary table.
#
#   bench/compare/nist/run.sh
#
# Environment:
#   PYTHON         interpreter with NumPy and SciPy (default /usr/bin/python3, Debian's)
#   DATA           folder of the .dat files (default tests/data/nist)
#   PARAFIT_BUILD  0: do not configure/build build/; run build/tests/nist/nist_table if present
# Everything printed is also saved to bench-build/compare-nist/results.txt; each program's own
# output (and stderr, e.g. Ceres's glog warnings) to bench-build/compare-nist/<tool>.out / .err.
# Exits 1 if a program failed (for example a model that does not reproduce its certified RSS).
set -euo pipefail
cd "$(dirname "$0")/../../.."

PYTHON=${PYTHON:-/usr/bin/python3}
DATA=${DATA:-tests/data/nist}
PARAFIT_BUILD=${PARAFIT_BUILD:-1}
jobs=$(nproc 2>/dev/null || echo 2)
out=bench-build/compare-nist

scripts/setup.sh        # parafit's own build dependencies (no-op when present)
scripts/setup-bench.sh  # GSL, Ceres, NumPy, SciPy: bench-only

echo "== building the comparison programs ($out)" >&2
cmake -S bench/compare/nist -B "$out" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$out" -j"$jobs" >/dev/null

parafit_table=build/tests/nist/nist_table
parafit_note=""
if [ "$PARAFIT_BUILD" != 0 ]; then
  echo "== building parafit's nist_table (build/)" >&2
  if ! cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null; then
    parafit_note="main build failed to configure"
  elif ! grep -qw nist_table <<<"$(cmake --build build --target help 2>/dev/null)"; then
    parafit_note="the main build has no nist_table target yet (tests/nist/)"
  elif ! cmake --build build --target nist_table -j"$jobs" >/dev/null; then
    parafit_note="building nist_table failed"
  fi
fi

log=$out/results.txt
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
: >"$log"
{
  echo "# NIST StRD accuracy comparison, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores"
  echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "# data: $DATA (27 problems x 2 starts = 54 fits); LRE = -log10(|est-cert|/|cert|), capped at 11"
} | tee -a "$log"

failed=0
# run_tool FILE_STEM COMMAND...: prints the program's table (its formula checks condensed to one
# line unless one fails) and adds its RESULT line to the summary.
run_tool() {
  local stem=$1
  shift
  echo "== $*" >&2
  local rc=0
  "$@" >"$out/$stem.out" 2>"$out/$stem.err" || rc=$?
  {
    echo
    local checks bad
    checks=$(grep -c '^check .* ok' "$out/$stem.out" || true)
    bad=$(grep '^check' "$out/$stem.out" | grep -v ' ok' || true)
    echo "[$stem] formula checks passed: $checks of 27 (RSS at the certified values)"
    if [ -n "$bad" ]; then echo "$bad"; fi
    grep -v '^check' "$out/$stem.out" | grep -v '^RESULT' || true
    local nerr
    nerr=$(grep -c . "$out/$stem.err" || true)
    if [ "$nerr" -gt 0 ]; then echo "($nerr lines on stderr, in $out/$stem.err)"; fi
  } | tee -a "$log"
  local line
  line=$(grep '^RESULT ' "$out/$stem.out" | tail -1 || true)
  if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
    echo "FAILED (exit $rc): $* — see $out/$stem.out and $out/$stem.err" | tee -a "$log"
    tail -5 "$out/$stem.err" | tee -a "$log"
    printf '%s\tFAILED\t-\t-\t-\t-\n' "$stem" >>"$summary"
    failed=1
    return 0
  fi
  kv() { tr ' ' '\n' <<<"$line" | sed -n "s/^$1=//p" | head -1; }
  printf '%s\t%s/%s\t%s/%s\t%s/%s\t%s\t%s\n' "$(sed 's/.* tool=//' <<<"$line")" \
    "$(kv at4)" "$(kv total)" "$(kv at6)" "$(kv total)" "$(kv at8)" "$(kv total)" \
    "$(kv false4)" "$(kv false6)" >>"$summary"
}

# parafit's table: rows "problem start level param se RSS iter termination"; a termination ending
# in "(not converged)" is a reported failure, anything else reported success.
run_parafit() {
  if [ ! -x "$parafit_table" ]; then
    echo "== parafit: $parafit_table not found (${parafit_note:-not built}); skipped" | tee -a "$log" >&2
    printf 'parafit (skipped: %s)\t-\t-\t-\t-\t-\n' "${parafit_note:-not built}" >>"$summary"
    return 0
  fi
  local label="parafit nist_table (parafit::fit, default options)"
  if [ -n "$parafit_note" ]; then
    label="parafit nist_table, STALE binary ($parafit_note)"
    echo "== WARNING: $parafit_note; running the existing, possibly stale $parafit_table" | tee -a "$log" >&2
  fi
  echo "== $parafit_table $DATA" >&2
  local rc=0
  "$parafit_table" "$DATA" >"$out/parafit.out" 2>"$out/parafit.err" || rc=$?
  { echo; cat "$out/parafit.out"; } | tee -a "$log"
  if [ "$rc" -ne 0 ] || ! grep -q '^fits with min parameter LRE' "$out/parafit.out"; then
    echo "FAILED (exit $rc): $parafit_table" | tee -a "$log"
    printf '%s\tFAILED\t-\t-\t-\t-\n' "$label" >>"$summary"
    failed=1
    return 0
  fi
  awk -v label="$label" '
    $2 ~ /^[12]$/ && NF >= 8 && $4 ~ /^[0-9.]+$/ {
      total++; p = $4 + 0; ok = ($0 !~ /\(not converged\)/)
      at4 += p >= 4; at6 += p >= 6; at8 += p >= 8
      f4 += ok && p < 4; f6 += ok && p < 6
    }
    END { printf "%s\t%d/%d\t%d/%d\t%d/%d\t%d\t%d\n", label, at4, total, at6, total, at8, total, f4, f6 }
  ' "$out/parafit.out" >>"$summary"
}

run_parafit
run_tool ceres-tight "$out/nist_ceres" tight "$DATA"
run_tool ceres-default "$out/nist_ceres" default "$DATA"
run_tool gsl-exact "$out/nist_gsl" exact "$DATA"
run_tool gsl-fd "$out/nist_gsl" fd "$DATA"
run_tool scipy-least_squares "$PYTHON" bench/compare/nist/nist_scipy.py least_squares "$DATA"
run_tool scipy-least_squares-10000 "$PYTHON" bench/compare/nist/nist_scipy.py least_squares --max-nfev 10000 "$DATA"
run_tool scipy-curve_fit "$PYTHON" bench/compare/nist/nist_scipy.py curve_fit "$DATA"

{
  echo
  echo "Summary: fits (of 54) whose every parameter matches the certified value to >= k digits"
  echo "(min LRE >= k); false conv. = the tool reported success but min LRE < 4 (and, after the slash, < 6)"
  awk -F'\t' '
    BEGIN { printf "%-76s %6s %6s %6s  %s\n", "tool", ">=4", ">=6", ">=8", "false conv. (<4 / <6)" }
    { fc = ($5 == "-" || $5 == "") ? "-" : $5 " / " $6
      printf "%-76s %6s %6s %6s  %s\n", $1, $2, $3, $4, fc }' "$summary"
} | tee -a "$log"
echo "(saved to $log)" >&2
exit "$failed"
