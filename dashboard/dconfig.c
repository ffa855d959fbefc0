/* dconfig.c - reading qrwatchd.conf (see dconfig.h and dashboard/qrwatchd.conf.sample). */
#include "dconfig.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/fileio.h"
#include "../common/text.h"
#include "../common/banned.h"

static const char *const known[] = {
	"listen", "data_dir", "catalog", "probe", "threads", "max_connections",
	"max_per_ip", "connection_timeout", "max_body_kb", "tls_cert", "tls_key",
	"log", "log_level", "user", "rrdcached",
};

__attribute__((format(printf, 4, 5)))
static void cerr(struct buf *errors, const char *path, int line, const char *fmt, ...)
{
	va_list ap;

	buf_addf(errors, "%s:%d: ", path, line);
	va_start(ap, fmt);
	buf_vaddf(errors, fmt, ap);
	va_end(ap);
	buf_addc(errors, '\n');
}

static void set_str(char *dst, size_t cap, const char *v, const char *key,
		    const char *path, int line, struct buf *errors)
{
	if (strlen(v) >= cap)
		cerr(errors, path, line, "'%s' is longer than %zu characters", key, cap - 1);
	else
		snprintf(dst, cap, "%s", v);
}

static void set_num(unsigned *dst, const char *v, long min, long max,
		    const char *key, const char *path, int line, struct buf *errors)
{
	long n;

	if (text_to_long(v, min, max, &n) < 0)
		cerr(errors, path, line, "'%s' must be a whole number from %ld to %ld, "
		     "got '%s'", key, min, max, v);
	else
		*dst = (unsigned)n;
}

static void add_probe(struct dconfig *c, const char *v, const char *path, int line,
		      struct buf *errors)
{
	char id[128], file[1024];
	struct probe_key *k, *grown;
	struct err e;
	size_t len;
	char *secret;

	if (sscanf(v, "%127s %1023s", id, file) != 2) {
		cerr(errors, path, line, "probe must be 'ID SECRET-FILE', got '%s'", v);
		return;
	}
	for (const char *q = id; *q; q++)
		if (!(islower((unsigned char)*q) || isdigit((unsigned char)*q) ||
		      *q == '-' || *q == '_' || *q == '.') || strlen(id) > 64) {
			cerr(errors, path, line, "probe id '%s' must be lower-case letters, "
			     "digits, '-', '_' or '.' (at most 64)", id);
			return;
		}
	for (size_t i = 0; i < c->nprobes; i++)
		if (!strcmp(c->probes[i].id, id)) {
			cerr(errors, path, line, "probe '%s' listed twice", id);
			return;
		}
	secret = file_read(file, 4096, &len, &e);
	if (!secret) {
		cerr(errors, path, line, "%s", e.msg);
		return;
	}
	while (len && isspace((unsigned char)secret[len - 1]))
		secret[--len] = '\0';
	if (len < 16 || len > sizeof(k->secret)) {
		cerr(errors, path, line, "secret of probe '%s' must be 16 to %zu characters, "
		     "got %zu", id, sizeof(k->secret), len);
		free(secret);
		return;
	}
	if (c->nprobes == DCONFIG_MAX_PROBES ||
	    !(grown = realloc(c->probes, (c->nprobes + 1) * sizeof(*grown)))) {
		cerr(errors, path, line, "too many probes");
		free(secret);
		return;
	}
	c->probes = grown;
	k = &c->probes[c->nprobes++];
	memset(k, 0, sizeof(*k));
	snprintf(k->id, sizeof(k->id), "%s", id);
	memcpy(k->secret, secret, len);
	k->secret_len = len;
	free(secret);
}

int dconfig_load(const char *path, struct dconfig *c, struct buf *errors)
{
	size_t before = errors->len;
	char *text, *p, *next;
	struct err e;
	int line = 0;

	memset(c, 0, sizeof(*c));
	snprintf(c->listen_addr, sizeof(c->listen_addr), "127.0.0.1");
	c->port = 8080;
	snprintf(c->data_dir, sizeof(c->data_dir), "/var/lib/qrwatch");
	c->lim.threads = 2;
	c->lim.max_connections = 256;
	c->lim.max_per_ip = 32;
	c->lim.timeout_s = 30;
	c->lim.max_body = INGEST_MAX_BODY;
	snprintf(c->log, sizeof(c->log), "stderr");
	snprintf(c->log_level, sizeof(c->log_level), "info");
	text = file_read(path, 1 << 20, NULL, &e);
	if (!text) {
		buf_addf(errors, "%s\n", e.msg);
		return -1;
	}
	for (p = text; p && *p; p = next) {
		char *eq, *key, *val;
		int found = 0;

		next = strchr(p, '\n');
		if (next)
			*next++ = '\0';
		line++;
		p = text_trim(p);
		if (!*p || *p == '#')
			continue;
		eq = strchr(p, '=');
		if (!eq) {
			cerr(errors, path, line, "expected 'key = value'");
			continue;
		}
		*eq = '\0';
		key = text_trim(p);
		val = text_trim(eq + 1);
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			found |= !strcmp(known[i], key);
		if (!found) {
			const char *best = NULL;
			int bd = 3;

			for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
				if (text_distance(known[i], key) < bd) {
					bd = text_distance(known[i], key);
					best = known[i];
				}
			if (best)
				cerr(errors, path, line, "unknown key '%s' (did you mean '%s'?)",
				     key, best);
			else
				cerr(errors, path, line, "unknown key '%s'", key);
		} else if (!strcmp(key, "listen")) {
			char *colon = strrchr(val, ':');
			long port;

			if (!colon || text_to_long(colon + 1, 0, 65535, &port) < 0 ||
			    colon == val) {
				cerr(errors, path, line, "listen must be ADDRESS:PORT such as "
				     "127.0.0.1:8080, got '%s'", val);
				continue;
			}
			*colon = '\0';
			set_str(c->listen_addr, sizeof(c->listen_addr), val, key, path, line,
				errors);
			c->port = (unsigned)port;
		} else if (!strcmp(key, "data_dir")) {
			set_str(c->data_dir, sizeof(c->data_dir), val, key, path, line, errors);
		} else if (!strcmp(key, "catalog")) {
			set_str(c->catalog, sizeof(c->catalog), val, key, path, line, errors);
		} else if (!strcmp(key, "tls_cert")) {
			set_str(c->tls_cert, sizeof(c->tls_cert), val, key, path, line, errors);
		} else if (!strcmp(key, "tls_key")) {
			set_str(c->tls_key, sizeof(c->tls_key), val, key, path, line, errors);
		} else if (!strcmp(key, "probe")) {
			add_probe(c, val, path, line, errors);
		} else if (!strcmp(key, "threads")) {
			set_num(&c->lim.threads, val, 1, 64, key, path, line, errors);
		} else if (!strcmp(key, "max_connections")) {
			set_num(&c->lim.max_connections, val, 4, 100000, key, path, line, errors);
		} else if (!strcmp(key, "max_per_ip")) {
			set_num(&c->lim.max_per_ip, val, 1, 10000, key, path, line, errors);
		} else if (!strcmp(key, "connection_timeout")) {
			set_num(&c->lim.timeout_s, val, 1, 3600, key, path, line, errors);
		} else if (!strcmp(key, "max_body_kb")) {
			unsigned kb = 0;

			set_num(&kb, val, 64, 65536, key, path, line, errors);
			if (kb)
				c->lim.max_body = (size_t)kb * 1024;
		} else if (!strcmp(key, "log")) {
			if (strcmp(val, "stderr") && strcmp(val, "syslog"))
				cerr(errors, path, line, "log must be stderr or syslog");
			else
				set_str(c->log, sizeof(c->log), val, key, path, line, errors);
		} else if (!strcmp(key, "user")) {
			struct web_user u, *grown;
			struct err ue;

			if (auth_parse_user(val, &u, &ue) < 0) {
				cerr(errors, path, line, "%s", ue.msg);
			} else if (c->nusers == DCONFIG_MAX_USERS ||
				   !(grown = realloc(c->users, (c->nusers + 1) * sizeof(*grown)))) {
				cerr(errors, path, line, "too many users");
			} else {
				c->users = grown;
				c->users[c->nusers++] = u;
			}
		} else if (!strcmp(key, "rrdcached")) {
			set_str(c->rrdcached, sizeof(c->rrdcached), val, key, path, line, errors);
		} else if (!strcmp(key, "log_level")) {
			set_str(c->log_level, sizeof(c->log_level), val, key, path, line, errors);
		}
	}
	free(text);
	if (!!c->tls_cert[0] != !!c->tls_key[0])
		cerr(errors, path, line, "tls_cert and tls_key go together");
	if (!c->nprobes)
		cerr(errors, path, line, "no 'probe = ID SECRET-FILE' lines: no probe could "
		     "push results");
	return errors->len > before ? -1 : 0;
}

void dconfig_release(struct dconfig *c)
{
	free(c->users);
	c->users = NULL;
	c->nusers = 0;
	free(c->probes);
	c->probes = NULL;
	c->nprobes = 0;
}
