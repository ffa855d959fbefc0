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

#endif
