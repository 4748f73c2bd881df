#!/usr/bin/env bash
# Records expected/ from a parafit binary. Run only with the build of the commit whose bits are the
# reference (it was 93495b2, before the parallel-layer redesign): record.sh PARAFIT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$here/expected"
"$here/run.sh" "$1" "$here/expected"
