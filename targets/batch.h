/* batch.h - a probe's signed batch of results on the wire: signing, the probe's encoder, the server's decoder. */
#ifndef QRW_BATCH_H
#define QRW_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "result.h"
#include "../common/arena.h"
#include "../common/buf.h"
#include "../common/err.h"

#define BATCH_SECRET_MAX   128
#define BATCH_MAX_RESULTS  1000			/* a probe sends at most 200 */
#define BATCH_SEQ_MAX      9007199254740991LL	/* 2^53 - 1: exact in every JSON reader */
#define BATCH_EPOCH_LEN    16			/* hex digits of a spool's identity */

/* HMAC-SHA256 of body with key, as 64 lower-case hex digits plus NUL. */
void batch_sign(const unsigned char *key, size_t keylen, const void *body, size_t n,
		char hex[65]);

/*
 * The signature of a board snapshot a probe hands to the server to read
 * (docs/protocol.md): HMAC-SHA256 of "PROBE\nTIME-MS\nTARGET\nSHA256-HEX"
 * with key, where the last is the hash of the image's bytes.
 */
void batch_sign_snapshot(const unsigned char *key, size_t keylen, const char *probe,
			 long long time_ms, const char *target, const void *img, size_t n,
			 char hex[65]);

/* Compare two signatures in constant time (lengths first). */
int batch_signature_equal(const char *a, const char *b);

/* What a batch says besides its results (docs/protocol.md). */
struct batch_head {
	const char *probe;
	const char *epoch;		/* "" for a probe from before epochs */
	int64_t seq;
	int64_t clock_ms;		/* the probe's clock when it sent the batch */
	int64_t since_sync_s;		/* -1 when unknown */
	const char *uplink, *version;	/* uplink NULL when not given */
	int64_t dropped, pending_bytes;	/* the probe's spool */
};

/*
 * The probe's side: a batch body from its head and results that are
 * already JSON (as the spool keeps them), spliced in as they are. Returns 0
 * or -1 when out overflows.
 */
int batch_body(const struct batch_head *h, const struct buf *results, size_t n,
	       struct buf *out);

/* A decoded batch: its head, and its results, every string in arena. */
struct batch {
	struct batch_head head;
	struct result *results;		/* n of them, in the order sent */
	size_t n;
	struct arena arena;
};

/*
 * The server's side: decode len bytes of body, sent by probe_id, checking
 * every field (strict JSON through common/strictjson, numbers in range and
 * never saturated, real dates, clock the moment of clock_ms, a known
 * uplink) and every result (result_from_json). Nothing here knows the
 * catalog or the server's clock: the caller judges targets and times.
 * Returns 0, or the HTTP status that fits the refusal (400, 413, 422) with
 * e naming the field. Release b with batch_release(), also after a refusal.
 */
int batch_decode(const char *body, size_t len, const char *probe_id, struct batch *b,
		 struct err *e);
void batch_release(struct batch *b);

#endif
