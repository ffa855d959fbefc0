/* curl_floor.c - the floor for the probe benchmark: a bare libcurl multi loop doing the same GETs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <curl/curl.h>
#ifdef FLOOR_PAGE
#include <libxml/HTMLparser.h>
#include <unicase.h>
#endif

#include "../common/banned.h"

/*
 * Usage: curl_floor IN-FLIGHT [HOST:PORT:ADDRESS [fresh [SPREAD-MS]]] < urls.txt
 * GETs every URL (one per line) with at most IN-FLIGHT at once and throws
 * the bodies away: what any prober must do at least. HOST:PORT:ADDRESS
 * pins a name as the probe's resolve does; "fresh" opens a new connection
 * for every GET, as the probe's checks do; SPREAD-MS paces the GETs evenly
 * over that long, as a daemon's checks come, instead of all at once. A
 * line "URL<TAB>MS" starts its GET MS milliseconds after the first
 * (lines in that order): the same moments as the probe's checks started.
 * Built with -DFLOOR_PAGE (and libxml2, libunistring), it also parses one
 * page and folds its text once, as the probe's page check needs: the
 * floor with the libraries that check loads, for the memory comparison.
 * Prints the count done; on stderr, its own peak RSS and PSS and the CPU
 * its loop took ("VmHWM-KB PSS-KB CPU-US"; the CPU without the start,
 * since the probe's is taken from a running daemon), read before exit.
 */

/* Microseconds of CPU (user and system) taken so far. */
static long long cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
	       ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* Microseconds on the monotonic clock. */
static long long mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Our peak resident and proportional set sizes, in KB, from /proc; then the loop's CPU. */
static void print_memory(long long loop_cpu_us)
{
	char line[256];
	long hwm = -1, pss = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6))
			hwm = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	f = fopen("/proc/self/smaps_rollup", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Pss:", 4))
			pss = strtol(line + 4, NULL, 10);
	if (f)
		fclose(f);
	fprintf(stderr, "%ld %ld %lld\n", hwm, pss, loop_cpu_us);
}

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

int main(int argc, char **argv)
{
	char line[2048];
	char **urls = NULL;
	long long *at_us = NULL;	/* each GET's moment, or -1: paced */
	size_t n = 0, cap = 0, next = 0, done = 0;
	long inflight = argc > 1 ? strtol(argv[1], NULL, 10) : 16;
	struct curl_slist *resolve = argc > 2 ? curl_slist_append(NULL, argv[2]) : NULL;
	long fresh = argc > 3 && !strcmp(argv[3], "fresh");
	long long spread_us = argc > 4 ? strtoll(argv[4], NULL, 10) * 1000 : 0;
	long long t0, cpu0;
	int running = 0, still;
	CURLM *m;

	while (fgets(line, sizeof(line), stdin)) {
		char *tab;

		line[strcspn(line, "\r\n")] = '\0';
		if (!*line)
			continue;
		if (n == cap) {
			char **u;
			long long *a;

			cap = cap ? cap * 2 : 256;
			u = realloc(urls, cap * sizeof(*u));
			if (u)
				urls = u;
			a = realloc(at_us, cap * sizeof(*a));
			if (a)
				at_us = a;
			if (!u || !a)
				return 1;
		}
		tab = strchr(line, '\t');
		at_us[n] = tab ? (long long)(strtod(tab + 1, NULL) * 1000) : -1;
		if (tab)
			*tab = '\0';
		urls[n++] = strdup(line);
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
#ifdef FLOOR_PAGE
	{
		static const char page[] = "<html><head><title>Đăng ký khai sinh</title></head>"
					   "<body><p>Thủ tục</p></body></html>";
		htmlDocPtr doc = htmlReadMemory(page, (int)sizeof(page) - 1, NULL, "UTF-8",
						HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
						HTML_PARSE_NONET);
		size_t len = 0;
		uint8_t *folded = u8_casefold((const uint8_t *)page, sizeof(page) - 1, NULL,
					      UNINORM_NFC, NULL, &len);

		if (!doc || !folded)
			return 1;
		free(folded);
		xmlFreeDoc(doc);
	}
#endif
	m = curl_multi_init();
	t0 = mono_us();
	cpu0 = cpu_us();
	while (done < n) {
		CURLMsg *msg;
		int left;
		long wait_ms = 100;

		while (running < inflight && next < n) {
			/* paced: the next GET's turn, evenly over the spread */
			long long due = at_us[next] >= 0 ? t0 + at_us[next] :
					t0 + (long long)(spread_us * (long long)next / (long long)n);

			if (due > mono_us()) {
				wait_ms = (long)((due - mono_us()) / 1000) + 1;
				break;
			}
			CURL *h = curl_easy_init();

			curl_easy_setopt(h, CURLOPT_URL, urls[next++]);
			curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
			curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
			if (resolve)
				curl_easy_setopt(h, CURLOPT_RESOLVE, resolve);
			curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, fresh);
			curl_easy_setopt(h, CURLOPT_FORBID_REUSE, fresh);
			curl_multi_add_handle(m, h);
			running++;
		}
		curl_multi_perform(m, &still);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_multi_remove_handle(m, msg->easy_handle);
			curl_easy_cleanup(msg->easy_handle);
			running--;
			done++;
		}
		curl_multi_poll(m, NULL, 0, wait_ms < 100 ? (int)wait_ms : 100, NULL);
	}
	print_memory(cpu_us() - cpu0);
	curl_multi_cleanup(m);
	curl_slist_free_all(resolve);
	curl_global_cleanup();
	for (size_t i = 0; i < n; i++)
		free(urls[i]);
	free(urls);
	free(at_us);
	printf("%zu\n", done);
	return 0;
}
