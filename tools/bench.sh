#!/bin/sh
# bench.sh - `make bench`: make a test video and run `reel bench` on it.
#   768x576, 25 fps, 500 frames of FFmpeg's moving test pattern with temporal noise (camera-like
#   grain, so the frames do not compress like a clean synthetic pattern), H.264 at CRF 23 (about
#   3.3 Mbit/s, a camera's bitrate) with a fixed 250-frame GOP (no scene-cut keyframes): the
#   random-access case the targets name. Its decoded frames compress a little more easily than
#   the reference camera footage of the targets (zstd -3: 1.9x here, 1.5x there; FFV1: 3.1x, 2.7x).
# Usage: bench.sh REEL [ARGS...]            (ARGS go to reel bench, e.g. --json)
#        bench.sh --python REEL [ARGS...]   (python3 -m reel.bench on the same video; ARGS to it;
#                                            PYTHON names the interpreter)
set -eu
python=""
if [ "$1" = --python ]; then
    python=${PYTHON:-python3}
    shift
fi
reel=$1
shift
video=bench-video.mp4
store=bench.reel
if [ ! -f "$video" ]; then
    echo "bench.sh: making $video (768x576, 500 frames, H.264 CRF 23, GOP 250, noise)" >&2
    ffmpeg -nostdin -v error -y -f lavfi \
        -i "testsrc2=size=768x576:rate=25,noise=alls=16:allf=t+u" -frames:v 500 \
        -c:v libx264 -preset veryfast -crf 23 -pix_fmt yuv420p \
        -x264-params keyint=250:min-keyint=250:scenecut=0 "$video"
fi
rm -f "$store" "$store-wal" "$store-shm"
if [ -n "$python" ]; then
    exec "$python" -m reel.bench "$video" --store "$store" --reel "$reel" "$@"
fi
exec "$reel" bench "$store" bench --video "$video" --pix-fmt native "$@"
