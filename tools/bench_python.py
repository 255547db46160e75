"""tools/bench_python.py VIDEO: reel from Python against OpenCV and PyAV, in one run.

Each figure is measured in this process against the baseline a Python user would otherwise
use, on the same video, and printed as a ratio (the machine is shared and noisy: ratios drift
less than absolute times):

  random access, cold    seq[i] of uniformly random frames (those `reel bench` reads) through
                         a 64 MiB RAM tier that was emptied first, vs OpenCV (VideoCapture +
                         CAP_PROP_POS_FRAMES) and PyAV (seek to the keyframe before, decode
                         forward); PyAV's planes are checked equal to reel's (a native yuv420p
                         store)
  random access, cached  seq[i] of resident frames: the cost of one call
  sequential scan        every frame in order, vs OpenCV reading and PyAV decoding
  iteration              `for f in seq` (one-pass reads, read-ahead) against the C scan of
                         `reel bench` (with --reel) and the seq[i] loop
  timestamps             seq.timestamps of a sequence of 1 M frames (made in a scratch store)
  FrameDataset           CHW float32 at 224x224 against uint8 HWC at 224x224, clips of 8
                         (the same clips, item by item in turns, a RAM tier each)
  DataLoader             reel.torch.FrameDataset clips of 8 rgb24 frames, num_workers 0 and 2
                         (persistent), collate_fn=reel.torch.collate and PyTorch's default:
                         an epoch reads every frame once (clip_step 8, in random order), each
                         process with a RAM tier of its own of 64 MiB, so that no epoch reads
                         frames an earlier one left in RAM (as a data set larger than RAM);
                         the three loaders take turns, epoch by epoch (4 each, after one
                         that starts the workers), so a shared machine's load hits all alike
  C API                  with --reel PATH: the same cold random reads measured by `reel bench`
                         in C, run here on the same store (Python within 1.15x of it), and
                         its scan against `for f in seq` (run after the Python figures: under
                         a changing load the two phases see different machines)

`make bench-python` runs it (tools/bench.sh --python); it is not installed with the package.

Usage: python3 tools/bench_python.py VIDEO [--store PATH] [--reel PATH] [--random N]
                                         [--seeks N] [--clips N] [--json]
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

import numpy as np

import reel

BUDGET = 64 << 20


def now():
    return time.perf_counter()


def load():
    """The 1-minute load average, as uptime says it."""
    return f"{os.getloadavg()[0]:.2f}"


def rand_r_indexes(n, frames, seed=42):
    """The random indexes `reel bench` reads (glibc's rand_r from seed 42, modulo frames), so
    that the C figure and this one read the same frames in the same order."""
    out = []
    m = 0xFFFFFFFF
    for _ in range(n):
        nxt = (seed * 1103515245 + 12345) & m
        r = (nxt // 65536) % 2048
        nxt = (nxt * 1103515245 + 12345) & m
        r = (r << 10) ^ ((nxt // 65536) % 1024)
        nxt = (nxt * 1103515245 + 12345) & m
        r = (r << 10) ^ ((nxt // 65536) % 1024)
        seed = nxt
        out.append(r % frames)
    return out


def random_cold(seq, idx):
    """Frames/s of seq[i] over idx, the RAM tier emptied first, within BUDGET."""
    with reel.memory_budget(BUDGET):
        reel.optimize_memory()
        t = now()
        for i in idx:
            seq[i]
        return len(idx) / (now() - t)


def cached_call_ns(seq, n=16, calls=200000):
    """Nanoseconds per seq[i] of a resident frame (best of 5 rounds)."""
    keep = [seq[i] for i in range(n)]
    best = float("inf")
    for _ in range(5):
        t = now()
        for k in range(calls):
            seq[k & (n - 1)]
        best = min(best, (now() - t) / calls)
    del keep
    return best * 1e9


def cached_index_ns(seq, n=16, calls=200000):
    """Nanoseconds per seq[np.int64(i)] of a resident frame (best of 5), or None when numpy
    integers are not indexes in this build."""
    keep = [seq[i] for i in range(n)]
    keys = [np.int64(i) for i in range(n)]
    try:
        seq[keys[0]]
    except TypeError:
        return None
    best = float("inf")
    for _ in range(5):
        t = now()
        for k in range(calls):
            seq[keys[k & (n - 1)]]
        best = min(best, (now() - t) / calls)
    del keep
    return best * 1e9


def iterate(seq):
    """Frames/s of `for f in seq`, the RAM tier emptied first."""
    reel.optimize_memory()
    t = now()
    n = sum(1 for _ in seq)
    return n / (now() - t)


def timestamps_1m(frames=1_000_000):
    """Seconds of seq.timestamps for a sequence of `frames` frames: a scratch store whose rows
    are written with SQL (frames without pixels: the timestamps are what is measured)."""
    import shutil
    directory = tempfile.mkdtemp(prefix="reel-bench-times-")
    try:
        return timestamps_of(os.path.join(directory, "times.reel"), frames)
    finally:
        shutil.rmtree(directory)


def timestamps_of(path, frames):
    """timestamps_1m in a store made at path."""
    import sqlite3
    with reel.open(path, "w") as s:
        s.create_sequence("long", 16, 16, time_base=(1, 90000))
    db = sqlite3.connect(path)
    sid = db.execute("SELECT id FROM reel_sequence WHERE name = 'long'").fetchone()[0]
    db.executemany("INSERT INTO reel_frame(seq_id, idx, pts, duration, flags, status, filter, "
                   "level, checksum, raw_bytes, stored_bytes, blob_id) "
                   "VALUES (?, ?, ?, 3600, 0, 1, 0, 0, 0, 0, 0, NULL)",
                   ((sid, i, i * 3600) for i in range(frames)))
    db.execute("UPDATE reel_sequence SET frames = ? WHERE id = ?", (frames, sid))
    db.commit()
    db.close()
    with reel.open(path, count=False) as s:
        q = s["long"]
        best = float("inf")
        for _ in range(3):
            t = now()
            ts = q.timestamps
            best = min(best, now() - t)
        assert len(ts) == frames
    return best


def dataset_rates(store, clips, *variants):
    """Clips/s of FrameDataset items (clips of 8 of the rgb24 sequence, in this process) for
    each dict of options in variants: the same clips, each dataset with a RAM tier of its
    own (so that none reads what another decoded), taking turns item by item."""
    import reel.torch as rt
    sets = [rt.FrameDataset(store, sequences="bench_rgb", clip_len=8, pix_fmt=None,
                            count=False, cache_bytes=BUDGET, **o) for o in variants]
    pick = random.Random(5).sample(range(len(sets[0])), min(clips, len(sets[0])))
    took = [0.0] * len(sets)
    for ds in sets:
        ds[pick[-1]]
    for i in pick:
        for k, ds in enumerate(sets):
            t = now()
            ds[i]
            took[k] += now() - t
    return [len(pick) / t for t in took]


def opencv_random(video, idx):
    import cv2
    cap = cv2.VideoCapture(video)
    got = []
    t = now()
    for i in idx:
        cap.set(cv2.CAP_PROP_POS_FRAMES, i)
        ok, frame = cap.read()
        if not ok:
            raise RuntimeError(f"OpenCV could not read frame {i}")
        got.append(frame)
    rate = len(idx) / (now() - t)
    cap.release()
    return rate, got


def pyav_seek(container, stream, pts):
    """The decoded frame at pts: seek to the keyframe before it and decode forward."""
    container.seek(pts, stream=stream, backward=True, any_frame=False)
    for f in container.decode(stream):
        if f.pts is not None and f.pts >= pts:
            return f
    raise RuntimeError(f"PyAV did not reach pts {pts}")


def planes_of(f):
    return [np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width]
            for p in f.planes]


def pyav_random(video, seq, idx):
    import av
    pts = [seq.frame(i).pts for i in idx]
    with av.open(video) as c:
        s = c.streams.video[0]
        t = now()
        frames = [pyav_seek(c, s, p) for p in pts]
        rate = len(idx) / (now() - t)
        checked = bad = 0
        for i, f in zip(idx, frames):
            if f.format.name == seq.pix_fmt:
                checked += 1
                bad += any(not np.array_equal(a, b)
                           for a, b in zip(planes_of(f), seq.frame(i).planes))
    return rate, checked, bad


def scan(seq):
    """Frames/s of the seq[i] loop, the RAM tier emptied first."""
    reel.optimize_memory()
    t = now()
    for i in range(len(seq)):
        seq[i]
    return len(seq) / (now() - t)


def opencv_scan(video):
    import cv2
    cap = cv2.VideoCapture(video)
    n = 0
    t = now()
    while cap.read()[0]:
        n += 1
    rate = n / (now() - t)
    cap.release()
    return rate


def pyav_scan(video):
    import av
    with av.open(video) as c:
        t = now()
        n = sum(1 for _ in c.decode(video=0))
        return n / (now() - t)


def loader_rates(store, epochs=4):
    """Clips/s of DataLoaders over the rgb24 sequence's clips of 8 (see the module's doc):
    {"0": 0 workers, "2": 2 workers, "2d": 2 workers with PyTorch's default_collate}. The
    three loaders live side by side (persistent workers, idle between their epochs) and take
    turns epoch by epoch, so that the load of a shared machine falls on all three alike."""
    import torch.utils.data as tud
    import reel.torch as rt
    ds = rt.FrameDataset(store, sequences="bench_rgb", clip_len=8, clip_step=8, count=False,
                         cache_bytes=BUDGET)
    loaders = {key: tud.DataLoader(ds, batch_size=8, shuffle=True, num_workers=workers,
                                   persistent_workers=workers > 0,
                                   collate_fn=rt.collate if ours else None)
               for key, workers, ours in (("0", 0, True), ("2", 2, True), ("2d", 2, False))}
    for loader in loaders.values():
        sum(len(b) for b in loader)             # the workers start, the stores open
    clips, took = dict.fromkeys(loaders, 0), dict.fromkeys(loaders, 0.0)
    for _ in range(epochs):
        for key, loader in loaders.items():
            t = now()
            clips[key] += sum(len(b) for b in loader)
            took[key] += now() - t
    del loaders
    return {key: clips[key] / took[key] for key in clips}


def c_figures(reel_tool, store, video, nrandom):
    """reel bench's own figures (C, a reader process) on the same store: {key: reel's value};
    random_access and scan_1 are used."""
    out = subprocess.run([reel_tool, "bench", store, "bench", "--video", video, "--json",
                          "--random", str(nrandom)], check=True, capture_output=True, text=True)
    got = {f["key"]: f["reel"] for f in json.loads(out.stdout)["figures"]}
    if "random_access" not in got:
        raise RuntimeError("reel bench gave no random_access figure")
    return got


def main(argv=None):
    ap = argparse.ArgumentParser(prog="bench_python.py", description=__doc__.split("\n")[0])
    ap.add_argument("video")
    ap.add_argument("--store", help="store to import into (default: a scratch file, removed)")
    ap.add_argument("--reel", help="the reel tool: also run `reel bench` for the C figure")
    ap.add_argument("--random", type=int, default=1000, help="random reads through reel")
    ap.add_argument("--seeks", type=int, default=30, help="random reads by OpenCV and PyAV")
    ap.add_argument("--clips", type=int, default=400,
                    help="4x the clips read by the FrameDataset figure")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    tmp = None
    if not a.store:
        tmp = tempfile.mkdtemp(prefix="reel-bench-")
        a.store = os.path.join(tmp, "bench.reel")
    try:
        return run(a)
    finally:
        if tmp:
            for f in os.listdir(tmp):
                os.unlink(os.path.join(tmp, f))
            os.rmdir(tmp)


def run(a):
    say = (lambda m: None) if a.json else (lambda m: print("bench_python: " + m, file=sys.stderr))
    start_load = load()
    say(f"importing {a.video} (native pixel format)")
    reel.import_video(a.store, a.video, sequence="bench", pix_fmt="native", progress=False)
    rows = []

    def row(key, what, unit, value, base=None, base_name="", target=""):
        ratio = value / base if base else None
        rows.append({"key": key, "figure": what, "unit": unit, "reel": value,
                     "baseline": base_name, "baseline_value": base, "ratio": ratio,
                     "target": target})

    with reel.open(a.store, count=False) as s:
        q = s["bench"]
        n = len(q)
        idx = rand_r_indexes(a.random, n)
        seek_idx = idx[: a.seeks]
        say("random access through reel (cold, 64 MiB)")
        cold = random_cold(q, idx)
        say("random access by OpenCV and PyAV seeking")
        cv_rate, cv_frames = opencv_random(a.video, seek_idx)
        av_rate, checked, bad = pyav_random(a.video, q, seek_idx)
        row("random_vs_opencv", "random access, cold", "frames/s", cold, cv_rate,
            "OpenCV seek + read", ">= 100x")
        row("random_vs_pyav", "random access, cold", "frames/s", cold, av_rate,
            "PyAV seek + decode", ">= 100x")
        say("cached seq[i]")
        ns = cached_call_ns(q)
        row("cached_call", "seq[i], frame resident", "ns/call", ns, target="<= 1000 ns")
        nsi = cached_index_ns(q)
        if nsi is not None:
            row("cached_np_index", "seq[np.int64(i)], frame resident", "ns/call", nsi,
                target="<= 1000 ns")
        say("sequential scans")
        with reel.memory_budget(BUDGET):
            sc = scan(q)
            it = iterate(q)
        row("iterate_vs_index", "for f in seq", "frames/s", it, sc, "seq[i] loop")
        row("scan_vs_opencv", "sequential scan", "frames/s", sc, opencv_scan(a.video),
            "OpenCV read")
        row("scan_vs_pyav", "sequential scan", "frames/s", sc, pyav_scan(a.video), "PyAV decode")
        shape = q.shape
        del q
    say("seq.timestamps of 1 M frames")
    row("timestamps_1m", "seq.timestamps, 1 M frames", "s", timestamps_1m(),
        target="< 0.5 s")
    say("FrameDataset layouts at 224x224 (the video imported again as rgb24)")
    import torch
    reel.import_video(a.store, a.video, sequence="bench_rgb", pix_fmt="rgb24", progress=False)
    hwc, chw = dataset_rates(a.store, a.clips // 4, {"size": (224, 224)},
                             {"size": (224, 224), "layout": "CHW", "dtype": torch.float32})
    row("dataset_chw_float", "FrameDataset CHW float32 224x224", "clips/s", chw, hwc,
        "uint8 HWC 224x224", ">= 0.8x")
    say("DataLoader (0 workers, 2 workers, 2 workers with default_collate, taking turns)")
    rates = loader_rates(a.store)
    l0, l2, l2d = rates["0"], rates["2"], rates["2d"]
    row("loader_0", "DataLoader, 8-frame clips, 0 workers", "clips/s", l0)
    row("loader_2", "DataLoader, 8-frame clips, 2 workers", "clips/s", l2, l0, "0 workers",
        f">= 1.3x ({len(os.sched_getaffinity(0))} cores usable, load {load()})")
    row("loader_2_default", "DataLoader, 2 workers, default_collate", "clips/s", l2d, l2,
        "reel.torch.collate")
    if a.reel:
        say("reel bench (C) on the same store, for its random-access figure")
        c = c_figures(a.reel, a.store, a.video, a.random)
        row("cold_vs_c", "random access, cold", "frames/s", cold, c["random_access"],
            "the C API (reel bench)", ">= 1/1.15 = 0.87x")
        if "scan_1" in c:
            row("iterate_vs_c", "for f in seq", "frames/s", it, c["scan_1"],
                "the C scan (reel bench)", ">= 0.9x")
    info = {"cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "load_start": start_load, "load_end": load(), "video": a.video, "frames": n,
            "frame_shape": shape,
            "pixels_checked": checked, "pixels_mismatched": bad, "python": sys.version.split()[0],
            "figures": rows}
    if a.json:
        print(json.dumps(info, indent=1))
    else:
        print(f"machine   {os.cpu_count()} cores, {info['usable_cores']} usable "
              f"(sched_getaffinity); load average {start_load} at the start, {info['load_end']} "
              f"at the end; Python {info['python']}; numpy {np.__version__}")
        print(f"video     {a.video}: {n} frames, stored natively, frame array {shape}")
        print(f"{'figure':<40}{'reel':>12}  {'baseline':<26}{'its value':>10}{'ratio':>10}  target")
        for r in rows:
            base = "" if r["baseline_value"] is None else f"{r['baseline_value']:.3g}"
            ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}x"
            print(f"{r['figure']:<40}{r['reel']:>12.4g}  {r['baseline']:<26}{base:>10}{ratio:>10}"
                  f"  {r['target']}")
        print(f"pixels: {checked - bad} of {checked} frames decoded by PyAV equal reel's")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
