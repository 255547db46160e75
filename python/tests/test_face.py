"""The Python face: frames without pixels (missing=), numpy-style gathers, iteration,
exceptions that say what a Python user passes, signatures, pickling, Store.writable."""

import inspect
import pickle

import numpy as np
import pytest

import reel
from facefix import bad_index, face_store  # noqa: F401  (a fixture)


def test_missing_policies_get_batch(face_store):
    with reel.open(face_store) as s:
        q = s["bad"]
        b = bad_index(q)
        idx = list(range(b - 2, b + 3))
        with pytest.raises(reel.NoDataError) as e:
            q.get_batch(idx)
        assert f"frame {b}" in str(e.value) and "missing=" in str(e.value)
        assert e.value.code == 13
        with pytest.raises(reel.NoDataError):
            q[b - 2:b + 3]                         # a slice raises too
        skip = q.get_batch(idx, missing="skip")
        assert skip.shape[0] == 4
        assert np.array_equal(skip, q.get_batch([b - 2, b - 1, b + 1, b + 2]))
        rep = q.get_batch(idx, missing="repeat")
        assert rep.shape[0] == 5 and np.array_equal(rep[2], q[b - 1])
        black = q.get_batch(idx, missing="black")
        assert not black[2].any() and np.array_equal(black[3], q[b + 1])
        first = q.get_batch([b, b + 1], missing="repeat")  # nothing before: the next one
        assert np.array_equal(first[0], q[b + 1])
        alone = q.get_batch([b], missing="repeat")         # nothing at all: black
        assert not alone.any()
        assert q.get_batch(slice(b - 1, b + 2), missing="skip").shape[0] == 2
        assert q.get_batch(range(b - 1, b + 2), missing="skip").shape[0] == 2


def test_missing_black_yuv(face_store):
    with reel.open(face_store) as s:
        q = s["badyuv"]
        b = bad_index(q)
        a = q.get_batch([b], missing="black")[0]
        y = q.info["width"] * q.info["height"]
        assert q.pix_fmt.startswith("yuv")
        assert a[:y].max() <= 16 and abs(int(a[y:].astype(int).mean()) - 128) <= 1


def test_missing_batches_and_gather(face_store):
    with reel.open(face_store) as s:
        q = s["bad"]
        b = bad_index(q)
        with pytest.raises(reel.NoDataError):
            list(q.batches(8))
        rows = sum(len(a) for a in q.batches(8, missing="skip"))
        assert rows == len(q) - 1
        assert sum(len(a) for a in q.batches(8, missing="black")) == len(q)
        got = [x for fb in q.batches(7, missing="skip", with_index=True)
               for x in fb.indexes.tolist()]
        assert got == [i for i in range(len(q)) if i != b]
        data, kept = q._gather([b, 0], "skip")
        assert kept.tolist() == [0] and data.shape[0] == 1


def test_missing_argument_errors(face_store):
    with reel.open(face_store) as s:
        q = s["bad"]
        with pytest.raises(ValueError) as e:
            q.get_batch([0], missing="ignore")
        assert "'raise', 'skip', 'repeat' or 'black'" in str(e.value)
        with pytest.raises(TypeError):
            q.get_batch([0], missing=1)
        with pytest.raises(ValueError):
            q.batches(4, missing="nope")


def test_fancy_indexing(stores):
    with reel.open(stores) as s:
        q = s["rgb"]
        a = q[[1, 2, 3]]
        assert a.shape == (3,) + q.shape and a.flags.owndata and a.flags.writeable
        assert np.array_equal(a[1], q[2])
        assert np.array_equal(q[np.array([5, -1])], np.stack([q[5], q[len(q) - 1]]))
        assert np.array_equal(q[np.array([2, 2], dtype=np.uint8)][1], q[2])
        mask = np.zeros(len(q), bool)
        mask[[4, 9]] = True
        assert np.array_equal(q[mask], q[[4, 9]])
        assert np.array_equal(q[range(0, 6, 2)], q[0:6:2])
        assert q[[]].shape == (0,) + q.shape
        with pytest.raises(IndexError):
            q[[0, 48]]
        with pytest.raises(IndexError):
            q[np.array([-49])]
        with pytest.raises(IndexError):
            q[np.ones(3, bool)]                 # a mask of the wrong length
        with pytest.raises(IndexError):
            q[np.array([2**63 + 1], dtype=np.uint64)]    # not -9223372036854775807 + len
        with pytest.raises(TypeError):
            q[np.array([0.5])]
        with pytest.raises(TypeError):
            q[[0, "a"]]
        with pytest.raises(TypeError):
            q[(1, 2)]


def test_iteration(stores):
    with reel.open(stores) as s:
        q = s["rgb"]
        frames = list(q)
        assert len(frames) == len(q)
        for i in (0, 17, len(q) - 1):
            assert np.array_equal(frames[i], q[i]) and not frames[i].flags.writeable
        assert sum(1 for _ in iter(q)) == len(q)


def test_bad_arguments_name_the_parameter(tmp_path, stores, media):
    with reel.open(stores) as s:
        q = s["rgb"]
        with pytest.raises(TypeError) as e:
            q.batches("16")
        assert "size" in str(e.value)
        with pytest.raises(ValueError) as e:
            q.batches(0)
        assert "size=0" in str(e.value)
        with pytest.raises(TypeError):
            q.batches(4, start="1")
        with pytest.raises(ValueError) as e:
            q.index_at(float("nan"))
        assert "%g" not in str(e.value) and "nan" in str(e.value)
        with pytest.raises(ValueError):
            q.index_at(float("inf"))
        with pytest.raises(TypeError):
            q.index_at("1.0")
        with pytest.raises(TypeError):
            q.index_at()
        with pytest.raises(TypeError):
            q.index_at(1.0, pts=3)
    with pytest.raises(ValueError) as e:
        reel.import_video(tmp_path / "s.reel", media["small"], scale="tiny", progress=False)
    assert "scale=" in str(e.value)
    with pytest.raises(TypeError) as e:
        reel.import_video(tmp_path / "s.reel", media["small"], scale=3, progress=False)
    assert "scale" in str(e.value)
    with pytest.raises(TypeError):
        reel._reel.import_video(tmp_path / "s.reel", media["small"], scale="160x120",
                                progress=False)          # a TypeError, not a SystemError
    r = reel.import_video(tmp_path / "s.reel", media["small"], scale="160x120", progress=False)
    assert r["size"] == (160, 120)
    with pytest.raises(ValueError) as e:
        reel.import_video(tmp_path / "s.reel", media["small"], on_error="explode",
                          progress=False)
    assert "'skip', 'repeat', 'black' or 'fail'" in str(e.value)
    with pytest.raises(ValueError) as e:
        reel.import_video(tmp_path / "s.reel", media["small"], codec="h265", progress=False)
    assert "'intra', 'temporal' or 'auto'" in str(e.value)


def test_more_arguments_name_the_parameter(tmp_path, stores):
    """The methods whose arguments C parsed name the parameter and what it accepts."""
    with reel.open(stores) as s:
        q = s["rgb"]
        cases = [(lambda: q.window("1", 2), TypeError, "center: an integer"),
                 (lambda: q.window(5, 2.0), TypeError, "radius: an integer"),
                 (lambda: q.window(5, -1), ValueError, "radius=-1"),
                 (lambda: q.prefetch(1.5, 2), TypeError, "first: an integer"),
                 (lambda: q.prefetch(0, -1), ValueError, "count=-1"),
                 (lambda: q.prefetch_wait("x"), TypeError, "timeout"),
                 (lambda: q.prefetch_wait(float("nan")), ValueError, "timeout=nan"),
                 (lambda: q.get_frames_at(seconds="1"), TypeError, "seconds: a list"),
                 (lambda: q.get_frames_at(seconds=[[0.1]]), TypeError, "seconds: a list"),
                 (lambda: q.get_frames_at(pts=[0.5]), TypeError, "pts: a list"),
                 (lambda: q.process_in_batches(None, 4), TypeError, "fn: a callable"),
                 (lambda: reel.monitor_memory_pressure(moderate_percent=200), ValueError,
                  "moderate_percent=200"),
                 (lambda: reel.monitor_memory_pressure(psi_critical="x"), TypeError,
                  "psi_critical")]
        for call, cls, text in cases:
            with pytest.raises(cls, match=text):
                call()
        assert q.prefetch_wait(None) is True and q.prefetch_wait(1e300) is True
        assert q.window(np.int64(5), np.int64(1)).shape[0] == 3
    with reel.open(tmp_path / "w.reel", mode="w") as w:
        cases = [(lambda: w.create_sequence(5, 10, 10), TypeError, "name: a sequence name"),
                 (lambda: w.create_sequence("a", "10", 10), TypeError, "width: an integer"),
                 (lambda: w.create_sequence("a", 10, 0), ValueError, "height=0"),
                 (lambda: w.create_sequence("a", 70000, 10), ValueError, "width=70000"),
                 (lambda: w.create_sequence("a", 10, 10, time_base="1/25"), TypeError,
                  "time_base: a pair"),
                 (lambda: w.create_sequence("a", 10, 10, time_base=(0, 25)), ValueError,
                  "time_base="),
                 (lambda: w.create_sequence("a", 10, 10, keyint=99), ValueError, "keyint=99"),
                 (lambda: w.create_sequence("a", 10, 10, source=3), TypeError, "source"),
                 (lambda: w.create_sequence("a", 10, 10, codec=None), TypeError, "codec"),
                 (lambda: w.remove(5), TypeError, "name: a sequence name")]
        for call, cls, text in cases:
            with pytest.raises(cls, match=text) as e:
                call()
            assert "format 2" not in str(e.value)
        made = w.create_sequence("a", np.int64(16), 8, time_base=(np.int32(1), 30))
        assert made.shape == (8, 16, 3) and made.time_base == (1, 30)
        w.remove("a")
        assert "a" not in w


def test_slices_say_how_to_read_past_a_frame_without_pixels(face_store):
    with reel.open(face_store) as s:
        q = s["bad"]
        b = bad_index(q)
        for call in (lambda: q[b - 1:b + 1], lambda: q.window(b, 1), lambda: q[[0, b]],
                     lambda: q[np.array([b])]):
            with pytest.raises(reel.NoDataError, match="missing='skip', 'repeat' or 'black'"):
                call()
        assert q.get_batch(slice(b - 1, b + 1), missing="skip").shape[0] == 1


def test_exception_conventions(tmp_path, stores, media):
    with pytest.raises(FileNotFoundError) as e:
        reel.open(tmp_path / "nope.reel")
    assert isinstance(e.value, reel.NotFoundError) and isinstance(e.value, reel.NoSuchFileError)
    assert "mode='w'" in str(e.value) and "REEL_" not in str(e.value)
    with pytest.raises(FileNotFoundError):
        reel.import_video(tmp_path / "s.reel", tmp_path / "missing.mp4", progress=False)
    s = reel.open(stores)
    q = s["rgb"]
    s.close()
    with pytest.raises(ValueError):
        q[0]
    with pytest.raises(ValueError):
        s.sequences
    with pytest.raises(reel.MisuseError):
        s["rgb"]
    with reel.open(stores) as s:
        q = s["rgb"]
        with pytest.raises(ValueError) as e:
            q.get(0, pix_fmt="rgba64")
        assert isinstance(e.value, reel.UnsupportedError)   # as before, and a ValueError now
        assert "'gray8'" in str(e.value) and "'yuv420p'" in str(e.value)
        assert np.array_equal(q.get(3, pix_fmt="GRAY8"), q.get(3, pix_fmt="gray8"))
    with pytest.raises(ValueError) as e:
        reel.import_video(tmp_path / "s.reel", media["small"], pix_fmt="rgb32", progress=False)
    assert "'native'" in str(e.value)
    r = reel.import_video(tmp_path / "s.reel", media["small"], pix_fmt="GRAY8", progress=False)
    assert r["pix_fmt"] == "gray8"


def test_no_c_names_in_messages(tmp_path):
    with pytest.raises(reel.Error) as e:
        with reel.memory_budget("1MiB"):
            reel._reel._pop_budget()
            reel._reel._pop_budget()
    assert "reel_cache" not in str(e.value) and "nothing was pushed" in str(e.value)
    with pytest.raises(reel.Error) as e:
        reel.open(tmp_path / "none.reel")
    assert "REEL_OPEN" not in str(e.value)


def test_forked_handle_message(stores):
    """A handle used in a forked child says so in Python's words (no reel_seq, no reel_...)."""
    import os
    with reel.open(stores) as s:
        q = s["rgb"]
        q[0]
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                q[1]
                msg = "no error"
            except reel.Error as e:
                msg = f"{type(e).__name__}: {e}"
            os.write(w, msg.encode())
            os._exit(0)
        os.close(w)
        msg = os.read(r, 4096).decode()
        os.close(r)
        os.waitpid(pid, 0)
    assert msg.startswith("MisuseError") and "reel_" not in msg, msg


PUBLIC = [reel.open, reel.import_video, reel.memory_stats, reel.set_memory_budget,
          reel.optimize_memory, reel.memory_budget, reel.parse_size, reel.set_strict]


def test_signatures():
    for fn in PUBLIC:
        inspect.signature(fn)
    for cls in (reel.Store, reel.Sequence, reel.Frame):
        for name in dir(cls):
            attr = getattr(cls, name)
            if name.startswith("__") or not callable(attr):
                continue
            sig = inspect.signature(attr)
            assert list(sig.parameters)[0] == "self", (cls, name)
    assert "missing" in inspect.signature(reel.Sequence.get_batch).parameters
    assert "with_index" in inspect.signature(reel.Sequence.batches).parameters
    assert "Raises" in reel.Sequence.get_batch.__doc__


def test_docstrings_say_what_comes_back_and_what_is_raised(stores):
    """Every public function and method says what it returns or raises (Jupyter's `?`), and
    the stats dicts' docstrings name every key the dicts have."""
    for name in reel.__all__:
        obj = getattr(reel, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            continue
        found = [(name, obj)] if not isinstance(obj, type) else [
            (f"{name}.{k}", v) for k, v in vars(obj).items()
            if not k.startswith("_") and callable(v) and k != "sql"]   # sql: annotations.py
        for what, fn in found:
            doc = inspect.getdoc(fn) or ""
            assert "Returns" in doc or "Raises" in doc, what
            assert "REEL_" not in doc and "reel_" not in doc, what
    with reel.open(stores) as s:
        for fn, keys in ((reel.memory_stats, reel.memory_stats()),
                         (reel.Store.cache_stats, s.cache_stats()),
                         (reel.Sequence.cache_stats, s["rgb"].cache_stats())):
            missing = [k for k in keys if k not in fn.__doc__]
            assert missing == [], (fn, missing)


def test_help_reads_well():
    """help(reel): the quick start in the module's docstring, no private submodule listed."""
    import pydoc
    text = pydoc.render_doc(reel, renderer=pydoc.plaintext)
    assert "reel.open(" in text and "missing='raise'" in text and "_annotations" not in text
    assert "SUBMODULES" not in text


def test_pickle_reopens(stores, store_copy):
    with reel.open(stores) as s:
        q = s["rgb"]
        s2 = pickle.loads(pickle.dumps(s))
        assert s2.path == s.path and s2.sequences == s.sequences and not s2.writable
        q2 = pickle.loads(pickle.dumps(q))
        assert q2.name == "rgb" and np.array_equal(q2[7], q[7])
        both = pickle.loads(pickle.dumps([q, s["gray"]]))
        assert both[0]._store is both[1]._store          # one store per pickle
        s2.close()
    s.close()
    with pytest.raises(ValueError):
        pickle.dumps(s)
    with reel.open(store_copy, "w") as w:
        assert w.writable is True
        w3 = pickle.loads(pickle.dumps(w))
        assert w3.writable is True
        w3.close()
    assert w.writable is False
    with reel.open(stores, "r") as r:
        assert r.writable is False


def test_import_progress_lines(tmp_path, media, capfd):
    reel.import_video(tmp_path / "p.reel", media["small"], progress=True)
    err = capfd.readouterr().err
    assert "small: 48/48 frames" in err and "fps" in err and not err.startswith("reel: ")
    seen = []
    reel.import_video(tmp_path / "p.reel", media["small"], sequence="cb", progress=seen.append)
    assert seen and seen[-1]["frames_done"] == 48


def test_batches_progress(stores, capfd):
    with reel.open(stores) as s:
        calls = []
        list(s["rgb"].batches(10, progress=calls.append))   # as tqdm's update(n)
        assert calls == [10, 10, 10, 10, 8]
        list(s["rgb"].batches(10, progress=True))
        err = capfd.readouterr().err
        assert "rgb: 48/48 frames" in err and "fps" in err


class FakeTqdm:
    """What reel relies on of a tqdm bar: update(n) (which returns True when tqdm redraws),
    total (None when not given), refresh()."""

    def __init__(self, total=None):
        self.total, self.n, self.calls = total, 0, []

    def update(self, n=1):
        self.n += n
        self.calls.append(n)
        return True

    def refresh(self):
        pass


def test_tqdm_bars(stores, tmp_path, media):
    """A tqdm bar, or its update method, follows batches() and import_video(); update's True
    (tqdm redrew) does not stop a scan."""
    with reel.open(stores) as s:
        q = s["rgb"]
        for make in (lambda bar: bar.update, lambda bar: bar):
            bar = FakeTqdm()
            assert sum(len(b) for b in q.batches(10, progress=make(bar))) == 48
            assert bar.calls == [10, 10, 10, 10, 8] and bar.n == 48
        bar = FakeTqdm()
        assert bar.total is None
        list(q.batches(16, progress=bar))
        assert bar.total == 48                       # set when it had none
        with pytest.raises(TypeError, match="progress"):
            list(q.batches(16, progress="yes"))
    for k, make in enumerate((lambda bar: bar.update, lambda bar: bar)):
        bar = FakeTqdm()
        r = reel.import_video(tmp_path / "t.reel", media["small"], sequence=f"s{k}",
                              progress=make(bar))
        assert r["frames"] == 48 and bar.n == 48 and bar.total == 48
        assert all(n > 0 for n in bar.calls)
    with pytest.raises(TypeError, match="progress"):
        reel.import_video(tmp_path / "t.reel", media["small"], sequence="x", progress=3.5)


def test_stubs_cover_the_public_names():
    import os
    import reel.torch as rt
    here = os.path.dirname(reel.__file__)
    stub = open(os.path.join(here, "__init__.pyi")).read()
    for name in reel.__all__:
        assert f" {name}(" in stub or f"class {name}" in stub, name
    for name in ("timestamps", "get_frames_at", "set_policy", "open_warm", "FrameBatch"):
        assert name in stub
    tstub = open(os.path.join(here, "torch.pyi")).read()
    for name in rt.__all__:
        assert f"class {name}" in tstub
    assert "clip_step" in tstub and "return_index" in tstub


def test_cli_bar_fits_the_terminal(tmp_path, media, reel_tool):
    """`reel import`'s bar on a 60-column terminal: no line wider than 59 columns."""
    import fcntl
    import os
    import pty
    import re
    import struct
    import termios
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 60, 0, 0))
        os.execve(reel_tool, [reel_tool, "import", str(tmp_path / "c.reel"),
                              str(media["long"])], dict(os.environ))
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    text = out.decode("utf-8", "replace")
    bars = [re.sub(r"\x1b\[K", "", part) for part in re.split(r"[\r\n]+", text)
            if "frames" in part and "fps" in part and "stored" not in part]
    assert bars, text
    assert all(len(b) <= 59 for b in bars), [b for b in bars if len(b) > 59]
    assert any(b.startswith("[#") or b.startswith("[.") for b in bars)


def test_tensor_and_0d_array_indexes(stores):
    import torch
    with reel.open(stores) as s:
        q = s["rgb"]
        want = q[3].copy()
        for key in [torch.tensor(3), np.array(3), np.array(3, dtype=np.uint8), np.int64(3),
                    torch.tensor(-45), np.array(-45)]:
            got = q[key]
            assert got.shape == want.shape and np.array_equal(got, want), key
        for key in [torch.tensor([5, 1, 5]), np.array([5, 1, 5], dtype=np.int32),
                    torch.tensor([5, 1, -43])]:
            got = q[key]
            assert got.shape == (3,) + want.shape
            assert np.array_equal(got[0], q[5]) and np.array_equal(got[1], q[1])
            assert np.array_equal(got[2], q[5])
            assert np.array_equal(q.get_batch(key), got)
        mask = torch.zeros(len(q), dtype=torch.bool)
        mask[[2, 7]] = True
        assert np.array_equal(q[mask], q[[2, 7]])
        with pytest.raises(IndexError):
            q[torch.tensor(48)]
        with pytest.raises(IndexError):
            q[torch.tensor([1, 48])]
