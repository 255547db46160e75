#!/bin/sh
# run.sh - `make fuzz FUZZ_SECONDS=N [FUZZ_TARGETS="blob store import manifest"]`: builds the library with
# clang's libFuzzer coverage and ASan+UBSan in $builddir/fuzz-build (its own configure), links
# each harness of tests/fuzz/ with -fsanitize=fuzzer, and runs each for N seconds from the seed
# corpus (tests/fuzz/corpus/NAME plus any regress-NAME). Prints executions per harness. A crash,
# leak or timeout stops with the input saved; copy it into tests/fuzz/corpus/regress-NAME/ so
# that `make check` replays it in every build from then on.
set -eu
srcdir=$(cd "${srcdir:-.}" && pwd)
builddir=$(pwd)
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-blob store import manifest}
case "$seconds" in '' | *[!0-9]*) echo "fuzz: FUZZ_SECONDS must be a whole number of seconds" >&2; exit 2 ;; esac
command -v clang >/dev/null || { echo "fuzz: clang is not installed (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
fb="$builddir/fuzz-build"
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
mkdir -p "$fb"
if [ ! -f "$fb/Makefile" ]; then
    echo "fuzz: configuring the library with clang in $fb"
    (cd "$fb" && "$srcdir/configure" -q --disable-python CC=clang \
        CFLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $san" \
        LDFLAGS="$san") || exit 1
fi
(cd "$fb" && make -s -j"$(nproc)" src/libreel_core.la >/dev/null) || exit 1
status=0
for t in $targets; do
    (cd "$fb" && clang -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer $san -I"$srcdir/src" \
        -I"$fb" -I"$fb/src" -c "$srcdir/tests/fuzz/fuzz_$t.c" -o "fuzz_$t.o" &&
        ./libtool --silent --mode=link clang -fsanitize=fuzzer $san -o "fuzz_$t" "fuzz_$t.o" \
            src/libreel_core.la) || exit 1
    work="$fb/corpus-$t"
    mkdir -p "$work"
    seeds="$srcdir/tests/fuzz/corpus/$t"
    [ -d "$srcdir/tests/fuzz/corpus/regress-$t" ] && seeds="$seeds $srcdir/tests/fuzz/corpus/regress-$t"
    echo "fuzz: fuzz_$t for $seconds s"
    # shellcheck disable=SC2086
    if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        "$fb/fuzz_$t" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$fb/crash-$t-" "$work" $seeds \
        >"$fb/fuzz_$t.log" 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$fb/fuzz_$t.log")
        echo "fuzz: fuzz_$t: ${execs:-?} executions in $seconds s, no crash ($(ls "$work" | wc -l) inputs in its corpus)"
    else
        echo "fuzz: fuzz_$t FAILED; the end of its log ($fb/fuzz_$t.log):"
        tail -40 "$fb/fuzz_$t.log"
        ls "$fb"/crash-"$t"-* 2>/dev/null | sed 's/^/fuzz: input: /'
        status=1
    fi
done
exit $status
