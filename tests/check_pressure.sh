#!/bin/sh
# check_pressure.sh - the RAM tier under a real memory limit (make check-pressure).
#
# Makes child memory cgroups (v1) under the process's own, runs readers in them and removes
# them after. A reader (tests/pressure_reader) reads 1280x720 rgb24 frames of a data set four
# times the limit, with the default cache and its default monitor and a 2 GiB budget, and
# checks the pixels of every frame; it must never be OOM-killed:
#   - a control without the monitor is killed (the load is real);
#   - PRESSURE_RUNS (10) random and 10 sequential runs survive, and read at >= 0.7x the
#     frames/s of runs whose budget fits the limit, run alternately with them (medians);
#   - a 2 GiB budget with 20 ms of work per frame, a 512 MiB budget, a reader holding 8 frames;
#   - a second process in the same cgroup allocating 200 MiB in steps while a reader runs:
#     both survive and the reader's cache gives memory back;
#   - latency: a usage threshold crossing to the cut (the monitor's interval set to 10 s, so
#     only the kernel's event can act), an injected critical level to no unpinned byte, and
#     the process's RSS less the cache's resident bytes after that cut (<= 32 MiB);
#   - the monitor's CPU time while idle (< 0.5% of a core).
# Needs root and the cgroup v1 memory controller (CI has both); anywhere else it says why
# and exits 77 (skipped).
. "$(dirname "$0")/testlib.sh"
testlib_init pressure
reader="$top/tests/pressure_reader"
runs=${PRESSURE_RUNS:-10}
limit_mb=400

skip() {
    echo "SKIP: $*"
    exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root to make memory cgroups"
rel=$(sed -n 's/^[0-9]*:memory://p' /proc/self/cgroup)
base=/sys/fs/cgroup/memory$rel
[ -n "$rel" ] && [ -w "$base" ] || skip "no writable cgroup v1 memory controller at $base"
cgs=""
cleanup() {
    for c in $cgs; do
        [ -d "$c" ] && { cat "$c/cgroup.procs" | xargs -r kill -9 2>/dev/null; sleep 0.1; rmdir "$c"; }
    done
    rm -rf "$dir"
}
trap cleanup EXIT

cg_new() { # -> $cg: a new child cgroup limited to limit_mb
    cg="$base/reel-pressure.$$.$(date +%s%N)"
    mkdir "$cg" || skip "cannot make a child memory cgroup under $base"
    echo $((limit_mb * 1024 * 1024)) >"$cg/memory.limit_in_bytes"
    cgs="$cgs $cg"
}
cg_kills() { sed -n 's/^oom_kill //p' "$1/memory.oom_control"; }
# in_cg CG OUT CMD...: run CMD inside CG, stdout to OUT; its exit status
in_cg() {
    c=$1 out=$2
    shift 2
    sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$c" "$@" >"$out" 2>"$out.err"
}
field() { sed -n "s/.*$2=\([0-9.-]*\).*/\1/p" "$1"; }
median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

store="$dir/p.reel"
"$reader" make "$store" 600 1280 720 || { bad "making the store"; testlib_done; exit 1; }
cg_new
echo "cgroup: $cg, limit $limit_mb MiB; data set: 600 frames of 1280x720 rgb24 (1.6 GiB)"

# survive NAME ARGS...: one reader run with the default monitor; survival and pixels checked
survive() {
    name=$1
    shift
    before=$(cg_kills "$cg")
    in_cg "$cg" "$dir/out" "$reader" read "$store" "$@"
    rc=$?
    kills=$(( $(cg_kills "$cg") - before ))
    if [ "$rc" -eq 0 ] && [ "$kills" -eq 0 ]; then
        ok
        echo "  $name: $(cat "$dir/out")"
    else
        bad "$name: exit $rc, $kills OOM kill(s): $(cat "$dir/out.err")"
    fi
}

# 1. the control: no monitor, killed
before=$(cg_kills "$cg")
(in_cg "$cg" "$dir/out" "$reader" read "$store" --no-monitor) 2>/dev/null
rc=$?
if [ "$rc" -eq 137 ] && [ "$(cg_kills "$cg")" -gt "$before" ]; then
    ok
    echo "control without the monitor: OOM-killed (exit $rc), as it must be"
else
    bad "control without the monitor: exit $rc, not OOM-killed: the load is not real"
fi

# 2. and 3. the default monitor with a 2 GiB budget, 10 of 10 runs each way, each run beside
# one whose budget fits the limit (the throughput to compare with): alternating them gives both
# the same share of a machine whose load changes from minute to minute
for order in random seq; do
    : >"$dir/base.$order"
    : >"$dir/fps.$order"
    n=600
    [ $order = seq ] && n=1200
    i=1
    while [ "$i" -le "$runs" ]; do
        survive "fitting budget, $order" --budget $((240 * 1024 * 1024)) --order $order \
            --frames $n --seed $i
        field "$dir/out" fps >>"$dir/base.$order"
        survive "run $i/$runs, $order, 2 GiB budget" --order $order --frames $n --seed $i
        field "$dir/out" fps >>"$dir/fps.$order"
        i=$((i + 1))
    done
    b=$(median <"$dir/base.$order")
    m=$(median <"$dir/fps.$order")
    ratio=$(echo "$m $b" | awk '{printf "%.2f", $1 / $2}')
    echo "$order: median $m frames/s under pressure vs $b with a fitting budget: ${ratio}x"
    if awk "BEGIN {exit !($ratio >= 0.7)}"; then ok; else bad "$order: ${ratio}x < 0.7x"; fi
done

# 4. other readers
survive "20 ms of work per frame" --frames 220 --work-ms 20
survive "512 MiB budget" --frames 600 --budget $((512 * 1024 * 1024))
survive "8 frames held pinned" --frames 600 --hold 8

# 5. a second process allocating in the same cgroup
before=$(cg_kills "$cg")
(in_cg "$cg" "$dir/hog" "$reader" hog 20 10 100) 2>/dev/null &
hog=$!
sleep 0.3
in_cg "$cg" "$dir/out" "$reader" read "$store" --frames 4000
rc=$?
sleep 0.2
if kill -0 "$hog" 2>/dev/null && [ "$rc" -eq 0 ] && [ "$(cg_kills "$cg")" -eq "$before" ] &&
    [ "$(field "$dir/out" freed_events)" -ge 1 ]; then
    ok
    echo "  reader beside a process taking 200 MiB: $(cat "$dir/out")"
else
    bad "reader beside an allocating process: reader exit $rc, hog $(kill -0 $hog 2>/dev/null && echo alive || echo dead), $(cat "$dir/out" "$dir/out.err")"
fi
pkill -9 -f "pressure_reader hog" 2>/dev/null
wait "$hog" 2>/dev/null

# 6. latencies and memory given back
if in_cg "$cg" "$dir/out" "$reader" latency "$store" "$cg"; then
    ok
    echo "  latency: $(cat "$dir/out")"
    over=$(awk -v v="$(field "$dir/out" rss_minus_resident_mib)" 'BEGIN {print (v > 32)}')
    if [ "$over" -eq 0 ]; then ok; else bad "RSS less resident after a cut: over 32 MiB"; fi
else
    bad "latency: $(cat "$dir/out" "$dir/out.err")"
fi

# 7. the idle monitor's cost
if in_cg "$cg" "$dir/out" "$reader" idle 5; then
    echo "  idle monitor: $(cat "$dir/out")"
    share=$(field "$dir/out" share_of_core_percent)
    if awk "BEGIN {exit !($share < 0.5)}"; then ok; else bad "idle monitor uses $share% of a core"; fi
else
    bad "idle: $(cat "$dir/out.err")"
fi
testlib_done
