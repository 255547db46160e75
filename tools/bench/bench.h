/* bench.h - the clock and the exit-on-error helper the benchmark programs share. */
#ifndef REEL_BENCH_H
#define REEL_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Monotonic seconds. */
static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Print "PROGRAM: msg" and exit 1. The program defines BENCH_NAME before including. */
static inline void die(const char *msg)
{
    fprintf(stderr, "%s: %s\n", BENCH_NAME, msg);
    exit(1);
}

#endif
