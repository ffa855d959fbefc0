/* fetch.h - the probe's assignment: its catalog, fetched from the server with an ETag and cached on disk. */
#ifndef QRW_FETCH_H
#define QRW_FETCH_H

#include <stdint.h>

#include <curl/curl.h>

#include "push.h"
#include "../common/buf.h"
#include "../common/err.h"

#define FETCH_CATALOG_MAX (4u * 1024 * 1024)	/* as CATALOG_MAX_BYTES */

struct fetcher {
	const char *url;		/* catalog_url */
	const char *cache;		/* the catalog file the probe runs from */
	const struct push_cfg *auth;	/* probe id and secret sign the request */
	CURL *h;
	struct curl_slist *headers;
	struct buf body, etag_hdr;
	int in_flight;
	int64_t next_us;
	char etag[256];			/* of the cached copy */
	char last_error[ERR_MAX];
};

/* cache is the path of the catalog; its ETag is kept beside it in CACHE.etag. */
void fetcher_init(struct fetcher *f, const char *url, const char *cache,
		  const struct push_cfg *auth);
void fetcher_release(struct fetcher *f);

/* Add a conditional GET to m. Returns 1 when it started. */
int fetcher_start(struct fetcher *f, CURLM *m);

/*
 * The GET ended. Returns 1 when a new catalog was written to the cache (the
 * caller reloads), 0 when unchanged (304) or on failure (last_error says
 * why; the cached catalog stays in use). A new catalog is checked with the
 * catalog parser before it replaces the cache, and written atomically.
 */
int fetcher_done(struct fetcher *f, CURLM *m, CURLcode code);

#endif
