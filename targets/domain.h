/* domain.h - links in codes: parsing with libcurl's URL API, official-domain policy with libpsl. */
#ifndef QRW_DOMAIN_H
#define QRW_DOMAIN_H

#include <stddef.h>

#include "../common/err.h"

#define DOMAIN_MAX 256

/*
 * Parse an absolute http or https URL. Fills host (lower case, as libcurl
 * normalises it). Refuses other schemes, a missing host, user:password@
 * parts (a classic way to make "https://hanoi.gov.vn@evil.example/" read
 * as official), and hosts with non-ASCII characters. Returns 0 or -1 with
 * e saying why.
 */
int url_parse_http(const char *url, char *host, size_t hostlen, struct err *e);

/*
 * Check a catalog's official domain: a lower-case ASCII DNS name that is a
 * registrable domain or below one, never a public suffix such as "gov.vn"
 * (which would make every ministry and province "official"), never an IP
 * address. Returns 0 or -1 with e.
 */
int domain_check_official(const char *d, struct err *e);

/*
 * 1 if host is one of the official domains or a subdomain of one, matching
 * whole labels ("evilhanoi.gov.vn" is not under "hanoi.gov.vn"). A punycode
 * ("xn--") label is accepted only when the official domain itself names it.
 */
int domain_is_official(const char *host, const char *const *official, size_t n);

/* What makes a host that is not official look deliberately suspicious. */
enum suspicion {
	SUSPECT_NONE,
	SUSPECT_IP,		/* a bare IP address */
	SUSPECT_PUNYCODE,	/* an internationalised (xn--) name */
	SUSPECT_LOOKALIKE,	/* imitates an official domain */
};

/*
 * When host is not official, say why it is suspicious: an IP address,
 * punycode, or a look-alike of an official domain (edit distance of two or
 * less, confusable letters such as 0/o and rn/m, or the official name
 * embedded in another domain). For SUSPECT_LOOKALIKE, *imitated points to
 * the official domain it imitates.
 */
enum suspicion domain_explain(const char *host, const char *const *official,
			      size_t n, const char **imitated);

/* The registrable domain of host per the Public Suffix List, or host itself. */
const char *domain_registrable(const char *host);

#endif
