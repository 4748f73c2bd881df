#!/usr/bin/env bash
# A/B speed check of two commits on W1 (LM fit, 10M rows) and W3 (MLP training, 1M rows), to show
# that a refactor costs no speed. Builds each commit's bench_w1 and bench_w3 in a git worktree of
# its own, runs both commits ROUNDS times in alternating order, and prints every raw figure, then
# per figure the medians, the bests, B/A and whether B is within 3% of A.
#
#   bench/ab/run.sh COMMIT_A COMMIT_B [ROUNDS]        (ROUNDS: default 5)
#
# Environment:
#   PARAFIT_AB_DIR  scratch folder for the worktrees and the raw outputs
#                   (default ${TMPDIR:-/tmp}/parafit-ab); a commit already built there is reused
# See bench/ab/README.md.
set -euo pipefail

usage() {
  echo "usage: $0 COMMIT_A COMMIT_B [ROUNDS]" >&2
  exit 2
}
if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
ROUNDS=${3:-5}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a positive integer, not '$ROUNDS'" >&2; exit 2; }

# The repository is the one this script lives in (a worktree of it works as well: all share
# one object store), whatever the current directory.
REPO=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
SCRATCH=${PARAFIT_AB_DIR:-${TMPDIR:-/tmp}/parafit-ab}

# Full shas, so that "HEAD", a branch or a short sha all name one fixed commit for the whole run.
resolve() {
  git -C "$REPO" rev-parse --verify --quiet "$1^{commit}" || { echo "not a commit: $1" >&2; exit 2; }
}
SHA_A=$(resolve "$1")
SHA_B=$(resolve "$2")
# A fixed length (not git's default, which grows with the repository) keeps the scratch folder
# names, and so the reuse of builds, stable.
SHORT_A=$(git -C "$REPO" rev-parse --short=12 "$SHA_A")
SHORT_B=$(git -C "$REPO" rev-parse --short=12 "$SHA_B")

# ---- build -------------------------------------------------------------------------------------
# build_commit SHA SHORT: makes sure $SCRATCH/SHORT is a worktree at SHA with bench_w1 and bench_w3
# built in Release. A stamp written after a successful build marks it as reusable; without the stamp
# (first time, or an interrupted build) CMake runs again, incrementally.
build_commit() {
  local sha=$1 short=$2
  local wt=$SCRATCH/$short
  local stamp=$wt/build/parafit-ab-built
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sha" ] &&
     [ -x "$wt/build/bench/bench_w1" ] && [ -x "$wt/build/bench/bench_w3" ]; then
    echo "== $short: already built in $wt" >&2
    return
  fi
  if [ -e "$wt" ]; then
    # Never build over a folder that is not this commit's worktree: refuse, and say why.
    if [ "$(git -C "$wt" rev-parse HEAD 2>/dev/null)" != "$sha" ]; then
      echo "$wt exists but is not a worktree at $sha; remove it (git -C $REPO worktree remove --force $wt)" >&2
      exit 1
    fi
  else
    mkdir -p "$SCRATCH"
    # If the folder was deleted by hand (or /tmp was cleaned), git still has it registered and
    # refuses to add it again; --force overrides exactly that.
    local force=()
    git -C "$REPO" worktree list --porcelain | grep -qxF "worktree $wt" && force=(--force)
    echo "== $short: git worktree add --detach $wt" >&2
    git -C "$REPO" worktree add "${force[@]}" --detach "$wt" "$sha" >&2
  fi
  # Only the two bench programs: no tests, no examples, so a build is a few minutes, not more.
  local log=$wt/build-ab.log
  echo "== $short: configuring and building bench_w1 bench_w3 (Release, -j2; log: $log)" >&2
  rm -f "$stamp"
  if ! { cmake -S "$wt" -B "$wt/build" -DCMAKE_BUILD_TYPE=Release \
           -DPARAFIT_BUILD_TESTS=OFF -DPARAFIT_BUILD_EXAMPLES=OFF &&
         cmake --build "$wt/build" --target bench_w1 bench_w3 -j2; } >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "build of $short failed; full log: $log" >&2
    exit 1
  fi
  echo "$sha" >"$stamp"
}

build_commit "$SHA_A" "$SHORT_A"
# Same sha on both sides (an A/A check of the method): one build serves both.
[ "$SHA_B" = "$SHA_A" ] || build_commit "$SHA_B" "$SHORT_B"

# ---- run ---------------------------------------------------------------------------------------
RUN_DIR=$SCRATCH/runs/$(date +%Y%m%dT%H%M%S)-$SHORT_A-$SHORT_B
mkdir -p "$RUN_DIR"
FIGS=$RUN_DIR/figures.tsv  # round, side, figure, value: one line per figure per run
: >"$FIGS"

bin_dir() { if [ "$1" = A ]; then echo "$SCRATCH/$SHORT_A/build/bench"; else echo "$SCRATCH/$SHORT_B/build/bench"; fi; }

# The parsing below relies only on lines that bench_w1 and bench_w3 already printed at 93495b2, so
# that older commits can be measured too:
#   bench_w1: "parafit 1 thread: fit ... s, K iterations, P data passes, 0.0123 s/iteration, ..."
#             "parafit 2 threads: ..."   (the same line; bench_w1 says the format is kept for scripts)
#   bench_w3: "float32 1 thread(s): 123456 samples/s (8.100 s), final training MSE ..."
# The value is the field before its unit, found by the unit rather than by position.

# run_w1 ROUND SIDE: one bench_w1 run (floors, then 3 fits per thread count; it prints the best).
run_w1() {
  local round=$1 side=$2 out=$RUN_DIR/r$1-$2-w1.txt
  "$(bin_dir "$side")/bench_w1" 10000000 2 >"$out" 2>&1 || { cat "$out" >&2; echo "bench_w1 failed ($side)" >&2; exit 1; }
  grep -q 'NOT converged' "$out" && echo "warning: a W1 fit did not converge ($side, round $round): $out" >&2
  awk -v round="$round" -v side="$side" '
    /^parafit [0-9]+ threads?:/ {
      for (i = 2; i <= NF; i++) if ($i == "s/iteration,") print round "\t" side "\tw1_t" $2 "\t" $(i - 1)
    }' "$out" >>"$FIGS"
}

# run_w3 ROUND SIDE: one bench_w3 run, float32 only, 1 then 2 threads.
run_w3() {
  local round=$1 side=$2 out=$RUN_DIR/r$1-$2-w3.txt
  "$(bin_dir "$side")/bench_w3" 1000000 1 2 float32 >"$out" 2>&1 || { cat "$out" >&2; echo "bench_w3 failed ($side)" >&2; exit 1; }
  awk -v round="$round" -v side="$side" '
    /^float32 [0-9]+ thread\(s\):/ {
      for (i = 3; i <= NF; i++) if ($i == "samples/s") print round "\t" side "\tw3_t" $2 "\t" $(i - 1)
    }' "$out" >>"$FIGS"
}

# value ROUND SIDE FIGURE: the figure parsed from that run; an empty result means the output
# changed format, so stop rather than summarise half the data.
value() {
  local v
  v=$(awk -F'\t' -v r="$1" -v s="$2" -v f="$3" '$1 == r && $2 == s && $3 == f { print $4 }' "$FIGS")
  [ -n "$v" ] || { echo "no $3 figure in round $1, side $2 (see $RUN_DIR)" >&2; exit 1; }
  echo "$v"
}

CPU=$(lscpu | grep 'Model name' | sed 's/^Model name: *//' || true)
echo "A/B speed check, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "CPU: ${CPU:-unknown}, $(nproc) cores visible, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "A: $SHA_A  $(git -C "$REPO" log -1 --format=%s "$SHA_A")"
echo "B: $SHA_B  $(git -C "$REPO" log -1 --format=%s "$SHA_B")"
[ "$SHA_A" = "$SHA_B" ] && echo "(A and B are the same commit: this measures the noise of the method)"
echo "W1: bench_w1 10000000 2 (s/iteration of the best of 3 fits); W3: bench_w3 1000000 1 2 float32 (samples/s)"
echo "$ROUNDS round(s); raw outputs: $RUN_DIR"
echo
echo "round order  W1 s/iter 1t  W1 s/iter 2t  W3 samples/s 1t  W3 samples/s 2t"

# Order alternates A,B | B,A | A,B ..., so that a slow drift of the machine (thermal, neighbours)
# adds about as much to A as to B instead of always favouring whichever runs first. Within a
# round each workload runs on both sides back to back, so each pair is measured close in time.
for ((r = 1; r <= ROUNDS; r++)); do
  if ((r % 2)); then order=(A B); else order=(B A); fi
  for side in "${order[@]}"; do run_w1 "$r" "$side"; done
  for side in "${order[@]}"; do run_w3 "$r" "$side"; done
  for side in "${order[@]}"; do
    # Assignments, not arguments, so that set -e stops the script when a figure is missing.
    w1_1=$(value "$r" "$side" w1_t1); w1_2=$(value "$r" "$side" w1_t2)
    w3_1=$(value "$r" "$side" w3_t1); w3_2=$(value "$r" "$side" w3_t2)
    printf '%5d %-5s  %12s  %12s  %15s  %15s\n' "$r" "$side" "$w1_1" "$w1_2" "$w3_1" "$w3_2"
  done
done

# ---- summary -----------------------------------------------------------------------------------
# stats SIDE FIGURE BEST: "median best" of that figure over the rounds; BEST is min (times) or
# max (rates). The median of an even count is the mean of the middle two.
stats() {
  awk -F'\t' -v s="$1" -v f="$2" '$2 == s && $3 == f { print $4 }' "$FIGS" | sort -g |
    awk -v best="$3" '{ v[NR] = $1 }
      END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%.17g %.17g\n", m, best == "min" ? v[1] : v[NR] }'
}

# summarise FIGURE TITLE BEST FORMAT CONVENTION: one small table per figure, and the 3% verdict.
# B/A is always median B over median A; what > 1 means depends on the unit, hence CONVENTION.
# FORMAT is the printf format of the figure (the programs print s/iteration with 4 decimals).
summarise() {
  local fig=$1 title=$2 best=$3 fmt=$4 convention=$5 med_a best_a med_b best_b
  read -r med_a best_a < <(stats A "$fig" "$best")
  read -r med_b best_b < <(stats B "$fig" "$best")
  echo
  echo "$title"
  printf "  %-16s %12s %12s\n" "" A B
  printf "  %-16s $fmt $fmt\n" median "$med_a" "$med_b"
  printf "  %-16s $fmt $fmt\n" "best ($best)" "$best_a" "$best_b"
  awk -v a="$med_a" -v b="$med_b" -v conv="$convention" 'BEGIN {
    q = b / a; d = (q - 1) * 100
    printf "  B/A of medians   %.4f  (%s; %+.2f%%)\n", q, conv, d
    printf "  within 3%%: %s\n", (d <= 3 && d >= -3) ? "yes" : "no"
  }'
}

echo
echo "== summary over $ROUNDS round(s)  (within 3% means |B/A - 1| <= 3%, either direction)"
summarise w1_t1 "W1 time per iteration, 1 thread (s)" min %12.5f "time: > 1 means B is slower"
summarise w1_t2 "W1 time per iteration, 2 threads (s)" min %12.5f "time: > 1 means B is slower"
summarise w3_t1 "W3 float32 samples/s, 1 thread" max %12.0f "rate: > 1 means B is faster"
summarise w3_t2 "W3 float32 samples/s, 2 threads" max %12.0f "rate: > 1 means B is faster"
echo
# The machine's load at the end as well as at the start: 2-thread figures on a busy machine
# (a compiler on a 2-core box, say) swing far more than any refactor should.
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
