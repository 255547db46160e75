/*
 * reel-demo - random access through the C API: read frames of a sequence at random and time it.
 *   usage: reel-demo STORE SEQUENCE [READS]
 * The README quick start runs it on the sample video it imports.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "reel.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "reel-demo: %s: %s (%s)\n", what, reel_errstr(rc), reel_errmsg());
    return 1;
}

int main(int argc, char **argv)
{
    reel_store *store;
    reel_seq *seq;
    reel_seq_info info;
    reel_frame_info fi;
    int reads = argc > 3 ? atoi(argv[3]) : 20, i, rc;
    uint8_t *frame;
    double t0, t;

    if (argc < 3 || reads <= 0) {
        fprintf(stderr, "usage: reel-demo STORE SEQUENCE [READS]\n");
        return 2;
    }
    if ((rc = reel_open(argv[1], REEL_OPEN_READONLY, NULL, &store)))
        return fail(argv[1], rc);
    if ((rc = reel_seq_open(store, argv[2], &seq)) || (rc = reel_seq_get_info(seq, &info)))
        return fail(argv[2], rc);
    if (info.frame_count == 0)
        return fail(argv[2], REEL_NOTFOUND);
    frame = malloc(info.frame_size);
    if (!frame)
        return fail("malloc", REEL_NOMEM);
    srand((unsigned)time(NULL));
    printf("random access to '%s' (%" PRId64 " frames of %dx%d %s):\n", info.name,
           info.frame_count, info.width, info.height, reel_pix_fmt_name(info.pix_fmt));
    t0 = now();
    for (i = 0; i < reads; i++) {
        int64_t idx = rand() % info.frame_count;
        double t1 = now();
        if ((rc = reel_frame_read(seq, idx, frame, info.frame_size, &fi)) && rc != REEL_NODATA)
            return fail("read", rc);
        if (i < 5)
            printf("  frame %5" PRId64 "  pts %8" PRId64 "  %s  %.2f ms\n", idx, fi.pts,
                   fi.flags & REEL_FRAME_KEY ? "key" : "   ", (now() - t1) * 1e3);
    }
    t = now() - t0;
    printf("%d random frames in %.1f ms: %.2f ms a frame, each checked against its checksum\n",
           reads, t * 1e3, t * 1e3 / reads);
    free(frame);
    reel_seq_close(seq);
    reel_close(store);
    return 0;
}
