/* annot.h - annotations in the file (annot.c): the SQL of reel_annotation (schema/010), the
 * checks of a value before it is written and of a row after it is read. */
#ifndef REEL_STORE_ANNOT_H
#define REEL_STORE_ANNOT_H

#include "store/sequence.h"

/* Check a key and n values to be written under it (REEL_INVALID naming the first bad one). */
REEL__HIDDEN int reel__annot_check(const char *key, const reel_annot *a, size_t n);
/* On the writer, inside the caller's transaction: set key of the n frames of a (checked) for
 * sequence q, replacing what is there. REEL_NOTFOUND when q's row is gone. */
REEL__HIDDEN int reel__annot_put(sqlite3 *db, const reel__seqrec *q, const char *key,
                                 const reel_annot *a, size_t n);
/* On the writer: remove key of frame index (*gone: 1 when there was one). */
REEL__HIDDEN int reel__annot_delete(sqlite3 *db, const reel__seqrec *q, const char *key,
                                    int64_t index, int *gone);
/* fn(ctx, key, a) for the annotations of q under key (NULL: every key) of frame index (-1:
 * every frame), by index then key, each row checked (REEL_CORRUPT naming it); a non-zero
 * result of fn stops the walk and is returned. On any connection. */
typedef int (*reel__annot_fn)(void *ctx, const char *key, const reel_annot *a);
REEL__HIDDEN int reel__annot_each(sqlite3 *db, const reel__seqrec *q, const char *key,
                                  int64_t index, reel__annot_fn fn, void *ctx);
/* How many annotations q has under key (NULL: every key). */
REEL__HIDDEN int reel__annot_count(sqlite3 *db, const reel__seqrec *q, const char *key,
                                   int64_t *count);

#endif
