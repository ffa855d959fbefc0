/* ingest.c - signed batches into SQLite and RRD, all or nothing (see ingest.h). */
#include "ingest.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "../prober/push.h"
#include "../targets/uplink.h"
#include "../targets/verdict.h"
#include "../common/log.h"
#include "../common/strictjson.h"
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

static int valid_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
		      s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

/*
 * "2026-11-22T11:48:01.532Z" or without milliseconds, to ms since 1970.
 * The date must exist: 2026-02-30 is refused, not read as 2 March.
 */
static int parse_time(const char *s, int64_t *ms)
{
	struct tm tm, back;
	int y, mo, d, h, mi, sec, milli = 0, n = 0;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	for (int i = 0; i < 19; i++)
		if (!(i == 4 || i == 7 ? s[i] == '-' : i == 10 ? s[i] == 'T' :
		      i == 13 || i == 16 ? s[i] == ':' : isdigit((unsigned char)s[i])))
			return -1;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n != 19)
		return -1;
	s += n;
	if (*s == '.') {
		if (!isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]) ||
		    !isdigit((unsigned char)s[3]))
			return -1;
		milli = (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
		s += 4;
	}
	if (strcmp(s, "Z") != 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 59 || y < 2000 || y > 2200)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (!gmtime_r(&t, &back) || back.tm_mday != d || back.tm_mon != mo - 1)
		return -1;
	*ms = (int64_t)t * 1000 + milli;
	return 0;
}

/* Field access with errors that name the field's path. */
struct vctx {
	struct ingest_reply *out;
	char path[96];
};

static json_object *need(struct vctx *v, json_object *o, const char *key,
			 json_type type, int required)
{
	json_object *f;

	if (!json_object_object_get_ex(o, key, &f) || json_object_is_type(f, json_type_null)) {
		if (required)
			reject(v->out, 422, "%s%s: missing", v->path, key);
		return NULL;
	}
	if (!json_object_is_type(f, type)) {
		reject(v->out, 422, "%s%s: must be %s", v->path, key,
		       type == json_type_string ? "a string" : type == json_type_int ?
		       "a whole number" : type == json_type_array ? "an array" :
		       type == json_type_object ? "an object" : "of another type");
		return NULL;
	}
	return f;
}

static int need_int(struct vctx *v, json_object *o, const char *key, int64_t min,
		    int64_t max, int required, int64_t *val)
{
	json_object *f = need(v, o, key, json_type_int, required);

	*val = 0;
	if (!f)
		return required || v->out->status ? -1 : 0;
	*val = json_object_get_int64(f);
	if (*val == INT64_MAX && json_object_get_uint64(f) > (uint64_t)INT64_MAX) {
		/* json-c holds larger numbers as unsigned, and saturates past 2^64 */
		reject(v->out, 422, "%s%s: a number above %lld is out of range (%lld to %lld)",
		       v->path, key, (long long)INT64_MAX, (long long)min, (long long)max);
		return -1;
	}
	if (*val < min || *val > max) {
		reject(v->out, 422, "%s%s: %lld is out of range (%lld to %lld)", v->path,
		       key, (long long)*val, (long long)min, (long long)max);
		return -1;
	}
	return 0;
}

static const char *need_str(struct vctx *v, json_object *o, const char *key,
			    size_t max, int required)
{
	json_object *f = need(v, o, key, json_type_string, required);
	const char *s;

	if (!f)
		return NULL;
	s = json_object_get_string(f);
	if ((size_t)json_object_get_string_len(f) != strlen(s)) {
		reject(v->out, 422, "%s%s: holds a NUL character", v->path, key);
		return NULL;
	}
	if (strlen(s) > max) {
		reject(v->out, 413, "%s%s: longer than %zu bytes", v->path, key, max);
		return NULL;
	}
	return s;
}

/* One result, checked; its values for the stores. */
struct ingest_rec {
	const char *target, *probe_time, *verdict, *uplink;
	int64_t time_ms;
	json_object *obj;
	struct rrd_sample sample;
	long interval_s;
};

static int check_result(const struct ingest *x, json_object *r, size_t i, int64_t offset,
			int64_t now_ms, struct ingest_rec *out, struct ingest_reply *reply)
{
	struct vctx v = { reply, "" };
	json_object *steps;
	enum verdict vd;
	int64_t failed, total, pt;
	const struct target *t = NULL;
	size_t nsteps;

	snprintf(v.path, sizeof(v.path), "results[%zu].", i);
	if (!json_object_is_type(r, json_type_object)) {
		reject(reply, 422, "results[%zu]: must be an object", i);
		return -1;
	}
	out->obj = r;
	out->target = need_str(&v, r, "target", 64, 1);
	if (!out->target)
		return -1;
	if (!valid_id(out->target)) {
		reject(reply, 422, "%starget: '%s' is not a target id", v.path, out->target);
		return -1;
	}
	if (x->cat) {
		t = catalog_target(x->cat, out->target);
		if (!t) {
			reject(reply, 422, "%starget: unknown target '%s'", v.path, out->target);
			return -1;
		}
	}
	out->interval_s = t ? t->interval_s : TARGET_INTERVAL_DEFAULT;
	out->probe_time = need_str(&v, r, "time", 40, 1);
	if (!out->probe_time)
		return -1;
	if (parse_time(out->probe_time, &pt) < 0) {
		reject(reply, 422, "%stime: '%s' is not a UTC time such as "
		       "2026-11-22T11:48:01.532Z", v.path, out->probe_time);
		return -1;
	}
	out->time_ms = pt + offset;
	if (out->time_ms > now_ms + INGEST_FUTURE_MS) {
		reject(reply, 422, "%stime: dated %lld s in the future even after "
		       "correcting the probe's clock", v.path,
		       (long long)((out->time_ms - now_ms) / 1000));
		return -1;
	}
	out->verdict = need_str(&v, r, "verdict", 16, 1);
	if (!out->verdict)
		return -1;
	if (verdict_parse(out->verdict, &vd) < 0) {
		reject(reply, 422, "%sverdict: unknown verdict '%s'", v.path, out->verdict);
		return -1;
	}
	static const char *const texts[] = { "why_vi", "why_en", "payload",
					     "decode_step", "failed_step_name", "interface" };
	for (size_t k = 0; k < sizeof(texts) / sizeof(texts[0]); k++) {
		need_str(&v, r, texts[k], INGEST_TEXT_MAX, 0);
		if (reply->status)
			return -1;
	}
	out->uplink = need_str(&v, r, "uplink", 16, 0);
	if (reply->status)
		return -1;
	if (out->uplink && !uplink_valid(out->uplink)) {
		reject(reply, 422, "%suplink: '%s' is not one of: %s", v.path, out->uplink,
		       UPLINK_KINDS);
		return -1;
	}
	if (need_int(&v, r, "failed_step", 0, CATALOG_MAX_STEPS, 0, &failed) < 0 ||
	    need_int(&v, r, "total_us", 0, (int64_t)86400 * 1000000, 0, &total) < 0)
		return -1;
	steps = need(&v, r, "steps", json_type_array, 1);
	if (!steps)
		return -1;
	nsteps = json_object_array_length(steps);
	if (nsteps > CATALOG_MAX_STEPS) {
		reject(reply, 422, "%ssteps: more than %d steps", v.path, CATALOG_MAX_STEPS);
		return -1;
	}
	memset(&out->sample, 0, sizeof(out->sample));
	for (size_t k = 0; k < nsteps; k++) {
		json_object *s = json_object_array_get_idx(steps, k);
		struct vctx sv = { reply, "" };
		static const char *const phases[] = { "dns_us", "connect_us", "tls_us",
						      "ttfb_us", "transfer_us", "total_us",
						      "bytes" };
		int64_t ph[7], status;

		snprintf(sv.path, sizeof(sv.path), "results[%zu].steps[%zu].", i, k);
		if (!json_object_is_type(s, json_type_object)) {
			reject(reply, 422, "results[%zu].steps[%zu]: must be an object", i, k);
			return -1;
		}
		static const char *const stexts[] = { "name", "method", "url", "final_url",
						      "error" };
		for (size_t q = 0; q < sizeof(stexts) / sizeof(stexts[0]); q++) {
			need_str(&sv, s, stexts[q], INGEST_TEXT_MAX, 0);
			if (reply->status)
				return -1;
		}
		for (int q = 0; q < 7; q++)
			if (need_int(&sv, s, phases[q], 0, (int64_t)86400 * 1000000000LL, 0,
				     &ph[q]) < 0)
				return -1;
		if (need_int(&sv, s, "status", 0, 999, 0, &status) < 0)
			return -1;
		if (k == 0) {
			out->sample.dns_ms = (double)ph[0] / 1000;
			out->sample.connect_ms = (double)ph[1] / 1000;
			out->sample.tls_ms = (double)ph[2] / 1000;
			out->sample.ttfb_ms = (double)ph[3] / 1000;
		}
		out->sample.status = (int)status;
	}
	out->sample.when = (time_t)(out->time_ms / 1000);
	out->sample.avail = vd == VERDICT_OK || vd == VERDICT_SLOW;
	out->sample.total_ms = (double)total / 1000;
	out->sample.step = failed ? (int)failed : (int)nsteps;
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

static int valid_epoch(const char *s)
{
	if (strlen(s) != INGEST_EPOCH_LEN)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

void ingest_parsed_release(struct ingest_parsed *b)
{
	free(b->recs);
	json_object_put(b->root);
	memset(b, 0, sizeof(*b));
}

int ingest_parse(const struct ingest *x, const char *probe_id, const char *body,
		 size_t len, int64_t now_ms, struct ingest_parsed *b,
		 struct ingest_reply *out)
{
	struct vctx v = { out, "" };
	json_object *results, *spool;
	const char *probe, *clock;
	struct err e;

	memset(b, 0, sizeof(*b));
	b->root = strictjson_parse(body, len, &e);
	if (!b->root || !json_object_is_type(b->root, json_type_object)) {
		reject(out, 400, "body is not a JSON object: %s", b->root ? "another JSON value" :
		       e.msg);
		goto fail;
	}
	probe = need_str(&v, b->root, "probe", 64, 1);
	if (!probe)
		goto fail;
	if (strcmp(probe, probe_id) != 0) {
		reject(out, 400, "probe: '%s' does not match X-Qrwatch-Probe '%s'", probe,
		       probe_id);
		goto fail;
	}
	b->epoch = need_str(&v, b->root, "epoch", 64, 0);
	if (out->status)
		goto fail;
	if (!b->epoch) {
		b->epoch = "";	/* a probe from before epochs */
	} else if (!valid_epoch(b->epoch)) {
		reject(out, 422, "epoch: '%s' is not %d lower-case hex digits", b->epoch,
		       INGEST_EPOCH_LEN);
		goto fail;
	}
	if (need_int(&v, b->root, "seq", 1, INGEST_SEQ_MAX, 1, &b->seq) < 0 ||
	    need_int(&v, b->root, "clock_ms", 946684800000LL, 7258118400000LL, 1,
		     &b->clock_ms) < 0 ||
	    need_int(&v, b->root, "since_sync_s", -1, (int64_t)100 * 365 * 86400, 0,
		     &b->since_sync_s) < 0)
		goto fail;
	clock = need_str(&v, b->root, "clock", 40, 0);
	if (out->status)
		goto fail;
	if (clock) {
		int64_t cms;

		/* the same moment as clock_ms, to the second it was written in */
		if (parse_time(clock, &cms) < 0) {
			reject(out, 422, "clock: '%s' is not a UTC time such as "
			       "2026-11-22T11:48:03Z", clock);
			goto fail;
		}
		if (b->clock_ms < cms || b->clock_ms - cms >= 1000) {
			reject(out, 422, "clock: '%s' is not the moment of clock_ms %lld", clock,
			       (long long)b->clock_ms);
			goto fail;
		}
	}
	b->uplink = need_str(&v, b->root, "uplink", 16, 0);
	b->version = need_str(&v, b->root, "version", 32, 0);
	if (out->status)
		goto fail;
	if (b->uplink && !uplink_valid(b->uplink)) {
		reject(out, 422, "uplink: '%s' is not one of: %s", b->uplink, UPLINK_KINDS);
		goto fail;
	}
	spool = need(&v, b->root, "spool", json_type_object, 0);
	if (out->status)
		goto fail;
	if (spool) {
		struct vctx sv = { out, "spool." };

		if (need_int(&sv, spool, "dropped", 0, INGEST_SEQ_MAX, 0, &b->dropped) < 0 ||
		    need_int(&sv, spool, "pending_bytes", 0, INGEST_SEQ_MAX, 0,
			     &b->pending) < 0)
			goto fail;
	}
	results = need(&v, b->root, "results", json_type_array, 1);
	if (!results)
		goto fail;
	b->n = json_object_array_length(results);
	if (b->n > INGEST_MAX_RESULTS) {
		reject(out, 413, "results: %zu results, more than %d per batch", b->n,
		       INGEST_MAX_RESULTS);
		goto fail;
	}
	b->recs = calloc(b->n ? b->n : 1, sizeof(*b->recs));
	if (!b->recs) {
		reject(out, 503, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < b->n; i++)
		if (check_result(x, json_object_array_get_idx(results, i), i,
				 now_ms - b->clock_ms, now_ms, &b->recs[i], out) < 0)
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
	struct ingest_rec *recs;
	int64_t last_seq = -1;
	char prev_epoch[INGEST_EPOCH_LEN + 1] = "";
	int64_t prev_last = 0, epochs = 0;
	char want[65];
	size_t n, applied = 0;
	sqlite3_stmt *st = NULL;
	struct err e;
	int refused = 0, new_epoch;
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
	push_sign(pk->secret, pk->secret_len, body, len, want);
	if (!push_signature_equal(sig_hdr + 7, want)) {
		reject(out, 401, "signature does not match the body");
		return;
	}
	/* 2. parse and check every field before touching anything */
	if (ingest_parse(x, pk->id, body, len, now_ms, &b, out) < 0)
		return;
	recs = b.recs;
	n = b.n;

	/* 3. apply, once, in one transaction; replays are known by (probe, epoch, seq) */
	pthread_mutex_lock(&x->db->lock);
	store_clear_error();
	if (store_prepare(x->db->db, "SELECT last_seq FROM probe_epochs WHERE probe = ? AND "
			  "epoch = ?", &st) == 0) {
		sqlite3_bind_text(st, 1, pk->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, b.epoch, -1, SQLITE_STATIC);
		if (store_step(st) == SQLITE_ROW)
			last_seq = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		st = NULL;
	}
	if (last_seq >= b.seq) {
		out->status = 200;
		snprintf(out->body, sizeof(out->body), "{\"ack\":%lld,\"applied\":0,"
			 "\"duplicate\":true}", (long long)b.seq);
		goto out;
	}
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
		"DO UPDATE SET last_seq = ?3, last_ms = ?4, batches = batches + 1", &st) < 0)
		goto fail;
	sqlite3_bind_text(st, 1, pk->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b.epoch, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, b.seq);
	sqlite3_bind_int64(st, 4, now_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (sql(x->db, "INSERT INTO probes (id, last_seq, last_seen_ms, uplink, version, "
		"clock_offset_ms, since_sync_s, spool_pending, spool_dropped, epoch, "
		"epoch_since_ms, epochs) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?3, 1) ON CONFLICT(id) DO UPDATE SET "
		"last_seq = ?2, last_seen_ms = ?3, uplink = ?4, version = ?5, "
		"clock_offset_ms = ?6, since_sync_s = ?7, spool_pending = ?8, "
		"spool_dropped = ?9, epoch = CASE WHEN ?11 THEN ?10 ELSE epoch END, "
		"epoch_since_ms = CASE WHEN ?11 THEN ?3 ELSE epoch_since_ms END, "
		"epochs = epochs + ?11", &st) < 0)
		goto fail;
	sqlite3_bind_text(st, 1, pk->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, b.seq);
	sqlite3_bind_int64(st, 3, now_ms);
	sqlite3_bind_text(st, 4, b.uplink ? b.uplink : "unknown", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, b.version ? b.version : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now_ms - b.clock_ms);
	sqlite3_bind_int64(st, 7, b.since_sync_s);
	sqlite3_bind_int64(st, 8, b.pending);
	sqlite3_bind_int64(st, 9, b.dropped);
	sqlite3_bind_text(st, 10, b.epoch, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 11, new_epoch);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *js = json_object_to_json_string_ext(recs[i].obj,
								JSON_C_TO_STRING_PLAIN);
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
		sqlite3_bind_text(q, 6, recs[i].uplink ? recs[i].uplink :
				  b.uplink ? b.uplink : "unknown", -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 7, js, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(q) != SQLITE_DONE) {
			sqlite3_finalize(q);
			goto fail;
		}
		sqlite3_finalize(q);
		fresh = sqlite3_changes(x->db->db) > 0;
		applied += (size_t)fresh;
		if (!fresh)
			continue;
		if (x->alerts && alerts_result(x->alerts, pk->id, recs[i].target,
					       recs[i].verdict, recs[i].time_ms, &e) < 0) {
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
		sqlite3_bind_text(q, 5, js, -1, SQLITE_TRANSIENT);
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
		    pk->id, b.epoch[0] ? b.epoch : "none", (long long)b.seq,
		    prev_epoch[0] ? prev_epoch : "none", (long long)prev_last);
	else if (new_epoch)
		LOG(LOG_LVL_INFO, NULL, "probe '%s': first batch %lld of spool epoch %s", pk->id,
		    (long long)b.seq, b.epoch[0] ? b.epoch : "none");
	if (x->alerts && x->alerts->queued != queued)
		outbox_wake(x->outbox);
	write_rrd(x, pk->id, recs, n, &refused);
	out->status = 200;
	snprintf(out->body, sizeof(out->body), "{\"ack\":%lld,\"applied\":%zu,"
		 "\"rrd_refused\":%d}", (long long)b.seq, applied, refused);
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
		json_object *r = json_tokener_parse((const char *)sqlite3_column_text(st, 2));
		struct ingest_reply dummy;
		struct ingest_rec rec;

		memset(&dummy, 0, sizeof(dummy));
		if (r && check_result(x, r, 0, 0, INT64_MAX / 2, &rec, &dummy) == 0) {
			int refused;

			rec.time_ms = sqlite3_column_int64(st, 3);
			rec.sample.when = (time_t)(rec.time_ms / 1000);
			write_rrd(x, (const char *)sqlite3_column_text(st, 0), &rec, 1, &refused);
			n++;
		}
		json_object_put(r);
	}
	if (rc != SQLITE_DONE)
		err_set(e, "database: %s", sqlite3_errmsg(x->db->db));
	sqlite3_finalize(st);
	pthread_mutex_unlock(&x->db->lock);
	return rc == SQLITE_DONE ? n : -1;
}
