/* prune.h - old rows deleted in the background, a few at a time: verdict changes past changes_keep. */
#ifndef QRW_PRUNE_H
#define QRW_PRUNE_H

#include "store.h"
#include "../common/err.h"

/*
 * verdict_changes grows by a row at every verdict change of every probe
 * and code. A thread of its own deletes those older than changes_keep: at
 * start, then every PRUNE_EVERY_S, PRUNE_BATCH rows per statement under
 * the writer's lock (a few milliseconds, by the time index), with a pause
 * between statements so that batches waiting to be committed go first.
 */
#define PRUNE_EVERY_S 300
#define PRUNE_BATCH 500
#define PRUNE_PAUSE_MS 20
#define PRUNE_CHANGES_KEEP_S (90L * 86400)	/* default of changes_keep: a season */

struct prune;

/*
 * Start deleting db's verdict changes older than keep_s seconds into *out
 * (keep_s 0: keep them all; *out is NULL, which prune_stop() takes too).
 * Returns 0, or -1 with e when the thread cannot start.
 */
int prune_start(struct store *db, long keep_s, struct prune **out, struct err *e);

/* Stop the thread (between two statements) and free. NULL is allowed. */
void prune_stop(struct prune *p);

#endif
