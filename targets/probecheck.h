/* probecheck.h - a target's address checked by qrwatch-probe, run as a program of its own. */
#ifndef QRW_PROBECHECK_H
#define QRW_PROBECHECK_H

#include <stddef.h>

#include "catalog.h"
#include "../common/buf.h"

/*
 * The checker: `qrwatch-probe check`, with the probe's guards (no LAN, no
 * private address unless the target allows it, timeouts), so that the CLI
 * and qrwatchd fetch nothing themselves.
 */
struct probecheck {
	const char *probe;	/* the program, or NULL: qrwatch-probe beside this one */
	const char *catalog;	/* the catalog file that registers the targets */
	const char *resolve;	/* "HOST:PORT:ADDRESS" for the checks, or NULL */
	int *running;		/* the checker's pid while it runs (-1: cancelled), or NULL */
};

/*
 * Stop the checker running with pc, or the next one before it starts
 * (SIGTERM: it gets no result, the check returns -1): for a server that
 * stops, or reloads, without waiting a minute for a slow portal.
 * Needs pc->running.
 */
void probecheck_cancel(const struct probecheck *pc);

/*
 * Check target id: its flow from url (--payload), or its lookup flow when
 * url is NULL (--lookup). With json, its result's JSON is read into json;
 * without, its waterfall goes to this process's stderr for a person to
 * see. Returns 0 when it is OK, 1 when it is not, -1 when it could not run.
 */
int probecheck_run(const struct probecheck *pc, const char *id, const char *url,
		   struct buf *json);

/* A stale code's new address, or why there is none. */
struct probecheck_found {
	char candidate[2048];		/* the address found and checked OK, or "" */
	char why_vi[600], why_en[600];	/* why none is offered, or "" */
};

/*
 * Find target t's candidate address: walk its lookup flow and take the
 * page it ends on (not yet checked as t's own flow). Returns 0 with it in
 * out->candidate, 1 with why there is none, -1 when the checker could not
 * run (why says so).
 */
int probecheck_find(const struct probecheck *pc, const struct target *t,
		    struct probecheck_found *out);

/*
 * t's own flow walked from url, quietly, as a probe would (url must be
 * http(s) under t's official domains): 0 when it is OK, with the last
 * page it reached in out->candidate; 1 with why not; -1 when the checker
 * could not run.
 */
int probecheck_address(const struct probecheck *pc, const struct target *t, const char *url,
		       struct probecheck_found *out);

/*
 * probecheck_find(), then t's own flow walked from the candidate, quietly:
 * 0 when that is OK (the candidate is in out), else as above, with the
 * check's reason (and the candidate cleared).
 */
int probecheck_lookup(const struct probecheck *pc, const struct target *t,
		      struct probecheck_found *out);

#endif
