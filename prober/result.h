/* result.h - one check of one target: its verdict, its steps and their timings. */
#ifndef QRW_RESULT_H
#define QRW_RESULT_H

#include <stdint.h>
#include <time.h>

#include "../common/buf.h"
#include "../targets/catalog.h"
#include "../targets/verdict.h"

#define RESULT_MAX_STEPS   CATALOG_MAX_STEPS
#define RESULT_MAX_HOPS    10	/* redirects followed per step */
#define RESULT_URL_MAX     1024
#define RESULT_TEXT_MAX    1024

/* One response in a step's redirect chain. */
struct hop {
	int status;
	char url[RESULT_URL_MAX];
};

/* What one HTTP step did, with its phases in microseconds. */
struct step_result {
	char name[128];
	char method[8];
	char url[RESULT_URL_MAX];	/* as requested, after templating */
	char final_url[RESULT_URL_MAX];
	int status;			/* last HTTP status, 0 if none */
	int64_t bytes;			/* body bytes received */
	int redirects;
	struct hop hops[RESULT_MAX_HOPS];	/* responses before the last */
	int nhops;
	int reused;			/* the connection was reused */
	int cold;			/* first request after a long idle */
	int64_t dns_us, connect_us, tls_us, ttfb_us, transfer_us, total_us;
	int ok;				/* passed every assertion */
	char error[RESULT_TEXT_MAX];	/* what went wrong, "" if ok */
};

struct check_result {
	char target[CATALOG_ID_MAX + 1];
	time_t started;			/* wall clock: seconds */
	int started_ms;			/* and milliseconds */
	enum verdict verdict;
	/* plain explanation, Vietnamese and English */
	char why_vi[RESULT_TEXT_MAX], why_en[RESULT_TEXT_MAX];
	char payload[RESULT_TEXT_MAX];	/* decoded text, clipped; "" if none */
	char decode_step[32];		/* cascade step that read the code */
	int failed_step;		/* 1-based, 0 when no step failed */
	char failed_step_name[128];
	int nsteps;
	struct step_result steps[RESULT_MAX_STEPS];
	int64_t total_us;		/* all steps */
	char uplink[16];		/* fibre, 4g, 5g ... */
	char interface[32];
};

/*
 * Append r as one JSON object (docs/protocol.md) to out. Strings are
 * escaped by json-c; returns 0 or -1 when out overflows.
 */
int result_to_json(const struct check_result *r, struct buf *out);

/*
 * Append a readable waterfall: one line per step with its phases drawn to
 * scale, status, bytes and errors, then the verdict and why. colour adds
 * ANSI colours (for terminals only); english picks the explanation.
 */
int result_waterfall(const struct check_result *r, int colour, int english,
		     struct buf *out);

#endif
