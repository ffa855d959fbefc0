/* auth.c - salted PBKDF2 password hashes for the dashboard login (see auth.h). */
#include "auth.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "../common/banned.h"

static int unhex(const char *s, size_t n, unsigned char *out)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;

		for (int k = 0; k < 2; k++) {
			char c = s[2 * i + k];
			int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ?
				c - 'a' + 10 : -1;

			if (d < 0)
				return -1;
			v = v * 16 + (unsigned)d;
		}
		out[i] = (unsigned char)v;
	}
	return 0;
}

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int auth_parse_user(const char *value, struct web_user *u, struct err *e)
{
	char name[128], spec[256];
	const char *p;

	memset(u, 0, sizeof(*u));
	if (sscanf(value, "%127s %255s", name, spec) != 2 || strlen(name) >= sizeof(u->name))
		return err_set(e, "user must be 'NAME pbkdf2-sha256$SALT$HASH' (make one "
			       "with qrwatchd --hash-password NAME)");
	if (strncmp(spec, "pbkdf2-sha256$", 14) != 0)
		return err_set(e, "password of user '%s' must be a pbkdf2-sha256 hash, "
			       "never the password itself", name);
	p = spec + 14;
	if (strlen(p) != 32 + 1 + 64 || p[32] != '$' || unhex(p, 16, u->salt) < 0 ||
	    unhex(p + 33, 32, u->hash) < 0)
		return err_set(e, "password hash of user '%s' is malformed", name);
	snprintf(u->name, sizeof(u->name), "%s", name);
	return 0;
}

int auth_check(const struct web_user *u, const char *password)
{
	unsigned char h[32];

	if (!PKCS5_PBKDF2_HMAC(password, (int)strlen(password), u->salt, sizeof(u->salt),
			       AUTH_ITERATIONS, EVP_sha256(), sizeof(h), h))
		return 0;
	return CRYPTO_memcmp(h, u->hash, sizeof(h)) == 0;
}

int auth_dummy_user(struct web_user *u)
{
	unsigned char name[8];

	memset(u, 0, sizeof(*u));
	if (RAND_bytes(u->salt, sizeof(u->salt)) != 1 ||
	    RAND_bytes(u->hash, sizeof(u->hash)) != 1 || RAND_bytes(name, sizeof(name)) != 1)
		return -1;
	/* a name no configuration line can hold (a space), never matched by strcmp */
	hex(name, sizeof(name), u->name + 1);
	u->name[0] = ' ';
	return 0;
}

int auth_hash_line(const char *name, const char *password, char *out, size_t cap)
{
	unsigned char salt[16], h[32];
	char sh[33], hh[65];

	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    !PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, sizeof(salt),
			       AUTH_ITERATIONS, EVP_sha256(), sizeof(h), h))
		return -1;
	hex(salt, sizeof(salt), sh);
	hex(h, sizeof(h), hh);
	return snprintf(out, cap, "user = %s pbkdf2-sha256$%s$%s", name, sh, hh) <
	       (int)cap ? 0 : -1;
}
