/* schema.h - the schema runner (schema.c; schema_sql.c is generated from schema/NNN_*.sql). */
#ifndef REEL_STORE_SCHEMA_H
#define REEL_STORE_SCHEMA_H

#include <sqlite3.h>

#include "base/common.h"

typedef struct reel__migration {
    int version;
    const char *name;
    const char *sql;
} reel__migration;
REEL__HIDDEN extern const reel__migration reel__migrations[];
REEL__HIDDEN extern const int reel__migration_count;

/* The schema version this library writes. */
REEL__HIDDEN int reel__schema_latest(void);
/* The oldest schema version a read-only open serves as it is. The migrations after it only add
 * tables (010: annotations), which such an open sees as empty (annot.c). Older stores must be
 * opened read-write once, to migrate. */
#define REEL__SCHEMA_READ_OLDEST 9
/* Bring db (opened read-write) to schema version target, each step in a transaction. */
REEL__HIDDEN int reel__schema_migrate(sqlite3 *db, int target);
/* Read the store's schema version: 0 for an empty database. */
REEL__HIDDEN int reel__schema_version(sqlite3 *db, int *version);

#endif
