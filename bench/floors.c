/* floors.c - the ingest benchmark's floors: the same results through SQLite alone, or rrdcached alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/arena.h"
#include "../common/buf.h"
#include "../common/err.h"
#include "../common/text.h"
#include "../targets/result.h"
#include "../dashboard/rrdstore.h"
#include "../dashboard/store.h"
#include "../common/banned.h"

/*
 * Usage: floors sqlite|rrd DATA_DIR PROBES BATCHES RESULTS TARGETS PHASE
 *
 * The results ingest_load sends with the same arguments (probe p reports
 * on targets p*TARGETS onwards, one second apart), handed straight to
 * qrwatchd's own modules with no HTTP, no JSON and no alerts:
 *
 *   sqlite  store_put_result() in one transaction per PROBES batches (one
 *           batch of each probe, as group commit gathers them), into the
 *           store in DATA_DIR (made if needed), each commit synced;
 *   rrd     rrdstore_write() of the same updates, a batch at a time, to
 *           the RRD files in DATA_DIR/rrd through qrwatchd's own rrdcached,
 *           then one checkpoint (rrdcached's FLUSH of every file, a sync),
 *           timed apart (a fourth figure, in seconds);
 *           the files must exist (from a real run: use a later PHASE).
 *
 * Timed from the moment the store is open.
 *
 * Prints: results, seconds, results per second.
 */

static int np, nbatches, nresults, ntargets;
static time_t base;
static struct timespec t0;	/* once the store is open: the floor times writes only */
static struct timespec t_written;	/* rrd: the updates taken, before the checkpoint */

static double seconds(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Result k of probe p, as ingest_load makes it. */
static void make(struct result *r, struct result_step *st, char *target, size_t cap,
		 int p, long k)
{
	snprintf(target, cap, "t%05ld", p * ntargets + (k * 7) % ntargets);
	memset(r, 0, sizeof(*r));
	memset(st, 0, sizeof(*st));
	st->name = "Trang";
	st->method = "GET";
	st->url = st->final_url = "https://x/";
	st->status = 200;
	st->dns_us = 3000;
	st->connect_us = 40000;
	st->tls_us = 60000;
	st->ttfb_us = 120000;
	st->transfer_us = 20000;
	st->total_us = 243000;
	st->bytes = 18000;
	st->ok = 1;
	st->error = "";
	r->target = target;
	r->time_ms = (int64_t)(base + k) * 1000 + p % 1000;
	r->verdict = k % 17 ? VERDICT_OK : VERDICT_SLOW;
	r->why_vi = r->why_en = r->payload = r->decode_step = r->failed_step_name = "";
	r->interface = "";
	r->total_us = 243000 + k % 1000;
	r->uplink = "4g";
	r->steps = st;
	r->nsteps = 1;
}

static int sqlite_floor(const char *dir, struct err *e)
{
	struct store s;
	struct buf json;
	long k0 = 0;

	memset(&s, 0, sizeof(s));
	if (store_open(&s, dir, e) < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	buf_init(&json, 1 << 20);
	for (int b = 0; b < nbatches; b++, k0 += nresults) {
		if (store_exec(&s, "BEGIN IMMEDIATE", e) < 0)
			goto fail;
		for (int p = 0; p < np; p++) {
			char probe[32];

			snprintf(probe, sizeof(probe), "bench-%d", p + 1);
			for (int i = 0; i < nresults; i++) {
				struct result r;
				struct result_step st;
				struct store_result x;
				char target[16], when[TEXT_UTC_MAX];

				make(&r, &st, target, sizeof(target), p, k0 + i);
				text_utc_format(r.time_ms, 1, when);
				/* the record as ingest writes it, made once: the floor times the store */
				if (!json.len)
					result_to_json(&r, &json);
				x.probe = probe;
				x.r = &r;
				x.probe_time = when;
				x.time_ms = r.time_ms;
				x.uplink = "4g";
				x.json = buf_str(&json);
				if (store_put_result(&s, &x) < 0) {
					store_failed(&s, e);
					goto fail;
				}
			}
		}
		if (store_exec(&s, "COMMIT", e) < 0)
			goto fail;
	}
	buf_release(&json);
	store_close(&s);
	return 0;
fail:
	buf_release(&json);
	store_close(&s);
	return -1;
}

static int no_mark(void *ctx, const char *probe, const char *target, int64_t ms)
{
	(void)ctx;
	(void)probe;
	(void)target;
	(void)ms;
	return 0;
}

static int rrd_floor(const char *dir, struct err *e)
{
	struct rrdstore s;
	struct rrd_write *w = calloc((size_t)nresults, sizeof(*w));
	char (*probes)[32] = calloc((size_t)np, sizeof(*probes));
	char (*targets)[16] = calloc((size_t)nresults, sizeof(*targets));
	struct rrdstore_counts c = { 0, 0, 0 };
	int rc = -1;

	memset(&s, 0, sizeof(s));
	if (!w || !probes || !targets || rrdstore_init(&s, dir, "", NULL, NULL, e) < 0)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int b = 0; b < nbatches; b++)
		for (int p = 0; p < np; p++) {
			snprintf(probes[p], sizeof(probes[p]), "bench-%d", p + 1);
			for (int i = 0; i < nresults; i++) {
				struct result r;
				struct result_step st;

				make(&r, &st, targets[i], sizeof(targets[i]), p,
				     (long)b * nresults + i);
				w[i].probe = probes[p];
				w[i].target = targets[i];
				w[i].interval_s = 300;
				w[i].time_ms = r.time_ms;
				w[i].x.when = (time_t)(r.time_ms / 1000);
				w[i].x.avail = r.verdict == VERDICT_OK;
				w[i].x.total_ms = (double)r.total_us / 1000;
				w[i].x.dns_ms = 3;
				w[i].x.connect_ms = 40;
				w[i].x.tls_ms = 60;
				w[i].x.ttfb_ms = 120;
				w[i].x.status = 200;
				w[i].x.step = 1;
			}
			if (rrdstore_write(&s, w, (size_t)nresults, 0, &c, e) < 0) {
				rrdstore_release(&s);
				goto out;
			}
		}
	{
		/* what rrdcached took, on disk: as ingest's checkpoint would (timed apart) */
		int files;

		clock_gettime(CLOCK_MONOTONIC, &t_written);
		files = rrdstore_checkpoint(&s, no_mark, NULL, e);
		rrdstore_release(&s);
		if (files < 0)
			goto out;
	}
	if (c.written != (size_t)np * nbatches * nresults) {
		err_set(e, "rrdcached took %zu of %ld updates (%zu refused, %zu deferred)",
			c.written, (long)np * nbatches * nresults, c.refused, c.deferred);
		goto out;
	}
	rc = 0;
out:
	free(w);
	free(probes);
	free(targets);
	return rc;
}

int main(int argc, char **argv)
{
	struct timespec t1;
	struct err e = { { 0 } };
	int rc;

	if (argc != 8 || (strcmp(argv[1], "sqlite") && strcmp(argv[1], "rrd"))) {
		fprintf(stderr, "usage: floors sqlite|rrd DATA_DIR PROBES BATCHES RESULTS "
			"TARGETS PHASE\n");
		return 2;
	}
	np = (int)strtol(argv[3], NULL, 10);
	nbatches = (int)strtol(argv[4], NULL, 10);
	nresults = (int)strtol(argv[5], NULL, 10);
	ntargets = (int)strtol(argv[6], NULL, 10);
	{
		long phase = strtol(argv[7], NULL, 10);
		time_t span = (time_t)nbatches * nresults;

		/* later than ingest_load's phases 0 and 1 of the same size */
		base = time(NULL) - (2 - phase) * span - 60;
	}
	rc = !strcmp(argv[1], "sqlite") ? sqlite_floor(argv[2], &e) : rrd_floor(argv[2], &e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc < 0) {
		fprintf(stderr, "floors: %s\n", e.msg);
		return 1;
	}
	if (t_written.tv_sec) {
		/* rrd: the updates alone, then the checkpoint's seconds */
		printf("%ld %.3f %.0f %.3f\n", (long)np * nbatches * nresults,
		       seconds(&t0, &t_written),
		       (double)np * nbatches * nresults / seconds(&t0, &t_written),
		       seconds(&t_written, &t1));
		return 0;
	}
	printf("%ld %.3f %.0f\n", (long)np * nbatches * nresults, seconds(&t0, &t1),
	       (double)np * nbatches * nresults / seconds(&t0, &t1));
	return 0;
}
