/* store_read.c - what the pages read, on a reader's own connection (see store.h). */
#include "store.h"
#include "store_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/text.h"
#include "../targets/verdict.h"
#include "../common/banned.h"

enum {
	R_STATES, R_LATEST_OF, R_STEPS_OF, R_LATEST_ALL, R_CHANGES_SINCE, R_CHANGES_OF,
	R_AVAIL, R_BY_UPLINK, R_HISTORY, R_PROBES, R_EPOCHS, R_CHANGES_MARK, R_LATEST_TIME,
	R_CHANGED, R_STATE_OF, R_ADDRESS, R_PHOTO, R_COUNT
};

const char *const store_reader_sql[R_COUNT] = {
	[R_STATES] = "SELECT target, verdict, since_ms, time_ms, probes, EXISTS (SELECT 1 "
		"FROM latest l WHERE l.target = target_state.target AND l.verdict = 'OK' AND "
		"l.nsteps > 0) FROM target_state ORDER BY target",
	[R_LATEST_OF] = "SELECT probe, since_ms, probe_time, verdict, coalesce(why_vi, ''), "
		"coalesce(why_en, ''), coalesce(payload, ''), coalesce(decode_step, ''), "
		"coalesce(failed_step, 0), coalesce(failed_step_name, ''), coalesce(total_us, 0), "
		"coalesce(uplink, ''), coalesce(interface, ''), nsteps FROM latest "
		"WHERE target = ? ORDER BY probe LIMIT ?",
	[R_STEPS_OF] = "SELECT idx, coalesce(name, ''), coalesce(method, ''), coalesce(url, ''), "
		"coalesce(final_url, ''), coalesce(status, 0), coalesce(bytes, 0), "
		"coalesce(redirects, 0), coalesce(reused, 0), coalesce(cold, 0), "
		"coalesce(dns_us, 0), coalesce(connect_us, 0), coalesce(tls_us, 0), "
		"coalesce(ttfb_us, 0), coalesce(transfer_us, 0), coalesce(total_us, 0), "
		"coalesce(ok, 0), coalesce(error, ''), coalesce(hops, ''), cert_expires "
		"FROM latest_steps WHERE probe = ? AND target = ? ORDER BY idx",
	[R_LATEST_ALL] = "SELECT probe, target, verdict, coalesce(total_us, 0) FROM latest",
	[R_CHANGES_SINCE] = "SELECT time_ms, probe, target, coalesce(old, ''), new FROM "
		"verdict_changes WHERE time_ms > ? ORDER BY time_ms DESC LIMIT ?",
	[R_CHANGES_OF] = "SELECT time_ms, probe, target, coalesce(old, ''), new FROM "
		"verdict_changes WHERE target = ? ORDER BY time_ms DESC LIMIT ?",
	/* a target's results: each of its probes' (store.h, STORE_PT_FLOOR) */
	[R_AVAIL] = "SELECT avg(r.avail) FROM latest l JOIN results r ON r.probe = l.probe "
		"AND r.target = l.target AND r.probe_time > " STORE_PT_FLOOR("?2", "l.probe")
		" WHERE l.target = ?1 AND r.time_ms > ?2",
	[R_BY_UPLINK] = "SELECT coalesce(r.uplink, ''), count(*), avg(r.total_us) / 1000.0, "
		"avg(r.connect_us) / 1000.0, avg(r.avail) FROM latest l JOIN results r ON "
		"r.probe = l.probe AND r.target = l.target AND r.probe_time > "
		STORE_PT_FLOOR("?2", "l.probe") " WHERE l.target = ?1 AND r.time_ms > ?2 "
		"GROUP BY r.uplink ORDER BY r.uplink LIMIT ?3",
	[R_HISTORY] = "SELECT r.time_ms, r.probe, r.verdict, coalesce(r.uplink, ''), "
		"r.total_us FROM latest l JOIN results r ON r.probe = l.probe AND "
		"r.target = l.target WHERE l.target = ?1 ORDER BY r.time_ms",
	[R_PROBES] = "SELECT id, last_seq, coalesce(last_seen_ms, 0), coalesce(uplink, ''), "
		"coalesce(version, ''), coalesce(clock_offset_ms, 0), coalesce(since_sync_s, 0), "
		"coalesce(spool_pending, 0), coalesce(spool_dropped, 0), coalesce(epoch, ''), "
		"coalesce(epoch_since_ms, 0), epochs FROM probes WHERE ?1 IS NULL OR id = ?1 "
		"ORDER BY id LIMIT ?2",
	[R_EPOCHS] = "SELECT epoch, first_seq, last_seq, batches, first_ms, last_ms FROM "
		"probe_epochs WHERE probe = ? ORDER BY first_ms DESC, epoch LIMIT ?",
	/* the rowid b-tree's last entry: one page read */
	[R_CHANGES_MARK] = "SELECT coalesce(max(rowid), 0) FROM verdict_changes",
	[R_LATEST_TIME] = "SELECT time_ms FROM latest WHERE probe = ? AND target = ?",
	[R_CHANGED] = "SELECT DISTINCT target FROM verdict_changes WHERE rowid > ? AND rowid <= ?",
	[R_PHOTO] = "SELECT board, at_ms, who, file, bytes, summary FROM board_photos "
		"WHERE board = ?1 ORDER BY at_ms DESC, id DESC LIMIT 1",
	[R_ADDRESS] = "SELECT at_ms, target, old_address, new_address, who, checked_url, "
		"history_file FROM address_changes WHERE target = ?1 AND new_address = ?2 "
		"ORDER BY at_ms DESC, id DESC LIMIT 1",
	[R_STATE_OF] = "SELECT target, verdict, since_ms, time_ms, probes FROM target_state "
		"WHERE target = ?",
};
const size_t store_reader_nsql = R_COUNT;

/* The reader's error, as a return value: -1 once one is kept, else rc. */
static int ended(struct conn *c, int rc)
{
	return c->error[0] ? -1 : rc;
}

int store_states(struct store_reader *r, int (*fn)(void *ctx, const struct store_state *st),
		 void *ctx)
{
	struct conn *c = store_reader_conn(r);
	sqlite3_stmt *st = conn_get(c, R_STATES);
	struct store_state row;
	int n = 0;

	if (!st)
		return -1;
	while (conn_step(c, st) == SQLITE_ROW) {
		conn_col(st, 0, row.target, sizeof(row.target));
		conn_col(st, 1, row.verdict, sizeof(row.verdict));
		row.since_ms = sqlite3_column_int64(st, 2);
		row.time_ms = sqlite3_column_int64(st, 3);
		row.probes = sqlite3_column_int(st, 4);
		row.walked = sqlite3_column_int(st, 5);
		n++;
		if (fn(ctx, &row) < 0)
			break;
	}
	sqlite3_reset(st);
	return ended(c, n);
}

static const char *dup(struct arena *a, sqlite3_stmt *st, int i)
{
	const unsigned char *v = sqlite3_column_text(st, i);
	const char *d = arena_strdup(a, v ? (const char *)v : "");

	return d ? d : "";
}

/* The redirect chain back from its 'status url<TAB>location' lines (older rows: no location). */
static void hops_of(struct arena *a, const char *text, struct result_step *s)
{
	while (*text) {
		size_t n = strcspn(text, "\n");
		char *end;
		long status = strtol(text, &end, 10);

		if (end > text && *end == ' ') {
			const char *u = end + 1;
			size_t un = strcspn(u, "\t\n");
			char *url = arena_strndup(a, u, un);
			char *loc = u[un] == '\t' ?
				    arena_strndup(a, u + un + 1, n - (size_t)(u + un + 1 - text)) : NULL;

			result_add_hop(a, s, (int)status, url ? url : "", loc ? loc : "");
		}
		text += n;
		text += *text == '\n';
	}
}

static int steps_of(struct conn *c, const char *probe, const char *target, struct arena *a,
		    struct result *res, int nsteps)
{
	sqlite3_stmt *st = conn_get(c, R_STEPS_OF);

	res->nsteps = 0;
	res->steps = result_steps_new(a, nsteps);
	if (!st || !res->steps)
		return -1;
	conn_text(st, 1, probe);
	conn_text(st, 2, target);
	while (conn_step(c, st) == SQLITE_ROW) {
		int i = sqlite3_column_int(st, 0);
		struct result_step *s;

		if (i < 0 || i >= nsteps)
			continue;
		s = &res->steps[i];
		s->name = dup(a, st, 1);
		s->method = dup(a, st, 2);
		s->url = dup(a, st, 3);
		s->final_url = dup(a, st, 4);
		s->status = sqlite3_column_int(st, 5);
		s->bytes = sqlite3_column_int64(st, 6);
		s->redirects = sqlite3_column_int(st, 7);
		s->reused = sqlite3_column_int(st, 8);
		s->cold = sqlite3_column_int(st, 9);
		s->dns_us = sqlite3_column_int64(st, 10);
		s->connect_us = sqlite3_column_int64(st, 11);
		s->tls_us = sqlite3_column_int64(st, 12);
		s->ttfb_us = sqlite3_column_int64(st, 13);
		s->transfer_us = sqlite3_column_int64(st, 14);
		s->total_us = sqlite3_column_int64(st, 15);
		s->ok = sqlite3_column_int(st, 16);
		s->error = dup(a, st, 17);
		hops_of(a, (const char *)sqlite3_column_text(st, 18), s);
		s->cert_expires = sqlite3_column_int64(st, 19);
		if (i + 1 > res->nsteps)
			res->nsteps = i + 1;
	}
	sqlite3_reset(st);
	/* a step missing in between reads as empty, never as NULL */
	for (int i = 0; i < res->nsteps; i++)
		if (!res->steps[i].name) {
			struct result_step *s = &res->steps[i];

			s->name = s->method = s->url = s->final_url = s->error = "";
		}
	return ended(c, 0);
}

int store_latest_of(struct store_reader *r, const char *target, struct arena *a,
		    struct store_latest *out, size_t max)
{
	struct conn *c = store_reader_conn(r);
	sqlite3_stmt *st = conn_get(c, R_LATEST_OF);
	size_t n = 0;

	if (!st)
		return -1;
	conn_text(st, 1, target);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	while (n < max && conn_step(c, st) == SQLITE_ROW) {
		struct store_latest *l = &out[n++];
		struct result *res = &l->r;

		memset(l, 0, sizeof(*l));
		conn_col(st, 0, l->probe, sizeof(l->probe));
		l->since_ms = sqlite3_column_int64(st, 1);
		res->target = arena_strdup(a, target);
		text_utc_parse((const char *)sqlite3_column_text(st, 2), &res->time_ms);
		verdict_parse((const char *)sqlite3_column_text(st, 3), &res->verdict);
		res->why_vi = dup(a, st, 4);
		res->why_en = dup(a, st, 5);
		res->payload = dup(a, st, 6);
		res->decode_step = dup(a, st, 7);
		res->failed_step = sqlite3_column_int(st, 8);
		res->failed_step_name = dup(a, st, 9);
		res->total_us = sqlite3_column_int64(st, 10);
		res->uplink = dup(a, st, 11);
		res->interface = dup(a, st, 12);
		res->nsteps = sqlite3_column_int(st, 13);
	}
	sqlite3_reset(st);
	/* then each one's steps (a second statement, once the first is done) */
	for (size_t i = 0; i < n; i++)
		if (steps_of(c, out[i].probe, target, a, &out[i].r, out[i].r.nsteps) < 0)
			return -1;
	return ended(c, (int)n);
}

int store_latest_all(struct store_reader *r,
		     int (*fn)(void *ctx, const struct store_latest_brief *l), void *ctx)
{
	struct conn *c = store_reader_conn(r);
	sqlite3_stmt *st = conn_get(c, R_LATEST_ALL);
	struct store_latest_brief row;
	int n = 0;

	if (!st)
		return -1;
	while (conn_step(c, st) == SQLITE_ROW) {
		conn_col(st, 0, row.probe, sizeof(row.probe));
		conn_col(st, 1, row.target, sizeof(row.target));
		conn_col(st, 2, row.verdict, sizeof(row.verdict));
		row.total_us = sqlite3_column_int64(st, 3);
		n++;
		if (fn(ctx, &row) < 0)
			break;
	}
	sqlite3_reset(st);
	return ended(c, n);
}

static int changes(struct conn *c, sqlite3_stmt *st, struct store_change *out, size_t max)
{
	size_t n = 0;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 2, (int64_t)max);
	while (n < max && conn_step(c, st) == SQLITE_ROW) {
		struct store_change *ch = &out[n++];

		ch->time_ms = sqlite3_column_int64(st, 0);
		conn_col(st, 1, ch->probe, sizeof(ch->probe));
		conn_col(st, 2, ch->target, sizeof(ch->target));
		conn_col(st, 3, ch->old, sizeof(ch->old));
		conn_col(st, 4, ch->now, sizeof(ch->now));
	}
	sqlite3_reset(st);
	return ended(c, (int)n);
}

int store_changes_since(struct store_reader *r, int64_t since_ms, struct store_change *out,
			size_t max)
{
	struct conn *c = store_reader_conn(r);
	sqlite3_stmt *st = conn_get(c, R_CHANGES_SINCE);

	if (st)
		sqlite3_bind_int64(st, 1, since_ms);
	return changes(c, st, out, max);
}

int store_changes_of(struct store_reader *r, const char *target, struct store_change *out,
		     size_t max)
{
	struct conn *c = store_reader_conn(r);
	sqlite3_stmt *st = conn_get(c, R_CHANGES_OF);

	if (st)
		conn_text(st, 1, target);
	return changes(c, st, out, max);
}

int store_availability(struct store_reader *r, const char *target, int64_t since_ms,
		       double *avail)
{
	struct conn *c = store_reader_conn(r);
	sqlite3_stmt *st = conn_get(c, R_AVAIL);
	int found = 0;

	if (!st)
		return -1;
	conn_text(st, 1, target);
	sqlite3_bind_int64(st, 2, since_ms);
	if (conn_step(c, st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*avail = sqlite3_column_double(st, 0);
		found = 1;
	}
	sqlite3_reset(st);
	return ended(c, found);
}

int store_by_uplink(struct store_reader *r, const char *target, int64_t since_ms,
		    struct store_uplink *out, size_t max)
{
	struct conn *c = store_reader_conn(r);
	sqlite3_stmt *st = conn_get(c, R_BY_UPLINK);
	size_t n = 0;

	if (!st)
		return -1;
	conn_text(st, 1, target);
	sqlite3_bind_int64(st, 2, since_ms);
	sqlite3_bind_int64(st, 3, (int64_t)max);
	while (n < max && conn_step(c, st) == SQLITE_ROW) {
		struct store_uplink *u = &out[n++];

		conn_col(st, 0, u->uplink, sizeof(u->uplink));
		u->n = sqlite3_column_int(st, 1);
		u->avg_total_ms = sqlite3_column_double(st, 2);
		u->avg_connect_ms = sqlite3_column_double(st, 3);
		u->avail = sqlite3_column_double(st, 4);
	}
	sqlite3_reset(st);
	return ended(c, (int)n);
}

int store_history(struct store_reader *r, const char *target,
		  int (*fn)(void *ctx, const struct store_history_row *h), void *ctx)
{
	struct conn *c = store_reader_conn(r);
	sqlite3_stmt *st = conn_get(c, R_HISTORY);
	struct store_history_row row;
	int n = 0;

	if (!st)
		return -1;
	conn_text(st, 1, target);
	while (conn_step(c, st) == SQLITE_ROW) {
		row.time_ms = sqlite3_column_int64(st, 0);
		conn_col(st, 1, row.probe, sizeof(row.probe));
		conn_col(st, 2, row.verdict, sizeof(row.verdict));
		conn_col(st, 3, row.uplink, sizeof(row.uplink));
		row.total_us = sqlite3_column_int64(st, 4);
		n++;
		if (fn(ctx, &row) < 0)
			break;
	}
	sqlite3_reset(st);
	return ended(c, n);
}

int store_probes(struct store_reader *r, const char *one, struct store_probe *out, size_t max)
{
	struct conn *c = store_reader_conn(r);
	sqlite3_stmt *st = conn_get(c, R_PROBES);
	size_t n = 0;

	if (!st)
		return -1;
	conn_text(st, 1, one);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	while (n < max && conn_step(c, st) == SQLITE_ROW) {
		struct store_probe *p = &out[n++];

		conn_col(st, 0, p->id, sizeof(p->id));
		p->last_seq = sqlite3_column_int64(st, 1);
		p->last_seen_ms = sqlite3_column_int64(st, 2);
		conn_col(st, 3, p->uplink, sizeof(p->uplink));
		conn_col(st, 4, p->version, sizeof(p->version));
		p->clock_offset_ms = sqlite3_column_int64(st, 5);
		p->since_sync_s = sqlite3_column_int64(st, 6);
		p->spool_pending = sqlite3_column_int64(st, 7);
		p->spool_dropped = sqlite3_column_int64(st, 8);
		conn_col(st, 9, p->epoch, sizeof(p->epoch));
		p->epoch_since_ms = sqlite3_column_int64(st, 10);
		p->epochs = sqlite3_column_int64(st, 11);
	}
	sqlite3_reset(st);
	return ended(c, (int)n);
}

int store_epochs(struct store_reader *r, const char *probe, struct store_epoch *out,
		 size_t max)
{
	struct conn *c = store_reader_conn(r);
	sqlite3_stmt *st = conn_get(c, R_EPOCHS);
	size_t n = 0;

	if (!st)
		return -1;
	conn_text(st, 1, probe);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	while (n < max && conn_step(c, st) == SQLITE_ROW) {
		struct store_epoch *ep = &out[n++];

		conn_col(st, 0, ep->epoch, sizeof(ep->epoch));
		ep->first_seq = sqlite3_column_int64(st, 1);
		ep->last_seq = sqlite3_column_int64(st, 2);
		ep->batches = sqlite3_column_int64(st, 3);
		ep->first_ms = sqlite3_column_int64(st, 4);
		ep->last_ms = sqlite3_column_int64(st, 5);
	}
	sqlite3_reset(st);
	return ended(c, (int)n);
}

int store_changes_mark(struct store_reader *r, int64_t *mark)
{
	struct conn *c = store_reader_conn(r);
	sqlite3_stmt *st = conn_get(c, R_CHANGES_MARK);

	*mark = 0;
	if (!st)
		return -1;
	if (conn_step(c, st) == SQLITE_ROW)
		*mark = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return ended(c, 0);
}

int store_latest_time(struct store_reader *r, const char *probe, const char *target,
		      int64_t *ms)
{
	struct conn *c = store_reader_conn(r);
	sqlite3_stmt *st = conn_get(c, R_LATEST_TIME);

	*ms = 0;
	if (!st)
		return -1;
	conn_text(st, 1, probe);
	conn_text(st, 2, target);
	if (conn_step(c, st) == SQLITE_ROW)
		*ms = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return ended(c, 0);
}

int store_changed_targets(struct store_reader *r, int64_t after, int64_t upto,
			  int (*fn)(void *ctx, const char *target), void *ctx)
{
	struct conn *c = store_reader_conn(r);
	sqlite3_stmt *st = conn_get(c, R_CHANGED);
	char target[65];
	int n = 0;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int64(st, 2, upto);
	while (conn_step(c, st) == SQLITE_ROW) {
		conn_col(st, 0, target, sizeof(target));
		n++;
		if (fn(ctx, target) < 0)
			break;
	}
	sqlite3_reset(st);
	return ended(c, n);
}

int store_state_of(struct store_reader *r, const char *target, struct store_state *out)
{
	struct conn *c = store_reader_conn(r);
	sqlite3_stmt *st = conn_get(c, R_STATE_OF);
	int found = 0;

	if (!st)
		return -1;
	conn_text(st, 1, target);
	if (conn_step(c, st) == SQLITE_ROW) {
		conn_col(st, 0, out->target, sizeof(out->target));
		conn_col(st, 1, out->verdict, sizeof(out->verdict));
		out->since_ms = sqlite3_column_int64(st, 2);
		out->time_ms = sqlite3_column_int64(st, 3);
		out->probes = sqlite3_column_int(st, 4);
		found = 1;
	}
	sqlite3_reset(st);
	return ended(c, found);
}

int store_address_confirmed(struct store_reader *r, const char *target, const char *address,
			    struct store_address_change *out)
{
	struct conn *c = store_reader_conn(r);
	sqlite3_stmt *st = conn_get(c, R_ADDRESS);
	int found = 0;

	if (!st)
		return -1;
	conn_text(st, 1, target);
	conn_text(st, 2, address);
	if (conn_step(c, st) == SQLITE_ROW) {
		out->at_ms = sqlite3_column_int64(st, 0);
		conn_col(st, 1, out->target, sizeof(out->target));
		conn_col(st, 2, out->old_address, sizeof(out->old_address));
		conn_col(st, 3, out->new_address, sizeof(out->new_address));
		conn_col(st, 4, out->who, sizeof(out->who));
		conn_col(st, 5, out->checked_url, sizeof(out->checked_url));
		conn_col(st, 6, out->history_file, sizeof(out->history_file));
		found = 1;
	}
	sqlite3_reset(st);
	return ended(c, found);
}

int store_board_photo_latest(struct store_reader *r, const char *board,
			     struct store_board_photo *out)
{
	struct conn *c = store_reader_conn(r);
	sqlite3_stmt *st = conn_get(c, R_PHOTO);
	int found = 0;

	if (!st)
		return -1;
	conn_text(st, 1, board);
	if (conn_step(c, st) == SQLITE_ROW) {
		conn_col(st, 0, out->board, sizeof(out->board));
		out->at_ms = sqlite3_column_int64(st, 1);
		conn_col(st, 2, out->who, sizeof(out->who));
		conn_col(st, 3, out->file, sizeof(out->file));
		out->bytes = sqlite3_column_int64(st, 4);
		conn_col(st, 5, out->summary, sizeof(out->summary));
		found = 1;
	}
	sqlite3_reset(st);
	return ended(c, found);
}
