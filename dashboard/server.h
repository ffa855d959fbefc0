/* server.h - qrwatchd's HTTP side on libmicrohttpd: limits, routes, ingest and assignments. */
#ifndef QRW_SERVER_H
#define QRW_SERVER_H

#include "ingest.h"
#include "pages.h"
#include "auth.h"
#include "../common/err.h"

/* Limits libmicrohttpd has no defaults for; set explicitly (DESIGN.md section 7). */
struct server_limits {
	unsigned threads;		/* worker threads (epoll) */
	unsigned max_connections;	/* in total */
	unsigned max_per_ip;		/* from one address */
	unsigned timeout_s;		/* idle connection */
	size_t max_body;		/* request body */
};

struct server_cfg {
	const char *listen_addr;	/* IPv4 address */
	unsigned port;			/* 0 = any free port */
	struct server_limits lim;
	const char *catalog_path;	/* served to probes as their assignment */
	const char *tls_cert_pem, *tls_key_pem;	/* contents, or NULL */
	const struct web_user *users;	/* with any, pages need a login */
	size_t nusers;
};

struct server;

/* Start serving. Returns NULL with e when the port or TLS setup fails. */
struct server *server_start(const struct server_cfg *cfg, struct ingest *ing,
			    struct dash *dash, struct err *e);

/* The port actually bound (useful with port 0). */
unsigned server_port(const struct server *s);

void server_stop(struct server *s);

#endif
