#!/bin/sh
# check_remote_cache.sh - a published directory read on a hostile node and through hostile
# manifests (no servers needed). As a second user (nobody, through setpriv: CI runs as root):
# a block cache directory another user made, or can write, is refused, and so is the default
# /tmp one made by someone else; symbolic links planted at the cache's file names never lead
# a write outside; a chunk file forged with a right checksum is never served and verify
# reports it; part keys that are paths (.., absolute, backslashes) are refused; a FIFO, a
# directory or a device where a part or the manifest should be gives an error, not a hang;
# a manifest of nested zeros is refused or read in bounded memory; numbers at their limits
# (and REEL_BLOCK_CACHE_MIB) give clear errors (the ASan+UBSan build checks they are defined
# behaviour); no message begins with the VFS's internal file name.
. "$(dirname "$0")/testlib.sh"
testlib_init remote-cache
src=${srcdir:-.}
chmod 755 "$dir" # the second user reads the published store
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
S="$dir/s.reel"
P="$dir/pub"
"$reel" import -q "$S" "$src/tests/media/tree.avi" --sequence tree --pix-fmt gray8 || exit 1
"$reel" cat "$S" tree >"$dir/tree.raw"
"$reel" publish "$S" "$P" --part-size 1M >/dev/null || exit 1
chmod -R a+rX "$P"
want=$(md5sum <"$dir/tree.raw")
errs="$dir/all-errors"
: >"$errs"
keep_err() { cat "$dir/err" >>"$errs"; }
# the manifest's parts: "key index blocks" per line
python3 - "$P/manifest.json" >"$dir/parts" <<'PY'
import json, sys
for p in json.load(open(sys.argv[1]))["parts"]:
    print(p["key"], p["index"], (p["bytes"] + 65535) // 65536)
PY
# every file name the block cache would give this store's chunks and index objects
python3 - "$dir/parts" >"$dir/cache-names" <<'PY'
import hashlib, sys
for line in open(sys.argv[1]):
    key, index, blocks = line.split()
    for n in range((int(blocks) + 15) // 16):
        print(hashlib.sha256(("%s#%d" % (key, n)).encode()).hexdigest()[:32] + ".chunk")
    print(index[6:])
PY

# ---- a plain read, and what the cache looks like
export REEL_BLOCK_CACHE="$dir/cache"
same "$("$reel" cat "$P" tree | md5sum)" "$want" "every frame read back from the directory"
same "$(stat -c %a "$dir/cache")" 700 "the block cache is made 0700"
same "$(find "$dir/cache" -type f \( -name '*.chunk' -o -name '*.idx' \) ! -perm 600 | wc -l)" 0 \
    "its chunk files and index objects are 0600"
same "$(find "$dir/cache" -name '*tmp*' | wc -l)" 0 "no temporary is left"

# ---- 1. cache directories another user made or can write
mkdir -m 755 "$dir/root-made"
expect 1 "a cache directory of another user's" as_nobody env REEL_BLOCK_CACHE="$dir/root-made" \
    "$reel" cat "$P" tree
contains "$dir/err" "the block cache $dir/root-made belongs to another user (uid 0, not 65534)" \
    "the foreign cache directory named, with its owner"
contains "$dir/err" "set REEL_BLOCK_CACHE to a directory of your own" "and what to do"
keep_err
same "$(ls -A "$dir/root-made" | wc -l)" 0 "nothing written into the foreign directory"
rm -rf /tmp/reel-blocks-65534
mkdir -m 755 /tmp/reel-blocks-65534 # made by root before nobody's first read
expect 1 "the default /tmp cache made by another user" as_nobody env -u HOME -u XDG_CACHE_HOME \
    -u REEL_BLOCK_CACHE "$reel" cat "$P" tree
contains "$dir/err" "the block cache /tmp/reel-blocks-65534 belongs to another user" \
    "the default cache directory made by another user is refused"
keep_err
same "$(ls -A /tmp/reel-blocks-65534 | wc -l)" 0 "nothing written into it"
rm -rf /tmp/reel-blocks-65534
expect 0 "the default /tmp cache made by the reader" as_nobody env -u HOME -u XDG_CACHE_HOME \
    -u REEL_BLOCK_CACHE "$reel" cat "$P" tree
same "$(md5sum <"$dir/out")" "$want" "read with the default cache the reader made itself"
same "$(stat -c '%u %a' /tmp/reel-blocks-65534)" "65534 700" "made 0700 by its user"
rm -rf /tmp/reel-blocks-65534
for mode in 770 703 777; do
    mkdir -m $mode "$dir/open-$mode"
    chmod $mode "$dir/open-$mode" # past the umask
    expect 1 "a cache directory of mode $mode" env REEL_BLOCK_CACHE="$dir/open-$mode" \
        "$reel" cat "$P" tree
    contains "$dir/err" "the block cache $dir/open-$mode is writable by" \
        "a cache directory others can write (mode $mode) is refused"
    contains "$dir/err" "chmod go-w" "and what to do"
    keep_err
done
mkdir -m 777 "$dir/shared"
chmod 777 "$dir/shared"
as_nobody ln -s "$dir/cache" "$dir/shared/link"
expect 1 "a cache directory reached by another user's symbolic link" \
    env REEL_BLOCK_CACHE="$dir/shared/link" "$reel" cat "$P" tree
contains "$dir/err" "is a symbolic link made by another user (uid 65534)" \
    "another user's symbolic link to a cache directory is refused"
keep_err
ln -s "$dir/cache" "$dir/own-link"
same "$(REEL_BLOCK_CACHE="$dir/own-link" "$reel" cat "$P" tree | md5sum)" "$want" \
    "the user's own symbolic link to the cache directory is followed"
as_nobody ln -s "$dir/victim" "$dir/cache/planted" 2>/dev/null
same $? 1 "another user cannot plant anything in a cache directory the check accepts"

# ---- 1. symbolic links at every name of the cache (planted before the directory was checked)
printf 'the victim file\n' >"$dir/victim"
mkdir -m 700 "$dir/links"
while read -r name; do
    ln -s "$dir/victim" "$dir/links/$name"
    ln -s "$dir/victim" "$dir/links/$name.$$.tmp" # the names temporaries had before
done <"$dir/cache-names"
expect 0 "reading with symbolic links at the cache's names" env REEL_BLOCK_CACHE="$dir/links" \
    "$reel" cat "$P" tree
same "$(md5sum <"$dir/out")" "$want" "every frame read, through fetches, past the planted links"
same "$(cat "$dir/victim")" "the victim file" "no write followed a planted symbolic link"
same "$(find "$dir/links" -name '*.chunk' -type l | wc -l)" "$(grep -c chunk "$dir/cache-names")" \
    "a planted chunk link is neither followed nor replaced"

# ---- 2. chunk files forged with right checksums
export REEL_BLOCK_CACHE="$dir/forge"
"$reel" cat "$P" tree >/dev/null
# in every chunk file, two full blocks swapped, header entries (length, XXH64) and all: every
# checksum still matches, the bytes are not the ones published
forge() {
    python3 - "$dir/forge" >"$dir/forged" <<'PY'
import os, struct, sys
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    if not f.endswith(".chunk"):
        continue
    b = bytearray(open(os.path.join(d, f), "rb").read())
    e = [struct.unpack_from("<QQ", b, 16 + 16 * j) for j in range(16)]
    for j in range(15):
        x = b[4096 + j * 65536:4096 + (j + 1) * 65536]
        y = b[4096 + (j + 1) * 65536:4096 + (j + 2) * 65536]
        if e[j][0] == e[j + 1][0] == 65536 and len(y) == 65536 and x != y:
            b[4096 + j * 65536:4096 + (j + 2) * 65536] = y + x
            struct.pack_into("<QQ", b, 16 + 16 * j, *e[j + 1])
            struct.pack_into("<QQ", b, 32 + 16 * j, *e[j])
            open(os.path.join(d, f), "wb").write(b)
            print(f)
            break
PY
}
forge
chunks=$(wc -l <"$dir/forged")
if [ "$chunks" -gt 0 ]; then ok; else bad "no chunk file to forge"; fi
expect 1 "verify with forged chunk files" "$reel" verify "$P"
contains "$dir/err" "does not match its hash as published, though its checksum does" \
    "verify reports a forged block"
keep_err
named=$(grep -o '[0-9a-f]*\.chunk' "$dir/err" | sort -u)
case $named in "") bad "verify names no forged cache file" ;; *) ok ;; esac
for f in $named; do
    grep -q "$f" "$dir/forged" && [ ! -e "$dir/forge/$f" ] && ok ||
        bad "$f: named by verify, not a forged file, or not removed"
done
runs=0
until "$reel" verify "$P" >/dev/null 2>&1 || [ $runs -gt "$chunks" ]; do runs=$((runs + 1)); done
if [ $runs -le "$chunks" ]; then ok; else bad "verify never came clean after the forged files"; fi
same "$("$reel" cat "$P" tree | md5sum)" "$want" "the blocks fetched again are the published ones"
forge
"$reel" cat "$P" tree >"$dir/cat.raw" 2>"$dir/err"
same $? 1 "cat over forged chunk files fails"
keep_err
same "$(cmp -s -n "$(stat -c %s "$dir/cat.raw")" "$dir/cat.raw" "$dir/tree.raw"; echo $?)" 0 \
    "every byte cat gave before it stopped is a published one"

# ---- 3. part keys that are paths, and other names
export REEL_BLOCK_CACHE="$dir/cache"
cp "$P/manifest.json" "$dir/manifest.good"
edit() { # PYTHON-EXPRESSION-ON-m: the manifest of $P rewritten
    python3 - "$dir/manifest.good" "$P/manifest.json" "$1" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
exec(sys.argv[3])
open(sys.argv[2], "w").write(m if isinstance(m, str) else json.dumps(m))
PY
}
mkdir -p "$dir/outside"
first=$(head -1 "$dir/parts" | cut -d' ' -f1)
cp "$P/$first" "$dir/outside/p.part"
for key in "parts/../../outside/p.part" "$dir/outside/p.part" "parts\\\\..\\\\x.part" \
    "parts/$(echo "${first#parts/}" | cut -c1-64 | tr a-f A-F).part" "parts/x/../${first#parts/}" \
    "parts/"; do
    edit "m['parts'][0]['key'] = '''$key'''"
    expect 1 "a part key '$key'" "$reel" cat "$P" tree
    contains "$dir/err" "$P/manifest.json is damaged or not reel's: part 0 is without a key" \
        "the key '$key' is refused, naming the manifest"
    keep_err
done
edit "m = json.dumps(m).replace(m['parts'][0]['key'], 'parts/\\\\u0000' + m['parts'][0]['key'][7:])"
expect 1 "a part key with a NUL" "$reel" cat "$P" tree
contains "$dir/err" "$P/manifest.json is damaged or not reel's" "a NUL in a key is refused"
keep_err
edit "m['parts'][1]['index'] = 'parts/../../outside/x.idx'"
expect 1 "an index name that is a path" "$reel" cat "$P" tree
contains "$dir/err" "part 1 is without an index object of reel's" \
    "an index object name that is a path is refused"
keep_err
cp "$dir/manifest.good" "$P/manifest.json"

# ---- 6. a FIFO, a directory or a device where an object should be
export REEL_BLOCK_CACHE="$dir/cache-fifo"
second=$(sed -n 2p "$dir/parts" | cut -d' ' -f1)
mv "$P/$second" "$dir/second.part"
for kind in fifo dir dev; do
    rm -rf "${P:?}/$second"
    case $kind in
    fifo) mkfifo "$P/$second" ;;
    dir) mkdir "$P/$second" ;;
    dev) ln -s /dev/zero "$P/$second" ;;
    esac
    expect 1 "a part that is a $kind" timeout 60 "$reel" cat "$P" tree
    contains "$dir/err" "object $second is not a regular file" "a $kind part is refused, not read"
    keep_err
done
rm -rf "${P:?}/$second"
mv "$dir/second.part" "$P/$second"
mv "$P/manifest.json" "$dir/manifest.json"
mkfifo "$P/manifest.json"
expect 1 "a manifest that is a FIFO" timeout 60 "$reel" ls "$P"
contains "$dir/err" "object manifest.json is not a regular file (a FIFO)" "a FIFO manifest is refused"
keep_err
rm -f "$P/manifest.json"
mv "$dir/manifest.json" "$P/manifest.json"
rm -rf "$dir/cache-fifo"
same "$("$reel" cat "$P" tree | md5sum)" "$want" "read again once the objects are back"

# ---- 7. manifests of nested zeros: refused, or read in bounded memory
rss() { # COMMAND...: its peak RSS in KiB into $dir/rss, its status into $dir/status
    # (under ASan without its quarantine, which would keep the freed text out of reuse)
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" \
        /usr/bin/time -f %M -o "$dir/rss" "$@" >"$dir/out" 2>"$dir/err"
    echo $? >"$dir/status"
}
rss "$reel" ls "$P"
base=$(tail -1 "$dir/rss")
for shape in deep wide-sequences wide-unknown wide-parts empty-parts empty-blocks; do
    python3 - "$dir/manifest.good" "$P/manifest.json" $shape <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
shape, n = sys.argv[3], 48 << 20
row = "[" + ",".join(["0"] * 500) + "]"
zeros = "[" + ",".join([row] * (n // (len(row) + 1))) + "]"
t = json.dumps(m)
if shape == "deep":
    t = t[:-1] + ', "x": ' + "[" * (n // 2) + "0" + "]" * (n // 2) + "}"
elif shape == "wide-sequences":
    t = t.replace('"sequences": ', '"sequences": %s, "was": ' % zeros, 1)
elif shape == "wide-unknown":
    t = t[:-1] + ', "x": {"y": %s}}' % zeros
elif shape == "empty-parts":  # 3 bytes of text, ~230 of jansson's tree each
    t = t.replace('"parts": [{', '"parts": [%s{' % ("{}," * (n // 3)), 1)
elif shape == "empty-blocks":  # 3 bytes, ~70 of tree each
    t = t[:-1] + ', "blocks": [%s""]}' % ('"",' * (n // 3))
else:
    t = t.replace('"parts": [{', '"parts": [%s, {' % zeros, 1)
open(sys.argv[2], "w").write(t)
PY
    size=$(($(stat -c %s "$P/manifest.json") / 1024))
    rss "$reel" ls "$P"
    got=$(tail -1 "$dir/rss")
    case $shape in
    deep | wide-parts | empty-parts | empty-blocks)
        same "$(cat "$dir/status")" 1 "a manifest of $shape zeros is refused"
        contains "$dir/err" "$P/manifest.json is damaged or not reel's" "naming the manifest ($shape)"
        keep_err
        ;;
    *)
        same "$(cat "$dir/status")" 0 "a manifest with $shape zeros the reader does not use is read"
        contains "$dir/out" "tree" "its sequences listed ($shape)"
        ;;
    esac
    # what holding the text costs in this build (a sanitizer's shadow memory grows with it):
    # the deep one, refused before anything is parsed; parsing the others may add less than
    # the text again (before: ~20x the manifest's size, jansson's tree of every zero)
    [ $shape = deep ] && text=$got
    if [ $((got - text)) -lt "$size" ]; then ok; else
        bad "$shape: peak RSS $got KiB for a manifest of $size KiB (only reading it: $text KiB)"
    fi
done
if [ $((text - base)) -lt $((size * 8)) ]; then ok; else
    bad "reading a manifest of $size KiB took $((text - base)) KiB"
fi
cp "$dir/manifest.good" "$P/manifest.json"

# ---- 8. numbers at their limits
for change in "m['bytes'] = 2**63 - 1" "m['bytes'] = -2**63" "m['bytes'] = 2**53 + 1" \
    "m['bytes'] = 1e300" "m['block_size'] = 2**63 - 1" "m['version'] = 2**63 - 1" \
    "m['version'] = -2**63" "m['schema_version'] = -2**63" \
    "m['parts'][0]['bytes'] = 2**63 - 1" "m['parts'][0]['bytes'] = 2**63 - 65536" \
    "m['parts'][-1]['bytes'] = 2**63 - 1 - sum(p['bytes'] for p in m['parts'][:-1])" \
    "m['parts'][0]['bytes'] = -2**63" "m['parts'][0]['bytes'] = 0" \
    "m['parts'][0]['bytes'] = 2**30 + 65536" "m['bytes'] = 2**64" "m['parts'][0]['bytes'] = 2**64 - 1"; do
    edit "$change"
    expect 1 "a manifest with $change" "$reel" cat "$P" tree
    contains "$dir/err" "$P" "a clear error naming the location for $change"
    keep_err
done
edit "m['schema_version'] = 2**63 - 1"
expect 1 "a manifest of a far newer store schema" "$reel" ls "$P"
contains "$dir/err" "published by a newer reel" "a schema version at its limit says to upgrade"
keep_err
cp "$dir/manifest.good" "$P/manifest.json"
for mib in 99999999999999 9223372036854775807 -1 0 12abc; do
    expect 1 "REEL_BLOCK_CACHE_MIB=$mib" env REEL_BLOCK_CACHE_MIB=$mib "$reel" ls "$P"
    contains "$dir/err" "REEL_BLOCK_CACHE_MIB=$mib: not a size in MiB from 1 to" \
        "REEL_BLOCK_CACHE_MIB=$mib is refused clearly"
    keep_err
done
expect 0 "REEL_BLOCK_CACHE_MIB at its largest" env REEL_BLOCK_CACHE_MIB=8796093022207 "$reel" ls "$P"
expect 0 "REEL_BLOCK_CACHE_MIB=1" env REEL_BLOCK_CACHE_MIB=1 "$reel" cat "$P" tree
same "$(md5sum <"$dir/out")" "$want" "every frame read through a 1 MiB block cache"

# ---- 9. the VFS's file name is the location, even one SQLite could take for something else
abs_reel=$(cd "$(dirname "$reel")" && pwd)/$(basename "$reel")
(cd "$dir" && "$abs_reel" publish s.reel :memory: >/dev/null && "$abs_reel" ls :memory: >"$dir/out" 2>"$dir/err")
same $? 0 "a published directory named :memory: is read"
contains "$dir/out" "tree" "its sequences listed"
keep_err

# ---- 9. messages name the location and the object, never the VFS's internal file name
same "$(grep -c 'reel-remote-[0-9]' "$errs")" 0 "no message names the VFS's internal file name"
same "$(grep -c "$P: $P" "$errs")" 0 "no message names the location twice"
testlib_done
