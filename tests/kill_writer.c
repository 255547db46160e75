/*
 * kill_writer.c - the write-back load of `make check-kill` (tests/check_kill.sh), on the public
 * API only:
 *
 *   kill_writer STORE FRAMES
 *       makes sequence "w" (96x64 rgb24) if it is missing and puts frames through the RAM tier
 *       (reel_frame_put, batches of 7, a 20 ms flush timer) from its stored count up to FRAMES;
 *       frame i's pixels are a pattern of i. Killed at any moment, the store must hold a prefix
 *       of the frames, each one right, and a second run must finish the job.
 *   kill_writer check STORE
 *       every stored frame of "w" has its pattern: exit 0, or 1 naming the first wrong frame.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reel.h"

#define W 96
#define H 64
#define SIZE (W * H * 3)

static void pattern(uint8_t *px, int64_t i)
{
    uint32_t x = (uint32_t)i * 2654435761u + 1;
    size_t k;
    for (k = 0; k < SIZE; k++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        px[k] = (uint8_t)((k / 3 + (size_t)i) & 0xf0) | (uint8_t)(x & 0x0f);
    }
}

static int fail(const char *what)
{
    fprintf(stderr, "kill_writer: %s: %s\n", what, reel_errmsg());
    return 1;
}

static int check(const char *path)
{
    static uint8_t want[SIZE], got[SIZE];
    reel_store *s;
    reel_seq *q;
    int64_t n, i;
    if (reel_open(path, REEL_OPEN_READONLY, NULL, &s) != REEL_OK)
        return fail(path);
    if (reel_seq_open(s, "w", &q) != REEL_OK) {
        reel_close(s);
        return 0; /* killed before the sequence was made: nothing to check */
    }
    if (reel_seq_frame_count(q, &n) != REEL_OK)
        return fail("frame count");
    for (i = 0; i < n; i++) {
        pattern(want, i);
        if (reel_frame_read(q, i, got, sizeof got, NULL) != REEL_OK)
            return fail("read");
        if (memcmp(want, got, SIZE) != 0) {
            fprintf(stderr, "kill_writer: frame %lld has the wrong pixels\n", (long long)i);
            return 1;
        }
    }
    reel_seq_close(q);
    reel_close(s);
    printf("%lld\n", (long long)n);
    return 0;
}

int main(int argc, char **argv)
{
    static uint8_t px[SIZE];
    reel_seq_params p = {W, H, REEL_PIX_RGB24, {1, 25}, "kill_writer", 0, 0};
    reel_store *s;
    reel_seq *q;
    int64_t i, n, frames;
    int rc;
    if (argc == 3 && !strcmp(argv[1], "check"))
        return check(argv[2]);
    if (argc != 3 || (frames = atoll(argv[2])) <= 0) {
        fprintf(stderr, "usage: kill_writer STORE FRAMES | kill_writer check STORE\n");
        return 2;
    }
    if (reel_open(argv[1], REEL_OPEN_CREATE, NULL, &s) != REEL_OK)
        return fail(argv[1]);
    reel_store_set_writeback(s, 7);
    reel_store_set_flush_interval(s, 20);
    rc = reel_seq_open(s, "w", &q);
    if (rc == REEL_NOTFOUND)
        rc = reel_seq_create(s, "w", &p, &q);
    if (rc != REEL_OK || reel_seq_frame_count(q, &n) != REEL_OK)
        return fail("sequence w");
    for (i = n; i < frames; i++) {
        reel_frame_in f = {px, SIZE, i, 1, 0, REEL_STATUS_OK};
        pattern(px, i);
        if (reel_frame_put(q, &f, NULL) != REEL_OK)
            return fail("put");
    }
    if (reel_seq_close(q) != REEL_OK || reel_close(s) != REEL_OK)
        return fail("close");
    return 0;
}
