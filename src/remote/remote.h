/* remote.h - published stores (src/remote): a store snapshot published as content-addressed
 * parts with their index objects and a manifest (publish.c), and read back anywhere through a
 * read-only SQLite VFS (vfs.c) that fetches fixed-size blocks, checks each against its
 * published hash and keeps them in a block cache on the node shared by its processes
 * (blocks.c). The manifest is written and parsed in manifest.c, SHA-256 and hex are
 * digest.c's, locations (directory, HTTP, S3, behind a method table) and their objects
 * loc.c's. Within the folder the files use each other without a circle (check_layers.sh):
 * vfs -> blocks -> manifest -> digest, publish -> manifest, and all of them -> loc -> digest. */
#ifndef REEL_REMOTE_REMOTE_H
#define REEL_REMOTE_REMOTE_H

#include "base/common.h"
#include "remote/digest.h"
#include "remote/loc.h"

#define REEL__MANIFEST "manifest.json"
#define REEL__MANIFEST_MAX ((size_t)1 << 30) /* larger is not reel's (10 M frames: ~10 MB) */
#define REEL__BLOCK_SIZE 65536                  /* the unit of fetching and of hashing */
#define REEL__PART_DEFAULT ((int64_t)64 << 20)  /* bytes per part object */
/* the largest part: one PUT, far under S3's 5 GiB single-PUT limit, and one buffer in memory */
#define REEL__PART_MAX ((int64_t)1 << 30)
#define REEL__HASH_BYTES 16                     /* a block's hash: SHA-256, first 128 bits */
#define REEL__HASH_HEX 32                       /* the same in hex digits */

/* One sequence of a published store, as the manifest lists it; ranges[i] = {part, first
 * frame, last frame}: the frames with bytes in that part (NULL: not known). */
typedef struct reel__pubseq {
    const char *name, *pix_fmt, *codec;
    int64_t frames, stored_bytes;
    int width, height, keyint;
    int64_t (*ranges)[3];
    size_t nranges;
} reel__pubseq;

/* What a publish did; verify (set by the caller): also check the content of the objects there
 * already (always done for a directory), not only their size. */
typedef struct reel__pubstat {
    int64_t bytes, parts, uploaded_parts, uploaded_bytes;
    int64_t repaired; /* of the uploaded parts and index objects: there, but damaged or short */
    int verify;
} reel__pubstat;

/* How a snapshot is cut into parts: part_bytes (rounded up to whole blocks) each, except that
 * a part ends where the head does (the file's pages up to its last B-tree root page, which
 * change whenever rows are added), so the parts after it keep their boundaries. */
typedef struct reel__cuts {
    int64_t part_bytes, bytes; /* the part size, and the snapshot's size */
    int64_t *starts;           /* where each part begins (malloc'd) */
    size_t n;
} reel__cuts;

/* Cut the snapshot file at path for part_bytes (0: the default). */
REEL__HIDDEN int reel__publish_cut(const char *path, int64_t part_bytes, reel__cuts *c);
REEL__HIDDEN void reel__publish_cuts_free(reel__cuts *c);

/* Publish the store file at path (a finished snapshot of store schema version schema,
 * rollback journal, cut as c says) to dest: parts named by the SHA-256 of their content, each
 * with its index object (its blocks' hashes), uploaded unless there already with the right
 * size (and content: st->verify, or a directory), then the manifest listing them and seqs.
 * First what killed publishes left at dest is removed (reel__loc_clean). */
REEL__HIDDEN int reel__publish_file(const char *path, int schema, const reel__cuts *c,
                                    const char *dest, const reel__pubseq *seqs, size_t nseqs,
                                    reel__pubstat *st);


/* The longest object key reel gives, with its NUL: "parts/<64 hex digits>.part". */
#define REEL__KEY_BYTES 80

/* An object's key: "parts/" + the 64 hex digits of md + ext (".part" or ".idx"), into key
 * (REEL__KEY_BYTES). */
REEL__HIDDEN void reel__object_key(const uint8_t md[REEL__SHA256_BYTES], const char *ext,
                                   char *key);

/* One part as the manifest lists it: its key, its size, its index object's key. */
typedef struct reel__pubpart {
    char key[REEL__KEY_BYTES], index[REEL__KEY_BYTES];
    int64_t bytes;
} reel__pubpart;

/* What a manifest written says: the store schema, the snapshot's size, the part size it was
 * cut for, its parts in order, the sequences published. */
typedef struct reel__manifest_out {
    int schema;
    int64_t bytes, part_bytes;
    const reel__pubpart *parts;
    size_t nparts;
    const reel__pubseq *seqs;
    size_t nseqs;
} reel__manifest_out;

/* The manifest (version 3, JSON) for m into *text (malloc'd, NUL-terminated; the caller frees
 * it). REEL_NOMEM. Its reader: reel__manifest_parse (remote_impl.h). */
REEL__HIDDEN int reel__manifest_write(const reel__manifest_out *m, char **text);

/* The last i < n with v[i] <= x, v ascending, v[0] <= x (which part holds offset or block x,
 * given where the parts begin). */
REEL__HIDDEN size_t reel__last_at_most(const int64_t *v, size_t n, int64_t x);

/* A published store opened for reading: its manifest and location. */
typedef struct reel__remote reel__remote;
/* Fetch and check the manifest of name (see reel__loc_open; REEL_UNSUPPORTED when it was
 * published with a store schema newer than schema); *vfs_name and *file_name are
 * what to open with SQLite (immutable, with that VFS), valid until reel__remote_close. The
 * block cache is $REEL_BLOCK_CACHE (default $XDG_CACHE_HOME/reel/blocks, or ~/.cache/...),
 * at most $REEL_BLOCK_CACHE_MIB MiB (default 4096). */
REEL__HIDDEN int reel__remote_open(const char *name, int schema, reel__remote **out,
                                   const char **vfs_name, const char **file_name);
REEL__HIDDEN void reel__remote_close(reel__remote *r);

/* The file of this node's access counts of r's location (in the block cache directory), into
 * path (cap bytes: at least REEL__COUNTS_PATH_CAP; with less it may be "", no file). */
#define REEL__COUNTS_PATH_CAP 4100
REEL__HIDDEN void reel__remote_counts_path(const reel__remote *r, char *path, size_t cap);

/* Statistics of an open published store: blocks served from the node's cache, blocks
 * fetched, bytes fetched. */
REEL__HIDDEN void reel__remote_stats(const reel__remote *r, int64_t *hits, int64_t *fetched,
                                     int64_t *bytes);

#endif
