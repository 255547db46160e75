#!/bin/sh
# check_exports.sh - libreel.so must export reel_* functions only (and every reel_* in reel.h).
set -u
top=${top_builddir:-.}
srcdir=${srcdir:-.}
so=$(ls "$top"/src/.libs/libreel.so 2>/dev/null | head -n 1)
if [ -z "$so" ]; then
    echo "libreel.so not built (static-only build?); skipping the export check"
    exit 77
fi
exported=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRV]$/ {print $3}' | sort)
bad=$(printf '%s\n' "$exported" | grep -v '^reel_' || true)
if [ -n "$bad" ]; then
    echo "FAIL: libreel exports symbols without the reel_ prefix:"
    printf '  %s\n' $bad
    exit 1
fi
declared=$(grep -o '^REEL_API [^(]*(' "$srcdir/src/reel.h" | sed 's/($//; s/.*[ *]//' | sort)
missing=$(printf '%s\n' "$declared" | while read -r f; do
    printf '%s\n' "$exported" | grep -qx "$f" || echo "$f"
done)
if [ -n "$missing" ]; then
    echo "FAIL: declared in reel.h but not exported:"
    printf '  %s\n' $missing
    exit 1
fi
n=$(printf '%s\n' "$exported" | wc -l)
echo "exports: $n symbols, all reel_*, every REEL_API function of reel.h among them"
echo "1 passed, 0 failed"
exit 0
