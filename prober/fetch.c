/* fetch.c - conditional GET of the probe's catalog, validated and cached (see fetch.h). */
#include "fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../common/fileio.h"
#include "../targets/catalog.h"
#include "../common/banned.h"

static void etag_path(const struct fetcher *f, char *out, size_t cap)
{
	snprintf(out, cap, "%s.etag", f->cache);
}

void fetcher_init(struct fetcher *f, const char *url, const char *cache,
		  const struct push_cfg *auth)
{
	char path[1100];
	struct err e;
	char *tag;

	memset(f, 0, sizeof(*f));
	f->url = url;
	f->cache = cache;
	f->auth = auth;
	buf_init(&f->body, FETCH_CATALOG_MAX);
	buf_init(&f->etag_hdr, 512);
	etag_path(f, path, sizeof(path));
	tag = file_read(path, sizeof(f->etag) - 1, NULL, &e);
	if (tag) {
		snprintf(f->etag, sizeof(f->etag), "%s", tag);
		free(tag);
	}
}

void fetcher_release(struct fetcher *f)
{
	if (f->h)
		curl_easy_cleanup(f->h);
	curl_slist_free_all(f->headers);
	buf_release(&f->body);
	buf_release(&f->etag_hdr);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct fetcher *f = ud;

	return buf_add(&f->body, p, size * n) < 0 ? 0 : size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct fetcher *f = ud;
	size_t len = size * n;

	if (len > 5 && strncasecmp(p, "ETag:", 5) == 0) {
		const char *v = p + 5;
		size_t vl = len - 5;

		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
			vl--;
		buf_reset(&f->etag_hdr);
		buf_add(&f->etag_hdr, v, vl);
	}
	return len;
}

int fetcher_start(struct fetcher *f, CURLM *m)
{
	char hdr[400], sig[65], msg[160];
	struct timespec now;
	long long ms;

	if (f->in_flight)
		return 0;
	if (!f->h && !(f->h = curl_easy_init()))
		return 0;
	buf_reset(&f->body);
	buf_reset(&f->etag_hdr);
	curl_slist_free_all(f->headers);
	f->headers = NULL;
	/* the request is signed like a batch: HMAC of "probe-id\ntime-ms" */
	clock_gettime(CLOCK_REALTIME, &now);
	ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	snprintf(msg, sizeof(msg), "%s\n%lld", f->auth->probe_id, ms);
	batch_sign(f->auth->secret, f->auth->secret_len, msg, strlen(msg), sig);
	snprintf(hdr, sizeof(hdr), "X-Qrwatch-Probe: %s", f->auth->probe_id);
	f->headers = curl_slist_append(f->headers, hdr);
	snprintf(hdr, sizeof(hdr), "X-Qrwatch-Time: %lld", ms);
	f->headers = curl_slist_append(f->headers, hdr);
	snprintf(hdr, sizeof(hdr), "X-Qrwatch-Signature: sha256=%s", sig);
	f->headers = curl_slist_append(f->headers, hdr);
	if (f->etag[0]) {
		snprintf(hdr, sizeof(hdr), "If-None-Match: %s", f->etag);
		f->headers = curl_slist_append(f->headers, hdr);
	}
	curl_easy_setopt(f->h, CURLOPT_URL, f->url);
	curl_easy_setopt(f->h, CURLOPT_HTTPHEADER, f->headers);
	curl_easy_setopt(f->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(f->h, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(f->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(f->h, CURLOPT_HEADERDATA, f);
	curl_easy_setopt(f->h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)FETCH_CATALOG_MAX);
	push_server_opts(f->auth, f->h);
	if (curl_multi_add_handle(m, f->h) != CURLM_OK)
		return 0;
	f->in_flight = 1;
	return 1;
}

int fetcher_done(struct fetcher *f, CURLM *m, CURLcode code)
{
	long status = 0;
	struct buf errs;
	struct catalog *c;
	struct err e;
	char path[1100];

	curl_multi_remove_handle(m, f->h);
	f->in_flight = 0;
	curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &status);
	if (code != CURLE_OK) {
		snprintf(f->last_error, sizeof(f->last_error), "%s", curl_easy_strerror(code));
		return 0;
	}
	if (status == 304) {
		f->last_error[0] = '\0';
		return 0;
	}
	if (status != 200) {
		snprintf(f->last_error, sizeof(f->last_error), "server answered HTTP %ld",
			 status);
		return 0;
	}
	/* never replace a working catalog with a broken one */
	buf_init(&errs, 16 * 1024);
	c = catalog_parse(f->url, "", buf_str(&f->body), f->body.len, &errs);
	if (!c) {
		snprintf(f->last_error, sizeof(f->last_error), "the server's catalog "
			 "has errors: %.400s", buf_str(&errs));
		buf_release(&errs);
		return 0;
	}
	catalog_free(c);
	buf_release(&errs);
	if (file_write_atomic(f->cache, f->body.data ? f->body.data : "", f->body.len,
			      &e) < 0) {
		snprintf(f->last_error, sizeof(f->last_error), "%s", e.msg);
		return 0;
	}
	snprintf(f->etag, sizeof(f->etag), "%s", buf_str(&f->etag_hdr));
	etag_path(f, path, sizeof(path));
	file_write_atomic(path, f->etag, strlen(f->etag), &e);
	f->last_error[0] = '\0';
	return 1;
}
