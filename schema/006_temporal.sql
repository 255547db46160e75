-- reel schema version 6: the temporal codec mode. A sequence records how its frames are coded:
-- 'intra' (each frame alone, as every sequence before this version) or 'temporal' (a frame
-- may be coded as its difference from the frame before it, reel_frame.filter = 2, with a
-- frame that needs no reference at least every keyint frames). Stores of version 5 are
-- 'intra' with keyint 1 and read unchanged.

ALTER TABLE reel_sequence ADD COLUMN codec TEXT NOT NULL DEFAULT 'intra';
ALTER TABLE reel_sequence ADD COLUMN keyint INTEGER NOT NULL DEFAULT 1;
