/* fuzz_batch.c - the batch and Result codec (targets/batch.c, result.c, wire.c) on any body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../targets/batch.h"
#include "../../targets/uplink.h"
#include "../../common/banned.h"

/*
 * The body of a batch from probe "tan-an-thon-dong", as the server decodes
 * it before it knows the catalog or the time. Whatever the bytes:
 *   - the answer is 0 or a refusal the probe can act on (400, 413 or 422)
 *     with a message naming the field;
 *   - a decoded batch holds a number from 1 to 2^53 - 1, an epoch of 16
 *     lower-case hex digits or none, a known uplink or none, at most
 *     BATCH_MAX_RESULTS results, each with a known verdict, strings never
 *     NULL and at most RESULT_MAX_STEPS steps of at most RESULT_MAX_HOPS
 *     redirects;
 *   - what was decoded, written again with the probe's encoder
 *     (result_to_json, batch_body), decodes again, and writing that gives
 *     the same bytes: the two sides of the wire cannot drift apart.
 */
#define PROBE "tan-an-thon-dong"

static void check_result(const struct result *r)
{
	if ((unsigned)r->verdict >= VERDICT_COUNT || !r->target || !r->why_vi ||
	    !r->why_en || !r->payload || !r->decode_step || !r->failed_step_name ||
	    !r->uplink || !r->interface || r->nsteps < 0 || r->nsteps > RESULT_MAX_STEPS ||
	    (r->nsteps && !r->steps) || r->failed_step < 0 || r->failed_step > RESULT_MAX_STEPS)
		abort();
	if (r->uplink[0] && !uplink_valid(r->uplink))
		abort();
	for (int i = 0; i < r->nsteps; i++) {
		const struct result_step *s = &r->steps[i];

		if (!s->name || !s->method || !s->url || !s->final_url || !s->error ||
		    s->nhops < 0 || s->nhops > RESULT_MAX_HOPS || (s->nhops && !s->hops))
			abort();
		for (int h = 0; h < s->nhops; h++)
			if (!s->hops[h].url)
				abort();
	}
}

/* The probe's encoding of b into out. */
static void encode(const struct batch *b, struct buf *out)
{
	struct buf *res = calloc(b->n ? b->n : 1, sizeof(*res));

	if (!res)
		abort();
	for (size_t i = 0; i < b->n; i++) {
		buf_init(&res[i], 4 * 1024 * 1024);
		if (result_to_json(&b->results[i], &res[i]) < 0)
			abort();
	}
	if (batch_body(&b->head, res, b->n, out) < 0)
		abort();
	for (size_t i = 0; i < b->n; i++)
		buf_release(&res[i]);
	free(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct batch b, again;
	struct buf first, second;
	struct err e;
	const struct batch_head *h = &b.head;
	int rc;

	e.msg[0] = '\0';
	rc = batch_decode((const char *)data, size, PROBE, &b, &e);
	if (rc) {
		if ((rc != 400 && rc != 413 && rc != 422) || !e.msg[0])
			abort();
		batch_release(&b);
		return 0;
	}
	if (!h->probe || strcmp(h->probe, PROBE) || h->seq < 1 || h->seq > BATCH_SEQ_MAX ||
	    !h->epoch || (h->epoch[0] && (strlen(h->epoch) != BATCH_EPOCH_LEN ||
					  strspn(h->epoch, "0123456789abcdef") != BATCH_EPOCH_LEN)) ||
	    (h->uplink && !uplink_valid(h->uplink)) || h->since_sync_s < -1 ||
	    h->dropped < 0 || h->pending_bytes < 0 || b.n > BATCH_MAX_RESULTS ||
	    (b.n && !b.results))
		abort();
	for (size_t i = 0; i < b.n; i++)
		check_result(&b.results[i]);
	/* the round trip */
	buf_init(&first, 64 * 1024 * 1024);
	buf_init(&second, 64 * 1024 * 1024);
	encode(&b, &first);
	rc = batch_decode(first.data, first.len, PROBE, &again, &e);
	if (rc) {
		fprintf(stderr, "fuzz_batch: re-encoded batch refused (%d): %s\n%s\n", rc, e.msg,
			buf_str(&first));
		abort();
	}
	encode(&again, &second);
	if (first.len != second.len || memcmp(first.data, second.data, first.len)) {
		fprintf(stderr, "fuzz_batch: encodings differ:\n%s\n%s\n", buf_str(&first),
			buf_str(&second));
		abort();
	}
	batch_release(&again);
	batch_release(&b);
	buf_release(&first);
	buf_release(&second);
	return 0;
}
