#!/bin/sh
# bench.sh - `make bench`: make the test videos and run `reel bench` on each.
#   768x576, 25 fps, 500 frames of FFmpeg's moving test pattern with temporal noise (camera-like
#   grain, so the frames do not compress like a clean synthetic pattern), H.264 at CRF 23 (about
#   3.3 Mbit/s, a camera's bitrate) with a fixed 250-frame GOP (no scene-cut keyframes): the
#   random-access case the targets name. Its decoded frames compress a little more easily than
#   the reference camera footage of the targets (zstd -3: 1.9x here, 1.5x there; FFV1: 3.1x, 2.7x).
#   With a Ceph RADOS Gateway started on loopback (tests/services/ceph.sh), the sequence is also
#   published to it and read back (the remote section).
#   Then, for the codec modes: a static camera, generated (a still scene with sensor noise and
#   a person-sized box walking through it, H.264 at 2 Mbit/s, a surveillance camera's rate),
#   and real (tests/media/tree.avi: a tree in the wind, Cinepak 320x240).
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
# the remote section reads the sequence back from a one-node Ceph RADOS Gateway on loopback
ceph="$(pwd)/bench-ceph"
svc="${srcdir:-.}/tests/services"
remote=""
if sh "$svc/ceph.sh" start "$ceph" 27480 >bench-ceph.env 2>bench-ceph.err; then
    . ./bench-ceph.env
    export AWS_ENDPOINT_URL="$ENDPOINT" AWS_ACCESS_KEY_ID="$ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$SECRET_KEY"
    curl -s -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
        -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -X PUT "$ENDPOINT/bench"
    remote="--remote s3://bench/run"
    trap 'sh "$svc/ceph.sh" stop "$ceph"; rm -rf "$ceph" bench-ceph.env bench-ceph.err' EXIT
else
    echo "bench.sh: Ceph did not start (see bench-ceph.err): no remote section" >&2
fi
# shellcheck disable=SC2086
"$reel" bench "$store" bench --video "$video" --pix-fmt native $remote "$@"
static=bench-static.mp4
if [ ! -f "$static" ]; then
    echo "bench.sh: making $static (768x576, 300 frames of a still scene with noise and motion)" >&2
    ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=768x576:rate=25" -frames:v 1 \
        -vf "gblur=sigma=2" bench-still.png
    ffmpeg -nostdin -v error -y -loop 1 -i bench-still.png -f lavfi -i "color=c=0x806040:s=48x96:r=25" \
        -filter_complex "[0:v]noise=alls=4:allf=t[bg];[bg][1:v]overlay=x='mod(t*60,720)':y=280,format=yuv420p" \
        -t 12 -r 25 -c:v libx264 -b:v 2M -maxrate 2M -bufsize 4M -g 50 "$static"
    rm -f bench-still.png
fi
for v in "$static" "${srcdir:-.}/tests/media/tree.avi"; do
    echo >&2
    echo "bench.sh: the codec modes on $v" >&2
    rm -f "$store" "$store-wal" "$store-shm"
    "$reel" bench "$store" codecs --video "$v" --pix-fmt native "$@"
done
rm -f "$store" "$store-wal" "$store-shm"
