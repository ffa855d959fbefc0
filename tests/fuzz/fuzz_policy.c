/* fuzz_policy.c - the payload judge (targets/policy.c, payload.c, domain.c) on any decoded text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../targets/catalog.h"
#include "../../targets/policy.h"
#include "../../common/text.h"
#include "../../common/banned.h"

/*
 * The input is the text a board's code decoded to, judged against the
 * example catalog's link target, its two fee (VietQR) targets, a link
 * target that registers no payload, and a text target. Whatever the text:
 *   - a link's host is a DNS name or an IPv6 address in brackets;
 *   - the verdict is OK, TAMPERED or UNREADABLE, OK exactly when genuine,
 *     with a reason of its own kind;
 *   - OK for a link means the host is an official domain or under one by
 *     whole labels (checked here, not by domain.c), and the registered
 *     link when there is one; for a payment code, the registered text, or
 *     the registered BIN and account in field 38 with a good checksum; for
 *     text, the registered text;
 *   - the explanation, in both languages, fills every placeholder (when
 *     the text has no braces of its own) and is valid UTF-8 when the text
 *     was;
 *   - judging again gives the same judgement.
 */
static const struct target *targets[5];
static struct catalog *cat;
static struct target bare_link, bare_text;
static const char *const officials[] = { "dichvucong.gov.vn", "bacninh.gov.vn" };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct buf errs;

	(void)argc;
	(void)argv;
	buf_init(&errs, 64 * 1024);
	cat = catalog_load(fuzz_source("targets/examples/xa-tan-an.catalog"), &errs);
	if (!cat) {
		fprintf(stderr, "fuzz_policy: %s", buf_str(&errs));
		abort();
	}
	buf_release(&errs);
	bare_link.id = "bare-link";
	bare_link.kind = TARGET_URL;
	bare_link.official = (const char **)officials;
	bare_link.nofficial = 2;
	bare_text.id = "bare-text";
	bare_text.kind = TARGET_TEXT;
	bare_text.payload = "Tra cứu thủ tục tại UBND xã Tân An";
	targets[0] = catalog_target(cat, "ks-thon-dong");
	targets[1] = catalog_target(cat, "le-phi-mot-cua");
	targets[2] = catalog_target(cat, "le-phi-thon-doai");
	targets[3] = &bare_link;
	targets[4] = &bare_text;
	for (size_t i = 0; i < 5; i++)
		if (!targets[i])
			abort();
	return 0;
}

/* host is d or ends in ".d", for one of the official domains. */
static int under_official(const char *host, const struct target *t)
{
	size_t hl = strlen(host);

	for (size_t i = 0; i < t->nofficial; i++) {
		size_t dl = strlen(t->official[i]);

		if (!strcmp(host, t->official[i]) ||
		    (hl > dl && host[hl - dl - 1] == '.' && !strcmp(host + hl - dl, t->official[i])))
			return 1;
	}
	return 0;
}

static void check_genuine(const struct target *t, const char *text, const struct judgement *j)
{
	struct payload p;

	payload_classify(text, &p);
	switch (t->kind) {
	case TARGET_URL:
		if (j->reason != REASON_GENUINE_URL || p.kind != PAYLOAD_URL ||
		    !under_official(p.host, t) || (t->payload && strcmp(t->payload, text)))
			abort();
		break;
	case TARGET_VIETQR:
		if (j->reason != REASON_GENUINE_PAYMENT || p.kind != PAYLOAD_EMVCO ||
		    !p.emv.crc_ok || !p.emv.has_payee || strcmp(p.emv.bin, t->payee_bin) ||
		    strcmp(p.emv.account, t->payee_account) ||
		    (t->payload && strcmp(t->payload, text)))
			abort();
		break;
	case TARGET_TEXT:
		if (j->reason != REASON_GENUINE_TEXT || !t->payload || strcmp(t->payload, text))
			abort();
		break;
	}
}

/* The sentences in both languages; placeholders checked when the text has none of its own. */
static void check_explained(const struct judgement *j, int utf8, int braces)
{
	for (int english = 0; english < 2; english++) {
		struct buf out;

		buf_init(&out, 16 * 1024);
		if (policy_explain(j, english, &out) < 0 || out.len == 0 ||
		    (!braces && (strstr(buf_str(&out), "{1}") || strstr(buf_str(&out), "{2}") ||
				 strstr(buf_str(&out), "{3}"))) ||
		    (utf8 && !utf8_valid(out.data, out.len)))
			abort();
		buf_release(&out);
	}
}

/* What url_parse_http() gives as a host is a DNS name or a bracketed IPv6 address. */
static void check_host(const char *text)
{
	struct payload p;
	size_t n;

	payload_classify(text, &p);
	if (p.kind != PAYLOAD_URL)
		return;
	n = strlen(p.host);
	if (!n || (p.host[0] == '[' ?
		   p.host[n - 1] != ']' || strspn(p.host + 1, "0123456789abcdef:.") != n - 2 :
		   strspn(p.host, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	int utf8;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';	/* decoded text is a C string: it ends at a NUL */
	utf8 = utf8_valid(text, strlen(text));
	check_host(text);
	for (size_t i = 0; i < 5; i++) {
		const struct target *t = targets[i];
		struct judgement j, again;

		memset(&j, 0, sizeof(j));
		policy_judge(t, text, &j);
		if ((unsigned)j.reason >= REASON_COUNT || j.genuine != (j.verdict == VERDICT_OK) ||
		    (j.verdict != VERDICT_OK && j.verdict != VERDICT_TAMPERED &&
		     j.verdict != VERDICT_UNREADABLE))
			abort();
		for (int a = 0; a < 3; a++)
			if (!memchr(j.arg[a], '\0', sizeof(j.arg[a])))
				abort();
		if (j.genuine)
			check_genuine(t, text, &j);
		else if (j.reason == REASON_GENUINE_URL || j.reason == REASON_GENUINE_PAYMENT ||
			 j.reason == REASON_GENUINE_TEXT)
			abort();
		check_explained(&j, utf8, strchr(text, '{') != NULL);
		memset(&again, 0, sizeof(again));
		policy_judge(t, text, &again);
		if (memcmp(&j, &again, sizeof(j)) != 0)
			abort();
	}
	free(text);
	return 0;
}
