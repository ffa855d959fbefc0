/* fuzz_catalog.c - the catalog parser (targets/catalog.c) on any file a district may write. */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../targets/catalog.h"
#include "../../targets/domain.h"
#include "../../targets/emvco.h"
#include "../../common/banned.h"

/*
 * A catalog is all or nothing. Whatever the bytes:
 *   - a refusal lists at most CATALOG_MAX_ERRORS errors and a count of the
 *     rest, each one line naming the file (and the line, when there is one);
 *     an acceptance adds nothing to the errors;
 *   - an accepted catalog keeps what docs/catalog.md promises: ids that are
 *     ids and unique, found again by catalog_target() and catalog_board()
 *     (the sorted index), every target on a board at a place, exactly one
 *     image source, numbers within their bounds, official domains that are
 *     not public suffixes, a registered link under them, a payee of a
 *     6-digit BIN and 1-19 digits or capitals whose payment code (if
 *     registered) pays it with a good checksum, text targets with their
 *     text, flows of 1 to CATALOG_MAX_STEPS steps with a known method, and
 *     capture patterns of at most CATALOG_REGEX_MAX characters without
 *     back-references that compile (quickly: libFuzzer's -timeout).
 */
#define NAME "fuzz.catalog"

static int is_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > CATALOG_ID_MAX || !(islower((unsigned char)s[0]) ||
					      isdigit((unsigned char)s[0])))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_.") == n;
}

static int in(long v, long lo, long hi)
{
	return v >= lo && v <= hi;
}

static void check_errors(const char *errs, size_t len)
{
	size_t lines = 0;

	if (len == 0 || errs[len - 1] != '\n')
		abort();
	for (const char *l = errs; l < errs + len; l = strchr(l, '\n') + 1) {
		if (strncmp(l, NAME ":", strlen(NAME ":")) != 0)
			abort();
		lines++;
	}
	if (lines > CATALOG_MAX_ERRORS + 1)
		abort();
}

/* \1 to \9 outside a bracket expression */
static int has_backref(const char *s)
{
	for (; *s; s++) {
		if (*s == '[') {
			s += s[1] == '^' ? 2 : 1;
			s += *s == ']';
			while (*s && *s != ']')
				s++;
			if (!*s)
				return 0;
		} else if (*s == '\\' && s[1]) {
			if (s[1] >= '1' && s[1] <= '9')
				return 1;
			s++;
		}
	}
	return 0;
}

static void check_step(const struct step *st)
{
	if (!st->name || !st->url || !st->method ||
	    (strcmp(st->method, "GET") && strcmp(st->method, "POST") &&
	     strcmp(st->method, "PUT") && strcmp(st->method, "HEAD")))
		abort();
	if ((st->nheaders && !st->headers) || (st->nform && !st->form) ||
	    (st->ncaptures && !st->captures) || (st->nexpect_text && !st->expect_text))
		abort();
	if (st->slo_ms && !in(st->slo_ms, TARGET_SLO_MIN, TARGET_SLO_MAX))
		abort();
	for (size_t i = 0; i < st->nexpect_status; i++)
		if (!in(st->expect_status[i], 100, 599))
			abort();
	for (size_t i = 0; i < st->ncaptures; i++) {
		const struct capture *c = &st->captures[i];
		regex_t re;

		if (!c->name || !c->expr)
			abort();
		if (c->source == CAPTURE_JSON)
			continue;
		/* short, no back-reference, and it compiles (in the time libFuzzer allows) */
		if (strlen(c->expr) > CATALOG_REGEX_MAX || has_backref(c->expr) ||
		    regcomp(&re, c->expr, REG_EXTENDED) != 0)
			abort();
		regfree(&re);
	}
}

static void check_target(const struct catalog *c, const struct target *t)
{
	struct err e;

	if (!is_id(t->id) || catalog_target(c, t->id) != t || !t->board ||
	    catalog_board(c, t->board->id) != t->board || !t->board->place ||
	    !t->procedure || !t->board->location)
		abort();
	/* a file, a camera, or photos uploaded to the server: one of them */
	if ((t->image != NULL) + (t->image_url != NULL) + (t->image_uploads != 0) != 1)
		abort();
	/* a code never replaces its own payload, and only with a payload of its own */
	for (size_t i = 0; i < t->nreplaces; i++)
		if (!t->payload || !strcmp(t->replaces[i], t->payload))
			abort();
	if (!in(t->interval_s, TARGET_INTERVAL_MIN, TARGET_INTERVAL_MAX) ||
	    !in(t->slo_ms, TARGET_SLO_MIN, TARGET_SLO_MAX) ||
	    !in(t->connect_timeout_ms, TARGET_TIMEOUT_MIN, TARGET_TIMEOUT_MAX) ||
	    !in(t->first_byte_ms, TARGET_TIMEOUT_MIN, TARGET_TIMEOUT_MAX) ||
	    !in(t->stall_ms, TARGET_TIMEOUT_MIN, TARGET_TIMEOUT_MAX) ||
	    !in(t->deadline_ms, TARGET_TIMEOUT_MIN, TARGET_TIMEOUT_MAX) ||
	    !in(t->open_after, 0, 100) || !in(t->resolve_after, 0, 100))
		abort();
	for (size_t i = 0; i < t->nofficial; i++)
		if (domain_check_official(t->official[i], &e) < 0)
			abort();
	switch (t->kind) {
	case TARGET_URL: {
		char host[DOMAIN_MAX];

		if (!t->nofficial)
			abort();
		if (t->payload && (url_parse_http(t->payload, host, sizeof(host), &e) < 0 ||
				   !domain_is_official(host, t->official, t->nofficial)))
			abort();
		break;
	}
	case TARGET_VIETQR: {
		struct emvco m;
		size_t alen;

		if (!t->payee_bin || !t->payee_account || strlen(t->payee_bin) != 6 ||
		    strspn(t->payee_bin, "0123456789") != 6 || t->flow)
			abort();
		alen = strlen(t->payee_account);
		if (!in((long)alen, 1, 19) ||
		    strspn(t->payee_account, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != alen)
			abort();
		if (t->payload && (emvco_parse(t->payload, strlen(t->payload), &m, &e) < 0 ||
				   !m.crc_ok || strcmp(m.bin, t->payee_bin) ||
				   strcmp(m.account, t->payee_account)))
			abort();
		break;
	}
	case TARGET_TEXT:
		if (!t->payload || t->flow)
			abort();
		break;
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct catalog *c;
	struct buf errs;

	buf_init(&errs, 1024 * 1024);
	c = catalog_parse(NAME, "/srv/qrwatch", (const char *)data, size, &errs);
	if (!c) {
		check_errors(errs.data, errs.len);
		buf_release(&errs);
		return 0;
	}
	if (errs.len || !c->ntargets ||
	    c->nplaces + c->nboards + c->nflows + c->ntargets > CATALOG_MAX_ITEMS)
		abort();
	for (size_t i = 0; i < c->nboards; i++)
		if (!is_id(c->boards[i].id) || catalog_board(c, c->boards[i].id) != &c->boards[i] ||
		    !c->boards[i].place)
			abort();
	for (size_t i = 0; i < c->nplaces; i++)
		if (!is_id(c->places[i].id) || !c->places[i].province || !c->places[i].commune)
			abort();
	for (size_t i = 0; i < c->nflows; i++) {
		const struct flow *f = &c->flows[i];

		if (!is_id(f->id) || !f->name || !in((long)f->nsteps, 1, CATALOG_MAX_STEPS))
			abort();
		for (size_t k = 0; k < f->nsteps; k++)
			check_step(&f->steps[k]);
	}
	for (size_t i = 0; i < c->ntargets; i++)
		check_target(c, &c->targets[i]);
	/* an id that cannot be in the file is not found */
	if (catalog_target(c, "~") || catalog_board(c, "~"))
		abort();
	catalog_free(c);
	buf_release(&errs);
	return 0;
}
