/* check_remote.c - src/remote on a published directory, no servers: a store published with
 * reel_publish() and read back through the directory location, bit-exact, with the block
 * traffic reel_store_get_remote_stats() reports; the module's own calls (the manifest's parse of
 * hostile manifests, blocks from the block cache, the digest, where a part begins); paths too
 * long refused with an error naming them; and a process that exits with a published store
 * open while its fetcher ahead runs (the race with OpenSSL's exit-time cleanup that TSan
 * found). (HTTP, S3 and the servers' faults: tests/check_remote*.sh.) */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "remote/remote_impl.h"
#include "testutil.h"

#define W 320
#define H 240
#define FRAMES 24 /* of noisy RGB: several chunks of blocks, so that reads go ahead */

static reel_store *make_store(void)
{
    reel_store *s;
    reel_seq *q;
    setenv("REEL_BLOCK_CACHE", tu_path("cache"), 1);
    unsetenv("REEL_BLOCK_CACHE_MIB");
    tu_make_store("s.reel", REEL_PIX_RGB24, W, H, FRAMES, &s, &q);
    reel_seq_close(q);
    return s;
}

/* The store published to tu_path("pub") in parts of part_bytes. */
static void publish(reel_store *s, int64_t part_bytes, reel_publish_result *res)
{
    reel_publish_options o;
    memset(&o, 0, sizeof o);
    o.part_bytes = part_bytes;
    ck_assert_msg(reel_publish(s, tu_path("pub"), &o, res) == REEL_OK, "%s", reel_errmsg());
}

/* Every frame of "s" in a and b: the same bytes, read forward one by one into a buffer
 * (the copying path) and all at once with reel_frame_read_range(). */
static void same_frames(reel_store *a, reel_store *b)
{
    reel_seq *qa, *qb;
    size_t fs;
    uint8_t *x, *y;
    int64_t i;
    ck_assert_int_eq(reel_frame_size(REEL_PIX_RGB24, W, H, &fs), REEL_OK);
    ck_assert_ptr_nonnull(x = malloc(fs * FRAMES));
    ck_assert_ptr_nonnull(y = malloc(fs * FRAMES));
    ck_assert_int_eq(reel_seq_open(a, "s", &qa), REEL_OK);
    ck_assert_int_eq(reel_seq_open(b, "s", &qb), REEL_OK);
    ck_assert_int_eq(reel_frame_read_range(qa, 0, FRAMES, x, fs * FRAMES), REEL_OK);
    for (i = 0; i < FRAMES; i++)
        ck_assert_msg(reel_frame_read(qb, i, y + (size_t)i * fs, fs, NULL) == REEL_OK, "%s",
                      reel_errmsg());
    ck_assert(memcmp(x, y, fs * FRAMES) == 0);
    memset(y, 0, fs * FRAMES);
    ck_assert_int_eq(reel_frame_read_range(qb, 0, FRAMES, y, fs * FRAMES), REEL_OK);
    ck_assert(memcmp(x, y, fs * FRAMES) == 0);
    reel_seq_close(qa);
    reel_seq_close(qb);
    free(x);
    free(y);
}

START_TEST(test_publish_and_read)
{
    reel_store *s = make_store(), *p;
    reel_publish_result res, again;
    reel_remote_stats st;
    publish(s, 1 << 20, &res);
    ck_assert_int_gt(res.parts, 2);
    ck_assert_int_eq(res.uploaded_parts, res.parts);
    ck_assert_int_eq(res.uploaded_bytes, res.bytes);
    publish(s, 1 << 20, &again); /* the same store again: nothing sent */
    ck_assert_int_eq(again.parts, res.parts);
    ck_assert_int_eq(again.uploaded_parts, 0);
    ck_assert_int_eq(again.uploaded_bytes, 0);
    ck_assert_int_eq(reel_store_get_remote_stats(s, &st), REEL_INVALID); /* not a published one */
    ck_assert_int_eq(reel_open(tu_path("pub"), REEL_OPEN_READONLY, NULL, &p), REEL_OK);
    same_frames(s, p);
    ck_assert_int_eq(reel_store_get_remote_stats(p, &st), REEL_OK);
    ck_assert_int_gt(st.blocks_fetched, 0);
    ck_assert_int_le(st.bytes_fetched, res.bytes);
    ck_assert_int_ge(st.bytes_fetched, st.blocks_fetched); /* every block holds bytes */
    reel_close(p);
    /* a second open on this node: every block from the block cache */
    ck_assert_int_eq(reel_open(tu_path("pub"), REEL_OPEN_READONLY, NULL, &p), REEL_OK);
    same_frames(s, p);
    ck_assert_int_eq(reel_store_get_remote_stats(p, &st), REEL_OK);
    ck_assert_int_eq(st.blocks_fetched, 0);
    ck_assert_int_eq(st.bytes_fetched, 0);
    ck_assert_int_gt(st.block_hits, 0);
    ck_assert_int_eq(reel_store_get_remote_stats(NULL, &st), REEL_MISUSE);
    ck_assert_int_eq(reel_store_get_remote_stats(p, NULL), REEL_MISUSE);
    reel_close(p);
    reel_close(s);
}
END_TEST

/* The published directory's store opened with the module's own call. */
static reel__remote *open_pub(void)
{
    reel__remote *r = NULL;
    const char *vfs, *file;
    ck_assert_msg(reel__remote_open(tu_path("pub"), INT_MAX, &r, &vfs, &file) == REEL_OK, "%s",
                  reel_errmsg());
    ck_assert_str_eq(vfs, "reel-remote");
    /* the location as given; " (2)" after it while another open has that name */
    ck_assert(!strncmp(file, tu_path("pub"), strlen(tu_path("pub"))));
    return r;
}

/* Block b as the directory's part file holds it: the part's bytes at the block's offset. */
static void part_bytes_of(const reel__remote *r, int64_t b, uint8_t *out, size_t len)
{
    int64_t p = (int64_t)reel__last_at_most(r->part_first, (size_t)r->nparts, b);
    char path[8192];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", tu_path("pub"), r->parts[p]);
    ck_assert_ptr_nonnull(f = fopen(path, "rb"));
    ck_assert_int_eq(fseek(f, (long)((b - r->part_first[p]) * REEL__BLOCK_SIZE), SEEK_SET), 0);
    ck_assert_uint_eq(fread(out, 1, len, f), len);
    fclose(f);
}

START_TEST(test_blocks)
{
    reel_store *s = make_store();
    reel_publish_result res;
    reel__remote *r;
    uint8_t *buf = malloc((size_t)REEL__CHUNK_BLOCKS * REEL__BLOCK_SIZE);
    uint8_t *want = malloc(REEL__BLOCK_SIZE);
    int64_t b, hits, fetched, bytes;
    publish(s, 1 << 20, &res);
    reel_close(s);
    r = open_pub();
    ck_assert_int_eq(r->bytes, res.bytes);
    ck_assert_int_eq(r->nparts, res.parts);
    ck_assert_int_eq(r->nblocks, (res.bytes + REEL__BLOCK_SIZE - 1) / REEL__BLOCK_SIZE);
    for (b = 0; b < r->nblocks; b++) { /* one at a time: every block fetched, then served */
        reel__getq q = {b, 1, 0, 0, buf};
        int n = 0;
        size_t len = reel__block_len(r, b);
        ck_assert_msg(reel__block_get(r, &q, &n) == REEL_OK, "%s", reel_errmsg());
        ck_assert_int_eq(n, 1);
        part_bytes_of(r, b, want, len);
        ck_assert(memcmp(buf, want, len) == 0);
        ck_assert_int_le(reel__chunk_end(r, b), r->nblocks);
        ck_assert_int_gt(reel__chunk_end(r, b), b);
    }
    reel__remote_stats(r, &hits, &fetched, &bytes);
    ck_assert_int_eq(fetched, r->nblocks);
    ck_assert_int_eq(bytes, res.bytes);
    ck_assert_int_eq(hits, 0);
    {
        reel__getq q = {0, REEL__CHUNK_BLOCKS, 0, 0, buf};
        int n = 0;
        ck_assert_int_eq(reel__block_get(r, &q, &n), REEL_OK);
        reel__remote_stats(r, &hits, &fetched, &bytes);
        ck_assert_int_eq(hits, 1);
    }
    reel__remote_close(r);
    free(buf);
    free(want);
}
END_TEST

START_TEST(test_digest)
{
    /* FIPS 180-2's example */
    char hex[65];
    uint8_t md[32], back[32];
    reel__sha256_ctx c;
    reel__sha256_hex("abc", 3, hex, 64);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    reel__sha256_hex("abc", 3, hex, 32);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223");
    ck_assert_int_eq(reel__sha256_begin(&c), REEL_OK);
    reel__sha256_add(&c, "a", 1);
    reel__sha256_add(&c, "bc", 2);
    ck_assert_int_eq(reel__sha256_end(&c, md), REEL_OK);
    reel__hex(md, hex, 64);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    ck_assert_int_eq(reel__unhex(hex, back, 32), 0);
    ck_assert(memcmp(md, back, 32) == 0);
    ck_assert_int_eq(reel__unhex("0g", back, 1), -1);
    ck_assert_int_eq(reel__unhex("0A", back, 1), -1); /* lowercase only */
    ck_assert_int_eq(reel__unhex("00ff", back, 1), -1); /* nothing after the digits */
    ck_assert_int_eq(reel__unhex("0", back, 1), -1);
    ck_assert_int_eq(reel__unhex("7f", back, 1), 0);
    ck_assert_uint_eq(back[0], 0x7f);
}
END_TEST

/* Once the process is exiting, SHA-256 is computed without libcrypto: the same digests (of
 * every length around the padding's boundaries, and of a large buffer). In a child: the
 * switch is for good. */
START_TEST(test_digest_at_exit)
{
    static const size_t lens[] = {0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 65536, 1 << 20};
    uint8_t *data = malloc(1 << 20), (*want)[32] = malloc(sizeof lens / sizeof lens[0] * 32);
    size_t i;
    pid_t pid;
    int status;
    for (i = 0; i < (size_t)1 << 20; i++)
        data[i] = (uint8_t)(i * 2654435761u >> 13);
    for (i = 0; i < sizeof lens / sizeof lens[0]; i++)
        reel__sha256(data, lens[i], want[i]);
    fflush(NULL);
    if ((pid = fork()) == 0) {
        reel__sha256_ctx c;
        uint8_t md[32];
        reel__digest_exit();
        for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            reel__sha256(data, lens[i], md);
            if (memcmp(md, want[i], 32))
                _exit(10 + (int)i);
        }
        _exit(reel__sha256_begin(&c) == REEL_INTERRUPTED ? 0 : 9);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "the digest without libcrypto differs (length case %d)", WEXITSTATUS(status) - 10);
    free(data);
    free(want);
}
END_TEST

START_TEST(test_last_at_most)
{
    const int64_t v[] = {0, 10, 10, 25, 40};
    ck_assert_uint_eq(reel__last_at_most(v, 5, 0), 0);
    ck_assert_uint_eq(reel__last_at_most(v, 5, 9), 0);
    ck_assert_uint_eq(reel__last_at_most(v, 5, 10), 2);
    ck_assert_uint_eq(reel__last_at_most(v, 5, 24), 2);
    ck_assert_uint_eq(reel__last_at_most(v, 5, 25), 3);
    ck_assert_uint_eq(reel__last_at_most(v, 5, INT64_MAX), 4);
    ck_assert_uint_eq(reel__last_at_most(v, 1, 1000), 0);
}
END_TEST

/* ---- the manifest ---------------------------------------------------------------------- */

#define KEY1 "parts/1111111111111111111111111111111111111111111111111111111111111111"
#define KEY2 "parts/2222222222222222222222222222222222222222222222222222222222222222"
#define HASH "00112233445566778899aabbccddeeff"

/* text parsed as a manifest of location "loc" (a reader of store schema 5): the result, and
 * the message contains want (when not NULL). */
static int parse(const char *text, const char *want)
{
    reel__remote *r = calloc(1, sizeof *r);
    char *copy = strdup(text);
    int rc;
    ck_assert_ptr_nonnull(r);
    pthread_mutex_init(&r->ahead_lock, NULL);
    pthread_mutex_init(&r->index_lock, NULL);
    pthread_cond_init(&r->ahead_cond, NULL);
    r->cache_fd = -1;
    ck_assert_int_eq(reel__loc_open("loc", &r->loc), REEL_OK);
    rc = reel__manifest_parse(r, copy, strlen(copy), 5);
    if (want)
        ck_assert_msg(strstr(reel_errmsg(), want), "'%s' not in '%s' (for %.200s)", want,
                      reel_errmsg(), text);
    if (rc == REEL_OK) {
        ck_assert_int_eq(r->part_first[0], 0);
        ck_assert_int_eq(r->part_first[r->nparts], r->nblocks);
    }
    free(copy);
    reel__remote_close(r);
    return rc;
}

START_TEST(test_manifest_good)
{
    const char *v3 = "{\"format\":\"reel published store\",\"version\":3,\"schema_version\":5,"
                     "\"bytes\":65537,\"block_size\":65536,\"sequences\":[{\"x\":[[[1]]]}],"
                     "\"unknown\":{\"a\":[1,2,{\"b\":\"c\"}]},"
                     "\"parts\":[{\"key\":\"" KEY1 ".part\",\"bytes\":65536,"
                     "\"index\":\"" KEY1 ".idx\"},{\"key\":\"" KEY2 ".part\",\"bytes\":1,"
                     "\"index\":\"" KEY2 ".idx\"}]}";
    const char *v1 = "{\"format\":\"reel published store\",\"version\":1,\"bytes\":10,"
                     "\"block_size\":65536,\"blocks\":[\"" HASH "\"],"
                     "\"parts\":[{\"key\":\"" KEY1 ".part\",\"bytes\":10}]}";
    ck_assert_int_eq(parse(v3, NULL), REEL_OK);
    ck_assert_int_eq(parse(v1, NULL), REEL_OK);
}
END_TEST

START_TEST(test_manifest_hostile)
{
    static const struct {
        const char *text, *why;
        int rc;
    } bad[] = {
        {"", "it is not a JSON object", REEL_CORRUPT},
        {"[]", "it is not a JSON object", REEL_CORRUPT},
        {"{\"format\":\"reel published store\"", "an object is not closed", REEL_CORRUPT},
        {"{\"a\":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}", "nested deeper than 16", REEL_CORRUPT},
        {"{\"a\":\"\x01\"}", "control character", REEL_CORRUPT},
        {"{\"a\":[1}]}", "brackets that do not match", REEL_CORRUPT},
        {"{\"a\":#}", "not JSON", REEL_CORRUPT},
        {"{\"format\":\"tar\",\"version\":3}", "format or version", REEL_UNSUPPORTED},
        {"{\"format\":\"reel published store\",\"version\":4}", "format or version",
         REEL_UNSUPPORTED},
        {"{\"format\":\"reel published store\",\"version\":3,\"schema_version\":6}",
         "upgrade reel", REEL_UNSUPPORTED},
        {"{\"format\":\"reel published store\",\"version\":3,\"schema_version\":-1}",
         "schema version", REEL_CORRUPT},
        {"{\"format\":\"reel published store\",\"version\":3,\"bytes\":0,\"block_size\":65536}",
         "limits", REEL_CORRUPT},
        {"{\"format\":\"reel published store\",\"version\":3,\"bytes\":1e300,"
         "\"block_size\":65536}",
         "limits", REEL_CORRUPT},
        {"{\"format\":\"reel published store\",\"version\":3,\"bytes\":9007199254740993,"
         "\"block_size\":65536}",
         "limits", REEL_CORRUPT},
        {"{\"format\":\"reel published store\",\"version\":3,\"bytes\":10,\"block_size\":4096}",
         "limits", REEL_CORRUPT},
        {"{\"format\":\"reel published store\",\"version\":3,\"bytes\":10,\"block_size\":65536,"
         "\"parts\":[]}",
         "do not agree", REEL_CORRUPT},
        {"{\"format\":\"reel published store\",\"version\":3,\"bytes\":10,\"block_size\":65536,"
         "\"parts\":{}}",
         "\"parts\" is not a list", REEL_CORRUPT},
        {"{\"format\":\"reel published store\",\"version\":3,\"bytes\":10,\"block_size\":65536,"
         "\"parts\":[{}]}",
         "too short to name its object", REEL_CORRUPT},
        /* a key that is a path, not a name of reel's */
        {"{\"format\":\"reel published store\",\"version\":3,\"bytes\":10,\"block_size\":65536,"
         "\"parts\":[{\"key\":\"../../../../../../../../../../../../../../../../../etc/passwd"
         "/////////////\",\"bytes\":10,\"index\":\"" KEY1 ".idx\"}]}",
         "without a key of reel's", REEL_CORRUPT},
        {"{\"format\":\"reel published store\",\"version\":3,\"bytes\":10,\"block_size\":65536,"
         "\"parts\":[{\"key\":\"" KEY1 ".part\",\"bytes\":10,\"index\":\"" KEY1 ".part\"}]}",
         "without an index object", REEL_CORRUPT},
        {"{\"format\":\"reel published store\",\"version\":3,\"bytes\":10,\"block_size\":65536,"
         "\"parts\":[{\"key\":\"" KEY1 ".part\",\"bytes\":11,\"index\":\"" KEY1 ".idx\"}]}",
         "wrong size", REEL_CORRUPT},
        {"{\"format\":\"reel published store\",\"version\":3,\"bytes\":10,\"block_size\":65536,"
         "\"parts\":[{\"key\":\"" KEY1 ".part\",\"bytes\":-1,\"index\":\"" KEY1 ".idx\"}]}",
         "wrong size", REEL_CORRUPT},
        {"{\"format\":\"reel published store\",\"version\":3,\"bytes\":10,\"block_size\":65536,"
         "\"parts\":[{\"key\":\"" KEY1 ".part\",\"bytes\":9,\"index\":\"" KEY1 ".idx\"}]}",
         "add up", REEL_CORRUPT},
        /* a first part of a size that is not whole blocks */
        {"{\"format\":\"reel published store\",\"version\":3,\"bytes\":65537,"
         "\"block_size\":65536,\"parts\":[{\"key\":\"" KEY1 ".part\",\"bytes\":1,"
         "\"index\":\"" KEY1 ".idx\"},{\"key\":\"" KEY2 ".part\",\"bytes\":65536,"
         "\"index\":\"" KEY2 ".idx\"}]}",
         "wrong size", REEL_CORRUPT},
        {"{\"format\":\"reel published store\",\"version\":1,\"bytes\":10,\"block_size\":65536,"
         "\"blocks\":[\"" HASH "\",\"" HASH "\"],\"parts\":[{\"key\":\"" KEY1 ".part\","
         "\"bytes\":10}]}",
         "do not agree", REEL_CORRUPT},
        {"{\"format\":\"reel published store\",\"version\":1,\"bytes\":10,\"block_size\":65536,"
         "\"blocks\":[\"00112233445566778899aabbccddeefg\"],\"parts\":[{\"key\":\"" KEY1
         ".part\",\"bytes\":10}]}",
         "not 32 hex digits", REEL_CORRUPT},
        {"{\"format\":\"reel published store\",\"version\":1,\"bytes\":10,\"block_size\":65536,"
         "\"blocks\":[\"00\"],\"parts\":[{\"key\":\"" KEY1 ".part\",\"bytes\":10}]}",
         "not 32 hex digits", REEL_CORRUPT},
    };
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse(bad[i].text, bad[i].why);
        ck_assert_msg(rc == bad[i].rc, "case %zu: %d, not %d (%s)", i, rc, bad[i].rc,
                      reel_errmsg());
        ck_assert_msg(strstr(reel_errmsg(), "loc"), "case %zu names no location: %s", i,
                      reel_errmsg());
    }
}
END_TEST

/* ---- paths too long -------------------------------------------------------------------- */

/* under, then '/' and c up to n bytes in all (malloc'd) */
static char *long_name(const char *under, char c, size_t n)
{
    char *p = malloc(n + 1);
    size_t k;
    ck_assert_ptr_nonnull(p);
    k = (size_t)snprintf(p, n + 1, "%s/", under);
    memset(p + k, c, n - k);
    p[n] = 0;
    return p;
}

/* An open of name refused (rc), with a message saying what, then naming it (as far as a
 * message goes: its first 200 characters). */
static void refused(int rc, int want, const char *name, const char *what)
{
    char head[201];
    snprintf(head, sizeof head, "%s", name);
    ck_assert_msg(rc == want, "%d, not %d: %s", rc, want, reel_errmsg());
    ck_assert_msg(strstr(reel_errmsg(), head), "the path is not named: %s", reel_errmsg());
    ck_assert_msg(strstr(reel_errmsg(), what), "'%s' not in: %s", what, reel_errmsg());
}

START_TEST(test_long_paths)
{
    static const size_t lens[] = {4050, PATH_MAX + 100};
    reel_store *s = make_store();
    reel__remote *r;
    reel__loc l;
    const char *vfs, *file;
    char *name;
    size_t i;
    publish(s, 0, NULL);
    for (i = 0; i < 2; i++) {
        /* a location's name longer than reel takes (it was cut at 4000 bytes) */
        name = long_name(tu_path("pub"), 'x', lens[i]);
        refused(reel__remote_open(name, INT_MAX, &r, &vfs, &file), REEL_INVALID, name,
                "longer than 4000");
        ck_assert_int_ne(reel_publish(s, name, NULL, NULL), REEL_OK);
        ck_assert_msg(strstr(reel_errmsg(), "xxxxxxxxxx"), "not named: %s", reel_errmsg());
        free(name);
        /* a block cache directory too long */
        name = long_name(tu_path("cache"), 'y', lens[i]);
        setenv("REEL_BLOCK_CACHE", name, 1);
        refused(reel__remote_open(tu_path("pub"), INT_MAX, &r, &vfs, &file), REEL_INVALID, name,
                "longer than 4000");
        setenv("REEL_BLOCK_CACHE", tu_path("cache"), 1);
        free(name);
    }
    /* S3: a prefix and a region too long for a request (no server is asked) */
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9", 1);
    setenv("AWS_ACCESS_KEY_ID", "k", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
    name = long_name("s3://bucket", 'z', 600);
    refused(reel__loc_open(name, &l), REEL_INVALID, name, "longer than 500");
    reel__loc_close(&l);
    free(name);
    name = long_name("region", 'w', 100);
    setenv("AWS_REGION", name, 1);
    refused(reel__loc_open("s3://bucket/p", &l), REEL_INVALID, name, "longer than 60");
    reel__loc_close(&l);
    unsetenv("AWS_REGION");
    free(name);
    ck_assert_int_eq(reel__loc_open("s3://bucket/p", &l), REEL_OK);
    reel__loc_close(&l);
    reel_close(s);
}
END_TEST

/* ---- exiting with a published store open ------------------------------------------------ */

static reel_store *left_open; /* reachable: not a leak to LeakSanitizer */
static reel__remote *left_remote;

START_TEST(test_exit_open)
{
    reel_store *s = make_store();
    pid_t pid;
    int status;
    publish(s, 1 << 20, NULL);
    reel_close(s);
#ifdef __SANITIZE_THREAD__
    /* no libreel thread left at the fork under TSan: the default cache's pressure monitor
     * outlives the stores, and a child forked beside it gets a thread id TSan's registry still
     * counts as in use ("dup thread with used id", exit status 66). Elsewhere it stays: the
     * child exits as a real program would, with the monitor running */
    reel_cache_stop_pressure_monitor(reel_cache_default());
#endif
    fflush(NULL);
    /* a child reads forward (its fetcher ahead then runs), has the fetcher bring more, and
     * exits at once with the stores open: it must exit cleanly (under TSan or ASan, a race
     * with OpenSSL's cleanup or a use after it ends the child with their exit status) */
    if ((pid = fork()) == 0) {
        reel_seq *q;
        reel_frame *f;
        int64_t i;
        if (reel_open(tu_path("pub"), REEL_OPEN_READONLY, NULL, &left_open) != REEL_OK ||
            reel_seq_open(left_open, "s", &q) != REEL_OK)
            _exit(3);
        for (i = 0; i < FRAMES / 2; i++) {
            if (reel_frame_get(q, i, 0, &f) != REEL_OK)
                _exit(4);
            reel_frame_release(f);
        }
        left_remote = open_pub();
        reel__ahead_post(left_remote, left_remote->nblocks - 1);
        exit(0);
    }
    ck_assert_int_gt(pid, 0);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "the child exiting with a published store open: %s %d",
                  WIFEXITED(status) ? "exit status" : "signal",
                  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}
END_TEST

int main(void)
{
    TCase *tc = tu_tcase("remote", 120);
    tcase_add_test(tc, test_publish_and_read);
    tcase_add_test(tc, test_blocks);
    tcase_add_test(tc, test_digest);
    tcase_add_test(tc, test_digest_at_exit);
    tcase_add_test(tc, test_last_at_most);
    tcase_add_test(tc, test_manifest_good);
    tcase_add_test(tc, test_manifest_hostile);
    tcase_add_test(tc, test_long_paths);
    tcase_add_test(tc, test_exit_open);
    return tu_run("remote", tc);
}
