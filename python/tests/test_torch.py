"""reel.torch.FrameDataset with a DataLoader of two worker processes."""

import subprocess

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


def test_shard_sampler_shares_epochs_and_resume(stores):
    ds = rt.FrameDataset(stores, sequences=["rgb", "gray"], clip_len=2)
    n = len(ds)                                  # 2 x 47 = 94 items: 3 ranks pad by 2
    ranks = [rt.ShardSampler(ds, rank=r, world=3, seed=7, chunk=8) for r in range(3)]
    shares = [list(s) for s in ranks]
    assert all(len(x) == len(s) == 32 for x, s in zip(shares, ranks))
    every = sorted(i for x in shares for i in x)
    assert set(every) == set(range(n)) and len(every) - n == 2     # each once, 2 wrapped
    # chunk-local: a rank's 32 items come from at most 32/8 + 2 chunks of 8
    assert all(len({i // 8 for i in x}) <= 6 for x in shares)
    # the same in another process (the C function): deterministic; another epoch: reshuffled
    assert list(rt.ShardSampler(n, rank=1, world=3, seed=7, chunk=8)) == shares[1]
    ranks[1].set_epoch(1)
    assert list(ranks[1]) != shares[1]
    # resume in the middle of epoch 0
    ranks[1].set_epoch(0, start=20)
    assert len(ranks[1]) == 12 and list(ranks[1]) == shares[1][20:]
    # it drives a DataLoader: rank 0's items, in its order
    loader = DataLoader(ds, batch_size=4, sampler=ranks[0])
    got = torch.cat(list(loader))
    assert got.shape[0] == 32
    for k in (0, 5, 31):
        assert torch.equal(got[k], ds[shares[0][k]])
    for bad in ({"rank": 3, "world": 3}, {"rank": 0, "world": 0}, {"chunk": -1},
                {"seed": 2**64}):
        try:
            rt.ShardSampler(ds, **bad)
        except reel.InvalidError:
            pass
        else:
            raise AssertionError(f"{bad} must be refused")


def test_published_store(stores, reel_tool, tmp_path, monkeypatch):
    """FrameDataset and ShardSampler on a published store (a directory here; the same code
    reads S3 and HTTP, tested against real servers by tests/check_remote.sh)."""
    dest = tmp_path / "pub"
    monkeypatch.setenv("REEL_BLOCK_CACHE", str(tmp_path / "blocks"))   # this test's own
    subprocess.run([reel_tool, "publish", str(stores), str(dest), "--sequence", "rgb"],
                   check=True, capture_output=True)
    ds = rt.FrameDataset(dest, clip_len=3, stride=2)
    local = rt.FrameDataset(stores, sequences=["rgb"], clip_len=3, stride=2)
    assert len(ds) == len(local) == 44
    sampler = rt.ShardSampler(ds, rank=1, world=2, seed=3, chunk=4)
    ctx = "spawn" if SANITIZER == "tsan" else None
    loader = DataLoader(ds, batch_size=8, sampler=sampler, num_workers=2,
                        multiprocessing_context=ctx)
    with python_children():
        got = torch.cat(list(loader))
    order = list(sampler)
    assert got.shape == (22, 3, 240, 320, 3)
    for k in (0, 7, 21):
        assert torch.equal(got[k], local[order[k]])
