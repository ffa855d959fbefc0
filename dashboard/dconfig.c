/* dconfig.c - reading qrwatchd.conf (see dconfig.h and dashboard/qrwatchd.conf.sample). */
#include "dconfig.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "addrlookup.h"
#include "graphwork.h"
#include "prune.h"
#include "../common/conffile.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "../common/text.h"
#include "../common/banned.h"

static const char *const known[] = {
	"listen", "data_dir", "catalog", "probe", "threads", "max_connections",
	"max_per_ip", "connection_timeout", "max_body_kb", "tls_cert", "tls_key",
	"log", "log_level", "user", "rrdcached", "public_url", "notify",
	"alert_open_after", "alert_resolve_after", "alert_uplink_share",
	"alert_silent_after", "alert_remind_every", "alert_digest_at", "alert_lang",
	"alert_retry_min", "alert_retry_max", "alert_give_up", "smtp_url", "smtp_from",
	"smtp_user", "smtp_password_file", "smtp_starttls", "smtp_ca_file",
	"header_timeout", "body_timeout", "max_pending_per_ip", "connection_reserve",
	"page_threads", "page_queue", "auth_threads", "auth_queue", "login_rate_ip",
	"login_rate_user", "login_cache", "trusted_proxy", "public_pages", "rrd_checkpoint", "province",
	"changes_keep", "results_keep", "graph_workers", "cert_warn_days",
	"lookup_every", "lookup_probe", "lookup_resolve",
};

static void set_str(char *dst, size_t cap, const char *v, const char *key,
		    const char *path, int line, struct buf *errors)
{
	if (strlen(v) >= cap)
		conf_err(errors, path, line, "'%s' is longer than %zu characters", key, cap - 1);
	else
		snprintf(dst, cap, "%s", v);
}

static void set_num(unsigned *dst, const char *v, long min, long max,
		    const char *key, const char *path, int line, struct buf *errors)
{
	long n;

	if (text_to_long(v, min, max, &n) < 0)
		conf_err(errors, path, line, "'%s' must be a whole number from %ld to %ld, "
		     "got '%s'", key, min, max, v);
	else
		*dst = (unsigned)n;
}

static void set_secs(long *dst, const char *v, long min, long max, const char *key,
		     const char *path, int line, struct buf *errors)
{
	if (text_to_seconds(v, min, max, dst) < 0)
		conf_err(errors, path, line, "'%s' must be a duration from %ld s to %ld s such as "
		     "'90s', '30m', '12h' or '2d', got '%s'", key, min, max, v);
}

static void add_recipient(struct dconfig *c, const char *v, const char *path, int line,
			  struct buf *errors)
{
	struct alert_cfg *a = &c->alerts;
	struct recipient r, *grown;
	struct err e;

	if (route_parse(v, -1, &r, &e) < 0) {
		conf_err(errors, path, line, "%s", e.msg);
		return;
	}
	for (size_t i = 0; i < a->nrecipients; i++)
		if (!strcmp(a->recipients[i].name, r.name)) {
			conf_err(errors, path, line, "recipient '%s' listed twice", r.name);
			return;
		}
	if (a->nrecipients == ROUTE_MAX_RECIPIENTS ||
	    !(grown = realloc(a->recipients, (a->nrecipients + 1) * sizeof(*grown)))) {
		conf_err(errors, path, line, "too many recipients");
		return;
	}
	a->recipients = grown;
	a->recipients[a->nrecipients++] = r;
}

/* The limits beyond libmicrohttpd's own (docs/api.md). Returns 1 if key was one of them. */
static int limit_key(struct dconfig *c, const char *key, const char *val, const char *path,
		     int line, struct buf *errors)
{
	struct server_limits *l = &c->lim;
	long secs = -1;

	if (!strcmp(key, "header_timeout")) {
		set_secs(&secs, val, 1, 3600, key, path, line, errors);
		l->header_timeout_s = secs > 0 ? (unsigned)secs : l->header_timeout_s;
	} else if (!strcmp(key, "body_timeout")) {
		set_secs(&secs, val, 1, 86400, key, path, line, errors);
		l->body_timeout_s = secs > 0 ? (unsigned)secs : l->body_timeout_s;
	} else if (!strcmp(key, "max_pending_per_ip")) {
		set_num(&l->max_pending_per_ip, val, 1, 10000, key, path, line, errors);
		c->pending_per_ip_set = 1;
	} else if (!strcmp(key, "connection_reserve")) {
		set_num(&l->reserve_pct, val, 0, 90, key, path, line, errors);
	} else if (!strcmp(key, "page_threads")) {
		set_num(&l->page_threads, val, 1, 64, key, path, line, errors);
	} else if (!strcmp(key, "page_queue")) {
		set_num(&l->page_queue, val, 1, 100000, key, path, line, errors);
	} else if (!strcmp(key, "auth_threads")) {
		set_num(&l->auth_threads, val, 1, 64, key, path, line, errors);
	} else if (!strcmp(key, "auth_queue")) {
		set_num(&l->auth_queue, val, 1, 100000, key, path, line, errors);
	} else if (!strcmp(key, "login_rate_ip")) {
		set_num(&l->login_rate_ip, val, 1, 100000, key, path, line, errors);
	} else if (!strcmp(key, "login_rate_user")) {
		set_num(&l->login_rate_user, val, 1, 100000, key, path, line, errors);
	} else if (!strcmp(key, "login_cache")) {
		set_secs(&l->login_cache_s, val, 0, 86400, key, path, line, errors);
	} else if (!strcmp(key, "trusted_proxy")) {
		unsigned char bin[16];

		if (inet_pton(AF_INET, val, bin) != 1 && inet_pton(AF_INET6, val, bin) != 1)
			conf_err(errors, path, line, "trusted_proxy must be an IP address such as "
				 "127.0.0.1, got '%s'", val);
		else
			set_str(c->trusted_proxy, sizeof(c->trusted_proxy), val, key, path, line,
				errors);
	} else {
		return 0;
	}
	return 1;
}

/* The alert_* and smtp_* keys. Returns 1 if key was one of them. */
static int alert_key(struct dconfig *c, const char *key, const char *val, const char *path,
		     int line, struct buf *errors)
{
	struct alert_cfg *a = &c->alerts;
	unsigned u = 0;

	if (!strcmp(key, "notify")) {
		add_recipient(c, val, path, line, errors);
	} else if (!strcmp(key, "public_url")) {
		if (strncmp(val, "http://", 7) && strncmp(val, "https://", 8))
			conf_err(errors, path, line, "public_url must start with http:// or https://");
		else
			set_str(a->public_url, sizeof(a->public_url), val, key, path, line, errors);
	} else if (!strcmp(key, "alert_open_after")) {
		set_num(&u, val, 1, ALERT_COUNT_MAX, key, path, line, errors);
		a->open_after = u ? (int)u : a->open_after;
	} else if (!strcmp(key, "alert_resolve_after")) {
		set_num(&u, val, 1, ALERT_COUNT_MAX, key, path, line, errors);
		a->resolve_after = u ? (int)u : a->resolve_after;
	} else if (!strcmp(key, "alert_uplink_share")) {
		set_num(&u, val, 51, 100, key, path, line, errors);
		a->uplink_share = u ? (int)u : a->uplink_share;
	} else if (!strcmp(key, "alert_silent_after")) {
		set_secs(&a->silent_after_s, val, 1, 7 * 86400, key, path, line, errors);
	} else if (!strcmp(key, "cert_warn_days")) {
		unsigned days = (unsigned)a->cert_warn_days;

		set_num(&days, val, 0, 365, key, path, line, errors);
		a->cert_warn_days = (int)days;
	} else if (!strcmp(key, "alert_remind_every")) {
		set_secs(&a->remind_every_s, val, 0, 30 * 86400, key, path, line, errors);
	} else if (!strcmp(key, "alert_retry_min")) {
		set_secs(&a->retry_min_s, val, 1, 86400, key, path, line, errors);
	} else if (!strcmp(key, "alert_retry_max")) {
		set_secs(&a->retry_max_s, val, 1, 86400, key, path, line, errors);
	} else if (!strcmp(key, "alert_give_up")) {
		set_secs(&a->give_up_s, val, 1, 30 * 86400, key, path, line, errors);
	} else if (!strcmp(key, "alert_digest_at")) {
		int h, m, n = 0;

		if (sscanf(val, "%2d:%2d%n", &h, &m, &n) != 2 || val[n] || h > 23 || m > 59 ||
		    h < 0 || m < 0)
			conf_err(errors, path, line, "alert_digest_at must be HH:MM (Vietnam time), "
			     "got '%s'", val);
		else
			a->digest_minute = h * 60 + m;
	} else if (!strcmp(key, "alert_lang")) {
		if (strcmp(val, "vi") && strcmp(val, "en"))
			conf_err(errors, path, line, "alert_lang must be vi or en, got '%s'", val);
		a->english = !strcmp(val, "en");
	} else if (!strcmp(key, "smtp_url")) {
		if (strncmp(val, "smtp://", 7) && strncmp(val, "smtps://", 8))
			conf_err(errors, path, line, "smtp_url must start with smtp:// or smtps://, "
			     "got '%s'", val);
		else
			set_str(a->smtp_url, sizeof(a->smtp_url), val, key, path, line, errors);
	} else if (!strcmp(key, "smtp_from")) {
		if (!strchr(val, '@') || strpbrk(val, " <>\"\r\n"))
			conf_err(errors, path, line, "smtp_from must be an e-mail address, got '%s'",
			     val);
		else
			set_str(a->smtp_from, sizeof(a->smtp_from), val, key, path, line, errors);
	} else if (!strcmp(key, "smtp_user")) {
		set_str(a->smtp_user, sizeof(a->smtp_user), val, key, path, line, errors);
	} else if (!strcmp(key, "smtp_password_file")) {
		struct err e;
		size_t len;
		char *pw = file_read(val, sizeof(a->smtp_password) - 1, &len, &e);

		if (!pw) {
			conf_err(errors, path, line, "%s", e.msg);
		} else {
			while (len && isspace((unsigned char)pw[len - 1]))
				pw[--len] = '\0';
			memcpy(a->smtp_password, pw, len + 1);
			free(pw);
		}
	} else if (!strcmp(key, "smtp_starttls")) {
		if (!strcmp(val, "yes"))
			a->smtp_starttls = 2;
		else if (!strcmp(val, "try"))
			a->smtp_starttls = 1;
		else if (!strcmp(val, "no"))
			a->smtp_starttls = 0;
		else
			conf_err(errors, path, line, "smtp_starttls must be yes, try or no, got '%s'",
			     val);
	} else if (!strcmp(key, "smtp_ca_file")) {
		set_str(a->smtp_ca_file, sizeof(a->smtp_ca_file), val, key, path, line, errors);
	} else {
		return 0;
	}
	return 1;
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
		conf_err(errors, path, line, "probe must be 'ID SECRET-FILE', got '%s'", v);
		return;
	}
	for (const char *q = id; *q; q++)
		if (!(islower((unsigned char)*q) || isdigit((unsigned char)*q) ||
		      *q == '-' || *q == '_' || *q == '.') || strlen(id) > 64) {
			conf_err(errors, path, line, "probe id '%s' must be lower-case letters, "
			     "digits, '-', '_' or '.' (at most 64)", id);
			return;
		}
	for (size_t i = 0; i < c->nprobes; i++)
		if (!strcmp(c->probes[i].id, id)) {
			conf_err(errors, path, line, "probe '%s' listed twice", id);
			return;
		}
	if (!strcmp(id, INGEST_PHOTO_PROBE)) {
		conf_err(errors, path, line, "probe id '%s' is the server's own, for the board "
			 "photos officials upload; give this probe another", id);
		return;
	}
	secret = file_read(file, 4096, &len, &e);
	if (!secret) {
		conf_err(errors, path, line, "%s", e.msg);
		return;
	}
	while (len && isspace((unsigned char)secret[len - 1]))
		secret[--len] = '\0';
	if (len < 16 || len > sizeof(k->secret)) {
		conf_err(errors, path, line, "secret of probe '%s' must be 16 to %zu characters, "
		     "got %zu", id, sizeof(k->secret), len);
		free(secret);
		return;
	}
	if (c->nprobes == DCONFIG_MAX_PROBES ||
	    !(grown = realloc(c->probes, (c->nprobes + 1) * sizeof(*grown)))) {
		conf_err(errors, path, line, "too many probes");
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

static void on_key(void *ctx, size_t index, const char *key, const char *cval,
		   const char *path, int line, struct buf *errors)
{
	struct dconfig *c = ctx;
	char vbuf[4096];
	char *val = vbuf;

	(void)index;
	if (strlen(cval) >= sizeof(vbuf)) {
		conf_err(errors, path, line, "the value of '%s' is longer than %zu characters",
			 key, sizeof(vbuf) - 1);
		return;
	}
	snprintf(vbuf, sizeof(vbuf), "%s", cval);	/* listen is split in place */
	if (alert_key(c, key, val, path, line, errors) ||
	    limit_key(c, key, val, path, line, errors)) {
		return;
	} else if (!strcmp(key, "listen")) {
		char *colon = strrchr(val, ':');
		long port;

		if (!colon || text_to_long(colon + 1, 0, 65535, &port) < 0 ||
		    colon == val) {
			conf_err(errors, path, line, "listen must be ADDRESS:PORT such as "
			     "127.0.0.1:8080, got '%s'", val);
			return;
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
			conf_err(errors, path, line, "log must be stderr or syslog");
		else
			set_str(c->log, sizeof(c->log), val, key, path, line, errors);
	} else if (!strcmp(key, "public_pages")) {
		if (strcmp(val, "yes") && strcmp(val, "no"))
			conf_err(errors, path, line, "public_pages must be yes or no, got '%s'", val);
		else
			c->public_pages = !strcmp(val, "yes");
	} else if (!strcmp(key, "user")) {
		struct web_user u, *grown;
		struct err ue;

		if (auth_parse_user(val, &u, &ue) < 0) {
			conf_err(errors, path, line, "%s", ue.msg);
		} else if (c->nusers == DCONFIG_MAX_USERS ||
			   !(grown = realloc(c->users, (c->nusers + 1) * sizeof(*grown)))) {
			conf_err(errors, path, line, "too many users");
		} else {
			c->users = grown;
			c->users[c->nusers++] = u;
		}
	} else if (!strcmp(key, "rrdcached")) {
		set_str(c->rrdcached, sizeof(c->rrdcached), val, key, path, line, errors);
	} else if (!strcmp(key, "rrd_checkpoint")) {
		set_secs(&c->rrd_checkpoint_s, val, 1, 3600, key, path, line, errors);
	} else if (!strcmp(key, "province")) {
		int ok = utf8_valid(val, strlen(val)) && strlen(val) <= DCONFIG_PROVINCE_MAX;

		for (const char *q = val; ok && *q; q++)
			ok = (unsigned char)*q >= 0x20 && *q != 0x7f;
		if (!ok)
			conf_err(errors, path, line, "province must be UTF-8 text of at most %d "
				 "bytes without control characters, such as 'bac-ninh'",
				 DCONFIG_PROVINCE_MAX);
		else
			set_str(c->province, sizeof(c->province), val, key, path, line, errors);
	} else if (!strcmp(key, "changes_keep")) {
		/* 0 keeps them all; less than a day would empty the overview's 24 hours */
		if (strcmp(val, "0"))
			set_secs(&c->changes_keep_s, val, 86400, 100L * 366 * 86400, key, path, line,
				 errors);
		else
			c->changes_keep_s = 0;
	} else if (!strcmp(key, "results_keep")) {
		/* 0 keeps them all; less than a month would empty the target page's month */
		if (strcmp(val, "0"))
			set_secs(&c->results_keep_s, val, PRUNE_RESULTS_MIN_S, 100L * 366 * 86400,
				 key, path, line, errors);
		else
			c->results_keep_s = 0;
	} else if (!strcmp(key, "lookup_every")) {
		/* 0: no lookups; else how often stale codes' new addresses are looked up */
		if (strcmp(val, "0"))
			set_secs(&c->lookup_every_s, val, 1, 7L * 86400, key, path, line, errors);
		else
			c->lookup_every_s = 0;
	} else if (!strcmp(key, "lookup_probe")) {
		set_str(c->lookup_probe, sizeof(c->lookup_probe), val, key, path, line, errors);
	} else if (!strcmp(key, "lookup_resolve")) {
		if (!strchr(val, ':'))
			conf_err(errors, path, line, "lookup_resolve must be HOST:PORT:ADDRESS, "
				 "got '%s'", val);
		else
			set_str(c->lookup_resolve, sizeof(c->lookup_resolve), val, key, path, line,
				errors);
	} else if (!strcmp(key, "graph_workers")) {
		set_num(&c->graph_workers, val, 1, GRAPHWORK_MAX, key, path, line, errors);
	} else if (!strcmp(key, "log_level")) {
		enum log_level level;

		if (log_level_parse(val, &level) < 0)
			conf_err(errors, path, line, "log_level must be error, warn, info or debug, "
				 "got '%s'", val);
		else
			set_str(c->log_level, sizeof(c->log_level), val, key, path, line, errors);
	}
}

int dconfig_load(const char *path, struct dconfig *c, struct buf *errors)
{
	size_t before = errors->len;
	int line;

	memset(c, 0, sizeof(*c));
	snprintf(c->listen_addr, sizeof(c->listen_addr), "127.0.0.1");
	c->port = 8080;
	snprintf(c->data_dir, sizeof(c->data_dir), "/var/lib/qrwatch");
	server_limits_default(&c->lim);
	snprintf(c->log, sizeof(c->log), "stderr");
	snprintf(c->log_level, sizeof(c->log_level), "info");
	c->rrd_checkpoint_s = INGEST_CHECKPOINT_S;
	c->changes_keep_s = PRUNE_CHANGES_KEEP_S;
	c->results_keep_s = PRUNE_RESULTS_KEEP_S;
	c->graph_workers = GRAPHWORK_DEFAULT;
	c->lookup_every_s = ADDRLOOKUP_EVERY_S;
	alert_cfg_init(&c->alerts);
	line = conf_read(path, known, sizeof(known) / sizeof(known[0]), on_key, c, errors);
	if (line < 0)
		return -1;
	if (!c->pending_per_ip_set && c->lim.max_pending_per_ip > c->lim.max_per_ip)
		c->lim.max_pending_per_ip = c->lim.max_per_ip;	/* a small max_per_ip says enough */
	if (c->lim.max_pending_per_ip > c->lim.max_per_ip)
		conf_err(errors, path, line, "max_pending_per_ip (%u) is more than max_per_ip (%u): "
			 "it could never apply", c->lim.max_pending_per_ip, c->lim.max_per_ip);
	if (!!c->tls_cert[0] != !!c->tls_key[0])
		conf_err(errors, path, line, "tls_cert and tls_key go together");
	for (size_t i = 0; i < c->alerts.nrecipients; i++)
		if (c->alerts.recipients[i].english < 0)	/* alert_lang may come later */
			c->alerts.recipients[i].english = c->alerts.english;
	if (c->alerts.retry_max_s < c->alerts.retry_min_s)
		conf_err(errors, path, line, "alert_retry_max is shorter than alert_retry_min");
	for (size_t i = 0; i < c->alerts.nrecipients; i++)
		if (c->alerts.recipients[i].channel == CHANNEL_EMAIL &&
		    (!c->alerts.smtp_url[0] || !c->alerts.smtp_from[0])) {
			conf_err(errors, path, line, "recipient '%s' gets e-mail, but smtp_url or "
			     "smtp_from is missing", c->alerts.recipients[i].name);
			break;
		}
	if (!c->nprobes)
		conf_err(errors, path, line, "no 'probe = ID SECRET-FILE' lines: no probe could "
		     "push results");
	return errors->len > before ? -1 : 0;
}

void dconfig_release(struct dconfig *c)
{
	free(c->alerts.recipients);
	c->alerts.recipients = NULL;
	c->alerts.nrecipients = 0;
	OPENSSL_cleanse(c->alerts.smtp_password, sizeof(c->alerts.smtp_password));
	free(c->users);
	c->users = NULL;
	c->nusers = 0;
	free(c->probes);
	c->probes = NULL;
	c->nprobes = 0;
}
