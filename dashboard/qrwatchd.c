/* qrwatchd.c - the district server: ingest, storage (SQLite, RRD) and, later, the dashboard. */
#include <errno.h>
#include <getopt.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "auth.h"
#include "confirm.h"
#include "dconfig.h"
#include "graphs.h"
#include "graphwork.h"
#include "overview.h"
#include "photos.h"
#include "pages.h"
#include "prune.h"
#include "addrlookup.h"
#include "ingest.h"
#include "metrics.h"
#include "rrdstore.h"
#include "server.h"
#include "store.h"
#include "../alerts/engine.h"
#include "../alerts/outbox.h"
#include "../targets/posterpdf.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "../common/banned.h"

#define VERSION "0.1.0"

static volatile sig_atomic_t stopping, reloading;
static sem_t wake;		/* posted by the signals and by a reload asked for */
static int listen_fd = -1;	/* the listening socket, kept open across reloads */

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
	sem_post(&wake);
}

static void on_reload(int sig)
{
	(void)sig;
	reloading = 1;
	sem_post(&wake);
}

/* The dashboard changed the catalog file (a confirmed address): load it again. */
static void reload_now(void)
{
	reloading = 1;
	sem_post(&wake);
}

/*
 * The configuration and the catalog, loaded and checked as a start needs
 * them: every key, the catalog, the places recipients name, the open-file
 * limit, the TLS files. 0 with *cfg and *cat (NULL without a catalog), or
 * -1 with every error in errs (nothing to release).
 */
static int load_all(const char *path, struct dconfig *cfg, struct catalog **cat,
		    struct buf *errs)
{
	struct err e;

	*cat = NULL;
	if (dconfig_load(path, cfg, errs) < 0)
		goto fail;
	if (cfg->catalog[0] && !(*cat = catalog_load(cfg->catalog, errs)))
		goto fail;
	for (size_t i = 0; i < cfg->alerts.nrecipients; i++) {
		const struct recipient *r = &cfg->alerts.recipients[i];
		int found = 0;

		for (size_t k = 0; *cat && k < (*cat)->nplaces; k++)
			found |= !strcmp((*cat)->places[k].id, r->place);
		if (r->place[0] && !found)
			buf_addf(errs, "%s: recipient '%s' names place '%s', which the catalog "
				 "does not have\n", path, r->name, r->place);
	}
	if (server_fd_limit(&cfg->lim, &e) < 0)
		buf_addf(errs, "%s: %s\n", path, e.msg);
	if (cfg->tls_cert[0]) {
		const char *files[2] = { cfg->tls_cert, cfg->tls_key };

		for (int i = 0; i < 2; i++) {
			char *pem = file_read(files[i], 1 << 20, NULL, &e);

			if (!pem)
				buf_addf(errs, "%s: %s\n", path, e.msg);
			free(pem);
		}
	}
	if (!errs->len)
		return 0;
fail:
	catalog_free(*cat);
	*cat = NULL;
	dconfig_release(cfg);
	return -1;
}

/*
 * Whether the configuration and the catalog, as the files now are, load
 * and pass every check of a start: a reload stops the server only then,
 * else it keeps running as it is and says why. What a reload cannot
 * change (where it listens, its data) is said too, and kept.
 */
static int reload_loads(const char *path, const struct dconfig *now)
{
	struct dconfig cfg;
	struct buf errs;
	struct catalog *cat;
	int ok;

	buf_init(&errs, 256 * 1024);
	ok = load_all(path, &cfg, &cat, &errs) == 0;
	if (!ok) {
		LOG(LOG_LVL_ERROR, NULL, "not reloaded, the server goes on as it was: %s",
		    buf_str(&errs));
	} else {
		if (strcmp(cfg.listen_addr, now->listen_addr) || cfg.port != now->port)
			LOG(LOG_LVL_WARN, NULL, "listen changed to %s:%u: a reload keeps %s:%u; "
			    "restart qrwatchd for the new address", cfg.listen_addr, cfg.port,
			    now->listen_addr, now->port);
		if (strcmp(cfg.data_dir, now->data_dir) || strcmp(cfg.rrdcached, now->rrdcached))
			LOG(LOG_LVL_WARN, NULL, "data_dir or rrdcached changed: a reload keeps "
			    "'%s'; restart qrwatchd for the new one", now->data_dir);
		catalog_free(cat);
		dconfig_release(&cfg);
	}
	buf_release(&errs);
	return ok;
}

/* The alert engine asks whether a silent probe is still configured. */
static int probe_configured(void *ctx, const char *id)
{
	const struct dconfig *c = ctx;

	for (size_t i = 0; i < c->nprobes; i++)
		if (!strcmp(c->probes[i].id, id))
			return 1;
	return 0;
}

static void usage(FILE *f)
{
	fputs("usage: qrwatchd -c qrwatchd.conf [-t] [-p PORT-FILE]\n"
	      "\n"
	      "The qrwatch district server: takes signed result batches from the\n"
	      "probes, keeps them in SQLite and RRD files, and serves each probe its\n"
	      "catalog. Runs in the foreground; SIGTERM stops it.\n"
	      "\n"
	      "  -c, --config FILE     the server's configuration\n"
	      "  -t, --test            check the configuration, the catalog and the\n"
	      "                        database, then exit\n"
	      "  -p, --port-file FILE  write the port it listens on to FILE (for tests\n"
	      "                        that start it on port 0)\n"
	      "      --hash-password NAME  read a password on standard input and print\n"
	      "                        the 'user = ...' line for the configuration\n"
	      "  -h, --help            this text\n", f);
}

/*
 * One life of the server, from reading the configuration and the catalog
 * to stopping: returns main()'s exit code, with *again set when it
 * stopped for a reload (the new files load: checked before stopping).
 */
static int serve(const char *path, const char *port_file, int test, int *again)
{
	struct dconfig cfg;
	struct buf errs;
	struct catalog *cat = NULL;
	struct store db;
	struct rrdstore rrd;
	struct ingest ing;
	struct server_cfg scfg;
	struct server *srv = NULL;
	struct dash dash;
	struct alerts alerts;
	struct astore ast;
	struct outbox outbox;
	struct catalog empty;
	struct prune *prune = NULL;
	struct addrlookup *lookup = NULL;
	struct probecheck pc;
	struct photos photos;
	struct probe_key *keys = NULL;	/* the configured probes' and the photo probe's */
	int photos_on = 0;
	char *cert = NULL, *key = NULL;
	enum log_level level;
	struct err e;
	int rc = 1;

	buf_init(&errs, 256 * 1024);
	if (load_all(path, &cfg, &cat, &errs) < 0) {
		fputs(buf_str(&errs), stderr);
		buf_release(&errs);
		return 2;
	}
	buf_release(&errs);
	if (test) {
		/* the database too: a damaged one is found before the server writes to it */
		if (store_check(cfg.data_dir, &e) < 0) {
			fprintf(stderr, "%s\n", e.msg);
			catalog_free(cat);
			dconfig_release(&cfg);
			return 2;
		}
		printf("%s: ok: %zu probes, %zu targets, %zu alert recipients, listen %s:%u, "
		       "data in '%s'\n", path, cfg.nprobes, cat ? cat->ntargets : 0,
		       cfg.alerts.nrecipients, cfg.listen_addr, cfg.port, cfg.data_dir);
		catalog_free(cat);
		dconfig_release(&cfg);
		return 0;
	}
	log_level_parse(cfg.log_level, &level);
	log_setup(!strcmp(cfg.log, "syslog"), "qrwatchd", level);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	signal(SIGHUP, on_reload);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (mkdir(cfg.data_dir, 0750) < 0 && errno != EEXIST) {
		LOG(LOG_LVL_ERROR, NULL, "cannot create data folder '%s': %s", cfg.data_dir,
		    strerror(errno));
		goto out_cfg;
	}
	/* a reload: the file was checked at the start, and is in use since */
	if ((listen_fd >= 0 ? store_open_again(&db, cfg.data_dir, &e) :
	     store_open(&db, cfg.data_dir, &e)) < 0) {
		LOG(LOG_LVL_ERROR, NULL, "%s", e.msg);
		goto out_cfg;
	}
	memset(&ing, 0, sizeof(ing));
	memset(&dash, 0, sizeof(dash));
	if (rrdstore_init(&rrd, cfg.data_dir, cfg.rrdcached, ingest_rrd_created, &ing, &e) < 0) {
		LOG(LOG_LVL_ERROR, NULL, "%s", e.msg);
		goto out_db;
	}
	ing.checkpoint_s = cfg.rrd_checkpoint_s;
	ing.db = &db;
	ing.rrd = &rrd;
	ing.cat = cat;
	/* the photo probe (photos.h) beside the configured ones */
	keys = calloc(cfg.nprobes + 1, sizeof(*keys));
	if (!keys || photos_key(&keys[cfg.nprobes], &e) < 0) {
		LOG(LOG_LVL_ERROR, NULL, "%s", keys ? e.msg : "out of memory");
		goto out_rrd;
	}
	if (cfg.nprobes)
		memcpy(keys, cfg.probes, cfg.nprobes * sizeof(*keys));
	ing.probes = keys;
	ing.nprobes = cfg.nprobes + 1;
	photos_init(&photos, &ing, &keys[cfg.nprobes]);
	photos_on = 1;
	memset(&ast, 0, sizeof(ast));
	if (astore_migrate(db.db, &e) < 0 || astore_init(&ast, db.db, &e) < 0) {
		LOG(LOG_LVL_ERROR, NULL, "%s", e.msg);
		goto out_rrd;
	}
	memset(&alerts, 0, sizeof(alerts));
	alerts.cfg = &cfg.alerts;
	alerts.cat = cat;
	alerts.st = &ast;
	alerts.probe_known = probe_configured;
	alerts.probe_known_ctx = &cfg;
	alerts.decisive_probe = INGEST_PHOTO_PROBE;
	ing.alerts = &alerts;
	ing.outbox = &outbox;
	memset(&outbox, 0, sizeof(outbox));
	{
		int n = ingest_replay_rrd(&ing, &e);

		if (n > 0)
			LOG(LOG_LVL_INFO, NULL, "wrote %d results left out of the RRD files "
			    "by the last stop", n);
		else if (n < 0)
			LOG(LOG_LVL_ERROR, NULL, "results left out of the RRD files could not "
			    "be read: %s", e.msg);
	}
	memset(&scfg, 0, sizeof(scfg));
	scfg.listen_addr = cfg.listen_addr;
	scfg.port = cfg.port;
	scfg.listen_fd = listen_fd;	/* a reload: connections wait in its backlog meanwhile */
	scfg.lim = cfg.lim;
	scfg.catalog_path = cfg.catalog[0] ? cfg.catalog : NULL;
	scfg.users = cfg.users;
	scfg.nusers = cfg.nusers;
	scfg.public_pages = cfg.public_pages;
	scfg.trusted_proxy = cfg.trusted_proxy[0] ? cfg.trusted_proxy : NULL;
	if (cfg.tls_cert[0]) {
		cert = file_read(cfg.tls_cert, 1 << 20, NULL, &e);
		key = cert ? file_read(cfg.tls_key, 1 << 20, NULL, &e) : NULL;
		if (!cert || !key) {
			LOG(LOG_LVL_ERROR, NULL, "%s", e.msg);
			goto out_rrd;
		}
		scfg.tls_cert_pem = cert;
		scfg.tls_key_pem = key;
	}
	memset(&empty, 0, sizeof(empty));
	dash.db = &db;
	dash.cat = cat ? cat : &empty;
	dash.rrd = &rrd;
	dash.outbox = &outbox;
	dash.cert_warn_days = cfg.alerts.cert_warn_days;
	dash.reload = reload_now;
	dash.logins = cfg.nusers > 0;
	dash.catalog_path = cfg.catalog[0] ? cfg.catalog : NULL;
	dash.data_dir = cfg.data_dir;
	dash.pc = &pc;
	dash.photos = &photos;
	if (confirm_key_load(cfg.data_dir, dash.csrf_key, &e) < 0) {
		LOG(LOG_LVL_ERROR, NULL, "%s", e.msg);
		goto out_rrd;
	}
	dash.metrics = metrics_new(dash.cat, cfg.province[0] ? cfg.province : NULL, VERSION, &e);
	if (!dash.metrics) {
		LOG(LOG_LVL_ERROR, NULL, "%s", e.msg);
		goto out_rrd;
	}
	dash.ov = overview_new(dash.cat);
	if (!dash.ov) {
		LOG(LOG_LVL_ERROR, NULL, "out of memory for the overview of %zu targets",
		    dash.cat->ntargets);
		goto out_rrd;
	}
	dash.graphs = graphs_new(&rrd, cfg.graph_workers, GRAPHS_CACHE_BYTES, &e);
	if (!dash.graphs) {
		LOG(LOG_LVL_ERROR, NULL, "%s", e.msg);
		goto out_rrd;
	}
	if (prune_start(&db, cfg.changes_keep_s, cfg.results_keep_s, &prune, &e) < 0) {
		LOG(LOG_LVL_ERROR, NULL, "%s", e.msg);
		goto out_rrd;
	}
	/* stale codes' new addresses, checked by qrwatch-probe as the probes check */
	memset(&pc, 0, sizeof(pc));
	pc.probe = cfg.lookup_probe[0] ? cfg.lookup_probe : NULL;
	pc.catalog = cfg.catalog;
	pc.resolve = cfg.lookup_resolve[0] ? cfg.lookup_resolve : NULL;
	if (cat && addrlookup_start(cat, &db, &pc, cfg.lookup_every_s, &lookup, &e) < 0) {
		LOG(LOG_LVL_ERROR, NULL, "%s", e.msg);
		goto out_rrd;
	}
	dash.lookup = lookup;
	if (outbox_start(&outbox, &alerts, &db.lock, &e) < 0) {
		LOG(LOG_LVL_ERROR, NULL, "%s", e.msg);
		goto out_rrd;
	}
	if (ingest_start(&ing, &e) < 0) {
		LOG(LOG_LVL_ERROR, NULL, "%s", e.msg);
		outbox_stop(&outbox);
		goto out_rrd;
	}
	srv = server_start(&scfg, &ing, &dash, &e);
	if (!srv) {
		LOG(LOG_LVL_ERROR, NULL, "%s", e.msg);
		ingest_stop(&ing);
		outbox_stop(&outbox);
		goto out_rrd;
	}
	if (!cfg.alerts.public_url[0]) {
		/* links in messages: where this server listens (the engine reads it under the lock) */
		pthread_mutex_lock(&db.lock);
		snprintf(cfg.alerts.public_url, sizeof(cfg.alerts.public_url), "http://%s:%u",
			 cfg.listen_addr, server_port(srv));
		pthread_mutex_unlock(&db.lock);
	}
	if (port_file) {
		char num[16];
		int n = snprintf(num, sizeof(num), "%u\n", server_port(srv));

		file_write_atomic(port_file, num, (size_t)n, &e);
	}
	LOG(LOG_LVL_INFO, NULL, "qrwatchd %s listening on %s:%u: %zu probes, %zu targets",
	    VERSION, cfg.listen_addr, server_port(srv), cfg.nprobes,
	    cat ? cat->ntargets : 0);
	while (!stopping && !*again) {
		while (sem_wait(&wake) < 0 && errno == EINTR)
			;
		if (reloading) {
			reloading = 0;
			*again = reload_loads(path, &cfg);
		}
	}
	if (*again)
		LOG(LOG_LVL_INFO, NULL, "reloading the configuration and the catalog");
	LOG(LOG_LVL_INFO, NULL, "stopping (RRD: %lu written, %lu refused as not newer)",
	    rrd.written, rrd.refused);
	listen_fd = server_stop(srv, *again);
	outbox_stop(&outbox);
	LOG(LOG_LVL_INFO, NULL, "alerts: %lu notifications delivered, %lu retries, %lu given up",
	    outbox.delivered, outbox.retried, outbox.given_up);
	rc = 0;
out_rrd:
	metrics_free(dash.metrics);
	addrlookup_stop(lookup);
	prune_stop(prune);
	graphs_free(dash.graphs);
	overview_free(dash.ov);
	free(cert);
	free(key);
	OPENSSL_cleanse(dash.csrf_key, sizeof(dash.csrf_key));
	if (photos_on)
		photos_release(&photos);
	if (keys) {
		OPENSSL_cleanse(keys, (cfg.nprobes + 1) * sizeof(*keys));
		free(keys);
	}
	astore_release(&ast);	/* its statements, before the connection closes */
	rrdstore_release(&rrd);
out_db:
	store_close(&db);
out_cfg:
	curl_global_cleanup();
	catalog_free(cat);
	dconfig_release(&cfg);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "hash-password", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *port_file = NULL;
	int test = 0, ch, rc, again;
	/* a process that draws graphs for a qrwatchd (graphwork.h), never run by hand */
	if (argc == 2 && !strcmp(argv[1], "--graph-worker"))
		return graphwork_serve(0, 1);
	while ((ch = getopt_long(argc, argv, "c:tp:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 't': test = 1; break;
		case 'p': port_file = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("qrwatchd %s\n", VERSION); return 0;
		case 'H': {
			/* the password comes on standard input, never on the command line */
			char pw[256], line[512];

			if (!fgets(pw, sizeof(pw), stdin) || !pw[0]) {
				fprintf(stderr, "qrwatchd: give the password on standard input\n");
				return 2;
			}
			pw[strcspn(pw, "\r\n")] = '\0';
			if (auth_hash_line(optarg, pw, line, sizeof(line)) < 0)
				return 1;
			printf("%s\n", line);
			return 0;
		}
		default: usage(stderr); return 2;
		}
	}
	if (!path || optind != argc) {
		usage(stderr);
		return 2;
	}
	sem_init(&wake, 0, 0);
	/* a reload (SIGHUP, a confirmed address) starts everything again from the files */
	do {
		again = 0;
		rc = serve(path, port_file, test, &again);
	} while (again && !stopping);
	sem_destroy(&wake);
	if (listen_fd >= 0)
		close(listen_fd);	/* a reload that could not start again */
	poster_pdf_cleanup();	/* fontconfig's caches, once every life is over */
	return rc;
}
