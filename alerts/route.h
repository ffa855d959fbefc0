/* route.h - who hears about an incident: recipients from qrwatchd.conf, matched by place, kind and severity. */
#ifndef QRW_ROUTE_H
#define QRW_ROUTE_H

#include "../common/err.h"
#include "../targets/catalog.h"

#define ROUTE_MAX_RECIPIENTS 500	/* a district: a few IT staff, a few per commune */

enum channel_kind { CHANNEL_EMAIL, CHANNEL_WEBHOOK, CHANNEL_TELEGRAM };

struct recipient {
	char name[65];			/* id used in the outbox and on the dashboard */
	enum channel_kind channel;
	char address[512];		/* e-mail address or URL */
	char chat[64];			/* Telegram-style: the chat id */
	char place[65];			/* "" = everything, probe incidents too (IT staff) */
	int urgent_only;		/* only TAMPERED and HANG */
	int english;			/* messages in English; -1 until the server's default is known */
	int digest;			/* gets the daily digest */
};

/*
 * Parse the value of a "notify =" line:
 *   NAME email ADDRESS [place=ID] [severity=urgent|all] [lang=vi|en] [digest=yes|no]
 *   NAME webhook URL ...          NAME telegram URL chat=ID ...
 * english_default (0, 1, or -1 for "decide later") applies without lang=.
 * Returns 0 or -1 with e.
 */
int route_parse(const char *value, int english_default, struct recipient *r,
		struct err *e);

/* "email", "webhook", "telegram". */
const char *route_channel_name(enum channel_kind k);

/*
 * Does r hear about an incident? target is NULL for incidents about a
 * probe (its uplink, its silence): those go only to recipients without a
 * place. A place matches a target on a board of that place, or, when the
 * place is a whole commune (no village), on any board in that commune.
 */
int route_matches(const struct recipient *r, const struct catalog *cat,
		  const struct target *target, int urgent);

/* 1 for the verdicts that are urgent: TAMPERED and HANG. */
int route_verdict_urgent(const char *verdict);

#endif
