#!/bin/sh
# check_python.sh - the Python package's tests (pytest, python/tests/) on the package as built
# (python/stage/reel), with the interpreter configure chose. No test may be skipped: a skip
# counts as a failure. In sanitizer builds the sanitizer's runtime is preloaded into Python.
set -u
top=${top_builddir:-.}
srcdir=${srcdir:-.}
py=${PYTHON:-/usr/bin/python3}
lib=$top/src/.libs/libreel.so
PYTHONPATH=$top/python/stage
LD_LIBRARY_PATH=$top/src/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
REEL_TOOL=$top/tools/reel/reel
export PYTHONPATH LD_LIBRARY_PATH REEL_TOOL
# REEL_TEST_SANITIZER tells the tests which figures mean nothing here (RSS, thread timing)
REEL_TEST_SANITIZER=""
for san in asan tsan; do
    if ldd "$lib" 2>/dev/null | grep -q "lib$san"; then
        LD_PRELOAD=$(${CC:-gcc} -print-file-name="lib$san.so")
        REEL_TEST_SANITIZER=$san
        export LD_PRELOAD
        ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" # the interpreter's own allocations
        export ASAN_OPTIONS
    fi
done
export REEL_TEST_SANITIZER
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$py" -m pytest -q -p no:cacheprovider -rs "$srcdir/python/tests" >"$out" 2>&1
rc=$?
cat "$out"
if grep -q -E "[0-9]+ skipped" "$out"; then
    echo "FAIL: Python tests were skipped"
    exit 1
fi
exit $rc
