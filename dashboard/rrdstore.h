/* rrdstore.h - one RRD file per (probe, target): the time series behind the graphs, written in batches. */
#ifndef QRW_RRDSTORE_H
#define QRW_RRDSTORE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "../common/err.h"

/*
 * Data sources (docs/storage.md): avail (0/1), total, dns, connect, tls,
 * ttfb in milliseconds, step (the step reached) and status (the last HTTP
 * status). A file's step is its target's check interval (30 s to 1 h);
 * archives keep one row per check for 7 days, about hourly rows for 90
 * days and daily rows for 5 years, the last two as AVERAGE, MIN and MAX.
 *
 * Updates go, by default, through an rrdcached that qrwatchd starts
 * itself (Debian's rrdcached), in BATCH exchanges of many updates each;
 * without the rrdcached program, or with rrdcached = off, through librrd
 * directly. A file is created in the background the first time a
 * (probe, target) is written: updates for it wait in SQLite meanwhile,
 * and on_created() is told when it is made; it writes what waited, then
 * rrdstore_ready() opens the file to new updates. A file whose updates
 * could not be written (rrdcached gone, and started again) goes the same
 * way: its updates are written again from SQLite. Nothing is lost on the way:
 * rrdstore_checkpoint() makes what was written durable (rrdcached's FLUSH
 * of each file, then a sync of the filesystem) and only then reports the
 * newest time of each file, which the caller keeps as the file's
 * high-water mark; after a crash, the results above each mark are written
 * again, and a file refuses what it already holds.
 */
#define RRD_STEP_MIN     30
#define RRD_STEP_MAX     3600
#define RRD_DETAIL_S     (7 * 86400)	/* one row per check for a week */
#define RRD_FILES_MAX    200000		/* (probe, target) files one server keeps track of */
#define RRD_BATCH_MAX    4000		/* updates per BATCH exchange */

struct rrd_sample {
	time_t when;
	int avail;
	double total_ms, dns_ms, connect_ms, tls_ms, ttfb_ms;
	int step;
	int status;
};

/* One update: which file, and what goes in. */
struct rrd_write {
	const char *probe, *target;
	long interval_s;		/* the target's, for a file that does not exist yet */
	int64_t time_ms;		/* the result's, for the file's high-water mark */
	struct rrd_sample x;
};

struct rrdstore_counts {
	size_t written;			/* accepted by the file (or rrdcached) */
	size_t refused;			/* not newer than the file's last update */
	size_t deferred;		/* the file is being created: written when it is */
};

/* A file the creator made, for on_created. */
struct rrd_made {
	char probe[65], target[65];
};

#define RRD_CREATE_ROUND 64		/* files made before on_created is told of them */

struct rrd_files;

struct rrdstore {
	char dir[1024];
	char cached[1200];		/* rrdcached's address, "" when writing directly */
	int fd;				/* the connection to rrdcached, -1 when none */
	int via_cached;			/* updates go through rrdcached (fd may be down) */
	pid_t child;			/* the rrdcached qrwatchd started, or 0 */
	char data_dir[1024];		/* where our own rrdcached keeps its socket */
	int64_t retry_ms;		/* rrdcached unreachable: not tried again before */
	pthread_mutex_t lock;		/* the connection and the file table */
	struct rrd_files *files;
	unsigned long refused, written;	/* since start, for /metrics */
	/* the creator: a thread making new files, then telling on_created */
	pthread_t thread;
	pthread_cond_t wake;
	int stopping, started;
	void (*on_created)(void *ctx, const struct rrd_made *made, size_t n);
	void *created_ctx;
};

/*
 * Files live in DATA_DIR/rrd (made absolute). cached: "" starts qrwatchd's own rrdcached
 * (socket DATA_DIR/rrdcached.sock), or writes directly when the rrdcached
 * program is not installed (logged); "off" always writes directly; any
 * other value is the address of an rrdcached to use ("unix:/path",
 * "/path" or "host:port"). on_created(ctx, made, n) is called from the
 * creator thread, without any of rrdstore's locks, when files are made
 * (or need their updates again), up to RRD_CREATE_ROUND at a time so
 * that the caller takes its lock once for them; it must end with
 * rrdstore_ready() for each file, and write what waited before that
 * under the same lock as the caller's other writes, so that nothing newer
 * goes first. With no on_created, a file is ready at once. Returns 0 or
 * -1 with e.
 */
int rrdstore_init(struct rrdstore *s, const char *data_dir, const char *cached,
		  void (*on_created)(void *ctx, const struct rrd_made *made, size_t n),
		  void *ctx, struct err *e);

/*
 * Stop the creator: the round it is making is finished and given to
 * on_created, the files still queued wait for the next start (their
 * results are in SQLite). After it nothing writes to the files but the
 * caller, so that a last checkpoint marks all they hold. Again is a no-op.
 */
void rrdstore_stop_creating(struct rrdstore *s);

/* Stop the creator, and the rrdcached qrwatchd started (which writes out what it holds). */
void rrdstore_release(struct rrdstore *s);

/* The file for a probe and target (ids are checked by the caller). */
void rrdstore_path(const struct rrdstore *s, const char *probe, const char *target,
		   char *out, size_t cap);

/*
 * Write n updates, oldest first for each file: to rrdcached in BATCH
 * exchanges, or directly. An update for a file that does not exist yet
 * asks for it to be made and is counted deferred, as is one for a file
 * not ready yet. again: these updates are written again, by on_created
 * or after a crash: they go to a file being made too, and one that
 * refuses them holds them already (not counted as refused since start). Adds to c; returns 0, or -1 with e when rrdcached or a
 * file could not be written: the files concerned then go through
 * on_created again (after a second), and what they missed is written
 * again from above their marks.
 */
int rrdstore_write(struct rrdstore *s, const struct rrd_write *w, size_t n, int again,
		   struct rrdstore_counts *c, struct err *e);

/* The file of (probe, target) takes updates (on_created wrote what waited). */
void rrdstore_ready(struct rrdstore *s, const char *probe, const char *target);

/*
 * Have rrdcached write out what it holds for (probe, target)'s file, on a
 * connection of its own, so that the file can be read directly (a graph).
 * Returns 0 (also when there is no rrdcached, or it holds nothing for the
 * file), or -1 with e: the file then lacks what rrdcached holds.
 */
int rrdstore_flush(const struct rrdstore *s, const char *probe, const char *target, struct err *e);

/*
 * Make what was written durable: FLUSH (rrdcached) each file written since
 * the last checkpoint, sync the filesystem, then call mark(ctx, probe,
 * target, ms) for each with the newest sample time it now holds on disk.
 * Returns how many files, or -1 with e (the marks are then not moved).
 */
int rrdstore_checkpoint(struct rrdstore *s,
			int (*mark)(void *ctx, const char *probe, const char *target,
				    int64_t ms),
			void *ctx, struct err *e);

#endif
