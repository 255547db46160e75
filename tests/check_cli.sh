#!/bin/sh
# check_cli.sh - the `reel` tool as a user runs it: exit codes, messages, --json, progress,
# cat/export output checked with FFmpeg, verify on a damaged store, Ctrl-C and resume.
. "$(dirname "$0")/testlib.sh"
testlib_init cli

ff="ffmpeg -nostdin -v error -y"
$ff -f lavfi -i testsrc2=size=160x120:rate=25,noise=alls=8:allf=t -frames:v 40 \
    -c:v libx264 -preset veryfast -pix_fmt yuv420p "$dir/clip.mp4" || exit 1
$ff -f lavfi -i testsrc2=size=320x240:rate=25,noise=alls=8:allf=t -frames:v 400 \
    -c:v libx264 -preset veryfast -pix_fmt yuv420p "$dir/long.mp4" || exit 1
echo "not a video" >"$dir/text.mp4"
S="$dir/s.reel"

# usage and help
expect 2 "no arguments" "$reel"
expect 0 "--help" "$reel" --help
contains "$dir/out" "import" "--help lists commands"
expect 0 "--version" "$reel" --version
expect 2 "unknown command" "$reel" frobnicate "$S"
contains "$dir/err" "reel: unknown command" "unknown command message"
for c in import ls info cat export verify rm stats bench; do
    expect 0 "$c --help" "$reel" "$c" --help
    contains "$dir/out" "usage: reel $c" "$c --help"
done
expect 2 "import without video" "$reel" import "$S"
expect 2 "bad --on-error" "$reel" import "$S" "$dir/clip.mp4" --on-error sometimes
expect 2 "bad --pix-fmt" "$reel" import "$S" "$dir/clip.mp4" --pix-fmt nv12
expect 2 "bad --scale" "$reel" import "$S" "$dir/clip.mp4" --scale 12

# import: summary on stderr, JSON on stdout, idempotent rerun
expect 0 "import" "$reel" import "$S" "$dir/clip.mp4" --pix-fmt native
contains "$dir/err" "clip.mp4: 40 frames 160x120 yuv420p" "import summary line"
expect 0 "import again" "$reel" import "$S" "$dir/clip.mp4" --pix-fmt native
contains "$dir/err" "nothing to do" "rerun says nothing to do"
expect 0 "import --json --quiet" "$reel" import "$S" "$dir/clip.mp4" --sequence rgb --json --quiet
json_ok "$dir/out" "import --json"
if [ -s "$dir/err" ]; then bad "--quiet printed: $(cat "$dir/err")"; else ok; fi
expect 1 "import a different file under a taken name" "$reel" import "$S" "$dir/long.mp4" --sequence rgb
contains "$dir/err" "replace" "conflict message mentions replace"

# hostile input: exit 1, a message naming the file, nothing left behind
expect 1 "import a text file" "$reel" import "$S" "$dir/text.mp4"
contains "$dir/err" "reel: .*text.mp4: not a video FFmpeg can read" "text file message"
expect 1 "import a missing file" "$reel" import "$S" "$dir/nope.mp4"
contains "$dir/err" "nope.mp4" "missing file message"
expect 0 "ls --json" "$reel" ls "$S" --json
json_ok "$dir/out" "ls --json"
if grep -q '"text"' "$dir/out"; then bad "a failed import left a sequence"; else ok; fi
expect 0 "ls" "$reel" ls "$S"
contains "$dir/out" "clip" "ls shows the sequence"

# info
expect 0 "info --json" "$reel" info "$S" clip --json
json_ok "$dir/out" "info --json"
contains "$dir/out" '"status_ok": 40' "info status counts"
expect 0 "info" "$reel" info "$S" clip
contains "$dir/out" "import_complete    yes" "info import record"
expect 1 "info on a missing sequence" "$reel" info "$S" nosuch
contains "$dir/err" "reel: .*nosuch" "missing sequence message"

# cat: raw is what ffmpeg decodes; y4m goes through ffmpeg unchanged
"$reel" cat "$S" clip >"$dir/raw" 2>"$dir/err" && ok || bad "cat raw"
$ff -i "$dir/clip.mp4" -f rawvideo -pix_fmt yuv420p - >"$dir/ref" 2>/dev/null
if cmp -s "$dir/raw" "$dir/ref"; then ok; else bad "cat raw differs from ffmpeg's frames"; fi
"$reel" cat "$S" clip --format y4m | $ff -f yuv4mpegpipe -i - -f rawvideo -pix_fmt yuv420p - >"$dir/y4m" 2>/dev/null
if cmp -s "$dir/y4m" "$dir/ref"; then ok; else bad "cat --format y4m through ffmpeg differs"; fi
"$reel" cat "$S" rgb --format y4m --from 5 --count 3 | $ff -f yuv4mpegpipe -i - -f null - 2>"$dir/err" && ok ||
    bad "y4m of an rgb24 sequence does not play: $(cat "$dir/err")"
n=$("$reel" cat "$S" clip --from 10 --count 5 | wc -c)
if [ "$n" -eq $((5 * 160 * 120 * 3 / 2)) ]; then ok; else bad "cat --from/--count wrote $n bytes"; fi
expect 1 "cat past the end" sh -c "'$reel' cat '$S' clip --from 39 --count 5 > /dev/null"
# reads by cat and export are counted once per frame; verify's are not
n=$(sqlite3 "$S" "SELECT group_concat(access_count) FROM reel_frames WHERE sequence = 'clip' AND idx IN (9, 10, 14, 15)")
if [ "$n" = "2,3,3,2" ]; then ok; else bad "access counts after cat: $n, wanted 2,3,3,2"; fi

# export: a PNG that decodes to the stored rgb24 pixels; PPM and PGM headers
expect 0 "export png" "$reel" export "$S" rgb 7 -o "$dir/f.png"
expect 0 "export raw" "$reel" export "$S" rgb 7 -o "$dir/f.raw"
$ff -i "$dir/f.png" -f rawvideo -pix_fmt rgb24 - >"$dir/png.rgb" 2>/dev/null
if cmp -s "$dir/png.rgb" "$dir/f.raw"; then ok; else bad "the PNG does not decode to the stored pixels"; fi
expect 0 "export ppm" "$reel" export "$S" clip 3 -o "$dir/f.ppm"
if [ "$(head -c 2 "$dir/f.ppm")" = "P6" ]; then ok; else bad "ppm header"; fi
expect 0 "export pgm" "$reel" export "$S" clip 3 -o "$dir/f.pgm"
if [ "$(head -c 2 "$dir/f.pgm")" = "P5" ]; then ok; else bad "pgm header"; fi
expect 2 "export to an unknown type" "$reel" export "$S" clip 3 -o "$dir/f.gif"
expect 1 "export a missing frame" "$reel" export "$S" clip 400 -o "$dir/g.png"

# verify: clean, then a damaged blob named by sequence and frame
expect 0 "verify" "$reel" verify "$S"
contains "$dir/out" "0 bad" "verify summary"
sqlite3 "$S" "UPDATE reel_blob SET data = substr(data, 1, 100) WHERE id = (SELECT blob_id FROM reel_frame f JOIN reel_sequence s ON s.id = f.seq_id WHERE s.name = 'clip' AND f.idx = 12)"
expect 1 "verify a damaged store" "$reel" verify "$S" clip
contains "$dir/err" "sequence 'clip' frame 12" "verify names the bad frame"

# codecs: the same frames whichever way they are stored; a damaged reference is named in every
# frame that needs it
T="$dir/t.reel"
for c in intra temporal auto; do
    expect 0 "import --codec $c" "$reel" import -q "$T" "$dir/long.mp4" --sequence $c --codec $c --keyint 6
done
same "$("$reel" cat "$T" temporal | md5sum)" "$("$reel" cat "$T" intra | md5sum)" "temporal frames equal intra's"
same "$("$reel" cat "$T" auto | md5sum)" "$("$reel" cat "$T" intra | md5sum)" "auto frames equal intra's"
expect 0 "info shows the codec" "$reel" info "$T" temporal
contains "$dir/out" "codec              temporal" "info codec"
expect 0 "ls shows the codec" "$reel" ls "$T"
contains "$dir/out" "temporal" "ls codec column"
expect 2 "--codec bad" "$reel" import "$T" "$dir/long.mp4" --codec lossy
expect 2 "--keyint 65" "$reel" import "$T" "$dir/long.mp4" --keyint 65
d=$(sqlite3 "$T" "SELECT min(idx) FROM reel_frames WHERE sequence = 'temporal' AND ref IS NOT NULL AND idx % 6 != 5")
if [ -n "$d" ]; then
    sqlite3 "$T" "UPDATE reel_blob SET data = zeroblob(length(data)) WHERE id = (SELECT blob_id FROM reel_frame f JOIN reel_sequence s ON s.id = f.seq_id WHERE s.name = 'temporal' AND f.idx = $d - 1)"
    expect 1 "verify a damaged reference" "$reel" verify "$T" temporal
    contains "$dir/err" "frame $d: its reference frame $((d - 1))" "verify names the frame that needs the damaged one"
else
    bad "no temporal frame in the temporal import"
fi

# bench: usage errors, a bad video, then a small run with --json and one as a table
B="$dir/b.reel"
small="--random 20 --seeks 3 --sample 10"
expect 2 "bench without --video" "$reel" bench "$B" clip
expect 2 "bench --random 0" "$reel" bench "$B" clip --video "$dir/clip.mp4" --random 0
expect 1 "bench on a text file" "$reel" bench "$B" t --video "$dir/text.mp4" $small
contains "$dir/err" "reel: .*text.mp4" "bench names the bad video"
expect 0 "bench --json" "$reel" bench "$B" clip --video "$dir/clip.mp4" --pix-fmt native $small --json
json_ok "$dir/out" "bench --json"
if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
keys = [f["key"] for f in d["figures"]]
want = ["import", "import_efficiency", "compress_cpu", "random_access", "peak_rss",
        "cold_read_codec", "cold_read_fill", "cold_read_zstd", "cold_read_pread", "hits_1",
        "hits_2", "cpu_scaling", "readahead", "scan_1", "scan_all", "size_zstd", "size_ffv1",
        "ratio_temporal_ffv1", "ratio_intra_ffv1", "ratio_temporal_intra", "ratio_temporal_zstd",
        "ratio_intra_zstd",
        "delta_decode", "temporal_share", "import_ffv1", "ratio_h264", "random_h264"]
assert keys == want, keys
assert d["pixels_checked"] == 3 and d["pixels_mismatched"] == 0
assert d["video"]["frames"] == 40 and d["machine"]["cores"] >= 1
# every figure measured (a sample with no temporal frame has no temporal decode speed)
assert all(f["reel"] > 0 for f in d["figures"] if f["key"] not in ("delta_decode", "temporal_share")), \
    [f for f in d["figures"] if f["reel"] <= 0]
' "$dir/out"; then ok; else bad "bench --json figures"; fi
expect 0 "bench on an imported sequence" "$reel" bench "$B" clip --video "$dir/clip.mp4" $small
contains "$dir/out" "random access" "bench table"
contains "$dir/out" "pixels: 3 of 3" "bench checks FFmpeg's pixels against reel's"
contains "$dir/err" "scratch store" "bench imports into a scratch store"
if ls "$dir" | grep -q bench-; then bad "bench left scratch files: $(ls "$dir")"; else ok; fi
expect 1 "bench with another video than the sequence's" "$reel" bench "$B" clip --video "$dir/long.mp4" $small
contains "$dir/err" "was imported from .*clip.mp4" "bench names the sequence's own video"
same "$(sqlite3 "$B" 'SELECT coalesce(sum(count), 0) FROM reel_access')" 0 "bench reads are not counted"

# rm
expect 0 "rm" "$reel" rm "$S" clip
expect 1 "rm again" "$reel" rm "$S" clip
contains "$dir/err" "reel: " "rm error prefix"

# progress lines when stderr is not a terminal, Ctrl-C, and resume
L="$dir/l.reel"
"$reel" import "$L" "$dir/long.mp4" 2>"$dir/int.err" &
pid=$!
i=0
while [ $i -lt 500 ]; do
    n=$(sqlite3 "$L" "SELECT coalesce(max(frames), 0) FROM reel_sequence" 2>/dev/null || echo 0)
    [ "${n:-0}" -ge 16 ] && break
    sleep 0.01
    i=$((i + 1))
done
kill -INT $pid
wait $pid
st=$?
if [ "$st" -eq 1 ]; then ok; else bad "Ctrl-C: exit $st, wanted 1"; fi
contains "$dir/int.err" "interrupted" "Ctrl-C message"
expect 0 "resume after Ctrl-C" "$reel" import "$L" "$dir/long.mp4"
contains "$dir/err" "400 frames.*resumed" "resumed import summary"
"$reel" cat "$L" long | md5sum >"$dir/a.md5"
expect 0 "clean import" "$reel" import "$dir/c.reel" "$dir/long.mp4"
"$reel" cat "$dir/c.reel" long | md5sum >"$dir/b.md5"
if cmp -s "$dir/a.md5" "$dir/b.md5"; then ok; else bad "resumed frames differ from a clean import"; fi

testlib_done
