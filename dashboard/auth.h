/* auth.h - the optional login for the dashboard's pages: users with salted PBKDF2 password hashes. */
#ifndef QRW_AUTH_H
#define QRW_AUTH_H

#include <stddef.h>

#include "../common/err.h"

#define AUTH_ITERATIONS 100000	/* PBKDF2-HMAC-SHA256 rounds */

struct web_user {
	char name[64];
	unsigned char salt[16];
	unsigned char hash[32];
};

/*
 * Parse a config value "NAME pbkdf2-sha256$SALT-HEX$HASH-HEX" (as printed
 * by `qrwatchd --hash-password NAME`). Returns 0 or -1 with e.
 */
int auth_parse_user(const char *value, struct web_user *u, struct err *e);

/* Whether password is user's, compared in constant time. */
int auth_check(const struct web_user *u, const char *password);

/*
 * Fill u as a user no password can match (random name, salt and hash), to
 * check unknown user names against: refusing one then costs the same
 * PBKDF2 run as refusing a known user, so timing tells no names apart.
 * Returns 0, or -1 when the system has no randomness.
 */
int auth_dummy_user(struct web_user *u);

/* Make a config line for name and password with a fresh random salt, into out. */
int auth_hash_line(const char *name, const char *password, char *out, size_t cap);

#endif
