/* domain.c - URL parsing and the official-domain policy (see domain.h). */
#include "domain.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <libpsl.h>

#include "../common/text.h"
#include "../common/banned.h"

static const psl_ctx_t *psl(void)
{
	static const psl_ctx_t *ctx;

	/* the system's list (package publicsuffix), else libpsl's built-in one */
	if (!ctx)
		ctx = psl_latest(NULL);
	if (!ctx)
		ctx = psl_builtin();
	return ctx;
}

/* A DNS name (letters, digits, '-', '_', '.') or a bracketed IPv6 address. */
static int host_chars_ok(const char *h)
{
	size_t n = strlen(h);

	if (h[0] == '[')
		return n > 2 && h[n - 1] == ']' &&
		       strspn(h + 1, "0123456789abcdefABCDEF:.") == n - 2;
	return strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789-_.") == n;
}

int url_parse_http(const char *url, char *host, size_t hostlen, struct err *e)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *h = NULL, *user = NULL;
	int rc = -1;

	if (!u)
		return err_set(e, "out of memory");
	if (!text_is_ascii(url, strlen(url))) {
		err_set(e, "link contains non-ASCII characters");
		goto out;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		err_set(e, "not a valid link");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		err_set(e, "link scheme '%s' is not http or https",
			scheme ? scheme : "");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		err_set(e, "link carries a user name before its host");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK || !h[0]) {
		err_set(e, "link has no host");
		goto out;
	}
	if (strlen(h) >= hostlen) {
		err_set(e, "link host is too long");
		goto out;
	}
	/* libcurl decodes %XX in a host: what comes back must still be one */
	if (!host_chars_ok(h)) {
		err_set(e, "link host has characters a host name cannot have");
		goto out;
	}
	for (char *p = h; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	snprintf(host, hostlen, "%s", h);
	rc = 0;
out:
	curl_free(scheme);
	curl_free(h);
	curl_free(user);
	curl_url_cleanup(u);
	return rc;
}

static int is_ip(const char *h)
{
	unsigned char a[16];
	char v6[DOMAIN_MAX];
	size_t n = strlen(h);

	if (inet_pton(AF_INET, h, a) == 1)
		return 1;
	if (n > 2 && h[0] == '[' && h[n - 1] == ']' && n - 2 < sizeof(v6)) {
		memcpy(v6, h + 1, n - 2);
		v6[n - 2] = '\0';
		return inet_pton(AF_INET6, v6, a) == 1;
	}
	return inet_pton(AF_INET6, h, a) == 1;
}

int domain_check_official(const char *d, struct err *e)
{
	size_t n = strlen(d);

	if (n == 0 || n >= DOMAIN_MAX)
		return err_set(e, "official domain '%s' is empty or too long", d);
	if (is_ip(d))
		return err_set(e, "official domain '%s' is an IP address, not a "
			       "domain", d);
	for (size_t i = 0; i < n; i++) {
		char c = d[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.'))
			return err_set(e, "official domain '%s' must be lower-case "
				       "letters, digits, '-' and '.'", d);
	}
	if (d[0] == '.' || d[n - 1] == '.' || strstr(d, "..") || !strchr(d, '.'))
		return err_set(e, "official domain '%s' is not a full domain name", d);
	if (psl_is_public_suffix(psl(), d))
		return err_set(e, "official domain '%s' is a public suffix shared by "
			       "many owners; name the registrable domain (such as "
			       "'hanoi.gov.vn')", d);
	return 0;
}

static int under(const char *host, const char *d)
{
	size_t lh = strlen(host), ld = strlen(d);

	if (lh == ld)
		return strcmp(host, d) == 0;
	return lh > ld && host[lh - ld - 1] == '.' && strcmp(host + lh - ld, d) == 0;
}

static int has_punycode(const char *h)
{
	const char *p = h;

	while (p) {
		if (strncmp(p, "xn--", 4) == 0)
			return 1;
		p = strchr(p, '.');
		if (p)
			p++;
	}
	return 0;
}

int domain_is_official(const char *host, const char *const *official, size_t n)
{
	if (is_ip(host))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!under(host, official[i]))
			continue;
		/* a punycode label must be spelled out by the official domain */
		if (has_punycode(host) && !has_punycode(official[i]))
			return 0;
		return 1;
	}
	return 0;
}

const char *domain_registrable(const char *host)
{
	const char *r = psl_registrable_domain(psl(), host);

	return r ? r : host;
}

/* Fold letters that look alike in a URL bar: 0/o, 1/l/i, rn/m, vv/w. */
static void fold_confusables(const char *in, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; in[i] && o + 1 < cap; i++) {
		char c = in[i];

		if (c == 'r' && in[i + 1] == 'n') {
			c = 'm';
			i++;
		} else if (c == 'v' && in[i + 1] == 'v') {
			c = 'w';
			i++;
		} else if (c == '0') {
			c = 'o';
		} else if (c == '1' || c == 'i') {
			c = 'l';
		} else if (c == '-' || c == '_') {
			continue;
		}
		out[o++] = c;
	}
	out[o] = '\0';
}

enum suspicion domain_explain(const char *host, const char *const *official,
			      size_t n, const char **imitated)
{
	const char *reg = domain_registrable(host);

	*imitated = NULL;
	if (is_ip(host))
		return SUSPECT_IP;
	if (has_punycode(host))
		return SUSPECT_PUNYCODE;
	for (size_t i = 0; i < n; i++) {
		const char *oreg = domain_registrable(official[i]);
		char a[DOMAIN_MAX], b[DOMAIN_MAX], olabel[DOMAIN_MAX];
		const char *dot = strchr(oreg, '.');
		size_t ll = dot ? (size_t)(dot - oreg) : strlen(oreg);

		fold_confusables(reg, a, sizeof(a));
		fold_confusables(oreg, b, sizeof(b));
		snprintf(olabel, sizeof(olabel), "%.*s", (int)ll, oreg);
		if (strcmp(a, b) == 0 || text_distance(reg, oreg) <= 2 ||
		    (ll >= 4 && strstr(host, olabel))) {
			*imitated = official[i];
			return SUSPECT_LOOKALIKE;
		}
	}
	return SUSPECT_NONE;
}
