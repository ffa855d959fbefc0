/* fuzz_ingest.c - qrwatchd's batch validator (dashboard/ingest.c) on any body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../dashboard/ingest.h"
#include "../../common/banned.h"

/*
 * The body of a signed batch from the example catalog's probe, checked
 * field by field as ingest does before it touches any store. Whatever the
 * bytes, the answer is a whole batch or a 4xx (never a 2xx or a 5xx) whose
 * body is a JSON object that says what is wrong.
 */
static struct ingest x;
static struct catalog *cat;

#define NOW_MS 1795348083123LL	/* the examples' clock: 2026-11-22 */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct buf errs;

	(void)argc;
	(void)argv;
	buf_init(&errs, 64 * 1024);
	cat = catalog_load(fuzz_source("targets/examples/xa-tan-an.catalog"), &errs);
	if (!cat) {
		fprintf(stderr, "fuzz_ingest: %s", buf_str(&errs));
		abort();
	}
	buf_release(&errs);
	memset(&x, 0, sizeof(x));
	x.cat = cat;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_parsed b;
	struct ingest_reply out;

	memset(&out, 0, sizeof(out));
	if (ingest_parse(&x, "tan-an-thon-dong", (const char *)data, size, NOW_MS, &b,
			 &out) == 0) {
		const struct batch_head *h = &b.batch.head;

		if (out.status || h->seq < 1 || h->seq > BATCH_SEQ_MAX ||
		    b.n > BATCH_MAX_RESULTS || (b.n && !b.recs) || !h->epoch ||
		    (h->epoch[0] && strlen(h->epoch) != BATCH_EPOCH_LEN))
			abort();
		/* every result decoded has a known verdict and steps within bounds */
		for (size_t i = 0; i < b.n; i++) {
			const struct result *r = &b.batch.results[i];

			if ((unsigned)r->verdict >= VERDICT_COUNT || r->nsteps > RESULT_MAX_STEPS ||
			    (r->nsteps && !r->steps) || !r->target || !r->why_vi)
				abort();
		}
		ingest_parsed_release(&b);
		return 0;
	}
	if (out.status < 400 || out.status > 499) {
		/* out of memory is the one 5xx the validator may give */
		if (out.status == 503 && strstr(out.body, "out of memory"))
			return 0;
		abort();
	}
	{
		json_object *o = json_tokener_parse(out.body), *msg;

		if (!o || !json_object_object_get_ex(o, "error", &msg) ||
		    !json_object_get_string_len(msg))
			abort();
		json_object_put(o);
	}
	if (b.recs || b.batch.results)
		abort();	/* a refused batch holds nothing */
	return 0;
}
