/* store.c - opening and migrating the SQLite database (see store.h, docs/storage.md). */
#include "store.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../common/banned.h"

/* Each entry takes the schema from version i to i + 1. */
static const char *const migrations[STORE_SCHEMA] = {
	"CREATE TABLE probes ("
	"  id TEXT PRIMARY KEY,"
	"  last_seq INTEGER NOT NULL DEFAULT 0,"
	"  last_seen_ms INTEGER, uplink TEXT, version TEXT,"
	"  clock_offset_ms INTEGER, since_sync_s INTEGER,"
	"  spool_pending INTEGER, spool_dropped INTEGER);"
	"CREATE TABLE results ("
	"  id INTEGER PRIMARY KEY,"
	"  probe TEXT NOT NULL, target TEXT NOT NULL,"
	"  time_ms INTEGER NOT NULL,"		/* corrected to the server's clock */
	"  probe_time TEXT NOT NULL,"		/* as the probe stamped it */
	"  verdict TEXT NOT NULL, uplink TEXT, json TEXT NOT NULL,"
	"  in_rrd INTEGER NOT NULL DEFAULT 0,"	/* 0 pending, 1 written, 2 too old */
	"  UNIQUE (probe, target, probe_time));"
	"CREATE INDEX results_by_target ON results (target, time_ms);"
	"CREATE TABLE latest ("
	"  probe TEXT NOT NULL, target TEXT NOT NULL,"
	"  time_ms INTEGER NOT NULL, verdict TEXT NOT NULL, json TEXT NOT NULL,"
	"  since_ms INTEGER NOT NULL,"		/* when the verdict last changed */
	"  PRIMARY KEY (probe, target));"
	"CREATE TABLE verdict_changes ("
	"  probe TEXT NOT NULL, target TEXT NOT NULL, time_ms INTEGER NOT NULL,"
	"  old TEXT, new TEXT NOT NULL);"
	"CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);",
	/*
	 * 2: the alerts' tables, which alerts/astore.c now creates and
	 * migrates itself (schema_modules); databases from before keep those
	 * this migration made then, and the alerts adopt them.
	 */
	"SELECT 1;",
	/*
	 * 3: batch numbers per spool epoch (docs/protocol.md). A probe whose
	 * spool is made anew numbers from 1 again under a new epoch; the old
	 * numbers of probes from before epochs are kept under the epoch ''.
	 */
	"CREATE TABLE probe_epochs ("
	"  probe TEXT NOT NULL, epoch TEXT NOT NULL,"
	"  first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL,"
	"  first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL,"
	"  batches INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (probe, epoch));"
	"INSERT INTO probe_epochs (probe, epoch, first_seq, last_seq, first_ms, last_ms, batches) "
	"  SELECT id, '', 1, last_seq, COALESCE(last_seen_ms, 0), COALESCE(last_seen_ms, 0), 0 "
	"  FROM probes WHERE last_seq > 0;"
	"ALTER TABLE probes ADD COLUMN epoch TEXT;"		/* the newest epoch seen */
	"ALTER TABLE probes ADD COLUMN epoch_since_ms INTEGER;"	/* when it was first seen */
	"ALTER TABLE probes ADD COLUMN epochs INTEGER NOT NULL DEFAULT 0;"
	"UPDATE probes SET epoch = '', epoch_since_ms = last_seen_ms, epochs = 1 WHERE last_seq > 0;",
};

int store_exec(struct store *s, const char *sql, struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, "database: %s", msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* The first statement error of this thread's request, if any. */
static _Thread_local struct {
	int failed;
	char msg[ERR_MAX];
} thread_error;

static void keep_error(sqlite3 *db, int rc)
{
	if (thread_error.failed)
		return;
	thread_error.failed = 1;
	snprintf(thread_error.msg, sizeof(thread_error.msg), "database: %s (%s)",
		 db ? sqlite3_errmsg(db) : "no connection", sqlite3_errstr(rc));
}

int store_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);

	if (rc == SQLITE_OK)
		return 0;
	keep_error(db, rc);
	*st = NULL;
	return -1;
}

int store_step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		keep_error(sqlite3_db_handle(st), rc);
	return rc;
}

void store_clear_error(void)
{
	thread_error.failed = 0;
	thread_error.msg[0] = '\0';
}

int store_failed(struct err *e)
{
	if (!thread_error.failed)
		return 0;
	err_set(e, "%s", thread_error.msg);
	return 1;
}

/* The message for a damaged database: what, and how to get back to work. */
static int damaged(struct err *e, const char *path, const char *what)
{
	char first[128];
	size_t n = 0;

	/* quick_check's first finding, on one line, without its header */
	if (!strncmp(what, "*** in database main ***", 24))
		what += 24;
	while (*what == '\n' || *what == ' ')
		what++;
	for (; *what && n + 1 < sizeof(first); what++)
		first[n++] = *what == '\n' ? ' ' : *what;
	first[n] = '\0';
	return err_set(e, "database '%s' is damaged (quick_check: %.100s); qrwatchd will "
		       "not start on it, so that nothing more is written to it. To restore "
		       "the last backup: stop qrwatchd, move the file and its -wal and -shm "
		       "files aside, copy the backup in its place and start qrwatchd; "
		       "without a backup, see 'When the database is damaged' in "
		       "docs/deploy.md", path, first);
}

static int quick_check(sqlite3 *db, const char *path, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return damaged(e, path, sqlite3_errmsg(db));
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0) {
		char what[256];

		snprintf(what, sizeof(what), "%s", rc == SQLITE_ROW ?
			 (const char *)sqlite3_column_text(st, 0) : sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return damaged(e, path, what);
	}
	sqlite3_finalize(st);
	return 0;
}

int store_check(const char *data_dir, struct err *e)
{
	char path[1100];
	sqlite3 *db = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/qrwatch.db", data_dir);
	if (access(path, F_OK) < 0)
		return 0;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		err_set(e, "cannot open database '%s': %s", path,
			db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	rc = quick_check(db, path, e);
	sqlite3_close(db);
	return rc;
}

static int user_version(struct store *s)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	return v;
}

int store_open(struct store *s, const char *data_dir, struct err *e)
{
	char path[1100], sql[64];
	int v;

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "%s/qrwatch.db", data_dir);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		err_set(e, "cannot open database '%s': %s", path,
			s->db ? sqlite3_errmsg(s->db) : "out of memory");
		sqlite3_close(s->db);
		s->db = NULL;
		return -1;
	}
	sqlite3_busy_timeout(s->db, 5000);
	pthread_mutex_init(&s->lock, NULL);
	/* a damaged database is refused before anything is written to it */
	if (quick_check(s->db, path, e) < 0) {
		store_close(s);
		return -1;
	}
	if (store_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", e) < 0)
		goto fail;
	v = user_version(s);
	if (v < 0 || v > STORE_SCHEMA) {
		err_set(e, "database '%s' has schema %d; this qrwatchd knows up to %d",
			path, v, STORE_SCHEMA);
		goto fail;
	}
	for (; v < STORE_SCHEMA; v++) {
		if (store_exec(s, "BEGIN", e) < 0 || store_exec(s, migrations[v], e) < 0)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", v + 1);
		if (store_exec(s, sql, e) < 0 || store_exec(s, "COMMIT", e) < 0)
			goto fail;
	}
	return 0;
fail:
	err_prefix(e, "'%s'", path);
	store_close(s);
	return -1;
}

void store_close(struct store *s)
{
	if (s->db) {
		sqlite3_close(s->db);
		s->db = NULL;
		pthread_mutex_destroy(&s->lock);
	}
}
