/* addrlookup.h - the new address of each stale code, looked up on its portal in the background. */
#ifndef QRW_ADDRLOOKUP_H
#define QRW_ADDRLOOKUP_H

#include <stdint.h>

#include "store.h"
#include "../common/err.h"
#include "../targets/catalog.h"
#include "../targets/probecheck.h"

#define ADDRLOOKUP_EVERY_S 600		/* default of lookup_every */
#define ADDRLOOKUP_FIRST_S 2		/* the first round, after the start */

struct addrlookup;

/* What the last lookup of a target found. */
struct addrlookup_seen {
	struct probecheck_found found;	/* the candidate checked OK, or why there is none */
	int64_t at_ms;			/* when it was looked up */
};

/*
 * Every every_s seconds (the first time soon after the start), a thread
 * of its own looks up the new address of every target of cat that has a
 * lookup flow and whose state in db is STALE, with the checker pc (which
 * must outlive it): the portal's page found by the procedure code, walked
 * as the target's own flow. The answers are kept in memory for the
 * reprint page, never printed or written to the catalog: an official
 * confirms them. Returns 0 (with *out NULL when every_s is 0: off), or -1
 * with e.
 */
int addrlookup_start(const struct catalog *cat, struct store *db, const struct probecheck *pc,
		     long every_s, struct addrlookup **out, struct err *e);

/* Stop the thread (the check under way is cut short) and free. NULL is allowed. */
void addrlookup_stop(struct addrlookup *l);

/* Target id's last lookup into out: 1, or 0 when it has none (yet). l may be NULL. */
int addrlookup_get(struct addrlookup *l, const char *id, struct addrlookup_seen *out);

#endif
