/* graphs.c - the /graph/ route: parse, look up the kept image or have one drawn (see graphs.h). */
#include "graphs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "graphwork.h"
#include "httpcache.h"
#include "../common/log.h"
#include "../common/banned.h"

#define GRAPHS_BUCKETS 1024	/* hash chains over the kept graphs */
#define GRAPH_KEY_MAX 160	/* probe/target/period */

struct graph {
	struct graph *chain;		/* the next in its bucket */
	struct graph *newer, *older;	/* least recently served last */
	char key[GRAPH_KEY_MAX];
	int64_t updated_ms;		/* the file's latest result when drawn */
	int64_t drawn_ms;		/* monotonic */
	int drawing;			/* a page thread is drawing it: wait */
	unsigned char *png;
	size_t len;
	char etag[HTTPCACHE_ETAG_MAX];
};

struct graphs {
	const struct rrdstore *rrd;
	struct graphwork *work;
	pthread_mutex_t lock;
	pthread_cond_t drawn;
	struct graph *bucket[GRAPHS_BUCKETS];
	struct graph *newest, *oldest;
	size_t bytes, max_bytes;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct graphs *graphs_new(const struct rrdstore *rrd, unsigned nworkers, size_t cache_bytes,
			  struct err *e)
{
	struct graphs *g = calloc(1, sizeof(*g));

	if (!g) {
		err_set(e, "out of memory");
		return NULL;
	}
	g->work = graphwork_new(nworkers, e);
	if (!g->work) {
		free(g);
		return NULL;
	}
	g->rrd = rrd;
	g->max_bytes = cache_bytes;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->drawn, NULL);
	return g;
}

void graphs_free(struct graphs *g)
{
	if (!g)
		return;
	graphwork_free(g->work);
	for (struct graph *x = g->newest, *next; x; x = next) {
		next = x->older;
		free(x->png);
		free(x);
	}
	pthread_cond_destroy(&g->drawn);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

static struct graph **slot(struct graphs *g, const char *key)
{
	uint64_t h = httpcache_hash(HTTPCACHE_HASH_INIT, key, strlen(key));
	struct graph **p = &g->bucket[h % GRAPHS_BUCKETS];

	while (*p && strcmp((*p)->key, key))
		p = &(*p)->chain;
	return p;
}

static void lru_unlink(struct graphs *g, struct graph *x)
{
	if (x->newer)
		x->newer->older = x->older;
	else
		g->newest = x->older;
	if (x->older)
		x->older->newer = x->newer;
	else
		g->oldest = x->newer;
	x->newer = x->older = NULL;
}

static void lru_front(struct graphs *g, struct graph *x)
{
	x->newer = NULL;
	x->older = g->newest;
	if (g->newest)
		g->newest->newer = x;
	g->newest = x;
	if (!g->oldest)
		g->oldest = x;
}

static void drop(struct graphs *g, struct graph *x)
{
	struct graph **p = slot(g, x->key);

	*p = x->chain;
	lru_unlink(g, x);
	g->bytes -= x->len;
	free(x->png);
	free(x);
}

/* The least recently served go until the images fit (never one being drawn). */
static void evict(struct graphs *g)
{
	struct graph *x = g->oldest;

	while (g->bytes > g->max_bytes && x) {
		struct graph *newer = x->newer;

		if (!x->drawing)
			drop(g, x);
		x = newer;
	}
}

static void serve(const struct graph *x, const struct dash_req *q, struct reply *r)
{
	snprintf(r->etag, sizeof(r->etag), "%s", x->etag);
	if (httpcache_match(q->if_none_match, x->etag)) {
		r->status = 304;
		return;
	}
	r->type = "image/png";
	buf_add(&r->body, x->png, x->len);
}

static void not_found(struct reply *r)
{
	r->status = 404;
	r->type = "text/plain";
	buf_adds(&r->body, "no such graph\n");
}

static int valid_part(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-' || s[i] == '_' || (s[i] == '.' && i > 0)))
			return 0;
	return 1;
}

/* Draw file's graph from start into png. 0, or -1 with e. */
static int draw(struct graphs *g, const char *file, const char *start, struct buf *png,
		struct err *e)
{
	char defs[3][1600];
	const char *argv[GRAPHWORK_ARGS_MAX];
	int argc = 0;

	snprintf(defs[0], sizeof(defs[0]), "DEF:total=%s:total:AVERAGE", file);
	snprintf(defs[1], sizeof(defs[1]), "DEF:ttfb=%s:ttfb:AVERAGE", file);
	snprintf(defs[2], sizeof(defs[2]), "DEF:conn=%s:connect:AVERAGE", file);
	argv[argc++] = "graph";
	argv[argc++] = "-";
	argv[argc++] = "--imgformat=PNG";
	argv[argc++] = "--start";
	argv[argc++] = start;
	argv[argc++] = "--vertical-label=ms";
	argv[argc++] = "--width=480";
	argv[argc++] = "--height=140";
	/*
	 * Lines without anti-aliasing: at one pixel wide they look the same on
	 * a phone, and a graph takes a third less CPU to draw (6 ms instead of
	 * 9 here) and a third fewer bytes to send (12 KB instead of 17).
	 */
	argv[argc++] = "--graph-render-mode=mono";
	argv[argc++] = defs[0];
	argv[argc++] = defs[1];
	argv[argc++] = defs[2];
	argv[argc++] = "LINE1:total#0b4f8a:total";
	argv[argc++] = "LINE1:ttfb#ffb300:first byte";
	argv[argc++] = "LINE1:conn#42a5f5:connect";
	return graphwork_draw(g->work, argc, argv, png, e);
}

void graphs_get(struct graphs *g, struct store_reader *rd, const struct dash_req *q,
		struct reply *r)
{
	char probe[80], target[80], period[16], file[1400], key[GRAPH_KEY_MAX];
	const char *start;
	struct graph *x;
	struct buf png;
	struct err e;
	int64_t updated;
	unsigned char *data = NULL;
	size_t len = 0;
	uint64_t h = 0;
	int ok;

	if (sscanf(q->path, "/graph/%64[^/]/%64[^/]/%15[a-z].png", probe, target, period) != 3 ||
	    !valid_part(probe, strlen(probe)) || !valid_part(target, strlen(target))) {
		not_found(r);
		return;
	}
	start = !strcmp(period, "day") ? "-1d" : !strcmp(period, "week") ? "-1w" :
		!strcmp(period, "month") ? "-1m" : !strcmp(period, "year") ? "-1y" : NULL;
	rrdstore_path(g->rrd, probe, target, file, sizeof(file));
	if (!start || access(file, R_OK) != 0) {
		not_found(r);
		return;
	}
	if (store_latest_time(rd, probe, target, &updated) < 0)
		return;		/* the page answers 500 */
	snprintf(key, sizeof(key), "%s/%s/%s", probe, target, period);
	pthread_mutex_lock(&g->lock);
	for (;;) {
		struct graph **p = slot(g, key);

		x = *p;
		if (!x) {
			x = calloc(1, sizeof(*x));
			if (!x) {
				pthread_mutex_unlock(&g->lock);
				r->status = 503;
				r->type = "text/plain";
				buf_adds(&r->body, "out of memory\n");
				return;
			}
			snprintf(x->key, sizeof(x->key), "%s", key);
			*p = x;
			lru_front(g, x);
			break;
		}
		if (x->drawing && x->png &&
		    mono_ms() - x->drawn_ms < 2 * GRAPHS_MAX_AGE_S * 1000) {
			/* drawn again after a new result: the one before meanwhile */
			lru_unlink(g, x);
			lru_front(g, x);
			serve(x, q, r);
			pthread_mutex_unlock(&g->lock);
			return;
		}
		if (x->drawing) {
			pthread_cond_wait(&g->drawn, &g->lock);
			continue;
		}
		if (x->png && x->updated_ms == updated &&
		    mono_ms() - x->drawn_ms < GRAPHS_MAX_AGE_S * 1000) {
			lru_unlink(g, x);
			lru_front(g, x);
			serve(x, q, r);
			pthread_mutex_unlock(&g->lock);
			return;
		}
		break;
	}
	x->drawing = 1;
	pthread_mutex_unlock(&g->lock);

	/*
	 * rrdcached writes out what it holds for the file, which the worker
	 * then reads itself. If it cannot, the graph shows what is on disk and
	 * is not kept as current.
	 */
	if (rrdstore_flush(g->rrd, probe, target, &e) < 0) {
		LOG(LOG_LVL_WARN, "graph-flush", "graph '%s': %s; drawn from what the file holds",
		    key, e.msg);
		updated = INT64_MIN;
	}
	buf_init(&png, GRAPHWORK_PNG_MAX);
	ok = draw(g, file, start, &png, &e) == 0;
	if (ok && !png.len)
		ok = !err_set(&e, "rrd_graph drew nothing");
	if (ok) {
		h = httpcache_hash(HTTPCACHE_HASH_INIT, png.data, png.len);
		h = httpcache_hash(h, &updated, sizeof(updated));
		data = (unsigned char *)buf_detach(&png, &len);
		ok = data != NULL;
	} else {
		LOG(LOG_LVL_WARN, "graph", "graph '%s' failed: %s", key, e.msg);
	}
	pthread_mutex_lock(&g->lock);
	x->drawing = 0;
	if (ok) {
		g->bytes -= x->len;
		free(x->png);
		x->png = data;
		x->len = len;
		g->bytes += len;
		x->updated_ms = updated;
		x->drawn_ms = mono_ms();
		httpcache_etag(x->etag, 'g', h, NULL);
		serve(x, q, r);
		evict(g);
	} else {
		drop(g, x);
	}
	pthread_cond_broadcast(&g->drawn);
	pthread_mutex_unlock(&g->lock);
	buf_release(&png);
	if (!ok) {
		r->status = 500;
		r->type = "text/plain";
		buf_adds(&r->body, "graph failed\n");
	}
}
