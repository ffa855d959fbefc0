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
	struct err e;
	sqlite3 *db = o->alerts->db;

	pthread_mutex_lock(o->db_lock);
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		LOG(LOG_LVL_WARN, "alert-tick", "alerts: cannot begin: %s", sqlite3_errmsg(db));
	} else if (alerts_tick(o->alerts, outbox_now_ms(), &e) < 0) {
		LOG(LOG_LVL_ERROR, "alert-tick", "%s", e.msg);
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	} else if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		LOG(LOG_LVL_ERROR, "alert-tick", "alerts: cannot commit: %s", sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
	pthread_mutex_unlock(o->db_lock);
}

struct row {
	struct outbox_msg m;
	int64_t created_ms;
	int attempts;
	char *text[9];		/* owned copies of the strings in m */
};

static char *dup_col(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return strdup(s ? (const char *)s : "");
}

/* Take up to OUTBOX_BATCH due messages. Returns how many. */
static size_t take(struct outbox *o, struct row *rows, int64_t now)
{
	sqlite3_stmt *st = NULL;
	size_t n = 0;

	pthread_mutex_lock(o->db_lock);
	if (sqlite3_prepare_v2(o->alerts->db, "SELECT id, incident, event, recipient, channel, "
			       "address, chat, subject, body, link, dedupe, created_ms, attempts "
			       "FROM outbox WHERE state = 'pending' AND next_ms <= ? ORDER BY "
			       "next_ms, id LIMIT ?", -1, &st, NULL) == SQLITE_OK) {
		int rc = SQLITE_DONE;

		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_int(st, 2, OUTBOX_BATCH);
		while (n < OUTBOX_BATCH && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct row *r = &rows[n++];

			memset(r, 0, sizeof(*r));
			r->m.id = sqlite3_column_int64(st, 0);
			r->m.incident = sqlite3_column_int64(st, 1);
			for (int k = 0; k < 9; k++)
				r->text[k] = dup_col(st, 2 + k);
			r->m.event = r->text[0];
			r->m.recipient = r->text[1];
			r->m.channel = r->text[2];
			r->m.address = r->text[3];
			r->m.chat = r->text[4];
			r->m.subject = r->text[5];
			r->m.body = r->text[6];
			r->m.link = r->text[7];
			r->m.dedupe = r->text[8];
			r->created_ms = sqlite3_column_int64(st, 11);
			r->attempts = sqlite3_column_int(st, 12);
		}
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			LOG(LOG_LVL_ERROR, "outbox-db", "notifications could not all be read: %s",
			    sqlite3_errmsg(o->alerts->db));
	} else {
		LOG(LOG_LVL_ERROR, "outbox-db", "notifications could not be read: %s",
		    sqlite3_errmsg(o->alerts->db));
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(o->db_lock);
	return n;
}

static void settle(struct outbox *o, struct row *r, int ok, const char *why)
{
	const struct alert_cfg *cfg = o->alerts->cfg;
	int64_t now = outbox_now_ms(), delay;
	sqlite3_stmt *st = NULL;
	const char *state = "pending";
	int shift = r->attempts < 20 ? r->attempts : 20;

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
		    "attempts: %s", (long long)r->m.id, r->m.recipient, r->attempts + 1, why);
	} else {
		o->retried++;
		LOG(LOG_LVL_WARN, "alert-retry", "alerts: notification %lld to %s not delivered "
		    "(%s); next try in %lld s", (long long)r->m.id, r->m.recipient, why,
		    (long long)(delay / 1000));
	}
	pthread_mutex_lock(o->db_lock);
	if (sqlite3_prepare_v2(o->alerts->db, "UPDATE outbox SET state = ?, attempts = attempts "
			       "+ 1, last_error = ?, next_ms = ?, sent_ms = ? WHERE id = ?", -1,
			       &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
		if (ok)
			sqlite3_bind_null(st, 2);
		else
			sqlite3_bind_text(st, 2, why, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, now + delay);
		if (ok)
			sqlite3_bind_int64(st, 4, now);
		else
			sqlite3_bind_null(st, 4);
		sqlite3_bind_int64(st, 5, r->m.id);
		if (sqlite3_step(st) != SQLITE_DONE)
			LOG(LOG_LVL_ERROR, "outbox-db", "alerts: cannot mark notification %lld: %s",
			    (long long)r->m.id, sqlite3_errmsg(o->alerts->db));
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(o->db_lock);
}

static void *worker(void *arg)
{
	struct outbox *o = arg;
	struct row rows[OUTBOX_BATCH];
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
				int ok = channel_send(o->alerts->cfg, &rows[i].m, &e) == 0;

				settle(o, &rows[i], ok, ok ? NULL : e.msg);
			}
			for (int k = 0; k < 9; k++)
				free(rows[i].text[k]);
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
