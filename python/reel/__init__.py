"""reel: decoded video frames, stored once, read fast and at random.

A reel store is one SQLite file holding the frames of videos, each decoded once with FFmpeg and
compressed losslessly. Frames come back bit-exact by index or by time, through a RAM tier with
a byte budget that gives memory back when the system runs short. Arrays are numpy views of
the cached frames: no copy is made to hand a frame to Python.

    import reel
    reel.import_video("clips.reel", "walk01.mp4")           # decode once; resumable
    with reel.open("clips.reel") as store:
        seq = store["walk01"]
        a = seq[42]                # (H, W, 3) uint8, read-only view of the cached frame
        clip = seq[10:26:2]        # (8, H, W, 3): one copy into a fresh array
        some = seq[[3, 7, 7, 1]]   # a gather, as numpy's fancy indexing (one copy)
        for frame in seq: ...      # every frame, read ahead
        seq.timestamps             # every frame's time in seconds (float64), one SQL read
        seq.index_at(3.2); seq.get_frames_at(seconds=[0.5, 1.5])
        for b in seq.batches(64, missing="skip", with_index=True):
            b.data, b.indexes, b.seconds
        f = seq.frame(42)          # lazy: pixels load on f.data / np.asarray(f)

Frames that failed to decode at import have no pixels (status 'skipped'): readers choose
missing='raise' (NoDataError), 'skip', 'repeat' or 'black'.

Store: open(), Store.sequences, store[name], create_sequence, remove, set_readahead,
open_warm, writable. Sequence: indexing, iteration, get_batch, window, frame, index_at, at,
get_frames_at, timestamps/pts/durations/times, batches, info, prefetch/prefetch_around,
set_policy/policy/trim, cache_stats. The process-wide RAM tier: memory_stats(),
set_memory_budget("2GiB" or "50%"), optimize_memory(), `with memory_budget("256MiB"): ...`,
set_strict(), memory_pressure(), monitor_memory_pressure(). Errors: reel.Error and one
subclass per result code (see each class). PyTorch: reel.torch.FrameDataset, ShardSampler.
"""

import builtins as _builtins
import contextlib as _contextlib
import operator as _operator
import os as _os
import re as _re
import sys as _sys
import time as _time

import numpy as _np

from ._reel import (  # noqa: F401  (the public names)
    BusyError,
    CorruptError,
    DeniedError,
    Error,
    ExistsError,
    Frame,
    FullError,
    InterruptedImport,
    InvalidError,
    MisuseError,
    NoDataError,
    NoMemoryError,
    NoSuchFileError,
    NotFoundError,
    PixelFormatError,
    ReadOnlyError,
    Sequence,
    SequenceNotFoundError,
    Store,
    StoreClosedError,
    StoreIOError,
    UnsupportedError,
    __version__,
    memory_stats,
    open,
)
from . import _reel


def _no_such_file_str(self):
    """A NoSuchFileError says reel's message (which names the file) as it is; errno, strerror
    and filename are set as on a FileNotFoundError."""
    return str(self.args[0]) if len(self.args) == 1 else OSError.__str__(self)


NoSuchFileError.__str__ = _no_such_file_str

__all__ = [
    "open", "Store", "Sequence", "Frame", "import_video", "memory_stats", "set_memory_budget",
    "memory_budget", "optimize_memory", "parse_size", "Error", "NotFoundError",
    "SequenceNotFoundError", "CorruptError", "NoMemoryError", "StoreIOError", "MisuseError",
    "InvalidError", "UnsupportedError", "ReadOnlyError", "ExistsError", "BusyError",
    "FullError", "NoDataError", "InterruptedImport", "DeniedError", "NoSuchFileError",
    "PixelFormatError", "FrameBatch", "set_strict", "memory_pressure", "monitor_memory_pressure",
    "stop_memory_monitor", "get_memory_stats", "TemporaryMemorySettings", "StoreClosedError",
]

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3,
          "gb": 1000**3, "t": 1000**4, "tb": 1000**4, "kib": 1 << 10, "mib": 1 << 20,
          "gib": 1 << 30, "tib": 1 << 40}


def _memory_limit():
    """The bytes this process may use: the smaller of the RAM (MemTotal) and the limit of the
    nearest memory cgroup that has one (v2 memory.max, v1 memory.limit_in_bytes)."""
    limit = None
    try:
        with _builtins.open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    limit = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    for cg in _cgroup_limits():
        limit = cg if limit is None else min(limit, cg)
    if limit is None:
        raise UnsupportedError("a share of memory ('50%'): the RAM size is unknown here "
                               "(no /proc/meminfo)")
    return limit


def _cgroup_limits():
    """The memory limits of this process's cgroups (v2 and v1), nearest first."""
    out = []
    try:
        with _builtins.open("/proc/self/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return out
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        ctl, path = parts[1], parts[2].lstrip("/")
        if ctl == "":
            base, name = "/sys/fs/cgroup", "memory.max"
        elif "memory" in ctl.split(","):
            base, name = "/sys/fs/cgroup/memory", "memory.limit_in_bytes"
        else:
            continue
        while True:
            try:
                with _builtins.open(_os.path.join(base, path, name)) as f:
                    v = f.read().strip()
                if v.isdigit() and int(v) < (1 << 60):
                    out.append(int(v))
                    break
            except OSError:
                pass
            if not path:
                break
            path = _os.path.dirname(path)
    return out


def parse_size(size):
    """Bytes from an int or a size string.

    size: an int >= 0, or a string: '2GiB', '256 MiB', '1.5GB', '4096', or a share of the
    memory this process may use, '50%' (of the RAM, or of the memory cgroup's limit when that
    is smaller). Binary units (KiB, MiB, GiB, TiB) are powers of 1024, decimal ones (kB, MB,
    GB, TB) of 1000; units are case-insensitive.

    Returns an int. Raises InvalidError (a ValueError) for a malformed or negative size, or
    anything but an int or a string.
    """
    if isinstance(size, bool) or not isinstance(size, (int, str)):
        raise InvalidError(f"size: bytes (an int) or a string such as '2GiB' or '50%', not "
                           f"{type(size).__name__}")
    if isinstance(size, int):
        if size < 0:
            raise InvalidError(f"size {size}: must be >= 0")
        return size
    m = _re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*", size)
    if m:
        share = float(m.group(1))
        if share > 100:
            raise InvalidError(f"size {size!r}: a share of memory is at most 100%")
        return int(_memory_limit() * share / 100)
    m = _re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", size)
    if not m or m.group(2).lower() not in _UNITS:
        raise InvalidError(f"size {size!r}: a number with an optional unit (B, kB, MB, GB, "
                           "KiB, MiB, GiB, TiB), or a share of memory such as '50%'")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def _cache_bytes(size):
    """open(cache_bytes='256MiB') calls this (from C) for a string."""
    try:
        return parse_size(size)
    except InvalidError as e:
        raise InvalidError(f"cache_bytes: {e}") from None


_reel._parse_size = _cache_bytes


def set_memory_budget(size):
    """Set the budget of the process-wide RAM tier (every store without cache_bytes).

    size: bytes (an int), a size string ('2GiB', '512MB') or a share of the memory this process
    may use ('50%': of the RAM, or of the memory cgroup's limit when smaller). A smaller budget
    evicts unpinned frames at once; frames held by arrays stay.

    Returns None. Raises InvalidError (a ValueError) for a malformed size.
    """
    _reel._set_budget(parse_size(size))


def optimize_memory(target=None):
    """Shrink the process-wide RAM tier now.

    Writes back what is only in memory, then drops unpinned frames down to target (bytes, a
    size string or a share such as '10%'; None: all of them). Frames held by arrays stay.

    Returns None. Raises InvalidError (a ValueError) for a malformed target.
    """
    _reel._trim(0 if target is None else parse_size(target))


@_contextlib.contextmanager
def memory_budget(size):
    """A scoped budget of the process-wide RAM tier.

    `with reel.memory_budget("256MiB"): ...` sets it for the block and restores the previous
    one on exit, exceptions included. Blocks nest (16 deep). size: as set_memory_budget.

    Returns a context manager. Raises InvalidError (a ValueError) for a malformed size,
    FullError past 16 nested blocks.
    """
    _reel._push_budget(parse_size(size))
    try:
        yield
    finally:
        _reel._pop_budget()


# ---- the Python face of the C types ----------------------------------------------------------
# Methods and properties written in Python, put into the C types' dicts by _reel._extend (the
# types are static C types: Python cannot set their attributes otherwise).

def _extend(cls, name=None):
    """Decorator: install a function (or property) as cls.<name>."""
    def put(obj):
        _reel._extend(cls, name or getattr(obj, "__name__", None) or obj.fget.__name__, obj)
        return obj
    return put


def _int_arg(name, value, low=None, none=False):
    """value as an int (anything with __index__), else TypeError naming the parameter;
    ValueError (InvalidError) below low."""
    if value is None and none:
        return None
    if isinstance(value, bool):
        raise TypeError(f"{name}: an integer, not bool")
    try:
        v = _operator.index(value)
    except TypeError:
        raise TypeError(f"{name}: an integer{' or None' if none else ''}, not "
                        f"{type(value).__name__}") from None
    if low is not None and v < low:
        raise InvalidError(f"{name}={v}: must be >= {low}")
    return v


_MISSING = ("raise", "skip", "repeat", "black")


def _missing_arg(missing, choices=_MISSING):
    if not isinstance(missing, str):
        raise TypeError(f"missing: one of {', '.join(map(repr, choices))}, not "
                        f"{type(missing).__name__}")
    if missing not in choices:
        raise InvalidError(f"missing={missing!r}: must be one of {', '.join(map(repr, choices))}")
    return missing


class FrameBatch:
    """A batch of frames with where they come from (as torchcodec's FrameBatch).

    data: the (N, ...) array of pixels (a fresh copy); indexes: int64 array of the frame index
    of each row; seconds: float64 array of their presentation times (the stream's clock);
    durations: float64 array of their display durations in seconds. np.asarray(batch) is data;
    len(batch) its rows.
    """

    __slots__ = ("data", "indexes", "seconds", "durations")

    def __init__(self, data, indexes, seconds, durations):
        self.data, self.indexes, self.seconds, self.durations = data, indexes, seconds, durations

    def __len__(self):
        return len(self.indexes)

    def __array__(self, dtype=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def __repr__(self):
        first = int(self.indexes[0]) if len(self.indexes) else None
        return f"<reel.FrameBatch {len(self)} frames from {first}, shape {self.data.shape}>"


def _bar_of(progress):
    """(bar, its update) for a tqdm-like progress: an object with update(n) that is not itself
    callable (tqdm(...)), or such an object's bound update method (tqdm(...).update); else
    None."""
    if progress is None or isinstance(progress, int):   # True/False (bool is an int)
        return None
    if not callable(progress) and callable(getattr(progress, "update", None)):
        return progress, progress.update
    if getattr(progress, "__name__", None) == "update" and getattr(progress, "__self__", None) \
            is not None:
        return progress.__self__, progress
    return None


def _set_total(bar, total):
    """Give a tqdm-like bar its total when it has none yet (tqdm(total=None))."""
    if bar is not None and total and getattr(bar, "total", 0) is None:
        try:
            bar.total = total
            getattr(bar, "refresh", lambda: None)()
        except (AttributeError, TypeError):
            pass


class _Progress:
    """Progress of a long read or import, on stderr: a bar that fits the terminal on a tty, else
    a line every `every` seconds (logs, Jupyter, nohup) with fps and ETA; or a callable (or a
    tqdm bar) given the frames done since the last call, its return value ignored."""

    def __init__(self, what, total, progress, every=5.0):
        self.what, self.total, self.every = what, total, every
        bar = _bar_of(progress)
        self.bar = bar[0] if bar else None
        if bar:
            _set_total(self.bar, total)
            progress = bar[1]
        elif progress is not None and not isinstance(progress, int) and not callable(progress):
            raise TypeError(f"progress: True, False, a callable or a tqdm bar, not "
                            f"{type(progress).__name__}")
        self.fn = progress if callable(progress) else None
        self.on = bool(progress) and self.fn is None
        self.tty = self.on and _sys.stderr.isatty()
        self.t0 = self.last = _time.monotonic()
        self.drawn = False
        self.done = 0

    def line(self, done, width=None):
        dt = _time.monotonic() - self.t0
        fps = done / dt if dt > 0 else 0.0
        total = self.total if self.total and self.total > 0 else None
        eta = f", ETA {(total - done) / fps:.0f} s" if total and fps > 0 and done < total else ""
        count = f"{done}/{total}" if total else f"{done}"
        text = f"{self.what}: {count} frames, {fps:.1f} fps, {dt:.1f} s{eta}"
        if width and total:
            room = width - len(text) - 4
            if room >= 10:
                k = int(room * done / total)
                text = f"[{'#' * k}{'.' * (room - k)}] " + text
        return text[:width - 1] if width else text

    def update(self, done, end=False):
        if self.fn is not None:   # as tqdm's update(n): the frames since the last call
            step, self.done = done - self.done, done
            if step:
                self.fn(step)     # tqdm's update returns True when it redraws: not a stop
            return None
        if not self.on:
            return None
        now = _time.monotonic()
        if self.tty:
            if end or now - self.last >= 0.1:
                import shutil
                width = shutil.get_terminal_size((80, 24)).columns
                _sys.stderr.write("\r" + self.line(done, width).ljust(width - 1))
                _sys.stderr.flush()
                self.last, self.drawn = now, True
            if end and self.drawn:
                _sys.stderr.write("\n")
        elif end or now - self.last >= self.every:
            _sys.stderr.write(self.line(done) + "\n")
            _sys.stderr.flush()
            self.last = now
        return None


def _iter_impl(seq):
    """iter(seq): every frame in order as seq[i] would give it (a read-only view), got as a
    one-pass read (it does not evict frames read often before the scan); the store's read-ahead
    follows the iteration."""
    view = seq._view
    for i in range(len(seq)):
        yield view(i, True)


_reel._iter_impl = _iter_impl


def _batches(self, size, start=0, stop=None, *, missing="raise", with_index=False,
             progress=False):
    """Sequence.batches (the C type calls it: see its docstring)."""
    size = _int_arg("size", size, 1)
    start = _int_arg("start", start)
    stop = _int_arg("stop", stop, none=True)
    _missing_arg(missing)
    n = len(self)
    stop = n if stop is None else min(stop if stop >= 0 else stop + n, n)
    start = max(0, start if start >= 0 else start + n)
    meter = _Progress(str(self.name), max(0, stop - start), progress)
    times = self._seconds_and_durations() if with_index else None
    return _batch_iter(self, size, start, stop, missing, meter, times)


def _batch_iter(self, size, start, stop, missing, meter, times):
    """The iteration of batches(), its arguments checked."""
    done = 0
    for first in range(start, stop, size):
        count = min(size, stop - first)
        ahead = first + count
        if ahead < stop:
            self.prefetch(ahead, min(size, stop - ahead))
        data, kept = self._gather(range(first, first + count), missing, True)
        done += count
        meter.update(done, end=ahead >= stop)
        if times is not None:
            yield FrameBatch(data, kept, times[0][kept], times[1][kept])
        else:
            yield data


_reel._batches_impl = _batches


def _seconds(self, ticks, zero=False):
    """int64 time-base ticks as float64 seconds (from the first when zero)."""
    num, den = self.time_base
    sec = ticks.astype(_np.float64)
    sec *= num / den
    if zero and len(sec):
        sec -= sec[0]
    return sec


@_extend(Sequence, "_seconds_and_durations")
def _seconds_and_durations(self, zero=False):
    pts, dur = self._times(2)
    return _seconds(self, pts, zero), _seconds(self, dur)


@_extend(Sequence)
def times(self, zero=False):
    """The presentation time of every frame in seconds, as a float64 array.

    zero: False for the stream's own clock (as Frame.time), True to count from the first frame
    (which is then at 0.0). One SQL read of the store; no access is counted.

    Returns a float64 array of len(seq) values. Raises StoreClosedError after close.
    """
    return _seconds(self, self._times(1)[0], zero)


_extend(Sequence, "timestamps")(property(
    lambda self: _seconds(self, self._times(1)[0]),
    doc="The presentation time of every frame in seconds (the stream's clock), a float64 "
        "array; times(zero=True) counts from the first frame. One SQL read, no access counted."))
_extend(Sequence, "pts")(property(
    lambda self: self._times(1)[0],
    doc="The pts of every frame (time_base units), an int64 array. One SQL read."))
_extend(Sequence, "durations")(property(
    lambda self: _seconds(self, self._times(2)[1]),
    doc="The display duration of every frame in seconds, a float64 array. One SQL read."))


@_extend(Sequence)
def get_frames_at(self, seconds=None, *, pts=None, zero=False, missing="raise"):
    """The frames shown at several times, as one (N, ...) array (like torchcodec's).

    seconds: a list or array of times in seconds (the stream's clock; from the first frame with
    zero=True), or pts: a list or array of timestamps in the time base (give one of them).
    missing: as get_batch. Returns the array. Raises IndexError when no frame is shown at one
    of the times, InvalidError (ValueError) for NaN or infinite seconds.
    """
    if (seconds is None) == (pts is None):
        raise TypeError("get_frames_at: give seconds or pts (one of them)")
    if seconds is not None:
        idx = [self.index_at(float(s), zero=zero) for s in _times_arg("seconds", seconds)]
    else:
        p = _times_arg("pts", pts)
        if not _np.array_equal(p, _np.floor(p)):
            raise TypeError("pts: a list or 1-D array of integers (time-base units)")
        idx = [self.index_at(pts=int(v)) for v in _np.asarray(pts).astype(_np.int64)]
    return self.get_batch(idx, missing=missing)


_c_info = Sequence.info
_STATUS = ("ok", "skipped", "repeated", "black")


def _info(self):
    d = _c_info.__get__(self)
    pts, dur, flags, status = self._times()
    num, den = self.time_base
    n = len(pts)
    span = float(pts[-1] + dur[-1] - pts[0]) * num / den if n else 0.0
    d["duration_seconds"] = span
    d["avg_fps"] = n / span if span > 0 else None
    gaps = _np.diff(pts)
    d["variable_rate"] = bool(len(gaps) > 1 and gaps.max() - gaps.min() > max(1, gaps.min() // 100))
    d["keyframes"] = int(_np.count_nonzero(flags & 1))
    d["status_counts"] = {name: int(_np.count_nonzero(status == k))
                          for k, name in enumerate(_STATUS)}
    rows = self._store_query(
        "SELECT r.complete, r.hash, r.codec, r.path FROM reel_source r JOIN reel_sequence s "
        "ON s.id = r.seq_id WHERE s.name = ?", (str(self.name),))
    d["import_complete"] = bool(rows[0][0]) if rows else None
    d["source_hash"] = rows[0][1] if rows else None
    d["source_codec"] = rows[0][2] if rows else None
    return d


_extend(Sequence, "info")(property(_info, doc=(
    "Metadata as a dict: name, source, width, height, pix_fmt, frame_size, time_base, frames, "
    "duration (time-base units), raw_bytes, stored_bytes, codec (how frames are stored), keyint; "
    "and, from one SQL read: duration_seconds, avg_fps (frames over duration; None when "
    "unknown), variable_rate (from the gaps between pts), keyframes, status_counts ({'ok': n, "
    "'skipped': n, 'repeated': n, 'black': n}), import_complete, source_hash and source_codec "
    "(the video's codec; None for sequences not imported). No access is counted.")))


from . import annotations as _annotations  # noqa: E402  store.sql(), seq.annotations
_annotations.attach(_extend, Store, Sequence, _sys.modules[__name__])
del _annotations   # reel.annotations stays; help(reel) lists no private alias of it


@_extend(Sequence, "_store_query")
def _store_query(self, sql, params=()):
    return self._store._query(sql, params)


# ---- pickling: (location, name, options), reopened on unpickling (DataLoader's spawn) -------

def _reopen_store(path, mode, count, cache_bytes=None):
    return _reel.open(path, mode, count, cache_bytes)


def _reopen_seq(store, name):
    return store[name]


@_extend(Store)
def __reduce__(self):
    """Pickle as (path, mode, count, cache_bytes): unpickling opens the store again (another
    process may), with a RAM tier of its own of the same budget if this one has one."""
    if self.closed:
        raise MisuseError(f"{self.path}: a closed store cannot be pickled")
    return (_reopen_store, (self.path, "w" if self.writable else "r", self._counting,
                            self.cache_bytes))


@_extend(Sequence)
def __reduce__(self):
    """Pickle as (store, name): unpickling opens the store (once per pickle) and the sequence."""
    return (_reopen_seq, (self._store, str(self.name)))


# ---- the RAM tier, per sequence and per store -------------------------------------------------

_PRIORITIES = {"low": -1, "normal": 0, "high": 1}


@_extend(Sequence)
def set_policy(self, max_frames=0, max_bytes=0, window=0, priority="normal", trim_every=0,
               trim_ms=0):
    """Set this sequence's RAM-tier policy (every handle of it in this open store shares it).

    max_frames: at most this many frames resident (0: no limit). max_bytes: at most this many
    bytes, an int or a size string ('256MiB', '10%'; 0: no limit). window: > 0 keeps only the
    frames within window of the latest index read. priority: 'low' (evicted first), 'normal' or
    'high' (evicted last). trim_every: trim after every this many gets; trim_ms: trim on the
    first get this many ms after the last trim (0: never). Over a limit, the least recently used
    unpinned frames are dropped down to 7/8 of it; pinned frames never are.

    Raises TypeError/InvalidError (ValueError) naming a bad argument.
    """
    if priority not in _PRIORITIES:
        raise InvalidError(f"priority={priority!r}: must be 'low', 'normal' or 'high'")
    self._set_policy(_int_arg("max_frames", max_frames, 0), parse_size(max_bytes),
                     _int_arg("window", window, 0), _PRIORITIES[priority],
                     _int_arg("trim_every", trim_every, 0), _int_arg("trim_ms", trim_ms, 0))


def _policy(self):
    mf, mb, window, prio, every, ms = self._get_policy()
    name = {v: k for k, v in _PRIORITIES.items()}.get(prio, str(prio))
    return {"max_frames": mf, "max_bytes": mb, "window": window, "priority": name,
            "trim_every": every, "trim_ms": ms}


_extend(Sequence, "policy")(property(_policy, doc="The RAM-tier policy as a dict (set_policy)."))


def _number_arg(name, value, low=None, none=False, what="a number"):
    """value as a float (an int, a float, numpy's scalars), else TypeError naming the
    parameter; InvalidError (a ValueError) for NaN or below low."""
    if value is None and none:
        return None
    if isinstance(value, (bool, _np.bool_)) or not isinstance(value, (int, float, _np.number)):
        raise TypeError(f"{name}: {what}{' or None' if none else ''}, not "
                        f"{type(value).__name__}")
    v = float(value)
    if v != v or (low is not None and v < low):
        raise InvalidError(f"{name}={value!r}: must be {'>= ' + str(low) if low is not None else 'a number'}")
    return v


def _times_arg(name, values):
    """A list, tuple or 1-D array of numbers as a float64 array, else TypeError naming it."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise TypeError(f"{name}: a list or 1-D array of numbers, not {type(values).__name__}")
    try:
        a = _np.asarray(values, dtype=_np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: a list or 1-D array of numbers") from None
    if a.ndim != 1:
        raise TypeError(f"{name}: a list or 1-D array of numbers, not a {a.ndim}-D array")
    return a


_c_window = Sequence.window
_c_prefetch = Sequence.prefetch
_c_prefetch_wait = Sequence.prefetch_wait


@_extend(Sequence)
def window(self, center, radius):
    """Frames center - radius .. center + radius, clamped at the ends of the sequence.

    Returns one fresh (N, ...) array. Raises TypeError for an index that is not an integer,
    InvalidError (a ValueError) for a negative radius, IndexError for a center outside the
    sequence, NoDataError when one of the frames has no pixels (seq.get_batch(range(...),
    missing=...) reads past it).
    """
    return _c_window(self, _int_arg("center", center), _int_arg("radius", radius, 0))


@_extend(Sequence)
def prefetch(self, first, count):
    """Ask the read-ahead workers to load frames [first, first + count) into the RAM tier.

    Returns at once. The range is cut to the sequence (nothing past its end) and to the
    read-ahead queue: at most 1024 frames a call. Raises TypeError for what is not an integer,
    InvalidError (a ValueError) for a negative one.
    """
    return _c_prefetch(self, _int_arg("first", first, 0), _int_arg("count", count, 0))


@_extend(Sequence)
def prefetch_wait(self, timeout=None):
    """Wait for the read-ahead of this sequence to finish.

    timeout: seconds (None or inf: as long as it takes). Returns True when it finished, False
    when the timeout passed first. Raises TypeError/InvalidError for a bad timeout.
    """
    t = _number_arg("timeout", timeout, 0, none=True, what="seconds (a number)")
    if t is None or t == float("inf"):
        return _c_prefetch_wait(self)
    return _c_prefetch_wait(self, min(t, 2_000_000.0))


@_extend(Sequence)
def prefetch_around(self, center, radius):
    """Ask the read-ahead workers to load frames center - radius .. center + radius (clamped to
    the sequence) into the RAM tier; returns at once. Raises TypeError/InvalidError."""
    center, radius = _int_arg("center", center, 0), _int_arg("radius", radius, 0)
    first = max(0, center - radius)
    self.prefetch(first, center + radius + 1 - first)


@_extend(Sequence)
def resident(self, start=0, stop=None, *, mask=False):
    """Which frames of the sequence are in the RAM tier now (of this store's cache).

    Returns a numpy int64 array of the resident indexes in [start, stop) in increasing order
    (stop None: to the end), or with mask=True a bool array of stop - start entries, True where
    frame start + k is resident. Reads nothing and counts no access: the frames' LRU order and
    the statistics stay as they were. A snapshot: other threads' reads may change it at once.
    Raises TypeError/InvalidError for a bad start or stop.
    """
    n = len(self)
    start = _int_arg("start", start, 0)
    stop = _int_arg("stop", stop, 0, none=True)
    stop = max(start, min(n if stop is None else stop, n))
    m = self._resident(start, stop - start)
    return m if mask else _np.flatnonzero(m).astype(_np.int64) + start


@_extend(Sequence)
def process_in_batches(self, fn, batch_size, unload_after_processing=True, **batches_options):
    """fn(batch) for each batch of batch_size frames.

    The seed's name for `[fn(b) for b in seq.batches(batch_size)]`: batches are fresh copies,
    so nothing stays pinned whatever unload_after_processing says (True, the default, also
    drops the sequence's unpinned frames from the RAM tier at the end, as seq.trim()).
    batches_options: as batches (missing=, start=, stop=, progress=).

    Returns the list of fn's results. Raises TypeError when fn is not callable, and what
    batches raises (NoDataError under missing='raise').
    """
    if not callable(fn):
        raise TypeError(f"fn: a callable taking a batch, not {type(fn).__name__}")
    out = [fn(b) for b in self.batches(batch_size, **batches_options)]
    if unload_after_processing:
        self.prefetch_wait()   # the read-ahead of the last batches lands first, then goes too
        self.trim()
    return out


@_extend(Frame)
def load(self):
    """Load the pixels now (they load on first use anyway: f.data), one access counted.

    Returns the Frame itself (f = seq.frame(i).load()). Raises NoDataError for a frame without
    pixels (status 'skipped'), StoreClosedError after close, CorruptError.
    """
    self._address   # loads and pins them
    return self


_c_create_sequence = Store.create_sequence
_c_remove = Store.remove


def _name_arg(name, value):
    if not isinstance(value, str):
        raise TypeError(f"{name}: a sequence name (a string), not {type(value).__name__}")
    return value


@_extend(Store)
def create_sequence(self, name, width, height, pix_fmt="rgb24", time_base=(1, 25), source=None,
                    codec="intra", keyint=0):
    """A new, empty sequence to append frames to (the store must be open with mode='w').

    name: its name (a string). width, height: 1..65535. pix_fmt: as import_video's (any case;
    not 'native'). time_base: (num, den), both > 0: the unit of the frames' pts. source: a
    note of where the frames come from (or None). codec: 'intra' (every frame alone) or
    'temporal' (frames coded against the one before; keyint: a keyframe every keyint frames,
    1..64, 0: 4).

    Returns the Sequence. Raises ReadOnlyError for a store opened with mode='r', ExistsError
    when the name is taken, TypeError/InvalidError (a ValueError) naming a bad argument,
    PixelFormatError (a ValueError) listing the formats.
    """
    _name_arg("name", name)
    w = _int_arg("width", width, 1)
    h = _int_arg("height", height, 1)
    for n, v in (("width", w), ("height", h)):
        if v > 65535:
            raise InvalidError(f"{n}={v}: sizes are 1 to 65535")
    if isinstance(time_base, (str, bytes)) or not hasattr(time_base, "__len__") or \
            len(time_base) != 2:
        raise TypeError(f"time_base: a pair (num, den) of integers, not {time_base!r}")
    tb = (_int_arg("time_base num", time_base[0]), _int_arg("time_base den", time_base[1]))
    if tb[0] <= 0 or tb[1] <= 0 or max(tb) > 2**31 - 1:
        raise InvalidError(f"time_base={tb}: both parts from 1 to 2**31 - 1")
    if source is not None and not isinstance(source, str):
        raise TypeError(f"source: a string or None, not {type(source).__name__}")
    for n, v in (("pix_fmt", pix_fmt), ("codec", codec)):
        if not isinstance(v, str):
            raise TypeError(f"{n}: a string, not {type(v).__name__}")
    k = _int_arg("keyint", keyint, 0)
    if k > 64:
        raise InvalidError(f"keyint={k}: 1 to 64 (0: the default, 4)")
    return _c_create_sequence(self, name, w, h, pix_fmt, tb, source, codec, k)


def _frames_arg(seq, frames):
    """frames as a C-contiguous array of whole frames of seq: (n, *seq.shape) or one frame."""
    if isinstance(frames, (str, bytes)) or frames is None:
        raise TypeError(f"frames: an array of shape {seq.shape} or a batch of them, "
                        f"not {type(frames).__name__}")
    a = _np.asarray(frames)
    if a.dtype != seq.dtype:
        if a.dtype.kind not in "ui":
            raise TypeError(f"frames: dtype {seq.dtype} (the sequence's), not {a.dtype}")
        info = _np.iinfo(seq.dtype)
        if a.size and (a.min() < info.min or a.max() > info.max):
            raise InvalidError(f"frames: values {a.min()}..{a.max()} do not fit {seq.dtype}")
        a = a.astype(seq.dtype)
    shape = tuple(seq.shape)
    if a.shape == shape:
        a = a[None]
    elif a.shape[1:] != shape:
        dims = ", ".join(map(str, shape))
        raise InvalidError(f"frames: shape {a.shape}; sequence {seq.name!r} takes frames of "
                           f"shape ({dims}) or batches (n, {dims})")
    return _np.ascontiguousarray(a)


def _pts_arg(seq, n, pts, duration):
    """(pts, durations) int64 arrays of n frames appended to seq: pts given (one int for one
    frame, else n increasing ints), or following the last frame one duration apart."""
    d = 1 if duration is None else _int_arg("duration", duration, 0)
    if pts is None:
        count = len(seq)
        if count:
            last = seq.frame(count - 1)
            start = last.pts + max(last.duration, 1)
        else:
            start = 0
        p = start + _np.arange(n, dtype=_np.int64) * max(d, 1)
    else:
        if _np.ndim(pts) == 0:
            pts = [pts]
        try:
            p = _np.asarray(pts)
        except (TypeError, ValueError) as e:
            raise TypeError(f"pts: integers, not {pts!r}") from e
        if p.ndim != 1 or (p.size and p.dtype.kind not in "ui"):
            raise TypeError(f"pts: one integer a frame, not {pts!r}")
        if len(p) != n:
            raise InvalidError(f"pts: {len(p)} timestamps for {n} frames")
        p = p.astype(_np.int64)
        if n > 1 and not (p[1:] > p[:-1]).all():
            raise InvalidError("pts: timestamps must increase from frame to frame")
    return _np.ascontiguousarray(p), _np.full(n, d, dtype=_np.int64)


@_extend(Sequence)
def append(self, frames, pts=None, duration=None):
    """Append one frame (an array of seq.shape and seq.dtype) or a batch (n, *seq.shape) at
    the end of the sequence, in one transaction, compressed by its codec; the store must be
    open with mode='w'.

    pts: the frames' presentation timestamps in the sequence's time base (an int for one
    frame, else one int a frame, increasing and after the last frame's); None: following the
    last frame one duration apart, from 0 for an empty sequence. duration: each frame's
    display duration in time-base units (default 1).

    Returns the index of the first frame appended. Raises InvalidError (a ValueError) for a
    shape that is not the sequence's or timestamps that do not increase, TypeError for other
    dtypes or types, ReadOnlyError for a store opened with mode='r'.
    """
    a = _frames_arg(self, frames)
    p, d = _pts_arg(self, len(a), pts, duration)
    return self._append_raw(a, p, d)


@_extend(Sequence)
def extend(self, frames, batch_size=64, duration=None):
    """Append every frame of an iterable (arrays of seq.shape, or batches of them) at the end
    of the sequence, committed batch_size frames to a transaction, timestamps following the
    last frame one duration apart (see append). A failure leaves the batches committed before
    it in the sequence.

    Returns the number of frames appended. Raises as append does.
    """
    size = _int_arg("batch_size", batch_size, 1)
    pending, count, n = [], 0, 0
    for item in frames:
        a = _frames_arg(self, item)
        pending.append(a)
        n += len(a)
        if n >= size:
            count += _flush_pending(self, pending, duration)
            pending, n = [], 0
    if pending:
        count += _flush_pending(self, pending, duration)
    return count


def _flush_pending(seq, pending, duration):
    a = pending[0] if len(pending) == 1 else _np.concatenate(pending)
    p, d = _pts_arg(seq, len(a), None, duration)
    seq._append_raw(a, p, d)
    return len(a)


@_extend(Store)
def remove(self, name):
    """Delete a sequence with all its frames and counts (the store open with mode='w').

    Raises SequenceNotFoundError (a KeyError) when there is none of that name, ReadOnlyError
    for a store opened with mode='r', TypeError for a name that is not a string.
    """
    return _c_remove(self, _name_arg("name", name))


@_extend(Store)
def set_readahead(self, workers=1, window=8):
    """Read-ahead of this store: workers threads (0..16; 0 turns it off) loading up to window
    frames (1..512) ahead of a sequential reader (defaults 1 and 8). Raises
    TypeError/InvalidError naming a bad argument."""
    self._set_readahead(_int_arg("workers", workers, 0), _int_arg("window", window, 1))


@_extend(Store)
def open_warm(self, name, share=0.25):
    """store[name], with its RAM tier warmed: its most accessed frames (by the counts in the
    file) are loaded, up to share (0..1) of the budget, without counting accesses.

    Returns the Sequence. Raises SequenceNotFoundError, InvalidError for share outside 0..1.
    """
    if not isinstance(share, (int, float)) or isinstance(share, bool):
        raise TypeError(f"share: a number from 0 to 1, not {type(share).__name__}")
    if not 0 <= share <= 1:
        raise InvalidError(f"share={share}: must be from 0 to 1")
    return self._open_warm(name, float(share))[0]


def set_strict(on=True):
    """Strict budget mode of the process-wide RAM tier (off by default).

    on: True for strict: a read that would need room that pinned frames leave none of fails
    with FullError instead of going over the budget; False: such a read goes over it.

    Returns None.
    """
    _reel._set_strict(bool(on))


_LEVELS = {"none": 0, "moderate": 1, "critical": 2}


def memory_pressure(level="moderate"):
    """Report memory pressure to the RAM tier now: 'moderate' halves what it may hold,
    'critical' drops every unpinned frame; it grows back once pressure has gone. Unsaved state
    (access counts) is written first. Raises InvalidError for another level."""
    if level not in _LEVELS:
        raise InvalidError(f"level={level!r}: must be 'none', 'moderate' or 'critical'")
    _reel._pressure(_LEVELS[level])


def monitor_memory_pressure(interval_ms=0, moderate_percent=0, critical_percent=0,
                            psi_moderate=0.0, psi_critical=0.0, target_percent=0, calm_ms=0):
    """Watch the process's memory (cgroup limit or MemAvailable, and PSI) on a thread and give
    memory back before the kernel has to: below moderate_percent of headroom (default 15) the
    RAM tier is cut back to target_percent (25), below critical_percent (5) it keeps only
    pinned frames. psi_moderate and psi_critical (default 10 and 40): the kernel's memory
    pressure stall share in percent (PSI 'some avg10') that counts as moderate or critical.
    interval_ms: how often it looks (100); calm_ms: how long pressure must be gone before the
    RAM tier grows back. 0 means the default for each. stop_memory_monitor() ends it.

    Returns None. Raises TypeError/InvalidError (a ValueError) naming a bad argument, e.g. a
    percentage outside 0..100.
    """
    pct = {}
    for name, v in (("moderate_percent", moderate_percent), ("critical_percent",
                    critical_percent), ("target_percent", target_percent)):
        pct[name] = _int_arg(name, v, 0)
        if pct[name] > 100:
            raise InvalidError(f"{name}={pct[name]}: a percentage, 0 to 100")
    psi = {}
    for name, v in (("psi_moderate", psi_moderate), ("psi_critical", psi_critical)):
        psi[name] = _number_arg(name, v, 0)
        if psi[name] > 100:
            raise InvalidError(f"{name}={v!r}: a PSI share in percent, 0 to 100")
    _reel._monitor_pressure(_int_arg("interval_ms", interval_ms, 0), pct["moderate_percent"],
                            pct["critical_percent"], psi["psi_moderate"], psi["psi_critical"],
                            pct["target_percent"], _int_arg("calm_ms", calm_ms, 0))


def stop_memory_monitor():
    """Stop the thread monitor_memory_pressure() started.

    Returns None; does nothing when none runs. The RAM tier's effective budget goes back to
    its budget.
    """
    _reel._stop_pressure()


get_memory_stats = memory_stats   # the seed's name


class TemporaryMemorySettings:
    """The seed's name for memory_budget(): `with reel.TemporaryMemorySettings(threshold_mb=256):`
    sets the RAM tier's budget to threshold_mb MiB for the block (or budget= bytes / a size
    string) and restores it after, exceptions included."""

    def __init__(self, threshold_mb=None, budget=None):
        if (threshold_mb is None) == (budget is None):
            raise TypeError("TemporaryMemorySettings: give threshold_mb or budget")
        self.size = (parse_size(budget) if budget is not None
                     else int(_int_arg("threshold_mb", threshold_mb, 0)) << 20)

    def __enter__(self):
        _reel._push_budget(self.size)
        return self

    def __exit__(self, *exc):
        _reel._pop_budget()
        return False


# ---- import -----------------------------------------------------------------------------------

def import_video(store, video, sequence=None, pix_fmt="rgb24", on_error="skip", progress=True,
                 replace=False, scale=None, workers=0, codec="auto", keyint=0, wait=None):
    """Decode a video once and store every frame in a sequence of a store.

    store: the store's path (created if missing). video: the video file. sequence: its name
    (default: the file name without directory and extension). pix_fmt: 'rgb24' (default),
    'bgr24', 'gray8', 'gray16le', 'yuv420p', 'yuv444p', 'yuv420p10le' or 'native' (the
    decoder's own; any case). on_error: what a packet that fails to decode becomes: 'skip' (a
    frame without pixels, status 'skipped'), 'repeat', 'black' or 'fail'. progress: True
    writes progress to stderr (a bar fitting the terminal, else a line every 5 s with fps and
    ETA); a tqdm bar (progress=tqdm() or tqdm().update) gets update(n) with the frames done
    since the last call, its total set when it has none; any other callable gets a dict
    (frames_done, frames_expected, seconds, ...) about every 100 ms and stops the import by
    returning True; False: nothing. replace: replace a sequence
    of that name made from another file or options. scale: (width, height) or 'WxH'. workers:
    compression threads (0: one per core). codec: 'intra', 'temporal' or 'auto'. keyint: for
    temporal coding, 1..64 (0: 4). wait: seconds each write waits for the store's lock while
    another process (another import) holds it (None: 5); BusyError then names the holder.

    Ctrl-C stops it cleanly: committed frames are kept, KeyboardInterrupt is raised, and running
    it again resumes. Returns a dict: frames, resumed_from, skipped, repeated, black,
    stored_bytes, raw_bytes, truncated, rotation, pix_fmt, size, seconds, done (True when it
    was imported already). Raises NoSuchFileError (a FileNotFoundError, .filename the missing
    file) for a missing video, UnsupportedError for a file that is not a video, ExistsError,
    InvalidError/TypeError naming a bad argument, CorruptError under on_error='fail'. A failed
    import into a store file it created itself, with no sequence committed, removes that file;
    a file that existed before is never removed.
    """
    if isinstance(scale, str):
        m = _re.fullmatch(r"\s*([0-9]+)\s*[xX:]\s*([0-9]+)\s*", scale)
        if not m:
            raise InvalidError(f"scale={scale!r}: 'WIDTHxHEIGHT' (e.g. '160x120') or a "
                               "(width, height) tuple")
        scale = (int(m.group(1)), int(m.group(2)))
    elif scale is not None:
        try:
            w, h = scale
        except (TypeError, ValueError):
            raise TypeError(f"scale: a (width, height) pair or 'WxH', not {scale!r}") from None
        scale = (_int_arg("scale width", w, 1), _int_arg("scale height", h, 1))
    for name, v in (("sequence", sequence),):
        if v is not None and not isinstance(v, str):
            raise TypeError(f"{name}: a string or None, not {type(v).__name__}")
    for name, v in (("pix_fmt", pix_fmt), ("on_error", on_error), ("codec", codec)):
        if not isinstance(v, str):
            raise TypeError(f"{name}: a string, not {type(v).__name__}")
    wait = _number_arg("wait", wait, 0, none=True, what="seconds (a number)")
    meter = None
    bar = _bar_of(progress)
    if bar is not None:           # a tqdm bar: the frames since the last call, its total set
        steps = _Progress(None, None, progress)

        def progress(p):
            _set_total(steps.bar, p["frames_expected"])
            steps.update(p["frames_done"])
    elif progress is not None and not isinstance(progress, int) and not callable(progress):
        raise TypeError(f"progress: True, False, a callable or a tqdm bar, not "
                        f"{type(progress).__name__}")
    if isinstance(progress, int) and progress:
        label = sequence or _os.path.splitext(_os.path.basename(_os.fsdecode(video)))[0]
        meter = _Progress(label, None, True)

        def progress(p):
            meter.total = p["frames_expected"]
            meter.update(p["frames_done"])
    r = _reel.import_video(store, video, sequence, pix_fmt, on_error, progress or False,
                           bool(replace), scale, _int_arg("workers", workers, 0), codec,
                           _int_arg("keyint", keyint, 0), wait)
    if meter is not None:
        meter.total = r["frames"]
        meter.update(r["frames"], end=True)
    if bar is not None and r["frames"] > steps.done:
        _set_total(steps.bar, r["frames"])
        steps.update(r["frames"])
    return r
