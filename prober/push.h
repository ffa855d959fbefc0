/* push.h - sending spooled results to qrwatchd in signed batches (docs/protocol.md). */
#ifndef QRW_PUSH_H
#define QRW_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "spool.h"
#include "../targets/batch.h"
#include "../common/buf.h"
#include "../common/err.h"

#define PUSH_BATCH_RESULTS  200			/* results per batch */
#define PUSH_BATCH_BYTES    (1024u * 1024)	/* body bytes per batch */
#define PUSH_BACKOFF_MIN_MS 5000		/* first retry after a failure */
#define PUSH_BACKOFF_MAX_MS (10 * 60 * 1000)	/* never wait longer */

struct push_cfg {
	const char *url;		/* the server's ingest URL */
	const char *probe_id;
	unsigned char secret[BATCH_SECRET_MAX];
	size_t secret_len;
	const char *uplink;
	const char *version;
	const char *ca_file;
	struct curl_slist *resolve;
	const char *clock_sync_file;	/* touched by the NTP client, or NULL */
	long timeout_ms;
	const char *refused_path;	/* results the server refuses go here, or NULL */
};

struct pusher {
	const struct push_cfg *cfg;
	CURL *h;
	struct curl_slist *headers;
	struct buf body, resp;
	struct spool_batch batch;
	int in_flight;
	int failures;			/* in a row */
	int64_t next_try_us;		/* monotonic; 0 = now */
	uint64_t sent_batches;
	size_t limit;			/* results per batch now; 0 = PUSH_BATCH_RESULTS */
	uint64_t set_aside;		/* results the server refused, kept in refused_path */
	char last_error[ERR_MAX];
};

/*
 * How every transfer to qrwatchd goes (the push, the catalog fetch, a
 * board photo handed over): http or https only, the push's timeouts, its
 * ca_file and resolve, never the checks' trust or DNS.
 */
void push_server_opts(const struct push_cfg *cfg, CURL *h);

void pusher_init(struct pusher *p, const struct push_cfg *cfg);
void pusher_release(struct pusher *p);

/*
 * If nothing is in flight and the back-off allows, take the oldest batch
 * from the spool and add its POST to m. Returns 1 when a push started.
 */
int pusher_start(struct pusher *p, struct spool *s, CURLM *m, int64_t now_us);

/*
 * The push's transfer finished: on an acknowledgement of this batch's
 * number, consume it from the spool and return 1. When the server refuses
 * the batch itself (HTTP 400, 413, 422: retrying the same bytes can never
 * succeed), the next push takes half as many results, so that a bad one is
 * found in a few tries; a single refused result is appended with the
 * server's reason to refused_path (one JSON line each, fsync'ed) and
 * consumed, so that it cannot hold back the rest of the spool. Both return
 * 2: push again now. Any other failure backs off (exponential, with
 * jitter) and returns 0.
 */
int pusher_done(struct pusher *p, struct spool *s, CURLM *m, CURLcode code,
		int64_t now_us);

/* The body of batch b: its head (targets/batch.h) and its results as spooled. */
int push_body(const struct push_cfg *cfg, const struct spool_batch *b,
	      uint64_t dropped, uint64_t pending_bytes, struct buf *out);

#endif
