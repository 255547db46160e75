/*
 * fork.c - fork() and the library.
 *
 * The fork generation. After fork() the child has one thread and copies of the parent's
 * handles, whose threads (flusher, read-ahead, pressure monitor) did not follow and whose
 * locks may have been held by them. Handles remember the generation they were made in; the
 * library refuses inherited ones (REEL_MISUSE): the child opens what it needs again, and the
 * parent's unsaved state stays the parent's to write.
 *
 * The database gate. A new open in the child goes through SQLite state the parent's threads
 * may have held locked at the fork: the unix VFS keeps one record per open file (and one per
 * WAL shared-memory file) with its own mutex, shared by every connection of the process to
 * that file, and a few static mutexes (the allocator's, the VFS's). A thread of the child
 * waiting on such a mutex waits forever. So every use of a store's connections by the
 * library runs inside reel__db_begin/reel__db_end, and the prepare handler closes the gate:
 * it lets no new use in and waits until those in flight end (at most GATE_WAIT_MS, so that a
 * use blocked on the forking thread, say on Python's GIL, delays the fork but never deadlocks
 * it), then takes SQLite's VFS and allocator mutexes (in the order SQLite nests them), which
 * nothing holds long. The parent and child handlers release them and open the gate again.
 * What the gate cannot cover: SQLite used by another library in another thread, holding its
 * own per-file mutexes at the fork.
 */
#include "config.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "base/clock.h"
#include "base/fork.h"

#define GATE_WAIT_MS 3000

static atomic_uint generation;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int forking;                /* under gate: a fork is being prepared */
static int active;                 /* under gate: threads inside a use */
static _Thread_local int depth;    /* this thread's nesting of uses */
static sqlite3_mutex *held[2];     /* SQLite's mutexes taken for the fork, in this order */
static pthread_mutex_t *locks[4];  /* under gate: reel__fork_hold's, taken in this order */
static int nlocks;

void reel__fork_hold(pthread_mutex_t *lock)
{
    pthread_mutex_lock(&gate);
    if (nlocks < (int)(sizeof locks / sizeof locks[0]))
        locks[nlocks++] = lock;
    pthread_mutex_unlock(&gate);
}

void reel__db_begin(void)
{
    if (depth++ > 0)
        return; /* nested: already counted, and never made to wait for a fork */
    pthread_mutex_lock(&gate);
    while (forking)
        pthread_cond_wait(&gate_cv, &gate);
    active++;
    pthread_mutex_unlock(&gate);
}

void reel__db_end(void)
{
    if (--depth > 0)
        return;
    pthread_mutex_lock(&gate);
    if (--active == 0 && forking)
        pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate);
}

/* Close the gate and hold it (its mutex too: no thread of the child finds it locked). */
static void prepare(void)
{
    struct timespec until = reel__deadline(GATE_WAIT_MS);
    size_t i;
    pthread_mutex_lock(&gate);
    forking = 1;
    /* active counts threads, depth this thread's nesting: the forking thread counts once */
    while (active > (depth > 0) && pthread_cond_timedwait(&gate_cv, &gate, &until) == 0)
        ;
    for (i = 0; i < (size_t)nlocks; i++)
        pthread_mutex_lock(locks[i]);
    held[0] = sqlite3_mutex_alloc(SQLITE_MUTEX_STATIC_VFS1); /* the unix VFS's: outer */
    held[1] = sqlite3_mutex_alloc(SQLITE_MUTEX_STATIC_MEM);  /* the allocator's: a leaf */
    for (i = 0; i < sizeof held / sizeof held[0]; i++)
        sqlite3_mutex_enter(held[i]); /* NULL (no mutexes in this build): a no-op */
}

static void release(int child)
{
    size_t i = sizeof held / sizeof held[0];
    while (i-- > 0)
        sqlite3_mutex_leave(held[i]);
    for (i = (size_t)nlocks; i-- > 0;)
        pthread_mutex_unlock(locks[i]);
    forking = 0;
    if (child) { /* the other threads did not follow: nobody waits, and only we are inside */
        active = depth > 0;
        pthread_cond_init(&gate_cv, NULL);
        pthread_mutex_unlock(&gate);
        return;
    }
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate);
}

static void in_parent(void) { release(0); }

static void in_child(void)
{
    atomic_fetch_add(&generation, 1);
    release(1);
}

static void install(void) { pthread_atfork(prepare, in_parent, in_child); }

__attribute__((constructor)) static void at_load(void) { pthread_once(&once, install); }

unsigned reel__fork_generation(void)
{
    return atomic_load_explicit(&generation, memory_order_relaxed);
}
