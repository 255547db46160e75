#!/usr/bin/env python3
"""ingest.py - two of `make bench`'s figures for frames in and labels beside them (issue 20),
run by tools/bench/ingest.sh:

  append CLIP REEL LIBREEL DIR   1,000 frames of CLIP (640x480 rgb24) held as one numpy array,
                                 appended through libreel's reel_frames_append (ctypes, batches
                                 of 50, intra codec: what a Python seq.append would call), vs
                                 `reel import --codec intra` of the same frames as a rawvideo
                                 .nut file; both stores' frame checksums compared.
  join LIBREEL DIR               a sequence of 100,000 frames (16x16 grey, through libreel) with
                                 keypoints (17, 3) float32 on every frame: reading the
                                 reel_frame_annotations view for it (join of sequence,
                                 annotation and frame) vs the same rows from reel_annotation
                                 alone, each the best of 3 runs, and the view's query plan.

Times are wall-clock in this one run; only their ratio is a figure (the host is shared).
"""
import ctypes as C
import os
import sqlite3
import subprocess
import sys
import time

import numpy as np

REEL_OPEN_CREATE = 0x2
REEL_PIX_GRAY8, REEL_PIX_RGB24 = 1, 2
REEL_CODEC_INTRA = 1


class Rational(C.Structure):
    _fields_ = [("num", C.c_int32), ("den", C.c_int32)]


class SeqParams(C.Structure):  # reel_seq_params
    _fields_ = [("width", C.c_int), ("height", C.c_int), ("pix_fmt", C.c_int),
                ("time_base", Rational), ("source", C.c_char_p), ("codec", C.c_int),
                ("keyint", C.c_int)]


class FrameIn(C.Structure):  # reel_frame_in
    _fields_ = [("pixels", C.c_void_p), ("size", C.c_size_t), ("pts", C.c_int64),
                ("duration", C.c_int64), ("flags", C.c_uint), ("status", C.c_int)]


def libreel(path):
    lib = C.CDLL(path)
    lib.reel_open.argtypes = [C.c_char_p, C.c_int, C.c_void_p, C.POINTER(C.c_void_p)]
    lib.reel_seq_create.argtypes = [C.c_void_p, C.c_char_p, C.POINTER(SeqParams),
                                    C.POINTER(C.c_void_p)]
    lib.reel_frames_append.argtypes = [C.c_void_p, C.POINTER(FrameIn), C.c_size_t,
                                       C.c_void_p]
    lib.reel_seq_close.argtypes = [C.c_void_p]
    lib.reel_close.argtypes = [C.c_void_p]
    lib.reel_errmsg.restype = C.c_char_p
    return lib


def check(lib, rc, what):
    if rc != 0:
        sys.exit(f"ingest.py: {what}: {lib.reel_errmsg().decode(errors='replace')}")


def append_frames(lib, store, name, frames, fmt, batch):
    """frames (N, ...) uint8 appended in batches; the seconds from open to close."""
    t0 = time.perf_counter()
    s, q = C.c_void_p(), C.c_void_p()
    h, w = frames.shape[1], frames.shape[2]
    check(lib, lib.reel_open(store.encode(), REEL_OPEN_CREATE, None, C.byref(s)), store)
    p = SeqParams(w, h, fmt, Rational(1, 25), b"numpy", REEL_CODEC_INTRA, 0)
    check(lib, lib.reel_seq_create(s, name.encode(), C.byref(p), C.byref(q)), name)
    size = frames[0].nbytes
    base = frames.ctypes.data
    for first in range(0, len(frames), batch):
        n = min(batch, len(frames) - first)
        ins = (FrameIn * n)(*[FrameIn(base + (first + i) * size, size, first + i, 1, 0, 0)
                              for i in range(n)])
        check(lib, lib.reel_frames_append(q, ins, n, None), f"{name}: frames from {first}")
    lib.reel_seq_close(q)
    check(lib, lib.reel_close(s), store)
    return time.perf_counter() - t0


def checksums(store, name):
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    rows = db.execute("SELECT f.checksum FROM reel_frame f JOIN reel_sequence s ON s.id = "
                      "f.seq_id WHERE s.name = ? ORDER BY f.idx", (name,)).fetchall()
    db.close()
    return rows


def cmd_append(clip, reel, lib_path, tmp):
    n, w, h = 1000, 640, 480
    raw = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", clip, "-frames:v", str(n),
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         check=True, stdout=subprocess.PIPE).stdout
    frames = np.frombuffer(raw, dtype=np.uint8).reshape(n, h, w, 3)
    nut = os.path.join(tmp, "frames.nut")
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt",
                    "rgb24", "-s", f"{w}x{h}", "-r", "25", "-i", "-", "-c:v", "rawvideo", nut],
                   input=raw, check=True)
    del raw
    lib = libreel(lib_path)
    a, b = os.path.join(tmp, "append.reel"), os.path.join(tmp, "import.reel")
    t_append = append_frames(lib, a, "np", frames, REEL_PIX_RGB24, 50)
    t0 = time.perf_counter()
    subprocess.run([reel, "import", b, nut, "--sequence", "np", "--codec", "intra",
                    "--pix-fmt", "rgb24", "--quiet"], check=True)
    t_import = time.perf_counter() - t0
    same = checksums(a, "np") == checksums(b, "np")
    print(f"append: {n} frames {w}x{h} rgb24 from one numpy array, reel_frames_append in "
          f"batches of 50: {t_append:.2f} s ({n / t_append:.0f} frames/s); reel import "
          f"--codec intra of the same frames as rawvideo .nut: {t_import:.2f} s "
          f"({n / t_import:.0f} frames/s); append/import time {t_append / t_import:.2f}x; "
          f"same frames: {'yes' if same else 'NO'}")
    return 0 if same else 1


JOIN = ("SELECT idx, pts, time_s, value FROM reel_frame_annotations "
        "WHERE sequence = 'long' AND key = 'keypoints'")
BARE = ("SELECT idx, value FROM reel_annotation WHERE seq_id = "
        "(SELECT id FROM reel_sequence WHERE name = 'long') AND key = 'keypoints'")


def best(db, sql, reps=3):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        rows = db.execute(sql).fetchall()
        times.append(time.perf_counter() - t0)
    return min(times), len(rows)


def cmd_join(lib_path, tmp):
    n = 100_000
    store = os.path.join(tmp, "join.reel")
    frames = np.zeros((n, 16, 16), dtype=np.uint8)
    frames[:, 0, 0] = np.arange(n) % 251
    append_frames(libreel(lib_path), store, "long", frames, REEL_PIX_GRAY8, 10_000)
    db = sqlite3.connect(store)
    sid = db.execute("SELECT id FROM reel_sequence WHERE name = 'long'").fetchone()[0]
    kp = np.arange(51, dtype=np.float32).tobytes()
    with db:
        db.executemany("INSERT INTO reel_annotation(seq_id, idx, key, kind, value, dtype, shape, "
                       "producer) VALUES(?, ?, 'keypoints', 'blob', ?, 'float32', '[17,3]', "
                       "'bench')", ((sid, i, kp) for i in range(n)))
    plan = [r[3] for r in db.execute("EXPLAIN QUERY PLAN " + JOIN)]
    indexes_only = all(p.startswith("SEARCH") for p in plan)
    best(db, JOIN, 1)  # both read once first: the file is in the page cache for both
    best(db, BARE, 1)
    t_join, rows_join = best(db, JOIN)
    t_bare, rows_bare = best(db, BARE)
    db.close()
    print(f"join: one sequence of {n} frames, keypoints on each: reel_frame_annotations "
          f"{rows_join} rows in {t_join * 1e3:.0f} ms vs reel_annotation alone {rows_bare} rows "
          f"in {t_bare * 1e3:.0f} ms (best of 3): {t_join / t_bare:.2f}x; plan: "
          f"{'; '.join(plan)}; indexes only: {'yes' if indexes_only else 'NO'}")
    return 0 if indexes_only and rows_join == rows_bare == n else 1


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "append":
        sys.exit(cmd_append(*sys.argv[2:]))
    if len(sys.argv) == 4 and sys.argv[1] == "join":
        sys.exit(cmd_join(*sys.argv[2:]))
    sys.exit(__doc__)
