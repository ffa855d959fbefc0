/* probe.c - qrwatch-probe, the router daemon; for now its one-off `check` command. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "check.h"
#include "waterfall.h"
#include "config.h"
#include "daemon.h"
#include "emulate.h"
#include "../common/log.h"
#include "../targets/catalog.h"
#include "../common/banned.h"

#define VERSION "0.1.0"

enum { EXIT_OK = 0, EXIT_FINDING = 1, EXIT_USAGE = 2 };

static void check_usage(FILE *f)
{
	const struct emulate_profile *p;

	fputs("usage: qrwatch-probe check [options] TARGET-ID|URL\n"
	      "\n"
	      "Check one posted code now, the way a citizen would: read the board\n"
	      "photo, judge the code, walk the procedure's flow, and print each step\n"
	      "with its phases (DNS, connect, TLS, waiting, receiving), its status\n"
	      "and the verdict. A URL is checked alone with one GET.\n"
	      "\n"
	      "  -c, --catalog FILE     the catalog that registers TARGET-ID\n"
	      "  -p, --payload URL      with TARGET-ID: walk its flow from URL instead of\n"
	      "                         the code on its board (an address to print checked\n"
	      "                         first, as a citizen who scans it would find it)\n"
	      "  -l, --lookup           with TARGET-ID: walk its lookup flow instead, which\n"
	      "                         finds the procedure's address on its portal by its\n"
	      "                         code; the last step's final URL is the candidate\n"
	      "  -j, --json             print the result as JSON (docs/protocol.md)\n"
	      "  -e, --english          explanations in English (default: Vietnamese)\n"
	      "  -u, --uplink KIND      the uplink the result is tagged with (fibre, 4g, 5g...)\n"
	      "  -i, --interface NAME   send from this network interface\n"
	      "      --ca FILE          also trust the CA certificates in FILE (besides the system's)\n"
	      "      --resolve H:P:ADDR connect to ADDR for host H port P (like curl)\n"
	      "      --allow-private N  with a URL: let it reach these networks (CIDR)\n"
	      "      --emulate PROFILE  spend a profile's round trip on each connection, TLS\n"
	      "                         handshake and request, and cap the bandwidth (in-process;\n"
	      "                         qrwatch-netem shapes with the kernel's netem instead):\n", f);
	for (p = emulate_profiles(); p->name; p++)
		fprintf(f, "                           %-8s %s\n", p->name, p->stands_for);
	fputs("      --decoder PROGRAM  the board decoder (default: qrwatch-probe-decode\n"
	      "                         beside this program)\n"
	      "  -h, --help             this text\n"
	      "\n"
	      "Exit status: 0 OK, 1 any other verdict, 2 usage or catalog error.\n", f);
}

static int cmd_check(int argc, char **argv)
{
	enum { O_CA = 256, O_RESOLVE, O_ALLOW, O_EMULATE, O_DECODER };
	static const struct option lo[] = {
		{ "catalog", required_argument, NULL, 'c' },
		{ "payload", required_argument, NULL, 'p' },
		{ "lookup", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "english", no_argument, NULL, 'e' },
		{ "uplink", required_argument, NULL, 'u' },
		{ "interface", required_argument, NULL, 'i' },
		{ "ca", required_argument, NULL, O_CA },
		{ "resolve", required_argument, NULL, O_RESOLVE },
		{ "allow-private", required_argument, NULL, O_ALLOW },
		{ "emulate", required_argument, NULL, O_EMULATE },
		{ "decoder", required_argument, NULL, O_DECODER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct check_env env;
	const char *catalog = NULL, *allow = NULL, *payload = NULL;
	int json = 0, english = 0, lookup = 0, ch, rc = EXIT_USAGE;
	struct catalog *cat = NULL;
	const struct target *t = NULL;
	struct target url_target;
	struct check *c = NULL;
	struct buf out;

	memset(&env, 0, sizeof(env));
	env.uplink = "unknown";
	while ((ch = getopt_long(argc, argv, "c:p:ljeu:i:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': catalog = optarg; break;
		case 'p': payload = optarg; break;
		case 'l': lookup = 1; break;
		case 'j': json = 1; break;
		case 'e': english = 1; break;
		case 'u': env.uplink = optarg; break;
		case 'i': env.interface = optarg; break;
		case O_CA: env.extra_ca = optarg; break;
		case O_DECODER: env.decoder = optarg; break;
		case O_RESOLVE: env.resolve = curl_slist_append(env.resolve, optarg); break;
		case O_ALLOW: allow = optarg; break;
		case O_EMULATE: {
			const struct emulate_profile *p = emulate_find(optarg);

			if (!p) {
				fprintf(stderr, "qrwatch-probe: unknown --emulate profile "
					"'%s' (3g, 4g, 4g-weak, 5g)\n", optarg);
				goto out;
			}
			env.emulate_rtt_us = (int64_t)p->rtt_ms * 1000;
			env.emulate_rate = p->rate;
			break;
		}
		case 'h': check_usage(stdout); rc = EXIT_OK; goto out;
		default: check_usage(stderr); goto out;
		}
	}
	if (optind != argc - 1) {
		check_usage(stderr);
		goto out;
	}
	if (lookup && (payload || strstr(argv[optind], "://"))) {
		fprintf(stderr, "qrwatch-probe: --lookup goes with a TARGET-ID alone\n");
		goto out;
	}
	if (payload && strstr(argv[optind], "://")) {
		fprintf(stderr, "qrwatch-probe: --payload goes with a TARGET-ID, not a URL\n");
		goto out;
	}
	if (payload && !strstr(payload, "://")) {
		fprintf(stderr, "qrwatch-probe: --payload '%s' is not a URL\n", payload);
		goto out;
	}
	if (strstr(argv[optind], "://")) {
		/* a bare URL: the default one-step check, under the same guard */
		memset(&url_target, 0, sizeof(url_target));
		url_target.id = "-";
		url_target.kind = TARGET_URL;
		url_target.slo_ms = TARGET_SLO_DEFAULT;
		url_target.connect_timeout_ms = TARGET_CONNECT_TIMEOUT_DEFAULT;
		url_target.first_byte_ms = TARGET_FIRST_BYTE_DEFAULT;
		url_target.stall_ms = TARGET_STALL_DEFAULT;
		url_target.deadline_ms = TARGET_DEADLINE_DEFAULT;
		url_target.allow_networks = allow;
		c = check_new(&url_target, argv[optind], &env);
	} else {
		struct buf errs;

		if (!catalog) {
			fprintf(stderr, "qrwatch-probe: checking a target needs "
				"--catalog (or give a URL)\n");
			goto out;
		}
		buf_init(&errs, 256 * 1024);
		cat = catalog_load(catalog, &errs);
		fputs(buf_str(&errs), stderr);
		buf_release(&errs);
		if (!cat)
			goto out;
		t = catalog_target(cat, argv[optind]);
		if (!t) {
			fprintf(stderr, "qrwatch-probe: no target '%s' in '%s'\n",
				argv[optind], catalog);
			goto out;
		}
		if (payload && t->kind != TARGET_URL) {
			fprintf(stderr, "qrwatch-probe: target '%s' is not a link: --payload "
				"does not apply\n", t->id);
			goto out;
		}
		if (lookup && !t->lookup) {
			fprintf(stderr, "qrwatch-probe: target '%s' has no 'lookup' flow\n",
				t->id);
			goto out;
		}
		/* with a payload: the flow from it, no board read */
		c = check_new(t, payload, &env);
		if (c)
			check_use_catalog(c, cat);
		if (c && lookup && check_lookup(c) < 0) {
			check_free(c);
			c = NULL;
		}
	}
	if (!c) {
		fprintf(stderr, "qrwatch-probe: out of memory\n");
		rc = EXIT_FINDING;
		goto out;
	}
	check_run(c);
	buf_init(&out, 1 << 20);
	if (json) {
		result_to_json(check_result(c), &out);
		buf_addc(&out, '\n');
	} else {
		result_waterfall(check_result(c), isatty(STDOUT_FILENO), english, &out);
	}
	fputs(buf_str(&out), stdout);
	buf_release(&out);
	rc = check_result(c)->verdict == VERDICT_OK ? EXIT_OK : EXIT_FINDING;
out:
	check_free(c);
	catalog_free(cat);
	curl_slist_free_all(env.resolve);
	return rc;
}

static void run_usage(FILE *f)
{
	fputs("usage: qrwatch-probe run -c probe.conf [-t]\n"
	      "\n"
	      "Run the probe in the foreground: check every target of the catalog on\n"
	      "its interval, keep results in the spool, push them to the server in\n"
	      "signed batches. SIGHUP reloads the catalog; SIGTERM flushes and stops.\n"
	      "\n"
	      "  -c, --config FILE   the probe's configuration (see probe.conf.sample)\n"
	      "  -t, --test          check the configuration and the catalog, then exit\n"
	      "  -h, --help          this text\n", f);
}

static int cmd_run(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	struct probe_config cfg;
	enum log_level level;
	struct buf errs;
	int test = 0, ch;

	while ((ch = getopt_long(argc, argv, "c:th", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 't': test = 1; break;
		case 'h': run_usage(stdout); return EXIT_OK;
		default: run_usage(stderr); return EXIT_USAGE;
		}
	}
	if (!path || optind != argc) {
		run_usage(stderr);
		return EXIT_USAGE;
	}
	buf_init(&errs, 64 * 1024);
	if (probe_config_load(path, &cfg, &errs) < 0) {
		fputs(buf_str(&errs), stderr);
		buf_release(&errs);
		return EXIT_USAGE;
	}
	if (test) {
		struct catalog *cat;
		char dec[4200];

		if (cfg.decoder[0])
			snprintf(dec, sizeof(dec), "%s", cfg.decoder);
		else if (check_default_decoder(dec, sizeof(dec)) < 0)
			dec[0] = '\0';
		if (!dec[0] || access(dec, X_OK) != 0) {
			fprintf(stderr, "%s: the board decoder '%s' cannot be run: %s (install "
				"qrwatch-probe-decode beside qrwatch-probe, or set 'decoder')\n",
				path, dec, dec[0] ? strerror(errno) : "not found");
			buf_release(&errs);
			return EXIT_USAGE;
		}
		if (cfg.catalog_url[0] && access(cfg.catalog, F_OK) != 0) {
			printf("%s: ok: probe '%s'; its catalog will be fetched from '%s' "
			       "into '%s'\n", path, cfg.probe_id, cfg.catalog_url,
			       cfg.catalog);
			buf_release(&errs);
			return EXIT_OK;
		}
		cat = catalog_load(cfg.catalog, &errs);
		fputs(buf_str(&errs), stderr);
		buf_release(&errs);
		if (!cat)
			return EXIT_USAGE;
		printf("%s: ok: probe '%s', %zu targets from '%s', %s\n", path,
		       cfg.probe_id, cat->ntargets, cfg.catalog,
		       cfg.server[0] ? cfg.server : "no server (results stay in the spool)");
		catalog_free(cat);
		return EXIT_OK;
	}
	buf_release(&errs);
	log_level_parse(cfg.log_level, &level);
	log_setup(!strcmp(cfg.log, "syslog"), "qrwatch-probe", level);
	return daemon_run(&cfg, VERSION) < 0 ? EXIT_FINDING : EXIT_OK;
}

/*
 * qrwatch-probe lookup NAME: how the system's resolver answers for NAME,
 * the way a check's own lookup went. The probe runs it (as a program of
 * its own, under the guard's limits) when a check could not resolve its
 * host, to tell a name that no longer exists from a resolver that did not
 * answer; it is also a field tool.
 */
static int cmd_lookup(int argc, char **argv)
{
	struct addrinfo hints, *res = NULL;
	int rc;

	if (argc != 2 || argv[1][0] == '-') {
		fputs("usage: qrwatch-probe lookup NAME\n"
		      "\n"
		      "Resolve NAME with the system's resolver, as a check does, and say\n"
		      "how it went: its addresses, \"no such name\" (the DNS answered\n"
		      "that it does not exist: NXDOMAIN), or \"no answer\" (the resolver\n"
		      "failed or did not answer: SERVFAIL, a timeout, no network).\n"
		      "\n"
		      "Exit status: 0 resolved, 3 no such name, 4 no answer, 2 usage.\n",
		      argc == 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
		return argc == 2 && !strcmp(argv[1], "--help") ? EXIT_OK : EXIT_USAGE;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(argv[1], NULL, &hints, &res);
	if (rc == EAI_NONAME
#ifdef EAI_NODATA
	    || rc == EAI_NODATA
#endif
	    ) {
		printf("no such name: %s\n", argv[1]);
		return 3;
	}
	if (rc != 0) {
		printf("no answer: %s (%s)\n", argv[1], gai_strerror(rc));
		return 4;
	}
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		char host[NI_MAXHOST];

		if (getnameinfo(a->ai_addr, a->ai_addrlen, host, sizeof(host), NULL, 0,
				NI_NUMERICHOST) == 0)
			printf("%s\n", host);
	}
	freeaddrinfo(res);
	return EXIT_OK;
}

/*
 * qrwatch-probe emulate [PROFILE]: the uplink profiles, one a line, for
 * qrwatch-netem, which shapes a network namespace with the kernel's netem
 * from the same numbers as --emulate.
 */
static int cmd_emulate(int argc, char **argv)
{
	const struct emulate_profile *p;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		int help = argc == 2 && !strcmp(argv[1], "--help");

		fputs("usage: qrwatch-probe emulate [PROFILE]\n"
		      "\n"
		      "Print the uplink profiles of --emulate (or only PROFILE), one a line:\n"
		      "its name, the round trip in ms, the bandwidth in bytes per second\n"
		      "each way, the loss in percent each way, and what it stands for.\n"
		      "qrwatch-netem reads them to shape a network namespace with netem.\n"
		      "\n"
		      "Exit status: 0, or 2 for an unknown profile or usage.\n",
		      help ? stdout : stderr);
		return help ? EXIT_OK : EXIT_USAGE;
	}
	if (argc == 2) {
		p = emulate_find(argv[1]);
		if (!p) {
			fprintf(stderr, "qrwatch-probe: unknown emulation profile '%s'\n",
				argv[1]);
			return EXIT_USAGE;
		}
		emulate_print(p, stdout);
		return EXIT_OK;
	}
	for (p = emulate_profiles(); p->name; p++)
		emulate_print(p, stdout);
	return EXIT_OK;
}

static void usage(FILE *f)
{
	fputs("usage: qrwatch-probe COMMAND [options]   (COMMAND --help)\n\n"
	      "The qrwatch probe for village routers.\n\n"
	      "  run      run the probe (schedule, spool, push) in the foreground\n"
	      "  check    check one target or URL now and print a waterfall\n"
	      "  lookup   resolve a name as a check does, and say how it went\n"
	      "  emulate  print the uplink profiles (for qrwatch-netem)\n", f);
}

int main(int argc, char **argv)
{
	int rc;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("qrwatch-probe %s\n", VERSION);
		return EXIT_OK;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "qrwatch-probe: cannot initialise libcurl\n");
		return 1;
	}
	if (!strcmp(argv[1], "check"))
		rc = cmd_check(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "run"))
		rc = cmd_run(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "lookup"))
		rc = cmd_lookup(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "emulate"))
		rc = cmd_emulate(argc - 1, argv + 1);
	else {
		fprintf(stderr, "qrwatch-probe: unknown command '%s'\n", argv[1]);
		usage(stderr);
		rc = EXIT_USAGE;
	}
	curl_global_cleanup();
	return rc;
}
