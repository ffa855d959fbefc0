/* outbox.c - delivering the outbox: one worker thread, the database as its only memory (see outbox.h). */
#include "outbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "channel.h"
#include "../common/log.h"
#include "../common/banned.h"

int64_t outbox_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Time-driven work (silent probes, reminders, digest) in its own transaction. */
static void tick(struct outbox *o)
{
	struct astore *st = o->alerts->st;
	struct err e;

	pthread_mutex_lock(o->db_lock);
	if (astore_exec(st, "BEGIN IMMEDIATE", &e) < 0) {
		LOG(LOG_LVL_WARN, "alert-tick", "alerts: cannot begin: %s", e.msg);
	} else if (alerts_tick(o->alerts, outbox_now_ms(), &e) < 0) {
		LOG(LOG_LVL_ERROR, "alert-tick", "%s", e.msg);
		astore_exec(st, "ROLLBACK", NULL);
	} else if (astore_exec(st, "COMMIT", &e) < 0) {
		LOG(LOG_LVL_ERROR, "alert-tick", "alerts: cannot commit: %s", e.msg);
		astore_exec(st, "ROLLBACK", NULL);
	}
	pthread_mutex_unlock(o->db_lock);
}

/* Take up to OUTBOX_BATCH due messages. Returns how many. */
static size_t take(struct outbox *o, struct astore_note *rows, int64_t now)
{
	struct err e;
	int n;

	pthread_mutex_lock(o->db_lock);
	n = astore_due(o->alerts->st, now, rows, OUTBOX_BATCH);
	if (astore_failed(o->alerts->st, &e))
		LOG(LOG_LVL_ERROR, "outbox-db", "notifications could not be read: %s", e.msg);
	pthread_mutex_unlock(o->db_lock);
	return n > 0 ? (size_t)n : 0;
}

static void settle(struct outbox *o, const struct astore_note *r, int ok, const char *why)
{
	const struct alert_cfg *cfg = o->alerts->cfg;
	int64_t now = outbox_now_ms(), delay;
	const char *state = "pending";
	int shift = r->attempts < 20 ? r->attempts : 20;
	struct err e;

	delay = (int64_t)cfg->retry_min_s * 1000 << shift;
	if (delay > (int64_t)cfg->retry_max_s * 1000)
		delay = (int64_t)cfg->retry_max_s * 1000;
	if (ok) {
		state = "sent";
		o->delivered++;
	} else if (now - r->created_ms >= (int64_t)cfg->give_up_s * 1000) {
		state = "failed";
		o->given_up++;
		LOG(LOG_LVL_ERROR, NULL, "alerts: gave up on notification %lld to %s after %d "
		    "attempts: %s", (long long)r->id, r->recipient, r->attempts + 1, why);
	} else {
		o->retried++;
		LOG(LOG_LVL_WARN, "alert-retry", "alerts: notification %lld to %s not delivered "
		    "(%s); next try in %lld s", (long long)r->id, r->recipient, why,
		    (long long)(delay / 1000));
	}
	pthread_mutex_lock(o->db_lock);
	if (astore_settle(o->alerts->st, r->id, state, ok ? NULL : why, now + delay,
			  ok ? now : 0) < 0 && astore_failed(o->alerts->st, &e))
		LOG(LOG_LVL_ERROR, "outbox-db", "alerts: cannot mark notification %lld: %s",
		    (long long)r->id, e.msg);
	pthread_mutex_unlock(o->db_lock);
}

/* The message a channel sends, from its row. */
static void as_msg(const struct astore_note *r, struct outbox_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->id = r->id;
	m->incident = r->incident;
	m->event = r->event;
	m->recipient = r->recipient;
	m->channel = r->channel;
	m->address = r->address;
	m->chat = r->chat;
	m->subject = r->subject;
	m->body = r->body;
	m->link = r->link;
	m->dedupe = r->dedupe;
}

static void *worker(void *arg)
{
	struct outbox *o = arg;
	struct astore_note rows[OUTBOX_BATCH];
	int64_t next_tick = 0;

	for (;;) {
		size_t n;
		struct timespec until;
		int64_t now = outbox_now_ms();

		pthread_mutex_lock(&o->lock);
		if (o->stop) {
			pthread_mutex_unlock(&o->lock);
			break;
		}
		o->woken = 0;
		pthread_mutex_unlock(&o->lock);
		if (now >= next_tick) {
			tick(o);
			next_tick = now + OUTBOX_TICK_MS;
		}
		n = take(o, rows, outbox_now_ms());
		for (size_t i = 0; i < n; i++) {
			struct err e;
			int stop;

			pthread_mutex_lock(&o->lock);
			stop = o->stop;
			pthread_mutex_unlock(&o->lock);
			if (!stop) {
				struct outbox_msg m;
				int ok;

				as_msg(&rows[i], &m);
				ok = channel_send(o->alerts->cfg, &m, &e) == 0;
				settle(o, &rows[i], ok, ok ? NULL : e.msg);
			}
			astore_note_release(&rows[i]);
		}
		if (n == OUTBOX_BATCH)
			continue;	/* more may be due */
		pthread_mutex_lock(&o->lock);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long)(next_tick - outbox_now_ms()) * 1000000L;
		if (until.tv_nsec < 0)
			until.tv_nsec = 0;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		while (!o->stop && !o->woken)
			if (pthread_cond_timedwait(&o->wake, &o->lock, &until) == ETIMEDOUT)
				break;
		pthread_mutex_unlock(&o->lock);
	}
	return NULL;
}

int outbox_start(struct outbox *o, struct alerts *a, pthread_mutex_t *db_lock,
		 struct err *e)
{
	memset(o, 0, sizeof(*o));
	o->alerts = a;
	o->db_lock = db_lock;
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->wake, NULL);
	if (pthread_create(&o->thread, NULL, worker, o) != 0) {
		pthread_mutex_destroy(&o->lock);
		pthread_cond_destroy(&o->wake);
		return err_set(e, "cannot start the alert worker: %s", strerror(errno));
	}
	o->started = 1;
	return 0;
}

void outbox_wake(struct outbox *o)
{
	if (!o || !o->started)
		return;
	pthread_mutex_lock(&o->lock);
	o->woken = 1;
	pthread_cond_signal(&o->wake);
	pthread_mutex_unlock(&o->lock);
}

void outbox_stop(struct outbox *o)
{
	if (!o->started)
		return;
	pthread_mutex_lock(&o->lock);
	o->stop = 1;
	pthread_cond_signal(&o->wake);
	pthread_mutex_unlock(&o->lock);
	pthread_join(o->thread, NULL);
	pthread_mutex_destroy(&o->lock);
	pthread_cond_destroy(&o->wake);
	o->started = 0;
}
