#!/bin/sh
# check_remote_faults.sh - published stores against a hostile HTTP server of our own
# (tests/services/hostile_http.py: drip, stall, reset) and a Ceph RADOS Gateway: reads that
# drip or stall end within their deadline (REEL_REMOTE_TIMEOUT) with a clear error; SIGINT and
# SIGTERM end a remote read at once (exit 1, "interrupted"); a password in the URL and the S3
# secrets appear in no message, listing, JSON document or cache file; publishing to a full disk
# names ENOSPC; a damaged or short part at the destination is sent again; what a killed publish
# left (its snapshot beside the store, temporary files at a directory destination, unfinished
# S3 multipart uploads) is removed by the next publish; a server with S3's quirks (chunked
# bodies, HEAD without Content-Length, ETags without quotes) is read and published to. No timed assertions: each command that
# must end is guarded by a generous `timeout`, and what is asserted is how it ended.
. "$(dirname "$0")/testlib.sh"
testlib_init faults
src=${srcdir:-.}
svc="$src/tests/services"
hport=$((26000 + $$ % 1000 * 2))
cport=$((28000 + $$ % 1000 * 2)) # and the monitor on cport + 1
C="$dir/ceph"
W="$dir/www"
hpid=
trap '[ -n "$hpid" ] && kill $hpid 2>/dev/null; sh "$svc/ceph.sh" stop "$C"; umount "$dir/full" 2>/dev/null; rm -rf "$dir"' EXIT
mkdir -p "$W"
python3 "$svc/hostile_http.py" "$W" $hport 900 &
hpid=$!
i=0
while [ ! -e "$W/.ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -e "$W/.ready" ] || { bad "the hostile server did not start"; testlib_done; exit 1; }
mode() { echo "$*" >"$W/.mode"; }
PW=s3cretPassw0rd
URL="http://alice:$PW@127.0.0.1:$hport/pub"

S="$dir/s.reel"
"$reel" import -q "$S" "$src/tests/media/tree.avi" --sequence tree --pix-fmt gray8
sum=$("$reel" cat "$S" tree | md5sum)
expect 0 "publish to a directory" "$reel" publish "$S" "$W/pub" --part-size 256k
export REEL_BLOCK_CACHE="$dir/cache"

# ---- credentials: never shown ----------------------------------------------------------------
mode ok
: >"$dir/all"
run_all() { # DESCRIPTION CODE COMMAND...: run it, keep every output for the grep below
    expect "$@"
    cat "$dir/out" "$dir/err" >>"$dir/all"
}
run_all 0 "ls with a password in the URL" "$reel" ls "$URL"
contains "$dir/out" "tree" "ls with a password in the URL lists the sequence"
run_all 0 "ls --json" "$reel" ls "$URL" --json
run_all 0 "info" "$reel" info "$URL" tree
run_all 0 "info --json" "$reel" info "$URL" tree --json
run_all 0 "verify" "$reel" verify "$URL"
contains "$dir/out" "http://127.0.0.1:$hport/pub: 1 sequence" "verify names the location without its userinfo"
run_all 0 "stats --json" "$reel" stats "$URL" tree --json
run_all 0 "cat" sh -c "'$reel' cat '$URL' tree | md5sum"
same "$(cat "$dir/out")" "$sum" "every frame read through a URL with a password"
run_all 1 "ls of a location without a store" "$reel" ls "http://alice:$PW@127.0.0.1:$hport/nothing"
run_all 1 "info of a missing sequence" "$reel" info "$URL" nosuch
run_all 1 "import --json of a video URL with a password" "$reel" import "$dir/url.reel" "http://alice:$PW@127.0.0.1:$hport/pub/manifest.json" --json
run_all 1 "cat of a missing sequence" "$reel" cat "$URL" nosuch
run_all 0 "publish --json to a URL with a password" "$reel" publish "$S" "http://alice:$PW@127.0.0.1:$hport/put" --part-size 256k --json
contains "$dir/out" "\"destination\": \"http://127.0.0.1:$hport/put\"" "publish --json names the destination without its userinfo"
run_all 0 "publish again" "$reel" publish "$S" "http://alice:$PW@127.0.0.1:$hport/put" --part-size 256k
run_all 2 "a usage error naming the URL" "$reel" cat "$URL"
rm -f "$W/pub/parts/$(ls "$W/pub/parts" | grep '\.part$' | head -1)"
export REEL_BLOCK_CACHE="$dir/cache-missing"
run_all 1 "verify with a part missing" "$reel" verify "$URL"
contains "$dir/err" "not found" "the missing part is reported"
export REEL_BLOCK_CACHE="$dir/cache"
"$reel" publish "$S" "$W/pub" --part-size 256k >/dev/null 2>&1 # put it back
grep -q "basic" "$W/.log" && ok || bad "the URL's credentials were not sent to the server"
# the S3 secrets: a gateway that refuses, and one that is not there
export AWS_ENDPOINT_URL="http://127.0.0.1:$hport" AWS_ACCESS_KEY_ID=AKIDREELTEST \
    AWS_SECRET_ACCESS_KEY=SecretKeyNeverShown99 AWS_SESSION_TOKEN=SessionTokenNeverShown77
run_all 1 "ls s3:// of a missing store" "$reel" ls s3://bucket/none --json
run_all 1 "s3:// with a bad name" "$reel" ls "s3://bucket/a:b@c"
run_all 1 "an endpoint that does not answer" env AWS_ENDPOINT_URL="http://alice:$PW@127.0.0.1:1" \
    REEL_REMOTE_TIMEOUT=3 "$reel" ls s3://bucket/x
unset AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
for secret in "$PW" alice@ SecretKeyNeverShown99 SessionTokenNeverShown77 Authorization; do
    if grep -q "$secret" "$dir/all"; then bad "'$secret' was printed:"; grep "$secret" "$dir/all"; else ok; fi
    if grep -rqa "$secret" "$dir/cache" "$dir/cache-missing"; then bad "'$secret' is in the block cache or counts file"; else ok; fi
done

# ---- reads that always end --------------------------------------------------------------------
export REEL_BLOCK_CACHE="$dir/cache-slow"
mode stall .part
expect 1 "a stalled server" timeout 120 env REEL_REMOTE_TIMEOUT=3 "$reel" cat "$URL" tree
contains "$dir/err" "no whole answer within 3.0 s" "a stalled read ends at its deadline"
contains "$dir/err" "REEL_REMOTE_TIMEOUT" "the deadline's variable is named"
mode drip .part
expect 1 "a server dripping 2 bytes/s" timeout 120 env REEL_REMOTE_TIMEOUT=12 "$reel" cat "$URL" tree
contains "$dir/err" "too slow or silent\|less than 1024 bytes/s" "a dripping read fails as too slow"
mode stall manifest
expect 1 "a stalled manifest" timeout 120 env REEL_REMOTE_TIMEOUT=2 "$reel" ls "$URL"
contains "$dir/err" "manifest.json: no whole answer within 2.0 s" "a stalled manifest read ends at its deadline"
mode reset .part
expect 1 "a server resetting connections" timeout 120 "$reel" cat "$URL" tree
contains "$dir/err" "after 5 tries\|Failure when receiving\|Recv failure" "resets are retried, then reported"
mode ok
expect 1 "junk in REEL_REMOTE_TIMEOUT" env REEL_REMOTE_TIMEOUT=soon "$reel" ls "$URL"
contains "$dir/err" "REEL_REMOTE_TIMEOUT='soon'" "junk in REEL_REMOTE_TIMEOUT is named"
expect 1 "a zero REEL_REMOTE_TIMEOUT" env REEL_REMOTE_TIMEOUT=0 "$reel" ls "$URL"
expect 0 "a fractional REEL_REMOTE_TIMEOUT" env REEL_REMOTE_TIMEOUT=7.5 "$reel" ls "$URL"

# SIGINT / SIGTERM while a read waits on a stalled server: it ends, exit 1, "interrupted"
signal_test() { # SIGNAL COMMAND...
    sig=$1
    shift
    rm -rf "$REEL_BLOCK_CACHE"
    : >"$W/.log"
    "$@" >/dev/null 2>"$dir/sig.err" &
    p=$!
    i=0 # wait until the request is at the server
    while ! grep -q "GET .*$stalled" "$W/.log" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    kill -"$sig" $p
    ( sleep 60; kill -9 $p 2>/dev/null ) &
    guard=$!
    wait $p
    got=$?
    kill $guard 2>/dev/null
    same "$got" 1 "$* ended by SIG$sig: exit status"
    contains "$dir/sig.err" "interrupted" "$* ended by SIG$sig says so"
}
stalled=.part
mode stall .part
signal_test INT "$reel" cat "$URL" tree
signal_test TERM "$reel" cat "$URL" tree
signal_test INT "$reel" verify "$URL"
signal_test TERM "$reel" info "$URL" tree
stalled=manifest
mode stall manifest
signal_test INT "$reel" ls "$URL"
signal_test TERM "$reel" stats "$URL"
mode ok

# ---- a server with S3's quirks: chunked bodies, HEAD without a length, ETags unquoted --------
mode quirky
export REEL_BLOCK_CACHE="$dir/cache-quirky"
same "$("$reel" cat "http://127.0.0.1:$hport/pub" tree | md5sum)" "$sum" "every frame read from chunked answers"
ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=640x480:rate=25,noise=alls=100:allf=t \
    -frames:v 30 -c:v libx264 -preset ultrafast -qp 0 "$dir/q.mp4" || exit 1
"$reel" import -q "$dir/q.reel" "$dir/q.mp4" --sequence q --codec intra
qsum=$("$reel" cat "$dir/q.reel" q | md5sum)
: >"$W/.log"
expect 0 "publish over 16 MiB to an S3 server sending ETags unquoted" env AWS_ENDPOINT_URL="http://127.0.0.1:$hport" \
    AWS_ACCESS_KEY_ID=quirk AWS_SECRET_ACCESS_KEY=quirk "$reel" publish "$dir/q.reel" s3://qb/set --part-size 64M
contains "$W/.log" "^POST /qb/set/parts/[0-9a-f]*\.part?uploadId=" "the big part went up in pieces, completed with the unquoted ETags"
same "$(env AWS_ENDPOINT_URL="http://127.0.0.1:$hport" AWS_ACCESS_KEY_ID=quirk AWS_SECRET_ACCESS_KEY=quirk "$reel" cat s3://qb/set q | md5sum)" \
    "$qsum" "every frame read back from the quirky S3 server"
expect 0 "publish again where HEAD gives no length" env AWS_ENDPOINT_URL="http://127.0.0.1:$hport" \
    AWS_ACCESS_KEY_ID=quirk AWS_SECRET_ACCESS_KEY=quirk "$reel" publish "$dir/q.reel" s3://qb/set --part-size 64M
mode ok

# ---- publishing: a full disk, damaged parts, what killed publishes left ------------------------
mkdir -p "$dir/full"
if mount -t tmpfs -o size=1m tmpfs "$dir/full"; then
    expect 1 "publish to a full disk" "$reel" publish "$S" "$dir/full/pub" --part-size 256k
    contains "$dir/err" "No space left on device" "a full disk is reported as such (ENOSPC)"
    if ls "$dir/full/pub/parts" | grep -q '\.tmp$'; then bad "a full disk left temporary files"; else ok; fi
    umount "$dir/full"
else
    bad "cannot mount a small tmpfs (the test needs root)"
fi

# a damaged and a short part in a directory: always checked, sent again
D="$dir/dirpub"
expect 0 "publish to a directory" "$reel" publish "$S" "$D" --part-size 256k
set -- $(ls "$D/parts" | grep '\.part$' | head -2)
printf 'XXXX' | dd of="$D/parts/$1" bs=1 seek=1000 conv=notrunc 2>/dev/null
truncate -s 1000 "$D/parts/$2"
expect 0 "publish again over a damaged and a short part" "$reel" publish "$S" "$D" --part-size 256k --json
same "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["uploaded_parts"])' "$dir/out")" 2 \
    "the damaged and the short part are sent again"
export REEL_BLOCK_CACHE="$dir/cache-dir"
expect 0 "verify the repaired directory" "$reel" verify "$D"
same "$("$reel" cat "$D" tree | md5sum)" "$sum" "every frame of the repaired directory"

# an HTTP destination: a short part (a PUT killed mid-way) is caught by its size; a damaged one
# of the right size by --verify-existing
H="http://127.0.0.1:$hport/hpub"
expect 0 "publish to HTTP" "$reel" publish "$S" "$H" --part-size 256k
set -- $(ls "$W/hpub/parts" | grep '\.part$' | head -2)
truncate -s 5000 "$W/hpub/parts/$1"
expect 0 "publish again over a short part" "$reel" publish "$S" "$H" --part-size 256k --json
same "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["uploaded_parts"])' "$dir/out")" 1 \
    "the short part on the HTTP server is sent again"
printf 'XXXX' | dd of="$W/hpub/parts/$2" bs=1 seek=1000 conv=notrunc 2>/dev/null
expect 0 "publish again, sizes only" "$reel" publish "$S" "$H" --part-size 256k --json
same "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["uploaded_parts"])' "$dir/out")" 0 \
    "without --verify-existing a part of the right size is trusted"
expect 0 "publish again with --verify-existing" "$reel" publish "$S" "$H" --part-size 256k --verify-existing --json
same "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["uploaded_parts"])' "$dir/out")" 1 \
    "--verify-existing sends the damaged part again"
export REEL_BLOCK_CACHE="$dir/cache-http"
same "$("$reel" cat "$H" tree | md5sum)" "$sum" "every frame of the repaired HTTP destination"

# what a killed publish left: a snapshot beside the store, temporary files in the destination
sh -c 'exit 0' &
dead=$!
wait $dead
cp "$S" "$dir/old-snap"
cp "$dir/old-snap" "$S.publish-$dead.tmp"
: >"$S.publish-$dead.tmp-journal"
: >"$S.publish-$$.tmp" # a live process's: kept
: >"$D/parts/x.part.$dead.tmp"
: >"$D/manifest.json.$dead.tmp"
: >"$D/parts/y.part.$$.tmp"
expect 0 "publish after a killed one" "$reel" publish "$S" "$D" --part-size 256k
for f in "$S.publish-$dead.tmp" "$S.publish-$dead.tmp-journal" "$D/parts/x.part.$dead.tmp" "$D/manifest.json.$dead.tmp"; do
    if [ -e "$f" ]; then bad "$(basename "$f") (of a process that is gone) was left"; else ok; fi
done
for f in "$S.publish-$$.tmp" "$D/parts/y.part.$$.tmp"; do
    if [ -e "$f" ]; then ok; else bad "$(basename "$f") of a live process was removed"; fi
done
rm -f "$S.publish-$$.tmp" "$D/parts/y.part.$$.tmp"
# a real kill -9 while the destination stalls: the snapshot is beside the store, then removed
mode stall hpub2
"$reel" publish "$S" "http://127.0.0.1:$hport/hpub2" --part-size 256k >/dev/null 2>&1 &
p=$!
i=0
while ! grep -q " /hpub2/" "$W/.log" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
kill -9 $p
wait $p 2>/dev/null
if ls "$S".publish-$p.tmp >/dev/null 2>&1; then ok; else bad "the snapshot of a publish is not beside the store"; fi
mode ok
expect 0 "publish again after kill -9" "$reel" publish "$S" "http://127.0.0.1:$hport/hpub2" --part-size 256k
if ls "$S".publish-*.tmp* >/dev/null 2>&1; then bad "a snapshot was left: $(ls "$S".publish-*)"; else ok; fi
export REEL_BLOCK_CACHE="$dir/cache-hpub2"
same "$("$reel" cat "http://127.0.0.1:$hport/hpub2" tree | md5sum)" "$sum" "every frame after the rerun"

# S3: an unfinished multipart upload under the prefix (what a publish killed between pieces
# leaves) is aborted by the next publish; one under another prefix is not; then a real one
if sh "$svc/ceph.sh" start "$C" $cport >"$dir/ceph.env"; then
    . "$dir/ceph.env"
    s3c() { curl -s --aws-sigv4 "aws:amz:us-east-1:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
        -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"; }
    s3c -X PUT "$ENDPOINT/frames" >/dev/null
    s3c -X POST "$ENDPOINT/frames/set/parts/00.part?uploads=" >/dev/null
    s3c -X POST "$ENDPOINT/frames/set/parts/01.part?uploads=" >/dev/null
    s3c -X POST "$ENDPOINT/frames/other/parts/02.part?uploads=" >/dev/null
    same "$(s3c "$ENDPOINT/frames?uploads=" | grep -o '<Upload>' | wc -l)" 3 "three unfinished uploads made"
    export AWS_ENDPOINT_URL="$ENDPOINT" AWS_ACCESS_KEY_ID="$ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$SECRET_KEY"
    expect 0 "publish to S3" "$reel" publish "$S" s3://frames/set --part-size 256k
    s3c "$ENDPOINT/frames?uploads=" >"$dir/uploads.xml"
    if grep -q '<Key>set/' "$dir/uploads.xml"; then bad "unfinished uploads under the prefix were left"; else ok; fi
    contains "$dir/uploads.xml" "<Key>other/parts/02.part</Key>" "an upload under another prefix is kept"
    export REEL_BLOCK_CACHE="$dir/cache-s3"
    same "$("$reel" cat s3://frames/set tree | md5sum)" "$sum" "every frame read back from S3"
    # a short object on S3 (as a PUT cut short would leave with a server that keeps it)
    key=$(s3c "$ENDPOINT/frames/set/manifest.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["parts"][1]["key"])')
    printf 'short' | s3c -X PUT --data-binary @- "$ENDPOINT/frames/set/$key" >/dev/null
    expect 0 "publish to S3 over a short part" "$reel" publish "$S" s3://frames/set --part-size 256k --json
    same "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["uploaded_parts"])' "$dir/out")" 1 \
        "the short part on S3 is sent again"
    export REEL_BLOCK_CACHE="$dir/cache-s3b"
    same "$("$reel" cat s3://frames/set tree | md5sum)" "$sum" "every frame read back from S3 after the repair"
    # a real kill -9 while a part goes up in pieces: caught as soon as its upload is listed
    # (a publish that finishes first is tried again under a new prefix)
    ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=640x480:rate=25,noise=alls=100:allf=t \
        -frames:v 40 -c:v libx264 -preset ultrafast -qp 0 "$dir/big.mp4" || exit 1
    B="$dir/big.reel"
    "$reel" import -q "$B" "$dir/big.mp4" --sequence big --codec intra
    bigsum=$("$reel" cat "$B" big | md5sum)
    caught=0 k=0
    while [ $caught = 0 ] && [ $k -lt 5 ]; do
        k=$((k + 1))
        "$reel" publish "$B" s3://frames/kill$k --part-size 64M >/dev/null 2>&1 &
        p=$!
        n=0
        while [ $n -lt 1000 ] && kill -0 $p 2>/dev/null; do
            if s3c "$ENDPOINT/frames?prefix=kill$k%2F&uploads=" | grep -q '<Upload>'; then
                kill -9 $p
                caught=1
                break
            fi
            n=$((n + 1))
        done
        wait $p 2>/dev/null
    done
    same "$caught" 1 "a publish killed while its multipart upload was unfinished"
    expect 0 "publish again after the kill" "$reel" publish "$B" s3://frames/kill$k --part-size 64M
    if s3c "$ENDPOINT/frames?prefix=kill$k%2F&uploads=" | grep -q '<Upload>'; then
        bad "the killed publish's multipart upload was left"; else ok; fi
    if ls "$B".publish-* >/dev/null 2>&1; then bad "the killed publish's snapshot was left"; else ok; fi
    export REEL_BLOCK_CACHE="$dir/cache-kill"
    same "$("$reel" cat s3://frames/kill$k big | md5sum)" "$bigsum" "every frame after the killed publish's rerun"
    echo "S3 publish killed with its upload unfinished after $k attempt(s)"
else
    bad "Ceph did not start"
fi
testlib_done
