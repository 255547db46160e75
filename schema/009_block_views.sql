-- reel schema version 9: reel_frames.ref names the reference of block-wise temporal frames
-- too (reel_frame.filter = 3, BLOCKS: each block skipped, coded as its difference from the
-- frame before, or predicted in space; src/codec/blocks.c) as well as those of whole-frame
-- differences (filter = 2). The columns are those of version 7.

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
       CASE WHEN f.filter IN (2, 3) THEN f.idx - 1 END AS ref
FROM reel_frame AS f
JOIN reel_sequence AS s ON s.id = f.seq_id
LEFT JOIN reel_access AS a ON a.seq_id = f.seq_id AND a.idx = f.idx;
