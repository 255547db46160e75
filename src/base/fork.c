/*
 * fork.c - the fork generation. After fork() the child has one thread and copies of the
 * parent's handles, whose threads (flusher, read-ahead, pressure monitor) did not follow and
 * whose locks may have been held by them. Handles remember the generation they were made in;
 * the library refuses inherited ones (REEL_MISUSE): the child opens what it needs again, and
 * the parent's unsaved state stays the parent's to write.
 */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>

#include "base/fork.h"

static atomic_uint generation;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void in_child(void) { atomic_fetch_add(&generation, 1); }

static void install(void) { pthread_atfork(NULL, NULL, in_child); }

__attribute__((constructor)) static void at_load(void) { pthread_once(&once, install); }

unsigned reel__fork_generation(void)
{
    return atomic_load_explicit(&generation, memory_order_relaxed);
}
