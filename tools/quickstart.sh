#!/bin/sh
# quickstart.sh - install what is missing, build reel in _build/, and run the main job:
# write synthetic frames into a store and read them back at random.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
sh tools/deps.sh
[ -x configure ] || ./autogen.sh >/dev/null 2>&1
mkdir -p _build/main
cd _build/main
[ -f Makefile ] || "$top/configure" -q
make -s -j"$(nproc)" >/dev/null
store="$top/_build/demo.reel"
rm -f "$store" "$store-wal" "$store-shm"
./tools/reel-demo "$store" 100
echo
echo "The store is a plain SQLite file; look inside with:"
echo "  sqlite3 -header -column $store 'SELECT * FROM reel_sequences'"
sqlite3 -header -column "$store" 'SELECT name, width, height, pix_fmt, frames, ratio FROM reel_sequences'
