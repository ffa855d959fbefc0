/* outbox.h - the durable outbox: a worker thread that delivers notifications, with retries and back-off. */
#ifndef QRW_OUTBOX_H
#define QRW_OUTBOX_H

#include <pthread.h>
#include <stdint.h>

#include "engine.h"

#define OUTBOX_TICK_MS 1000	/* how often time-driven checks run */
#define OUTBOX_BATCH   16	/* messages taken from the database at a time */

struct outbox {
	struct alerts *alerts;
	pthread_mutex_t *db_lock;	/* the server's lock on alerts->db */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stop, started, woken;
	unsigned long delivered, retried, given_up;	/* since start */
};

/*
 * Start the worker. It runs alerts_tick() every OUTBOX_TICK_MS and sends
 * every pending notification that is due, oldest first. A message is
 * marked sent only after its channel accepted it; a failure is retried
 * after retry_min_s, doubling up to retry_max_s, and is marked undeliverable
 * once give_up_s have passed since it was written. Nothing is kept in
 * memory that is not in the database, so a kill -9 loses nothing.
 * Returns 0 or -1 with e.
 */
int outbox_start(struct outbox *o, struct alerts *a, pthread_mutex_t *db_lock,
		 struct err *e);

/* Tell the worker that new notifications were committed. */
void outbox_wake(struct outbox *o);

/* Stop the worker after the delivery in progress; safe if never started. */
void outbox_stop(struct outbox *o);

/* Milliseconds since 1970, the clock every table uses. */
int64_t outbox_now_ms(void);

#endif
