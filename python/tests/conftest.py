"""Fixtures of the Python package's tests: videos made with ffmpeg at test time, stores
imported from them, and the tools of the build tree (REEL_TOOL: the reel CLI)."""

import os
import shutil
import subprocess

import pytest

import reel

# Sanitizer builds preload the sanitizer's runtime into this interpreter (check_python.sh);
# programs started from here are sanitized binaries themselves, or Python (python_env()).
SANITIZER = os.environ.get("REEL_TEST_SANITIZER", "")
_PRELOAD = os.environ.pop("LD_PRELOAD", None)


def python_env():
    """The environment for a Python subprocess that imports reel."""
    env = dict(os.environ)
    if _PRELOAD:
        env["LD_PRELOAD"] = _PRELOAD
    return env


class python_children:
    """`with python_children():` Python processes started meanwhile (DataLoader workers) get
    the sanitizer's runtime too."""

    def __enter__(self):
        if _PRELOAD:
            os.environ["LD_PRELOAD"] = _PRELOAD

    def __exit__(self, *exc):
        os.environ.pop("LD_PRELOAD", None)


def ffmpeg(out, source, frames, *extra):
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", source,
                    "-frames:v", str(frames), *extra, str(out)], check=True)


@pytest.fixture(scope="session")
def media(tmp_path_factory):
    """Two videos: a small H.264 clip (320x240, 48 frames, GOP 12, moving pattern with noise)
    and a longer one for interruptions (640x480, 400 frames)."""
    d = tmp_path_factory.mktemp("media")
    small = d / "small.mp4"
    ffmpeg(small, "testsrc2=size=320x240:rate=25,noise=alls=8:allf=t+u", 48, "-c:v", "libx264",
           "-preset", "veryfast", "-g", "12", "-pix_fmt", "yuv420p")
    longer = d / "long.mp4"
    ffmpeg(longer, "testsrc2=size=640x480:rate=25,noise=alls=8:allf=t+u", 400, "-c:v", "libx264",
           "-preset", "ultrafast", "-g", "50", "-pix_fmt", "yuv420p")
    return {"small": small, "long": longer}


@pytest.fixture(scope="session")
def stores(tmp_path_factory, media):
    """A store with the small clip as rgb24 ('rgb'), native yuv420p ('yuv'), gray8 ('gray'),
    gray16le ('gray16') and bgr24 ('bgr'); and a copy path maker for tests that change it."""
    d = tmp_path_factory.mktemp("stores")
    path = d / "clips.reel"
    for name, fmt in [("rgb", "rgb24"), ("yuv", "native"), ("gray", "gray8"),
                      ("gray16", "gray16le"), ("bgr", "bgr24")]:
        r = reel.import_video(path, media["small"], sequence=name, pix_fmt=fmt, progress=False)
        assert r["frames"] == 48
    return path


@pytest.fixture
def store_copy(stores, tmp_path):
    """A private copy of the session's store (tests that write to it)."""
    p = tmp_path / "copy.reel"
    shutil.copy(stores, p)
    return p


@pytest.fixture(scope="session")
def reel_tool():
    tool = os.environ.get("REEL_TOOL")
    if not tool or not os.access(tool, os.X_OK):
        pytest.fail("REEL_TOOL must name the reel CLI of the build tree (tests/check_python.sh)")
    return tool
