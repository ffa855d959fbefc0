/* engine.c - opening, changing and resolving incidents, and writing their notifications (see engine.h). */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
#include "../common/buf.h"
#include "../targets/verdict.h"
#include "../common/banned.h"

#define ENGINE_TEXT_MAX (64 * 1024)	/* one rendered message */

void alert_cfg_init(struct alert_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->open_after = ALERT_OPEN_AFTER;
	cfg->resolve_after = ALERT_RESOLVE_AFTER;
	cfg->uplink_share = ALERT_UPLINK_SHARE;
	cfg->remind_every_s = ALERT_REMIND_EVERY;
	cfg->cert_warn_days = ALERT_CERT_WARN_DAYS;
	cfg->digest_minute = -1;
	cfg->smtp_starttls = 1;
	cfg->retry_min_s = ALERT_RETRY_MIN;
	cfg->retry_max_s = ALERT_RETRY_MAX;
	cfg->give_up_s = ALERT_GIVE_UP;
}

/* A public call's end: its own answer, or the first statement error in it. */
static int finish(struct alerts *a, int rc, struct err *e)
{
	struct err db;

	if (astore_failed(a->st, &db)) {
		if (rc == 0)
			err_set(e, "%s", db.msg);
		return -1;
	}
	return rc;
}

/* A statement of what failed: the database's reason, kept by the store. */
static int dberr(struct alerts *a, struct err *e, const char *what)
{
	struct err db;

	if (astore_failed(a->st, &db))
		return err_set(e, "%s (%s)", db.msg, what);
	return err_set(e, "alerts: %s failed", what);
}


static void counts(const struct alerts *a, const struct target *t, int *n, int *m)
{
	*n = t && t->open_after ? (int)t->open_after : a->cfg->open_after;
	*m = t && t->resolve_after ? (int)t->resolve_after : a->cfg->resolve_after;
}

static const struct target *find_target(const struct alerts *a, const char *id)
{
	return a->cat && id ? catalog_target(a->cat, id) : NULL;
}

/* The evidence of a failing result for the message: its failed step, or its last. */
static void evidence_of(const struct result *r, struct alert_evidence *ev)
{
	const struct result_step *s = NULL;

	memset(ev, 0, sizeof(*ev));
	snprintf(ev->payload, sizeof(ev->payload), "%s", r->payload ? r->payload : "");
	ev->failed_step = r->failed_step;
	ev->total_us = r->total_us;
	if (r->nsteps > 0)
		s = &r->steps[r->failed_step > 0 && r->failed_step <= r->nsteps ?
			      r->failed_step - 1 : r->nsteps - 1];
	if (s) {
		snprintf(ev->step_name, sizeof(ev->step_name), "%s", s->name ? s->name : "");
		snprintf(ev->error, sizeof(ev->error), "%s", s->error ? s->error : "");
		ev->status = s->status;
		ev->ttfb_us = s->ttfb_us;
	}
}


/* The dashboard page an incident points at. */
static void link_for(const struct alerts *a, const char *kind, const char *target,
		     const char *probe, char *out, size_t cap)
{
	const char *base = a->cfg->public_url;
	size_t n = strlen(base);

	while (n && base[n - 1] == '/')
		n--;
	if (!strcmp(kind, "target") || !strcmp(kind, "cert"))
		snprintf(out, cap, "%.*s/target/%s", (int)n, base, target);
	else
		snprintf(out, cap, "%.*s/probes#%s", (int)n, base, probe);
}

static int add_event(struct alerts *a, int64_t inc, int64_t now_ms, const char *what,
		     const char *detail, int64_t *event_id, struct err *e)
{
	int64_t id = astore_add_event(a->st, inc, now_ms, what, detail);

	if (id < 0)
		return dberr(a, e, "incident event");
	if (event_id)
		*event_id = id;
	return 0;
}

static int enqueue(struct alerts *a, int64_t inc, const char *event, const char *dedupe,
		   const struct recipient *r, const char *subject, const char *body,
		   const char *link, int64_t now_ms, struct err *e)
{
	if (astore_enqueue(a->st, inc, event, r->name, route_channel_name(r->channel),
			   r->address, r->chat, subject, body, link, dedupe, now_ms) < 0)
		return dberr(a, e, "outbox");
	a->queued++;
	return 0;
}

/*
 * Write the notifications of one incident event: to everyone the incident
 * now concerns, and to everyone told about it before (so that whoever heard
 * "opened" hears "resolved"). Sets *sent to how many were written.
 */
static int notify(struct alerts *a, int64_t inc, const char *event, const char *old_verdict,
		  int64_t now_ms, int *sent, struct err *e)
{
	struct astore_incident in;
	struct alert_evidence evid;
	struct alert_event ev;
	struct buf subject, body;
	char link[700], dedupe[160];
	const char *probe;
	int64_t ev_id = 0, inst;
	int rc = -1, have_evidence = 0;

	*sent = 0;
	if (astore_incident(a->st, inc, &in) != 1)
		return dberr(a, e, "incident");
	probe = in.probe;
	if (!strcmp(in.kind, "target")) {
		size_t first = strcspn(in.probes, ",");

		/* the first of its probes, for the message and the link */
		if (first)
			snprintf(in.probe, sizeof(in.probe), "%.*s",
				 (int)(first < sizeof(in.probe) - 1 ? first : sizeof(in.probe) - 1),
				 in.probes);
		have_evidence = astore_evidence(a->st, inc, in.target, &evid) == 1;
	}
	if (add_event(a, inc, now_ms, event, old_verdict, &ev_id, e) < 0)
		return -1;
	link_for(a, in.kind, in.target, probe, link, sizeof(link));
	memset(&ev, 0, sizeof(ev));
	ev.event = event;
	ev.kind = in.kind;
	ev.incident = inc;
	ev.verdict = in.verdict[0] ? in.verdict : NULL;
	ev.old_verdict = old_verdict;
	ev.probe = probe;
	ev.probes = in.probes;
	ev.nprobes = in.nprobes;
	ev.target_id = in.target;
	ev.target = find_target(a, in.target);
	ev.since_ms = in.since_ms;
	ev.now_ms = now_ms;
	ev.evidence = have_evidence ? &evid : NULL;
	ev.link = link;
	ev.urgent = in.urgent;
	ev.cert_url = in.cert_url;
	ev.cert_expires = in.cert_expires;
	if (!strcmp(in.kind, "uplink") && astore_probe_counts(a->st, probe, &ev.total,
							      &ev.failing, &ev.dns_failing) < 0)
		return dberr(a, e, "uplink counts");
	inst = astore_instance(a->st);
	buf_init(&subject, 4096);
	buf_init(&body, ENGINE_TEXT_MAX);
	for (size_t i = 0; i < a->cfg->nrecipients; i++) {
		const struct recipient *r = &a->cfg->recipients[i];
		/* a target gone from the catalog reaches only those without a place */
		int match = route_matches(r, a->cat, strcmp(in.kind, "target") ? NULL : ev.target,
					  in.urgent);

		if (!match && !astore_told(a->st, inc, r->name))
			continue;
		buf_reset(&subject);
		buf_reset(&body);
		if (message_render(&ev, r->english, &subject, &body) < 0) {
			err_set(e, "alerts: cannot render the '%s' message of incident %lld",
				event, (long long)inc);
			goto out;
		}
		snprintf(dedupe, sizeof(dedupe), "qrw-%llx-%lld-%lld-%s",
			 (unsigned long long)inst, (long long)inc, (long long)ev_id, r->name);
		if (enqueue(a, inc, event, dedupe, r, buf_str(&subject), buf_str(&body), link,
			    now_ms, e) < 0)
			goto out;
		(*sent)++;
	}
	rc = 0;
out:
	buf_release(&subject);
	buf_release(&body);
	return rc;
}

static int64_t open_incident(struct alerts *a, const char *kind, const char *probe,
			     const char *target, const char *verdict, int64_t since,
			     int64_t now_ms, struct err *e)
{
	enum verdict v;
	int64_t id = astore_open_incident(a->st, kind, probe, target, verdict,
					  verdict && verdict_parse(verdict, &v) == 0 &&
					  verdict_urgent(v), since, now_ms);

	if (id < 0)
		dberr(a, e, "open incident");
	return id;
}

static int announce(struct alerts *a, int64_t inc, int64_t now_ms, struct err *e)
{
	int sent;

	if (notify(a, inc, "opened", NULL, now_ms, &sent, e) < 0)
		return -1;
	return astore_set_announced(a->st, inc, sent > 0) < 0 ? dberr(a, e, "announce") : 0;
}

/* Resolve; "resolved" goes out only for an incident that was announced. */
static int resolve(struct alerts *a, int64_t inc, int64_t now_ms, struct err *e)
{
	struct astore_incident in;
	int sent;

	if (astore_incident(a->st, inc, &in) != 1 || astore_resolve(a->st, inc, now_ms) < 0)
		return dberr(a, e, "resolve");
	if (!in.announced)
		return add_event(a, inc, now_ms, "resolved", "never announced", NULL, e);
	return notify(a, inc, "resolved", NULL, now_ms, &sent, e);
}

/*
 * A TLS certificate that expires within cfg->cert_warn_days, met by any
 * new connection of r's steps: one incident per target, told to IT staff
 * before the portal breaks, resolved when a check meets a certificate
 * that lasts longer (renewed). A result with no new TLS connection says
 * nothing either way.
 */
static int cert_result(struct alerts *a, const char *probe, const struct result *r,
		       int64_t time_ms, struct err *e)
{
	const struct result_step *soon = NULL;
	int64_t window_ms = (int64_t)a->cfg->cert_warn_days * 86400 * 1000, inc;

	if (window_ms <= 0 || !r->target || !strcmp(r->target, "-"))
		return 0;
	for (int i = 0; i < r->nsteps; i++)
		if (r->steps[i].cert_expires > 0 &&
		    (!soon || r->steps[i].cert_expires < soon->cert_expires))
			soon = &r->steps[i];
	if (!soon)
		return 0;
	inc = astore_find_open(a->st, "cert", NULL, r->target);
	if (inc < 0)
		return dberr(a, e, "certificate incident");
	if (soon->cert_expires * 1000 - time_ms >= window_ms) {
		if (!inc)
			return 0;
		/* renewed: "resolved" names the new certificate */
		if (astore_set_cert(a->st, inc, soon->url, soon->cert_expires, time_ms) < 0)
			return dberr(a, e, "certificate");
		return resolve(a, inc, time_ms, e);
	}
	if (!inc) {
		inc = open_incident(a, "cert", probe, r->target, NULL, time_ms, time_ms, e);
		if (inc < 0 || astore_set_cert(a->st, inc, soon->url, soon->cert_expires,
					       time_ms) < 0)
			return inc < 0 ? -1 : dberr(a, e, "certificate");
		return announce(a, inc, time_ms, e);
	}
	return astore_set_cert(a->st, inc, soon->url, soon->cert_expires, time_ms) < 0 ?
	       dberr(a, e, "certificate") : 0;
}

static int alerts_result_one(struct alerts *a, const char *probe, const struct result *r,
			     int64_t time_ms, struct err *e)
{
	struct alert_evidence ev;
	int ok = r->verdict == VERDICT_OK;

	if (!ok)
		evidence_of(r, &ev);
	/* a result older than the last one counted says nothing about now */
	if (astore_streak_count(a->st, probe, r->target, ok, verdict_name(r->verdict),
				r->link_fault, time_ms, ok ? NULL : &ev) < 0)
		return dberr(a, e, "streak");
	return cert_result(a, probe, r, time_ms, e);
}

#define ENGINE_STREAKS_MAX 20000	/* targets per probe read at once: a province's worth */

/*
 * The probe's uplink: most of its targets failing at once, or any failing
 * on the probe's own side (its resolver not answering) long enough to
 * open an incident of its own.
 */
static int uplink(struct alerts *a, const char *probe, int64_t now_ms, struct err *e)
{
	struct astore_streak *rows = NULL;
	int total, failing_now, link_now, failing = 0, link = 0, n, most;
	int64_t inc, since;

	if (astore_probe_counts(a->st, probe, &total, &failing_now, &link_now) < 0)
		return dberr(a, e, "uplink counts");
	/* failing long enough to open an incident each (per-target counts apply) */
	if (failing_now > 0) {
		rows = malloc((size_t)failing_now * sizeof(*rows));
		if (!rows)
			return err_set(e, "alerts: out of memory");
		n = astore_failing_streaks(a->st, probe, rows, (size_t)failing_now);
		for (int i = 0; i < n; i++) {
			int nn, mm;

			counts(a, find_target(a, rows[i].target), &nn, &mm);
			failing += rows[i].bad >= nn;
			link += rows[i].bad >= nn && rows[i].link;
		}
		free(rows);
		if (n < 0)
			return dberr(a, e, "uplink streaks");
	}
	inc = astore_find_open(a->st, "uplink", probe, NULL);
	most = total >= 2 && (int64_t)failing * 100 >= (int64_t)a->cfg->uplink_share * total;
	if (!inc && (most || link > 0)) {
		since = astore_first_bad(a->st, probe, now_ms);
		inc = open_incident(a, "uplink", probe, NULL, NULL, since, now_ms, e);
		if (inc < 0 || announce(a, inc, now_ms, e) < 0)
			return -1;
	}
	if (!inc)
		return 0;
	most = (int64_t)failing_now * 100 >= (int64_t)a->cfg->uplink_share * total;
	if (!most && link_now == 0) {
		/*
		 * Back: what failed during the outage starts counting afresh, so a
		 * target still failing needs N new bad results to open its own.
		 */
		if (astore_release_held(a->st, probe) < 0)
			return dberr(a, e, "uplink back");
		return resolve(a, inc, now_ms, e);
	}
	/* a resolver down for a few names holds those, not the rest */
	return astore_hold_failing(a->st, probe, most) < 0 ? dberr(a, e, "hold") : 0;
}

static int target_incidents(struct alerts *a, const char *probe, int64_t now_ms,
			    struct err *e)
{
	struct astore_streak *rows;
	int n, rc = -1;

	/* only what this batch counted can change a target incident */
	n = astore_counted(a->st, probe, &rows);
	if (n < 0)
		return dberr(a, e, "streaks");
	for (int i = 0; i < n; i++) {
		struct astore_streak *r = &rows[i];
		int nn, mm, in_set;
		int64_t inc;
		char worst[24] = "";
		enum verdict v;

		counts(a, find_target(a, r->target), &nn, &mm);
		if (a->decisive_probe && !strcmp(probe, a->decisive_probe))
			nn = mm = 1;	/* one photo is one deliberate look at the board */
		inc = astore_find_open(a->st, "target", NULL, r->target);
		in_set = inc && astore_has_probe(a->st, inc, probe);
		if (r->bad >= nn && !r->held) {
			struct astore_incident in;

			if (!inc) {
				inc = open_incident(a, "target", probe, r->target, r->verdict,
						    r->first_bad_ms, now_ms, e);
				if (inc < 0 || astore_add_probe(a->st, inc, probe) < 0 ||
				    announce(a, inc, now_ms, e) < 0)
					goto out;
				continue;
			}
			if (!in_set) {
				/* a second probe sees it too: the service, not one village */
				int sent;

				if (astore_add_probe(a->st, inc, probe) < 0)
					goto out;
				/* news only when it makes it the service's fault */
				if (astore_count_probes(a->st, inc) == 2 &&
				    verdict_parse(r->verdict, &v) == 0 && verdict_is_service(v) &&
				    astore_incident(a->st, inc, &in) == 1 && in.announced &&
				    notify(a, inc, "changed", NULL, now_ms, &sent, e) < 0)
					goto out;
			}
			if (astore_incident(a->st, inc, &in) != 1 ||
			    astore_worst_verdict(a->st, inc, r->target, worst, sizeof(worst)) < 0)
				goto out;
			if (worst[0] && strcmp(worst, in.verdict)) {
				int sent;

				if (astore_set_verdict(a->st, inc, worst, verdict_parse(worst, &v) == 0 &&
						       verdict_urgent(v), now_ms) < 0)
					goto out;
				if (in.announced ? notify(a, inc, "changed", in.verdict, now_ms, &sent,
							  e) < 0 :
				    add_event(a, inc, now_ms, "changed", in.verdict, NULL, e) < 0)
					goto out;
			}
		} else if (in_set && r->good >= mm) {
			if (astore_remove_probe(a->st, inc, probe) < 0)
				goto out;
			if (astore_count_probes(a->st, inc) == 0 && resolve(a, inc, now_ms, e) < 0)
				goto out;
		}
	}
	rc = 0;
out:
	if (rc < 0 && !e->msg[0])
		dberr(a, e, "incident");
	free(rows);
	return rc;
}

static int alerts_batch_one(struct alerts *a, const char *probe, int64_t now_ms,
			    struct err *e)
{
	int64_t silent;

	if (astore_probe_seen(a->st, probe, now_ms) < 0)
		return dberr(a, e, "probe");
	silent = astore_find_open(a->st, "silent", probe, NULL);
	if (silent && resolve(a, silent, now_ms, e) < 0)
		return -1;
	/* the server's photo judgements have no uplink to fail */
	if ((!a->decisive_probe || strcmp(probe, a->decisive_probe)) && uplink(a, probe, now_ms, e) < 0)
		return -1;
	return target_incidents(a, probe, now_ms, e);
}

static long silent_after_ms(const struct alerts *a)
{
	long shortest = TARGET_INTERVAL_DEFAULT;

	if (a->cfg->silent_after_s)
		return a->cfg->silent_after_s * 1000;
	if (a->cat && a->cat->ntargets) {
		shortest = a->cat->targets[0].interval_s;
		for (size_t i = 1; i < a->cat->ntargets; i++)
			if (a->cat->targets[i].interval_s < shortest)
				shortest = a->cat->targets[i].interval_s;
	}
	return shortest * ALERT_SILENT_FACTOR * 1000;
}

#define ENGINE_DIGEST_MAX 2000	/* open incidents listed in one digest */

static int digest(struct alerts *a, int64_t now_ms, struct err *e)
{
	int64_t local = now_ms / 1000 + 7 * 3600, day = local / 86400;
	int minute = (int)(local % 86400 / 60), nopen;
	struct astore_incident *open = NULL;
	struct buf subject, body;
	char dedupe[160], when[64];
	int rc = -1;

	if (a->cfg->digest_minute < 0 || minute < a->cfg->digest_minute ||
	    astore_digest_day(a->st) >= day)
		return 0;
	if (astore_set_digest_day(a->st, day) < 0)
		return dberr(a, e, "digest");
	open = malloc(ENGINE_DIGEST_MAX * sizeof(*open));
	if (!open)
		return err_set(e, "alerts: out of memory");
	nopen = astore_open_announced(a->st, open, ENGINE_DIGEST_MAX);
	if (nopen < 0) {
		free(open);
		return dberr(a, e, "digest");
	}
	buf_init(&subject, 4096);
	buf_init(&body, ENGINE_TEXT_MAX);
	for (size_t i = 0; i < a->cfg->nrecipients; i++) {
		const struct recipient *r = &a->cfg->recipients[i];
		struct buf lines;
		int n = 0;

		if (!r->digest)
			continue;
		buf_init(&lines, ENGINE_TEXT_MAX / 2);
		for (int k = 0; k < nopen; k++) {
			const struct astore_incident *in = &open[k];
			const struct target *t = find_target(a, in->target);
			char link[700];

			if (!route_matches(r, a->cat, strcmp(in->kind, "target") ? NULL : t,
					   in->urgent))
				continue;
			message_time(in->since_ms, when, sizeof(when));
			link_for(a, in->kind, in->target, in->probe, link, sizeof(link));
			if (!strcmp(in->kind, "target"))
				buf_addf(&lines, "- %s: %s (%s), %s %s\n  %s\n",
					 message_verdict_words(in->verdict, r->english),
					 t ? t->procedure : in->target, t ? t->board->location : "",
					 r->english ? "since" : "từ", when, link);
			else if (!strcmp(in->kind, "cert"))
				buf_addf(&lines, "- %s: %s (%s)\n  %s\n", r->english ?
					 "TLS certificate expires soon" :
					 "chứng chỉ HTTPS sắp hết hạn",
					 t ? t->procedure : in->target, in->cert_url, link);
			else
				buf_addf(&lines, "- %s %s: %s, %s %s\n  %s\n",
					 r->english ? "probe" : "điểm đo", in->probe,
					 !strcmp(in->kind, "uplink") ? (r->english ? "no uplink" :
									"mất kết nối") :
					 (r->english ? "silent" : "không gửi kết quả"),
					 r->english ? "since" : "từ", when, link);
			n++;
		}
		buf_reset(&subject);
		buf_reset(&body);
		message_digest_head(n, r->english, now_ms, &subject, &body);
		buf_adds(&body, buf_str(&lines));
		buf_release(&lines);
		snprintf(dedupe, sizeof(dedupe), "qrw-%llx-digest-%lld-%s",
			 (unsigned long long)astore_instance(a->st), (long long)day, r->name);
		if (enqueue(a, 0, "digest", dedupe, r, buf_str(&subject), buf_str(&body),
			    a->cfg->public_url, now_ms, e) < 0)
			goto out;
	}
	rc = 0;
out:
	buf_release(&subject);
	buf_release(&body);
	free(open);
	return rc;
}

static int alerts_tick_one(struct alerts *a, int64_t now_ms, struct err *e)
{
	struct astore_quiet quiet[64];
	int64_t ids[256];
	int n;

	/* probes that stopped sending (collected first: opening writes to incidents) */
	n = astore_quiet_probes(a->st, now_ms - silent_after_ms(a), quiet, 64);
	if (n < 0)
		return dberr(a, e, "silent probes");
	for (int i = 0; i < n; i++) {
		int64_t inc;

		/* a probe taken out of the configuration is not missed */
		if (a->probe_known && !a->probe_known(a->probe_known_ctx, quiet[i].probe))
			continue;
		inc = open_incident(a, "silent", quiet[i].probe, NULL, NULL, quiet[i].last_ms,
				    now_ms, e);
		if (inc < 0 || announce(a, inc, now_ms, e) < 0)
			return -1;
	}
	/* reminders while an announced incident stays open */
	if (a->cfg->remind_every_s > 0) {
		n = astore_reminders_due(a->st, now_ms - (int64_t)a->cfg->remind_every_s * 1000,
					 ids, 256);
		if (n < 0)
			return dberr(a, e, "reminders");
		for (int i = 0; i < n; i++) {
			int sent;

			if (astore_set_reminded(a->st, ids[i], now_ms) < 0)
				return dberr(a, e, "reminder");
			if (notify(a, ids[i], "reminder", NULL, now_ms, &sent, e) < 0)
				return -1;
		}
	}
	return digest(a, now_ms, e);
}

int alerts_result(struct alerts *a, const char *probe, const struct result *r,
		  int64_t time_ms, struct err *e)
{
	e->msg[0] = '\0';
	return finish(a, alerts_result_one(a, probe, r, time_ms, e), e);
}

int alerts_batch(struct alerts *a, const char *probe, int64_t now_ms, struct err *e)
{
	e->msg[0] = '\0';
	return finish(a, alerts_batch_one(a, probe, now_ms, e), e);
}

int alerts_tick(struct alerts *a, int64_t now_ms, struct err *e)
{
	e->msg[0] = '\0';
	return finish(a, alerts_tick_one(a, now_ms, e), e);
}
