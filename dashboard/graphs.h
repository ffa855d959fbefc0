/* graphs.h - latency graphs: drawn by worker processes, cached per (file, period, last update), with ETags. */
#ifndef QRW_GRAPHS_H
#define QRW_GRAPHS_H

#include <stddef.h>

#include "pages.h"
#include "rrdstore.h"
#include "store.h"
#include "../common/err.h"

/*
 * GET /graph/PROBE/TARGET/PERIOD.png. A graph is drawn (graphwork.h) the
 * first time it is asked for and kept, named by its file, its period and
 * the time of the file's latest result (from the database, so a new
 * result makes a new graph), for at most GRAPHS_MAX_AGE_S: its time axis
 * ends now. It is served with an ETag; If-None-Match with that tag gets
 * 304. A request for a graph being drawn gets the one drawn before it, if
 * any, else waits for the one drawing.
 * The kept images take at most cache_bytes; the least recently served go
 * first.
 */
#define GRAPHS_CACHE_BYTES (32u << 20)	/* about 1,500 graphs of 20 KB */
#define GRAPHS_MAX_AGE_S 60		/* a day graph's pixel is three minutes */

struct graphs;

/*
 * Graphs of rrd's files drawn by nworkers processes (graph_workers).
 * Returns NULL with e.
 */
struct graphs *graphs_new(const struct rrdstore *rrd, unsigned nworkers, size_t cache_bytes,
			  struct err *e);

/* Stop the workers and free every kept image. NULL is allowed. */
void graphs_free(struct graphs *g);

/* Answer q (a /graph/ path) into r: the PNG, 304, 404 for no such graph, 500. */
void graphs_get(struct graphs *g, struct store_reader *rd, const struct dash_req *q,
		struct reply *r);

#endif
