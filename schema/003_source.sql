-- reel schema version 3: where each imported sequence came from, so that imports are
-- idempotent (same file, same options: nothing to do) and resumable (after a kill, the rerun
-- continues from the last committed frame).

CREATE TABLE reel_source(
    seq_id          INTEGER PRIMARY KEY,          -- reel_sequence.id
    path            TEXT NOT NULL,                -- as given to the import
    size            INTEGER NOT NULL,             -- bytes
    hash            TEXT NOT NULL,                -- XXH64 over the XXH64s of 1 MiB chunks, hex
    options         TEXT NOT NULL,                -- canonical import options
    codec           TEXT,                         -- the source stream's codec
    stream          INTEGER NOT NULL,             -- the source stream's index
    rotation        INTEGER NOT NULL DEFAULT 0,   -- display rotation in degrees (clockwise)
    rotated         INTEGER NOT NULL DEFAULT 0,   -- 1 when the rotation was applied to pixels
    frames_expected INTEGER,                      -- from the container; NULL when unknown
    complete        INTEGER NOT NULL DEFAULT 0,   -- 1 when every frame is committed
    truncated       INTEGER NOT NULL DEFAULT 0,   -- 1 when the file ended early
    started_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    finished_at     TEXT
);
