#!/bin/sh
# quickstart.sh - install what is missing, build reel in _build/, and run the main job:
# make a sample video with FFmpeg (moving test pattern with sensor-like noise, H.264 with a
# 250-frame GOP), import it, show it with `reel info`, and read frames back at random.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
sh tools/deps.sh
[ -x configure ] || ./autogen.sh >/dev/null 2>&1
mkdir -p _build/main
cd _build/main
[ -f Makefile ] || "$top/configure" -q
make -s -j"$(nproc)" >/dev/null
reel=./tools/reel/reel
video="$top/_build/sample.mp4"
store="$top/_build/demo.reel"
if [ ! -f "$video" ]; then
    echo "making a sample video: 768x576, 300 frames, H.264, with motion and noise"
    ffmpeg -nostdin -v error -y -f lavfi \
        -i "testsrc2=size=768x576:rate=25,noise=alls=10:allf=t+u" -frames:v 300 \
        -c:v libx264 -preset veryfast -g 250 -pix_fmt yuv420p "$video"
fi
rm -f "$store" "$store-wal" "$store-shm"
$reel import "$store" "$video" --sequence sample
echo
$reel info "$store" sample
echo
./tools/demo/reel-demo "$store" sample 20
echo
echo "Look inside with: sqlite3 -header -column $store 'SELECT * FROM reel_sequences'"
echo "Watch it with:    $top/_build/main/tools/reel/reel cat $store sample --format y4m | ffplay -"
