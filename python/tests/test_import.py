"""reel.import_video: results, progress, idempotence, and Ctrl-C keeping committed frames."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import reel
from conftest import python_env


def test_import_progress_and_idempotence(tmp_path, media):
    seen = []
    r = reel.import_video(tmp_path / "s.reel", media["small"], sequence="a",
                          progress=lambda p: seen.append(p))
    assert r["frames"] == 48 and r["pix_fmt"] == "rgb24" and r["size"] == (320, 240)
    assert seen and seen[-1]["frames_done"] == 48 and seen[-1]["sequence"] == "a"
    again = reel.import_video(tmp_path / "s.reel", media["small"], sequence="a", progress=False)
    assert again["done"] and again["frames"] == 48
    try:   # a callback returning True stops the import; what was committed stays
        reel.import_video(tmp_path / "t.reel", media["long"], sequence="b",
                          progress=lambda p: p["frames_done"] > 0)
    except reel.InterruptedImport as e:
        assert e.code == 14
    else:
        raise AssertionError("the import should have stopped")
    with reel.open(tmp_path / "t.reel") as s:
        assert 0 < len(s["b"]) < 400


def test_ctrl_c_keeps_committed_frames_and_resumes(tmp_path, media):
    store = tmp_path / "c.reel"
    code = textwrap.dedent(f"""
        import reel
        reel.import_video({str(store)!r}, {str(media['long'])!r}, sequence="v", workers=1,
                          progress=False)
    """)
    p = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, env=python_env())
    deadline = time.time() + 30
    while time.time() < deadline and not (store.exists() and store.stat().st_size > 200000):
        time.sleep(0.05)
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    err = p.communicate(timeout=60)[1].decode()
    assert p.returncode != 0 and "KeyboardInterrupt" in err, err
    r = reel.import_video(store, media["long"], sequence="v", progress=False)
    assert 0 < r["resumed_from"] < 400 and r["frames"] == 400


def test_failed_import_leaves_no_store(tmp_path, media):
    """A failed import_video removes the store file it created itself (nothing committed),
    never a file that was there before."""
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    fresh = tmp_path / "fresh.reel"
    for video, cls in [(junk, reel.UnsupportedError), (tmp_path / "gone.mp4", FileNotFoundError)]:
        with pytest.raises(cls):
            reel.import_video(fresh, video, progress=False)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.mp4"]
    empty = tmp_path / "empty.reel"     # a store that existed, with no sequence
    reel.open(empty, mode="w").close()
    before = empty.read_bytes()
    with pytest.raises(reel.UnsupportedError):
        reel.import_video(empty, junk, progress=False)
    assert empty.read_bytes() == before
    full = tmp_path / "full.reel"       # one with a sequence
    assert reel.import_video(full, media["small"], progress=False)["frames"] == 48
    with pytest.raises(reel.UnsupportedError):
        reel.import_video(full, junk, sequence="second", progress=False)
    with reel.open(full) as s:
        assert s.sequences == ["small"] and len(s["small"]) == 48
