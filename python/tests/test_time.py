"""Time and metadata as torchcodec and decord give them: timestamps, pts, durations, lookups
by time (one or many), zero-based seconds, seq.info's counts and rates, batches with indexes."""

import numpy as np
import pytest

import reel
from facefix import access_total, bad_index, face_store  # noqa: F401  (a fixture)


def test_timestamps_arrays(stores):
    with reel.open(stores) as s:
        q = s["rgb"]
        before = q.cache_stats()
        ts, pts, dur = q.timestamps, q.pts, q.durations
        assert ts.dtype == np.float64 and pts.dtype == np.int64 and dur.dtype == np.float64
        assert len(ts) == len(pts) == len(dur) == len(q)
        num, den = q.time_base
        for i in (0, 5, 47):
            f = q.frame(i)
            assert pts[i] == f.pts and ts[i] == pytest.approx(f.time)
            assert dur[i] == pytest.approx(f.duration * num / den)
        assert np.all(np.diff(ts) > 0)
        z = q.times(zero=True)
        assert z[0] == 0.0 and np.allclose(z, ts - ts[0])
        after = q.cache_stats()
        assert after["hits"] + after["misses"] == before["hits"] + before["misses"]


def test_timestamps_count_no_access(store_copy):
    before = access_total(store_copy)
    with reel.open(store_copy) as s:
        q = s["rgb"]
        q.timestamps, q.pts, q.durations, q.info, q.times(zero=True)
        s.flush()
        assert access_total(store_copy) == before
        q[3]
        s.flush()
        assert access_total(store_copy) == before + 1


def test_index_at_seconds_pts_zero(face_store):
    with reel.open(face_store) as s:
        q = s["vfr"]
        ts, pts = q.timestamps, q.pts
        for i in (0, 3, 10, 23):
            assert q.index_at(ts[i]) == i
            assert q.index_at(pts=int(pts[i])) == i
            assert q.index_at(pts=pts[i]) == i               # numpy integers too
            assert q.index_at(float(ts[i] - ts[0]), zero=True) == i
            if i:
                assert q.index_at((ts[i] + ts[i - 1]) / 2) == i - 1
        assert np.array_equal(q.at(ts[5]), q[5])
        assert np.array_equal(q.at(pts=int(pts[6])), q[6])
        with pytest.raises(IndexError):
            q.index_at(-1.0)
        with pytest.raises(IndexError):
            q.index_at(pts=int(pts[-1]) + 10**6)


def test_get_frames_at(face_store):
    with reel.open(face_store) as s:
        q = s["vfr"]
        ts = q.timestamps
        a = q.get_frames_at(seconds=[ts[2], ts[7], ts[2]])
        assert np.array_equal(a, q[[2, 7, 2]])
        b = q.get_frames_at(pts=q.pts[[1, 4]])
        assert np.array_equal(b, q[[1, 4]])
        c = q.get_frames_at(seconds=np.array([0.0]) + (ts[3] - ts[0]), zero=True)
        assert np.array_equal(c[0], q[3])
        with pytest.raises(TypeError):
            q.get_frames_at()
        with pytest.raises(ValueError):
            q.get_frames_at(seconds=[float("nan")])
        bad = s["bad"]
        t = bad.timestamps[bad_index(bad)]
        with pytest.raises(reel.NoDataError):
            bad.get_frames_at(seconds=[t])
        assert bad.get_frames_at(seconds=[t], missing="skip").shape[0] == 0


def test_info_counts_and_rates(face_store):
    with reel.open(face_store) as s:
        vfr = s["vfr"].info
        # frame n at (n + n*n/8) / 25 s: 24 frames over ~3.6 s, far from 25 fps
        assert vfr["variable_rate"] is True
        assert vfr["avg_fps"] == pytest.approx(24 / vfr["duration_seconds"])
        assert vfr["avg_fps"] < 10
        assert vfr["import_complete"] is True and len(vfr["source_hash"]) == 16
        assert vfr["source_codec"] == "h264" and vfr["keyframes"] >= 1
        assert vfr["status_counts"] == {"ok": 24, "skipped": 0, "repeated": 0, "black": 0}
        bad = s["bad"].info
        assert bad["variable_rate"] is False
        assert bad["avg_fps"] == pytest.approx(25.0)
        assert bad["status_counts"]["skipped"] == 1 and bad["status_counts"]["ok"] == 29
        assert bad["duration_seconds"] == pytest.approx(30 / 25)


def test_info_of_made_sequence(store_copy):
    with reel.open(store_copy, "w") as s:
        q = s.create_sequence("empty", 8, 8)
        i = q.info
        assert i["avg_fps"] is None and i["import_complete"] is None
        assert i["status_counts"]["ok"] == 0 and len(q.timestamps) == 0


def test_batches_with_index(face_store):
    with reel.open(face_store) as s:
        q = s["vfr"]
        ts = q.timestamps
        got = list(q.batches(5, start=2, stop=13, with_index=True))
        assert [len(b) for b in got] == [5, 5, 1]
        b = got[1]
        assert isinstance(b, reel.FrameBatch)
        assert b.indexes.tolist() == [7, 8, 9, 10, 11]
        assert np.array_equal(b.seconds, ts[7:12]) and np.array_equal(np.asarray(b), q[7:12])
        assert np.allclose(b.durations, q.durations[7:12])
        assert "FrameBatch" in repr(b)


def test_cli_info_rate_from_pts(face_store, reel_tool):
    """`reel info` says a clip whose packets all claim one duration but whose pts gaps vary is
    of variable rate, and gives the average rate over the frames (as seq.info does)."""
    import json
    import subprocess
    with reel.open(face_store) as s:
        q = s["vfr"]
        assert q.durations.min() == q.durations.max()       # the packets say constant
        want = q.info["avg_fps"]
    for name, rate in (("vfr", "yes"), ("bad", "no")):
        out = subprocess.run([reel_tool, "info", str(face_store), name, "--json"],
                             check=True, capture_output=True, text=True).stdout
        d = json.loads(out)
        assert d["variable_rate"] == rate
    vfr = json.loads(subprocess.run([reel_tool, "info", str(face_store), "vfr", "--json"],
                                    check=True, capture_output=True, text=True).stdout)
    assert vfr["avg_fps"] == pytest.approx(want, abs=1e-3)
