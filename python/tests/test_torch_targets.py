"""reel.torch.FrameDataset(..., targets=key): (frames, target) pairs from the store's
annotations, reel.torch.collate stacking both, clips with an unannotated frame left out."""

import subprocess

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import reel
import reel.torch as rt
from conftest import SANITIZER, python_children

LABELLED = [i for i in range(40) if i != 20]      # frames of 'rgb' with keypoints


def keypoints(i):
    """Frame i's (17, 3) float32 keypoints: [i, joint, 0.5]."""
    k = np.zeros((17, 3), np.float32)
    k[:, 0], k[:, 1], k[:, 2] = i, np.arange(17), 0.5
    return k


@pytest.fixture
def labelled(store_copy):
    with reel.open(store_copy, "w") as s:
        ann = s["rgb"].annotations
        ann["keypoints"][LABELLED] = np.stack([keypoints(i) for i in LABELLED])
        ann["label"] = {i: f"frame {i}" for i in range(48)}
        ann["people"] = {i: np.zeros((1 + i % 3, 17, 3), np.float32) for i in range(48)}
        s["gray"].annotations["keypoints"][[0, 1]] = np.stack([keypoints(0), keypoints(1)])
    return store_copy


def clean_starts(frames, clip_len, stride, have):
    return [t for t in range(frames - (clip_len - 1) * stride)
            if all(t + k * stride in have for k in range(clip_len))]


def test_pairs_and_unannotated_clips_left_out(labelled):
    ds = rt.FrameDataset(labelled, sequences="rgb", clip_len=4, stride=2, targets="keypoints")
    want = clean_starts(48, 4, 2, set(LABELLED))
    assert [ds.locate(i)[1] for i in range(len(ds))] == want
    plain = rt.FrameDataset(labelled, sequences="rgb", clip_len=4, stride=2)
    for i in (0, len(ds) // 2, len(ds) - 1):
        frames, target = ds[i]
        t = ds.locate(i)[1]
        assert torch.equal(frames, plain[t])
        assert target.shape == (4, 17, 3) and target.dtype == torch.float32
        assert torch.equal(target, torch.from_numpy(np.stack([keypoints(t + 2 * k)
                                                              for k in range(4)])))
    one = rt.FrameDataset(labelled, sequences="rgb", targets="keypoints")
    assert len(one) == len(LABELLED)
    f, k = one[25]
    assert f.shape == (240, 320, 3) and torch.equal(k, torch.from_numpy(keypoints(26)))


def test_collate_and_workers(labelled):
    ds = rt.FrameDataset(labelled, sequences="rgb", clip_len=2, targets="keypoints",
                         layout="CHW", dtype=torch.float32, size=(60, 80))
    ctx = "spawn" if SANITIZER == "tsan" else None
    loader = DataLoader(ds, batch_size=5, shuffle=True, num_workers=2, collate_fn=rt.collate,
                        multiprocessing_context=ctx)
    seen = []
    with python_children():
        for frames, target in loader:
            assert frames.shape[1:] == (2, 3, 60, 80) and target.shape[1:] == (2, 17, 3)
            assert frames.shape[0] == target.shape[0]
            seen += target[:, 0, 0, 0].long().tolist()
    assert sorted(seen) == [ds.locate(i)[1] for i in range(len(ds))]


def test_json_several_keys_ragged_and_index(labelled):
    ds = rt.FrameDataset(labelled, sequences="rgb", targets="label")
    assert len(ds) == 48 and ds[7][1] == "frame 7"
    batch = next(iter(DataLoader(ds, batch_size=3, collate_fn=rt.collate)))
    assert batch[0].shape == (3, 240, 320, 3) and batch[1] == ["frame 0", "frame 1", "frame 2"]
    both = rt.FrameDataset(labelled, sequences="rgb", clip_len=2, targets=["keypoints", "label"],
                           return_index=True)
    frames, target, info = both[0]
    assert set(target) == {"keypoints", "label"} and target["label"] == ["frame 0", "frame 1"]
    assert info["index"].tolist() == [0, 1]
    frames, target, info = next(iter(DataLoader(both, batch_size=4, collate_fn=rt.collate)))
    assert target["keypoints"].shape == (4, 2, 17, 3) and info["index"].shape == (4, 2)
    ragged = rt.FrameDataset(labelled, sequences="rgb", targets="people")
    frames, people = next(iter(DataLoader(ragged, batch_size=3, collate_fn=rt.collate)))
    assert frames.shape[0] == 3 and [p.shape[0] for p in people] == [1, 2, 3]


def test_several_sequences(labelled):
    ds = rt.FrameDataset(labelled, sequences=["gray", "rgb"], targets="keypoints")
    assert len(ds) == 2 + len(LABELLED) and ds.locate(1) == ("gray", 1)
    assert torch.equal(ds[1][1], torch.from_numpy(keypoints(1)))


def test_errors_name_the_key(labelled, stores, tmp_path, reel_tool):
    with pytest.raises(reel.AnnotationNotFoundError, match="'bbox'"):
        rt.FrameDataset(labelled, sequences="rgb", targets="bbox")
    with pytest.raises(KeyError):
        rt.FrameDataset(stores, sequences="rgb", targets="keypoints")
    for bad in (3, "", ["keypoints", 2], []):
        with pytest.raises(TypeError, match="targets"):
            rt.FrameDataset(labelled, targets=bad)
    ds = rt.FrameDataset(labelled, sequences="rgb", clip_len=2, targets="keypoints")
    ds[0]
    with reel.open(labelled, "w") as s:
        del s["rgb"].annotations["keypoints"][1]
    with pytest.raises(reel.AnnotationNotFoundError, match="'keypoints' frame 1"):
        ds[0]
    dest = tmp_path / "pub"
    subprocess.run([reel_tool, "publish", str(labelled), str(dest), "--sequence", "rgb"],
                   check=True, capture_output=True)
    with pytest.raises(reel.UnsupportedError, match="local store file"):
        rt.FrameDataset(dest, targets="keypoints")
