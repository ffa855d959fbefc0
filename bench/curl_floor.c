/* curl_floor.c - the floor for the probe benchmark: a bare libcurl multi loop doing the same GETs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "../common/banned.h"

/*
 * Usage: curl_floor IN-FLIGHT [HOST:PORT:ADDRESS [fresh]] < urls.txt
 * GETs every URL (one per line) with at most IN-FLIGHT at once and throws
 * the bodies away: what any prober must do at least. HOST:PORT:ADDRESS
 * pins a name as the probe's resolve does; "fresh" opens a new connection
 * for every GET, as the probe's checks do. Prints the count done; on
 * stderr, its own peak RSS and PSS ("VmHWM KB PSS KB"), read before exit.
 */

/* Our peak resident and proportional set sizes, in KB, from /proc. */
static void print_memory(void)
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
	fprintf(stderr, "%ld %ld\n", hwm, pss);
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
	size_t n = 0, cap = 0, next = 0, done = 0;
	long inflight = argc > 1 ? strtol(argv[1], NULL, 10) : 16;
	struct curl_slist *resolve = argc > 2 ? curl_slist_append(NULL, argv[2]) : NULL;
	long fresh = argc > 3 && !strcmp(argv[3], "fresh");
	int running = 0, still;
	CURLM *m;

	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!*line)
			continue;
		if (n == cap) {
			char **u;

			cap = cap ? cap * 2 : 256;
			u = realloc(urls, cap * sizeof(*u));
			if (!u)
				return 1;
			urls = u;
		}
		urls[n++] = strdup(line);
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	m = curl_multi_init();
	while (done < n) {
		CURLMsg *msg;
		int left;

		while (running < inflight && next < n) {
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
		curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	print_memory();
	curl_multi_cleanup(m);
	curl_slist_free_all(resolve);
	curl_global_cleanup();
	for (size_t i = 0; i < n; i++)
		free(urls[i]);
	free(urls);
	printf("%zu\n", done);
	return 0;
}
