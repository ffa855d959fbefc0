/* graphwork.h - rrd_graph in worker processes, so that graphs of different files draw at once. */
#ifndef QRW_GRAPHWORK_H
#define QRW_GRAPHWORK_H

#include "../common/buf.h"
#include "../common/err.h"

/*
 * librrd 1.7.2 (Debian 12) keeps one pango font map for the whole process
 * (rrd_graph_init() in src/rrd_graph.c) and its mutex covers only part of
 * its use: two rrd_graph calls at once in two threads can draw boxes for
 * letters or corrupt memory (fixed upstream in 1.8.0, commit b13bffba
 * "Use a separate pango fontmap per thread"). So graphs are drawn by a few
 * worker processes, each one graph at a time: `qrwatchd --graph-worker`,
 * this server's own executable started again (posix_spawn of
 * /proc/self/exe, no state inherited), when a graph is first asked for.
 * They talk over a socket pair; a worker that dies, does not take a graph
 * at once or takes too long to draw it is killed and another started, and
 * one whose server went away (its socket closed) exits.
 */
#define GRAPHWORK_MAX 16		/* workers at most (graph_workers) */
#define GRAPHWORK_DEFAULT 2		/* one per core of a small server */
#define GRAPHWORK_TIMEOUT_MS 15000	/* one graph */
#define GRAPHWORK_ARGS_MAX 32		/* rrd_graph arguments of one graph */
#define GRAPHWORK_ARG_MAX 4096		/* bytes of one argument */
#define GRAPHWORK_PNG_MAX (4u << 20)	/* a 480x140 latency graph is about 20 KB */
#define GRAPHWORK_RECYCLE 10000		/* graphs before a worker is replaced: librrd 1.7
					   loses a few bytes at each */

struct graphwork;

/* A pool of n workers (1 to GRAPHWORK_MAX), started when needed. NULL with e. */
struct graphwork *graphwork_new(unsigned n, struct err *e);

/* Close the workers' sockets, wait for them to exit, free. NULL is allowed. */
void graphwork_free(struct graphwork *g);

/*
 * Draw one graph: rrd_graph_v(argc, argv) in a free worker (waiting for
 * one), its image appended to png. The worker reads the RRD files itself
 * (no --daemon: librrd 1.7 would fetch every value through rrdcached as
 * text, a parse that costs more than the drawing), so the caller has
 * rrdcached write them out first (rrdstore_flush). Returns 0, or -1 with
 * e: librrd's message, or what happened to the worker.
 */
int graphwork_draw(struct graphwork *g, int argc, const char *const *argv, struct buf *png,
		   struct err *e);

/*
 * The worker (qrwatchd --graph-worker): requests on fd in, answers on out,
 * until EOF; then it exits the process (status 0, 1 after an error).
 */
int graphwork_serve(int in, int out);

#endif
