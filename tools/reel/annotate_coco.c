/*
 * annotate_coco.c - COCO keypoints JSON in and out for `reel annotate`: in, an image's frame is
 * its place in file-name order (or its id) and its people's keypoints one float32 array; out,
 * every frame is an image (id: the frame index) and every person of a value an annotation.
 */
#define _GNU_SOURCE /* strverscmp: image file names in natural order */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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
static float *coco_points(const ann_opts *o, json_t **anns, size_t nanns, size_t *at, json_int_t id,
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
static int coco_image(const ann_opts *o, ann_rows *r, json_t *img, int64_t frame, float *v, long persons,
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
    return ann_rows_add(r, o->key ? o->key : "keypoints", frame, &a, v);
}

int ann_read_coco(const ann_opts *o, json_t *doc, ann_rows *r)
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

/* ---- export ---- */

static const char *const coco_names[17] = {
    "nose",           "left_eye",       "right_eye",  "left_ear",    "right_ear",
    "left_shoulder",  "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
    "right_wrist",    "left_hip",       "right_hip",  "left_knee",   "right_knee",
    "left_ankle",     "right_ankle"};
static const int coco_skeleton[19][2] = {{16, 14}, {14, 12}, {17, 15}, {15, 13}, {12, 13},
                                         {6, 12},  {7, 13},  {6, 7},   {6, 8},   {7, 9},
                                         {8, 10},  {9, 11},  {2, 3},   {1, 2},   {1, 3},
                                         {2, 4},   {3, 5},   {4, 6},   {5, 7}};

typedef struct coco_out {
    json_t *anns;
    const char *key, *seq;
    int64_t k, frames, past, id; /* keypoints per person; frames; rows left out; last id */
    int failed;                  /* 1: shown; 2: out of memory */
} coco_out;

static int coco_add(json_t *list, json_t *v)
{
    return v && json_array_append_new(list, v) == 0 ? 0 : -1;
}

/* One person's keypoints (k x 3 elements of dtype t from element first of a) as a COCO
 * annotation. */
static json_t *coco_person(coco_out *c, const reel_annot *a, int t, size_t first)
{
    json_t *ann = json_object(), *pts = json_array();
    int64_t j, visible = 0;
    int fl = ann_dtype_kind(t) == 'f' || ann_dtype_kind(t) == 'h', bad = !ann || !pts;
    for (j = 0; !bad && j < c->k * 3; j++) {
        double x = ann_element(a->value, t, first + (size_t)j);
        if (!isfinite(x)) {
            cli_error("%s: '%s' of frame %lld: value %lld is not a finite number (JSON has "
                      "none)",
                      c->seq, c->key, (long long)a->index, (long long)j);
            c->failed = 1;
            bad = 1;
        } else {
            visible += j % 3 == 2 && x > 0;
            bad = coco_add(pts, fl ? json_real(x) : json_integer((json_int_t)x)) != 0;
        }
    }
    bad = bad || json_object_set_new(ann, "id", json_integer(++c->id)) ||
          json_object_set_new(ann, "image_id", json_integer(a->index)) ||
          json_object_set_new(ann, "category_id", json_integer(1));
    if (bad)
        json_decref(pts); /* not ann's yet */
    else
        bad = json_object_set_new(ann, "keypoints", pts); /* ann's now, set or not */
    bad = bad || json_object_set_new(ann, "num_keypoints", json_integer(visible)) ||
          json_object_set_new(ann, "iscrowd", json_integer(0));
    if (bad) {
        json_decref(ann);
        c->failed = c->failed ? c->failed : 2;
        return NULL;
    }
    return ann;
}

/* One frame's value: (K, 3) is one person, (people, K, 3) that many. */
static int coco_frame(void *ctx, const char *key, const reel_annot *a)
{
    coco_out *c = ctx;
    int t = a->kind == REEL_ANNOT_BLOB ? ann_dtype(a->dtype) : -1;
    int64_t people = a->ndim == 3 ? a->shape[0] : 1, k = a->ndim >= 2 ? a->shape[a->ndim - 2] : 0;
    int64_t i;
    (void)key;
    if (t < 0 || a->ndim < 2 || a->ndim > 3 || a->shape[a->ndim - 1] != 3 || k < 1 ||
        (c->k && k != c->k)) {
        char had[48] = "";
        if (c->k)
            snprintf(had, sizeof had, " (the frames before: K = %lld)", (long long)c->k);
        cli_error("%s: '%s' of frame %lld is not COCO keypoints: those are arrays of shape "
                  "(K, 3) or (people, K, 3), K the same on every frame%s",
                  c->seq, c->key, (long long)a->index, had);
        c->failed = 1;
        return 1;
    }
    c->k = k;
    if (a->index >= c->frames) { /* annotated before its frame was imported */
        c->past++;
        return 0;
    }
    for (i = 0; i < people; i++) {
        json_t *ann = coco_person(c, a, t, (size_t)(i * k * 3));
        if (!ann || coco_add(c->anns, ann) != 0) {
            c->failed = c->failed ? c->failed : 2;
            return 1;
        }
    }
    return 0;
}

/* The category: COCO's person with its keypoint names and skeleton when K is 17, else names
 * "1".."K" and no skeleton. */
static json_t *coco_category(int64_t k)
{
    json_t *cat = json_object(), *names = json_array(), *sk = json_array();
    int64_t i;
    int bad = !cat || !names || !sk;
    char n[32];
    for (i = 0; !bad && i < k; i++) {
        snprintf(n, sizeof n, "%lld", (long long)i + 1);
        bad = coco_add(names, json_string(k == 17 ? coco_names[i] : n));
    }
    for (i = 0; !bad && k == 17 && i < 19; i++)
        bad = coco_add(sk, json_pack("[ii]", coco_skeleton[i][0], coco_skeleton[i][1]));
    bad = bad || json_object_set_new(cat, "id", json_integer(1)) ||
          json_object_set_new(cat, "name", json_string("person")) ||
          json_object_set_new(cat, "supercategory", json_string("person")) ||
          json_object_set_new(cat, "keypoints", names) || json_object_set_new(cat, "skeleton", sk);
    if (bad) {
        json_decref(cat);
        return NULL;
    }
    return cat;
}

/* Every frame as an image: id the frame index, file_name its number (zero-padded: file-name
 * order is frame order), the sequence's size. */
static json_t *coco_images(const reel_seq_info *info)
{
    json_t *imgs = json_array();
    int64_t i;
    char name[48];
    for (i = 0; imgs && i < info->frame_count; i++) {
        snprintf(name, sizeof name, "%06lld.png", (long long)i);
        if (coco_add(imgs, json_pack("{sIsssisi}", "id", (json_int_t)i, "file_name", name, "width",
                                     info->width, "height", info->height)) != 0) {
            json_decref(imgs);
            return NULL;
        }
    }
    return imgs;
}

json_t *ann_coco_doc(reel_seq *q, const ann_opts *o, const reel_seq_info *info)
{
    coco_out c;
    json_t *doc = NULL, *imgs, *cats = json_array();
    int rc;
    memset(&c, 0, sizeof c);
    c.key = o->key ? o->key : "keypoints";
    c.seq = info->name;
    c.frames = info->frame_count;
    c.anns = json_array();
    rc = reel_annot_foreach(q, c.key, coco_frame, &c);
    if (rc != REEL_OK && !c.failed) {
        cli_fail(info->name, rc);
        c.failed = 1;
    }
    imgs = c.failed ? NULL : coco_images(info);
    if (imgs && cats && c.anns && coco_add(cats, coco_category(c.k ? c.k : 17)) == 0 &&
        (doc = json_object())) {
        /* each set takes its value, even when it fails: all are tried */
        int bad = json_object_set_new(doc, "info", json_pack("{ss}", "description",
                                                             "reel annotate --export")) |
                  json_object_set_new(doc, "sequence", cli_json_text(info->name)) |
                  json_object_set_new(doc, "images", imgs) |
                  json_object_set_new(doc, "annotations", c.anns) |
                  json_object_set_new(doc, "categories", cats);
        if (bad) {
            json_decref(doc);
            doc = NULL;
        }
    } else {
        json_decref(imgs);
        json_decref(c.anns);
        json_decref(cats);
    }
    if (!doc && !c.failed)
        cli_fail("annotate", REEL_NOMEM);
    if (doc && c.past)
        fprintf(stderr, "reel: warning: %lld value(s) of frames not imported yet left out (COCO "
                        "images are the sequence's frames)\n",
                (long long)c.past);
    return doc;
}
