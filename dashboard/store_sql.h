/* store_sql.h - inside the store: a connection with its statements prepared once (dashboard/store*.c only). */
#ifndef QRW_STORE_SQL_H
#define QRW_STORE_SQL_H

#include <stddef.h>

#include <sqlite3.h>

/*
 * A connection and the statements of one table of SQL (an array indexed by
 * an enum of the module that owns it), each prepared on first use and kept.
 * The first error is kept in error until the owner takes it.
 */
struct conn {
	sqlite3 *db;
	const char *const *sql;
	size_t nsql;
	sqlite3_stmt **st;		/* nsql of them, NULL until used */
	char *error;			/* ERR_MAX bytes, "" while all is well */
};

int conn_init(struct conn *c, sqlite3 *db, const char *const *sql, size_t nsql,
	      char *error);
void conn_release(struct conn *c);

/* Statement k, reset and ready to bind; NULL (error kept) if it cannot be prepared. */
sqlite3_stmt *conn_get(struct conn *c, int k);

/* sqlite3_step(), keeping any error. */
int conn_step(struct conn *c, sqlite3_stmt *st);

/* Run st to the end: 0, or -1 (error kept). NULL st is -1. */
int conn_done(struct conn *c, sqlite3_stmt *st);

/* Bind a string (NULL as NULL) or copy a column's text ("" for NULL) into out. */
void conn_text(sqlite3_stmt *st, int i, const char *v);
void conn_col(sqlite3_stmt *st, int i, char *out, size_t cap);

/* Keep the connection's current error (when a step failed outside conn_step). */
void conn_keep(struct conn *c);

/* The statements of the writer (store_ingest.c) and of the readers (store_read.c). */
extern const char *const store_writer_sql[];
extern const size_t store_writer_nsql;
extern const char *const store_reader_sql[];
extern const size_t store_reader_nsql;

struct store;
struct store_reader;
struct conn *store_writer_conn(struct store *s);
struct conn *store_reader_conn(struct store_reader *r);

#endif
