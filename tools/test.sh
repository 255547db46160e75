#!/bin/sh
# test.sh - the whole test suite, as CI runs it:
#   1. build with -Wall -Wextra -Werror and run `make check`, then `make check-pressure` (readers
#      under a real memory cgroup: needs root, as CI has);
#   2. rebuild under AddressSanitizer + UndefinedBehaviorSanitizer and run it again;
#   3. rebuild under ThreadSanitizer and run it again (the suites include threaded tests);
#   4. short runs of the long jobs: `make fuzz` (libFuzzer, 15 s a harness) and `make
#      check-kill` (kill -9 at random moments, 12 of them);
#   5. `make distcheck` (the release tarball builds and passes its tests).
# Every build lives under _build/; the source tree stays clean.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
sh tools/deps.sh
./autogen.sh >/dev/null 2>&1
jobs=$(nproc)
summary=""

run() { # name, configure arguments...
    name=$1
    shift
    echo "==== $name"
    rm -rf "_build/$name"
    mkdir -p "_build/$name"
    (cd "_build/$name" && "$top/configure" -q --enable-werror "$@" && make -s -j"$jobs" >/dev/null)
    status=0
    (cd "_build/$name" && make -s -j"$jobs" check >/dev/null 2>&1) || status=$?
    cat "_build/$name"/tests/*.log | grep -E '^[0-9]+%: Checks|passed, [0-9]+ failed|[0-9]+ passed in |^(FAIL|ERROR|PASS|SKIP):|:[EF]:' || true
    if [ "$status" -ne 0 ]; then
        echo "---- $name failed; logs:"
        cat "_build/$name"/tests/*.log
        exit 1
    fi
    summary="$summary $name:ok"
}

run werror
echo "==== check-pressure"
status=0
(cd _build/werror && make -s check-pressure) || status=$?
if [ "$status" -eq 77 ]; then
    summary="$summary check-pressure:SKIPPED"
elif [ "$status" -ne 0 ]; then
    echo "make check-pressure failed"
    exit 1
else
    summary="$summary check-pressure:ok"
fi
echo "==== fuzz (short run)"
(cd _build/werror && make -s fuzz FUZZ_SECONDS=15) || { echo "make fuzz failed"; exit 1; }
summary="$summary fuzz:ok"
echo "==== check-kill (short run)"
(cd _build/werror && make -s check-kill KILL_MOMENTS=12) || { echo "make check-kill failed"; exit 1; }
summary="$summary check-kill:ok"
san="-O1 -g -fno-omit-frame-pointer"
ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run asan-ubsan CFLAGS="$san -fsanitize=address,undefined -fno-sanitize-recover=all" \
    LDFLAGS="-fsanitize=address,undefined"
TSAN_OPTIONS="halt_on_error=1 die_after_fork=0 suppressions=$top/tests/tsan.supp" \
    run tsan CFLAGS="$san -fsanitize=thread" LDFLAGS="-fsanitize=thread"

echo "==== distcheck"
(cd _build/werror && make -s distcheck >/dev/null 2>&1) || {
    echo "make distcheck failed"
    (cd _build/werror && make distcheck 2>&1 | tail -40)
    exit 1
}
summary="$summary distcheck:ok"
echo "==== all passed:$summary"
