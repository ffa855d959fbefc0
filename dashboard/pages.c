/* pages.c - dashboard pages and API over SQLite, the catalog and the RRD files (see pages.h). */
#include "pages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <rrd.h>

#include "html.h"
#include "store.h"
#include "incidents.h"
#include "../targets/poster.h"
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

static void fmt_time(int64_t ms, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000) + 7 * 3600;	/* Vietnam, UTC+7 */
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%d %H:%M", &tm);
}

/* The worst current verdict of a target over all probes, and since when. */
struct state {
	char verdict[16];
	int64_t since_ms, time_ms;
	int nprobes;
};

static int rank(const char *verdict);

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

static int load_states(struct dash *d, struct states *ss)
{
	struct tindex *ix;
	sqlite3_stmt *q;
	size_t n = d->cat->ntargets;

	ss->cat = d->cat;
	ss->st = calloc(n ? n : 1, sizeof(*ss->st));
	ix = calloc(n ? n : 1, sizeof(*ix));
	if (!ss->st || !ix) {
		free(ix);
		free(ss->st);
		ss->st = NULL;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		ix[i].id = d->cat->targets[i].id;
		ix[i].pos = i;
	}
	qsort(ix, n, sizeof(*ix), tindex_cmp);
	if (store_prepare(d->db->db, "SELECT target, verdict, since_ms, time_ms FROM "
			       "latest", &q) == 0) {
		while (store_step(q) == SQLITE_ROW) {
			struct tindex key = { (const char *)sqlite3_column_text(q, 0), 0 }, *hit;
			const char *vs = (const char *)sqlite3_column_text(q, 1);
			struct state *st;

			hit = bsearch(&key, ix, n, sizeof(*ix), tindex_cmp);
			if (!hit)
				continue;
			st = &ss->st[hit->pos];
			if (!st->nprobes++ || rank(vs) < rank(st->verdict)) {
				snprintf(st->verdict, sizeof(st->verdict), "%s", vs);
				st->since_ms = sqlite3_column_int64(q, 2);
				st->time_ms = sqlite3_column_int64(q, 3);
			}
		}
		sqlite3_finalize(q);
	}
	free(ix);
	return 0;
}

static int rank(const char *verdict)
{
	enum verdict v;

	return verdict[0] && verdict_parse(verdict, &v) == 0 ? (int)v : VERDICT_COUNT;
}

struct row {
	const struct target *t;
	struct state st;
};

/* ---- the places as a tree ---- */

/* One node per province, district, commune and village that has targets. */
struct node {
	char name[128];
	int parent;		/* index, -1 for a province */
	int depth;
	int counts[VERDICT_COUNT + 1];
	int worst;
};

static int node_get(struct node *nodes, int *n, int max, int parent, int depth,
		    const char *name)
{
	for (int i = 0; i < *n; i++)
		if (nodes[i].parent == parent && !strcmp(nodes[i].name, name))
			return i;
	if (*n == max)
		return -1;
	memset(&nodes[*n], 0, sizeof(nodes[*n]));
	snprintf(nodes[*n].name, sizeof(nodes[*n].name), "%s", name);
	nodes[*n].parent = parent;
	nodes[*n].depth = depth;
	nodes[*n].worst = VERDICT_COUNT;
	return (*n)++;
}

static void tree_print(struct buf *b, const struct node *nodes, int n, int parent)
{
	int *kids = malloc(sizeof(int) * (size_t)(n ? n : 1)), nk = 0;

	if (!kids)
		return;
	for (int i = 0; i < n; i++)
		if (nodes[i].parent == parent)
			kids[nk++] = i;
	/* siblings worst first, then by name */
	for (int i = 1; i < nk; i++)
		for (int j = i; j > 0; j--) {
			const struct node *x = &nodes[kids[j - 1]], *y = &nodes[kids[j]];

			if (x->worst < y->worst ||
			    (x->worst == y->worst && strcmp(x->name, y->name) <= 0))
				break;
			int t = kids[j];

			kids[j] = kids[j - 1];
			kids[j - 1] = t;
		}
	for (int k = 0; k < nk; k++) {
		const struct node *nd = &nodes[kids[k]];

		html_addf(b, "<tr><td style=\"padding-left:%dem\">%s</td>",
			  nd->depth * 2 + 0, nd->name);
		for (int v = 0; v < VERDICT_COUNT; v++)
			if (nd->counts[v])
				html_addf(b, "<td><span class=\"v %s\">%d</span></td>",
					  verdict_name((enum verdict)v), nd->counts[v]);
			else
				buf_adds(b, "<td></td>");
		buf_adds(b, "</tr>");
		tree_print(b, nodes, n, kids[k]);
	}
	free(kids);
}

static void place_tree(struct dash *d, const struct row *rows, int english,
		       struct buf *b)
{
	int max = (int)d->cat->ntargets * 4 + 1, n = 0;
	struct node *nodes = calloc((size_t)max, sizeof(*nodes));

	if (!nodes)
		return;
	for (size_t i = 0; i < d->cat->ntargets; i++) {
		const struct place *pl = rows[i].t->board ? rows[i].t->board->place : NULL;
		const char *levels[4];
		int parent = -1, depth = 0, rk = rank(rows[i].st.verdict);

		if (!pl)
			continue;
		levels[0] = pl->province;
		levels[1] = pl->district;
		levels[2] = pl->commune;
		levels[3] = pl->village;
		for (int l = 0; l < 4; l++) {
			int k;

			if (!levels[l])
				continue;
			k = node_get(nodes, &n, max, parent, depth++, levels[l]);
			if (k < 0)
				break;
			nodes[k].counts[rk]++;
			if (rk < nodes[k].worst)
				nodes[k].worst = rk;
			parent = k;
		}
	}
	html_addf(b, "<h1>%s</h1><table><tr><th>%s</th>", tr("overview", english),
		  tr("place", english));
	for (int v = 0; v < VERDICT_COUNT; v++)
		html_addf(b, "<th>%s</th>", verdict_name((enum verdict)v));
	buf_adds(b, "</tr>");
	tree_print(b, nodes, n, -1);
	buf_adds(b, "</table>");
	free(nodes);
}

/* ---- overview ---- */

static int by_severity(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c = rank(x->st.verdict) - rank(y->st.verdict);

	return c ? c : strcmp(x->t->id, y->t->id);
}

static void page_overview(struct dash *d, int english, struct reply *r)
{
	struct row *rows = calloc(d->cat->ntargets ? d->cat->ntargets : 1, sizeof(*rows));
	sqlite3_stmt *q;
	char when[32];

	html_begin(&r->body, tr("overview", english), "/", english);
	if (!rows) {
		html_end(&r->body);
		return;
	}
	pthread_mutex_lock(&d->db->lock);
	{
		struct states ss;

		if (load_states(d, &ss) == 0) {
			for (size_t i = 0; i < d->cat->ntargets; i++) {
				rows[i].t = &d->cat->targets[i];
				rows[i].st = ss.st[i];
			}
			free(ss.st);
		} else {
			for (size_t i = 0; i < d->cat->ntargets; i++)
				rows[i].t = &d->cat->targets[i];
		}
	}
	qsort(rows, d->cat->ntargets, sizeof(*rows), by_severity);
	incidents_open_html(d->alerts, d->cat, english, &r->body);
	place_tree(d, rows, english, &r->body);
	html_addf(&r->body, "<h2>%s</h2><table><tr><th>%s</th><th>%s</th>"
		  "<th>%s</th><th>%s</th><th>%s</th></tr>", tr("procedure", english),
		  tr("verdict", english), tr("procedure", english), tr("board", english),
		  tr("place", english), tr("since", english));
	for (size_t i = 0; i < d->cat->ntargets; i++) {
		const struct target *t = rows[i].t;
		struct buf name;

		buf_init(&name, 1024);
		if (t->board && t->board->place)
			place_format(t->board->place, &name);
		buf_adds(&r->body, "<tr><td>");
		if (rows[i].st.verdict[0])
			html_verdict(&r->body, rows[i].st.verdict);
		else
			buf_adds(&r->body, "–");
		fmt_time(rows[i].st.since_ms, when, sizeof(when));
		html_addf(&r->body, "</td><td><a href=\"/target/%s%s\">%s</a></td><td>%s</td>"
			  "<td>%s</td><td>%s</td></tr>", t->id, english ? "?lang=en" : "",
			  t->procedure, t->board ? t->board->location : "", buf_str(&name),
			  rows[i].st.verdict[0] ? when : "");
		buf_release(&name);
	}
	buf_adds(&r->body, "</table>");
	/* what changed in the last 24 hours */
	html_addf(&r->body, "<h2>%s</h2><table>", tr("changes", english));
	if (store_prepare(d->db->db, "SELECT time_ms, probe, target, old, new FROM "
			       "verdict_changes WHERE time_ms > ? ORDER BY time_ms DESC "
			       "LIMIT 200", &q) == 0) {
		sqlite3_bind_int64(q, 1, now_ms() - 86400000LL);
		while (store_step(q) == SQLITE_ROW) {
			fmt_time(sqlite3_column_int64(q, 0), when, sizeof(when));
			html_addf(&r->body, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s → ",
				  when, (const char *)sqlite3_column_text(q, 1),
				  (const char *)sqlite3_column_text(q, 2),
				  sqlite3_column_text(q, 3) ?
				  (const char *)sqlite3_column_text(q, 3) : "–");
			html_verdict(&r->body, (const char *)sqlite3_column_text(q, 4));
			buf_adds(&r->body, "</td></tr>");
		}
		sqlite3_finalize(q);
	}
	buf_adds(&r->body, "</table>");
	pthread_mutex_unlock(&d->db->lock);
	free(rows);
	html_end(&r->body);
}

/* ---- target page ---- */

static const char *jstr(json_object *o, const char *k)
{
	json_object *f;

	return json_object_object_get_ex(o, k, &f) && json_object_is_type(f, json_type_string)
	       ? json_object_get_string(f) : "";
}

static int64_t jint(json_object *o, const char *k)
{
	json_object *f;

	return json_object_object_get_ex(o, k, &f) ? json_object_get_int64(f) : 0;
}

static void waterfall(struct buf *b, json_object *res)
{
	json_object *steps;
	int64_t longest = 1;
	size_t n;

	if (!json_object_object_get_ex(res, "steps", &steps) ||
	    !json_object_is_type(steps, json_type_array))
		return;
	n = json_object_array_length(steps);
	for (size_t i = 0; i < n; i++) {
		int64_t t = jint(json_object_array_get_idx(steps, i), "total_us");

		if (t > longest)
			longest = t;
	}
	buf_adds(b, "<table>");
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(steps, i);
		static const char *const ph[5] = { "dns_us", "connect_us", "tls_us",
						   "ttfb_us", "transfer_us" };
		static const char *const cls[5] = { "d", "c", "t", "w", "r" };

		html_addf(b, "<tr><td>%d. %s<br><small>%s %s</small></td><td>", (int)i + 1,
			  jstr(s, "name"), jstr(s, "method"), jstr(s, "url"));
		for (int k = 0; k < 5; k++) {
			long w = (long)(jint(s, ph[k]) * 300 / longest);

			if (w > 0)
				buf_addf(b, "<span class=\"bar %s\" style=\"width:%ldpx\" "
					 "title=\"%s %.1f ms\"></span>", cls[k], w, ph[k],
					 (double)jint(s, ph[k]) / 1000);
		}
		html_addf(b, "</td><td>HTTP %d</td><td>%lld ms</td><td>%s</td></tr>",
			  (int)jint(s, "status"), (long long)(jint(s, "total_us") / 1000),
			  jstr(s, "error"));
	}
	buf_adds(b, "</table>");
}

static void page_target(struct dash *d, const char *id, int english, struct reply *r)
{
	const struct target *t = catalog_target(d->cat, id);
	static const char *const periods[4] = { "day", "week", "month", "year" };
	sqlite3_stmt *q;
	char when[32];
	struct buf place;

	if (!t) {
		r->status = 404;
		html_begin(&r->body, "404", "/", english);
		html_addf(&r->body, "<p>No target '%s'.</p>", id);
		html_end(&r->body);
		return;
	}
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
	pthread_mutex_lock(&d->db->lock);
	if (store_prepare(d->db->db, "SELECT probe, verdict, since_ms, json FROM latest "
			       "WHERE target = ? ORDER BY probe", &q) == 0) {
		int any = 0;

		sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
		while (store_step(q) == SQLITE_ROW) {
			const char *probe = (const char *)sqlite3_column_text(q, 0);
			json_object *res = json_tokener_parse((const char *)sqlite3_column_text(q, 3));

			any = 1;
			fmt_time(sqlite3_column_int64(q, 2), when, sizeof(when));
			html_addf(&r->body, "<h2>%s <a href=\"/probe/%s\">%s</a></h2><p>",
				  tr("probe", english), probe, probe);
			html_verdict(&r->body, (const char *)sqlite3_column_text(q, 1));
			html_addf(&r->body, " %s %s</p><p class=\"why\">%s</p><p><small>%s</small>"
				  "</p><h3>%s</h3>", tr("since", english), when,
				  jstr(res, english ? "why_en" : "why_vi"), jstr(res, "payload"),
				  tr("last_check", english));
			waterfall(&r->body, res);
			html_addf(&r->body, "<h3>%s</h3>", tr("graphs", english));
			for (int k = 0; k < 4; k++)
				html_addf(&r->body, "<img alt=\"%s\" src=\"/graph/%s/%s/%s.png\">",
					  periods[k], probe, id, periods[k]);
			json_object_put(res);
		}
		sqlite3_finalize(q);
		if (!any)
			html_addf(&r->body, "<p>%s</p>", tr("no_results", english));
	}
	/* availability per period, and latency by uplink kind side by side */
	{
		static const struct { const char *key; int64_t ms; } per[3] = {
			{ "day", 86400000LL }, { "week", 7 * 86400000LL },
			{ "month", 30 * 86400000LL } };

		html_addf(&r->body, "<h2>%s</h2><table><tr>", tr("availability", english));
		for (int k = 0; k < 3; k++) {
			double avail = -1;

			if (store_prepare(d->db->db, "SELECT avg(verdict IN ('OK','SLOW')) "
					       "FROM results WHERE target = ? AND time_ms > ?", &q) == 0) {
				sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
				sqlite3_bind_int64(q, 2, now_ms() - per[k].ms);
				if (store_step(q) == SQLITE_ROW &&
				    sqlite3_column_type(q, 0) != SQLITE_NULL)
					avail = sqlite3_column_double(q, 0);
				sqlite3_finalize(q);
			}
			if (avail < 0)
				html_addf(&r->body, "<td>%s: –</td>", tr(per[k].key, english));
			else
				buf_addf(&r->body, "<td>%s: %.1f%%</td>", tr(per[k].key, english),
					 avail * 100);
		}
		html_addf(&r->body, "</tr></table><h2>%s</h2><table><tr><th>%s</th><th>n</th>"
			  "<th>%s</th><th>%s</th><th>%s</th></tr>", tr("by_uplink", english),
			  tr("uplink", english), tr("avg_total", english),
			  tr("avg_connect", english), tr("availability", english));
		if (store_prepare(d->db->db, "SELECT uplink, count(*), "
				       "avg(json_extract(json, '$.total_us')) / 1000.0, "
				       "avg(json_extract(json, '$.steps[0].connect_us')) / 1000.0, "
				       "avg(verdict IN ('OK','SLOW')) FROM results WHERE target = ? "
				       "AND time_ms > ? GROUP BY uplink ORDER BY uplink", &q) == 0) {
			sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(q, 2, now_ms() - per[1].ms);
			while (store_step(q) == SQLITE_ROW) {
				html_addf(&r->body, "<tr><td>%s</td>",
					  (const char *)sqlite3_column_text(q, 0));
				buf_addf(&r->body, "<td>%d</td><td>%.0f ms</td><td>%.0f ms</td>"
					 "<td>%.1f%%</td></tr>", sqlite3_column_int(q, 1),
					 sqlite3_column_double(q, 2), sqlite3_column_double(q, 3),
					 sqlite3_column_double(q, 4) * 100);
			}
			sqlite3_finalize(q);
		}
		buf_adds(&r->body, "</table>");
	}
	incidents_target_html(d->alerts, id, english, &r->body);
	html_addf(&r->body, "<h2>%s</h2><table>", tr("history", english));
	if (store_prepare(d->db->db, "SELECT time_ms, probe, old, new FROM "
			       "verdict_changes WHERE target = ? ORDER BY time_ms DESC "
			       "LIMIT ?", &q) == 0) {
		sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int(q, 2, HISTORY_ROWS);
		while (store_step(q) == SQLITE_ROW) {
			fmt_time(sqlite3_column_int64(q, 0), when, sizeof(when));
			html_addf(&r->body, "<tr><td>%s</td><td>%s</td><td>", when,
				  (const char *)sqlite3_column_text(q, 1));
			html_verdict(&r->body, (const char *)sqlite3_column_text(q, 3));
			buf_adds(&r->body, "</td></tr>");
		}
		sqlite3_finalize(q);
	}
	pthread_mutex_unlock(&d->db->lock);
	html_addf(&r->body, "</table><p><a href=\"/api/v1/targets/%s/history.csv\">CSV</a>"
		  "</p>", id);
	html_end(&r->body);
}

/* ---- codes to reprint ---- */

static void page_stale(struct dash *d, int english, struct reply *r)
{
	int any = 0;

	struct states ss;

	html_begin(&r->body, tr("stale", english), "/stale", english);
	html_addf(&r->body, "<h1>%s</h1>", tr("stale", english));
	pthread_mutex_lock(&d->db->lock);
	if (load_states(d, &ss) < 0) {
		pthread_mutex_unlock(&d->db->lock);
		html_end(&r->body);
		return;
	}
	for (size_t i = 0; i < d->cat->ntargets; i++) {
		const struct target *t = &d->cat->targets[i];
		struct state st = ss.st[i];
		struct buf place;

		if (strcmp(st.verdict, "STALE") && strcmp(st.verdict, "TAMPERED"))
			continue;
		any = 1;
		buf_init(&place, 1024);
		if (t->board && t->board->place)
			place_format(t->board->place, &place);
		html_addf(&r->body, "<section><h2>%s</h2><p>%s — %s ", t->procedure,
			  buf_str(&place), t->board ? t->board->location : "");
		html_verdict(&r->body, st.verdict);
		html_addf(&r->body, "</p><p>%s:</p><img class=\"poster\" alt=\"%s\" "
			  "src=\"/poster/%s.svg\" width=\"420\"></section>",
			  tr("poster", english), t->id, t->id);
		buf_release(&place);
	}
	free(ss.st);
	pthread_mutex_unlock(&d->db->lock);
	if (!any)
		html_addf(&r->body, "<p>%s</p>", tr("none_stale", english));
	html_end(&r->body);
}

/* ---- probes ---- */

/* The spools a probe has sent from, newest first, and what a new one means. */
static void probe_spools(struct dash *d, const char *id, int english, struct reply *r)
{
	sqlite3_stmt *q;
	char first[32], last[32];
	int n = 0;

	if (store_prepare(d->db->db, "SELECT epoch, first_seq, last_seq, batches, first_ms, "
			       "last_ms FROM probe_epochs WHERE probe = ? ORDER BY first_ms DESC, "
			       "epoch", &q) != 0)
		return;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	html_addf(&r->body, "<h2>%s</h2>", tr("spools", english));
	while (store_step(q) == SQLITE_ROW) {
		const char *ep = (const char *)sqlite3_column_text(q, 0);

		fmt_time(sqlite3_column_int64(q, 4), first, sizeof(first));
		fmt_time(sqlite3_column_int64(q, 5), last, sizeof(last));
		if (n == 0)
			html_addf(&r->body, "<table><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
				  "<th>%s</th><th>%s</th></tr>", tr("spool_epoch", english),
				  tr("first_batch", english), tr("last_batch", english),
				  tr("batches", english), tr("first_seen", english),
				  tr("last_seen", english));
		html_addf(&r->body, "<tr><td><code>%s</code></td><td>%lld</td><td>%lld</td>"
			  "<td>%lld</td><td>%s</td><td>%s</td></tr>",
			  ep && ep[0] ? ep : tr("before_epochs", english),
			  (long long)sqlite3_column_int64(q, 1),
			  (long long)sqlite3_column_int64(q, 2),
			  (long long)sqlite3_column_int64(q, 3), first, last);
		n++;
	}
	sqlite3_finalize(q);
	if (n)
		buf_adds(&r->body, "</table>");
}

static void page_probes(struct dash *d, const char *one, int english, struct reply *r)
{
	sqlite3_stmt *q;
	char when[32], since[32];
	int64_t remade_ms = 0;

	html_begin(&r->body, tr("probes", english), "/probes", english);
	html_addf(&r->body, "<h1>%s</h1><table><tr><th>%s</th><th>%s</th><th>%s</th>"
		  "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>", tr("probes", english),
		  tr("probe", english), tr("last_seen", english), tr("uplink", english),
		  tr("backlog", english), tr("spool", english), tr("offset", english),
		  tr("version", english));
	pthread_mutex_lock(&d->db->lock);
	if (store_prepare(d->db->db, "SELECT id, last_seen_ms, uplink, spool_pending, "
			       "spool_dropped, clock_offset_ms, version, epoch_since_ms, epochs "
			       "FROM probes WHERE ?1 IS NULL OR id = ?1 ORDER BY id", &q) == 0) {
		if (one)
			sqlite3_bind_text(q, 1, one, -1, SQLITE_STATIC);
		while (store_step(q) == SQLITE_ROW) {
			long long epochs = sqlite3_column_int64(q, 8);

			fmt_time(sqlite3_column_int64(q, 1), when, sizeof(when));
			fmt_time(sqlite3_column_int64(q, 7), since, sizeof(since));
			html_addf(&r->body, "<tr><td><a href=\"/probe/%s\">%s</a></td><td>%s</td>"
				  "<td>%s</td><td>%lld B (%lld dropped)</td>",
				  (const char *)sqlite3_column_text(q, 0),
				  (const char *)sqlite3_column_text(q, 0), when,
				  (const char *)sqlite3_column_text(q, 2),
				  (long long)sqlite3_column_int64(q, 3),
				  (long long)sqlite3_column_int64(q, 4));
			if (epochs > 1)
				html_addf(&r->body, "<td>%s %s <strong>(%s %lld %s)</strong></td>",
					  tr("spool_since", english), since,
					  tr("spool_remade", english), epochs - 1,
					  tr("times", english));
			else
				html_addf(&r->body, "<td>%s %s</td>", tr("spool_since", english),
					  since);
			html_addf(&r->body, "<td>%lld ms</td><td>%s</td></tr>",
				  (long long)sqlite3_column_int64(q, 5),
				  (const char *)sqlite3_column_text(q, 6));
			if (epochs > 1)
				remade_ms = sqlite3_column_int64(q, 7);
		}
		sqlite3_finalize(q);
	}
	buf_adds(&r->body, "</table>");
	if (one) {
		if (remade_ms) {
			fmt_time(remade_ms, since, sizeof(since));
			buf_adds(&r->body, "<p class=\"why\">");
			html_addf(&r->body, tr("spool_new_vi_en", english), since);
			buf_adds(&r->body, "</p>");
		}
		probe_spools(d, one, english, r);
	}
	pthread_mutex_unlock(&d->db->lock);
	html_end(&r->body);
}

/* ---- graphs and posters ---- */

static int valid_part(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-' || s[i] == '_' || (s[i] == '.' && i > 0)))
			return 0;
	return 1;
}

static void graph(struct dash *d, const char *path, struct reply *r)
{
	char probe[80], target[80], period[16], file[1400], defs[3][1600];
	const char *argv[18];
	int argc = 0;
	rrd_info_t *info, *it;
	const char *start;

	if (sscanf(path, "/graph/%64[^/]/%64[^/]/%15[a-z].png", probe, target, period) != 3 ||
	    !valid_part(probe, strlen(probe)) || !valid_part(target, strlen(target))) {
		r->status = 404;
		buf_adds(&r->body, "no such graph\n");
		r->type = "text/plain";
		return;
	}
	start = !strcmp(period, "day") ? "-1d" : !strcmp(period, "week") ? "-1w" :
		!strcmp(period, "month") ? "-1m" : !strcmp(period, "year") ? "-1y" : NULL;
	rrdstore_path(d->rrd, probe, target, file, sizeof(file));
	if (!start || access(file, R_OK) != 0) {
		r->status = 404;
		r->type = "text/plain";
		buf_adds(&r->body, "no such graph\n");
		return;
	}
	snprintf(defs[0], sizeof(defs[0]), "DEF:total=%s:total:AVERAGE", file);
	snprintf(defs[1], sizeof(defs[1]), "DEF:ttfb=%s:ttfb:AVERAGE", file);
	snprintf(defs[2], sizeof(defs[2]), "DEF:conn=%s:connect:AVERAGE", file);
	argv[argc++] = "graph";
	argv[argc++] = "-";
	argv[argc++] = "--imgformat=PNG";
	argv[argc++] = "--start";
	argv[argc++] = start;
	argv[argc++] = "--vertical-label=ms";
	if (d->rrd->cached[0]) {
		/* let rrdcached write out what it holds for this file first */
		argv[argc++] = "--daemon";
		argv[argc++] = d->rrd->cached;
	}
	argv[argc++] = "--width=480";
	argv[argc++] = "--height=140";
	argv[argc++] = defs[0];
	argv[argc++] = defs[1];
	argv[argc++] = defs[2];
	argv[argc++] = "LINE1:total#0b4f8a:total";
	argv[argc++] = "LINE1:ttfb#ffb300:first byte";
	argv[argc++] = "LINE1:conn#42a5f5:connect";
	pthread_mutex_lock(&d->graph_lock);
	rrd_clear_error();
	info = rrd_graph_v(argc, (char **)argv);
	for (it = info; it; it = it->next)
		if (!strcmp(it->key, "image") && it->type == RD_I_BLO)
			buf_add(&r->body, it->value.u_blo.ptr, it->value.u_blo.size);
	if (info)
		rrd_info_free(info);
	pthread_mutex_unlock(&d->graph_lock);
	r->type = "image/png";
	if (!r->body.len) {
		r->status = 500;
		r->type = "text/plain";
		buf_adds(&r->body, "graph failed\n");
	}
}

static void poster(struct dash *d, const char *path, struct reply *r)
{
	char id[80], ext[8];
	const struct target *t;
	struct err e;

	if (sscanf(path, "/poster/%64[^.].%3s", id, ext) != 2 ||
	    !(t = catalog_target(d->cat, id)) || (strcmp(ext, "svg") && strcmp(ext, "png"))) {
		r->status = 404;
		r->type = "text/plain";
		buf_adds(&r->body, "no such poster\n");
		return;
	}
	if (!strcmp(ext, "svg")) {
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

/* ---- JSON, CSV, metrics ---- */

static void api_targets(struct dash *d, struct reply *r)
{
	json_object *a = json_object_new_array();
	struct states ss;

	pthread_mutex_lock(&d->db->lock);
	if (load_states(d, &ss) < 0) {
		pthread_mutex_unlock(&d->db->lock);
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
	pthread_mutex_unlock(&d->db->lock);
	r->type = "application/json";
	buf_adds(&r->body, json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
	json_object_put(a);
}

static void api_target(struct dash *d, const char *id, struct reply *r)
{
	json_object *o = json_object_new_object(), *latest = json_object_new_array();
	sqlite3_stmt *q;

	r->type = "application/json";
	if (!catalog_target(d->cat, id)) {
		r->status = 404;
		buf_adds(&r->body, "{\"error\":\"no such target\"}");
		json_object_put(o);
		json_object_put(latest);
		return;
	}
	pthread_mutex_lock(&d->db->lock);
	if (store_prepare(d->db->db, "SELECT probe, json FROM latest WHERE target = ?", &q) == 0) {
		sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
		while (store_step(q) == SQLITE_ROW) {
			json_object *e = json_object_new_object();

			json_object_object_add(e, "probe", json_object_new_string(
				(const char *)sqlite3_column_text(q, 0)));
			json_object_object_add(e, "result", json_tokener_parse(
				(const char *)sqlite3_column_text(q, 1)));
			json_object_array_add(latest, e);
		}
		sqlite3_finalize(q);
	}
	pthread_mutex_unlock(&d->db->lock);
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "latest", latest);
	buf_adds(&r->body, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

static void api_probes(struct dash *d, struct reply *r)
{
	json_object *a = json_object_new_array();
	sqlite3_stmt *q;

	pthread_mutex_lock(&d->db->lock);
	if (store_prepare(d->db->db, "SELECT id, last_seq, last_seen_ms, uplink, version, "
			       "clock_offset_ms, since_sync_s, spool_pending, spool_dropped, "
			       "epoch, epoch_since_ms, epochs FROM probes ORDER BY id", &q) == 0) {
		while (store_step(q) == SQLITE_ROW) {
			json_object *o = json_object_new_object();
			static const char *const ints[] = { NULL, "last_seq", "last_seen_ms", NULL,
							    NULL, "clock_offset_ms", "since_sync_s",
							    "spool_pending_bytes", "spool_dropped",
							    NULL, "epoch_since_ms", "epochs" };

			json_object_object_add(o, "id", json_object_new_string(
				(const char *)sqlite3_column_text(q, 0)));
			json_object_object_add(o, "uplink", json_object_new_string(
				sqlite3_column_text(q, 3) ? (const char *)sqlite3_column_text(q, 3) : ""));
			json_object_object_add(o, "version", json_object_new_string(
				sqlite3_column_text(q, 4) ? (const char *)sqlite3_column_text(q, 4) : ""));
			json_object_object_add(o, "epoch", json_object_new_string(
				sqlite3_column_text(q, 9) ? (const char *)sqlite3_column_text(q, 9) : ""));
			for (int k = 0; k < 12; k++)
				if (ints[k])
					json_object_object_add(o, ints[k], json_object_new_int64(
						sqlite3_column_int64(q, k)));
			json_object_array_add(a, o);
		}
		sqlite3_finalize(q);
	}
	pthread_mutex_unlock(&d->db->lock);
	r->type = "application/json";
	buf_adds(&r->body, json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
	json_object_put(a);
}

static void api_incidents(struct dash *d, const char *target, struct reply *r)
{
	r->type = "application/json";
	pthread_mutex_lock(&d->db->lock);
	incidents_json(d->alerts, target, &r->body);
	pthread_mutex_unlock(&d->db->lock);
}

/* A CSV field: quoted, quotes doubled; a leading =+-@ is defused for spreadsheets. */
static void api_history_csv(struct dash *d, const char *id, struct reply *r)
{
	sqlite3_stmt *q;

	r->type = "text/csv; charset=utf-8";
	buf_adds(&r->body, "time_ms,probe,verdict,uplink,total_ms\r\n");
	pthread_mutex_lock(&d->db->lock);
	if (store_prepare(d->db->db, "SELECT time_ms, probe, verdict, uplink, "
			       "json_extract(json, '$.total_us') FROM results WHERE target = ? "
			       "ORDER BY time_ms", &q) == 0) {
		sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
		while (store_step(q) == SQLITE_ROW) {
			buf_addf(&r->body, "%lld,", (long long)sqlite3_column_int64(q, 0));
			text_csv_field(&r->body, (const char *)sqlite3_column_text(q, 1));
			buf_addc(&r->body, ',');
			text_csv_field(&r->body, (const char *)sqlite3_column_text(q, 2));
			buf_addc(&r->body, ',');
			text_csv_field(&r->body, (const char *)sqlite3_column_text(q, 3));
			buf_addf(&r->body, ",%.1f\r\n", sqlite3_column_double(q, 4) / 1000);
		}
		sqlite3_finalize(q);
	}
	pthread_mutex_unlock(&d->db->lock);
}

static void metrics(struct dash *d, struct reply *r)
{
	sqlite3_stmt *q;

	r->type = "text/plain; version=0.0.4; charset=utf-8";
	buf_adds(&r->body, "# HELP qrwatch_target_ok 1 when the target's latest verdict from "
		 "the probe is OK or SLOW.\n# TYPE qrwatch_target_ok gauge\n");
	pthread_mutex_lock(&d->db->lock);
	if (store_prepare(d->db->db, "SELECT probe, target, verdict, "
			       "json_extract(json, '$.total_us') FROM latest ORDER BY probe, "
			       "target", &q) == 0) {
		struct buf lat;

		buf_init(&lat, PAGE_MAX);
		buf_adds(&lat, "# HELP qrwatch_check_seconds Duration of the target's latest "
			 "check.\n# TYPE qrwatch_check_seconds gauge\n");
		while (store_step(q) == SQLITE_ROW) {
			const char *p = (const char *)sqlite3_column_text(q, 0);
			const char *t = (const char *)sqlite3_column_text(q, 1);
			const char *v = (const char *)sqlite3_column_text(q, 2);

			/* ids are [a-z0-9._-] and verdicts are ours: no label escaping needed */
			buf_addf(&r->body, "qrwatch_target_ok{probe=\"%s\",target=\"%s\","
				 "verdict=\"%s\"} %d\n", p, t, v,
				 !strcmp(v, "OK") || !strcmp(v, "SLOW"));
			buf_addf(&lat, "qrwatch_check_seconds{probe=\"%s\",target=\"%s\"} %.6f\n",
				 p, t, sqlite3_column_double(q, 3) / 1e6);
		}
		sqlite3_finalize(q);
		buf_add(&r->body, lat.data ? lat.data : "", lat.len);
		buf_release(&lat);
	}
	{
		int nt, nu, ns;
		int64_t pending, sent, failed;

		if (astore_open_counts(d->alerts, &nt, &nu, &ns) == 0)
			buf_addf(&r->body, "# HELP qrwatch_incidents_open Open incidents by kind.\n"
				 "# TYPE qrwatch_incidents_open gauge\n"
				 "qrwatch_incidents_open{kind=\"target\"} %d\n"
				 "qrwatch_incidents_open{kind=\"uplink\"} %d\n"
				 "qrwatch_incidents_open{kind=\"silent\"} %d\n", nt, nu, ns);
		if (astore_note_counts(d->alerts, &pending, &sent, &failed) == 0)
			buf_addf(&r->body, "# HELP qrwatch_notifications Notifications in the "
				 "outbox by state.\n# TYPE qrwatch_notifications gauge\n"
				 "qrwatch_notifications{state=\"pending\"} %lld\n"
				 "qrwatch_notifications{state=\"sent\"} %lld\n"
				 "qrwatch_notifications{state=\"failed\"} %lld\n",
				 (long long)pending, (long long)sent, (long long)failed);
	}
	pthread_mutex_unlock(&d->db->lock);
	buf_addf(&r->body, "# HELP qrwatch_rrd_refused_total Results not newer than their "
		 "RRD file's last update.\n# TYPE qrwatch_rrd_refused_total counter\n"
		 "qrwatch_rrd_refused_total %lu\n", d->rrd->refused);
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

int dash_get(struct dash *d, const char *path, int english, struct reply *r)
{
	struct err e;

	r->status = 200;
	r->type = "text/html; charset=utf-8";
	buf_init(&r->body, PAGE_MAX);
	store_clear_error();
	if (!strcmp(path, "/"))
		page_overview(d, english, r);
	else if (!strncmp(path, "/target/", 8))
		page_target(d, path + 8, english, r);
	else if (!strcmp(path, "/stale"))
		page_stale(d, english, r);
	else if (!strcmp(path, "/probes"))
		page_probes(d, NULL, english, r);
	else if (!strncmp(path, "/probe/", 7))
		page_probes(d, path + 7, english, r);
	else if (!strncmp(path, "/graph/", 7))
		graph(d, path, r);
	else if (!strncmp(path, "/poster/", 8))
		poster(d, path, r);
	else if (!strcmp(path, "/api/v1/targets"))
		api_targets(d, r);
	else if (!strcmp(path, "/api/v1/probes"))
		api_probes(d, r);
	else if (!strcmp(path, "/api/v1/incidents"))
		api_incidents(d, NULL, r);
	else if (!strncmp(path, "/api/v1/targets/", 16) && text_ends_with(path, "/incidents")) {
		char id[80];

		if (sscanf(path, "/api/v1/targets/%64[^/]", id) == 1)
			api_incidents(d, id, r);
	}
	else if (!strncmp(path, "/api/v1/targets/", 16) && strstr(path, "/history.csv")) {
		char id[80];

		if (sscanf(path, "/api/v1/targets/%64[^/]", id) == 1)
			api_history_csv(d, id, r);
	} else if (!strncmp(path, "/api/v1/targets/", 16))
		api_target(d, path + 16, r);
	else if (!strcmp(path, "/metrics"))
		metrics(d, r);
	else {
		buf_release(&r->body);
		return 0;
	}
	if (store_failed(&e) || astore_failed(d->alerts, &e)) {
		/* a half-read answer must not pass for a whole one */
		LOG(LOG_LVL_ERROR, "page-db", "%s failed: %s", path, e.msg);
		buf_reset(&r->body);
		r->status = 500;
		r->type = "application/json";
		buf_adds(&r->body, "{\"error\":\"the database could not be read; the "
			 "server's log says why\"}");
		return 1;
	}
	if (!strcmp(r->type, "application/json"))
		json_harden(&r->body);
	return 1;
}
