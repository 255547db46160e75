"""Faults of the store file under an open store: another store renamed over its path."""

import os
import threading

import numpy as np

import reel
from conftest import ffmpeg


def test_replaced_under_readers(tmp_path, media):
    """Readers never get another store's frames: a read gives the frame of the store first
    opened, or raises StoreIOError saying the store was replaced (open it again)."""
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
    with reel.memory_budget(0), reel.open(a) as s:  # every read a miss: new connections
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
    assert wrong == [] and other_errors == []
    assert len(refused) < 8 * 48  # the connections opened before the rename still read
    with reel.open(a) as s:  # opened again: the other store, whole
        assert not np.array_equal(np.array(s["rgb"][5]), want[5])
