"""reel.torch.FrameDataset with a DataLoader of two worker processes."""

import numpy as np
import torch
from torch.utils.data import DataLoader, RandomSampler

import reel
import reel.torch as rt
from conftest import SANITIZER, python_children


def test_every_clip_once_with_two_workers(stores):
    ds = rt.FrameDataset(stores, sequences=["rgb", "gray"], clip_len=4, stride=2)
    per_seq = 48 - 3 * 2
    assert len(ds) == 2 * per_seq
    seen = []
    # ThreadSanitizer cannot follow a fork of a threaded process: spawn the workers there
    ctx = "spawn" if SANITIZER == "tsan" else None
    loader = DataLoader(ds, batch_size=5, sampler=RandomSampler(ds), num_workers=2,
                        multiprocessing_context=ctx)
    with python_children():
        for batch in loader:
            assert batch.dtype == torch.uint8
            seen.append(batch)
    items = torch.cat(seen)
    assert items.shape == (len(ds), 4, 240, 320, 3)
    # every clip exactly once: compare each with the frames read directly
    with reel.open(stores) as s:
        direct = {n: s[n][:] for n in ("rgb",)}
    want = {}
    for i in range(len(ds)):
        name, t = ds.locate(i)
        if name == "rgb":
            want[t] = direct["rgb"][t:t + 7:2]
    found = 0
    for clip in items.numpy():
        for t, w in want.items():
            if np.array_equal(clip, w):
                found += 1
                break
    assert found == per_seq          # each rgb clip came (gray ones are converted to rgb)


def test_single_frames_and_formats(stores):
    ds = rt.FrameDataset(stores, sequences=["gray"], pix_fmt=None)
    x = ds[5]
    assert x.shape == (240, 320, 1) and x.dtype == torch.uint8
    with reel.open(stores) as s:
        assert np.array_equal(x.numpy()[..., 0], s["gray"][5])
    ds = rt.FrameDataset(stores, sequences=["yuv"], pix_fmt="rgb24", transform=lambda t: t.float())
    assert ds[0].dtype == torch.float32 and ds[0].shape == (240, 320, 3)
    try:
        rt.FrameDataset(stores, sequences=["nope"])
    except KeyError:
        pass
    else:
        raise AssertionError("a missing sequence must raise KeyError")
