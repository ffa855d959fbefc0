/* workers.h - a few threads with a bounded queue, for slow request work kept off the HTTP threads. */
#ifndef QRW_WORKERS_H
#define QRW_WORKERS_H

#include "../common/err.h"

/*
 * The HTTP threads of qrwatchd only move bytes and take probes' batches;
 * pages and password checks (PBKDF2) run on pools like this one, so that
 * neither a slow page nor a crowd guessing passwords holds up ingest. A
 * full queue refuses new work at once (the caller answers 503) instead of
 * letting it wait without bound.
 */
struct workers;

typedef void (*work_fn)(void *arg);

/*
 * Start nthreads threads (named "name" for top and gdb) taking jobs from a
 * queue of at most queue_max waiting jobs. Returns NULL with e on failure.
 */
struct workers *workers_new(const char *name, unsigned nthreads, unsigned queue_max,
			    struct err *e);

/*
 * Queue fn(arg) to run on one of the threads. Returns 0, or -1 when the
 * queue is full or the pool is stopping; fn is then never called.
 */
int workers_submit(struct workers *w, work_fn fn, void *arg);

/*
 * Refuse new jobs, run every job already queued, and join the threads.
 * The pool stays valid (submits fail) until workers_free().
 */
void workers_stop(struct workers *w);

/* Stop (if not yet) and free the pool. NULL is allowed. */
void workers_free(struct workers *w);

#endif
