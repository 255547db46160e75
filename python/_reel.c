/*
 * _reel.c - the C half of the Python package `reel`: stores, sequences and frames over
 * libreel's public API (reel.h, nothing else), frames handed to numpy without copies.
 *
 * Lifetimes. A Frame holds a reel_frame handle, so its pixels stay pinned in the RAM tier;
 * every numpy array viewing them keeps the Frame alive (as its base, or through the buffer
 * protocol), and the Frame keeps its Sequence, which keeps its Store. Closing a store while
 * arrays are alive is therefore safe: the Store is marked closed at once (no new reads), each
 * libreel sequence handle is closed as soon as no Frame of it is left, and the libreel store
 * when no sequence handle is. Nothing is freed under an array.
 *
 * Threads. Every call that may touch the database, decode or import runs with the GIL
 * released. The Python objects themselves are only changed with the GIL held. Such a call on
 * a store's handles is bracketed by call_begin/call_end, which count it in store->busy (the
 * GIL held): close() from another thread then only marks the store closed, and the handles
 * are closed by whichever bracket ends last, so no handle is freed under a call in flight
 * and no thread waits on another while holding the GIL.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include <limits.h>
#include <math.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "reel.h"

/* ---- errors -------------------------------------------------------------------------------- */

#define NCODES 17
static PyObject *Error;            /* reel.Error */
static PyObject *errors[NCODES];   /* the class for each result code */
static PyObject *SequenceNotFound; /* also a KeyError */
static PyObject *StoreClosed;      /* a MisuseError, also a ValueError */

static PyObject *NoSuchFile;        /* a missing store or video: also a FileNotFoundError */
static PyObject *FormatError;       /* an unknown pixel format name: also a ValueError */

/* libreel's message as Python says it: without the C function's name in front ("reel_x: "),
 * and C flags named as the Python arguments that set them. A new reference, or NULL. */
static PyObject *python_message(const char *msg)
{
    static const char *const says[][2] = {
        {"pass REEL_OPEN_CREATE to create it", "open it with mode='w' to create it"},
        {"open it with REEL_OPEN_READONLY", "open it with mode='r'"},
        {"(REEL_OPEN_CREATE makes one)", "(mode='w' makes one)"},
        {"REEL_OPEN_READONLY and REEL_OPEN_CREATE", "mode='r' and mode='w'"},
        {"an open reel_store handle", "an open store (in this process)"},
        {"an open reel_seq handle", "an open sequence (in this process)"},
        {"a reel_frame handle", "a frame of this process"},
        {"a reel_cache handle", "a RAM tier of this process"},
        {"wait longer with reel_open_options.busy_timeout_ms, `reel import --wait SECONDS`",
         "wait longer with import_video(..., wait=SECONDS)"},
        {" (reel_open_options.max_frame_mib)", ""},
        {" / reel_import_options.width", ""},
    };
    PyObject *s, *t;
    size_t i, n = strspn(msg, "abcdefghijklmnopqrstuvwxyz_.");
    if (!strncmp(msg, "reel_", 5) && !strncmp(msg + n, ": ", 2))
        msg += n + 2;
    if (!(s = PyUnicode_DecodeUTF8(msg, (Py_ssize_t)strlen(msg), "replace")))
        return NULL;
    for (i = 0; s && i < sizeof says / sizeof says[0]; i++) {
        PyObject *a = PyUnicode_FromString(says[i][0]), *b = PyUnicode_FromString(says[i][1]);
        t = a && b ? PyUnicode_Replace(s, a, b, -1) : NULL;
        Py_XDECREF(a);
        Py_XDECREF(b);
        Py_SETREF(s, t);
    }
    return s;
}

/* Raise cls (a reel error class) with the message text, its .code set to rc; NULL. */
static PyObject *raise_coded(PyObject *cls, int rc, PyObject *text)
{
    PyObject *e, *code;
    if (!text)
        return NULL;
    e = PyObject_CallOneArg(cls, text);
    Py_DECREF(text);
    if (!e)
        return NULL;
    if ((code = PyLong_FromLong(rc))) {
        PyObject_SetAttrString(e, "code", code);
        Py_DECREF(code);
    }
    PyErr_SetObject(cls, e);
    Py_DECREF(e);
    return NULL;
}

#define WHY 512 /* room for a libreel message kept across other calls */

/* Raise the exception of rc with libreel's message msg (NULL: this thread's last); NULL. */
static PyObject *fail_msg(int rc, const char *msg)
{
    PyObject *cls = rc > 0 && rc < NCODES && errors[rc] ? errors[rc] : Error;
    if (!msg)
        msg = reel_errmsg();
    if (rc == REEL_INTERRUPTED && PyErr_CheckSignals() < 0)
        return NULL; /* Ctrl-C during a remote call (see sigint_guard): KeyboardInterrupt */
    return raise_coded(cls, rc, python_message(msg && *msg ? msg : reel_errstr(rc)));
}

/* Raise the exception of rc with libreel's message for this thread; NULL. */
static PyObject *fail(int rc)
{
    return fail_msg(rc, NULL);
}

/* fail() for opening a file, with libreel's message msg (NULL: this thread's last): a missing
 * file raises NoSuchFile (NotFoundError and FileNotFoundError) with errno ENOENT, strerror the
 * message and filename the file (a path as bytes from PyUnicode_FSConverter), as
 * FileNotFoundError has them. */
static PyObject *fail_file(int rc, const char *msg, PyObject *filename)
{
    PyObject *text, *e, *v;
    if (rc != REEL_NOTFOUND)
        return fail_msg(rc, msg);
    if (!msg)
        msg = reel_errmsg();
    if (!msg || !*msg)
        msg = reel_errstr(rc);
    if (!(text = python_message(msg)))
        return NULL;
    e = PyObject_CallOneArg(NoSuchFile, text); /* str(e) stays the message (see __init__.py) */
    if (e) {
        v = PyLong_FromLong(ENOENT);
        if (!v || PyObject_SetAttrString(e, "errno", v) < 0 ||
            PyObject_SetAttrString(e, "strerror", text) < 0)
            Py_CLEAR(e);
        Py_XDECREF(v);
    }
    if (e && filename) {
        v = PyUnicode_DecodeFSDefault(PyBytes_AS_STRING(filename));
        if (!v || PyObject_SetAttrString(e, "filename", v) < 0)
            Py_CLEAR(e);
        Py_XDECREF(v);
    }
    Py_DECREF(text);
    if (e) {
        PyErr_SetObject(NoSuchFile, e);
        Py_DECREF(e);
    }
    return NULL;
}

/* A pixel format name (any case; "native" where allow_native) as a reel_pix_fmt: 0, or -1
 * with FormatError naming what and the choices. */
static int pix_fmt_arg(const char *what, const char *name, int allow_native, int *fmt)
{
    char low[32], list[160] = "";
    size_t i;
    int f;
    for (i = 0; name[i] && i < sizeof low - 1; i++)
        low[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
    low[i] = 0;
    if (!name[i] && allow_native && !strcmp(low, "native")) {
        *fmt = REEL_PIX_NATIVE;
        return 0;
    }
    if (!name[i] && reel_pix_fmt_from_name(low, fmt) == REEL_OK)
        return 0;
    for (f = 1; reel_pix_fmt_name(f); f++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s'%s'", f > 1 ? ", " : "",
                 reel_pix_fmt_name(f));
    raise_coded(FormatError, REEL_UNSUPPORTED,
                PyUnicode_FromFormat("%s '%s': not a pixel format reel stores; one of %s%s",
                                     what, name, list, allow_native ? ", or 'native'" : ""));
    return -1;
}

/* ---- Ctrl-C during remote calls ------------------------------------------------------------ */

/*
 * libcurl transfers run with the GIL released and retry for a long while; Python only sees
 * SIGINT between bytecodes. While a call on a remote store runs, sigint_guard(1) puts a C
 * handler in front of Python's: it sets libreel's interrupt flag (every transfer stops within
 * ~100 ms with REEL_INTERRUPTED) and calls Python's handler, which trips Python's own flag, so
 * that fail() turns the result into KeyboardInterrupt. Nested and concurrent guards (the GIL
 * held) share one installation; the last one out restores Python's handler and clears the
 * flag. Nothing here waits for the GIL: the handler only stores flags.
 */
static struct sigaction python_sigint; /* the handler in place when the guard went on */
static int guards, installed;          /* guards on; whether on_sigint is in place (the GIL) */
static volatile sig_atomic_t tripped;  /* on_sigint ran */

static void on_sigint(int sig, siginfo_t *si, void *uc)
{
    tripped = 1;
    reel_interrupt(1);
    if (python_sigint.sa_flags & SA_SIGINFO)
        python_sigint.sa_sigaction(sig, si, uc);
    else if (python_sigint.sa_handler != SIG_DFL && python_sigint.sa_handler != SIG_IGN)
        python_sigint.sa_handler(sig);
}

/* on: install unless on already, or unless SIGINT is not Python's to handle (SIG_DFL ends the
 * process anyway, SIG_IGN ignores it); off: the last one restores and clears the flag. */
static void sigint_guard(int on)
{
    struct sigaction ours;
    if (!on) {
        if (--guards > 0 || !installed)
            return;
        sigaction(SIGINT, &python_sigint, NULL);
        installed = 0;
        if (tripped) {
            tripped = 0;
            reel_interrupt(0);
        }
        return;
    }
    if (guards++ > 0 || sigaction(SIGINT, NULL, &python_sigint) != 0 ||
        (!(python_sigint.sa_flags & SA_SIGINFO) &&
         (python_sigint.sa_handler == SIG_DFL || python_sigint.sa_handler == SIG_IGN)))
        return;
    memset(&ours, 0, sizeof ours);
    ours.sa_sigaction = on_sigint;
    ours.sa_flags = SA_SIGINFO | (python_sigint.sa_flags & SA_RESTART);
    sigemptyset(&ours.sa_mask);
    installed = sigaction(SIGINT, &ours, NULL) == 0;
}

/* ---- objects ------------------------------------------------------------------------------- */

typedef struct SeqObject SeqObject;

typedef struct {
    PyObject_HEAD
    reel_store *s;   /* NULL once closed for good */
    int closed;      /* close() was called: no new reads */
    int closing;     /* store_settle is in reel_close (the GIL released) */
    Py_ssize_t busy; /* calls on its handles in flight with the GIL released (call_begin) */
    int remote;      /* a URL (HTTP/S3): its calls run under sigint_guard */
    int writable;    /* the file is open read-write (counts are kept) */
    int mode_w;      /* opened with mode 'w': sequences may be made and removed */
    PyObject *path;
    SeqObject *seqs; /* the Sequence objects of this store, alive (borrowed) */
    reel_seq **stray; /* handles of Sequences gone whose close failed (a write-back): retried */
    Py_ssize_t nstray;
    reel_cache *cache; /* its own RAM tier (open(cache_bytes=...)), freed right after
                          reel_close; NULL: the process's shared one */
    int own_cache;     /* it was given one, of own_budget bytes (cache_bytes reads these, never
                          cache: a close in another thread may be freeing it without the GIL) */
    size_t own_budget;
} StoreObject;

struct SeqObject {
    PyObject_HEAD
    StoreObject *store; /* strong */
    reel_seq *q;        /* NULL once closed */
    PyObject *name;
    reel_seq_info info; /* name and source point into q: not used after close */
    int nd;             /* the array shape of one frame: nd dims of dims[], numpy type */
    npy_intp dims[3];
    int typenum;
    Py_ssize_t frames_pinned; /* Frame objects of this sequence holding a handle */
    SeqObject *next;    /* in store->seqs */
};

typedef struct {
    PyObject_HEAD
    SeqObject *seq;     /* strong */
    reel_frame *f;      /* NULL when unloaded */
    const void *pixels; /* NULL until loaded */
    int64_t index;
    reel_frame_info meta;
    Py_ssize_t exports; /* buffers handed out */
    int internal;       /* the base of an array seq[i] made: unload() refuses */
} FrameObject;

static PyTypeObject StoreType, SeqType, FrameType;
static PyObject *the_module; /* for what the package's Python half adds (_batches_impl) */

/* Raise StoreClosed for st; -1. */
static int closed_error(StoreObject *st)
{
    PyErr_Format(StoreClosed, "%S: the store is closed", st->path ? st->path : Py_None);
    return -1;
}

/* Close whatever can be closed now of a store being closed: nothing while a call is in flight
 * (the last one to end settles). A handle libreel refuses to close (REEL_MISUSE, or a failed
 * write-back) is kept, to be closed at the next settle, never dropped. */
static void store_settle(StoreObject *st)
{
    SeqObject *q;
    Py_ssize_t i, kept = 0;
    for (i = 0; i < st->nstray; i++) /* never dropped: the store closes only after them */
        if (reel_seq_close(st->stray[i]) != REEL_OK)
            st->stray[kept++] = st->stray[i];
    st->nstray = kept;
    if (!st->closed || st->busy > 0 || st->nstray > 0)
        return;
    for (q = st->seqs; q; q = q->next)
        if (q->q && q->frames_pinned == 0 && reel_seq_close(q->q) == REEL_OK)
            q->q = NULL;
    for (q = st->seqs; q; q = q->next)
        if (q->q)
            return;
    if (!st->closing && (st->s || st->cache)) {
        reel_store *s = st->s;
        reel_cache *c = st->cache;
        int rc = REEL_OK, rcc = REEL_ERROR;
        st->closing = 1;
        /* without the GIL: reel_close joins libreel's threads, and a remote store's may be
         * waiting for a gateway served by a Python thread of this process */
        Py_BEGIN_ALLOW_THREADS
        rc = s ? reel_close(s) : REEL_OK;
        if (rc == REEL_OK && c) /* nothing of it is pinned: every frame handle went before */
            rcc = reel_cache_free(c);
        Py_END_ALLOW_THREADS
        st->closing = 0;
        if (rc == REEL_OK)
            st->s = NULL;
        if (rcc == REEL_OK)
            st->cache = NULL;
    }
}

/* Begin a call on st's handles that releases the GIL: 0, or -1 with StoreClosed set. */
static int call_begin(StoreObject *st)
{
    if (st->closed || !st->s)
        return closed_error(st);
    st->busy++;
    if (st->remote)
        sigint_guard(1);
    return 0;
}

/* End it (the GIL held again): the last call to end after close() closes the handles. */
static void call_end(StoreObject *st)
{
    if (st->remote)
        sigint_guard(0);
    st->busy--;
    store_settle(st);
}

static int check_seq(SeqObject *q)
{
    if (!q->q || q->store->closed)
        return closed_error(q->store);
    return 0;
}

/* check_seq, then call_begin on q's store. */
static int seq_begin(SeqObject *q)
{
    return check_seq(q) ? -1 : call_begin(q->store);
}

/* ---- Frame ----------------------------------------------------------------------------------- */

/* A new Frame of seq at index with no handle (pixels not loaded), or NULL. */
static FrameObject *frame_new(SeqObject *seq, int64_t index, const reel_frame_info *meta)
{
    FrameObject *fo = PyObject_New(FrameObject, &FrameType);
    if (!fo)
        return NULL;
    Py_INCREF(seq);
    fo->seq = seq;
    fo->f = NULL;
    fo->pixels = NULL;
    fo->index = index;
    fo->exports = 0;
    fo->internal = 0;
    fo->meta = *meta;
    return fo;
}

/* The exception of a failed get or lookup of a frame: NOTFOUND is an IndexError. */
static void *frame_fail(int rc)
{
    PyObject *text;
    if (rc != REEL_NOTFOUND)
        return fail(rc);
    if ((text = python_message(reel_errmsg()))) { /* as fail() says it: no C names */
        PyErr_SetObject(PyExc_IndexError, text);
        Py_DECREF(text);
    }
    return NULL;
}

/* A new Frame of seq at index: flags REEL_GET_LAZY (a handle with metadata only: counts one
 * access) or 0 (pixels loaded and pinned). */
static FrameObject *frame_get(SeqObject *seq, int64_t index, unsigned flags)
{
    FrameObject *fo;
    reel_frame *f = NULL;
    reel_frame_info meta;
    int rc;
    if (seq_begin(seq) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = reel_frame_get(seq->q, index, flags, &f);
    Py_END_ALLOW_THREADS
    if (rc == REEL_OK) {
        reel_frame_meta(f, &meta);
        if ((fo = frame_new(seq, index, &meta))) {
            fo->f = f;
            if (!(flags & REEL_GET_LAZY)) /* resident and pinned: cannot fail */
                reel_frame_pixels(f, &fo->pixels, NULL);
            seq->frames_pinned++;
        } else {
            reel_frame_release(f);
        }
    }
    call_end(seq->store);
    return rc == REEL_OK ? fo : frame_fail(rc);
}

/* Drop the handle (the GIL held). */
static void frame_drop(FrameObject *fo)
{
    if (!fo->f)
        return;
    reel_frame_release(fo->f);
    fo->f = NULL;
    fo->pixels = NULL;
    fo->seq->frames_pinned--;
    store_settle(fo->seq->store);
}

static void frame_dealloc(FrameObject *fo)
{
    frame_drop(fo);
    Py_XDECREF(fo->seq);
    PyObject_Free(fo);
}

/* Load the pixels of a Frame (again after unload): a new handle, one access. 0 or -1; a
 * closed store raises StoreClosed, a frame without pixels (skipped) NoDataError. */
static int frame_load(FrameObject *fo)
{
    FrameObject *fresh;
    if (fo->pixels)
        return 0;
    if (!(fresh = frame_get(fo->seq, fo->index, 0)))
        return -1;
    fo->f = fresh->f, fo->pixels = fresh->pixels;
    fresh->f = NULL; /* taken over, and the pin count with it */
    Py_DECREF(fresh);
    return 0;
}

/* The buffer protocol: the pinned pixels, read-only, shaped as one frame. */
static int frame_getbuffer(FrameObject *fo, Py_buffer *view, int flags)
{
    SeqObject *q = fo->seq;
    if (flags & PyBUF_WRITABLE) {
        PyErr_SetString(PyExc_BufferError, "reel frames are read-only");
        return -1;
    }
    if (frame_load(fo) != 0)
        return -1;
    view->obj = (PyObject *)fo;
    Py_INCREF(fo);
    view->buf = (void *)fo->pixels;
    view->len = (Py_ssize_t)q->info.frame_size;
    view->readonly = 1;
    view->itemsize = q->typenum == NPY_UINT16 ? 2 : 1;
    view->format = (flags & PyBUF_FORMAT) ? (q->typenum == NPY_UINT16 ? "<H" : "B") : NULL;
    view->ndim = q->nd;
    view->shape = (flags & PyBUF_ND) ? (Py_ssize_t *)q->dims : NULL;
    view->strides = NULL; /* C-contiguous */
    view->suboffsets = NULL;
    view->internal = NULL;
    fo->exports++;
    return 0;
}

static void frame_releasebuffer(FrameObject *fo, Py_buffer *view)
{
    (void)view;
    fo->exports--;
}

static PyBufferProcs frame_buffer = {(getbufferproc)frame_getbuffer,
                                     (releasebufferproc)frame_releasebuffer};

/* The pixels as an array viewing them (through the buffer protocol); loads them first, so
 * that a failure raises: numpy makes a 0-d object array of an object whose buffer export
 * fails. */
static PyObject *frame_data(FrameObject *fo, void *closure)
{
    (void)closure;
    if (frame_load(fo) != 0)
        return NULL;
    return PyArray_FromAny((PyObject *)fo, NULL, 0, 0, 0, NULL);
}

/* np.asarray(frame), np.array(frame): the view of data (copied when asked), or the error. */
static PyObject *frame_array(FrameObject *fo, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"dtype", "copy", NULL};
    PyObject *dtype = Py_None, *copy = Py_None, *arr, *out;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OO:__array__", kwlist, &dtype, &copy) ||
        !(arr = frame_data(fo, NULL)))
        return NULL;
    if (dtype == Py_None && copy != Py_True)
        return arr;
    out = PyArray_FromAny(arr, NULL, 0, 0, copy == Py_True ? NPY_ARRAY_ENSURECOPY : 0, NULL);
    if (out && dtype != Py_None) {
        PyObject *cast = PyObject_CallMethod(out, "astype", "O", dtype);
        Py_SETREF(out, cast);
    }
    Py_DECREF(arr);
    return out;
}

static PyObject *frame_loaded(FrameObject *fo, void *closure)
{
    (void)closure;
    return PyBool_FromLong(fo->pixels != NULL);
}

static PyObject *frame_unload(FrameObject *fo, PyObject *unused)
{
    (void)unused;
    if (fo->internal || fo->exports > 0) {
        PyErr_SetString(PyExc_BufferError, "arrays still view this frame's pixels: drop them "
                                           "first");
        return NULL;
    }
    if (check_seq(fo->seq) < 0) { /* closed: the pixels go with the store */
        PyErr_Clear();
        frame_drop(fo);
        Py_RETURN_TRUE;
    }
    {
        SeqObject *q = fo->seq;
        int rc;
        call_begin(q->store); /* open (checked): cannot fail; q->q outlives the drop */
        frame_drop(fo);
        Py_BEGIN_ALLOW_THREADS
        rc = reel_frame_unload(q->q, fo->index); /* REEL_BUSY: something else pins it */
        Py_END_ALLOW_THREADS
        call_end(q->store);
        if (rc != REEL_OK && rc != REEL_BUSY)
            return fail(rc);
        return PyBool_FromLong(rc == REEL_OK);
    }
}

/* A handle of this call's own (no other thread can unload it), used with the GIL released:
 * the count may wait for the store's writer lock. */
static PyObject *frame_access_count(FrameObject *fo, void *closure)
{
    FrameObject *tmp;
    int64_t n = 0;
    int rc;
    (void)closure;
    if (!(tmp = frame_get(fo->seq, fo->index, REEL_GET_LAZY)))
        return NULL;
    if (seq_begin(fo->seq) < 0) {
        Py_DECREF(tmp);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    rc = reel_frame_access_count(tmp->f, &n);
    Py_END_ALLOW_THREADS
    call_end(fo->seq->store);
    Py_DECREF(tmp);
    return rc == REEL_OK ? PyLong_FromLongLong(n) : fail(rc);
}

static PyObject *frame_pts(FrameObject *fo, void *c) { (void)c; return PyLong_FromLongLong(fo->meta.pts); }
static PyObject *frame_index(FrameObject *fo, void *c) { (void)c; return PyLong_FromLongLong(fo->index); }
static PyObject *frame_duration(FrameObject *fo, void *c)
{
    (void)c;
    return PyLong_FromLongLong(fo->meta.duration);
}
static PyObject *frame_time(FrameObject *fo, void *c)
{
    reel_rational tb = fo->seq->info.time_base;
    (void)c;
    return PyFloat_FromDouble((double)fo->meta.pts * tb.num / tb.den);
}
static PyObject *frame_keyframe(FrameObject *fo, void *c)
{
    (void)c;
    return PyBool_FromLong((fo->meta.flags & REEL_FRAME_KEY) != 0);
}
static PyObject *frame_status(FrameObject *fo, void *c)
{
    static const char *const names[] = {"ok", "skipped", "repeated", "black"};
    (void)c;
    return PyUnicode_FromString(fo->meta.status >= 0 && fo->meta.status < 4 ? names[fo->meta.status]
                                                                              : "unknown");
}
static PyObject *frame_address(FrameObject *fo, void *c)
{
    (void)c;
    if (frame_load(fo) != 0)
        return NULL;
    return PyLong_FromVoidPtr((void *)fo->pixels);
}

/* One 2-D view per plane of the frame (planar formats; packed ones give one plane). */
static PyObject *frame_planes(FrameObject *fo, void *closure)
{
    reel_plane_layout pl[3];
    int np, i;
    PyObject *list, *mv;
    SeqObject *q = fo->seq;
    (void)closure;
    if (reel_pix_fmt_layout(q->info.pix_fmt, q->info.width, q->info.height, pl, &np) != REEL_OK)
        return fail(REEL_INVALID);
    if (!(mv = PyMemoryView_FromObject((PyObject *)fo)))
        return NULL;
    list = PyList_New(np);
    for (i = 0; list && i < np; i++) {
        int wide = pl[i].bytes_per_pixel == 2;
        npy_intp dims[3] = {pl[i].height, pl[i].width, 3};
        int nd = pl[i].bytes_per_pixel == 3 ? 3 : 2;
        PyArray_Descr *d = PyArray_DescrFromType(wide ? NPY_UINT16 : NPY_UINT8);
        PyObject *flat, *shaped;
        PyArray_Dims shape = {dims, nd};
        npy_intp count = (npy_intp)pl[i].width * pl[i].height * (nd == 3 ? 3 : 1);
        flat = PyArray_FromBuffer(mv, d, count, (npy_intp)pl[i].offset);
        shaped = flat ? PyArray_Newshape((PyArrayObject *)flat, &shape, NPY_CORDER) : NULL;
        Py_XDECREF(flat);
        if (!shaped) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, shaped);
    }
    Py_DECREF(mv);
    return list;
}

static PyObject *frame_repr(FrameObject *fo)
{
    return PyUnicode_FromFormat("<reel.Frame %U[%lld]%s>", fo->seq->name, (long long)fo->index,
                                fo->pixels ? "" : " (not loaded)");
}

static PyGetSetDef frame_getset[] = {
    {"data", (getter)frame_data, NULL,
     "The pixels as a read-only numpy array viewing the cached frame (no copy); loads them "
     "if needed. Shape (H, W, 3) uint8 for rgb24/bgr24, (H, W) for gray8, (H, W) uint16 for "
     "gray16le, and the whole frame flat for planar formats (see planes).",
     NULL},
    {"planes", (getter)frame_planes, NULL,
     "One read-only 2-D numpy view per plane (Y, U, V for yuv formats; one for packed).", NULL},
    {"loaded", (getter)frame_loaded, NULL,
     "Whether this Frame holds its pixels (pinned in RAM until unload() or the Frame goes). A "
     "new Frame holds none: its first data read loads them, at no cost when the frame is "
     "already in the RAM tier for another reader.",
     NULL},
    {"access_count", (getter)frame_access_count, NULL,
     "How many times the frame was read: the count in the file plus those not yet written.",
     NULL},
    {"index", (getter)frame_index, NULL, "The frame's index in its sequence.", NULL},
    {"pts", (getter)frame_pts, NULL, "Presentation timestamp, in the sequence's time base.", NULL},
    {"duration", (getter)frame_duration, NULL, "Display duration, in the time base.", NULL},
    {"time", (getter)frame_time, NULL, "Presentation time in seconds.", NULL},
    {"keyframe", (getter)frame_keyframe, NULL, "Whether it was a keyframe in the video.", NULL},
    {"status", (getter)frame_status, NULL,
     "'ok', or how a frame that failed to decode was stored: 'skipped', 'repeated', 'black'.",
     NULL},
    {"_address", (getter)frame_address, NULL,
     "The address of the pixels in the RAM tier (for tests: arrays view exactly this).", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

/* The keys of the RAM tier's counters (memory_stats, Store.cache_stats, Sequence.cache_stats). */
#define STATS_KEYS                                                                                 \
    "budget and effective_budget (what it may fill now: less under memory pressure), "            \
    "resident_bytes, pinned_bytes (held by arrays and Frames), dirty_bytes (not yet written), "   \
    "resident_frames; hits, misses, loads, evictions; prefetch_loads, prefetch_hits, "            \
    "prefetch_wasted (read-ahead); bytes_decompressed, written_back, load_seconds_total, "        \
    "load_seconds_max; policy_evictions and policy_bytes_freed (sequence policies)"
#define PRESSURE_KEYS                                                                              \
    "; and pressure_events, pressure_freed, pressure_idle, pressure_bytes_freed, "                \
    "pressure_level (the monitor's last: 0 none, 1 moderate, 2 critical, -1 not running), "       \
    "growth_checks"

static PyMethodDef frame_methods[] = {
    {"unload", (PyCFunction)frame_unload, METH_NOARGS,
     "unload($self, /)\n--\n\nRelease the pixels: unpin them and drop the frame from the RAM "
     "tier. f.data loads them again. After the store is closed it only releases this Frame's "
     "pixels.\n\n"
     "Returns True when the frame is no longer in the RAM tier (always after close); False when "
     "it stays because something else pins it (an array of seq[i], another Frame, a read in "
     "another thread).\n\n"
     "Raises BufferError while arrays made from this Frame (f.data, np.asarray(f)) view them."},
    {"__array__", (PyCFunction)(void (*)(void))frame_array, METH_VARARGS | METH_KEYWORDS,
     "__array__($self, /, dtype=None, copy=None)\n--\n\nnp.asarray(frame): the view of data; "
     "raises what loading the pixels raised (NoDataError for a skipped frame)."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject FrameType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "reel.Frame",
    .tp_basicsize = sizeof(FrameObject),
    .tp_dealloc = (destructor)frame_dealloc,
    .tp_repr = (reprfunc)frame_repr,
    .tp_as_buffer = &frame_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A frame of a sequence: Sequence.frame(i) gives one whose pixels load on first "
              "use (data, np.asarray(frame)); its metadata (pts, time, keyframe, status) is "
              "there at once. Arrays of its pixels keep it, and its pixels, alive.",
    .tp_methods = frame_methods,
    .tp_getset = frame_getset,
};

/* ---- Sequence --------------------------------------------------------------------------------- */

static int shape_of(SeqObject *q)
{
    const reel_seq_info *i = &q->info;
    q->typenum = NPY_UINT8;
    switch (i->pix_fmt) {
    case REEL_PIX_RGB24:
    case REEL_PIX_BGR24:
        q->nd = 3, q->dims[0] = i->height, q->dims[1] = i->width, q->dims[2] = 3;
        break;
    case REEL_PIX_GRAY8:
        q->nd = 2, q->dims[0] = i->height, q->dims[1] = i->width;
        break;
    case REEL_PIX_GRAY16LE:
        q->nd = 2, q->dims[0] = i->height, q->dims[1] = i->width, q->typenum = NPY_UINT16;
        break;
    case REEL_PIX_YUV420P10LE:
        q->nd = 1, q->dims[0] = (npy_intp)(i->frame_size / 2), q->typenum = NPY_UINT16;
        break;
    default: /* planar: the frame flat; Frame.planes gives the planes */
        q->nd = 1, q->dims[0] = (npy_intp)i->frame_size;
    }
    return 0;
}

/* A Sequence of handle (its info got by the caller, with the GIL released), or NULL with the
 * handle closed. */
static SeqObject *seq_new(StoreObject *st, reel_seq *handle, PyObject *name,
                          const reel_seq_info *info)
{
    SeqObject *q = PyObject_New(SeqObject, &SeqType);
    if (!q) {
        reel_seq_close(handle);
        return NULL;
    }
    Py_INCREF(st);
    q->store = st;
    q->q = handle;
    Py_INCREF(name);
    q->name = name;
    q->frames_pinned = 0;
    q->info = *info;
    shape_of(q);
    q->next = st->seqs;
    st->seqs = q;
    return q;
}

static void seq_dealloc(SeqObject *q)
{
    SeqObject **p;
    StoreObject *st = q->store;
    for (p = &st->seqs; *p && *p != q; p = &(*p)->next)
        ;
    if (*p)
        *p = q->next;
    if (q->q && reel_seq_close(q->q) != REEL_OK) { /* no Frame is left: each holds q */
        reel_seq **more = PyMem_Realloc(st->stray, (size_t)(st->nstray + 1) * sizeof *more);
        if (more) { /* kept for store_settle to retry (without memory: lost, as before) */
            st->stray = more;
            st->stray[st->nstray++] = q->q;
        }
    }
    store_settle(st);
    Py_DECREF(q->name);
    Py_DECREF(st);
    PyObject_Free(q);
}

static Py_ssize_t seq_len(SeqObject *q)
{
    int64_t n = 0;
    int rc;
    if (seq_begin(q) < 0)
        return -1;
    Py_BEGIN_ALLOW_THREADS
    rc = reel_seq_frame_count(q->q, &n);
    Py_END_ALLOW_THREADS
    call_end(q->store);
    if (rc != REEL_OK) {
        fail(rc);
        return -1;
    }
    return (Py_ssize_t)n;
}

/* A Python index (an int or any object with __index__, such as numpy's integers, a 0-d integer
 * array or tensor; negative from the end) as a frame index; -1 with IndexError or TypeError
 * set. Booleans and floats are TypeErrors, as numpy makes them. */
static int64_t seq_index(SeqObject *q, PyObject *key)
{
    PyObject *num;
    long long i;
    if (PyLong_CheckExact(key))
        num = (Py_INCREF(key), key);
    else if (PyBool_Check(key) || PyArray_IsScalar(key, Bool) ||
             (PyArray_Check(key) && !PyArray_ISINTEGER((PyArrayObject *)key)))
        num = NULL;
    else if (!(num = PyNumber_Index(key)) && PyErr_ExceptionMatches(PyExc_TypeError))
        PyErr_Clear();
    if (!num) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_TypeError, "index: a frame index is an integer, not %s",
                         Py_TYPE(key)->tp_name);
        return -1;
    }
    i = PyLong_AsLongLong(num);
    Py_DECREF(num);
    if (i == -1 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_IndexError, "frame index %R out of range", key);
        }
        return -1;
    }
    if (i < 0) {
        Py_ssize_t n = seq_len(q);
        if (n < 0)
            return -1;
        i += n;
        if (i < 0) {
            PyErr_Format(PyExc_IndexError, "frame index out of range (%zd frames)", n);
            return -1;
        }
    }
    return (int64_t)i;
}

/* Whether obj is an array other than numpy's that converts to one (a torch tensor: it has
 * __array__), and not a list, tuple or string. */
static int array_like(PyObject *obj)
{
    if (PyArray_Check(obj) || PyList_Check(obj) || PyTuple_Check(obj) || PyUnicode_Check(obj) ||
        PyBytes_Check(obj) || PyLong_Check(obj))
        return 0;
    return PyObject_HasAttrString(obj, "__array__");
}

static PyObject *seq_fancy(SeqObject *q, PyObject *key); /* the Python face, below */

/* The array of frame fo, viewing its pixels: fo becomes its base (reference stolen). */
static PyObject *view_of(SeqObject *q, FrameObject *fo)
{
    PyObject *arr;
    fo->internal = 1;
    arr = PyArray_New(&PyArray_Type, q->nd, q->dims, q->typenum, NULL, (void *)fo->pixels, 0,
                      NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_ALIGNED, NULL);
    if (!arr || PyArray_SetBaseObject((PyArrayObject *)arr, (PyObject *)fo) < 0) {
        Py_XDECREF(arr);
        Py_DECREF(fo);
        return NULL;
    }
    return arr;
}

/* A new array of n frames, each copied from a get of idx[k] (GIL released for the gets). */
static PyObject *copy_frames(SeqObject *q, const int64_t *idx, Py_ssize_t n)
{
    char why[WHY] = "";
    npy_intp dims[4];
    PyObject *arr;
    reel_frame **f;
    char *dst;
    int rc = REEL_OK, k;
    size_t fs = q->info.frame_size;
    dims[0] = n;
    for (k = 0; k < q->nd; k++)
        dims[k + 1] = q->dims[k];
    if (!(arr = PyArray_SimpleNew(q->nd + 1, dims, q->typenum)))
        return NULL;
    if (n == 0)
        return arr;
    if (!(f = PyMem_Calloc((size_t)n, sizeof *f))) {
        Py_DECREF(arr);
        return PyErr_NoMemory();
    }
    if (seq_begin(q) < 0) {
        PyMem_Free(f);
        Py_DECREF(arr);
        return NULL;
    }
    dst = PyArray_DATA((PyArrayObject *)arr);
    Py_BEGIN_ALLOW_THREADS
    rc = reel_frames_get(q->q, idx, (size_t)n, 0, f);
    if (rc == REEL_OK) {
        Py_ssize_t i;
        for (i = 0; i < n && rc == REEL_OK; i++) {
            const void *px;
            if ((rc = reel_frame_pixels(f[i], &px, NULL)) == REEL_OK)
                memcpy(dst + (size_t)i * fs, px, fs);
        }
        reel_frames_release(f, (size_t)n);
    }
    if (rc != REEL_OK) /* before call_end: a settle there may make other calls */
        snprintf(why, sizeof why, "%s", reel_errmsg());
    Py_END_ALLOW_THREADS
    call_end(q->store);
    PyMem_Free(f);
    if (rc == REEL_NODATA) { /* slices, lists, windows: say how to read past it */
        PyObject *text = python_message(why), *msg;
        Py_DECREF(arr);
        msg = text ? PyUnicode_FromFormat("%U; seq.get_batch(indexes, missing='skip', 'repeat' "
                                          "or 'black') reads past it",
                                          text)
                   : NULL;
        Py_XDECREF(text);
        return raise_coded(errors[REEL_NODATA], rc, msg);
    }
    if (rc != REEL_OK) {
        Py_DECREF(arr);
        return rc == REEL_NOTFOUND ? frame_fail(rc) : fail_msg(rc, why);
    }
    return arr;
}

static PyObject *seq_subscript(SeqObject *q, PyObject *key)
{
    PyObject *arr, *res;
    if (check_seq(q))
        return NULL;
    if (PyLong_CheckExact(key) || PyArray_IsScalar(key, Integer)) {
        int64_t i = seq_index(q, key);
        FrameObject *fo;
        if (i < 0 || !(fo = frame_get(q, i, 0)))
            return NULL;
        return view_of(q, fo);
    }
    if (PySlice_Check(key)) {
        Py_ssize_t start, stop, step, n, k, len = seq_len(q);
        int64_t *idx;
        if (len < 0 || PySlice_Unpack(key, &start, &stop, &step) < 0)
            return NULL;
        n = PySlice_AdjustIndices(len, &start, &stop, step);
        if (!(idx = PyMem_Malloc((size_t)(n ? n : 1) * sizeof *idx)))
            return PyErr_NoMemory();
        for (k = 0; k < n; k++)
            idx[k] = start + k * step;
        arr = copy_frames(q, idx, n);
        PyMem_Free(idx);
        return arr;
    }
    if (PyList_Check(key) || PyRange_Check(key))
        return seq_fancy(q, key);
    if (PyArray_Check(key) || (array_like(key) && !PyArray_IsAnyScalar(key))) { /* numpy arrays, torch tensors */
        if (!(arr = PyArray_FromAny(key, NULL, 0, 0, 0, NULL)))
            return NULL;
        if (PyArray_NDIM((PyArrayObject *)arr) != 0) {
            res = seq_fancy(q, arr);
        } else if (PyArray_ISINTEGER((PyArrayObject *)arr)) {
            int64_t i = seq_index(q, arr);
            FrameObject *fo = i < 0 ? NULL : frame_get(q, i, 0);
            res = fo ? view_of(q, fo) : NULL;
        } else {
            res = PyErr_Format(PyExc_TypeError, "index: an integer, a slice, or a list or 1-D "
                               "array of integers (or booleans, a mask), not a 0-d %s array",
                               PyArray_DESCR((PyArrayObject *)arr)->typeobj->tp_name);
        }
        Py_DECREF(arr);
        return res;
    }
    if (PyIndex_Check(key) && !PyBool_Check(key) && !PyArray_IsScalar(key, Bool)) {
        int64_t i = seq_index(q, key); /* any other object with __index__ */
        FrameObject *fo = i < 0 ? NULL : frame_get(q, i, 0);
        return fo ? view_of(q, fo) : NULL;
    }
    return PyErr_Format(PyExc_TypeError, "index: an integer, a slice, or a list or 1-D array of "
                        "integers, not %s", Py_TYPE(key)->tp_name);
}

/* An index list from any sequence of integers (negative from the end); NULL with an error. */
static int64_t *index_list(SeqObject *q, PyObject *obj, Py_ssize_t *n)
{
    PyObject *fast = PySequence_Fast(obj, "indexes must be a sequence of integers");
    int64_t *idx;
    Py_ssize_t k;
    if (!fast)
        return NULL;
    *n = PySequence_Fast_GET_SIZE(fast);
    if (!(idx = PyMem_Malloc((size_t)(*n ? *n : 1) * sizeof *idx))) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return NULL;
    }
    for (k = 0; k < *n; k++) {
        PyObject *item = PySequence_Fast_GET_ITEM(fast, k);
        if ((idx[k] = seq_index(q, item)) < 0) /* a TypeError for what is not an integer */
            break;
    }
    Py_DECREF(fast);
    if (k < *n) {
        PyMem_Free(idx);
        return NULL;
    }
    return idx;
}

static PyObject *seq_window(SeqObject *q, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"center", "radius", NULL};
    long long center, radius, lo, hi, k;
    Py_ssize_t len;
    int64_t *idx;
    PyObject *arr;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "LL:window", kwlist, &center, &radius) ||
        check_seq(q) || (len = seq_len(q)) < 0)
        return NULL;
    if (radius < 0)
        return PyErr_Format(PyExc_ValueError, "radius %lld: must be >= 0", radius);
    if (center < 0 || center >= len)
        return PyErr_Format(PyExc_IndexError, "frame %lld out of range (%zd frames)", center, len);
    lo = center - radius < 0 ? 0 : center - radius;
    hi = radius >= len - center ? len - 1 : center + radius;
    if (!(idx = PyMem_Malloc((size_t)(hi - lo + 1) * sizeof *idx)))
        return PyErr_NoMemory();
    for (k = lo; k <= hi; k++)
        idx[k - lo] = k;
    arr = copy_frames(q, idx, (Py_ssize_t)(hi - lo + 1));
    PyMem_Free(idx);
    return arr;
}

/* frame(i): the metadata only (no access counted); the pixels load on first use. */
static PyObject *seq_frame(SeqObject *q, PyObject *arg)
{
    reel_frame_info meta;
    int64_t i;
    int rc;
    if ((i = seq_index(q, arg)) < 0 || seq_begin(q) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = reel_frame_info_get(q->q, i, &meta);
    Py_END_ALLOW_THREADS
    call_end(q->store);
    return rc == REEL_OK ? (PyObject *)frame_new(q, i, &meta) : frame_fail(rc);
}

/* The pts that seconds (a number; from the first frame when zero) stands for; -1 with an
 * error for what is not a finite number of seconds within reach. */
static int seconds_to_pts(SeqObject *q, PyObject *sobj, int zero, int64_t *pts)
{
    reel_rational tb = q->info.time_base;
    reel_frame_info fi;
    double sec, v;
    if (!PyNumber_Check(sobj) || PyBool_Check(sobj) || PyUnicode_Check(sobj)) {
        PyErr_Format(PyExc_TypeError, "seconds: a number, not %s", Py_TYPE(sobj)->tp_name);
        return -1;
    }
    if ((sec = PyFloat_AsDouble(sobj)) == -1 && PyErr_Occurred())
        return -1;
    v = sec * tb.den / tb.num;
    if (!isfinite(v) || fabs(v) > 9e15) {
        PyObject *r = PyObject_Repr(sobj);
        if (r)
            raise_coded(errors[REEL_INVALID], REEL_INVALID,
                        PyUnicode_FromFormat("seconds=%U: not a finite time within reach", r));
        Py_XDECREF(r);
        return -1;
    }
    *pts = (int64_t)floor(v + 1e-9);
    if (zero) {
        int rc;
        if (seq_begin(q) < 0)
            return -1;
        Py_BEGIN_ALLOW_THREADS
        rc = reel_frame_info_get(q->q, 0, &fi);
        Py_END_ALLOW_THREADS
        call_end(q->store);
        if (rc == REEL_OK)
            *pts += fi.pts;
    }
    return 0;
}

static PyObject *seq_index_at(SeqObject *q, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"seconds", "pts", "zero", NULL};
    PyObject *sobj = Py_None, *pobj = Py_None;
    int64_t idx = 0, pts;
    int rc, zero = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O$Op:index_at", kwlist, &sobj, &pobj, &zero) ||
        check_seq(q))
        return NULL;
    if ((sobj == Py_None) == (pobj == Py_None))
        return PyErr_Format(PyExc_TypeError, "index_at: give seconds or pts (one of them)");
    if (pobj != Py_None) {
        long long v;
        if (!PyIndex_Check(pobj) || PyBool_Check(pobj))
            return PyErr_Format(PyExc_TypeError, "pts: an integer, not %s",
                                Py_TYPE(pobj)->tp_name);
        if ((v = PyLong_AsLongLong(pobj)) == -1 && PyErr_Occurred())
            return NULL;
        pts = v;
    } else if (seconds_to_pts(q, sobj, zero, &pts) < 0)
        return NULL;
    if (seq_begin(q) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = reel_seq_find_pts(q->q, pts, &idx);
    Py_END_ALLOW_THREADS
    call_end(q->store);
    if (rc == REEL_NOTFOUND)
        return PyErr_Format(PyExc_IndexError, "%U: no frame is shown at %s %R%s", q->name,
                            pobj != Py_None ? "pts" : "seconds",
                            pobj != Py_None ? pobj : sobj, zero ? " (from the first frame)" : "");
    return rc == REEL_OK ? PyLong_FromLongLong(idx) : fail(rc);
}

static PyObject *seq_at(SeqObject *q, PyObject *args, PyObject *kw)
{
    PyObject *i = seq_index_at(q, args, kw), *arr;
    if (!i)
        return NULL;
    arr = seq_subscript(q, i);
    Py_DECREF(i);
    return arr;
}

#define PREFETCH_MAX 1024 /* what libreel's read-ahead queue holds */

/* prefetch(first, count): the range checked against the sequence first, then one request of
 * at most PREFETCH_MAX frames (more would only be dropped by the full queue). */
static PyObject *seq_prefetch(SeqObject *q, PyObject *args)
{
    long long first, count;
    Py_ssize_t len;
    int rc;
    if (!PyArg_ParseTuple(args, "LL:prefetch", &first, &count) || check_seq(q))
        return NULL;
    if (first < 0 || count < 0)
        return PyErr_Format(PyExc_ValueError, "prefetch(%lld, %lld): both must be >= 0", first,
                            count);
    if ((len = seq_len(q)) < 0)
        return NULL;
    if (first >= len || count == 0)
        Py_RETURN_NONE; /* nothing of the sequence there */
    if (count > len - first)
        count = len - first;
    if (count > PREFETCH_MAX)
        count = PREFETCH_MAX;
    if (check_seq(q)) /* closed while seq_len ran */
        return NULL;
    rc = reel_seq_prefetch(q->q, first, (size_t)count); /* takes a lock only: the GIL held */
    return rc == REEL_OK ? (Py_INCREF(Py_None), Py_None) : fail(rc);
}

static PyObject *seq_prefetch_wait(SeqObject *q, PyObject *args)
{
    double timeout = -1;
    int rc;
    if (!PyArg_ParseTuple(args, "|d:prefetch_wait", &timeout) || seq_begin(q) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = reel_seq_prefetch_wait(q->q, timeout < 0 ? -1 : (int)(timeout * 1000));
    Py_END_ALLOW_THREADS
    call_end(q->store);
    if (rc == REEL_BUSY)
        Py_RETURN_FALSE;
    return rc == REEL_OK ? (Py_INCREF(Py_True), Py_True) : fail(rc);
}

static PyObject *stats_dict(const reel_cache_stats *st, int cache)
{
    PyObject *d = Py_BuildValue(
        "{s:n,s:n,s:n,s:n,s:n,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:d,s:d,s:K,s:K}", "budget",
        (Py_ssize_t)st->budget, "effective_budget", (Py_ssize_t)st->effective_budget,
        "resident_bytes", (Py_ssize_t)st->resident_bytes, "pinned_bytes",
        (Py_ssize_t)st->pinned_bytes, "dirty_bytes", (Py_ssize_t)st->dirty_bytes, "resident_frames",
        (unsigned long long)st->resident_frames, "hits", (unsigned long long)st->hits, "misses",
        (unsigned long long)st->misses, "loads", (unsigned long long)st->loads, "evictions",
        (unsigned long long)st->evictions, "prefetch_loads",
        (unsigned long long)st->prefetch_loads, "prefetch_hits",
        (unsigned long long)st->prefetch_hits, "prefetch_wasted",
        (unsigned long long)st->prefetch_wasted, "bytes_decompressed",
        (unsigned long long)st->bytes_decompressed, "written_back",
        (unsigned long long)st->written_back, "load_seconds_total", st->load_seconds_total,
        "load_seconds_max", st->load_seconds_max, "policy_evictions",
        (unsigned long long)st->policy_evictions, "policy_bytes_freed",
        (unsigned long long)st->policy_bytes_freed);
    if (d && cache) {
        PyObject *more = Py_BuildValue("{s:K,s:K,s:K,s:K,s:i,s:K}", "pressure_events",
                                       (unsigned long long)st->pressure_events, "pressure_freed",
                                       (unsigned long long)st->pressure_freed, "pressure_idle",
                                       (unsigned long long)st->pressure_idle,
                                       "pressure_bytes_freed",
                                       (unsigned long long)st->pressure_bytes_freed,
                                       "pressure_level", st->pressure_level, "growth_checks",
                                       (unsigned long long)st->growth_checks);
        if (!more || PyDict_Update(d, more) < 0)
            Py_CLEAR(d);
        Py_XDECREF(more);
    }
    return d;
}

static PyObject *seq_cache_stats(SeqObject *q, PyObject *unused)
{
    reel_cache_stats st;
    int rc;
    (void)unused;
    if (check_seq(q))
        return NULL;
    if ((rc = reel_seq_cache_stats(q->q, &st)) != REEL_OK)
        return fail(rc);
    return stats_dict(&st, 0);
}

static PyObject *seq_get(SeqObject *q, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"index", "pix_fmt", NULL};
    PyObject *key, *arr = NULL;
    const char *name = NULL;
    FrameObject *fo;
    int to, rc;
    int64_t i;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|z:get", kwlist, &key, &name) || check_seq(q))
        return NULL;
    if (!name)
        return seq_subscript(q, key);
    if (pix_fmt_arg("pix_fmt", name, 0, &to) < 0)
        return NULL;
    if ((i = seq_index(q, key)) < 0 || !(fo = frame_get(q, i, 0)))
        return NULL;
    {
        reel_image im = {q->info.pix_fmt, q->info.width, q->info.height, fo->pixels,
                         q->info.frame_size};
        SeqObject tmp;
        void *out = NULL;
        size_t n = 0;
        Py_BEGIN_ALLOW_THREADS
        rc = reel_frame_convert(&im, to, &out, &n);
        Py_END_ALLOW_THREADS
        Py_DECREF(fo);
        if (rc != REEL_OK)
            return fail(rc);
        memset(&tmp, 0, sizeof tmp);
        tmp.info = q->info;
        tmp.info.pix_fmt = to;
        tmp.info.frame_size = n;
        shape_of(&tmp);
        if ((arr = PyArray_SimpleNew(tmp.nd, tmp.dims, tmp.typenum)))
            memcpy(PyArray_DATA((PyArrayObject *)arr), out, n);
        reel_free(out);
    }
    return arr;
}

/* batches(): written in Python (reel/__init__.py), which puts it in the module. */
static PyObject *seq_batches(SeqObject *q, PyObject *args, PyObject *kw)
{
    PyObject *impl = PyObject_GetAttrString(the_module, "_batches_impl"), *all, *r;
    if (!impl)
        return NULL;
    all = PyTuple_New(PyTuple_GET_SIZE(args) + 1);
    if (!all) {
        Py_DECREF(impl);
        return NULL;
    }
    Py_INCREF(q);
    PyTuple_SET_ITEM(all, 0, (PyObject *)q);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(args); i++) {
        Py_INCREF(PyTuple_GET_ITEM(args, i));
        PyTuple_SET_ITEM(all, i + 1, PyTuple_GET_ITEM(args, i));
    }
    r = PyObject_Call(impl, all, kw);
    Py_DECREF(all);
    Py_DECREF(impl);
    return r;
}

static PyObject *seq_info(SeqObject *q, void *c)
{
    reel_seq_info i;
    int rc;
    (void)c;
    if (seq_begin(q) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = reel_seq_info_get(q->q, &i);
    Py_END_ALLOW_THREADS
    call_end(q->store);
    if (rc != REEL_OK)
        return fail(rc);
    return Py_BuildValue("{s:O,s:z,s:i,s:i,s:s,s:n,s:(ii),s:L,s:L,s:L,s:L,s:s,s:i}", "name",
                         q->name, "source", i.source, "width", i.width, "height", i.height,
                         "pix_fmt", reel_pix_fmt_name(i.pix_fmt), "frame_size",
                         (Py_ssize_t)i.frame_size, "time_base", (int)i.time_base.num,
                         (int)i.time_base.den, "frames", (long long)i.frame_count, "duration",
                         (long long)i.duration, "raw_bytes", (long long)i.raw_bytes,
                         "stored_bytes", (long long)i.stored_bytes, "codec",
                         i.codec == REEL_CODEC_TEMPORAL ? "temporal" : "intra", "keyint",
                         i.keyint);
}

static PyObject *seq_fps(SeqObject *q, void *c)
{
    reel_frame_info a, b;
    reel_rational tb = q->info.time_base;
    int ra, rb = REEL_ERROR;
    (void)c;
    if (seq_begin(q) < 0)
        return NULL;
    /* from the first frame's duration, as the video stated it, else the first step */
    Py_BEGIN_ALLOW_THREADS
    ra = reel_frame_info_get(q->q, 0, &a);
    if (ra == REEL_OK && a.duration <= 0)
        rb = reel_frame_info_get(q->q, 1, &b);
    Py_END_ALLOW_THREADS
    call_end(q->store);
    if (ra != REEL_OK)
        Py_RETURN_NONE;
    if (a.duration > 0)
        return PyFloat_FromDouble((double)tb.den / ((double)tb.num * (double)a.duration));
    if (rb == REEL_OK && b.pts > a.pts)
        return PyFloat_FromDouble((double)tb.den / ((double)tb.num * (double)(b.pts - a.pts)));
    Py_RETURN_NONE;
}

static PyObject *seq_width(SeqObject *q, void *c) { (void)c; return PyLong_FromLong(q->info.width); }
static PyObject *seq_height(SeqObject *q, void *c) { (void)c; return PyLong_FromLong(q->info.height); }
static PyObject *seq_pix_fmt(SeqObject *q, void *c)
{
    (void)c;
    return PyUnicode_FromString(reel_pix_fmt_name(q->info.pix_fmt));
}
static PyObject *seq_time_base(SeqObject *q, void *c)
{
    (void)c;
    return Py_BuildValue("(ii)", (int)q->info.time_base.num, (int)q->info.time_base.den);
}
static PyObject *seq_shape(SeqObject *q, void *c)
{
    PyObject *t = PyTuple_New(q->nd);
    int i;
    (void)c;
    for (i = 0; t && i < q->nd; i++)
        PyTuple_SET_ITEM(t, i, PyLong_FromSsize_t(q->dims[i]));
    return t;
}
static PyObject *seq_dtype(SeqObject *q, void *c)
{
    (void)c;
    return (PyObject *)PyArray_DescrFromType(q->typenum);
}
static PyObject *seq_repr(SeqObject *q)
{
    return PyUnicode_FromFormat("<reel.Sequence %R %dx%d %s>", q->name, q->info.width,
                                q->info.height, reel_pix_fmt_name(q->info.pix_fmt));
}

static int named(const char *what, const char *value, const char *const *names, int n,
                 int *out);

/* ---- Sequence: the Python face (reel/__init__.py builds its methods on these) ---------------- */

/* What a gather does with a frame that has no pixels (status 'skipped'). */
enum { MISSING_RAISE, MISSING_SKIP, MISSING_REPEAT, MISSING_BLACK };

static int missing_arg(PyObject *o, int *out)
{
    static const char *const names[] = {"raise", "skip", "repeat", "black"};
    const char *s;
    *out = MISSING_RAISE;
    if (!o || o == Py_None)
        return 0;
    if (!PyUnicode_Check(o)) {
        PyErr_Format(PyExc_TypeError, "missing: 'raise', 'skip', 'repeat' or 'black', not %s",
                     Py_TYPE(o)->tp_name);
        return -1;
    }
    return (s = PyUnicode_AsUTF8(o)) ? named("missing", s, names, 4, out) : -1;
}

/* A black frame of q's format at dst (the GIL released): zeros for RGB and grey, FFmpeg's
 * conversion of black RGB for YUV. */
static int black_frame(const reel_seq_info *i, char *dst)
{
    reel_image im = {REEL_PIX_RGB24, i->width, i->height, NULL, 0};
    void *out = NULL, *rgb;
    size_t n = 0;
    int rc;
    if (i->pix_fmt == REEL_PIX_RGB24 || i->pix_fmt == REEL_PIX_BGR24 ||
        i->pix_fmt == REEL_PIX_GRAY8 || i->pix_fmt == REEL_PIX_GRAY16LE) {
        memset(dst, 0, i->frame_size);
        return REEL_OK;
    }
    im.size = (size_t)i->width * (size_t)i->height * 3;
    if (!(rgb = calloc(1, im.size)))
        return REEL_NOMEM;
    im.pixels = rgb;
    rc = reel_frame_convert(&im, i->pix_fmt, &out, &n);
    if (rc == REEL_OK)
        memcpy(dst, out, n < i->frame_size ? n : i->frame_size);
    reel_free(out);
    free(rgb);
    return rc;
}

/* Stand in for the frames without pixels (got[k] == 0) by the policy: the nearest earlier
 * frame with pixels (else the next one, else black) for REPEAT, black for BLACK; got[k] = 2
 * for a stand-in. SKIP leaves them. */
static int stand_in(const reel_seq_info *info, int missing, char *dst, unsigned char *got,
                    size_t n)
{
    size_t fs = info->frame_size, k, j;
    int rc = REEL_OK;
    for (k = 0; k < n && rc == REEL_OK; k++) {
        if (got[k] || missing == MISSING_SKIP)
            continue;
        for (j = k; missing == MISSING_REPEAT && j-- > 0 && got[j] != 1;)
            ;
        if (missing == MISSING_REPEAT && j >= k) /* none before: the next one */
            for (j = k + 1; j < n && got[j] != 1; j++)
                ;
        if (missing == MISSING_REPEAT && j < n)
            memcpy(dst + k * fs, dst + j * fs, fs);
        else
            rc = black_frame(info, dst + k * fs);
        got[k] = 2;
    }
    return rc;
}

/*
 * Copy frames idx[0..n) of q into dst (frame k at dst + k * frame_size), the GIL released.
 * got[k]: 1 copied, 2 stood in for, 0 left out (no pixels, MISSING_SKIP). All are got in one
 * call; when one has no pixels, each is got by itself. REEL_NODATA under MISSING_RAISE, with
 * *bad its position; other errors as reel_frames_get.
 */
static int gather_into(SeqObject *q, const int64_t *idx, size_t n, unsigned flags, int missing,
                       char *dst, unsigned char *got, size_t *bad, reel_frame **f)
{
    size_t fs = q->info.frame_size, k;
    const void *px;
    int rc = reel_frames_get(q->q, idx, n, flags, f);
    if (rc == REEL_OK) {
        for (k = 0; k < n && rc == REEL_OK; k++)
            if ((rc = reel_frame_pixels(f[k], &px, NULL)) == REEL_OK)
                memcpy(dst + k * fs, px, fs), got[k] = 1;
        reel_frames_release(f, n);
        return rc;
    }
    if (rc != REEL_NODATA)
        return rc;
    for (k = 0; k < n; k++) {
        reel_frame *one = NULL;
        got[k] = 0;
        rc = reel_frame_get(q->q, idx[k], flags, &one);
        if (rc == REEL_OK && (rc = reel_frame_pixels(one, &px, NULL)) == REEL_OK)
            memcpy(dst + k * fs, px, fs), got[k] = 1;
        reel_frame_release(one);
        if (rc == REEL_NODATA && missing == MISSING_RAISE)
            *bad = k;
        if (rc != REEL_OK && (rc != REEL_NODATA || missing == MISSING_RAISE))
            return rc;
    }
    return stand_in(&q->info, missing, dst, got, n);
}

/* The array of frames idx[0..n) by the policy missing; *kept (when not NULL) gets an int64
 * array of the indexes each row holds (rows left out under 'skip' are not in it). */
static PyObject *gather(SeqObject *q, const int64_t *idx, Py_ssize_t n, unsigned flags,
                        int missing, PyObject **kept)
{
    npy_intp dims[4], m = 0, k;
    PyObject *arr, *out;
    unsigned char *got;
    reel_frame **f;
    size_t bad = 0, fs = q->info.frame_size;
    char *dst;
    int rc, d;
    dims[0] = n;
    for (d = 0; d < q->nd; d++)
        dims[d + 1] = q->dims[d];
    if (!(arr = PyArray_SimpleNew(q->nd + 1, dims, q->typenum)))
        return NULL;
    got = PyMem_Calloc((size_t)n + 1, 1);
    f = PyMem_Calloc((size_t)n + 1, sizeof *f);
    dst = PyArray_DATA((PyArrayObject *)arr);
    rc = got && f ? REEL_OK : REEL_NOMEM;
    if (rc == REEL_OK && n > 0) {
        if (seq_begin(q) < 0) {
            PyMem_Free(f);
            PyMem_Free(got);
            Py_DECREF(arr);
            return NULL;
        }
        Py_BEGIN_ALLOW_THREADS
        rc = gather_into(q, idx, (size_t)n, flags, missing, dst, got, &bad, f);
        Py_END_ALLOW_THREADS
        call_end(q->store);
    }
    PyMem_Free(f);
    if (rc != REEL_OK) {
        PyMem_Free(got);
        Py_DECREF(arr);
        if (rc == REEL_NOMEM)
            return PyErr_NoMemory();
        if (rc != REEL_NODATA)
            return frame_fail(rc);
        return raise_coded(errors[REEL_NODATA], rc,
                           PyUnicode_FromFormat(
                               "sequence %R frame %lld has no pixels (status 'skipped': it failed to "
                               "decode at import): pass missing='skip', 'repeat' or 'black' "
                               "to read past it",
                               q->name, (long long)idx[bad]));
    }
    for (k = 0; k < n; k++) /* 'skip': the rows kept, moved together */
        if (got[k]) {
            if (m != k)
                memcpy(dst + (size_t)m * fs, dst + (size_t)k * fs, fs);
            m++;
        }
    out = arr;
    if (m < n) {
        PyArray_Dims shape = {dims, q->nd + 1};
        dims[0] = m;
        out = PyArray_Resize((PyArrayObject *)arr, &shape, 0, NPY_CORDER);
        out = out ? (Py_DECREF(out), arr) : (Py_DECREF(arr), NULL);
    }
    if (out && kept) {
        npy_intp one = m;
        if ((*kept = PyArray_SimpleNew(1, &one, NPY_INT64))) {
            int64_t *w = PyArray_DATA((PyArrayObject *)*kept);
            for (k = 0; k < n; k++)
                if (got[k])
                    *w++ = idx[k];
        } else
            Py_CLEAR(out);
    }
    PyMem_Free(got);
    return out;
}

/* Frame indexes from a numpy array (integers, or booleans as a mask over the sequence). */
static int64_t *array_indexes(SeqObject *q, PyObject *obj, Py_ssize_t *n)
{
    PyArrayObject *a = (PyArrayObject *)obj, *c;
    Py_ssize_t len = seq_len(q), k, m = 0;
    int64_t *idx, *src;
    if (len < 0)
        return NULL;
    if (PyArray_NDIM(a) != 1 || !(PyArray_ISINTEGER(a) || PyArray_ISBOOL(a))) {
        PyErr_Format(PyExc_TypeError, "indexes: a 1-D array of integers or booleans, not %d-D "
                     "%s", PyArray_NDIM(a), PyArray_DESCR(a)->typeobj->tp_name);
        return NULL;
    }
    if (PyArray_ISBOOL(a) && PyArray_DIM(a, 0) != len) {
        PyErr_Format(PyExc_IndexError, "a boolean mask of %zd values for %zd frames",
                     (Py_ssize_t)PyArray_DIM(a, 0), len);
        return NULL;
    }
    if (!(c = (PyArrayObject *)PyArray_FROMANY(obj, NPY_INT64, 1, 1,
                                                NPY_ARRAY_CARRAY_RO | NPY_ARRAY_FORCECAST)))
        return NULL;
    *n = PyArray_DIM(c, 0);
    src = PyArray_DATA(c);
    if (!(idx = PyMem_Malloc((size_t)(*n ? *n : 1) * sizeof *idx))) {
        Py_DECREF(c);
        PyErr_NoMemory();
        return NULL;
    }
    for (k = 0; k < *n; k++) {
        int64_t i = PyArray_ISBOOL(a) ? (src[k] ? k : -1) : src[k] < 0 ? src[k] + len : src[k];
        if (PyArray_ISBOOL(a) && i < 0)
            continue;
        if (i < 0 || i >= len || (PyArray_ISUNSIGNED(a) && src[k] < 0)) { /* >= 2**63 */
            PyErr_Format(PyExc_IndexError, "frame index %lld out of range (%zd frames)",
                         (long long)src[k], len);
            Py_DECREF(c);
            PyMem_Free(idx);
            return NULL;
        }
        idx[m++] = i;
    }
    *n = m;
    Py_DECREF(c);
    return idx;
}

/* Frame indexes from a slice, a numpy array or any sequence of integers; NULL with an error. */
static int64_t *indexes_of(SeqObject *q, PyObject *obj, Py_ssize_t *n)
{
    if (PySlice_Check(obj)) {
        Py_ssize_t start, stop, step, k, len = seq_len(q);
        int64_t *idx;
        if (len < 0 || PySlice_Unpack(obj, &start, &stop, &step) < 0)
            return NULL;
        *n = PySlice_AdjustIndices(len, &start, &stop, step);
        if (!(idx = PyMem_Malloc((size_t)(*n ? *n : 1) * sizeof *idx)))
            return (int64_t *)PyErr_NoMemory();
        for (k = 0; k < *n; k++)
            idx[k] = start + k * step;
        return idx;
    }
    if (PyArray_Check(obj))
        return array_indexes(q, obj, n);
    if (array_like(obj)) { /* a torch tensor */
        PyObject *arr = PyArray_FromAny(obj, NULL, 0, 0, 0, NULL);
        int64_t *idx = arr ? array_indexes(q, arr, n) : NULL;
        Py_XDECREF(arr);
        return idx;
    }
    if (PyUnicode_Check(obj) || PyBytes_Check(obj) || !PySequence_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "indexes: a sequence, array or slice of frame indexes, "
                     "not %s", Py_TYPE(obj)->tp_name);
        return NULL;
    }
    return index_list(q, obj, n);
}

/* seq[[1, 2, 3]], seq[np.array(...)]: a gather (numpy's fancy indexing). */
static PyObject *seq_fancy(SeqObject *q, PyObject *key)
{
    Py_ssize_t n;
    int64_t *idx = indexes_of(q, key, &n);
    PyObject *arr;
    if (!idx)
        return NULL;
    arr = gather(q, idx, n, 0, MISSING_RAISE, NULL);
    PyMem_Free(idx);
    return arr;
}

/* get_batch(indexes, missing='raise') and _gather(indexes, missing, once) -> (array, kept). */
static PyObject *seq_gather_call(SeqObject *q, PyObject *args, PyObject *kw, int pair)
{
    static char *kwlist[] = {"indexes", "missing", "once", NULL};
    static char *kwlist2[] = {"indexes", "missing", NULL};
    PyObject *obj, *mobj = NULL, *arr, *kept = NULL;
    int missing, once = 0;
    Py_ssize_t n;
    int64_t *idx;
    if (!PyArg_ParseTupleAndKeywords(args, kw, pair ? "O|Op:_gather" : "O|O:get_batch",
                                     pair ? kwlist : kwlist2, &obj, &mobj, &once) ||
        missing_arg(mobj, &missing) < 0 || check_seq(q) || !(idx = indexes_of(q, obj, &n)))
        return NULL;
    arr = gather(q, idx, n, once ? REEL_GET_ONCE : 0, missing, pair ? &kept : NULL);
    PyMem_Free(idx);
    if (!arr || !pair)
        return arr;
    return Py_BuildValue("(NN)", arr, kept);
}

static PyObject *seq_get_batch2(SeqObject *q, PyObject *args, PyObject *kw)
{
    return seq_gather_call(q, args, kw, 0);
}

static PyObject *seq_gather(SeqObject *q, PyObject *args, PyObject *kw)
{
    return seq_gather_call(q, args, kw, 1);
}

/* _view(index, once=False): seq[index], the frame got with REEL_GET_ONCE when once. */
static PyObject *seq_view(SeqObject *q, PyObject *args)
{
    PyObject *key;
    int once = 0;
    int64_t i;
    FrameObject *fo;
    if (!PyArg_ParseTuple(args, "O|p:_view", &key, &once) || check_seq(q) ||
        (i = seq_index(q, key)) < 0 || !(fo = frame_get(q, i, once ? REEL_GET_ONCE : 0)))
        return NULL;
    return view_of(q, fo);
}

/* iter(seq): reel/__init__.py's _iter_impl(seq). */
static PyObject *seq_iter(SeqObject *q)
{
    PyObject *impl = PyObject_GetAttrString(the_module, "_iter_impl"), *r;
    if (!impl)
        return NULL;
    r = PyObject_CallOneArg(impl, (PyObject *)q);
    Py_DECREF(impl);
    return r;
}

/* Growable int64 columns of the rows of a query. */
typedef struct {
    int64_t *col[4];
    int ncol;   /* 1..4 of them */
    size_t n, cap;
} columns;

static int columns_push(columns *c, sqlite3_stmt *st)
{
    int k;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4096;
        for (k = 0; k < c->ncol; k++) {
            int64_t *p = PyMem_RawRealloc(c->col[k], cap * sizeof *p);
            if (!p)
                return REEL_NOMEM;
            c->col[k] = p;
        }
        c->cap = cap;
    }
    for (k = 0; k < c->ncol; k++)
        c->col[k][c->n] = sqlite3_column_int64(st, k);
    c->n++;
    return REEL_OK;
}

/* The pts, durations, flags and statuses of every frame of q in one read of its SQL view of the
 * store (the GIL released); nothing is counted as an access. */
static int read_times(SeqObject *q, columns *c, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = reel_store_sql(q->store->s, &db), step = SQLITE_DONE;
    if (rc != REEL_OK)
        return rc;
    static const char *const sql[] = {
        "SELECT pts FROM reel_frame WHERE seq_id = (SELECT id FROM reel_sequence WHERE name = "
        "?1) ORDER BY idx",
        "SELECT pts, duration FROM reel_frame WHERE seq_id = (SELECT id FROM reel_sequence "
        "WHERE name = ?1) ORDER BY idx",
        "SELECT pts, duration, flags FROM reel_frame WHERE seq_id = (SELECT id FROM "
        "reel_sequence WHERE name = ?1) ORDER BY idx",
        "SELECT pts, duration, flags, status FROM reel_frame WHERE seq_id = (SELECT id FROM "
        "reel_sequence WHERE name = ?1) ORDER BY idx"};
    if (sqlite3_prepare_v2(db, sql[c->ncol - 1], -1, &st, NULL) == SQLITE_OK &&
        sqlite3_bind_text(st, 1, q->info.name, -1, SQLITE_STATIC) == SQLITE_OK)
        while ((step = sqlite3_step(st)) == SQLITE_ROW && rc == REEL_OK)
            rc = columns_push(c, st);
    else
        step = SQLITE_ERROR;
    if (rc == REEL_OK && step != SQLITE_DONE) {
        snprintf(err, errlen, "reading the timestamps of '%s': %s", q->info.name,
                 sqlite3_errmsg(db));
        rc = REEL_IO;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

/* _times(columns=4) -> the first columns of (pts, durations, flags, statuses): int64 arrays,
 * one value per frame. */
static PyObject *seq_times(SeqObject *q, PyObject *args)
{
    columns c;
    char err[512] = "";
    PyObject *out = NULL;
    int rc, k, ncol = 4;
    if (!PyArg_ParseTuple(args, "|i:_times", &ncol) || check_seq(q))
        return NULL;
    if (ncol < 1 || ncol > 4)
        return PyErr_Format(PyExc_ValueError, "_times: 1 to 4 columns, not %d", ncol);
    memset(&c, 0, sizeof c);
    c.ncol = ncol;
    if (call_begin(q->store) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = read_times(q, &c, err, sizeof err);
    Py_END_ALLOW_THREADS
    call_end(q->store);
    if (rc == REEL_OK && (out = PyTuple_New(ncol)))
        for (k = 0; k < ncol; k++) {
            npy_intp n = (npy_intp)c.n;
            PyObject *a = PyArray_SimpleNew(1, &n, NPY_INT64);
            if (!a) {
                Py_CLEAR(out);
                break;
            }
            if (c.n)
                memcpy(PyArray_DATA((PyArrayObject *)a), c.col[k], c.n * sizeof(int64_t));
            PyTuple_SET_ITEM(out, k, a);
        }
    for (k = 0; k < 4; k++)
        PyMem_RawFree(c.col[k]);
    if (rc == REEL_NOMEM)
        return PyErr_NoMemory();
    if (rc != REEL_OK)
        return *err ? raise_coded(errors[rc], rc, PyUnicode_FromString(err)) : fail(rc);
    return out;
}

/* _set_policy(max_frames, max_bytes, window, priority, trim_every, trim_ms) */
static PyObject *seq_set_policy(SeqObject *q, PyObject *args)
{
    reel_seq_policy p;
    unsigned long long mf, mb;
    long long window;
    unsigned int every, ms;
    int rc;
    memset(&p, 0, sizeof p);
    if (!PyArg_ParseTuple(args, "KKLiII:_set_policy", &mf, &mb, &window, &p.priority, &every,
                          &ms) ||
        check_seq(q))
        return NULL;
    p.max_frames = mf, p.max_bytes = mb, p.window = window, p.trim_every = every;
    p.trim_ms = ms;
    return (rc = reel_seq_set_policy(q->q, &p)) == REEL_OK ? (Py_INCREF(Py_None), Py_None)
                                                            : fail(rc);
}

static PyObject *seq_get_policy(SeqObject *q, PyObject *unused)
{
    reel_seq_policy p;
    int rc;
    (void)unused;
    if (check_seq(q))
        return NULL;
    if ((rc = reel_seq_get_policy(q->q, &p)) != REEL_OK)
        return fail(rc);
    return Py_BuildValue("(KKLiII)", (unsigned long long)p.max_frames,
                         (unsigned long long)p.max_bytes, (long long)p.window, p.priority,
                         (unsigned int)p.trim_every, (unsigned int)p.trim_ms);
}

static PyObject *seq_trim(SeqObject *q, PyObject *unused)
{
    size_t freed = 0;
    int rc;
    (void)unused;
    if (seq_begin(q) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = reel_seq_trim(q->q, &freed);
    Py_END_ALLOW_THREADS
    call_end(q->store);
    return rc == REEL_OK ? PyLong_FromSize_t(freed) : fail(rc);
}

/* _resident(first, count) -> a bool array: which of frames [first, first + count) are in the
 * RAM tier (reel_seq_resident: no access counted, no LRU change). */
static PyObject *seq_resident(SeqObject *q, PyObject *args)
{
    long long first, count;
    npy_intp n;
    PyObject *arr;
    int rc;
    if (!PyArg_ParseTuple(args, "LL:_resident", &first, &count) || check_seq(q))
        return NULL;
    if (first < 0 || count < 0)
        return PyErr_Format(PyExc_ValueError, "resident: start and stop must be >= 0");
    n = (npy_intp)count;
    if (!(arr = PyArray_ZEROS(1, &n, NPY_BOOL, 0)))
        return NULL;
    if (seq_begin(q) < 0) {
        Py_DECREF(arr);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    rc = reel_seq_resident(q->q, first, count, PyArray_DATA((PyArrayObject *)arr), NULL);
    Py_END_ALLOW_THREADS
    call_end(q->store);
    if (rc != REEL_OK) {
        Py_DECREF(arr);
        return fail(rc);
    }
    return arr;
}

static PyObject *seq_store(SeqObject *q, void *c)
{
    (void)c;
    Py_INCREF(q->store);
    return (PyObject *)q->store;
}

/* _first_pts(): the pts of frame 0 (None when empty); metadata only, no access counted. */
static PyObject *seq_first_pts(SeqObject *q, PyObject *unused)
{
    reel_frame_info fi;
    int rc;
    (void)unused;
    if (seq_begin(q) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = reel_frame_info_get(q->q, 0, &fi);
    Py_END_ALLOW_THREADS
    call_end(q->store);
    if (rc == REEL_NOTFOUND)
        Py_RETURN_NONE;
    return rc == REEL_OK ? PyLong_FromLongLong(fi.pts) : fail(rc);
}

static PyGetSetDef seq_getset[] = {
    {"width", (getter)seq_width, NULL, "Frame width in pixels.", NULL},
    {"height", (getter)seq_height, NULL, "Frame height in pixels.", NULL},
    {"pix_fmt", (getter)seq_pix_fmt, NULL, "The stored pixel format: 'rgb24', 'yuv420p', ...",
     NULL},
    {"fps", (getter)seq_fps, NULL,
     "The nominal frame rate: frames per second from the first frame's duration, as the video "
     "stated it (None when unknown). For a variable frame rate (info['variable_rate']) it is "
     "not the average: info['avg_fps'] is, from the pts.",
     NULL},
    {"time_base", (getter)seq_time_base, NULL, "(num, den): seconds per pts unit.", NULL},
    {"info", (getter)seq_info, NULL,
     "Metadata as a dict: name, source, size, format, time base, frames, duration, bytes.", NULL},
    {"shape", (getter)seq_shape, NULL, "The shape of one frame's array.", NULL},
    {"dtype", (getter)seq_dtype, NULL, "The numpy dtype of frame arrays.", NULL},
    {"_store", (getter)seq_store, NULL, "The Store this sequence was opened from.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyMemberDef seq_members[] = {
    {"name", T_OBJECT, offsetof(SeqObject, name), READONLY, "The sequence's name."},
    {NULL, 0, 0, 0, NULL}};

static PyObject *seq_gather_into(SeqObject *q, PyObject *args, PyObject *kw);
static PyObject *seq_append_raw(SeqObject *q, PyObject *args);
static int store_check_w(StoreObject *st);

static PyMethodDef seq_methods[] = {
    {"frame", (PyCFunction)seq_frame, METH_O,
     "frame($self, index, /)\n--\n\nA lazy Frame: metadata now (pts, time, duration, keyframe, "
     "status: no access counted), pixels on first use (f.data, np.asarray(f), f.planes), which "
     "counts one access.\n\n"
     "index: an integer (negative from the end; numpy integers and anything with __index__).\n\n"
     "Returns a Frame. Raises IndexError out of range, TypeError for another index type; "
     "reading the pixels of a frame without them (status 'skipped') raises NoDataError."},
    {"get_batch", (PyCFunction)(void (*)(void))seq_get_batch2, METH_VARARGS | METH_KEYWORDS,
     "get_batch($self, /, indexes, missing='raise')\n--\n\n"
     "The frames of indexes copied into one (N, ...) array (one copy; each distinct frame is "
     "loaded once).\n\n"
     "indexes: a list or 1-D array of integers (any order, duplicates and negative indexes "
     "allowed), a boolean mask over the sequence, a slice or a range.\n"
     "missing: what a frame without pixels (status 'skipped') gives: 'raise' (NoDataError), "
     "'skip' (left out: fewer rows), 'repeat' (the nearest earlier frame with pixels, else the "
     "next one) or 'black'.\n\n"
     "Raises IndexError (an index out of range), TypeError (indexes of another type), "
     "NoDataError, CorruptError."},
    {"_gather", (PyCFunction)(void (*)(void))seq_gather, METH_VARARGS | METH_KEYWORDS,
     "_gather($self, /, indexes, missing='raise', once=False)\n--\n\n"
     "get_batch, returning (array, int64 array of the index of each row); once: a one-pass "
     "read (the frames go to the cold end of the RAM tier)."},
    {"_gather_into", (PyCFunction)(void (*)(void))seq_gather_into, METH_VARARGS | METH_KEYWORDS,
     "_gather_into($self, /, indexes, out, missing='raise')\n--\n\nThe frames of indexes "
     "copied into out (a writable C-contiguous buffer of exactly their bytes), one copy."},
    {"_append_raw", (PyCFunction)seq_append_raw, METH_VARARGS,
     "_append_raw($self, data, pts, durations, /)\n--\n\nAppend the frames in data (a "
     "C-contiguous buffer of whole frames) with the int64 buffers pts and durations (one "
     "entry a frame) in one transaction; returns the index of the first."},
    {"_view", (PyCFunction)seq_view, METH_VARARGS,
     "_view($self, index, once=False, /)\n--\n\nseq[index], got as a one-pass read when once."},
    {"_times", (PyCFunction)seq_times, METH_VARARGS,
     "_times($self, columns=4, /)\n--\n\nThe first columns of (pts, durations, flags, "
     "statuses) of every frame, int64 arrays from one SQL read; no access is counted."},
    {"_resident", (PyCFunction)seq_resident, METH_VARARGS,
     "_resident($self, first, count, /)\n--\n\nA bool array: which of frames [first, first + "
     "count) are in the RAM tier now (no access counted, no LRU change)."},
    {"_first_pts", (PyCFunction)seq_first_pts, METH_NOARGS,
     "_first_pts($self, /)\n--\n\nThe pts of frame 0, or None."},
    {"_set_policy", (PyCFunction)seq_set_policy, METH_VARARGS,
     "_set_policy($self, max_frames, max_bytes, window, priority, trim_every, trim_ms, /)\n--\n\n"
     "The sequence's RAM-tier policy (see Sequence.set_policy)."},
    {"_get_policy", (PyCFunction)seq_get_policy, METH_NOARGS,
     "_get_policy($self, /)\n--\n\nThe policy as a tuple in _set_policy's order."},
    {"trim", (PyCFunction)seq_trim, METH_NOARGS,
     "trim($self, /)\n--\n\nApply the sequence's RAM-tier policy now: drop every unpinned "
     "frame of it that its limits and window do not keep (all of them without a policy).\n\n"
     "Returns the bytes freed (an int). Raises StoreClosedError after close."},
    {"window", (PyCFunction)(void (*)(void))seq_window, METH_VARARGS | METH_KEYWORDS,
     "window($self, /, center, radius)\n--\n\nFrames center-radius .. center+radius, clamped at the "
     "ends of the sequence, as one array."},
    {"index_at", (PyCFunction)(void (*)(void))seq_index_at, METH_VARARGS | METH_KEYWORDS,
     "index_at($self, /, seconds=None, *, pts=None, zero=False)\n--\n\nThe index of the frame "
     "shown at a time (the last one that starts at or before it; exact for variable frame "
     "rates): seconds in the stream's clock (or from the first frame with zero=True), or pts in "
     "the time base.\n\nReturns an int. Raises IndexError when no frame is shown then, "
     "InvalidError (a ValueError) for NaN or infinite seconds, TypeError for a non-number."},
    {"at", (PyCFunction)(void (*)(void))seq_at, METH_VARARGS | METH_KEYWORDS,
     "at($self, /, seconds=None, *, pts=None, zero=False)\n--\n\nThe frame shown at a time, "
     "as seq[index_at(...)].\n\n"
     "Returns a read-only view of the cached frame. Raises as index_at (IndexError, "
     "InvalidError, TypeError), and NoDataError for a frame without pixels."},
    {"prefetch", (PyCFunction)seq_prefetch, METH_VARARGS,
     "prefetch($self, first, count, /)\n--\n\nAsk the read-ahead workers to load frames [first, first + count) "
     "into the RAM tier; returns at once. The range is cut to the sequence (nothing past its "
     "end) and to the read-ahead queue: at most 1024 frames a call."},
    {"prefetch_wait", (PyCFunction)seq_prefetch_wait, METH_VARARGS,
     "prefetch_wait($self, timeout=None, /)\n--\n\nWait for the read-ahead of this sequence; False when "
     "the timeout (seconds) passed first."},
    {"cache_stats", (PyCFunction)seq_cache_stats, METH_NOARGS,
     "cache_stats($self, /)\n--\n\nThe RAM tier's counters for this sequence's frames (of "
     "this open store).\n\n"
     "Returns a dict of ints and floats: " STATS_KEYS ". Counts no access. Raises "
     "StoreClosedError after close."},
    {"batches", (PyCFunction)(void (*)(void))seq_batches, METH_VARARGS | METH_KEYWORDS,
     "batches($self, /, size, start=0, stop=None, *, missing='raise', with_index=False, "
     "progress=False)\n--\n\n"
     "The frames [start, stop) in arrays of size frames (the last may be shorter), each a fresh "
     "copy: nothing stays pinned between batches. The next batch is read ahead while the "
     "caller works on the current one, and the scan is a one-pass read: it does not evict "
     "the frames read often before it.\n\n"
     "missing: as get_batch ('raise', 'skip', 'repeat', 'black'). with_index: yield "
     "FrameBatch objects (.data, .indexes, .seconds) instead of arrays. progress: True writes "
     "a line every few seconds to stderr with fps and ETA (a bar as wide as the terminal on "
     "a terminal); a callable is called as tqdm's update(n), with the frames of each batch, "
     "its return value ignored; a tqdm bar itself works too (progress=tqdm(), its total "
     "set when it has none).\n\n"
     "Raises TypeError/ValueError for bad arguments (naming them), NoDataError under "
     "missing='raise'."},
    {"get", (PyCFunction)(void (*)(void))seq_get, METH_VARARGS | METH_KEYWORDS,
     "get($self, /, index, pix_fmt=None)\n--\n\nseq[index], or converted to another pixel "
     "format.\n\n"
     "index: an integer (negative from the end). pix_fmt: None or the stored format: the "
     "read-only view seq[index] gives; another ('rgb24', 'bgr24', 'gray8', 'gray16le', "
     "'yuv420p', 'yuv444p', 'yuv420p10le'; any case): a converted copy (FFmpeg's swscale).\n\n"
     "Returns a numpy array. Raises IndexError, TypeError, PixelFormatError (a ValueError) for "
     "an unknown pix_fmt, listing the choices, NoDataError for a frame without pixels."},
    {NULL, NULL, 0, NULL}};

static PySequenceMethods seq_as_sequence = {.sq_length = (lenfunc)seq_len};
static PyMappingMethods seq_as_mapping = {.mp_length = (lenfunc)seq_len,
                                          .mp_subscript = (binaryfunc)seq_subscript};

static PyTypeObject SeqType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "reel.Sequence",
    .tp_basicsize = sizeof(SeqObject),
    .tp_dealloc = (destructor)seq_dealloc,
    .tp_repr = (reprfunc)seq_repr,
    .tp_as_sequence = &seq_as_sequence,
    .tp_as_mapping = &seq_as_mapping,
    .tp_iter = (getiterfunc)seq_iter,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The frames of one video in a store. seq[i] is a read-only numpy view of the "
              "cached frame (no copy; negative indexes count from the end; i may be a numpy "
              "integer, a 0-d integer array or tensor); seq[a:b:c], seq[[i, j, k]], seq[int "
              "array or 1-D tensor] and seq[bool mask] copy frames into one (N, ...) array; "
              "booleans and floats as indexes are TypeErrors. for frame in seq gives every frame (views, read ahead). len(seq) "
              "is the live frame count. Times: timestamps, pts, durations, index_at, "
              "get_frames_at. Pickles as (store, name).",
    .tp_methods = seq_methods,
    .tp_members = seq_members,
    .tp_getset = seq_getset,
};

/* ---- Store ------------------------------------------------------------------------------------ */

static int store_check(StoreObject *st)
{
    return !st->s || st->closed ? closed_error(st) : 0;
}

static int store_check_w(StoreObject *st)
{
    if (store_check(st))
        return -1;
    if (!st->mode_w) {
        PyErr_Format(errors[REEL_READONLY], "%S: opened with mode 'r'; open it with mode 'w' "
                                            "to change it",
                     st->path);
        return -1;
    }
    return 0;
}

typedef struct {
    char *buf; /* the names, each with its NUL */
    size_t len, cap;
} names;

/* reel_seq_list's callback (no GIL): the name appended to ctx, a names. */
static int add_name(void *ctx, const char *name)
{
    names *n = ctx;
    size_t k = strlen(name) + 1;
    if (n->len + k > n->cap) {
        size_t cap = (n->cap ? n->cap * 2 : 256) + k;
        char *more = realloc(n->buf, cap);
        if (!more)
            return REEL_NOMEM;
        n->buf = more, n->cap = cap;
    }
    memcpy(n->buf + n->len, name, k);
    n->len += k;
    return 0;
}

static PyObject *store_sequences(StoreObject *st, void *c)
{
    PyObject *list = NULL, *s;
    names n = {NULL, 0, 0};
    size_t at;
    int rc;
    (void)c;
    if (call_begin(st) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = reel_seq_list(st->s, add_name, &n);
    Py_END_ALLOW_THREADS
    call_end(st);
    if (rc != REEL_OK) {
        free(n.buf);
        return fail(rc);
    }
    for (at = 0, list = PyList_New(0); list && at < n.len; at += strlen(n.buf + at) + 1) {
        s = PyUnicode_DecodeUTF8(n.buf + at, (Py_ssize_t)strlen(n.buf + at), "surrogateescape");
        if (!s || PyList_Append(list, s) < 0)
            Py_CLEAR(list);
        Py_XDECREF(s);
    }
    free(n.buf);
    return list;
}

/* After an open or create gave rc: the info of the sequence *q (no GIL needed). REEL_OK, or
 * the code with libreel's message in why (WHY bytes) and *q closed and NULL. */
static int seq_info_or_close(int rc, reel_seq **q, reel_seq_info *info, char *why)
{
    if (rc == REEL_OK && (rc = reel_seq_info_get(*q, info)) != REEL_OK) {
        snprintf(why, WHY, "%s", reel_errmsg());
        reel_seq_close(*q);
        *q = NULL;
    } else if (rc != REEL_OK) {
        snprintf(why, WHY, "%s", reel_errmsg());
    }
    return rc;
}

static PyObject *store_getitem(StoreObject *st, PyObject *key)
{
    const char *name;
    char why[WHY] = "";
    reel_seq_info info;
    reel_seq *q = NULL;
    SeqObject *seq = NULL;
    int rc;
    if (store_check(st))
        return NULL;
    if (!PyUnicode_Check(key))
        return PyErr_Format(PyExc_TypeError, "sequence names are strings, not %s",
                            Py_TYPE(key)->tp_name);
    if (!(name = PyUnicode_AsUTF8(key)) || call_begin(st) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = seq_info_or_close(reel_seq_open(st->s, name, &q), &q, &info, why);
    Py_END_ALLOW_THREADS
    if (rc == REEL_OK) /* in st->seqs before the bracket ends: a close meanwhile closes it */
        seq = seq_new(st, q, key, &info);
    call_end(st);
    if (rc == REEL_NOTFOUND)
        PyErr_SetObject(SequenceNotFound, key);
    else if (rc != REEL_OK)
        fail_msg(rc, why);
    return (PyObject *)seq;
}

static int store_contains(StoreObject *st, PyObject *key)
{
    PyObject *q = store_getitem(st, key);
    if (q) {
        Py_DECREF(q);
        return 1;
    }
    if (PyErr_ExceptionMatches(SequenceNotFound) || PyErr_ExceptionMatches(PyExc_TypeError)) {
        PyErr_Clear();
        return 0;
    }
    return -1;
}

/* close(): the access counts (and frames appended through the RAM tier) written first, then
 * the store marked closed whatever the write gave; the write's failure is raised after (its
 * code's class: StoreIOError, BusyError, ...). A read-only store's counts are not kept. */
static PyObject *store_close(StoreObject *st, PyObject *unused)
{
    PyObject *text, *msg;
    char why[WHY] = "";
    int rc = REEL_OK;
    (void)unused;
    if (!st->closed && st->s && call_begin(st) == 0) {
        Py_BEGIN_ALLOW_THREADS
        if ((rc = reel_flush(st->s)) != REEL_OK)
            snprintf(why, sizeof why, "%s", reel_errmsg());
        Py_END_ALLOW_THREADS
        call_end(st);
    }
    st->closed = 1;
    store_settle(st);
    if (rc == REEL_OK || rc == REEL_READONLY)
        Py_RETURN_NONE;
    if (!(text = python_message(*why ? why : reel_errstr(rc))))
        return NULL;
    msg = PyUnicode_FromFormat("%S: closed, but the access counts could not be saved: %U",
                               st->path, text);
    Py_DECREF(text);
    return raise_coded(rc > 0 && rc < NCODES && errors[rc] ? errors[rc] : Error, rc, msg);
}

static PyObject *store_flush(StoreObject *st, PyObject *unused)
{
    int rc;
    (void)unused;
    if (call_begin(st) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = reel_flush(st->s);
    Py_END_ALLOW_THREADS
    call_end(st);
    return rc == REEL_OK ? (Py_INCREF(Py_None), Py_None) : fail(rc);
}

static PyObject *store_enter(StoreObject *st, PyObject *unused)
{
    (void)unused;
    if (store_check(st))
        return NULL;
    Py_INCREF(st);
    return (PyObject *)st;
}

/* __exit__: close(); when an exception is propagating already, a failure of the close is a
 * RuntimeWarning instead, so that it does not mask that exception. */
static PyObject *store_exit(StoreObject *st, PyObject *args)
{
    PyObject *r = store_close(st, NULL), *type, *value, *tb, *msg;
    int warned;
    if (r || PyTuple_GET_SIZE(args) < 1 || PyTuple_GET_ITEM(args, 0) == Py_None ||
        !PyErr_ExceptionMatches(Error))
        return r;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    msg = value ? PyObject_Str(value) : NULL;
    warned = msg ? PyErr_WarnFormat(PyExc_RuntimeWarning, 1, "%U (while an exception was "
                                                             "propagating)",
                                    msg)
                 : -1;
    Py_XDECREF(msg);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    if (warned < 0)
        return NULL;
    Py_RETURN_FALSE;
}

static int named(const char *what, const char *value, const char *const *names, int n,
                 int *out);

static PyObject *store_create(StoreObject *st, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"name",   "width", "height", "pix_fmt", "time_base",
                             "source", "codec", "keyint", NULL};
    static const char *const codecs[] = {"intra", "temporal"};
    const char *name, *fmt = "rgb24", *source = NULL, *codec = "intra";
    int w, h, num = 1, den = 25, rc, keyint = 0, which;
    reel_seq_params p;
    reel_seq_info info;
    char why[WHY] = "";
    reel_seq *q = NULL;
    SeqObject *seq;
    PyObject *key;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "Uii|s(ii)zsi:create_sequence", kwlist, &key, &w,
                                     &h, &fmt, &num, &den, &source, &codec, &keyint) ||
        store_check_w(st) || !(name = PyUnicode_AsUTF8(key)) ||
        named("codec", codec, codecs, 2, &which) < 0)
        return NULL;
    memset(&p, 0, sizeof p);
    p.width = w, p.height = h, p.time_base.num = num, p.time_base.den = den, p.source = source;
    p.codec = which == 0 ? REEL_CODEC_INTRA : REEL_CODEC_TEMPORAL;
    p.keyint = keyint;
    if (pix_fmt_arg("pix_fmt", fmt, 0, &p.pix_fmt) < 0 || call_begin(st) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = seq_info_or_close(reel_seq_create(st->s, name, &p, &q), &q, &info, why);
    Py_END_ALLOW_THREADS
    seq = rc == REEL_OK ? seq_new(st, q, key, &info) : NULL;
    call_end(st);
    return rc == REEL_OK ? (PyObject *)seq : fail_msg(rc, why);
}

static PyObject *store_remove(StoreObject *st, PyObject *key)
{
    const char *name;
    int rc;
    if (store_check_w(st) || !(name = PyUnicode_AsUTF8(key)) || call_begin(st) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = reel_seq_remove(st->s, name);
    Py_END_ALLOW_THREADS
    call_end(st);
    if (rc == REEL_NOTFOUND) {
        PyErr_SetObject(SequenceNotFound, key);
        return NULL;
    }
    return rc == REEL_OK ? (Py_INCREF(Py_None), Py_None) : fail(rc);
}

/* ---- Store: the Python face -------------------------------------------------------------------- */

/* One column of a row as a Python value. */
static PyObject *sql_value(sqlite3_stmt *st, int k)
{
    switch (sqlite3_column_type(st, k)) {
    case SQLITE_INTEGER:
        return PyLong_FromLongLong(sqlite3_column_int64(st, k));
    case SQLITE_FLOAT:
        return PyFloat_FromDouble(sqlite3_column_double(st, k));
    case SQLITE_NULL:
        Py_RETURN_NONE;
    case SQLITE_BLOB:
        return PyBytes_FromStringAndSize(sqlite3_column_blob(st, k), sqlite3_column_bytes(st, k));
    default:
        return PyUnicode_DecodeUTF8((const char *)sqlite3_column_text(st, k),
                                    sqlite3_column_bytes(st, k), "replace");
    }
}

/* The rows of a prepared statement as a list of tuples (each step without the GIL; the
 * caller holds a call_begin bracket on the store). */
static PyObject *sql_rows(sqlite3 *db, sqlite3_stmt *st)
{
    PyObject *list = PyList_New(0), *row;
    int step = SQLITE_DONE, k, n = sqlite3_column_count(st);
    for (;;) {
        if (!list)
            break;
        Py_BEGIN_ALLOW_THREADS /* a remote store's step may wait for the network */
        step = sqlite3_step(st);
        Py_END_ALLOW_THREADS
        if (step != SQLITE_ROW)
            break;
        if (!(row = PyTuple_New(n)))
            Py_CLEAR(list);
        for (k = 0; row && k < n; k++) {
            PyObject *v = sql_value(st, k);
            if (!v) {
                Py_CLEAR(row);
                Py_CLEAR(list);
                break;
            }
            PyTuple_SET_ITEM(row, k, v);
        }
        if (row && PyList_Append(list, row) < 0)
            Py_CLEAR(list);
        Py_XDECREF(row);
    }
    if (list && step != SQLITE_DONE) {
        Py_CLEAR(list);
        raise_coded(errors[REEL_IO], REEL_IO, PyUnicode_FromFormat("SQL: %s", sqlite3_errmsg(db)));
    }
    return list;
}

/* _query(sql, params=()) -> list of tuples: a read of the store's SQL views (reel_store_sql). */
static PyObject *store_query(StoreObject *st, PyObject *args)
{
    const char *sql;
    PyObject *params = NULL, *rows = NULL;
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    Py_ssize_t k;
    int rc, prep = SQLITE_ERROR;
    if (!PyArg_ParseTuple(args, "s|O!:_query", &sql, &PyTuple_Type, &params) || store_check(st) ||
        call_begin(st) < 0) /* ended after the statement: a remote store's VFS serves it */
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = reel_store_sql(st->s, &db);
    if (rc == REEL_OK)
        prep = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
    Py_END_ALLOW_THREADS
    if (rc != REEL_OK) {
        call_end(st);
        return fail(rc);
    }
    if (prep != SQLITE_OK) {
        raise_coded(errors[REEL_INVALID], REEL_INVALID,
                    PyUnicode_FromFormat("SQL: %s", sqlite3_errmsg(db)));
        goto done;
    }
    for (k = 0; params && k < PyTuple_GET_SIZE(params); k++) {
        PyObject *v = PyTuple_GET_ITEM(params, k);
        const char *t;
        if (PyLong_Check(v))
            sqlite3_bind_int64(stmt, (int)k + 1, PyLong_AsLongLong(v));
        else if (PyUnicode_Check(v) && (t = PyUnicode_AsUTF8(v)))
            sqlite3_bind_text(stmt, (int)k + 1, t, -1, SQLITE_TRANSIENT);
        else {
            PyErr_SetString(PyExc_TypeError, "_query: parameters are integers or strings");
            goto done;
        }
    }
    rows = PyErr_Occurred() ? NULL : sql_rows(db, stmt);
done:
    Py_BEGIN_ALLOW_THREADS
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    Py_END_ALLOW_THREADS
    call_end(st);
    return rows;
}

/* _set_readahead(workers, window) */
static PyObject *store_set_readahead(StoreObject *st, PyObject *args)
{
    int workers, window, rc;
    if (!PyArg_ParseTuple(args, "ii:_set_readahead", &workers, &window) || store_check(st))
        return NULL;
    return (rc = reel_store_set_readahead(st->s, workers, window)) == REEL_OK
               ? (Py_INCREF(Py_None), Py_None)
               : fail(rc);
}

/* _open_warm(name, share) -> (Sequence, frames loaded) */
static PyObject *store_open_warm(StoreObject *st, PyObject *args)
{
    PyObject *key;
    const char *name;
    double share;
    reel_seq *q = NULL;
    reel_seq_info info;
    char why[WHY] = "";
    size_t loaded = 0;
    SeqObject *so = NULL;
    int rc;
    if (!PyArg_ParseTuple(args, "Ud:_open_warm", &key, &share) || store_check(st) ||
        !(name = PyUnicode_AsUTF8(key)) || call_begin(st) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = seq_info_or_close(reel_seq_open_warm(st->s, name, share, &q, &loaded), &q, &info, why);
    Py_END_ALLOW_THREADS
    if (rc == REEL_OK) /* in st->seqs before the bracket ends, as store[name] does */
        so = seq_new(st, q, key, &info);
    call_end(st);
    if (rc == REEL_NOTFOUND) {
        PyErr_SetObject(SequenceNotFound, key);
        return NULL;
    }
    if (rc != REEL_OK)
        return fail_msg(rc, why);
    if (!so)
        return NULL;
    return Py_BuildValue("(Nn)", (PyObject *)so, (Py_ssize_t)loaded);
}

static PyObject *store_writable(StoreObject *st, void *c)
{
    (void)c;
    return PyBool_FromLong(st->mode_w && !st->closed);
}

static PyObject *store_counting(StoreObject *st, void *c)
{
    (void)c;
    return PyBool_FromLong(st->writable);
}

/* cache_bytes: the budget of the store's own RAM tier, or None when it shares the process's. */
static PyObject *store_cache_bytes(StoreObject *st, void *c)
{
    (void)c;
    if (!st->own_cache)
        Py_RETURN_NONE;
    return PyLong_FromSize_t(st->own_budget);
}

static PyObject *stats_dict(const reel_cache_stats *st, int cache);

/* cache_stats(): the counters of the RAM tier the store reads through. */
static PyObject *store_cache_stats(StoreObject *st, PyObject *unused)
{
    reel_cache_stats cs;
    reel_cache *c = st->cache ? st->cache : reel_cache_default();
    int rc;
    (void)unused;
    if (st->closed || !st->s) {
        closed_error(st);
        return NULL;
    }
    if (!c)
        return PyErr_NoMemory();
    if ((rc = reel_cache_stats_get(c, &cs)) != REEL_OK)
        return fail(rc);
    return stats_dict(&cs, 1);
}

static void store_dealloc(StoreObject *st)
{
    st->closed = 1;
    store_settle(st); /* every Sequence is gone: each held a reference to st */
    PyMem_Free(st->stray);
    Py_XDECREF(st->path);
    PyObject_Free(st);
}

static PyObject *store_repr(StoreObject *st)
{
    return PyUnicode_FromFormat("<reel.Store %R%s>", st->path, st->closed ? " (closed)" : "");
}

static PyObject *store_closed(StoreObject *st, void *c)
{
    (void)c;
    return PyBool_FromLong(st->closed);
}

static PyGetSetDef store_getset[] = {
    {"sequences", (getter)store_sequences, NULL, "The names of the store's sequences, sorted.",
     NULL},
    {"closed", (getter)store_closed, NULL, "Whether close() was called.", NULL},
    {"writable", (getter)store_writable, NULL,
     "Whether writes would succeed: the store is open with mode='w' and not closed.", NULL},
    {"cache_bytes", (getter)store_cache_bytes, NULL,
     "The budget in bytes of the store's own RAM tier (open(cache_bytes=...)), or None when it "
     "shares the process's (reel.memory_stats()).", NULL},
    {"_counting", (getter)store_counting, NULL,
     "Whether the file is open read-write, so that access counts are kept in it.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyMemberDef store_members[] = {
    {"path", T_OBJECT, offsetof(StoreObject, path), READONLY, "The store file's path."},
    {NULL, 0, 0, 0, NULL}};

static PyMethodDef store_methods[] = {
    {"close", (PyCFunction)store_close, METH_NOARGS,
     "close($self, /)\n--\n\nClose the store: no new reads (later calls raise "
     "StoreClosedError, a ValueError). The access counts are written first. Arrays already "
     "made stay valid; the file is closed when the last of them is gone and calls running in "
     "other threads have returned. Closing again does nothing.\n\n"
     "Returns None. Raises StoreIOError or BusyError ('closed, but the access counts could "
     "not be saved: ...') when the counts cannot be written: the store is closed all the same. "
     "Leaving a with block whose body raised, that is a RuntimeWarning instead, so that the "
     "body's exception propagates."},
    {"flush", (PyCFunction)store_flush, METH_NOARGS,
     "flush($self, /)\n--\n\nWrite what is only in memory (access counts) to the file now "
     "(close() does it too).\n\n"
     "Returns None. Raises StoreIOError or BusyError when the file cannot take the write, "
     "StoreClosedError after close."},
    {"create_sequence", (PyCFunction)(void (*)(void))store_create, METH_VARARGS | METH_KEYWORDS,
     "create_sequence($self, /, name, width, height, pix_fmt='rgb24', time_base=(1, 25), "
     "source=None, codec='intra', keyint=0)\n--\n\nAn empty sequence (the store must be open with mode 'w')."},
    {"remove", (PyCFunction)store_remove, METH_O,
     "remove($self, name, /)\n--\n\nDelete a sequence with all its frames and counts."},
    {"_query", (PyCFunction)store_query, METH_VARARGS,
     "_query($self, sql, params=(), /)\n--\n\nThe rows of a query of the store's SQL views, as "
     "tuples."},
    {"_set_readahead", (PyCFunction)store_set_readahead, METH_VARARGS,
     "_set_readahead($self, workers, window, /)\n--\n\nSee Store.set_readahead."},
    {"cache_stats", (PyCFunction)store_cache_stats, METH_NOARGS,
     "cache_stats($self, /)\n--\n\nThe counters of the RAM tier this store reads through: its "
     "own with open(cache_bytes=...), else the process's (as reel.memory_stats()).\n\n"
     "Returns a dict of ints and floats: " STATS_KEYS PRESSURE_KEYS ". Raises StoreClosedError "
     "after close."},
    {"_open_warm", (PyCFunction)store_open_warm, METH_VARARGS,
     "_open_warm($self, name, share, /)\n--\n\n(Sequence, frames loaded): see Store.open_warm."},
    {"__enter__", (PyCFunction)store_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)store_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL}};

static PySequenceMethods store_as_sequence = {.sq_contains = (objobjproc)store_contains};
static PyMappingMethods store_as_mapping = {.mp_subscript = (binaryfunc)store_getitem};

static PyTypeObject StoreType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "reel.Store",
    .tp_basicsize = sizeof(StoreObject),
    .tp_dealloc = (destructor)store_dealloc,
    .tp_repr = (reprfunc)store_repr,
    .tp_as_sequence = &store_as_sequence,
    .tp_as_mapping = &store_as_mapping,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "An open reel store (reel.open). store['name'] is a Sequence (KeyError if there "
              "is none); 'name' in store; store.sequences lists the names. A context manager.",
    .tp_methods = store_methods,
    .tp_members = store_members,
    .tp_getset = store_getset,
};

/* ---- module functions ------------------------------------------------------------------------ */

/* open's cache_bytes: None (0 and *want 0), an int >= 0 (anything with __index__), or a size
 * string ('256MiB', '10%': reel.parse_size, which the package puts in the_module as
 * _parse_size); 0 with an exception set. */
static int cache_bytes_arg(PyObject *o, size_t *bytes, int *want)
{
    unsigned long long v;
    PyObject *n, *parse;
    *want = 0;
    if (o == Py_None)
        return 1;
    if (PyUnicode_Check(o) && (parse = PyObject_GetAttrString(the_module, "_parse_size"))) {
        n = PyObject_CallOneArg(parse, o); /* InvalidError naming the size when malformed */
        Py_DECREF(parse);
    } else if (PyUnicode_Check(o)) {
        return 0;
    } else if (PyBool_Check(o) || !PyIndex_Check(o)) {
        PyErr_Format(PyExc_TypeError, "cache_bytes: bytes (an int), a size string such as "
                                      "'256MiB' or '10%%', or None; not %s",
                     Py_TYPE(o)->tp_name);
        return 0;
    } else {
        n = PyNumber_Index(o);
    }
    if (!n)
        return 0;
    v = PyLong_AsUnsignedLongLong(n);
    Py_DECREF(n);
    if (v == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        PyErr_SetString(errors[REEL_INVALID], "cache_bytes: must be >= 0 (and fit in a size_t)");
        return 0;
    }
    *bytes = (size_t)v;
    *want = 1;
    return 1;
}

/* Give s a RAM tier of its own of bytes: REEL_OK (*out: the cache), or an error, s untouched. */
static int own_cache(reel_store *s, size_t bytes, reel_cache **out)
{
    int rc = reel_cache_new(bytes, out);
    if (rc == REEL_OK && (rc = reel_store_set_cache(s, *out)) != REEL_OK) {
        reel_cache_free(*out);
        *out = NULL;
    }
    return rc;
}

static PyObject *mod_open(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"path", "mode", "count", "cache_bytes", NULL};
    static const char *const modes[] = {"r", "w"};
    PyObject *path, *cb = Py_None;
    const char *mode = "r", *p;
    int count = 1, rc, flags, rw = 0, remote, want = 0;
    size_t bytes = 0;
    char why[512] = "";
    reel_store *s = NULL;
    reel_cache *c = NULL;
    StoreObject *st;
    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&|spO:open", kwlist, PyUnicode_FSConverter,
                                     &path, &mode, &count, &cb))
        return NULL;
    if (!cache_bytes_arg(cb, &bytes, &want)) {
        Py_DECREF(path);
        return NULL;
    }
    p = PyBytes_AS_STRING(path);
    if (named("mode", mode, modes, 2, &rw) < 0) { /* an InvalidError listing the choices */
        Py_DECREF(path);
        return NULL;
    }
    rw = 0;
    flags = !strcmp(mode, "w") ? REEL_OPEN_CREATE : REEL_OPEN_READONLY;
    remote = strstr(p, "://") != NULL;
    if (remote)
        sigint_guard(1);
    Py_BEGIN_ALLOW_THREADS
    /* read mode: read-write when the file allows it (and count), so that accesses are kept */
    rc = flags == REEL_OPEN_READONLY && count ? reel_open(p, 0, NULL, &s) : REEL_ERROR;
    rw = rc == REEL_OK;
    if (rc != REEL_OK && rc != REEL_NOTFOUND) {
        rc = reel_open(p, flags, NULL, &s);
        rw = rc == REEL_OK && flags == REEL_OPEN_CREATE;
    }
    if (rc == REEL_OK && want && (rc = own_cache(s, bytes, &c)) != REEL_OK) {
        snprintf(why, sizeof why, "%s", reel_errmsg()); /* before the close may change it */
        reel_close(s);
    }
    Py_END_ALLOW_THREADS
    if (remote)
        sigint_guard(0);
    if (rc != REEL_OK) {
        if (!*why)
            snprintf(why, sizeof why, "%s", reel_errmsg());
        fail_file(rc, why, remote ? NULL : path);
        Py_DECREF(path);
        return NULL;
    }
    if (!(st = PyObject_New(StoreObject, &StoreType))) {
        reel_close(s);
        reel_cache_free(c);
        Py_DECREF(path);
        return NULL;
    }
    st->s = s;
    st->cache = c;
    st->own_cache = want;
    st->own_budget = bytes;
    st->closed = 0;
    st->busy = 0;
    st->remote = remote;
    st->writable = rw;
    st->mode_w = flags == REEL_OPEN_CREATE;
    st->seqs = NULL;
    st->stray = NULL;
    st->nstray = 0;
    st->closing = 0;
    st->path = PyUnicode_DecodeFSDefault(p);
    Py_DECREF(path);
    return (PyObject *)st;
}

/* ---- import ---------------------------------------------------------------------------------- */

typedef struct {
    PyObject *callback; /* a callable, or NULL */
    int bar;            /* draw a bar on stderr */
    int interrupted;
} progress_ctx;

static int on_progress(void *ctx, const reel_import_progress *p)
{
    progress_ctx *pc = ctx;
    PyGILState_STATE g = PyGILState_Ensure();
    int stop = 0;
    if (PyErr_CheckSignals() < 0) { /* Ctrl-C: stop after what is committed */
        pc->interrupted = 1;
        stop = 1;
    } else if (pc->callback) {
        PyObject *r = PyObject_CallFunction(
            pc->callback, "{s:s,s:s,s:L,s:L,s:L,s:L,s:d}", "path", p->path, "sequence",
            p->sequence ? p->sequence : "", "frames_done", (long long)p->frames_done,
            "frames_expected", (long long)p->frames_expected, "bytes_in", (long long)p->bytes_in,
            "bytes_out", (long long)p->bytes_out, "seconds", p->seconds);
        if (!r) {
            pc->interrupted = 1; /* the callback raised: stop, and raise it */
            stop = 1;
        } else {
            stop = PyObject_IsTrue(r) == 1;
            Py_DECREF(r);
        }
    } else if (pc->bar) {
        double f = p->frames_expected > 0 ? (double)p->frames_done / p->frames_expected : 0;
        int w = 30, k = (int)(f * w + 0.5), i;
        fprintf(stderr, "\r%s [", p->sequence ? p->sequence : "");
        for (i = 0; i < w; i++)
            fputc(i < k ? '#' : '.', stderr);
        fprintf(stderr, "] %lld/%lld frames %.1f s", (long long)p->frames_done,
                (long long)p->frames_expected, p->seconds);
        fflush(stderr);
    }
    PyGILState_Release(g);
    return stop;
}

static int named(const char *what, const char *value, const char *const *names, int n, int *out)
{
    int i;
    char list[160] = "";
    for (i = 0; i < n; i++)
        if (!strcmp(value, names[i])) {
            *out = i;
            return 0;
        }
    for (i = 0; i < n; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s'%s'",
                 i == 0 ? "" : i == n - 1 ? " or " : ", ", names[i]);
    raise_coded(errors[REEL_INVALID], REEL_INVALID,
                PyUnicode_FromFormat("%s='%s': must be %s", what, value, list));
    return -1;
}

/* import_video's wait (seconds, None: the default) as reel_open_options.busy_timeout_ms
 * (0 is the default there: wait=0 is 1 ms); -1 with an exception set when it is no number in
 * 0..INT_MAX/1000. */
static int wait_ms(PyObject *o, int *ms)
{
    double w;
    *ms = 0;
    if (o == Py_None)
        return 0;
    if ((w = PyFloat_AsDouble(o)) == -1.0 && PyErr_Occurred())
        return -1;
    if (!(w >= 0 && w <= INT_MAX / 1000)) {
        PyErr_Format(PyExc_ValueError, "wait must be seconds from 0 to %d, not %R",
                     INT_MAX / 1000, o);
        return -1;
    }
    *ms = w * 1000 >= 1 ? (int)(w * 1000) : 1;
    return 0;
}

/* Before the open (made NULL): whether path is a local file that does not exist yet (so an
 * import would create it). After it: whether path is a file, with its identity in *made. */
static int created_store(const char *path, struct stat *made)
{
    struct stat st;
    if (strstr(path, "://"))
        return 0;
    if (!made)
        return stat(path, &st) < 0 && errno == ENOENT;
    return stat(path, made) == 0 && S_ISREG(made->st_mode);
}

static int count_name(void *ctx, const char *name)
{
    (void)name;
    ++*(int *)ctx;
    return 0;
}

/* After a failed import into a store it created (made: the file it created): remove the file
 * (and SQLite's side files) if it is still that file and holds no sequence, so that a failed
 * first import leaves nothing behind. A file that existed before is never touched. */
static void drop_created_store(const char *path, const struct stat *made)
{
    static const char *const side[] = {"-wal", "-shm", "-journal"};
    reel_store *s = NULL;
    struct stat now;
    int n = -1;
    size_t k;
    char aux[4096];
    if (reel_open(path, REEL_OPEN_READONLY, NULL, &s) == REEL_OK) {
        if (reel_seq_list(s, count_name, (n = 0, &n)) != REEL_OK)
            n = -1;
        reel_close(s);
    }
    if (n != 0 || stat(path, &now) < 0 || now.st_dev != made->st_dev ||
        now.st_ino != made->st_ino || unlink(path) < 0)
        return;
    for (k = 0; k < sizeof side / sizeof side[0]; k++)
        if (snprintf(aux, sizeof aux, "%s%s", path, side[k]) < (int)sizeof aux)
            unlink(aux);
}

static PyObject *mod_import(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"store",   "video", "sequence", "pix_fmt", "on_error", "progress",
                             "replace", "scale", "workers",  "codec",   "keyint",   "wait",
                             NULL};
    static const char *const policies[] = {"skip", "repeat", "black", "fail"};
    static const char *const codecs[] = {"intra", "temporal", "auto"};
    PyObject *spath, *vpath, *progress = Py_True, *scale = Py_None;
    const char *sequence = NULL, *fmt = "rgb24", *on_error = "skip", *codec = "auto";
    int replace = 0, workers = 0, rc, keyint = 0, which = 2;
    PyObject *wait_obj = Py_None; /* seconds a write waits for the store's lock; None: 5 */
    reel_open_options oo;
    reel_import_options o;
    reel_import_result r;
    progress_ctx pc = {NULL, 0, 0};
    reel_store *s = NULL;
    struct stat made;
    char why[1024] = "";
    int created, opened;
    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O&O&|zssOpOisiO:import_video", kwlist,
                                     PyUnicode_FSConverter, &spath, PyUnicode_FSConverter,
                                     &vpath, &sequence, &fmt, &on_error, &progress, &replace,
                                     &scale, &workers, &codec, &keyint, &wait_obj))
        return NULL;
    memset(&oo, 0, sizeof oo);
    if (wait_ms(wait_obj, &oo.busy_timeout_ms) < 0) {
        Py_DECREF(spath);
        Py_DECREF(vpath);
        return NULL;
    }
    memset(&o, 0, sizeof o);
    o.keyint = keyint;
    o.sequence = sequence;
    o.replace = replace;
    o.workers = workers;
    o.log = REEL_IMPORT_LOG_QUIET;
    if (scale != Py_None && !PyTuple_Check(scale))
        PyErr_Format(PyExc_TypeError, "scale: a (width, height) tuple or None, not %s",
                     Py_TYPE(scale)->tp_name);
    if (PyErr_Occurred() || pix_fmt_arg("pix_fmt", fmt, 1, &o.pix_fmt) < 0 ||
        named("on_error", on_error, policies, 4, &o.on_error) < 0 ||
        named("codec", codec, codecs, 3, &which) < 0 ||
        (scale != Py_None && !PyArg_ParseTuple(scale, "ii;scale: (width, height), two integers",
                                               &o.width, &o.height))) {
        Py_DECREF(spath);
        Py_DECREF(vpath);
        return NULL;
    }
    if (PyCallable_Check(progress))
        pc.callback = progress;
    else
        pc.bar = PyObject_IsTrue(progress) == 1 && isatty(2);
    o.codec = which == 0 ? REEL_CODEC_INTRA : which == 1 ? REEL_CODEC_TEMPORAL : REEL_CODEC_AUTO;
    o.progress = on_progress;
    o.progress_ctx = &pc;
    Py_BEGIN_ALLOW_THREADS
    created = created_store(PyBytes_AS_STRING(spath), NULL);
    rc = reel_open(PyBytes_AS_STRING(spath), REEL_OPEN_CREATE, &oo, &s);
    opened = rc == REEL_OK;
    if (opened)
        created = created ? created_store(PyBytes_AS_STRING(spath), &made) : 0;
    if (rc == REEL_OK) {
        rc = reel_import(s, PyBytes_AS_STRING(vpath), &o, &r);
        snprintf(why, sizeof why, "%s", reel_errmsg()); /* before the close may change it */
        reel_close(s);
    } else {
        snprintf(why, sizeof why, "%s", reel_errmsg());
    }
    if (rc != REEL_OK && rc != REEL_DONE && created)
        drop_created_store(PyBytes_AS_STRING(spath), &made);
    Py_END_ALLOW_THREADS
    if (pc.bar)
        fputc('\n', stderr);
    if (pc.interrupted && PyErr_Occurred()) {
        Py_DECREF(spath);
        Py_DECREF(vpath);
        return NULL; /* KeyboardInterrupt, or what the callback raised */
    }
    if (rc != REEL_OK && rc != REEL_DONE) {
        fail_file(rc, why, opened ? vpath : spath);
        Py_DECREF(spath);
        Py_DECREF(vpath);
        return NULL;
    }
    Py_DECREF(spath);
    Py_DECREF(vpath);
    return Py_BuildValue("{s:L,s:L,s:L,s:L,s:L,s:L,s:L,s:O,s:i,s:s,s:(ii),s:d,s:O}", "frames",
                         (long long)r.frames, "resumed_from", (long long)r.resumed_from,
                         "skipped", (long long)r.skipped, "repeated", (long long)r.repeated,
                         "black", (long long)r.black, "stored_bytes", (long long)r.stored_bytes,
                         "raw_bytes", (long long)r.raw_bytes, "truncated",
                         r.truncated ? Py_True : Py_False, "rotation", r.rotation, "pix_fmt",
                         reel_pix_fmt_name(r.pix_fmt) ? reel_pix_fmt_name(r.pix_fmt) : "",
                         "size", r.width, r.height, "seconds", r.seconds, "done",
                         rc == REEL_DONE ? Py_True : Py_False);
}

/* ---- the RAM tier ------------------------------------------------------------------------------ */

static reel_cache *cache(void)
{
    reel_cache *c = reel_cache_default();
    if (!c)
        PyErr_NoMemory();
    return c;
}

static PyObject *mod_memory_stats(PyObject *self, PyObject *unused)
{
    reel_cache_stats st;
    reel_cache *c = cache();
    int rc;
    (void)self, (void)unused;
    if (!c)
        return NULL;
    if ((rc = reel_cache_stats_get(c, &st)) != REEL_OK)
        return fail(rc);
    return stats_dict(&st, 1);
}

static int size_arg(PyObject *o, void *out)
{
    unsigned long long v = PyLong_AsUnsignedLongLong(o);
    if (v == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_SetString(PyExc_ValueError, "a size in bytes (an integer >= 0)");
        return 0;
    }
    *(size_t *)out = (size_t)v;
    return 1;
}

static PyObject *mod_set_budget(PyObject *self, PyObject *args)
{
    size_t b;
    reel_cache *c;
    (void)self;
    if (!PyArg_ParseTuple(args, "O&:set_memory_budget", size_arg, &b) || !(c = cache()))
        return NULL;
    reel_cache_set_budget(c, b);
    Py_RETURN_NONE;
}

static PyObject *mod_push_budget(PyObject *self, PyObject *args)
{
    size_t b;
    reel_cache *c;
    int rc;
    (void)self;
    if (!PyArg_ParseTuple(args, "O&:push_budget", size_arg, &b) || !(c = cache()))
        return NULL;
    return (rc = reel_cache_push_budget(c, b)) == REEL_OK ? (Py_INCREF(Py_None), Py_None)
                                                          : fail(rc);
}

static PyObject *mod_pop_budget(PyObject *self, PyObject *unused)
{
    reel_cache *c;
    int rc;
    (void)self, (void)unused;
    if (!(c = cache()))
        return NULL;
    return (rc = reel_cache_pop(c)) == REEL_OK ? (Py_INCREF(Py_None), Py_None) : fail(rc);
}

static PyObject *mod_trim(PyObject *self, PyObject *args)
{
    size_t target = 0;
    reel_cache *c;
    int rc;
    (void)self;
    if (!PyArg_ParseTuple(args, "|O&:optimize_memory", size_arg, &target) || !(c = cache()))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = reel_cache_trim(c, target);
    Py_END_ALLOW_THREADS
    return rc == REEL_OK ? (Py_INCREF(Py_None), Py_None) : fail(rc);
}

/* ---- module: the Python face ------------------------------------------------------------------ */

/* _extend(type, name, value): put value in the dict of one of this module's types, so that
 * reel/__init__.py can give them methods and properties written in Python. */
static PyObject *mod_extend(PyObject *self, PyObject *args)
{
    PyTypeObject *t;
    PyObject *name, *value;
    (void)self;
    if (!PyArg_ParseTuple(args, "O!UO:_extend", &PyType_Type, &t, &name, &value))
        return NULL;
    if (t != &StoreType && t != &SeqType && t != &FrameType)
        return PyErr_Format(PyExc_TypeError, "_extend: only reel's own types");
    if (PyDict_SetItem(t->tp_dict, name, value) < 0)
        return NULL;
    PyType_Modified(t);
    Py_RETURN_NONE;
}

static PyObject *mod_set_strict(PyObject *self, PyObject *args)
{
    int on, rc;
    reel_cache *c;
    (void)self;
    if (!PyArg_ParseTuple(args, "p:_set_strict", &on) || !(c = cache()))
        return NULL;
    return (rc = reel_cache_set_strict(c, on)) == REEL_OK ? (Py_INCREF(Py_None), Py_None)
                                                          : fail(rc);
}

static PyObject *mod_pressure(PyObject *self, PyObject *args)
{
    int level, rc;
    reel_cache *c;
    (void)self;
    if (!PyArg_ParseTuple(args, "i:_pressure", &level) || !(c = cache()))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = reel_cache_pressure(c, level);
    Py_END_ALLOW_THREADS
    return rc == REEL_OK ? (Py_INCREF(Py_None), Py_None) : fail(rc);
}

/* _monitor_pressure(interval_ms, moderate_percent, critical_percent, psi_moderate,
 * psi_critical, target_percent, calm_ms, root=None); on=False stops it. */
static PyObject *mod_monitor_pressure(PyObject *self, PyObject *args)
{
    reel_pressure_options o;
    const char *root = NULL;
    reel_cache *c;
    int rc;
    (void)self;
    memset(&o, 0, sizeof o);
    if (!PyArg_ParseTuple(args, "iiiddii|z:_monitor_pressure", &o.interval_ms,
                          &o.moderate_percent, &o.critical_percent, &o.psi_moderate,
                          &o.psi_critical, &o.target_percent, &o.calm_ms, &root) ||
        !(c = cache()))
        return NULL;
    o.root = root;
    Py_BEGIN_ALLOW_THREADS
    rc = reel_cache_monitor_pressure(c, &o);
    Py_END_ALLOW_THREADS
    return rc == REEL_OK ? (Py_INCREF(Py_None), Py_None) : fail(rc);
}

static PyObject *mod_stop_pressure(PyObject *self, PyObject *unused)
{
    reel_cache *c;
    int rc;
    (void)self, (void)unused;
    if (!(c = cache()))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = reel_cache_stop_pressure_monitor(c);
    Py_END_ALLOW_THREADS
    return rc == REEL_OK ? (Py_INCREF(Py_None), Py_None) : fail(rc);
}

/* ---- sampling ---------------------------------------------------------------------------------- */

static PyObject *mod_sample(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"items", "rank", "world", "seed", "epoch", "chunk", "start", "count",
                             NULL};
    reel_sample_options o;
    long long items, chunk = 0, start = 0, count = -1;
    unsigned long long seed = 0, epoch = 0;
    int rank, world, rc;
    int64_t share;
    PyObject *out;
    (void)self;
    memset(&o, 0, sizeof o);
    if (!PyArg_ParseTupleAndKeywords(args, kw, "Lii|KKLLL:_sample", kwlist, &items, &rank,
                                     &world, &seed, &epoch, &chunk, &start, &count))
        return NULL;
    o.items = items;
    o.chunk = chunk;
    o.rank = rank;
    o.world = world;
    o.seed = seed;
    o.epoch = epoch;
    share = reel_sample_count(&o);
    if (count < 0)
        count = start >= 0 && start < share ? share - start : 0;
    if (count > PY_SSIZE_T_MAX / (long long)sizeof(int64_t))
        return PyErr_NoMemory();
    if (!(out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)count * (Py_ssize_t)sizeof(int64_t))))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = reel_sample(&o, start, count, (int64_t *)(void *)PyBytes_AS_STRING(out));
    Py_END_ALLOW_THREADS
    if (rc != REEL_OK) {
        Py_DECREF(out);
        return fail(rc);
    }
    return out;
}

static PyMethodDef module_methods[] = {
    {"open", (PyCFunction)(void (*)(void))mod_open, METH_VARARGS | METH_KEYWORDS,
     "open(path, mode='r', count=True, cache_bytes=None)\n--\n\nOpen a store. mode 'r' "
     "reads; 'w' also creates the file if missing and makes sequences. With count (the "
     "default), reads are counted in the file when it is writable (as the reel tool does); on "
     "read-only media they stay in memory. cache_bytes: None (the default) reads through the "
     "process's RAM tier, shared with every store (reel.memory_stats()); a size gives this "
     "store a RAM tier of its own with that budget: bytes (an int), a string such as '256MiB' "
     "or a share of the memory this process may use such as '10%' (as reel.parse_size), freed "
     "when the store is closed and its last array is gone (Store.cache_bytes, "
     "Store.cache_stats()).\n\nReturns a Store (a context manager). Raises NoSuchFileError (a "
     "FileNotFoundError) for a missing store, InvalidError (a ValueError) for a bad mode or a "
     "negative or malformed cache_bytes, TypeError for a cache_bytes of another type, "
     "CorruptError for a file that is not a store."},
    {"import_video", (PyCFunction)(void (*)(void))mod_import, METH_VARARGS | METH_KEYWORDS,
     "import_video(store, video, sequence=None, pix_fmt='rgb24', on_error='skip', progress=True,"
     " replace=False, scale=None, workers=0, codec='auto', keyint=0, wait=None)\n--\n\n"
     "Decode a "
     "video once and store every frame (store: a path, created if missing). codec: 'intra' "
     "(each frame alone), 'temporal' (a frame may be coded against the one before it: smaller "
     "for still scenes; a read decodes at most keyint frames) or 'auto' (temporal where it "
     "saves space). progress: True draws a bar on a terminal; a "
     "callable gets a dict every ~100 ms and stops the import by returning True. Ctrl-C stops "
     "it cleanly: committed frames are kept, KeyboardInterrupt is raised, and running it again "
     "resumes. wait: seconds each write waits for the store's lock while another process "
     "(another import) holds it (None: 5); BusyError names the holder. Returns what the "
     "import did."},
    {"memory_stats", mod_memory_stats, METH_NOARGS,
     "memory_stats()\n--\n\nThe counters of the process-wide RAM tier (every store opened "
     "without cache_bytes reads through it).\n\n"
     "Returns a dict of ints and floats: " STATS_KEYS PRESSURE_KEYS ". Sizes are bytes."},
    {"_set_budget", mod_set_budget, METH_VARARGS, "The process-wide budget in bytes."},
    {"_push_budget", mod_push_budget, METH_VARARGS, "Push a temporary budget (bytes)."},
    {"_pop_budget", mod_pop_budget, METH_NOARGS, "Restore the budget before the last push."},
    {"_trim", mod_trim, METH_VARARGS, "Write back, then drop unpinned frames down to bytes."},
    {"_extend", mod_extend, METH_VARARGS,
     "_extend(type, name, value, /)\n--\n\nAdd a method or property to a reel type."},
    {"_set_strict", mod_set_strict, METH_VARARGS,
     "_set_strict(on, /)\n--\n\nStrict budget mode of the RAM tier."},
    {"_pressure", mod_pressure, METH_VARARGS,
     "_pressure(level, /)\n--\n\nReport memory pressure (0, 1, 2) to the RAM tier."},
    {"_monitor_pressure", mod_monitor_pressure, METH_VARARGS,
     "_monitor_pressure(interval_ms, moderate_percent, critical_percent, psi_moderate, "
     "psi_critical, target_percent, calm_ms, root=None, /)\n--\n\nStart the pressure monitor."},
    {"_stop_pressure", mod_stop_pressure, METH_NOARGS,
     "_stop_pressure()\n--\n\nStop the pressure monitor."},
    {"_sample", (PyCFunction)(void (*)(void))mod_sample, METH_VARARGS | METH_KEYWORDS,
     "_sample(items, rank, world, seed=0, epoch=0, chunk=0, start=0, count=-1)\n--\n\n"
     "Positions start.. of rank's share (reel_sample), as native int64 values."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "reel._reel",
                                    "The C half of the reel package (see reel).", -1,
                                    module_methods, NULL, NULL, NULL, NULL};

/* A class reel.<name> of two bases, added to m; a new reference kept by the caller, or NULL. */
/* cls.code = code (a class attribute: the code of what cls stands for, also when an instance
 * was raised without one); 0, or -1 with an exception. */
static int set_code(PyObject *cls, int code)
{
    PyObject *v = PyLong_FromLong(code);
    int rc = v ? PyObject_SetAttrString(cls, "code", v) : -1;
    Py_XDECREF(v);
    return rc;
}

static PyObject *add_error2(PyObject *m, const char *name, const char *doc, PyObject *base1,
                            PyObject *base2, int code)
{
    char full[64];
    PyObject *b = PyTuple_Pack(2, base1, base2), *cls;
    snprintf(full, sizeof full, "reel.%s", name);
    cls = b ? PyErr_NewExceptionWithDoc(full, doc, b, NULL) : NULL;
    Py_XDECREF(b);
    if (!cls || set_code(cls, code) < 0) {
        Py_XDECREF(cls);
        return NULL;
    }
    Py_INCREF(cls);
    if (PyModule_AddObject(m, name, cls) < 0) {
        Py_DECREF(cls);
        return NULL;
    }
    return cls;
}

/* The classes that refine a code's class: a missing file, an unknown pixel format. */
static int add_face_errors(PyObject *m)
{
    NoSuchFile = add_error2(m, "NoSuchFileError",
                            "No such store or video file (a NotFoundError and a "
                            "FileNotFoundError).",
                            errors[REEL_NOTFOUND], PyExc_FileNotFoundError, REEL_NOTFOUND);
    FormatError = NoSuchFile ? add_error2(m, "PixelFormatError",
                                          "An unknown pixel format name (an UnsupportedError "
                                          "and an InvalidError, so a ValueError); the message "
                                          "lists the choices.",
                                          errors[REEL_UNSUPPORTED], errors[REEL_INVALID],
                                          REEL_UNSUPPORTED)
                             : NULL;
    return FormatError ? 0 : -1;
}

/* The exception classes, as (code, name, doc, extra base or NULL). */
static int add_errors(PyObject *m)
{
    static const struct {
        int code;
        const char *name;
        const char *doc;
    } table[] = {
        {REEL_NOTFOUND, "NotFoundError", "No such store, sequence, frame or timestamp."},
        {REEL_CORRUPT, "CorruptError", "Stored data failed validation (size, checksum, zstd)."},
        {REEL_NOMEM, "NoMemoryError", "Out of memory."},
        {REEL_IO, "StoreIOError", "The file system or SQLite reported an I/O error."},
        {REEL_MISUSE, "MisuseError", "A closed store or sequence, or a call out of place."},
        {REEL_INVALID, "InvalidError", "An argument out of range or inconsistent."},
        {REEL_UNSUPPORTED, "UnsupportedError", "Format, schema version or feature unsupported."},
        {REEL_READONLY, "ReadOnlyError", "A write on a store opened for reading."},
        {REEL_EXISTS, "ExistsError", "A sequence of that name exists already."},
        {REEL_BUSY, "BusyError", "The store stayed locked by another process, or is busy."},
        {REEL_FULL, "FullError", "A capacity limit was reached."},
        {REEL_NODATA, "NoDataError", "The frame is recorded but has no pixels (skipped)."},
        {REEL_INTERRUPTED, "InterruptedImport", "Stopped on request; committed work is kept."},
        {REEL_DENIED, "DeniedError", "A server refused the request (keys, permissions)."},
    };
    PyObject *bases[NCODES] = {0};
    size_t i;
    bases[REEL_NOTFOUND] = PyExc_LookupError;
    bases[REEL_NOMEM] = PyExc_MemoryError;
    bases[REEL_IO] = PyExc_OSError;
    bases[REEL_INVALID] = PyExc_ValueError;
    bases[REEL_DENIED] = PyExc_PermissionError;
    bases[REEL_MISUSE] = PyExc_ValueError; /* a closed store, as a closed file is */
    if (!(Error = PyErr_NewExceptionWithDoc(
              "reel.Error", "Every error of reel: .code is libreel's result code (each class "
                            "has its own as a class attribute), the message says what failed "
                            "and where.",
              NULL, NULL)) ||
        set_code(Error, REEL_ERROR) < 0 || PyModule_AddObject(m, "Error", Error) < 0)
        return -1;
    Py_INCREF(Error);
    for (i = 0; i < sizeof table / sizeof table[0]; i++) {
        char full[64];
        PyObject *b = bases[table[i].code]
                          ? PyTuple_Pack(2, Error, bases[table[i].code])
                          : PyTuple_Pack(1, Error);
        snprintf(full, sizeof full, "reel.%s", table[i].name);
        errors[table[i].code] = PyErr_NewExceptionWithDoc(full, table[i].doc, b, NULL);
        Py_XDECREF(b);
        if (!errors[table[i].code] || set_code(errors[table[i].code], table[i].code) < 0)
            return -1;
        Py_INCREF(errors[table[i].code]);
        if (PyModule_AddObject(m, table[i].name, errors[table[i].code]) < 0)
            return -1;
    }
    return (SequenceNotFound = add_error2(m, "SequenceNotFoundError",
                                          "No sequence of that name (also a KeyError).",
                                          errors[REEL_NOTFOUND], PyExc_KeyError,
                                          REEL_NOTFOUND)) &&
                   (StoreClosed = add_error2(m, "StoreClosedError",
                                             "A read or write on a closed store (also a "
                                             "ValueError).",
                                             errors[REEL_MISUSE], PyExc_ValueError,
                                             REEL_MISUSE))
               ? add_face_errors(m)
               : -1;
}

PyMODINIT_FUNC PyInit__reel(void)
{
    PyObject *m;
    import_array();
    if (PyType_Ready(&StoreType) < 0 || PyType_Ready(&SeqType) < 0 ||
        PyType_Ready(&FrameType) < 0)
        return NULL;
    if (!(m = PyModule_Create(&module)))
        return NULL;
    the_module = m; /* borrowed: the module lives as long as the process uses its types */
    if (add_errors(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&StoreType);
    Py_INCREF(&SeqType);
    Py_INCREF(&FrameType);
    PyModule_AddObject(m, "Store", (PyObject *)&StoreType);
    PyModule_AddObject(m, "Sequence", (PyObject *)&SeqType);
    PyModule_AddObject(m, "Frame", (PyObject *)&FrameType);
    PyModule_AddStringConstant(m, "__version__", reel_version_string());
    return m;
}

/*
 * _gather_into(indexes, out, missing='raise'): as get_batch, into the caller's buffer out
 * (exactly len(indexes) frames of bytes, writable, C-contiguous): reel.torch reads a batch of
 * clips straight into a tensor in shared memory, with no array in between. 'skip' is refused
 * (rows would move).
 */
static PyObject *seq_gather_into(SeqObject *q, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"indexes", "out", "missing", NULL};
    PyObject *obj, *buf, *mobj = NULL;
    Py_buffer view;
    Py_ssize_t n;
    int64_t *idx;
    unsigned char *got = NULL;
    reel_frame **f = NULL;
    size_t bad = 0;
    int missing, rc = REEL_NOMEM;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O:_gather_into", kwlist, &obj, &buf, &mobj) ||
        missing_arg(mobj, &missing) < 0 || check_seq(q))
        return NULL;
    if (missing == MISSING_SKIP) {
        PyErr_SetString(PyExc_ValueError, "missing='skip' would leave rows of out unwritten");
        return NULL;
    }
    if (!(idx = indexes_of(q, obj, &n)))
        return NULL;
    if (PyObject_GetBuffer(buf, &view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) {
        PyMem_Free(idx);
        return NULL;
    }
    if ((size_t)view.len != (size_t)n * q->info.frame_size) {
        PyErr_Format(PyExc_ValueError, "out: %zd bytes, but %zd frames of %zu bytes need %zu",
                     view.len, n, q->info.frame_size, (size_t)n * q->info.frame_size);
        rc = -1;
    } else if ((got = PyMem_Calloc((size_t)n + 1, 1)) &&
               (f = PyMem_Calloc((size_t)n + 1, sizeof *f))) {
        rc = REEL_OK;
        if (n > 0 && seq_begin(q) < 0)
            rc = -1;
        else if (n > 0) {
            Py_BEGIN_ALLOW_THREADS
            rc = gather_into(q, idx, (size_t)n, 0, missing, view.buf, got, &bad, f);
            Py_END_ALLOW_THREADS
            call_end(q->store);
        }
    }
    PyBuffer_Release(&view);
    PyMem_Free(f);
    PyMem_Free(got);
    if (rc == REEL_NODATA)
        raise_coded(errors[REEL_NODATA], rc,
                    PyUnicode_FromFormat("sequence %R frame %lld has no pixels (status "
                                         "'skipped')", q->name, (long long)idx[bad]));
    PyMem_Free(idx);
    if (rc == REEL_OK)
        Py_RETURN_NONE;
    if (rc == REEL_NOMEM)
        return PyErr_NoMemory();
    return rc == -1 || rc == REEL_NODATA ? NULL : frame_fail(rc);
}

/*
 * _append_raw(data, pts, durations): the frames of data (a C-contiguous buffer of n whole
 * frames) appended in one transaction through reel_frames_append, the GIL released, with
 * pts[k] and durations[k] (C-contiguous int64 buffers of n entries). Sequence.append checks
 * shapes and makes the timestamps; this checks only what C needs. Returns the first index.
 */
static PyObject *seq_append_raw(SeqObject *q, PyObject *args)
{
    PyObject *dobj, *pobj, *uobj;
    Py_buffer data, pts, dur;
    reel_frame_in *in = NULL;
    size_t fs = q->info.frame_size, n = 0, k;
    int64_t first = -1;
    int rc = -1;
    if (!PyArg_ParseTuple(args, "OOO:_append_raw", &dobj, &pobj, &uobj) || check_seq(q) ||
        store_check_w(q->store))
        return NULL;
    if (PyObject_GetBuffer(dobj, &data, PyBUF_C_CONTIGUOUS) < 0)
        return NULL;
    if (PyObject_GetBuffer(pobj, &pts, PyBUF_C_CONTIGUOUS) < 0) {
        PyBuffer_Release(&data);
        return NULL;
    }
    if (PyObject_GetBuffer(uobj, &dur, PyBUF_C_CONTIGUOUS) < 0) {
        PyBuffer_Release(&pts);
        PyBuffer_Release(&data);
        return NULL;
    }
    if (fs == 0 || (size_t)data.len % fs != 0)
        PyErr_Format(PyExc_ValueError, "frames: %zd bytes is not a whole number of %zu-byte "
                     "frames", data.len, fs);
    else if ((n = (size_t)data.len / fs, (size_t)pts.len != n * sizeof(int64_t)) ||
             (size_t)dur.len != n * sizeof(int64_t))
        PyErr_Format(PyExc_ValueError, "pts: %zu frames need %zu timestamps and durations",
                     n, n);
    else if (n > 0 && !(in = PyMem_Calloc(n, sizeof *in)))
        PyErr_NoMemory();
    else
        rc = REEL_OK;
    if (rc == REEL_OK && n > 0) {
        const int64_t *p = pts.buf, *u = dur.buf;
        for (k = 0; k < n; k++) {
            in[k].pixels = (const unsigned char *)data.buf + k * fs;
            in[k].size = fs;
            in[k].pts = p[k];
            in[k].duration = u[k];
            in[k].flags = 0;
            in[k].status = REEL_STATUS_OK;
        }
        if (seq_begin(q) < 0)
            rc = -1;
        else {
            Py_BEGIN_ALLOW_THREADS
            rc = reel_frames_append(q->q, in, n, &first);
            Py_END_ALLOW_THREADS
            call_end(q->store);
        }
    }
    PyMem_Free(in);
    PyBuffer_Release(&dur);
    PyBuffer_Release(&pts);
    PyBuffer_Release(&data);
    if (rc == -1)
        return NULL;
    if (rc != REEL_OK)
        return fail(rc);
    return PyLong_FromLongLong(n > 0 ? (long long)first : -1);
}
