/*
 * cmd_annotate.c - `reel annotate`: per-frame annotations of a sequence in from a file (COCO
 * keypoints JSON, reel's own JSON, CSV of frame,key,value) and out to one (the same three);
 * COCO's side is annotate_coco.c.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"


static void rows_free(ann_rows *r)
{
    size_t i;
    for (i = 0; i < r->n; i++) {
        free((void *)r->a[i].value);
        free(r->keys[i]);
    }
    free(r->a);
    free(r->keys);
}

int ann_rows_add(ann_rows *r, const char *key, int64_t index, reel_annot *a, void *value)
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


static const struct {
    const char *name;
    size_t size;
    int kind; /* 'f' float, 'i' signed, 'u' unsigned, 'b' bool */
} dtypes[] = {{"bool", 1, 'b'},   {"int8", 1, 'i'},    {"uint8", 1, 'u'},   {"int16", 2, 'i'},
              {"uint16", 2, 'u'}, {"int32", 4, 'i'},   {"uint32", 4, 'u'},  {"int64", 8, 'i'},
              {"uint64", 8, 'u'}, {"float16", 2, 'h'}, {"float32", 4, 'f'}, {"float64", 8, 'f'}};

int ann_dtype_kind(int t) { return dtypes[t].kind; }

int ann_dtype(const char *name)
{
    int i;
    for (i = 0; name && i < (int)(sizeof dtypes / sizeof dtypes[0]); i++)
        if (!strcmp(dtypes[i].name, name))
            return i;
    return -1;
}

double ann_element(const unsigned char *p, int t, size_t i)
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
static int read_entry(const ann_opts *o, ann_rows *r, json_t *e, size_t at)
{
    json_t *f = json_object_get(e, "frame"), *k = json_object_get(e, "key");
    json_t *v = json_object_get(e, "value"), *shape = json_object_get(e, "shape");
    const char *dt = json_string_value(json_object_get(e, "dtype"));
    reel_annot a;
    unsigned char *buf = NULL;
    size_t i, n = 1;
    int t = ann_dtype(dt);
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
        return text ? ann_rows_add(r, json_string_value(k), json_integer_value(f), &a, text)
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
    return ann_rows_add(r, json_string_value(k), json_integer_value(f), &a, buf);
}

static int read_json(const ann_opts *o, ann_rows *r)
{
    json_error_t err;
    json_t *doc = json_load_file(o->in, JSON_REJECT_DUPLICATES, &err), *list, *e;
    size_t i;
    int rc = 0, coco;
    if (!doc) {
        cli_error("%s:%d: %s", o->in, err.line, err.text);
        return -1;
    }
    coco = o->format == ANN_FMT_COCO || json_is_array(json_object_get(doc, "images"));
    if (coco) {
        rc = ann_read_coco(o, doc, r);
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

static int read_csv(const ann_opts *o, ann_rows *r)
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
static int write_rows(reel_seq *q, const ann_opts *o, ann_rows *r)
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

static int import_file(reel_seq *q, const ann_opts *o, int64_t frames)
{
    ann_rows r;
    const char *dot = strrchr(o->in, '.');
    int fmt = o->format, rc;
    memset(&r, 0, sizeof r);
    r.frames = frames;
    r.file = o->in;
    if (fmt == ANN_FMT_AUTO)
        fmt = dot && !strcmp(dot, ".csv") ? ANN_FMT_CSV : ANN_FMT_JSON;
    rc = fmt == ANN_FMT_CSV ? read_csv(o, &r) : read_json(o, &r);
    rc = rc == 0 ? write_rows(q, o, &r) : EXIT_FAIL;
    rows_free(&r);
    return rc;
}

/* ---- export ---- */

typedef struct out_ctx {
    FILE *f;
    json_t *list; /* reel JSON */
    int csv, failed, shown; /* shown: a value JSON cannot hold, said */
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
        t = ann_dtype(a->dtype);
        shape = json_array();
        for (d = 0; d < a->ndim; d++) {
            cli_json_append(shape, json_integer(a->shape[d]));
            n *= (size_t)a->shape[d];
        }
        v = json_array();
        for (i = 0; i < n; i++) {
            double x = ann_element(a->value, t, i);
            if (!isfinite(x)) {
                cli_error("'%s' of frame %lld: value %zu is %s: JSON has no such number",
                          key, (long long)a->index, i, isnan(x) ? "NaN" : "infinite");
                json_decref(shape);
                json_decref(v);
                json_decref(e);
                return NULL;
            }
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
    if (!e) { /* shown */
        c->shown = 1;
        return 1;
    }
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

/* doc (taken) into c's file: 0, or 1 when it could not be written whole. */
static int dump(out_ctx *c, json_t *doc)
{
    int failed = !doc || json_dumpf(doc, c->f, JSON_INDENT(1)) != 0 || fputc('\n', c->f) == EOF;
    json_decref(doc);
    return failed;
}

static int export_file(reel_seq *q, const ann_opts *o, const reel_seq_info *info)
{
    out_ctx c = {NULL, NULL, 0, 0, 0};
    const char *dot = strrchr(o->out, '.');
    json_t *doc = NULL;
    int rc = REEL_OK, stdout_ = !strcmp(o->out, "-");
    c.csv = o->format == ANN_FMT_CSV || (o->format == ANN_FMT_AUTO && dot && !strcmp(dot, ".csv"));
    /* COCO is made whole before the file is opened: a key that is not keypoints writes none */
    if (o->format == ANN_FMT_COCO && !(doc = ann_coco_doc(q, o, info)))
        return EXIT_FAIL;
    if (!(c.f = stdout_ ? stdout : fopen(o->out, "w"))) {
        cli_error("%s: cannot be written", o->out);
        json_decref(doc);
        return EXIT_FAIL;
    }
    if (doc) {
        c.failed = dump(&c, doc);
    } else {
        if (c.csv)
            fputs("frame,key,dtype,shape,value\n", c.f);
        else
            c.list = json_array();
        rc = reel_annot_foreach(q, o->key, out_one, &c);
        if (rc == REEL_OK && !c.csv) {
            doc = json_object();
            cli_json_set(doc, "sequence", cli_json_text(info->name));
            cli_json_set(doc, "annotations", c.list);
            c.list = NULL;
            c.failed |= dump(&c, doc);
        }
        json_decref(c.list);
    }
    c.failed |= ferror(c.f) != 0;
    if (!stdout_)
        c.failed |= fclose(c.f) != 0;
    if (!stdout_ && (rc != REEL_OK || c.failed))
        unlink(o->out); /* no half-written file left behind */
    if (c.shown)
        return EXIT_FAIL;
    if (rc != REEL_OK)
        return cli_fail(info->name, rc);
    if (c.failed) {
        cli_error("%s: could not be written in full", o->out);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

static int parse(int argc, char **argv, ann_opts *o)
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
            o->format = !strcmp(optarg, "coco") ? ANN_FMT_COCO : !strcmp(optarg, "json") ? ANN_FMT_JSON
                        : !strcmp(optarg, "csv")  ? ANN_FMT_CSV : -1;
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
    return EXIT_OK;
}

static int run(int argc, char **argv)
{
    ann_opts o;
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
    rc = o.in ? import_file(q, &o, info.frame_count) : export_file(q, &o, &info);
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
    "  --export FILE      reel's JSON, or CSV for a .csv name, or with --format coco COCO\n"
    "                     keypoints JSON: every frame an image (id: its index, file_name:\n"
    "                     000012.png), every person of --key's (K, 3) or (people, K, 3)\n"
    "                     arrays an annotation ('-': standard output)\n"
    "  --format FMT       coco, json or csv (default: from the file's name and content)\n"
    "  --key KEY          COCO: the key to read or write (default 'keypoints'); --export\n"
    "                     to JSON or CSV: only this key (default: all)\n"
    "  --by order|id      COCO: an image's frame is its place in file-name order (default) or\n"
    "                     its id\n"
    "  --multi            COCO: several people per image, as float32 (people, 17, 3)\n"
    "  --producer TEXT    who made them (default: the command and file)\n"
    "  --quiet            no summary line",
    run};
