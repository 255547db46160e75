-- reel schema version 8: a frame's checksum covers its geometry. reel_frame.checksum_v says
-- what the checksum is: 1 (every frame before this version), the XXH64 of the raw pixels;
-- 2, that XXH64 XOR a 64-bit mix of the sequence's width, height and pixel format
-- (src/store/frame.h, reel__geom_mask), so that a width and height edited to other values of
-- the same frame size (320x240 to 240x320) make every frame fail its check. Frames of
-- version 1 read as before.

ALTER TABLE reel_frame ADD COLUMN checksum_v INTEGER NOT NULL DEFAULT 1;
