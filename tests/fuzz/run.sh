#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/*_fuzz.cpp) and runs each for a while on a copy of its
# seed corpus. The build is the ASan+UBSan build in build-asan/ (scripts/sanitize.sh configures it:
# clang, -fsanitize=address,undefined, and -fsanitize=fuzzer-no-link for coverage), so the library
# is compiled once for both the fuzzers and the sanitized test suite.
#
#   tests/fuzz/run.sh [seconds] [target...]   default 20 s each, every target; FUZZ_SECONDS works too
#   tests/fuzz/run.sh 600                     the long run (README.md): 10 minutes per target
#   tests/fuzz/run.sh 60 csv npy              only these targets (names without _fuzz)
# FUZZ_JOBS targets run at a time (default 2). Exits 0 when clang is missing (with a message),
# non-zero when a fuzzer finds a crash, leak, UB or timeout: the input is then left in
# build-asan/fuzz/<target>/ as crash-<sha1> (or leak-, timeout-), the log next to it.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-${FUZZ_SECONDS:-20}}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(formula csv npy model checkpoint cli)

if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: skipped: clang++ not found (scripts/setup.sh --test installs clang and libclang-rt-14-dev)"
  exit 0
fi
scripts/sanitize.sh configure asan
cmake --build build-asan -j"$(nproc 2>/dev/null || echo 2)" --target parafit_fuzzers

# Per target: the longest input, and the options its inputs need.
max_len() {
  case $1 in
    formula) echo 4096 ;;   # formulas up to 4 KiB; the length limit itself is unit-tested
    cli) echo 512 ;;        # at most 24 arguments of 64 bytes (cli_fuzz.cpp)
    *) echo 16384 ;;
  esac
}

run_one() {
  # Absolute paths: the command-line target runs inside a scratch directory.
  local name=$1 dir=$PWD/build-asan/fuzz/$1
  mkdir -p "$dir/corpus"
  # New inputs go to build-asan/fuzz/<target>/corpus (kept between runs); the seeds are only read.
  # Leaks are errors too (-detect_leaks=1 is libFuzzer's default under ASan).
  if "build-asan/tests/fuzz/${name}_fuzz" -max_total_time="$seconds" -max_len="$(max_len "$name")" \
       -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$dir/" \
       "$dir/corpus" "$PWD/tests/fuzz/corpus/$name" > "$dir/fuzz.log" 2>&1; then
    local runs cov
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz.log")
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$dir/fuzz.log" | tail -n 1)
    echo "fuzz: ok: $name: ${runs:-?} runs in ${seconds}s, $cov, corpus $(ls "$dir/corpus" | wc -l) files"
  else
    local status=$?
    tail -n 60 "$dir/fuzz.log"
    echo "fuzz: $name FAILED (exit $status); log: $dir/fuzz.log; input: $(ls "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-* 2>/dev/null | head -n 1)"
    return 1
  fi
}

jobs=${FUZZ_JOBS:-2}
failed=0
pids=()
for name in "${targets[@]}"; do
  run_one "$name" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$jobs" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
exit "$failed"
