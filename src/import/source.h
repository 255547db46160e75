/* source.h - where an imported sequence came from (source.c) around the import records of
 * store/source.c (the reel_source table), which make imports idempotent and resumable. */
#ifndef REEL_IMPORT_SOURCE_H
#define REEL_IMPORT_SOURCE_H

#include "base/common.h"
#include "store/source.h"

/* Size and content hash (hex XXH64 over the XXH64s of 1 MiB chunks) of a regular file.
 * tick(ctx, bytes) is called every 64 MiB (may be NULL); non-zero stops it (REEL_INTERRUPTED). */
REEL__HIDDEN int reel__file_hash(const char *path, int64_t *size, char hex[17],
                                 int (*tick)(void *ctx, int64_t bytes), void *ctx);
/*
 * Find or make the sequence an import of src goes into and claim it for this import (its
 * reel_claim row, with src->token): REEL_OK with *seq open and *resume the frames already
 * committed (0 for a new sequence); REEL_DONE (with *seq open) when a finished import of the
 * same file and options is there; REEL_EXISTS on a conflict unless replace; REEL_BUSY when
 * another import that still runs claims it.
 */
REEL__HIDDEN int reel__source_begin(reel_store *s, const char *name, const reel_seq_params *p,
                                    const reel__source *src, int replace, reel_seq **seq,
                                    int64_t *resume);
/* Mark the import of q complete, its frames coded with codec in the end (INTRA or TEMPORAL). */
REEL__HIDDEN int reel__source_finish(reel_seq *q, int truncated, int codec);
/* Give up this import's claim of q (whatever the outcome). */
REEL__HIDDEN void reel__source_release(reel_store *s, int64_t seq_id, int64_t token);

#endif
