/*
 * fuzz_manifest.c - libFuzzer harness: arbitrary bytes as the manifest of a published store, a
 * real one (a small store with three sequences, published once per process to a directory in
 * parts of 64 KiB). So that mutations keep reaching past the checks of names, the input may
 * name the real objects by placeholder: "@P<n>" is replaced by the key of part n, "@I<n>" by
 * the key of its index object, "@X<n>" by that key as a path ("parts/../parts/<hex>.part",
 * the same file: a reader must refuse it), "@B" by the snapshot's size in bytes, and "@N<n>"
 * by the n-th number at a limit (INT64_MAX, INT64_MIN, INT64_MAX - 65535, UINT64_MAX, 2^53
 * + 1, the largest part and one block over it, 2^32, 2^31, 0, -1, 2^53: the largest store). The store is opened and
 * read through the public API (list, open every sequence, info, frames) with an empty block
 * cache each time: every call must return a result code, never crash, hang or serve a byte
 * that was not checked. With FUZZ_MANIFEST_SEED=PATH set, the first run writes the real
 * manifest there in placeholder form (how tests/fuzz/corpus/manifest/ was made); with
 * FUZZ_MANIFEST_VERBOSE set, each input's outcome is printed.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char top[64], pub[96], cache[96];
static char keys[64][2][80]; /* [part][0: part, 1: index] */
static int nkeys;
static long long bytes;

/* A store of three small sequences (gray8, rgb24 temporal, one skipped frame), published. */
static int build(void)
{
    static const int fmts[3] = {REEL_PIX_GRAY8, REEL_PIX_RGB24, REEL_PIX_GRAY8};
    char path[128];
    reel_store *s;
    reel_publish_options po;
    reel_publish_result pr;
    int q;
    snprintf(top, sizeof top, "/tmp/fuzz-manifest-%d", (int)getpid());
    snprintf(pub, sizeof pub, "%s/pub", top);
    snprintf(cache, sizeof cache, "%s/cache", top);
    snprintf(path, sizeof path, "%s/s.reel", top);
    mkdir(top, 0700);
    if (reel_open(path, REEL_OPEN_CREATE, NULL, &s) != REEL_OK)
        return -1;
    for (q = 0; q < 3; q++) {
        reel_seq_params p = {64, 48, fmts[q], {1, 25}, "fuzz", q == 1 ? REEL_CODEC_TEMPORAL : 0, 0};
        reel_seq *seq;
        char name[16];
        uint8_t px[64 * 48 * 3];
        int i, k;
        snprintf(name, sizeof name, "s%d", q);
        if (reel_seq_create(s, name, &p, &seq) != REEL_OK)
            return -1;
        for (i = 0; i < 6; i++) {
            reel_frame_in in;
            size_t n = (size_t)64 * 48 * (fmts[q] == REEL_PIX_RGB24 ? 3 : 1);
            for (k = 0; k < (int)n; k++)
                px[k] = (uint8_t)(k * 7 + i * 13 + (rand() & 15));
            memset(&in, 0, sizeof in);
            in.pixels = q == 2 && i == 3 ? NULL : px;
            in.size = in.pixels ? n : 0;
            in.pts = i;
            in.duration = 1;
            in.status = in.pixels ? REEL_STATUS_OK : REEL_STATUS_SKIPPED;
            if (reel_frame_append(seq, &in, NULL) != REEL_OK)
                return -1;
        }
        reel_seq_close(seq);
    }
    memset(&po, 0, sizeof po);
    po.part_bytes = 65536;
    if (reel_publish(s, pub, &po, &pr) != REEL_OK)
        return -1;
    reel_close(s);
    bytes = (long long)pr.bytes;
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *t = NULL;
    long n;
    if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (t = malloc((size_t)n + 1)) && fread(t, 1, (size_t)n, f) == (size_t)n) {
        t[n] = 0;
        *len = (size_t)n;
    } else {
        free(t);
        t = NULL;
    }
    if (f)
        fclose(f);
    return t;
}

/* The keys of the real parts and index objects, in order, from the real manifest; and, when
 * asked, that manifest in placeholder form. */
static void learn(void)
{
    char path[128], *m, *at;
    const char *seed = getenv("FUZZ_MANIFEST_SEED");
    size_t len;
    snprintf(path, sizeof path, "%s/manifest.json", pub);
    if (!(m = slurp(path, &len)))
        return;
    for (at = m; nkeys < 64 && (at = strstr(at, "\"key\":\"")); nkeys++) {
        char *i = strstr(at, "\"index\":\"");
        if (!i)
            break;
        snprintf(keys[nkeys][0], sizeof keys[0][0], "%.75s", at + 7);
        snprintf(keys[nkeys][1], sizeof keys[0][1], "%.74s", i + 9);
        at = i + 9;
    }
    if (seed) {
        FILE *f = fopen(seed, "wb");
        int k;
        for (at = m; f && *at;) {
            for (k = 0; k < nkeys; k++)
                if (!strncmp(at, keys[k][0], strlen(keys[k][0])) ||
                    !strncmp(at, keys[k][1], strlen(keys[k][1])))
                    break;
            if (k < nkeys) {
                int index = !strncmp(at, keys[k][1], strlen(keys[k][1]));
                fprintf(f, "@%c%d", index ? 'I' : 'P', k);
                at += strlen(keys[k][index]);
            } else {
                fputc(*at++, f);
            }
        }
        if (f)
            fclose(f);
    }
    free(m);
}

static const char *const limits[] = {
    "9223372036854775807", "-9223372036854775808", "9223372036854710272",
    "18446744073709551615", "9007199254740993", "1073741824", "1073807360", "4294967296",
    "2147483648", "0", "-1", "9007199254740992"};

/* The placeholder at data[i] (of size bytes) written to f: how many bytes it took (0: none). */
static size_t placeholder(FILE *f, const uint8_t *data, size_t i, size_t size)
{
    int n = 0;
    size_t j = i + 2;
    char kind = i + 1 < size ? (char)data[i + 1] : 0;
    if (data[i] != '@')
        return 0;
    if (kind == 'B') {
        fprintf(f, "%lld", bytes);
        return 2;
    }
    if (kind != 'P' && kind != 'I' && kind != 'X' && kind != 'N')
        return 0;
    for (; j < size && j < i + 4 && data[j] >= '0' && data[j] <= '9'; j++)
        n = n * 10 + (data[j] - '0');
    if (j == i + 2)
        return 0;
    if (kind == 'N' && n < (int)(sizeof limits / sizeof *limits))
        fputs(limits[n], f);
    else if (kind == 'X' && n < nkeys)
        fprintf(f, "parts/../%s", keys[n][0]);
    else if (kind != 'N' && kind != 'X' && n < nkeys)
        fputs(keys[n][kind == 'I'], f);
    else
        return 0;
    return j - i;
}

/* data with the placeholders replaced, into manifest.json. */
static void write_manifest(const uint8_t *data, size_t size)
{
    char path[128];
    FILE *f;
    size_t i;
    snprintf(path, sizeof path, "%s/manifest.json", pub);
    if (!(f = fopen(path, "wb")))
        return;
    for (i = 0; i < size; i++) {
        size_t took = placeholder(f, data, i, size);
        if (took)
            i += took - 1;
        else
            fputc(data[i], f);
    }
    fclose(f);
}

/* Remove the files in dir (and dir itself when gone is set). */
static void empty(const char *dir, int gone)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
    if (gone)
        rmdir(dir);
}

static void clean_up(void)
{
    char parts[128];
    snprintf(parts, sizeof parts, "%s/parts", pub);
    empty(parts, 1);
    empty(pub, 1);
    empty(cache, 1);
    empty(top, 1);
}

static int frames_read; /* for FUZZ_MANIFEST_VERBOSE */

static int read_seq(void *ctx, const char *name)
{
    reel_store *s = ctx;
    reel_seq *q;
    reel_seq_info info;
    int64_t i, idx;
    if (reel_seq_open(s, name, &q) != REEL_OK)
        return 0;
    if (reel_seq_get_info(q, &info) == REEL_OK && info.frame_size <= ((size_t)1 << 20)) {
        void *buf = malloc(info.frame_size ? info.frame_size : 1);
        for (i = 0; buf && i < info.frame_count && i < 6; i++) {
            reel_frame_info fi;
            frames_read += reel_frame_read(q, i, buf, info.frame_size, &fi) == REEL_OK;
        }
        reel_seq_find_pts(q, 2, &idx);
        free(buf);
    }
    reel_seq_close(q);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready = -1;
    reel_open_options o;
    reel_store *s;
    if (ready < 0) {
        atexit(clean_up);
        ready = build() == 0;
        if (ready)
            learn();
        setenv("REEL_BLOCK_CACHE", cache, 1);
    }
    if (!ready)
        return 0;
    write_manifest(data, size);
    empty(cache, 0);
    memset(&o, 0, sizeof o);
    o.max_frame_mib = 1;
    frames_read = 0;
    if (reel_open(pub, REEL_OPEN_READONLY, &o, &s) == REEL_OK) {
        reel_seq_list(s, read_seq, s);
        reel_close(s);
        if (getenv("FUZZ_MANIFEST_VERBOSE"))
            fprintf(stderr, "fuzz_manifest: opened, %d frames read\n", frames_read);
    } else if (getenv("FUZZ_MANIFEST_VERBOSE")) {
        fprintf(stderr, "fuzz_manifest: %s\n", reel_errmsg());
    }
    return 0;
}
