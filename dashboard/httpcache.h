/* httpcache.h - what cached answers share: ETags from a hash, If-None-Match, gzip. */
#ifndef QRW_HTTPCACHE_H
#define QRW_HTTPCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"

/*
 * An answer drawn once and served many times (the overview, graphs) is
 * named by an ETag: a browser that shows it again sends If-None-Match and
 * gets 304 with no body. A page is kept gzipped as well, for clients whose
 * Accept-Encoding allows it; both forms have ETags of their own.
 */

#define HTTPCACHE_HASH_INIT 0xcbf29ce484222325ULL

/* FNV-1a (64 bits) of n bytes, going on from h (start with HTTPCACHE_HASH_INIT). */
uint64_t httpcache_hash(uint64_t h, const void *p, size_t n);

/* An ETag for hash h: "\"" prefix, 16 hex digits, suffix "\"" into out (at least 40 bytes). */
#define HTTPCACHE_ETAG_MAX 40
void httpcache_etag(char out[HTTPCACHE_ETAG_MAX], char prefix, uint64_t h, const char *suffix);

/*
 * 1 if an If-None-Match header value (NULL: none) names etag: a list of
 * tags, each maybe weak (W/), or "*" (RFC 9110 13.1.2, weak comparison).
 */
int httpcache_match(const char *inm, const char *etag);

/* 1 if an Accept-Encoding header value (NULL: none) accepts gzip; "gzip;q=0" refuses it. */
int httpcache_accepts_gzip(const char *accept_encoding);

#define HTTPCACHE_GZIP_KEPT 6	/* a page compressed once and served many times */
#define HTTPCACHE_GZIP_FAST 1	/* an answer made for each request: /metrics */

/*
 * Append n bytes at in, gzipped (RFC 1952) at zlib's level (1 to 9), to
 * out. Returns 0, or -1 when zlib fails or out overflows (out is then
 * freed, as buf_add does).
 */
int httpcache_gzip(const void *in, size_t n, int level, struct buf *out);

#endif
