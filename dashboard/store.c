/* store.c - opening and migrating the SQLite database (see store.h, docs/storage.md). */
#include "store.h"

#include <stdio.h>
#include <string.h>

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
