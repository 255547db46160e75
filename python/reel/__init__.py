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
        f = seq.frame(42)          # lazy: pixels load on f.data / np.asarray(f)

The process-wide RAM tier: memory_stats(), set_memory_budget("2GiB"), optimize_memory(),
and `with memory_budget("256MiB"): ...` for a scoped budget. PyTorch: reel.torch.FrameDataset.
"""

import contextlib as _contextlib
import re as _re

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
    NotFoundError,
    ReadOnlyError,
    Sequence,
    SequenceNotFoundError,
    Store,
    StoreClosedError,
    StoreIOError,
    UnsupportedError,
    __version__,
    import_video,
    memory_stats,
    open,
)
from . import _reel

__all__ = [
    "open", "Store", "Sequence", "Frame", "import_video", "memory_stats", "set_memory_budget",
    "memory_budget", "optimize_memory", "parse_size", "Error", "NotFoundError",
    "SequenceNotFoundError", "CorruptError", "NoMemoryError", "StoreIOError", "MisuseError",
    "InvalidError", "UnsupportedError", "ReadOnlyError", "ExistsError", "BusyError",
    "FullError", "NoDataError", "InterruptedImport", "DeniedError", "StoreClosedError",
]

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3,
          "gb": 1000**3, "t": 1000**4, "tb": 1000**4, "kib": 1 << 10, "mib": 1 << 20,
          "gib": 1 << 30, "tib": 1 << 40}


def parse_size(size):
    """Bytes from an int or a size string: '2GiB', '256 MiB', '1.5GB', '4096'.

    Binary units (KiB, MiB, GiB, TiB) are powers of 1024, decimal ones (kB, MB, GB, TB) of
    1000. Raises InvalidError (a ValueError) for anything else, or a negative size.
    """
    if isinstance(size, bool):
        raise InvalidError("a size in bytes or a string such as '2GiB', not a bool")
    if isinstance(size, int):
        if size < 0:
            raise InvalidError(f"size {size}: must be >= 0")
        return size
    if not isinstance(size, str):
        raise InvalidError(f"a size in bytes or a string such as '2GiB', not {type(size).__name__}")
    m = _re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", size)
    if not m or m.group(2).lower() not in _UNITS:
        raise InvalidError(f"size {size!r}: a number with an optional unit (B, kB, MB, GB, "
                           "KiB, MiB, GiB, TiB)")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def set_memory_budget(size):
    """Set the process-wide RAM tier's budget: bytes, or a size string such as '2GiB'."""
    _reel._set_budget(parse_size(size))


def optimize_memory(target=None):
    """Shrink the RAM tier now: write back what is only in memory, then drop unpinned frames
    down to target (bytes or a size string; None: all of them). Frames held by arrays stay."""
    _reel._trim(0 if target is None else parse_size(target))


@_contextlib.contextmanager
def memory_budget(size):
    """A scoped budget: `with reel.memory_budget("256MiB"): ...` sets it for the block and
    restores the previous one on exit, exceptions included. Blocks nest (16 deep)."""
    _reel._push_budget(parse_size(size))
    try:
        yield
    finally:
        _reel._pop_budget()


def _batches(self, size, start=0, stop=None):
    """Sequence.batches (the C type calls it: see its docstring)."""
    if size < 1:
        raise InvalidError(f"batch size {size}: must be >= 1")
    n = len(self)
    stop = n if stop is None else min(stop, n)
    start = max(0, start)
    for first in range(start, stop, size):
        count = min(size, stop - first)
        ahead = first + count
        if ahead < stop:
            self.prefetch(ahead, min(size, stop - ahead))
        yield self[first:first + count]


_reel._batches_impl = _batches
del _batches
