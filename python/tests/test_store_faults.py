"""Faults of the store file: another store renamed over the path of an open one, the write
lock held by another connection."""

import os
import sqlite3
import threading

import numpy as np
import pytest

import reel
from conftest import ffmpeg


def test_replaced_under_readers(tmp_path, media):
    """Readers never get another store's frames: a read gives the frame of the store first
    opened, or raises StoreIOError saying the store was replaced (open it again); so does the
    close, which cannot write the access counts into the replaced file."""
    a, b = tmp_path / "a.reel", tmp_path / "b.reel"
    other = tmp_path / "other.mp4"
    ffmpeg(other, "testsrc=size=320x240:rate=25", 48, "-c:v", "libx264", "-pix_fmt", "yuv420p")
    reel.import_video(a, media["small"], sequence="rgb", pix_fmt="rgb24", progress=False)
    reel.import_video(b, other, sequence="rgb", pix_fmt="rgb24", progress=False)
    with reel.open(a) as s:
        want = [np.array(f) for f in s["rgb"][0:48]]
    with reel.open(b) as s:
        assert not np.array_equal(np.array(s["rgb"][5]), want[5])
    wrong, refused, other_errors = [], [], []
    closing = pytest.raises(reel.StoreIOError, match="closed, but the access counts could not "
                            "be saved: .* was replaced on disk since it was opened")
    with reel.memory_budget(0), closing, reel.open(a) as s:  # every read a miss: new connections
        q = s["rgb"]
        assert np.array_equal(q[3], want[3])
        os.replace(b, a)

        def read_all():
            for i in range(48):
                try:
                    if not np.array_equal(q[i], want[i]):
                        wrong.append(i)
                except reel.StoreIOError as e:
                    msg = str(e)
                    (refused if "replaced on disk since it was opened: open it again" in msg
                     and str(a) in msg else other_errors).append(msg)
                except Exception as e:  # noqa: BLE001 (counted, then asserted on)
                    other_errors.append(repr(e))

        threads = [threading.Thread(target=read_all) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert s.closed and closing.excinfo.value.code == 5
    s.close()    # again: nothing more to say
    assert wrong == [] and other_errors == []
    assert len(refused) < 8 * 48  # the connections opened before the rename still read
    with reel.open(a) as s:  # opened again: the other store, whole
        assert not np.array_equal(np.array(s["rgb"][5]), want[5])


def test_import_waits_for_the_lock(tmp_path, media):
    """import_video(wait=...) waits that long for a write lock another connection holds, then
    raises BusyError naming the store and the holder; junk in wait is refused first."""
    path = tmp_path / "locked.reel"
    reel.import_video(path, media["small"], sequence="a", progress=False)
    for junk in (-1, float("nan"), 1e12):
        with pytest.raises(ValueError, match="wait"):
            reel.import_video(path, media["small"], sequence="b", progress=False, wait=junk)
    with pytest.raises(TypeError):
        reel.import_video(path, media["small"], sequence="b", progress=False, wait="1x")
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(reel.BusyError) as e:
            reel.import_video(path, media["small"], sequence="b", progress=False, wait=0.2)
    finally:
        con.execute("ROLLBACK")
        con.close()
    msg = str(e.value)
    assert str(path) in msg and "locked by another writer" in msg
    assert "held by another process (no running import claims a sequence of it)" in msg
    assert "gave up after waiting 0.2 s" in msg
    assert "reel_open_options" not in msg and "import_video(..., wait=SECONDS)" in msg
    r = reel.import_video(path, media["small"], sequence="b", progress=False, wait=0)
    assert r["frames"] == 48


def test_close_failure_under_an_exception(tmp_path, media):
    """A close that cannot write the counts raises when the with body ended normally, and is a
    RuntimeWarning (the body's exception propagating unmasked) when it raised."""
    a, b = tmp_path / "a.reel", tmp_path / "b.reel"
    for p in (a, b):
        reel.import_video(p, media["small"], sequence="rgb", progress=False)
    with pytest.warns(RuntimeWarning, match="closed, but the access counts could not be saved"):
        with pytest.raises(KeyError, match="the body's"):
            with reel.open(a) as s:
                s["rgb"][3]          # one access counted, in memory
                os.replace(b, a)
                raise KeyError("the body's")
    assert s.closed
    with reel.open(a) as s:            # a close with nothing to save: silent
        s["rgb"][1]
    with reel.open(a, count=False) as s:   # read-only: counts are not kept, nothing raised
        s["rgb"][1]
