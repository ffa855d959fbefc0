/* result.h - the Result: one check of one target by one probe, shared by probe and server, with its one codec. */
#ifndef QRW_RESULT_H
#define QRW_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "catalog.h"
#include "verdict.h"
#include "../common/arena.h"
#include "../common/buf.h"
#include "../common/err.h"

#define RESULT_MAX_STEPS   CATALOG_MAX_STEPS
#define RESULT_MAX_HOPS    10		/* redirects recorded per step (the probe follows 10) */
#define RESULT_URL_MAX     1024		/* the probe clips URLs to this */
#define RESULT_TEXT_MAX    1024		/* and texts (explanations, payloads) */
#define RESULT_FIELD_MAX   4096		/* the longest string the decoder takes */
#define RESULT_US_MAX      (86400LL * 1000000)	/* a phase or a check: a day at most */

/* One response before the last in a step's redirect chain. */
struct result_hop {
	int status;
	const char *url;		/* the URL that answered */
	const char *location;		/* where it sent the client */
};

/* What one HTTP step did, with its phases in microseconds. */
struct result_step {
	const char *name, *method;
	const char *url;		/* as requested, after templating */
	const char *final_url;
	int status;			/* last HTTP status, 0 if none */
	int64_t bytes;			/* body bytes received */
	int redirects;
	struct result_hop *hops;	/* nhops of them */
	int nhops;
	int reused;			/* the connection was reused */
	int cold;			/* first request after a long idle */
	int64_t cert_expires;		/* a new TLS connection: its leaf's notAfter (Unix s), else 0 */
	int64_t dns_us, connect_us, tls_us, ttfb_us, transfer_us, total_us;
	int ok;				/* passed every assertion */
	const char *error;		/* what went wrong, "" if ok */
};

/*
 * A result. Its strings and arrays live in an arena that the maker owns
 * (the check on the probe, the batch on the server); a NULL string is
 * written as "", and the decoder never leaves one NULL.
 */
struct result {
	const char *target;		/* the catalog's id; "-" for a bare URL */
	int64_t time_ms;		/* when the check started, the probe's clock */
	enum verdict verdict;
	const char *why_vi, *why_en;	/* the plain explanation */
	const char *payload;		/* decoded text, clipped; "" if none */
	const char *decode_step;	/* cascade step that read the code */
	int failed_step;		/* 1-based, 0 when no step failed */
	const char *failed_step_name;
	int64_t total_us;		/* all steps */
	const char *uplink;		/* fibre, 4g, 5g ... (targets/uplink.h) */
	const char *interface;
	int link_fault;			/* the probe's own link or resolver failed, not the service */
	struct result_step *steps;	/* sized to the flow */
	int nsteps;
};

/* Steps for a flow of n (zeroed, in a); NULL when memory runs out. */
struct result_step *result_steps_new(struct arena *a, int n);

/* A copy of s in a, clipped to max bytes at a UTF-8 boundary with "..."; never NULL. */
const char *result_text(struct arena *a, const char *s, size_t max);

/* The same for a formatted text. */
const char *result_textf(struct arena *a, size_t max, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Add a redirect hop to s (up to RESULT_MAX_HOPS); -1 when full or out of memory. */
int result_add_hop(struct arena *a, struct result_step *s, int status, const char *url,
		   const char *location);

/*
 * Append r as one JSON object (docs/protocol.md) to out. Strings are
 * escaped by json-c; returns 0 or -1 when out overflows.
 */
int result_to_json(const struct result *r, struct buf *out);

/* The same as a new json-c object (the caller puts it), to embed in another answer. */
json_object *result_to_object(const struct result *r);

/*
 * Decode one result from o (a batch's results[i]), checking every field
 * against the same table that writes them: type, range, length, a real
 * date, a known verdict and uplink. Strings and steps go into a. path
 * prefixes the field in errors ("results[3]." gives
 * "results[3].steps[0].dns_us: -5 is out of range (0 to ...)").
 * Returns 0, or the HTTP status that fits (413 for a string too long, 422
 * for anything else) with e.
 */
int result_from_json(json_object *o, struct arena *a, const char *path,
		     struct result *out, struct err *e);

#endif
