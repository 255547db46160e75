/* source.h - the import records (source.c): a sequence's reel_source row, which makes imports
 * idempotent and resumable, and its reel_claim row, which keeps two imports apart
 * (schema/003_source.sql, 005_claims.sql). */
#ifndef REEL_STORE_SOURCE_H
#define REEL_STORE_SOURCE_H

#include "base/common.h"
#include "store/store.h"

typedef struct reel__source {
    const char *path;
    int64_t size;
    char hash[17];
    char options[256];
    const char *codec;
    int stream;
    int rotation, rotated;
    int64_t frames_expected; /* -1 when unknown */
    int64_t token;           /* this import's mark on its claim of the sequence */
} reel__source;

/* In one writer transaction: find or make sequence name (params p) for an import of src and
 * claim it (src->token). *id: the sequence; *replaced: the id of a sequence deleted for it
 * (replace), else -1. REEL_DONE when a finished import of the same file and options holds it,
 * REEL_EXISTS on a conflict unless replace, REEL_BUSY when another import that runs claims it. */
REEL__HIDDEN int reel__source_claim(reel__sdb *d, const char *name, const reel_seq_params *p,
                                    const reel__source *src, int replace, int64_t *replaced,
                                    int64_t *id);
/* Delete the claim of sequence seq_id with token (a failure leaves it to be taken over). */
REEL__HIDDEN void reel__source_unclaim(reel__sdb *d, int64_t seq_id, int64_t token);
/* Mark the import of sequence seq_id complete (truncated or not), its frames coded with codec
 * (its name) in the end. */
REEL__HIDDEN int reel__source_complete(reel__sdb *d, int64_t seq_id, int truncated,
                                       const char *codec);

#endif
