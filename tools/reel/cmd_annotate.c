/*
 * cmd_annotate.c - `reel annotate`: per-frame annotations of a sequence in from a file (COCO
 * keypoints JSON, reel's own JSON, CSV of frame,key,value) and out to one (reel's JSON or CSV).
 */
#define _GNU_SOURCE /* strverscmp: image file names in natural order */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { FMT_AUTO, FMT_COCO, FMT_JSON, FMT_CSV };

typedef struct opts {
    const char *in, *out, *key, *producer;
    int format, by_id, multi, quiet;
} opts;

/* Rows to write, with the memory they own. */
typedef struct rows {
    reel_annot *a;
    char **keys; /* each row's key (CSV and reel JSON: any; COCO: the one --key) */
    size_t n, cap;
    int64_t frames; /* of the sequence: indexes past it are refused */
    const char *file;
} rows;

static void rows_free(rows *r)
{
    size_t i;
    for (i = 0; i < r->n; i++) {
        free((void *)r->a[i].value);
        free(r->keys[i]);
    }
    free(r->a);
    free(r->keys);
}

/* Take value (malloc'd) as a new row; -1 (message shown) when out of memory or out of range. */
static int rows_add(rows *r, const char *key, int64_t index, reel_annot *a, void *value)
{
    if (index < 0 || index >= r->frames) {
        cli_error("%s: frame %lld is not in the sequence (it has %lld frames)", r->file,
                  (long long)index, (long long)r->frames);
        free(value);
        return -1;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 256;
        reel_annot *na = realloc(r->a, cap * sizeof *na);
        char **nk = na ? realloc(r->keys, cap * sizeof *nk) : NULL;
        if (na)
            r->a = na;
        if (!nk) {
            free(value);
            return cli_fail("annotate", REEL_NOMEM), -1;
        }
        r->keys = nk;
        r->cap = cap;
    }
    a->index = index;
    a->value = value;
    r->keys[r->n] = strdup(key);
    r->a[r->n++] = *a;
    if (!r->keys[r->n - 1])
        return cli_fail("annotate", REEL_NOMEM), -1;
    return 0;
}

static int by_image_id(const void *x, const void *y)
{
    json_int_t a = json_integer_value(json_object_get(*(json_t *const *)x, "id"));
    json_int_t b = json_integer_value(json_object_get(*(json_t *const *)y, "id"));
    return a < b ? -1 : a > b;
}

static int by_name(const void *x, const void *y)
{
    const char *a = json_string_value(json_object_get(*(json_t *const *)x, "file_name"));
    const char *b = json_string_value(json_object_get(*(json_t *const *)y, "file_name"));
    return strverscmp(a ? a : "", b ? b : "");
}

static json_int_t image_of(json_t *a) { return json_integer_value(json_object_get(a, "image_id")); }

static int by_image(const void *x, const void *y)
{
    json_int_t a = image_of(*(json_t *const *)x), b = image_of(*(json_t *const *)y);
    return a < b ? -1 : a > b;
}

/* The keypoints of the annotations of image id (anns sorted by image) as float32 (persons, K,
 * 3); *at ends past them. *persons: how many; NULL when none (or an error,
 * shown: *persons < 0). */
static float *coco_points(const opts *o, json_t **anns, size_t nanns, size_t *at, json_int_t id,
                          int *k, long *persons)
{
    size_t j, len;
    json_t *kp;
    float *v = NULL, *g;
    size_t lo = 0, hi = nanns;
    *persons = 0;
    while (lo < hi) { /* the first of image id */
        size_t mid = lo + (hi - lo) / 2;
        if (image_of(anns[mid]) < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *at = lo;
    for (; *at < nanns && image_of(anns[*at]) == id; ++*at) {
        if (!(kp = json_object_get(anns[*at], "keypoints")))
            continue;
        len = json_array_size(kp);
        if (!json_is_array(kp) || len == 0 || len % 3 || (*k && len != (size_t)*k * 3)) {
            cli_error("%s: image id %lld: keypoints must be a list of 3 x %d numbers", o->in,
                      (long long)id, *k ? *k : 17);
            goto fail;
        }
        *k = (int)(len / 3);
        if (!(g = realloc(v, (size_t)(*persons + 1) * len * sizeof *v))) {
            cli_fail("annotate", REEL_NOMEM);
            goto fail;
        }
        v = g;
        for (j = 0; j < len; j++) {
            json_t *x = json_array_get(kp, j);
            if (!json_is_number(x)) {
                cli_error("%s: image id %lld: keypoint value %zu is not a number", o->in,
                          (long long)id, j);
                goto fail;
            }
            v[(size_t)*persons * len + j] = (float)json_number_value(x);
        }
        ++*persons;
    }
    return v;
fail:
    free(v);
    *persons = -1;
    return NULL;
}

/* json's list (an array) as a malloc'd vector of its items, or NULL (shown). */
static json_t **items(json_t *list, size_t *n)
{
    json_t **v = calloc((*n = json_array_size(list)) + 1, sizeof *v);
    size_t i;
    if (!v) {
        cli_fail("annotate", REEL_NOMEM);
        return NULL;
    }
    for (i = 0; i < *n; i++)
        v[i] = json_array_get(list, i);
    return v;
}

/* The rows of image i: its people's keypoints as one array. */
static int coco_image(const opts *o, rows *r, json_t *img, int64_t frame, float *v, long persons,
                      int k)
{
    reel_annot a;
    if (persons > 1 && !o->multi) {
        cli_error("%s: image '%s' has %ld people's keypoints; give --multi to keep them all, "
                  "as (people, %d, 3)",
                  o->in, json_string_value(json_object_get(img, "file_name")), persons, k);
        free(v);
        return -1;
    }
    memset(&a, 0, sizeof a);
    a.kind = REEL_ANNOT_BLOB;
    a.dtype = "float32";
    a.ndim = o->multi ? 3 : 2;
    a.shape[0] = persons;
    a.shape[a.ndim - 2] = k;
    a.shape[a.ndim - 1] = 3;
    a.size = (size_t)persons * (size_t)k * 3 * sizeof(float);
    a.producer = o->producer;
    return rows_add(r, o->key ? o->key : "keypoints", frame, &a, v);
}

static int read_coco(const opts *o, json_t *doc, rows *r)
{
    json_t *imgs = json_object_get(doc, "images"), *anns = json_object_get(doc, "annotations");
    json_t **images = NULL, **ann = NULL;
    size_t n = 0, na = 0, i, at = 0;
    int k = 0, rc = 0;
    if (!json_is_array(imgs) || !json_is_array(anns)) {
        cli_error("%s: not COCO keypoints: no \"images\" and \"annotations\" lists", o->in);
        return -1;
    }
    if (!(images = items(imgs, &n)) || !(ann = items(anns, &na)))
        rc = -1;
    for (i = 0; rc == 0 && i < n; i++)
        if (!json_is_integer(json_object_get(images[i], "id")) ||
            !json_is_string(json_object_get(images[i], "file_name"))) {
            cli_error("%s: image %zu has no integer \"id\" and \"file_name\"", o->in, i);
            rc = -1;
        }
    for (i = 0; rc == 0 && i < na; i++)
        if (!json_is_integer(json_object_get(ann[i], "image_id"))) {
            cli_error("%s: annotation %zu has no integer \"image_id\"", o->in, i);
            rc = -1;
        }
    if (rc == 0) {
        qsort(images, n, sizeof *images, o->by_id ? by_image_id : by_name);
        qsort(ann, na, sizeof *ann, by_image);
    }
    for (i = 0; rc == 0 && i < n; i++) {
        json_int_t id = json_integer_value(json_object_get(images[i], "id"));
        long persons;
        float *v = coco_points(o, ann, na, &at, id, &k, &persons);
        if (persons != 0)
            rc = persons < 0 ? -1
                             : coco_image(o, r, images[i], o->by_id ? (int64_t)id : (int64_t)i,
                                          v, persons, k);
    }
    free(images);
    free(ann);
    return rc;
}

static const struct {
    const char *name;
    size_t size;
    int kind; /* 'f' float, 'i' signed, 'u' unsigned, 'b' bool */
} dtypes[] = {{"bool", 1, 'b'},   {"int8", 1, 'i'},    {"uint8", 1, 'u'},   {"int16", 2, 'i'},
              {"uint16", 2, 'u'}, {"int32", 4, 'i'},   {"uint32", 4, 'u'},  {"int64", 8, 'i'},
              {"uint64", 8, 'u'}, {"float16", 2, 'h'}, {"float32", 4, 'f'}, {"float64", 8, 'f'}};

static int dtype_at(const char *name)
{
    int i;
    for (i = 0; name && i < (int)(sizeof dtypes / sizeof dtypes[0]); i++)
        if (!strcmp(dtypes[i].name, name))
            return i;
    return -1;
}

/* Element i of an array of dtype t as a double (little-endian hosts, as the store's bytes). */
static double element(const unsigned char *p, int t, size_t i)
{
    const void *e = p + i * dtypes[t].size;
    union { int8_t i8; uint8_t u8; int16_t i16; uint16_t u16; int32_t i32; uint32_t u32;
            int64_t i64; uint64_t u64; float f; double d; } u;
    memcpy(&u, e, dtypes[t].size);
    switch (t) {
    case 0: return u.u8 != 0;
    case 1: return u.i8;
    case 2: return u.u8;
    case 3: return u.i16;
    case 4: return u.u16;
    case 5: return u.i32;
    case 6: return u.u32;
    case 7: return (double)u.i64;
    case 8: return (double)u.u64;
    case 9: { /* IEEE half */
        int ex = (u.u16 >> 10) & 31, m = u.u16 & 1023;
        double v = ex == 0 ? ldexp(m, -24) : ex == 31 ? (m ? NAN : INFINITY)
                                                       : ldexp(m + 1024, ex - 25);
        return u.u16 & 0x8000 ? -v : v;
    }
    case 10: return u.f;
    default: return u.d;
    }
}

/* Store v as element i of dtype t (not float16); -1 when v does not fit it. */
static int put_element(unsigned char *p, int t, size_t i, double v)
{
    union { int64_t i64; uint64_t u64; float f; double d; unsigned char b[8]; } u;
    char k = (char)dtypes[t].kind;
    size_t bits = dtypes[t].size * 8;
    if (k == 'f') {
        if (dtypes[t].size == 4)
            u.f = (float)v;
        else
            u.d = v;
    } else if (v != floor(v) || (k == 'b' && v != 0 && v != 1)) {
        return -1;
    } else if (k == 'u') {
        if (v < 0 || v >= ldexp(1, (int)bits))
            return -1;
        u.u64 = (uint64_t)v;
    } else {
        if (v < -ldexp(1, (int)bits - 1) || v >= ldexp(1, (int)bits - 1))
            return -1;
        u.i64 = (int64_t)v;
    }
    memcpy(p + i * dtypes[t].size, u.b, dtypes[t].size);
    return 0;
}

/* One entry of reel's JSON ({"frame", "key", "value", and for arrays "dtype", "shape"}). */
static int read_entry(const opts *o, rows *r, json_t *e, size_t at)
{
    json_t *f = json_object_get(e, "frame"), *k = json_object_get(e, "key");
    json_t *v = json_object_get(e, "value"), *shape = json_object_get(e, "shape");
    const char *dt = json_string_value(json_object_get(e, "dtype"));
    reel_annot a;
    unsigned char *buf = NULL;
    size_t i, n = 1;
    int t = dtype_at(dt);
    memset(&a, 0, sizeof a);
    a.producer = o->producer;
    if (!json_is_integer(f) || !json_is_string(k) || !v) {
        cli_error("%s: entry %zu wants \"frame\" (an integer), \"key\" and \"value\"", o->in, at);
        return -1;
    }
    if (!dt) {
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        a.kind = REEL_ANNOT_JSON;
        a.size = text ? strlen(text) : 0;
        return text ? rows_add(r, json_string_value(k), json_integer_value(f), &a, text)
                    : (cli_fail("annotate", REEL_NOMEM), -1);
    }
    if (t < 0 || t == 9 || !json_is_array(shape) || !json_is_array(v) ||
        json_array_size(shape) > REEL_ANNOT_MAX_DIMS) {
        cli_error("%s: entry %zu: an array wants a dtype (not float16), a \"shape\" list and a "
                  "flat \"value\" list",
                  o->in, at);
        return -1;
    }
    a.kind = REEL_ANNOT_BLOB;
    a.dtype = dtypes[t].name;
    a.ndim = (int)json_array_size(shape);
    for (i = 0; i < (size_t)a.ndim; i++) {
        json_int_t d = json_integer_value(json_array_get(shape, i));
        a.shape[i] = d;
        n = d >= 0 && d < (1 << 26) ? n * (size_t)d : SIZE_MAX;
    }
    if (n != json_array_size(v) || !(buf = malloc(n * dtypes[t].size + 1))) {
        cli_error("%s: entry %zu: %zu values for that shape", o->in, at, json_array_size(v));
        return -1;
    }
    for (i = 0; i < n; i++) {
        json_t *x = json_array_get(v, i);
        if (!json_is_number(x) || put_element(buf, t, i, json_number_value(x)) != 0) {
            cli_error("%s: entry %zu: value %zu is not a %s", o->in, at, i, dt);
            free(buf);
            return -1;
        }
    }
    a.size = n * dtypes[t].size;
    return rows_add(r, json_string_value(k), json_integer_value(f), &a, buf);
}

static int read_json(const opts *o, rows *r)
{
    json_error_t err;
    json_t *doc = json_load_file(o->in, JSON_REJECT_DUPLICATES, &err), *list, *e;
    size_t i;
    int rc = 0, coco;
    if (!doc) {
        cli_error("%s:%d: %s", o->in, err.line, err.text);
        return -1;
    }
    coco = o->format == FMT_COCO || json_is_array(json_object_get(doc, "images"));
    if (coco) {
        rc = read_coco(o, doc, r);
    } else if (!json_is_array(list = json_object_get(doc, "annotations"))) {
        cli_error("%s: neither COCO keypoints nor reel's JSON (an \"annotations\" list)", o->in);
        rc = -1;
    } else {
        json_array_foreach(list, i, e) {
            if ((rc = read_entry(o, r, e, i)) != 0)
                break;
        }
    }
    json_decref(doc);
    return rc;
}

/* The next CSV field at *p (quoted with "" inside, or bare up to a comma), into a malloc'd
 * string; *p moves past it and its comma. NULL on a bad quote. */
static char *csv_field(const char **p)
{
    const char *s = *p;
    char *out = malloc(strlen(s) + 1), *w = out;
    if (!out)
        return NULL;
    if (*s == '"') {
        for (s++;; s++) {
            if (*s == '"' && s[1] == '"')
                *w++ = *s++;
            else if (*s == '"')
                break;
            else if (!*s) {
                free(out);
                return NULL;
            } else
                *w++ = *s;
        }
        s++;
    } else {
        while (*s && *s != ',' && *s != '\n' && *s != '\r')
            *w++ = *s++;
    }
    *w = '\0';
    if (*s == ',')
        s++;
    *p = s;
    return out;
}

/* A CSV row's fields (frame, key, [dtype, shape,] value) as an entry of reel's JSON. */
static json_t *csv_entry(char **f, int wide)
{
    long long frame;
    json_t *e = json_object(), *v = json_loads(f[wide ? 4 : 2], JSON_DECODE_ANY, NULL);
    if (!e || cli_int64(f[0], &frame) != 0 || !v) {
        json_decref(e);
        json_decref(v);
        return NULL;
    }
    cli_json_set(e, "frame", json_integer(frame));
    cli_json_set(e, "key", json_string(f[1]));
    cli_json_set(e, "value", v);
    if (wide && *f[2]) {
        cli_json_set(e, "dtype", json_string(f[2]));
        cli_json_set(e, "shape", json_loads(f[3], 0, NULL));
    }
    return e;
}

static int read_csv(const opts *o, rows *r)
{
    FILE *f = fopen(o->in, "r");
    char *line = NULL, *fields[5];
    size_t cap = 0, ln = 0;
    int rc = 0, i, wide = 0, nf;
    if (!f) {
        cli_error("%s: cannot be read", o->in);
        return -1;
    }
    while (rc == 0 && getline(&line, &cap, f) > 0) {
        const char *p = line;
        json_t *e;
        if (++ln == 1 && !strncmp(line, "frame,key,", 10)) {
            wide = !strncmp(line, "frame,key,dtype,shape,value", 27);
            continue;
        }
        nf = wide ? 5 : 3;
        for (i = 0; i < nf; i++)
            fields[i] = csv_field(&p);
        for (i = 0; i < nf && fields[i]; i++)
            ;
        if (i < nf || !(e = csv_entry(fields, wide))) {
            cli_error("%s:%zu: a row must be frame,key,%svalue (value: JSON, quoted as CSV)",
                      o->in, ln, wide ? "dtype,shape," : "");
            rc = -1;
        } else {
            rc = read_entry(o, r, e, ln);
            json_decref(e);
        }
        for (i = 0; i < nf; i++)
            free(fields[i]);
    }
    free(line);
    fclose(f);
    return rc;
}

/* Write the rows: those of one key in one transaction. */
static int write_rows(reel_seq *q, const opts *o, rows *r)
{
    size_t i = 0, j;
    while (i < r->n) {
        int rc;
        for (j = i + 1; j < r->n && !strcmp(r->keys[j], r->keys[i]); j++)
            ;
        if ((rc = reel_annots_set(q, r->keys[i], r->a + i, j - i)) != REEL_OK)
            return cli_fail(o->in, rc);
        i = j;
    }
    if (!o->quiet)
        printf("%zu annotation(s) from %s\n", r->n, o->in);
    return EXIT_OK;
}

static int import_file(reel_seq *q, const opts *o, int64_t frames)
{
    rows r;
    const char *dot = strrchr(o->in, '.');
    int fmt = o->format, rc;
    memset(&r, 0, sizeof r);
    r.frames = frames;
    r.file = o->in;
    if (fmt == FMT_AUTO)
        fmt = dot && !strcmp(dot, ".csv") ? FMT_CSV : FMT_JSON;
    rc = fmt == FMT_CSV ? read_csv(o, &r) : read_json(o, &r);
    rc = rc == 0 ? write_rows(q, o, &r) : EXIT_FAIL;
    rows_free(&r);
    return rc;
}

/* ---- export ---- */

typedef struct out_ctx {
    FILE *f;
    json_t *list; /* reel JSON */
    int csv, failed;
} out_ctx;

static json_t *entry(const char *key, const reel_annot *a)
{
    json_t *e = json_object(), *v, *shape;
    size_t i, n = 1;
    int t, d;
    cli_json_set(e, "frame", json_integer(a->index));
    cli_json_set(e, "key", cli_json_text(key));
    if (a->kind == REEL_ANNOT_JSON) {
        v = json_loadb(a->value, a->size, JSON_DECODE_ANY, NULL);
        cli_json_set(e, "value", v ? v : cli_json_text(a->value));
    } else {
        t = dtype_at(a->dtype);
        shape = json_array();
        for (d = 0; d < a->ndim; d++) {
            cli_json_append(shape, json_integer(a->shape[d]));
            n *= (size_t)a->shape[d];
        }
        v = json_array();
        for (i = 0; i < n; i++) {
            double x = element(a->value, t, i);
            cli_json_append(v, dtypes[t].kind == 'f' || dtypes[t].kind == 'h' ? json_real(x)
                               : dtypes[t].kind == 'b'                       ? json_boolean(x)
                                                                             : json_integer((json_int_t)x));
        }
        cli_json_set(e, "dtype", json_string(a->dtype));
        cli_json_set(e, "shape", shape);
        cli_json_set(e, "value", v);
    }
    if (a->producer)
        cli_json_set(e, "producer", cli_json_text(a->producer));
    return e;
}

/* text as a CSV field: quoted, with "" for each quote. */
static void csv_put(FILE *f, const char *text, const char *sep)
{
    fputc('"', f);
    for (; *text; text++)
        fputs(*text == '"' ? "\"\"" : (char[]){*text, 0}, f);
    fputc('"', f);
    fputs(sep, f);
}

static int out_one(void *ctx, const char *key, const reel_annot *a)
{
    out_ctx *c = ctx;
    json_t *e = entry(key, a);
    char *v, *shape;
    if (!c->csv) {
        cli_json_append(c->list, e);
        return 0;
    }
    v = json_dumps(json_object_get(e, "value"), JSON_COMPACT | JSON_ENCODE_ANY);
    shape = a->dtype ? json_dumps(json_object_get(e, "shape"), JSON_COMPACT) : NULL;
    fprintf(c->f, "%lld,", (long long)a->index);
    csv_put(c->f, key, ",");
    csv_put(c->f, a->dtype ? a->dtype : "", ",");
    csv_put(c->f, shape ? shape : "", ",");
    csv_put(c->f, v ? v : "", "\n");
    c->failed |= !v || (a->dtype && !shape);
    free(v);
    free(shape);
    json_decref(e);
    return 0;
}

static int export_file(reel_seq *q, const opts *o, const char *seq)
{
    out_ctx c = {NULL, NULL, 0, 0};
    const char *dot = strrchr(o->out, '.');
    json_t *doc;
    int rc, stdout_ = !strcmp(o->out, "-");
    c.csv = o->format == FMT_CSV || (o->format == FMT_AUTO && dot && !strcmp(dot, ".csv"));
    if (!(c.f = stdout_ ? stdout : fopen(o->out, "w"))) {
        cli_error("%s: cannot be written", o->out);
        return EXIT_FAIL;
    }
    if (c.csv)
        fputs("frame,key,dtype,shape,value\n", c.f);
    else
        c.list = json_array();
    rc = reel_annot_foreach(q, o->key, out_one, &c);
    if (rc == REEL_OK && !c.csv) {
        doc = json_object();
        cli_json_set(doc, "sequence", cli_json_text(seq));
        cli_json_set(doc, "annotations", c.list);
        c.list = NULL;
        c.failed |= json_dumpf(doc, c.f, JSON_INDENT(1)) != 0 || fputc('\n', c.f) == EOF;
        json_decref(doc);
    }
    json_decref(c.list);
    c.failed |= ferror(c.f) != 0;
    if (!stdout_)
        c.failed |= fclose(c.f) != 0;
    if (rc != REEL_OK)
        return cli_fail(seq, rc);
    if (c.failed) {
        cli_error("%s: could not be written in full", o->out);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int parse(int argc, char **argv, opts *o)
{
    static const struct option options[] = {
        {"import", required_argument, NULL, 'i'}, {"export", required_argument, NULL, 'e'},
        {"format", required_argument, NULL, 'f'}, {"key", required_argument, NULL, 'k'},
        {"by", required_argument, NULL, 'b'},     {"producer", required_argument, NULL, 'p'},
        {"multi", no_argument, NULL, 'm'},        {"quiet", no_argument, NULL, 'q'},
        CLI_OPT_HELP,                             CLI_OPT_END};
    int c;
    memset(o, 0, sizeof *o);
    while ((c = cli_getopt(&cmd_annotate, argc, argv, "q", options)) != -1) {
        switch (c) {
        case 'i': o->in = optarg; break;
        case 'e': o->out = optarg; break;
        case 'k': o->key = optarg; break;
        case 'p': o->producer = optarg; break;
        case 'm': o->multi = 1; break;
        case 'q': o->quiet = 1; break;
        case 'f':
            o->format = !strcmp(optarg, "coco") ? FMT_COCO : !strcmp(optarg, "json") ? FMT_JSON
                        : !strcmp(optarg, "csv")  ? FMT_CSV : -1;
            if (o->format < 0)
                return cli_usage_error(&cmd_annotate, "--format is coco, json or csv, not '%s'",
                                       optarg);
            break;
        case 'b':
            if (strcmp(optarg, "order") && strcmp(optarg, "id"))
                return cli_usage_error(&cmd_annotate, "--by is order or id, not '%s'", optarg);
            o->by_id = !strcmp(optarg, "id");
            break;
        default: return EXIT_USAGE;
        }
    }
    if ((c = cli_operands(&cmd_annotate, argc, argv, 2, 2, "a store and a sequence")))
        return c;
    if (!o->in == !o->out)
        return cli_usage_error(&cmd_annotate, "give --import FILE or --export FILE");
    if (o->out && o->format == FMT_COCO)
        return cli_usage_error(&cmd_annotate, "--export writes reel's JSON or CSV, not COCO");
    return EXIT_OK;
}

static int run(int argc, char **argv)
{
    opts o;
    reel_store *s;
    reel_seq *q;
    reel_seq_info info;
    char producer[4096];
    int rc = parse(argc, argv, &o);
    if (rc != EXIT_OK)
        return rc;
    if (o.in && !o.producer) {
        snprintf(producer, sizeof producer, "reel annotate --import %s", o.in);
        o.producer = producer;
    }
    if (o.in) {
        if (cli_open(argv[optind], CLI_WRITE, &s) != EXIT_OK)
            return EXIT_FAIL;
        if ((rc = reel_seq_open(s, argv[optind + 1], &q)) != REEL_OK ||
            (rc = reel_seq_get_info(q, &info)) != REEL_OK) {
            reel_close(s);
            return cli_fail(argv[optind], rc);
        }
    } else if (cli_open_seq(argv[optind], argv[optind + 1], 0, &s, &q, &info) != EXIT_OK) {
        return EXIT_FAIL;
    }
    rc = o.in ? import_file(q, &o, info.frame_count) : export_file(q, &o, argv[optind + 1]);
    reel_seq_close(q);
    reel_close(s);
    return rc;
}

const command cmd_annotate = {
    "annotate", "import or export a sequence's per-frame annotations",
    "annotate STORE SEQUENCE (--import FILE | --export FILE) [options]\n\n"
    "  --import FILE      COCO keypoints JSON (an \"images\" list: keypoints as float32 (17, 3)\n"
    "                     per image, under --key, default 'keypoints'), reel's JSON (as\n"
    "                     --export writes it), or CSV rows frame,key,value (value: JSON);\n"
    "                     each key is written in one transaction; a value already there is\n"
    "                     replaced\n"
    "  --export FILE      reel's JSON, or CSV for a .csv name ('-': standard output)\n"
    "  --format FMT       coco, json or csv (default: from the file's name and content)\n"
    "  --key KEY          COCO: the key to write; --export: only this key\n"
    "  --by order|id      COCO: an image's frame is its place in file-name order (default) or\n"
    "                     its id\n"
    "  --multi            COCO: several people per image, as float32 (people, 17, 3)\n"
    "  --producer TEXT    who made them (default: the command and file)\n"
    "  --quiet            no summary line",
    run};
