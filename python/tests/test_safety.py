"""The binding under abuse: stores closed while other threads read, frames used after close,
fork() while threads read, Ctrl-C during a remote open that never answers, read-ahead counts
at their limits, numpy integer indexes, frames whose pixels fail to load. Hangs are caught by
timeouts of subprocesses and joins (hang checks, not timing assertions)."""

import gc
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import reel
from conftest import SANITIZER, python_env
from test_frames import stored_count

HANG = 120  # seconds after which a call is taken to hang (generous: sanitizers are slow)


def open_fds():
    return len(os.listdir("/proc/self/fd"))


def os_threads():
    return len(os.listdir("/proc/self/task"))


def run_python(code, *args, timeout=HANG):
    """Run code in a fresh interpreter that imports reel; its CompletedProcess."""
    try:
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
                              env=python_env(), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"hung for {timeout} s; output so far: {e.stdout!r} {e.stderr!r}")


def reader(st, go, errors):
    """Read through st until it is closed: every failure but the closed-store one is kept."""
    try:
        q = st["rgb"]
        i = 0
        while True:
            i += 1
            n = len(q)
            a = q[i % n]
            b = q.frame((i * 7) % n).data
            c = q.get_batch([i % n, (i + 1) % n])
            assert a.shape == b.shape == c.shape[1:]
            "yuv" in st
            q.index_at(seconds=0.04 * (i % n))
            del a, b, c
            go.set()
    except ValueError as e:   # the store was closed: what any later call raises
        if not isinstance(e, reel.StoreClosedError):
            errors.append(repr(e))
        go.set()
    except BaseException as e:  # noqa: B902 (anything else is a failure of the test)
        errors.append(repr(e))
        go.set()


def test_close_under_readers(stores):
    with reel.open(stores) as s:   # the process-wide services (pressure monitor) start once
        s["rgb"][0]
    gc.collect()
    fds, tasks = open_fds(), os_threads()
    for _ in range(8 if SANITIZER else 30):
        st = reel.open(stores)
        errors, threads = [], []
        for _ in range(3):
            go = threading.Event()
            t = threading.Thread(target=reader, args=(st, go, errors))
            t.start()
            threads.append((t, go))
        for t, go in threads:
            assert go.wait(HANG), "a reader made no progress"
        st.close()
        for t, _ in threads:
            t.join(HANG)
            assert not t.is_alive(), "a reader hung after close"
        assert errors == []
        assert st.closed
        del st, threads
        gc.collect()
    assert open_fds() == fds, "file descriptors left open by closed stores"
    assert os_threads() == tasks, "threads left running by closed stores"


def test_closed_store_raises_value_error(stores):
    st = reel.open(stores)
    q = st["rgb"]
    st.close()
    calls = [lambda: len(q), lambda: q[0], lambda: q[0:2], lambda: q.frame(1),
             lambda: q.get_batch([1]), lambda: q.prefetch(0, 4), lambda: q.index_at(0.0),
             lambda: st["rgb"], lambda: st.sequences, lambda: st.flush(), lambda: q.info]
    for call in calls:
        with pytest.raises(ValueError) as e:
            call()
        assert isinstance(e.value, reel.StoreClosedError)
        assert isinstance(e.value, reel.MisuseError) and "closed" in str(e.value)


def test_frames_after_close(stores):
    for _ in range(3):
        st = reel.open(stores)
        q = st["rgb"]
        want = [q[i].copy() for i in (9, 10, 11)]
        f = q.frame(9)
        f.data
        kept = q.frame(10)
        view = kept.data
        fresh = q.frame(11)   # metadata only
        del q
        st.close()
        assert f.unload() is True       # its pixels go with the store: no use after free
        assert not f.loaded
        with pytest.raises(ValueError):
            f.data                      # loading again needs the file
        assert np.array_equal(view, want[1]) and np.array_equal(np.asarray(kept), want[1])
        assert fresh.index == 11 and fresh.time == pytest.approx(11 / 25)
        with pytest.raises(reel.StoreClosedError):
            fresh.data
        with pytest.raises(reel.StoreClosedError):
            np.asarray(fresh)
        del f, kept, view, fresh
        gc.collect()


def test_frame_that_fails_to_load_raises(store_copy):
    db = sqlite3.connect(store_copy)
    db.execute("UPDATE reel_blob SET data = zeroblob(length(data)) WHERE id = (SELECT blob_id "
               "FROM reel_frame f JOIN reel_sequence s ON s.id = f.seq_id "
               "WHERE s.name = 'gray' AND f.idx = 5)")
    db.execute("UPDATE reel_frame SET status = 1, raw_bytes = 0, stored_bytes = 0, blob_id = NULL "
               "WHERE idx = 20 AND seq_id = "
               "(SELECT id FROM reel_sequence WHERE name = 'gray')")
    db.commit()
    db.close()
    with reel.open(store_copy) as s:
        q = s["gray"]
        for i, err in [(5, reel.CorruptError), (20, reel.NoDataError)]:
            f = q.frame(i)
            with pytest.raises(err):
                f.data
            with pytest.raises(err):
                np.asarray(f)
            with pytest.raises(err):
                np.array(q.frame(i))
            with pytest.raises(err):
                q[i]
            assert not f.loaded
        assert q.frame(20).status == "skipped"
        assert np.asarray(q.frame(4)).shape == (240, 320)


def test_numpy_integer_indexes(stores):
    class Idx:
        def __init__(self, i):
            self.i = i

        def __index__(self):
            return self.i

    with reel.open(stores) as s:
        q = s["rgb"]
        for key in [np.int64(3), np.int32(3), np.uint8(3), Idx(3), np.int64(3 - 48)]:
            assert np.array_equal(q[key], q[3])
            assert q.frame(key).index == 3
        with pytest.raises(IndexError):
            q[np.int64(48)]
        with pytest.raises(IndexError):
            q[Idx(2**70)]
        with pytest.raises(TypeError):
            q[3.0]


def test_metadata_counts_no_access(store_copy):
    before = stored_count(store_copy, 5)
    with reel.open(store_copy) as s:
        q = s["rgb"]
        for _ in range(5):
            f = q.frame(5)
            f.time, f.pts, f.status, f.keyframe
        del f
    assert stored_count(store_copy, 5) == before
    with reel.open(store_copy) as s:
        f = s["rgb"].frame(5)
        f.data
        del f
    assert stored_count(store_copy, 5) == before + 1


def test_loaded_and_unload_tell_the_truth(stores):
    with reel.open(stores) as s:
        q = s["rgb"]
        a = q[3]
        f = q.frame(3)
        assert not f.loaded             # this Frame holds no pixels yet
        assert f.unload() is False      # and the frame stays: a pins it
        v = f.data
        assert v.ctypes.data == a.ctypes.data and f.loaded
        with pytest.raises(BufferError):
            f.unload()                  # arrays of f view it
        del v
        gc.collect()
        assert f.unload() is False      # a still pins it
        del a
        gc.collect()
        assert f.unload() is True and not f.loaded
        assert q.frame(3).unload() is True   # not resident: nothing stays


def test_prefetch_counts_at_their_limits(stores):
    r = run_python("""
        import sys, reel
        with reel.open(sys.argv[1]) as s:
            q = s["rgb"]
            for first, count in [(50, 2**62), (2**63 - 1, 2048), (0, 2**63 - 1), (47, 2**63 - 1),
                                 (2**62, 2**62), (0, 0), (48, 1)]:
                q.prefetch(first, count)
            assert q.prefetch_wait(60)
            for bad in [(-1, 1), (0, -1), (-2**63, 2**63 - 1)]:
                try:
                    q.prefetch(*bad)
                    sys.exit("prefetch%r: no error" % (bad,))
                except ValueError:
                    pass
            for bad in [(2**63, 1), (0, 2**64)]:
                try:
                    q.prefetch(*bad)
                    sys.exit("prefetch%r: no error" % (bad,))
                except OverflowError:
                    pass
            assert q.cache_stats()["prefetch_loads"] <= 48
        print("ok")
        """, stores)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_fork_while_threads_read(stores):
    r = run_python("""
        import os, sys, threading, time, reel
        path = sys.argv[1]
        stop = False
        def read():
            with reel.open(path) as s:
                q = s["rgb"]
                i = 0
                while not stop:
                    q[i % 48]
                    q.frame((i * 5) % 48).data
                    i += 1
        threads = [threading.Thread(target=read) for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(0.2)
        hung = 0
        for k in range(10):
            pid = os.fork()
            if pid == 0:
                try:
                    with reel.open(path) as s:
                        a = s["rgb"][k]
                        assert a.shape == (240, 320, 3)
                    os._exit(0)
                except BaseException as e:
                    print("child:", repr(e), flush=True)
                    os._exit(3)
            deadline = time.monotonic() + 20
            while True:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    assert os.waitstatus_to_exitcode(status) == 0, status
                    break
                if time.monotonic() > deadline:
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                    hung += 1
                    break
                time.sleep(0.01)
        stop = True
        for t in threads:
            t.join()
        print("hung", hung)
        """, stores, timeout=HANG * 6)
    assert r.returncode == 0 and r.stdout.strip() == "hung 0", (r.stdout, r.stderr)


def test_inherited_store_refused_in_child(stores):
    r = run_python("""
        import os, sys, reel
        s = reel.open(sys.argv[1])
        q = s["rgb"]
        q[0]
        pid = os.fork()
        if pid == 0:
            try:
                q[1]
                os._exit(1)
            except reel.MisuseError as e:
                os._exit(0 if "fork" in str(e) else 2)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
        """, stores)
    assert r.returncode == 0 and r.stdout.strip() == "0", (r.stdout, r.stderr)


def test_ctrl_c_during_remote_open():
    """A server that accepts and never answers: Ctrl-C 1 s into reel.open() raises
    KeyboardInterrupt at once, not after libcurl's retries (about 100 s)."""
    r = run_python("""
        import os, signal, socket, threading, time, reel
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(16)
        held = []
        def accept():
            while True:
                try:
                    c, _ = srv.accept()
                except OSError:
                    return
                held.append(c)   # never answered
        threading.Thread(target=accept, daemon=True).start()
        url = "http://127.0.0.1:%d/store" % srv.getsockname()[1]
        for _ in range(2):   # the second: the interrupt flag was cleared after the first
            threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
            t0 = time.monotonic()
            try:
                reel.open(url)
                print("opened")
            except KeyboardInterrupt:
                print("KeyboardInterrupt", len(held) > 0, round(time.monotonic() - t0, 1))
            except reel.Error as e:
                print("error", repr(e))
        """, timeout=60)
    lines = [line.split()[:2] for line in r.stdout.splitlines()]
    assert lines == [["KeyboardInterrupt", "True"]] * 2, (r.stdout, r.stderr)


# A gateway in this process: the published store in argv[1] over HTTP at url (GET with
# Range), its requests counted in hits; stall.set() makes it never answer again.
SERVE = """
    import http.server, os, re, sys, threading, time
    root, hits, stall = sys.argv[1], [0], threading.Event()
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass
        def do_GET(self):
            hits[0] += 1
            if stall.is_set():
                time.sleep(3600)   # never answers
            try:
                data = open(os.path.join(root, self.path.split("/", 2)[2]), "rb").read()
            except OSError:
                return self.send_error(404)
            m = re.match(r"bytes=(\\d+)-(\\d*)", self.headers.get("Range") or "")
            a, b = (int(m[1]), int(m[2]) if m[2] else len(data) - 1) if m else (0, len(data) - 1)
            self.send_response(206 if m else 200)
            if m:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (a, b, len(data)))
            self.send_header("Content-Length", str(b + 1 - a))
            self.end_headers()
            self.wfile.write(data[a:b + 1])
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/pub" % srv.server_port
"""


def test_ctrl_c_during_remote_read(stores, reel_tool, tmp_path):
    """A published store served over HTTP by a server that stalls after the open: Ctrl-C 1 s
    into a read of a block not yet fetched raises KeyboardInterrupt at once."""
    pub = tmp_path / "pub"
    subprocess.run([reel_tool, "publish", str(stores), str(pub)], check=True,
                   capture_output=True)
    env_cache = tmp_path / "blocks"
    env_cache.mkdir(mode=0o700)
    code = textwrap.dedent(SERVE) + textwrap.dedent("""
        import signal, reel
        s = reel.open(url)
        q = s["rgb"]
        q[0]
        stall.set()
        threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
        try:
            q[47]
            print("read")
        except KeyboardInterrupt:
            print("KeyboardInterrupt")
        """)
    env = python_env()
    env["REEL_BLOCK_CACHE"] = str(env_cache)
    try:
        r = subprocess.run([sys.executable, "-c", code, str(pub)], env=env,
                           capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"hung: {e.stdout!r} {e.stderr!r}")
    assert r.stdout.strip() == "KeyboardInterrupt", (r.stdout, r.stderr)




def test_metadata_calls_release_the_gil(stores, reel_tool, tmp_path):
    """The metadata calls on a remote store (info, fps, index_at, sequences, store[name], in,
    open_warm, SQL) release the GIL while they wait for the gateway: the gateway here is a
    Python thread of the same process, so a call holding the GIL would never get its blocks
    (a hang, caught by the subprocess's timeout). Each call runs on a store opened afresh over
    an empty block cache, and the calls that fetch are counted."""
    pub = tmp_path / "pub"
    subprocess.run([reel_tool, "publish", str(stores), str(pub)], check=True,
                   capture_output=True)
    code = textwrap.dedent(SERVE) + textwrap.dedent("""
        import tempfile, reel
        calls = {
            "sequences": lambda s, q: s.sequences,
            "getitem": lambda s, q: s["gray16"],
            "contains": lambda s, q: "bgr" in s,
            "info": lambda s, q: q.info,
            "fps": lambda s, q: q.fps,
            "index_at": lambda s, q: q.index_at(seconds=1.0, zero=True),
            "open_warm": lambda s, q: s._open_warm("yuv", 0.5),
            # the last byte of every stored frame: blocks past what the open fetched
            "query": lambda s, q: s._query(
                "SELECT count(*) FROM reel_blob WHERE substr(data, -1) = x'00'"),
        }
        for name, call in calls.items():
            os.environ["REEL_BLOCK_CACHE"] = tempfile.mkdtemp(dir=sys.argv[2])
            s = reel.open(url)
            q = s["rgb"]
            before = hits[0]
            call(s, q)
            print(name, hits[0] - before, flush=True)
            s.close()
        """)
    r = run_python(code, pub, tmp_path)
    fetched = dict(line.split() for line in r.stdout.splitlines())
    assert r.returncode == 0 and len(fetched) == 8, (r.stdout, r.stderr)
    # the query had to fetch blocks (the metadata calls may find theirs in what the open
    # fetched: a miss brings the rest of its 1 MiB chunk)
    assert int(fetched["query"]) > 0, fetched
