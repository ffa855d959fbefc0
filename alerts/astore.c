/* astore.c - the alerts' tables and every statement on them, prepared once (see astore.h, docs/alerts.md). */
#include "astore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../targets/verdict.h"
#include "../common/banned.h"

/* ---- migrations, kept apart from the dashboard's (schema_modules) ---- */

/*
 * Each entry takes the alerts' tables from version i to i + 1. Version 1
 * is what the dashboard's migration 2 created before the alerts owned
 * their tables: on a database from then it changes nothing.
 */
static const char *const migrations[ASTORE_SCHEMA] = {
	"CREATE TABLE IF NOT EXISTS streaks ("
	"  probe TEXT NOT NULL, target TEXT NOT NULL,"
	"  bad INTEGER NOT NULL DEFAULT 0,"	/* non-OK results in a row */
	"  good INTEGER NOT NULL DEFAULT 0,"	/* OK results in a row */
	"  held INTEGER NOT NULL DEFAULT 0,"	/* failing during the probe's uplink incident */
	"  dirty INTEGER NOT NULL DEFAULT 0,"	/* no longer written: see astore_counted() */
	"  verdict TEXT, time_ms INTEGER, first_bad_ms INTEGER,"
	"  PRIMARY KEY (probe, target));"
	"CREATE TABLE IF NOT EXISTS incidents ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL,"			/* target, uplink, silent */
	"  probe TEXT, target TEXT, verdict TEXT,"
	"  state TEXT NOT NULL,"		/* open, resolved */
	"  announced INTEGER NOT NULL DEFAULT 0, urgent INTEGER NOT NULL DEFAULT 0,"
	"  opened_ms INTEGER NOT NULL, since_ms INTEGER NOT NULL,"
	"  updated_ms INTEGER, resolved_ms INTEGER, reminded_ms INTEGER);"
	"CREATE INDEX IF NOT EXISTS incidents_by_state ON incidents (state, kind, target);"
	"CREATE INDEX IF NOT EXISTS incidents_by_target ON incidents (target, opened_ms);"
	"CREATE TABLE IF NOT EXISTS incident_probes ("
	"  incident INTEGER NOT NULL, probe TEXT NOT NULL, PRIMARY KEY (incident, probe));"
	"CREATE TABLE IF NOT EXISTS incident_events ("
	"  incident INTEGER NOT NULL, time_ms INTEGER NOT NULL, what TEXT NOT NULL, detail TEXT);"
	"CREATE INDEX IF NOT EXISTS incident_events_by_incident ON incident_events (incident);"
	"CREATE TABLE IF NOT EXISTS outbox ("
	"  id INTEGER PRIMARY KEY, incident INTEGER NOT NULL, event TEXT NOT NULL,"
	"  recipient TEXT NOT NULL, channel TEXT NOT NULL, address TEXT NOT NULL, chat TEXT,"
	"  subject TEXT NOT NULL, body TEXT NOT NULL, link TEXT,"
	"  dedupe TEXT NOT NULL UNIQUE,"	/* Message-ID / Idempotency-Key */
	"  created_ms INTEGER NOT NULL, next_ms INTEGER NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  state TEXT NOT NULL DEFAULT 'pending',"	/* pending, sent, failed */
	"  last_error TEXT, sent_ms INTEGER);"
	"CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_ms);"
	"CREATE INDEX IF NOT EXISTS outbox_by_incident ON outbox (incident, recipient);",
	/*
	 * 2: the alerts keep what they need themselves: the evidence of each
	 * streak's latest failure (no more reading the dashboard's results),
	 * when each probe last sent a batch, and their own small state.
	 */
	"ALTER TABLE streaks ADD COLUMN ev_payload TEXT;"
	"ALTER TABLE streaks ADD COLUMN ev_failed_step INTEGER;"
	"ALTER TABLE streaks ADD COLUMN ev_step_name TEXT;"
	"ALTER TABLE streaks ADD COLUMN ev_status INTEGER;"
	"ALTER TABLE streaks ADD COLUMN ev_error TEXT;"
	"ALTER TABLE streaks ADD COLUMN ev_ttfb_us INTEGER;"
	"ALTER TABLE streaks ADD COLUMN ev_total_us INTEGER;"
	"CREATE TABLE alert_probes (probe TEXT PRIMARY KEY, last_batch_ms INTEGER NOT NULL);"
	"CREATE TABLE alert_state (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	/* a random number that keeps this database's dedupe keys apart from another's */
	"INSERT INTO alert_state (name, value) VALUES ('instance', abs(random()));",
	/* 3: a service incident's worst verdict and evidence are looked up by target */
	"CREATE INDEX streaks_by_target ON streaks (target);",
	/*
	 * 4: a failure on the probe's own side (its resolver did not answer:
	 * the result's link_fault) counts as its uplink's fault, not the code's
	 */
	"ALTER TABLE streaks ADD COLUMN link INTEGER NOT NULL DEFAULT 0;",
	/*
	 * 5: a certificate incident (kind 'cert') names the step that met the
	 * certificate and when it expires (Unix s)
	 */
	("ALTER TABLE incidents ADD COLUMN cert_url TEXT;"
	 "ALTER TABLE incidents ADD COLUMN cert_expires INTEGER;"),
};

/* What version 2 takes over from a database of the dashboard's older schemas. */
static const char adopt[] =
	"INSERT OR REPLACE INTO alert_state (name, value) SELECT name, value FROM counters "
	"  WHERE name IN ('instance', 'digest_day');"
	"INSERT OR IGNORE INTO alert_probes (probe, last_batch_ms) SELECT id, last_seen_ms "
	"  FROM probes WHERE last_seen_ms IS NOT NULL;";

static int exec(sqlite3 *db, const char *sql, struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, "alerts: database: %s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int table_exists(sqlite3 *db, const char *name)
{
	sqlite3_stmt *st;
	int found = 0;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND "
			       "name = ?", -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return found;
}

int astore_migrate(sqlite3 *db, struct err *e)
{
	sqlite3_stmt *st;
	int v = 0;

	if (exec(db, "CREATE TABLE IF NOT EXISTS schema_modules (name TEXT PRIMARY KEY, "
		 "version INTEGER NOT NULL)", e) < 0)
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT version FROM schema_modules WHERE name = 'alerts'",
			       -1, &st, NULL) != SQLITE_OK)
		return err_set(e, "alerts: database: %s", sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (v > ASTORE_SCHEMA)
		return err_set(e, "alerts: the database has their schema %d; this qrwatchd knows "
			       "up to %d", v, ASTORE_SCHEMA);
	for (; v < ASTORE_SCHEMA; v++) {
		char sql[128];

		if (exec(db, "BEGIN", e) < 0)
			return -1;
		if (exec(db, migrations[v], e) < 0 ||
		    (v == 1 && table_exists(db, "counters") && table_exists(db, "probes") &&
		     exec(db, adopt, e) < 0)) {
			exec(db, "ROLLBACK", NULL);
			return -1;
		}
		snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO schema_modules (name, version) "
			 "VALUES ('alerts', %d)", v + 1);
		if (exec(db, sql, e) < 0 || exec(db, "COMMIT", e) < 0) {
			exec(db, "ROLLBACK", NULL);
			return -1;
		}
	}
	return 0;
}

/* ---- statements, prepared once per connection ---- */

enum sid {
	S_STREAK_PUT, S_STREAK_GET, S_FAILING,
	S_PROBE_COUNTS, S_FIRST_BAD, S_HOLD, S_RELEASE_HELD, S_WORST, S_EVIDENCE,
	S_PROBE_SEEN, S_QUIET,
	S_INC_OPEN, S_INC_FIND_PROBE, S_INC_FIND_TARGET, S_INC_GET, S_INC_ANNOUNCED,
	S_INC_VERDICT, S_INC_RESOLVE, S_INC_CERT, S_INC_REMINDED, S_IP_ADD, S_IP_REMOVE, S_IP_HAS,
	S_IP_COUNT, S_REMIND_DUE, S_INC_LIST_OPEN, S_INC_LIST_ANNOUNCED, S_INC_LIST_TARGET,
	S_INC_LIST_ALL, S_OPEN_COUNTS,
	S_EV_ADD, S_EV_LIST,
	S_NOTE_ADD, S_NOTE_TOLD, S_NOTE_DUE, S_NOTE_SETTLE, S_NOTE_OF, S_NOTE_FAILED,
	S_NOTE_COUNTS,
	S_STATE_GET, S_STATE_SET,
	S_COUNT
};

/* The columns of an incident, as read_incident() takes them. */
#define INC_COLS "i.id, i.kind, coalesce(i.probe, ''), coalesce(i.target, ''), " \
	"coalesce(i.verdict, ''), i.state, i.announced, i.urgent, i.opened_ms, i.since_ms, " \
	"coalesce(i.updated_ms, 0), coalesce(i.resolved_ms, 0), coalesce(i.reminded_ms, 0), " \
	"(SELECT count(*) FROM incident_probes p WHERE p.incident = i.id), " \
	"coalesce((SELECT group_concat(probe, ', ') FROM (SELECT probe FROM incident_probes " \
	"p WHERE p.incident = i.id ORDER BY probe)), ''), coalesce(i.cert_url, ''), " \
	"coalesce(i.cert_expires, 0)"

static const char *const sql[S_COUNT] = {
	/*
	 * One statement per result: a new streak starts at 1, a known one
	 * counts on unless the result is not newer than the last one counted.
	 * ?12 is 1 for an OK result, which resets bad and the hold and keeps
	 * the evidence; a bad one keeps its own (?5 to ?11) as the latest.
	 * In DO UPDATE, a bare column is the row as it was.
	 */
	[S_STREAK_PUT] = "INSERT INTO streaks (probe, target, bad, good, held, verdict, time_ms, "
		"first_bad_ms, ev_payload, ev_failed_step, ev_step_name, ev_status, ev_error, "
		"ev_ttfb_us, ev_total_us, link) VALUES (?1, ?2, ?12 = 0, ?12 != 0, 0, ?4, "
		"?3, CASE WHEN ?12 THEN NULL ELSE ?3 END, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?13) "
		"ON CONFLICT (probe, target) DO UPDATE SET "
		"bad = CASE WHEN ?12 THEN 0 ELSE bad + 1 END, "
		"good = CASE WHEN ?12 THEN good + 1 ELSE 0 END, "
		"held = CASE WHEN ?12 THEN 0 ELSE held END, time_ms = ?3, verdict = ?4, "
		"first_bad_ms = CASE WHEN ?12 OR bad > 0 THEN first_bad_ms ELSE ?3 END, "
		"ev_payload = CASE WHEN ?12 THEN ev_payload ELSE ?5 END, "
		"ev_failed_step = CASE WHEN ?12 THEN ev_failed_step ELSE ?6 END, "
		"ev_step_name = CASE WHEN ?12 THEN ev_step_name ELSE ?7 END, "
		"ev_status = CASE WHEN ?12 THEN ev_status ELSE ?8 END, "
		"ev_error = CASE WHEN ?12 THEN ev_error ELSE ?9 END, "
		"ev_ttfb_us = CASE WHEN ?12 THEN ev_ttfb_us ELSE ?10 END, "
		"ev_total_us = CASE WHEN ?12 THEN ev_total_us ELSE ?11 END, link = ?13 "
		"WHERE time_ms IS NULL OR time_ms < ?3",
	[S_STREAK_GET] = "SELECT target, coalesce(verdict, ''), bad, good, held, "
		"coalesce(first_bad_ms, 0), link FROM streaks WHERE probe = ? AND target = ?",
	[S_FAILING] = "SELECT target, coalesce(verdict, ''), bad, good, held, "
		"coalesce(first_bad_ms, 0), link FROM streaks WHERE probe = ? AND bad > 0 "
		"ORDER BY target",
	[S_PROBE_COUNTS] = "SELECT count(*), coalesce(sum(bad > 0), 0), "
		"coalesce(sum(bad > 0 AND link), 0) FROM streaks WHERE probe = ?",
	[S_FIRST_BAD] = "SELECT min(first_bad_ms) FROM streaks WHERE probe = ? AND bad > 0",
	/* ?2: most of the probe's codes fail; else only those failing on its side */
	[S_HOLD] = "UPDATE streaks SET held = 1 WHERE probe = ?1 AND bad > 0 AND (?2 OR link)",
	[S_RELEASE_HELD] = "UPDATE streaks SET bad = 0, held = 0 WHERE probe = ? AND held = 1",
	[S_WORST] = "SELECT verdict FROM streaks WHERE target = ? AND bad > 0 AND probe IN "
		"(SELECT probe FROM incident_probes WHERE incident = ?)",
	[S_EVIDENCE] = "SELECT coalesce(ev_payload, ''), coalesce(ev_failed_step, 0), "
		"coalesce(ev_step_name, ''), coalesce(ev_status, 0), coalesce(ev_error, ''), "
		"coalesce(ev_ttfb_us, 0), coalesce(ev_total_us, 0) FROM streaks WHERE "
		"target = ? AND ev_total_us IS NOT NULL AND probe IN (SELECT probe FROM "
		"incident_probes WHERE incident = ?) ORDER BY time_ms DESC LIMIT 1",
	[S_PROBE_SEEN] = "INSERT INTO alert_probes (probe, last_batch_ms) VALUES (?1, ?2) "
		"ON CONFLICT (probe) DO UPDATE SET last_batch_ms = max(last_batch_ms, ?2)",
	[S_QUIET] = "SELECT probe, last_batch_ms FROM alert_probes p WHERE last_batch_ms < ? "
		"AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.kind = 'silent' AND "
		"i.probe = p.probe AND i.state = 'open') ORDER BY probe LIMIT ?",
	[S_INC_OPEN] = "INSERT INTO incidents (kind, probe, target, verdict, state, urgent, "
		"opened_ms, since_ms, updated_ms) VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?)",
	[S_INC_FIND_PROBE] = "SELECT id FROM incidents WHERE kind = ? AND probe = ? AND "
		"state = 'open'",
	[S_INC_FIND_TARGET] = "SELECT id FROM incidents WHERE kind = ? AND target = ? AND "
		"state = 'open'",
	[S_INC_GET] = "SELECT " INC_COLS " FROM incidents i WHERE i.id = ?",
	[S_INC_ANNOUNCED] = "UPDATE incidents SET announced = ? WHERE id = ?",
	[S_INC_VERDICT] = "UPDATE incidents SET verdict = ?, urgent = max(urgent, ?), "
		"updated_ms = ? WHERE id = ?",
	[S_INC_RESOLVE] = "UPDATE incidents SET state = 'resolved', resolved_ms = ?1, "
		"updated_ms = ?1 WHERE id = ?2",
	[S_INC_CERT] = "UPDATE incidents SET cert_url = ?1, cert_expires = ?2, updated_ms = ?3 "
		"WHERE id = ?4",
	[S_INC_REMINDED] = "UPDATE incidents SET reminded_ms = ? WHERE id = ?",
	[S_IP_ADD] = "INSERT OR IGNORE INTO incident_probes (incident, probe) VALUES (?, ?)",
	[S_IP_REMOVE] = "DELETE FROM incident_probes WHERE incident = ? AND probe = ?",
	[S_IP_HAS] = "SELECT 1 FROM incident_probes WHERE incident = ? AND probe = ?",
	[S_IP_COUNT] = "SELECT count(*) FROM incident_probes WHERE incident = ?",
	[S_REMIND_DUE] = "SELECT id FROM incidents WHERE state = 'open' AND announced = 1 AND "
		"max(opened_ms, coalesce(reminded_ms, 0)) <= ? ORDER BY id LIMIT ?",
	[S_INC_LIST_OPEN] = "SELECT " INC_COLS " FROM incidents i WHERE i.state = 'open' "
		"ORDER BY i.urgent DESC, i.since_ms LIMIT ?",
	[S_INC_LIST_ANNOUNCED] = "SELECT " INC_COLS " FROM incidents i WHERE i.state = 'open' "
		"AND i.announced = 1 ORDER BY i.since_ms LIMIT ?",
	[S_INC_LIST_TARGET] = "SELECT " INC_COLS " FROM incidents i WHERE i.target = ? "
		"ORDER BY i.opened_ms DESC, i.id DESC LIMIT ?",
	[S_INC_LIST_ALL] = "SELECT " INC_COLS " FROM incidents i ORDER BY i.id DESC LIMIT ?",
	[S_OPEN_COUNTS] = "SELECT coalesce(sum(kind = 'target'), 0), "
		"coalesce(sum(kind = 'uplink'), 0), coalesce(sum(kind = 'silent'), 0), "
		"coalesce(sum(kind = 'cert'), 0) "
		"FROM incidents WHERE state = 'open'",
	[S_EV_ADD] = "INSERT INTO incident_events (incident, time_ms, what, detail) "
		"VALUES (?, ?, ?, ?)",
	[S_EV_LIST] = "SELECT time_ms, what, coalesce(detail, '') FROM incident_events "
		"WHERE incident = ? ORDER BY rowid LIMIT ?",
	[S_NOTE_ADD] = "INSERT OR IGNORE INTO outbox (incident, event, recipient, channel, "
		"address, chat, subject, body, link, dedupe, created_ms, next_ms) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?11)",
	[S_NOTE_TOLD] = "SELECT 1 FROM outbox WHERE incident = ? AND recipient = ? LIMIT 1",
	[S_NOTE_DUE] = "SELECT id, incident, event, recipient, channel, state, attempts, "
		"created_ms, coalesce(last_error, ''), address, coalesce(chat, ''), subject, "
		"body, coalesce(link, ''), dedupe FROM outbox WHERE state = 'pending' AND "
		"next_ms <= ? ORDER BY next_ms, id LIMIT ?",
	[S_NOTE_SETTLE] = "UPDATE outbox SET state = ?, attempts = attempts + 1, "
		"last_error = ?, next_ms = ?, sent_ms = ? WHERE id = ?",
	[S_NOTE_OF] = "SELECT id, incident, event, recipient, channel, state, attempts, "
		"created_ms, coalesce(last_error, ''), '', '', subject, '', '', dedupe FROM "
		"outbox WHERE incident = ? ORDER BY id LIMIT ?",
	[S_NOTE_FAILED] = "SELECT id, incident, event, recipient, channel, state, attempts, "
		"created_ms, coalesce(last_error, ''), '', '', subject, '', '', dedupe FROM "
		"outbox WHERE state = 'failed' ORDER BY created_ms DESC LIMIT ?",
	[S_NOTE_COUNTS] = "SELECT coalesce(sum(state = 'pending'), 0), "
		"coalesce(sum(state = 'sent'), 0), coalesce(sum(state = 'failed'), 0) FROM outbox",
	[S_STATE_GET] = "SELECT value FROM alert_state WHERE name = ?",
	[S_STATE_SET] = "INSERT INTO alert_state (name, value) VALUES (?1, ?2) "
		"ON CONFLICT (name) DO UPDATE SET value = ?2",
};

struct astore_stmts {
	sqlite3_stmt *st[S_COUNT];
	/* the targets counted since astore_counted() last took them, and whose */
	char probe[65];
	char (*counted)[65];
	size_t ncounted, capcounted;
};

int astore_init(struct astore *s, sqlite3 *db, struct err *e)
{
	memset(s, 0, sizeof(*s));
	s->db = db;
	s->st = calloc(1, sizeof(*s->st));
	if (!s->st)
		return err_set(e, "out of memory");
	return 0;
}

void astore_release(struct astore *s)
{
	if (s->st) {
		for (int i = 0; i < S_COUNT; i++)
			sqlite3_finalize(s->st->st[i]);
		free(s->st->counted);
	}
	free(s->st);
	memset(s, 0, sizeof(*s));
}

static void keep(struct astore *s)
{
	if (!s->error[0])
		snprintf(s->error, sizeof(s->error), "%s", sqlite3_errmsg(s->db));
}

int astore_failed(struct astore *s, struct err *e)
{
	if (!s->error[0])
		return 0;
	err_set(e, "alerts: database: %s", s->error);
	s->error[0] = '\0';
	return 1;
}

int astore_exec(struct astore *s, const char *q, struct err *e)
{
	return exec(s->db, q, e);
}

/* The statement, reset and ready to bind; NULL (kept as an error) if it cannot be. */
static sqlite3_stmt *get(struct astore *s, enum sid k)
{
	sqlite3_stmt *st = s->st->st[k];

	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	if (sqlite3_prepare_v3(s->db, sql[k], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
	    SQLITE_OK) {
		keep(s);
		return NULL;
	}
	s->st->st[k] = st;
	return st;
}

static int step(struct astore *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		keep(s);
	return rc;
}

/* Run to the end: 0, or -1 (kept). */
static int done(struct astore *s, sqlite3_stmt *st)
{
	int rc;

	if (!st)
		return -1;
	while ((rc = step(s, st)) == SQLITE_ROW)
		;
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The first column of the first row, or dflt (also on error, which is kept). */
static int64_t one(struct astore *s, sqlite3_stmt *st, int64_t dflt)
{
	int64_t v = dflt;

	if (st && step(s, st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	return v;
}

static void text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void col(sqlite3_stmt *st, int i, char *out, size_t cap)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	snprintf(out, cap, "%s", v ? (const char *)v : "");
}

/* ---- streaks ---- */

/* Note target as counted for probe; a count for another probe starts the list afresh. */
static int note_counted(struct astore *s, const char *probe, const char *target)
{
	struct astore_stmts *t = s->st;

	if (strcmp(t->probe, probe)) {
		snprintf(t->probe, sizeof(t->probe), "%s", probe);
		t->ncounted = 0;
	}
	if (t->ncounted == t->capcounted) {
		size_t cap = t->capcounted ? t->capcounted * 2 : 256;
		char (*c)[65] = realloc(t->counted, cap * sizeof(*c));

		if (!c) {
			snprintf(s->error, sizeof(s->error), "out of memory");
			return -1;
		}
		t->counted = c;
		t->capcounted = cap;
	}
	snprintf(t->counted[t->ncounted++], sizeof(t->counted[0]), "%s", target);
	return 0;
}

int astore_streak_count(struct astore *s, const char *probe, const char *target, int ok,
			const char *verdict, int link, int64_t time_ms,
			const struct alert_evidence *ev)
{
	sqlite3_stmt *st = get(s, S_STREAK_PUT);

	if (!st)
		return -1;
	text(st, 1, probe);
	text(st, 2, target);
	sqlite3_bind_int64(st, 3, time_ms);
	text(st, 4, verdict);
	if (!ok && ev) {
		text(st, 5, ev->payload);
		sqlite3_bind_int(st, 6, ev->failed_step);
		text(st, 7, ev->step_name);
		sqlite3_bind_int(st, 8, ev->status);
		text(st, 9, ev->error);
		sqlite3_bind_int64(st, 10, ev->ttfb_us);
		sqlite3_bind_int64(st, 11, ev->total_us);
	}
	sqlite3_bind_int(st, 12, ok != 0);
	sqlite3_bind_int(st, 13, !ok && link);
	if (done(s, st) < 0)
		return -1;
	return sqlite3_changes(s->db) ? note_counted(s, probe, target) : 0;
}

static int read_streaks(struct astore *s, sqlite3_stmt *st, struct astore_streak *out,
			size_t max)
{
	size_t n = 0;
	int rc;

	if (!st)
		return -1;
	while (n < max && (rc = step(s, st)) == SQLITE_ROW) {
		struct astore_streak *r = &out[n++];

		col(st, 0, r->target, sizeof(r->target));
		col(st, 1, r->verdict, sizeof(r->verdict));
		r->bad = sqlite3_column_int(st, 2);
		r->good = sqlite3_column_int(st, 3);
		r->held = sqlite3_column_int(st, 4);
		r->first_bad_ms = sqlite3_column_int64(st, 5);
		r->link = sqlite3_column_int(st, 6);
	}
	sqlite3_reset(st);
	return s->error[0] ? -1 : (int)n;
}

static int by_target(const void *a, const void *b)
{
	return strcmp(a, b);
}

int astore_counted(struct astore *s, const char *probe, struct astore_streak **out)
{
	struct astore_stmts *t = s->st;
	struct astore_streak *rows;
	size_t n = 0;

	*out = NULL;
	if (strcmp(t->probe, probe))
		t->ncounted = 0;
	rows = malloc((t->ncounted ? t->ncounted : 1) * sizeof(*rows));
	if (!rows) {
		snprintf(s->error, sizeof(s->error), "out of memory");
		return -1;
	}
	if (t->ncounted)	/* qsort's array may not be NULL, even for 0 rows */
		qsort(t->counted, t->ncounted, sizeof(t->counted[0]), by_target);
	for (size_t i = 0; i < t->ncounted; i++) {
		sqlite3_stmt *st;

		if (i && !strcmp(t->counted[i], t->counted[i - 1]))
			continue;
		if (!(st = get(s, S_STREAK_GET)))
			break;
		text(st, 1, probe);
		text(st, 2, t->counted[i]);
		if (read_streaks(s, st, &rows[n], 1) == 1)
			n++;
	}
	t->ncounted = 0;
	if (s->error[0]) {
		free(rows);
		return -1;
	}
	*out = rows;
	return (int)n;
}

int astore_failing_streaks(struct astore *s, const char *probe, struct astore_streak *out,
			   size_t max)
{
	sqlite3_stmt *st = get(s, S_FAILING);

	if (st)
		text(st, 1, probe);
	return read_streaks(s, st, out, max);
}

int astore_probe_counts(struct astore *s, const char *probe, int *total, int *failing,
			int *link)
{
	sqlite3_stmt *st = get(s, S_PROBE_COUNTS);

	*total = *failing = 0;
	if (link)
		*link = 0;
	if (!st)
		return -1;
	text(st, 1, probe);
	if (step(s, st) == SQLITE_ROW) {
		*total = sqlite3_column_int(st, 0);
		*failing = sqlite3_column_int(st, 1);
		if (link)
			*link = sqlite3_column_int(st, 2);
	}
	sqlite3_reset(st);
	return s->error[0] ? -1 : 0;
}

int64_t astore_first_bad(struct astore *s, const char *probe, int64_t dflt)
{
	sqlite3_stmt *st = get(s, S_FIRST_BAD);

	if (!st)
		return dflt;
	text(st, 1, probe);
	return one(s, st, dflt);
}

static int by_probe(struct astore *s, enum sid k, const char *probe)
{
	sqlite3_stmt *st = get(s, k);

	if (!st)
		return -1;
	text(st, 1, probe);
	return done(s, st);
}

int astore_hold_failing(struct astore *s, const char *probe, int all)
{
	sqlite3_stmt *st = get(s, S_HOLD);

	if (!st)
		return -1;
	text(st, 1, probe);
	sqlite3_bind_int(st, 2, all != 0);
	return done(s, st);
}

int astore_release_held(struct astore *s, const char *probe)
{
	return by_probe(s, S_RELEASE_HELD, probe);
}

int astore_worst_verdict(struct astore *s, int64_t incident, const char *target,
			 char *out, size_t cap)
{
	sqlite3_stmt *st = get(s, S_WORST);
	enum verdict w = VERDICT_OK, v;

	out[0] = '\0';
	if (!st)
		return -1;
	text(st, 1, target);
	sqlite3_bind_int64(st, 2, incident);
	while (step(s, st) == SQLITE_ROW)
		if (verdict_parse((const char *)sqlite3_column_text(st, 0), &v) == 0)
			w = verdict_worse(w, v);
	sqlite3_reset(st);
	if (w != VERDICT_OK)
		snprintf(out, cap, "%s", verdict_name(w));
	return s->error[0] ? -1 : 0;
}

int astore_evidence(struct astore *s, int64_t incident, const char *target,
		    struct alert_evidence *ev)
{
	sqlite3_stmt *st = get(s, S_EVIDENCE);
	int found = 0;

	memset(ev, 0, sizeof(*ev));
	if (!st)
		return -1;
	text(st, 1, target);
	sqlite3_bind_int64(st, 2, incident);
	if (step(s, st) == SQLITE_ROW) {
		col(st, 0, ev->payload, sizeof(ev->payload));
		ev->failed_step = sqlite3_column_int(st, 1);
		col(st, 2, ev->step_name, sizeof(ev->step_name));
		ev->status = sqlite3_column_int(st, 3);
		col(st, 4, ev->error, sizeof(ev->error));
		ev->ttfb_us = sqlite3_column_int64(st, 5);
		ev->total_us = sqlite3_column_int64(st, 6);
		found = 1;
	}
	sqlite3_reset(st);
	return s->error[0] ? -1 : found;
}

/* ---- probes ---- */

int astore_probe_seen(struct astore *s, const char *probe, int64_t now_ms)
{
	sqlite3_stmt *st = get(s, S_PROBE_SEEN);

	if (!st)
		return -1;
	text(st, 1, probe);
	sqlite3_bind_int64(st, 2, now_ms);
	return done(s, st);
}

int astore_quiet_probes(struct astore *s, int64_t before_ms, struct astore_quiet *out,
			size_t max)
{
	sqlite3_stmt *st = get(s, S_QUIET);
	size_t n = 0;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, before_ms);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	while (n < max && step(s, st) == SQLITE_ROW) {
		col(st, 0, out[n].probe, sizeof(out[n].probe));
		out[n].last_ms = sqlite3_column_int64(st, 1);
		n++;
	}
	sqlite3_reset(st);
	return s->error[0] ? -1 : (int)n;
}

/* ---- incidents ---- */

int64_t astore_open_incident(struct astore *s, const char *kind, const char *probe,
			     const char *target, const char *verdict, int urgent,
			     int64_t since_ms, int64_t now_ms)
{
	sqlite3_stmt *st = get(s, S_INC_OPEN);

	if (!st)
		return -1;
	text(st, 1, kind);
	text(st, 2, probe);
	text(st, 3, target);
	text(st, 4, verdict);
	sqlite3_bind_int(st, 5, urgent);
	sqlite3_bind_int64(st, 6, now_ms);
	sqlite3_bind_int64(st, 7, since_ms);
	sqlite3_bind_int64(st, 8, now_ms);
	if (done(s, st) < 0)
		return -1;
	return sqlite3_last_insert_rowid(s->db);
}

int64_t astore_find_open(struct astore *s, const char *kind, const char *probe,
			 const char *target)
{
	sqlite3_stmt *st = get(s, target ? S_INC_FIND_TARGET : S_INC_FIND_PROBE);

	if (!st)
		return 0;
	text(st, 1, kind);
	text(st, 2, target ? target : probe);
	return one(s, st, 0);
}

static void read_incident(sqlite3_stmt *st, struct astore_incident *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	col(st, 1, r->kind, sizeof(r->kind));
	col(st, 2, r->probe, sizeof(r->probe));
	col(st, 3, r->target, sizeof(r->target));
	col(st, 4, r->verdict, sizeof(r->verdict));
	col(st, 5, r->state, sizeof(r->state));
	r->announced = sqlite3_column_int(st, 6);
	r->urgent = sqlite3_column_int(st, 7);
	r->opened_ms = sqlite3_column_int64(st, 8);
	r->since_ms = sqlite3_column_int64(st, 9);
	r->updated_ms = sqlite3_column_int64(st, 10);
	r->resolved_ms = sqlite3_column_int64(st, 11);
	r->reminded_ms = sqlite3_column_int64(st, 12);
	r->nprobes = sqlite3_column_int(st, 13);
	col(st, 14, r->probes, sizeof(r->probes));
	col(st, 15, r->cert_url, sizeof(r->cert_url));
	r->cert_expires = sqlite3_column_int64(st, 16);
}

int astore_incident(struct astore *s, int64_t id, struct astore_incident *out)
{
	sqlite3_stmt *st = get(s, S_INC_GET);
	int found = 0;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (step(s, st) == SQLITE_ROW) {
		read_incident(st, out);
		found = 1;
	}
	sqlite3_reset(st);
	return s->error[0] ? -1 : found;
}

static int two_ints(struct astore *s, enum sid k, int64_t a, int64_t b)
{
	sqlite3_stmt *st = get(s, k);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	return done(s, st);
}

int astore_set_announced(struct astore *s, int64_t id, int announced)
{
	return two_ints(s, S_INC_ANNOUNCED, announced, id);
}

int astore_set_cert(struct astore *s, int64_t id, const char *url, int64_t expires,
		    int64_t now_ms)
{
	sqlite3_stmt *st = get(s, S_INC_CERT);

	if (!st)
		return -1;
	text(st, 1, url);
	sqlite3_bind_int64(st, 2, expires);
	sqlite3_bind_int64(st, 3, now_ms);
	sqlite3_bind_int64(st, 4, id);
	return done(s, st);
}

int astore_set_verdict(struct astore *s, int64_t id, const char *verdict, int urgent,
		       int64_t now_ms)
{
	sqlite3_stmt *st = get(s, S_INC_VERDICT);

	if (!st)
		return -1;
	text(st, 1, verdict);
	sqlite3_bind_int(st, 2, urgent);
	sqlite3_bind_int64(st, 3, now_ms);
	sqlite3_bind_int64(st, 4, id);
	return done(s, st);
}

int astore_resolve(struct astore *s, int64_t id, int64_t now_ms)
{
	return two_ints(s, S_INC_RESOLVE, now_ms, id);
}

int astore_set_reminded(struct astore *s, int64_t id, int64_t now_ms)
{
	return two_ints(s, S_INC_REMINDED, now_ms, id);
}

static sqlite3_stmt *id_probe(struct astore *s, enum sid k, int64_t id, const char *probe)
{
	sqlite3_stmt *st = get(s, k);

	if (st) {
		sqlite3_bind_int64(st, 1, id);
		text(st, 2, probe);
	}
	return st;
}

int astore_add_probe(struct astore *s, int64_t id, const char *probe)
{
	return done(s, id_probe(s, S_IP_ADD, id, probe));
}

int astore_remove_probe(struct astore *s, int64_t id, const char *probe)
{
	return done(s, id_probe(s, S_IP_REMOVE, id, probe));
}

int astore_has_probe(struct astore *s, int64_t id, const char *probe)
{
	return one(s, id_probe(s, S_IP_HAS, id, probe), 0) == 1;
}

int astore_count_probes(struct astore *s, int64_t id)
{
	sqlite3_stmt *st = get(s, S_IP_COUNT);

	if (!st)
		return 0;
	sqlite3_bind_int64(st, 1, id);
	return (int)one(s, st, 0);
}

int astore_reminders_due(struct astore *s, int64_t before_ms, int64_t *ids, size_t max)
{
	sqlite3_stmt *st = get(s, S_REMIND_DUE);
	size_t n = 0;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, before_ms);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	while (n < max && step(s, st) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return s->error[0] ? -1 : (int)n;
}

static int list_incidents(struct astore *s, sqlite3_stmt *st, int limit_at,
			  struct astore_incident *out, size_t max)
{
	size_t n = 0;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, limit_at, (int64_t)max);
	while (n < max && step(s, st) == SQLITE_ROW)
		read_incident(st, &out[n++]);
	sqlite3_reset(st);
	return s->error[0] ? -1 : (int)n;
}

int astore_open_incidents(struct astore *s, struct astore_incident *out, size_t max)
{
	return list_incidents(s, get(s, S_INC_LIST_OPEN), 1, out, max);
}

int astore_open_announced(struct astore *s, struct astore_incident *out, size_t max)
{
	return list_incidents(s, get(s, S_INC_LIST_ANNOUNCED), 1, out, max);
}

int astore_incidents_of(struct astore *s, const char *target, struct astore_incident *out,
			size_t max)
{
	sqlite3_stmt *st;

	if (!target)
		return list_incidents(s, get(s, S_INC_LIST_ALL), 1, out, max);
	st = get(s, S_INC_LIST_TARGET);
	if (st)
		text(st, 1, target);
	return list_incidents(s, st, 2, out, max);
}

int astore_open_counts(struct astore *s, int *target, int *uplink, int *silent, int *cert)
{
	sqlite3_stmt *st = get(s, S_OPEN_COUNTS);

	*target = *uplink = *silent = *cert = 0;
	if (!st)
		return -1;
	if (step(s, st) == SQLITE_ROW) {
		*target = sqlite3_column_int(st, 0);
		*uplink = sqlite3_column_int(st, 1);
		*silent = sqlite3_column_int(st, 2);
		*cert = sqlite3_column_int(st, 3);
	}
	sqlite3_reset(st);
	return s->error[0] ? -1 : 0;
}

/* ---- events ---- */

int64_t astore_add_event(struct astore *s, int64_t incident, int64_t now_ms,
			 const char *what, const char *detail)
{
	sqlite3_stmt *st = get(s, S_EV_ADD);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, incident);
	sqlite3_bind_int64(st, 2, now_ms);
	text(st, 3, what);
	text(st, 4, detail);
	if (done(s, st) < 0)
		return -1;
	return sqlite3_last_insert_rowid(s->db);
}

int astore_events(struct astore *s, int64_t incident, struct astore_event *out, size_t max)
{
	sqlite3_stmt *st = get(s, S_EV_LIST);
	size_t n = 0;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, incident);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	while (n < max && step(s, st) == SQLITE_ROW) {
		out[n].time_ms = sqlite3_column_int64(st, 0);
		col(st, 1, out[n].what, sizeof(out[n].what));
		col(st, 2, out[n].detail, sizeof(out[n].detail));
		n++;
	}
	sqlite3_reset(st);
	return s->error[0] ? -1 : (int)n;
}

/* ---- the outbox ---- */

void astore_note_release(struct astore_note *n)
{
	free(n->address);
	free(n->chat);
	free(n->subject);
	free(n->body);
	free(n->link);
	free(n->dedupe);
	memset(n, 0, sizeof(*n));
}

int astore_enqueue(struct astore *s, int64_t incident, const char *event,
		   const char *recipient, const char *channel, const char *address,
		   const char *chat, const char *subject, const char *body, const char *link,
		   const char *dedupe, int64_t now_ms)
{
	sqlite3_stmt *st = get(s, S_NOTE_ADD);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, incident);
	text(st, 2, event);
	text(st, 3, recipient);
	text(st, 4, channel);
	text(st, 5, address);
	text(st, 6, chat);
	text(st, 7, subject);
	text(st, 8, body);
	text(st, 9, link);
	text(st, 10, dedupe);
	sqlite3_bind_int64(st, 11, now_ms);
	if (done(s, st) < 0)
		return -1;
	return sqlite3_changes(s->db) > 0;
}

int astore_told(struct astore *s, int64_t incident, const char *recipient)
{
	sqlite3_stmt *st = get(s, S_NOTE_TOLD);

	if (!st)
		return 0;
	sqlite3_bind_int64(st, 1, incident);
	text(st, 2, recipient);
	return one(s, st, 0) == 1;
}

static char *dup_col(sqlite3_stmt *st, int i)
{
	const unsigned char *v = sqlite3_column_text(st, i);
	char *d = strdup(v ? (const char *)v : "");

	return d;
}

static int read_notes(struct astore *s, sqlite3_stmt *st, struct astore_note *out,
		      size_t max, int texts)
{
	size_t n = 0;

	if (!st)
		return -1;
	while (n < max && step(s, st) == SQLITE_ROW) {
		struct astore_note *r = &out[n];

		memset(r, 0, sizeof(*r));
		r->id = sqlite3_column_int64(st, 0);
		r->incident = sqlite3_column_int64(st, 1);
		col(st, 2, r->event, sizeof(r->event));
		col(st, 3, r->recipient, sizeof(r->recipient));
		col(st, 4, r->channel, sizeof(r->channel));
		col(st, 5, r->state, sizeof(r->state));
		r->attempts = sqlite3_column_int(st, 6);
		r->created_ms = sqlite3_column_int64(st, 7);
		col(st, 8, r->last_error, sizeof(r->last_error));
		r->subject = dup_col(st, 11);
		r->dedupe = dup_col(st, 14);
		if (texts) {
			r->address = dup_col(st, 9);
			r->chat = dup_col(st, 10);
			r->body = dup_col(st, 12);
			r->link = dup_col(st, 13);
		}
		n++;
		if (!r->subject || !r->dedupe || (texts && (!r->address || !r->chat ||
							    !r->body || !r->link))) {
			snprintf(s->error, sizeof(s->error), "out of memory");
			break;
		}
	}
	sqlite3_reset(st);
	if (s->error[0]) {
		for (size_t i = 0; i < n; i++)
			astore_note_release(&out[i]);
		return -1;
	}
	return (int)n;
}

int astore_due(struct astore *s, int64_t now_ms, struct astore_note *out, size_t max)
{
	sqlite3_stmt *st = get(s, S_NOTE_DUE);

	if (st) {
		sqlite3_bind_int64(st, 1, now_ms);
		sqlite3_bind_int64(st, 2, (int64_t)max);
	}
	return read_notes(s, st, out, max, 1);
}

int astore_settle(struct astore *s, int64_t id, const char *state, const char *error,
		  int64_t next_ms, int64_t sent_ms)
{
	sqlite3_stmt *st = get(s, S_NOTE_SETTLE);

	if (!st)
		return -1;
	text(st, 1, state);
	text(st, 2, error);
	sqlite3_bind_int64(st, 3, next_ms);
	if (sent_ms)
		sqlite3_bind_int64(st, 4, sent_ms);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_int64(st, 5, id);
	return done(s, st);
}

int astore_notes_of(struct astore *s, int64_t incident, struct astore_note *out, size_t max)
{
	sqlite3_stmt *st = get(s, S_NOTE_OF);

	if (st) {
		sqlite3_bind_int64(st, 1, incident);
		sqlite3_bind_int64(st, 2, (int64_t)max);
	}
	return read_notes(s, st, out, max, 0);
}

int astore_failed_notes(struct astore *s, struct astore_note *out, size_t max)
{
	sqlite3_stmt *st = get(s, S_NOTE_FAILED);

	if (st)
		sqlite3_bind_int64(st, 1, (int64_t)max);
	return read_notes(s, st, out, max, 0);
}

int astore_note_counts(struct astore *s, int64_t *pending, int64_t *sent, int64_t *failed)
{
	sqlite3_stmt *st = get(s, S_NOTE_COUNTS);

	*pending = *sent = *failed = 0;
	if (!st)
		return -1;
	if (step(s, st) == SQLITE_ROW) {
		*pending = sqlite3_column_int64(st, 0);
		*sent = sqlite3_column_int64(st, 1);
		*failed = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	return s->error[0] ? -1 : 0;
}

/* ---- small state ---- */

static int64_t state_get(struct astore *s, const char *name)
{
	sqlite3_stmt *st = get(s, S_STATE_GET);

	if (!st)
		return 0;
	text(st, 1, name);
	return one(s, st, 0);
}

int64_t astore_instance(struct astore *s)
{
	return state_get(s, "instance");
}

int64_t astore_digest_day(struct astore *s)
{
	return state_get(s, "digest_day");
}

int astore_set_digest_day(struct astore *s, int64_t day)
{
	sqlite3_stmt *st = get(s, S_STATE_SET);

	if (!st)
		return -1;
	text(st, 1, "digest_day");
	sqlite3_bind_int64(st, 2, day);
	return done(s, st);
}
