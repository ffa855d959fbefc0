/* fuzz_probeconf.c - probe.conf (prober/config.c through common/conffile.c) on any file. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../prober/config.h"
#include "../../targets/domain.h"
#include "../../common/text.h"
#include "../../targets/uplink.h"
#include "../../common/banned.h"

/*
 * The input is a probe.conf; "@DIR@" in it names the scratch folder, which
 * holds probe.secret (a good secret) and short.secret (too short). Whatever
 * the bytes, the load ends (no endless loop on an empty value), and:
 *   - it succeeds exactly when it reports nothing, and each report is a
 *     line "PATH:N: ..." with N at most the file's line count;
 *   - a loaded config has a probe_id that is an id, a catalog, every number
 *     within the bounds docs/probe.md gives, each choice one of its words,
 *     URLs that parse, and a secret of 16 to 128 bytes whenever it pushes
 *     or fetches from a server;
 *   - a config that loads gives the same config when loaded again.
 */
static char conf_path[4200];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = fuzz_tmpdir();

	(void)argc;
	(void)argv;
	fuzz_put(dir, "probe.secret", "s3cret-for-the-fuzzer-only\n", 27);
	fuzz_put(dir, "short.secret", "short\n", 6);
	snprintf(conf_path, sizeof(conf_path), "%s/probe.conf", dir);
	return 0;
}

static int in(long v, long lo, long hi)
{
	return v >= lo && v <= hi;
}

#define TERMINATED(f) (memchr((f), '\0', sizeof(f)) != NULL)

static void check_config(const struct probe_config *c)
{
	char host[DOMAIN_MAX];
	struct err e;

	if (!TERMINATED(c->probe_id) || !TERMINATED(c->server) || !TERMINATED(c->catalog) ||
	    !TERMINATED(c->catalog_url) || !TERMINATED(c->uplink) ||
	    !TERMINATED(c->interface) || !TERMINATED(c->spool_dir) ||
	    !TERMINATED(c->ca_file) || !TERMINATED(c->extra_ca) || !TERMINATED(c->decoder) ||
	    !TERMINATED(c->clock_sync_file) ||
	    !TERMINATED(c->resolve) || !TERMINATED(c->emulate) || !TERMINATED(c->log) ||
	    !TERMINATED(c->log_level))
		abort();
	/* required keys hold something */
	if (!c->probe_id[0] || !c->catalog[0] ||
	    strspn(c->probe_id, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != strlen(c->probe_id))
		abort();
	if (!in(c->catalog_refresh_s, 1, 86400) || !in(c->spool_hours, 1, 24 * 60) ||
	    !in(c->spool_max_mb, 0, 4096) || !in(c->unread_keep_mb, 0, 1024) ||
	    !in(c->concurrency, 1, 64) ||
	    !in(c->push_interval_s, 1, 3600) || !in(c->first_push_delay_max_s, 0, 3600) ||
	    !in(c->flush_every, 1, 10000) || !in(c->flush_interval_s, 1, 3600))
		abort();
	if (!text_has_word(UPLINK_KINDS, c->uplink) ||
	    !text_has_word("none 3g 4g 4g-weak 5g", c->emulate) ||
	    !text_has_word("stderr syslog", c->log) ||
	    !text_has_word("error warn info debug", c->log_level))
		abort();
	if ((c->server[0] && url_parse_http(c->server, host, sizeof(host), &e) < 0) ||
	    (c->catalog_url[0] && url_parse_http(c->catalog_url, host, sizeof(host), &e) < 0))
		abort();
	if (c->secret_len > BATCH_SECRET_MAX || (c->secret_len && c->secret_len < 16) ||
	    ((c->server[0] || c->catalog_url[0]) && !c->secret_len))
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct probe_config *c = malloc(sizeof(*c)), *again = malloc(sizeof(*again));
	struct buf errs, errs2;
	size_t len;
	char *text = fuzz_expand(data, size, &len);
	int rc, lines = 1;

	if (!c || !again)
		abort();
	fuzz_put(fuzz_tmpdir(), "probe.conf", text, len);
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	buf_init(&errs, 4 * 1024 * 1024);
	buf_init(&errs2, 4 * 1024 * 1024);
	rc = probe_config_load(conf_path, c, &errs);
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
	if (rc == 0 && (probe_config_load(conf_path, again, &errs2) != 0 || errs2.len ||
	    memcmp(c, again, sizeof(*c)) != 0))
		abort();
	buf_release(&errs);
	buf_release(&errs2);
	free(text);
	free(c);
	free(again);
	return 0;
}
