/* conffile.c - the line reader both configuration files share (see conffile.h). */
#include "conffile.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fileio.h"
#include "text.h"
#include "banned.h"

#define CONF_SUGGEST_MAX 2	/* edits between a typo and the key it suggests */

void conf_err(struct buf *errors, const char *path, int line, const char *fmt, ...)
{
	va_list ap;

	buf_addf(errors, "%s:%d: ", path, line);
	va_start(ap, fmt);
	buf_vaddf(errors, fmt, ap);
	va_end(ap);
	buf_addc(errors, '\n');
}

/* The known key nearest to key (at most CONF_SUGGEST_MAX edits), or NULL. */
static const char *nearest(const char *key, const char *const *known, size_t nknown)
{
	const char *best = NULL;
	int bd = CONF_SUGGEST_MAX + 1;

	for (size_t k = 0; k < nknown; k++) {
		int d = text_distance_max(known[k], key, CONF_SUGGEST_MAX);

		if (d < bd) {
			bd = d;
			best = known[k];
		}
	}
	return best;
}

int conf_read(const char *path, const char *const *known, size_t nknown, conf_fn *fn,
	      void *ctx, struct buf *errors)
{
	char *text, *p, *end, *next;
	struct err e;
	size_t len;
	int line = 0;

	text = file_read(path, CONFFILE_MAX_BYTES, &len, &e);
	if (!text) {
		buf_addf(errors, "%s\n", e.msg);
		return -1;
	}
	end = text + len;
	for (p = text; p < end; p = next) {
		char *eq, *key, *val, *nl = memchr(p, '\n', (size_t)(end - p));
		const char *best;
		size_t i;

		next = nl ? nl + 1 : end;
		if (nl)
			*nl = '\0';
		line++;
		/* a NUL would end the line early, hiding the rest of it */
		if (memchr(p, '\0', (size_t)((nl ? nl : end) - p))) {
			conf_err(errors, path, line, "line contains a NUL byte");
			continue;
		}
		p = text_trim(p);
		if (!*p || *p == '#' || *p == ';')
			continue;
		eq = strchr(p, '=');
		if (!eq) {
			conf_err(errors, path, line, "expected 'key = value'");
			continue;
		}
		*eq = '\0';
		key = text_trim(p);
		val = text_trim(eq + 1);
		for (i = 0; i < nknown && strcmp(known[i], key) != 0; i++)
			;
		if (i < nknown) {
			fn(ctx, i, key, val, path, line, errors);
			continue;
		}
		best = nearest(key, known, nknown);
		if (best)
			conf_err(errors, path, line, "unknown key '%s' (did you mean '%s'?)",
				 key, best);
		else
			conf_err(errors, path, line, "unknown key '%s'", key);
	}
	free(text);
	return line;
}
