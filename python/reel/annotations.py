"""Per-frame annotations of a sequence (README, "Annotations"), and SQL on the store's file.

``store.sql(writable=False)`` is a sqlite3 connection on the store's file (read-only unless
writable=True; a 5 s busy timeout, as reel's own connections). ``seq.annotations`` maps keys to
columns: ``seq.annotations["keypoints"][i]`` is one frame's value (a numpy array for arrays,
the Python value for JSON), ``[[i, j, ...]]``, ``[a:b]`` or ``[:]`` many frames stacked into one
array (every frame asked for must have the key), ``.frames()`` the frames that have it and
``.all()`` both, read in one SQL query and one join of the rows' bytes (no Python loop per row).
Assigning writes (``col[i] = array_or_json_value``; ``col[frames] = stacked_array`` in one
transaction); ``del col[i]`` removes. Arrays are stored little-endian with their dtype and shape;
other values as JSON.
"""

import json as _json
import operator as _operator
import os as _os
import sqlite3 as _sqlite3
import urllib.parse as _urlparse

import numpy as _np

BUSY_SECONDS = 5.0
MAX_KEY = 255
MAX_DIMS = 8
MAX_BYTES = 64 << 20
_DTYPES = ("bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
           "float16", "float32", "float64")

_errors = None  # the reel module's exception classes, set by attach()


def _store_sql(self, writable=False):
    """A sqlite3 connection on the store's file: read-only (URI mode=ro) unless writable=True,
    which needs a store opened for writing. Its busy timeout is 5 s, as reel's own; the store
    is in WAL mode, so readers never wait for writers. Close it when done."""
    if self.closed:
        raise _errors.StoreClosedError(f"{self.path}: the store is closed")
    path = _os.fsdecode(self.path)
    if "://" in path or not _os.path.isfile(path):
        raise _errors.UnsupportedError(
            f"{path}: store.sql() opens a local store file; a published store is read with "
            f"its views through reel itself")
    if writable and not self.writable:
        raise _errors.ReadOnlyError(f"{path}: the store was opened for reading; "
                                    f"store.sql(writable=True) needs reel.open(path, 'w')")
    uri = "file:" + _urlparse.quote(_os.path.abspath(path)) + ("?mode=rw" if writable
                                                                 else "?mode=ro")
    db = _sqlite3.connect(uri, uri=True, timeout=BUSY_SECONDS, check_same_thread=False)
    db.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")
    return db


def _fail(e, what):
    """A sqlite3 error as the reel error a user expects."""
    text = str(e)
    if isinstance(e, _sqlite3.OperationalError) and "locked" in text:
        return _errors.BusyError(f"{what}: the store stayed locked past {BUSY_SECONDS:g} s "
                                 f"(another writer)")
    if isinstance(e, _sqlite3.OperationalError) and "readonly" in text.replace("-", ""):
        return _errors.ReadOnlyError(f"{what}: the store file cannot be written")
    if isinstance(e, _sqlite3.IntegrityError) and "no sequence" in text:
        return _errors.NotFoundError(f"{what}: the sequence was removed")
    if isinstance(e, _sqlite3.IntegrityError):
        return _errors.InvalidError(f"{what}: {text}")
    return _errors.StoreIOError(f"{what}: {text}")


def _check_key(key):
    if not isinstance(key, str):
        raise TypeError(f"an annotation key is a str, not {type(key).__name__}")
    try:
        n = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        n = 0
    if not 1 <= n <= MAX_KEY:
        raise _errors.InvalidError(f"annotation key {key!r}: must be 1..{MAX_KEY} bytes of "
                                   f"UTF-8")
    return key


def _index(i):
    if isinstance(i, bool) or not hasattr(i, "__index__"):
        raise TypeError(f"a frame index is an integer, not {type(i).__name__}")
    i = _operator.index(i)
    if i < 0:
        raise IndexError(f"frame index {i}: annotations are set by index >= 0")
    return i


def _array_row(arr, what):
    """(kind, value, dtype, shape) of a numpy array or scalar."""
    a = _np.asarray(arr)
    name = a.dtype.name
    if name not in _DTYPES:
        raise TypeError(f"{what}: dtype {a.dtype} cannot be stored (one of {', '.join(_DTYPES)})")
    if a.ndim > MAX_DIMS:
        raise _errors.InvalidError(f"{what}: {a.ndim} dimensions, at most {MAX_DIMS}")
    if a.nbytes > MAX_BYTES:
        raise _errors.InvalidError(f"{what}: {a.nbytes} bytes, more than {MAX_BYTES}")
    a = a.astype(a.dtype.newbyteorder("<"), order="C", copy=False)  # 0-d stays 0-d
    return ("blob", a.tobytes(), name, _json.dumps(list(a.shape), separators=(",", ":")))


def _row(value, what):
    if isinstance(value, (_np.ndarray, _np.generic)):
        return _array_row(value, what)
    try:
        text = _json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as e:
        raise TypeError(f"{what}: neither a numpy array nor a JSON value ({e})") from None
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise _errors.InvalidError(f"{what}: JSON of more than {MAX_BYTES} bytes")
    return ("json", text, None, None)


def _shape(text, what):
    try:
        shape = _json.loads(text) if isinstance(text, str) else None
    except ValueError:
        shape = None
    if (not isinstance(shape, list) or len(shape) > MAX_DIMS or
            not all(type(d) is int and 0 <= d <= 1 << 40 for d in shape)):
        raise _errors.CorruptError(f"{what}: the stored shape {text!r} is not a list of sizes")
    return tuple(shape)


def _decode(kind, value, dtype, shape, what):
    """One stored row's value, checked (a store file may be hostile)."""
    if kind == "json" and isinstance(value, str):
        try:
            return _json.loads(value)
        except ValueError:
            raise _errors.CorruptError(f"{what}: the stored JSON does not parse") from None
    if kind != "blob" or not isinstance(value, bytes) or dtype not in _DTYPES:
        raise _errors.CorruptError(f"{what}: a stored row whose kind, value and dtype do not "
                                   f"agree")
    dt = _np.dtype(dtype).newbyteorder("<")
    shp = _shape(shape, what)
    if int(_np.prod(shp, dtype=_np.float64)) * dt.itemsize != len(value):
        raise _errors.CorruptError(f"{what}: {len(value)} bytes stored for a {dtype} array of "
                                   f"shape {shp}")
    return _np.frombuffer(value, dtype=dt).reshape(shp).astype(dt.newbyteorder("="))


class Column:
    """The values of one key along a sequence: see the module's doc."""

    def __init__(self, owner, key):
        self._owner = owner
        self.key = _check_key(key)

    def __repr__(self):
        return f"<reel annotations {self.key!r} of sequence {self._owner._name!r}>"

    def _what(self, i=None):
        return (f"sequence {self._owner._name!r} annotation {self.key!r}" +
                ("" if i is None else f" frame {i}"))

    def _frames(self, sel):
        """The frame indexes sel names: an int, a slice of the sequence, or a list/array."""
        if isinstance(sel, slice):
            return list(range(*sel.indices(len(self._owner._seq))))
        if isinstance(sel, _np.ndarray) and sel.dtype.kind in "iu" and sel.ndim == 1:
            return [_index(i) for i in sel.tolist()]
        if isinstance(sel, (list, tuple, range)):
            return [_index(i) for i in sel]
        raise TypeError(f"frames: an integer, a slice or a list of integers, not "
                        f"{type(sel).__name__}")

    def __len__(self):
        return self._owner._query1("SELECT count(*) FROM reel_annotation WHERE seq_id = ? "
                                   "AND key = ?", self.key)

    def __contains__(self, i):
        return bool(self._owner._query1("SELECT count(*) FROM reel_annotation WHERE seq_id = ? "
                                        "AND key = ? AND idx = ?", self.key, _index(i)))

    def __getitem__(self, sel):
        if not isinstance(sel, (slice, list, tuple, range, _np.ndarray)):
            i = _index(sel)
            rows = self._owner._rows("SELECT kind, value, dtype, shape FROM reel_annotation "
                                     "WHERE seq_id = ? AND key = ? AND idx = ?", self.key, i)
            if not rows:
                raise _errors.AnnotationNotFoundError(f"{self._what(i)}: not set")
            return _decode(*rows[0], self._what(i))
        frames = self._frames(sel)
        idx, values = self._read(frames)
        if len(idx) != len(set(frames)):
            have = set(idx.tolist())
            first = next(i for i in frames if i not in have)
            raise _errors.AnnotationNotFoundError(f"{self._what(first)}: not set")
        order = _np.searchsorted(idx, _np.asarray(frames, dtype=_np.int64))
        return values[order] if isinstance(values, _np.ndarray) else [values[k] for k in order]

    def frames(self):
        """The indexes of the frames that have this key, ascending (int64 array)."""
        return self._read(None, values=False)[0]

    def all(self):
        """(frames, values): the frames that have this key and their values, stacked as one
        array of shape (N, ...) when all are arrays of one dtype and shape, else a list."""
        return self._read(None)

    def _read(self, frames, values=True):
        """Rows of this key (of frames, sorted and unique, or all) in one read transaction."""
        o = self._owner
        where = "seq_id = ? AND key = ?"
        params = [self.key]
        if frames is not None:
            lo, hi = (min(frames), max(frames)) if frames else (0, -1)
            where += " AND idx BETWEEN ? AND ?"
            params += [lo, hi]
        with o._read_tx() as db:
            sid = o._seq_id(db)
            stats = db.execute(
                f"SELECT count(*), count(DISTINCT kind), count(DISTINCT dtype), "
                f"count(DISTINCT shape), min(kind), min(dtype), min(shape), min(length(value)), "
                f"max(length(value)) FROM reel_annotation WHERE {where}", [sid] + params
            ).fetchone()
            cols = "idx, value" if values else "idx"
            rows = db.execute(f"SELECT {cols} FROM reel_annotation WHERE {where} ORDER BY idx",
                              [sid] + params).fetchall()
            if values and not (stats[1] == 1 and stats[0] and stats[4] == "blob" and
                               stats[2] == 1 and stats[3] == 1):
                rows = db.execute("SELECT idx, kind, value, dtype, shape FROM reel_annotation "
                                  f"WHERE {where} ORDER BY idx", [sid] + params).fetchall()
        idx = _np.fromiter(map(_operator.itemgetter(0), rows), dtype=_np.int64, count=len(rows))
        if frames is not None:
            keep = _np.isin(idx, _np.asarray(frames, dtype=_np.int64))
            rows = [r for r, k in zip(rows, keep.tolist()) if k] if not keep.all() else rows
            idx = idx[keep]
        if not values:
            return idx, None
        if rows and len(rows[0]) == 2:  # one dtype and shape: one array, no loop per row
            dtype, shape = stats[5], stats[6]
            head = _decode("blob", rows[0][1], dtype, shape, self._what(int(idx[0])))
            if stats[7] != stats[8] or stats[7] != head.nbytes:
                raise _errors.CorruptError(f"{self._what()}: stored rows of sizes "
                                           f"{stats[7]}..{stats[8]} for {dtype} {head.shape}")
            buf = bytearray().join(map(_operator.itemgetter(1), rows))  # writable, one copy
            dt = _np.dtype(dtype).newbyteorder("<")
            arr = _np.frombuffer(buf, dtype=dt).reshape((len(rows),) + head.shape)
            return idx, (arr if dt.isnative else arr.astype(dt.newbyteorder("=")))
        return idx, [_decode(r[1], r[2], r[3], r[4], self._what(r[0])) for r in rows]

    def __setitem__(self, sel, value):
        o = self._owner
        if not isinstance(sel, (slice, list, tuple, range, _np.ndarray)):
            i = _index(sel)
            o._write([(i,) + _row(value, self._what(i))], self.key)
            return
        frames = self._frames(sel)
        if isinstance(value, _np.ndarray):
            if value.ndim == 0 or len(value) != len(frames):
                raise _errors.InvalidError(f"{self._what()}: {len(frames)} frames, but values "
                                           f"of shape {value.shape}")
            dtype = value.dtype.name
            if dtype not in _DTYPES:
                raise TypeError(f"{self._what()}: dtype {value.dtype} cannot be stored (one of "
                                f"{', '.join(_DTYPES)})")
            if value.ndim - 1 > MAX_DIMS or value[0].nbytes > MAX_BYTES:
                raise _errors.InvalidError(f"{self._what()}: each frame's value has at most "
                                           f"{MAX_DIMS} dimensions and {MAX_BYTES} bytes")
            a = value.astype(value.dtype.newbyteorder("<"), order="C", copy=False)
            shape = _json.dumps(list(a.shape[1:]), separators=(",", ":"))
            step = a[0].nbytes
            mv = memoryview(a.reshape(-1).view(_np.uint8))
            rows = ((f, "blob", mv[k * step:(k + 1) * step], dtype, shape)
                    for k, f in enumerate(frames))
        else:
            value = list(value)
            if len(value) != len(frames):
                raise _errors.InvalidError(f"{self._what()}: {len(frames)} frames, "
                                           f"{len(value)} values")
            rows = [(f,) + _row(v, self._what(f)) for f, v in zip(frames, value)]
        o._write(rows, self.key)

    def __delitem__(self, sel):
        frames = [_index(sel)] if not isinstance(sel, (slice, list, tuple, range,
                                                       _np.ndarray)) else self._frames(sel)
        with self._owner._write_tx() as (db, sid):
            gone = db.executemany("DELETE FROM reel_annotation WHERE seq_id = ? AND key = ? "
                                  "AND idx = ?", ((sid, self.key, f) for f in frames)).rowcount
        if not isinstance(sel, (slice, list, tuple, range, _np.ndarray)) and gone == 0:
            raise _errors.AnnotationNotFoundError(f"{self._what(frames[0])}: not set")


class _Tx:
    def __init__(self, owner, write):
        self._owner, self._write = owner, write

    def __enter__(self):
        db = self._db = self._owner._db(self._write)
        try:
            db.execute("BEGIN IMMEDIATE" if self._write else "BEGIN")
            return (db, self._owner._seq_id(db)) if self._write else db
        except BaseException as e:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if isinstance(e, _sqlite3.Error):
                raise _fail(e, f"sequence {self._owner._name!r}") from None
            raise

    def __exit__(self, typ, exc, tb):
        try:
            self._db.execute("COMMIT" if typ is None else "ROLLBACK")
        except _sqlite3.Error as e:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            if typ is None:
                raise _fail(e, f"sequence {self._owner._name!r}") from None
        if isinstance(exc, _sqlite3.Error):
            raise _fail(exc, f"sequence {self._owner._name!r}") from None
        return False


class Annotations:
    """seq.annotations: a mapping of keys to Column objects, on a connection of its own."""

    def __init__(self, seq):
        self._seq = seq
        self._store = seq._store
        self._name = str(seq.name)
        self._conns = {}
        self._pid = _os.getpid()

    def __repr__(self):
        return f"<reel annotations of sequence {self._name!r}: {self.keys()}>"

    def _db(self, write):
        if self._pid != _os.getpid():  # forked: the parent's connections are not this one's
            self._conns, self._pid = {}, _os.getpid()
        if write not in self._conns:
            db = _store_sql(self._store, writable=write)
            db.isolation_level = None  # transactions are explicit
            self._conns[write] = db
        return self._conns[write]

    def close(self):
        for db in self._conns.values():
            db.close()
        self._conns.clear()

    def _read_tx(self):
        return _Tx(self, False)

    def _write_tx(self):
        return _Tx(self, True)

    def _seq_id(self, db):
        row = db.execute("SELECT id FROM reel_sequence WHERE name = ?", (self._name,)).fetchone()
        if row is None:
            raise _errors.NotFoundError(f"sequence {self._name!r} was removed")
        return row[0]

    def _rows(self, sql, *params):
        with self._read_tx() as db:
            return db.execute(sql, (self._seq_id(db),) + params).fetchall()

    def _query1(self, sql, *params):
        return self._rows(sql, *params)[0][0]

    def _write(self, rows, key):
        """rows: (frame, kind, value, dtype, shape), all in one transaction."""
        sql = ("INSERT INTO reel_annotation(seq_id, idx, key, kind, value, dtype, shape, "
               "producer) VALUES(?, ?, ?, ?, ?, ?, ?, 'python') ON CONFLICT(seq_id, idx, key) "
               "DO UPDATE SET kind = excluded.kind, value = excluded.value, dtype = "
               "excluded.dtype, shape = excluded.shape, producer = excluded.producer, "
               "created_at = excluded.created_at")
        with self._write_tx() as (db, sid):
            db.executemany(sql, ((sid, f, key, k, v, d, s) for f, k, v, d, s in rows))

    def keys(self):
        """The keys this sequence has annotations under, sorted."""
        return [r[0] for r in self._rows("SELECT DISTINCT key FROM reel_annotation WHERE "
                                         "seq_id = ? ORDER BY key")]

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self.keys())

    def __contains__(self, key):
        return bool(self._query1("SELECT count(*) FROM reel_annotation WHERE seq_id = ? AND "
                                 "key = ?", _check_key(key)))

    def __getitem__(self, key):
        return Column(self, key)

    def __setitem__(self, key, values):
        """annotations[key] = {frame: value, ...}: those frames, in one transaction."""
        if not isinstance(values, dict):
            raise TypeError("annotations[key] = {frame: value, ...}; for a column of arrays, "
                            "annotations[key][frames] = array")
        col = Column(self, key)
        self._write([(_index(f),) + _row(v, col._what(f)) for f, v in values.items()], col.key)

    def __delitem__(self, key):
        """Remove key from every frame of the sequence."""
        key = _check_key(key)
        with self._write_tx() as (db, sid):
            db.execute("DELETE FROM reel_annotation WHERE seq_id = ? AND key = ?", (sid, key))

    def count(self):
        """How many annotations the sequence has, under every key."""
        return self._query1("SELECT count(*) FROM reel_annotation WHERE seq_id = ?")


def attach(extend, Store, Sequence, errors):
    """Install store.sql() and seq.annotations (called once by reel/__init__.py)."""
    global _errors
    _errors = errors
    errors.AnnotationNotFoundError = type(
        "AnnotationNotFoundError", (errors.NotFoundError, KeyError),
        {"__doc__": "A frame without the key asked for (also a KeyError).",
         "__module__": "reel"})
    if "AnnotationNotFoundError" not in getattr(errors, "__all__", ["AnnotationNotFoundError"]):
        errors.__all__.append("AnnotationNotFoundError")
    extend(Store, "sql")(_store_sql)
    extend(Sequence, "annotations")(property(Annotations, doc=(
        "The sequence's per-frame annotations: a mapping of keys to columns (see "
        "reel.annotations). Each access gives a new view with connections of its own.")))
