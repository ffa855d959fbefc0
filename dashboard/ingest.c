/* ingest.c - signed batches into SQLite and RRD, all or nothing (see ingest.h). */
#include "ingest.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "../targets/batch.h"
#include "../targets/verdict.h"
#include "../common/log.h"
#include "../common/text.h"
#include "../common/banned.h"

__attribute__((format(printf, 3, 4)))
static void reject(struct ingest_reply *out, int status, const char *fmt, ...)
{
	char msg[900];
	json_object *o;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(msg));
	out->status = status;
	snprintf(out->body, sizeof(out->body), "%s",
		 json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

static const struct probe_key *find_probe(const struct ingest *x, const char *id)
{
	for (size_t i = 0; i < x->nprobes; i++)
		if (!strcmp(x->probes[i].id, id))
			return &x->probes[i];
	return NULL;
}

/* One decoded result, judged by the server: its values for the stores. */
struct ingest_rec {
	const struct result *r;
	const char *target, *verdict, *uplink;
	char probe_time[TEXT_UTC_MAX];	/* the probe's own time, the result's key */
	int64_t time_ms;		/* corrected to the server's clock */
	const char *json;		/* the result written back once, for the stores */
	struct rrd_sample sample;
	long interval_s;
};

/*
 * What only the server can judge of a decoded result: is the target in
 * its catalog, and is its time, corrected by the probe's clock offset,
 * not in the future. Then its values for the stores.
 */
static int judge_result(const struct ingest *x, const struct result *r, size_t i,
			int64_t offset, int64_t now_ms, const char *batch_uplink,
			struct arena *a, struct ingest_rec *out, struct ingest_reply *reply)
{
	const struct target *t = NULL;
	struct buf js;

	memset(out, 0, sizeof(*out));
	out->r = r;
	out->target = r->target;
	if (x->cat) {
		t = catalog_target(x->cat, r->target);
		if (!t) {
			reject(reply, 422, "results[%zu].target: unknown target '%s'", i, r->target);
			return -1;
		}
	}
	out->interval_s = t ? t->interval_s : TARGET_INTERVAL_DEFAULT;
	out->time_ms = r->time_ms + offset;
	if (out->time_ms > now_ms + INGEST_FUTURE_MS) {
		reject(reply, 422, "results[%zu].time: dated %lld s in the future even after "
		       "correcting the probe's clock", i,
		       (long long)((out->time_ms - now_ms) / 1000));
		return -1;
	}
	text_utc_format(r->time_ms, 1, out->probe_time);
	out->verdict = verdict_name(r->verdict);
	out->uplink = r->uplink[0] ? r->uplink : batch_uplink ? batch_uplink : "unknown";
	buf_init(&js, 4u * 1024 * 1024);
	if (result_to_json(r, &js) < 0 || !(out->json = arena_strdup(a, buf_str(&js)))) {
		buf_release(&js);
		reject(reply, 413, "results[%zu]: too large", i);
		return -1;
	}
	buf_release(&js);
	if (r->nsteps > 0) {
		const struct result_step *s0 = &r->steps[0];

		out->sample.dns_ms = (double)s0->dns_us / 1000;
		out->sample.connect_ms = (double)s0->connect_us / 1000;
		out->sample.tls_ms = (double)s0->tls_us / 1000;
		out->sample.ttfb_ms = (double)s0->ttfb_us / 1000;
		out->sample.status = r->steps[r->nsteps - 1].status;
	}
	out->sample.when = (time_t)(out->time_ms / 1000);
	out->sample.avail = verdict_available(r->verdict);
	out->sample.total_ms = (double)r->total_us / 1000;
	out->sample.step = r->failed_step ? r->failed_step : r->nsteps;
	return 0;
}

static int sql(struct store *db, const char *q, sqlite3_stmt **st)
{
	return sqlite3_prepare_v2(db->db, q, -1, st, NULL) == SQLITE_OK ? 0 : -1;
}

/* Write the results of a committed batch to the RRD files, oldest first. */
static void write_rrd(struct ingest *x, const char *probe, struct ingest_rec *recs,
		      size_t n, int *refused)
{
	sqlite3_stmt *st = NULL;
	struct err e;

	*refused = 0;
	sql(x->db, "UPDATE results SET in_rrd = ? WHERE probe = ? AND target = ? "
	    "AND probe_time = ?", &st);
	for (size_t i = 0; i < n; i++) {
		int rc = rrdstore_update(x->rrd, probe, recs[i].target, recs[i].interval_s,
					 &recs[i].sample, &e);

		if (rc == 0)
			(*refused)++;
		if (rc < 0)
			continue;	/* stays pending; replayed at the next start */
		if (st) {
			sqlite3_bind_int(st, 1, rc == 1 ? 1 : 2);
			sqlite3_bind_text(st, 2, probe, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, recs[i].target, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 4, recs[i].probe_time, -1, SQLITE_STATIC);
			if (sqlite3_step(st) != SQLITE_DONE)
				/* stays pending: the next start writes it, and the RRD refuses it */
				LOG(LOG_LVL_WARN, "ingest-db", "result of '%s' written to its RRD "
				    "file but not marked so: %s", recs[i].target,
				    sqlite3_errmsg(x->db->db));
			sqlite3_reset(st);
		}
	}
	sqlite3_finalize(st);
}

static int by_time(const void *a, const void *b)
{
	const struct ingest_rec *x = a, *y = b;

	return x->time_ms < y->time_ms ? -1 : x->time_ms > y->time_ms;
}

void ingest_parsed_release(struct ingest_parsed *b)
{
	batch_release(&b->batch);
	free(b->recs);
	memset(b, 0, sizeof(*b));
}

int ingest_parse(const struct ingest *x, const char *probe_id, const char *body,
		 size_t len, int64_t now_ms, struct ingest_parsed *b,
		 struct ingest_reply *out)
{
	struct err e;
	int status;

	memset(b, 0, sizeof(*b));
	status = batch_decode(body, len, probe_id, &b->batch, &e);
	if (status) {
		reject(out, status, "%s", e.msg);
		goto fail;
	}
	b->n = b->batch.n;
	b->recs = calloc(b->n ? b->n : 1, sizeof(*b->recs));
	if (!b->recs) {
		reject(out, 503, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < b->n; i++)
		if (judge_result(x, &b->batch.results[i], i, now_ms - b->batch.head.clock_ms,
				 now_ms, b->batch.head.uplink, &b->batch.arena, &b->recs[i],
				 out) < 0)
			goto fail;
	qsort(b->recs, b->n, sizeof(*b->recs), by_time);
	return 0;
fail:
	ingest_parsed_release(b);
	return -1;
}

void ingest_batch(struct ingest *x, const char *probe_hdr, const char *sig_hdr,
		  const char *body, size_t len, int64_t now_ms,
		  struct ingest_reply *out)
{
	const struct probe_key *pk;
	struct ingest_parsed b;
	const struct batch_head *h;
	struct ingest_rec *recs;
	int64_t last_seq = -1;
	char prev_epoch[BATCH_EPOCH_LEN + 1] = "";
	int64_t prev_last = 0, epochs = 0;
	char want[65];
	size_t n, applied = 0;
	sqlite3_stmt *st = NULL;
	struct err e;
	int refused = 0, new_epoch, duplicate;
	long queued = 0;

	memset(out, 0, sizeof(*out));
	memset(&b, 0, sizeof(b));
	/* 1. who is it, and did they sign exactly these bytes */
	if (!probe_hdr || !(pk = find_probe(x, probe_hdr))) {
		reject(out, 401, "unknown probe '%s' (X-Qrwatch-Probe)",
		       probe_hdr ? probe_hdr : "");
		return;
	}
	if (!sig_hdr || strncmp(sig_hdr, "sha256=", 7) != 0) {
		reject(out, 401, "missing or malformed X-Qrwatch-Signature");
		return;
	}
	batch_sign(pk->secret, pk->secret_len, body, len, want);
	if (!batch_signature_equal(sig_hdr + 7, want)) {
		reject(out, 401, "signature does not match the body");
		return;
	}
	/* 2. parse and check every field before touching anything */
	if (ingest_parse(x, pk->id, body, len, now_ms, &b, out) < 0)
		return;
	h = &b.batch.head;
	recs = b.recs;
	n = b.n;

	/* 3. apply, once, in one transaction; replays are known by (probe, epoch, seq) */
	pthread_mutex_lock(&x->db->lock);
	store_clear_error();
	if (store_prepare(x->db->db, "SELECT last_seq FROM probe_epochs WHERE probe = ? AND "
			  "epoch = ?", &st) == 0) {
		sqlite3_bind_text(st, 1, pk->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, h->epoch, -1, SQLITE_STATIC);
		if (store_step(st) == SQLITE_ROW)
			last_seq = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		st = NULL;
	}
	/*
	 * A number already applied in this epoch is a resend: a probe whose
	 * acknowledgement was lost builds the batch again from its spool, and
	 * it may hold more results by then. Its results are applied like any
	 * batch's, each once (a result is known by probe, target and time), so
	 * that acknowledging it loses none of the new ones.
	 */
	duplicate = last_seq >= h->seq;
	new_epoch = last_seq < 0;
	if (new_epoch && store_prepare(x->db->db, "SELECT epoch, (SELECT last_seq FROM "
				       "probe_epochs AS pe WHERE pe.probe = p.id AND pe.epoch = "
				       "p.epoch), epochs FROM probes AS p WHERE id = ?", &st) == 0) {
		sqlite3_bind_text(st, 1, pk->id, -1, SQLITE_STATIC);
		if (store_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
			snprintf(prev_epoch, sizeof(prev_epoch), "%s",
				 (const char *)sqlite3_column_text(st, 0));
			prev_last = sqlite3_column_int64(st, 1);
			epochs = sqlite3_column_int64(st, 2);
		}
		sqlite3_finalize(st);
		st = NULL;
	}
	if (store_failed(&e)) {
		/* the batch's numbers could not be read: never guess at a replay */
		reject(out, 503, "%s", e.msg);
		LOG(LOG_LVL_ERROR, "ingest-db", "batch from '%s' refused: %s", pk->id, e.msg);
		goto out;
	}
	if (store_exec(x->db, "BEGIN IMMEDIATE", &e) < 0) {
		reject(out, 503, "%s", e.msg);
		goto out;
	}
	if (sql(x->db, "INSERT INTO probe_epochs (probe, epoch, first_seq, last_seq, first_ms, "
		"last_ms, batches) VALUES (?1, ?2, ?3, ?3, ?4, ?4, 1) ON CONFLICT (probe, epoch) "
		"DO UPDATE SET last_seq = max(last_seq, ?3), last_ms = ?4, batches = batches + 1",
		&st) < 0)
		goto fail;
	sqlite3_bind_text(st, 1, pk->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, h->epoch, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, h->seq);
	sqlite3_bind_int64(st, 4, now_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (sql(x->db, "INSERT INTO probes (id, last_seq, last_seen_ms, uplink, version, "
		"clock_offset_ms, since_sync_s, spool_pending, spool_dropped, epoch, "
		"epoch_since_ms, epochs) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?3, 1) ON CONFLICT(id) DO UPDATE SET "
		"last_seq = CASE WHEN ?12 THEN last_seq ELSE ?2 END, last_seen_ms = ?3, "
		"uplink = ?4, version = ?5, "
		"clock_offset_ms = ?6, since_sync_s = ?7, spool_pending = ?8, "
		"spool_dropped = ?9, epoch = CASE WHEN ?11 THEN ?10 ELSE epoch END, "
		"epoch_since_ms = CASE WHEN ?11 THEN ?3 ELSE epoch_since_ms END, "
		"epochs = epochs + ?11", &st) < 0)
		goto fail;
	sqlite3_bind_text(st, 1, pk->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, h->seq);
	sqlite3_bind_int64(st, 3, now_ms);
	sqlite3_bind_text(st, 4, h->uplink ? h->uplink : "unknown", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, h->version ? h->version : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now_ms - h->clock_ms);
	sqlite3_bind_int64(st, 7, h->since_sync_s);
	sqlite3_bind_int64(st, 8, h->pending_bytes);
	sqlite3_bind_int64(st, 9, h->dropped);
	sqlite3_bind_text(st, 10, h->epoch, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 11, new_epoch);
	sqlite3_bind_int(st, 12, duplicate);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *js = recs[i].json;
		sqlite3_stmt *q = NULL;
		int fresh;

		if (sql(x->db, "INSERT OR IGNORE INTO results (probe, target, time_ms, "
			"probe_time, verdict, uplink, json) VALUES (?, ?, ?, ?, ?, ?, ?)",
			&q) < 0)
			goto fail;
		sqlite3_bind_text(q, 1, pk->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, recs[i].target, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 3, recs[i].time_ms);
		sqlite3_bind_text(q, 4, recs[i].probe_time, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 5, recs[i].verdict, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 6, recs[i].uplink, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 7, js, -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE) {
			sqlite3_finalize(q);
			goto fail;
		}
		sqlite3_finalize(q);
		fresh = sqlite3_changes(x->db->db) > 0;
		applied += (size_t)fresh;
		if (!fresh)
			continue;
		if (x->alerts && alerts_result(x->alerts, pk->id, recs[i].r, recs[i].time_ms,
					       &e) < 0) {
			reject(out, 503, "%s", e.msg);
			store_exec(x->db, "ROLLBACK", &e);
			goto out;
		}
		/* the latest result, and when the verdict changed */
		if (sql(x->db, "INSERT INTO verdict_changes (probe, target, time_ms, old, new) "
			"SELECT ?1, ?2, ?3, (SELECT verdict FROM latest WHERE probe = ?1 AND "
			"target = ?2), ?4 WHERE NOT EXISTS (SELECT 1 FROM latest WHERE probe = "
			"?1 AND target = ?2 AND (verdict = ?4 OR time_ms > ?3))", &q) < 0)
			goto fail;
		sqlite3_bind_text(q, 1, pk->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, recs[i].target, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 3, recs[i].time_ms);
		sqlite3_bind_text(q, 4, recs[i].verdict, -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE) {
			sqlite3_finalize(q);
			goto fail;
		}
		sqlite3_finalize(q);
		if (sql(x->db, "INSERT INTO latest (probe, target, time_ms, verdict, json, "
			"since_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?3) ON CONFLICT(probe, target) DO "
			"UPDATE SET since_ms = CASE WHEN verdict = ?4 THEN since_ms ELSE ?3 END, "
			"time_ms = ?3, verdict = ?4, json = ?5 WHERE time_ms < ?3", &q) < 0)
			goto fail;
		sqlite3_bind_text(q, 1, pk->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, recs[i].target, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 3, recs[i].time_ms);
		sqlite3_bind_text(q, 4, recs[i].verdict, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 5, js, -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE) {
			sqlite3_finalize(q);
			goto fail;
		}
		sqlite3_finalize(q);
	}
	queued = x->alerts ? x->alerts->queued : 0;
	if (x->alerts && alerts_batch(x->alerts, pk->id, now_ms, &e) < 0) {
		reject(out, 503, "%s", e.msg);
		store_exec(x->db, "ROLLBACK", &e);
		goto out;
	}
	if (store_exec(x->db, "COMMIT", &e) < 0) {
		reject(out, 503, "%s", e.msg);
		store_exec(x->db, "ROLLBACK", &e);
		goto out;
	}
	/* durable now: say when a probe's spool was made anew, then the rest follows */
	if (new_epoch && epochs > 0)
		LOG(LOG_LVL_WARN, NULL, "probe '%s' sends from a new spool (epoch %s, from batch "
		    "%lld); its previous spool (epoch %s, last batch %lld) is gone, and any "
		    "results it had not sent are lost; from now on its results are stored",
		    pk->id, h->epoch[0] ? h->epoch : "none", (long long)h->seq,
		    prev_epoch[0] ? prev_epoch : "none", (long long)prev_last);
	else if (new_epoch)
		LOG(LOG_LVL_INFO, NULL, "probe '%s': first batch %lld of spool epoch %s", pk->id,
		    (long long)h->seq, h->epoch[0] ? h->epoch : "none");
	if (x->alerts && x->alerts->queued != queued)
		outbox_wake(x->outbox);
	write_rrd(x, pk->id, recs, n, &refused);
	out->status = 200;
	snprintf(out->body, sizeof(out->body), "{\"ack\":%lld,\"applied\":%zu,"
		 "\"rrd_refused\":%d%s}", (long long)h->seq, applied, refused,
		 duplicate ? ",\"duplicate\":true" : "");
	goto out;
fail:
	reject(out, 503, "database: %s", sqlite3_errmsg(x->db->db));
	sqlite3_finalize(st);
	st = NULL;
	store_exec(x->db, "ROLLBACK", &e);
out:
	pthread_mutex_unlock(&x->db->lock);
	ingest_parsed_release(&b);
}

int ingest_replay_rrd(struct ingest *x, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int n = 0, rc;

	pthread_mutex_lock(&x->db->lock);
	if (sql(x->db, "SELECT probe, target, json, time_ms FROM results WHERE in_rrd = 0 "
		"ORDER BY time_ms", &st) < 0) {
		pthread_mutex_unlock(&x->db->lock);
		return err_set(e, "database: %s", sqlite3_errmsg(x->db->db));
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 2);
		json_object *o = json_tokener_parse(text ? text : "");
		struct ingest_reply dummy;
		struct ingest_rec rec;
		struct result r;
		struct arena a;
		struct err re;

		arena_init(&a, 0);
		memset(&dummy, 0, sizeof(dummy));
		if (o && result_from_json(o, &a, "", &r, &re) == 0 &&
		    judge_result(x, &r, 0, 0, INT64_MAX / 2, NULL, &a, &rec, &dummy) == 0) {
			int refused;

			rec.time_ms = sqlite3_column_int64(st, 3);
			rec.sample.when = (time_t)(rec.time_ms / 1000);
			write_rrd(x, (const char *)sqlite3_column_text(st, 0), &rec, 1, &refused);
			n++;
		}
		json_object_put(o);
		arena_release(&a);
	}
	if (rc != SQLITE_DONE)
		err_set(e, "database: %s", sqlite3_errmsg(x->db->db));
	sqlite3_finalize(st);
	pthread_mutex_unlock(&x->db->lock);
	return rc == SQLITE_DONE ? n : -1;
}
