/*
 * source.c - where an imported sequence came from: the file's content hash, and the start and
 * end of an import around the import records of store/source.c (which decides to create the
 * sequence, resume it, report it done, or replace it).
 */
#include "config.h"

#include <errno.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/error.h"
#include "base/hash.h"
#include "import/source.h"

#define CHUNK (1u << 20)

int reel__file_hash(const char *path, int64_t *size, char hex[17],
                    int (*tick)(void *ctx, int64_t bytes), void *ctx)
{
    FILE *f;
    struct stat st;
    uint8_t *buf;
    uint64_t *sums = NULL, h;
    size_t n, count = 0, cap = 0;
    int64_t total = 0;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return reel__err(REEL_UNSUPPORTED, "%s: not a regular file (a device, a pipe or a "
                                           "directory cannot be imported)",
                         path);
    if (!(f = fopen(path, "rb")))
        return reel__err(errno == ENOENT ? REEL_NOTFOUND : REEL_IO, "%s: %s", path,
                         strerror(errno));
    if (!(buf = reel__malloc(CHUNK))) {
        fclose(f);
        return reel__err(REEL_NOMEM, "out of memory");
    }
    while ((n = fread(buf, 1, CHUNK, f)) > 0) {
        if (count == cap) {
            uint64_t *grown = reel__realloc(sums, (cap = cap ? 2 * cap : 64) * sizeof *sums);
            if (!grown) {
                free(sums);
                free(buf);
                fclose(f);
                return reel__err(REEL_NOMEM, "out of memory");
            }
            sums = grown;
        }
        sums[count++] = reel__checksum(buf, n);
        total += (int64_t)n;
        if (tick && count % 64 == 0 && tick(ctx, total)) {
            free(sums);
            free(buf);
            fclose(f);
            return reel__err(REEL_INTERRUPTED, "%s: stopped while reading it", path);
        }
    }
    free(buf);
    if (ferror(f)) {
        free(sums);
        fclose(f);
        return reel__err(REEL_IO, "%s: read error", path);
    }
    fclose(f);
    /* The chunk sums as little-endian bytes, hashed once more. */
    if (count) {
        size_t i;
        uint8_t *le = (uint8_t *)sums;
        for (i = 0; i < count; i++) {
            uint64_t v = sums[i];
            int b;
            for (b = 0; b < 8; b++)
                le[8 * i + (size_t)b] = (uint8_t)(v >> (8 * b));
        }
    }
    h = reel__checksum(sums, count * 8);
    free(sums);
    snprintf(hex, 17, "%016llx", (unsigned long long)h);
    *size = total;
    return REEL_OK;
}

int reel__source_begin(reel_store *s, const char *name, const reel_seq_params *p,
                       const reel__source *src, int replace, reel_seq **seq, int64_t *resume)
{
    int64_t replaced = -1, id = 0;
    int rc = reel__source_claim(s->db, name, p, src, replace, &replaced, &id), done;
    if (rc == REEL_OK && replaced >= 0)
        reel__seq_forget(s, replaced);
    if (rc != REEL_OK && rc != REEL_DONE)
        return rc;
    done = rc == REEL_DONE;
    if ((rc = reel_seq_open(s, name, seq)) == REEL_OK &&
        (rc = reel_seq_frame_count(*seq, resume)) != REEL_OK) {
        reel_seq_close(*seq);
        *seq = NULL;
    }
    if (rc != REEL_OK && !done) { /* claimed, but this import cannot go on: let the next one */
        char msg[512];
        snprintf(msg, sizeof msg, "%s", reel_errmsg());
        reel__source_release(s, id, src->token);
        reel__err(rc, "%s", msg);
    }
    if (rc == REEL_OK && done)
        rc = reel__err(REEL_DONE, "sequence '%s' already holds all of %s", name, src->path);
    return rc;
}

void reel__source_release(reel_store *s, int64_t seq_id, int64_t token)
{
    reel__source_unclaim(s->db, seq_id, token);
}

int reel__source_finish(reel_seq *q, int truncated, int codec)
{
    return reel__source_complete(q->store->db, q->rec.id, truncated, reel__codec_name(codec));
}
