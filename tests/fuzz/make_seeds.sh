#!/bin/sh
# make_seeds.sh REEL OUTDIR - (re)make the seed corpus of the fuzz harnesses: tiny videos in
# the containers and codecs people import (import/), small stores made by `reel import` in each
# stored format (store/), and every frame row of those stores in fuzz_blob's form (blob/: an
# 18-byte header of the row's claims, then the blob), with the block-wise temporal rows of a
# still scene's stores (blob/blocks-*). Run by hand when the formats change; the
# result is committed under tests/fuzz/corpus/. blob/rans-* (filter 4, RANS: spatial residuals
# coded by rANS, which BEST picks only on clean frames larger than the harness's 96x96) are not
# made here: they were written once with reel__encode(REEL__FILTER_RANS [| mask]) on a smooth
# ramp with 1-bit noise, 40x30 and 96x96, in each format (keep them when remaking the rest).
set -eu
reel=$1
out=$2
tmp=$(mktemp -d /tmp/reel-seeds-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out/import" "$out/store" "$out/blob"
ff="ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=16x12:rate=5,noise=alls=20:allf=t -frames:v 3"
$ff -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$out/import/h264.mp4"
$ff -c:v mpeg4 "$out/import/mpeg4.avi"
$ff -c:v ffv1 -pix_fmt yuv444p "$out/import/ffv1.mkv"
$ff -c:v mjpeg -pix_fmt yuvj420p "$out/import/mjpeg.mov"
$ff -pix_fmt yuv420p "$out/import/raw.y4m"
$ff -c:v gif "$out/import/anim.gif"
$ff -c:v libvpx -b:v 50k "$out/import/vp8.webm" 2>/dev/null || true
$ff -c:v png -pix_fmt gray16be "$out/import/png16.mkv"
$ff -c:v libx264 -preset ultrafast -pix_fmt yuv420p10le "$out/import/h264-10bit.mkv" 2>/dev/null || true
# every frame row of store $1 in fuzz_blob's form, as $out/blob/$2-IDX ($3: the format's number);
# a temporal frame's row (filter 2 or 3) asks for a reference (the harness's, not its own)
rows() {
    sqlite3 -noheader -separator ' ' "$1" "SELECT f.idx, s.width, s.height, f.filter,
        f.status, f.checksum, hex(b.data) FROM reel_frame f JOIN reel_sequence s ON
        s.id = f.seq_id JOIN reel_blob b ON b.id = f.blob_id" |
    while read -r idx w h filter status sum hexdata; do
        python3 - "$out/blob/$2-$idx" "$3" "$w" "$h" "$filter" "$status" "$sum" "$hexdata" <<'PY'
import struct, sys
path, fmt, w, h, filt, status, csum, data = sys.argv[1:]
flags = 3 if int(filt) in (2, 3) else 1
head = bytes([int(fmt) - 1, int(w) - 1, int(h) - 1, int(filt) & 0xff, int(status), flags, 0, 0, 0, 0])
head += struct.pack('<q', int(csum))
open(path, 'wb').write(head + bytes.fromhex(data))
PY
    done
}
# stores: one per stored format, page size 512 and no WAL so the file stands alone
i=0
for fmt in gray8 rgb24 bgr24 yuv420p yuv444p gray16le yuv420p10le; do
    i=$((i + 1))
    "$reel" import -q "$tmp/$fmt.reel" "$out/import/h264.mp4" --sequence "$fmt" --pix-fmt $fmt
    sqlite3 "$tmp/$fmt.reel" "PRAGMA journal_mode = DELETE; PRAGMA page_size = 512; VACUUM;" >/dev/null
    cp "$tmp/$fmt.reel" "$out/store/$fmt.reel"
    rows "$tmp/$fmt.reel" "$fmt" $i
done
# temporal rows: a still scene with a box moving across it, block-wise frames (filter 3)
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=16x12:rate=5,trim=end_frame=1,loop=loop=3:size=1,setpts=N/5/TB,drawbox=x='t*20':y=4:w=4:h=4:c=white:t=fill" \
    -frames:v 3 -pix_fmt yuv444p -c:v ffv1 "$tmp/still.mkv"
i=0
for fmt in gray8 rgb24 bgr24 yuv420p yuv444p gray16le yuv420p10le; do
    i=$((i + 1))
    "$reel" import -q "$tmp/t-$fmt.reel" "$tmp/still.mkv" --sequence "$fmt" --pix-fmt $fmt --codec temporal
    rows "$tmp/t-$fmt.reel" "blocks-$fmt" $i
done
ls "$out"/* | wc -l
