/*
 * fuzz_import.c - libFuzzer harness: arbitrary bytes as a video file, imported into a fresh
 * store (FFmpeg demuxes and decodes; reel converts, compresses and commits). The import must
 * answer with a result code, and whatever it committed must read back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char video[64], store[64];
    reel_import_options o;
    reel_import_result r;
    reel_store *s;
    FILE *f;
    if (!video[0]) {
        snprintf(video, sizeof video, "/tmp/fuzz-video-%d.bin", (int)getpid());
        snprintf(store, sizeof store, "/tmp/fuzz-import-%d.reel", (int)getpid());
    }
    if (!(f = fopen(video, "wb")))
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    unlink(store);
    if (reel_open(store, REEL_OPEN_CREATE, NULL, &s) != REEL_OK)
        return 0;
    memset(&o, 0, sizeof o);
    o.sequence = "v";
    o.workers = 1;
    o.width = 64; /* small frames: many executions */
    o.height = 48;
    o.log = REEL_IMPORT_LOG_QUIET;
    if (reel_import(s, video, &o, &r) == REEL_OK) {
        reel_seq *q;
        if (reel_seq_open(s, "v", &q) == REEL_OK) {
            uint8_t buf[64 * 48 * 3];
            reel_frame_read(q, 0, buf, sizeof buf, NULL);
            reel_seq_close(q);
        }
    }
    reel_close(s);
    unlink(store);
    unlink(video);
    return 0;
}
