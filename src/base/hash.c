/*
 * hash.c - the per-frame checksum: XXH64 with seed 0, from Debian's libxxhash. The value is
 * stored in every frame row, so it must never change; tests/check_codec.c checks the published
 * test vectors and tests/fixtures/v1-hash.reel holds frames checksummed by reel's own former
 * implementation.
 */
#include "config.h"

#include <xxhash.h>

#include "base/hash.h"

uint64_t reel__checksum(const void *data, size_t len)
{
    return (uint64_t)XXH64(data, len, 0);
}
