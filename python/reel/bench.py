"""python3 -m reel.bench VIDEO: reel from Python against OpenCV and PyAV, in one run.

Each figure is measured in this process against the baseline a Python user would otherwise
use, on the same video, and printed as a ratio (the machine is shared and noisy: ratios drift
less than absolute times):

  random access, cold    seq[i] of uniformly random frames (those `reel bench` reads) through
                         a 64 MiB RAM tier that was emptied first, vs OpenCV (VideoCapture + CAP_PROP_POS_FRAMES) and PyAV
                         (seek to the keyframe before, decode forward); PyAV's planes are
                         checked equal to reel's (a native yuv420p store)
  random access, cached  seq[i] of resident frames: the cost of one call
  sequential scan        every frame in order, vs OpenCV reading and PyAV decoding
  DataLoader             reel.torch.FrameDataset clips of 8 frames, num_workers 0 and 2
  C API                  with --reel PATH: the same cold random reads measured by `reel bench`
                         in C, run here on the same store (Python within 1.15x of it)

Usage: python3 -m reel.bench VIDEO [--store PATH] [--reel PATH] [--random N] [--seeks N]
                             [--clips N] [--json]
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


def loader_rate(store, workers, clips):
    import torch.utils.data as tud
    import reel.torch as rt
    ds = rt.FrameDataset(store, clip_len=8, stride=1, pix_fmt=None)
    sub = tud.Subset(ds, random.Random(3).sample(range(len(ds)), min(clips, len(ds))))
    loader = tud.DataLoader(sub, batch_size=8, shuffle=True, num_workers=workers)
    t = now()
    n = sum(len(b) for b in loader)
    return n / (now() - t)


def c_random(reel_tool, store, video, nrandom):
    """reel bench's own random-access figure (C, a reader process), on the same store."""
    out = subprocess.run([reel_tool, "bench", store, "bench", "--video", video, "--json",
                          "--random", str(nrandom)], check=True, capture_output=True, text=True)
    for f in json.loads(out.stdout)["figures"]:
        if f["key"] == "random_access":
            return f["reel"]
    raise RuntimeError("reel bench gave no random_access figure")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m reel.bench", description=__doc__.split("\n")[0])
    ap.add_argument("video")
    ap.add_argument("--store", help="store to import into (default: a scratch file, removed)")
    ap.add_argument("--reel", help="the reel tool: also run `reel bench` for the C figure")
    ap.add_argument("--random", type=int, default=1000, help="random reads through reel")
    ap.add_argument("--seeks", type=int, default=30, help="random reads by OpenCV and PyAV")
    ap.add_argument("--clips", type=int, default=400, help="DataLoader clips per run")
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
    say = (lambda m: None) if a.json else (lambda m: print("reel.bench: " + m, file=sys.stderr))
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
        row("cached_call", "seq[i], frame resident", "ns/call", ns, target="<= 2000 ns")
        say("sequential scans")
        with reel.memory_budget(BUDGET):
            sc = scan(q)
        row("scan_vs_opencv", "sequential scan", "frames/s", sc, opencv_scan(a.video),
            "OpenCV read")
        row("scan_vs_pyav", "sequential scan", "frames/s", sc, pyav_scan(a.video), "PyAV decode")
        shape = q.shape
        del q
    say("DataLoader")
    l0 = loader_rate(a.store, 0, a.clips)
    l2 = loader_rate(a.store, 2, a.clips)
    row("loader_0", "DataLoader, 8-frame clips, 0 workers", "clips/s", l0)
    row("loader_2", "DataLoader, 8-frame clips, 2 workers", "clips/s", l2, l0, "0 workers")
    if a.reel:
        say("reel bench (C) on the same store, for its random-access figure")
        c = c_random(a.reel, a.store, a.video, a.random)
        row("cold_vs_c", "random access, cold", "frames/s", cold, c, "the C API (reel bench)",
            ">= 1/1.15 = 0.87x")
    info = {"cores": os.cpu_count(), "video": a.video, "frames": n, "frame_shape": shape,
            "pixels_checked": checked, "pixels_mismatched": bad, "python": sys.version.split()[0],
            "figures": rows}
    if a.json:
        print(json.dumps(info, indent=1))
    else:
        print(f"machine   {os.cpu_count()} cores; Python {info['python']}; numpy {np.__version__}")
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
