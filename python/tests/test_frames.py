"""Pixels, shapes, views without copies, slices, batches, windows, time lookup, lazy frames."""

import gc
import subprocess

import av
import numpy as np
import pytest

import reel


def pyav_planes(path):
    """Every decoded frame of the video as its list of planes (2-D uint8 arrays), via PyAV."""
    out = []
    with av.open(str(path)) as c:
        for f in c.decode(video=0):
            planes = []
            for p in f.planes:
                a = np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width]
                planes.append(a.copy())
            out.append(planes)
    return out


def test_native_planes_equal_pyav(stores, media):
    want = pyav_planes(media["small"])
    with reel.open(stores) as s:
        q = s["yuv"]
        assert q.pix_fmt == "yuv420p" and len(q) == len(want) == 48
        for i in range(len(q)):
            got = q.frame(i).planes
            assert [p.shape for p in got] == [(240, 320), (120, 160), (120, 160)]
            for g, w in zip(got, want[i]):
                assert np.array_equal(g, w), f"frame {i}"


def test_rgb_equals_reel_cat(stores, reel_tool):
    raw = subprocess.run([reel_tool, "cat", str(stores), "rgb"], check=True,
                         capture_output=True).stdout
    with reel.open(stores) as s:
        q = s["rgb"]
        assert q.shape == (240, 320, 3) and q.dtype == np.uint8
        assert len(raw) == len(q) * 240 * 320 * 3
        for i in range(len(q)):
            a = q[i]
            assert a.shape == (240, 320, 3) and a.dtype == np.uint8
            assert a.tobytes() == raw[i * a.nbytes:(i + 1) * a.nbytes]


def test_shapes_of_formats(stores):
    with reel.open(stores) as s:
        assert s["gray"][0].shape == (240, 320) and s["gray"][0].dtype == np.uint8
        g16 = s["gray16"][0]
        assert g16.shape == (240, 320) and g16.dtype == np.uint16
        assert s["bgr"][0].shape == (240, 320, 3)
        # bgr is rgb with the channels swapped
        assert np.array_equal(s["bgr"][5][..., ::-1], s["rgb"][5])
        yuv = s["yuv"]
        assert yuv[0].shape == (240 * 320 * 3 // 2,)
        assert sorted(s.sequences) == ["bgr", "gray", "gray16", "rgb", "yuv"]
        assert "rgb" in s and "nope" not in s and 12 not in s


def test_slices_batches_windows_equal_single_frames(stores):
    with reel.open(stores) as s:
        q = s["rgb"]
        one = [q[i].copy() for i in range(len(q))]
        clip = q[10:26:2]
        assert clip.shape == (8, 240, 320, 3) and clip.flags.writeable
        for k, i in enumerate(range(10, 26, 2)):
            assert np.array_equal(clip[k], one[i])
        assert np.array_equal(q[-3:], np.stack(one[-3:]))
        assert q[40:10].shape == (0, 240, 320, 3)
        b = q.get_batch([3, 47, 7, 3])
        assert b.shape == (4, 240, 320, 3)
        for k, i in enumerate([3, 47, 7, 3]):
            assert np.array_equal(b[k], one[i])
        w = q.window(center=2, radius=4)       # clamped at the start: frames 0..6
        assert w.shape == (7, 240, 320, 3)
        assert np.array_equal(w, np.stack(one[0:7]))
        w = q.window(center=46, radius=4)      # and at the end: 42..47
        assert np.array_equal(w, np.stack(one[42:48]))
        assert np.array_equal(q[-1], one[47])
        batches = list(q.batches(20, start=5))
        assert [len(x) for x in batches] == [20, 20, 3]
        assert np.array_equal(np.concatenate(batches), np.stack(one[5:]))


def test_time_lookup(stores):
    with reel.open(stores) as s:
        q = s["rgb"]
        assert q.fps == pytest.approx(25.0)
        f = q.frame(30)
        assert f.time == pytest.approx(1.2, abs=1e-6)
        assert q.index_at(seconds=1.2) == 30
        assert q.index_at(seconds=1.2 + 0.039) == 30
        assert np.array_equal(q.at(seconds=1.21), q[30])
        with pytest.raises(IndexError):
            q.index_at(seconds=-1)
        with pytest.raises(IndexError):
            q.index_at(seconds=100)


def test_lazy_frame(stores):
    with reel.open(stores) as s:
        q = s["rgb"]
        f = q.frame(12)
        assert not f.loaded
        assert f.index == 12 and f.pts > 0 and f.duration > 0
        assert f.status == "ok"
        assert f.keyframe == (12 % 12 == 0)
        a = f.data
        assert f.loaded and np.array_equal(a, q[12])
        assert np.array_equal(np.asarray(f), a)
        with pytest.raises(BufferError):
            f.unload()                  # a view is alive
        del a
        gc.collect()
        f.unload()
        assert not f.loaded
        assert np.array_equal(f.data, q[12])   # loads again
        c = q.get(12, pix_fmt="gray8")
        assert c.shape == (240, 320) and c.flags.writeable


def test_zero_copy_views(stores):
    s = reel.open(stores)
    q = s["rgb"]
    a = q[7]
    assert not a.flags.writeable
    with pytest.raises(ValueError):
        a[0, 0, 0] = 1
    assert a.ctypes.data == a.base._address           # the cache entry's pixels, not a copy
    assert q[7].ctypes.data == a.ctypes.data          # the same entry again
    f = q.frame(8)
    v = np.asarray(f)
    assert v.ctypes.data == f._address
    keep = a.copy()
    del q, f
    s.close()
    gc.collect()
    assert s.closed
    with pytest.raises(reel.MisuseError):
        s["rgb"]
    assert np.array_equal(a, keep) and v.shape == (240, 320, 3)   # still valid after close
    del a, v
    gc.collect()


def stored_count(path, idx):
    import sqlite3
    db = sqlite3.connect(path)
    n = db.execute("SELECT access_count FROM reel_frames WHERE sequence = 'rgb' AND idx = ?",
                   (idx,)).fetchone()[0]
    db.close()
    return n


def test_access_counts_reach_the_file(store_copy):
    before = stored_count(store_copy, 7)
    with reel.open(store_copy) as s:
        q = s["rgb"]
        for _ in range(13):
            q[7]
        del q
    assert stored_count(store_copy, 7) == before + 13
