/*
 * manifest.c - the manifest of a published store, written (by a publish: version 3) and read
 * (checked, then parsed into the parts, where each begins, and the blocks' hashes: listed in
 * it, versions 1 and 2, or named index objects, version 3); and the names reel gives the
 * objects it lists.
 *
 * The manifest comes from the location, which may be hostile. Before jansson builds anything,
 * one pass over the text (no allocation) checks its shape and blanks (to a 0) every value the
 * reader does not use (the sequences, which SQLite gives again, and members it does not know):
 * so the tree jansson builds holds only the parts and the listed hashes, a few times the text
 * they take, never a structure of whatever size a server chose. Nesting deeper than the
 * manifest's own is refused there too. Then every number is checked against its limits
 * before any arithmetic, and every object key must be the name reel gives it
 * ("parts/<64 hex digits>.part" or ".idx"): keys are names, never paths.
 */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "remote/remote_impl.h"

/* ---- the names of objects ------------------------------------------------------------ */

void reel__object_key(const uint8_t md[REEL__SHA256_BYTES], const char *ext, char *key)
{
    char hex[2 * REEL__SHA256_BYTES + 1];
    reel__hex(md, hex, 2 * REEL__SHA256_BYTES);
    snprintf(key, REEL__KEY_BYTES, "parts/%s%.8s", hex, ext);
}

/* An index object's name, "parts/<SHA-256 of its content>.idx": where the hex digits start,
 * or NULL when key is not one. */
const char *reel__index_hex(const char *key)
{
    size_t n = key ? strlen(key) : 0;
    if (n != 6 + 64 + 4 || strncmp(key, "parts/", 6) || strcmp(key + 70, ".idx") ||
        strspn(key + 6, "0123456789abcdef") < 64)
        return NULL;
    return key + 6;
}

/* Whether v is a part's name: "parts/<64 lowercase hex digits>.part", nothing else. */
static int part_name(const json_t *v)
{
    const char *k = json_string_value(v);
    return k && json_string_length(v) == 75 && strlen(k) == 75 && !strncmp(k, "parts/", 6) &&
           strspn(k + 6, "0123456789abcdef") == 64 && !strcmp(k + 70, ".part");
}

size_t reel__last_at_most(const int64_t *v, size_t n, int64_t x)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        if (v[mid] <= x)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* ---- writing -------------------------------------------------------------------------- */

static json_t *sequences_json(const reel__pubseq *seqs, size_t n)
{
    json_t *a = json_array();
    size_t i, j;
    for (i = 0; a && i < n; i++) {
        json_t *o = json_pack("{s:s, s:I, s:i, s:i, s:s, s:s, s:i, s:I}", "name", seqs[i].name,
                              "frames", (json_int_t)seqs[i].frames, "width", seqs[i].width,
                              "height", seqs[i].height, "pix_fmt", seqs[i].pix_fmt, "codec",
                              seqs[i].codec, "keyint", seqs[i].keyint, "stored_bytes",
                              (json_int_t)seqs[i].stored_bytes);
        json_t *r = seqs[i].ranges ? json_array() : NULL;
        for (j = 0; r && j < seqs[i].nranges; j++)
            if (json_array_append_new(r, json_pack("[I, I, I]", (json_int_t)seqs[i].ranges[j][0],
                                                   (json_int_t)seqs[i].ranges[j][1],
                                                   (json_int_t)seqs[i].ranges[j][2])) != 0) {
                json_decref(r);
                r = NULL;
            }
        if (!o || (seqs[i].ranges && (!r || json_object_set_new(o, "parts", r) != 0)) ||
            json_array_append_new(a, o) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *parts_json(const reel__pubpart *p, size_t n)
{
    json_t *a = json_array();
    size_t i;
    for (i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_pack("{s:s, s:I, s:s}", "key", p[i].key, "bytes",
                                               (json_int_t)p[i].bytes, "index", p[i].index)) !=
            0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

int reel__manifest_write(const reel__manifest_out *o, char **text)
{
    json_t *m = json_pack("{s:s, s:i, s:i, s:I, s:i, s:I, s:s, s:o, s:o}", "format",
                          "reel published store", "version", 3, "schema_version", o->schema,
                          "bytes", (json_int_t)o->bytes, "block_size", REEL__BLOCK_SIZE,
                          "part_size", (json_int_t)o->part_bytes, "published_by",
                          "reel " REEL_VERSION_STRING, "sequences",
                          sequences_json(o->seqs, o->nseqs), "parts",
                          parts_json(o->parts, o->nparts));
    *text = m ? json_dumps(m, JSON_COMPACT) : NULL;
    json_decref(m);
    return *text ? REEL_OK : reel__err(REEL_NOMEM, "out of memory writing the manifest");
}

/* ---- the pass before jansson ---------------------------------------------------------------- */

#define PART_TEXT_MIN 80 /* {"key":"parts/<64 hex>.part"} alone is 85 characters */
#define DEPTH_MAX 16 /* the manifest's own nesting is 5 (top, sequences, one, its ranges, one) */

typedef struct scan {
    char *p, *end;
    const char *why; /* what was wrong (static text) */
} scan;

enum { DROP, SCALAR, PARTS, BLOCKS };

static void ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int fail(scan *s, const char *why)
{
    s->why = why;
    return -1;
}

/* A string, s->p at its opening quote (jansson checks the escapes of those it keeps). */
static int str(scan *s)
{
    char *p;
    for (p = s->p + 1; p < s->end && *p != '"'; p++)
        if ((unsigned char)*p < 0x20 || (*p == '\\' && ++p >= s->end))
            return fail(s, "a string is not closed, or holds a control character");
    if (p >= s->end)
        return fail(s, "a string is not closed");
    s->p = p + 1;
    return 0;
}

static int scalar_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '-' || c == '+' || c == '.';
}

/* Past one value of any shape, containers nested at most DEPTH_MAX deep. */
static int skip(scan *s)
{
    char close[DEPTH_MAX];
    int d = 0;
    do {
        ws(s);
        if (s->p >= s->end)
            return fail(s, "it ends inside a value");
        if (*s->p == '"') {
            if (str(s) != 0)
                return -1;
        } else if (*s->p == '[' || *s->p == '{') {
            if (d == DEPTH_MAX)
                return fail(s, "values nested deeper than 16");
            close[d++] = *s->p++ == '[' ? ']' : '}';
        } else if (*s->p == ']' || *s->p == '}') {
            if (!d || close[d - 1] != *s->p)
                return fail(s, "brackets that do not match");
            d--;
            s->p++;
        } else if (d && (*s->p == ',' || *s->p == ':')) {
            s->p++;
        } else if (scalar_char(*s->p)) {
            while (s->p < s->end && scalar_char(*s->p))
                s->p++;
        } else {
            return fail(s, "a character that is not JSON");
        }
    } while (d > 0);
    return 0;
}

/* What the reader does with member key (len bytes) of the manifest (part 0) or of a part (1). */
static int kind_of(const char *key, size_t len, int part)
{
    static const char *const top[] = {"format", "version", "schema_version", "bytes",
                                      "block_size", NULL};
    static const char *const in_part[] = {"key", "bytes", "index", NULL};
    const char *const *k;
    if (!part && len == 5 && !memcmp(key, "parts", 5))
        return PARTS;
    if (!part && len == 6 && !memcmp(key, "blocks", 6))
        return BLOCKS;
    for (k = part ? in_part : top; *k; k++)
        if (strlen(*k) == len && !memcmp(key, *k, len))
            return SCALAR;
    return DROP;
}

static int object(scan *s, int part);

/* An array of parts (objects) or of block hashes (strings). */
static int array(scan *s, int kind)
{
    ws(s);
    if (s->p >= s->end || *s->p++ != '[')
        return fail(s, kind == PARTS ? "\"parts\" is not a list" : "\"blocks\" is not a list");
    ws(s);
    if (s->p < s->end && *s->p == ']')
        return s->p++, 0;
    for (;;) {
        ws(s);
        char *at = s->p;
        if (kind == PARTS ? object(s, 1) != 0
                          : s->p >= s->end || *s->p != '"' ? fail(s, "a block hash is not a string")
                                                           : str(s) != 0)
            return -1;
        /* each element jansson builds costs ~10x its text at least: a block hash is exactly
         * 32 hex digits, and a part names its object (a key of 75 characters), so that a
         * manifest's tree stays within a few times its size */
        if (kind == BLOCKS && s->p - at != 34)
            return fail(s, "a block hash is not 32 hex digits");
        if (kind == PARTS && s->p - at < PART_TEXT_MIN)
            return fail(s, "a part is too short to name its object (parts/<64 hex digits>.part)");
        ws(s);
        if (s->p < s->end && *s->p == ',')
            s->p++;
        else if (s->p < s->end && *s->p == ']')
            return s->p++, 0;
        else
            return fail(s, "a list is not closed");
    }
}

/* One member's value: kept (and checked for its shape) or blanked. */
static int member(scan *s, int kind)
{
    char *v;
    ws(s);
    v = s->p;
    if (kind == PARTS || kind == BLOCKS)
        return array(s, kind);
    if (kind == SCALAR && s->p < s->end && (*s->p == '[' || *s->p == '{'))
        return fail(s, "a number or a name is a list or an object");
    if (skip(s) != 0)
        return -1;
    if (kind == DROP) { /* not read: a 0 for jansson, whatever it was */
        memset(v, ' ', (size_t)(s->p - v));
        *v = '0';
    }
    return 0;
}

/* The manifest (part 0) or one of its parts (1). */
static int object(scan *s, int part)
{
    ws(s);
    if (s->p >= s->end || *s->p++ != '{')
        return fail(s, part ? "a part is not an object" : "it is not a JSON object");
    ws(s);
    if (s->p < s->end && *s->p == '}')
        return s->p++, 0;
    for (;;) {
        char *key;
        size_t len;
        ws(s);
        if (s->p >= s->end || *s->p != '"')
            return fail(s, "an object's member has no name");
        key = s->p + 1;
        if (str(s) != 0)
            return -1;
        len = (size_t)(s->p - 1 - key);
        ws(s);
        if (s->p >= s->end || *s->p++ != ':')
            return fail(s, "a member's name has no ':' after it");
        if (member(s, kind_of(key, len, part)) != 0)
            return -1;
        ws(s);
        if (s->p < s->end && *s->p == ',')
            s->p++;
        else if (s->p < s->end && *s->p == '}')
            return s->p++, 0;
        else
            return fail(s, "an object is not closed");
    }
}

/* ---- the manifest ------------------------------------------------------------------------ */

static int bad_manifest(const reel__remote *r, const char *why)
{
    return reel__err(REEL_CORRUPT, "%s/%s is damaged or not reel's: %s", r->loc.display,
                     REEL__MANIFEST, why);
}

/* A name from the manifest, fit to print: at most 80 characters, anything but printable
 * ASCII as '?'. */
static void shown(const char *name, char out[96])
{
    size_t i;
    for (i = 0; name[i] && i < 80; i++)
        out[i] = name[i] >= 0x20 && name[i] < 0x7f ? name[i] : '?';
    snprintf(out + i, 96 - i, "%s", name[i] ? "..." : "");
}

/* A whole number of the manifest in [lo, hi] into *out; 0 when it is not one. */
static int number(const json_t *m, const char *name, int64_t lo, int64_t hi, int64_t *out)
{
    const json_t *v = json_object_get(m, name);
    *out = json_is_integer(v) ? (int64_t)json_integer_value(v) : lo - 1;
    return json_is_integer(v) && *out >= lo && *out <= hi;
}

/* Part i of the manifest: its name, size (checked against what is left of the store's after
 * *sum bytes, then added to *sum) and index object. */
static int part_parse(reel__remote *r, const json_t *v, int64_t i, int64_t *sum, int version)
{
    const json_t *key = json_object_get(v, "key"), *index = json_object_get(v, "index");
    char why[256], name[96];
    int64_t n;
    if (!part_name(key)) {
        shown(json_is_string(key) ? json_string_value(key) : "(none)", name);
        snprintf(why, sizeof why,
                 "part %lld is without a key of reel's: \"%s\" is not a part's name "
                 "(parts/<64 hex digits>.part)",
                 (long long)i, name);
        return bad_manifest(r, why);
    }
    if (!number(v, "bytes", 1, REEL__PART_MAX, &n) || n > r->bytes - *sum ||
        (i < r->nparts - 1 && n % REEL__BLOCK_SIZE)) {
        snprintf(why, sizeof why, "part %lld has a wrong size (whole 64 KiB blocks, at most "
                                  "%lld bytes, within the store's)",
                 (long long)i, (long long)REEL__PART_MAX);
        return bad_manifest(r, why);
    }
    if (version >= 3 && !reel__index_hex(json_string_value(index))) {
        shown(json_is_string(index) ? json_string_value(index) : "(none)", name);
        snprintf(why, sizeof why,
                 "part %lld is without an index object of reel's: \"%s\" is not an index's "
                 "name (parts/<64 hex digits>.idx)",
                 (long long)i, name);
        return bad_manifest(r, why);
    }
    if (!(r->parts[i] = reel__strdup(json_string_value(key))) ||
        (version >= 3 && !(r->index[i] = reel__strdup(json_string_value(index)))))
        return reel__err(REEL_NOMEM, "out of memory");
    r->part_first[i] = *sum / REEL__BLOCK_SIZE;
    if (version < 3)
        r->hashes[i] = r->listed + r->part_first[i] * REEL__HASH_BYTES;
    *sum += n;
    return REEL_OK;
}

/* The header: format, version (*version), store schema (at most schema), size, block size. */
static int head_parse(reel__remote *r, const json_t *m, int schema, int64_t *version)
{
    const json_t *f = json_object_get(m, "format");
    int64_t sv;
    if (!json_is_string(f) || strcmp(json_string_value(f), "reel published store") ||
        !number(m, "version", 1, 3, version))
        return reel__err(REEL_UNSUPPORTED, "%s: not a manifest of this reel's (format or version)",
                         r->loc.display);
    if (json_object_get(m, "schema_version") && !number(m, "schema_version", 1, INT64_MAX, &sv))
        return bad_manifest(r, "the store schema version is not a whole number from 1 on");
    if (json_object_get(m, "schema_version") && sv > schema)
        return reel__err(REEL_UNSUPPORTED,
                         "%s: published by a newer reel (store schema version %lld; this libreel, "
                         "%s, reads up to %d): upgrade reel",
                         r->loc.display, (long long)sv, REEL_VERSION_STRING, schema);
    if (!number(m, "bytes", 1, REEL__STORE_MAX, &r->bytes) ||
        !number(m, "block_size", REEL__BLOCK_SIZE, REEL__BLOCK_SIZE, &sv))
        return bad_manifest(r, "the store's size and block size do not agree with reel's limits "
                               "(1 byte to 8 PiB, blocks of 64 KiB)");
    r->nblocks = (r->bytes + REEL__BLOCK_SIZE - 1) / REEL__BLOCK_SIZE;
    return REEL_OK;
}

/* The arrays of r, for nparts parts (and, version < 3, every block's hash). */
static int alloc_parts(reel__remote *r, int64_t version)
{
    r->parts = reel__calloc((size_t)r->nparts, sizeof *r->parts);
    r->part_first = reel__calloc((size_t)r->nparts + 1, sizeof *r->part_first);
    r->hashes = reel__calloc((size_t)r->nparts, sizeof *r->hashes);
    r->seen = reel__calloc((size_t)r->nparts, sizeof *r->seen);
    if (version < 3)
        r->listed = reel__malloc((size_t)r->nblocks * REEL__HASH_BYTES);
    else
        r->index = reel__calloc((size_t)r->nparts, sizeof *r->index);
    if (!r->parts || !r->part_first || !r->hashes || !r->seen ||
        (version < 3 ? !r->listed : !r->index))
        return reel__err(REEL_NOMEM, "out of memory");
    return REEL_OK;
}

/* Version 1: parts of one size; 2: the first parts end where the head does; both list every
 * block's hash. 3: as 2, the hashes in an index object per part. Each part but the last holds
 * whole blocks and the parts add up to the file. */
static int tree_parse(reel__remote *r, json_t *m, int schema)
{
    json_t *parts, *blocks;
    int64_t sum = 0, i, version;
    int rc;
    if ((rc = head_parse(r, m, schema, &version)) != REEL_OK)
        return rc;
    parts = json_object_get(m, "parts");
    blocks = json_object_get(m, "blocks");
    if (!json_is_array(parts) || !json_array_size(parts) ||
        (version < 3 && (!json_is_array(blocks) ||
                         (int64_t)json_array_size(blocks) != r->nblocks)))
        return bad_manifest(r, "sizes, parts and blocks do not agree");
    r->nparts = (int64_t)json_array_size(parts);
    if ((rc = alloc_parts(r, version)) != REEL_OK)
        return rc;
    for (i = 0; rc == REEL_OK && i < r->nparts; i++)
        rc = part_parse(r, json_array_get(parts, (size_t)i), i, &sum, (int)version);
    if (rc == REEL_OK && sum != r->bytes)
        return bad_manifest(r, "the parts do not add up to the store's size");
    if (rc == REEL_OK)
        r->part_first[r->nparts] = r->nblocks;
    for (i = 0; rc == REEL_OK && version < 3 && i < r->nblocks; i++) {
        const char *h = json_string_value(json_array_get(blocks, (size_t)i));
        if (!h || strlen(h) != REEL__HASH_BYTES * 2 ||
            reel__unhex(h, r->listed + i * REEL__HASH_BYTES, REEL__HASH_BYTES) != 0)
            rc = bad_manifest(r, "a block hash is not 32 hex digits");
    }
    return rc;
}

int reel__manifest_parse(reel__remote *r, char *text, size_t len, int schema)
{
    scan s = {text, text + len, NULL};
    json_error_t e;
    json_t *m;
    int rc;
    if (object(&s, 0) != 0) {
        char why[160];
        snprintf(why, sizeof why, "%s (byte %lld)", s.why, (long long)(s.p - text));
        return bad_manifest(r, why);
    }
    if (!(m = json_loadb(text, len, 0, &e)))
        return bad_manifest(r, e.text);
    rc = tree_parse(r, m, schema);
    json_decref(m);
    return rc;
}
