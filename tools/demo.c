/*
 * reel-demo - write synthetic frames into a store and read them back at random.
 * The README quick start runs it until video import exists.
 *   usage: reel-demo STORE [FRAMES]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reel.h"

enum { W = 768, H = 576 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A moving gradient with a drifting square and sensor-like noise, in yuv420p. */
static void synth(uint8_t *f, int i, uint32_t *rng)
{
    int x, y;
    uint8_t *u = f + W * H, *v = u + (W / 2) * (H / 2);
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++) {
            int val = (x + 2 * i) / 4 + y / 3;
            if (x > 100 + 5 * i % 500 && x < 200 + 5 * i % 500 && y > 200 && y < 300)
                val = 220;
            *rng = *rng * 1664525u + 1013904223u;
            val += (int)(*rng >> 29) - 4;
            f[y * W + x] = (uint8_t)(val < 0 ? 0 : val > 255 ? 255 : val);
        }
    for (y = 0; y < H / 2; y++)
        for (x = 0; x < W / 2; x++) {
            u[y * (W / 2) + x] = (uint8_t)(128 + (x - i) / 16);
            v[y * (W / 2) + x] = (uint8_t)(128 - y / 16);
        }
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "reel-demo: %s: %s (%s)\n", what, reel_errstr(rc), reel_errmsg());
    return 1;
}

int main(int argc, char **argv)
{
    reel_store *store = NULL;
    reel_seq *seq = NULL;
    reel_seq_params p = {W, H, REEL_PIX_YUV420P, {1, 25}, "reel-demo synthetic pattern"};
    reel_seq_info info;
    int n = argc > 2 ? atoi(argv[2]) : 100, i, rc;
    size_t fs;
    uint8_t *frame, *back;
    uint32_t rng = 1;
    double t0, t1;

    if (argc < 2 || n <= 0) {
        fprintf(stderr, "usage: reel-demo STORE [FRAMES]\n");
        return 2;
    }
    reel_frame_size(p.pix_fmt, W, H, &fs);
    frame = malloc(fs);
    back = malloc(fs);
    if (!frame || !back)
        return fail("malloc", REEL_NOMEM);
    if ((rc = reel_open(argv[1], REEL_OPEN_CREATE, NULL, &store)))
        return fail(argv[1], rc);
    reel_seq_remove(store, "demo");
    if ((rc = reel_seq_create(store, "demo", &p, &seq)))
        return fail("create sequence", rc);
    t0 = now();
    for (i = 0; i < n; i++) {
        reel_frame_in in = {frame, fs, i, 1, i % 25 == 0 ? REEL_FRAME_KEY : 0, REEL_STATUS_OK};
        synth(frame, i, &rng);
        if ((rc = reel_frame_append(seq, &in, NULL)))
            return fail("append", rc);
    }
    t1 = now();
    reel_seq_info_get(seq, &info);
    printf("wrote %" PRId64 " frames of %dx%d %s in %.2f s: %.1f MB raw -> %.1f MB stored "
           "(ratio %.2f)\n",
           info.frame_count, W, H, reel_pix_fmt_name(p.pix_fmt), t1 - t0, info.raw_bytes / 1e6,
           info.stored_bytes / 1e6, (double)info.raw_bytes / (double)info.stored_bytes);
    rng = 1;
    for (i = 0; i < n; i++) /* regenerate frame (n-1) to compare with */
        synth(frame, i, &rng);
    srand(7);
    t0 = now();
    for (i = 0; i < 20; i++) {
        int64_t idx = rand() % n;
        if ((rc = reel_frame_read(seq, idx, back, fs, NULL)))
            return fail("read", rc);
    }
    t1 = now();
    if ((rc = reel_frame_read(seq, n - 1, back, fs, NULL)))
        return fail("read", rc);
    printf("read 20 random frames in %.1f ms (%.2f ms each); last frame %s\n", (t1 - t0) * 1e3,
           (t1 - t0) * 1e3 / 20, memcmp(frame, back, fs) == 0 ? "bit-exact" : "DIFFERS");
    reel_seq_close(seq);
    reel_close(store);
    free(frame);
    free(back);
    return 0;
}
