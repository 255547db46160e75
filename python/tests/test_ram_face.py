"""The RAM tier's C features from Python: per-sequence policies, read-ahead settings, warm
opens, strict mode, pressure, scan-resistant batches and iteration, budgets as a share of
memory, and the seed's names."""

import numpy as np
import pytest

import reel
from test_safety import run_python


def test_policy_roundtrip_and_limits(stores):
    with reel.open(stores) as s:
        q = s["rgb"]
        assert q.policy["priority"] == "normal" and q.policy["max_frames"] == 0
        s.set_readahead(workers=0, window=1)   # only the reads below load frames
        reel.optimize_memory()            # limits are kept as frames load: none resident
        q.set_policy(max_frames=4, priority="low", trim_every=0, max_bytes="1MiB")
        p = q.policy
        assert p["max_frames"] == 4 and p["priority"] == "low" and p["max_bytes"] == 1 << 20
        for i in range(20):
            q[i]
        assert q.cache_stats()["resident_frames"] <= 4
        assert q.cache_stats()["policy_evictions"] > 0
        q.set_policy()
        with pytest.raises(ValueError):
            q.set_policy(priority="urgent")
        with pytest.raises(TypeError):
            q.set_policy(max_frames="4")
        with pytest.raises(ValueError):
            q.set_policy(window=-1)


def test_trim_and_prefetch_around(stores):
    with reel.open(stores) as s:
        q = s["gray"]
        q.prefetch_around(20, 3)
        assert q.prefetch_wait(30)
        assert q.cache_stats()["prefetch_loads"] >= 1
        for i in range(17, 24):
            q[i]
        assert q.prefetch_wait(30)        # the read-ahead the reads set off, done
        assert q.trim() > 0
        assert q.cache_stats()["resident_frames"] == 0
        with pytest.raises(ValueError):
            q.prefetch_around(-1, 2)


def test_readahead_and_warm(store_copy):
    with reel.open(store_copy) as s:
        s.set_readahead(workers=0, window=1)
        q = s["rgb"]
        for _ in range(3):
            for i in (1, 2, 3):
                q[i]
        with pytest.raises(TypeError):
            s.set_readahead(workers="2")
    reel.optimize_memory()
    with reel.open(store_copy) as s:
        q = s.open_warm("rgb", share=0.5)
        st = q.cache_stats()
        assert st["resident_frames"] >= 3 and st["hits"] == 0
        q[1]
        assert q.cache_stats()["hits"] == 1
        with pytest.raises(KeyError):
            s.open_warm("nope")
        with pytest.raises(ValueError):
            s.open_warm("rgb", share=2)


@pytest.mark.parametrize("codec", ["intra", "temporal"])
def test_scan_does_not_evict_hot_frames(store_copy, media, codec):
    # the scanned sequence is twice the budget; a temporal one keeps only the frame the next
    # one needs as its reference warm, the rest of the scan goes to the cold end
    reel.import_video(store_copy, media["small"], sequence="scan", codec=codec,
                      progress=False)
    reel.import_video(store_copy, media["small"], sequence="hot", codec="intra",
                      pix_fmt="gray8", progress=False)
    with reel.open(store_copy) as s:
        s.set_readahead(workers=0, window=1)   # what the reads below load, and nothing else
        hot, scan = s["hot"], s["scan"]
        assert scan.info["codec"] == codec
        budget = 12 * (hot.info["frame_size"] + 4096) + 20 * (scan.info["frame_size"] + 4096)
        assert 48 * scan.info["frame_size"] > 1.9 * budget
        reel.optimize_memory()
        budget += reel.memory_stats()["resident_bytes"]   # frames other tests still pin
        for one_pass in (lambda: list(scan.batches(4)), lambda: [None for _ in scan]):
            with reel.memory_budget(budget):
                reel.optimize_memory()
                for _ in range(3):
                    for i in range(10):
                        hot[i]
                before = hot.cache_stats()["resident_frames"]
                assert before >= 10, reel.memory_stats()
                one_pass()
                assert hot.cache_stats()["resident_frames"] >= 10, reel.memory_stats()
        with reel.memory_budget(budget):         # an ordinary read of as much does evict them
            for i in range(0, 48, 4):
                scan.get_batch(range(i, i + 4))
            assert hot.cache_stats()["resident_frames"] < 10


def test_resident(store_copy):
    with reel.open(store_copy) as s:
        s.set_readahead(workers=0, window=1)
        q = s["gray"]
        q.trim()
        assert q.resident().dtype == np.int64 and len(q.resident()) == 0
        for i in (3, 10, 47):
            q[i]
        before = q.cache_stats()
        assert q.resident().tolist() == [3, 10, 47]
        assert q.resident(4, 47).tolist() == [10]
        assert q.resident(40, 1000).tolist() == [47]
        m = q.resident(mask=True)
        assert m.dtype == np.bool_ and len(m) == len(q) and np.flatnonzero(m).tolist() == [3, 10, 47]
        assert q.resident(2, 5, mask=True).tolist() == [False, True, False]
        assert q.resident(5, 2).tolist() == []
        after = q.cache_stats()            # asking counts nothing
        assert (after["hits"], after["misses"]) == (before["hits"], before["misses"])
        assert s["rgb"].resident(0, 48).tolist() == []      # per sequence
        with pytest.raises(ValueError):
            q.resident(-1)
        with pytest.raises(TypeError):
            q.resident("0")
    with pytest.raises(ValueError):
        q.resident()                       # a closed store


def test_store_with_its_own_cache(store_copy):
    import pickle
    shared = reel.memory_stats()["misses"]
    budget = 6 * (320 * 240 + 4096)
    s = reel.open(store_copy, cache_bytes=budget)
    assert s.cache_bytes == budget and reel.open(store_copy).cache_bytes is None
    s.set_readahead(workers=0, window=1)
    q = s["gray"]
    want = [np.array(q[i]) for i in range(12)]           # twice the budget
    st = s.cache_stats()
    assert st["budget"] == budget and st["misses"] == 12 and st["resident_bytes"] <= budget
    assert q.cache_stats()["budget"] == budget
    assert reel.memory_stats()["misses"] == shared        # the process's RAM tier saw nothing
    assert pickle.loads(pickle.dumps(s)).cache_bytes == budget
    held = q[11]                                          # pinned in the store's cache
    s.close()
    with pytest.raises(ValueError):
        s.cache_stats()
    assert np.array_equal(held, want[11])                 # still valid: the cache outlives it
    del held                                              # the last array: file, then cache, go
    with reel.open(store_copy, cache_bytes=0) as z:       # a budget of 0 still reads
        assert np.array_equal(z["gray"][3], want[3]) and z.cache_bytes == 0
    with pytest.raises(ValueError, match="cache_bytes"):
        reel.open(store_copy, cache_bytes=-1)
    for junk in (1.5, True, b"1MiB"):
        with pytest.raises(TypeError, match="cache_bytes"):
            reel.open(store_copy, cache_bytes=junk)
    with pytest.raises(ValueError, match="cache_bytes: size 'lots'"):
        reel.open(store_copy, cache_bytes="lots")
    for size, want in (("1MiB", 1 << 20), (np.int64(4096), 4096), ("1%", reel.parse_size("1%"))):
        with reel.open(store_copy, cache_bytes=size) as z:   # size strings, shares, numpy ints
            assert z.cache_bytes == want and z.cache_stats()["budget"] == want
    z = reel.open(store_copy, cache_bytes="2MiB")
    z.close()
    assert z.cache_bytes == 2 << 20     # told after close too (the cache may be gone)


def test_cache_bytes_while_another_thread_closes(store_copy):
    """Store.cache_bytes and close() from several threads at once: cache_bytes never reads the
    store's RAM tier, which a close may be freeing with the GIL released."""
    import threading
    for _ in range(20):
        s = reel.open(store_copy, cache_bytes="4MiB")
        s["gray"][3]
        seen, go = [], threading.Event()

        def poll():
            go.wait()
            for _ in range(200):
                seen.append(s.cache_bytes)

        threads = [threading.Thread(target=poll) for _ in range(2)]
        threads += [threading.Thread(target=lambda: (go.wait(), s.close())) for _ in range(2)]
        for t in threads:
            t.start()
        go.set()
        for t in threads:
            t.join()
        assert s.closed and set(seen) == {4 << 20}


def test_strict_and_pressure(stores):
    with reel.open(stores) as s:
        q = s["rgb"]
        try:
            reel.set_strict(True)
            with reel.memory_budget(q.info["frame_size"] + 8192):
                a = q[0]
                with pytest.raises(reel.FullError):
                    q[1]
                del a
                q[1]
        finally:
            reel.set_strict(False)
        with pytest.raises(ValueError):
            reel.memory_pressure("severe")
    # in an interpreter of its own: a critical cut leaves the process's RAM tier with an
    # effective budget of 0 for seconds, which would make the tests after this one miss
    r = run_python("""
        import sys, reel
        with reel.open(sys.argv[1]) as s:
            s["rgb"][2]
            n = reel.memory_stats()["pressure_events"]
            reel.memory_pressure("critical")
            st = reel.memory_stats()
            assert st["pressure_events"] == n + 1 and st["effective_budget"] == 0, st
            reel.monitor_memory_pressure(interval_ms=50)
            reel.stop_memory_monitor()
        print("ok")
        """, stores)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


def test_budget_shares():
    limit = reel._memory_limit()
    assert limit > 0
    assert reel.parse_size("50%") == limit // 2 or abs(reel.parse_size("50%") - limit / 2) < 2
    assert reel.parse_size("100 %") == limit
    with pytest.raises(ValueError):
        reel.parse_size("150%")
    old = reel.memory_stats()["budget"]
    with reel.memory_budget("1%"):
        assert reel.memory_stats()["budget"] == reel.parse_size("1%")
    assert reel.memory_stats()["budget"] == old


def test_seed_aliases(stores):
    assert reel.get_memory_stats()["budget"] == reel.memory_stats()["budget"]
    with reel.TemporaryMemorySettings(threshold_mb=64):
        assert reel.memory_stats()["budget"] == 64 << 20
    with pytest.raises(TypeError):
        reel.TemporaryMemorySettings()
    with reel.open(stores) as s:
        q = s["gray"]
        want = int(q[0:48].sum(dtype=np.int64))   # read first: process_in_batches trims after
        sums = q.process_in_batches(lambda b: int(b.sum(dtype=np.int64)), 16)
        assert len(sums) == 3 and sum(sums) == want
        assert q.cache_stats()["resident_frames"] == 0
        f = q.frame(5).load()
        assert f.loaded and np.array_equal(f.data, q[5])
