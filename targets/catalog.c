/* catalog.c - parsing and checking the catalog file, all or nothing (see catalog.h, docs/catalog.md). */
#include "catalog.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "domain.h"
#include "emvco.h"
#include "netguard.h"
#include "../common/fileio.h"
#include "../common/text.h"
#include "../common/banned.h"

enum sec_kind { S_PLACE, S_BOARD, S_TARGET, S_FLOW, S_STEP, S_COUNT };

static const char *const sec_names[S_COUNT] = {
	"place", "board", "target", "flow", "step"
};

#define K_REQ 1		/* required */
#define K_REP 2		/* may be given more than once */

/* Every key the format knows: one table, used for checks and did-you-mean. */
static const struct keydef {
	enum sec_kind sec;
	const char *name;
	unsigned flags;
} keys[] = {
	{ S_PLACE, "province", K_REQ },
	{ S_PLACE, "district", 0 },
	{ S_PLACE, "commune", K_REQ },
	{ S_PLACE, "village", 0 },
	{ S_BOARD, "place", K_REQ },
	{ S_BOARD, "location", K_REQ },
	{ S_BOARD, "gps", 0 },
	{ S_BOARD, "probe", 0 },
	{ S_TARGET, "board", K_REQ },
	{ S_TARGET, "procedure", K_REQ },
	{ S_TARGET, "kind", 0 },
	{ S_TARGET, "image", 0 },
	{ S_TARGET, "image_url", 0 },
	{ S_TARGET, "image_allow_private", 0 },
	{ S_TARGET, "payload", 0 },
	{ S_TARGET, "payee", 0 },
	{ S_TARGET, "official_domains", 0 },
	{ S_TARGET, "interval", 0 },
	{ S_TARGET, "slo_ms", 0 },
	{ S_TARGET, "flow", 0 },
	{ S_TARGET, "allow_private", 0 },
	{ S_TARGET, "expect_text", K_REP },
	{ S_TARGET, "connect_timeout_ms", 0 },
	{ S_TARGET, "first_byte_ms", 0 },
	{ S_TARGET, "stall_ms", 0 },
	{ S_TARGET, "deadline_ms", 0 },
	{ S_TARGET, "open_after", 0 },
	{ S_TARGET, "resolve_after", 0 },
	{ S_TARGET, "extra_ca", 0 },
	{ S_TARGET, "checked_from", 0 },
	{ S_TARGET, "procedure_code", 0 },
	{ S_TARGET, "lookup", 0 },
	{ S_TARGET, "replaces", K_REP },
	{ S_FLOW, "name", K_REQ },
	{ S_STEP, "name", K_REQ },
	{ S_STEP, "method", 0 },
	{ S_STEP, "url", K_REQ },
	{ S_STEP, "header", K_REP },
	{ S_STEP, "form", K_REP },
	{ S_STEP, "enctype", 0 },
	{ S_STEP, "json", 0 },
	{ S_STEP, "capture", K_REP },
	{ S_STEP, "expect_status", 0 },
	{ S_STEP, "expect_text", K_REP },
	{ S_STEP, "reject_text", K_REP },
	{ S_STEP, "slo_ms", 0 },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct kv {
	const char *key, *val;
	int line;
};

struct sec {
	enum sec_kind kind;
	const char *id;		/* NULL for [step] */
	int line;
	size_t kv0, nkv;	/* range in the parser's kv array */
	int flow;		/* for a step: index of its [flow] section */
};

struct parser {
	const char *name;
	struct catalog *cat;
	struct buf *errors;
	int nerrors;
	struct sec *secs;
	size_t nsecs, capsecs;
	struct kv *kvs;
	size_t nkvs, capkvs;
};

__attribute__((format(printf, 3, 4)))
static void perr(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	if (p->nerrors++ >= CATALOG_MAX_ERRORS)
		return;
	if (line > 0)
		buf_addf(p->errors, "%s:%d: ", p->name, line);
	else
		buf_addf(p->errors, "%s: ", p->name);
	va_start(ap, fmt);
	buf_vaddf(p->errors, fmt, ap);
	va_end(ap);
	buf_addc(p->errors, '\n');
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	void *q;
	size_t nc;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : 64;
	q = realloc(*arr, nc * size);
	if (!q)
		return -1;
	*arr = q;
	*cap = nc;
	return 0;
}

static int valid_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CATALOG_ID_MAX || !(islower((unsigned char)s[0]) ||
					      isdigit((unsigned char)s[0])))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
		      s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

static const struct keydef *find_key(enum sec_kind k, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].sec == k && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* The key of section kind k nearest to name (at most two edits), or NULL. */
static const char *closest_key(enum sec_kind k, const char *name)
{
	const char *best = NULL;
	int bd = 3;

	for (size_t i = 0; i < NKEYS; i++) {
		int d;

		if (keys[i].sec != k)
			continue;
		d = text_distance_max(keys[i].name, name, 2);
		if (d < bd) {
			bd = d;
			best = keys[i].name;
		}
	}
	return best;
}

/* Pass 1: lines into sections and key/value pairs. */
static void parse_lines(struct parser *p, const char *text, size_t len)
{
	struct arena *a = &p->cat->arena;
	size_t pos = 0;
	int line = 0, cur = -1, flow = -1;

	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char raw[CATALOG_MAX_LINE + 1], *s;

		line++;
		if (n > CATALOG_MAX_LINE) {
			perr(p, line, "line is longer than %d bytes", CATALOG_MAX_LINE);
			pos += n + 1;
			continue;
		}
		memcpy(raw, text + pos, n);
		raw[n] = '\0';
		pos += n + 1;
		if (memchr(raw, '\0', n)) {
			perr(p, line, "line contains a NUL byte");
			continue;
		}
		if (!utf8_valid(raw, n)) {
			perr(p, line, "line is not valid UTF-8 (save the file as UTF-8)");
			continue;
		}
		s = text_trim(raw);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']'), *id;
			enum sec_kind k;
			struct sec *sec;

			if (!end || end[1] != '\0') {
				perr(p, line, "section header must look like "
				     "'[target ID]'");
				cur = -2;
				continue;
			}
			*end = '\0';
			s = text_trim(s + 1);
			id = strpbrk(s, " \t");
			if (id) {
				*id++ = '\0';
				id = text_trim(id);
			}
			for (k = 0; k < S_COUNT; k++)
				if (strcmp(s, sec_names[k]) == 0)
					break;
			if (k == S_COUNT) {
				perr(p, line, "unknown section '%s' (expected place, "
				     "board, target, flow or step)", s);
				cur = -2;
				continue;
			}
			if (k == S_STEP && id && *id) {
				perr(p, line, "[step] takes no id; steps are numbered "
				     "in the order they appear");
				cur = -2;
				continue;
			}
			if (k != S_STEP && (!id || !valid_id(id))) {
				perr(p, line, "[%s] needs an id of lower-case letters, "
				     "digits, '-', '_' or '.' (at most %d), got '%s'",
				     sec_names[k], CATALOG_ID_MAX, id ? id : "");
				cur = -2;
				continue;
			}
			if (k == S_STEP && flow < 0) {
				perr(p, line, "[step] must follow a [flow] section");
				cur = -2;
				continue;
			}
			if (p->nsecs >= CATALOG_MAX_ITEMS ||
			    grow((void **)&p->secs, &p->capsecs, p->nsecs,
				 sizeof(*p->secs)) < 0) {
				perr(p, line, "too many sections (limit %d)",
				     CATALOG_MAX_ITEMS);
				return;
			}
			sec = &p->secs[p->nsecs];
			sec->kind = k;
			sec->id = k == S_STEP ? NULL : arena_strdup(a, id);
			sec->line = line;
			sec->kv0 = p->nkvs;
			sec->nkv = 0;
			sec->flow = k == S_STEP ? flow : -1;
			cur = (int)p->nsecs++;
			if (k == S_FLOW)
				flow = cur;
			else if (k != S_STEP)
				flow = -1;
			continue;
		}
		{
			char *eq = strchr(s, '='), *key, *val;
			const struct keydef *kd;
			struct sec *sec;

			if (!eq) {
				perr(p, line, "expected 'key = value' or a [section]");
				continue;
			}
			*eq = '\0';
			key = text_trim(s);
			val = text_trim(eq + 1);
			if (cur == -2)
				continue;	/* inside a section already reported */
			if (cur < 0) {
				perr(p, line, "key '%s' comes before any [section]", key);
				continue;
			}
			sec = &p->secs[cur];
			kd = find_key(sec->kind, key);
			if (!kd) {
				const char *near = closest_key(sec->kind, key);

				if (near)
					perr(p, line, "unknown key '%s' in [%s] (did you "
					     "mean '%s'?)", key, sec_names[sec->kind], near);
				else
					perr(p, line, "unknown key '%s' in [%s]", key,
					     sec_names[sec->kind]);
				continue;
			}
			if (!*val) {
				perr(p, line, "key '%s' has no value", key);
				continue;
			}
			if (!(kd->flags & K_REP)) {
				for (size_t i = sec->kv0; i < sec->kv0 + sec->nkv; i++)
					if (strcmp(p->kvs[i].key, key) == 0) {
						perr(p, line, "key '%s' given twice (first "
						     "at line %d)", key, p->kvs[i].line);
						goto next;
					}
			}
			if (grow((void **)&p->kvs, &p->capkvs, p->nkvs,
				 sizeof(*p->kvs)) < 0) {
				perr(p, line, "out of memory");
				return;
			}
			/* keys of one section are contiguous: sections end at the next header */
			p->kvs[p->nkvs].key = kd->name;
			p->kvs[p->nkvs].val = arena_strdup(a, val);
			p->kvs[p->nkvs].line = line;
			p->nkvs++;
			sec->nkv++;
		}
next:		;
	}
}

/* Values of a section's key. */
static const struct kv *get(const struct parser *p, const struct sec *s,
			    const char *key)
{
	for (size_t i = s->kv0; i < s->kv0 + s->nkv; i++)
		if (strcmp(p->kvs[i].key, key) == 0)
			return &p->kvs[i];
	return NULL;
}

static const char *getv(const struct parser *p, const struct sec *s,
			const char *key)
{
	const struct kv *kv = get(p, s, key);

	return kv ? kv->val : NULL;
}

static size_t count(const struct parser *p, const struct sec *s, const char *key)
{
	size_t n = 0;

	for (size_t i = s->kv0; i < s->kv0 + s->nkv; i++)
		n += strcmp(p->kvs[i].key, key) == 0;
	return n;
}

/* Collect every value of a repeatable key into an arena array. */
static const char **getall(struct parser *p, const struct sec *s,
			   const char *key, size_t *n)
{
	size_t k = 0, c = count(p, s, key);
	const char **arr;

	*n = 0;
	if (c == 0)
		return NULL;
	arr = arena_alloc(&p->cat->arena, c * sizeof(*arr));
	if (!arr)
		return NULL;
	for (size_t i = s->kv0; i < s->kv0 + s->nkv; i++)
		if (strcmp(p->kvs[i].key, key) == 0)
			arr[k++] = p->kvs[i].val;
	*n = k;
	return arr;
}

static void check_required(struct parser *p, const struct sec *s)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].sec == s->kind && (keys[i].flags & K_REQ) &&
		    !get(p, s, keys[i].name)) {
			if (s->id)
				perr(p, s->line, "[%s %s] is missing required key '%s'",
				     sec_names[s->kind], s->id, keys[i].name);
			else
				perr(p, s->line, "[%s] is missing required key '%s'",
				     sec_names[s->kind], keys[i].name);
		}
}

static int parse_bool(struct parser *p, const struct kv *kv, int *out)
{
	if (!kv) {
		*out = 0;
		return 0;
	}
	if (!strcmp(kv->val, "yes") || !strcmp(kv->val, "true") ||
	    !strcmp(kv->val, "1")) {
		*out = 1;
		return 0;
	}
	if (!strcmp(kv->val, "no") || !strcmp(kv->val, "false") ||
	    !strcmp(kv->val, "0")) {
		*out = 0;
		return 0;
	}
	perr(p, kv->line, "'%s' must be yes or no, got '%s'", kv->key, kv->val);
	return -1;
}

static void parse_long(struct parser *p, const struct kv *kv, long min,
		       long max, long def, long *out)
{
	*out = def;
	if (!kv)
		return;
	if (text_to_long(kv->val, min, max, out) < 0) {
		perr(p, kv->line, "'%s' must be a whole number from %ld to %ld, "
		     "got '%s'", kv->key, min, max, kv->val);
		*out = def;
	}
}

/* Split a space-separated list into an arena array. */
static const char **split_words(struct arena *a, const char *s, size_t *n)
{
	size_t c = 0, k = 0;
	const char **arr;
	const char *q = s;

	while (*q) {
		while (*q == ' ' || *q == '\t' || *q == ',')
			q++;
		if (!*q)
			break;
		c++;
		while (*q && *q != ' ' && *q != '\t' && *q != ',')
			q++;
	}
	*n = 0;
	arr = c ? arena_alloc(a, c * sizeof(*arr)) : NULL;
	if (!arr)
		return NULL;
	q = s;
	while (*q) {
		const char *w;

		while (*q == ' ' || *q == '\t' || *q == ',')
			q++;
		if (!*q)
			break;
		w = q;
		while (*q && *q != ' ' && *q != '\t' && *q != ',')
			q++;
		arr[k++] = arena_strndup(a, w, (size_t)(q - w));
	}
	*n = k;
	return arr;
}

/*
 * Index of sorted (id, position) pairs for duplicate checks and look-ups;
 * the catalog keeps those of its targets and boards (catalog.h).
 */
static int idx_cmp(const void *a, const void *b)
{
	const struct catalog_ix *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c)
		return c;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static struct catalog_ix *build_index(struct parser *p, enum sec_kind k, size_t *n)
{
	struct catalog_ix *ix;
	int *line;		/* of each section by position, for the messages */
	size_t c = 0;

	for (size_t i = 0; i < p->nsecs; i++)
		c += p->secs[i].kind == k;
	*n = c;
	ix = calloc(c ? c : 1, sizeof(*ix));
	line = calloc(c ? c : 1, sizeof(*line));
	if (!ix || !line) {
		free(ix);
		free(line);
		return NULL;
	}
	c = 0;
	for (size_t i = 0; i < p->nsecs; i++)
		if (p->secs[i].kind == k) {
			ix[c].id = p->secs[i].id;
			ix[c].pos = c;
			line[c] = p->secs[i].line;
			c++;
		}
	qsort(ix, c, sizeof(*ix), idx_cmp);
	for (size_t i = 1; i < c; i++)
		if (strcmp(ix[i].id, ix[i - 1].id) == 0)
			perr(p, line[ix[i].pos], "duplicate %s id '%s' (first defined at line %d)",
			     sec_names[k], ix[i].id, line[ix[i - 1].pos]);
	free(line);
	return ix;
}

/* The position of id in a sorted index of n, or -1. */
static long lookup(const struct catalog_ix *ix, size_t n, const char *id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ix[mid].id, id);

		if (c == 0)
			return (long)ix[mid].pos;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void build_place(struct parser *p, const struct sec *s, struct place *pl)
{
	pl->id = s->id;
	pl->line = s->line;
	pl->province = getv(p, s, "province");
	pl->district = getv(p, s, "district");
	pl->commune = getv(p, s, "commune");
	pl->village = getv(p, s, "village");
}

static void build_board(struct parser *p, const struct sec *s, struct board *b,
			const struct catalog_ix *pix, size_t npix)
{
	const struct kv *place = get(p, s, "place"), *gps = get(p, s, "gps");

	b->id = s->id;
	b->line = s->line;
	b->location = getv(p, s, "location");
	b->probe = getv(p, s, "probe");
	if (b->probe && !valid_id(b->probe)) {
		perr(p, get(p, s, "probe")->line, "probe of board '%s' must be a probe ID "
		     "(its probe_id: lower-case letters, digits, '-', '_' or '.'), got '%s'",
		     s->id, b->probe);
		b->probe = NULL;
	}
	if (place) {
		long i = lookup(pix, npix, place->val);

		if (i < 0)
			perr(p, place->line, "board '%s' names unknown place '%s'",
			     s->id, place->val);
		else
			b->place = &p->cat->places[i];
	}
	if (gps) {
		char *end;
		double lat, lon;

		errno = 0;
		lat = strtod(gps->val, &end);
		if (end != gps->val && *end == ',') {
			const char *q = end + 1;

			while (*q == ' ')
				q++;
			lon = strtod(q, &end);
			if (!errno && end != q && *end == '\0' && lat >= -90 &&
			    lat <= 90 && lon >= -180 && lon <= 180) {
				b->has_gps = 1;
				b->lat = lat;
				b->lon = lon;
				return;
			}
		}
		perr(p, gps->line, "'gps' must be 'LATITUDE,LONGITUDE' in degrees "
		     "(e.g. '21.0871,105.8012'), got '%s'", gps->val);
	}
}

/* Length of a {name} placeholder's name at p (just after '{'), 0 if none. */
static size_t placeholder_len(const char *p)
{
	size_t n = 0;

	while (islower((unsigned char)p[n]) || isdigit((unsigned char)p[n]) ||
	       p[n] == '_')
		n++;
	return n > 0 && p[n] == '}' ? n : 0;
}

/*
 * Placeholders {name} (lower-case letters, digits, '_') in a template must
 * be known at that step; any other '{' is literal text (JSON bodies).
 */
static void check_template(struct parser *p, int line, const char *what,
			   const char *t, const char **known, size_t nknown)
{
	const char *q = t;

	while ((q = strchr(q, '{')) != NULL) {
		size_t n = placeholder_len(q + 1);
		int ok = 0;

		if (n == 0) {
			q++;
			continue;
		}
		if ((n == 7 && memcmp(q + 1, "payload", 7) == 0) ||
		    (n == 4 && memcmp(q + 1, "code", 4) == 0))
			ok = 1;
		for (size_t i = 0; i < nknown && !ok; i++)
			ok = strlen(known[i]) == n && memcmp(known[i], q + 1, n) == 0;
		if (!ok)
			perr(p, line, "%s uses {%.*s}, which is neither {payload}, {code} "
			     "nor captured by an earlier step", what, (int)n, q + 1);
		q += n + 2;
	}
}

/* Whether url starts with a scheme ("https://"), not a relative link whose query holds "://". */
static int has_scheme(const char *url)
{
	size_t n = 0;

	if (!isalpha((unsigned char)url[0]))
		return 0;
	while (isalnum((unsigned char)url[n]) || url[n] == '+' || url[n] == '-' ||
	       url[n] == '.')
		n++;
	return strncmp(url + n, "://", 3) == 0;
}

/* expect_text and reject_text are matched as written: a placeholder there is a mistake. */
static void check_literal(struct parser *p, int line, const char *what,
			  const char *const *texts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *q = texts[i];

		while ((q = strchr(q, '{')) != NULL) {
			size_t len = placeholder_len(q + 1);

			if (len) {
				perr(p, line, "%s '%s' would be matched as written: "
				     "placeholders such as {%.*s} are not filled in there",
				     what, texts[i], (int)len, q + 1);
				break;
			}
			q++;
		}
	}
}

static int valid_capture_name(const char *s, size_t n)
{
	if (n == 0 || n > 32)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
		      s[i] == '_'))
			return 0;
	return 1;
}

static int valid_json_path(const char *s)
{
	/* $.a.b[2].c  or  a.b.c */
	if (*s == '$')
		s++;
	if (*s == '.')
		s++;
	if (!*s)
		return 0;
	while (*s) {
		if (*s == '[') {
			s++;
			if (!isdigit((unsigned char)*s))
				return 0;
			while (isdigit((unsigned char)*s))
				s++;
			if (*s++ != ']')
				return 0;
		} else if (*s == '.') {
			s++;
			if (!*s || *s == '.')
				return 0;
		} else if (isalnum((unsigned char)*s) || *s == '_' || *s == '-') {
			s++;
		} else {
			return 0;
		}
	}
	return 1;
}

/* x * k, or more than CATALOG_REGEX_MAX_EXPANDED: never overflows. */
static unsigned long regex_times(unsigned long x, unsigned long k)
{
	const unsigned long cap = CATALOG_REGEX_MAX_EXPANDED + 1;

	return k && x > cap / k ? cap : x * k < cap ? x * k : cap;
}

/* Past a bracket expression "[...]" that starts at s (glibc's reading). */
static const char *regex_skip_bracket(const char *s)
{
	s++;
	if (*s == '^')
		s++;
	if (*s == ']')
		s++;	/* a ']' first is literal */
	while (*s && *s != ']') {
		if (s[0] == '[' && (s[1] == ':' || s[1] == '.' || s[1] == '=')) {
			const char *end = strchr(s + 2, s[1]);

			while (end && end[1] != ']')
				end = strchr(end + 1, s[1]);
			if (!end)
				return s + strlen(s);
			s = end + 2;
			continue;
		}
		s++;
	}
	return *s ? s + 1 : s;
}

/*
 * How many pieces regcomp() makes of the ERE s, counting a repeated piece
 * once per copy ({n,m} is m copies, {n,} n + 1, '+' two) and a group as
 * a piece of its own besides what it holds, up to
 * CATALOG_REGEX_MAX_EXPANDED + 1. Sets *backref when s has \1..\9.
 */
static unsigned long regex_expanded(const char *s, int *backref)
{
	enum { DEPTH = CATALOG_REGEX_MAX / 2 + 1 };
	unsigned long sum[DEPTH + 1], last[DEPTH + 1];
	int d = 0;

	*backref = 0;
	sum[0] = last[0] = 0;
	while (*s) {
		unsigned long lo = 0, hi = 0;
		char *end;

		switch (*s) {
		case '(':
			if (d == DEPTH)
				return CATALOG_REGEX_MAX_EXPANDED + 1;
			d++;
			sum[d] = last[d] = 0;
			s++;
			continue;
		case ')':
			if (d > 0) {
				/* the group is a piece itself, even an empty one (found by fuzz_catalog) */
				unsigned long w = regex_times(sum[d] + last[d] + 1, 1);

				d--;
				sum[d] = regex_times(sum[d] + last[d], 1);
				last[d] = w;
				s++;
				continue;
			}
			break;	/* an unmatched ')' is a literal */
		case '|':
			sum[d] = regex_times(sum[d] + last[d], 1);
			last[d] = 0;
			s++;
			continue;
		case '*':
		case '?':
			s++;
			continue;
		case '+':
			last[d] = regex_times(last[d], 2);
			s++;
			continue;
		case '{':
			if (isdigit((unsigned char)s[1]) || s[1] == ',') {
				const char *q = s + 1;

				lo = strtoul(q, &end, 10);
				q = end;
				hi = lo;
				if (*q == ',') {
					q++;
					hi = isdigit((unsigned char)*q) ? strtoul(q, &end, 10) : lo + 1;
					q = isdigit((unsigned char)*q) ? end : q;
				}
				if (*q == '}') {
					last[d] = regex_times(last[d], hi > lo ? hi : lo ? lo : 1);
					s = q + 1;
					continue;
				}
			}
			break;	/* not an interval: a literal '{' */
		case '\\':
			if (s[1] >= '1' && s[1] <= '9')
				*backref = 1;
			if (s[1])
				s++;
			break;
		case '[':
			sum[d] = regex_times(sum[d] + last[d], 1);
			last[d] = 1;
			s = regex_skip_bracket(s);
			continue;
		}
		/* one literal piece */
		sum[d] = regex_times(sum[d] + last[d], 1);
		last[d] = 1;
		s++;
	}
	while (d > 0) {	/* unclosed groups: regcomp refuses them anyway */
		d--;
		sum[d] = regex_times(sum[d] + last[d] + sum[d + 1] + last[d + 1], 1);
		last[d] = 0;
	}
	return regex_times(sum[0] + last[0], 1);
}

/* Whether the capture's pattern is safe to compile and run on any page. */
static int check_regex(struct parser *p, int line, const struct capture *c)
{
	size_t n = strlen(c->expr);
	int backref;

	if (n > CATALOG_REGEX_MAX) {
		perr(p, line, "capture '%s': the regular expression is %zu characters long, "
		     "more than %d", c->name, n, CATALOG_REGEX_MAX);
		return -1;
	}
	if (regex_expanded(c->expr, &backref) > CATALOG_REGEX_MAX_EXPANDED) {
		perr(p, line, "capture '%s': the regular expression '%s' repeats too much "
		     "(nested repetitions such as {1,100} multiply; at most %d pieces once "
		     "they are copied)", c->name, c->expr, CATALOG_REGEX_MAX_EXPANDED);
		return -1;
	}
	if (backref) {
		perr(p, line, "capture '%s': the regular expression '%s' has a back-reference "
		     "(\\1 to \\9), which can make matching a page take hours; match the "
		     "text itself instead", c->name, c->expr);
		return -1;
	}
	return 0;
}

static void build_capture(struct parser *p, int line, const char *spec,
			  struct capture *c)
{
	struct arena *a = &p->cat->arena;
	const char *sp1 = strchr(spec, ' '), *src, *sp2, *expr;
	regex_t re;
	int rc;

	if (!sp1 || !valid_capture_name(spec, (size_t)(sp1 - spec)))
		goto bad;
	c->name = arena_strndup(a, spec, (size_t)(sp1 - spec));
	src = sp1;
	while (*src == ' ')
		src++;
	sp2 = strchr(src, ' ');
	if (!sp2)
		goto bad;
	expr = sp2;
	while (*expr == ' ')
		expr++;
	if (!*expr)
		goto bad;
	c->expr = arena_strdup(a, expr);
	if ((size_t)(sp2 - src) == 4 && memcmp(src, "body", 4) == 0) {
		c->source = CAPTURE_BODY;
	} else if ((size_t)(sp2 - src) == 4 && memcmp(src, "json", 4) == 0) {
		c->source = CAPTURE_JSON;
		if (!valid_json_path(expr))
			perr(p, line, "capture '%s': '%s' is not a JSON path such as "
			     "'$.data.token' or 'items[0].id'", c->name, expr);
		return;
	} else if ((size_t)(sp2 - src) == 5 && memcmp(src, "field", 5) == 0) {
		c->source = CAPTURE_FIELD;
		if (strchr(expr, ' '))
			perr(p, line, "capture '%s': a form field's name has no spaces, "
			     "got '%s'", c->name, expr);
		return;
	} else if ((size_t)(sp2 - src) == 7 && memcmp(src, "element", 7) == 0) {
		c->source = CAPTURE_ELEMENT;
		if (strchr(expr, ' ') || (expr[0] == '#' && !expr[1]))
			perr(p, line, "capture '%s': an element is '#ID' or a tag name "
			     "such as 'h1', got '%s'", c->name, expr);
		return;
	} else if (sp2 - src > 7 && memcmp(src, "header:", 7) == 0) {
		c->source = CAPTURE_HEADER;
		c->header = arena_strndup(a, src + 7, (size_t)(sp2 - src - 7));
	} else {
		goto bad;
	}
	if (check_regex(p, line, c) < 0)
		return;
	rc = regcomp(&re, expr, REG_EXTENDED);
	if (rc != 0) {
		char msg[128];

		regerror(rc, &re, msg, sizeof(msg));
		perr(p, line, "capture '%s': bad regular expression '%s': %s",
		     c->name, expr, msg);
		return;
	}
	regfree(&re);
	return;
bad:
	perr(p, line, "capture must be 'NAME body REGEX', 'NAME header:Header-Name "
	     "REGEX', 'NAME json PATH', 'NAME field FIELD-NAME' or 'NAME element "
	     "#ID|TAG', got '%s'", spec);
}

static void build_step(struct parser *p, const struct sec *s, struct step *st,
		       const char **known, size_t *nknown)
{
	struct arena *a = &p->cat->arena;
	const struct kv *kv;
	size_t n;

	st->line = s->line;
	st->name = getv(p, s, "name");
	st->method = getv(p, s, "method");
	if (!st->method)
		st->method = "GET";
	else if (strcmp(st->method, "GET") && strcmp(st->method, "POST") &&
		 strcmp(st->method, "PUT") && strcmp(st->method, "HEAD"))
		perr(p, get(p, s, "method")->line, "method must be GET, POST, PUT or "
		     "HEAD, got '%s'", st->method);
	st->url = getv(p, s, "url");
	if (st->url) {
		kv = get(p, s, "url");
		check_template(p, kv->line, "url", st->url, known, *nknown);
		if (!strchr(st->url, '{') && has_scheme(st->url)) {
			char host[DOMAIN_MAX];
			struct err e;

			if (url_parse_http(st->url, host, sizeof(host), &e) < 0)
				perr(p, kv->line, "bad url '%s': %s", st->url, e.msg);
		}
	}
	st->headers = getall(p, s, "header", &st->nheaders);
	for (size_t i = 0; i < st->nheaders; i++) {
		const char *colon = strchr(st->headers[i], ':');

		if (!colon || colon == st->headers[i] ||
		    strcspn(st->headers[i], " \t") < (size_t)(colon - st->headers[i]))
			perr(p, s->line, "header must be 'Name: value', got '%s'",
			     st->headers[i]);
		else
			check_template(p, s->line, "header", st->headers[i], known,
				       *nknown);
	}
	st->form = getall(p, s, "form", &st->nform);
	for (size_t i = 0; i < st->nform; i++) {
		if (!strchr(st->form[i], '=') || st->form[i][0] == '=')
			perr(p, s->line, "form must be 'field=value', got '%s'",
			     st->form[i]);
		check_template(p, s->line, "form", st->form[i], known, *nknown);
	}
	kv = get(p, s, "enctype");
	if (kv) {
		if (!strcmp(kv->val, "multipart/form-data"))
			st->multipart = 1;
		else if (strcmp(kv->val, "application/x-www-form-urlencoded"))
			perr(p, kv->line, "enctype must be application/x-www-form-urlencoded "
			     "or multipart/form-data, got '%s'", kv->val);
		if (!st->nform)
			perr(p, kv->line, "enctype says how form fields are sent, and this "
			     "step has none");
	}
	st->json = getv(p, s, "json");
	if (st->json) {
		struct json_object *o;

		kv = get(p, s, "json");
		o = json_tokener_parse(st->json);
		if (!o)
			perr(p, kv->line, "json body is not valid JSON "
			     "(placeholders go inside strings: \"{token}\")");
		json_object_put(o);
		check_template(p, kv->line, "json", st->json, known, *nknown);
		if (st->nform)
			perr(p, kv->line, "a step has either form fields or a json "
			     "body, not both");
	}
	n = count(p, s, "capture");
	st->captures = n ? arena_alloc(a, n * sizeof(*st->captures)) : NULL;
	for (size_t i = s->kv0; i < s->kv0 + s->nkv; i++) {
		if (strcmp(p->kvs[i].key, "capture") != 0 || !st->captures)
			continue;
		build_capture(p, p->kvs[i].line, p->kvs[i].val,
			      &st->captures[st->ncaptures]);
		if (st->captures[st->ncaptures].name && *nknown < 64)
			known[(*nknown)++] = st->captures[st->ncaptures].name;
		st->ncaptures++;
	}
	kv = get(p, s, "expect_status");
	if (kv) {
		size_t nw;
		const char **w = split_words(a, kv->val, &nw);

		st->expect_status = nw ? arena_alloc(a, nw * sizeof(int)) : NULL;
		for (size_t i = 0; i < nw && st->expect_status; i++) {
			long v;

			if (text_to_long(w[i], 100, 599, &v) < 0)
				perr(p, kv->line, "expect_status must be HTTP status "
				     "codes (100-599), got '%s'", w[i]);
			else
				st->expect_status[st->nexpect_status++] = (int)v;
		}
	}
	st->expect_text = getall(p, s, "expect_text", &st->nexpect_text);
	st->reject_text = getall(p, s, "reject_text", &st->nreject_text);
	check_literal(p, s->line, "expect_text", st->expect_text, st->nexpect_text);
	check_literal(p, s->line, "reject_text", st->reject_text, st->nreject_text);
	parse_long(p, get(p, s, "slo_ms"), TARGET_SLO_MIN, TARGET_SLO_MAX, 0,
		   &st->slo_ms);
}

static void build_flow(struct parser *p, size_t si, struct flow *f)
{
	const struct sec *s = &p->secs[si];
	const char *known[64];
	size_t nknown = 0, nsteps = 0, k = 0;

	f->id = s->id;
	f->line = s->line;
	f->name = getv(p, s, "name");
	for (size_t i = si + 1; i < p->nsecs && p->secs[i].kind == S_STEP; i++)
		nsteps++;
	if (nsteps == 0) {
		perr(p, s->line, "flow '%s' has no [step] sections", s->id);
		return;
	}
	if (nsteps > CATALOG_MAX_STEPS) {
		perr(p, s->line, "flow '%s' has %zu steps, more than %d", s->id,
		     nsteps, CATALOG_MAX_STEPS);
		return;
	}
	f->steps = arena_alloc(&p->cat->arena, nsteps * sizeof(*f->steps));
	if (!f->steps)
		return;
	for (size_t i = si + 1; i < p->nsecs && p->secs[i].kind == S_STEP; i++) {
		check_required(p, &p->secs[i]);
		build_step(p, &p->secs[i], &f->steps[k++], known, &nknown);
	}
	f->nsteps = k;
}

static void check_url_payload(struct parser *p, int line, struct target *t)
{
	char host[DOMAIN_MAX];
	struct err e;

	if (url_parse_http(t->payload, host, sizeof(host), &e) < 0) {
		perr(p, line, "payload of url target '%s' is not a usable link: %s",
		     t->id, e.msg);
		return;
	}
	if (t->nofficial && !domain_is_official(host, t->official, t->nofficial))
		perr(p, line, "payload host '%s' of target '%s' is not under its "
		     "official_domains", host, t->id);
}

static void check_vietqr(struct parser *p, const struct sec *s, struct target *t)
{
	const struct kv *payee = get(p, s, "payee"), *pl = get(p, s, "payload");
	struct arena *a = &p->cat->arena;

	if (!payee) {
		perr(p, s->line, "vietqr target '%s' needs 'payee = BIN:ACCOUNT'",
		     t->id);
		return;
	}
	{
		const char *colon = strchr(payee->val, ':');
		long dummy;
		size_t alen;

		if (!colon || colon - payee->val != 6 ||
		    text_to_long(arena_strndup(a, payee->val, 6), 0, 999999,
				 &dummy) < 0) {
			perr(p, payee->line, "payee must be 'BIN:ACCOUNT' with a "
			     "6-digit bank BIN, got '%s'", payee->val);
			return;
		}
		alen = strlen(colon + 1);
		if (alen == 0 || alen > 19 ||
		    strspn(colon + 1, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != alen) {
			perr(p, payee->line, "payee account must be 1-19 digits or "
			     "capital letters, got '%s'", colon + 1);
			return;
		}
		t->payee_bin = arena_strndup(a, payee->val, 6);
		t->payee_account = arena_strdup(a, colon + 1);
	}
	if (pl) {
		struct emvco em;
		struct err e;

		if (emvco_parse(pl->val, strlen(pl->val), &em, &e) < 0)
			perr(p, pl->line, "payload is not a valid payment code: %s",
			     e.msg);
		else if (!em.crc_ok)
			perr(p, pl->line, "payload checksum (field 63) is %04X but "
			     "its content gives %04X", em.crc_given, em.crc_computed);
		else if (!em.has_payee || strcmp(em.bin, t->payee_bin) ||
			 strcmp(em.account, t->payee_account))
			perr(p, pl->line, "payload pays %s:%s, not the payee %s:%s",
			     em.bin, em.account, t->payee_bin, t->payee_account);
	}
}

/* A file named by the catalog: an absolute path, or one beside the catalog. */
static const char *beside_catalog(struct parser *p, const char *name)
{
	size_t n;
	char *path;

	if (name[0] == '/' || !p->cat->dir[0])
		return name;
	n = strlen(p->cat->dir) + strlen(name) + 2;
	path = arena_alloc(&p->cat->arena, n);
	if (path)
		snprintf(path, n, "%s/%s", p->cat->dir, name);
	return path;
}

/* The flow a target's key names, or NULL (unknown: said, as "names unknown WHAT"). */
static const struct flow *flow_ref(struct parser *p, const struct sec *s, const char *key,
				   const char *what, const struct catalog_ix *fix, size_t nfix)
{
	const struct kv *kv = get(p, s, key);
	long i;

	if (!kv)
		return NULL;
	i = lookup(fix, nfix, kv->val);
	if (i < 0) {
		perr(p, kv->line, "target '%s' names unknown %s '%s'", s->id, what, kv->val);
		return NULL;
	}
	return &p->cat->flows[i];
}

/* "1.001193": digits, then one or more dot-separated groups of digits. */
static int procedure_code_ok(const char *s)
{
	int groups = 0, digits = 0;

	for (; *s; s++) {
		if (isdigit((unsigned char)*s)) {
			digits++;
		} else if (*s == '.' && digits) {
			groups++;
			digits = 0;
		} else {
			return 0;
		}
	}
	return groups > 0 && digits > 0;
}

/* `checked_from = all | place PLACE-ID | PROBE-ID...`: who walks the web flow. */
static void build_from(struct parser *p, const struct sec *s, struct target *t,
		       const struct catalog_ix *pix, size_t npix)
{
	const struct kv *kv = get(p, s, "checked_from");
	const char **w;
	size_t n = 0;

	t->from = FROM_ALL;
	if (!kv)
		return;
	w = split_words(&p->cat->arena, kv->val, &n);
	if (!w || n == 0) {
		perr(p, kv->line, "checked_from must be 'all', 'place PLACE-ID' or probe IDs");
		return;
	}
	if (!strcmp(w[0], "all")) {
		if (n > 1)
			perr(p, kv->line, "checked_from = all takes nothing after it");
		return;
	}
	if (!strcmp(w[0], "place")) {
		long i = n == 2 ? lookup(pix, npix, w[1]) : -1;

		if (n != 2)
			perr(p, kv->line, "checked_from = place takes one place ID");
		else if (i < 0)
			perr(p, kv->line, "checked_from names unknown place '%s'", w[1]);
		else {
			t->from = FROM_PLACE;
			t->from_place = &p->cat->places[i];
		}
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (!valid_id(w[i])) {
			perr(p, kv->line, "checked_from: '%s' is not a probe ID (lower-case "
			     "letters, digits, '-', '_' or '.'), nor 'all' or 'place'", w[i]);
			return;
		}
	t->from = FROM_PROBES;
	t->from_probes = w;
	t->nfrom_probes = n;
}

static void build_target(struct parser *p, const struct sec *s, struct target *t,
			 const struct catalog_ix *bix, size_t nbix,
			 const struct catalog_ix *fix, size_t nfix,
			 const struct catalog_ix *pix, size_t npix)
{
	struct arena *a = &p->cat->arena;
	const struct kv *kv;

	t->id = s->id;
	t->line = s->line;
	t->procedure = getv(p, s, "procedure");
	kv = get(p, s, "board");
	if (kv) {
		long i = lookup(bix, nbix, kv->val);

		if (i < 0)
			perr(p, kv->line, "target '%s' names unknown board '%s'",
			     s->id, kv->val);
		else
			t->board = &p->cat->boards[i];
	}
	kv = get(p, s, "kind");
	t->kind = TARGET_URL;
	if (kv) {
		if (!strcmp(kv->val, "url"))
			t->kind = TARGET_URL;
		else if (!strcmp(kv->val, "vietqr"))
			t->kind = TARGET_VIETQR;
		else if (!strcmp(kv->val, "text"))
			t->kind = TARGET_TEXT;
		else
			perr(p, kv->line, "kind must be url, vietqr or text, got '%s'",
			     kv->val);
	}
	/* where the board's image comes from: exactly one source */
	kv = get(p, s, "image");
	if (kv && !strcmp(kv->val, "uploads"))
		t->image_uploads = 1;	/* phones' photos, judged by qrwatchd */
	else if (kv)
		t->image = beside_catalog(p, kv->val);
	kv = get(p, s, "extra_ca");
	if (kv)
		t->extra_ca = beside_catalog(p, kv->val);
	kv = get(p, s, "image_url");
	if (kv) {
		char host[DOMAIN_MAX];
		struct err e;

		t->image_url = kv->val;
		if (url_parse_http(kv->val, host, sizeof(host), &e) < 0)
			perr(p, kv->line, "bad image_url '%s': %s", kv->val, e.msg);
	}
	if (t->image_uploads && t->image_url)
		perr(p, get(p, s, "image_url")->line, "target '%s' has both 'image = uploads' "
		     "and 'image_url'; keep one", s->id);
	if (!t->image && !t->image_url && !t->image_uploads)
		perr(p, s->line, "[target %s] needs 'image' (a file, or 'uploads' for photos sent "
		     "to qrwatchd) or 'image_url' "
		     "(a camera snapshot)", s->id);
	if (t->image && t->image_url)
		perr(p, get(p, s, "image_url")->line, "target '%s' has both 'image' "
		     "and 'image_url'; keep one", s->id);
	parse_bool(p, get(p, s, "image_allow_private"), &t->image_allow_private);
	kv = get(p, s, "allow_private");
	if (kv) {
		struct netguard g;
		struct err e;

		if (netguard_parse_allow(&g, kv->val, &e) < 0)
			perr(p, kv->line, "allow_private must be yes, no, or addresses "
			     "and networks: %s", e.msg);
		t->allow_private = g.allow_all || g.nallow;
		t->allow_networks = t->allow_private ? kv->val : NULL;
	}
	parse_long(p, get(p, s, "connect_timeout_ms"), TARGET_TIMEOUT_MIN,
		   TARGET_TIMEOUT_MAX, TARGET_CONNECT_TIMEOUT_DEFAULT,
		   &t->connect_timeout_ms);
	parse_long(p, get(p, s, "first_byte_ms"), TARGET_TIMEOUT_MIN,
		   TARGET_TIMEOUT_MAX, TARGET_FIRST_BYTE_DEFAULT, &t->first_byte_ms);
	parse_long(p, get(p, s, "stall_ms"), TARGET_TIMEOUT_MIN, TARGET_TIMEOUT_MAX,
		   TARGET_STALL_DEFAULT, &t->stall_ms);
	parse_long(p, get(p, s, "deadline_ms"), TARGET_TIMEOUT_MIN,
		   TARGET_TIMEOUT_MAX, TARGET_DEADLINE_DEFAULT, &t->deadline_ms);
	parse_long(p, get(p, s, "open_after"), 1, 100, 0, &t->open_after);
	parse_long(p, get(p, s, "resolve_after"), 1, 100, 0, &t->resolve_after);
	kv = get(p, s, "interval");
	t->interval_s = TARGET_INTERVAL_DEFAULT;
	if (kv && text_to_seconds(kv->val, TARGET_INTERVAL_MIN, TARGET_INTERVAL_MAX,
				  &t->interval_s) < 0)
		perr(p, kv->line, "interval must be a duration from 30s to 1d "
		     "(e.g. '300', '5m', '1h'), got '%s'", kv->val);
	parse_long(p, get(p, s, "slo_ms"), TARGET_SLO_MIN, TARGET_SLO_MAX,
		   TARGET_SLO_DEFAULT, &t->slo_ms);
	t->flow = flow_ref(p, s, "flow", "flow", fix, nfix);
	t->procedure_code = getv(p, s, "procedure_code");
	if (t->procedure_code && !procedure_code_ok(t->procedure_code))
		perr(p, get(p, s, "procedure_code")->line, "procedure_code must be the national "
		     "procedure code, digits with dots such as '1.001193', got '%s'",
		     t->procedure_code);
	t->lookup = flow_ref(p, s, "lookup", "lookup flow", fix, nfix);
	kv = get(p, s, "lookup");
	if (kv) {
		if (!t->procedure_code)
			perr(p, kv->line, "target '%s' has a lookup but no 'procedure_code' "
			     "to look up", s->id);
	}
	t->expect_text = getall(p, s, "expect_text", &t->nexpect_text);
	check_literal(p, s->line, "expect_text", t->expect_text, t->nexpect_text);
	t->payload = getv(p, s, "payload");
	t->replaces = getall(p, s, "replaces", &t->nreplaces);
	if (t->nreplaces && !t->payload)
		perr(p, get(p, s, "replaces")->line, "target '%s' replaces an old code but "
		     "has no 'payload' of its own", s->id);
	for (size_t i = 0; i < t->nreplaces && t->payload; i++)
		if (!strcmp(t->replaces[i], t->payload))
			perr(p, get(p, s, "replaces")->line, "target '%s' replaces its own "
			     "payload '%s'", s->id, t->payload);
	build_from(p, s, t, pix, npix);
	kv = get(p, s, "official_domains");
	if (kv) {
		t->official = split_words(a, kv->val, &t->nofficial);
		for (size_t i = 0; i < t->nofficial; i++) {
			struct err e;

			if (domain_check_official(t->official[i], &e) < 0)
				perr(p, kv->line, "%s", e.msg);
		}
	}
	switch (t->kind) {
	case TARGET_URL:
		if (!t->nofficial)
			perr(p, s->line, "url target '%s' needs 'official_domains'",
			     s->id);
		if (t->payload)
			check_url_payload(p, get(p, s, "payload")->line, t);
		if (get(p, s, "payee"))
			perr(p, get(p, s, "payee")->line, "'payee' applies to vietqr "
			     "targets only");
		break;
	case TARGET_VIETQR:
		if (t->lookup)
			perr(p, get(p, s, "lookup")->line, "a vietqr target has no address to "
			     "look up");
		check_vietqr(p, s, t);
		if (t->flow)
			perr(p, get(p, s, "flow")->line, "a vietqr target has no web "
			     "flow to walk");
		break;
	case TARGET_TEXT:
		if (!t->payload)
			perr(p, s->line, "text target '%s' needs 'payload'", s->id);
		if (t->flow)
			perr(p, get(p, s, "flow")->line, "a text target has no web "
			     "flow to walk");
		break;
	}
}

static void build(struct parser *p)
{
	struct catalog *c = p->cat;
	struct arena *a = &c->arena;
	struct catalog_ix *pix, *bix, *fix, *tix;
	size_t npix, nbix, nfix, ntix, k;

	pix = build_index(p, S_PLACE, &npix);
	bix = build_index(p, S_BOARD, &nbix);
	fix = build_index(p, S_FLOW, &nfix);
	tix = build_index(p, S_TARGET, &ntix);
	if (!pix || !bix || !fix || !tix) {
		perr(p, 0, "out of memory");
		goto out;
	}
	c->places = arena_alloc(a, (npix ? npix : 1) * sizeof(*c->places));
	c->boards = arena_alloc(a, (nbix ? nbix : 1) * sizeof(*c->boards));
	c->flows = arena_alloc(a, (nfix ? nfix : 1) * sizeof(*c->flows));
	c->targets = arena_alloc(a, (ntix ? ntix : 1) * sizeof(*c->targets));
	if (!c->places || !c->boards || !c->flows || !c->targets) {
		perr(p, 0, "out of memory");
		goto out;
	}
	c->nplaces = npix;
	c->nboards = nbix;
	c->nflows = nfix;
	c->ntargets = ntix;
	for (size_t i = 0; i < p->nsecs; i++)
		if (p->secs[i].kind != S_STEP && p->secs[i].kind != S_FLOW)
			check_required(p, &p->secs[i]);
	k = 0;
	for (size_t i = 0; i < p->nsecs; i++)
		if (p->secs[i].kind == S_PLACE)
			build_place(p, &p->secs[i], &c->places[k++]);
	k = 0;
	for (size_t i = 0; i < p->nsecs; i++)
		if (p->secs[i].kind == S_BOARD)
			build_board(p, &p->secs[i], &c->boards[k++], pix, npix);
	k = 0;
	for (size_t i = 0; i < p->nsecs; i++)
		if (p->secs[i].kind == S_FLOW) {
			check_required(p, &p->secs[i]);
			build_flow(p, i, &c->flows[k++]);
		}
	k = 0;
	for (size_t i = 0; i < p->nsecs; i++)
		if (p->secs[i].kind == S_TARGET)
			build_target(p, &p->secs[i], &c->targets[k++], bix, nbix,
				     fix, nfix, pix, npix);
	if (ntix == 0 && p->nerrors == 0)
		perr(p, 0, "no [target] sections: nothing to watch");
	/* the lookups' indices, kept: a server looks up a target per result */
	if (!p->nerrors) {
		struct catalog_ix *ti = arena_alloc(a, (ntix ? ntix : 1) * sizeof(*ti));
		struct catalog_ix *bi = arena_alloc(a, (nbix ? nbix : 1) * sizeof(*bi));

		if (!ti || !bi) {
			perr(p, 0, "out of memory");
			goto out;
		}
		memcpy(ti, tix, ntix * sizeof(*ti));
		memcpy(bi, bix, nbix * sizeof(*bi));
		c->target_ix = ti;
		c->board_ix = bi;
	}
out:
	free(pix);
	free(bix);
	free(fix);
	free(tix);
}

struct catalog *catalog_parse(const char *name, const char *dir,
			      const char *text, size_t len, struct buf *errors)
{
	struct parser p;
	struct catalog *c = calloc(1, sizeof(*c));

	if (!c) {
		buf_addf(errors, "%s: out of memory\n", name);
		return NULL;
	}
	arena_init(&c->arena, 0);
	c->path = arena_strdup(&c->arena, name);
	c->dir = arena_strdup(&c->arena, dir ? dir : "");
	memset(&p, 0, sizeof(p));
	p.name = name;
	p.cat = c;
	p.errors = errors;
	if (len > CATALOG_MAX_BYTES)
		perr(&p, 0, "catalog is %zu bytes, over the limit of %u", len,
		     CATALOG_MAX_BYTES);
	else
		parse_lines(&p, text, len);
	if (p.nsecs)
		build(&p);
	else if (!p.nerrors)
		perr(&p, 0, "no [target] sections: nothing to watch");
	if (p.nerrors > CATALOG_MAX_ERRORS)
		buf_addf(errors, "%s: %d more errors not shown\n", name,
			 p.nerrors - CATALOG_MAX_ERRORS);
	free(p.secs);
	free(p.kvs);
	if (p.nerrors) {
		catalog_free(c);
		return NULL;
	}
	return c;
}

struct catalog *catalog_load(const char *path, struct buf *errors)
{
	struct catalog *c;
	struct err e;
	char *text, dir[4096];
	const char *slash;
	size_t len;

	text = file_read(path, CATALOG_MAX_BYTES, &len, &e);
	if (!text) {
		buf_addf(errors, "%s\n", e.msg);
		return NULL;
	}
	slash = strrchr(path, '/');
	if (slash)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		dir[0] = '\0';
	if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	c = catalog_parse(path, dir, text, len, errors);
	free(text);
	return c;
}

void catalog_free(struct catalog *c)
{
	if (!c)
		return;
	arena_release(&c->arena);
	free(c);
}

const struct target *catalog_target(const struct catalog *c, const char *id)
{
	long i;

	if (!c->target_ix) {
		/* a catalog put together by hand (tests): no index */
		for (size_t k = 0; k < c->ntargets; k++)
			if (strcmp(c->targets[k].id, id) == 0)
				return &c->targets[k];
		return NULL;
	}
	i = lookup(c->target_ix, c->ntargets, id);
	return i < 0 ? NULL : &c->targets[i];
}

const struct board *catalog_board(const struct catalog *c, const char *id)
{
	long i;

	if (!c->board_ix) {
		for (size_t k = 0; k < c->nboards; k++)
			if (strcmp(c->boards[k].id, id) == 0)
				return &c->boards[k];
		return NULL;
	}
	i = lookup(c->board_ix, c->nboards, id);
	return i < 0 ? NULL : &c->boards[i];
}

int place_format(const struct place *p, struct buf *out)
{
	const char *parts[4] = { p->village, p->commune, p->district, p->province };
	int first = 1;

	for (int i = 0; i < 4; i++) {
		if (!parts[i])
			continue;
		if (!first && buf_adds(out, ", ") < 0)
			return -1;
		if (buf_adds(out, parts[i]) < 0)
			return -1;
		first = 0;
	}
	return 0;
}

const char *target_kind_name(enum target_kind k)
{
	switch (k) {
	case TARGET_URL: return "url";
	case TARGET_VIETQR: return "vietqr";
	case TARGET_TEXT: return "text";
	}
	return "?";
}

/* ---- which probe does what ---- */

int catalog_reads_board(const struct target *t, const char *probe_id)
{
	if (t->image_uploads)
		return 0;	/* the server reads its uploaded photos */
	return !t->board || !t->board->probe || !strcmp(t->board->probe, probe_id);
}

/* Whether probe_id reads a board at place pl. */
static int reads_at(const struct catalog *c, const struct place *pl, const char *probe_id)
{
	for (size_t i = 0; i < c->nboards; i++)
		if (c->boards[i].place == pl && c->boards[i].probe &&
		    !strcmp(c->boards[i].probe, probe_id))
			return 1;
	return 0;
}

int catalog_walks_flow(const struct catalog *c, const struct target *t,
		       const char *probe_id)
{
	switch (t->from) {
	case FROM_PLACE:
		return reads_at(c, t->from_place, probe_id);
	case FROM_PROBES:
		for (size_t i = 0; i < t->nfrom_probes; i++)
			if (!strcmp(t->from_probes[i], probe_id))
				return 1;
		return 0;
	case FROM_ALL:
		break;
	}
	return 1;
}

/* Whether some board at place pl names a probe. */
static int any_probe_at(const struct catalog *c, const struct place *pl)
{
	for (size_t i = 0; i < c->nboards; i++)
		if (c->boards[i].place == pl && c->boards[i].probe)
			return 1;
	return 0;
}

/* Whether a probe other than bp (which reads t's board) is named to walk t's flow. */
static int others_walk(const struct catalog *c, const struct target *t, const char *bp)
{
	if (t->from == FROM_PROBES) {
		for (size_t i = 0; i < t->nfrom_probes; i++)
			if (strcmp(t->from_probes[i], bp))
				return 1;
		return 0;
	}
	for (size_t i = 0; i < c->nboards; i++)	/* FROM_PLACE: the probes reading there */
		if (c->boards[i].place == t->from_place && c->boards[i].probe &&
		    strcmp(c->boards[i].probe, bp))
			return 1;
	return 0;
}

int catalog_lint(const struct catalog *c, struct buf *out)
{
	int n = 0, assigned = 0;

	for (size_t i = 0; i < c->nboards; i++)
		assigned |= c->boards[i].probe != NULL;
	for (size_t i = 0; assigned && i < c->nboards; i++) {
		const struct board *b = &c->boards[i];
		int photos = 0;

		for (size_t k = 0; k < c->ntargets; k++)
			photos |= c->targets[k].board == b && !c->targets[k].image_uploads;
		if (photos && !b->probe) {
			buf_addf(out, "%s:%d: board '%s' names no probe, so every probe reads "
				 "its photos, also those in other villages; name the probe at "
				 "its place ('probe = PROBE-ID')\n", c->path, b->line, b->id);
			n++;
		}
	}
	for (size_t k = 0; k < c->ntargets; k++) {
		const struct target *t = &c->targets[k];
		const char *bp = t->board ? t->board->probe : NULL;

		if (t->kind != TARGET_URL)
			continue;
		if (t->image_uploads && !t->payload) {
			buf_addf(out, "%s:%d: target '%s' has its photos uploaded to qrwatchd, so "
				 "the probes walk its flow from its address: give it 'payload'\n",
				 c->path, t->line, t->id);
			n++;
		} else if (t->from == FROM_PLACE && !any_probe_at(c, t->from_place)) {
			buf_addf(out, "%s:%d: target '%s' is checked from place '%s', where no "
				 "board names a probe: no probe walks its flow\n", c->path,
				 t->line, t->id, t->from_place->id);
			n++;
		} else if (t->from != FROM_ALL && bp && others_walk(c, t, bp) && !t->payload) {
			buf_addf(out, "%s:%d: target '%s' is checked from probes that do not "
				 "read its board ('%s' does), so they have no address to walk "
				 "from: give it 'payload'\n", c->path, t->line, t->id, bp);
			n++;
		}
	}
	return n;
}
