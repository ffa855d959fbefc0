/* login.c - the dashboard's login: rate limits, a dummy hash, a cache of verified logins (see login.h). */
#include "login.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "../common/buf.h"
#include "../common/log.h"
#include "../common/banned.h"

#define PROBES 8			/* slots looked at per key in the tables */
#define TAG_BYTES 32
#define CREDENTIALS_MAX (64 * 1024)	/* a name and password longer than that are never remembered */
#define REPORT_EVERY_MS 60000		/* one summary line a minute of refused logins */

struct bucket {
	unsigned char id[16];
	int used;
	double tokens;
	int64_t at_ms;
};

struct cached {
	unsigned char tag[TAG_BYTES];
	int64_t until_ms;		/* 0: free */
};

struct login {
	struct login_cfg cfg;
	struct web_user *users, dummy;
	size_t nusers;
	unsigned char key[32];		/* for the keyed hashes; made at start, never stored */
	pthread_mutex_t lock;
	struct bucket *by_ip, *by_user;	/* LOGIN_BUCKETS each */
	struct cached cache[LOGIN_CACHE];
	struct login_stats st, reported;
	int64_t last_report_ms;
	char last_addr[64];
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* HMAC of kind, a, NUL, b under the login's key. Returns 0, or -1 when too long. */
static int tag_of(const struct login *l, char kind, const char *a, const char *b,
		  unsigned char out[TAG_BYTES])
{
	struct buf m;
	unsigned len = TAG_BYTES;
	int rc = -1;

	buf_init(&m, CREDENTIALS_MAX);
	if (buf_addc(&m, kind) == 0 && buf_add(&m, a, strlen(a) + 1) == 0 &&
	    (!b || buf_adds(&m, b) == 0) &&
	    HMAC(EVP_sha256(), l->key, sizeof(l->key), (const unsigned char *)m.data, m.len,
		 out, &len))
		rc = 0;
	if (m.data)
		OPENSSL_cleanse(m.data, m.len);
	buf_release(&m);
	return rc;
}

/* The bucket of id, filled up to now; a new or evicted one starts full. Under the lock. */
static struct bucket *bucket_of(struct bucket *t, const unsigned char id[16], double cap,
				int64_t now)
{
	double per_ms = cap / 60000.0;
	uint32_t h;
	struct bucket *victim = NULL;

	memcpy(&h, id, sizeof(h));
	for (unsigned i = 0; i < PROBES; i++) {
		struct bucket *b = &t[(h + i) % LOGIN_BUCKETS];

		if (b->used) {
			b->tokens = fmin(cap, b->tokens + (double)(now - b->at_ms) * per_ms);
			b->at_ms = now;
			if (!memcmp(b->id, id, 16))
				return b;
		}
		/* a free slot, else the fullest: a full bucket is as good as none */
		if (!victim || (victim->used && (!b->used || b->tokens > victim->tokens)))
			victim = b;
	}
	memcpy(victim->id, id, 16);
	victim->used = 1;
	victim->tokens = cap;
	victim->at_ms = now;
	return victim;
}

static double wait_s(const struct bucket *b, double cap)
{
	return b->tokens >= 1 ? 0 : (1 - b->tokens) * 60.0 / cap;
}

/* One line a minute while logins are refused; last: the line at the stop. */
static void report(struct login *l, int64_t now, int last)
{
	const struct login_stats *a = &l->st, *b = &l->reported;

	if ((a->refused == b->refused && a->limited == b->limited) ||
	    (!last && now - l->last_report_ms < REPORT_EVERY_MS))
		return;
	LOG(LOG_LVL_WARN, NULL, "login: %lu wrong passwords (%lu for names no user has) and "
	    "%lu attempts over login_rate_ip = %u or login_rate_user = %u a minute since the "
	    "last report (the last from %s)", a->refused - b->refused, a->unknown - b->unknown,
	    a->limited - b->limited, l->cfg.rate_ip, l->cfg.rate_user, l->last_addr);
	l->reported = *a;
	l->last_report_ms = now;
}

struct login *login_new(const struct web_user *users, size_t nusers,
			const struct login_cfg *cfg, struct err *e)
{
	struct login *l = calloc(1, sizeof(*l));

	if (!l) {
		err_set(e, "login: out of memory");
		return NULL;
	}
	pthread_mutex_init(&l->lock, NULL);
	l->cfg = *cfg;
	l->nusers = nusers;
	l->users = nusers ? calloc(nusers, sizeof(*l->users)) : NULL;
	l->by_ip = calloc(LOGIN_BUCKETS, sizeof(*l->by_ip));
	l->by_user = calloc(LOGIN_BUCKETS, sizeof(*l->by_user));
	if ((nusers && !l->users) || !l->by_ip || !l->by_user) {
		login_free(l);
		err_set(e, "login: out of memory");
		return NULL;
	}
	if (nusers)
		memcpy(l->users, users, nusers * sizeof(*users));
	if (RAND_bytes(l->key, sizeof(l->key)) != 1 || auth_dummy_user(&l->dummy) < 0) {
		login_free(l);
		err_set(e, "login: no randomness for the dummy hash and the cache key");
		return NULL;
	}
	l->last_report_ms = mono_ms() - REPORT_EVERY_MS;
	return l;
}

void login_free(struct login *l)
{
	if (!l)
		return;
	report(l, mono_ms(), 1);
	pthread_mutex_destroy(&l->lock);
	OPENSSL_cleanse(l->key, sizeof(l->key));
	OPENSSL_cleanse(l->cache, sizeof(l->cache));
	free(l->users);
	free(l->by_ip);
	free(l->by_user);
	free(l);
}

enum login_step login_begin(struct login *l, const char *user, const char *pass,
			    const char *addr, unsigned *retry_s)
{
	unsigned char tag[TAG_BYTES], ip_id[TAG_BYTES] = { 0 }, user_id[TAG_BYTES] = { 0 };
	int have_tag = tag_of(l, 'c', user, pass, tag) == 0;
	int64_t now = mono_ms();
	struct bucket *bi, *bu;
	enum login_step step = LOGIN_CHECK;

	tag_of(l, 'a', addr, NULL, ip_id);
	tag_of(l, 'u', user, NULL, user_id);
	pthread_mutex_lock(&l->lock);
	if (have_tag && l->cfg.cache_s > 0) {
		uint32_t h;

		memcpy(&h, tag, sizeof(h));
		for (unsigned i = 0; i < PROBES; i++) {
			const struct cached *c = &l->cache[(h + i) % LOGIN_CACHE];

			if (c->until_ms > now && CRYPTO_memcmp(c->tag, tag, TAG_BYTES) == 0) {
				l->st.cached++;
				pthread_mutex_unlock(&l->lock);
				return LOGIN_OK;
			}
		}
	}
	bi = bucket_of(l->by_ip, ip_id, l->cfg.rate_ip, now);
	bu = bucket_of(l->by_user, user_id, l->cfg.rate_user, now);
	if (bi->tokens < 1 || bu->tokens < 1) {
		double w = fmax(wait_s(bi, l->cfg.rate_ip), wait_s(bu, l->cfg.rate_user));

		*retry_s = (unsigned)ceil(w) > 0 ? (unsigned)ceil(w) : 1;
		l->st.limited++;
		snprintf(l->last_addr, sizeof(l->last_addr), "%s", addr);
		report(l, now, 0);
		step = LOGIN_LIMITED;
	} else {
		bi->tokens -= 1;
		bu->tokens -= 1;
	}
	pthread_mutex_unlock(&l->lock);
	return step;
}

int login_check(struct login *l, const char *user, const char *pass, const char *addr)
{
	const struct web_user *u = &l->dummy;
	unsigned char tag[TAG_BYTES];
	int ok, known = 0;

	/* every name is compared, so the position of a match shows in no timing */
	for (size_t i = 0; i < l->nusers; i++)
		if (!strcmp(l->users[i].name, user) && !known) {
			u = &l->users[i];
			known = 1;
		}
	ok = auth_check(u, pass) && known;
	pthread_mutex_lock(&l->lock);
	l->st.checks++;
	if (!ok) {
		l->st.refused++;
		l->st.unknown += !known;
		snprintf(l->last_addr, sizeof(l->last_addr), "%s", addr);
		report(l, mono_ms(), 0);
	}
	pthread_mutex_unlock(&l->lock);
	if (ok && l->cfg.cache_s > 0 && tag_of(l, 'c', user, pass, tag) == 0) {
		int64_t now = mono_ms();
		uint32_t h;
		struct cached *slot = NULL;

		memcpy(&h, tag, sizeof(h));
		pthread_mutex_lock(&l->lock);
		for (unsigned i = 0; i < PROBES; i++) {
			struct cached *c = &l->cache[(h + i) % LOGIN_CACHE];

			if (!slot || c->until_ms < slot->until_ms)
				slot = c;
		}
		memcpy(slot->tag, tag, TAG_BYTES);
		slot->until_ms = now + l->cfg.cache_s * 1000;
		pthread_mutex_unlock(&l->lock);
	}
	LOG(LOG_LVL_DEBUG, NULL, "login %s for %s user from %s", ok ? "accepted" : "refused",
	    known ? "a known" : "an unknown", addr);
	return ok;
}

void login_get_stats(struct login *l, struct login_stats *st)
{
	pthread_mutex_lock(&l->lock);
	*st = l->st;
	pthread_mutex_unlock(&l->lock);
}
