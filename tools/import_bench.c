/*
 * reel-import-bench - a whole import against decoding and converting alone, in one run.
 *
 *   reel-import-bench VIDEO [--pix-fmt FMT] [--workers N] [--reps N]
 *
 * Each repetition decodes and converts VIDEO on the import's own threads without storing
 * anything (the baseline), then imports it into a fresh store in /tmp; it prints both times
 * and their ratio (target: import <= 1.5x the baseline). This grows into `reel bench`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest.h"

static void die(const char *msg)
{
    fprintf(stderr, "reel-import-bench: %s\n", msg);
    exit(1);
}

int main(int argc, char **argv)
{
    reel_import_options o;
    int reps = 3, r, i;
    double best_dec = 1e9, best_imp = 1e9, sum_dec = 0, sum_imp = 0;
    int64_t frames = 0;
    char path[64];
    if (argc < 2) {
        fprintf(stderr, "usage: reel-import-bench VIDEO [--pix-fmt FMT] [--workers N] [--reps N]\n");
        return 2;
    }
    memset(&o, 0, sizeof o);
    for (i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--pix-fmt") && i + 1 < argc) {
            if (!strcmp(argv[++i], "native"))
                o.pix_fmt = REEL_PIX_NATIVE;
            else if (reel_pix_fmt_from_name(argv[i], &o.pix_fmt))
                die(reel_errmsg());
        } else if (!strcmp(argv[i], "--workers") && i + 1 < argc) {
            o.workers = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            reps = atoi(argv[++i]);
        } else {
            die("unknown option");
        }
    }
    snprintf(path, sizeof path, "/tmp/reel-import-bench-%d.reel", (int)getpid());
    for (r = 0; r < reps; r++) {
        reel_store *s;
        reel_import_result res;
        double dec;
        char wal[80];
        if (reel__decode_only(argv[1], &o, &frames, &dec) != REEL_OK)
            die(reel_errmsg());
        unlink(path);
        if (reel_open(path, REEL_OPEN_CREATE, NULL, &s) || reel_import(s, argv[1], &o, &res))
            die(reel_errmsg());
        reel_close(s);
        printf("rep %d: decode+convert %.3f s (%lld frames), import %.3f s (%lld frames, ratio "
               "%.2f)\n",
               r + 1, dec, (long long)frames, res.seconds, (long long)res.frames,
               (double)res.raw_bytes / (double)res.stored_bytes);
        sum_dec += dec;
        sum_imp += res.seconds;
        best_dec = dec < best_dec ? dec : best_dec;
        best_imp = res.seconds < best_imp ? res.seconds : best_imp;
        unlink(path);
        snprintf(wal, sizeof wal, "%s-wal", path);
        unlink(wal);
        snprintf(wal, sizeof wal, "%s-shm", path);
        unlink(wal);
    }
    printf("import / decode+convert: %.2fx (sums), %.2fx (best reps)   target <= 1.5x\n",
           sum_imp / sum_dec, best_imp / best_dec);
    return 0;
}
