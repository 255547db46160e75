#!/bin/sh
# check_remote.sh - published stores read from other machines, against real servers started
# here (tests/services/): a directory, nginx on 127.0.0.1 (plain HTTP with ranges and PUT) and
# a one-node Ceph RADOS Gateway (S3 with SigV4). Three sequences published, every frame read
# back bit-exact through each; publishing again sends nothing; four processes sharing a block
# cache fetch each block once; the server stopped mid-way fails reads clearly and restarted
# serves them again; a damaged part on the server is detected and never served; a missing
# part and wrong keys give clear errors; virtual-hosted addressing and temporary credentials
# (AWS_SESSION_TOKEN, from the gateway's STS) work.
. "$(dirname "$0")/testlib.sh"
testlib_init remote
src=${srcdir:-.}
svc="$src/tests/services"
nport=$((20000 + $$ % 1000 * 2))
cport=$((22000 + $$ % 1000 * 2)) # and the monitor on cport + 1
N="$dir/nginx"
C="$dir/ceph"
trap 'sh "$svc/nginx.sh" stop "$N"; sh "$svc/ceph.sh" stop "$C"; rm -rf "$dir"' EXIT
sh "$svc/nginx.sh" start "$N" $nport >"$dir/nginx.env" || { bad "nginx did not start"; testlib_done; exit 1; }
sh "$svc/ceph.sh" start "$C" $cport >"$dir/ceph.env" || { bad "Ceph did not start"; testlib_done; exit 1; }
. "$dir/ceph.env"
HTTP="http://127.0.0.1:$nport/pub"
export AWS_ENDPOINT_URL="$ENDPOINT" AWS_ACCESS_KEY_ID="$ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$SECRET_KEY"
curl -s -o /dev/null -w "%{http_code}" --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user "$ACCESS_KEY:$SECRET_KEY" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    -X PUT "$ENDPOINT/frames" >"$dir/bucket.code"
same "$(cat "$dir/bucket.code")" 200 "bucket created on the gateway"

# three sequences: intra rgb24, temporal yuv420p, and a small gray one
ff="ffmpeg -nostdin -v error -y"
$ff -f lavfi -i testsrc2=size=320x240:rate=25,noise=alls=10:allf=t -frames:v 60 \
    -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$dir/a.mp4" || exit 1
S="$dir/s.reel"
"$reel" import -q "$S" "$dir/a.mp4" --sequence rgb --codec intra
"$reel" import -q "$S" "$dir/a.mp4" --sequence yuv --pix-fmt native --codec temporal
"$reel" import -q "$S" "$src/tests/media/tree.avi" --sequence tree --pix-fmt gray8
for q in rgb yuv tree; do
    "$reel" cat "$S" $q | md5sum >"$dir/$q.md5"
done

for loc in "$dir/pub" "$HTTP" "s3://frames/set1"; do
    export REEL_BLOCK_CACHE="$dir/cache-$(echo "$loc" | md5sum | cut -c1-8)"
    expect 0 "publish to $loc" "$reel" publish "$S" "$loc" --part-size 1M --json
    json_ok "$dir/out" "publish --json"
    parts=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["parts"], d["uploaded_parts"])' "$dir/out")
    case $parts in "0 "*) bad "publish to $loc: no parts" ;; *) ok ;; esac
    expect 0 "ls $loc" "$reel" ls "$loc"
    contains "$dir/out" "temporal" "ls $loc shows the sequences and codecs"
    for q in rgb yuv tree; do
        same "$("$reel" cat "$loc" $q | md5sum)" "$(cat "$dir/$q.md5")" "every frame of $q read back from $loc"
    done
    expect 0 "verify $loc" "$reel" verify "$loc"
    contains "$dir/out" "3 sequence(s), 188 frame(s) checked: 0 bad" "verify $loc"
    expect 0 "publish again to $loc" "$reel" publish "$S" "$loc" --part-size 1M --json
    same "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["uploaded_parts"])' "$dir/out")" 0 \
        "publishing again to $loc sends no part"
    expect 1 "publish to a published store" "$reel" publish "$loc" "$dir/other"
done

# access counts of a published store: this node's, kept in its block cache, summed over
# processes, shown by reel stats
export REEL_BLOCK_CACHE="$dir/cache-counts"
"$reel" cat "$dir/pub" rgb --count 10 >/dev/null
"$reel" cat "$dir/pub" rgb --from 5 --count 10 >/dev/null
expect 0 "stats of a published store" "$reel" stats "$dir/pub" rgb --json
same "$(python3 -c 'import json,sys; q=json.load(open(sys.argv[1]))["sequences"][0]; print(q["accesses"], q["frames_read"])' "$dir/out")" \
    "20 15" "two readers' access counts, summed on this node"
expect 0 "stats through another name of the directory" "$reel" stats "$dir/pub/../pub" rgb --json
same "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sequences"][0]["accesses"])' "$dir/out")" \
    20 "the same counts through another name of the directory"

# the manifest says which parts hold which frames: every frame of every sequence, in order
python3 - "$dir/pub/manifest.json" >"$dir/ranges.out" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for q in m["sequences"]:
    seen, last_part = set(), -1
    for part, first, last in q["parts"]:
        assert 0 <= part < len(m["parts"]) and part >= last_part and 0 <= first <= last < q["frames"], (q["name"], part, first, last)
        seen.update(range(first, last + 1))
        last_part = part
    assert seen == set(range(q["frames"])), q["name"]
print("ranges ok", [(q["name"], len(q["parts"])) for q in m["sequences"]])
PY
contains "$dir/ranges.out" "ranges ok" "the manifest's frame ranges cover every frame, part by part"

# the node's block cache damaged by hand (a flipped byte, a file cut short): refetched, never served
export REEL_BLOCK_CACHE="$dir/cache-hurt"
"$reel" cat "$dir/pub" rgb >/dev/null
for f in "$REEL_BLOCK_CACHE"/*.chunk; do
    printf 'Z' | dd of="$f" bs=1 seek=5000 conv=notrunc 2>/dev/null
done
same "$("$reel" cat "$dir/pub" rgb | md5sum)" "$(cat "$dir/rgb.md5")" "a damaged block in the cache is fetched again"
for f in "$REEL_BLOCK_CACHE"/*.chunk; do truncate -s 70000 "$f"; done
same "$("$reel" cat "$dir/pub" rgb | md5sum)" "$(cat "$dir/rgb.md5")" "a cached chunk cut short is fetched again"
for f in "$REEL_BLOCK_CACHE"/*.chunk; do : >"$f"; done
same "$("$reel" cat "$dir/pub" rgb | md5sum)" "$(cat "$dir/rgb.md5")" "an emptied chunk file is fetched again"

# a manifest edited by hand: refused with a clear error, never a crash
cp -r "$dir/pub" "$dir/edit"
edit() { # python expression on m, then the error expected from reel ls (an empty cache)
    rm -rf "$dir/cache-edit"
    export REEL_BLOCK_CACHE="$dir/cache-edit"
    python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); exec(sys.argv[2]); json.dump(m, open(sys.argv[1], "w"))' \
        "$dir/edit/manifest.json" "$1"
    expect 1 "manifest: $1" "$reel" ls "$dir/edit"
    contains "$dir/err" "$2" "manifest: $1 is refused"
    cp "$dir/pub/manifest.json" "$dir/edit/manifest.json"
}
edit 'm["version"] = 4' "not a manifest of this reel's"
edit 'm["schema_version"] += 1' "published by a newer reel"
edit 'm["parts"][0]["bytes"] += 1' "wrong size\|do not agree\|add up"
edit 'm["parts"][0]["bytes"] = 10**15' "wrong size\|add up"
edit 'm["parts"][-1]["bytes"] -= 1' "add up\|do not agree"
edit 'del m["parts"][0]["index"]' "without an index object"
edit 'm["parts"][0]["index"] = "parts/" + "0" * 64 + ".idx"' "not found\|No such file"
edit 'm["version"] = 2' "do not agree"
idx=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["parts"][0]["index"])' "$dir/edit/manifest.json")
cp "$dir/edit/$idx" "$dir/idx.keep"
printf 'XXXX' | dd of="$dir/edit/$idx" bs=1 seek=16 conv=notrunc 2>/dev/null
export REEL_BLOCK_CACHE="$dir/cache-idx"
expect 1 "a damaged index object" "$reel" ls "$dir/edit"
contains "$dir/err" "index object .* does not match" "a damaged index object is named"
cp "$dir/idx.keep" "$dir/edit/$idx"
# a manifest of the previous version (every block's hash listed in it) is still read
python3 - "$dir/edit" <<'PY'
import json, sys
d = sys.argv[1]
m = json.load(open(d + "/manifest.json"))
m["version"], m["blocks"] = 2, []
for p in m["parts"]:
    raw = open(d + "/" + p.pop("index"), "rb").read()
    m["blocks"] += [raw[i:i + 16].hex() for i in range(0, len(raw), 16)]
json.dump(m, open(d + "/manifest.json", "w"))
PY
export REEL_BLOCK_CACHE="$dir/cache-v2"
expect 0 "a version 2 manifest" "$reel" cat "$dir/edit" rgb
same "$(md5sum <"$dir/out")" "$(cat "$dir/rgb.md5")" "every frame read through a version 2 manifest"
cp "$dir/pub/manifest.json" "$dir/edit/manifest.json"
edit 'm["version"] = 2; m["blocks"] = ["xyz"] * 100000' "32 hex digits\|do not agree"
edit 'm["parts"] = []' "do not agree"
edit 'm["bytes"] = -5' "do not agree"
edit 'm["parts"][0]["key"] = "../../etc/passwd"' "without a key"
printf '{"format": "reel published store", "vers' >"$dir/edit/manifest.json"
expect 1 "a manifest cut short" "$reel" ls "$dir/edit"
contains "$dir/err" "damaged" "a manifest cut short is refused"

# four processes, one node, one block cache: each block fetched once
export REEL_BLOCK_CACHE="$dir/shared-cache"
: >"$N/logs/access.log"
for i in 1 2 3 4; do
    "$reel" cat "$HTTP" yuv >"$dir/p$i.out" 2>"$dir/p$i.err" &
done
wait
for i in 1 2 3 4; do
    same "$(md5sum <"$dir/p$i.out")" "$(cat "$dir/yuv.md5")" "process $i read every frame"
done
# the bytes the server sent for parts are the bytes of the blocks cached: none twice (a chunk
# file's header: 8 bytes of magic, 8 reserved, then (length, XXH64) of each of its 16 blocks)
gets=$(grep -c 'GET /pub/parts/[0-9a-f]*\.part' "$N/logs/access.log")
sent=$(grep 'GET /pub/parts/[0-9a-f]*\.part' "$N/logs/access.log" | awk '{ s += $10 } END { print s + 0 }')
cached_bytes() {
    python3 -c '
import glob, struct, sys
total = 0
for f in glob.glob(sys.argv[1] + "/*.chunk"):
    head = open(f, "rb").read(16 + 16 * 16)
    if head[:8] == b"reelchk1":
        total += sum(struct.unpack("=32Q", head[16:16 + 16 * 16])[0::2])
print(total)' "$1"
}
cached=$(cached_bytes "$REEL_BLOCK_CACHE")
files=$(find "$REEL_BLOCK_CACHE" -name '*.chunk' | wc -l)
same "$sent" "$cached" "four readers: bytes sent for parts equal the blocks cached (each fetched once)"
echo "four readers: $gets requests brought $sent bytes; the shared cache holds $cached bytes in $files files"

# the server goes away mid-way, then comes back
export REEL_BLOCK_CACHE="$dir/cache-outage"
sh "$svc/nginx.sh" stop "$N"
expect 1 "a read while the server is down" sh -c "'$reel' cat '$HTTP' rgb >/dev/null"
contains "$dir/err" "pub" "the error names the location"
contains "$dir/err" "after 5 tries\|Could not connect\|Couldn't connect" "the error says the server could not be reached"
sh "$svc/nginx.sh" restart "$N" $nport >/dev/null
same "$("$reel" cat "$HTTP" rgb | md5sum)" "$(cat "$dir/rgb.md5")" "reads resume when the server is back"

# a damaged part on the server: detected, never served
export REEL_BLOCK_CACHE="$dir/cache-damage"
part=$(ls "$N/data/pub/parts" | grep '\.part$' | head -1)
printf 'XXXX' | dd of="$N/data/pub/parts/$part" bs=1 seek=100000 conv=notrunc 2>/dev/null
expect 1 "verify with a damaged part" "$reel" verify "$HTTP"
contains "$dir/err" "does not match its hash" "the damaged block is named"
# nothing of the damaged block was kept: with the part repaired, the same cache serves it all
cp "$dir/pub/parts/$part" "$N/data/pub/parts/$part" # the directory's copy of the same part
expect 0 "verify once the part is repaired, same block cache" "$reel" verify "$HTTP"
# a missing part
rm -f "$dir/pub/parts/$(ls "$dir/pub/parts" | grep '\.part$' | head -1)"
export REEL_BLOCK_CACHE="$dir/cache-missing"
expect 1 "verify with a part missing" "$reel" verify "$dir/pub"
contains "$dir/err" "not found\|No such file" "the missing part is named"

# a grown store: publishing it again sends the new parts, the head and the old last part only
G="$dir/grown.reel"
cp "$S" "$G"
expect 0 "publish before growing" "$reel" publish "$G" "$dir/grow" --part-size 1M --json
before=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["parts"])' "$dir/out")
"$reel" import -q "$G" "$dir/a.mp4" --sequence more --codec intra
expect 0 "publish the grown store" "$reel" publish "$G" "$dir/grow" --part-size 1M --json
set -- $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["parts"], d["uploaded_parts"])' "$dir/out")
if [ "$2" -le $(($1 - before + 2)) ] && [ "$2" -lt "$1" ]; then ok; else
    bad "the grown store sent $2 of $1 parts (had $before)"; fi
echo "grown store: $2 of $1 parts sent ($before before)"
export REEL_BLOCK_CACHE="$dir/cache-grown"
expect 0 "verify the grown store" "$reel" verify "$dir/grow"
contains "$dir/out" "4 sequence(s), 248 frame(s) checked: 0 bad" "verify the grown store"

# parts over 16 MiB go to S3 in pieces (multipart upload); none is left unfinished
s3c() { curl -s --aws-sigv4 "aws:amz:us-east-1:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"; }
expect 0 "publish with parts of 20 MiB to S3" "$reel" publish "$G" s3://frames/big --part-size 20M --json
key=$(s3c "$ENDPOINT/frames/big/manifest.json" | python3 -c 'import json,sys; m=json.load(sys.stdin); print(max(m["parts"], key=lambda p: p["bytes"])["key"])')
etag=$(s3c -I "$ENDPOINT/frames/big/$key" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: *//p')
case $etag in *-3\") ok ;; *) bad "the 20 MiB part was not sent in 3 pieces (ETag $etag)" ;; esac
s3c "$ENDPOINT/frames?uploads=" >"$dir/uploads.xml"
if grep -q '<Upload>' "$dir/uploads.xml"; then bad "a multipart upload was left unfinished"; else ok; fi
export REEL_BLOCK_CACHE="$dir/cache-big"
"$reel" cat "$G" more | md5sum >"$dir/more.md5"
same "$("$reel" cat s3://frames/big more | md5sum)" "$(cat "$dir/more.md5")" "every frame read back from parts sent in pieces"
same "$("$reel" cat s3://frames/big yuv | md5sum)" "$(cat "$dir/yuv.md5")" "and from the other parts"

# virtual-hosted style (REEL_S3_ADDRESSING=virtual: BUCKET.localhost, the gateway's rgw dns
# name): published and read back; the objects are where path style finds them
export REEL_BLOCK_CACHE="$dir/cache-vhost"
expect 0 "publish in virtual-hosted style" env REEL_S3_ADDRESSING=virtual \
    AWS_ENDPOINT_URL="http://localhost:$cport" "$reel" publish "$S" s3://frames/vhost --part-size 1M
same "$(env REEL_S3_ADDRESSING=virtual AWS_ENDPOINT_URL="http://localhost:$cport" "$reel" cat s3://frames/vhost yuv | md5sum)" \
    "$(cat "$dir/yuv.md5")" "every frame read back in virtual-hosted style"
same "$(s3c -o /dev/null -w '%{http_code}' "$ENDPOINT/frames/vhost/manifest.json")" 200 \
    "the virtual-hosted publish wrote bucket frames, prefix vhost"
expect 1 "a bucket that is no host name, virtual style" env REEL_S3_ADDRESSING=virtual "$reel" ls s3://Frames_1/x
contains "$dir/err" "cannot be a host name" "a bucket that cannot be a host name is refused"
expect 1 "an unknown addressing style" env REEL_S3_ADDRESSING=sideways "$reel" ls s3://frames/vhost
contains "$dir/err" "REEL_S3_ADDRESSING='sideways'" "an unknown addressing style is named"

# temporary credentials from the gateway's STS (AssumeRole): AWS_SESSION_TOKEN is sent, signed
export REEL_BLOCK_CACHE="$dir/cache-sts"
rgwa="radosgw-admin -c $C/ceph.conf"
$rgwa caps add --uid=reeltest --caps="roles=*" >/dev/null 2>&1
$rgwa role create --role-name=reader --path=/ --assume-role-policy-doc='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam:::user/reeltest"]},"Action":["sts:AssumeRole"]}]}' >/dev/null 2>&1
$rgwa role-policy put --role-name=reader --policy-name=all --policy-doc='{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::*"}}' >/dev/null 2>&1
curl -s --aws-sigv4 "aws:amz:us-east-1:sts" --user "$ACCESS_KEY:$SECRET_KEY" \
    -d "Action=AssumeRole&RoleArn=arn:aws:iam:::role/reader&RoleSessionName=reeltest&Version=2011-06-15&DurationSeconds=3600" \
    "$ENDPOINT/" >"$dir/sts.xml"
python3 - "$dir/sts.xml" >"$dir/sts.env" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
for k, v in (("AccessKeyId", "TAK"), ("SecretAccessKey", "TSK"), ("SessionToken", "TTOK")):
    m = re.search("<%s>([^<]+)</%s>" % (k, k), t)
    print("%s='%s'" % (v, m.group(1) if m else ""))
PY
. "$dir/sts.env"
if [ -n "$TTOK" ]; then ok; else bad "the gateway gave no session token: $(cat "$dir/sts.xml")"; fi
expect 0 "publish with temporary credentials" env AWS_ACCESS_KEY_ID="$TAK" AWS_SECRET_ACCESS_KEY="$TSK" \
    AWS_SESSION_TOKEN="$TTOK" "$reel" publish "$S" s3://frames/sts --part-size 20M
same "$(env AWS_ACCESS_KEY_ID="$TAK" AWS_SECRET_ACCESS_KEY="$TSK" AWS_SESSION_TOKEN="$TTOK" "$reel" cat s3://frames/sts rgb | md5sum)" \
    "$(cat "$dir/rgb.md5")" "every frame read back with temporary credentials"
expect 1 "temporary keys without their token" env AWS_ACCESS_KEY_ID="$TAK" AWS_SECRET_ACCESS_KEY="$TSK" \
    "$reel" ls s3://frames/sts
contains "$dir/err" "access denied (HTTP 403)" "temporary keys without their session token are refused"
expect 1 "a wrong session token" env AWS_ACCESS_KEY_ID="$TAK" AWS_SECRET_ACCESS_KEY="$TSK" \
    AWS_SESSION_TOKEN="x$TTOK" "$reel" ls s3://frames/sts
if grep -q "$TSK\|$TTOK" "$dir/out" "$dir/err"; then bad "a temporary secret or token was printed"; else ok; fi

# wrong keys, a bucket that does not exist
export AWS_SECRET_ACCESS_KEY=wrongsecret
expect 1 "wrong keys" "$reel" ls s3://frames/set1
contains "$dir/err" "access denied (HTTP 403)" "wrong keys: access denied"
export AWS_SECRET_ACCESS_KEY="$SECRET_KEY"
expect 1 "no published store there" "$reel" ls s3://frames/nothing
contains "$dir/err" "no published store there" "a prefix without a manifest"
unset AWS_ENDPOINT_URL
expect 1 "s3 without an endpoint" "$reel" ls s3://frames/set1
contains "$dir/err" "AWS_ENDPOINT_URL" "the missing endpoint is named"
testlib_done
