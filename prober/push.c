/* push.c - signed batches from the spool to the server (see push.h, docs/protocol.md). */
#include "push.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../common/banned.h"

/* Seconds since the clock was last synchronised: -1 when unknown. */
static long since_sync(const struct push_cfg *cfg)
{
	struct timex tx;
	struct stat st;

	if (cfg->clock_sync_file && stat(cfg->clock_sync_file, &st) == 0)
		return (long)(time(NULL) - st.st_mtime);
	memset(&tx, 0, sizeof(tx));
	if (adjtimex(&tx) >= 0 && !(tx.status & STA_UNSYNC))
		return 0;	/* the kernel's clock discipline is locked */
	return -1;
}

int push_body(const struct push_cfg *cfg, const struct spool_batch *b,
	      uint64_t dropped, uint64_t pending_bytes, struct buf *out)
{
	struct batch_head h;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	memset(&h, 0, sizeof(h));
	h.probe = cfg->probe_id;
	h.epoch = b->epoch;
	h.seq = (int64_t)b->seq;
	h.clock_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	h.since_sync_s = since_sync(cfg);
	h.uplink = cfg->uplink ? cfg->uplink : "unknown";
	h.version = cfg->version ? cfg->version : "";
	h.dropped = (int64_t)dropped;
	h.pending_bytes = (int64_t)pending_bytes;
	return batch_body(&h, b->recs, b->n, out);
}

void push_server_opts(const struct push_cfg *cfg, CURL *h)
{
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 15000L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (cfg->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
	if (cfg->resolve)
		curl_easy_setopt(h, CURLOPT_RESOLVE, cfg->resolve);
}

void pusher_init(struct pusher *p, const struct push_cfg *cfg)
{
	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	buf_init(&p->body, PUSH_BATCH_BYTES + 64 * 1024);
	buf_init(&p->resp, 64 * 1024);
}

void pusher_release(struct pusher *p)
{
	if (p->h)
		curl_easy_cleanup(p->h);
	curl_slist_free_all(p->headers);
	spool_batch_release(&p->batch);
	buf_release(&p->body);
	buf_release(&p->resp);
}

static size_t on_resp(char *d, size_t size, size_t n, void *ud)
{
	struct pusher *p = ud;

	return buf_add(&p->resp, d, size * n) < 0 ? 0 : size * n;
}

int pusher_start(struct pusher *p, struct spool *s, CURLM *m, int64_t now_us)
{
	struct err e;
	char sig[65], hdr[160];

	if (p->in_flight || now_us < p->next_try_us)
		return 0;
	spool_batch_release(&p->batch);
	if (spool_peek(s, p->limit ? p->limit : PUSH_BATCH_RESULTS, PUSH_BATCH_BYTES,
		       &p->batch, &e) < 0) {
		snprintf(p->last_error, sizeof(p->last_error), "%s", e.msg);
		return 0;
	}
	if (p->batch.n == 0)
		return 0;
	buf_reset(&p->body);
	buf_reset(&p->resp);
	if (push_body(p->cfg, &p->batch, spool_dropped(s), spool_pending_bytes(s),
		      &p->body) < 0) {
		snprintf(p->last_error, sizeof(p->last_error), "batch too large");
		return 0;
	}
	batch_sign(p->cfg->secret, p->cfg->secret_len, p->body.data, p->body.len, sig);
	if (!p->h && !(p->h = curl_easy_init()))
		return 0;
	curl_slist_free_all(p->headers);
	p->headers = curl_slist_append(NULL, "Content-Type: application/json");
	snprintf(hdr, sizeof(hdr), "X-Qrwatch-Probe: %s", p->cfg->probe_id);
	p->headers = curl_slist_append(p->headers, hdr);
	snprintf(hdr, sizeof(hdr), "X-Qrwatch-Signature: sha256=%s", sig);
	p->headers = curl_slist_append(p->headers, hdr);
	curl_easy_setopt(p->h, CURLOPT_URL, p->cfg->url);
	curl_easy_setopt(p->h, CURLOPT_HTTPHEADER, p->headers);
	curl_easy_setopt(p->h, CURLOPT_POSTFIELDS, p->body.data);
	curl_easy_setopt(p->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->body.len);
	curl_easy_setopt(p->h, CURLOPT_WRITEFUNCTION, on_resp);
	curl_easy_setopt(p->h, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(p->h, CURLOPT_PRIVATE, NULL);
	push_server_opts(p->cfg, p->h);
	if (curl_multi_add_handle(m, p->h) != CURLM_OK)
		return 0;
	p->in_flight = 1;
	return 1;
}

static void back_off(struct pusher *p, int64_t now_us)
{
	long ms = PUSH_BACKOFF_MIN_MS;

	for (int i = 1; i < p->failures && ms < PUSH_BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > PUSH_BACKOFF_MAX_MS)
		ms = PUSH_BACKOFF_MAX_MS;
	/* jitter: anywhere in [ms/2, ms], so that a commune's probes spread out */
	ms = ms / 2 + (long)(random() % (ms / 2 + 1));
	p->next_try_us = now_us + (int64_t)ms * 1000;
}

/* Keep a result the server will never take, with its reason, durably. */
static int set_aside(const struct pusher *p, const struct buf *rec, long status,
		     struct err *e)
{
	json_object *o = json_object_new_object();
	json_object *r = json_tokener_parse(buf_str(rec));
	const char *line;
	int fd, rc = -1;

	json_object_object_add(o, "http_status", json_object_new_int64(status));
	json_object_object_add(o, "server_said", json_object_new_string(buf_str(&p->resp)));
	json_object_object_add(o, "result", r ? r : json_object_new_string(buf_str(rec)));
	line = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	fd = open(p->cfg->refused_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0) {
		err_set(e, "cannot open '%s': %s", p->cfg->refused_path, strerror(errno));
	} else {
		size_t len = strlen(line);

		if (write(fd, line, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
		    fsync(fd) < 0)
			err_set(e, "cannot write '%s': %s", p->cfg->refused_path, strerror(errno));
		else
			rc = 0;
		close(fd);
	}
	json_object_put(o);
	return rc;
}

static int refused(struct pusher *p, struct spool *s, long status, int64_t now_us)
{
	struct err e;

	if (p->batch.n > 1) {
		p->limit = p->batch.n / 2;
		snprintf(p->last_error, sizeof(p->last_error), "server refused a batch of %zu "
			 "(HTTP %ld: %.160s); trying %zu", p->batch.n, status, buf_str(&p->resp),
			 p->limit);
		p->next_try_us = now_us;
		return 2;
	}
	if (!p->cfg->refused_path || set_aside(p, &p->batch.recs[0], status, &e) < 0 ||
	    spool_consume(s, &p->batch, &e) < 0) {
		/* nowhere to keep it: keep it in the spool and try again later */
		snprintf(p->last_error, sizeof(p->last_error), "server refused a result "
			 "(HTTP %ld: %.160s) and it could not be set aside: %.200s", status,
			 buf_str(&p->resp), p->cfg->refused_path ? e.msg : "no refused file");
		p->failures++;
		back_off(p, now_us);
		return 0;
	}
	p->set_aside++;
	p->limit = 0;
	p->failures = 0;
	p->next_try_us = now_us;
	snprintf(p->last_error, sizeof(p->last_error), "server refused a result (HTTP %ld: "
		 "%.160s); set aside in '%s'", status, buf_str(&p->resp), p->cfg->refused_path);
	return 2;
}

int pusher_done(struct pusher *p, struct spool *s, CURLM *m, CURLcode code,
		int64_t now_us)
{
	long status = 0;
	struct err e;
	int acked = 0;

	curl_multi_remove_handle(m, p->h);
	p->in_flight = 0;
	curl_easy_getinfo(p->h, CURLINFO_RESPONSE_CODE, &status);
	if (code == CURLE_OK && status == 200) {
		json_object *o = json_tokener_parse(buf_str(&p->resp)), *ack;

		if (o && json_object_object_get_ex(o, "ack", &ack) &&
		    (uint64_t)json_object_get_int64(ack) == p->batch.seq)
			acked = 1;
		json_object_put(o);
	}
	if (!acked && code == CURLE_OK && (status == 400 || status == 413 || status == 422)) {
		int rc = refused(p, s, status, now_us);

		spool_batch_release(&p->batch);
		return rc;
	}
	if (acked) {
		p->limit = 0;
		if (spool_consume(s, &p->batch, &e) < 0) {
			snprintf(p->last_error, sizeof(p->last_error), "%s", e.msg);
			acked = 0;
		} else {
			p->failures = 0;
			p->next_try_us = 0;
			p->sent_batches++;
			p->last_error[0] = '\0';
		}
	} else {
		if (code != CURLE_OK)
			snprintf(p->last_error, sizeof(p->last_error), "%s",
				 curl_easy_strerror(code));
		else
			snprintf(p->last_error, sizeof(p->last_error),
				 "server answered HTTP %ld: %.160s", status,
				 buf_str(&p->resp));
		p->failures++;
		back_off(p, now_us);
	}
	spool_batch_release(&p->batch);
	return acked;
}
