"""Two reel.open() of one store file share one set of cached frames (libreel's share of a file
in a cache): the second open's first read of a frame is a cache hit, and closing one open
leaves the other reading."""

import numpy as np

import reel


def test_two_opens_share_frames(store_copy):
    a = reel.open(store_copy)
    b = reel.open(store_copy)
    a.set_readahead(workers=0, window=1)   # only the reads below load frames
    b.set_readahead(workers=0, window=1)
    qa, qb = a["gray"], b["gray"]
    fa = np.array(qa[5])
    st = qb.cache_stats()
    assert (st["misses"], st["hits"]) == (1, 0)
    fb = np.array(qb[5])                   # b's first read: a's frame, not a second decode
    st = qb.cache_stats()
    assert (st["misses"], st["hits"], st["loads"]) == (1, 1, 1)
    assert np.array_equal(fa, fb)
    a.close()
    assert np.array_equal(np.array(qb[5]), fa)
    assert qb.cache_stats()["misses"] == 1
    b.close()
