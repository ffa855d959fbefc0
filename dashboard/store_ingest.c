/* store_ingest.c - what a batch writes: epochs, probes, results, latest state (see store.h). */
#include "store.h"
#include "store_sql.h"

#include <stdio.h>
#include <string.h>

#include "../common/buf.h"
#include "../targets/verdict.h"
#include "../common/banned.h"

enum {
	W_EPOCH_LAST, W_PROBE_EPOCH, W_PUT_EPOCH, W_PUT_PROBE, W_PUT_RESULT, W_LATEST_GET,
	W_CHANGE, W_LATEST_PUT, W_STEP_PUT, W_STEPS_TRIM, W_TARGET_PROBES, W_STATE_PUT,
	W_PUT_MARK, W_RRD_PAIRS, W_RRD_PENDING_OF, W_PRUNE_CHANGES, W_PRUNE_RESULTS, W_PUT_ADDRESS, W_PUT_PHOTO, W_COUNT
};

const char *const store_writer_sql[W_COUNT] = {
	[W_EPOCH_LAST] = "SELECT last_seq FROM probe_epochs WHERE probe = ? AND epoch = ?",
	[W_PROBE_EPOCH] = "SELECT epoch, (SELECT last_seq FROM probe_epochs AS pe WHERE "
		"pe.probe = p.id AND pe.epoch = p.epoch), epochs FROM probes AS p WHERE id = ?",
	[W_PUT_EPOCH] = "INSERT INTO probe_epochs (probe, epoch, first_seq, last_seq, first_ms, "
		"last_ms, batches) VALUES (?1, ?2, ?3, ?3, ?4, ?4, 1) ON CONFLICT (probe, epoch) "
		"DO UPDATE SET last_seq = max(last_seq, ?3), last_ms = ?4, batches = batches + 1",
	[W_PUT_PROBE] = "INSERT INTO probes (id, last_seq, last_seen_ms, uplink, version, "
		"clock_offset_ms, since_sync_s, spool_pending, spool_dropped, epoch, "
		"epoch_since_ms, epochs) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?3, 1) ON CONFLICT(id) DO UPDATE "
		"SET last_seq = CASE WHEN ?12 THEN last_seq ELSE ?2 END, last_seen_ms = ?3, "
		"uplink = ?4, version = ?5, clock_offset_ms = ?6, since_sync_s = ?7, "
		"spool_pending = ?8, spool_dropped = ?9, "
		"epoch = CASE WHEN ?11 THEN ?10 ELSE epoch END, "
		"epoch_since_ms = CASE WHEN ?11 THEN ?3 ELSE epoch_since_ms END, "
		"epochs = epochs + ?11",
	[W_PUT_RESULT] = "INSERT OR IGNORE INTO results (probe, target, time_ms, probe_time, "
		"verdict, uplink, json, avail, total_us, dns_us, connect_us, tls_us, ttfb_us, "
		"status, step) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[W_LATEST_GET] = "SELECT time_ms, verdict, since_ms, nsteps FROM latest WHERE probe = ? "
		"AND target = ?",
	[W_CHANGE] = "INSERT INTO verdict_changes (probe, target, time_ms, old, new) "
		"VALUES (?, ?, ?, ?, ?)",
	/* updated in place: a REPLACE would delete the row and its index entries first */
	[W_LATEST_PUT] = "INSERT INTO latest (probe, target, time_ms, probe_time, "
		"verdict, since_ms, why_vi, why_en, payload, decode_step, failed_step, "
		"failed_step_name, total_us, uplink, interface, nsteps) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
		"ON CONFLICT (probe, target) DO UPDATE SET time_ms = excluded.time_ms, "
		"probe_time = excluded.probe_time, verdict = excluded.verdict, "
		"since_ms = excluded.since_ms, why_vi = excluded.why_vi, why_en = excluded.why_en, "
		"payload = excluded.payload, decode_step = excluded.decode_step, "
		"failed_step = excluded.failed_step, failed_step_name = excluded.failed_step_name, "
		"total_us = excluded.total_us, uplink = excluded.uplink, "
		"interface = excluded.interface, nsteps = excluded.nsteps",
	[W_STEP_PUT] = "INSERT INTO latest_steps (probe, target, idx, name, method, "
		"url, final_url, status, bytes, redirects, reused, cold, dns_us, connect_us, "
		"tls_us, ttfb_us, transfer_us, total_us, ok, error, hops, cert_expires) "
		"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
		"ON CONFLICT (probe, target, idx) DO UPDATE SET name = excluded.name, "
		"method = excluded.method, url = excluded.url, final_url = excluded.final_url, "
		"status = excluded.status, bytes = excluded.bytes, "
		"redirects = excluded.redirects, reused = excluded.reused, cold = excluded.cold, "
		"dns_us = excluded.dns_us, connect_us = excluded.connect_us, "
		"tls_us = excluded.tls_us, ttfb_us = excluded.ttfb_us, "
		"transfer_us = excluded.transfer_us, total_us = excluded.total_us, "
		"ok = excluded.ok, error = excluded.error, hops = excluded.hops, "
		"cert_expires = excluded.cert_expires",
	[W_STEPS_TRIM] = "DELETE FROM latest_steps WHERE probe = ? AND target = ? AND idx >= ?",
	[W_TARGET_PROBES] = "SELECT verdict, since_ms, time_ms FROM latest WHERE target = ? "
		"ORDER BY probe",
	[W_STATE_PUT] = "INSERT OR REPLACE INTO target_state (target, verdict, since_ms, "
		"time_ms, probes) VALUES (?, ?, ?, ?, ?)",
	[W_PUT_PHOTO] = "INSERT INTO board_photos (board, at_ms, who, file, bytes, summary) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[W_PUT_ADDRESS] = "INSERT INTO address_changes (at_ms, target, old_address, new_address, "
		"who, checked_url, history_file) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[W_PUT_MARK] = "INSERT INTO rrd_marks (probe, target, on_disk_ms) VALUES (?1, ?2, ?3) "
		"ON CONFLICT (probe, target) DO UPDATE SET on_disk_ms = max(on_disk_ms, ?3)",
#define RRD_COLS "r.probe, r.target, r.time_ms, r.total_us, r.dns_us, r.connect_us, " \
	"r.tls_us, r.ttfb_us, r.avail, r.status, r.step, r.id"
	/* the files with results above their marks: their newest is in latest */
	[W_RRD_PAIRS] = "SELECT l.probe, l.target FROM latest l LEFT JOIN rrd_marks m ON "
		"m.probe = l.probe AND m.target = l.target WHERE l.time_ms > "
		"coalesce(m.on_disk_ms, 0) AND (l.probe, l.target) > (?1, ?2) ORDER BY "
		"l.probe, l.target LIMIT ?3",
	[W_RRD_PENDING_OF] = "WITH m (ms) AS (SELECT coalesce((SELECT on_disk_ms FROM "
		"rrd_marks WHERE probe = ?4 AND target = ?5), 0)) SELECT " RRD_COLS " FROM "
		"results r, m WHERE r.probe = ?4 AND r.target = ?5 AND r.probe_time > "
		STORE_PT_FLOOR("m.ms", "?4") " AND r.time_ms > m.ms AND (r.time_ms > ?1 OR "
		"(r.time_ms = ?1 AND r.id > ?2)) ORDER BY r.time_ms, r.id LIMIT ?3",
	/* the oldest first, by verdict_changes_by_time: a few pages per call */
	[W_PRUNE_CHANGES] = "DELETE FROM verdict_changes WHERE rowid IN (SELECT rowid FROM "
		"verdict_changes WHERE time_ms < ?1 ORDER BY time_ms LIMIT ?2)",
	/*
	 * the first to arrive first, by the key's id (results has no index by
	 * time): of the ?2 oldest ids, those older than ?1; one that came late
	 * waits behind a newer one that arrived before it
	 */
	[W_PRUNE_RESULTS] = "DELETE FROM results WHERE id IN (SELECT id FROM results ORDER BY "
		"id LIMIT ?2) AND time_ms < ?1",
};
const size_t store_writer_nsql = W_COUNT;

int store_epoch_last(struct store *s, const char *probe, const char *epoch, int64_t *last)
{
	struct conn *c = store_writer_conn(s);
	sqlite3_stmt *st = conn_get(c, W_EPOCH_LAST);
	int found = 0;

	if (!st)
		return -1;
	conn_text(st, 1, probe);
	conn_text(st, 2, epoch);
	if (conn_step(c, st) == SQLITE_ROW) {
		*last = sqlite3_column_int64(st, 0);
		found = 1;
	}
	sqlite3_reset(st);
	return s->error[0] ? -1 : found;
}

int store_probe_epoch(struct store *s, const char *probe, char epoch[32], int64_t *last,
		      int64_t *epochs)
{
	struct conn *c = store_writer_conn(s);
	sqlite3_stmt *st = conn_get(c, W_PROBE_EPOCH);
	int found = 0;

	epoch[0] = '\0';
	*last = *epochs = 0;
	if (!st)
		return -1;
	conn_text(st, 1, probe);
	if (conn_step(c, st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		conn_col(st, 0, epoch, 32);
		*last = sqlite3_column_int64(st, 1);
		*epochs = sqlite3_column_int64(st, 2);
		found = 1;
	}
	sqlite3_reset(st);
	return s->error[0] ? -1 : found;
}

int store_put_epoch(struct store *s, const char *probe, const char *epoch, int64_t seq,
		    int64_t now_ms)
{
	struct conn *c = store_writer_conn(s);
	sqlite3_stmt *st = conn_get(c, W_PUT_EPOCH);

	if (!st)
		return -1;
	conn_text(st, 1, probe);
	conn_text(st, 2, epoch);
	sqlite3_bind_int64(st, 3, seq);
	sqlite3_bind_int64(st, 4, now_ms);
	return conn_done(c, st);
}

int store_put_probe(struct store *s, const struct store_probe_news *n)
{
	struct conn *c = store_writer_conn(s);
	sqlite3_stmt *st = conn_get(c, W_PUT_PROBE);

	if (!st)
		return -1;
	conn_text(st, 1, n->probe);
	sqlite3_bind_int64(st, 2, n->seq);
	sqlite3_bind_int64(st, 3, n->now_ms);
	conn_text(st, 4, n->uplink ? n->uplink : "unknown");
	conn_text(st, 5, n->version ? n->version : "");
	sqlite3_bind_int64(st, 6, n->clock_offset_ms);
	sqlite3_bind_int64(st, 7, n->since_sync_s);
	sqlite3_bind_int64(st, 8, n->spool_pending);
	sqlite3_bind_int64(st, 9, n->spool_dropped);
	conn_text(st, 10, n->epoch);
	sqlite3_bind_int(st, 11, n->new_epoch);
	sqlite3_bind_int(st, 12, n->duplicate);
	return conn_done(c, st);
}

/* The redirect chain as 'status url<TAB>location' lines. */
static void hops_text(const struct result_step *s, struct buf *out)
{
	buf_reset(out);
	for (int k = 0; k < s->nhops; k++)
		buf_addf(out, "%d %s\t%s\n", s->hops[k].status,
			 s->hops[k].url ? s->hops[k].url : "",
			 s->hops[k].location ? s->hops[k].location : "");
}

/* The latest result of its pair, replacing one of old_steps steps (0: none before). */
static int put_latest(struct store *s, const struct store_result *x, int64_t since_ms,
		      int old_steps)
{
	struct conn *c = store_writer_conn(s);
	const struct result *r = x->r;
	sqlite3_stmt *st = conn_get(c, W_LATEST_PUT);
	struct buf hops;
	int rc = 0;

	if (!st)
		return -1;
	conn_text(st, 1, x->probe);
	conn_text(st, 2, r->target);
	sqlite3_bind_int64(st, 3, x->time_ms);
	conn_text(st, 4, x->probe_time);
	conn_text(st, 5, verdict_name(r->verdict));
	sqlite3_bind_int64(st, 6, since_ms);
	conn_text(st, 7, r->why_vi);
	conn_text(st, 8, r->why_en);
	conn_text(st, 9, r->payload);
	conn_text(st, 10, r->decode_step);
	sqlite3_bind_int(st, 11, r->failed_step);
	conn_text(st, 12, r->failed_step_name);
	sqlite3_bind_int64(st, 13, r->total_us);
	conn_text(st, 14, x->uplink);
	conn_text(st, 15, r->interface);
	sqlite3_bind_int(st, 16, r->nsteps);
	if (conn_done(c, st) < 0)
		return -1;
	buf_init(&hops, 64 * 1024);
	for (int i = 0; i < r->nsteps && rc == 0; i++) {
		const struct result_step *p = &r->steps[i];

		st = conn_get(c, W_STEP_PUT);
		if (!st) {
			rc = -1;
			break;
		}
		hops_text(p, &hops);
		conn_text(st, 1, x->probe);
		conn_text(st, 2, r->target);
		sqlite3_bind_int(st, 3, i);
		conn_text(st, 4, p->name);
		conn_text(st, 5, p->method);
		conn_text(st, 6, p->url);
		conn_text(st, 7, p->final_url);
		sqlite3_bind_int(st, 8, p->status);
		sqlite3_bind_int64(st, 9, p->bytes);
		sqlite3_bind_int(st, 10, p->redirects);
		sqlite3_bind_int(st, 11, p->reused);
		sqlite3_bind_int(st, 12, p->cold);
		sqlite3_bind_int64(st, 13, p->dns_us);
		sqlite3_bind_int64(st, 14, p->connect_us);
		sqlite3_bind_int64(st, 15, p->tls_us);
		sqlite3_bind_int64(st, 16, p->ttfb_us);
		sqlite3_bind_int64(st, 17, p->transfer_us);
		sqlite3_bind_int64(st, 18, p->total_us);
		sqlite3_bind_int(st, 19, p->ok);
		conn_text(st, 20, p->error);
		conn_text(st, 21, buf_str(&hops));
		sqlite3_bind_int64(st, 22, p->cert_expires);
		rc = conn_done(c, st);
	}
	buf_release(&hops);
	if (rc < 0)
		return -1;
	if (old_steps <= r->nsteps)
		return 0;	/* every old step was written over */
	if (!(st = conn_get(c, W_STEPS_TRIM)))
		return -1;
	conn_text(st, 1, x->probe);
	conn_text(st, 2, r->target);
	sqlite3_bind_int(st, 3, r->nsteps);
	return conn_done(c, st);
}

/* A target's worst state over its probes, from their latest results. */
static int put_state(struct store *s, const char *target)
{
	struct conn *c = store_writer_conn(s);
	sqlite3_stmt *st = conn_get(c, W_TARGET_PROBES);
	enum verdict worst = VERDICT_COUNT, v;
	int64_t since = 0, time = 0;
	int n = 0;

	if (!st)
		return -1;
	conn_text(st, 1, target);
	while (conn_step(c, st) == SQLITE_ROW) {
		if (verdict_parse((const char *)sqlite3_column_text(st, 0), &v) < 0)
			continue;
		if (!n++ || v < worst) {
			worst = v;
			since = sqlite3_column_int64(st, 1);
			time = sqlite3_column_int64(st, 2);
		}
	}
	sqlite3_reset(st);
	if (s->error[0] || !n || !(st = conn_get(c, W_STATE_PUT)))
		return s->error[0] ? -1 : 0;
	conn_text(st, 1, target);
	conn_text(st, 2, verdict_name(worst));
	sqlite3_bind_int64(st, 3, since);
	sqlite3_bind_int64(st, 4, time);
	sqlite3_bind_int(st, 5, n);
	return conn_done(c, st);
}

int store_put_result(struct store *s, const struct store_result *x)
{
	struct conn *c = store_writer_conn(s);
	const struct result *r = x->r;
	const struct result_step *first = r->nsteps ? &r->steps[0] : NULL;
	sqlite3_stmt *st = conn_get(c, W_PUT_RESULT);
	char old[16] = "";
	int64_t old_time = 0, since = x->time_ms;
	int had, changed, old_steps = 0;

	if (!st)
		return -1;
	conn_text(st, 1, x->probe);
	conn_text(st, 2, r->target);
	sqlite3_bind_int64(st, 3, x->time_ms);
	conn_text(st, 4, x->probe_time);
	conn_text(st, 5, verdict_name(r->verdict));
	conn_text(st, 6, x->uplink);
	conn_text(st, 7, x->json);
	sqlite3_bind_int(st, 8, verdict_available(r->verdict));
	sqlite3_bind_int64(st, 9, r->total_us);
	sqlite3_bind_int64(st, 10, first ? first->dns_us : 0);
	sqlite3_bind_int64(st, 11, first ? first->connect_us : 0);
	sqlite3_bind_int64(st, 12, first ? first->tls_us : 0);
	sqlite3_bind_int64(st, 13, first ? first->ttfb_us : 0);
	sqlite3_bind_int(st, 14, r->nsteps ? r->steps[r->nsteps - 1].status : 0);
	sqlite3_bind_int(st, 15, r->failed_step ? r->failed_step : r->nsteps);
	if (conn_done(c, st) < 0)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return 0;	/* kept before: a resend */
	/* the latest state, when this is the newest result of its (probe, target) */
	if (!(st = conn_get(c, W_LATEST_GET)))
		return -1;
	conn_text(st, 1, x->probe);
	conn_text(st, 2, r->target);
	had = conn_step(c, st) == SQLITE_ROW;
	if (had) {
		old_time = sqlite3_column_int64(st, 0);
		conn_col(st, 1, old, sizeof(old));
		since = sqlite3_column_int64(st, 2);
		old_steps = sqlite3_column_int(st, 3);
	}
	sqlite3_reset(st);
	if (s->error[0])
		return -1;
	if (had && old_time >= x->time_ms)
		return 1;	/* an older result, late: history only */
	changed = !had || strcmp(old, verdict_name(r->verdict)) != 0;
	if (changed) {
		since = x->time_ms;
		if (!(st = conn_get(c, W_CHANGE)))
			return -1;
		conn_text(st, 1, x->probe);
		conn_text(st, 2, r->target);
		sqlite3_bind_int64(st, 3, x->time_ms);
		conn_text(st, 4, had ? old : NULL);
		conn_text(st, 5, verdict_name(r->verdict));
		if (conn_done(c, st) < 0)
			return -1;
	}
	if (put_latest(s, x, since, old_steps) < 0)
		return -1;
	/* the target's worst state moves only when a verdict does */
	if (changed && put_state(s, r->target) < 0)
		return -1;
	return 1;
}

int store_put_board_photo(struct store *s, const struct store_board_photo *x)
{
	struct conn *c = store_writer_conn(s);
	sqlite3_stmt *st = conn_get(c, W_PUT_PHOTO);

	if (!st)
		return -1;
	conn_text(st, 1, x->board);
	sqlite3_bind_int64(st, 2, x->at_ms);
	conn_text(st, 3, x->who);
	conn_text(st, 4, x->file);
	sqlite3_bind_int64(st, 5, x->bytes);
	conn_text(st, 6, x->summary);
	return conn_done(c, st);
}

int store_put_address_change(struct store *s, const struct store_address_change *x)
{
	struct conn *c = store_writer_conn(s);
	sqlite3_stmt *st = conn_get(c, W_PUT_ADDRESS);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, x->at_ms);
	conn_text(st, 2, x->target);
	conn_text(st, 3, x->old_address);
	conn_text(st, 4, x->new_address);
	conn_text(st, 5, x->who);
	conn_text(st, 6, x->checked_url);
	conn_text(st, 7, x->history_file);
	return conn_done(c, st);
}

int store_put_mark(struct store *s, const char *probe, const char *target, int64_t ms)
{
	struct conn *c = store_writer_conn(s);
	sqlite3_stmt *st = conn_get(c, W_PUT_MARK);

	if (!st)
		return -1;
	conn_text(st, 1, probe);
	conn_text(st, 2, target);
	sqlite3_bind_int64(st, 3, ms);
	return conn_done(c, st);
}

int store_rrd_pending(struct store *s, const char *probe, const char *target,
		      struct store_rrd_cursor *at, struct store_rrd_row *out, size_t max)
{
	struct conn *c = store_writer_conn(s);
	sqlite3_stmt *st = conn_get(c, W_RRD_PENDING_OF);
	size_t n = 0;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, at->time_ms);
	sqlite3_bind_int64(st, 2, at->id);
	sqlite3_bind_int64(st, 3, (int64_t)max);
	conn_text(st, 4, probe);
	conn_text(st, 5, target);
	while (n < max && conn_step(c, st) == SQLITE_ROW) {
		struct store_rrd_row *row = &out[n++];

		conn_col(st, 0, row->probe, sizeof(row->probe));
		conn_col(st, 1, row->target, sizeof(row->target));
		row->time_ms = sqlite3_column_int64(st, 2);
		row->total_us = sqlite3_column_int64(st, 3);
		row->dns_us = sqlite3_column_int64(st, 4);
		row->connect_us = sqlite3_column_int64(st, 5);
		row->tls_us = sqlite3_column_int64(st, 6);
		row->ttfb_us = sqlite3_column_int64(st, 7);
		row->avail = sqlite3_column_int(st, 8);
		row->status = sqlite3_column_int(st, 9);
		row->step = sqlite3_column_int(st, 10);
		at->time_ms = row->time_ms;
		at->id = sqlite3_column_int64(st, 11);
	}
	sqlite3_reset(st);
	return s->error[0] ? -1 : (int)n;
}

int store_rrd_pairs(struct store *s, struct store_rrd_pair *after,
		    struct store_rrd_pair *out, size_t max)
{
	struct conn *c = store_writer_conn(s);
	sqlite3_stmt *st = conn_get(c, W_RRD_PAIRS);
	size_t n = 0;

	if (!st)
		return -1;
	conn_text(st, 1, after->probe);
	conn_text(st, 2, after->target);
	sqlite3_bind_int64(st, 3, (int64_t)max);
	while (n < max && conn_step(c, st) == SQLITE_ROW) {
		conn_col(st, 0, out[n].probe, sizeof(out[n].probe));
		conn_col(st, 1, out[n].target, sizeof(out[n].target));
		n++;
	}
	sqlite3_reset(st);
	if (n)
		*after = out[n - 1];
	return s->error[0] ? -1 : (int)n;
}

static int prune(struct store *s, int which, int64_t before_ms, int max)
{
	struct conn *c = store_writer_conn(s);
	sqlite3_stmt *st = conn_get(c, which);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, before_ms);
	sqlite3_bind_int(st, 2, max);
	if (conn_done(c, st) < 0)
		return -1;
	return sqlite3_changes(s->db);
}

int store_prune_changes(struct store *s, int64_t before_ms, int max)
{
	return prune(s, W_PRUNE_CHANGES, before_ms, max);
}

int store_prune_results(struct store *s, int64_t before_ms, int max)
{
	return prune(s, W_PRUNE_RESULTS, before_ms, max);
}
