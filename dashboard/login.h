/* login.h - the dashboard's login: rate limits, a dummy hash for unknown names, a cache of verified logins. */
#ifndef QRW_LOGIN_H
#define QRW_LOGIN_H

#include <stddef.h>

#include "auth.h"
#include "../common/err.h"

/*
 * A password check is PBKDF2 with AUTH_ITERATIONS rounds (tens of ms of
 * CPU). So that it can be neither a timing oracle for user names nor a way
 * to burn the server's CPU:
 *
 *   - a name no user has is checked against a dummy hash, at the same cost;
 *   - each address and each user name (known or not, so that the limits
 *     tell no names apart either) may have at most rate checks a minute,
 *     with bursts of as many; past that, the request is refused before any
 *     hashing with the seconds until the next check is allowed;
 *   - a login verified once is remembered for cache_s seconds under a
 *     keyed hash of name and password (a key made at start, never the
 *     password itself), so that a logged-in user's page loads cost no
 *     PBKDF2 and are never rate-limited.
 *
 * login_begin() is cheap and runs on the HTTP threads; login_check() is
 * the slow part and runs on the password-check workers.
 */

#define LOGIN_BUCKETS 4096	/* addresses and names tracked, each; the least used make way */
#define LOGIN_CACHE 256		/* verified logins remembered; the soonest to expire make way */

struct login_cfg {
	unsigned rate_ip;	/* password checks a minute from one address (and its burst) */
	unsigned rate_user;	/* password checks a minute for one user name */
	long cache_s;		/* how long a verified login is remembered; 0 never */
};

enum login_step {
	LOGIN_OK,		/* verified within cache_s: no check needed */
	LOGIN_CHECK,		/* counted against the limits: run login_check() */
	LOGIN_LIMITED,		/* over a limit: refuse, no check */
};

struct login_stats {
	unsigned long checks;	/* PBKDF2 runs */
	unsigned long refused;	/* wrong name or password */
	unsigned long unknown;	/* of which: a name no user has (checked against the dummy) */
	unsigned long limited;	/* refused by a rate limit */
	unsigned long cached;	/* let in by the cache */
};

struct login;

/*
 * The users (copied) and limits. Returns NULL with e when out of memory or
 * out of randomness.
 */
struct login *login_new(const struct web_user *users, size_t nusers,
			const struct login_cfg *cfg, struct err *e);
void login_free(struct login *l);

/*
 * The cheap first step for a request from address addr (text) carrying
 * user and pass. For LOGIN_LIMITED, *retry_s is the number of seconds
 * until a check would be allowed (at least 1).
 */
enum login_step login_begin(struct login *l, const char *user, const char *pass,
			    const char *addr, unsigned *retry_s);

/*
 * The PBKDF2 check after LOGIN_CHECK, against user's hash or the dummy
 * hash. Returns 1 when the password is right (remembered from then on),
 * 0 if not.
 */
int login_check(struct login *l, const char *user, const char *pass, const char *addr);

void login_get_stats(struct login *l, struct login_stats *st);

#endif
