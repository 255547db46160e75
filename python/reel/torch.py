"""PyTorch datasets over reel stores (imported only when used: `import reel.torch`).

    from torch.utils.data import DataLoader
    from reel.torch import FrameDataset

    ds = FrameDataset("clips.reel", clip_len=8, stride=2)
    for clips in DataLoader(ds, batch_size=16, shuffle=True, num_workers=2):
        ...                                   # uint8 tensors (16, 8, H, W, C)

    # a model's input: (T, C, H, W) float32 in [0, 1] at 224x224, a clip every 4 frames
    ds = FrameDataset("clips.reel", clip_len=8, clip_step=4, layout="CHW",
                      dtype=torch.float32, size=(224, 224))

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
import sys

import numpy as np
import torch

import reel

# collate is public as well (a function: the stub test of test_face.py wants classes here)
__all__ = ["FrameDataset", "ShardSampler"]


_LAYOUTS = ("HWC", "CHW")
_DATASET_MISSING = ("exclude", "raise", "repeat", "black")


def _stand_in(frames, missing, q, pix_fmt):
    """frames (converted arrays, None for a frame without pixels) with each None replaced as
    missing says: 'repeat' the nearest earlier frame with pixels (else the next one, else
    black), 'black' zeros."""
    good = [k for k, a in enumerate(frames) if a is not None]
    for k, a in enumerate(frames):
        if a is not None:
            continue
        src = None
        if missing == "repeat":
            src = max((g for g in good if g < k), default=None)
            src = min((g for g in good if g > k), default=None) if src is None else src
        if src is not None:
            frames[k] = frames[src]
        elif good:
            frames[k] = np.zeros_like(frames[good[0]])
        else:
            depth = {"rgb24": 3, "bgr24": 3}.get(pix_fmt)
            shape = (q.height, q.width, depth) if depth else (q.height, q.width)
            frames[k] = np.zeros(shape, np.uint16 if pix_fmt == "gray16le" else np.uint8)
    return frames


class FrameDataset(torch.utils.data.Dataset):
    """A map-style dataset of frames or clips of frames.

    path: a store (file, directory or location of a published store). sequences: a name, a list
    of names, or None for every sequence by name. clip_len: frames per item; stride: frames
    between the frames of a clip (a clip holds t, t + stride, ..., t + (clip_len - 1) * stride
    of one sequence and never crosses its end); clip_step: frames between the starts of
    consecutive clips (1: every frame starts one).

    Item i is a tensor: (H, W, C) when clip_len is 1, else (clip_len, H, W, C), with C 3 for
    RGB/BGR and 1 for grey; layout='CHW' gives (C, H, W) / (clip_len, C, H, W). dtype:
    torch.uint8 (the pixels) or torch.float32 (scaled to [0, 1]). size=(h, w): frames resized
    to that size (bilinear, with antialiasing; done by PyTorch on the item, since libreel has no
    resize), so that sequences of several sizes batch together. pix_fmt: the format items come
    in ('rgb24' by default; frames stored otherwise are converted; None: as stored, for packed
    formats). transform: applied to each item last.

    targets: an annotation key (README, "Annotations"; e.g. 'keypoints') or a list of keys:
    items are (frames, target) pairs, target being the key's values on the item's frames, as
    seq.annotations[key] reads them: for clips, one array of all clip_len frames stacked
    ((clip_len, 17, 3) for keypoints of shape (17, 3)), for single frames the frame's value;
    arrays become tensors, JSON values stay Python values; a list of keys gives a dict {key:
    target}. Clips with a frame that lacks a key are left out of the index, as clips with a
    frame without pixels are (len(ds) counts fully annotated clips only); when no clip is left,
    AnnotationNotFoundError (a KeyError) names the key. Targets are read per item, so values
    changed after construction are seen; a frame's annotation removed meanwhile raises
    AnnotationNotFoundError naming the sequence, key and frame. Needs a local store file.
    collate (reel.torch.collate) stacks frames and targets of a batch.

    missing: clips with a frame that is not 'ok' (it failed to decode at import: 'skipped',
    'repeated', 'black'): 'exclude' (the default) leaves them out of the index, so len(ds)
    counts clean clips only; 'raise', 'repeat' or 'black' keep every clip and read a frame
    without pixels as Sequence.get_batch does ('repeat': the nearest earlier frame of the same
    clip, else the next one). count: whether reads are counted in the store
    (False: reads leave the file as it is). cache_bytes: a RAM tier of that many bytes (or a
    size string, "512MiB", "10%") of its own in each process that reads (the main one and
    every DataLoader worker); None: the process's shared one. return_index: items are
    (tensor, info) with info {'sequence': name, 'index': int64 tensor of the frame indexes
    (an int for single frames), 'seconds': float64 tensor of their times (a float)};
    DataLoader's collate batches them.
    With targets and return_index, items are (frames, target, info).

    Works with any sampler and with DataLoader(num_workers=N), fork or spawn: each process opens
    the store once, on its first item; the dataset pickles without its open store. DataLoader
    fetches a batch at once (__getitems__): with collate_fn=reel.torch.collate, a worker reads
    the batch's frames straight into one tensor in shared memory, which reaches the main
    process by file descriptor, not copied through a pipe. A worker's store reads without
    read-ahead (the workers are the parallelism). Raises
    SequenceNotFoundError (a KeyError), NoSuchFileError (a FileNotFoundError), TypeError and
    InvalidError (a ValueError) naming a bad argument.
    """

    def __init__(self, path, sequences=None, clip_len=1, stride=1, pix_fmt="rgb24",
                 transform=None, *, clip_step=1, layout="HWC", dtype=torch.uint8, size=None,
                 missing="exclude", count=True, return_index=False, targets=None,
                 cache_bytes=None):
        self.clip_len = reel._int_arg("clip_len", clip_len, 1)
        self.stride = reel._int_arg("stride", stride, 1)
        self.clip_step = reel._int_arg("clip_step", clip_step, 1)
        if isinstance(layout, str) and layout.upper() in _LAYOUTS:
            layout = layout.upper()
        if layout not in _LAYOUTS:
            raise reel.InvalidError(f"layout={layout!r}: must be 'HWC' or 'CHW'")
        planar = isinstance(pix_fmt, str) and pix_fmt.lower() in ("yuv420p", "yuv444p",
                                                                  "yuv420p10le")
        if planar and (layout != "HWC" or size is not None):
            raise reel.InvalidError(f"layout={layout!r}, size={size!r}: need a packed pixel "
                                    f"format (pix_fmt='rgb24', 'bgr24', 'gray8' or "
                                    f"'gray16le'), not planar {pix_fmt!r}")
        if dtype not in (torch.uint8, torch.float32):
            raise reel.InvalidError(f"dtype={dtype!r}: must be torch.uint8 or torch.float32")
        if size is not None:
            try:
                h, w = size
            except (TypeError, ValueError):
                raise TypeError(f"size: an (h, w) pair or None, not {size!r}") from None
            size = (reel._int_arg("size h", h, 1), reel._int_arg("size w", w, 1))
        reel._missing_arg(missing, _DATASET_MISSING)
        self.path = os.fspath(path)
        self.pix_fmt, self.transform = pix_fmt, transform
        self.layout, self.dtype, self.size = layout, dtype, size
        self.missing, self.count, self.return_index = missing, bool(count), bool(return_index)
        self.targets = _targets_arg(targets)
        if isinstance(cache_bytes, str):
            cache_bytes = reel.parse_size(cache_bytes)
        self.cache_bytes = reel._int_arg("cache_bytes", cache_bytes, 0, none=True)
        counts, bad = self._index()
        if isinstance(sequences, str):
            sequences = [sequences]
        names = list(counts) if sequences is None else list(sequences)
        for n in names:
            if n not in counts:
                raise reel.SequenceNotFoundError(n)
        if self.targets is not None:
            bad = self._unlabelled(names, counts, bad if missing == "exclude" else {})
            missing_bad = True
        else:
            missing_bad = missing == "exclude"
        self._seqs = []   # (name, first item, clips, explicit starts or None)
        total = 0
        for n in names:
            starts = self._starts(counts[n], bad.get(n, ()) if missing_bad else ())
            clips = starts if isinstance(starts, int) else len(starts)
            self._seqs.append((n, total, clips, None if isinstance(starts, int) else starts))
            total += clips
        self._len = total
        if self.targets is not None and total == 0 and any(counts[n] for n in names):
            raise reel.AnnotationNotFoundError(
                f"{self.path}: no clip of {self.clip_len} frame(s) of sequence(s) "
                f"{', '.join(map(repr, names))} has annotation(s) "
                f"{', '.join(map(repr, self._keys()))} on every frame")
        self._first = np.array([q[1] for q in self._seqs] + [total], dtype=np.int64)
        self._pid = None
        self._store = None
        self._open = {}
        self._times = {}
        self._cols = {}

    def _keys(self):
        return [self.targets] if isinstance(self.targets, str) else list(self.targets)

    def _unlabelled(self, names, counts, bad):
        """bad ({name: indexes of frames left out}) with, added, the frames of names that lack
        one of the target keys: read once, with the standard library's sqlite3."""
        if "://" in self.path or not os.path.isfile(self.path):
            raise reel.UnsupportedError(f"{self.path}: targets= reads annotations of a local "
                                        f"store file, not of a published store")
        keys = self._keys()
        have = {n: np.zeros(counts[n], dtype=np.int64) for n in names}
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            for key in keys:
                for n in names:
                    rows = db.execute("SELECT a.idx FROM reel_annotation a JOIN reel_sequence s "
                                      "ON s.id = a.seq_id WHERE s.name = ? AND a.key = ? AND "
                                      "a.idx < ?", (n, key, counts[n])).fetchall()
                    idx = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                    have[n][idx] += 1
        except sqlite3.DatabaseError as e:
            raise reel.CorruptError(f"{self.path}: its annotations cannot be read ({e})") from None
        finally:
            db.close()
        out = {}
        for n in names:
            lack = np.flatnonzero(have[n] < len(keys))
            out[n] = np.union1d(np.asarray(bad.get(n, ()), dtype=np.int64), lack)
        return out

    def _target(self, name, q, idx):
        """The targets of frames idx of sequence name: per key, the stacked array (a tensor)
        for a clip, the value for one frame; a dict for several keys."""
        cols = self._cols.get(name)
        if cols is None:
            ann = q.annotations
            cols = self._cols[name] = {k: ann[k] for k in self._keys()}
        out = {}
        for k, col in cols.items():
            v = col[idx[0]] if self.clip_len == 1 else col[idx]
            out[k] = torch.from_numpy(v) if isinstance(v, np.ndarray) else v
        return out[self.targets] if isinstance(self.targets, str) else out

    def _starts(self, frames, bad):
        """The clip starts of a sequence: their number when every one is clean, else the array
        of the starts whose clips hold no frame of bad."""
        span = (self.clip_len - 1) * self.stride
        n = len(range(0, max(0, frames - span), self.clip_step))
        if not len(bad):
            return n
        starts = np.arange(0, max(0, frames - span), self.clip_step, dtype=np.int64)
        hit = np.zeros(max(0, frames), dtype=bool)
        for b in bad:
            for k in range(self.clip_len):
                t = b - k * self.stride
                if 0 <= t < frames:
                    hit[t] = True
        return starts[~hit[starts]]

    def _index(self):
        """({sequence name: frames}, {name: indexes of its frames that are not 'ok'}): through
        the SQL views for a local file (no libreel threads in this process, which DataLoader
        forks); through libreel for a published store (the workers open their own after the
        fork)."""
        if "://" in self.path or os.path.isdir(self.path):
            with reel.open(self.path, "r", count=False) as s:
                counts, bad = {}, {}
                for n in sorted(s.sequences):
                    status = s[n]._times()[3]
                    counts[n] = len(status)
                    bad[n] = np.flatnonzero(status != 0)
                return counts, bad
        if not os.path.exists(self.path):
            raise reel.NoSuchFileError(f"{self.path}: no such store")
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT name, frames FROM reel_sequences ORDER BY name").fetchall()
            bad = {}
            for name, idx in db.execute("SELECT sequence, idx FROM reel_frames "
                                        "WHERE status != 'ok' ORDER BY sequence, idx"):
                bad.setdefault(name, []).append(idx)
        except sqlite3.DatabaseError as e:
            raise reel.CorruptError(f"{self.path}: not a reel store ({e})") from None
        finally:
            db.close()
        return dict(rows), bad

    def __len__(self):
        return self._len

    def _seq(self, name):
        if self._pid != os.getpid():   # a new process (a DataLoader worker): its own store
            self._store = reel.open(self.path, "r", count=self.count,
                                    cache_bytes=self.cache_bytes)
            if torch.utils.data.get_worker_info() is not None:
                # the workers read in parallel: a worker's read-ahead past the end of its clip
                # would take their cores for frames no item needs
                self._store.set_readahead(0)
            self._open = {}
            self._pid = os.getpid()
        q = self._open.get(name)
        if q is None:
            q = self._open[name] = self._store[name]
        return q

    def locate(self, i):
        """(sequence name, first frame index) of item i."""
        i = reel._int_arg("item", i)
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError(f"item {i} out of range ({self._len} items)")
        k = int(np.searchsorted(self._first, i, side="right")) - 1
        name, first, _, starts = self._seqs[k]
        j = i - first
        return name, int(starts[j]) if starts is not None else int(j * self.clip_step)

    def _frames(self, q, idx):
        """The frames idx as one fresh (T, ...) array (a copy: tensors own their memory)."""
        missing = "raise" if self.missing == "exclude" else self.missing
        if self.pix_fmt is None or self.pix_fmt == q.pix_fmt:
            return q.get_batch(idx, missing=missing)
        out = []
        for j in idx:
            try:
                out.append(q.get(j, pix_fmt=self.pix_fmt))
            except reel.NoDataError:
                if missing == "raise":
                    raise
                out.append(None)
        return np.stack(_stand_in(out, missing, q, self.pix_fmt))

    def _to_tensor(self, a, out=None):
        """(T, H, W[, C]) pixels as the item's tensor: layout, dtype, size; written into out
        (a tensor of the item's shape and dtype) when given."""
        if a.ndim == 3:               # grey: (T, H, W) -> (T, H, W, 1)
            a = a[..., None]
        x = torch.from_numpy(a)
        scale = 65535.0 if a.dtype == np.uint16 else 255.0
        if self.size is not None and tuple(x.shape[1:3]) != self.size:
            y = torch.nn.functional.interpolate(x.permute(0, 3, 1, 2).float(), size=self.size,
                                                mode="bilinear", align_corners=False,
                                                antialias=True)
            if self.dtype == torch.float32:
                y.div_(scale).clamp_(0.0, 1.0)   # rounding may pass 1 by an ulp
            else:
                y = y.round_().clamp_(0, scale).to(x.dtype)
            y = y if self.layout == "CHW" else y.permute(0, 2, 3, 1)
        else:
            y = x.permute(0, 3, 1, 2) if self.layout == "CHW" else x
            if self.dtype == torch.float32:
                if out is not None:
                    return torch.div(y, scale, out=out)
                return y.to(torch.float32).div_(scale).contiguous()
        if out is not None:
            return out.copy_(y)
        return y.contiguous()

    def _seconds(self, name, q, idx):
        t = self._times.get(name)
        if t is None:
            t = self._times[name] = q.timestamps
        return t[idx]

    def __getitem__(self, i):
        name, t = self.locate(i)
        q = self._seq(name)
        idx = [t + k * self.stride for k in range(self.clip_len)]
        item = self._to_tensor(self._frames(q, idx))
        if self.clip_len == 1:
            item = item[0]
        if self.transform:
            item = self.transform(item)
        head = (item,) if self.targets is None else (item, self._target(name, q, idx))
        if not self.return_index:
            return head[0] if self.targets is None else head
        return head + (self._info(name, q, idx),)

    def _info(self, name, q, idx):
        sec = self._seconds(name, q, idx)
        if self.clip_len == 1:
            return {"sequence": name, "index": idx[0], "seconds": float(sec[0])}
        return {"sequence": name, "index": torch.tensor(idx, dtype=torch.int64),
                "seconds": torch.from_numpy(np.ascontiguousarray(sec))}

    def _shape_of(self, q):
        """(shape, dtype) of a clip's tensor from sequence q as stored, by the item's options;
        None for frames that are not 8-bit."""
        if q.dtype != np.uint8:
            return None
        d = list(q.shape)
        if len(d) == 2:               # grey: (H, W, 1)
            d.append(1)
        if len(d) == 3 and self.size is not None:
            d[0:2] = self.size
        if len(d) == 3 and self.layout == "CHW":
            d = [d[2], d[0], d[1]]
        dtype = torch.float32 if self.dtype == torch.float32 else torch.uint8
        return (self.clip_len, *d), dtype

    def __getitems__(self, indexes):
        """Items indexes read as one batch (DataLoader calls this with each batch's indexes):
        the frames of all of them go into one tensor, in shared memory in a DataLoader worker,
        which collate (reel.torch.collate) hands on without a copy. Under a DataLoader with
        another collate_fn (PyTorch's default: it would copy the batch again), with a transform
        or a pixel format conversion, the items are read one by one."""
        where = [self.locate(i) for i in indexes]
        seqs = [self._seq(name) for name, _ in where]
        if (not where or self.transform is not None or not _collates_whole() or
                any(self.pix_fmt is not None and self.pix_fmt != q.pix_fmt for q in seqs)):
            return [self[i] for i in indexes]
        shapes = {self._shape_of(q) for q in seqs}
        if len(shapes) != 1 or None in shapes:   # several sizes, 16-bit: items as they come
            return [self[i] for i in indexes]
        (shape, dtype), = shapes
        out = _empty((len(where),) + shape, dtype,
                     torch.utils.data.get_worker_info() is not None)
        missing = "raise" if self.missing == "exclude" else self.missing
        direct = self.size is None and self.layout == "HWC" and dtype != torch.float32
        idxs = []
        for k, ((name, t), q) in enumerate(zip(where, seqs)):
            idx = [t + j * self.stride for j in range(self.clip_len)]
            idxs.append(idx)
            if direct:                 # the frames' bytes straight into the batch
                q._gather_into(idx, out[k].numpy(), missing=missing)
            else:
                self._to_tensor(q.get_batch(idx, missing=missing), out=out[k])
        frames = out if self.clip_len > 1 else out[:, 0]
        items = _Batch(frames)
        for k, ((name, t), q) in enumerate(zip(where, seqs)):
            head = (frames[k],) if self.targets is None else (frames[k],
                                                               self._target(name, q, idxs[k]))
            if self.return_index:
                head += (self._info(name, q, idxs[k]),)
            items.append(head[0] if len(head) == 1 else head)
        return items

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_store"] = None
        state["_open"] = {}
        state["_times"] = {}
        state["_cols"] = {}
        state["_pid"] = None
        return state


class _Batch(list):
    """Items of a batch whose frames are views of one tensor, .frames (see __getitems__)."""

    def __init__(self, frames):
        super().__init__()
        self.frames = frames


def _collates_whole():
    """False when the caller is a DataLoader fetcher (torch.utils.data's _MapDatasetFetcher,
    which calls __getitems__) whose collate_fn is not collate; True otherwise."""
    try:
        caller = sys._getframe(2).f_locals.get("self")
    except ValueError:             # called from no Python frame
        return True
    fn = getattr(caller, "collate_fn", collate) if hasattr(caller, "dataset") else collate
    return fn is collate


def _empty(shape, dtype, shared):
    """An uninitialised tensor, in shared memory when shared (as PyTorch's collate makes its
    batches in a worker: a tensor sent to another process then passes by its file
    descriptor, not by copying its bytes through a pipe)."""
    if not shared:
        return torch.empty(shape, dtype=dtype)
    elem = torch.empty(0, dtype=dtype)
    numel = int(np.prod(shape))
    typed = getattr(elem, "_typed_storage", elem.storage)()
    return elem.new(typed._new_shared(numel)).view(shape)


def _targets_arg(targets):
    if targets is None:
        return None
    keys = [targets] if isinstance(targets, str) else targets
    try:
        keys = list(keys)
    except TypeError:
        keys = None
    if not keys or not all(isinstance(k, str) and k for k in keys):
        raise TypeError(f"targets: an annotation key (a str), a list of keys or None, not "
                        f"{targets!r}")
    return targets if isinstance(targets, str) else tuple(dict.fromkeys(keys))


def _stack(values):
    """Values of one field over a batch: one tensor when they are tensors of one shape and
    dtype, else a list of them (e.g. (people, 17, 3) keypoints, people varying), else
    PyTorch's default collate."""
    first = values[0]
    if isinstance(first, torch.Tensor):
        if all(isinstance(v, torch.Tensor) and v.shape == first.shape and
               v.dtype == first.dtype for v in values):
            return torch.utils.data.default_collate(values)
        return list(values)
    if isinstance(first, dict):
        return {k: _stack([v[k] for v in values]) for k in first}
    return torch.utils.data.default_collate(values)


def collate(batch):
    """DataLoader's collate_fn for FrameDataset: frames stacked into one tensor (the batch
    FrameDataset read them into, without a copy, in shared memory from a worker), targets
    stacked (a list where their shapes differ: a variable number of people), infos collated
    as PyTorch's default does. Items that are plain tensors collate as default_collate."""
    whole = batch.frames if isinstance(batch, _Batch) and len(batch) == len(batch.frames) \
        else None
    first = batch[0]
    if not isinstance(first, tuple):
        return whole if whole is not None else torch.utils.data.default_collate(batch)
    fields = list(zip(*batch))
    out = [whole if whole is not None else torch.utils.data.default_collate(list(fields[0]))]
    out += [_stack(list(f)) for f in fields[1:]]
    return tuple(out)


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
        if isinstance(data_source, (str, bytes, os.PathLike)):
            raise TypeError(f"ShardSampler: data_source is a dataset or a number of items, not "
                            f"the path {data_source!r}")
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
