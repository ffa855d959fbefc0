/* prune.h - old rows deleted in the background, a few at a time: verdict changes and results. */
#ifndef QRW_PRUNE_H
#define QRW_PRUNE_H

#include "store.h"
#include "../common/err.h"

/*
 * verdict_changes grows by a row at every verdict change of every probe
 * and code, results by a row at every check. A thread of its own deletes
 * verdict changes older than changes_keep and results older than
 * results_keep: at start, then every PRUNE_EVERY_S, PRUNE_BATCH rows per
 * statement under the writer's lock (a few milliseconds: by the time
 * index for verdict changes, by the order of arrival for results), with
 * a pause between statements so that batches waiting to be committed go
 * first. The RRD files keep their own five years of a code's times.
 */
#define PRUNE_EVERY_S 300
#define PRUNE_BATCH 500
#define PRUNE_PAUSE_MS 20
#define PRUNE_CHANGES_KEEP_S (90L * 86400)	/* default of changes_keep: a season */
#define PRUNE_RESULTS_KEEP_S (90L * 86400)	/* default of results_keep: a season */
#define PRUNE_RESULTS_MIN_S (31L * 86400)	/* the target page's month, and a day */

enum { PRUNE_CHANGES, PRUNE_RESULTS, PRUNE_KINDS };

struct prune;

/*
 * Start deleting db's verdict changes older than changes_keep_s seconds
 * and its results older than results_keep_s into *out (0: keep them all;
 * both 0: *out is NULL, which prune_stop() takes too). Returns 0, or -1
 * with e when the thread cannot start.
 */
int prune_start(struct store *db, long changes_keep_s, long results_keep_s, struct prune **out,
		struct err *e);

/* Stop the thread (between two statements) and free. NULL is allowed. */
void prune_stop(struct prune *p);

#endif
