"""Fixtures of the Python face's tests (test_face.py, test_time.py, test_ram_face.py,
test_torch_face.py): a store holding a sequence with a frame that failed to decode ('bad': an
MJPEG clip with one frame's headers zeroed, imported with on_error='skip'), a variable frame
rate clip ('vfr': frame n at (n + n*n/8) / 25 s) and the small clip ('rgb')."""

import sqlite3
import subprocess
import sys

import pytest

import reel
from conftest import ffmpeg


@pytest.fixture(scope="session")
def face_store(tmp_path_factory, media):
    d = tmp_path_factory.mktemp("face")
    good = d / "mjpeg.avi"
    ffmpeg(good, "testsrc2=size=160x120:rate=25,noise=alls=8:allf=t", 30, "-c:v", "mjpeg",
           "-pix_fmt", "yuvj420p")
    bad = d / "mjbad.avi"
    subprocess.run([sys.executable, "-c",
                    "import sys; d = bytearray(open(sys.argv[1], 'rb').read()); "
                    "i = [k for k in range(len(d) - 1) if d[k] == 255 and d[k + 1] == 216][15];"
                    " d[i + 2:i + 300] = bytes(298); open(sys.argv[2], 'wb').write(d)",
                    str(good), str(bad)], check=True)
    vfr = d / "vfr.mkv"
    ffmpeg(vfr, "testsrc2=size=160x120:rate=25", 24, "-vf", "setpts='(N+N*N/8)/(25*TB)'",
           "-fps_mode", "passthrough", "-c:v", "libx264", "-preset", "veryfast")
    path = d / "face.reel"
    r = reel.import_video(path, bad, sequence="bad", progress=False)
    assert r["skipped"] == 1 and r["frames"] == 30
    reel.import_video(path, vfr, sequence="vfr", progress=False)
    reel.import_video(path, media["small"], sequence="rgb", progress=False)
    reel.import_video(path, bad, sequence="badyuv", pix_fmt="native", progress=False)
    return path


def bad_index(seq):
    """The index of the one frame without pixels."""
    found = [i for i in range(len(seq)) if seq.frame(i).status != "ok"]
    assert len(found) == 1
    return found[0]


def access_total(path):
    """The accesses counted in a store file, summed over its frames (its SQL views)."""
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT sum(access_count) FROM reel_frames").fetchone()[0]
    finally:
        db.close()
