/*
 * schema.c - the migration runner. The schema is the list of schema/NNN_*.sql files, embedded
 * at build time; a store records the last one applied in reel_meta('schema_version').
 */
#include "config.h"

#include <stdio.h>

#include "base/db.h"
#include "base/error.h"
#include "store/schema.h"

int reel__schema_latest(void) { return reel__migrations[reel__migration_count - 1].version; }

int reel__schema_version(sqlite3 *db, int *version)
{
    sqlite3_stmt *st = NULL;
    int rc, has_meta = 0;
    rc = sqlite3_prepare_v2(db,
                            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                            "name = 'reel_meta'",
                            -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        has_meta = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return reel__sqlerr(db, rc, "reading the schema");
    if (!has_meta) {
        *version = 0;
        return REEL_OK;
    }
    rc = sqlite3_prepare_v2(db, "SELECT value FROM reel_meta WHERE key = 'schema_version'", -1,
                            &st, NULL);
    if (rc != SQLITE_OK)
        return reel__sqlerr(db, rc, "reading the schema version");
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER) {
        *version = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        rc = SQLITE_CORRUPT;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_CORRUPT)
        return reel__err(REEL_CORRUPT, "reel_meta has no valid schema_version");
    if (rc != SQLITE_OK)
        return reel__sqlerr(db, rc, "reading the schema version");
    return REEL_OK;
}

/* Run migration m and record its version, inside the caller's transaction. */
static int apply_in_tx(sqlite3 *db, const reel__migration *m)
{
    char sql[128], what[96];
    int rc = sqlite3_exec(db, m->sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK) {
        snprintf(sql, sizeof sql,
                 "INSERT OR REPLACE INTO reel_meta(key, value) VALUES('schema_version', %d)",
                 m->version);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK)
        return REEL_OK;
    snprintf(what, sizeof what, "schema migration %s", m->name);
    return reel__sqlerr(db, rc, what);
}

/*
 * Bring the schema from its version to target. A store being made (version 0) gets every
 * migration in one transaction, so that a process killed while making it leaves no tables or
 * the whole schema, never a half-made store; an existing store gets one transaction per
 * migration. Another process may have migrated meanwhile: the version is read again under
 * the write lock.
 */
int reel__schema_migrate(sqlite3 *db, int target)
{
    int have, rc, i, made = 0;
    if ((rc = reel__exec(db, "BEGIN IMMEDIATE")) != REEL_OK)
        return rc;
    if ((rc = reel__schema_version(db, &have)) != REEL_OK)
        goto fail;
    for (i = 0; i < reel__migration_count; i++) {
        const reel__migration *m = &reel__migrations[i];
        if (m->version <= have || m->version > target)
            continue;
        if (made && have > 0) { /* an existing store: commit each step */
            if ((rc = reel__exec(db, "COMMIT")) != REEL_OK ||
                (rc = reel__exec(db, "BEGIN IMMEDIATE")) != REEL_OK)
                goto fail;
        }
        if ((rc = apply_in_tx(db, m)) != REEL_OK)
            goto fail;
        made = 1;
    }
    if ((rc = reel__exec(db, "COMMIT")) != REEL_OK)
        goto fail;
    return REEL_OK;
fail:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}
