#!/bin/sh
# check_sql.sh - the store from the sqlite3 shell: the loadable extension in a real sqlite3
# process, the views (empty, migrated, with user tables, 1,000,000 frames), and `reel stats`.
. "$(dirname "$0")/testlib.sh"
testlib_init sql
ext="$top/src/.libs/reel"
# A sanitizer build's extension needs its runtime loaded first into the (plain) sqlite3 shell;
# leaks are not checked there, as the shell itself is not ours.
pre=$(ldd "$ext.so" 2>/dev/null | awk '/lib(asan|ubsan|tsan)\.so/ {print $3}' | tr '\n' ' ')
q() { LD_PRELOAD="$pre" ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" sqlite3 -cmd ".load $ext" "$@"; }

if [ ! -f "$ext.so" ]; then
    echo "the extension was not built: $ext.so"
    exit 1
fi
ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=96x64:rate=25,noise=alls=8:allf=t \
    -frames:v 20 -c:v libx264 -preset veryfast -pix_fmt yuv420p "$dir/v.mp4" || exit 1
S="$dir/s.reel"
"$reel" import "$S" "$dir/v.mp4" --sequence rgb --quiet || exit 1
"$reel" import "$S" "$dir/v.mp4" --sequence yuv --pix-fmt native --quiet || exit 1

# the functions, on good frames
same "$(q "$S" "SELECT reel_version()")" "$("$reel" --version | cut -d' ' -f2)" "reel_version()"
for seq in rgb yuv; do
    q "$S" "SELECT writefile('$dir/$seq.px', reel_pixels('$seq', 7))" >/dev/null
    "$reel" export "$S" "$seq" 7 -o "$dir/$seq.raw" 2>/dev/null
    if cmp -s "$dir/$seq.px" "$dir/$seq.raw"; then ok; else bad "reel_pixels('$seq', 7) differs from the library's read"; fi
done
q "$S" "SELECT writefile('$dir/f.png', reel_png('rgb', 7))" >/dev/null
ffmpeg -nostdin -v error -i "$dir/f.png" -f rawvideo -pix_fmt rgb24 - >"$dir/png.rgb" 2>/dev/null
if cmp -s "$dir/png.rgb" "$dir/rgb.raw"; then ok; else bad "reel_png does not decode to the stored rgb24 pixels"; fi
same "$(q "$S" "SELECT count(*) FROM reel_frames WHERE reel_checksum_ok(sequence, idx)")" 40 "reel_checksum_ok on every frame"
same "$(q "$S" "SELECT reel_pixels('rgb', 99) IS NULL, reel_png('nope', 1) IS NULL, reel_checksum_ok('rgb', -1) IS NULL")" "1|1|1" "missing frames give NULL"
q "$S" "SELECT reel_pixels('rgb', 'x')" >/dev/null 2>"$dir/err" && bad "a text index was accepted" || ok

# a damaged blob: an SQL error naming the frame, never a crash
sqlite3 "$S" "UPDATE reel_blob SET data = substr(data, 1, length(data) - 9) WHERE id = (SELECT blob_id FROM reel_frame f JOIN reel_sequence s ON s.id = f.seq_id WHERE s.name = 'rgb' AND f.idx = 4)"
q "$S" "SELECT length(reel_pixels('rgb', 4))" >"$dir/out" 2>"$dir/err"
st=$?
if [ "$st" -ne 0 ] && grep -q "sequence 'rgb' frame 4" "$dir/err"; then ok; else bad "damaged blob: exit $st, $(cat "$dir/err")"; fi
q "$S" "SELECT length(reel_png('rgb', 4))" >/dev/null 2>"$dir/err" && bad "reel_png on a damaged blob succeeded" || ok
# frame 5 is damaged with it when it was coded against frame 4 (temporal), not otherwise; frame
# 8 starts a new chain (keyint 4: chains start at multiples of 4)
same "$(q "$S" "SELECT reel_checksum_ok('rgb', 4), reel_checksum_ok('rgb', 5) = (SELECT ref IS NULL FROM reel_frames WHERE sequence = 'rgb' AND idx = 5), reel_checksum_ok('rgb', 8)")" "0|1|1" "reel_checksum_ok on a damaged blob and its dependents"

# views on an empty store
E="$dir/empty.reel"
echo "not a video" >"$dir/t.mp4"
"$reel" import "$E" "$dir/t.mp4" --quiet 2>/dev/null
same "$(sqlite3 "$E" "SELECT (SELECT count(*) FROM reel_sequences), (SELECT count(*) FROM reel_frames), (SELECT count(*) FROM reel_hot_frames), (SELECT count(*) FROM reel_sequence_stats)")" "0|0|0|0" "views on an empty store"

# a store at schema version 1 (tables only) with a user's table: migrated by a read-write open
M="$dir/m.reel"
cp "$S" "$M"
sqlite3 "$M" "DROP VIEW reel_sequences; DROP VIEW reel_frames; DROP VIEW reel_hot_frames; DROP VIEW reel_sequence_stats; DROP TABLE reel_source; UPDATE reel_meta SET value = 1 WHERE key = 'schema_version'; CREATE TABLE labels(sequence TEXT, idx INTEGER, label TEXT); INSERT INTO labels VALUES ('rgb', 3, 'person'), ('rgb', 5, 'car'), ('yuv', 3, 'dog');"
"$reel" ls "$M" >/dev/null 2>"$dir/err" && bad "a read-only open migrated a v1 store" || ok
grep -q "older" "$dir/err" && ok || bad "v1 store message: $(cat "$dir/err")"
"$reel" rm "$M" no-such-sequence >/dev/null 2>&1
same "$(sqlite3 "$M" "SELECT value FROM reel_meta WHERE key = 'schema_version'")" 4 "migrated to the latest version"
same "$(sqlite3 "$M" "SELECT group_concat(x, ',') FROM (SELECT l.label || ':' || (f.stored_bytes > 0) AS x FROM labels l JOIN reel_frames f ON f.sequence = l.sequence AND f.idx = l.idx ORDER BY l.label)")" "car:1,dog:1,person:1" "join a user table with reel_frames"
same "$(sqlite3 "$M" "SELECT frames, ok FROM reel_sequence_stats WHERE sequence = 'yuv'")" "20|20" "reel_sequence_stats after migration"

# reel stats and the access views on known counts
sqlite3 "$S" "DELETE FROM reel_access; WITH RECURSIVE n(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM n WHERE v < 9) INSERT INTO reel_access(seq_id, idx, count, last_access) SELECT (SELECT id FROM reel_sequence WHERE name = 'yuv'), v, v * 10, 1700000000000 + v FROM n"
same "$(sqlite3 "$S" "SELECT sequence, idx, access_count FROM reel_hot_frames LIMIT 1")" "yuv|9|90" "reel_hot_frames order"
same "$(sqlite3 "$S" "SELECT accesses, frames_read, share_read FROM reel_sequence_stats WHERE sequence = 'yuv'")" "450|9|0.45" "reel_sequence_stats accesses"
"$reel" stats "$S" yuv --top 3 >"$dir/stats" 2>&1 || bad "reel stats failed"
grep -q "^yuv  *20  *450  *9  *11  *45.0%" "$dir/stats" && ok || bad "stats summary line: $(cat "$dir/stats")"
grep -q "yuv  *9  *90" "$dir/stats" && ok || bad "stats hottest frame"
grep -q "mean accesses per frame along 'yuv'" "$dir/stats" && ok || bad "stats histogram"
"$reel" stats "$S" --json >"$dir/stats.json" || bad "stats --json failed"
same "$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); y=[s for s in d['sequences'] if s['sequence']=='yuv'][0]; print(y['accesses'], y['never_read'], d['hottest'][0]['idx'], len(y['mean_accesses_per_frame']))" "$dir/stats.json")" "450 11 9 20" "stats --json"
"$reel" stats "$S" nosuch >/dev/null 2>&1 && bad "stats on a missing sequence succeeded" || ok

# 1,000,000 frames: single-frame lookups through the views use indexes only
B="$dir/big.reel"
cp "$S" "$B"
sqlite3 "$B" "INSERT INTO reel_sequence(name, width, height, pix_fmt, tb_num, tb_den, frames) VALUES ('big', 8, 8, 'gray8', 1, 25, 1000000); WITH RECURSIVE n(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM n WHERE v < 999999) INSERT INTO reel_frame(seq_id, idx, pts, duration, flags, status, filter, level, checksum, raw_bytes, stored_bytes, blob_id) SELECT (SELECT id FROM reel_sequence WHERE name = 'big'), v, v, 1, 0, 1, 1, 1, 0, 0, 0, NULL FROM n; INSERT INTO reel_access SELECT (SELECT id FROM reel_sequence WHERE name = 'big'), 777777, 5, 1700000000000;"
for sql in "SELECT * FROM reel_frames WHERE sequence = 'big' AND idx = 123456" \
    "SELECT * FROM reel_hot_frames WHERE sequence = 'big' AND idx = 777777" \
    "SELECT * FROM reel_frames WHERE sequence = 'big' AND idx BETWEEN 5000 AND 5010"; do
    plan=$(sqlite3 "$B" "EXPLAIN QUERY PLAN $sql")
    if echo "$plan" | grep -q "SCAN"; then bad "full scan in: $sql"; echo "$plan"; else ok; fi
done
same "$(sqlite3 "$B" "SELECT time_s FROM reel_frames WHERE sequence = 'big' AND idx = 500000")" "20000.0" "lookup on 1M frames"
same "$(sqlite3 "$B" "SELECT frames, skipped FROM reel_sequence_stats WHERE sequence = 'big'")" "1000000|1000000" "reel_sequence_stats on 1M frames"
t0=$(date +%s%N)
sqlite3 "$B" "SELECT * FROM reel_sequence_stats" >/dev/null
t1=$(date +%s%N)
echo "reel_sequence_stats over 1,000,040 frames: $(((t1 - t0) / 1000000)) ms (information, not asserted)"

testlib_done
