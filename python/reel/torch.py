"""PyTorch datasets over reel stores (imported only when used: `import reel.torch`).

    from torch.utils.data import DataLoader
    from reel.torch import FrameDataset

    ds = FrameDataset("clips.reel", clip_len=8, stride=2)
    for clips in DataLoader(ds, batch_size=16, shuffle=True, num_workers=2):
        ...                                   # uint8 tensors (16, 8, H, W, C)

For training on several workers (DistributedDataParallel ranks, nodes reading one published
store), ShardSampler gives each rank its own shuffled share of the items, chunk by chunk, so
that a rank mostly reads frames (blocks) that no other rank reads:

    sampler = ShardSampler(ds, rank=rank, world=world, seed=1)
    for epoch in range(10):
        sampler.set_epoch(epoch)
        for clips in DataLoader(ds, batch_size=16, sampler=sampler): ...

The dataset reads a local store's index (sequences and their frame counts) from its SQL views
with the standard library's sqlite3, so that the process which makes it never loads libreel
threads that a fork would copy (a published store's index is read through libreel, which
handles the fork); each worker process opens the store itself, after the fork,
on its first item.
"""

import os
import sqlite3

import numpy as np
import torch

import reel

__all__ = ["FrameDataset", "ShardSampler"]


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
        counts = self._index()
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

    def _index(self):
        """{sequence name: frames}: through the SQL views for a local file (no libreel threads
        in this process, which DataLoader forks); through libreel for a published store (a
        location or a published directory; the workers open their own after the fork)."""
        if "://" in self.path or os.path.isdir(self.path):
            with reel.open(self.path, "r", count=False) as s:
                return {n: len(s[n]) for n in sorted(s.sequences)}
        if not os.path.exists(self.path):
            raise reel.NotFoundError(f"{self.path}: no such store")
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT name, frames FROM reel_sequences ORDER BY name").fetchall()
        except sqlite3.DatabaseError as e:
            raise reel.CorruptError(f"{self.path}: not a reel store ({e})") from None
        finally:
            db.close()
        return dict(rows)

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


class ShardSampler(torch.utils.data.Sampler):
    """Rank `rank` of `world` workers' share of a dataset's items, shuffled per epoch.

    data_source: a dataset (its len() items) or a number of items. Items are numbered in store
    order, as FrameDataset numbers them (consecutive items are neighbouring frames). An epoch
    visits chunks of `chunk` consecutive items in an order drawn from (seed, epoch), each
    chunk's items shuffled, and cuts that order into `world` equal runs: this rank iterates run
    `rank`. Every item is in one rank's share per epoch (when world does not divide the number
    of items, the order wraps round so that all shares have len() items, as PyTorch's
    DistributedSampler pads). A smaller chunk mixes more; a larger one reads fewer blocks of
    the store. The order is reel_sample() of the C API: the same in any process or language.

    rank and world default to torch.distributed's when it is initialised, else 0 and 1. Call
    set_epoch(epoch) before each epoch; set_epoch(epoch, start=k) resumes an epoch at position
    k of this rank's share (e.g. after a restart: k = batches done x batch size).
    """

    def __init__(self, data_source, rank=None, world=None, seed=0, chunk=256):
        n = data_source if isinstance(data_source, int) else len(data_source)
        if rank is None or world is None:
            dist = torch.distributed
            on = dist.is_available() and dist.is_initialized()
            world = world if world is not None else (dist.get_world_size() if on else 1)
            rank = rank if rank is not None else (dist.get_rank() if on else 0)
        if (n < 0 or world < 1 or not 0 <= rank < world or chunk < 0
                or not 0 <= seed < 2**64):
            raise reel.InvalidError(f"ShardSampler: {n} items, rank {rank} of {world}, chunk "
                                    f"{chunk}, seed {seed}: need 0 <= rank < world, chunk >= 0 "
                                    "and 0 <= seed < 2**64")
        self.items, self.rank, self.world = n, rank, world
        self.seed, self.chunk = seed, chunk
        self.epoch, self.start = 0, 0
        self._share = -(-n // world) if n else 0

    def set_epoch(self, epoch, start=0):
        """The epoch the next iteration draws (its order depends on it), from position start."""
        if not 0 <= epoch < 2**64 or not 0 <= start <= self._share:
            raise reel.InvalidError(f"set_epoch({epoch}, start={start}): need 0 <= epoch < "
                                    f"2**64 and 0 <= start <= {self._share}")
        self.epoch, self.start = epoch, start

    def __len__(self):
        return self._share - self.start

    def __iter__(self):
        pos, step = self.start, 65536
        while pos < self._share:
            k = min(step, self._share - pos)
            block = reel._reel._sample(self.items, self.rank, self.world, self.seed, self.epoch,
                                       self.chunk, pos, k)
            yield from np.frombuffer(block, dtype=np.int64).tolist()
            pos += k
