"""Every error class, raised by a real condition."""

import sqlite3

import pytest

import reel


def test_missing_store(tmp_path):
    with pytest.raises(reel.NotFoundError) as e:
        reel.open(tmp_path / "nope.reel")
    assert isinstance(e.value, reel.Error) and isinstance(e.value, LookupError)
    assert e.value.code == 2 and "nope.reel" in str(e.value)


def test_bad_mode(stores):
    for bad in ["x", "rw", "R", ""]:
        with pytest.raises(reel.InvalidError) as e:    # a ValueError
            reel.open(stores, mode=bad)
        assert isinstance(e.value, ValueError)
        assert str(e.value) == f"mode='{bad}': must be 'r' or 'w'"


def test_class_codes():
    want = {"Error": 1, "NotFoundError": 2, "SequenceNotFoundError": 2, "NoSuchFileError": 2,
            "AnnotationNotFoundError": 2, "CorruptError": 3, "NoMemoryError": 4, "StoreIOError": 5, "MisuseError": 6,
            "StoreClosedError": 6, "InvalidError": 7, "UnsupportedError": 8,
            "PixelFormatError": 8, "ReadOnlyError": 9, "ExistsError": 10, "BusyError": 11,
            "FullError": 12, "NoDataError": 13, "InterruptedImport": 14, "DeniedError": 16,
            "AnnotationNotFoundError": 2}
    classes = {n: getattr(reel, n) for n in reel.__all__
               if isinstance(getattr(reel, n), type) and issubclass(getattr(reel, n), reel.Error)}
    assert set(classes) == set(want)
    for name, cls in classes.items():
        assert cls.code == want[name], name


def test_no_such_file_is_a_file_not_found(tmp_path):
    import errno
    import pickle
    path = tmp_path / "nope.reel"
    with pytest.raises(FileNotFoundError) as e:
        reel.open(path)
    assert isinstance(e.value, reel.NoSuchFileError)
    assert e.value.errno == errno.ENOENT and e.value.filename == str(path)
    assert e.value.strerror == str(e.value) and str(path) in str(e.value)
    assert "mode='w'" in str(e.value) and "REEL_" not in str(e.value)
    assert isinstance(pickle.loads(pickle.dumps(e.value)), reel.NoSuchFileError)
    video = tmp_path / "missing.mp4"
    with pytest.raises(FileNotFoundError) as e:
        reel.import_video(tmp_path / "s.reel", video, progress=False)
    assert e.value.errno == errno.ENOENT and e.value.filename == str(video)
    assert str(video) in str(e.value)
    with pytest.raises(FileNotFoundError) as e:
        reel.import_video(tmp_path / "no" / "dir" / "s.reel", video, progress=False)
    assert e.value.filename == str(tmp_path / "no" / "dir" / "s.reel")
    with pytest.raises(reel.StoreClosedError):   # raised without an instance code
        s = reel.open(tmp_path / "new.reel", mode="w")
        s.close()
        s.sequences


def test_read_only_write(stores):
    with reel.open(stores) as s:
        with pytest.raises(reel.ReadOnlyError):
            s.create_sequence("new", 16, 16)
        with pytest.raises(reel.ReadOnlyError):
            s.remove("rgb")


def test_missing_sequence_and_index(stores):
    with reel.open(stores) as s:
        with pytest.raises(KeyError):
            s["nope"]
        with pytest.raises(reel.SequenceNotFoundError):
            s["nope"]
        q = s["rgb"]
        with pytest.raises(IndexError):
            q[48]
        with pytest.raises(IndexError):
            q[-49]
        with pytest.raises(IndexError):
            q.get_batch([1, 99])
        with pytest.raises(TypeError):
            q["a"]


def test_corrupt_frame(store_copy):
    db = sqlite3.connect(store_copy)
    db.execute("UPDATE reel_blob SET data = zeroblob(length(data)) WHERE id = (SELECT blob_id "
               "FROM reel_frame f JOIN reel_sequence s ON s.id = f.seq_id "
               "WHERE s.name = 'rgb' AND f.idx = 5)")
    db.commit()
    db.close()
    with reel.open(store_copy) as s:
        q = s["rgb"]
        with pytest.raises(reel.CorruptError) as e:
            q[5]
        assert "'rgb' frame 5" in str(e.value) and e.value.code == 3
        q[4]   # frames that do not depend on it read fine
        q[8]   # (a temporal chain starts at every multiple of keyint, 4 by default)
        refs = sqlite3.connect(store_copy).execute(
            "SELECT ref FROM reel_frames WHERE sequence = 'rgb' AND idx = 6").fetchone()[0]
        if refs is not None:   # frame 6 was coded against frame 5: it says so
            with pytest.raises(reel.CorruptError) as e:
                q[6]
            assert "frame 6: its reference frame 5" in str(e.value)


def test_bad_sizes_and_values(stores):
    for bad in ["lots", "-1 MiB", "2 XB", 1.5, -3]:
        with pytest.raises(reel.InvalidError):
            reel.set_memory_budget(bad)
    with pytest.raises(ValueError):          # InvalidError is a ValueError
        reel.parse_size("two GiB")
    with reel.open(stores) as s:
        with pytest.raises(ValueError):
            s["rgb"].window(center=3, radius=-1)
        with pytest.raises(reel.UnsupportedError):
            s["rgb"].get(1, pix_fmt="rgba64")


def test_import_errors(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all" * 100)
    with pytest.raises(reel.UnsupportedError):
        reel.import_video(tmp_path / "s.reel", junk, progress=False)
    with pytest.raises(reel.NotFoundError):
        reel.import_video(tmp_path / "s.reel", tmp_path / "missing.mp4", progress=False)
    with pytest.raises(ValueError):
        reel.import_video(tmp_path / "s.reel", junk, on_error="explode", progress=False)


def test_bool_and_float_indexes(stores):
    import numpy as np
    import torch
    with reel.open(stores) as s:
        q = s["rgb"]
        for bad in [True, False, np.True_, 1.5, np.float64(2), np.array(2.0), np.array(True),
                    torch.tensor(1.5), torch.tensor(True), (1, 2)]:
            with pytest.raises(TypeError) as e:
                q[bad]
            assert str(e.value).startswith("index: an integer, a slice") and \
                "integers" in str(e.value), (bad, str(e.value))
        for bad in [[1.0, 2.0], [True, 1], np.array([1.5]), torch.tensor([0.5, 1.0])]:
            with pytest.raises(TypeError) as e:
                q[bad]
            assert str(e.value).startswith(("index: ", "indexes: ")), str(e.value)
            with pytest.raises(TypeError):
                q.get_batch(bad)
        for bad in [True, 2.0]:
            with pytest.raises(TypeError) as e:
                q.frame(bad)
            assert "index: a frame index is an integer" in str(e.value)
