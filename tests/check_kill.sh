#!/bin/sh
# check_kill.sh - `make check-kill [KILL_MOMENTS=N]`: kill -9 at N random moments (default 50)
# during `reel import`, `reel import --replace`, `reel rm`, write-back through the RAM tier
# (tests/kill_writer) and `reel publish` to a directory, taking turns. After each kill: the
# store opens, `reel verify` passes, and running the same command again gives exactly the
# frames of a clean run (compared by the checksum of `reel cat`'s output); a publish rerun
# leaves no snapshot beside the store and no temporary file in the destination.
. "$(dirname "$0")/testlib.sh"
testlib_init kill
moments=${KILL_MOMENTS:-50}
writer="$top/tests/kill_writer"
ff="ffmpeg -nostdin -v error -y"
$ff -f lavfi -i testsrc2=size=320x240:rate=25,noise=alls=20:allf=t -frames:v 150 \
    -c:v libx264 -preset ultrafast -g 30 -pix_fmt yuv420p "$dir/a.mp4" || exit 1
$ff -f lavfi -i mandelbrot=size=320x240:rate=25 -frames:v 120 \
    -c:v libx264 -preset ultrafast -g 30 -pix_fmt yuv420p "$dir/b.mp4" || exit 1

catsum() { "$reel" cat "$1" "$2" | md5sum | cut -d' ' -f1; }
now_ms() { date +%s%3N; }
rand() { # a number in [0, $1)
    echo $(($(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % $1))
}
# run CMD... in the background and kill -9 it after $1 ms
kill_after() {
    ms=$1
    shift
    "$@" >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
}
timed() { # run CMD..., print how many ms it took
    t0=$(now_ms)
    "$@" >/dev/null 2>&1 || { echo "clean run failed: $*" >&2; exit 1; }
    echo $(($(now_ms) - t0))
}

# clean runs: the reference frames and how long each command takes
R="$dir/ref.reel"
t_import=$(timed "$reel" import -q "$R" "$dir/a.mp4" --sequence a)
sum_a=$(catsum "$R" a)
t_replace=$(timed "$reel" import -q "$R" "$dir/b.mp4" --sequence a --replace)
sum_b=$(catsum "$R" a)
t_writer=$(timed "$writer" "$dir/w.reel" 400)
sum_w=$(catsum "$dir/w.reel" w)
cp "$R" "$dir/rm-base.reel"
"$reel" import -q "$dir/rm-base.reel" "$dir/a.mp4" --sequence keep
sum_keep=$(catsum "$dir/rm-base.reel" keep)
cp "$dir/rm-base.reel" "$dir/rm-t.reel"
t_rm=$(timed "$reel" rm "$dir/rm-t.reel" a)
P="$dir/pub-src.reel"
cp "$dir/rm-base.reel" "$P"
t_publish=$(timed "$reel" publish "$P" "$dir/pub-t" --part-size 256k)
rm -rf "$dir/pub-t"
echo "clean runs: import ${t_import} ms, --replace ${t_replace} ms, rm ${t_rm} ms, write-back ${t_writer} ms, publish ${t_publish} ms"

# whether STORE has any table: a kill before the schema's one transaction committed leaves a
# missing, empty or header-only file, which a rerun makes into a store
made() { [ -s "$1" ] && [ "$(sqlite3 "$1" 'SELECT count(*) FROM sqlite_schema' 2>/dev/null)" != 0 ]; }
after_kill() { # STORE WHAT: the store opens and verifies (unless the kill came before it was made)
    if ! made "$1"; then
        if "$reel" ls "$1" >/dev/null 2>&1; then bad "$2: a file with no tables opens as a store"; else ok; fi
        made="killed before the store was made (reel ls refuses the file); "
    elif "$reel" verify "$1" >"$dir/v.out" 2>"$dir/v.err"; then
        ok
        made="store verified; "
    else
        bad "$2: verify after kill -9: $(cat "$dir/v.err" "$dir/v.out")"
        cp "$1" "/tmp/reel-kill-failed-$(basename "$1")" 2>/dev/null
    fi
}

i=0
while [ $i -lt "$moments" ]; do
    i=$((i + 1))
    S="$dir/s$i.reel"
    case $((i % 5)) in
    1)
        ms=$(rand $((t_import + t_import / 10 + 1)))
        kill_after "$ms" "$reel" import -q "$S" "$dir/a.mp4" --sequence a
        after_kill "$S" "import killed at $ms ms"
        "$reel" import -q "$S" "$dir/a.mp4" --sequence a || bad "import rerun after a kill at $ms ms"
        same "$(catsum "$S" a)" "$sum_a" "import killed at $ms ms, then rerun"
        what="import at ${ms} ms"
        ;;
    2)
        "$reel" import -q "$S" "$dir/a.mp4" --sequence a
        ms=$(rand $((t_replace + t_replace / 10 + 1)))
        kill_after "$ms" "$reel" import -q "$S" "$dir/b.mp4" --sequence a --replace
        after_kill "$S" "--replace killed at $ms ms"
        got=$(catsum "$S" a)
        # whole old frames, whole new frames (--replace committed) or a resumable new import
        "$reel" import -q "$S" "$dir/b.mp4" --sequence a --replace ||
            bad "--replace rerun after a kill at $ms ms"
        same "$(catsum "$S" a)" "$sum_b" "--replace killed at $ms ms, then rerun"
        what="--replace at ${ms} ms"
        ;;
    3)
        cp "$dir/rm-base.reel" "$S"
        ms=$(rand $((t_rm + t_rm / 10 + 1)))
        kill_after "$ms" "$reel" rm "$S" a
        after_kill "$S" "rm killed at $ms ms"
        "$reel" rm "$S" a >/dev/null 2>&1 # gone already, or removed now
        if "$reel" info "$S" a >/dev/null 2>&1; then bad "rm rerun left sequence a"; else ok; fi
        same "$(catsum "$S" keep)" "$sum_keep" "rm killed at $ms ms: the other sequence"
        what="rm at ${ms} ms"
        ;;
    4)
        D="$dir/pub$i"
        ms=$(rand $((t_publish + t_publish / 10 + 1)))
        kill_after "$ms" "$reel" publish "$P" "$D" --part-size 256k
        left=$(ls "$P".publish-* 2>/dev/null | wc -l)
        "$reel" publish "$P" "$D" --part-size 256k >/dev/null 2>&1 || bad "publish rerun after a kill at $ms ms"
        if ls "$P".publish-* >/dev/null 2>&1; then bad "publish killed at $ms ms, rerun: a snapshot left beside the store"; else ok; fi
        if find "$D" -name '*.tmp' | grep -q .; then bad "publish killed at $ms ms, rerun: temporary files left in the destination"; else ok; fi
        export REEL_BLOCK_CACHE="$dir/cache$i"
        "$reel" verify "$D" >/dev/null 2>&1 || bad "publish killed at $ms ms, rerun: verify fails"
        same "$(catsum "$D" a) $(catsum "$D" keep)" "$sum_b $sum_keep" \
            "publish killed at $ms ms, then rerun: the frames read back"
        unset REEL_BLOCK_CACHE
        rm -rf "$D" "$dir/cache$i"
        made="the kill left $left snapshot file(s); "
        what="publish at ${ms} ms"
        ;;
    0)
        ms=$(rand $((t_writer + t_writer / 10 + 1)))
        kill_after "$ms" "$writer" "$S" 400
        after_kill "$S" "write-back killed at $ms ms"
        n=0
        if made "$S"; then
            n=$("$writer" check "$S") || bad "write-back killed at $ms ms: stored frames wrong"
        fi
        "$writer" "$S" 400 || bad "write-back rerun after a kill at $ms ms"
        same "$(catsum "$S" w)" "$sum_w" "write-back killed at $ms ms ($n frames stored), then rerun"
        what="write-back at ${ms} ms (${n:-0} frames were stored)"
        ;;
    esac
    echo "moment $i/$moments: kill -9 during $what: ${made}rerun checked (failures so far: $fail)"
    rm -f "$S" "$S-wal" "$S-shm"
done
testlib_done
