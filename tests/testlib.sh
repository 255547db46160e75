# testlib.sh - sourced by the shell test scripts: a scratch directory, pass/fail counting, and
# the checks they share. The caller sets its own name with `testlib_init NAME`.
set -u
top=${top_builddir:-.}
reel="$top/tools/reel/reel"
pass=0
fail=0

testlib_init() { # NAME: make $dir, removed on exit
    dir=$(mktemp -d "/tmp/reel-$1-XXXXXX")
    trap 'rm -rf "$dir"' EXIT
}
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
same() { # GOT WANT DESCRIPTION
    if [ "$1" = "$2" ]; then ok; else bad "$3: got '$1', wanted '$2'"; fi
}
# expect CODE DESCRIPTION COMMAND...: the command's exit status must be CODE
expect() {
    code=$1 what=$2
    shift 2
    "$@" >"$dir/out" 2>"$dir/err"
    got=$?
    if [ "$got" -eq "$code" ]; then ok; else bad "$what: exit $got, wanted $code"; cat "$dir/err"; fi
}
contains() { # FILE TEXT DESCRIPTION
    if grep -q -- "$2" "$1"; then ok; else bad "$3: '$2' not in output"; cat "$1"; fi
}
json_ok() { # FILE DESCRIPTION
    if python3 -m json.tool "$1" >/dev/null 2>&1; then ok; else bad "$2: not valid JSON"; cat "$1"; fi
}
# The closing line test harnesses read, and the exit status.
testlib_done() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
