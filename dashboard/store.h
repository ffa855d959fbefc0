/* store.h - the server's SQLite database (WAL): probes, results, latest state, sequence numbers. */
#ifndef QRW_STORE_H
#define QRW_STORE_H

#include <pthread.h>

#include <sqlite3.h>

#include "../common/err.h"

/* The schema version this build writes; older databases are migrated. */
#define STORE_SCHEMA 3

struct store {
	sqlite3 *db;
	pthread_mutex_t lock;	/* one connection, one user at a time */
};

/*
 * Open (creating) DATA_DIR/qrwatch.db in WAL mode with full syncs, so that
 * a committed transaction survives a kill -9 or a power cut, and bring its
 * schema up to STORE_SCHEMA. Returns 0 or -1 with e.
 */
int store_open(struct store *s, const char *data_dir, struct err *e);
void store_close(struct store *s);

/* Run SQL with no results (under the caller's lock). -1 with e on error. */
int store_exec(struct store *s, const char *sql, struct err *e);

/*
 * Check the database file in data_dir (read-only) with PRAGMA quick_check,
 * which reads every page. Returns 0 when it is sound or does not exist yet,
 * -1 with e saying what is damaged and how to restore a backup.
 */
int store_check(const char *data_dir, struct err *e);

/*
 * Prepare and step statements for a request: as sqlite3_prepare_v2() and
 * sqlite3_step(), but an error (a damaged database, a full disk) is also
 * kept for the calling thread, so that a loop that ends on it cannot pass
 * for a short answer: the request asks store_failed() at its end.
 * store_prepare() returns 0 or -1 (with *st NULL).
 */
int store_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st);
int store_step(sqlite3_stmt *st);

/* Forget this thread's kept error (at the start of a request). */
void store_clear_error(void);

/* Whether a statement failed in this thread since store_clear_error(); its reason in e. */
int store_failed(struct err *e);

#endif
