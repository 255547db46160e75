-- reel schema version 1: the base tables.
-- Every object reel creates starts with "reel_"; a user's own tables in the same file must use
-- another prefix, and reel's migrations never touch them.

CREATE TABLE reel_meta(
    key   TEXT PRIMARY KEY NOT NULL,
    value
) WITHOUT ROWID;

-- One row per sequence; frames/raw_bytes/stored_bytes are kept current by every append, in the
-- same transaction, so listing sequences never scans frames.
CREATE TABLE reel_sequence(
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    pix_fmt      TEXT NOT NULL,
    tb_num       INTEGER NOT NULL,
    tb_den       INTEGER NOT NULL,
    source       TEXT,
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    frames       INTEGER NOT NULL DEFAULT 0,
    raw_bytes    INTEGER NOT NULL DEFAULT 0,
    stored_bytes INTEGER NOT NULL DEFAULT 0
);

-- Compressed pixels, written once and never updated: nothing that changes after import lives
-- in these rows (SQLite rewrites a whole row, overflow pages included, on any UPDATE).
CREATE TABLE reel_blob(
    id   INTEGER PRIMARY KEY,
    data BLOB NOT NULL
);

-- Per-frame metadata: small rows, one B-tree keyed by (sequence, index).
-- filter and level say how the blob was made, so old stores stay readable when defaults change.
CREATE TABLE reel_frame(
    seq_id       INTEGER NOT NULL,
    idx          INTEGER NOT NULL,
    pts          INTEGER NOT NULL,
    duration     INTEGER NOT NULL,
    flags        INTEGER NOT NULL,
    status       INTEGER NOT NULL,
    filter       INTEGER NOT NULL,
    level        INTEGER NOT NULL,
    checksum     INTEGER NOT NULL, -- XXH64 of the raw pixels
    raw_bytes    INTEGER NOT NULL, -- 0 when the frame has no pixels
    stored_bytes INTEGER NOT NULL,
    blob_id      INTEGER,
    PRIMARY KEY(seq_id, idx)
) WITHOUT ROWID;

CREATE UNIQUE INDEX reel_frame_pts ON reel_frame(seq_id, pts);

-- Access counts: the only per-frame data that changes after import, kept apart from the blobs.
CREATE TABLE reel_access(
    seq_id      INTEGER NOT NULL,
    idx         INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    last_access INTEGER NOT NULL, -- Unix time in milliseconds
    PRIMARY KEY(seq_id, idx)
) WITHOUT ROWID;
