/* config.c - probe.conf as a table of typed rows (see config.h). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/conffile.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "../common/text.h"
#include "../targets/domain.h"
#include "../targets/uplink.h"
#include "../common/banned.h"

enum ctype { C_STR, C_ID, C_LONG, C_SECONDS, C_URL, C_SECRET, C_SECRET_FILE,
	     C_CHOICE };

static const struct row {
	const char *key;
	enum ctype type;
	size_t off;		/* into struct probe_config */
	size_t size;		/* for strings */
	long min, max;
	const char *def;
	const char *choices;	/* for C_CHOICE, space-separated */
	int required;
} rows[] = {
#define S(f) offsetof(struct probe_config, f), sizeof(((struct probe_config *)0)->f)
#define L(f) offsetof(struct probe_config, f), 0
	{ "probe_id", C_ID, S(probe_id), 0, 0, NULL, NULL, 1 },
	{ "secret", C_SECRET, 0, 0, 16, BATCH_SECRET_MAX, NULL, NULL, 0 },
	{ "secret_file", C_SECRET_FILE, 0, 0, 16, BATCH_SECRET_MAX, NULL, NULL, 0 },
	{ "server", C_URL, S(server), 0, 0, "", NULL, 0 },
	{ "catalog", C_STR, S(catalog), 0, 0, NULL, NULL, 1 },
	{ "catalog_url", C_URL, S(catalog_url), 0, 0, "", NULL, 0 },
	{ "catalog_refresh", C_SECONDS, L(catalog_refresh_s), 1, 86400, "600", NULL, 0 },
	{ "uplink", C_CHOICE, S(uplink), 0, 0, "unknown", UPLINK_KINDS, 0 },
	{ "interface", C_STR, S(interface), 0, 0, "", NULL, 0 },
	{ "spool_dir", C_STR, S(spool_dir), 0, 0, "/var/lib/qrwatch/spool", NULL, 0 },
	{ "spool_hours", C_LONG, L(spool_hours), 1, 24 * 60, "72", NULL, 0 },
	{ "spool_max_mb", C_LONG, L(spool_max_mb), 0, 4096, "0", NULL, 0 },
	{ "unread_keep_mb", C_LONG, L(unread_keep_mb), 0, 1024, "4", NULL, 0 },
	{ "snapshot_to_server", C_CHOICE, S(snapshot_to_server), 0, 0, "yes", "yes no", 0 },
	{ "snapshot_url", C_URL, S(snapshot_url), 0, 0, "", NULL, 0 },
	{ "snapshot_every", C_SECONDS, L(snapshot_every_s), 0, 86400, "900", NULL, 0 },
	{ "snapshot_max_kb", C_LONG, L(snapshot_max_kb), 16, 16384, "2048", NULL, 0 },
	{ "concurrency", C_LONG, L(concurrency), 1, 64, "4", NULL, 0 },
	{ "push_interval", C_SECONDS, L(push_interval_s), 1, 3600, "60", NULL, 0 },
	{ "first_push_delay_max", C_SECONDS, L(first_push_delay_max_s), 0, 3600, "300", NULL, 0 },
	{ "flush_every", C_LONG, L(flush_every), 1, 10000, "20", NULL, 0 },
	{ "flush_interval", C_SECONDS, L(flush_interval_s), 1, 3600, "300", NULL, 0 },
	{ "ca_file", C_STR, S(ca_file), 0, 0, "", NULL, 0 },
	{ "extra_ca", C_STR, S(extra_ca), 0, 0, "", NULL, 0 },
	{ "decoder", C_STR, S(decoder), 0, 0, "", NULL, 0 },
	{ "clock_sync_file", C_STR, S(clock_sync_file), 0, 0, "", NULL, 0 },
	{ "resolve", C_STR, S(resolve), 0, 0, "", NULL, 0 },
	{ "emulate", C_CHOICE, S(emulate), 0, 0, "none", "none 3g 4g 4g-weak 5g", 0 },
	{ "log", C_CHOICE, S(log), 0, 0, "stderr", "stderr syslog", 0 },
	{ "log_level", C_CHOICE, S(log_level), 0, 0, "info", "error warn info debug", 0 },
#undef S
#undef L
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static int set_value(const struct row *r, const char *v, struct probe_config *c,
		     const char *path, int line, struct buf *errors)
{
	char *base = (char *)c;
	long n;

	switch (r->type) {
	case C_ID:
		for (const char *q = v; *q; q++)
			if (!(islower((unsigned char)*q) || isdigit((unsigned char)*q) ||
			      *q == '-' || *q == '_' || *q == '.')) {
				conf_err(errors, path, line, "'%s' must be lower-case letters, "
				     "digits, '-', '_' or '.', got '%s'", r->key, v);
				return -1;
			}
		/* fall through */
	case C_STR:
	case C_CHOICE:
		if (r->type == C_CHOICE && !text_has_word(r->choices, v)) {
			conf_err(errors, path, line, "'%s' must be one of: %s; got '%s'",
			     r->key, r->choices, v);
			return -1;
		}
		if (strlen(v) >= r->size) {
			conf_err(errors, path, line, "'%s' is longer than %zu characters",
			     r->key, r->size - 1);
			return -1;
		}
		snprintf(base + r->off, r->size, "%s", v);
		return 0;
	case C_URL: {
		char host[DOMAIN_MAX];
		struct err e;

		if (*v && url_parse_http(v, host, sizeof(host), &e) < 0) {
			conf_err(errors, path, line, "'%s' is not a usable http(s) URL: %s",
			     r->key, e.msg);
			return -1;
		}
		snprintf(base + r->off, r->size, "%s", v);
		return 0;
	}
	case C_LONG:
		if (text_to_long(v, r->min, r->max, &n) < 0) {
			conf_err(errors, path, line, "'%s' must be a whole number from %ld "
			     "to %ld, got '%s'", r->key, r->min, r->max, v);
			return -1;
		}
		*(long *)(base + r->off) = n;
		return 0;
	case C_SECONDS:
		if (text_to_seconds(v, r->min, r->max, &n) < 0) {
			conf_err(errors, path, line, "'%s' must be a duration from %lds to "
			     "%lds (e.g. '30', '90s', '5m'), got '%s'", r->key, r->min,
			     r->max, v);
			return -1;
		}
		*(long *)(base + r->off) = n;
		return 0;
	case C_SECRET:
	case C_SECRET_FILE: {
		const char *s = v;
		char *file = NULL;
		size_t len;
		struct err e;

		if (r->type == C_SECRET_FILE) {
			file = file_read(v, 4096, &len, &e);
			if (!file) {
				conf_err(errors, path, line, "%s", e.msg);
				return -1;
			}
			while (len && isspace((unsigned char)file[len - 1]))
				file[--len] = '\0';
			s = file;
		}
		len = strlen(s);
		if ((long)len < r->min || (long)len > r->max) {
			conf_err(errors, path, line, "the probe's secret must be %ld to %ld "
			     "characters, got %zu", r->min, r->max, len);
			free(file);
			return -1;
		}
		memcpy(c->secret, s, len);
		c->secret_len = len;
		free(file);
		return 0;
	}
	}
	return -1;
}

struct load {
	struct probe_config *c;
	int seen[NROWS];		/* line where each key was given, 0 = not */
};

static void on_key(void *ctx, size_t i, const char *key, const char *val,
		   const char *path, int line, struct buf *errors)
{
	struct load *l = ctx;

	if (l->seen[i])
		conf_err(errors, path, line, "'%s' given twice", key);
	l->seen[i] = line;
	if (rows[i].required && !*val) {
		conf_err(errors, path, line, "'%s' is required and needs a value", key);
		return;
	}
	set_value(&rows[i], val, l->c, path, line, errors);
}

int probe_config_load(const char *path, struct probe_config *c, struct buf *errors)
{
	const char *keys[NROWS];
	struct load l;
	size_t before = errors->len;
	int line;

	memset(c, 0, sizeof(*c));
	memset(&l, 0, sizeof(l));
	l.c = c;
	for (size_t i = 0; i < NROWS; i++) {
		keys[i] = rows[i].key;
		if (rows[i].def)
			set_value(&rows[i], rows[i].def, c, path, 0, errors);
	}
	line = conf_read(path, keys, NROWS, on_key, &l, errors);
	if (line < 0)
		return -1;
	for (size_t i = 0; i < NROWS; i++)
		if (rows[i].required && !l.seen[i])
			conf_err(errors, path, line, "missing required key '%s'", rows[i].key);
	if (!c->secret_len && (c->server[0] || c->catalog_url[0]))
		conf_err(errors, path, line, "a probe that pushes to a server needs "
			 "'secret' or 'secret_file'");
	if (!strcmp(c->snapshot_to_server, "yes") && !c->snapshot_url[0] && c->server[0] &&
	    text_ends_with(c->server, "/api/v1/ingest")) {
		/* beside the ingest URL: .../api/v1/probes/ID/snapshot */
		int n = (int)(strlen(c->server) - strlen("ingest"));

		if (snprintf(c->snapshot_url, sizeof(c->snapshot_url), "%.*sprobes/%s/snapshot",
			     n, c->server, c->probe_id) >= (int)sizeof(c->snapshot_url))
			c->snapshot_url[0] = '\0';
	}
	if (strcmp(c->snapshot_to_server, "yes") != 0)
		c->snapshot_url[0] = '\0';
	return errors->len > before ? -1 : 0;
}

unsigned long long probe_config_spool_bytes(const struct probe_config *c,
					    double results_per_hour)
{
	/* a result with a few steps is 1-3 KB of JSON; count 4 KB with framing */
	if (c->spool_max_mb)
		return (unsigned long long)c->spool_max_mb << 20;
	return (unsigned long long)(results_per_hour * (double)c->spool_hours * 4096.0);
}
