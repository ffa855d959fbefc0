/* engine.h - incidents: open after N bad results, resolve after M good, correlate by uplink and service. */
#ifndef QRW_ENGINE_H
#define QRW_ENGINE_H

#include <stdint.h>

#include "astore.h"
#include "route.h"
#include "../common/err.h"
#include "../targets/catalog.h"
#include "../targets/result.h"

/* Defaults (docs/alerts.md) and bounds. */
#define ALERT_OPEN_AFTER      3		/* non-OK results in a row */
#define ALERT_RESOLVE_AFTER   2		/* OK results in a row */
#define ALERT_COUNT_MAX       100
#define ALERT_UPLINK_SHARE    75	/* percent of a probe's targets failing at once */
#define ALERT_REMIND_EVERY    (12 * 3600)
#define ALERT_SILENT_FACTOR   3		/* intervals without a batch */
#define ALERT_RETRY_MIN       30
#define ALERT_RETRY_MAX       3600
#define ALERT_GIVE_UP         (2 * 86400)
#define ALERT_CERT_WARN_DAYS  21	/* a TLS certificate this close to expiry is told */

struct alert_cfg {
	int open_after, resolve_after;	/* server-wide; a target may set its own */
	int uplink_share;		/* percent */
	long silent_after_s;		/* 0: 3x the shortest target interval */
	long remind_every_s;		/* 0: no reminders */
	int cert_warn_days;		/* certificates expiring this soon; 0: none told */
	int digest_minute;		/* minutes after midnight, Vietnam time; -1: none */
	int english;			/* messages in English unless a recipient says */
	char public_url[512];		/* the dashboard as officials reach it, for links */
	struct recipient *recipients;	/* malloc'ed by the config reader */
	size_t nrecipients;
	/* e-mail */
	char smtp_url[512];		/* smtp://host:587 or smtps://host:465 */
	char smtp_from[256];
	char smtp_user[128];
	char smtp_password[256];	/* read from smtp_password_file */
	char smtp_ca_file[1024];
	int smtp_starttls;		/* 0 no, 1 if offered, 2 required */
	/* delivery */
	long retry_min_s, retry_max_s, give_up_s;
};

/* Fill cfg with the defaults. */
void alert_cfg_init(struct alert_cfg *cfg);

struct alerts {
	const struct alert_cfg *cfg;
	const struct catalog *cat;	/* may be NULL: no places, default counts */
	struct astore *st;		/* the alerts' tables, on the writer's connection */
	int (*probe_known)(void *ctx, const char *id);	/* still configured? or NULL */
	const char *decisive_probe;	/* whose every result counts at once (opens and
					   resolves after one): the server's judgements of
					   uploaded photos, each a deliberate look; or NULL */
	void *probe_known_ctx;
	long queued;			/* notifications written; the worker watches it */
};

/*
 * The engine works inside the caller's transaction, with the caller's lock
 * on the connection held, so that an incident change and its notifications
 * commit together with the results that caused them (or not at all). It
 * touches only its own tables (alerts/astore.h).
 *
 * alerts_result() counts one applied result r of probe, checked at time_ms
 * (the server's clock), in its streak; results older than the last one
 * counted are ignored. alerts_batch() then decides, for that probe, what
 * opens, changes and resolves, and writes the notifications to the outbox.
 * alerts_tick() handles time: silent probes, reminders and the daily
 * digest. Each returns 0, or -1 with e (the caller rolls back).
 */
int alerts_result(struct alerts *a, const char *probe, const struct result *r,
		  int64_t time_ms, struct err *e);
int alerts_batch(struct alerts *a, const char *probe, int64_t now_ms, struct err *e);
int alerts_tick(struct alerts *a, int64_t now_ms, struct err *e);

#endif
