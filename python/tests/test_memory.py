"""The RAM tier from Python: budgets, scoped budgets, trimming, memory held by arrays only,
no reference leaks, and threads reading in parallel (the GIL released)."""

import gc
import random
import sys
import threading
import time

import numpy as np
import pytest

import reel
from conftest import SANITIZER


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


@pytest.fixture(scope="module")
def big(tmp_path_factory, media):
    """The long clip as rgb24: 400 frames of 900 KiB (350 MiB decoded)."""
    p = tmp_path_factory.mktemp("big") / "big.reel"
    reel.import_video(p, media["long"], sequence="v", progress=False)
    return p


def test_random_reads_stay_in_budget(big):
    with reel.memory_budget("64MiB"):
        with reel.open(big) as s:
            q = s["v"]
            rng = random.Random(1)
            base = rss_bytes()
            peak = 0
            for k in range(2000 if SANITIZER else 20000):   # (sanitizers run ~10x slower)
                a = q[rng.randrange(len(q))]
                assert a.shape == (480, 640, 3)
                if k % 500 == 0:
                    peak = max(peak, rss_bytes())
            del a
            gc.collect()
            st = reel.memory_stats()
            assert st["resident_bytes"] <= st["budget"] == 64 << 20
            assert st["pinned_bytes"] == 0
            if not SANITIZER:  # (a sanitizer's shadow memory and allocator say nothing here)
                assert peak - base <= (64 + 64) << 20, f"RSS grew by {(peak - base) >> 20} MiB"


def test_no_reference_leaks(stores):
    with reel.open(stores) as s:
        q = s["rgb"]
        f = q.frame(3)
        rq, rf = sys.getrefcount(q), sys.getrefcount(f)
        for i in range(1000 if SANITIZER else 10000):
            a = q[i % len(q)]
            b = f.data
            del a, b
        gc.collect()
        assert sys.getrefcount(q) == rq and sys.getrefcount(f) == rf


def test_budgets_nest_and_restore(stores):
    reel.set_memory_budget("512MiB")
    assert reel.memory_stats()["budget"] == 512 << 20
    with reel.memory_budget("256MiB"):
        assert reel.memory_stats()["budget"] == 256 << 20
        with pytest.raises(RuntimeError):
            with reel.memory_budget(1 << 20):
                assert reel.memory_stats()["budget"] == 1 << 20
                raise RuntimeError("inside")
        assert reel.memory_stats()["budget"] == 256 << 20
    assert reel.memory_stats()["budget"] == 512 << 20
    assert reel.parse_size("1.5 GB") == 1500000000 and reel.parse_size(4096) == 4096
    reel.set_memory_budget("1GiB")


def test_optimize_and_batches_release(stores):
    with reel.open(stores) as s:
        q = s["rgb"]
        for b in q.batches(16):
            q.prefetch_wait()   # (read-ahead pins what it is loading)
            assert reel.memory_stats()["pinned_bytes"] == 0   # nothing held between batches
        keep = q[0]
        reel.optimize_memory()
        st = reel.memory_stats()
        assert st["resident_frames"] == 1 and st["pinned_bytes"] == st["resident_bytes"]
        del keep
        gc.collect()
        reel.optimize_memory("0 B")
        assert reel.memory_stats()["resident_bytes"] == 0
        st = q.cache_stats()
        assert st["loads"] >= 48 and st["resident_frames"] == 0


def read_all(q, idx):
    for i in idx:
        q[i]


def test_threads_read_in_parallel(big):
    """Cold frames decode with the GIL released: while one thread decodes, Python runs on,
    and four threads read the same frames (their time against one thread's is printed)."""
    with reel.open(big) as s:
        q = s["v"]
        idx = list(range(len(q) if not SANITIZER else 100))
        random.Random(2).shuffle(idx)   # no sequential run: no read-ahead in either case
        reel.optimize_memory()
        # 1. another thread makes progress while the main thread is inside reel
        ticks = []
        stop = threading.Event()
        t = threading.Thread(target=lambda: [ticks.append(1) or time.sleep(0) for _ in
                                             iter(lambda: stop.is_set(), True)])
        t.start()
        read_all(q, idx[:100])
        stop.set()
        t.join()
        assert len(ticks) > 100
        # 2. four threads against one, on cold frames (the cache emptied before each)
        reel.optimize_memory()
        t0 = time.perf_counter()
        read_all(q, idx)
        one = time.perf_counter() - t0
        reel.optimize_memory()
        ts = [threading.Thread(target=read_all, args=(q, idx[k::4])) for k in range(4)]
        t0 = time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        four = time.perf_counter() - t0
        # a figure, not an assertion (timings belong to the bench: make bench-python); the
        # GIL's release is asserted above
        print(f"4 threads {four:.2f} s, 1 thread {one:.2f} s (information)")
