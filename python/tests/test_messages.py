"""Messages of published-store locations: no URL userinfo (a password) and no C names."""
import re

import pytest

import reel

SECRET_URL = "http://alice:s3cret@127.0.0.1:9/none"  # port 9: nothing listens (discard)


def _text(e):
    return str(e) + repr(e.args)


def test_published_store_for_writing_names_no_password_and_no_c_flag():
    with pytest.raises(reel.ReadOnlyError) as ei:
        reel.open(SECRET_URL, mode="w")
    t = _text(ei.value)
    assert "s3cret" not in t and "alice" not in t
    assert "mode='r'" in t
    assert not re.search(r"REEL_[A-Z_]+", t)


def test_unreachable_published_store_names_no_password(monkeypatch):
    monkeypatch.setenv("REEL_REMOTE_TIMEOUT", "5")
    with pytest.raises(reel.Error) as ei:
        reel.open(SECRET_URL)
    t = _text(ei.value)
    assert "127.0.0.1:9/none" in t
    assert "s3cret" not in t and "alice" not in t
