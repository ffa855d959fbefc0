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

/* What the RRD file of (probe, rec's target) takes from a result. */
static void rrd_of(const char *probe, const struct ingest_rec *rec, struct rrd_write *w)
{
	w->probe = probe;
	w->target = rec->target;
	w->interval_s = rec->interval_s;
	w->time_ms = rec->time_ms;
	w->x = rec->sample;
}

/*
 * Write the results of a committed batch to the RRD files, oldest first
 * (under the database lock, so that a file's results go in order). One
 * that is not written now stays above its file's mark and is written
 * again (rrdstore.h); *refused counts those older than their file's last.
 */
static void write_rrd(struct ingest *x, const char *probe, const struct ingest_rec *recs,
		      size_t n, size_t *refused)
{
	struct rrd_write *w = calloc(n ? n : 1, sizeof(*w));
	struct rrdstore_counts c = { 0, 0, 0 };
	struct err e;

	*refused = 0;
	if (!w) {
		LOG(LOG_LVL_WARN, "ingest-rrd", "out of memory: the results of a batch from '%s' "
		    "go to the RRD files at the next start", probe);
		return;
	}
	for (size_t i = 0; i < n; i++)
		rrd_of(probe, &recs[i], &w[i]);
	if (rrdstore_write(x->rrd, w, n, 0, &c, &e) < 0)
		LOG(LOG_LVL_WARN, "ingest-rrd", "%s", e.msg);
	*refused = c.refused;
	free(w);
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

/* ---- applying batches, a group at a time ---- */

/* One batch on its way: checked on the caller's thread, applied by the committer. */
struct ingest_job {
	const struct probe_key *pk;
	struct ingest_parsed b;
	int64_t now_ms;
	struct ingest_reply *out;
	void (*done)(void *ctx);
	void *ctx;
	struct ingest_job *next;
	/* what the committer found, for the answer and the log */
	int new_epoch, duplicate, failed;
	int64_t prev_last, epochs;
	char prev_epoch[32];
	size_t applied;
};

static void finish_job(struct ingest_job *j)
{
	void (*done)(void *ctx) = j->done;
	void *ctx = j->ctx;

	ingest_parsed_release(&j->b);
	free(j);
	done(ctx);
}

/* Apply one batch inside the group's transaction (under the lock). 0, or -1 with e. */
static int apply(struct ingest *x, struct ingest_job *j, struct err *e)
{
	const struct batch_head *h = &j->b.batch.head;
	struct store_probe_news news;
	int64_t last_seq = 0;
	int found = store_epoch_last(x->db, j->pk->id, h->epoch, &last_seq);

	/*
	 * A number already applied in this epoch is a resend: a probe whose
	 * acknowledgement was lost builds the batch again from its spool, and
	 * it may hold more results by then. Its results are applied like any
	 * batch's, each once (a result is known by probe, target and time), so
	 * that acknowledging it loses none of the new ones.
	 */
	j->duplicate = found == 1 && last_seq >= h->seq;
	j->new_epoch = found == 0;
	if (found == 0)
		found = store_probe_epoch(x->db, j->pk->id, j->prev_epoch, &j->prev_last,
					  &j->epochs);
	if (found < 0)
		goto db;
	memset(&news, 0, sizeof(news));
	news.probe = j->pk->id;
	news.epoch = h->epoch;
	news.uplink = h->uplink;
	news.version = h->version;
	news.seq = h->seq;
	news.now_ms = j->now_ms;
	news.clock_offset_ms = j->now_ms - h->clock_ms;
	news.since_sync_s = h->since_sync_s;
	news.spool_pending = h->pending_bytes;
	news.spool_dropped = h->dropped;
	news.new_epoch = j->new_epoch;
	news.duplicate = j->duplicate;
	if (store_put_epoch(x->db, j->pk->id, h->epoch, h->seq, j->now_ms) < 0 ||
	    store_put_probe(x->db, &news) < 0)
		goto db;
	j->applied = 0;
	for (size_t i = 0; i < j->b.n; i++) {
		const struct ingest_rec *rec = &j->b.recs[i];
		struct store_result sr = { j->pk->id, rec->r, rec->probe_time, rec->time_ms,
					   rec->uplink, rec->json };
		int fresh = store_put_result(x->db, &sr);

		if (fresh < 0)
			goto db;
		j->applied += (size_t)fresh;
		if (fresh && x->alerts && alerts_result(x->alerts, j->pk->id, rec->r,
							rec->time_ms, e) < 0)
			return -1;
	}
	if (x->alerts && alerts_batch(x->alerts, j->pk->id, j->now_ms, e) < 0)
		return -1;
	return 0;
db:
	if (!store_failed(x->db, e))
		err_set(e, "database: the batch could not be kept");
	return -1;
}

/*
 * Apply a group of batches in one transaction, each under a savepoint of
 * its own (one that fails is undone alone and answered 503), and answer
 * them only after the commit. Then their results go to the RRD files.
 */
static void commit_group(struct ingest *x, struct ingest_job *group)
{
	struct err e;
	long queued;
	int ok = 0;

	pthread_mutex_lock(&x->db->lock);
	queued = x->alerts ? x->alerts->queued : 0;
	if (store_exec(x->db, "BEGIN IMMEDIATE", &e) < 0) {
		for (struct ingest_job *j = group; j; j = j->next) {
			j->failed = 1;
			reject(j->out, 503, "%s", e.msg);
		}
		goto out;
	}
	for (struct ingest_job *j = group; j; j = j->next) {
		struct err je;

		if (store_exec(x->db, "SAVEPOINT batch", &je) < 0 || apply(x, j, &je) < 0) {
			j->failed = 1;
			reject(j->out, 503, "%s", je.msg);
			LOG(LOG_LVL_ERROR, "ingest-db", "batch %lld from '%s' not kept: %s",
			    (long long)j->b.batch.head.seq, j->pk->id, je.msg);
			store_exec(x->db, "ROLLBACK TO batch", &e);
		}
		store_exec(x->db, "RELEASE batch", &e);
		ok += !j->failed;
	}
	if (store_exec(x->db, "COMMIT", &e) < 0) {
		store_exec(x->db, "ROLLBACK", &e);
		for (struct ingest_job *j = group; j; j = j->next)
			if (!j->failed) {
				j->failed = 1;
				reject(j->out, 503, "%s", e.msg);
			}
		goto out;
	}
	/* durable now: the answers, the log, the notifications, the time series */
	__atomic_add_fetch(&x->commits, 1, __ATOMIC_RELAXED);
	if (x->alerts && x->alerts->queued != queued)
		outbox_wake(x->outbox);
	for (struct ingest_job *j = group; j; j = j->next) {
		const struct batch_head *h = &j->b.batch.head;
		size_t refused = 0;

		if (j->failed)
			continue;
		if (j->new_epoch && j->epochs > 0)
			LOG(LOG_LVL_WARN, NULL, "probe '%s' sends from a new spool (epoch %s, from "
			    "batch %lld); its previous spool (epoch %s, last batch %lld) is gone, "
			    "and any results it had not sent are lost; from now on its results "
			    "are stored", j->pk->id, h->epoch[0] ? h->epoch : "none",
			    (long long)h->seq, j->prev_epoch[0] ? j->prev_epoch : "none",
			    (long long)j->prev_last);
		else if (j->new_epoch)
			LOG(LOG_LVL_INFO, NULL, "probe '%s': first batch %lld of spool epoch %s",
			    j->pk->id, (long long)h->seq, h->epoch[0] ? h->epoch : "none");
		write_rrd(x, j->pk->id, j->b.recs, j->b.n, &refused);
		__atomic_add_fetch(&x->batches_applied, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&x->results_applied, j->applied, __ATOMIC_RELAXED);
		j->out->status = 200;
		snprintf(j->out->body, sizeof(j->out->body), "{\"ack\":%lld,\"applied\":%zu,"
			 "\"rrd_refused\":%zu%s}", (long long)h->seq, j->applied, refused,
			 j->duplicate ? ",\"duplicate\":true" : "");
	}
	(void)ok;
out:
	pthread_mutex_unlock(&x->db->lock);
	while (group) {
		struct ingest_job *next = group->next;

		finish_job(group);
		group = next;
	}
}

/* The committer: takes what waits, up to INGEST_GROUP_RESULTS results, as one group. */
static void *committer(void *arg)
{
	struct ingest *x = arg;

	pthread_setname_np(pthread_self(), "qrw-ingest");
	for (;;) {
		struct ingest_job *group = NULL, **tail = &group;
		size_t results = 0;

		pthread_mutex_lock(&x->qlock);
		while (!x->queue && !x->stopping)
			pthread_cond_wait(&x->qcond, &x->qlock);
		if (!x->queue && x->stopping) {
			pthread_mutex_unlock(&x->qlock);
			break;
		}
		while (x->queue && (!group || results + x->queue->b.n <= INGEST_GROUP_RESULTS)) {
			struct ingest_job *j = x->queue;

			x->queue = j->next;
			if (!x->queue)
				x->queue_tail = &x->queue;
			j->next = NULL;
			*tail = j;
			tail = &j->next;
			results += j->b.n;
			x->queued_jobs--;
		}
		pthread_mutex_unlock(&x->qlock);
		commit_group(x, group);
	}
	return NULL;
}

static void *checkpointer(void *arg);
static void ingest_stop_committer(struct ingest *x);

int ingest_start(struct ingest *x, struct err *e)
{
	x->queue = NULL;
	x->queue_tail = &x->queue;
	x->queued_jobs = 0;
	x->stopping = 0;
	x->ck_stopping = 0;
	pthread_mutex_init(&x->qlock, NULL);
	pthread_cond_init(&x->qcond, NULL);
	pthread_cond_init(&x->ckcond, NULL);
	if (pthread_create(&x->thread, NULL, committer, x) != 0) {
		pthread_mutex_destroy(&x->qlock);
		pthread_cond_destroy(&x->qcond);
		pthread_cond_destroy(&x->ckcond);
		return err_set(e, "cannot start the ingest committer");
	}
	if (x->rrd && pthread_create(&x->ck_thread, NULL, checkpointer, x) != 0) {
		ingest_stop_committer(x);
		pthread_mutex_destroy(&x->qlock);
		pthread_cond_destroy(&x->qcond);
		pthread_cond_destroy(&x->ckcond);
		return err_set(e, "cannot start the RRD checkpoints");
	}
	x->ck_started = x->rrd != NULL;
	x->started = 1;
	return 0;
}

static void ingest_stop_committer(struct ingest *x)
{
	pthread_mutex_lock(&x->qlock);
	x->stopping = 1;
	pthread_cond_signal(&x->qcond);
	pthread_mutex_unlock(&x->qlock);
	pthread_join(x->thread, NULL);	/* what was queued is applied and answered */
}

void ingest_stop(struct ingest *x)
{
	if (!x->started)
		return;
	ingest_stop_committer(x);
	/*
	 * no file made and written in the background after the last
	 * checkpoint, or its mark would stay below what it holds
	 */
	if (x->rrd)
		rrdstore_stop_creating(x->rrd);
	if (x->ck_started) {
		/* then a last checkpoint, with everything written */
		pthread_mutex_lock(&x->qlock);
		x->ck_stopping = 1;
		pthread_cond_signal(&x->ckcond);
		pthread_mutex_unlock(&x->qlock);
		pthread_join(x->ck_thread, NULL);
		x->ck_started = 0;
	}
	pthread_mutex_destroy(&x->qlock);
	pthread_cond_destroy(&x->qcond);
	pthread_cond_destroy(&x->ckcond);
	x->started = 0;
}

void ingest_submit(struct ingest *x, const char *probe_hdr, const char *sig_hdr,
		   const char *body, size_t len, int64_t now_ms, struct ingest_reply *out,
		   void (*done)(void *ctx), void *ctx)
{
	const struct probe_key *pk;
	struct ingest_job *j;
	char want[65];

	memset(out, 0, sizeof(*out));
	/* 1. who is it, and did they sign exactly these bytes */
	if (!probe_hdr || !(pk = find_probe(x, probe_hdr))) {
		reject(out, 401, "unknown probe '%s' (X-Qrwatch-Probe)", probe_hdr ? probe_hdr : "");
		done(ctx);
		return;
	}
	if (!sig_hdr || strncmp(sig_hdr, "sha256=", 7) != 0) {
		reject(out, 401, "missing or malformed X-Qrwatch-Signature");
		done(ctx);
		return;
	}
	batch_sign(pk->secret, pk->secret_len, body, len, want);
	if (!batch_signature_equal(sig_hdr + 7, want)) {
		reject(out, 401, "signature does not match the body");
		done(ctx);
		return;
	}
	/* 2. parse and check every field before anything waits for the database */
	j = calloc(1, sizeof(*j));
	if (!j) {
		reject(out, 503, "out of memory");
		done(ctx);
		return;
	}
	if (ingest_parse(x, pk->id, body, len, now_ms, &j->b, out) < 0) {
		free(j);
		done(ctx);
		return;
	}
	j->pk = pk;
	j->now_ms = now_ms;
	j->out = out;
	j->done = done;
	j->ctx = ctx;
	/* 3. the committer applies it with whatever else is waiting, then answers */
	pthread_mutex_lock(&x->qlock);
	if (x->stopping || x->queued_jobs >= INGEST_QUEUE_MAX) {
		int stopping = x->stopping;

		pthread_mutex_unlock(&x->qlock);
		reject(out, 503, "%s", stopping ? "the server is stopping" :
		       "the server is busy; try again later");
		ingest_parsed_release(&j->b);
		free(j);
		done(ctx);
		return;
	}
	*x->queue_tail = j;
	x->queue_tail = &j->next;
	x->queued_jobs++;
	pthread_cond_signal(&x->qcond);
	pthread_mutex_unlock(&x->qlock);
}

void ingest_get_stats(struct ingest *x, struct ingest_stats *st)
{
	st->batches = __atomic_load_n(&x->batches_applied, __ATOMIC_RELAXED);
	st->results = __atomic_load_n(&x->results_applied, __ATOMIC_RELAXED);
	st->commits = __atomic_load_n(&x->commits, __ATOMIC_RELAXED);
	pthread_mutex_lock(&x->qlock);
	st->queued = x->queued_jobs;
	pthread_mutex_unlock(&x->qlock);
}

/* ingest_batch(): a submit, waited for. */
struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done;
};

static void wake(void *ctx)
{
	struct waiter *w = ctx;

	pthread_mutex_lock(&w->lock);
	w->done = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void ingest_batch(struct ingest *x, const char *probe_hdr, const char *sig_hdr,
		  const char *body, size_t len, int64_t now_ms, struct ingest_reply *out)
{
	struct waiter w;

	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	w.done = 0;
	ingest_submit(x, probe_hdr, sig_hdr, body, len, now_ms, out, wake, &w);
	pthread_mutex_lock(&w.lock);
	while (!w.done)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	pthread_mutex_destroy(&w.lock);
	pthread_cond_destroy(&w.cond);
}

/* ---- the RRD files catching up from SQLite ---- */

#define REPLAY_CHUNK 512	/* results read at a time */
#define PAIRS_CHUNK  256	/* (probe, target) pairs read at a time */

/*
 * Write again what (probe, target)'s file lacks: its results above its
 * mark, oldest first (under the database lock). Returns how many were
 * read, or -1 with e when the database could not be read.
 */
static int replay_pair(struct ingest *x, const char *probe, const char *target,
		       struct store_rrd_row *rows, struct err *e)
{
	const struct target *t = x->cat ? catalog_target(x->cat, target) : NULL;
	long interval = t ? t->interval_s : TARGET_INTERVAL_DEFAULT;
	struct store_rrd_cursor at = { 0, 0 };
	struct rrd_write w[REPLAY_CHUNK];
	int total = 0, n;

	while ((n = store_rrd_pending(x->db, probe, target, &at, rows, REPLAY_CHUNK)) > 0) {
		struct rrdstore_counts c = { 0, 0, 0 };
		struct err we;

		for (int i = 0; i < n; i++) {
			const struct store_rrd_row *row = &rows[i];

			memset(&w[i], 0, sizeof(w[i]));
			w[i].probe = row->probe;
			w[i].target = row->target;
			w[i].interval_s = interval;
			w[i].time_ms = row->time_ms;
			w[i].x.when = (time_t)(row->time_ms / 1000);
			w[i].x.avail = row->avail;
			w[i].x.total_ms = (double)row->total_us / 1000;
			w[i].x.dns_ms = (double)row->dns_us / 1000;
			w[i].x.connect_ms = (double)row->connect_us / 1000;
			w[i].x.tls_ms = (double)row->tls_us / 1000;
			w[i].x.ttfb_ms = (double)row->ttfb_us / 1000;
			w[i].x.status = row->status;
			w[i].x.step = row->step;
		}
		/* one not written now goes round again (rrdstore.h): logged there once */
		if (rrdstore_write(x->rrd, w, (size_t)n, 1, &c, &we) < 0)
			LOG(LOG_LVL_DEBUG, "ingest-rrd", "%s", we.msg);
		total += n;
	}
	if (n < 0) {
		store_failed(x->db, e);
		return -1;
	}
	return total;
}

/* rrdstore's on_created: files were made (or lost updates): write what waited, then open them. */
void ingest_rrd_created(void *ctx, const struct rrd_made *made, size_t n)
{
	struct ingest *x = ctx;
	struct store_rrd_row *rows = malloc(REPLAY_CHUNK * sizeof(*rows));
	struct err e;

	pthread_mutex_lock(&x->db->lock);
	for (size_t i = 0; i < n; i++) {
		if (!rows || replay_pair(x, made[i].probe, made[i].target, rows, &e) < 0)
			LOG(LOG_LVL_WARN, "ingest-rrd", "results of '%s' on '%s' not written to "
			    "its new RRD file (written at the next start): %s", made[i].target,
			    made[i].probe, rows ? e.msg : "out of memory");
		rrdstore_ready(x->rrd, made[i].probe, made[i].target);
	}
	pthread_mutex_unlock(&x->db->lock);
	free(rows);
}

int ingest_replay_rrd(struct ingest *x, struct err *e)
{
	struct store_rrd_row *rows = malloc(REPLAY_CHUNK * sizeof(*rows));
	struct store_rrd_pair after, pairs[PAIRS_CHUNK];
	int total = 0, n = 0;

	if (!rows)
		return err_set(e, "out of memory");
	memset(&after, 0, sizeof(after));
	pthread_mutex_lock(&x->db->lock);
	while ((n = store_rrd_pairs(x->db, &after, pairs, PAIRS_CHUNK)) > 0) {
		for (int i = 0; i < n; i++) {
			int k = replay_pair(x, pairs[i].probe, pairs[i].target, rows, e);

			if (k < 0) {
				n = -1;
				break;
			}
			total += k;
		}
		if (n < 0)
			break;
	}
	if (n < 0 && !e->msg[0])
		store_failed(x->db, e);
	pthread_mutex_unlock(&x->db->lock);
	free(rows);
	return n < 0 ? -1 : total;
}

/* ---- checkpoints: the RRD files' marks, moved once what they hold is on disk ---- */

struct marks {
	struct store_rrd_pair *pair;
	int64_t *ms;
	size_t n, cap;
};

static int add_mark(void *ctx, const char *probe, const char *target, int64_t ms)
{
	struct marks *m = ctx;

	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 256;
		struct store_rrd_pair *p = realloc(m->pair, cap * sizeof(*p));
		int64_t *t;

		if (!p)
			return -1;
		m->pair = p;
		t = realloc(m->ms, cap * sizeof(*t));
		if (!t)
			return -1;
		m->ms = t;
		m->cap = cap;
	}
	snprintf(m->pair[m->n].probe, sizeof(m->pair[0].probe), "%s", probe);
	snprintf(m->pair[m->n].target, sizeof(m->pair[0].target), "%s", target);
	m->ms[m->n++] = ms;
	return 0;
}

/* One checkpoint: flush and sync (without the database lock), then the marks, in one transaction. */
static void checkpoint(struct ingest *x)
{
	struct marks m;
	struct err e;
	int n;

	memset(&m, 0, sizeof(m));
	n = rrdstore_checkpoint(x->rrd, add_mark, &m, &e);
	if (n < 0)
		LOG(LOG_LVL_WARN, "ingest-rrd", "RRD checkpoint: %s (tried again at the next)",
		    e.msg);
	if (m.n) {
		int ok;

		pthread_mutex_lock(&x->db->lock);
		ok = store_exec(x->db, "BEGIN IMMEDIATE", &e) == 0;
		for (size_t i = 0; ok && i < m.n; i++)
			ok = store_put_mark(x->db, m.pair[i].probe, m.pair[i].target, m.ms[i]) == 0;
		if (ok)
			ok = store_exec(x->db, "COMMIT", &e) == 0;
		if (!ok) {
			store_failed(x->db, &e);
			store_exec(x->db, "ROLLBACK", &e);
			/* the files hold their results; a restart writes them again, refused */
			LOG(LOG_LVL_WARN, "ingest-db", "RRD marks not kept: %s", e.msg);
		}
		pthread_mutex_unlock(&x->db->lock);
	}
	free(m.pair);
	free(m.ms);
}

static void *checkpointer(void *arg)
{
	struct ingest *x = arg;

	pthread_setname_np(pthread_self(), "qrw-rrd-ckpt");
	pthread_mutex_lock(&x->qlock);
	while (!x->ck_stopping) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += x->checkpoint_s > 0 ? x->checkpoint_s : INGEST_CHECKPOINT_S;
		while (!x->ck_stopping &&
		       pthread_cond_timedwait(&x->ckcond, &x->qlock, &ts) == 0)
			;
		pthread_mutex_unlock(&x->qlock);
		checkpoint(x);
		pthread_mutex_lock(&x->qlock);
	}
	pthread_mutex_unlock(&x->qlock);
	return NULL;
}
