/* engine.c - opening, changing and resolving incidents, and writing their notifications (see engine.h). */
#include "engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
#include "../common/buf.h"
#include "../targets/verdict.h"
#include "../common/banned.h"

#define ENGINE_TEXT_MAX (64 * 1024)	/* one rendered message */

void alert_cfg_init(struct alert_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->open_after = ALERT_OPEN_AFTER;
	cfg->resolve_after = ALERT_RESOLVE_AFTER;
	cfg->uplink_share = ALERT_UPLINK_SHARE;
	cfg->remind_every_s = ALERT_REMIND_EVERY;
	cfg->digest_minute = -1;
	cfg->smtp_starttls = 1;
	cfg->retry_min_s = ALERT_RETRY_MIN;
	cfg->retry_max_s = ALERT_RETRY_MAX;
	cfg->give_up_s = ALERT_GIVE_UP;
}

/*
 * The first statement error of the engine's current call, in this thread:
 * a loop that ends on an error (a damaged database) must fail the call,
 * so that the caller rolls back instead of committing half a decision.
 */
static _Thread_local char db_error[ERR_MAX];

static void keep_error(sqlite3 *db)
{
	if (!db_error[0])
		snprintf(db_error, sizeof(db_error), "%s", sqlite3_errmsg(db));
}

static int step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		keep_error(sqlite3_db_handle(st));
	return rc;
}

/* A public call's end: its own answer, or the first statement error in it. */
static int finish(int rc, struct err *e)
{
	if (rc == 0 && db_error[0])
		return err_set(e, "alerts: database: %s", db_error);
	return rc;
}

/*
 * Prepare and bind in one call. types: one letter per argument,
 * 's' text (may be NULL), 'i' int64_t, 'd' int.
 */
static sqlite3_stmt *prep(sqlite3 *db, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		keep_error(db);
		return NULL;
	}
	va_start(ap, types);
	for (int i = 1; *types; types++, i++) {
		if (*types == 's') {
			const char *s = va_arg(ap, const char *);

			if (s)
				sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
			else
				sqlite3_bind_null(st, i);
		} else if (*types == 'i') {
			sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
		} else {
			sqlite3_bind_int(st, i, va_arg(ap, int));
		}
	}
	va_end(ap);
	return st;
}

static int dberr(struct alerts *a, struct err *e, const char *what)
{
	return err_set(e, "alerts: %s: %s", what, sqlite3_errmsg(a->db));
}

/* Run a prepared statement to the end and free it. */
static int run(struct alerts *a, sqlite3_stmt *st, struct err *e, const char *what)
{
	int rc;

	if (!st)
		return dberr(a, e, what);
	while ((rc = step(st)) == SQLITE_ROW)
		;
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : dberr(a, e, what);
}

/* First column of the first row as an integer, or dflt. */
static int64_t one(sqlite3_stmt *st, int64_t dflt)
{
	int64_t v = dflt;

	if (st && step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int is_ok(const char *verdict)
{
	return !strcmp(verdict, "OK");
}

static void counts(const struct alerts *a, const struct target *t, int *n, int *m)
{
	*n = t && t->open_after ? (int)t->open_after : a->cfg->open_after;
	*m = t && t->resolve_after ? (int)t->resolve_after : a->cfg->resolve_after;
}

static const struct target *find_target(const struct alerts *a, const char *id)
{
	return a->cat && id ? catalog_target(a->cat, id) : NULL;
}

static int alerts_result_one(struct alerts *a, const char *probe, const char *target,
		      const char *verdict, int64_t time_ms, struct err *e)
{
	int ok = is_ok(verdict);

	if (run(a, prep(a->db, "INSERT OR IGNORE INTO streaks (probe, target) VALUES (?, ?)",
			"ss", probe, target), e, "streak") < 0)
		return -1;
	/* a result older than the last one counted says nothing about now */
	return run(a, prep(a->db,
		ok ? "UPDATE streaks SET good = good + 1, bad = 0, held = 0, time_ms = ?3, "
		     "verdict = ?4, dirty = 1 WHERE probe = ?1 AND target = ?2 AND "
		     "(time_ms IS NULL OR time_ms < ?3)" :
		     "UPDATE streaks SET bad = bad + 1, good = 0, time_ms = ?3, verdict = ?4, dirty = 1, "
		     "first_bad_ms = CASE WHEN bad = 0 THEN ?3 ELSE first_bad_ms END "
		     "WHERE probe = ?1 AND target = ?2 AND (time_ms IS NULL OR time_ms < ?3)",
		"ssis", probe, target, time_ms, verdict), e, "streak");
}

/* The dashboard page an incident points at. */
static void link_for(const struct alerts *a, const char *kind, const char *target,
		     const char *probe, char *out, size_t cap)
{
	const char *base = a->cfg->public_url;
	size_t n = strlen(base);

	while (n && base[n - 1] == '/')
		n--;
	if (!strcmp(kind, "target"))
		snprintf(out, cap, "%.*s/target/%s", (int)n, base, target);
	else
		snprintf(out, cap, "%.*s/probes#%s", (int)n, base, probe);
}

static int add_event(struct alerts *a, int64_t inc, int64_t now_ms, const char *what,
		     const char *detail, int64_t *event_id, struct err *e)
{
	if (run(a, prep(a->db, "INSERT INTO incident_events (incident, time_ms, what, detail) "
			"VALUES (?, ?, ?, ?)", "iiss", inc, now_ms, what, detail), e,
		"incident event") < 0)
		return -1;
	if (event_id)
		*event_id = sqlite3_last_insert_rowid(a->db);
	return 0;
}

/* Was name told about this incident before? */
static int told(struct alerts *a, int64_t inc, const char *name)
{
	return one(prep(a->db, "SELECT 1 FROM outbox WHERE incident = ? AND recipient = ? "
			"LIMIT 1", "is", inc, name), 0) == 1;
}

static int64_t instance_id(struct alerts *a)
{
	return one(prep(a->db, "SELECT value FROM counters WHERE name = 'instance'", ""), 0);
}

static int enqueue(struct alerts *a, int64_t inc, const char *event, const char *dedupe,
		   const struct recipient *r, const char *subject, const char *body,
		   const char *link, int64_t now_ms, struct err *e)
{
	if (run(a, prep(a->db, "INSERT OR IGNORE INTO outbox (incident, event, recipient, "
			"channel, address, chat, subject, body, link, dedupe, created_ms, "
			"next_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "isssssssssii",
			inc, event, r->name, route_channel_name(r->channel), r->address,
			r->chat, subject, body, link, dedupe, now_ms, now_ms), e,
		"outbox") < 0)
		return -1;
	a->queued++;
	return 0;
}

/*
 * Write the notifications of one incident event: to everyone the incident
 * now concerns, and to everyone told about it before (so that whoever heard
 * "opened" hears "resolved"). Sets *sent to how many were written.
 */
static int notify(struct alerts *a, int64_t inc, const char *event, const char *old_verdict,
		  int64_t now_ms, int *sent, struct err *e)
{
	sqlite3_stmt *st;
	char kind[16] = "", probe[80] = "", target[80] = "", verdict[24] = "";
	char link[700], dedupe[160], probes[1024] = "";
	int64_t since = 0, ev_id = 0, inst;
	int urgent, nprobes = 0, rc = -1;
	struct alert_event ev;
	struct buf subject, body;
	char *json = NULL;

	*sent = 0;
	st = prep(a->db, "SELECT kind, probe, target, verdict, since_ms, urgent FROM incidents "
		  "WHERE id = ?", "i", inc);
	if (!st || step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return dberr(a, e, "incident");
	}
	snprintf(kind, sizeof(kind), "%s", (const char *)sqlite3_column_text(st, 0));
	if (sqlite3_column_text(st, 1))
		snprintf(probe, sizeof(probe), "%s", (const char *)sqlite3_column_text(st, 1));
	if (sqlite3_column_text(st, 2))
		snprintf(target, sizeof(target), "%s", (const char *)sqlite3_column_text(st, 2));
	if (sqlite3_column_text(st, 3))
		snprintf(verdict, sizeof(verdict), "%s", (const char *)sqlite3_column_text(st, 3));
	since = sqlite3_column_int64(st, 4);
	urgent = sqlite3_column_int(st, 5);
	sqlite3_finalize(st);
	if (!strcmp(kind, "target")) {
		size_t len = 0;

		st = prep(a->db, "SELECT probe FROM incident_probes WHERE incident = ? ORDER BY "
			  "probe", "i", inc);
		while (st && step(st) == SQLITE_ROW) {
			const char *p = (const char *)sqlite3_column_text(st, 0);

			if (!nprobes)
				snprintf(probe, sizeof(probe), "%s", p);
			if (len < sizeof(probes))
				len += (size_t)snprintf(probes + len, sizeof(probes) - len, "%s%s",
							nprobes ? ", " : "", p);
			nprobes++;
		}
		sqlite3_finalize(st);
		st = prep(a->db, "SELECT json FROM latest WHERE target = ? AND probe IN (SELECT "
			  "probe FROM incident_probes WHERE incident = ?) AND verdict <> 'OK' "
			  "ORDER BY time_ms DESC LIMIT 1", "si", target, inc);
		if (st && step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
			json = strdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	if (add_event(a, inc, now_ms, event, old_verdict, &ev_id, e) < 0)
		goto out;
	link_for(a, kind, target, probe, link, sizeof(link));
	memset(&ev, 0, sizeof(ev));
	ev.event = event;
	ev.kind = kind;
	ev.incident = inc;
	ev.verdict = verdict[0] ? verdict : NULL;
	ev.old_verdict = old_verdict;
	ev.probe = probe;
	ev.probes = probes;
	ev.nprobes = nprobes;
	ev.target_id = target;
	ev.target = find_target(a, target);
	ev.since_ms = since;
	ev.now_ms = now_ms;
	ev.result_json = json;
	ev.link = link;
	ev.urgent = urgent;
	if (!strcmp(kind, "uplink")) {
		ev.total = (int)one(prep(a->db, "SELECT count(*) FROM streaks WHERE probe = ?",
					 "s", probe), 0);
		ev.failing = (int)one(prep(a->db, "SELECT count(*) FROM streaks WHERE probe = ? "
					   "AND bad > 0", "s", probe), 0);
	}
	inst = instance_id(a);
	buf_init(&subject, 4096);
	buf_init(&body, ENGINE_TEXT_MAX);
	for (size_t i = 0; i < a->cfg->nrecipients; i++) {
		const struct recipient *r = &a->cfg->recipients[i];
		/* a target gone from the catalog reaches only those without a place */
		int match = route_matches(r, a->cat, strcmp(kind, "target") ? NULL : ev.target,
					  urgent);

		if (!match && !told(a, inc, r->name))
			continue;
		buf_reset(&subject);
		buf_reset(&body);
		if (message_render(&ev, r->english, &subject, &body) < 0) {
			err_set(e, "alerts: cannot render the '%s' message of incident %lld",
				event, (long long)inc);
			goto out_bufs;
		}
		snprintf(dedupe, sizeof(dedupe), "qrw-%llx-%lld-%lld-%s",
			 (unsigned long long)inst, (long long)inc, (long long)ev_id, r->name);
		if (enqueue(a, inc, event, dedupe, r, buf_str(&subject), buf_str(&body), link,
			    now_ms, e) < 0)
			goto out_bufs;
		(*sent)++;
	}
	rc = 0;
out_bufs:
	buf_release(&subject);
	buf_release(&body);
out:
	free(json);
	return rc;
}

static int64_t open_incident(struct alerts *a, const char *kind, const char *probe,
			     const char *target, const char *verdict, int64_t since,
			     int64_t now_ms, struct err *e)
{
	if (run(a, prep(a->db, "INSERT INTO incidents (kind, probe, target, verdict, state, "
			"urgent, opened_ms, since_ms, updated_ms) VALUES (?, ?, ?, ?, 'open', ?, "
			"?, ?, ?)", "ssssdiii", kind, probe, target, verdict,
			route_verdict_urgent(verdict), now_ms, since, now_ms), e,
		"open incident") < 0)
		return -1;
	return sqlite3_last_insert_rowid(a->db);
}

static int announce(struct alerts *a, int64_t inc, int64_t now_ms, struct err *e)
{
	int sent;

	if (notify(a, inc, "opened", NULL, now_ms, &sent, e) < 0)
		return -1;
	return run(a, prep(a->db, "UPDATE incidents SET announced = ? WHERE id = ?", "di",
			   sent > 0, inc), e, "announce");
}

/* Resolve; "resolved" goes out only for an incident that was announced. */
static int resolve(struct alerts *a, int64_t inc, int64_t now_ms, struct err *e)
{
	int announced = (int)one(prep(a->db, "SELECT announced FROM incidents WHERE id = ?",
				      "i", inc), 0);
	int sent;

	if (run(a, prep(a->db, "UPDATE incidents SET state = 'resolved', resolved_ms = ?, "
			"updated_ms = ? WHERE id = ?", "iii", now_ms, now_ms, inc), e,
		"resolve") < 0)
		return -1;
	if (!announced)
		return add_event(a, inc, now_ms, "resolved", "never announced", NULL, e);
	return notify(a, inc, "resolved", NULL, now_ms, &sent, e);
}

/* The probe's uplink: most of its targets failing at once. */
static int uplink(struct alerts *a, const char *probe, int64_t now_ms, struct err *e)
{
	int64_t total, failing_now, failing, inc, since;

	total = one(prep(a->db, "SELECT count(*) FROM streaks WHERE probe = ?", "s", probe), 0);
	failing_now = one(prep(a->db, "SELECT count(*) FROM streaks WHERE probe = ? AND bad > 0",
			       "s", probe), 0);
	/* failing long enough to open an incident each (per-target counts apply) */
	failing = 0;
	{
		sqlite3_stmt *st = prep(a->db, "SELECT target, bad FROM streaks WHERE probe = ? "
					"AND bad > 0", "s", probe);

		while (st && step(st) == SQLITE_ROW) {
			int n, m;

			counts(a, find_target(a, (const char *)sqlite3_column_text(st, 0)), &n, &m);
			failing += sqlite3_column_int(st, 1) >= n;
		}
		sqlite3_finalize(st);
	}
	inc = one(prep(a->db, "SELECT id FROM incidents WHERE kind = 'uplink' AND probe = ? AND "
		       "state = 'open'", "s", probe), 0);
	if (!inc && total >= 2 && failing * 100 >= (int64_t)a->cfg->uplink_share * total) {
		since = one(prep(a->db, "SELECT min(first_bad_ms) FROM streaks WHERE probe = ? AND "
				 "bad > 0", "s", probe), now_ms);
		inc = open_incident(a, "uplink", probe, NULL, NULL, since, now_ms, e);
		if (inc < 0 || announce(a, inc, now_ms, e) < 0)
			return -1;
	}
	if (!inc)
		return 0;
	if (failing_now * 100 < (int64_t)a->cfg->uplink_share * total) {
		/*
		 * Back: what failed during the outage starts counting afresh, so a
		 * target still failing needs N new bad results to open its own.
		 */
		if (run(a, prep(a->db, "UPDATE streaks SET bad = 0, held = 0 WHERE probe = ? AND "
				"held = 1", "s", probe), e, "uplink back") < 0)
			return -1;
		return resolve(a, inc, now_ms, e);
	}
	return run(a, prep(a->db, "UPDATE streaks SET held = 1 WHERE probe = ? AND bad > 0",
			   "s", probe), e, "hold");
}

/* The worst verdict among the failing probes of a target incident. */
static void worst_verdict(struct alerts *a, int64_t inc, const char *target, char *out,
			  size_t cap)
{
	sqlite3_stmt *st = prep(a->db, "SELECT verdict FROM streaks WHERE target = ? AND bad > 0 "
				"AND probe IN (SELECT probe FROM incident_probes WHERE incident = ?)",
				"si", target, inc);
	enum verdict w = VERDICT_OK, v;

	while (st && step(st) == SQLITE_ROW)
		if (verdict_parse((const char *)sqlite3_column_text(st, 0), &v) == 0)
			w = verdict_worse(w, v);
	sqlite3_finalize(st);
	if (w != VERDICT_OK)
		snprintf(out, cap, "%s", verdict_name(w));
}

static int target_incidents(struct alerts *a, const char *probe, int64_t now_ms,
			    struct err *e)
{
	sqlite3_stmt *st;
	struct row { char target[80], verdict[24]; int bad, good, held; int64_t first; } *rows;
	size_t n = 0, cap = 0;
	int rc = -1;

	rows = NULL;
	/* only what this batch counted can change a target incident */
	st = prep(a->db, "SELECT target, verdict, bad, good, held, first_bad_ms FROM streaks "
		  "WHERE probe = ? AND dirty = 1 ORDER BY target", "s", probe);
	while (st && step(st) == SQLITE_ROW) {
		if (n == cap) {
			struct row *g = realloc(rows, (cap = cap ? cap * 2 : 16) * sizeof(*g));

			if (!g) {
				sqlite3_finalize(st);
				free(rows);
				return err_set(e, "alerts: out of memory");
			}
			rows = g;
		}
		snprintf(rows[n].target, sizeof(rows[n].target), "%s",
			 (const char *)sqlite3_column_text(st, 0));
		snprintf(rows[n].verdict, sizeof(rows[n].verdict), "%s",
			 sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "");
		rows[n].bad = sqlite3_column_int(st, 2);
		rows[n].good = sqlite3_column_int(st, 3);
		rows[n].held = sqlite3_column_int(st, 4);
		rows[n].first = sqlite3_column_int64(st, 5);
		n++;
	}
	sqlite3_finalize(st);
	for (size_t i = 0; i < n; i++) {
		struct row *r = &rows[i];
		int nn, mm, in_set;
		int64_t inc;
		char worst[24] = "", was[24] = "";

		counts(a, find_target(a, r->target), &nn, &mm);
		inc = one(prep(a->db, "SELECT id FROM incidents WHERE kind = 'target' AND target = ? "
			       "AND state = 'open'", "s", r->target), 0);
		in_set = inc && one(prep(a->db, "SELECT 1 FROM incident_probes WHERE incident = ? "
					 "AND probe = ?", "is", inc, probe), 0) == 1;
		if (r->bad >= nn && !r->held) {
			if (!inc) {
				inc = open_incident(a, "target", probe, r->target, r->verdict, r->first,
						    now_ms, e);
				if (inc < 0 || run(a, prep(a->db, "INSERT INTO incident_probes "
							    "(incident, probe) VALUES (?, ?)", "is", inc,
							    probe), e, "incident probe") < 0 ||
				    announce(a, inc, now_ms, e) < 0)
					goto out;
				continue;
			}
			if (!in_set) {
				/* a second probe sees it too: the service, not one village */
				int nprobes, sent;

				if (run(a, prep(a->db, "INSERT INTO incident_probes (incident, probe) "
						"VALUES (?, ?)", "is", inc, probe), e,
					"incident probe") < 0)
					goto out;
				nprobes = (int)one(prep(a->db, "SELECT count(*) FROM incident_probes "
							"WHERE incident = ?", "i", inc), 0);
				/* news only when it makes it the service's fault */
				if (nprobes == 2 && message_service_verdict(r->verdict) &&
				    one(prep(a->db, "SELECT announced FROM incidents WHERE id = ?",
					     "i", inc), 0) &&
				    notify(a, inc, "changed", NULL, now_ms, &sent, e) < 0)
					goto out;
			}
			st = prep(a->db, "SELECT verdict FROM incidents WHERE id = ?", "i", inc);
			if (st && step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
				snprintf(was, sizeof(was), "%s", (const char *)sqlite3_column_text(st, 0));
			sqlite3_finalize(st);
			worst_verdict(a, inc, r->target, worst, sizeof(worst));
			if (worst[0] && strcmp(worst, was)) {
				int sent, announced;

				if (run(a, prep(a->db, "UPDATE incidents SET verdict = ?, urgent = "
						"max(urgent, ?), updated_ms = ? WHERE id = ?", "sdii",
						worst, route_verdict_urgent(worst), now_ms, inc), e,
					"change") < 0)
					goto out;
				announced = (int)one(prep(a->db, "SELECT announced FROM incidents WHERE "
							  "id = ?", "i", inc), 0);
				if (announced ? notify(a, inc, "changed", was, now_ms, &sent, e) < 0 :
				    add_event(a, inc, now_ms, "changed", was, NULL, e) < 0)
					goto out;
			}
		} else if (in_set && r->good >= mm) {
			if (run(a, prep(a->db, "DELETE FROM incident_probes WHERE incident = ? AND "
					"probe = ?", "is", inc, probe), e, "incident probe") < 0)
				goto out;
			if (one(prep(a->db, "SELECT count(*) FROM incident_probes WHERE incident = ?",
				     "i", inc), 0) == 0 && resolve(a, inc, now_ms, e) < 0)
				goto out;
		}
	}
	rc = run(a, prep(a->db, "UPDATE streaks SET dirty = 0 WHERE probe = ? AND dirty = 1", "s",
			 probe), e, "streaks");
out:
	free(rows);
	return rc;
}

static int alerts_batch_one(struct alerts *a, const char *probe, int64_t now_ms,
			    struct err *e)
{
	int64_t silent = one(prep(a->db, "SELECT id FROM incidents WHERE kind = 'silent' AND "
				  "probe = ? AND state = 'open'", "s", probe), 0);

	if (silent && resolve(a, silent, now_ms, e) < 0)
		return -1;
	if (uplink(a, probe, now_ms, e) < 0)
		return -1;
	return target_incidents(a, probe, now_ms, e);
}

static long silent_after_ms(const struct alerts *a)
{
	long shortest = TARGET_INTERVAL_DEFAULT;

	if (a->cfg->silent_after_s)
		return a->cfg->silent_after_s * 1000;
	if (a->cat && a->cat->ntargets) {
		shortest = a->cat->targets[0].interval_s;
		for (size_t i = 1; i < a->cat->ntargets; i++)
			if (a->cat->targets[i].interval_s < shortest)
				shortest = a->cat->targets[i].interval_s;
	}
	return shortest * ALERT_SILENT_FACTOR * 1000;
}

static int digest(struct alerts *a, int64_t now_ms, struct err *e)
{
	int64_t local = now_ms / 1000 + 7 * 3600, day = local / 86400;
	int minute = (int)(local % 86400 / 60);
	struct buf subject, body;
	char dedupe[160], when[64];
	int rc = -1;

	if (a->cfg->digest_minute < 0 || minute < a->cfg->digest_minute ||
	    one(prep(a->db, "SELECT value FROM counters WHERE name = 'digest_day'", ""), 0) >= day)
		return 0;
	if (run(a, prep(a->db, "INSERT INTO counters (name, value) VALUES ('digest_day', ?1) "
			"ON CONFLICT(name) DO UPDATE SET value = ?1", "i", day), e, "digest") < 0)
		return -1;
	buf_init(&subject, 4096);
	buf_init(&body, ENGINE_TEXT_MAX);
	for (size_t i = 0; i < a->cfg->nrecipients; i++) {
		const struct recipient *r = &a->cfg->recipients[i];
		sqlite3_stmt *st;
		int n = 0;
		struct buf lines;

		if (!r->digest)
			continue;
		buf_init(&lines, ENGINE_TEXT_MAX / 2);
		st = prep(a->db, "SELECT kind, probe, target, verdict, since_ms, urgent FROM "
			  "incidents WHERE state = 'open' AND announced = 1 ORDER BY since_ms", "");
		while (st && step(st) == SQLITE_ROW) {
			const char *kind = (const char *)sqlite3_column_text(st, 0);
			const char *probe = (const char *)sqlite3_column_text(st, 1);
			const char *tid = (const char *)sqlite3_column_text(st, 2);
			const struct target *t = find_target(a, tid);
			char link[700];

			if (!route_matches(r, a->cat, strcmp(kind, "target") ? NULL : t,
					   sqlite3_column_int(st, 5)))
				continue;
			message_time(sqlite3_column_int64(st, 4), when, sizeof(when));
			link_for(a, kind, tid, probe, link, sizeof(link));
			if (!strcmp(kind, "target"))
				buf_addf(&lines, "- %s: %s (%s), %s %s\n  %s\n",
					 message_verdict_words((const char *)sqlite3_column_text(st, 3),
							       r->english),
					 t ? t->procedure : tid, t ? t->board->location : "",
					 r->english ? "since" : "từ", when, link);
			else
				buf_addf(&lines, "- %s %s: %s, %s %s\n  %s\n",
					 r->english ? "probe" : "điểm đo", probe,
					 !strcmp(kind, "uplink") ? (r->english ? "no uplink" :
								    "mất kết nối") :
					 (r->english ? "silent" : "không gửi kết quả"),
					 r->english ? "since" : "từ", when, link);
			n++;
		}
		sqlite3_finalize(st);
		buf_reset(&subject);
		buf_reset(&body);
		message_digest_head(n, r->english, now_ms, &subject, &body);
		buf_adds(&body, buf_str(&lines));
		buf_release(&lines);
		snprintf(dedupe, sizeof(dedupe), "qrw-%llx-digest-%lld-%s",
			 (unsigned long long)instance_id(a), (long long)day, r->name);
		if (enqueue(a, 0, "digest", dedupe, r, buf_str(&subject), buf_str(&body),
			    a->cfg->public_url, now_ms, e) < 0)
			goto out;
	}
	rc = 0;
out:
	buf_release(&subject);
	buf_release(&body);
	return rc;
}

static int alerts_tick_one(struct alerts *a, int64_t now_ms, struct err *e)
{
	sqlite3_stmt *st;
	int64_t ids[256];
	size_t n = 0;
	long quiet = silent_after_ms(a);

	/* probes that stopped sending (collected first: opening writes to incidents) */
	{
		char probes[64][80];
		int64_t seen[64];
		size_t np = 0;

		st = prep(a->db, "SELECT id, last_seen_ms FROM probes p WHERE last_seen_ms < ? AND "
			  "NOT EXISTS (SELECT 1 FROM incidents i WHERE i.kind = 'silent' AND "
			  "i.probe = p.id AND i.state = 'open') LIMIT 64", "i", now_ms - quiet);
		while (st && step(st) == SQLITE_ROW) {
			const char *id = (const char *)sqlite3_column_text(st, 0);

			/* a probe taken out of the configuration is not missed */
			if (a->probe_known && !a->probe_known(a->probe_known_ctx, id))
				continue;
			snprintf(probes[np], sizeof(probes[np]), "%s", id);
			seen[np++] = sqlite3_column_int64(st, 1);
		}
		sqlite3_finalize(st);
		for (size_t i = 0; i < np; i++) {
			int64_t inc = open_incident(a, "silent", probes[i], NULL, NULL, seen[i],
						    now_ms, e);

			if (inc < 0 || announce(a, inc, now_ms, e) < 0)
				return -1;
		}
	}
	/* reminders while an announced incident stays open */
	if (a->cfg->remind_every_s > 0) {
		st = prep(a->db, "SELECT id FROM incidents WHERE state = 'open' AND announced = 1 "
			  "AND max(opened_ms, coalesce(reminded_ms, 0)) <= ? LIMIT 256", "i",
			  now_ms - (int64_t)a->cfg->remind_every_s * 1000);
		while (st && step(st) == SQLITE_ROW)
			ids[n++] = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		for (size_t i = 0; i < n; i++) {
			int sent;

			if (run(a, prep(a->db, "UPDATE incidents SET reminded_ms = ? WHERE id = ?",
					"ii", now_ms, ids[i]), e, "reminder") < 0 ||
			    notify(a, ids[i], "reminder", NULL, now_ms, &sent, e) < 0)
				return -1;
		}
	}
	return digest(a, now_ms, e);
}

int alerts_result(struct alerts *a, const char *probe, const char *target,
		  const char *verdict, int64_t time_ms, struct err *e)
{
	db_error[0] = '\0';
	return finish(alerts_result_one(a, probe, target, verdict, time_ms, e), e);
}

int alerts_batch(struct alerts *a, const char *probe, int64_t now_ms, struct err *e)
{
	db_error[0] = '\0';
	return finish(alerts_batch_one(a, probe, now_ms, e), e);
}

int alerts_tick(struct alerts *a, int64_t now_ms, struct err *e)
{
	db_error[0] = '\0';
	return finish(alerts_tick_one(a, now_ms, e), e);
}
