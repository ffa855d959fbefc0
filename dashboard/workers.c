/* workers.c - a few threads with a bounded queue (see workers.h). */
#include "workers.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

struct job {
	work_fn fn;
	void *arg;
};

struct workers {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct job *queue;	/* ring of queue_max */
	unsigned queue_max, head, count;
	int stopping, stopped;
	pthread_t *threads;
	unsigned nthreads;
	char name[16];		/* pthread names are at most 15 characters */
};

static void *run(void *arg)
{
	struct workers *w = arg;

	pthread_setname_np(pthread_self(), w->name);
	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct job j;

		while (!w->count && !w->stopping)
			pthread_cond_wait(&w->wake, &w->lock);
		if (!w->count)
			break;	/* stopping, and everything queued has run */
		j = w->queue[w->head];
		w->head = (w->head + 1) % w->queue_max;
		w->count--;
		pthread_mutex_unlock(&w->lock);
		j.fn(j.arg);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct workers *workers_new(const char *name, unsigned nthreads, unsigned queue_max,
			    struct err *e)
{
	struct workers *w;

	if (!nthreads || !queue_max) {
		err_set(e, "cannot start the '%s' threads: no threads or no queue", name);
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		err_set(e, "cannot start the '%s' threads: out of memory", name);
		return NULL;
	}
	w->queue = calloc(queue_max, sizeof(*w->queue));
	w->threads = calloc(nthreads, sizeof(*w->threads));
	if (!w->queue || !w->threads) {
		free(w->queue);
		free(w->threads);
		free(w);
		err_set(e, "cannot start the '%s' threads: out of memory", name);
		return NULL;
	}
	w->queue_max = queue_max;
	snprintf(w->name, sizeof(w->name), "%s", name);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	for (; w->nthreads < nthreads; w->nthreads++)
		if (pthread_create(&w->threads[w->nthreads], NULL, run, w) != 0) {
			err_set(e, "cannot start the '%s' threads: pthread_create failed", name);
			workers_free(w);
			return NULL;
		}
	return w;
}

int workers_submit(struct workers *w, work_fn fn, void *arg)
{
	int rc = -1;

	pthread_mutex_lock(&w->lock);
	if (!w->stopping && w->count < w->queue_max) {
		w->queue[(w->head + w->count) % w->queue_max] = (struct job){ fn, arg };
		w->count++;
		pthread_cond_signal(&w->wake);
		rc = 0;
	}
	pthread_mutex_unlock(&w->lock);
	return rc;
}

void workers_stop(struct workers *w)
{
	pthread_mutex_lock(&w->lock);
	if (w->stopped) {
		pthread_mutex_unlock(&w->lock);
		return;
	}
	w->stopping = 1;
	w->stopped = 1;
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	for (unsigned i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
}

void workers_free(struct workers *w)
{
	if (!w)
		return;
	workers_stop(w);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->threads);
	free(w->queue);
	free(w);
}
