#!/usr/bin/env bash
# Masks what measures time or memory in the golden outputs (JSON "run" timings, peak memory,
# epoch seconds in checkpoints): everything else must match bit for bit. Usage: normalize.sh DIR
set -euo pipefail
for f in "$1"/*.json "$1"/*.ckpt; do
  [ -e "$f" ] || continue
  sed -E -i \
    -e 's/"(seconds|samples_per_s)": ?[^,}]+/"\1": "masked"/g' \
    -e '/"(epoch_seconds|peak_rss_bytes)": \[$/,/^ *\],?$/{/\[$/!{/^ *\],?$/!d}}' \
    "$f"
done
