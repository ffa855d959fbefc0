/* connguard.c - deadlines and per-address caps for connections still sending their request (see connguard.h). */
#include "connguard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/log.h"
#include "../common/banned.h"

#define WATCHDOG_TICK_MS 200	/* deadlines are kept to within this */
/*
 * A connection counts against max_pending_per_ip and the pending share only
 * once it has spent this long on its request head or body (or waiting for
 * the next request): a browser's or a probe's request takes a few round
 * trips even over 3G with TLS, a slow-loris takes for ever. Sixteen quick
 * clients behind one address are never cut for being many.
 */
#define GRACE_MS 2000
#define REPORT_EVERY_MS 60000	/* one summary line a minute while connections are cut */

enum phase { PH_HEAD, PH_BODY, PH_ARRIVED };

enum cut { CUT_HEAD, CUT_BODY, CUT_PER_IP, CUT_PENDING };

struct gconn {
	int used, killed;
	int fd;
	unsigned char addr[16];		/* IPv4 as ::ffff:a.b.c.d; IPv6 by its /64 */
	char text[INET6_ADDRSTRLEN];
	enum phase phase;
	int64_t since_ms;		/* when the phase began */
	unsigned group;			/* the watchdog's scratch: slow ones from its address */
};

struct connguard {
	struct connguard_cfg cfg;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t watchdog;
	int stopping;
	struct gconn *conns;		/* capacity entries */
	struct gconn **slow;		/* capacity entries, the watchdog's scratch */
	unsigned *free_slots, nfree;
	struct connguard_stats st, reported;
	int64_t last_report_ms;
	char last_cut[INET6_ADDRSTRLEN];
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void addr_key(const struct sockaddr *sa, unsigned char key[16], char *text, size_t cap)
{
	memset(key, 0, 16);
	snprintf(text, cap, "?");
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		key[10] = key[11] = 0xff;
		memcpy(key + 12, &in->sin_addr, 4);
		inet_ntop(AF_INET, &in->sin_addr, text, (socklen_t)cap);
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		memcpy(key, &in6->sin6_addr, 8);	/* one site has a whole /64 */
		inet_ntop(AF_INET6, &in6->sin6_addr, text, (socklen_t)cap);
	}
}

static int pending(const struct gconn *c)
{
	return c->used && !c->killed && c->phase != PH_ARRIVED;
}

/* Shut the connection down; libmicrohttpd sees the end of the stream and closes it. Under the lock. */
static void cut(struct connguard *g, struct gconn *c, enum cut why)
{
	if (!c)
		return;
	shutdown(c->fd, SHUT_RDWR);
	c->killed = 1;
	switch (why) {
	case CUT_HEAD: g->st.head_late++; break;
	case CUT_BODY: g->st.body_late++; break;
	case CUT_PER_IP: g->st.per_ip++; break;
	case CUT_PENDING: g->st.pending++; break;
	}
	snprintf(g->last_cut, sizeof(g->last_cut), "%s", c->text);
}

/* One line a minute while connections are being cut, from the watchdog thread only. */
static void report(struct connguard *g, int64_t now, int last)
{
	struct connguard_stats *a = &g->st, *b = &g->reported;
	unsigned long n = (a->head_late - b->head_late) + (a->body_late - b->body_late) +
			  (a->per_ip - b->per_ip) + (a->pending - b->pending);

	if (!n || (!last && now - g->last_report_ms < REPORT_EVERY_MS))
		return;
	LOG(LOG_LVL_WARN, NULL, "closed %lu connections that were slow to send their request: "
	    "%lu heads not complete within header_timeout = %u s, %lu bodies not complete "
	    "within body_timeout = %u s, %lu over max_pending_per_ip = %u, %lu over the "
	    "share kept for answers (the last from %s)", n, a->head_late - b->head_late,
	    g->cfg.header_timeout_s, a->body_late - b->body_late, g->cfg.body_timeout_s,
	    a->per_ip - b->per_ip, g->cfg.max_pending_per_ip, a->pending - b->pending,
	    g->last_cut);
	*b = *a;
	g->last_report_ms = now;
}

static int slow(const struct gconn *c, int64_t now)
{
	return pending(c) && now - c->since_ms >= GRACE_MS;
}

/* Whether a goes before b when cutting: heads before bodies, then the oldest. */
static int cut_first(const struct gconn *a, const struct gconn *b)
{
	return a->phase != b->phase ? a->phase < b->phase : a->since_ms < b->since_ms;
}

/* By address, and within one the next to cut first. */
static int by_addr(const void *pa, const void *pb)
{
	const struct gconn *a = *(const struct gconn *const *)pa;
	const struct gconn *b = *(const struct gconn *const *)pb;
	int d = memcmp(a->addr, b->addr, sizeof(a->addr));

	return d ? d : cut_first(a, b) ? -1 : cut_first(b, a) ? 1 : 0;
}

/* The address with the most slow connections first (the attacker), then the next to cut. */
static int by_cut(const void *pa, const void *pb)
{
	const struct gconn *a = *(const struct gconn *const *)pa;
	const struct gconn *b = *(const struct gconn *const *)pb;

	if (a->group != b->group)
		return a->group > b->group ? -1 : 1;
	return cut_first(a, b) ? -1 : cut_first(b, a) ? 1 : 0;
}

/* Deadlines, then the caps over the slow connections. Under the lock. */
static void enforce(struct connguard *g, int64_t now)
{
	int64_t head_ms = (int64_t)g->cfg.header_timeout_s * 1000;
	int64_t body_ms = (int64_t)g->cfg.body_timeout_s * 1000;
	unsigned nslow = 0, total = 0;

	for (unsigned i = 0; i < g->cfg.capacity; i++) {
		struct gconn *c = &g->conns[i];

		if (!pending(c))
			continue;
		if (c->phase == PH_HEAD && now - c->since_ms >= head_ms)
			cut(g, c, CUT_HEAD);
		else if (c->phase == PH_BODY && now - c->since_ms >= body_ms)
			cut(g, c, CUT_BODY);
		else {
			total++;
			if (slow(c, now))
				g->slow[nslow++] = c;
		}
	}
	/* per address: all but the max_pending_per_ip to keep */
	qsort(g->slow, nslow, sizeof(*g->slow), by_addr);
	for (unsigned i = 0; i < nslow;) {
		unsigned n = 1;

		while (i + n < nslow && !memcmp(g->slow[i]->addr, g->slow[i + n]->addr, 16))
			n++;
		unsigned keep = n;

		if (strcmp(g->slow[i]->text, g->cfg.exempt_addr ? g->cfg.exempt_addr : ""))
			for (; keep > g->cfg.max_pending_per_ip; keep--) {
				cut(g, g->slow[i + n - keep], CUT_PER_IP);
				total--;
			}
		for (unsigned k = 0; k < n; k++)
			g->slow[i + k]->group = keep;
		i += n;
	}
	/* in total: the share kept for answers */
	if (total > g->cfg.max_pending) {
		qsort(g->slow, nslow, sizeof(*g->slow), by_cut);
		for (unsigned i = 0; i < nslow && total > g->cfg.max_pending; i++)
			if (!g->slow[i]->killed) {
				cut(g, g->slow[i], CUT_PENDING);
				total--;
			}
	}
}

static void *watchdog(void *arg)
{
	struct connguard *g = arg;

	pthread_setname_np(pthread_self(), "qrw-connguard");
	pthread_mutex_lock(&g->lock);
	while (!g->stopping) {
		struct timespec ts;
		int64_t now = mono_ms();

		enforce(g, now);
		report(g, now, 0);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += WATCHDOG_TICK_MS * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&g->wake, &g->lock, &ts);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

struct connguard *connguard_new(const struct connguard_cfg *cfg, struct err *e)
{
	struct connguard *g = calloc(1, sizeof(*g));
	pthread_condattr_t ca;

	if (!g || !cfg->capacity) {
		free(g);
		err_set(e, "connection guard: out of memory");
		return NULL;
	}
	g->cfg = *cfg;
	g->conns = calloc(cfg->capacity, sizeof(*g->conns));
	g->free_slots = calloc(cfg->capacity, sizeof(*g->free_slots));
	g->slow = calloc(cfg->capacity, sizeof(*g->slow));
	if (!g->conns || !g->free_slots || !g->slow) {
		free(g->conns);
		free(g->free_slots);
		free(g->slow);
		free(g);
		err_set(e, "connection guard: out of memory for %u connections", cfg->capacity);
		return NULL;
	}
	for (unsigned i = 0; i < cfg->capacity; i++)
		g->free_slots[g->nfree++] = cfg->capacity - 1 - i;
	pthread_mutex_init(&g->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->wake, &ca);
	pthread_condattr_destroy(&ca);
	g->last_report_ms = mono_ms() - REPORT_EVERY_MS;
	if (pthread_create(&g->watchdog, NULL, watchdog, g) != 0) {
		pthread_cond_destroy(&g->wake);
		pthread_mutex_destroy(&g->lock);
		free(g->conns);
		free(g->free_slots);
		free(g->slow);
		free(g);
		err_set(e, "connection guard: cannot start its thread");
		return NULL;
	}
	return g;
}

void connguard_free(struct connguard *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->stopping = 1;
	pthread_cond_signal(&g->wake);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->watchdog, NULL);
	report(g, mono_ms(), 1);
	pthread_cond_destroy(&g->wake);
	pthread_mutex_destroy(&g->lock);
	free(g->conns);
	free(g->free_slots);
	free(g->slow);
	free(g);
}

/* The slow connection to cut first (from address key, or any with key NULL), or NULL. */
static struct gconn *first_to_cut(struct connguard *g, const unsigned char *key, int64_t now)
{
	struct gconn *best = NULL;

	for (unsigned i = 0; i < g->cfg.capacity; i++) {
		struct gconn *o = &g->conns[i];

		if (!slow(o, now) || (key && memcmp(o->addr, key, sizeof(o->addr))))
			continue;
		if (!best || cut_first(o, best))
			best = o;
	}
	return best;
}

struct gconn *connguard_open(struct connguard *g, int fd, const struct sockaddr *sa)
{
	struct gconn *c;
	unsigned here = 0, total = 0;
	unsigned char key[16];
	char text[INET6_ADDRSTRLEN];
	int exempt;
	int64_t now = mono_ms();

	addr_key(sa, key, text, sizeof(text));
	exempt = g->cfg.exempt_addr && !strcmp(g->cfg.exempt_addr, text);
	pthread_mutex_lock(&g->lock);
	g->st.opened++;
	if (!g->nfree) {
		pthread_mutex_unlock(&g->lock);
		shutdown(fd, SHUT_RDWR);
		return NULL;
	}
	for (unsigned i = 0; i < g->cfg.capacity; i++)
		if (pending(&g->conns[i])) {
			total++;
			here += !memcmp(g->conns[i].addr, key, sizeof(key));
		}
	/* make room before the newcomer joins (the watchdog catches up on the rest) */
	if (!exempt && here >= g->cfg.max_pending_per_ip) {
		struct gconn *o = first_to_cut(g, key, now);

		if (o) {
			cut(g, o, CUT_PER_IP);
			total--;
		}
	}
	if (total >= g->cfg.max_pending) {
		/* the newcomer's own address pays first */
		struct gconn *o = first_to_cut(g, key, now);

		cut(g, o ? o : first_to_cut(g, NULL, now), CUT_PENDING);
	}
	c = &g->conns[g->free_slots[--g->nfree]];
	memset(c, 0, sizeof(*c));
	c->used = 1;
	c->fd = fd;
	memcpy(c->addr, key, sizeof(key));
	snprintf(c->text, sizeof(c->text), "%s", text);
	c->phase = PH_HEAD;
	c->since_ms = now;
	pthread_mutex_unlock(&g->lock);
	return c;
}

void connguard_close(struct connguard *g, struct gconn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&g->lock);
	c->used = 0;
	g->free_slots[g->nfree++] = (unsigned)(c - g->conns);
	pthread_mutex_unlock(&g->lock);
}

static void set_phase(struct connguard *g, struct gconn *c, enum phase p)
{
	if (!c)
		return;
	pthread_mutex_lock(&g->lock);
	c->phase = p;
	c->since_ms = mono_ms();
	pthread_mutex_unlock(&g->lock);
}

void connguard_head(struct connguard *g, struct gconn *c, int body_follows)
{
	set_phase(g, c, body_follows ? PH_BODY : PH_ARRIVED);
}

void connguard_arrived(struct connguard *g, struct gconn *c)
{
	set_phase(g, c, PH_ARRIVED);
}

void connguard_idle(struct connguard *g, struct gconn *c)
{
	set_phase(g, c, PH_HEAD);
}

void connguard_get_stats(struct connguard *g, struct connguard_stats *st)
{
	pthread_mutex_lock(&g->lock);
	*st = g->st;
	pthread_mutex_unlock(&g->lock);
}
