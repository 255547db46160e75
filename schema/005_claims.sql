-- reel schema version 5: who is importing into a sequence right now, so that a second import
-- of the same sequence (two cron jobs, say) refuses with a clear message instead of racing the
-- first one and removing its work. A claim of a process that no longer runs is taken over
-- (the import resumes); one of another host is respected.

CREATE TABLE reel_claim(
    seq_id     INTEGER PRIMARY KEY,                 -- reel_sequence.id
    pid        INTEGER NOT NULL,                    -- the importing process
    host       TEXT NOT NULL,                       -- its host name
    token      INTEGER NOT NULL,                    -- that import's own mark
    claimed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
