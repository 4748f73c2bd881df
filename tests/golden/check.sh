#!/usr/bin/env bash
# The golden-output test: runs run.sh with the parafit under test and compares every output file,
# byte for byte (after normalize.sh's masking of times and memory), with expected/, which was
# recorded by the build before the parallel-layer redesign (record.sh). Usage: check.sh PARAFIT WORK_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/run.sh" "$1" "$2"
if ! diff -r "$here/expected" "$2" > "$2.diff"; then
  echo "golden outputs differ from tests/golden/expected (first lines of the diff):"
  head -40 "$2.diff"
  exit 1
fi
echo "golden outputs: $(ls "$here/expected" | wc -l) files identical"
