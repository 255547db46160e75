#!/bin/sh
# check_layers.sh - the layering of the source tree (README, "Repository layout"):
#   1. every file of src/ lives in a layer folder (base codec store cache tier remote api
#      import ext)
#      and includes only headers of its own layer and of the layers it stands on;
#      the cache stands on base alone (it knows no SQL, no codec, no statistics);
#   2. the CLI (tools/reel) includes reel.h and its own headers only;
#   3. the built CLI binary references no internal (reel__) symbol: it links the public
#      library like any other program.
# Usage: srcdir=... top_builddir=... sh tests/check_layers.sh
set -u
srcdir=${srcdir:-.}
top=${top_builddir:-.}
pass=0
fail=0
bad() {
    fail=$((fail + 1))
    echo "FAIL: $*"
}

# the layers each layer may include, itself included
allowed() {
    case $1 in
    base) echo "base" ;;
    codec) echo "base codec" ;;
    store) echo "base codec store" ;;
    cache) echo "base cache" ;;
    tier) echo "base codec store cache tier" ;;
    remote) echo "base remote" ;;
    api) echo "base codec store cache tier remote api" ;;
    import) echo "base codec store cache tier remote api import" ;;
    ext) echo "base codec store import ext" ;;
    *) echo "" ;;
    esac
}

# 1. src/
files=$(cd "$srcdir" && find src -name '*.[ch]' ! -name reel.h | sort)
for f in $files; do
    layer=$(echo "$f" | cut -d/ -f2)
    ok_layers=$(allowed "$layer")
    if [ -z "$ok_layers" ] || [ "$(echo "$f" | tr -cd / | wc -c)" -ne 2 ]; then
        bad "$f is not in a layer folder (src/LAYER/file)"
        continue
    fi
    good=1
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$srcdir/$f"); do
        case $inc in
        config.h | reel.h) continue ;;
        */*) l=${inc%%/*} ;;
        *) bad "$f includes \"$inc\", which names no layer"; good=0; continue ;;
        esac
        case " $ok_layers " in
        *" $l "*) ;;
        *) bad "$f ($layer) includes $inc: layer $l is not below $layer"; good=0 ;;
        esac
        if [ "$inc" = cache/cache_impl.h ] && [ "$layer" != cache ]; then
            bad "$f includes cache/cache_impl.h, private to src/cache"
            good=0
        fi
    done
    [ $good -eq 1 ] && pass=$((pass + 1))
done

# 2. the CLI's sources
cli=$(cd "$srcdir" && ls tools/reel/*.[ch] 2>/dev/null)
[ -n "$cli" ] || bad "no CLI sources in tools/reel/"
for f in $cli; do
    extra=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$srcdir/$f" |
        grep -v -x -e reel.h -e cli.h || true)
    if [ -n "$extra" ]; then bad "$f (the CLI) includes $extra: only reel.h and cli.h"; else pass=$((pass + 1)); fi
done

# 3. the CLI binary
bin=""
for b in "$top/tools/reel/.libs/reel" "$top/tools/reel/reel"; do
    if [ -f "$b" ] && head -c 4 "$b" | grep -q ELF; then bin=$b; break; fi
done
if [ -z "$bin" ]; then
    bad "no CLI binary built at $top/tools/reel/reel"
else
    syms=$(nm "$bin" 2>/dev/null | awk '{print $NF}' | grep '^reel__' | sort -u)
    if [ -n "$syms" ]; then
        bad "$bin references internal symbols: $(echo $syms | head -c 300)"
    else
        pass=$((pass + 1))
        echo "the CLI binary ($bin) references no reel__ symbol"
    fi
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
