/* qrwatch.c - the desk officer's command line: decode board photos, lint a catalog, print posters. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>
#include <qrencode.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "../common/fileio.h"
#include "../common/text.h"
#include "../targets/catalog.h"
#include "../targets/decode.h"
#include "../targets/guarddecode.h"
#include "../targets/image.h"
#include "../targets/imgops.h"
#include "../targets/payload.h"
#include "../targets/policy.h"
#include "../targets/poster.h"
#include "../targets/posterpdf.h"
#include "../targets/probecheck.h"
#include "../common/banned.h"

#define VERSION "0.1.0"

/* Exit codes shared by the subcommands. */
enum { EXIT_GOOD = 0, EXIT_FINDING = 1, EXIT_USAGE = 2 };

/*
 * Print text from a QR code or a web page to a terminal: control
 * characters (which could move the cursor or rewrite the screen) are shown
 * as \xNN, everything else as is.
 */
static void print_safe(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			fprintf(f, "\\u%04x", p[1]), p++;
		else
			fputc(*p, f);
	}
}

/*
 * Load a catalog, printing its errors; with id, also find that target
 * (*t), saying so when it is missing. NULL when either fails.
 */
static struct catalog *open_catalog(const char *path, const char *id,
				    const struct target **t)
{
	struct catalog *cat;
	struct buf errs;

	buf_init(&errs, 256 * 1024);
	cat = catalog_load(path, &errs);
	fputs(buf_str(&errs), stderr);
	buf_release(&errs);
	if (cat && id) {
		*t = catalog_target(cat, id);
		if (!*t) {
			fprintf(stderr, "qrwatch: no target '%s' in '%s'\n", id, path);
			catalog_free(cat);
			return NULL;
		}
	}
	return cat;
}

/* ---- decode ---- */

struct decode_opts {
	const char *catalog;
	const char *target;
	int raw, json, yield, english, all;
};

static const struct target *target_for_image(const struct catalog *c,
					     const char *image)
{
	char a[4096], b[4096];

	if (!realpath(image, a))
		return NULL;
	for (size_t i = 0; i < c->ntargets; i++)
		if (c->targets[i].image && realpath(c->targets[i].image, b) &&
		    strcmp(a, b) == 0)
			return &c->targets[i];
	return NULL;
}

static void print_judgement(const struct judgement *j, int english)
{
	struct buf b;

	buf_init(&b, 8192);
	policy_explain(j, english, &b);
	printf("  verdict:  %s\n  why:      ", verdict_name(j->verdict));
	print_safe(stdout, buf_str(&b));
	putchar('\n');
	buf_release(&b);
}

/*
 * --json: one object per image on a line of its own: the image, its
 * status, and every code in reading order with its text (null when the
 * charset is unknown, the bytes then in hex), charset, box and the step
 * that read it. Returns 1 when the image gave no code with a text.
 */
static int decode_json(const char *path, enum guard_status st, struct decode_result *r,
		       const struct err *e)
{
	static const char *const status[] = { "found", "none", "refused", "failed" };
	json_object *o = json_object_new_object(), *codes = json_object_new_array();
	int bad = st != GUARD_FOUND;

	json_object_object_add(o, "image", json_object_new_string(path));
	json_object_object_add(o, "status", json_object_new_string(status[st]));
	if (st == GUARD_REFUSED || st == GUARD_FAILED)
		json_object_object_add(o, "error", json_object_new_string(e->msg));
	json_object_object_add(o, "steps_tried", json_object_new_int(r->steps_tried));
	for (int i = 0; st == GUARD_FOUND && i < r->n; i++) {
		const struct qr_code *c = &r->codes[i];
		json_object *jc = json_object_new_object(), *box = json_object_new_object();
		char *hex = c->text ? NULL : qr_hex(c->raw, c->raw_len);

		json_object_object_add(jc, "text", c->text ? json_object_new_string(c->text) : NULL);
		if (hex)
			json_object_object_add(jc, "hex", json_object_new_string(hex));
		free(hex);
		json_object_object_add(jc, "charset",
				       json_object_new_string(qr_charset_name(c->charset)));
		json_object_object_add(box, "x", json_object_new_int(c->x));
		json_object_object_add(box, "y", json_object_new_int(c->y));
		json_object_object_add(box, "w", json_object_new_int(c->w));
		json_object_object_add(box, "h", json_object_new_int(c->h));
		json_object_object_add(jc, "position", box);
		json_object_object_add(jc, "step", json_object_new_string(c->step[0] ? c->step :
									  r->step));
		json_object_array_add(codes, jc);
		bad |= !c->text;
	}
	json_object_object_add(o, "codes", codes);
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	decode_result_release(r);
	return bad;
}

/* Decode one image; returns 0 when every code is genuine (or no catalog). */
static int decode_one(const char *path, const struct decode_opts *o,
		      const struct catalog *cat, const struct target *t)
{
	struct guard_limits lim;
	struct decode_result r;
	struct judgement j;
	enum guard_status st;
	struct err e;
	int bad = 0;

	guard_limits_default(&lim);
	if (o->yield) {
		const char *const *names = decode_steps();
		unsigned read;
		int any = 0;

		if (guard_yield_file(path, &lim, &read, &e) < 0) {
			fprintf(stderr, "qrwatch: %s\n", e.msg);
			return 1;
		}
		printf("%s\t", path);
		for (int i = 0; names[i]; i++)
			if (read & (1u << i))
				printf("%s%s", any++ ? "," : "", names[i]);
		puts(any ? "" : "-");
		return !any;
	}
	st = guard_decode_file(path, &lim, &r, &e);
	if (o->raw) {
		/* every code, one a line, in reading order */
		for (int i = 0; st == GUARD_FOUND && i < r.n; i++) {
			if (r.codes[i].text) {
				fputs(r.codes[i].text, stdout);
				putchar('\n');
			} else {
				bad = 1;
			}
		}
		if (st == GUARD_REFUSED || st == GUARD_FAILED)
			fprintf(stderr, "qrwatch: %s\n", e.msg);
		bad |= st != GUARD_FOUND;
		decode_result_release(&r);
		return bad;
	}
	if (o->json)
		return decode_json(path, st, &r, &e);
	if (cat && !t)
		t = o->target ? catalog_target(cat, o->target) :
			target_for_image(cat, path);
	printf("%s", path);
	if (t)
		printf(" (target %s)", t->id);
	putchar('\n');
	if (st != GUARD_FOUND) {
		enum reason why = st == GUARD_NONE ? REASON_NO_CODE :
				  st == GUARD_REFUSED ? REASON_IMAGE_REFUSED :
				  REASON_DECODER_FAILED;
		char detail[ERR_MAX + 64];

		if (st == GUARD_NONE)
			snprintf(detail, sizeof(detail), " (%d preprocessing steps "
				 "tried)", r.steps_tried);
		else
			snprintf(detail, sizeof(detail), "%s", e.msg);
		policy_unreadable(why, detail, &j);
		print_judgement(&j, o->english);
		return 1;
	}
	for (int i = 0; i < r.n; i++) {
		const struct qr_code *c = &r.codes[i];
		struct payload p;

		if (r.n > 1)
			printf("  code %d of %d\n", i + 1, r.n);
		if (!c->text) {
			char *hex = qr_hex(c->raw, c->raw_len);

			printf("  payload:  (encoding unknown) %zu bytes: %s\n",
			       c->raw_len, hex ? hex : "");
			policy_unreadable(REASON_UNKNOWN_CHARSET, hex ? hex : "", &j);
			free(hex);
			if (t)
				print_judgement(&j, o->english);
			bad = 1;
			continue;
		}
		payload_classify(c->text, &p);
		printf("  payload:  ");
		print_safe(stdout, c->text);
		printf("\n  kind:     %s", payload_kind_name(p.kind));
		if (p.kind == PAYLOAD_EMVCO)
			printf(" (bank BIN %s, account %s, checksum %s)",
			       p.emv.bin[0] ? p.emv.bin : "?",
			       p.emv.account[0] ? p.emv.account : "?",
			       p.emv.crc_ok ? "ok" : "BAD");
		printf("\n  charset:  %s\n  read by:  %s (step %d)\n  where:    %dx%d at (%d, %d)\n",
		       qr_charset_name(c->charset), c->step[0] ? c->step : r.step, r.steps_tried,
		       c->w, c->h, c->x, c->y);
		if (t && r.n > 1) {
			/* each code alone; the board as a whole below */
			policy_judge(t, c->text, &j);
			printf("  this code: %s\n", j.genuine ? "the target's" : "not the target's");
		} else if (t) {
			policy_judge(t, c->text, &j);
			print_judgement(&j, o->english);
			bad |= !j.genuine;
		} else if (cat) {
			printf("  verdict:  no target in the catalog uses this image; "
			       "name one with --target\n");
			bad = 1;
		}
	}
	if (t && r.n > 1) {
		int used;

		/* the board: its own code, and no foreign one beside it */
		policy_judge_board(cat, t, &r, &j, &used);
		printf("  board:    %d codes\n", r.n);
		print_judgement(&j, o->english);
		bad |= !j.genuine;
	}
	decode_result_release(&r);
	return bad;
}

static void decode_usage(FILE *f)
{
	fputs("usage: qrwatch decode [options] IMAGE...\n"
	      "       qrwatch decode --catalog FILE --all\n"
	      "\n"
	      "Read the QR codes in PNG or JPEG photos of notice boards and say what\n"
	      "they hold: the text, its kind (link, VietQR payment code, text) and\n"
	      "charset. With a catalog, also judge each code against the target that\n"
	      "uses the image: genuine, TAMPERED or UNREADABLE, with the reason.\n"
	      "\n"
	      "  -c, --catalog FILE   judge codes against this catalog\n"
	      "  -t, --target ID      the target the image belongs to (default: the\n"
	      "                       target whose 'image' is this file)\n"
	      "  -a, --all            decode the image of every target in the catalog\n"
	      "  -r, --raw            print only the decoded text of every code, one a\n"
	      "                       line in reading order (nothing when none), for scripts\n"
	      "  -j, --json           one JSON object a line per image: every code's\n"
	      "                       text, charset, position and the step that read it\n"
	      "      --yield          try every cascade step on its own and print, per\n"
	      "                       image, the steps that read a code (\"-\": none):\n"
	      "                       what each step is worth, for the benchmark\n"
	      "  -e, --english        explanations in English (default: Vietnamese)\n"
	      "  -h, --help           this text\n"
	      "\n"
	      "Exit status: 0 all codes read (and genuine), 1 some image unreadable,\n"
	      "refused or not genuine, 2 usage or catalog error.\n"
	      "\n"
	      "The cascade, in order (docs/decoding.md):", f);
	for (const char *const *st = decode_steps(); *st; st++)
		fprintf(f, " %s", *st);
	fputc('\n', f);
}

static int cmd_decode(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "catalog", required_argument, NULL, 'c' },
		{ "target", required_argument, NULL, 't' },
		{ "all", no_argument, NULL, 'a' },
		{ "raw", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "yield", no_argument, NULL, 'Y' },
		{ "english", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct decode_opts o = { NULL, NULL, 0, 0, 0, 0, 0 };
	struct catalog *cat = NULL;
	int ch, bad = 0;

	while ((ch = getopt_long(argc, argv, "c:t:arjeh", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': o.catalog = optarg; break;
		case 't': o.target = optarg; break;
		case 'a': o.all = 1; break;
		case 'r': o.raw = 1; break;
		case 'j': o.json = 1; break;
		case 'Y': o.yield = 1; break;
		case 'e': o.english = 1; break;
		case 'h': decode_usage(stdout); return EXIT_GOOD;
		default: decode_usage(stderr); return EXIT_USAGE;
		}
	}
	if ((optind >= argc && !o.all) || (o.all && (!o.catalog || optind < argc)) ||
	    (o.target && !o.catalog) || o.raw + o.json + o.yield > 1) {
		decode_usage(stderr);
		return EXIT_USAGE;
	}
	if (o.catalog) {
		const struct target *t;

		cat = open_catalog(o.catalog, o.target, &t);
		if (!cat)
			return EXIT_USAGE;
	}
	if (o.all) {
		for (size_t i = 0; i < cat->ntargets; i++) {
			const struct target *t = &cat->targets[i];

			if (t->image_uploads) {
				printf("%s: photos are uploaded to qrwatchd (judged there)\n", t->id);
				continue;
			}
			if (!t->image) {
				printf("%s: image comes from %s (checked by the probe)\n",
				       t->id, t->image_url);
				continue;
			}
			bad |= decode_one(t->image, &o, cat, t);
		}
	} else {
		for (int i = optind; i < argc; i++)
			bad |= decode_one(argv[i], &o, cat, NULL);
	}
	catalog_free(cat);
	return bad ? EXIT_FINDING : EXIT_GOOD;
}

/* ---- lint ---- */

static void lint_usage(FILE *f)
{
	fputs("usage: qrwatch lint CATALOG...\n"
	      "\n"
	      "Check catalog files (docs/catalog.md) and report every problem as\n"
	      "FILE:LINE: what is wrong: what stops it loading, and what loads but\n"
	      "leaves a board to every probe (one without 'probe' while others have\n"
	      "one) or a web flow that no probe can walk. Exit status 0 when all are\n"
	      "clean, 1 if not.\n",
	      f);
}

static int cmd_lint(int argc, char **argv)
{
	int bad = 0;

	if (argc < 2) {
		lint_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		lint_usage(stdout);
		return EXIT_GOOD;
	}
	for (int i = 1; i < argc; i++) {
		struct catalog *c = open_catalog(argv[i], NULL, NULL);

		struct buf found;

		buf_init(&found, 1024 * 1024);
		if (!c) {
			bad = 1;
		} else if (catalog_lint(c, &found) > 0) {
			/* it loads, but leaves boards to every probe or flows to none */
			fputs(buf_str(&found), stderr);
			bad = 1;
		} else {
			printf("%s: ok: %zu places, %zu boards, %zu targets, %zu flows\n",
			       argv[i], c->nplaces, c->nboards, c->ntargets, c->nflows);
		}
		buf_release(&found);
		catalog_free(c);
	}
	return bad ? EXIT_FINDING : EXIT_GOOD;
}

/* ---- lookup ---- */

static void lookup_usage(FILE *f)
{
	fputs("usage: qrwatch lookup -c CATALOG TARGET-ID\n"
	      "\n"
	      "Find a stale code's new address: walk the target's lookup flow (the\n"
	      "catalog's 'lookup', which finds the procedure on its portal by its\n"
	      "'procedure_code'), take the page it ends on as the candidate, then\n"
	      "walk the target's own flow from that address as a citizen would. The\n"
	      "candidate is printed only when that check is OK; it is then the\n"
	      "address to confirm and print (qrwatch poster, once the catalog holds\n"
	      "it). Both walks are qrwatch-probe's, under its guards.\n"
	      "\n"
	      "  -c, --catalog FILE   the catalog that registers the target\n"
	      "      --probe PROGRAM  the checker (default: qrwatch-probe beside this program)\n"
	      "      --resolve H:P:A  connect to A for host H port P (like curl)\n"
	      "  -h, --help           this text\n"
	      "\n"
	      "Exit status: 0 a candidate checked OK, 1 none (said why), 2 usage.\n", f);
}

static int cmd_lookup(int argc, char **argv)
{
	enum { O_PROBE = 256, O_RESOLVE };
	static const struct option lo[] = {
		{ "catalog", required_argument, NULL, 'c' },
		{ "probe", required_argument, NULL, O_PROBE },
		{ "resolve", required_argument, NULL, O_RESOLVE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct probecheck pc = { NULL, NULL, NULL, NULL };
	const struct target *t = NULL;
	struct probecheck_found found;
	struct catalog *cat;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "c:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': pc.catalog = optarg; break;
		case O_PROBE: pc.probe = optarg; break;
		case O_RESOLVE: pc.resolve = optarg; break;
		case 'h': lookup_usage(stdout); return EXIT_GOOD;
		default: lookup_usage(stderr); return EXIT_USAGE;
		}
	}
	if (!pc.catalog || optind != argc - 1) {
		lookup_usage(stderr);
		return EXIT_USAGE;
	}
	cat = open_catalog(pc.catalog, argv[optind], &t);
	if (!cat)
		return EXIT_USAGE;
	if (!t->lookup) {
		fprintf(stderr, "qrwatch: target '%s' has no 'lookup' flow to find its "
			"address with (docs/catalog.md)\n", t->id);
		catalog_free(cat);
		return EXIT_USAGE;
	}
	if (probecheck_find(&pc, t, &found) != 0) {
		fprintf(stderr, "qrwatch: no new address for '%s' (%s %s on its portal): %s\n",
			t->id, t->procedure, t->procedure_code, found.why_en);
		rc = EXIT_FINDING;
	} else {
		fprintf(stderr, "qrwatch: candidate for '%s': %s; checking it as a citizen "
			"who scans it would\n", t->id, found.candidate);
		rc = probecheck_run(&pc, t->id, found.candidate, NULL);
		if (rc == 0) {
			printf("%s\n", found.candidate);
		} else {
			fprintf(stderr, "qrwatch: the candidate %s: %s\n", found.candidate,
				rc < 0 ? "could not be checked" : "is not OK (above), so it is "
				"not offered");
			rc = EXIT_FINDING;
		}
	}
	catalog_free(cat);
	return rc;
}

/* ---- poster ---- */

static void poster_usage(FILE *f)
{
	fputs("usage: qrwatch poster -c CATALOG TARGET-ID -o FILE.pdf|FILE.svg|FILE.png\n"
	      "\n"
	      "Print a replacement code for a target: the poster to pin up as PDF\n"
	      "(the issuing commune, the procedure, the code, its address, three\n"
	      "steps to scan it, what to check against fraud, the date and a serial;\n"
	      "A5, or A4 with --size a4), an A5 SVG poster, or the code alone as a\n"
	      "PNG at 300 dpi.\n"
	      "A link is printed only once it checks working: qrwatch-probe walks\n"
	      "the target's flow from it first, as a citizen who scans the new code\n"
	      "would, and a link that is not OK (a stale one above all) is refused.\n"
	      "A payment code's registered payee needs no check.\n"
	      "\n"
	      "  -c, --catalog FILE   the catalog that registers the target\n"
	      "  -o, --output FILE    where to write (.pdf, .svg or .png)\n"
	      "  -s, --size a5|a4     the PDF's paper (default a5)\n"
	      "      --probe PROGRAM  the checker (default: qrwatch-probe beside this program)\n"
	      "      --resolve H:P:A  for the check: connect to A for host H port P (like curl)\n"
	      "  -h, --help           this text\n", f);
}

static int cmd_poster(int argc, char **argv)
{
	enum { O_PROBE = 256, O_RESOLVE };
	static const struct option lo[] = {
		{ "catalog", required_argument, NULL, 'c' },
		{ "output", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 's' },
		{ "probe", required_argument, NULL, O_PROBE },
		{ "resolve", required_argument, NULL, O_RESOLVE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *catalog = NULL, *out = NULL, *probe = NULL, *resolve = NULL;
	enum poster_size size = POSTER_A5;
	const struct target *t = NULL;
	struct catalog *cat;
	struct err e;
	int ch, rc, pdf;

	while ((ch = getopt_long(argc, argv, "c:o:s:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': catalog = optarg; break;
		case 'o': out = optarg; break;
		case 's':
			if (!strcmp(optarg, "a4") || !strcmp(optarg, "A4")) {
				size = POSTER_A4;
			} else if (strcmp(optarg, "a5") && strcmp(optarg, "A5")) {
				fprintf(stderr, "qrwatch: --size must be a5 or a4, not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case O_PROBE: probe = optarg; break;
		case O_RESOLVE: resolve = optarg; break;
		case 'h': poster_usage(stdout); return EXIT_GOOD;
		default: poster_usage(stderr); return EXIT_USAGE;
		}
	}
	if (!catalog || !out || optind != argc - 1) {
		poster_usage(stderr);
		return EXIT_USAGE;
	}
	{
		const char *dot = strrchr(out, '.');

		if (!dot || (strcmp(dot, ".png") && strcmp(dot, ".svg") && strcmp(dot, ".pdf"))) {
			fprintf(stderr, "qrwatch: poster file '%s' must end in .pdf, .svg or .png\n",
				out);
			return EXIT_FINDING;
		}
		pdf = !strcmp(dot, ".pdf");
	}
	cat = open_catalog(catalog, argv[optind], &t);
	if (!cat)
		return EXIT_USAGE;
	/* never a poster of a link not checked working (docs/api.md, /stale) */
	if (t->kind == TARGET_URL && t->payload) {
		struct probecheck pc = { probe, catalog, resolve, NULL };
		int ok = probecheck_run(&pc, t->id, t->payload, NULL);

		if (ok != 0) {
			if (ok < 0)
				fprintf(stderr, "qrwatch: no poster for '%s': its address could "
					"not be checked (qrwatch-probe did not run)\n", t->id);
			else
				fprintf(stderr, "qrwatch: no poster for '%s': its address '%s' "
					"did not check OK (above); a code is printed only for an "
					"address checked working\n", t->id, t->payload);
			catalog_free(cat);
			return EXIT_FINDING;
		}
	}
	if (pdf) {
		struct buf b;

		buf_init(&b, 64u * 1024 * 1024);
		rc = poster_pdf(&t, 1, size, (long long)time(NULL), &b, &e);
		if (rc == 0)
			rc = file_write_atomic(out, b.data, b.len, &e);
		buf_release(&b);
		poster_pdf_cleanup();	/* the command ends here */
	} else {
		rc = poster_write(t, out, &e);
	}
	if (rc < 0)
		fprintf(stderr, "qrwatch: %s\n", e.msg);
	else if (t->kind == TARGET_URL && t->payload)
		printf("%s: replacement code for '%s' written, its address checked OK\n",
		       out, t->id);
	else
		printf("%s: replacement code for '%s' written\n", out, t->id);
	catalog_free(cat);
	return rc < 0 ? EXIT_FINDING : EXIT_GOOD;
}

/* ---- encode ---- */

static void encode_usage(FILE *f)
{
	fputs("usage: qrwatch encode [-s PIXELS] [--photo TILT] -o FILE.png|FILE.jpg TEXT...\n"
	      "\n"
	      "Write TEXT as a QR code (8-bit mode, UTF-8, level M), for trying a\n"
	      "decoder or making test boards. PIXELS per module, default 4. Several\n"
	      "TEXTs (up to 4) make one board with their codes side by side, left to\n"
	      "right: an official code with a sticker beside it, say.\n"
	      "--photo TILT makes it look like a phone photo of a notice board: on\n"
	      "paper, tilted by TILT degrees, lit unevenly, soft and noisy. A .jpg\n"
	      "output is written as a JPEG (quality 80), anything else as PNG.\n", f);
}

#define ENCODE_MAX_CODES 4

/* The codes of texts side by side on one white board, in img; -1 with a message. */
static int encode_board(char **texts, int n, int scale, struct image *img)
{
	struct image codes[ENCODE_MAX_CODES];
	int w = 0, h = 0, x = 0, rc = 0, made = 0;

	for (int i = 0; i < n && rc == 0; i++) {
		QRcode *qr = QRcode_encodeData((int)strlen(texts[i]),
					       (const unsigned char *)texts[i], 0, QR_ECLEVEL_M);

		if (!qr) {
			fprintf(stderr, "qrwatch: text %d does not fit in a QR code\n", i + 1);
			rc = -1;
		} else if (poster_render(qr, scale, &codes[i]) < 0) {
			fprintf(stderr, "qrwatch: out of memory\n");
			rc = -1;
		} else {
			made++;
			w += codes[i].w;
			h = codes[i].h > h ? codes[i].h : h;
		}
		QRcode_free(qr);
	}
	if (rc == 0 && n == 1) {
		*img = codes[0];
		return 0;
	}
	if (rc == 0 && image_alloc(img, w, h) < 0) {
		fprintf(stderr, "qrwatch: out of memory\n");
		rc = -1;
	}
	if (rc == 0) {
		memset(img->px, 255, (size_t)w * h);
		for (int i = 0; i < n; x += codes[i].w, i++)
			for (int y = 0; y < codes[i].h; y++)
				memcpy(img->px + (size_t)y * w + x, codes[i].px + (size_t)y * codes[i].w,
				       (size_t)codes[i].w);
	}
	for (int i = 0; i < made; i++)
		image_release(&codes[i]);
	return rc;
}

static int cmd_encode(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "scale", required_argument, NULL, 's' },
		{ "photo", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	long scale = 4;
	double tilt = 0;
	int photo = 0;
	int ch;
	struct image img;
	struct err e;
	int rc;

	while ((ch = getopt_long(argc, argv, "o:s:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'o': out = optarg; break;
		case 's': scale = strtol(optarg, NULL, 10); break;
		case 'P': {
			char *end;

			tilt = strtod(optarg, &end);
			if (*end || tilt < -45 || tilt > 45) {
				fprintf(stderr, "qrwatch: --photo takes a tilt from -45 to 45 "
					"degrees, got '%s'\n", optarg);
				return EXIT_USAGE;
			}
			photo = 1;
			break;
		}
		case 'h': encode_usage(stdout); return EXIT_GOOD;
		default: encode_usage(stderr); return EXIT_USAGE;
		}
	}
	if (!out || optind >= argc || argc - optind > ENCODE_MAX_CODES || scale < 1 ||
	    scale > 64) {
		encode_usage(stderr);
		return EXIT_USAGE;
	}
	if (encode_board(argv + optind, argc - optind, (int)scale, &img) < 0)
		return EXIT_FINDING;
	if (photo) {
		struct image ph;

		if (imgop_photo(&img, &ph, tilt, (unsigned)strlen(argv[optind])) < 0) {
			image_release(&img);
			fprintf(stderr, "qrwatch: out of memory\n");
			return EXIT_FINDING;
		}
		image_release(&img);
		img = ph;
	}
	rc = text_ends_with(out, ".jpg") || text_ends_with(out, ".jpeg") ?
		image_save_jpeg(&img, out, 80, &e) : image_save_png(&img, out, &e);
	if (rc < 0)
		fprintf(stderr, "qrwatch: %s\n", e.msg);
	image_release(&img);
	return rc < 0 ? EXIT_FINDING : EXIT_GOOD;
}

/* ---- dispatch ---- */

static int cmd_help(int argc, char **argv);

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "decode", cmd_decode, "read QR codes in board photos and judge them" },
	{ "lint", cmd_lint, "check catalog files, naming file and line" },
	{ "lookup", cmd_lookup, "find a stale code's new address on its portal, checked" },
	{ "poster", cmd_poster, "print a replacement code for a target" },
	{ "encode", cmd_encode, "write text as a QR code PNG" },
	{ "help", cmd_help, "this list" },
};

static void usage(FILE *f)
{
	fputs("usage: qrwatch COMMAND [options]   (qrwatch COMMAND --help)\n\n"
	      "qrwatch watches the QR codes posted on commune notice boards.\n\n",
	      f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(stdout);
	return EXIT_GOOD;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(argc, argv);
	if (!strcmp(argv[1], "--version")) {
		printf("qrwatch %s\n", VERSION);
		return EXIT_GOOD;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "qrwatch: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
