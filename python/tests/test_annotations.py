"""seq.annotations and store.sql(): per-frame values (numpy arrays, JSON) written and read for
one frame, many frames or all of them, the errors a user expects, hostile rows, the C side
(reel annotate, the SQL view) agreeing, and writes beside a running import."""

import json
import sqlite3
import subprocess
import time

import numpy as np
import pytest

import reel


def keypoints(n, seed=0):
    return np.random.default_rng(seed).random((n, 17, 3), dtype=np.float32) * 640


def test_sql_read_only_and_writable(store_copy):
    with reel.open(store_copy, "r") as s:
        db = s.sql()
        assert db.execute("SELECT count(*) FROM reel_sequences").fetchone()[0] == 5
        assert db.execute("SELECT count(*) FROM reel_frame_annotations").fetchone()[0] == 0
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            db.execute("INSERT INTO reel_meta VALUES('x', 1)")
        db.close()
        with pytest.raises(reel.ReadOnlyError, match="opened for reading"):
            s.sql(writable=True)
    with reel.open(store_copy, "w") as s:
        db = s.sql(writable=True)
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        db.execute("INSERT INTO reel_annotation(seq_id, idx, key, kind, value) SELECT id, 1, "
                   "'tag', 'json', '\"walk\"' FROM reel_sequence WHERE name = 'rgb'")
        db.commit()
        db.close()
        assert s["rgb"].annotations["tag"][1] == "walk"
    with pytest.raises(reel.StoreClosedError):
        s.sql()


def test_one_frame(store_copy):
    with reel.open(store_copy, "w") as s:
        ann = s["rgb"].annotations
        kp = keypoints(1)[0]
        ann["kp"][3] = kp
        ann["label"][3] = {"action": "walk", "people": 1}
        got = ann["kp"][3]
        assert got.dtype == np.float32 and got.shape == (17, 3)
        np.testing.assert_array_equal(got, kp)
        got[0, 0] = -1  # a copy of its own
        assert ann["label"][3] == {"action": "walk", "people": 1}
        ann["label"][3] = "run"  # replaced
        assert ann["label"][3] == "run"
        assert ann.keys() == ["kp", "label"] and "kp" in ann and "nope" not in ann
        assert 3 in ann["kp"] and 4 not in ann["kp"] and len(ann["kp"]) == 1
        ann["scalar"][0] = np.int64(7)
        assert ann["scalar"][0] == 7 and ann["scalar"][0].shape == ()
        ann["be"][0] = np.arange(4, dtype=">u2")  # stored little-endian, read as native
        np.testing.assert_array_equal(ann["be"][0], np.arange(4))
        with pytest.raises(reel.AnnotationNotFoundError, match="'kp' frame 4: not set"):
            ann["kp"][4]
        with pytest.raises(KeyError):
            ann["kp"][4]
        with pytest.raises(reel.NotFoundError):
            ann["kp"][4]
        del ann["kp"][3]
        with pytest.raises(KeyError):
            del ann["kp"][3]
        assert ann.count() == 3
        del ann["label"]
        assert ann.keys() == ["be", "scalar"]


def test_many_frames_one_array(store_copy):
    with reel.open(store_copy, "w") as s:
        seq = s["gray"]
        col = seq.annotations["keypoints"]
        kp = keypoints(len(seq))
        col[:] = kp  # every frame, one transaction
        got = col[:]
        assert got.dtype == np.float32 and got.shape == (48, 17, 3)
        np.testing.assert_array_equal(got, kp)
        got[0] = 0  # writable
        np.testing.assert_array_equal(col[[5, 2, 5]], kp[[5, 2, 5]])
        np.testing.assert_array_equal(col[np.array([40, 1])], kp[[40, 1]])
        np.testing.assert_array_equal(col[10:20:3], kp[10:20:3])
        frames, values = col.all()
        assert frames.tolist() == list(range(48))
        np.testing.assert_array_equal(values, kp)
        col[[1, 2]] = np.zeros((2, 17, 3), np.float32)
        np.testing.assert_array_equal(col[1:3], 0)
        del col[[1, 2]]
        assert col.frames().tolist() == [0] + list(range(3, 48))
        with pytest.raises(reel.AnnotationNotFoundError, match="frame 1"):
            col[0:3]
        seq.annotations["tags"] = {0: "a", 5: ["b", 1]}
        assert seq.annotations["tags"][[5, 0]] == [["b", 1], "a"]
        frames, values = seq.annotations["tags"].all()
        assert frames.tolist() == [0, 5] and values == ["a", ["b", 1]]
        # the view and the CLI's reading see the same rows
        db = s.sql()
        assert db.execute("SELECT count(*) FROM reel_frame_annotations WHERE sequence = 'gray' "
                          "AND key = 'keypoints'").fetchone()[0] == 46
        db.close()


def test_bad_arguments(store_copy):
    with reel.open(store_copy, "w") as s:
        ann = s["rgb"].annotations
        with pytest.raises(TypeError, match="key is a str"):
            ann[3]
        with pytest.raises(ValueError, match="1..255 bytes"):
            ann[""]
        with pytest.raises(ValueError, match="1..255 bytes"):
            ann["k" * 256]
        with pytest.raises(IndexError, match=">= 0"):
            ann["k"][-1] = 1
        with pytest.raises(TypeError, match="an integer"):
            ann["k"]["x"] = 1
        with pytest.raises(TypeError, match="an integer"):
            ann["k"][True] = 1
        with pytest.raises(TypeError, match="complex128 cannot be stored"):
            ann["k"][0] = np.zeros(3, np.complex128)
        with pytest.raises(TypeError, match="neither a numpy array nor a JSON value"):
            ann["k"][0] = object()
        with pytest.raises(TypeError, match="neither"):
            ann["k"][0] = float("nan")
        with pytest.raises(ValueError, match="3 frames"):
            ann["k"][[0, 1, 2]] = np.zeros((2, 4), np.float32)
        with pytest.raises(ValueError, match="2 frames, 1 values"):
            ann["k"][[0, 1]] = ["a"]
        with pytest.raises(TypeError):
            ann["k"] = [1, 2]
        with pytest.raises(TypeError, match="an integer, not set"):
            ann["k"][{1}]
        # a failed many-frame write leaves nothing
        with pytest.raises(TypeError):
            ann["k"][[0, 1]] = ["a", object()]
        assert ann.keys() == []


def test_hostile_rows(store_copy):
    with reel.open(store_copy, "w") as s:
        ann = s["rgb"].annotations
        ann["kp"][[0, 1]] = keypoints(2)
        db = s.sql(writable=True)
        db.execute("PRAGMA ignore_check_constraints = 1")
        sid = db.execute("SELECT id FROM reel_sequence WHERE name = 'rgb'").fetchone()[0]
        db.execute("UPDATE reel_annotation SET value = x'00' WHERE idx = 1")
        for i, (kind, value, dtype, shape) in enumerate([
                ("blob", b"\0" * 4, "float99", "[1]"), ("blob", b"\0" * 4, "float32", "[1"),
                ("json", "{nope", None, None), ("what", "1", None, None),
                ("blob", b"\0" * 4, "float32", "[-1]")]):
            db.execute("INSERT INTO reel_annotation(seq_id, idx, key, kind, value, dtype, shape) "
                       "VALUES(?, ?, 'bad', ?, ?, ?, ?)", (sid, i, kind, value, dtype, shape))
        db.commit()
        db.close()
        with pytest.raises(reel.CorruptError, match="frame 1"):
            ann["kp"][1]
        with pytest.raises(reel.CorruptError, match="sizes 1..204"):
            ann["kp"][:2]
        for i in range(5):
            with pytest.raises(reel.CorruptError, match=f"frame {i}"):
                ann["bad"][i]
        with pytest.raises(reel.CorruptError):
            ann["bad"].all()


def test_cli_and_python_agree(store_copy, reel_tool, tmp_path):
    coco = tmp_path / "coco.json"
    pts = keypoints(48, seed=3)
    images = [{"id": 1000 + i, "file_name": f"frame_{i:05d}.png"} for i in range(48)]
    anns = [{"image_id": 1000 + i, "keypoints": pts[i].reshape(-1).tolist()} for i in range(48)]
    coco.write_text(json.dumps({"images": images[::-1], "annotations": anns}))
    subprocess.run([reel_tool, "annotate", str(store_copy), "yuv", "--import", str(coco),
                    "--quiet"], check=True)
    with reel.open(store_copy, "r") as s:
        np.testing.assert_array_equal(s["yuv"].annotations["keypoints"][:], pts)
    with reel.open(store_copy, "w") as s:
        s["bgr"].annotations["kp"][[0, 7]] = pts[:2]
    out = subprocess.run([reel_tool, "annotate", str(store_copy), "bgr", "--export", "-"],
                         check=True, capture_output=True, text=True).stdout
    doc = json.loads(out)
    assert [(e["frame"], e["dtype"], e["shape"]) for e in doc["annotations"]] == \
        [(0, "float32", [17, 3]), (7, "float32", [17, 3])]
    np.testing.assert_array_equal(np.array(doc["annotations"][1]["value"], np.float32),
                                  pts[1].reshape(-1))


def test_removed_sequence(store_copy, reel_tool):
    with reel.open(store_copy, "w") as s:
        s["gray16"].annotations["tag"][0] = "x"
    subprocess.run([reel_tool, "rm", str(store_copy), "gray16"], check=True,
                   capture_output=True)
    with reel.open(store_copy, "r") as s:
        db = s.sql()
        assert db.execute("SELECT count(*) FROM reel_annotation").fetchone()[0] == 0
        db.close()


def test_writes_beside_import(store_copy, media, reel_tool):
    """Annotation writes while `reel import` writes frames into the same file never fail
    (busy waits are bounded by one import transaction)."""
    with reel.open(store_copy, "w") as s:
        col = s["rgb"].annotations["kp"]
        p = subprocess.Popen([reel_tool, "import", str(store_copy), str(media["long"]),
                              "--sequence", "long", "--quiet"], stderr=subprocess.PIPE,
                             text=True)
        n = 0
        while p.poll() is None:
            col[n % 48] = keypoints(1, seed=n)[0]
            n += 1
            # a pause between writes, as a labelling loop has: a writer committing back to
            # back can starve the import's own waits (SQLite's busy handler polls; README
            # "Writers beside readers")
            time.sleep(0.001)
        err = p.stderr.read()
        assert p.wait() == 0, err
        assert n > 0
        assert len(s["long"]) == 400
        np.testing.assert_array_equal(col[(n - 1) % 48], keypoints(1, seed=n - 1)[0])
