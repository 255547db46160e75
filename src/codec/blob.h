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
    const void *ref;       /* a temporal frame's reference, decoded (NULL: none at hand) */
} reel__stored;

/* Decode s into dst (frame_size bytes): REEL_OK, REEL_NODATA (skipped at import),
 * REEL_CORRUPT / REEL_UNSUPPORTED / REEL_NOMEM with a message naming sequence and frame. */
REEL__HIDDEN int reel__stored_decode(reel__codec *c, const reel__stored *s, void *dst);

/* The most frames one read may have to decode: a temporal frame's chain of references back to
 * a frame that needs none. Encoders stay far below it (reel_seq_params.keyint <= 64); a
 * longer chain in a file is damage (REEL_CORRUPT), not work to do. */
#define REEL__MAX_CHAIN 256

/* Where the earlier frames of a sequence come from when a temporal frame needs its chain. */
typedef struct reel__chain_src {
    void *ctx;
    /* The row of frame idx into *s (its blob valid until the next call of row or kind), with
     * seq_name, index, geom and frame_size filled; REEL_OK or an error (message set). */
    int (*row)(void *ctx, int64_t idx, reel__stored *s);
    /* The filter id of frame idx's row, without reading its blob. */
    int (*kind)(void *ctx, int64_t idx, int *filter);
    /* The decoded pixels of frame idx when the caller holds them (the RAM tier's resident
     * frames), kept until release(ctx, token); NULL otherwise. May be NULL. */
    const void *(*have)(void *ctx, int64_t idx, void **token);
    void (*release)(void *ctx, void *token);
} reel__chain_src;

/*
 * Decode frame s->index, whose row is s (read from a statement src does not use), into dst.
 * A temporal frame's reference comes from src->have, or is decoded from the nearest earlier
 * frame that needs none (or that have() holds), forward, in two scratch frames. An error in
 * the chain names the frame read and the reference that failed.
 */
REEL__HIDDEN int reel__chain_decode(reel__codec *c, const reel__chain_src *src,
                                    const reel__stored *s, void *dst);

#endif
