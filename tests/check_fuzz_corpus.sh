#!/bin/sh
# check_fuzz_corpus.sh - the fuzz harnesses, built with this build's compiler and sanitizers
# (tests/fuzz/replay.c instead of libFuzzer), run once on every seed and on every input that
# once crashed (tests/fuzz/corpus/NAME and regress-NAME). `make fuzz` does the fuzzing itself.
. "$(dirname "$0")/testlib.sh"
testlib_init fuzzcorpus
src=${srcdir:-.}
for t in blob store import manifest; do
    dirs="$src/tests/fuzz/corpus/$t"
    [ -d "$src/tests/fuzz/corpus/regress-$t" ] && dirs="$dirs $src/tests/fuzz/corpus/regress-$t"
    # shellcheck disable=SC2086
    if "$top/tests/fuzz/replay_$t" $dirs >"$dir/out" 2>"$dir/err"; then
        ok
        echo "$t: $(cat "$dir/out")"
    else
        bad "replaying the $t corpus: $(tail -20 "$dir/err")"
    fi
done
testlib_done
