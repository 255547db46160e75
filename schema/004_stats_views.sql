-- reel schema version 4: views for looking at access patterns from the sqlite3 shell.

-- Frames that were ever read, the most read first.
CREATE VIEW reel_hot_frames AS
SELECT s.name                                            AS sequence,
       a.idx                                             AS idx,
       a.count                                           AS access_count,
       strftime('%Y-%m-%dT%H:%M:%fZ', a.last_access / 1000.0, 'unixepoch') AS last_access,
       f.pts                                             AS pts,
       CAST(f.pts AS REAL) * s.tb_num / s.tb_den         AS time_s
FROM reel_access AS a
JOIN reel_sequence AS s ON s.id = a.seq_id
LEFT JOIN reel_frame AS f ON f.seq_id = a.seq_id AND f.idx = a.idx
ORDER BY a.count DESC, s.name, a.idx;

-- One row per sequence: sizes, accesses, how much of it was ever read, frame statuses.
CREATE VIEW reel_sequence_stats AS
SELECT s.name                                            AS sequence,
       s.frames                                          AS frames,
       s.raw_bytes                                       AS raw_bytes,
       s.stored_bytes                                    AS stored_bytes,
       CASE WHEN s.stored_bytes > 0
            THEN round(CAST(s.raw_bytes AS REAL) / s.stored_bytes, 3) END AS ratio,
       coalesce((SELECT sum(a.count) FROM reel_access AS a WHERE a.seq_id = s.id), 0)
                                                         AS accesses,
       (SELECT count(*) FROM reel_access AS a WHERE a.seq_id = s.id AND a.count > 0)
                                                         AS frames_read,
       CASE WHEN s.frames > 0
            THEN round(CAST((SELECT count(*) FROM reel_access AS a
                             WHERE a.seq_id = s.id AND a.count > 0) AS REAL) / s.frames, 4)
       END                                               AS share_read,
       (SELECT count(*) FROM reel_frame AS f WHERE f.seq_id = s.id AND f.status = 0) AS ok,
       (SELECT count(*) FROM reel_frame AS f WHERE f.seq_id = s.id AND f.status = 1) AS skipped,
       (SELECT count(*) FROM reel_frame AS f WHERE f.seq_id = s.id AND f.status = 2) AS repeated,
       (SELECT count(*) FROM reel_frame AS f WHERE f.seq_id = s.id AND f.status = 3) AS black
FROM reel_sequence AS s;
