"""reel.import_video: results, progress, idempotence, and Ctrl-C keeping committed frames."""

import os
import signal
import subprocess
import sys
import textwrap
import time

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
