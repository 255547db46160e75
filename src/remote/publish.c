/*
 * publish.c - a store snapshot published as parts and a manifest.
 *
 * The snapshot (a reel store file in rollback-journal mode, made by the store layer) is cut
 * into parts of part_bytes, except that a part ends where the head ends: the file's first
 * pages, up to the last root page of a table or index (the header and the B-tree roots, which
 * change whenever rows are added). Each part is an object named by the SHA-256 of its content,
 * so a part already there is not sent again: publishing the same store twice uploads nothing
 * but the manifest. A snapshot copies the frames' blobs in the order they were added, so in a
 * grown store the old blobs keep their pages, and publishing it sends the head, the part
 * where the old file ended and the new parts (the parts after the head keep their
 * boundaries). Beside each part goes its index object, named by its own SHA-256: the hash of
 * each of the part's 64 KiB blocks (what a reader checks each block against). The manifest
 * (JSON) lists the parts with their index objects, and the sequences; it is written last, the
 * only object that changes, so a reader sees the old store or the new one, never a mix.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "remote/remote.h"

/* The bytes of the snapshot's head: its pages up to the highest root page, whole blocks. */
static int64_t head_bytes(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t pages = 0, page_size = 0;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT (SELECT max(rootpage) FROM sqlite_schema), page_size "
                               "FROM pragma_page_size",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        pages = sqlite3_column_int64(st, 0);
        page_size = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return (pages * page_size + REEL__BLOCK_SIZE - 1) / REEL__BLOCK_SIZE * REEL__BLOCK_SIZE;
}

#define READ_BYTES (16 * REEL__BLOCK_SIZE) /* read and hashed at a time: the parts are streamed */

int reel__publish_cut(const char *path, int64_t part_bytes, reel__cuts *c)
{
    struct stat sb;
    int64_t head, off, k;
    memset(c, 0, sizeof *c);
    if (part_bytes <= 0)
        part_bytes = REEL__PART_DEFAULT;
    c->part_bytes = (part_bytes + REEL__BLOCK_SIZE - 1) / REEL__BLOCK_SIZE * REEL__BLOCK_SIZE;
    if (stat(path, &sb) != 0)
        return reel__err(REEL_IO, "%s: %s", path, strerror(errno));
    c->bytes = (int64_t)sb.st_size;
    head = head_bytes(path);
    if (!(c->starts = reel__malloc(((size_t)(c->bytes / c->part_bytes) +
                                    (size_t)(head / c->part_bytes) + 3) *
                                   sizeof *c->starts)))
        return reel__err(REEL_NOMEM, "out of memory");
    for (off = 0; off < c->bytes; off += k) {
        c->starts[c->n++] = off;
        k = off < head && head - off < c->part_bytes ? head - off : c->part_bytes;
    }
    return REEL_OK;
}

void reel__publish_cuts_free(reel__cuts *c)
{
    free(c->starts);
    memset(c, 0, sizeof *c);
}

/* Bytes [off, off + n) of fd: every block's hash into idx, and the SHA-256 of the whole as the
 * part's key (REEL__KEY_BYTES). */
static int hash_part(int fd, const char *path, int64_t off, int64_t n, uint8_t *buf,
                     uint8_t *idx, char *key)
{
    reel__sha256_ctx ctx;
    uint8_t md[REEL__SHA256_BYTES];
    int64_t at;
    int rc = reel__sha256_begin(&ctx);
    if (rc != REEL_OK)
        return rc;
    for (at = 0; rc == REEL_OK && at < n; at += READ_BYTES) {
        size_t k = (size_t)(n - at < READ_BYTES ? n - at : READ_BYTES), b;
        if (pread(fd, buf, k, (off_t)(off + at)) != (ssize_t)k) {
            rc = reel__err(REEL_IO, "%s: short read", path);
            break;
        }
        reel__sha256_add(&ctx, buf, k);
        for (b = 0; b < k; b += REEL__BLOCK_SIZE, idx += REEL__HASH_BYTES) {
            reel__sha256(buf + b, k - b < REEL__BLOCK_SIZE ? k - b : REEL__BLOCK_SIZE, md);
            memcpy(idx, md, REEL__HASH_BYTES);
        }
    }
    if (reel__sha256_end(&ctx, md) != REEL_OK && rc == REEL_OK)
        rc = REEL_ERROR;
    if (rc == REEL_OK) {
        reel__object_key(md, ".part", key);
    }
    return rc;
}

/* Whether object key holds n bytes whose 64 KiB blocks have the hashes idx (a ranged read of
 * it all, buf: READ_BYTES); *same = 0 when not. */
static int same_blocks(reel__loc *l, const char *key, int64_t n, const uint8_t *idx,
                       uint8_t *buf, int *same)
{
    int64_t at;
    int rc = REEL_OK;
    *same = 1;
    for (at = 0; rc == REEL_OK && *same && at < n; at += READ_BYTES) {
        size_t k = (size_t)(n - at < READ_BYTES ? n - at : READ_BYTES), b;
        if ((rc = reel__loc_read(l, key, (uint64_t)at, k, buf, 0)) == REEL_NOTFOUND) {
            *same = 0;
            return REEL_OK;
        }
        for (b = 0; rc == REEL_OK && b < k; b += REEL__BLOCK_SIZE, idx += REEL__HASH_BYTES) {
            uint8_t md[REEL__SHA256_BYTES];
            reel__sha256(buf + b, k - b < REEL__BLOCK_SIZE ? k - b : REEL__BLOCK_SIZE, md);
            if (memcmp(md, idx, REEL__HASH_BYTES)) {
                *same = 0;
                break;
            }
        }
    }
    return rc;
}

/* Whether object key is there as it should be: n bytes, and (checking content) the bytes of
 * mem when given, else blocks with the hashes idx. *damaged: something else is there. */
static int is_there(reel__loc *l, const char *key, int64_t n, const void *mem,
                    const uint8_t *idx, uint8_t *buf, int check, int *there, int64_t *damaged)
{
    int64_t size;
    int rc = reel__loc_size(l, key, &size);
    *there = rc == REEL_OK && size == n;
    if (rc == REEL_OK && !*there)
        *damaged += size != -1;
    if (!*there || !check)
        return rc;
    *damaged += 1; /* unless it turns out the same */
    *there = 0;
    if (!mem)
        rc = same_blocks(l, key, n, idx, buf, there);
    else if ((rc = reel__loc_read(l, key, 0, (size_t)n, buf, 0)) == REEL_OK)
        *there = !memcmp(buf, mem, (size_t)n);
    else if (rc == REEL_NOTFOUND) /* gone meanwhile */
        rc = REEL_OK;
    *damaged -= *there;
    return rc;
}

/* Send bytes [off, off + n) of fd as object key unless it is there already, then its index
 * (n_idx bytes at idx) as "parts/<its SHA-256>.idx" (its name into ikey, REEL__KEY_BYTES) likewise.
 * An object there but short, or damaged (when its content is checked), is sent again. */
static int put_part(reel__loc *l, const char *key, int fd, int64_t off, int64_t n,
                    const uint8_t *idx, size_t n_idx, char *ikey, uint8_t *buf,
                    reel__pubstat *st)
{
    uint8_t md[REEL__SHA256_BYTES];
    int there = 0, rc, check = st->verify || l->local;
    reel__sha256(idx, n_idx, md);
    reel__object_key(md, ".idx", ikey);
    if ((rc = is_there(l, ikey, (int64_t)n_idx, idx, NULL, buf, check, &there, &st->repaired)) !=
            REEL_OK ||
        (!there && (rc = reel__loc_put(l, ikey, idx, n_idx)) != REEL_OK))
        return rc;
    if ((rc = is_there(l, key, n, NULL, idx, buf, check, &there, &st->repaired)) != REEL_OK)
        return rc;
    st->parts++;
    if (there)
        return REEL_OK;
    if ((rc = reel__loc_put_fd(l, key, fd, (uint64_t)off, (uint64_t)n)) != REEL_OK)
        return rc;
    st->uploaded_parts++;
    st->uploaded_bytes += n;
    return REEL_OK;
}

int reel__publish_file(const char *path, int schema, const reel__cuts *c, const char *dest,
                       const reel__pubseq *seqs, size_t nseqs, reel__pubstat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    uint8_t *buf = NULL, *idx = NULL;
    reel__pubpart *parts = reel__calloc(c->n ? c->n : 1, sizeof *parts);
    reel__loc l;
    char *text = NULL;
    size_t i;
    int rc, opened = 0, verify = st->verify, cleaned = 0;
    memset(st, 0, sizeof *st);
    st->verify = verify;
    if (fd < 0) {
        rc = reel__err(REEL_IO, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!parts || !(buf = reel__malloc(READ_BYTES)) ||
        !(idx = reel__malloc((size_t)(c->part_bytes / REEL__BLOCK_SIZE) * REEL__HASH_BYTES))) {
        rc = reel__err(REEL_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = reel__loc_open(dest, &l)) != REEL_OK)
        goto out;
    opened = 1;
    if ((rc = reel__loc_prepare(&l)) != REEL_OK || (rc = reel__loc_clean(&l, &cleaned)) != REEL_OK)
        goto out;
    st->bytes = c->bytes;
    for (i = 0; rc == REEL_OK && i < c->n; i++) {
        int64_t off = c->starts[i], n = (i + 1 < c->n ? c->starts[i + 1] : c->bytes) - off;
        size_t n_idx = (size_t)((n + REEL__BLOCK_SIZE - 1) / REEL__BLOCK_SIZE) * REEL__HASH_BYTES;
        parts[i].bytes = n;
        if ((rc = hash_part(fd, path, off, n, buf, idx, parts[i].key)) == REEL_OK)
            rc = put_part(&l, parts[i].key, fd, off, n, idx, n_idx, parts[i].index, buf, st);
    }
    if (rc == REEL_OK) {
        reel__manifest_out m = {schema, c->bytes, c->part_bytes, parts, c->n, seqs, nseqs};
        if ((rc = reel__manifest_write(&m, &text)) == REEL_OK) /* last: the switch */
            rc = reel__loc_put(&l, REEL__MANIFEST, text, strlen(text));
    }
out:
    free(text);
    free(parts);
    free(buf);
    free(idx);
    if (opened)
        reel__loc_close(&l);
    if (fd >= 0)
        close(fd);
    return rc;
}
