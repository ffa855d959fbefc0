/* fuzz_dconfig.c - qrwatchd.conf (dashboard/dconfig.c through common/conffile.c) on any file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../dashboard/dconfig.h"
#include "../../dashboard/graphwork.h"
#include "../../dashboard/prune.h"
#include "../../common/log.h"
#include "../../common/text.h"
#include "../../common/banned.h"

/*
 * The input is a qrwatchd.conf; "@DIR@" in it names the scratch folder,
 * which holds p1.secret and p2.secret (good secrets), short.secret (too
 * short) and smtp.password. Whatever the bytes:
 *   - the load succeeds exactly when it reports nothing, each report a line
 *     "PATH:N: ..." with N at most the file's line count;
 *   - a loaded config has at least one probe, each with an id that is an
 *     id, listed once, and a secret of 16 to 128 bytes; recipients listed
 *     once with a resolved language, e-mail ones only with smtp_url and
 *     smtp_from; every limit within the bounds docs/api.md gives, and
 *     max_pending_per_ip never above max_per_ip; TLS files in pairs; a
 *     retry_max not below retry_min; log and log_level that qrwatchd can
 *     use; a province label of UTF-8 text without control characters;
 *     graph_workers 1 to GRAPHWORK_MAX; changes_keep 0 (for ever) or a
 *     day to a hundred years, results_keep 0 or 31 days to a hundred;
 *   - a config that loads gives the same config when loaded again.
 */
static char conf_path[4200];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_tmpdir();

	(void)argc;
	(void)argv;
	fuzz_put(dir, "p1.secret", "s3cret-of-probe-one-for-fuzzing\n", 32);
	fuzz_put(dir, "p2.secret", "s3cret-of-probe-two-for-fuzzing", 31);
	fuzz_put(dir, "short.secret", "short\n", 6);
	fuzz_put(dir, "smtp.password", "mat-khau-smtp\n", 14);
	snprintf(conf_path, sizeof(conf_path), "%s/qrwatchd.conf", dir);
	return 0;
}

static int in(long v, long lo, long hi)
{
	return v >= lo && v <= hi;
}

static int is_id(const char *s)
{
	size_t n = strlen(s);

	return n && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_.") == n;
}

static void check_config(const struct dconfig *c)
{
	const struct server_limits *l = &c->lim;
	const struct alert_cfg *a = &c->alerts;
	enum log_level level;

	if (!in((long)c->nprobes, 1, DCONFIG_MAX_PROBES) || !c->probes ||
	    c->nusers > DCONFIG_MAX_USERS || (c->nusers && !c->users) ||
	    a->nrecipients > ROUTE_MAX_RECIPIENTS || (a->nrecipients && !a->recipients))
		abort();
	for (size_t i = 0; i < c->nprobes; i++) {
		if (!is_id(c->probes[i].id) || !in((long)c->probes[i].secret_len, 16,
						   BATCH_SECRET_MAX))
			abort();
		for (size_t k = 0; k < i; k++)
			if (!strcmp(c->probes[i].id, c->probes[k].id))
				abort();
	}
	for (size_t i = 0; i < a->nrecipients; i++) {
		const struct recipient *r = &a->recipients[i];

		if (!r->name[0] || (r->english != 0 && r->english != 1) ||
		    (r->channel == CHANNEL_EMAIL && (!a->smtp_url[0] || !a->smtp_from[0])))
			abort();
		for (size_t k = 0; k < i; k++)
			if (!strcmp(r->name, a->recipients[k].name))
				abort();
	}
	if (c->port > 65535 || !in(l->threads, 1, 64) || !in(l->max_connections, 4, 100000) ||
	    !in(l->max_per_ip, 1, 10000) || !in(l->timeout_s, 1, 3600) ||
	    !in((long)l->max_body, 64 * 1024, 65536L * 1024) ||
	    !in(l->header_timeout_s, 1, 3600) || !in(l->body_timeout_s, 1, 86400) ||
	    !in(l->max_pending_per_ip, 1, 10000) || l->max_pending_per_ip > l->max_per_ip ||
	    !in(l->reserve_pct, 0, 90) || !in(l->page_threads, 1, 64) ||
	    !in(l->page_queue, 1, 100000) || !in(l->auth_threads, 1, 64) ||
	    !in(l->auth_queue, 1, 100000) || !in(l->login_rate_ip, 1, 100000) ||
	    !in(l->login_rate_user, 1, 100000) || !in(l->login_cache_s, 0, 86400) ||
	    !in(c->rrd_checkpoint_s, 1, 3600) || !in((long)c->graph_workers, 1, GRAPHWORK_MAX) ||
	    (c->changes_keep_s != 0 && !in(c->changes_keep_s, 86400, 100L * 366 * 86400)) ||
	    (c->results_keep_s != 0 &&
	     !in(c->results_keep_s, PRUNE_RESULTS_MIN_S, 100L * 366 * 86400)))
		abort();
	if (!c->tls_cert[0] != !c->tls_key[0] || a->retry_max_s < a->retry_min_s ||
	    (a->smtp_url[0] && strncmp(a->smtp_url, "smtp://", 7) &&
	     strncmp(a->smtp_url, "smtps://", 8)) ||
	    (a->public_url[0] && strncmp(a->public_url, "http://", 7) &&
	     strncmp(a->public_url, "https://", 8)))
		abort();
	if ((strcmp(c->log, "stderr") && strcmp(c->log, "syslog")) ||
	    log_level_parse(c->log_level, &level) < 0)
		abort();
	/* /metrics' province label: UTF-8 text without control characters */
	if (!memchr(c->province, '\0', sizeof(c->province)) ||
	    !utf8_valid(c->province, strlen(c->province)))
		abort();
	for (const char *q = c->province; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			abort();
}

static void check_errors(const char *errs, size_t len, int lines)
{
	size_t pl = strlen(conf_path);

	if (len == 0 || errs[len - 1] != '\n')
		abort();
	for (const char *l = errs; l < errs + len; l = strchr(l, '\n') + 1) {
		char *end;
		long n;

		if (strncmp(l, conf_path, pl) != 0 || l[pl] != ':')
			abort();
		n = strtol(l + pl + 1, &end, 10);
		if (end == l + pl + 1 || *end != ':' || n < 0 || n > lines)
			abort();
	}
}

static void check_same(const struct dconfig *a, const struct dconfig *b)
{
	if (a->nprobes != b->nprobes || a->nusers != b->nusers ||
	    a->alerts.nrecipients != b->alerts.nrecipients ||
	    memcmp(a->probes, b->probes, a->nprobes * sizeof(*a->probes)) ||
	    (a->nusers && memcmp(a->users, b->users, a->nusers * sizeof(*a->users))) ||
	    (a->alerts.nrecipients && memcmp(a->alerts.recipients, b->alerts.recipients,
					     a->alerts.nrecipients *
					     sizeof(*a->alerts.recipients))) ||
	    memcmp(&a->lim, &b->lim, sizeof(a->lim)) || a->port != b->port ||
	    a->graph_workers != b->graph_workers || a->changes_keep_s != b->changes_keep_s ||
	    a->results_keep_s != b->results_keep_s ||
	    strcmp(a->listen_addr, b->listen_addr) || strcmp(a->data_dir, b->data_dir))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dconfig *c = malloc(sizeof(*c)), *again = malloc(sizeof(*again));
	struct buf errs, errs2;
	size_t len;
	char *text = fuzz_expand(data, size, &len);
	int rc, lines = 1;

	if (!c || !again)
		abort();
	fuzz_put(fuzz_tmpdir(), "qrwatchd.conf", text, len);
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	buf_init(&errs, 4 * 1024 * 1024);
	buf_init(&errs2, 4 * 1024 * 1024);
	rc = dconfig_load(conf_path, c, &errs);
	if (rc == 0) {
		if (errs.len)
			abort();
		check_config(c);
	} else {
		if (rc != -1)
			abort();
		check_errors(errs.data, errs.len, lines);
	}
	/* a config that loads, loads the same again (the refusals are most inputs: not twice) */
	if (rc == 0) {
		if (dconfig_load(conf_path, again, &errs2) != 0 || errs2.len)
			abort();
		check_same(c, again);
		dconfig_release(again);
	}
	dconfig_release(c);
	buf_release(&errs);
	buf_release(&errs2);
	free(text);
	free(c);
	free(again);
	return 0;
}
