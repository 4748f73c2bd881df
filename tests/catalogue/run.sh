#!/usr/bin/env bash
# The error catalogue: runs every row of the table in docs/errors.md (between the catalogue
# markers) and checks, for each bad input, that
#   - the command exits with exactly the row's exit code,
#   - its standard error (or output) contains the row's message fragment,
#   - no file was created, changed or removed in its working directory,
#   - the message holds no raw control bytes.
# Each row runs in a fresh scratch directory holding a copy of tests/catalogue/inputs/; `parafit`,
# `parafit_testing` and `mpirun` (with the flags a root container needs) are on its PATH. A row's
# "Given" command, if any, runs first; the snapshot is taken after it.
#
#   tests/catalogue/run.sh PARAFIT PARAFIT_TESTING [ROW_REGEX]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
table="$here/../../docs/errors.md"
parafit=$(realpath "$1")
testing=$(realpath "$2")
only=${3:-}

work=$(mktemp -d "${TMPDIR:-/tmp}/parafit-catalogue.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/mpibin" "$work/session"
ln -s "$parafit" "$work/bin/parafit"
ln -s "$testing" "$work/bin/parafit_testing"
cat > "$work/mpibin/mpirun" <<'SH'
#!/usr/bin/env bash
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# A session directory base of its own: mpiruns of tests running in parallel can race to create
# Open MPI's default /tmp/ompi.<host>.<uid>.
export OMPI_MCA_orte_tmpdir_base="$(dirname "$0")/../session"
# Under ASan, no leak detection for mpirun jobs, as scripts/sanitize.sh runs the MPI tests: Open MPI
# leaks at exit from components it has unloaded ("<unknown module>"), and LeakSanitizer's exit code
# would replace the row's (2 for a usage error).
if [ -n "${ASAN_OPTIONS:-}" ]; then export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"; fi
# By name, not by path: Open MPI takes the directory of an absolute mpirun path as --prefix.
PATH=${PATH#*/mpibin:} exec mpirun --oversubscribe --bind-to none "$@"
SH
chmod +x "$work/mpibin/mpirun"
have_mpi=0
command -v -p mpirun >/dev/null 2>&1 && have_mpi=1

# Every file under the current directory with its checksum, and every directory.
snapshot() { find . -mindepth 1 \( -type d -printf 'dir %p\n' \) -o \( -type f -exec sha1sum {} + \) | sort; }

# The text between the first pair of backticks in a table cell ('' when none).
code() { sed -n 's/^[^`]*`\(.*\)`[^`]*$/\1/p' <<< "$1" | sed 's/\\|/|/g'; }

rows=0 failed=0 skipped=0
while IFS= read -r line; do
  IFS='|' read -r _ num area what given command want fragment _ <<< "${line//\\|/$'\x1f'}"
  num=$(xargs <<< "$num"); want=$(xargs <<< "$want")
  [[ "$num" =~ ^[0-9]+$ ]] || continue
  given=$(code "${given//$'\x1f'/\\|}"); command=$(code "${command//$'\x1f'/\\|}")
  fragment=$(code "${fragment//$'\x1f'/\\|}")
  [ -n "$only" ] && ! [[ "$num $area $what" =~ $only ]] && continue
  rows=$((rows + 1))
  if [[ "$command$given" == *mpirun* ]] && [ "$have_mpi" = 0 ]; then
    echo "skip $num: no mpirun"; skipped=$((skipped + 1)); continue
  fi
  dir="$work/row$num"
  mkdir -p "$dir" && cp -a "$here/inputs/." "$dir/"
  cd "$dir" || exit 1
  if [ -n "$given" ] && ! PATH="$work/mpibin:$work/bin:$PATH" timeout 120 bash -c "$given" > "$work/given.log" 2>&1; then
    echo "FAIL $num ($what): the Given command failed: $given"; sed 's/^/    /' "$work/given.log"
    failed=$((failed + 1)); cd "$work"; continue
  fi
  before=$(snapshot)
  start=$(date +%s%N)
  PATH="$work/mpibin:$work/bin:$PATH" timeout 120 bash -c "$command" > "$work/out" 2> "$work/err" < /dev/null
  rc=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  after=$(snapshot)
  problems=()
  [ -n "$fragment" ] || problems+=("the row gives no message fragment")
  [ "$rc" = "$want" ] || problems+=("exit $rc, expected $want")
  grep -qF -- "$fragment" "$work/err" "$work/out" || problems+=("message lacks '$fragment'")
  [ "$before" = "$after" ] || problems+=("files changed: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | head -3 | tr '\n' ' ')")
  LC_ALL=C grep -qP '[\x00-\x08\x0b-\x1f\x7f]' "$work/err" && problems+=("raw control bytes in the message")
  if [ ${#problems[@]} -eq 0 ]; then
    printf 'ok   %3s %-11s %6d ms  %s\n' "$num" "$area" "$ms" "$what"
  else
    failed=$((failed + 1))
    printf 'FAIL %3s %-11s %s\n     command: %s\n' "$num" "$area" "$what" "$command"
    for p in "${problems[@]}"; do echo "     - $p"; done
    sed 's/^/     stderr: /' "$work/err" | head -8
  fi
  cd "$work" && rm -rf "$dir"
done < <(sed -n '/<!-- catalogue:begin -->/,/<!-- catalogue:end -->/p' "$table")

echo "catalogue: $rows rows, $failed failed, $skipped skipped"
[ "$rows" -gt 0 ] && [ "$failed" = 0 ]
