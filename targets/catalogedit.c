/* catalogedit.c - a target's payload replaced in the catalog's text (see catalogedit.h). */
#include "catalogedit.h"

#include <string.h>

#include "../common/text.h"
#include "../common/banned.h"

/* One line of printable UTF-8 text. */
static int one_line(const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return 0;
	return utf8_valid(s, strlen(s));
}

/* The key of a "key = value" line (n bytes at s), trimmed, into key; 0 if it has none. */
static int line_key(const char *s, size_t n, char *key, size_t cap)
{
	const char *eq = memchr(s, '=', n);
	size_t k = 0;

	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	if (!eq || !n || *s == '#' || *s == ';' || *s == '[')
		return 0;
	while (s < eq && k + 1 < cap && *s != ' ' && *s != '\t')
		key[k++] = *s++;
	key[k] = '\0';
	return k > 0;
}

/* The trimmed value of a "key = value" line, compared with want. */
static int value_is(const char *s, size_t n, const char *want)
{
	const char *v = memchr(s, '=', n), *end = s + n;
	size_t w = strlen(want);

	if (!v)
		return 0;
	v++;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && strchr(" \t\r\n", end[-1]))
		end--;
	return (size_t)(end - v) == w && !memcmp(v, want, w);
}

int catalogedit_replace_payload(const char *name, const char *dir, const char *text,
				size_t len, const char *id, const char *old_payload,
				const char *new_payload, struct buf *out, struct err *e)
{
	struct buf errors, res;
	struct catalog *cat, *again;
	const struct target *t;
	size_t pos = 0;
	int line = 0, in = 0, done = 0, rc = -1;

	if (!*new_payload || !one_line(new_payload) ||
	    strlen(new_payload) > CATALOG_MAX_LINE - 16)
		return err_set(e, "the new address must be one line of UTF-8 text without "
			       "control characters, at most %d bytes", CATALOG_MAX_LINE - 16);
	buf_init(&errors, 64 * 1024);
	cat = catalog_parse(name, dir, text, len, &errors);
	if (!cat) {
		err_set(e, "the catalog does not load as it is: %.300s", buf_str(&errors));
		buf_release(&errors);
		return -1;
	}
	t = catalog_target(cat, id);
	if (!t)
		err_set(e, "the catalog has no target '%s'", id);
	else if (!t->payload)
		err_set(e, "target '%s' has no payload to replace", id);
	else if (!strcmp(t->payload, new_payload))
		err_set(e, "target '%s' already has the address %s", id, new_payload);
	else if (old_payload && strcmp(t->payload, old_payload)) {
		err_set(e, "target '%s' has the address %s in the file now, not %s: the file "
			"changed since it was loaded", id, t->payload, old_payload);
		rc = -2;
	}
	if (!t || !t->payload || !strcmp(t->payload, new_payload) ||
	    (old_payload && strcmp(t->payload, old_payload)))
		goto out;
	buf_init(&res, len + 2 * strlen(new_payload) + strlen(t->payload) + 64);
	while (pos < len) {
		const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) + 1 : len - pos;
		char key[32];

		line++;
		pos += n;
		if (line == t->line) {
			in = 1;
		} else if (in) {
			const char *c = s;

			while (c < s + n && (*c == ' ' || *c == '\t'))
				c++;
			if (c < s + n && *c == '[')
				in = 0;
		}
		if (in && line_key(s, n, key, sizeof(key))) {
			if (!strcmp(key, "payload") && !done) {
				buf_addf(&res, "payload = %s\nreplaces = %s\n", new_payload,
					 t->payload);
				done = 1;
				continue;
			}
			if (!strcmp(key, "replaces") && value_is(s, n, new_payload))
				continue;	/* the address put back is no longer replaced */
		}
		buf_add(&res, s, n);
	}
	if (!done) {
		err_set(e, "target '%s': its payload line was not found", id);
		buf_release(&res);
		goto out;
	}
	if (res.overflow) {
		err_set(e, "out of memory");
		buf_release(&res);
		goto out;
	}
	buf_reset(&errors);
	again = catalog_parse(name, dir, res.data, res.len, &errors);
	t = again ? catalog_target(again, id) : NULL;
	if (!t || !t->payload || strcmp(t->payload, new_payload)) {
		err_set(e, "the changed catalog would not load: %.300s", buf_str(&errors));
	} else {
		buf_add(out, res.data, res.len);
		rc = out->overflow ? err_set(e, "out of memory") : 0;
	}
	catalog_free(again);
	buf_release(&res);
out:
	catalog_free(cat);
	buf_release(&errors);
	return rc;
}
