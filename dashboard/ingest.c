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

/* Write the results of a committed batch to the RRD files, oldest first (under the lock). */
static void write_rrd(struct ingest *x, const char *probe, struct ingest_rec *recs,
		      size_t n, int *refused)
{
	struct err e;
	int in_tx;

	*refused = 0;
	/* the marks of one batch in one transaction: one sync, not one per result */
	in_tx = store_exec(x->db, "BEGIN IMMEDIATE", &e) == 0;
	for (size_t i = 0; i < n; i++) {
		int rc = rrdstore_update(x->rrd, probe, recs[i].target, recs[i].interval_s,
					 &recs[i].sample, &e);

		if (rc == 0)
			(*refused)++;
		if (rc < 0)
			continue;	/* stays pending; replayed at the next start */
		if (store_mark_rrd(x->db, probe, recs[i].target, recs[i].probe_time,
				   rc == 1 ? 1 : 2) < 0 && store_failed(x->db, &e))
			/* stays pending: the next start writes it, and the RRD refuses it */
			LOG(LOG_LVL_WARN, "ingest-db", "result of '%s' written to its RRD file but "
			    "not marked so: %s", recs[i].target, e.msg);
	}
	if (in_tx && store_exec(x->db, "COMMIT", &e) < 0) {
		LOG(LOG_LVL_WARN, "ingest-db", "RRD marks of a batch from '%s' not kept (they "
		    "are written again at the next start, and refused there): %s", probe, e.msg);
		store_exec(x->db, "ROLLBACK", &e);
	}
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
	struct store_probe_news news;
	int64_t last_seq = 0, prev_last = 0, epochs = 0;
	char prev_epoch[32] = "", want[65];
	size_t n, applied = 0;
	struct err e;
	int refused = 0, new_epoch, duplicate, found;
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
	found = store_epoch_last(x->db, pk->id, h->epoch, &last_seq);
	/*
	 * A number already applied in this epoch is a resend: a probe whose
	 * acknowledgement was lost builds the batch again from its spool, and
	 * it may hold more results by then. Its results are applied like any
	 * batch's, each once (a result is known by probe, target and time), so
	 * that acknowledging it loses none of the new ones.
	 */
	duplicate = found == 1 && last_seq >= h->seq;
	new_epoch = found == 0;
	if (found >= 0 && new_epoch)
		found = store_probe_epoch(x->db, pk->id, prev_epoch, &prev_last, &epochs);
	if (found < 0) {
		/* the batch's numbers could not be read: never guess at a replay */
		store_failed(x->db, &e);
		reject(out, 503, "%s", e.msg);
		LOG(LOG_LVL_ERROR, "ingest-db", "batch from '%s' refused: %s", pk->id, e.msg);
		goto out;
	}
	if (store_exec(x->db, "BEGIN IMMEDIATE", &e) < 0) {
		reject(out, 503, "%s", e.msg);
		goto out;
	}
	memset(&news, 0, sizeof(news));
	news.probe = pk->id;
	news.epoch = h->epoch;
	news.uplink = h->uplink;
	news.version = h->version;
	news.seq = h->seq;
	news.now_ms = now_ms;
	news.clock_offset_ms = now_ms - h->clock_ms;
	news.since_sync_s = h->since_sync_s;
	news.spool_pending = h->pending_bytes;
	news.spool_dropped = h->dropped;
	news.new_epoch = new_epoch;
	news.duplicate = duplicate;
	if (store_put_epoch(x->db, pk->id, h->epoch, h->seq, now_ms) < 0 ||
	    store_put_probe(x->db, &news) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct store_result sr = { pk->id, recs[i].r, recs[i].probe_time, recs[i].time_ms,
					   recs[i].uplink, recs[i].json };
		int fresh = store_put_result(x->db, &sr);

		if (fresh < 0)
			goto fail;
		applied += (size_t)fresh;
		if (fresh && x->alerts && alerts_result(x->alerts, pk->id, recs[i].r,
							recs[i].time_ms, &e) < 0) {
			reject(out, 503, "%s", e.msg);
			store_exec(x->db, "ROLLBACK", &e);
			goto out;
		}
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
	store_failed(x->db, &e);
	reject(out, 503, "%s", e.msg[0] ? e.msg : "database: the batch could not be kept");
	store_exec(x->db, "ROLLBACK", &e);
out:
	pthread_mutex_unlock(&x->db->lock);
	ingest_parsed_release(&b);
}

#define REPLAY_CHUNK 512	/* results read at a time when the RRD files catch up */

int ingest_replay_rrd(struct ingest *x, struct err *e)
{
	struct store_rrd_row *rows = malloc(REPLAY_CHUNK * sizeof(*rows));
	struct store_rrd_cursor at = { 0, 0 };
	int total = 0, n;

	if (!rows)
		return err_set(e, "out of memory");
	pthread_mutex_lock(&x->db->lock);
	while ((n = store_rrd_pending(x->db, &at, rows, REPLAY_CHUNK)) > 0) {
		struct ingest_rec *recs = calloc((size_t)n, sizeof(*recs));

		if (!recs) {
			n = -1;
			break;
		}
		/* oldest first, so that each file gets its own in order */
		for (int i = 0; i < n; i++) {
			const struct store_rrd_row *row = &rows[i];
			const struct target *t = x->cat ? catalog_target(x->cat, row->target) : NULL;
			struct ingest_rec *rec = &recs[i];
			int refused;

			rec->target = row->target;
			snprintf(rec->probe_time, sizeof(rec->probe_time), "%s", row->probe_time);
			rec->interval_s = t ? t->interval_s : TARGET_INTERVAL_DEFAULT;
			rec->sample.when = (time_t)(row->time_ms / 1000);
			rec->sample.avail = row->avail;
			rec->sample.total_ms = (double)row->total_us / 1000;
			rec->sample.dns_ms = (double)row->dns_us / 1000;
			rec->sample.connect_ms = (double)row->connect_us / 1000;
			rec->sample.tls_ms = (double)row->tls_us / 1000;
			rec->sample.ttfb_ms = (double)row->ttfb_us / 1000;
			rec->sample.status = row->status;
			rec->sample.step = row->step;
			write_rrd(x, row->probe, rec, 1, &refused);
			total++;
		}
		free(recs);
	}
	if (n < 0)
		store_failed(x->db, e);
	pthread_mutex_unlock(&x->db->lock);
	free(rows);
	return n < 0 ? -1 : total;
}
