/* pages.h - the dashboard: HTML pages, graphs, posters, the JSON API, CSV and /metrics (metrics.h). */
#ifndef QRW_PAGES_H
#define QRW_PAGES_H

#include <pthread.h>

#include "rrdstore.h"
#include "store.h"
#include "../alerts/outbox.h"
#include "../common/buf.h"
#include "../targets/catalog.h"

struct metrics;
struct server;

struct dash {
	struct store *db;
	const struct catalog *cat;
	struct rrdstore *rrd;
	pthread_mutex_t graph_lock;	/* rrd_graph is not thread-safe */
	struct outbox *outbox;		/* delivery counters for /metrics, or NULL */
	struct metrics *metrics;	/* /metrics' labels, made from the catalog at start */
	struct server *srv;		/* set by server_start(): its counters for /metrics */
};

/* What a page handler produces. */
struct reply {
	int status;
	const char *type;	/* Content-Type */
	struct buf body;
};

/*
 * Serve a GET for path (without the query) into r; english picks the
 * language. Returns 1 when the path is one of the dashboard's, 0 if not.
 */
int dash_get(struct dash *d, const char *path, int english, struct reply *r);

#endif
