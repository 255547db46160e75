/* fork.h - telling handles made before a fork() from those made after it (fork.c). */
#ifndef REEL_BASE_FORK_H
#define REEL_BASE_FORK_H

#include "base/common.h"

/* A number that changes in a child process at every fork(): a handle records it when made,
 * and one whose number differs was inherited from the parent. */
REEL__HIDDEN unsigned reel__fork_generation(void);

/* A use of a store's SQLite connections (thread-safe, nestable in a thread): a fork() waits
 * for the uses in flight to end, and new ones wait for the fork (fork.c). Every begin is
 * paired with an end in the same thread. */
REEL__HIDDEN void reel__db_begin(void);
REEL__HIDDEN void reel__db_end(void);

#endif
