/* message.h - the words of every alert, from one table of templates, Vietnamese or English. */
#ifndef QRW_MESSAGE_H
#define QRW_MESSAGE_H

#include <stdint.h>

#include "../common/buf.h"
#include "../targets/catalog.h"

/* What happened, with what is known about it; the fields may be NULL/0. */
/* What a failing result showed, kept for the message (alerts/astore.c). */
struct alert_evidence {
	char payload[512];
	int failed_step;		/* 1-based, 0 when none */
	char step_name[128];
	int status;
	char error[256];
	int64_t ttfb_us, total_us;
};

struct alert_event {
	const char *event;		/* "opened", "changed", "reminder", "resolved" */
	const char *kind;		/* "target", "uplink", "silent", "cert" */
	long long incident;
	const char *verdict;		/* the incident's verdict (target incidents) */
	const char *old_verdict;	/* "changed": the verdict before */
	const char *probe;		/* uplink/silent: the probe; target: the first */
	const char *probes;		/* target: every probe that sees it, "a, b" */
	int nprobes;
	const char *target_id;
	const struct target *target;	/* from the catalog, or NULL if gone */
	int64_t since_ms, now_ms;
	const struct alert_evidence *evidence;	/* the latest failure seen, or NULL */
	int failing, total;		/* uplink: targets failing of those checked */
	int dns_failing;		/* uplink: of those, failing because no name resolved */
	const char *link;		/* the dashboard page to open */
	const char *cert_url;		/* cert: the step that met the certificate */
	int64_t cert_expires;		/* cert: when it expires, Unix s */
	int urgent;
};

/*
 * Render the subject (one line, no control characters) and the plain-text
 * body of a notification. Text that came from a probe or a QR code is
 * stripped of control characters and cut to a sane length. Returns 0, or
 * -1 if a buffer overflowed.
 */
int message_render(const struct alert_event *ev, int english, struct buf *subject,
		   struct buf *body);

/* The daily digest header line, for n open incidents. */
int message_digest_head(int n, int english, int64_t now_ms, struct buf *subject,
			struct buf *body);

/*
 * 1 when a verdict is about the service behind the code (HANG, DOWN,
 * BROKEN_FLOW, SLOW): seen from two probes it is the service's fault, not
 * one village's link. The other verdicts are about the board itself.
 */
int message_service_verdict(const char *verdict);

/* A verdict in a few plain words: "mã đã cũ, trang không còn". */
const char *message_verdict_words(const char *verdict, int english);

/* "23/11/2026 14:05" in Vietnam time (UTC+7, no daylight saving). */
void message_time(int64_t ms, char *out, size_t cap);

#endif
