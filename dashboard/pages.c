/* pages.c - dashboard pages and API over SQLite, the catalog and the RRD files (see pages.h). */
#include "pages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "graphs.h"
#include "addrlookup.h"
#include "confirm.h"
#include "html.h"
#include "metrics.h"
#include "overview.h"
#include "photos.h"
#include "store.h"
#include "incidents.h"
#include "../targets/poster.h"
#include "../targets/posterpdf.h"
#include "../targets/verdict.h"
#include "../common/log.h"
#include "../common/text.h"
#include "../common/banned.h"

/* Page-size limits: a district has hundreds of targets; a nation 33,000. */
#define PAGE_MAX (16u * 1024 * 1024)
#define HISTORY_ROWS 50

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The worst current verdict of a target over all probes, and since when. */
struct state {
	char verdict[16];
	int64_t since_ms, time_ms;
	int nprobes;
	int walked;	/* OK from a probe that walked its web flow (not a board only) */
	int confirmed;	/* its payload is a new address an official confirmed (confirm.h) */
};

/* Every target's worst state in one query, for the pages that list them all. */
struct states {
	const struct catalog *cat;
	struct state *st;	/* parallel to cat->targets */
};

struct tindex {
	const char *id;
	size_t pos;
};

static int tindex_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tindex *)a)->id, ((const struct tindex *)b)->id);
}

struct states_fill {
	struct tindex *ix;
	size_t n;
	struct state *st;
};

static int fill_state(void *ctx, const struct store_state *row)
{
	struct states_fill *f = ctx;
	struct tindex key = { row->target, 0 }, *hit;
	struct state *st;

	hit = bsearch(&key, f->ix, f->n, sizeof(*f->ix), tindex_cmp);
	if (!hit)
		return 0;	/* a target gone from the catalog */
	st = &f->st[hit->pos];
	snprintf(st->verdict, sizeof(st->verdict), "%s", row->verdict);
	st->since_ms = row->since_ms;
	st->time_ms = row->time_ms;
	st->nprobes = row->probes;
	st->walked = row->walked;
	return 0;
}

/* Every catalog target's state (from target_state, one query), parallel to cat->targets. */
static int load_states(struct dash *d, struct store_reader *rd, struct states *ss)
{
	struct states_fill f;
	size_t n = d->cat->ntargets;
	int rc;

	ss->cat = d->cat;
	ss->st = calloc(n ? n : 1, sizeof(*ss->st));
	f.ix = calloc(n ? n : 1, sizeof(*f.ix));
	if (!ss->st || !f.ix) {
		free(f.ix);
		free(ss->st);
		ss->st = NULL;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		f.ix[i].id = d->cat->targets[i].id;
		f.ix[i].pos = i;
	}
	qsort(f.ix, n, sizeof(*f.ix), tindex_cmp);
	f.n = n;
	f.st = ss->st;
	rc = store_states(rd, fill_state, &f);
	free(f.ix);
	/* only a code that replaced another can have a confirmed address */
	for (size_t i = 0; i < n && rc >= 0; i++) {
		const struct target *t = &d->cat->targets[i];
		struct store_address_change x;

		if (t->nreplaces && t->payload)
			rc = ss->st[i].confirmed = store_address_confirmed(rd, t->id, t->payload, &x);
	}
	return rc < 0 ? -1 : 0;
}

/* ---- target page ---- */

/*
 * A board whose photos officials upload: its latest photo (the evidence)
 * and when, or none yet, and the way to send one.
 */
static void board_photo_brief(struct store_reader *rd, const struct board *b, int english,
			      struct buf *out)
{
	struct store_board_photo ph;
	char when[32];

	if (store_board_photo_latest(rd, b->id, &ph) > 0) {
		html_time(ph.at_ms, when, sizeof(when));
		html_addf(out, "<p class=\"photo\">%s %s %s %s %s:<br><a href=\"/board/%s/photo\">"
			  "<img alt=\"%s\" src=\"/board/%s/photo.img\" width=\"240\"></a></p>",
			  tr("photo_latest", english), tr("at", english), when,
			  tr("confirmed_by", english), ph.who, b->id, tr("photo_title", english), b->id);
	} else {
		html_addf(out, "<p class=\"photo\">%s</p>", tr("photo_none", english));
	}
	html_addf(out, "<p><a href=\"/board/%s/photo\">%s</a></p>", b->id,
		  tr("photo_send_link", english));
}

/* A step's TLS certificate: when it expires, marked when within warn_days. */
static void cert_line(struct buf *b, const struct result_step *s, int warn_days, int english)
{
	int64_t left = s->cert_expires - (int64_t)time(NULL);
	long long days = (long long)(left > 0 ? left / 86400 : 0);
	char when[32];

	if (s->cert_expires <= 0)
		return;
	html_time(s->cert_expires * 1000, when, sizeof(when));
	html_addf(b, "<br><small class=\"cert%s\">%s %s (", left < (int64_t)warn_days * 86400 ?
		  " warn" : "", tr("cert", english), when);
	if (english)
		buf_addf(b, "%lld days left)</small>", days);
	else
		buf_addf(b, "còn %lld ngày)</small>", days);
}

static void waterfall(struct buf *b, const struct result *res, int warn_days, int english)
{
	int64_t longest = 1;

	for (int i = 0; i < res->nsteps; i++)
		if (res->steps[i].total_us > longest)
			longest = res->steps[i].total_us;
	buf_adds(b, "<table>");
	for (int i = 0; i < res->nsteps; i++) {
		const struct result_step *s = &res->steps[i];
		const int64_t ph[5] = { s->dns_us, s->connect_us, s->tls_us, s->ttfb_us,
					s->transfer_us };
		static const char *const names[5] = { "dns_us", "connect_us", "tls_us",
						      "ttfb_us", "transfer_us" };
		static const char *const cls[5] = { "d", "c", "t", "w", "r" };

		html_addf(b, "<tr><td>%d. %s<br><small>%s %s</small>", i + 1, s->name,
			  s->method, s->url);
		cert_line(b, s, warn_days, english);
		buf_adds(b, "</td><td>");
		for (int k = 0; k < 5; k++) {
			long w = (long)(ph[k] * 300 / longest);

			if (w > 0)
				buf_addf(b, "<span class=\"bar %s\" style=\"width:%ldpx\" "
					 "title=\"%s %.1f ms\"></span>", cls[k], w, names[k],
					 (double)ph[k] / 1000);
		}
		html_addf(b, "</td><td>HTTP %d</td><td>%lld ms</td><td>%s</td></tr>", s->status,
			  (long long)(s->total_us / 1000), s->error);
	}
	buf_adds(b, "</table>");
}

#define PAGE_PROBES 64		/* probes shown on one target's page */

static void page_target(struct dash *d, struct store_reader *rd, const char *id, int english,
			struct reply *r)
{
	const struct target *t = catalog_target(d->cat, id);
	static const char *const periods[4] = { "day", "week", "month", "year" };
	struct store_latest *latest;
	struct store_change *ch;
	struct store_uplink up[16];
	struct arena a;
	char when[32];
	struct buf place;
	int n;

	if (!t) {
		r->status = 404;
		html_begin(&r->body, "404", "/", english);
		html_addf(&r->body, "<p>No target '%s'.</p>", id);
		html_end(&r->body);
		return;
	}
	latest = malloc(PAGE_PROBES * sizeof(*latest));
	ch = malloc(HISTORY_ROWS * sizeof(*ch));
	arena_init(&a, 0);
	buf_init(&place, 1024);
	if (t->board && t->board->place)
		place_format(t->board->place, &place);
	{
		char self[96];

		snprintf(self, sizeof(self), "/target/%s", t->id);
		html_begin(&r->body, t->procedure, self, english);
	}
	html_addf(&r->body, "<h1>%s</h1><p>%s — %s</p>", t->procedure, buf_str(&place),
		  t->board ? t->board->location : "");
	buf_release(&place);
	if (t->image_uploads && t->board)
		board_photo_brief(rd, t->board, english, &r->body);
	n = latest ? store_latest_of(rd, id, &a, latest, PAGE_PROBES) : 0;
	for (int i = 0; i < n; i++) {
		const struct result *res = &latest[i].r;
		const char *probe = latest[i].probe;

		html_time(latest[i].since_ms, when, sizeof(when));
		html_addf(&r->body, "<h2>%s <a href=\"/probe/%s\">%s</a></h2><p>",
			  tr("probe", english), probe, probe);
		html_verdict(&r->body, verdict_name(res->verdict));
		html_addf(&r->body, " %s %s</p><p class=\"why\">%s</p><p><small>%s</small>"
			  "</p><h3>%s</h3>", tr("since", english), when,
			  english ? res->why_en : res->why_vi, res->payload,
			  tr("last_check", english));
		waterfall(&r->body, res, d->cert_warn_days, english);
		html_addf(&r->body, "<h3>%s</h3>", tr("graphs", english));
		for (int k = 0; k < 4; k++)
			html_addf(&r->body, "<img alt=\"%s\" src=\"/graph/%s/%s/%s.png\">",
				  periods[k], probe, id, periods[k]);
	}
	if (n <= 0)
		html_addf(&r->body, "<p>%s</p>", tr("no_results", english));
	/* availability per period, and latency by uplink kind side by side */
	{
		static const struct { const char *key; int64_t ms; } per[3] = {
			{ "day", 86400000LL }, { "week", 7 * 86400000LL },
			{ "month", 30 * 86400000LL } };
		int nu;

		html_addf(&r->body, "<h2>%s</h2><table><tr>", tr("availability", english));
		for (int k = 0; k < 3; k++) {
			double avail = 0;

			if (store_availability(rd, id, now_ms() - per[k].ms, &avail) != 1)
				html_addf(&r->body, "<td>%s: –</td>", tr(per[k].key, english));
			else
				buf_addf(&r->body, "<td>%s: %.1f%%</td>", tr(per[k].key, english),
					 avail * 100);
		}
		html_addf(&r->body, "</tr></table><h2>%s</h2><table><tr><th>%s</th><th>n</th>"
			  "<th>%s</th><th>%s</th><th>%s</th></tr>", tr("by_uplink", english),
			  tr("uplink", english), tr("avg_total", english),
			  tr("avg_connect", english), tr("availability", english));
		nu = store_by_uplink(rd, id, now_ms() - per[1].ms, up, 16);
		for (int k = 0; k < nu; k++) {
			html_addf(&r->body, "<tr><td>%s</td>", up[k].uplink);
			buf_addf(&r->body, "<td>%d</td><td>%.0f ms</td><td>%.0f ms</td>"
				 "<td>%.1f%%</td></tr>", up[k].n, up[k].avg_total_ms,
				 up[k].avg_connect_ms, up[k].avail * 100);
		}
		buf_adds(&r->body, "</table>");
	}
	incidents_target_html(store_reader_alerts(rd), id, english, &r->body);
	html_addf(&r->body, "<h2>%s</h2><table>", tr("history", english));
	n = ch ? store_changes_of(rd, id, ch, HISTORY_ROWS) : 0;
	for (int i = 0; i < n; i++) {
		html_time(ch[i].time_ms, when, sizeof(when));
		html_addf(&r->body, "<tr><td>%s</td><td>%s</td><td>", when, ch[i].probe);
		html_verdict(&r->body, ch[i].now);
		buf_adds(&r->body, "</td></tr>");
	}
	html_addf(&r->body, "</table><p><a href=\"/api/v1/targets/%s/history.csv\">CSV</a>"
		  "</p>", id);
	html_end(&r->body);
	free(latest);
	free(ch);
	arena_release(&a);
}

/* ---- codes to reprint ---- */

static int same_code(const struct target *t, const struct target *u)
{
	if (t->payload)
		return u->payload && !strcmp(t->payload, u->payload);
	/* a payment code without a registered payload: the same payee */
	return t->kind == TARGET_VIETQR && u->kind == TARGET_VIETQR && t->payee_bin &&
	       t->payee_account && u->payee_bin && u->payee_account && !u->payload &&
	       !strcmp(t->payee_bin, u->payee_bin) && !strcmp(t->payee_account, u->payee_account);
}

/*
 * A poster is only ever offered for an address that is known to work:
 * the target whose latest state is OK and whose payload is target i's
 * (i itself, or another board with the same code). Returns its index, or
 * -1. A STALE target's own address never qualifies: its board found it
 * dead. A payment code has no page to check: its registered payee is
 * what the catalog vouches for, so it qualifies itself.
 */
static long checked_address(const struct states *ss, size_t i)
{
	const struct target *t = &ss->cat->targets[i];

	if (ss->st[i].confirmed)
		return (long)i;	/* confirmed by an official after its own check (confirm.c) */
	if (!strcmp(ss->st[i].verdict, "STALE"))
		return -1;
	if (!t->payload && !(t->kind == TARGET_VIETQR && t->payee_bin && t->payee_account))
		return -1;	/* nothing registered to print */
	if (t->kind == TARGET_VIETQR)
		return (long)i;	/* a payment code has no page: its registered payee is the check */
	/* a board read by a probe that does not walk the flow proves no link (a text code has none) */
	for (size_t k = 0; k < ss->cat->ntargets; k++)
		if (same_code(t, &ss->cat->targets[k]) && !strcmp(ss->st[k].verdict, "OK") &&
		    (ss->st[k].walked || ss->cat->targets[k].kind != TARGET_URL))
			return (long)k;
	return -1;
}

static int needs_reprint(const char *verdict)
{
	return !strcmp(verdict, "STALE") || !strcmp(verdict, "TAMPERED") ||
	       !strcmp(verdict, "UNREADABLE");
}

static int same_commune(const struct place *a, const struct place *b)
{
	return a && b && a->commune && b->commune && !strcmp(a->commune, b->commune) &&
	       (a->province && b->province ? !strcmp(a->province, b->province) :
		!a->province && !b->province);
}

/*
 * A stale code's new address as the lookup found it (addrlookup.h): the
 * candidate checked OK, to be confirmed before anything is printed, or
 * why none was found. Nothing when no lookup ran for it.
 */
static void found_address(struct dash *d, const struct target *t, int english, struct buf *b)
{
	struct addrlookup_seen s;
	char when[32];

	if (!addrlookup_get(d->lookup, t->id, &s))
		return;
	html_time(s.at_ms, when, sizeof(when));
	if (s.found.candidate[0])
		html_addf(b, "<p class=\"candidate\">%s (%s %s): <code>%s</code>. %s %s.</p>"
			  "<p>%s</p>", tr("candidate", english), tr("procedure_code", english),
			  t->procedure_code ? t->procedure_code : "", s.found.candidate,
			  tr("candidate_checked", english), when, tr("candidate_next", english));
	else
		html_addf(b, "<p class=\"candidate none\">%s (%s): %s</p>",
			  tr("no_candidate", english), when,
			  english ? s.found.why_en : s.found.why_vi);
}

/* The poster of target id (checked working), in the three forms a commune prints. */
static void poster_links(struct buf *b, const char *id, int english)
{
	html_addf(b, "<p>%s:</p><img class=\"poster\" alt=\"%s\" src=\"/poster/%s.svg\" "
		  "width=\"420\"><p><a href=\"/poster/%s.pdf\">%s</a> · "
		  "<a href=\"/poster/%s.pdf?size=a4\">%s</a></p>", tr("poster", english),
		  id, id, id, tr("poster_pdf", english), id,
		  tr("poster_pdf_a4", english));
}

/*
 * A stale code whose new address an official confirmed: the board waits
 * for the new poster (policy.h: its old code is STALE until replaced).
 */
static void confirmed_address(struct store_reader *rd, const struct target *t, int english,
			      struct buf *b)
{
	struct store_address_change x;
	char when[32];

	if (store_address_confirmed(rd, t->id, t->payload, &x) <= 0)
		return;
	html_time(x.at_ms, when, sizeof(when));
	html_addf(b, "<p class=\"confirmed\">%s: <code>%s</code>, %s %s %s %s. %s "
		  "<code>%s</code>.</p><p>%s <code>%s</code>.</p>", tr("confirmed", english),
		  t->payload, tr("confirmed_by", english), x.who, tr("at", english), when,
		  tr("confirmed_checked", english), x.checked_url, tr("waiting_board", english),
		  x.old_address);
}

/*
 * The form that confirms a stale code's new address (the candidate found,
 * or one typed in): checked again by the server before it is written.
 */
static void confirm_form(struct dash *d, const struct dash_req *q, const struct target *t,
			 struct buf *b)
{
	struct addrlookup_seen s;
	char token[CONFIRM_TOKEN_HEX];
	int english = q->english;

	if (!d->logins || !d->catalog_path) {
		html_addf(b, "<p class=\"no-confirm\">%s</p>", tr("confirm_needs_login", english));
		return;
	}
	if (!q->user) {
		html_addf(b, "<p class=\"no-confirm\"><a href=\"/stale?login=1%s\">%s</a></p>",
			  english ? "&lang=en" : "", tr("confirm_login", english));
		return;
	}
	if (!addrlookup_get(d->lookup, t->id, &s))
		memset(&s, 0, sizeof(s));
	confirm_token(d->csrf_key, q->user, t->id, token);
	html_addf(b, "<form class=\"confirm\" method=\"post\" action=\"/stale/confirm%s\">"
		  "<input type=\"hidden\" name=\"target\" value=\"%s\">"
		  "<input type=\"hidden\" name=\"token\" value=\"%s\">"
		  "<label>%s <input type=\"url\" name=\"address\" required "
		  "value=\"%s\" style=\"width:100%%\"></label> "
		  "<button>%s</button><br><small>%s</small></form>",
		  english ? "?lang=en" : "", t->id, token, tr("confirm_address", english),
		  s.found.candidate, tr("confirm_button", english), tr("confirm_how", english));
}

static void page_stale(struct dash *d, struct store_reader *rd, const struct dash_req *q,
		       struct reply *r)
{
	int english = q->english;
	int any = 0;
	struct states ss;

	html_begin(&r->body, tr("stale", english), "/stale", english);
	html_addf(&r->body, "<h1>%s</h1>", tr("stale", english));
	if (load_states(d, rd, &ss) < 0) {
		html_end(&r->body);
		return;
	}
	/* one print run per commune: the first place of each names it */
	for (size_t i = 0; i < d->cat->nplaces; i++) {
		const struct place *pl = &d->cat->places[i];
		int first = pl->commune != NULL;

		for (size_t k = 0; first && k < i; k++)
			first = !same_commune(&d->cat->places[k], pl);
		if (first)
			html_addf(&r->body, "<p><a href=\"/sheet/%s.pdf\">%s %s</a> · "
				  "<a href=\"/sheet/%s.pdf?size=a4\">%s</a></p>", pl->id,
				  tr("sheet", english), pl->commune, pl->id,
				  tr("sheet_a4", english));
	}
	for (size_t i = 0; i < d->cat->ntargets; i++) {
		const struct target *t = &d->cat->targets[i];
		struct state st = ss.st[i];
		struct buf place;
		long ok;

		if (!needs_reprint(st.verdict))
			continue;
		any = 1;
		buf_init(&place, 1024);
		if (t->board && t->board->place)
			place_format(t->board->place, &place);
		html_addf(&r->body, "<section><h2>%s</h2><p>%s — %s ", t->procedure,
			  buf_str(&place), t->board ? t->board->location : "");
		html_verdict(&r->body, st.verdict);
		html_addf(&r->body, "</p>");
		if (t->image_uploads && t->board)
			board_photo_brief(rd, t->board, english, &r->body);
		ok = checked_address(&ss, i);
		if (st.confirmed) {
			confirmed_address(rd, t, english, &r->body);
			poster_links(&r->body, t->id, english);
		} else if (!strcmp(st.verdict, "STALE")) {
			html_addf(&r->body, "<p>%s: <code>%s</code></p><p class=\"no-poster\">%s</p>",
				  tr("dead_link", english), t->payload ? t->payload : "",
				  tr("no_poster_stale", english));
			found_address(d, t, english, &r->body);
			if (t->kind == TARGET_URL && t->payload)
				confirm_form(d, q, t, &r->body);
		} else if (ok < 0) {
			html_addf(&r->body, "<p class=\"no-poster\">%s</p>",
				  tr("no_poster_unchecked", english));
		} else {
			html_addf(&r->body, "<p>%s <a href=\"/target/%s\">%s</a>: OK.</p>",
				  tr("poster_checked", english), d->cat->targets[ok].id,
				  d->cat->targets[ok].id);
			poster_links(&r->body, t->id, english);
		}
		html_addf(&r->body, "</section>");
		buf_release(&place);
	}
	free(ss.st);
	if (!any)
		html_addf(&r->body, "<p>%s</p>", tr("none_stale", english));
	html_end(&r->body);
}

/* ---- probes ---- */

#define PAGE_EPOCHS 50		/* spools listed on a probe's page */
#define PAGE_PROBES_MAX 10000	/* probes on the probes page: a province's routers */

/* The spools a probe has sent from, newest first, and what a new one means. */
static void probe_spools(struct store_reader *rd, const char *id, int english,
			 struct reply *r)
{
	struct store_epoch ep[PAGE_EPOCHS];
	char first[32], last[32];
	int n = store_epochs(rd, id, ep, PAGE_EPOCHS);

	html_addf(&r->body, "<h2>%s</h2>", tr("spools", english));
	for (int i = 0; i < n; i++) {
		html_time(ep[i].first_ms, first, sizeof(first));
		html_time(ep[i].last_ms, last, sizeof(last));
		if (i == 0)
			html_addf(&r->body, "<table><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
				  "<th>%s</th><th>%s</th></tr>", tr("spool_epoch", english),
				  tr("first_batch", english), tr("last_batch", english),
				  tr("batches", english), tr("first_seen", english),
				  tr("last_seen", english));
		html_addf(&r->body, "<tr><td><code>%s</code></td><td>%lld</td><td>%lld</td>"
			  "<td>%lld</td><td>%s</td><td>%s</td></tr>",
			  ep[i].epoch[0] ? ep[i].epoch : tr("before_epochs", english),
			  (long long)ep[i].first_seq, (long long)ep[i].last_seq,
			  (long long)ep[i].batches, first, last);
	}
	if (n > 0)
		buf_adds(&r->body, "</table>");
}

static void page_probes(struct dash *d, struct store_reader *rd, const char *one,
			int english, struct reply *r)
{
	struct store_probe *ps = malloc(PAGE_PROBES_MAX * sizeof(*ps));
	char when[32], since[32];
	int64_t remade_ms = 0;
	int n;

	(void)d;
	html_begin(&r->body, tr("probes", english), "/probes", english);
	html_addf(&r->body, "<h1>%s</h1><table><tr><th>%s</th><th>%s</th><th>%s</th>"
		  "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>", tr("probes", english),
		  tr("probe", english), tr("last_seen", english), tr("uplink", english),
		  tr("backlog", english), tr("spool", english), tr("offset", english),
		  tr("version", english));
	n = ps ? store_probes(rd, one, ps, PAGE_PROBES_MAX) : 0;
	for (int i = 0; i < n; i++) {
		const struct store_probe *p = &ps[i];

		html_time(p->last_seen_ms, when, sizeof(when));
		html_time(p->epoch_since_ms, since, sizeof(since));
		html_addf(&r->body, "<tr><td><a href=\"/probe/%s\">%s</a></td><td>%s</td>"
			  "<td>%s</td><td>%lld B (%lld dropped)</td>", p->id, p->id, when,
			  p->uplink, (long long)p->spool_pending, (long long)p->spool_dropped);
		if (p->epochs > 1)
			html_addf(&r->body, "<td>%s %s <strong>(%s %lld %s)</strong></td>",
				  tr("spool_since", english), since, tr("spool_remade", english),
				  (long long)(p->epochs - 1), tr("times", english));
		else
			html_addf(&r->body, "<td>%s %s</td>", tr("spool_since", english), since);
		html_addf(&r->body, "<td>%lld ms</td><td>%s</td></tr>",
			  (long long)p->clock_offset_ms, p->version);
		if (p->epochs > 1)
			remade_ms = p->epoch_since_ms;
	}
	buf_adds(&r->body, "</table>");
	if (one) {
		if (remade_ms) {
			html_time(remade_ms, since, sizeof(since));
			buf_adds(&r->body, "<p class=\"why\">");
			html_addf(&r->body, tr("spool_new_vi_en", english), since);
			buf_adds(&r->body, "</p>");
		}
		probe_spools(rd, one, english, r);
	}
	free(ps);
	html_end(&r->body);
}

/* ---- graphs and posters ---- */

/*
 * The paper a PDF poster or sheet is asked for: ?size=a5 (the default) or
 * a4. Returns -1 and a 400 answer for anything else.
 */
static int paper(const char *size, enum poster_size *out, struct reply *r)
{
	*out = POSTER_A5;
	if (!size || !strcmp(size, "a5"))
		return 0;
	if (!strcmp(size, "a4")) {
		*out = POSTER_A4;
		return 0;
	}
	r->status = 400;
	r->type = "text/plain; charset=utf-8";
	buf_adds(&r->body, "size must be a5 or a4\n");
	return -1;
}

static void poster(struct dash *d, struct store_reader *rd, const char *path,
		   const char *size, struct reply *r)
{
	char id[80], ext[8];
	const struct target *t;
	struct states ss;
	struct err e;
	long ok;

	if (sscanf(path, "/poster/%64[^.].%3s", id, ext) != 2 ||
	    !(t = catalog_target(d->cat, id)) ||
	    (strcmp(ext, "svg") && strcmp(ext, "png") && strcmp(ext, "pdf"))) {
		r->status = 404;
		r->type = "text/plain";
		buf_adds(&r->body, "no such poster\n");
		return;
	}
	/* never a poster of an address not checked working (page_stale) */
	if (load_states(d, rd, &ss) < 0)
		return;		/* the reader's failure answers */
	ok = checked_address(&ss, (size_t)(t - d->cat->targets));
	free(ss.st);
	if (ok < 0) {
		r->status = 409;
		r->type = "text/plain; charset=utf-8";
		buf_addf(&r->body, "no poster for '%s': its address has not been checked "
			 "working (no board with this code is OK); a STALE address is never "
			 "printed again\n", t->id);
		return;
	}
	if (!strcmp(ext, "pdf")) {
		enum poster_size ps;

		if (paper(size, &ps, r) < 0)
			return;
		r->type = "application/pdf";
		if (poster_pdf(&t, 1, ps, (long long)time(NULL), &r->body, &e) < 0)
			r->status = 404;
	} else if (!strcmp(ext, "svg")) {
		r->type = "image/svg+xml";
		if (poster_svg(t, &r->body, &e) < 0)
			r->status = 404;
	} else {
		r->type = "image/png";
		if (poster_png(t, &r->body, &e) < 0)
			r->status = 404;
	}
	if (r->status == 404) {
		buf_reset(&r->body);
		r->type = "text/plain";
		buf_adds(&r->body, e.msg);
	}
}

/* ---- JSON and CSV (/metrics is metrics.c) ---- */

static void api_targets(struct dash *d, struct store_reader *rd, struct reply *r)
{
	json_object *a = json_object_new_array();
	struct states ss;

	if (load_states(d, rd, &ss) < 0) {
		json_object_put(a);
		r->status = 503;
		buf_adds(&r->body, "{\"error\":\"out of memory\"}");
		return;
	}
	for (size_t i = 0; i < d->cat->ntargets; i++) {
		const struct target *t = &d->cat->targets[i];
		json_object *o = json_object_new_object();
		struct state st = ss.st[i];

		json_object_object_add(o, "id", json_object_new_string(t->id));
		json_object_object_add(o, "procedure", json_object_new_string(t->procedure));
		json_object_object_add(o, "board", json_object_new_string(t->board ? t->board->id : ""));
		json_object_object_add(o, "verdict", st.verdict[0] ?
				       json_object_new_string(st.verdict) : NULL);
		json_object_object_add(o, "since_ms", json_object_new_int64(st.since_ms));
		json_object_object_add(o, "probes", json_object_new_int(st.nprobes));
		json_object_array_add(a, o);
	}
	free(ss.st);
	r->type = "application/json";
	buf_adds(&r->body, json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
	json_object_put(a);
}

static void api_target(struct dash *d, struct store_reader *rd, const char *id,
		       struct reply *r)
{
	json_object *o, *latest;
	struct store_latest *l;
	struct arena a;
	int n;

	r->type = "application/json";
	if (!catalog_target(d->cat, id)) {
		r->status = 404;
		buf_adds(&r->body, "{\"error\":\"no such target\"}");
		return;
	}
	l = malloc(PAGE_PROBES * sizeof(*l));
	arena_init(&a, 0);
	n = l ? store_latest_of(rd, id, &a, l, PAGE_PROBES) : 0;
	o = json_object_new_object();
	latest = json_object_new_array();
	for (int i = 0; i < n; i++) {
		json_object *e = json_object_new_object();

		json_object_object_add(e, "probe", json_object_new_string(l[i].probe));
		json_object_object_add(e, "result", result_to_object(&l[i].r));
		json_object_array_add(latest, e);
	}
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "latest", latest);
	buf_adds(&r->body, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	free(l);
	arena_release(&a);
}

static void api_probes(struct store_reader *rd, struct reply *r)
{
	json_object *a = json_object_new_array();
	struct store_probe *ps = malloc(PAGE_PROBES_MAX * sizeof(*ps));
	int n = ps ? store_probes(rd, NULL, ps, PAGE_PROBES_MAX) : 0;

	for (int i = 0; i < n; i++) {
		const struct store_probe *p = &ps[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_object_new_string(p->id));
		json_object_object_add(o, "uplink", json_object_new_string(p->uplink));
		json_object_object_add(o, "version", json_object_new_string(p->version));
		json_object_object_add(o, "epoch", json_object_new_string(p->epoch));
		json_object_object_add(o, "last_seq", json_object_new_int64(p->last_seq));
		json_object_object_add(o, "last_seen_ms", json_object_new_int64(p->last_seen_ms));
		json_object_object_add(o, "clock_offset_ms",
				       json_object_new_int64(p->clock_offset_ms));
		json_object_object_add(o, "since_sync_s", json_object_new_int64(p->since_sync_s));
		json_object_object_add(o, "spool_pending_bytes",
				       json_object_new_int64(p->spool_pending));
		json_object_object_add(o, "spool_dropped", json_object_new_int64(p->spool_dropped));
		json_object_object_add(o, "epoch_since_ms",
				       json_object_new_int64(p->epoch_since_ms));
		json_object_object_add(o, "epochs", json_object_new_int64(p->epochs));
		json_object_array_add(a, o);
	}
	free(ps);
	r->type = "application/json";
	buf_adds(&r->body, json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
	json_object_put(a);
}

static void api_incidents(struct store_reader *rd, const char *target, struct reply *r)
{
	r->type = "application/json";
	incidents_json(store_reader_alerts(rd), target, &r->body);
}

static int csv_row(void *ctx, const struct store_history_row *h)
{
	struct buf *b = ctx;

	buf_addf(b, "%lld,", (long long)h->time_ms);
	text_csv_field(b, h->probe);
	buf_addc(b, ',');
	text_csv_field(b, h->verdict);
	buf_addc(b, ',');
	text_csv_field(b, h->uplink);
	buf_addf(b, ",%.1f\r\n", (double)h->total_us / 1000);
	return b->overflow ? -1 : 0;
}

static void api_history_csv(struct store_reader *rd, const char *id, struct reply *r)
{
	r->type = "text/csv; charset=utf-8";
	buf_adds(&r->body, "time_ms,probe,verdict,uplink,total_ms\r\n");
	store_history(rd, id, csv_row, &r->body);
}

/*
 * JSON answers carry text from codes and pages: write < > & as \u escapes
 * (they can only occur inside JSON strings), so that no client that pastes
 * a value into HTML, and no browser that sniffs, ever sees markup.
 */
static void json_harden(struct buf *b)
{
	struct buf out;

	if (!b->data || !strpbrk(b->data, "<>&"))
		return;
	buf_init(&out, b->max);
	for (size_t i = 0; i < b->len; i++) {
		char c = b->data[i];

		if (c == '<')
			buf_adds(&out, "\\u003c");
		else if (c == '>')
			buf_adds(&out, "\\u003e");
		else if (c == '&')
			buf_adds(&out, "\\u0026");
		else
			buf_addc(&out, c);
	}
	buf_release(b);
	*b = out;
}

/* ---- routes ---- */

/* What a request asked for, as each route's handler takes it. */
struct req {
	struct dash *d;
	struct store_reader *rd;
	const struct dash_req *q;	/* the request's path and headers */
	const char *path, *rest;	/* rest: the path after the route's prefix */
	int english;
	struct reply *r;
};

static void r_overview(const struct req *q)
{
	overview_get(q->d->ov, q->rd, q->q, q->r);
}

static void r_target(const struct req *q)
{
	page_target(q->d, q->rd, q->rest, q->english, q->r);
}

static void r_stale(const struct req *q)
{
	page_stale(q->d, q->rd, q->q, q->r);
}

/* /board/ID/photo (the page) and /board/ID/photo.img (the photo) */
static void r_board(const struct req *q)
{
	char id[CATALOG_ID_MAX + 1];
	const char *slash = strchr(q->rest, '/');
	size_t n = slash ? (size_t)(slash - q->rest) : 0;

	if (!slash || !n || n > CATALOG_ID_MAX) {
		q->r->status = 404;
		q->r->type = "text/plain; charset=utf-8";
		buf_adds(&q->r->body, "no such page\n");
		return;
	}
	memcpy(id, q->rest, n);
	id[n] = '\0';
	if (!strcmp(slash, "/photo"))
		page_board_photo(q->d, q->rd, q->q, id, q->r);
	else if (!strcmp(slash, "/photo.img"))
		board_photo_file(q->d, q->rd, id, q->r);
	else {
		q->r->status = 404;
		q->r->type = "text/plain; charset=utf-8";
		buf_adds(&q->r->body, "no such page\n");
	}
}

static void r_probes(const struct req *q)
{
	page_probes(q->d, q->rd, NULL, q->english, q->r);
}

static void r_probe(const struct req *q)
{
	page_probes(q->d, q->rd, q->rest, q->english, q->r);
}

static void r_graph(const struct req *q)
{
	graphs_get(q->d->graphs, q->rd, q->q, q->r);
}

/*
 * /sheet/PLACE.pdf: one print run for the commune of place PLACE, a page
 * per code of its boards whose address is checked working (the rule of
 * page_stale); the others are left out, as the reprint page says why.
 */
static void sheet(struct dash *d, struct store_reader *rd, const char *path,
		  const char *size, struct reply *r)
{
	char id[80];
	const struct place *pl = NULL;
	const struct target **pick;
	enum poster_size ps;
	struct states ss;
	struct err e;
	size_t n = 0;

	if (sscanf(path, "/sheet/%64[^.].pdf", id) == 1)
		for (size_t i = 0; i < d->cat->nplaces && !pl; i++)
			if (!strcmp(d->cat->places[i].id, id))
				pl = &d->cat->places[i];
	if (!pl || !pl->commune) {
		r->status = 404;
		r->type = "text/plain";
		buf_adds(&r->body, "no such commune\n");
		return;
	}
	if (paper(size, &ps, r) < 0 || load_states(d, rd, &ss) < 0)
		return;
	pick = calloc(d->cat->ntargets ? d->cat->ntargets : 1, sizeof(*pick));
	for (size_t i = 0; pick && i < d->cat->ntargets; i++) {
		const struct target *t = &d->cat->targets[i];

		if (t->board && same_commune(t->board->place, pl) && checked_address(&ss, i) >= 0)
			pick[n++] = t;
	}
	free(ss.st);
	if (!pick || !n) {
		r->status = pick ? 409 : 500;
		r->type = "text/plain; charset=utf-8";
		buf_addf(&r->body, "no poster of %s to print: no code of its boards has an "
			 "address checked working\n", pl->commune);
	} else {
		r->type = "application/pdf";
		if (poster_pdf(pick, n, ps, (long long)time(NULL), &r->body, &e) < 0) {
			r->status = 500;
			r->type = "text/plain";
			buf_reset(&r->body);
			buf_adds(&r->body, e.msg);
		}
	}
	free(pick);
}

static void r_sheet(const struct req *q)
{
	sheet(q->d, q->rd, q->path, q->q->size, q->r);
}

static void r_poster(const struct req *q)
{
	poster(q->d, q->rd, q->path, q->q->size, q->r);
}

static void r_api_targets(const struct req *q)
{
	api_targets(q->d, q->rd, q->r);
}

static void r_api_probes(const struct req *q)
{
	api_probes(q->rd, q->r);
}

static void r_api_incidents(const struct req *q)
{
	api_incidents(q->rd, NULL, q->r);
}

/* /api/v1/targets/ID, /api/v1/targets/ID/incidents, /api/v1/targets/ID/history.csv */
static void r_api_target(const struct req *q)
{
	char id[80];
	size_t n = strcspn(q->rest, "/");

	if (n == 0 || n >= sizeof(id))
		goto none;
	snprintf(id, sizeof(id), "%.*s", (int)n, q->rest);
	if (!q->rest[n]) {
		api_target(q->d, q->rd, id, q->r);
		return;
	}
	if (!strcmp(q->rest + n, "/incidents")) {
		api_incidents(q->rd, id, q->r);
		return;
	}
	if (!strcmp(q->rest + n, "/history.csv")) {
		api_history_csv(q->rd, id, q->r);
		return;
	}
none:
	q->r->status = 404;
	q->r->type = "application/json";
	buf_adds(&q->r->body, "{\"error\":\"no such page\"}");
}

static void r_metrics(const struct req *q)
{
	metrics_page(q->d, q->rd, q->q->gzip_ok, q->r);
}

static const struct route {
	const char *path;
	int prefix;			/* path is a prefix; the handler gets the rest */
	int reads;			/* needs a reader connection */
	void (*fn)(const struct req *q);
} routes[] = {
	{ "/", 0, 1, r_overview },
	{ "/target/", 1, 1, r_target },
	{ "/stale", 0, 1, r_stale },
	{ "/probes", 0, 1, r_probes },
	{ "/board/", 1, 1, r_board },
	{ "/probe/", 1, 1, r_probe },
	{ "/graph/", 1, 1, r_graph },
	{ "/poster/", 1, 1, r_poster },
	{ "/sheet/", 1, 1, r_sheet },
	{ "/api/v1/targets", 0, 1, r_api_targets },
	{ "/api/v1/targets/", 1, 1, r_api_target },
	{ "/api/v1/probes", 0, 1, r_api_probes },
	{ "/api/v1/incidents", 0, 1, r_api_incidents },
	{ "/metrics", 0, 1, r_metrics },
};

int dash_get(struct dash *d, const struct dash_req *dq, struct reply *r)
{
	const char *path = dq->path;
	const struct route *rt = NULL;
	struct req q;
	struct err e;
	int failed = 0;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]) && !rt; i++)
		if (routes[i].prefix ? !strncmp(path, routes[i].path, strlen(routes[i].path)) :
		    !strcmp(path, routes[i].path))
			rt = &routes[i];
	if (!rt)
		return 0;
	r->status = 200;
	r->type = "text/html; charset=utf-8";
	buf_init(&r->body, PAGE_MAX);
	memset(&q, 0, sizeof(q));
	q.d = d;
	q.q = dq;
	q.path = path;
	q.rest = path + (rt->prefix ? strlen(rt->path) : strlen(path));
	q.english = dq->english;
	q.r = r;
	if (rt->reads) {
		/* pages read on a connection of their own: never waiting for ingest */
		q.rd = store_reader_get(d->db, &e);
		if (!q.rd) {
			failed = 1;
		} else {
			rt->fn(&q);
			failed = store_reader_failed(q.rd, &e);
			store_reader_put(d->db, q.rd);
		}
	} else {
		rt->fn(&q);
	}
	if (failed) {
		/* a half-read answer must not pass for a whole one */
		LOG(LOG_LVL_ERROR, "page-db", "%s failed: %s", path, e.msg);
		buf_reset(&r->body);
		r->status = 500;
		r->type = "application/json";
		r->etag[0] = '\0';
		r->encoding = NULL;
		buf_adds(&r->body, "{\"error\":\"the database could not be read; the "
			 "server's log says why\"}");
		return 1;
	}
	if (!strcmp(r->type, "application/json"))
		json_harden(&r->body);
	return 1;
}
