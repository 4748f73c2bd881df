#!/usr/bin/env bash
# The HTML reports in a real browser: renders a fit (one input, 100,000 rows: decimated), a fit of
# two inputs, a robust fit, a batch and two training runs (Adam on an MLP with validation; L-BFGS on
# a curve) in headless Chromium, and checks through the DOM (--dump-dom) that every chart drew all
# of its rows with no script error, then takes a screenshot of each (kept in WORK_DIR).
# Usage: browser_test.sh PARAFIT WORK_DIR [SCREENSHOT_DIR]
# Exit 77 (CTest: skipped) when Chromium is missing (scripts/setup.sh --test installs it).
set -euo pipefail
parafit=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$2
shots=${3:-$2}
root=$(cd "$(dirname "$0")/../.." && pwd)
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "SKIPPED: no chromium (Debian's chromium: scripts/setup.sh --test installs it)"
  exit 77
fi
mkdir -p "$work" "$shots"
work=$(cd "$work" && pwd)
shots=$(cd "$shots" && pwd)
cd "$work"

# Test data (awk's generator: the values differ between awk implementations; the checks do not
# depend on them).
awk 'BEGIN { srand(5); print "x1,x2,y";
  for (i = 0; i < 400; i++) { x1 = 4 * rand(); x2 = 2 * rand() - 1;
    printf "%.6f,%.6f,%.6f\n", x1, x2, 2 * exp(-0.5 * x1) + 0.3 * x2 + 0.02 * (rand() + rand() + rand() - 1.5) } }' > two.csv
awk 'BEGIN { srand(7); printf "y0"; for (j = 1; j < 32; j++) printf ",y%d", j; print "";
  for (k = 0; k < 1500; k++) { a = 800 + 400 * rand(); mu = 12 + 8 * rand(); s = 2 + 2 * rand();
    for (j = 0; j < 32; j++) { v = a * exp(-(j - mu) ^ 2 / (2 * s * s)) + 30;
      printf "%s%d", (j ? "," : ""), int(v + sqrt(v) * (rand() + rand() + rand() - 1.5) * 2 + 0.5) } print "" } }' > peaks.csv

status=0
run() {  # name, then the parafit arguments (the report goes to NAME.html)
  local name=$1
  shift
  if ! "$parafit" "$@" --report "$work/$name.html" > "$work/$name.out" 2> "$work/$name.err"; then
    echo "FAIL $name: parafit $* exited non-zero:"
    cat "$work/$name.err"
    status=1
    return 1
  fi
}

browse() {  # name: DOM and screenshot
  local name=$1
  local common=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars
                --user-data-dir="$work/profile-$name" --window-size=1200,2600)
  timeout 120 "$browser" "${common[@]}" --dump-dom "file://$work/$name.html" > "$work/$name.dom" 2> "$work/$name.browser.log" || {
    echo "FAIL $name: chromium --dump-dom failed:"
    tail -5 "$work/$name.browser.log"
    status=1
    return
  }
  timeout 120 "$browser" "${common[@]}" --screenshot="$shots/$name.png" "file://$work/$name.html" \
    >> "$work/$name.browser.log" 2>&1 || true
  local dom=$work/$name.dom
  local charts drawn
  charts=$(grep -o 'data-charts="[0-9]*"' "$dom" | head -1 | tr -dc 0-9)
  drawn=$(grep -o 'data-charts-drawn="[0-9]*"' "$dom" | head -1 | tr -dc 0-9)
  if [ -z "$charts" ] || [ "$charts" -eq 0 ] || [ "$charts" != "$drawn" ]; then
    echo "FAIL $name: ${drawn:-no} chart(s) drawn of ${charts:-none}"
    status=1
  fi
  # Each chart div: data-rows (given) and data-points (what dygraphs drew) must agree and be > 0.
  local bad=0 n=0 rows points
  while read -r tag; do
    n=$((n + 1))
    rows=$(sed -n 's/.*data-rows="\([0-9]*\)".*/\1/p' <<< "$tag")
    points=$(sed -n 's/.*data-points="\([0-9]*\)".*/\1/p' <<< "$tag")
    if [ -z "$points" ] || [ "$rows" != "$points" ] || [ "${rows:-0}" -eq 0 ]; then
      echo "FAIL $name: a chart was given ${rows:-no} rows and drew ${points:-none}"
      bad=1
    fi
  done < <(grep -o '<div class="chart" id="chart-[0-9]*"[^>]*>' "$dom")
  [ "$n" = "$charts" ] || { echo "FAIL $name: $n chart divs, $charts charts"; bad=1; }
  if grep -q '<pre id="parafit-errors">' "$dom" || grep -o '<pre id="parafit-errors"[^>]*>[^<]' "$dom" | grep -q .; then
    echo "FAIL $name: script errors:"
    sed -n 's/.*<pre id="parafit-errors"[^>]*>\([^<]*\)<.*/\1/p' "$dom"
    bad=1
  fi
  local size
  size=$(stat -c %s "$shots/$name.png" 2>/dev/null || echo 0)
  if [ "$size" -lt 20000 ]; then
    echo "FAIL $name: no screenshot (or a blank one: $size bytes)"
    bad=1
  fi
  [ "$bad" = 0 ] && echo "ok   $name: $charts charts drawn, every row, no script error; screenshot $size bytes"
  [ "$bad" = 0 ] || status=1
}

run fit fit --data "$root/examples/data/decay.csv" --model exp-decay && browse fit
run fit_two fit --data two.csv --model "a*exp(-b*x1) + c*x2" --start a=1,b=1,c=0 && browse fit_two
run fit_robust fit --data "$root/tests/data/robust/outliers.csv" --model exp-decay --start a=4,b=0.5,c=1.5 \
  --loss huber:0.2 && browse fit_robust
run batch batch --data peaks.csv --y-columns y0..y31 --model gauss --estimator poisson-mle --out "$work/peaks_fits.csv" &&
  browse batch
run train train --data "$root/tests/golden/input/mlp.csv" --model mlp:16,16 --epochs 6 --val-split 0.2 --threads 2 &&
  browse train
run train_lbfgs train --data "$root/examples/data/decay.csv" --model exp-decay --optimizer lbfgs --loss cauchy:0.1 &&
  browse train_lbfgs

# The checks themselves: a report whose charts cannot be drawn must fail them.
if [ -f "$work/fit.html" ]; then
  sed 's/new Dygraph(/new NoSuchChart(/' "$work/fit.html" > "$work/broken.html"
  saved=$status
  status=0
  browse broken > "$work/broken.check" || true
  if [ "$status" = 0 ]; then
    echo "FAIL the checks passed a report whose charts cannot be drawn:"
    cat "$work/broken.check"
    status=1
  else
    echo "ok   a report whose charts cannot be drawn fails the checks ($(grep -c FAIL "$work/broken.check") failures)"
    status=$saved
  fi
fi
exit $status
