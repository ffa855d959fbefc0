/* rrdstore.c - RRD files via librrd (see rrdstore.h, docs/storage.md). */
#include "rrdstore.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <rrd.h>
#include <rrd_client.h>

#include "../common/banned.h"

int rrdstore_init(struct rrdstore *s, const char *data_dir, const char *cached,
		  struct err *e)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s/rrd", data_dir);
	if (mkdir(s->dir, 0750) < 0 && errno != EEXIST)
		return err_set(e, "cannot create '%s': %s", s->dir, strerror(errno));
	if (cached && *cached) {
		snprintf(s->cached, sizeof(s->cached), "%s", cached);
		rrd_clear_error();
		if (rrdc_connect(s->cached) != 0)
			return err_set(e, "cannot reach rrdcached at '%s': %s", s->cached,
				       rrd_get_error());
	}
	pthread_mutex_init(&s->lock, NULL);
	return 0;
}

void rrdstore_release(struct rrdstore *s)
{
	pthread_mutex_destroy(&s->lock);
}

void rrdstore_path(const struct rrdstore *s, const char *probe, const char *target,
		   char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s/%s.rrd", s->dir, probe, target);
}

static int create(const char *path, long interval_s, time_t first, struct err *e)
{
	char ds[8][80];
	const char *argv[8 + 7];
	static const char *const names[8] = { "avail", "total", "dns", "connect",
					      "tls", "ttfb", "step", "status" };
	/*
	 * A one-minute row holds one sample, so its MIN and MAX would equal its
	 * AVERAGE: the detail archive is AVERAGE only, which keeps each file
	 * at 1.4 MB instead of 2.7 MB.
	 */
	static const char *const rras[7] = {
		"RRA:AVERAGE:0.5:1:10080",
		"RRA:AVERAGE:0.5:60:2160", "RRA:MIN:0.5:60:2160", "RRA:MAX:0.5:60:2160",
		"RRA:AVERAGE:0.5:1440:1825", "RRA:MIN:0.5:1440:1825", "RRA:MAX:0.5:1440:1825",
	};
	long hb = interval_s * 3 < 180 ? 180 : interval_s * 3;
	int argc = 0;

	for (int i = 0; i < 8; i++) {
		snprintf(ds[i], sizeof(ds[i]), "DS:%s:GAUGE:%ld:0:%s", names[i], hb,
			 i == 0 ? "1" : "U");
		argv[argc++] = ds[i];
	}
	for (int i = 0; i < 7; i++)
		argv[argc++] = rras[i];
	rrd_clear_error();
	if (rrd_create_r(path, RRD_STEP, first - 1, argc, argv) != 0)
		return err_set(e, "cannot create '%s': %s", path, rrd_get_error());
	return 0;
}

int rrdstore_update(struct rrdstore *s, const char *probe, const char *target,
		    long interval_s, const struct rrd_sample *x, struct err *e)
{
	char path[1400], dir[1200], val[256];
	const char *argv[1] = { val };
	struct stat st;
	int rc = -1;

	snprintf(dir, sizeof(dir), "%s/%s", s->dir, probe);
	rrdstore_path(s, probe, target, path, sizeof(path));
	snprintf(val, sizeof(val), "%lld:%d:%.3f:%.3f:%.3f:%.3f:%.3f:%d:%d",
		 (long long)x->when, x->avail, x->total_ms, x->dns_ms, x->connect_ms,
		 x->tls_ms, x->ttfb_ms, x->step, x->status);
	pthread_mutex_lock(&s->lock);
	if (stat(path, &st) != 0) {
		if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
			err_set(e, "cannot create '%s': %s", dir, strerror(errno));
			goto out;
		}
		if (create(path, interval_s, x->when, e) < 0)
			goto out;
	} else if (!s->cached[0] && rrd_last_r(path) >= x->when) {
		/* (through rrdcached the file's last update may be behind: it says) */
		s->refused++;
		rc = 0;
		goto out;
	}
	rrd_clear_error();
	if (s->cached[0] ? rrdc_update(path, 1, argv) != 0 :
	    rrd_update_r(path, NULL, 1, argv) != 0) {
		const char *why = rrd_get_error();

		if (why && (strstr(why, "illegal attempt") || strstr(why, "minimum one second"))) {
			s->refused++;
			rc = 0;
			goto out;
		}
		err_set(e, "cannot update '%s': %s", path, why);
		goto out;
	}
	s->written++;
	rc = 1;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}
