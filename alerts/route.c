/* route.c - recipients and who hears about what (see route.h). */
#include "route.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "../common/text.h"
#include "../targets/verdict.h"
#include "../common/banned.h"

const char *route_channel_name(enum channel_kind k)
{
	return k == CHANNEL_EMAIL ? "email" : k == CHANNEL_WEBHOOK ? "webhook" : "telegram";
}

int route_verdict_urgent(const char *verdict)
{
	enum verdict v;

	return verdict && verdict_parse(verdict, &v) == 0 && verdict_urgent(v);
}

static int valid_name(const char *s)
{
	if (!*s || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '.'))
			return 0;
	return 1;
}

static int valid_email(const char *s)
{
	const char *at = strchr(s, '@');

	if (!at || at == s || !at[1] || strchr(at + 1, '@'))
		return 0;
	for (; *s; s++)	/* nothing that could end an SMTP command or a header */
		if ((unsigned char)*s <= ' ' || *s == '<' || *s == '>' || *s == ',' ||
		    *s == '"' || *s == '\\' || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

int route_parse(const char *value, int english_default, struct recipient *r,
		struct err *e)
{
	char words[8][512];
	int n = 0;
	const char *p = value;

	memset(r, 0, sizeof(*r));
	r->english = english_default;
	while (*p && n < 8) {
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		len = strcspn(p, " \t");
		if (!len)
			break;
		if (len >= sizeof(words[0]))
			return err_set(e, "'%.40s...' is too long", p);
		memcpy(words[n], p, len);
		words[n++][len] = '\0';
		p += len;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p)
		return err_set(e, "notify has more than 8 words");
	if (n < 3)
		return err_set(e, "notify must be 'NAME email|webhook|telegram ADDRESS "
			       "[place=ID] [severity=urgent|all] [lang=vi|en] [digest=yes|no]', "
			       "got '%s'", value);
	if (!valid_name(words[0]))
		return err_set(e, "recipient name '%s' must be letters, digits, '-', '_' or '.'",
			       words[0]);
	memcpy(r->name, words[0], strlen(words[0]) + 1);	/* valid_name: at most 64 */
	if (!strcmp(words[1], "email"))
		r->channel = CHANNEL_EMAIL;
	else if (!strcmp(words[1], "webhook"))
		r->channel = CHANNEL_WEBHOOK;
	else if (!strcmp(words[1], "telegram"))
		r->channel = CHANNEL_TELEGRAM;
	else
		return err_set(e, "unknown channel '%s' (email, webhook or telegram)", words[1]);
	if (r->channel == CHANNEL_EMAIL && !valid_email(words[2]))
		return err_set(e, "'%s' is not an e-mail address", words[2]);
	if (r->channel != CHANNEL_EMAIL && strncmp(words[2], "http://", 7) != 0 &&
	    strncmp(words[2], "https://", 8) != 0)
		return err_set(e, "the %s address must be an http:// or https:// URL, got '%s'",
			       words[1], words[2]);
	snprintf(r->address, sizeof(r->address), "%s", words[2]);
	for (int i = 3; i < n; i++) {
		char *eq = strchr(words[i], '=');
		const char *v;

		if (!eq)
			return err_set(e, "expected OPTION=VALUE, got '%s'", words[i]);
		*eq = '\0';
		v = eq + 1;
		if (!strcmp(words[i], "place") && valid_name(v)) {
			memcpy(r->place, v, strlen(v) + 1);
		} else if (!strcmp(words[i], "severity") &&
			   (!strcmp(v, "urgent") || !strcmp(v, "all"))) {
			r->urgent_only = !strcmp(v, "urgent");
		} else if (!strcmp(words[i], "lang") && (!strcmp(v, "vi") || !strcmp(v, "en"))) {
			r->english = !strcmp(v, "en");
		} else if (!strcmp(words[i], "digest") && (!strcmp(v, "yes") || !strcmp(v, "no"))) {
			r->digest = !strcmp(v, "yes");
		} else if (!strcmp(words[i], "chat") && valid_name(v) && strlen(v) < sizeof(r->chat)) {
			memcpy(r->chat, v, strlen(v) + 1);
		} else {
			return err_set(e, "bad option '%s=%s' (place=ID, severity=urgent|all, "
				       "lang=vi|en, digest=yes|no, chat=ID)", words[i], v);
		}
	}
	if (r->channel == CHANNEL_TELEGRAM && !r->chat[0])
		return err_set(e, "a telegram recipient needs chat=ID");
	return 0;
}

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

int route_matches(const struct recipient *r, const struct catalog *cat,
		  const struct target *target, int urgent)
{
	const struct place *want = NULL, *have;

	if (r->urgent_only && !urgent)
		return 0;
	if (!r->place[0])
		return 1;
	if (!target || !cat)
		return 0;
	for (size_t i = 0; i < cat->nplaces; i++)
		if (!strcmp(cat->places[i].id, r->place))
			want = &cat->places[i];
	have = target->board->place;
	if (!want)
		return 0;
	if (want == have)
		return 1;
	/* a whole commune (or district, or province) covers the places inside it */
	if (want->village)
		return 0;
	if (!same(want->province, have->province))
		return 0;
	if (!want->commune)
		return !want->district || same(want->district, have->district);
	return same(want->district, have->district) && same(want->commune, have->commune);
}
