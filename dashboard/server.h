/* server.h - qrwatchd's HTTP side on libmicrohttpd: limits, routes, ingest and assignments. */
#ifndef QRW_SERVER_H
#define QRW_SERVER_H

#include "connguard.h"
#include "ingest.h"
#include "login.h"
#include "pages.h"
#include "auth.h"
#include "../common/err.h"

/*
 * Defaults of the limits (DESIGN.md section 7: libmicrohttpd has none of
 * its own worth keeping), each a key in qrwatchd.conf (docs/api.md).
 */
#define SERVER_THREADS		2	/* HTTP threads: bytes, ingest, catalogs; one per core */
#define SERVER_MAX_CONNECTIONS	4096	/* epoll: thousands cost little (LimitNOFILE= in the unit) */
#define SERVER_MAX_PER_IP	64	/* an office of browsers or a carrier NAT; slow ones are capped apart */
#define SERVER_IDLE_TIMEOUT_S	30	/* nothing sent or received */
#define SERVER_HEADER_TIMEOUT_S	10	/* a request head (a few hundred bytes), whole, even on 3G */
#define SERVER_BODY_TIMEOUT_S	60	/* a probe's batch (at most 1 MiB) at 140 kbit/s and more */
#define SERVER_MAX_PENDING_PER_IP 8	/* connections from one address still sending a request */
#define SERVER_RESERVE_PCT	25	/* of max_connections, never held by requests still arriving */
#define SERVER_PHOTO_BODIES	4	/* board photos (16 MB each) received at once; more get 503 */
#define SERVER_PAGE_THREADS	2	/* pages render here, never on the HTTP threads */
#define SERVER_PAGE_QUEUE	64	/* pages waiting for a page thread; more get 503 */
#define SERVER_AUTH_THREADS	1	/* password checks (PBKDF2): at most this many cores */
#define SERVER_AUTH_QUEUE	16	/* password checks waiting; more get 503 */
#define SERVER_LOGIN_RATE_IP	10	/* password checks a minute from one address */
#define SERVER_LOGIN_RATE_USER	10	/* password checks a minute for one user name */
#define SERVER_LOGIN_CACHE_S	300	/* a verified login is remembered this long */
/* Files open besides the connections: SQLite, RRD files, alert sockets, epoll and wake-up fds. */
#define SERVER_FD_SPARE		128

struct server_limits {
	unsigned threads;		/* HTTP threads (epoll) */
	unsigned max_connections;	/* in total */
	unsigned max_per_ip;		/* from one address */
	unsigned timeout_s;		/* idle connection */
	size_t max_body;		/* request body */
	unsigned header_timeout_s;	/* a request head, from the connection's start or last answer */
	unsigned body_timeout_s;	/* a request body, from the end of its head */
	unsigned max_pending_per_ip;	/* connections from one address still sending a request */
	unsigned reserve_pct;		/* share of max_connections kept for requests being answered */
	unsigned page_threads, page_queue;
	unsigned auth_threads, auth_queue;
	unsigned login_rate_ip;		/* password checks a minute from one address */
	unsigned login_rate_user;	/* password checks a minute for one user name */
	long login_cache_s;		/* 0: every page load checks the password */
};

/* Fill lim with the defaults above (max_body: INGEST_MAX_BODY). */
void server_limits_default(struct server_limits *lim);

struct server_cfg {
	const char *listen_addr;	/* IPv4 address */
	unsigned port;			/* 0 = any free port */
	int listen_fd;			/* >= 0: a listening socket to take over (a reload,
					   server_stop()), instead of listen_addr and port */
	struct server_limits lim;
	const char *catalog_path;	/* served to probes as their assignment */
	const char *tls_cert_pem, *tls_key_pem;	/* contents, or NULL */
	const struct web_user *users;	/* with any, pages need a login */
	size_t nusers;
	int public_pages;		/* with users: only a request that logs in (or must:
					   ?login=1, a confirm) is checked */
	const char *trusted_proxy;	/* a reverse proxy's address whose X-Forwarded-For
					   is believed, or NULL */
};

struct server;

/*
 * Make sure this process may open the files lim needs (max_connections
 * and SERVER_FD_SPARE), raising its soft RLIMIT_NOFILE up to the hard one
 * if need be. Returns 0, or -1 with e saying what to raise.
 */
int server_fd_limit(const struct server_limits *lim, struct err *e);

/*
 * Start serving. dash->srv is set to the server (for /metrics) before the
 * first request. Returns NULL with e when the port or TLS setup fails.
 */
struct server *server_start(const struct server_cfg *cfg, struct ingest *ing,
			    struct dash *dash, struct err *e);

/* The port actually bound (useful with port 0). */
unsigned server_port(const struct server *s);

/* Answers to probes' batches by HTTP status: these, then any other (code 0). */
#define SERVER_INGEST_CODES { 200, 400, 401, 413, 422, 503, 0 }
#define SERVER_INGEST_NCODES 7

/* What the server has done since the start, for /metrics. */
struct server_stats {
	struct connguard_stats guard;	/* connections opened and cut off */
	struct login_stats login;	/* zeros when no users are configured */
	int login_on;			/* users are configured */
	unsigned long cut_bodies;	/* chunked bodies cut off past max_body_kb */
	struct {
		int code;		/* 0: any status not listed before */
		unsigned long n;
	} ingest_answers[SERVER_INGEST_NCODES];
	struct ingest_stats ingest;
};

/* Fill st; safe from any thread while the server runs. */
void server_get_stats(struct server *s, struct server_stats *st);

/* Finish the pages and password checks under way, then stop and free. NULL is allowed. */
/*
 * Stop: answer what is under way, close every connection. With keep, the
 * listening socket stays open (connections that arrive meanwhile wait in
 * its backlog) and is returned for the next server_start() (listen_fd);
 * else it is closed and -1 returned.
 */
int server_stop(struct server *s, int keep);

#endif
