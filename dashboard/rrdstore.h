/* rrdstore.h - one RRD file per (probe, target): the time series behind the graphs. */
#ifndef QRW_RRDSTORE_H
#define QRW_RRDSTORE_H

#include <pthread.h>
#include <time.h>

#include "../common/err.h"

/*
 * Data sources (docs/storage.md): avail (0/1), total, dns, connect, tls,
 * ttfb in milliseconds, step (the step reached) and status (the last HTTP
 * status). Step 60 s; archives keep one-minute detail for 7 days, hourly
 * for 90 days and daily for 5 years; the hourly and daily ones as AVERAGE,
 * MIN and MAX (a one-minute row holds a single sample).
 */
#define RRD_STEP 60

struct rrd_sample {
	time_t when;
	int avail;
	double total_ms, dns_ms, connect_ms, tls_ms, ttfb_ms;
	int step;
	int status;
};

struct rrdstore {
	char dir[1024];
	pthread_mutex_t lock;	/* librrd keeps per-call state: one writer at a time */
	unsigned long refused;	/* samples at or before a file's last update */
	unsigned long written;
	char cached[256];	/* rrdcached address, "" when writing directly */
};

/*
 * Files live in DATA_DIR/rrd. With a cached address (such as
 * "unix:/run/rrdcached.sock"), updates go through rrdcached, which batches
 * them for throughput; files are still created directly. Returns 0 or -1.
 */
int rrdstore_init(struct rrdstore *s, const char *data_dir, const char *cached,
		  struct err *e);
void rrdstore_release(struct rrdstore *s);

/* The file for a probe and target (ids are checked by the caller). */
void rrdstore_path(const struct rrdstore *s, const char *probe, const char *target,
		   char *out, size_t cap);

/*
 * Write one sample, creating the file on first use with a heartbeat of
 * three check intervals. Returns 1 when written, 0 when refused because it
 * is not newer than the file's last update (counted), -1 with e on error.
 */
int rrdstore_update(struct rrdstore *s, const char *probe, const char *target,
		    long interval_s, const struct rrd_sample *x, struct err *e);

#endif
