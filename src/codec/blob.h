/* blob.h - the one place a stored frame is checked and decoded (blob.c): the row's recorded
 * sizes against the sequence's geometry, then the codec's own checks. */
#ifndef REEL_CODEC_BLOB_H
#define REEL_CODEC_BLOB_H

#include "codec/codec.h"

/* A stored frame as read from its row: everything is untrusted. */
typedef struct reel__stored {
    const char *seq_name;  /* for messages */
    int64_t index;
    reel__geom geom;       /* the sequence's */
    size_t frame_size;     /* bytes of one frame of that geometry */
    int status;            /* REEL_STATUS_* recorded */
    int filter;
    uint64_t checksum;
    int64_t raw_bytes, stored_bytes; /* as recorded */
    const void *data;      /* the blob; NULL when the row has none */
    size_t len;
    int present;           /* the row names a blob (its column is not NULL) */
} reel__stored;

/* Decode s into dst (frame_size bytes): REEL_OK, REEL_NODATA (skipped at import),
 * REEL_CORRUPT / REEL_UNSUPPORTED / REEL_NOMEM with a message naming sequence and frame. */
REEL__HIDDEN int reel__stored_decode(reel__codec *c, const reel__stored *s, void *dst);

#endif
