/* hash.h - the per-frame checksum (hash.c). */
#ifndef REEL_BASE_HASH_H
#define REEL_BASE_HASH_H

#include "base/common.h"

/* 64-bit checksum of raw pixels (XXH64, seed 0). Stored in every frame row: never changes. */
REEL__HIDDEN uint64_t reel__checksum(const void *data, size_t len);

#endif
