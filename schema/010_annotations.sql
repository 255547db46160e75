-- reel schema version 10: annotations, per-frame data kept beside the frames (README,
-- "Annotations"). A row is one value under one key for one frame of one sequence, keyed by the
-- sequence's id (never its name, which `import --replace` reuses). reel_sequence ids are not
-- AUTOINCREMENT: a new sequence may get the id of a removed one. So no annotation may outlive
-- its sequence under that id: removing a sequence (reel rm, import --replace, a publish's
-- unchosen sequences) removes its annotations in the same statement, or, when
-- reel_meta('annotations.on_remove') = 'orphan', keeps them with seq_id NULL (joined to no
-- frames), orphan_of the old id and source_hash naming the frames they were written for. A
-- later import of the same content with the same options (the same frames, the same indexes)
-- takes them back.

CREATE TABLE reel_annotation(
    seq_id      INTEGER REFERENCES reel_sequence(id),  -- NULL: orphaned
    idx         INTEGER NOT NULL CHECK (typeof(idx) = 'integer' AND idx >= 0),
    key         TEXT NOT NULL CHECK (typeof(key) = 'text' AND length(CAST(key AS BLOB)) BETWEEN 1 AND
                                 255),
    kind        TEXT NOT NULL CHECK (kind = 'json' OR kind = 'blob'),
    value       NOT NULL,  -- kind 'json': JSON text; 'blob': little-endian array of dtype
    -- (CASE, not IN: an IN list is built again at every run of an INSERT)
    dtype       TEXT CHECK (dtype IS NULL OR CASE dtype WHEN 'bool' THEN 1 WHEN 'int8' THEN 1
                            WHEN 'uint8' THEN 1 WHEN 'int16' THEN 1 WHEN 'uint16' THEN 1
                            WHEN 'int32' THEN 1 WHEN 'uint32' THEN 1 WHEN 'int64' THEN 1
                            WHEN 'uint64' THEN 1 WHEN 'float16' THEN 1 WHEN 'float32' THEN 1
                            WHEN 'float64' THEN 1 ELSE 0 END),
    shape       TEXT CHECK (shape IS NULL OR (json_valid(shape) AND json_type(shape) = 'array')),
    producer    TEXT,      -- who wrote it (a model, a tool, a person)
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    source_hash TEXT,      -- set when orphaned: reel_source's hash and options of the frames
    orphan_of   INTEGER,   -- set when orphaned: the removed sequence's id
    CHECK (kind = 'blob' OR (typeof(value) = 'text' AND json_valid(value))),
    CHECK (kind = 'json' OR typeof(value) = 'blob'),
    CHECK ((dtype IS NULL) = (kind = 'json') AND (shape IS NULL OR dtype IS NOT NULL)),
    CHECK ((seq_id IS NULL) = (orphan_of IS NOT NULL)),
    UNIQUE (seq_id, idx, key)
);

-- one key along a sequence (a whole column as one array), in frame order
CREATE INDEX reel_annotation_key ON reel_annotation(seq_id, key, idx);
-- orphans, found again by the frames they were written for
CREATE INDEX reel_annotation_orphan ON reel_annotation(source_hash) WHERE seq_id IS NULL;

-- SQLite does not enforce REFERENCES unless PRAGMA foreign_keys is on: an annotation of a
-- sequence that does not exist (yet) would join the frames of whichever sequence gets that id.
CREATE TRIGGER reel_annotation_insert BEFORE INSERT ON reel_annotation
WHEN NEW.seq_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM reel_sequence WHERE id = NEW.seq_id)
BEGIN
    SELECT RAISE(ABORT, 'reel_annotation: no sequence has this seq_id');
END;
CREATE TRIGGER reel_annotation_update BEFORE UPDATE OF seq_id ON reel_annotation
WHEN NEW.seq_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM reel_sequence WHERE id = NEW.seq_id)
BEGIN
    SELECT RAISE(ABORT, 'reel_annotation: no sequence has this seq_id');
END;

-- A sequence's source row goes before the sequence (reel rm, --replace): its annotations
-- learn which frames they were written for, in case they are orphaned.
CREATE TRIGGER reel_annotation_source_gone AFTER DELETE ON reel_source
BEGIN
    UPDATE reel_annotation SET source_hash = OLD.hash || ' ' || OLD.options
    WHERE seq_id = OLD.seq_id;
END;

-- A sequence removed: its annotations are orphaned or removed with it.
CREATE TRIGGER reel_annotation_sequence_gone AFTER DELETE ON reel_sequence
BEGIN
    UPDATE reel_annotation
    SET seq_id = NULL, orphan_of = OLD.id,
        source_hash = coalesce(source_hash, (SELECT hash || ' ' || options FROM reel_source
                                             WHERE seq_id = OLD.id))
    WHERE seq_id = OLD.id
      AND (SELECT value FROM reel_meta WHERE key = 'annotations.on_remove') = 'orphan';
    DELETE FROM reel_annotation WHERE seq_id = OLD.id;
END;

-- An import of the same content with the same options: the orphans of those frames come back
-- (when two removed sequences left values under the same key for the same frame, one comes
-- back and the other stays orphaned).
CREATE TRIGGER reel_annotation_source_back AFTER INSERT ON reel_source
BEGIN
    UPDATE OR IGNORE reel_annotation
    SET seq_id = NEW.seq_id, orphan_of = NULL, source_hash = NULL
    WHERE seq_id IS NULL AND source_hash = NEW.hash || ' ' || NEW.options;
END;

-- Frames with their annotations: one row per annotation whose frame exists. Driven by the
-- annotations (a sequence, then its annotations by index, then each one's frame by primary
-- key): the frame table is searched, never scanned.
CREATE VIEW reel_frame_annotations AS
SELECT s.name                                    AS sequence,
       a.idx                                     AS idx,
       f.pts                                     AS pts,
       CAST(f.pts AS REAL) * s.tb_num / s.tb_den AS time_s,
       a.key                                     AS key,
       a.kind                                    AS kind,
       a.value                                   AS value,
       a.dtype                                   AS dtype,
       a.shape                                   AS shape,
       a.producer                                AS producer,
       a.created_at                              AS created_at
FROM reel_sequence AS s
CROSS JOIN reel_annotation AS a
CROSS JOIN reel_frame AS f
WHERE a.seq_id = s.id AND f.seq_id = a.seq_id AND f.idx = a.idx;
