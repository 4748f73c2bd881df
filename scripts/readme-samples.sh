#!/usr/bin/env bash
# README.md's sample outputs come from the tool: this script checks them (the default, run by the
# CTest readme.samples) or rewrites them from the tool (--update). Usage:
#   scripts/readme-samples.sh PARAFIT [--update]
#
# Two kinds of sample are marked in README.md:
#   <!-- sample: ARGS -->      the fenced block that follows is the stdout of `parafit ARGS`, run
#                              from the repository root (nothing is masked: the summary has no
#                              timings).
#   <!-- sample-estimates -->  the fenced block that follows is a script of `$P gen ...` and
#                              `$P fit ...  # name value ...` lines; each fit's comment is its
#                              estimates to 5 significant digits (printf %.5g), after running the
#                              gen lines before it in a scratch folder.
# Exit status: 0 when every sample matches (or was updated), 1 with a diff otherwise.
set -euo pipefail
parafit=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
mode=${2:-check}
root=$(cd "$(dirname "$0")/.." && pwd)
readme=$root/README.md
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# "name value  name value" from a fit summary's parameter table.
estimates() {
  awk '/^Parameters:/ {on = 1; getline; next} /^---/ {on = 0} on {printf "%s%s %.5g", sep, $1, $2; sep = "  "}'
}

out=$scratch/README.md
: > "$out"
state=text     # text | want-fence | sample | want-fence-est | estimates
while IFS= read -r line || [ -n "$line" ]; do
  case $state in
    text)
      printf '%s\n' "$line" >> "$out"
      if [[ $line =~ ^\<!--\ sample:\ (.*)\ --\>$ ]]; then
        args=${BASH_REMATCH[1]}
        state=want-fence
      elif [[ $line == '<!-- sample-estimates -->' ]]; then
        state=want-fence-est
        work=$scratch/estimates
        rm -rf "$work" && mkdir -p "$work"
      fi
      ;;
    want-fence)
      printf '%s\n' "$line" >> "$out"
      [[ $line == '```'* ]] || { echo "README.md: a sample marker must be followed by a fenced block" >&2; exit 1; }
      # shellcheck disable=SC2086  # ARGS are written in README.md as a shell would read them
      (cd "$root" && eval "\"$parafit\" $args") >> "$out"
      state=sample
      ;;
    sample)
      # The old block's lines are dropped; the fence ends it.
      if [[ $line == '```' ]]; then printf '%s\n' "$line" >> "$out"; state=text; fi
      ;;
    want-fence-est)
      printf '%s\n' "$line" >> "$out"
      [[ $line == '```'* ]] || { echo "README.md: a sample marker must be followed by a fenced block" >&2; exit 1; }
      state=estimates
      ;;
    estimates)
      if [[ $line == '```' ]]; then printf '%s\n' "$line" >> "$out"; state=text; continue; fi
      if [[ $line == '$P gen '* ]]; then
        (cd "$work" && eval "\"$parafit\" ${line#\$P }") > /dev/null
        printf '%s\n' "$line" >> "$out"
      elif [[ $line == '$P fit '* ]]; then
        command=${line%%#*}
        command=${command%"${command##*[! ]}"}  # without trailing blanks
        got=$(cd "$work" && eval "\"$parafit\" ${command#\$P }" | estimates)
        printf '%-50s # %s\n' "$command" "$got" >> "$out"
      else
        printf '%s\n' "$line" >> "$out"
      fi
      ;;
  esac
done < "$readme"

if [ "$mode" = --update ]; then
  cp "$out" "$readme"
  echo "README.md samples regenerated"
  exit 0
fi
if ! diff -u "$readme" "$out"; then
  echo "README.md's samples differ from what the tool prints (run scripts/readme-samples.sh PARAFIT --update)" >&2
  exit 1
fi
echo "README.md samples match the tool"
