"""reel.torch.FrameDataset's options: layout, dtype, size, clip_step, missing (clips with a
frame that failed to decode), count, return_index, one sequence by name, pickling."""

import pickle

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import reel
import reel.torch as rt
from facefix import access_total, bad_index, face_store  # noqa: F401  (a fixture)


def test_layout_dtype_and_step(stores):
    ds = rt.FrameDataset(stores, sequences="rgb", clip_len=4, stride=2, clip_step=5)
    assert len(ds) == len(range(0, 48 - 6, 5))
    assert ds.locate(3) == ("rgb", 15)
    hwc = ds[3]
    assert hwc.shape == (4, 240, 320, 3) and hwc.dtype == torch.uint8
    chw = rt.FrameDataset(stores, sequences="rgb", clip_len=4, stride=2, clip_step=5,
                          layout="CHW", dtype=torch.float32)[3]
    assert chw.shape == (4, 3, 240, 320) and chw.dtype == torch.float32
    assert chw.is_contiguous()
    assert torch.allclose(chw, hwc.permute(0, 3, 1, 2).float() / 255)
    assert 0.0 <= float(chw.min()) and float(chw.max()) <= 1.0
    with reel.open(stores) as s:
        assert np.array_equal(hwc.numpy(), s["rgb"][15:22:2])
    one = rt.FrameDataset(stores, sequences="gray", pix_fmt=None, layout="CHW")[0]
    assert one.shape == (1, 240, 320)


def test_size(stores):
    ds = rt.FrameDataset(stores, sequences=["rgb", "gray"], clip_len=2, size=(112, 160))
    a, b = ds[0], ds[len(ds) - 1]
    assert a.shape == b.shape == (2, 112, 160, 3) and a.dtype == torch.uint8
    batch = next(iter(DataLoader(ds, batch_size=4, shuffle=True)))
    assert batch.shape == (4, 2, 112, 160, 3)
    f = rt.FrameDataset(stores, sequences="rgb", size=(120, 160), layout="CHW",
                        dtype=torch.float32)[7]
    with reel.open(stores) as s:
        want = s["rgb"][7].astype(np.float32).reshape(120, 2, 160, 2, 3).mean(axis=(1, 3)) / 255
    assert f.shape == (3, 120, 160)
    assert np.abs(f.permute(1, 2, 0).numpy() - want).mean() < 0.05  # near a 2x2 box


def test_size_batches_sequences_of_several_sizes(face_store):
    """size= makes the 320x240 'rgb' and 160x120 'vfr' sequences one batch; without it they
    are items of their own sizes."""
    ds = rt.FrameDataset(face_store, sequences=["rgb", "vfr"], clip_len=2, size=(60, 80),
                         layout="CHW", dtype=torch.float32)
    first, last = ds.locate(0)[0], ds.locate(len(ds) - 1)[0]
    assert {first, last} == {"rgb", "vfr"}
    batch = next(iter(DataLoader(ds, batch_size=len(ds))))
    assert batch.shape == (len(ds), 2, 3, 60, 80) and batch.dtype == torch.float32
    assert 0.0 <= float(batch.min()) and float(batch.max()) <= 1.0
    raw = rt.FrameDataset(face_store, sequences=["rgb", "vfr"])
    assert raw[0].shape == (240, 320, 3) and raw[len(raw) - 1].shape == (120, 160, 3)


def test_missing_clips_left_out(face_store):
    with reel.open(face_store) as s:
        b = bad_index(s["bad"])
    clean = rt.FrameDataset(face_store, sequences="bad", clip_len=3)
    assert len(clean) == 28 - 3                      # 28 clips, 3 of them hold frame b
    starts = [clean.locate(i)[1] for i in range(len(clean))]
    assert all(not t <= b < t + 3 for t in starts) and starts == sorted(starts)
    for i in range(len(clean)):
        clean[i]
    every = rt.FrameDataset(face_store, sequences="bad", clip_len=3, missing="black")
    assert len(every) == 28
    assert not every[b][0].any()
    rep = rt.FrameDataset(face_store, sequences="bad", clip_len=3, missing="repeat")
    assert torch.equal(rep[b - 1][1], rep[b - 1][0])   # the earlier frame of the clip
    assert torch.equal(rep[b][0], rep[b][1])           # none before it in the clip: the next
    with pytest.raises(reel.NoDataError):
        rt.FrameDataset(face_store, sequences="bad", clip_len=3, missing="raise")[b]
    conv = rt.FrameDataset(face_store, sequences="badyuv", clip_len=2, missing="repeat")
    assert torch.equal(conv[b - 1][1], conv[b - 1][0]) and torch.equal(conv[b][0], conv[b][1])
    with pytest.raises(ValueError):
        rt.FrameDataset(face_store, sequences="bad", missing="skip")


def test_return_index_and_collate(face_store):
    ds = rt.FrameDataset(face_store, sequences="vfr", clip_len=2, stride=3, return_index=True)
    clip, info = ds[4]
    with reel.open(face_store) as s:
        ts = s["vfr"].timestamps
    assert info["sequence"] == "vfr" and info["index"].tolist() == [4, 7]
    assert info["seconds"].tolist() == [ts[4], ts[7]]
    batch, infos = next(iter(DataLoader(ds, batch_size=3)))
    assert batch.shape[0] == 3 and infos["index"].shape == (3, 2)
    assert list(infos["sequence"]) == ["vfr"] * 3
    single = rt.FrameDataset(face_store, sequences="vfr", return_index=True)[5][1]
    assert single["index"] == 5 and single["seconds"] == ts[5]


def test_count_false_leaves_the_file(store_copy):
    before = access_total(store_copy)
    ds = rt.FrameDataset(store_copy, sequences="rgb", count=False)
    for i in range(5):
        ds[i]
    ds._store.close()
    assert access_total(store_copy) == before
    ds = rt.FrameDataset(store_copy, sequences="rgb")
    for i in range(5):
        ds[i]
    ds._store.close()
    del ds
    assert access_total(store_copy) == before + 5


def test_bad_arguments(stores, tmp_path):
    for kw, exc in [({"layout": "NCHW"}, ValueError), ({"dtype": torch.int32}, ValueError),
                    ({"size": 224}, TypeError), ({"clip_step": 0}, ValueError),
                    ({"clip_len": "8"}, TypeError), ({"missing": 3}, TypeError)]:
        with pytest.raises(exc):
            rt.FrameDataset(stores, **kw)
    with pytest.raises(FileNotFoundError):
        rt.FrameDataset(tmp_path / "none.reel")
    with pytest.raises(KeyError):
        rt.FrameDataset(stores, sequences="nope")


def test_pickles_for_spawn(stores):
    ds = rt.FrameDataset(stores, sequences="rgb", clip_len=2, layout="CHW")
    x = ds[3]
    ds2 = pickle.loads(pickle.dumps(ds))
    assert ds2._store is None and torch.equal(ds2[3], x)


class SeqFrames(torch.utils.data.Dataset):
    """A dataset holding a reel.Sequence itself: it crosses to spawned workers by pickling."""

    def __init__(self, seq):
        self.seq = seq

    def __len__(self):
        return len(self.seq)

    def __getitem__(self, i):
        return torch.from_numpy(self.seq[i:i + 1][0])


def test_spawned_workers(stores):
    from conftest import python_children
    with reel.open(stores) as s:
        q = s["gray"]
        want = q[0:6]
        ds = SeqFrames(q)
        loader = DataLoader(torch.utils.data.Subset(ds, range(6)), batch_size=3,
                            num_workers=1, multiprocessing_context="spawn")
        with python_children():
            got = torch.cat(list(loader))
        assert np.array_equal(got.numpy(), want)
        fds = rt.FrameDataset(stores, sequences="gray", pix_fmt=None)
        loader = DataLoader(torch.utils.data.Subset(fds, range(4)), batch_size=2,
                            num_workers=1, multiprocessing_context="spawn")
        with python_children():
            got = torch.cat(list(loader))
        assert np.array_equal(got.numpy()[..., 0], want[:4])


def test_planar_formats_refuse_layout_and_size(face_store):
    """layout/size reshape packed frames: a planar pix_fmt is refused at construction, naming
    both, not deep inside PyTorch on the first item; the layout's case does not matter."""
    with pytest.raises(reel.InvalidError, match="packed pixel format"):
        rt.FrameDataset(face_store, sequences="rgb", pix_fmt="yuv420p", layout="CHW")
    with pytest.raises(ValueError, match="planar 'yuv420p'"):
        rt.FrameDataset(face_store, sequences="rgb", pix_fmt="yuv420p", size=(32, 32))
    ds = rt.FrameDataset(face_store, sequences="rgb", layout="chw")
    assert ds.layout == "CHW" and ds[0].shape[0] == 3


def test_sampler_refuses_a_path(face_store):
    with pytest.raises(TypeError, match="not the path"):
        rt.ShardSampler(str(face_store))


@pytest.mark.parametrize("options", [
    {"sequences": "rgb", "clip_len": 3, "stride": 2},
    {"sequences": "rgb", "clip_len": 2, "layout": "CHW", "dtype": torch.float32},
    {"sequences": ["rgb", "vfr"], "clip_len": 2, "size": (60, 80)},
    {"sequences": "rgb", "layout": "CHW", "dtype": torch.float32, "size": (50, 70)},
    {"sequences": "badyuv", "pix_fmt": None, "clip_len": 2, "missing": "black"},
    {"sequences": "bad", "clip_len": 3, "missing": "repeat", "return_index": True},
    {"sequences": ["rgb", "vfr"], "clip_len": 2},           # two sizes: item by item
    {"sequences": "rgb", "clip_len": 2, "transform": torch.flip},
])
def test_batch_reads_equal_item_reads(face_store, options):
    """DataLoader's batched fetch (__getitems__, one tensor for the batch) gives what items
    read one by one give, stacked."""
    if options.get("transform") is torch.flip:
        options = dict(options, transform=lambda x: torch.flip(x, [0]))
    ds = rt.FrameDataset(face_store, **options)
    pick = [0, len(ds) - 1, len(ds) // 2, 1, len(ds) // 3]
    one = [ds[i] for i in pick]
    if options["sequences"] == ["rgb", "vfr"] and "size" not in options:
        assert all(torch.equal(a, b) for a, b in zip(ds.__getitems__(pick), one))
        return
    got = rt.collate(ds.__getitems__(pick))
    if isinstance(one[0], tuple):
        assert torch.equal(got[0], torch.stack([x[0] for x in one]))
        assert torch.equal(got[1]["index"], torch.stack([x[1]["index"] for x in one]))
    else:
        assert torch.equal(got, torch.stack(one))


def test_worker_batches_come_in_shared_memory(face_store):
    ds = rt.FrameDataset(face_store, sequences="rgb", clip_len=4)
    from conftest import SANITIZER, python_children
    ctx = "spawn" if SANITIZER == "tsan" else None
    pick = list(range(0, len(ds), 3))
    loader = DataLoader(ds, batch_size=4, sampler=pick, num_workers=2, collate_fn=rt.collate,
                        multiprocessing_context=ctx)
    with python_children():
        batches = list(loader)
    assert all(b.is_shared() for b in batches)
    assert torch.equal(torch.cat(batches), torch.stack([ds[i] for i in pick]))
    loader = DataLoader(ds, batch_size=4, sampler=pick, num_workers=2,
                        multiprocessing_context=ctx)             # PyTorch's own collate
    with python_children():
        assert torch.equal(torch.cat(list(loader)), torch.stack([ds[i] for i in pick]))


def test_gather_into_checks_its_buffer(face_store):
    with reel.open(face_store) as s:
        q = s["rgb"]
        out = np.zeros((2,) + q.shape, np.uint8)
        q._gather_into([3, 5], out)
        assert np.array_equal(out, q.get_batch([3, 5]))
        with pytest.raises(ValueError, match="bytes"):
            q._gather_into([3], out)
        with pytest.raises(ValueError, match="skip"):
            q._gather_into([3, 5], out, missing="skip")
        with pytest.raises(BufferError):
            q._gather_into([3, 5], bytes(out.nbytes))
        with pytest.raises(IndexError):
            q._gather_into([3, 99], out)
        with pytest.raises(reel.NoDataError, match="has no pixels"):
            b = s["bad"]
            b._gather_into([bad_index(b)], np.zeros((1,) + b.shape, np.uint8))


def test_cache_bytes_per_process(face_store):
    ds = rt.FrameDataset(face_store, sequences="rgb", cache_bytes="8MiB")
    ds[0]
    assert ds._store.cache_bytes == 8 << 20
    assert pickle.loads(pickle.dumps(ds)).cache_bytes == 8 << 20
    assert rt.FrameDataset(face_store, sequences="rgb")[0] is not None
    with pytest.raises(TypeError, match="cache_bytes"):
        rt.FrameDataset(face_store, cache_bytes=1.5)
    with pytest.raises(ValueError, match="cache_bytes"):
        rt.FrameDataset(face_store, cache_bytes=-1)


class CountingDataset(rt.FrameDataset):
    """Counts the items read one by one."""
    ones = 0

    def __getitem__(self, i):
        CountingDataset.ones += 1
        return super().__getitem__(i)


def test_batch_reads_only_under_reel_collate(face_store):
    """Under PyTorch's default collate (which would copy a batch tensor again) items are read
    one by one; under reel.torch.collate each batch is read whole."""
    ds = CountingDataset(face_store, sequences="rgb", clip_len=2)
    CountingDataset.ones = 0
    default = torch.cat(list(DataLoader(ds, batch_size=4)))
    assert CountingDataset.ones == len(ds)
    CountingDataset.ones = 0
    whole = torch.cat(list(DataLoader(ds, batch_size=4, collate_fn=rt.collate)))
    assert CountingDataset.ones == 0 and torch.equal(default, whole)
