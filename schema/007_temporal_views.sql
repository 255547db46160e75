-- reel schema version 7: the views show the codec of each sequence (reel_sequences.codec) and
-- the reference of each frame (reel_frames.ref: the index of the frame a temporal frame is
-- predicted from, NULL for a frame that needs none). New columns come last: queries that
-- name their columns, or read them by position, keep working.

DROP VIEW IF EXISTS reel_sequences;
CREATE VIEW reel_sequences AS
SELECT s.name                                   AS name,
       s.width                                  AS width,
       s.height                                 AS height,
       s.pix_fmt                                AS pix_fmt,
       s.frames                                 AS frames,
       s.raw_bytes                              AS raw_bytes,
       s.stored_bytes                           AS stored_bytes,
       CASE WHEN s.stored_bytes > 0
            THEN round(CAST(s.raw_bytes AS REAL) / s.stored_bytes, 3) END AS ratio,
       s.source                                 AS source,
       s.created_at                             AS created_at,
       s.codec                                  AS codec,
       s.keyint                                 AS keyint
FROM reel_sequence AS s;

DROP VIEW IF EXISTS reel_frames;
CREATE VIEW reel_frames AS
SELECT s.name                                   AS sequence,
       f.idx                                    AS idx,
       f.pts                                    AS pts,
       CAST(f.pts AS REAL) * s.tb_num / s.tb_den AS time_s,
       f.duration                               AS duration,
       f.flags & 1                              AS keyframe,
       CASE f.status WHEN 0 THEN 'ok' WHEN 1 THEN 'skipped' WHEN 2 THEN 'repeated'
                     WHEN 3 THEN 'black' ELSE 'unknown' END AS status,
       f.raw_bytes                              AS raw_bytes,
       f.stored_bytes                           AS stored_bytes,
       coalesce(a.count, 0)                     AS access_count,
       CASE WHEN a.last_access IS NOT NULL
            THEN strftime('%Y-%m-%dT%H:%M:%fZ', a.last_access / 1000.0, 'unixepoch') END
                                                AS last_access,
       CASE WHEN f.filter = 2 THEN f.idx - 1 END AS ref
FROM reel_frame AS f
JOIN reel_sequence AS s ON s.id = f.seq_id
LEFT JOIN reel_access AS a ON a.seq_id = f.seq_id AND a.idx = f.idx;
