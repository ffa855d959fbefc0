/* netguard.h - keeping a probe from reaching its own LAN: address classes and the socket-level refusal. */
#ifndef QRW_NETGUARD_H
#define QRW_NETGUARD_H

#include <stddef.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "../common/err.h"

/* Where an address points. Everything but ADDR_PUBLIC is refused by default. */
enum addr_class {
	ADDR_PUBLIC,
	ADDR_LOOPBACK,		/* 127.0.0.0/8, ::1 */
	ADDR_PRIVATE,		/* 10/8, 172.16/12, 192.168/16, fc00::/7, 64:ff9b:1::/48 */
	ADDR_LINKLOCAL,		/* 169.254/16, fe80::/10 */
	ADDR_CGNAT,		/* 100.64/10, the carrier's side of a 4G link */
	ADDR_MULTICAST,		/* 224/4, ff00::/8 */
	ADDR_UNSPECIFIED,	/* 0.0.0.0/8, :: */
	ADDR_RESERVED,		/* 240/4, broadcast, TEST-NETs, 6to4, Teredo, ... */
};

/* "loopback", "private", ... */
const char *addr_class_name(enum addr_class c);

/* Classify an IPv4 or IPv6 socket address (IPv4-mapped IPv6 as IPv4). */
enum addr_class netguard_classify(const struct sockaddr *sa);

#define NETGUARD_MAX_ALLOW 8

/* An allowed network: address and prefix length. */
struct cidr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int prefix;
};

/*
 * Per-check guard, attached to every libcurl handle of a check. The
 * opensocket callback sees the address libcurl is about to connect to,
 * after DNS and for every redirect and every new connection, and refuses
 * non-public ones unless allowed; the prerequest callback sees the address
 * of every request before it is sent, on a reused connection too, and
 * refuses it the same way.
 */
struct netguard {
	int allow_all;				/* allow_private = yes */
	struct cidr allow[NETGUARD_MAX_ALLOW];	/* allow_private = CIDR... */
	size_t nallow;
	/* the last refusal, for the verdict */
	int refused;
	char refused_addr[64];
	enum addr_class refused_class;
};

/*
 * Parse an allow_private value: "no", "yes", or CIDRs such as
 * "192.168.1.20/32 fd00::/8" (a bare address means a single host).
 */
int netguard_parse_allow(struct netguard *g, const char *spec, struct err *e);

/* Whether the guard lets a connection to sa through. */
int netguard_allows(const struct netguard *g, const struct sockaddr *sa);

/*
 * Set up a handle: http and https only (also for redirects), the
 * socket-level check and the check before each request. g must outlive
 * the transfer.
 */
void netguard_attach(CURL *h, struct netguard *g);

#endif
