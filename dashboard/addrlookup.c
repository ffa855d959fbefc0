/* addrlookup.c - the new address of each stale code, in the background (see addrlookup.h). */
#include "addrlookup.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/log.h"
#include "../common/banned.h"

struct addrlookup {
	const struct catalog *cat;
	struct store *db;
	struct probecheck pc;
	int running;		/* the checker's pid (probecheck.h) */
	long every_s;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stopping;
	struct addrlookup_seen *seen;	/* parallel to cat->targets */
	char *tried;			/* 1: seen[i] holds a lookup */
};

struct stale_fill {
	const struct catalog *cat;
	char *stale;			/* parallel to cat->targets */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int mark_stale(void *ctx, const struct store_state *st)
{
	struct stale_fill *f = ctx;
	const struct target *t = catalog_target(f->cat, st->target);

	if (t && !strcmp(st->verdict, "STALE"))
		f->stale[t - f->cat->targets] = 1;
	return 0;
}

/* One round: each stale target with a lookup flow, looked up; the others forgotten. */
static void round_once(struct addrlookup *l)
{
	struct stale_fill f = { l->cat, calloc(l->cat->ntargets + 1, 1) };
	struct store_reader *rd;
	struct err e;

	snprintf(e.msg, sizeof(e.msg), "the database could not be read");
	if (!f.stale)
		return;
	rd = store_reader_get(l->db, &e);
	if (!rd || store_states(rd, mark_stale, &f) < 0 || store_reader_failed(rd, &e)) {
		LOG(LOG_LVL_WARN, "addrlookup", "new addresses not looked up: %s", e.msg);
		if (rd)
			store_reader_put(l->db, rd);
		free(f.stale);
		return;
	}
	store_reader_put(l->db, rd);
	for (size_t i = 0; i < l->cat->ntargets; i++) {
		const struct target *t = &l->cat->targets[i];
		struct addrlookup_seen s;
		int stop;

		pthread_mutex_lock(&l->lock);
		stop = l->stopping;
		if (!f.stale[i])
			l->tried[i] = 0;	/* not stale (any more): nothing to offer */
		pthread_mutex_unlock(&l->lock);
		if (stop)
			break;
		if (!f.stale[i] || !t->lookup)
			continue;
		memset(&s, 0, sizeof(s));
		if (probecheck_lookup(&l->pc, t, &s.found) == 0)
			LOG(LOG_LVL_INFO, NULL, "target '%s': a new address found on its portal and "
			    "checked OK: %s (to be confirmed)", t->id, s.found.candidate);
		else
			LOG(LOG_LVL_INFO, NULL, "target '%s': no new address: %s", t->id,
			    s.found.why_en);
		s.at_ms = now_ms();
		pthread_mutex_lock(&l->lock);
		l->seen[i] = s;
		l->tried[i] = 1;
		pthread_mutex_unlock(&l->lock);
	}
	free(f.stale);
}

static void *run(void *arg)
{
	struct addrlookup *l = arg;
	long wait_s = ADDRLOOKUP_FIRST_S;

	pthread_mutex_lock(&l->lock);
	while (!l->stopping) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += wait_s;
		while (!l->stopping &&
		       pthread_cond_timedwait(&l->wake, &l->lock, &until) != ETIMEDOUT)
			;
		if (l->stopping)
			break;
		pthread_mutex_unlock(&l->lock);
		round_once(l);
		pthread_mutex_lock(&l->lock);
		wait_s = l->every_s;
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

int addrlookup_start(const struct catalog *cat, struct store *db, const struct probecheck *pc,
		     long every_s, struct addrlookup **out, struct err *e)
{
	struct addrlookup *l;

	*out = NULL;
	if (every_s <= 0)
		return 0;
	l = calloc(1, sizeof(*l));
	if (!l || !(l->seen = calloc(cat->ntargets + 1, sizeof(*l->seen))) ||
	    !(l->tried = calloc(cat->ntargets + 1, 1))) {
		if (l)
			free(l->seen);
		free(l);
		return err_set(e, "out of memory for the new addresses of %zu targets",
			       cat->ntargets);
	}
	l->cat = cat;
	l->db = db;
	l->pc = *pc;
	l->pc.running = &l->running;
	l->every_s = every_s;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->wake, NULL);
	if (pthread_create(&l->thread, NULL, run, l) != 0) {
		pthread_cond_destroy(&l->wake);
		pthread_mutex_destroy(&l->lock);
		free(l->tried);
		free(l->seen);
		free(l);
		return err_set(e, "cannot start the new-address lookup: pthread_create failed");
	}
	*out = l;
	return 0;
}

void addrlookup_stop(struct addrlookup *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->stopping = 1;
	pthread_cond_signal(&l->wake);
	pthread_mutex_unlock(&l->lock);
	probecheck_cancel(&l->pc);	/* no waiting a minute for a slow portal */
	pthread_join(l->thread, NULL);
	pthread_cond_destroy(&l->wake);
	pthread_mutex_destroy(&l->lock);
	free(l->tried);
	free(l->seen);
	free(l);
}

int addrlookup_get(struct addrlookup *l, const char *id, struct addrlookup_seen *out)
{
	const struct target *t;
	int got = 0;

	if (!l || !(t = catalog_target(l->cat, id)))
		return 0;
	pthread_mutex_lock(&l->lock);
	if (l->tried[t - l->cat->targets]) {
		*out = l->seen[t - l->cat->targets];
		got = 1;
	}
	pthread_mutex_unlock(&l->lock);
	return got;
}
