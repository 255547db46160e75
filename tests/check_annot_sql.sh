#!/bin/sh
# check_annot_sql.sh - annotations from the sqlite3 shell on a real store (schema/010): the
# table's checks and triggers, the reel_frame_annotations view and its plan, and what `reel rm`
# and `import --replace` do to annotations (removed by default; orphaned, then taken back by an
# import of the same frames, with annotations.on_remove = 'orphan'), including a new sequence
# that gets a removed one's id; `reel annotate` in and out (COCO keypoints both ways, reel's
# JSON, CSV), counts in ls and info, and a published directory's readers seeing the chosen
# sequence's annotations.
. "$(dirname "$0")/testlib.sh"
testlib_init annot-sql
q() { sqlite3 -batch "$@"; }

ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=64x48:rate=25 -frames:v 10 \
    -c:v libx264 -preset veryfast -pix_fmt yuv420p "$dir/v.mp4" || exit 1
ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=64x48:rate=25 -frames:v 12 \
    -c:v libx264 -preset veryfast -pix_fmt yuv420p "$dir/w.mp4" || exit 1
S="$dir/s.reel"
"$reel" import "$S" "$dir/v.mp4" --sequence a --quiet || exit 1
"$reel" import "$S" "$dir/w.mp4" --sequence b --quiet || exit 1
A=$(q "$S" "SELECT id FROM reel_sequence WHERE name = 'a'")
B=$(q "$S" "SELECT id FROM reel_sequence WHERE name = 'b'")
same "$(q "$S" "SELECT value >= 10 FROM reel_meta WHERE key = 'schema_version'")" 1 "schema version"
ann() { # SEQ_ID IDX KEY JSON
    q "$S" "INSERT INTO reel_annotation(seq_id, idx, key, kind, value, producer) VALUES($1, $2, '$3', 'json', '$4', 'test')"
}

# the table's checks: each bad row refused, nothing written
for bad in "(99, 0, 'k', 'json', '1', NULL, NULL)" "($A, -1, 'k', 'json', '1', NULL, NULL)" \
    "($A, 0, '', 'json', '1', NULL, NULL)" "($A, 0, 'k', 'text', '1', NULL, NULL)" \
    "($A, 0, 'k', 'json', '{nope', NULL, NULL)" "($A, 0, 'k', 'json', x'00', NULL, NULL)" \
    "($A, 0, 'k', 'blob', x'0000', NULL, NULL)" "($A, 0, 'k', 'blob', x'0000', 'float7', NULL)" \
    "($A, 0, 'k', 'blob', '12', 'uint8', '[2]')" "($A, 0, 'k', 'blob', x'0000', 'uint8', '2')" \
    "($A, 0, 'k', 'json', '1', 'uint8', NULL)" "($A, 1.5, 'k', 'json', '1', NULL, NULL)"; do
    q "$S" "INSERT INTO reel_annotation(seq_id, idx, key, kind, value, dtype, shape) VALUES $bad" \
        2>/dev/null && bad "accepted $bad" || ok
done
q "$S" "UPDATE reel_annotation SET seq_id = 99" 2>/dev/null
same "$(q "$S" "SELECT count(*) FROM reel_annotation")" 0 "no bad row written"
q "$S" "INSERT INTO reel_annotation(seq_id, idx, key, kind, value, dtype, shape) VALUES($A, 2, 'kp', 'blob', zeroblob(12), 'float32', '[3]')" && ok || bad "a good blob row refused"
ann "$A" 3 tag '"walk"' && ok || bad "a good json row refused"
ann "$A" 3 tag '"run"' 2>/dev/null && bad "a second value under one key of one frame" || ok
q "$S" "UPDATE reel_annotation SET seq_id = 99 WHERE key = 'tag'" 2>"$dir/err" && bad "moved to no sequence" || ok
contains "$dir/err" "no sequence has this seq_id" "the trigger's message"
ann "$A" 50 tag '"past the end"'
ann "$B" 3 tag '"b3"'

# the view: annotations of existing frames only, with the frames' times; indexes only
same "$(q "$S" "SELECT group_concat(sequence || ':' || idx || ':' || key || ':' || time_s, ' ') FROM (SELECT * FROM reel_frame_annotations ORDER BY sequence, idx, key)")" \
    "a:2:kp:0.08 a:3:tag:0.12 b:3:tag:0.12" "reel_frame_annotations rows"
for where in "sequence = 'a' AND key = 'tag'" "sequence = 'a' AND idx = 3" "1"; do
    q "$S" "EXPLAIN QUERY PLAN SELECT * FROM reel_frame_annotations WHERE $where" >"$dir/plan"
    if grep -q "SEARCH f USING PRIMARY KEY" "$dir/plan" && ! grep -q "SCAN f\|SCAN a" "$dir/plan"; then ok
    else bad "plan for $where: $(cat "$dir/plan")"; fi
done

# the same plans on a sequence of 100,000 frames with an annotation on each (rows made in SQL,
# in a copy read by sqlite3 only), before and after ANALYZE gives the planner the tables' sizes:
# annotations and frames always searched by index; with ANALYZE's figures SQLite may scan
# reel_sequence instead (a row per sequence: 3 here), never the other two
cp "$S" "$dir/big.reel"
q "$dir/big.reel" "WITH RECURSIVE n(i) AS (SELECT 10 UNION ALL SELECT i + 1 FROM n WHERE i < 100009)
    INSERT INTO reel_frame(seq_id, idx, pts, duration, flags, status, filter, level, checksum, raw_bytes, stored_bytes, blob_id)
    SELECT seq_id, i, 1000000000000 + i, duration, flags, status, filter, level, checksum, raw_bytes, stored_bytes, blob_id FROM n, reel_frame WHERE seq_id = $A AND idx = 0;
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 100009)
    INSERT OR IGNORE INTO reel_annotation(seq_id, idx, key, kind, value, dtype, shape) SELECT $A, i, 'kp', 'blob', zeroblob(12), 'float32', '[3]' FROM n" ||
    bad "making the 100k-frame copy"
same "$(q "$dir/big.reel" "SELECT count(*) FROM reel_frame_annotations WHERE sequence = 'a' AND key = 'kp'")" 100010 "100k rows joined (frames 0..100009)"
for stats in "" "ANALYZE;"; do
    for where in "sequence = 'a' AND key = 'kp'" "sequence = 'a' AND idx = 5000" "sequence = 'a'" "1"; do
        q "$dir/big.reel" "$stats EXPLAIN QUERY PLAN SELECT * FROM reel_frame_annotations WHERE $where" >"$dir/plan"
        if grep -q "SEARCH s USING" "$dir/plan" || [ "$where" = 1 ] || [ -n "$stats" ]; then s_ok=1; else s_ok=0; fi
        if [ $s_ok = 1 ] && grep -q "SEARCH a USING" "$dir/plan" && grep -q "SEARCH f USING PRIMARY KEY" "$dir/plan" &&
            ! grep -q "SCAN f\|SCAN a" "$dir/plan"; then ok
        else bad "100k plan ${stats:+after ANALYZE }for $where: $(cat "$dir/plan")"; fi
    done
done
rm -f "$dir/big.reel"*

# default: removed with their sequence, by rm and by --replace; a new sequence with a reused id
# starts without any
"$reel" rm "$S" b >/dev/null || bad "rm b"
same "$(q "$S" "SELECT count(*) FROM reel_annotation WHERE seq_id = $B OR orphan_of = $B")" 0 "rm removes annotations"
"$reel" import "$S" "$dir/w.mp4" --sequence c --quiet || bad "import c"
C=$(q "$S" "SELECT id FROM reel_sequence WHERE name = 'c'")
same "$C" "$B" "ids are reused (the case the triggers are for)"
same "$(q "$S" "SELECT count(*) FROM reel_frame_annotations WHERE sequence = 'c'")" 0 "no annotations inherited"
"$reel" import "$S" "$dir/w.mp4" --sequence a --replace --quiet || bad "replace a"
same "$(q "$S" "SELECT count(*) FROM reel_annotation")" 0 "--replace removes annotations"

# orphan: kept with the frames' identity, joined to nothing, then taken back by an import of the
# same file with the same options (not by another file, nor by other options)
q "$S" "INSERT INTO reel_meta(key, value) VALUES('annotations.on_remove', 'orphan')"
"$reel" import "$S" "$dir/v.mp4" --sequence d --quiet || bad "import d"
D=$(q "$S" "SELECT id FROM reel_sequence WHERE name = 'd'")
ann "$D" 1 tag '"d1"'
ann "$D" 2 tag '"d2"'
"$reel" rm "$S" d >/dev/null || bad "rm d (orphan)"
same "$(q "$S" "SELECT count(*), count(DISTINCT orphan_of), min(orphan_of), min(source_hash LIKE '% pix_fmt=%') FROM reel_annotation WHERE seq_id IS NULL")" \
    "2|1|$D|1" "rm orphans: seq_id NULL, orphan_of, source_hash"
same "$(q "$S" "SELECT count(*) FROM reel_frame_annotations")" 0 "orphans join no frames"
"$reel" import "$S" "$dir/w.mp4" --sequence e --quiet || bad "import e"
same "$(q "$S" "SELECT count(*) FROM reel_annotation WHERE seq_id IS NOT NULL")" 0 "another file takes nothing"
"$reel" import "$S" "$dir/v.mp4" --sequence f --pix-fmt native --quiet || bad "import f"
same "$(q "$S" "SELECT count(*) FROM reel_annotation WHERE seq_id IS NOT NULL")" 0 "other options take nothing"
"$reel" import "$S" "$dir/v.mp4" --sequence g --quiet || bad "import g"
same "$(q "$S" "SELECT group_concat(sequence || ':' || idx || ':' || value, ' ') FROM (SELECT * FROM reel_frame_annotations ORDER BY idx)")" \
    'g:1:"d1" g:2:"d2"' "the same frames take their annotations back"
same "$(q "$S" "SELECT count(*) FROM reel_annotation WHERE seq_id IS NULL OR orphan_of IS NOT NULL OR source_hash IS NOT NULL")" 0 "no orphan left"
# --replace by another file orphans them; replacing back re-attaches
"$reel" import "$S" "$dir/w.mp4" --sequence g --replace --quiet || bad "replace g by w"
same "$(q "$S" "SELECT count(*) FROM reel_annotation WHERE seq_id IS NULL")" 2 "--replace orphans"
same "$(q "$S" "SELECT count(*) FROM reel_frame_annotations WHERE sequence = 'g'")" 0 "not joined to the new frames"
"$reel" import "$S" "$dir/v.mp4" --sequence g --replace --quiet || bad "replace g by v"
same "$(q "$S" "SELECT count(*) FROM reel_frame_annotations WHERE sequence = 'g'")" 2 "replacing back re-attaches"
# two orphan sets for the same frames: one value per key and frame comes back, none is lost
G=$(q "$S" "SELECT id FROM reel_sequence WHERE name = 'g'")
"$reel" import "$S" "$dir/v.mp4" --sequence h --quiet 2>/dev/null || bad "import h"
H=$(q "$S" "SELECT id FROM reel_sequence WHERE name = 'h'")
ann "$H" 1 tag '"h1"'
ann "$H" 5 tag '"h5"'
"$reel" rm "$S" g >/dev/null && "$reel" rm "$S" h >/dev/null || bad "rm g h"
"$reel" import "$S" "$dir/v.mp4" --sequence i --quiet || bad "import i"
same "$(q "$S" "SELECT (SELECT count(*) FROM reel_frame_annotations WHERE sequence = 'i'), (SELECT count(*) FROM reel_annotation WHERE seq_id IS NULL)")" \
    "3|1" "two orphan sets: 3 back, the duplicate kept orphaned"
# back to the default: removal again
q "$S" "DELETE FROM reel_meta WHERE key = 'annotations.on_remove'"
"$reel" rm "$S" i >/dev/null || bad "rm i"
same "$(q "$S" "SELECT count(*) FROM reel_annotation WHERE seq_id IS NOT NULL")" 0 "default mode removes again"
same "$(q "$S" "PRAGMA integrity_check")" ok "integrity"

# reel annotate: COCO keypoints in (frames by file-name order or by id), reel's JSON and CSV
# out and back in, counts in ls and info, bad files refused with nothing written
P="$dir/p.reel"
"$reel" import "$P" "$dir/v.mp4" --sequence walk --quiet || exit 1
python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
imgs = [{"id": 100 + i, "file_name": "img_%d.png" % (9 - i)} for i in range(10)]
anns = [{"image_id": 100 + i, "keypoints": [i * 1000.0 + j for j in range(51)]} for i in range(0, 10, 2)]
json.dump({"images": imgs, "annotations": anns}, open(d + "/coco.json", "w"))
json.dump({"images": imgs, "annotations": anns + [{"image_id": 102, "keypoints": [1.5] * 51}]}, open(d + "/multi.json", "w"))
json.dump({"images": [{"id": 3, "file_name": "a.png"}], "annotations": [{"image_id": 3, "keypoints": [1.0] * 51}]}, open(d + "/byid.json", "w"))
json.dump({"images": [{"id": 30, "file_name": "a.png"}], "annotations": [{"image_id": 30, "keypoints": [1.0] * 51}]}, open(d + "/past.json", "w"))
json.dump({"images": imgs, "annotations": [{"image_id": 100, "keypoints": [1.0] * 50}]}, open(d + "/short.json", "w"))
PY
expect 0 "annotate --import coco" "$reel" annotate "$P" walk --import "$dir/coco.json"
contains "$dir/out" "5 annotation(s)" "annotate summary"
# img_1.png (id 108, values 8000..) is frame 1 by name
same "$(q "$P" "SELECT group_concat(idx) FROM (SELECT idx FROM reel_frame_annotations WHERE key = 'keypoints' ORDER BY idx)")" "1,3,5,7,9" "COCO frames by file name"
same "$(q "$P" "SELECT dtype, shape, length(value), hex(substr(value, 1, 4)) FROM reel_annotation WHERE idx = 1")" "float32|[17,3]|204|0000FA45" "COCO keypoints as float32 (17, 3)"
expect 1 "several people without --multi" "$reel" annotate "$P" walk --import "$dir/multi.json" --key m
contains "$dir/err" "img_7.png" "the image is named"
same "$(q "$P" "SELECT count(*) FROM reel_annotation WHERE key = 'm'")" 0 "nothing written by a refused import"
expect 0 "--multi" "$reel" annotate "$P" walk --import "$dir/multi.json" --key m --multi --quiet
same "$(q "$P" "SELECT shape FROM reel_annotation WHERE key = 'm' AND idx = 7")" "[2,17,3]" "--multi shape"
expect 0 "--by id" "$reel" annotate "$P" walk --import "$dir/byid.json" --by id --key byid --quiet
same "$(q "$P" "SELECT idx FROM reel_annotation WHERE key = 'byid'")" 3 "--by id frame"
expect 1 "a frame past the end" "$reel" annotate "$P" walk --import "$dir/past.json" --by id --key past
contains "$dir/err" "frame 30 is not in the sequence" "past-the-end message"
expect 1 "keypoints not of 3" "$reel" annotate "$P" walk --import "$dir/short.json" --key short
echo '{"images": [' >"$dir/broken.json"
expect 1 "broken JSON" "$reel" annotate "$P" walk --import "$dir/broken.json"
contains "$dir/err" "broken.json:" "broken JSON message names the file"
printf 'frame,key,value\n1,tag,"""walk"""\n2,tag,"{""a"": [1, 2]}"\n' >"$dir/t.csv"
expect 0 "annotate --import csv" "$reel" annotate "$P" walk --import "$dir/t.csv" --quiet
printf 'frame,key,value\n1,bad,{nope\n' >"$dir/bad.csv"
expect 1 "a CSV value that is not JSON" "$reel" annotate "$P" walk --import "$dir/bad.csv"
contains "$dir/err" "bad.csv:2: a row must be" "bad CSV value message"
printf 'x,tag,1\n' >"$dir/bad2.csv"
expect 1 "a CSV frame that is not a number" "$reel" annotate "$P" walk --import "$dir/bad2.csv"
expect 2 "neither --import nor --export" "$reel" annotate "$P" walk
expect 2 "both" "$reel" annotate "$P" walk --import a --export b
expect 2 "--by what" "$reel" annotate "$P" walk --import a --by what
expect 1 "no such sequence" "$reel" annotate "$P" nope --export -
# out and back: reel's JSON and CSV into another store give the same rows
expect 0 "annotate --export json" "$reel" annotate "$P" walk --export "$dir/all.json"
json_ok "$dir/all.json" "export JSON"
expect 0 "annotate --export csv" "$reel" annotate "$P" walk --export "$dir/all.csv"
Q="$dir/q.reel"
"$reel" import "$Q" "$dir/v.mp4" --sequence walk --quiet || exit 1
"$reel" import "$Q" "$dir/v.mp4" --sequence walk2 --quiet || exit 1
expect 0 "import reel's JSON" "$reel" annotate "$Q" walk --import "$dir/all.json" --quiet
expect 0 "import reel's CSV" "$reel" annotate "$Q" walk2 --import "$dir/all.csv" --quiet
rows="SELECT group_concat(idx || key || kind || coalesce(dtype, '') || coalesce(shape, '') || CASE kind WHEN 'json' THEN json(value) ELSE hex(value) END, ';') FROM (SELECT * FROM reel_annotation WHERE seq_id = (SELECT id FROM reel_sequence WHERE name = '%s') ORDER BY idx, key)"
want=$(q "$P" "$(printf "$rows" walk)")
same "$(q "$Q" "$(printf "$rows" walk)")" "$want" "JSON round trip"
same "$(q "$Q" "$(printf "$rows" walk2)")" "$want" "CSV round trip"
# COCO keypoints out and back: every frame an image (id = index), every person an annotation;
# read back by file-name order and by id, and --multi's (people, 17, 3), to the same bytes
expect 0 "annotate --export coco" "$reel" annotate "$P" walk --export "$dir/out.coco.json" --format coco
json_ok "$dir/out.coco.json" "COCO export"
same "$(python3 - "$dir/out.coco.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
imgs, anns, cat = d["images"], d["annotations"], d["categories"][0]
print(len(imgs), [i["id"] for i in imgs] == list(range(10)), imgs[3]["file_name"], imgs[3]["width"], imgs[3]["height"],
      [a["image_id"] for a in anns], anns[0]["keypoints"][:2], anns[0]["num_keypoints"], len(anns[0]["keypoints"]),
      len({a["id"] for a in anns}), cat["name"], cat["keypoints"][0], cat["keypoints"][16], len(cat["skeleton"]), d["sequence"])
PY
)" "10 True 000003.png 64 48 [1, 3, 5, 7, 9] [8000.0, 8001.0] 17 51 5 person nose right_ankle 19 walk" "COCO export content"
expect 0 "annotate --export coco --key m" "$reel" annotate "$P" walk --export "$dir/m.coco.json" --format coco --key m
same "$(python3 -c 'import json, sys; print([a["image_id"] for a in json.load(open(sys.argv[1]))["annotations"]])' "$dir/m.coco.json")" \
    "[1, 3, 5, 7, 7, 9]" "(people, 17, 3): one annotation a person"
R="$dir/r.reel"
"$reel" import "$R" "$dir/v.mp4" --sequence walk --quiet || exit 1
"$reel" import "$R" "$dir/v.mp4" --sequence walk2 --quiet || exit 1
expect 0 "import the COCO export by order" "$reel" annotate "$R" walk --import "$dir/out.coco.json" --quiet
expect 0 "import the COCO export by id" "$reel" annotate "$R" walk2 --import "$dir/out.coco.json" --by id --quiet
expect 0 "import the --multi COCO export" "$reel" annotate "$R" walk --import "$dir/m.coco.json" --multi --key m --quiet
krows="SELECT group_concat(idx || key || dtype || shape || hex(value), ';') FROM (SELECT * FROM reel_annotation WHERE seq_id = (SELECT id FROM reel_sequence WHERE name = '%s') AND key IN ('keypoints', 'm') ORDER BY idx, key)"
want=$(q "$P" "$(printf "$krows" walk)")
same "$(q "$R" "$(printf "$krows" walk)")" "$want" "COCO round trip (by order, --multi)"
same "$(q "$R" "$(printf "$krows" walk2 | sed "s/'keypoints', 'm'/'keypoints'/")")" \
    "$(q "$P" "$(printf "$krows" walk | sed "s/'keypoints', 'm'/'keypoints'/")")" "COCO round trip (by id)"
# a key that is not keypoints, or a value JSON cannot hold: refused naming sequence, key and
# frame, no file written
expect 1 "COCO export of a JSON key" "$reel" annotate "$P" walk --export "$dir/tag.coco.json" --format coco --key tag
contains "$dir/err" "walk: 'tag' of frame 1 is not COCO keypoints" "not-keypoints message"
[ ! -e "$dir/tag.coco.json" ] && ok || bad "a refused COCO export left a file"
q "$P" "INSERT INTO reel_annotation(seq_id, idx, key, kind, value, dtype, shape) SELECT id, 4, 'nan', 'blob', x'0000c07f0000803f0000803f', 'float32', '[1,3]' FROM reel_sequence WHERE name = 'walk'"
expect 1 "COCO export of a NaN" "$reel" annotate "$P" walk --export "$dir/nan.coco.json" --format coco --key nan
contains "$dir/err" "'nan' of frame 4: value 0 is not a finite number" "NaN message (COCO)"
expect 1 "JSON export of a NaN" "$reel" annotate "$P" walk --export "$dir/nan.json" --key nan
contains "$dir/err" "'nan' of frame 4: value 0 is NaN" "NaN message (reel's JSON)"
[ ! -e "$dir/nan.json" ] && [ ! -e "$dir/nan.coco.json" ] && ok || bad "a refused export left a file"
q "$P" "DELETE FROM reel_annotation WHERE key = 'nan'"
expect 0 "ls" "$reel" ls "$P"
contains "$dir/out" "ANNOTS" "ls annotation column"
contains "$dir/out" " 13  " "ls annotation count"
expect 0 "info" "$reel" info "$P" walk --json
contains "$dir/out" '"annotations": 13' "info annotation count"
contains "$dir/out" 'keypoints (5)' "info keys"

# reel publish of one sequence to a directory: its annotations go, another's do not, and
# readers of the published store (ls, info, annotate --export) see them as in the store
"$reel" import "$P" "$dir/w.mp4" --sequence run --quiet || exit 1
printf 'frame,key,value\n0,tag,"""run"""\n' >"$dir/run.csv"
expect 0 "annotate run" "$reel" annotate "$P" run --import "$dir/run.csv" --quiet
expect 0 "publish walk" "$reel" publish "$P" "$dir/pub" --sequence walk --quiet
expect 0 "ls the published store" "$reel" ls "$dir/pub" --json
same "$(python3 -c 'import json, sys; print([(s["name"], s["annotations"]) for s in json.load(open(sys.argv[1]))])' "$dir/out")" \
    "[('walk', 13)]" "published: the chosen sequence and its annotation count"
expect 0 "info on the published store" "$reel" info "$dir/pub" walk --json
contains "$dir/out" 'byid (1), keypoints (5), m (5), tag (2)' "published: the count per key"
expect 0 "export from the store" "$reel" annotate "$P" walk --export "$dir/here.json"
expect 0 "export from the published store" "$reel" annotate "$dir/pub" walk --export "$dir/there.json"
cmp -s "$dir/here.json" "$dir/there.json" && ok || bad "the published annotations differ from the store's"
expect 0 "COCO export from the published store" "$reel" annotate "$dir/pub" walk --export "$dir/there.coco.json" --format coco
cmp -s "$dir/out.coco.json" "$dir/there.coco.json" && ok || bad "the published COCO export differs"
expect 1 "the unchosen sequence is not published" "$reel" annotate "$dir/pub" run --export -
expect 1 "annotate --import into a published store" "$reel" annotate "$dir/pub" walk --import "$dir/t.csv"
testlib_done
