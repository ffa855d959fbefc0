/* ingest_load.c - load for the ingest benchmark: P probes each sending B signed batches of R results. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <signal.h>

#include <curl/curl.h>

#include "../common/buf.h"
#include "../targets/batch.h"
#include "../common/banned.h"

/*
 * Usage: ingest_load URL SECRET PROBES BATCHES RESULTS TARGETS PHASE [RATE]
 * PHASE 0 and then 1: the second run's batches and times follow the first's.
 * Probe p is "bench-p"; each sends its batches one after another (a probe
 * never has two batches in flight), all probes at once, about TARGETS
 * targets of its own: probe p (from 0) reports on t[p*TARGETS] onwards. Result times go up
 * by a second per result of a probe, so every RRD update is newer than the
 * last. Prints: results acknowledged, seconds, results per second.
 *
 * With RATE (results per second, all probes together; 0 or none: as fast
 * as they are answered) each probe sends a batch every
 * PROBES * RESULTS / RATE seconds, the probes evenly apart, and results
 * are stamped with the wall clock (a millisecond apart within a batch), so
 * that a run can go on beside other measurements; later phases number
 * their batches after the earlier ones (PHASE 2 after 0 and 1 when BATCHES
 * is at least theirs). SIGTERM or SIGINT ends a run early: it stops
 * sending, waits for the batches in flight and prints what it has.
 */

struct probe {
	char id[32];
	int next;		/* next batch number, from 1 */
	int busy;		/* a batch in flight */
	double due;		/* with a rate: when the next batch goes (monotonic s) */
	CURL *h;
	struct curl_slist *hdr;
	struct buf body, resp;
	long acked;
};

static const char *secret;
static int nbatches, nresults, ntargets;
static time_t base;
static int first_seq;
static double rate;		/* results per second, 0: no pacing */
static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t keep(char *p, size_t size, size_t n, void *ud)
{
	return buf_add(ud, p, size * n) < 0 ? 0 : size * n;
}

static void build(struct probe *p, int pi)
{
	char sig[65], h[200];
	long k0 = (long)(p->next - first_seq) * nresults;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	buf_reset(&p->body);
	buf_addf(&p->body, "{\"probe\":\"%s\",\"seq\":%d,\"clock_ms\":%lld,"
		 "\"since_sync_s\":0,\"uplink\":\"4g\",\"version\":\"bench\",\"spool\":"
		 "{\"dropped\":0,\"pending_bytes\":0},\"results\":[", p->id, p->next,
		 (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	for (int i = 0; i < nresults; i++) {
		long k = k0 + i;
		time_t t = base + k;
		int ms = pi % 1000;
		struct tm tm;
		char ts[40];

		if (rate > 0) {
			/* paced: the wall clock, a millisecond apart */
			long long at = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000 -
				       nresults + i;

			t = (time_t)(at / 1000);
			ms = (int)(at % 1000);
		}
		gmtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		buf_addf(&p->body, "%s{\"target\":\"t%05ld\",\"time\":\"%s.%03dZ\","
			 "\"verdict\":\"%s\",\"why_vi\":\"\",\"why_en\":\"\",\"payload\":\"\","
			 "\"failed_step\":0,\"total_us\":%ld,\"uplink\":\"4g\",\"steps\":[{"
			 "\"name\":\"Trang\",\"method\":\"GET\",\"url\":\"https://x/\","
			 "\"status\":200,\"dns_us\":3000,\"connect_us\":40000,\"tls_us\":60000,"
			 "\"ttfb_us\":120000,\"transfer_us\":20000,\"total_us\":243000,"
			 "\"bytes\":18000}]}", i ? "," : "", pi * ntargets + (k * 7) % ntargets, ts, ms,
			 k % 17 ? "OK" : "SLOW", 243000 + k % 1000);
	}
	buf_adds(&p->body, "]}");
	batch_sign((const unsigned char *)secret, strlen(secret), p->body.data, p->body.len, sig);
	curl_slist_free_all(p->hdr);
	p->hdr = curl_slist_append(NULL, "Content-Type: application/json");
	snprintf(h, sizeof(h), "X-Qrwatch-Probe: %s", p->id);
	p->hdr = curl_slist_append(p->hdr, h);
	snprintf(h, sizeof(h), "X-Qrwatch-Signature: sha256=%s", sig);
	p->hdr = curl_slist_append(p->hdr, h);
	curl_easy_setopt(p->h, CURLOPT_HTTPHEADER, p->hdr);
	curl_easy_setopt(p->h, CURLOPT_POSTFIELDS, p->body.data);
	curl_easy_setopt(p->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->body.len);
	buf_reset(&p->resp);
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct probe *ps;
	int np, running = 0, still;
	long total = 0;
	CURLM *m;

	if (argc != 8 && argc != 9) {
		fprintf(stderr, "usage: ingest_load URL SECRET PROBES BATCHES RESULTS TARGETS "
			"PHASE [RATE]\n");
		return 2;
	}
	rate = argc == 9 ? strtod(argv[8], NULL) : 0;
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	secret = argv[2];
	np = (int)strtol(argv[3], NULL, 10);
	nbatches = (int)strtol(argv[4], NULL, 10);
	nresults = (int)strtol(argv[5], NULL, 10);
	ntargets = (int)strtol(argv[6], NULL, 10);
	{
		long phase = strtol(argv[7], NULL, 10);
		time_t span = (time_t)nbatches * nresults;

		first_seq = (int)(phase * nbatches + 1);
		base = time(NULL) - (2 - phase) * span - 60;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	m = curl_multi_init();
	ps = calloc((size_t)np, sizeof(*ps));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < np; i++) {
		snprintf(ps[i].id, sizeof(ps[i].id), "bench-%d", i + 1);
		ps[i].next = first_seq;
		ps[i].h = curl_easy_init();
		buf_init(&ps[i].body, 64u << 20);
		buf_init(&ps[i].resp, 1 << 16);
		curl_easy_setopt(ps[i].h, CURLOPT_URL, argv[1]);
		curl_easy_setopt(ps[i].h, CURLOPT_WRITEFUNCTION, keep);
		curl_easy_setopt(ps[i].h, CURLOPT_WRITEDATA, &ps[i].resp);
		curl_easy_setopt(ps[i].h, CURLOPT_PRIVATE, &ps[i]);
		ps[i].due = mono_s() + (rate > 0 ? (double)i * nresults / rate : 0);
		running++;
	}
	while (running) {
		CURLMsg *msg;
		double now, wait = 0.1;
		int left;

		curl_multi_perform(m, &still);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct probe *p;
			long status = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&p);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			curl_multi_remove_handle(m, p->h);
			p->busy = 0;
			if (status == 200 && strstr(buf_str(&p->resp), "\"ack\""))
				p->acked += nresults;
			else
				fprintf(stderr, "%s batch %d: HTTP %ld %s\n", p->id, p->next, status,
					buf_str(&p->resp));
			if (++p->next >= first_seq + nbatches)
				running--;
		}
		/* the probes whose next batch is due: at once without a rate */
		now = mono_s();
		for (int i = 0; i < np; i++) {
			struct probe *p = &ps[i];

			if (p->busy || p->next >= first_seq + nbatches)
				continue;
			if (stop) {
				p->next = first_seq + nbatches;	/* no more */
				running--;
				continue;
			}
			if (p->due > now) {
				if (p->due - now < wait)
					wait = p->due - now;
				continue;
			}
			build(p, i);
			curl_multi_add_handle(m, p->h);
			p->busy = 1;
			p->due += rate > 0 ? (double)np * nresults / rate : 0;
		}
		if (running)
			curl_multi_poll(m, NULL, 0, (int)(wait * 1000) + 1, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (int i = 0; i < np; i++) {
		total += ps[i].acked;
		curl_easy_cleanup(ps[i].h);
		curl_slist_free_all(ps[i].hdr);
		buf_release(&ps[i].body);
		buf_release(&ps[i].resp);
	}
	{
		double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

		printf("%ld %.3f %.0f\n", total, s, (double)total / s);
	}
	free(ps);
	curl_multi_cleanup(m);
	curl_global_cleanup();
	return 0;
}
