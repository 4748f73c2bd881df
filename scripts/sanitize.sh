#!/usr/bin/env bash
# The sanitizer builds (docs/sanitizers.md): clang, -O1 -g, each in its own build directory, so each
# builds once and later runs are incremental.
#
#   scripts/sanitize.sh asan     build-asan/: AddressSanitizer + UndefinedBehaviorSanitizer (UB is
#                                fatal), and libFuzzer coverage for the fuzz targets of
#                                tests/fuzz/run.sh; runs the whole test suite
#   scripts/sanitize.sh tsan     build-tsan/: ThreadSanitizer; builds parafit_tests only, from the
#                                test files of the threaded and ranks-as-threads tests
#                                (tests/CMakeLists.txt), and runs them ($TSAN_TESTS below)
#   scripts/sanitize.sh configure asan|tsan   only configures (tests/fuzz/run.sh uses this)
# Extra arguments go to ctest. Exits 0 with a message when clang is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$PWD

configure_only=0
if [ "${1:-}" = configure ]; then configure_only=1; shift; fi
kind=${1:?usage: scripts/sanitize.sh [configure] asan|tsan [ctest args]}
shift

if ! command -v clang++ >/dev/null 2>&1; then
  echo "sanitize: skipped: clang++ not found (scripts/setup.sh --test installs it)"
  exit 0
fi
jobs=$(nproc 2>/dev/null || echo 2)
# -gline-tables-only: the sanitizers' reports need file:line, not full debug information, which
# made the objects several times larger and the two builds slower.
common=(-DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -gline-tables-only"
        -DPARAFIT_BUILD_TESTS=ON -DPARAFIT_BUILD_BENCH=OFF -DPARAFIT_BUILD_EXAMPLES=OFF
        -DPARAFIT_WARNINGS_AS_ERRORS=ON
        # scripts/test.sh sets it to ccache (it keeps objects between runs)
        ${PARAFIT_COMPILER_LAUNCHER:+-DCMAKE_CXX_COMPILER_LAUNCHER=$PARAFIT_COMPILER_LAUNCHER})

# The threaded and ranks-as-threads tests: the chunked sums and strata engine (OpenMP), the
# ranks-as-threads communicator and its conformance suite (std::thread), the distributed fit and
# the trainers on 1-4 thread ranks, ZeRO-1, local SGD, the parameter server, Hogwild's racing threads. The rest of the suite is
# single-threaded parsing, models and statistics, which the ASan build covers; the command-line
# and MPI tests run whole programs (fork/exec, mpirun), which adds nothing TSan can see that these
# do not.
TSAN_TESTS='^(ChunkedSum|ParallelChunks|DistributedFit|Distributed|ExactSum|ShardedOptimizer|AdamLoop|Strata|TreeReduce|ThreadCommunicator|Backends/Conformance|Sizes/ThreadCommunicatorTest|TrainCurve|TrainMlp|TrainZero1|TrainHogwild|TrainLocalSgd|TrainSsp|TrainTensor|TrainPipeline|Fit|Batch|BatchPoisson|GlobalFit|Bounded/GlobalFitRanks)\.'

case $kind in
  asan)
    dir=build-asan
    flags=(-DPARAFIT_SANITIZE=address,undefined -DPARAFIT_BUILD_FUZZERS=ON)
    # Leaks are reported (libomp's own are suppressed: scripts/sanitizers/lsan.supp), except in
    # the mpirun tests ($MPI_TESTS), run below with detect_leaks=0.
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1}
    export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/scripts/sanitizers/lsan.supp:print_suppressions=0}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    ;;
  tsan)
    dir=build-tsan
    # MPI off: Open MPI is not TSan-instrumented, and the MPI tests run under the ASan build.
    flags=(-DPARAFIT_SANITIZE=thread -DPARAFIT_WITH_MPI=OFF)
    # clang's OpenMP runtime (libomp) is not TSan-instrumented either; Archer, LLVM's OpenMP tool
    # for TSan, tells TSan about its barriers, locks and tasks, so OpenMP regions report only
    # real races (without it every parallel region is a false positive).
    archer=$(ls /usr/lib/llvm-*/lib/libarcher.so 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$archer" ] || { echo "sanitize: tsan needs libarcher.so (libomp-dev)"; exit 1; }
    export OMP_TOOL_LIBRARIES=$archer
    export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1:suppressions=$here/scripts/sanitizers/tsan.supp}
    ;;
  *) echo "sanitize: unknown kind '$kind' (asan or tsan)"; exit 2 ;;
esac

if [ ! -f "$dir/CMakeCache.txt" ] || [ "$configure_only" = 1 ]; then
  cmake -S . -B "$dir" "${common[@]}" "${flags[@]}" >/dev/null
fi
[ "$configure_only" = 1 ] && exit 0

start=$(date +%s)
if [ "$kind" = tsan ]; then
  cmake --build "$dir" -j"$jobs" --target parafit_tests
else
  cmake --build "$dir" -j"$jobs"
fi
built=$(date +%s)
echo "sanitize: $kind: built in $((built - start)) s"
if [ "$kind" = tsan ]; then
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" -R "$TSAN_TESTS" "$@"
else
  # Open MPI leaks at exit from components it has unloaded by then ("<unknown module>" frames, so
  # no suppression can name them): the tests that run under mpirun go without leak detection,
  # every other check of ASan and UBSan still on. Every other test has leak detection on.
  # Every test that runs mpirun is in a suite whose name ends in Mpi (or is CTest's mpi.*).
  MPI_TESTS='^(mpi\.|Cli[A-Za-z]*Mpi\.)'
  status=0
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" -E "$MPI_TESTS" "$@" || status=1
  ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" \
    ctest --test-dir "$dir" --output-on-failure -j"$jobs" -R "$MPI_TESTS" "$@" || status=1
  [ "$status" = 0 ] || { echo "sanitize: asan: tests FAILED"; exit 1; }
fi
echo "sanitize: $kind: tests ran in $(( $(date +%s) - built )) s"
