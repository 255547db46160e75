#!/bin/sh
# ingest.sh - `make bench`'s figures for frames in from anywhere and labels beside them (issue
# 20), each against a baseline measured in the same run, with the cores and the load:
#   - `reel import` of N PNGs (640x480 rgb24; N = REEL_BENCH_PNGS, default 10000) against
#     `ffmpeg -i %05d.png -f null -` decoding them alone. The PNGs are decoded once from a
#     camera-like clip (FFmpeg's test pattern with temporal grain through H.264 CRF 23, as a
#     camera gives it), in a temporary directory removed at the end;
#   - 1,000 of those frames appended from one numpy array through libreel against `reel
#     import` of the same frames as a video (tools/bench/ingest.py append);
#   - the join of frames and annotations for one sequence of 100,000 frames against reading the
#     annotations alone, and the view's query plan: indexes only (tools/bench/ingest.py join).
# Usage: ingest.sh REEL   (in the build directory: libreel from src/.libs; PYTHON names the
#                          interpreter, else the first python3 with numpy; TMPDIR where the PNGs go)
set -eu
reel=$1
n=${REEL_BENCH_PNGS:-10000}
py=${PYTHON:-}
for p in python3 /usr/bin/python3; do # the first with numpy
    [ -n "$py" ] || ! "$p" -c "import numpy" 2>/dev/null || py=$p
done
[ -n "$py" ] || { echo "ingest: no python3 with numpy (set PYTHON)" >&2; exit 1; }
here=$(dirname "$0")
lib=$(pwd)/src/.libs/libreel.so
tmp=$(mktemp -d "${TMPDIR:-/tmp}/reel-ingest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
since() { echo "$(now) $1" | awk '{printf "%.2f", $1 - $2}'; }
load() { cut -d' ' -f1 /proc/loadavg; }
echo "ingest: $(nproc) cores, load $(load) at the start" >&2

echo "ingest: making $n PNGs 640x480 from a camera-like clip in $tmp" >&2
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=640x480:rate=25,noise=alls=12:allf=t+u" \
    -frames:v "$((n > 1000 ? n : 1000))" -c:v libx264 -preset veryfast -crf 23 -pix_fmt yuv420p "$tmp/clip.mp4"
mkdir "$tmp/png"
ffmpeg -nostdin -v error -i "$tmp/clip.mp4" -frames:v "$n" -pix_fmt rgb24 "$tmp/png/%05d.png"
png_bytes=$(du -sb "$tmp/png" | cut -f1)

t0=$(now)
ffmpeg -nostdin -v error -i "$tmp/png/%05d.png" -f null -
t_ffmpeg=$(since "$t0")
load_ffmpeg=$(load)
t0=$(now)
"$reel" import "$tmp/png.reel" "$tmp/png/%05d.png" --sequence png --quiet
t_reel=$(since "$t0")
load_reel=$(load)
got=$(sqlite3 "$tmp/png.reel" "SELECT frames FROM reel_sequence WHERE name = 'png'")
[ "$got" = "$n" ] || { echo "ingest: the import holds $got frames, not $n" >&2; exit 1; }
store_bytes=$(du -b "$tmp/png.reel" | cut -f1)
echo "$n $t_ffmpeg $t_reel $png_bytes $store_bytes $load_ffmpeg $load_reel $(nproc)" | awk '{
    printf "pngs: %d PNGs 640x480: ffmpeg -i %%05d.png -f null - %.2f s (%.0f frames/s, load %s), ", $1, $2, $1 / $2, $6
    printf "reel import %.2f s (%.0f frames/s, load %s): %.2fx the decode alone; ", $3, $1 / $3, $7, $3 / $2
    printf "PNGs %.0f MB, store %.0f MB (%.2fx smaller); %d cores\n", $4 / 1e6, $5 / 1e6, $4 / $5, $8 }'
rm -rf "$tmp/png" "$tmp/png.reel"*

"$py" "$here/ingest.py" append "$tmp/clip.mp4" "$reel" "$lib" "$tmp"
echo "append: load $(load), $(nproc) cores" >&2
rm -f "$tmp"/*.reel* "$tmp"/*.nut
"$py" "$here/ingest.py" join "$lib" "$tmp"
echo "join: load $(load), $(nproc) cores" >&2
