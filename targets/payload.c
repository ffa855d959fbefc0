/* payload.c - classifying decoded text (see payload.h). */
#include "payload.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "../common/banned.h"

static int starts_with_scheme(const char *s)
{
	const char *p = s;

	if (!isalpha((unsigned char)*p))
		return 0;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	return *p == ':' && (p[1] == '/' || strncmp(s, "javascript:", 11) == 0 ||
			     strncmp(s, "data:", 5) == 0);
}

void payload_classify(const char *text, struct payload *p)
{
	struct err e;
	size_t n = strlen(text);

	memset(p, 0, sizeof(*p));
	p->text = text;
	p->kind = PAYLOAD_TEXT;
	if (emvco_looks_like(text, n)) {
		p->looks_emvco = 1;
		if (emvco_parse(text, n, &p->emv, &e) == 0)
			p->kind = PAYLOAD_EMVCO;
		else
			snprintf(p->problem, sizeof(p->problem), "%s", e.msg);
		return;
	}
	if (starts_with_scheme(text)) {
		p->looks_link = 1;
		if (url_parse_http(text, p->host, sizeof(p->host), &e) == 0)
			p->kind = PAYLOAD_URL;
		else
			snprintf(p->problem, sizeof(p->problem), "%s", e.msg);
	}
}

const char *payload_kind_name(enum payload_kind k)
{
	switch (k) {
	case PAYLOAD_URL: return "url";
	case PAYLOAD_EMVCO: return "payment code";
	case PAYLOAD_TEXT: return "text";
	}
	return "?";
}
