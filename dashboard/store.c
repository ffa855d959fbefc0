/* store.c - opening, checking and migrating the database; its connections (see store.h, docs/storage.md). */
#include "store.h"
#include "store_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"
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
	/*
	 * 4: results decoded once. What the pages and the RRD files need of a
	 * result is kept in typed columns, the latest result of each (probe,
	 * target) with its steps as rows, and each target's worst state over
	 * its probes in one table, so that no page reads stored JSON. The
	 * results' JSON stays, written back once, as the record.
	 */
	"ALTER TABLE results ADD COLUMN avail INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE results ADD COLUMN total_us INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE results ADD COLUMN dns_us INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE results ADD COLUMN connect_us INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE results ADD COLUMN tls_us INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE results ADD COLUMN ttfb_us INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE results ADD COLUMN status INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE results ADD COLUMN step INTEGER NOT NULL DEFAULT 0;"
	"UPDATE results SET avail = verdict IN ('OK', 'SLOW'),"
	"  total_us = coalesce(json_extract(json, '$.total_us'), 0),"
	"  dns_us = coalesce(json_extract(json, '$.steps[0].dns_us'), 0),"
	"  connect_us = coalesce(json_extract(json, '$.steps[0].connect_us'), 0),"
	"  tls_us = coalesce(json_extract(json, '$.steps[0].tls_us'), 0),"
	"  ttfb_us = coalesce(json_extract(json, '$.steps[0].ttfb_us'), 0),"
	"  status = coalesce(json_extract(json, '$.steps[#-1].status'), 0),"
	"  step = CASE WHEN coalesce(json_extract(json, '$.failed_step'), 0) > 0"
	"    THEN json_extract(json, '$.failed_step')"
	"    ELSE coalesce(json_array_length(json, '$.steps'), 0) END;"
	"CREATE INDEX results_pending_rrd ON results (in_rrd, time_ms) WHERE in_rrd = 0;"
	"CREATE TABLE latest_new ("
	"  probe TEXT NOT NULL, target TEXT NOT NULL,"
	"  time_ms INTEGER NOT NULL, probe_time TEXT NOT NULL, verdict TEXT NOT NULL,"
	"  since_ms INTEGER NOT NULL,"		/* when the verdict last changed */
	"  why_vi TEXT, why_en TEXT, payload TEXT, decode_step TEXT,"
	"  failed_step INTEGER, failed_step_name TEXT, total_us INTEGER,"
	"  uplink TEXT, interface TEXT, nsteps INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (probe, target));"
	"INSERT INTO latest_new SELECT probe, target, time_ms,"
	"  coalesce(json_extract(json, '$.time'), ''), verdict, since_ms,"
	"  json_extract(json, '$.why_vi'), json_extract(json, '$.why_en'),"
	"  json_extract(json, '$.payload'), json_extract(json, '$.decode_step'),"
	"  json_extract(json, '$.failed_step'), json_extract(json, '$.failed_step_name'),"
	"  json_extract(json, '$.total_us'), json_extract(json, '$.uplink'),"
	"  json_extract(json, '$.interface'), coalesce(json_array_length(json, '$.steps'), 0)"
	"  FROM latest;"
	"CREATE TABLE latest_steps ("
	"  probe TEXT NOT NULL, target TEXT NOT NULL, idx INTEGER NOT NULL,"
	"  name TEXT, method TEXT, url TEXT, final_url TEXT, status INTEGER, bytes INTEGER,"
	"  redirects INTEGER, reused INTEGER, cold INTEGER, dns_us INTEGER,"
	"  connect_us INTEGER, tls_us INTEGER, ttfb_us INTEGER, transfer_us INTEGER,"
	"  total_us INTEGER, ok INTEGER, error TEXT,"
	"  hops TEXT,"				/* the redirect chain: 'status url' lines */
	"  PRIMARY KEY (probe, target, idx));"
	"INSERT INTO latest_steps SELECT l.probe, l.target, s.key,"
	"  json_extract(s.value, '$.name'), json_extract(s.value, '$.method'),"
	"  json_extract(s.value, '$.url'), json_extract(s.value, '$.final_url'),"
	"  json_extract(s.value, '$.status'), json_extract(s.value, '$.bytes'),"
	"  json_extract(s.value, '$.redirects'), json_extract(s.value, '$.reused'),"
	"  json_extract(s.value, '$.cold'), json_extract(s.value, '$.dns_us'),"
	"  json_extract(s.value, '$.connect_us'), json_extract(s.value, '$.tls_us'),"
	"  json_extract(s.value, '$.ttfb_us'), json_extract(s.value, '$.transfer_us'),"
	"  json_extract(s.value, '$.total_us'), json_extract(s.value, '$.ok'),"
	"  json_extract(s.value, '$.error'), ''"
	"  FROM latest l, json_each(l.json, '$.steps') s;"
	"DROP TABLE latest;"
	"ALTER TABLE latest_new RENAME TO latest;"
	"CREATE TABLE target_state ("
	"  target TEXT PRIMARY KEY, verdict TEXT NOT NULL, since_ms INTEGER NOT NULL,"
	"  time_ms INTEGER NOT NULL, probes INTEGER NOT NULL);"
	"INSERT INTO target_state SELECT target, verdict, since_ms, time_ms, n FROM ("
	"  SELECT target, verdict, since_ms, time_ms, count(*) OVER (PARTITION BY target) AS n,"
	"  row_number() OVER (PARTITION BY target ORDER BY CASE verdict"
	"    WHEN 'UNREADABLE' THEN 0 WHEN 'TAMPERED' THEN 1 WHEN 'STALE' THEN 2"
	"    WHEN 'HANG' THEN 3 WHEN 'DOWN' THEN 4 WHEN 'BROKEN_FLOW' THEN 5"
	"    WHEN 'SLOW' THEN 6 ELSE 7 END, probe) AS rn FROM latest) WHERE rn = 1;"
	"CREATE INDEX verdict_changes_by_time ON verdict_changes (time_ms);"
	"CREATE INDEX verdict_changes_by_target ON verdict_changes (target, time_ms);",
	/*
	 * 5: each RRD file's high-water mark: the newest result known to be on
	 * disk in it (after rrdcached's flush and a sync), instead of a mark
	 * per result written in a transaction of its own. After a crash the
	 * results above the marks are written again; a file refuses what it
	 * holds. in_rrd is no longer written.
	 */
	"CREATE TABLE rrd_marks (probe TEXT NOT NULL, target TEXT NOT NULL,"
	"  on_disk_ms INTEGER NOT NULL, PRIMARY KEY (probe, target));"
	"INSERT INTO rrd_marks SELECT probe, target, max(time_ms) FROM results"
	"  WHERE in_rrd != 0 GROUP BY probe, target;"
	"DROP INDEX IF EXISTS results_pending_rrd;"
	"CREATE INDEX results_by_pair ON results (probe, target, time_ms);",
	/*
	 * 6: a target's state is its probes' worst, read by target at every
	 * verdict change: without this, a scan of every (probe, target).
	 */
	"CREATE INDEX latest_by_target ON latest (target);",
	/*
	 * 7: one index on results, the key (probe, target, probe_time): every
	 * index costs a random page per result, and the two by target and by
	 * pair halved ingest. Reads by target go through its probes in
	 * latest, by time through the probe's own clock (STORE_PT_FLOOR).
	 */
	("DROP INDEX IF EXISTS results_by_target;"
	 "DROP INDEX IF EXISTS results_by_pair;"),	/* one step, two statements */
	/*
	 * 8: when each step's TLS certificate expires (the result's
	 * cert_expires), for the target page and the overview's warning
	 */
	"ALTER TABLE latest_steps ADD COLUMN cert_expires INTEGER NOT NULL DEFAULT 0;",
	/*
	 * 9: stale codes' new addresses as officials confirmed them (the
	 * catalog's payload changed by qrwatchd): who, when, from what, the
	 * check that vouched for it, the catalog file kept as it was; and
	 * the board photos officials upload.
	 */
	("CREATE TABLE address_changes (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL,"
	 "  target TEXT NOT NULL, old_address TEXT NOT NULL, new_address TEXT NOT NULL,"
	 "  who TEXT NOT NULL, checked_url TEXT NOT NULL, history_file TEXT NOT NULL);"
	 "CREATE INDEX address_changes_by_target ON address_changes (target, at_ms);"
	 /* and the board photos officials upload, kept as evidence (photos.h) */
	 "CREATE TABLE board_photos (id INTEGER PRIMARY KEY, board TEXT NOT NULL,"
	 "  at_ms INTEGER NOT NULL, who TEXT NOT NULL, file TEXT NOT NULL,"
	 "  bytes INTEGER NOT NULL, summary TEXT NOT NULL);"
	 "CREATE INDEX board_photos_by_board ON board_photos (board, at_ms);"),
};

static int exec(sqlite3 *db, const char *sql, struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, "database: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int store_exec(struct store *s, const char *sql, struct err *e)
{
	return exec(s->db, sql, e);
}

/* ---- a connection with its statements (store_sql.h) ---- */

int conn_init(struct conn *c, sqlite3 *db, const char *const *sql, size_t nsql,
	      char *error)
{
	memset(c, 0, sizeof(*c));
	c->db = db;
	c->sql = sql;
	c->nsql = nsql;
	c->error = error;
	c->st = calloc(nsql, sizeof(*c->st));
	return c->st ? 0 : -1;
}

void conn_release(struct conn *c)
{
	for (size_t i = 0; c->st && i < c->nsql; i++)
		sqlite3_finalize(c->st[i]);
	free(c->st);
	c->st = NULL;
}

void conn_keep(struct conn *c)
{
	if (!c->error[0])
		snprintf(c->error, ERR_MAX, "database: %s", sqlite3_errmsg(c->db));
}

sqlite3_stmt *conn_get(struct conn *c, int k)
{
	sqlite3_stmt *st = c->st[k];

	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	if (sqlite3_prepare_v3(c->db, c->sql[k], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
	    SQLITE_OK) {
		conn_keep(c);
		return NULL;
	}
	c->st[k] = st;
	return st;
}

int conn_step(struct conn *c, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		conn_keep(c);
	return rc;
}

int conn_done(struct conn *c, sqlite3_stmt *st)
{
	int rc;

	if (!st)
		return -1;
	while ((rc = conn_step(c, st)) == SQLITE_ROW)
		;
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

void conn_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

void conn_col(sqlite3_stmt *st, int i, char *out, size_t cap)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	snprintf(out, cap, "%s", v ? (const char *)v : "");
}

int store_failed(struct store *s, struct err *e)
{
	if (!s->error[0])
		return 0;
	err_set(e, "%s", s->error);
	s->error[0] = '\0';
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

struct store_stmts {
	struct conn c;
};

/* A page's connection: read-only, its own statements, its own view of the alerts. */
struct store_reader {
	struct conn c;
	struct astore alerts;
	char error[ERR_MAX];
};

/* ---- the WAL's checkpoints ---- */

static void *wal_run(void *arg)
{
	struct store *s = arg;
	sqlite3 *db = NULL;

	pthread_setname_np(pthread_self(), "qrw-wal");
	if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 1000);
	/* a connection opens the WAL at its first read; before, a checkpoint does nothing */
	if (exec(db, "SELECT count(*) FROM sqlite_schema", NULL) < 0)
		LOG(LOG_LVL_WARN, NULL, "database: WAL checkpoints: %s", sqlite3_errmsg(db));
	pthread_mutex_lock(&s->wal_lock);
	while (!s->wal_stopping) {
		struct timespec ts;
		int log = 0, done = 0, rc;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += STORE_WAL_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&s->wal_wake, &s->wal_lock, &ts);
		if (s->wal_stopping)
			break;
		pthread_mutex_unlock(&s->wal_lock);
		/* as much as no reader still needs, without waiting for anyone */
		rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
		/*
		 * The writer starts the WAL over only when every frame is back
		 * in the database, which under steady commits a passive
		 * checkpoint never quite reaches: past STORE_WAL_RESTART frames,
		 * a restart waits for the writer (the rest is copied by then, so
		 * briefly) and makes the next commit write from the start.
		 */
		if (rc == SQLITE_OK && log > STORE_WAL_RESTART)
			rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_RESTART, &log,
						       &done);
		pthread_mutex_lock(&s->wal_lock);
		if (rc == SQLITE_OK && done > 0)
			s->wal_checkpoints++;
		else if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			LOG(LOG_LVL_WARN, NULL, "database: WAL checkpoint: %s", sqlite3_errmsg(db));
	}
	pthread_mutex_unlock(&s->wal_lock);
	sqlite3_close(db);
	return NULL;
}

/* Checkpoints off the writer: its own stop at 1000 pages is turned off. */
static int wal_start(struct store *s, struct err *e)
{
	pthread_mutex_init(&s->wal_lock, NULL);
	pthread_cond_init(&s->wal_wake, NULL);
	s->wal_stopping = 0;
	if (pthread_create(&s->wal_thread, NULL, wal_run, s) != 0) {
		pthread_mutex_destroy(&s->wal_lock);
		pthread_cond_destroy(&s->wal_wake);
		return err_set(e, "cannot start the WAL checkpoints");
	}
	s->wal_started = 1;
	/* the WAL file is kept at up to 128 MiB when it starts over: growing it costs more */
	return store_exec(s, "PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=134217728;",
			  e);
}

static void wal_stop(struct store *s)
{
	if (!s->wal_started)
		return;
	pthread_mutex_lock(&s->wal_lock);
	s->wal_stopping = 1;
	pthread_cond_signal(&s->wal_wake);
	pthread_mutex_unlock(&s->wal_lock);
	pthread_join(s->wal_thread, NULL);
	pthread_mutex_destroy(&s->wal_lock);
	pthread_cond_destroy(&s->wal_wake);
	s->wal_started = 0;
}

static int open_db(struct store *s, const char *data_dir, int check, struct err *e);

int store_open(struct store *s, const char *data_dir, struct err *e)
{
	return open_db(s, data_dir, 1, e);
}

int store_open_again(struct store *s, const char *data_dir, struct err *e)
{
	return open_db(s, data_dir, 0, e);
}

static int open_db(struct store *s, const char *data_dir, int check, struct err *e)
{
	char sql[64];
	int v;

	memset(s, 0, sizeof(*s));
	snprintf(s->path, sizeof(s->path), "%s/qrwatch.db", data_dir);
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->readers_lock, NULL);
	pthread_cond_init(&s->reader_free, NULL);
	if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		err_set(e, "cannot open database '%s': %s", s->path,
			s->db ? sqlite3_errmsg(s->db) : "out of memory");
		store_close(s);
		return -1;
	}
	sqlite3_busy_timeout(s->db, 5000);
	/* a damaged database is refused before anything is written to it */
	if (check && quick_check(s->db, s->path, e) < 0) {
		store_close(s);
		return -1;
	}
	/* the writer keeps the indices it inserts into in memory: 64 MiB of pages */
	if (store_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
		       "PRAGMA cache_size=-65536;", e) < 0)
		goto fail;
	v = user_version(s);
	if (v < 0 || v > STORE_SCHEMA) {
		err_set(e, "database '%s' has schema %d; this qrwatchd knows up to %d",
			s->path, v, STORE_SCHEMA);
		goto fail;
	}
	for (; v < STORE_SCHEMA; v++) {
		if (store_exec(s, "BEGIN", e) < 0 || store_exec(s, migrations[v], e) < 0) {
			exec(s->db, "ROLLBACK", NULL);
			goto fail;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", v + 1);
		if (store_exec(s, sql, e) < 0 || store_exec(s, "COMMIT", e) < 0)
			goto fail;
	}
	if (astore_migrate(s->db, e) < 0)
		goto fail;
	s->st = calloc(1, sizeof(*s->st));
	if (!s->st || conn_init(&s->st->c, s->db, store_writer_sql, store_writer_nsql,
				s->error) < 0) {
		err_set(e, "out of memory");
		goto fail;
	}
	if (wal_start(s, e) < 0)
		goto fail;
	return 0;
fail:
	err_prefix(e, "'%s'", s->path);
	store_close(s);
	return -1;
}

static void reader_free(struct store_reader *r)
{
	if (!r)
		return;
	astore_release(&r->alerts);
	conn_release(&r->c);
	sqlite3_close(r->c.db);
	free(r);
}

void store_close(struct store *s)
{
	wal_stop(s);
	for (int i = 0; i < s->nreaders; i++)
		reader_free(s->readers[i]);
	s->nreaders = 0;
	if (s->st) {
		conn_release(&s->st->c);
		free(s->st);
		s->st = NULL;
	}
	if (s->db) {
		sqlite3_close(s->db);
		s->db = NULL;
	}
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->readers_lock);
	pthread_cond_destroy(&s->reader_free);
}

/* ---- readers ---- */

static struct store_reader *reader_open(struct store *s, struct err *e)
{
	struct store_reader *r = calloc(1, sizeof(*r));
	sqlite3 *db = NULL;

	if (!r) {
		err_set(e, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK || exec(db, "PRAGMA query_only = 1", e) < 0) {
		err_set(e, "cannot open database '%s' to read: %s", s->path,
			db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		free(r);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	if (conn_init(&r->c, db, store_reader_sql, store_reader_nsql, r->error) < 0 ||
	    astore_init(&r->alerts, db, e) < 0) {
		conn_release(&r->c);
		sqlite3_close(db);
		free(r);
		err_set(e, "out of memory");
		return NULL;
	}
	return r;
}

struct store_reader *store_reader_get(struct store *s, struct err *e)
{
	struct store_reader *r = NULL;

	pthread_mutex_lock(&s->readers_lock);
	for (;;) {
		for (int i = 0; i < s->nreaders; i++)
			if (!s->busy[i]) {
				s->busy[i] = 1;
				r = s->readers[i];
				break;
			}
		if (r || s->nreaders < STORE_READERS_MAX)
			break;
		pthread_cond_wait(&s->reader_free, &s->readers_lock);
	}
	if (!r) {
		r = reader_open(s, e);
		if (r) {
			s->busy[s->nreaders] = 1;
			s->readers[s->nreaders++] = r;
		}
	}
	pthread_mutex_unlock(&s->readers_lock);
	if (r)
		r->error[0] = '\0';
	return r;
}

void store_reader_put(struct store *s, struct store_reader *r)
{
	pthread_mutex_lock(&s->readers_lock);
	for (int i = 0; i < s->nreaders; i++)
		if (s->readers[i] == r)
			s->busy[i] = 0;
	pthread_cond_signal(&s->reader_free);
	pthread_mutex_unlock(&s->readers_lock);
}

struct astore *store_reader_alerts(struct store_reader *r)
{
	return &r->alerts;
}

int store_reader_failed(struct store_reader *r, struct err *e)
{
	if (r->error[0]) {
		err_set(e, "%s", r->error);
		r->error[0] = '\0';
		return 1;
	}
	return astore_failed(&r->alerts, e);
}

int store_reader_ok(const struct store_reader *r)
{
	return !r->error[0] && !r->alerts.error[0];
}

/* The reader's connection, for store_read.c. */
struct conn *store_reader_conn(struct store_reader *r)
{
	return &r->c;
}

struct conn *store_writer_conn(struct store *s)
{
	return &s->st->c;
}
