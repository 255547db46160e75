"""Frames written from Python: Sequence.append and Sequence.extend (issue 20)."""

import numpy as np
import pytest

import reel


def frames(n, h=24, w=32, seed=0):
    """Camera-like content: a gradient that moves, plus a little fixed texture."""
    rng = np.random.default_rng(seed)
    tex = rng.integers(0, 8, size=(h, w, 3), dtype=np.uint8)
    y, x = np.mgrid[0:h, 0:w]
    out = np.empty((n, h, w, 3), np.uint8)
    for k in range(n):
        out[k, ..., 0] = (x * 4 + k * 3) % 256
        out[k, ..., 1] = (y * 6 + k) % 256
        out[k, ..., 2] = ((x + y) * 2) % 256
        out[k] += tex
    return out


@pytest.mark.parametrize("codec", ["intra", "temporal"])
def test_append_reads_back_bit_exact(tmp_path, codec):
    data = frames(20)
    with reel.open(tmp_path / "a.reel", mode="w") as s:
        seq = s.create_sequence("crops", 32, 24, codec=codec)
        assert seq.append(data[0]) == 0           # one frame
        assert seq.append(data[1:12]) == 1        # a batch
        assert seq.extend(iter(data[12:]), batch_size=3) == 8
        assert len(seq) == 20
        np.testing.assert_array_equal(seq.pts, np.arange(20))
    with reel.open(tmp_path / "a.reel") as s:
        seq = s["crops"]
        for k in range(20):
            np.testing.assert_array_equal(np.asarray(seq[k]), data[k])
        assert seq.info["codec"] == codec


def test_append_timestamps(tmp_path):
    data = frames(4)
    with reel.open(tmp_path / "t.reel", mode="w") as s:
        seq = s.create_sequence("t", 32, 24, time_base=(1, 1000))
        seq.append(data[:2], pts=[0, 40], duration=40)
        seq.append(data[2], pts=np.int64(80), duration=40)
        seq.append(data[3], duration=40)   # follows the last frame
        np.testing.assert_array_equal(seq.pts, [0, 40, 80, 120])
        np.testing.assert_allclose(seq.timestamps, [0.0, 0.04, 0.08, 0.12])
        with pytest.raises(ValueError, match="increase"):
            seq.append(data[:2], pts=[200, 190])
        with pytest.raises(ValueError, match="2 timestamps for 1 frames"):
            seq.append(data[0], pts=[300, 301])
        with pytest.raises(ValueError):   # not after the last frame's pts
            seq.append(data[0], pts=100)
        assert len(seq) == 4              # nothing of the refused appends


def test_append_refuses_wrong_frames(tmp_path):
    with reel.open(tmp_path / "w.reel", mode="w") as s:
        seq = s.create_sequence("w", 32, 24)
        with pytest.raises(ValueError, match=r"shape \(24, 32, 3\)"):
            seq.append(np.zeros((24, 31, 3), np.uint8))
        with pytest.raises(ValueError, match="shape"):
            seq.append(np.zeros((2, 3, 24, 32, 3), np.uint8))
        with pytest.raises(TypeError, match="dtype uint8"):
            seq.append(np.zeros((24, 32, 3), np.float32))
        with pytest.raises(ValueError, match="do not fit uint8"):
            seq.append(np.full((24, 32, 3), 300, np.int32))
        with pytest.raises(TypeError, match="frames"):
            seq.append("not frames")
        with pytest.raises(TypeError, match="pts"):
            seq.append(np.zeros((24, 32, 3), np.uint8), pts="later")
        with pytest.raises(ValueError, match="batch_size"):
            seq.extend([], batch_size=0)
        # a non-contiguous view and int64 values that fit are taken
        big = np.zeros((24, 64, 3), np.uint8)[:, ::2]
        assert seq.append(big) == 0
        assert seq.append(np.ones((24, 32, 3), np.int64)) == 1
        assert len(seq) == 2


def test_append_needs_mode_w(tmp_path):
    with reel.open(tmp_path / "r.reel", mode="w") as s:
        s.create_sequence("r", 32, 24).append(frames(1))
    with reel.open(tmp_path / "r.reel") as s:
        with pytest.raises(reel.ReadOnlyError, match="mode 'w'"):
            s["r"].append(frames(1))


def test_extend_keeps_committed_batches(tmp_path):
    data = frames(6)

    def gen():
        yield from data[:4]
        yield np.zeros((5, 5, 3), np.uint8)   # a bad frame after two full batches

    with reel.open(tmp_path / "e.reel", mode="w") as s:
        seq = s.create_sequence("e", 32, 24)
        with pytest.raises(ValueError, match="shape"):
            seq.extend(gen(), batch_size=2)
        assert len(seq) == 4
        np.testing.assert_array_equal(np.asarray(seq[3]), data[3])
