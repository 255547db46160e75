/* fork.h - telling handles made before a fork() from those made after it (fork.c). */
#ifndef REEL_BASE_FORK_H
#define REEL_BASE_FORK_H

#include <pthread.h>

#include "base/common.h"

/* A number that changes in a child process at every fork(): a handle records it when made,
 * and one whose number differs was inherited from the parent. */
REEL__HIDDEN unsigned reel__fork_generation(void);

/* A use of a store's SQLite connections (thread-safe, nestable in a thread): a fork() waits
 * for the uses in flight to end, and new ones wait for the fork (fork.c). Every begin is
 * paired with an end in the same thread. */
REEL__HIDDEN void reel__db_begin(void);
REEL__HIDDEN void reel__db_end(void);

/* A lock of a layer above held across every fork(): taken after the gate has closed and the
 * uses in flight have ended (so a use waiting for it still ends first), released in the parent
 * and in the child. Register once per lock (at most 4 in all); thread-safe. */
REEL__HIDDEN void reel__fork_hold(pthread_mutex_t *lock);

#endif
