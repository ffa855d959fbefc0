/* prune.c - the thread that deletes old verdict changes and results in small statements (see prune.h). */
#include "prune.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "../common/log.h"
#include "../common/banned.h"

/* what is deleted: a table, its retention's key and how */
static const struct kind {
	const char *what, *key;
	int (*del)(struct store *s, int64_t before_ms, int max);
} kinds[PRUNE_KINDS] = {
	{ "verdict changes", "changes_keep", store_prune_changes },
	{ "results", "results_keep", store_prune_results },
};

struct prune {
	struct store *db;
	long keep_s[PRUNE_KINDS];	/* 0: kept for ever */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stopping;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait ms or until stopped (with p->lock held). Returns 1 when stopping. */
static int nap(struct prune *p, long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	while (!p->stopping && pthread_cond_timedwait(&p->wake, &p->lock, &ts) == 0)
		;
	return p->stopping;
}

/* One pass of kind k: every row past its limit, PRUNE_BATCH at a time (with p->lock held). */
static void pass(struct prune *p, int k)
{
	int64_t before = now_ms() - (int64_t)p->keep_s[k] * 1000;
	long total = 0;
	int n;

	do {
		struct err e;

		pthread_mutex_unlock(&p->lock);
		pthread_mutex_lock(&p->db->lock);
		n = kinds[k].del(p->db, before, PRUNE_BATCH);
		/* the writer's error is ours: taken here, so ingest never sees it */
		if (store_failed(p->db, &e))
			LOG(LOG_LVL_WARN, "prune", "deleting old %s: %s", kinds[k].what, e.msg);
		pthread_mutex_unlock(&p->db->lock);
		pthread_mutex_lock(&p->lock);
		if (n > 0)
			total += n;
	} while (n > 0 && !nap(p, PRUNE_PAUSE_MS));
	if (total)
		LOG(LOG_LVL_INFO, NULL, "deleted %ld %s older than %s (%ld days)", total,
		    kinds[k].what, kinds[k].key, p->keep_s[k] / 86400);
}

static void *run(void *arg)
{
	struct prune *p = arg;

	pthread_setname_np(pthread_self(), "qrw-prune");
	pthread_mutex_lock(&p->lock);
	while (!p->stopping) {
		for (int k = 0; k < PRUNE_KINDS && !p->stopping; k++)
			if (p->keep_s[k] > 0)
				pass(p, k);
		nap(p, PRUNE_EVERY_S * 1000L);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int prune_start(struct store *db, long changes_keep_s, long results_keep_s, struct prune **out,
		struct err *e)
{
	struct prune *p;

	*out = NULL;
	if (changes_keep_s <= 0 && results_keep_s <= 0)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return err_set(e, "out of memory");
	p->db = db;
	p->keep_s[PRUNE_CHANGES] = changes_keep_s;
	p->keep_s[PRUNE_RESULTS] = results_keep_s;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	if (pthread_create(&p->thread, NULL, run, p) != 0) {
		pthread_cond_destroy(&p->wake);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return err_set(e, "cannot start the thread that deletes old verdict changes "
			       "and results");
	}
	*out = p;
	return 0;
}

void prune_stop(struct prune *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
