/*
 * fuzz_store.c - libFuzzer harness: arbitrary bytes as a store file, opened read-only and read
 * through the public API (list, open every sequence, info, frames through the RAM tier and into
 * a buffer, timestamps). Every call must return a result code: no crash, no hang, no
 * allocation a hostile row can make huge (the open cap on frame sizes), nothing written.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int read_seq(void *ctx, const char *name)
{
    reel_store *s = ctx;
    reel_seq *q;
    reel_seq_info info;
    int64_t i, n, idx;
    if (reel_seq_open(s, name, &q) != REEL_OK)
        return 0;
    if (reel_seq_get_info(q, &info) == REEL_OK) {
        void *buf = malloc(info.frame_size ? info.frame_size : 1);
        n = info.frame_count < 4 ? info.frame_count : 4;
        for (i = 0; buf && i < n; i++) {
            reel_frame *f;
            const void *px;
            reel_frame_info fi;
            reel_frame_read(q, i, buf, info.frame_size, &fi);
            if (reel_frame_get(q, i, 0, &f) == REEL_OK) {
                reel_frame_pixels(f, &px, NULL);
                reel_frame_release(f);
            }
        }
        reel_seq_find_pts(q, 0, &idx);
        free(buf);
    }
    reel_seq_close(q);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64], side[80];
    reel_open_options o;
    reel_store *s;
    FILE *f;
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/fuzz-store-%d.reel", (int)getpid());
    if (!(f = fopen(path, "wb")))
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    memset(&o, 0, sizeof o);
    o.max_frame_mib = 1; /* hostile geometry stays small */
    if (reel_open(path, REEL_OPEN_READONLY, &o, &s) == REEL_OK) {
        reel_seq_list(s, read_seq, s);
        reel_close(s);
    }
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path); /* a stale WAL would leak into the next input */
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    return 0;
}
