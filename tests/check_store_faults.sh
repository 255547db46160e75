#!/bin/sh
# check_store_faults.sh - the store under faults, through the tool: the write lock held by a
# stopped import (a second one names the holder and waits as long as --wait says), a geometry
# edited by hand (verify finds every frame), and a full disk (reads work, what could not be
# saved is said once; a small tmpfs, as root).
. "$(dirname "$0")/testlib.sh"
testlib_init store-faults

ff="ffmpeg -nostdin -v error -y"
$ff -f lavfi -i testsrc2=size=320x240:rate=25,noise=alls=8:allf=t -frames:v 30 \
    -c:v libx264 -preset veryfast -pix_fmt yuv420p "$dir/clip.mp4" || exit 1
$ff -f lavfi -i testsrc2=size=640x480:rate=25,noise=alls=8:allf=t -frames:v 600 \
    -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$dir/long.mp4" || exit 1
$ff -f lavfi -i testsrc2=size=320x240:rate=25 -frames:v 10 -c:v libx264 -preset veryfast \
    -pix_fmt yuv420p "$dir/small.mp4" || exit 1

# ---- the write lock held by a stopped import ----------------------------------------------
S="$dir/lock.reel"
expect 2 "--wait junk" "$reel" import "$S" "$dir/clip.mp4" --wait 1x
contains "$dir/err" "\-\-wait" "--wait junk names the option"
expect 2 "--wait negative" "$reel" import "$S" "$dir/clip.mp4" --wait -1
"$reel" import "$S" "$dir/long.mp4" --sequence a --quiet &
first=$!
# stop it until it is stopped inside a write transaction (the lock probed with sqlite3)
held=0
i=0
sleep 0.3
while [ "$i" -lt 400 ] && kill -0 "$first" 2>/dev/null; do
    kill -STOP "$first"
    if ! sqlite3 "$S" "BEGIN IMMEDIATE; ROLLBACK;" >/dev/null 2>&1; then held=1; break; fi
    kill -CONT "$first"
    sleep 0.01
    i=$((i + 1))
done
same "$held" 1 "the first import stopped holding the write lock"
expect 1 "a second import, --wait 1" "$reel" import "$S" "$dir/clip.mp4" --sequence b --wait 1
contains "$dir/err" "lock.reel: locked by another writer" "the message names the store"
contains "$dir/err" "held by an import in process $first on $(hostname) since 20" "names the holder"
contains "$dir/err" "gave up after waiting 1 s" "says how long it waited"
contains "$dir/err" "reel import --wait SECONDS" "says how to wait longer"
kill -CONT "$first"
# running again, the first takes the lock between its batches: the second waits its turn
expect 0 "a second import after SIGCONT, --wait 60" "$reel" import "$S" "$dir/clip.mp4" \
    --sequence b --wait 60 --quiet
wait "$first"
same "$?" 0 "the first import finished"
expect 0 "both sequences verify" "$reel" verify "$S"
same "$(sqlite3 "$S" "SELECT group_concat(frames) FROM (SELECT frames FROM reel_sequences ORDER BY name)")" \
    "600,30" "both imports complete"

# ---- a geometry edited by hand, of the same frame size -----------------------------------
G="$dir/geom.reel"
expect 0 "import for the geometry edit" "$reel" import "$G" "$dir/clip.mp4" --sequence g --quiet
expect 0 "verify before" "$reel" verify "$G"
sqlite3 "$G" "UPDATE reel_sequence SET width = 240, height = 320"
expect 1 "verify a swapped geometry" "$reel" verify "$G"
contains "$dir/err" "sequence 'g' frame 0: checksum mismatch" "verify names the frame"
contains "$dir/out" "30 frame(s) checked: 30 bad" "verify finds every frame bad"
expect 1 "cat a swapped geometry" "$reel" cat "$G" g --from 3 --count 1
contains "$dir/err" "sequence 'g' frame 3" "cat names the frame"
sqlite3 "$G" "UPDATE reel_sequence SET width = 320, height = 240"
expect 0 "verify put back" "$reel" verify "$G"

# ---- a full disk: a small tmpfs, filled ----------------------------------------------------
# Reads need no space: the store is read through a -shm opened read-only (SQLite keeps its
# index of the WAL in memory) or, with not even an inode left for the -shm, immutable (its WAL
# is empty). A command that would write (counts, views) says once that it reads read-only.
F="$dir/full"
mkdir "$F"
trap 'umount "$F" 2>/dev/null; rm -rf "$dir"' EXIT
if [ "$(id -u)" -ne 0 ]; then
    bad "the full-disk checks mount a tmpfs: run as root (CI does)"
    testlib_done
    exit
fi
fill() { # fill the tmpfs: every block, then (with "inodes") every inode
    dd if=/dev/zero of="$F/fill" bs=64k >/dev/null 2>&1
    n=0
    while [ "$1" = inodes ] && touch "$F/inode$n" 2>/dev/null; do n=$((n + 1)); done
}
empty() { umount "$F"; }
for how in blocks inodes; do
    mount -t tmpfs -o size=4m,nr_inodes=8 tmpfs "$F" || { bad "mount a tmpfs"; break; }
    D="$F/d.reel"
    expect 0 "$how: import on the small disk" "$reel" import "$D" "$dir/small.mp4" --sequence g --quiet
    fill "$how"
    if [ "$(df --output=avail "$F" | tail -1 | tr -d ' ')" -eq 0 ]; then ok; else bad "$how: the disk is full"; fi
    expect 0 "$how: ls on a full disk" "$reel" ls "$D"
    contains "$dir/out" "^g " "$how: ls lists the sequence"
    expect 0 "$how: info on a full disk" "$reel" info "$D" g
    expect 0 "$how: verify on a full disk" "$reel" verify "$D"
    contains "$dir/out" "10 frame(s) checked: 0 bad" "$how: verify checks every frame"
    expect 0 "$how: cat on a full disk" "$reel" cat "$D" g --from 2 --count 3
    same "$(wc -c <"$dir/out" | tr -d ' ')" $((3 * 320 * 240 * 3)) "$how: cat gives the frames"
    same "$(grep -c 'warning' "$dir/err")" 1 "$how: cat warns once"
    contains "$dir/err" "d.reel: cannot be opened for writing: the disk is full" "$how: the warning says why"
    contains "$dir/err" "nothing is written (access counts" "$how: the warning says what is not saved"
    expect 1 "$how: an import on a full disk" "$reel" import "$D" "$dir/small.mp4" --sequence h
    contains "$dir/err" "d.reel: cannot be opened for writing: the disk is full" \
        "$how: the import says the disk is full"
    rm -f "$F"/fill "$F"/inode*
    expect 0 "$how: cat with room again" "$reel" cat "$D" g --from 2 --count 3
    if [ -s "$dir/err" ]; then bad "$how: a warning with room: $(cat "$dir/err")"; else ok; fi
    same "$(sqlite3 "$D" "SELECT sum(count) FROM reel_access")" 3 "$how: reads counted again"
    empty
done
# an import that fills the disk: it stops saying so, and what it committed reads
mount -t tmpfs -o size=4m tmpfs "$F" || bad "mount a tmpfs"
D="$F/d.reel"
expect 1 "an import that fills the disk" "$reel" import "$D" "$dir/long.mp4" --sequence g --quiet
contains "$dir/err" "d.reel: sequence 'g': not written: the disk is full (No space left on device)" \
    "the import names store, sequence and the full disk"
n=$(sqlite3 "$D" "SELECT frames FROM reel_sequences WHERE name = 'g'")
if [ "${n:-0}" -gt 0 ]; then ok; else bad "frames committed before the disk filled: '$n'"; fi
expect 0 "verify what was committed" "$reel" verify "$D"
contains "$dir/out" "$n frame(s) checked: 0 bad" "every committed frame verifies"
expect 0 "cat the committed frames" "$reel" cat "$D" g --count "$n"
same "$(wc -c <"$dir/out" | tr -d ' ')" $((n * 640 * 480 * 3)) "cat gives every committed frame"
empty

testlib_done
