/* sequence.h - sequences in the file (sequence.c): their rows, looked up, made, listed and
 * deleted. */
#ifndef REEL_STORE_SEQUENCE_H
#define REEL_STORE_SEQUENCE_H

#include "store/store.h"

#define REEL__MAX_NAME 255

/* What the file says of one sequence. name and source are owned (reel__seqrec_clear). */
typedef struct reel__seqrec {
    int64_t id;
    char *name;
    char *source; /* NULL when none was given */
    int width, height, pix_fmt;
    size_t frame_size;
    reel_rational time_base;
    int codec;  /* REEL_CODEC_INTRA or REEL_CODEC_TEMPORAL */
    int keyint; /* frames per chain of references: 1 (INTRA) .. REEL_MAX_KEYINT */
} reel__seqrec;

/* The name a codec has in reel_sequence.codec ("intra", "temporal"), and back (0: unknown). */
REEL__HIDDEN const char *reel__codec_name(int codec);
REEL__HIDDEN int reel__codec_from_name(const char *name);

/* Check a name (1..255 bytes of valid UTF-8) and the parameters of a new sequence (*frame_size:
 * its frames' bytes, at most max_frame; the codec INTRA or TEMPORAL, its keyint in range). */
REEL__HIDDEN int reel__seq_check_name(const char *name);
REEL__HIDDEN int reel__seq_check_params(const reel_seq_params *p, size_t max_frame,
                                        size_t *frame_size);
/* Read the sequence called name on db into *r: REEL_NOTFOUND, REEL_CORRUPT for a row whose
 * format, size (1..65535, frames of at most max_frame bytes) or time base is invalid. */
REEL__HIDDEN int reel__seqrec_load(sqlite3 *db, const char *name, size_t max_frame,
                                   reel__seqrec *r);
REEL__HIDDEN void reel__seqrec_clear(reel__seqrec *r);
/* On the writer, inside a transaction: insert a sequence row (*id may be NULL), look one up by
 * name (REEL_NOTFOUND), delete one with everything that belongs to it. */
REEL__HIDDEN int reel__seq_insert(sqlite3 *db, const char *name, const reel_seq_params *p,
                                  int64_t *id);
REEL__HIDDEN int reel__seq_id(sqlite3 *db, const char *name, int64_t *id);
REEL__HIDDEN int reel__seq_delete(sqlite3 *db, int64_t id);
/* cb(ctx, name) for every sequence in name order (a non-zero return stops and is returned). */
REEL__HIDDEN int reel__seq_list(reel__sdb *d, int (*cb)(void *ctx, const char *name), void *ctx);
/* Live metadata of r (frame count, bytes, duration); name and source point into r. */
REEL__HIDDEN int reel__seq_info(reel__sdb *d, const reel__seqrec *r, reel_seq_info *info);

#endif
