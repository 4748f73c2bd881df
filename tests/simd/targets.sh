#!/usr/bin/env bash
# The same bits on every SIMD target: runs the fit/train suite — the golden set (tests/golden/run.sh)
# and targets_run.sh's runs over every kernel — once per target this machine supports, each forced
# with PARAFIT_SIMD_TARGET, and compares the outputs byte for byte: the golden set against
# tests/golden/expected (recorded before parafit moved onto Highway), the rest against the best
# target's. Usage: targets.sh PARAFIT WORK_DIR
set -euo pipefail
parafit=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
work=$(cd "$work" && pwd)

# "available here: AVX3, AVX2, SSE4, SCALAR (...)" from --version, best first.
targets=$("$parafit" --version | sed -n 's/^available here: \([^(]*\) (.*/\1/p' | tr -d ',')
[ -n "$targets" ] || { echo "no SIMD targets in 'parafit --version'"; exit 1; }
echo "SIMD targets on this machine: $targets"
# The fallback without SIMD: SCALAR in GCC builds, EMU128 in clang builds.
case " $targets " in *" SCALAR "* | *" EMU128 "*) ;; *) echo "the fallback without SIMD is missing"; exit 1 ;; esac

status=0
best=
for t in $targets; do
  export PARAFIT_SIMD_TARGET=$t
  "$parafit" --version | grep -q "^SIMD target: $t " || { echo "$t: PARAFIT_SIMD_TARGET was not applied"; status=1; }
  "$here/../golden/run.sh" "$parafit" "$work/golden-$t"
  if diff -r "$here/../golden/expected" "$work/golden-$t" > "$work/golden-$t.diff"; then
    echo "$t: golden set identical to tests/golden/expected"
  else
    echo "$t: golden set differs from tests/golden/expected:"
    head -20 "$work/golden-$t.diff"
    status=1
  fi
  "$here/targets_run.sh" "$parafit" "$work/runs-$t"
  if [ -z "$best" ]; then
    best=$t
    echo "$t: $(ls "$work/runs-$t" | wc -l) outputs of targets_run.sh (the reference)"
  elif diff -r "$work/runs-$best" "$work/runs-$t" > "$work/runs-$t.diff"; then
    echo "$t: $(ls "$work/runs-$t" | wc -l) outputs identical to $best's"
  else
    echo "$t: outputs differ from $best's:"
    head -20 "$work/runs-$t.diff"
    status=1
  fi
done
exit $status
