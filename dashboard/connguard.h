/* connguard.h - deadlines and per-address caps for connections still sending their request. */
#ifndef QRW_CONNGUARD_H
#define QRW_CONNGUARD_H

#include <stdint.h>
#include <sys/socket.h>

#include "../common/err.h"

/*
 * libmicrohttpd's connection timeout is an idle timeout: a client that
 * sends one header line every few seconds keeps its connection forever
 * (slow-loris), and a few hundred such connections fill the table. The
 * guard tracks every connection from the moment it is accepted and shuts
 * down (shutdown(2); libmicrohttpd then closes it) any connection
 *
 *   - whose request head is not complete header_timeout_s after it opened
 *     or after its previous answer,
 *   - whose request body has not fully arrived body_timeout_s after the
 *     head,
 *   - that is one of the oldest of more than max_pending_per_ip connections
 *     from one address that have been sending a request (or waiting to send
 *     the next) for more than GRACE_MS,
 *   - that is one of the oldest such slow connections from the address
 *     with the most of them while more than max_pending connections in
 *     total are still sending a request (the rest of the table is kept for
 *     requests that have arrived and are being answered, such as a probe's
 *     batch).
 *
 * Heads are cut before bodies. Connections whose request has arrived are
 * never touched: the answer may take as long as it takes. The caps are
 * applied when a connection opens and, with the deadlines, by a small
 * watchdog thread every WATCHDOG_TICK_MS.
 */

struct connguard_cfg {
	unsigned header_timeout_s;
	unsigned body_timeout_s;
	unsigned max_pending_per_ip;
	unsigned max_pending;
	unsigned capacity;		/* at most this many connections at once */
	const char *exempt_addr;	/* an address free of max_pending_per_ip (a
					   trusted reverse proxy), or NULL */
};

struct connguard_stats {
	unsigned long opened;
	unsigned long head_late;	/* closed: head not complete in time */
	unsigned long body_late;	/* closed: body not complete in time */
	unsigned long per_ip;		/* closed: too many pending from one address */
	unsigned long pending;		/* closed: too many pending in total */
};

struct connguard;
struct gconn;

/* Start the guard and its watchdog thread. Returns NULL with e on failure. */
struct connguard *connguard_new(const struct connguard_cfg *cfg, struct err *e);

/* Stop the watchdog and free the guard. Every connection must be closed. NULL is allowed. */
void connguard_free(struct connguard *g);

/*
 * A connection was accepted on socket fd from sa. Returns its entry, to
 * pass to the calls below; NULL if the table is full, in which case fd
 * has been shut down. May shut down older pending connections (see above).
 */
struct gconn *connguard_open(struct connguard *g, int fd, const struct sockaddr *sa);

/* The connection is closed (before its fd is): forget it. NULL is allowed. */
void connguard_close(struct connguard *g, struct gconn *c);

/* The request head is complete; body_follows says whether a body is still to come. */
void connguard_head(struct connguard *g, struct gconn *c, int body_follows);

/* The whole request has arrived: no deadline until connguard_idle(). */
void connguard_arrived(struct connguard *g, struct gconn *c);

/* The answer is done: the connection waits for its next request head. */
void connguard_idle(struct connguard *g, struct gconn *c);

/* Counters since the start. */
void connguard_get_stats(struct connguard *g, struct connguard_stats *st);

#endif
