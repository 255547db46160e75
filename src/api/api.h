/* api.h - what the public entry points share (store.c, seq.c, handle.c, batch.c), and what
 * the import layer uses of them. */
#ifndef REEL_API_API_H
#define REEL_API_API_H

#include "store/frame.h"
#include "tier/handles.h"

/* A handle on the sequence called name, looked up on db (the writer inside a write
 * transaction, or a read connection). */
REEL__HIDDEN int reel__seq_open_on(reel_store *s, sqlite3 *db, const char *name, reel_seq **out);
/* After a sequence was deleted from the file: drop its queued frames, cached frames and
 * unflushed access counts. */
REEL__HIDDEN void reel__seq_forget(reel_store *s, int64_t id);
/* Append n frames encoded already at the end of q in one transaction (its queued puts go
 * first); *first gets the index of the first. */
REEL__HIDDEN int reel__seq_append_encoded(reel_seq *q, const reel__encoded *frames, size_t n,
                                          int64_t *first);

#endif
