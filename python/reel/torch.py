"""PyTorch datasets over reel stores (imported only when used: `import reel.torch`).

    from torch.utils.data import DataLoader
    from reel.torch import FrameDataset

    ds = FrameDataset("clips.reel", clip_len=8, stride=2)
    for clips in DataLoader(ds, batch_size=16, shuffle=True, num_workers=2):
        ...                                   # uint8 tensors (16, 8, H, W, C)

The dataset reads its index (sequences and their frame counts) from the store's SQL views
with the standard library's sqlite3, so that the process which makes it never loads libreel
threads that a fork would copy; each worker process opens the store itself, after the fork,
on its first item.
"""

import os
import sqlite3

import numpy as np
import torch

import reel

__all__ = ["FrameDataset"]


class FrameDataset(torch.utils.data.Dataset):
    """A map-style dataset of frames or clips of frames.

    Item i is a uint8 tensor: (H, W, C) when clip_len is 1, else (clip_len, H, W, C), where C
    is 3 for RGB/BGR and 1 for grey (a trailing axis is added); clips hold frames t, t + stride,
    ..., t + (clip_len - 1) * stride of one sequence and never cross its end. Clips start at
    every frame of every sequence where a whole clip fits, in the order of `sequences` (all
    sequences by name when None). pix_fmt: the format items come in ('rgb24' by default;
    frames stored otherwise are converted; None: as stored, for packed formats). transform:
    applied to each item. Works with any sampler and with DataLoader(num_workers=N): each
    process opens the store once, after the fork.
    """

    def __init__(self, path, sequences=None, clip_len=1, stride=1, pix_fmt="rgb24",
                 transform=None):
        if clip_len < 1 or stride < 1:
            raise reel.InvalidError(f"clip_len {clip_len} and stride {stride} must be >= 1")
        self.path = os.fspath(path)
        self.clip_len = clip_len
        self.stride = stride
        self.pix_fmt = pix_fmt
        self.transform = transform
        if not os.path.exists(self.path):
            raise reel.NotFoundError(f"{self.path}: no such store")
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT name, frames FROM reel_sequences ORDER BY name").fetchall()
        except sqlite3.DatabaseError as e:
            raise reel.CorruptError(f"{self.path}: not a reel store ({e})") from None
        finally:
            db.close()
        counts = dict(rows)
        names = list(counts) if sequences is None else list(sequences)
        for n in names:
            if n not in counts:
                raise reel.SequenceNotFoundError(n)
        span = (clip_len - 1) * stride
        self._seqs = []   # (name, first item, clips)
        total = 0
        for n in names:
            clips = max(0, counts[n] - span)
            self._seqs.append((n, total, clips))
            total += clips
        self._len = total
        self._starts = np.array([s[1] for s in self._seqs] + [total], dtype=np.int64)
        self._pid = None
        self._store = None
        self._open = {}

    def __len__(self):
        return self._len

    def _seq(self, name):
        if self._pid != os.getpid():   # a new process (a DataLoader worker): its own store
            self._store = reel.open(self.path, "r", count=True)
            self._open = {}
            self._pid = os.getpid()
        q = self._open.get(name)
        if q is None:
            q = self._open[name] = self._store[name]
        return q

    def locate(self, i):
        """(sequence name, first frame index) of item i."""
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError(f"item {i} out of range ({self._len} items)")
        k = int(np.searchsorted(self._starts, i, side="right")) - 1
        name, first, _ = self._seqs[k]
        return name, int(i - first)

    def _frames(self, q, idx):
        """The frames idx as one fresh (T, ...) array (a copy: tensors own their memory)."""
        if self.pix_fmt is None or self.pix_fmt == q.pix_fmt:
            return q.get_batch(idx)
        return np.stack([q.get(j, pix_fmt=self.pix_fmt) for j in idx])

    def __getitem__(self, i):
        name, t = self.locate(i)
        q = self._seq(name)
        idx = [t + k * self.stride for k in range(self.clip_len)]
        a = self._frames(q, idx)
        if a.ndim == 3:               # grey: (T, H, W) -> (T, H, W, 1)
            a = a[..., None]
        item = torch.from_numpy(a)
        if self.clip_len == 1:
            item = item[0]
        return self.transform(item) if self.transform else item

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_store"] = None
        state["_open"] = {}
        state["_pid"] = None
        return state
