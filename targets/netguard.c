/* netguard.c - address classes and the opensocket refusal (see netguard.h). */
#include "netguard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

const char *addr_class_name(enum addr_class c)
{
	switch (c) {
	case ADDR_PUBLIC: return "public";
	case ADDR_LOOPBACK: return "loopback";
	case ADDR_PRIVATE: return "private";
	case ADDR_LINKLOCAL: return "link-local";
	case ADDR_CGNAT: return "carrier-grade NAT";
	case ADDR_MULTICAST: return "multicast";
	case ADDR_UNSPECIFIED: return "unspecified";
	case ADDR_RESERVED: return "reserved";
	}
	return "?";
}

static enum addr_class classify4(const unsigned char a[4])
{
	if (a[0] == 0)
		return ADDR_UNSPECIFIED;
	if (a[0] == 127)
		return ADDR_LOOPBACK;
	if (a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
	    (a[0] == 192 && a[1] == 168))
		return ADDR_PRIVATE;
	if (a[0] == 169 && a[1] == 254)
		return ADDR_LINKLOCAL;
	if (a[0] == 100 && (a[1] & 0xc0) == 64)
		return ADDR_CGNAT;
	if ((a[0] & 0xf0) == 224)
		return ADDR_MULTICAST;
	if ((a[0] & 0xf0) == 240)
		return ADDR_RESERVED;	/* includes 255.255.255.255 */
	/* 192.0.0.0/24 protocol assignments, 198.18/15 benchmarking */
	if ((a[0] == 192 && a[1] == 0 && a[2] == 0) ||
	    (a[0] == 198 && (a[1] & 0xfe) == 18))
		return ADDR_RESERVED;
	/* TEST-NET-1, -2, -3 (documentation), the old 6to4 relay anycast */
	if ((a[0] == 192 && a[1] == 0 && a[2] == 2) ||
	    (a[0] == 198 && a[1] == 51 && a[2] == 100) ||
	    (a[0] == 203 && a[1] == 0 && a[2] == 113) ||
	    (a[0] == 192 && a[1] == 88 && a[2] == 99))
		return ADDR_RESERVED;
	return ADDR_PUBLIC;
}

static enum addr_class classify6(const unsigned char a[16])
{
	static const unsigned char zero[16];
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
						  0xff, 0xff };
	static const unsigned char nat64[12] = { 0, 0x64, 0xff, 0x9b };

	if (memcmp(a, zero, 16) == 0)
		return ADDR_UNSPECIFIED;
	if (memcmp(a, zero, 15) == 0 && a[15] == 1)
		return ADDR_LOOPBACK;
	/* IPv4-mapped and the NAT64 well-known prefix carry an IPv4 address */
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
		return classify4(a + 12);
	/* NAT64 local-use 64:ff9b:1::/48: a translator of this network's own */
	if (memcmp(a, nat64, 4) == 0 && a[4] == 0 && a[5] == 1)
		return ADDR_PRIVATE;
	/*
	 * 6to4 2002::/16 carries an IPv4 address in its next 32 bits; the
	 * mechanism is deprecated (RFC 7526), so even a public one is refused.
	 */
	if (a[0] == 0x20 && a[1] == 0x02) {
		enum addr_class c = classify4(a + 2);

		return c == ADDR_PUBLIC ? ADDR_RESERVED : c;
	}
	/*
	 * 2001::/23 IETF protocol assignments (Teredo 2001::/32, benchmarking,
	 * ORCHID), 2001:db8::/32 documentation, 100::/64 discard-only.
	 */
	if ((a[0] == 0x20 && a[1] == 0x01 && a[2] < 0x02) ||
	    (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) ||
	    (a[0] == 0x01 && memcmp(a + 1, zero, 7) == 0))
		return ADDR_RESERVED;
	/* IPv4-compatible (deprecated) ::a.b.c.d */
	if (memcmp(a, zero, 12) == 0)
		return ADDR_RESERVED;
	if ((a[0] & 0xfe) == 0xfc)
		return ADDR_PRIVATE;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return ADDR_LINKLOCAL;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
		return ADDR_PRIVATE;	/* site-local, deprecated */
	if (a[0] == 0xff)
		return ADDR_MULTICAST;
	return ADDR_PUBLIC;
}

enum addr_class netguard_classify(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		return classify4((const unsigned char *)&in->sin_addr);
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		return classify6(in6->sin6_addr.s6_addr);
	}
	return ADDR_RESERVED;
}

static int parse_cidr(const char *s, size_t n, struct cidr *c)
{
	char tmp[80];
	char *slash, *end;
	long p;

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	slash = strchr(tmp, '/');
	if (slash)
		*slash = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, tmp, c->addr) == 1)
		c->family = AF_INET;
	else if (inet_pton(AF_INET6, tmp, c->addr) == 1)
		c->family = AF_INET6;
	else
		return -1;
	c->prefix = c->family == AF_INET ? 32 : 128;
	if (slash) {
		p = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end || p < 0 || p > c->prefix)
			return -1;
		c->prefix = (int)p;
	}
	return 0;
}

int netguard_parse_allow(struct netguard *g, const char *spec, struct err *e)
{
	const char *p = spec;

	g->allow_all = 0;
	g->nallow = 0;
	if (!spec || !strcmp(spec, "no") || !strcmp(spec, "false") || !*spec)
		return 0;
	if (!strcmp(spec, "yes") || !strcmp(spec, "true")) {
		g->allow_all = 1;
		return 0;
	}
	while (*p) {
		size_t n;

		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (!*p)
			break;
		n = strcspn(p, " ,\t");
		if (g->nallow == NETGUARD_MAX_ALLOW)
			return err_set(e, "more than %d allowed networks",
				       NETGUARD_MAX_ALLOW);
		if (parse_cidr(p, n, &g->allow[g->nallow]) < 0)
			return err_set(e, "'%.*s' is not an address or network "
				       "(such as 192.168.1.20 or 10.0.0.0/8)", (int)n, p);
		g->nallow++;
		p += n;
	}
	return 0;
}

static int in_cidr(const struct cidr *c, const unsigned char *a, int family)
{
	int full = c->prefix / 8, rest = c->prefix % 8;

	if (family != c->family)
		return 0;
	if (memcmp(a, c->addr, (size_t)full) != 0)
		return 0;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));

		return (a[full] & mask) == (c->addr[full] & mask);
	}
	return 1;
}

int netguard_allows(const struct netguard *g, const struct sockaddr *sa)
{
	const unsigned char *a;
	int family = sa->sa_family;

	if (netguard_classify(sa) == ADDR_PUBLIC || g->allow_all)
		return 1;
	if (family == AF_INET) {
		a = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
	} else if (family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		/* a mapped IPv4 address is allowed by an IPv4 network */
		if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
			a += 12;
			family = AF_INET;
		}
	} else {
		return 0;
	}
	for (size_t i = 0; i < g->nallow; i++)
		if (in_cidr(&g->allow[i], a, family))
			return 1;
	return 0;
}

static curl_socket_t open_guarded(void *clientp, curlsocktype purpose,
				  struct curl_sockaddr *addr)
{
	struct netguard *g = clientp;
	curl_socket_t s;

	(void)purpose;
	if (!netguard_allows(g, &addr->addr)) {
		char host[INET6_ADDRSTRLEN] = "?";

		if (addr->family == AF_INET)
			inet_ntop(AF_INET,
				  &((struct sockaddr_in *)&addr->addr)->sin_addr,
				  host, sizeof(host));
		else if (addr->family == AF_INET6)
			inet_ntop(AF_INET6,
				  &((struct sockaddr_in6 *)&addr->addr)->sin6_addr,
				  host, sizeof(host));
		g->refused = 1;
		g->refused_class = netguard_classify(&addr->addr);
		snprintf(g->refused_addr, sizeof(g->refused_addr), "%s", host);
		return CURL_SOCKET_BAD;
	}
	s = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
	return s < 0 ? CURL_SOCKET_BAD : s;
}

/*
 * Before every request, on a new connection or a reused one: the address
 * the request is about to go to. The opensocket check alone misses a
 * connection that libcurl reuses from its cache.
 */
static int prereq_guarded(void *clientp, char *primary_ip, char *local_ip,
			  int primary_port, int local_port)
{
	struct netguard *g = clientp;
	struct sockaddr_storage ss;

	(void)local_ip;
	(void)primary_port;
	(void)local_port;
	memset(&ss, 0, sizeof(ss));
	if (primary_ip && inet_pton(AF_INET, primary_ip,
				    &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
	} else if (primary_ip && inet_pton(AF_INET6, primary_ip,
					   &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
	} else {
		/* no address to judge (never for http over TCP): refuse */
		g->refused = 1;
		g->refused_class = ADDR_RESERVED;
		snprintf(g->refused_addr, sizeof(g->refused_addr), "%s",
			 primary_ip && *primary_ip ? primary_ip : "?");
		return CURL_PREREQFUNC_ABORT;
	}
	if (!netguard_allows(g, (const struct sockaddr *)&ss)) {
		g->refused = 1;
		g->refused_class = netguard_classify((const struct sockaddr *)&ss);
		snprintf(g->refused_addr, sizeof(g->refused_addr), "%s", primary_ip);
		return CURL_PREREQFUNC_ABORT;
	}
	return CURL_PREREQFUNC_OK;
}

void netguard_attach(CURL *h, struct netguard *g)
{
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_guarded);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, g);
	curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, prereq_guarded);
	curl_easy_setopt(h, CURLOPT_PREREQDATA, g);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
}
