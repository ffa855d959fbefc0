/* httpcache.c - ETags, If-None-Match and gzip for cached answers (see httpcache.h). */
#include "httpcache.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "../common/banned.h"

#define GZIP_CHUNK 16384

uint64_t httpcache_hash(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void httpcache_etag(char out[HTTPCACHE_ETAG_MAX], char prefix, uint64_t h, const char *suffix)
{
	snprintf(out, HTTPCACHE_ETAG_MAX, "\"%c%016llx%s\"", prefix, (unsigned long long)h,
		 suffix ? suffix : "");
}

int httpcache_match(const char *inm, const char *etag)
{
	size_t want = strlen(etag);

	if (!inm)
		return 0;
	while (*inm) {
		size_t n;

		inm += strspn(inm, " \t,");
		if (!*inm)
			break;
		if (*inm == '*')
			return 1;
		if (!strncmp(inm, "W/", 2))
			inm += 2;
		if (*inm != '"') {
			inm += strcspn(inm, ",");	/* not a tag: skip it */
			continue;
		}
		n = 1 + strcspn(inm + 1, "\"");
		if (inm[n] == '"')
			n++;
		if (n == want && !memcmp(inm, etag, n))
			return 1;
		inm += n;
	}
	return 0;
}

/* 1 if the parameters in [p, end) of one Accept-Encoding element hold q=0 (0.0, 0.000). */
static int q_zero(const char *p, const char *end)
{
	for (; p < end; p++) {
		if (*p != ';')
			continue;
		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p < 2 || (*p != 'q' && *p != 'Q') || p[1] != '=')
			continue;
		p += 2;
		if (p == end || *p != '0')
			return 0;
		p++;
		if (p < end && *p == '.')
			for (p++; p < end && *p == '0'; p++)
				;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		return p == end || *p == ';';
	}
	return 0;
}

int httpcache_accepts_gzip(const char *ae)
{
	int gzip = -1, star = -1;

	while (ae && *ae) {
		size_t len = strcspn(ae, ",");
		const char *p = ae + strspn(ae, " \t");
		size_t tn = strcspn(p, " \t;,");
		int ok = !q_zero(p + tn, ae + len);

		if ((tn == 4 && !strncasecmp(p, "gzip", 4)) ||
		    (tn == 6 && !strncasecmp(p, "x-gzip", 6)))
			gzip = ok;
		else if (tn == 1 && *p == '*')
			star = ok;
		ae += len;
		if (*ae == ',')
			ae++;
	}
	return gzip >= 0 ? gzip : star > 0;
}

int httpcache_gzip(const void *in, size_t n, int level, struct buf *out)
{
	unsigned char chunk[GZIP_CHUNK];
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	/* 15 + 16: a gzip header and trailer rather than zlib's */
	if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		rc = deflate(&z, Z_FINISH);
		if (rc == Z_STREAM_ERROR ||
		    buf_add(out, chunk, sizeof(chunk) - z.avail_out) < 0) {
			deflateEnd(&z);
			buf_release(out);
			out->overflow = 1;
			return -1;
		}
	} while (rc != Z_STREAM_END);
	deflateEnd(&z);
	return 0;
}
