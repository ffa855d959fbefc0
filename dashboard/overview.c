/* overview.c - the overview page: the places from the catalog, the states read per verdict change, pages kept (see overview.h). */
#include "overview.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "html.h"
#include "httpcache.h"
#include "incidents.h"
#include "../common/text.h"
#include "../targets/verdict.h"
#include "../common/banned.h"

#define NONE VERDICT_COUNT	/* the rank of a code without a result yet */
#define NCOL (VERDICT_COUNT + 1)

/* ---- the places, from the catalog once ---- */

/* A province, or a district in one: a heading row over its communes. */
struct group {
	const char *name;
	int parent;		/* the province of a district, -1 for a province */
};

struct commune {
	const char *province, *district, *name;
	const char *id;		/* the smallest id of its places: ?commune=ID */
	int prov, dist;		/* its groups (dist -1 without a district) */
	int first, n;		/* its codes: ov->codes[first .. first + n) */
};

struct place_ix {
	const char *id;
	int commune;
};

/* Every code's state as of a mark, counted. Only the thread drawing uses it. */
struct model {
	int64_t mark;
	int64_t built_ms;		/* monotonic, when read whole */
	int drawn_once;			/* counted since read whole */
	unsigned char *rank;		/* per code: its worst verdict, NONE */
	int64_t *since;			/* per code: since when */
	int *bad, nbad;			/* the codes not OK, worst first */
	int counts[NCOL];		/* every code */
	int (*ccount)[NCOL];		/* per commune */
	int (*gcount)[NCOL];		/* per group */
	int *cworst, *gworst;
	struct store_change *ch;
	int nch;
};

/* A page as drawn. */
struct page {
	int used;
	int english, commune, page;	/* what it is */
	int64_t mark;			/* what it was drawn from */
	int has_incidents;		/* it shows the open incidents (the first page) */
	uint64_t incidents;		/* their hash */
	int64_t built_ms;		/* monotonic */
	int64_t checked_ms;		/* its incidents found the same (monotonic) */
	unsigned long last_use;
	struct buf raw, gz;
	char etag[HTTPCACHE_ETAG_MAX], etag_gz[HTTPCACHE_ETAG_MAX];
};

/* The open incidents as the first page shows them, in one language. */
struct incidents_part {
	struct buf html;
	uint64_t hash;
	int64_t read_ms;		/* monotonic, 0: not read */
};

struct overview {
	const struct catalog *cat;
	struct group *groups;
	int ngroups;
	struct commune *communes;
	int ncommunes;
	int *commune_of;		/* per code, -1 without a place */
	int *codes;			/* grouped by commune */
	struct place_ix *places;	/* sorted by id */
	size_t nplaces;
	pthread_mutex_t draw;		/* held by the one page thread drawing */
	struct model *model;		/* under draw */
	struct incidents_part incidents[2];	/* Vietnamese, English; under draw */
	pthread_mutex_t lock;		/* the pages */
	struct page pages[OVERVIEW_CACHE_PAGES];
	unsigned long uses;
	int ready;			/* the locks and pages are made */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static const struct place *place_of(const struct target *t)
{
	return t->board ? t->board->place : NULL;
}

/* Places in the order of their commune: province, district, commune. */
static int place_order(const struct place *a, const struct place *b)
{
	int c = strcmp(or_empty(a->province), or_empty(b->province));

	if (!c)
		c = strcmp(or_empty(a->district), or_empty(b->district));
	if (!c)
		c = strcmp(or_empty(a->commune), or_empty(b->commune));
	return c;
}

static int code_order(const void *x, const void *y, void *ctx)
{
	const struct catalog *cat = ctx;
	const struct target *a = &cat->targets[*(const int *)x];
	const struct target *b = &cat->targets[*(const int *)y];
	const struct place *pa = place_of(a), *pb = place_of(b);
	int c = !pa || !pb ? !pa - !pb : place_order(pa, pb);

	return c ? c : strcmp(a->id, b->id);
}

static int place_ix_cmp(const void *x, const void *y)
{
	return strcmp(((const struct place_ix *)x)->id, ((const struct place_ix *)y)->id);
}

static int group_new(struct overview *ov, const char *name, int parent)
{
	ov->groups[ov->ngroups].name = name;
	ov->groups[ov->ngroups].parent = parent;
	return ov->ngroups++;
}

/* How a place sorts against a commune: by province, district, commune. */
static int place_vs_commune(const struct place *pl, const struct commune *c)
{
	struct place key = { .province = c->province, .district = c->district,
			     .commune = c->name };

	return place_order(pl, &key);
}

/* A place's commune in ov->communes (sorted by place_order), or -1. */
static int commune_find(const struct overview *ov, const struct place *pl)
{
	int lo = 0, hi = ov->ncommunes - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		int cmp = place_vs_commune(pl, &ov->communes[mid]);

		if (!cmp)
			return mid;
		if (cmp < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return -1;
}

/* The communes and their groups, from the codes sorted by place. */
static void index_places(struct overview *ov)
{
	const struct catalog *cat = ov->cat;
	size_t n = cat->ntargets;

	for (size_t i = 0; i < n; i++)
		ov->codes[i] = (int)i;
	qsort_r(ov->codes, n, sizeof(*ov->codes), code_order, (void *)cat);
	for (size_t k = 0; k < n; k++) {
		int i = ov->codes[k];
		const struct place *pl = place_of(&cat->targets[i]);
		struct commune *c = ov->ncommunes ? &ov->communes[ov->ncommunes - 1] : NULL;

		if (!pl) {
			ov->commune_of[i] = -1;	/* sorted last */
			continue;
		}
		if (!c || place_vs_commune(pl, c)) {
			const struct commune *prev = c;
			int same_prov = prev && !strcmp(or_empty(prev->province),
							 or_empty(pl->province));

			c = &ov->communes[ov->ncommunes++];
			c->province = pl->province;
			c->district = pl->district;
			c->name = pl->commune;
			c->id = pl->id;
			c->prov = same_prov ? prev->prov : group_new(ov, or_empty(pl->province), -1);
			if (!pl->district)
				c->dist = -1;
			else if (same_prov && prev->district && !strcmp(prev->district, pl->district))
				c->dist = prev->dist;
			else
				c->dist = group_new(ov, pl->district, c->prov);
			c->first = (int)k;
		}
		c->n++;
		ov->commune_of[i] = (int)(c - ov->communes);
	}
	/* each place names its commune, for ?commune= */
	for (size_t p = 0; p < cat->nplaces; p++) {
		const struct place *pl = &cat->places[p];
		int found = commune_find(ov, pl);

		if (found < 0)
			continue;	/* a place without codes */
		ov->places[ov->nplaces].id = pl->id;
		ov->places[ov->nplaces++].commune = found;
		if (strcmp(pl->id, ov->communes[found].id) < 0)
			ov->communes[found].id = pl->id;
	}
	qsort(ov->places, ov->nplaces, sizeof(*ov->places), place_ix_cmp);
}

struct overview *overview_new(const struct catalog *cat)
{
	struct overview *ov = calloc(1, sizeof(*ov));
	size_t n = cat->ntargets ? cat->ntargets : 1;

	if (!ov)
		return NULL;
	ov->cat = cat;
	ov->groups = calloc(2 * n, sizeof(*ov->groups));
	ov->communes = calloc(n, sizeof(*ov->communes));
	ov->commune_of = calloc(n, sizeof(*ov->commune_of));
	ov->codes = calloc(n, sizeof(*ov->codes));
	ov->places = calloc(cat->nplaces ? cat->nplaces : 1, sizeof(*ov->places));
	if (!ov->groups || !ov->communes || !ov->commune_of || !ov->codes || !ov->places) {
		overview_free(ov);
		return NULL;
	}
	index_places(ov);
	pthread_mutex_init(&ov->draw, NULL);
	pthread_mutex_init(&ov->lock, NULL);
	for (int i = 0; i < OVERVIEW_CACHE_PAGES; i++) {
		buf_init(&ov->pages[i].raw, OVERVIEW_PAGE_MAX);
		buf_init(&ov->pages[i].gz, OVERVIEW_PAGE_MAX);
	}
	ov->ready = 1;
	return ov;
}

static void model_free(struct model *m)
{
	if (!m)
		return;
	free(m->rank);
	free(m->since);
	free(m->bad);
	free(m->ccount);
	free(m->gcount);
	free(m->cworst);
	free(m->gworst);
	free(m->ch);
	free(m);
}

void overview_free(struct overview *ov)
{
	if (!ov)
		return;
	if (ov->ready) {
		buf_release(&ov->incidents[0].html);
		buf_release(&ov->incidents[1].html);
		for (int i = 0; i < OVERVIEW_CACHE_PAGES; i++) {
			buf_release(&ov->pages[i].raw);
			buf_release(&ov->pages[i].gz);
		}
		pthread_mutex_destroy(&ov->draw);
		pthread_mutex_destroy(&ov->lock);
	}
	model_free(ov->model);
	free(ov->groups);
	free(ov->communes);
	free(ov->commune_of);
	free(ov->codes);
	free(ov->places);
	free(ov);
}

/* ---- the model: every code's state, one query ---- */

/* A model and its catalog, for the callbacks that fill and sort it. */
struct model_ctx {
	struct model *m;
	const struct catalog *cat;
};

static int fill_state(void *ctx, const struct store_state *row)
{
	struct model *m = ((struct model_ctx *)ctx)->m;
	const struct catalog *cat = ((struct model_ctx *)ctx)->cat;
	const struct target *t = catalog_target(cat, row->target);
	enum verdict v;
	size_t i;

	if (!t || verdict_parse(row->verdict, &v) < 0)
		return 0;	/* a code gone from the catalog */
	i = (size_t)(t - cat->targets);
	m->rank[i] = (unsigned char)v;
	m->since[i] = row->since_ms;
	return 0;
}

/* Worst verdict first, then the longest standing, then by id. */
static int worst_first(const void *x, const void *y, void *ctx)
{
	const struct model *m = ((const struct model_ctx *)ctx)->m;
	const struct catalog *cat = ((const struct model_ctx *)ctx)->cat;
	int a = *(const int *)x, b = *(const int *)y;

	if (m->rank[a] != m->rank[b])
		return m->rank[a] - m->rank[b];
	if (m->since[a] != m->since[b])
		return m->since[a] < m->since[b] ? -1 : 1;
	return strcmp(cat->targets[a].id, cat->targets[b].id);
}

/* The counts, the worst per commune and group, and the codes not OK in order, from rank. */
static void model_count(const struct overview *ov, struct model *m)
{
	size_t n = ov->cat->ntargets;
	int nc = ov->ncommunes ? ov->ncommunes : 1, ng = ov->ngroups ? ov->ngroups : 1;
	struct model_ctx ctx = { m, ov->cat };

	memset(m->counts, 0, sizeof(m->counts));
	memset(m->ccount, 0, (size_t)nc * sizeof(*m->ccount));
	memset(m->gcount, 0, (size_t)ng * sizeof(*m->gcount));
	for (int c = 0; c < nc; c++)
		m->cworst[c] = NONE;
	for (int g = 0; g < ng; g++)
		m->gworst[g] = NONE;
	m->nbad = 0;
	for (size_t i = 0; i < n; i++) {
		int rk = m->rank[i], c = ov->commune_of[i];
		const struct commune *cm;

		m->counts[rk]++;
		if (rk < VERDICT_OK)
			m->bad[m->nbad++] = (int)i;
		if (c < 0)
			continue;
		cm = &ov->communes[c];
		m->ccount[c][rk]++;
		m->gcount[cm->prov][rk]++;
		if (rk < m->cworst[c])
			m->cworst[c] = rk;
		if (rk < m->gworst[cm->prov])
			m->gworst[cm->prov] = rk;
		if (cm->dist >= 0) {
			m->gcount[cm->dist][rk]++;
			if (rk < m->gworst[cm->dist])
				m->gworst[cm->dist] = rk;
		}
	}
	qsort_r(m->bad, (size_t)m->nbad, sizeof(*m->bad), worst_first, &ctx);
}

/* Every code's state, one query: the whole model. NULL on a statement error (kept in rd). */
static struct model *model_build(struct overview *ov, struct store_reader *rd, int64_t mark)
{
	size_t n = ov->cat->ntargets, one = n ? n : 1;
	int nc = ov->ncommunes ? ov->ncommunes : 1, ng = ov->ngroups ? ov->ngroups : 1;
	struct model *m = calloc(1, sizeof(*m));
	struct model_ctx ctx = { m, ov->cat };

	if (!m)
		return NULL;
	m->mark = mark;
	m->built_ms = mono_ms();
	m->rank = malloc(one);
	m->since = calloc(one, sizeof(*m->since));
	m->bad = malloc(one * sizeof(*m->bad));
	m->ccount = calloc((size_t)nc, sizeof(*m->ccount));
	m->gcount = calloc((size_t)ng, sizeof(*m->gcount));
	m->cworst = malloc((size_t)nc * sizeof(*m->cworst));
	m->gworst = malloc((size_t)ng * sizeof(*m->gworst));
	m->ch = malloc(OVERVIEW_CHANGES_ROWS * sizeof(*m->ch));
	if (!m->rank || !m->since || !m->bad || !m->ccount || !m->gcount || !m->cworst ||
	    !m->gworst || !m->ch) {
		model_free(m);
		return NULL;
	}
	memset(m->rank, NONE, one);
	if (store_states(rd, fill_state, &ctx) < 0) {
		model_free(m);
		return NULL;
	}
	return m;
}

struct changed_ctx {
	struct model_ctx mc;
	struct store_reader *rd;
};

/* A code whose verdict changed: its state read again. */
static int refill(void *ctx, const char *target)
{
	struct changed_ctx *x = ctx;
	const struct target *t = catalog_target(x->mc.cat, target);
	struct store_state st;
	int rc;

	if (!t)
		return 0;
	rc = store_state_of(x->rd, target, &st);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		x->mc.m->rank[t - x->mc.cat->targets] = NONE;
		return 0;
	}
	return fill_state(&x->mc, &st);
}

/*
 * The model as of mark: the one kept, moved on by reading the states of
 * only the codes whose verdict changed since its mark (a few queries per
 * change), or read whole when it is older than OVERVIEW_MAX_AGE_S, has
 * fallen more than OVERVIEW_DELTA_MAX changes behind, or the mark went
 * back (every change was deleted). NULL on a statement error (kept in rd).
 */
static struct model *model_get(struct overview *ov, struct store_reader *rd, int64_t mark)
{
	struct model *m = ov->model;

	if (m && (mono_ms() - m->built_ms >= OVERVIEW_MAX_AGE_S * 1000 || mark < m->mark ||
		  mark - m->mark > OVERVIEW_DELTA_MAX)) {
		model_free(m);
		m = ov->model = NULL;
	}
	if (!m) {
		m = ov->model = model_build(ov, rd, mark);
		if (!m)
			return NULL;
	} else if (mark != m->mark) {
		struct changed_ctx x = { { m, ov->cat }, rd };

		if (store_changed_targets(rd, m->mark, mark, refill, &x) < 0 ||
		    !store_reader_ok(rd)) {
			model_free(m);
			ov->model = NULL;
			return NULL;
		}
	}
	if (mark != m->mark || !m->drawn_once) {
		m->mark = mark;
		m->drawn_once = 1;
		model_count(ov, m);
		m->nch = store_changes_since(rd, now_ms() - 86400000LL, m->ch,
					     OVERVIEW_CHANGES_ROWS);
		if (m->nch < 0 || !store_reader_ok(rd)) {
			model_free(m);
			ov->model = NULL;
			return NULL;
		}
	}
	return m;
}

/* ---- drawing a page ---- */

static void fmt_time(int64_t ms, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000) + 7 * 3600;	/* Vietnam, UTC+7 */
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%d %H:%M", &tm);
}

/* "2026-11-22 09:15 (3 giờ)": when, and how long ago in plain words. */
static void since_cell(struct buf *b, int64_t since, int64_t now, int english)
{
	char when[32];
	int64_t min = (now - since) / 60000;

	fmt_time(since, when, sizeof(when));
	html_addf(b, "%s <small>(", when);
	if (min < 1)
		html_addf(b, "%s", tr("just_now", english));
	else if (min < 60)
		html_addf(b, "%lld %s", (long long)min, tr("minutes", english));
	else if (min < 48 * 60)
		html_addf(b, "%lld %s", (long long)(min / 60), tr("hours", english));
	else
		html_addf(b, "%lld %s", (long long)(min / 1440), tr("days", english));
	buf_adds(b, ")</small>");
}

/* "/?commune=ID&page=N&lang=en" with only what is needed (unescaped: pass it as %s). */
static void self_url(struct buf *u, const struct commune *c, int page, int english)
{
	buf_reset(u);
	buf_adds(u, "/");
	if (c)
		buf_addf(u, "?commune=%s", c->id);
	if (page > 1)
		buf_addf(u, "%spage=%d", c ? "&" : "?", page);
	if (english)
		buf_adds(u, c || page > 1 ? "&lang=en" : "?lang=en");
}

static void pager(struct buf *b, const struct commune *c, int page, int npages, int english)
{
	struct buf u;

	if (npages <= 1)
		return;
	buf_init(&u, 1024);
	buf_adds(b, "<p class=\"pages\">");
	if (page > 1) {
		self_url(&u, c, page - 1, english);
		html_addf(b, "<a rel=\"prev\" href=\"%s\">‹ %s</a> · ", buf_str(&u),
			  tr("page_prev", english));
	}
	html_addf(b, "%s %d / %d", tr("page", english), page, npages);
	if (page < npages) {
		self_url(&u, c, page + 1, english);
		html_addf(b, " · <a rel=\"next\" href=\"%s\">%s ›</a>", buf_str(&u),
			  tr("page_next", english));
	}
	buf_adds(b, "</p>");
	buf_release(&u);
}

/* "10000 mã: [OK] 9800 · [SLOW] 120 · chưa có kết quả 80" */
static void counts_line(struct buf *b, const int counts[NCOL], int english)
{
	int total = 0, first = 1;

	for (int v = 0; v < NCOL; v++)
		total += counts[v];
	html_addf(b, "<p class=\"counts\">%d %s: ", total, tr("codes", english));
	for (int v = 0; v < VERDICT_COUNT; v++) {
		if (!counts[v])
			continue;
		if (!first)
			buf_adds(b, " · ");
		first = 0;
		html_verdict(b, verdict_name((enum verdict)v));
		html_addf(b, " %d", counts[v]);
	}
	if (counts[NONE])
		html_addf(b, "%s%s %d", first ? "" : " · ", tr("no_result_yet", english),
			  counts[NONE]);
	buf_adds(b, "</p>");
}

/* Rows for codes idx[from .. to). */
static void code_rows(struct buf *b, const struct overview *ov, const struct model *m,
		      const int *idx, int from, int to, int64_t now, int english)
{
	struct buf place;

	html_addf(b, "<div style=\"overflow-x:auto\"><table class=\"codes\"><tr><th>%s</th>"
		  "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>", tr("verdict", english),
		  tr("procedure", english), tr("board", english), tr("place", english),
		  tr("since", english));
	buf_init(&place, 4096);
	for (int k = from; k < to; k++) {
		const struct target *t = &ov->cat->targets[idx[k]];
		int rk = m->rank[idx[k]];

		buf_reset(&place);
		if (place_of(t))
			place_format(place_of(t), &place);
		html_addf(b, "<tr data-target=\"%s\"><td>", t->id);
		if (rk < VERDICT_COUNT)
			html_verdict(b, verdict_name((enum verdict)rk));
		else
			buf_adds(b, "–");
		html_addf(b, "</td><td><a href=\"/target/%s%s\">%s</a></td><td>%s</td><td>%s</td>"
			  "<td>", t->id, english ? "?lang=en" : "", t->procedure,
			  t->board ? or_empty(t->board->location) : "", buf_str(&place));
		if (rk < VERDICT_COUNT)
			since_cell(b, m->since[idx[k]], now, english);
		buf_adds(b, "</td></tr>");
	}
	buf_release(&place);
	buf_adds(b, "</table></div>");
}

static void count_cells(struct buf *b, const int counts[NCOL])
{
	for (int v = 0; v < VERDICT_COUNT; v++)
		if (counts[v])
			html_addf(b, "<td><span class=\"v %s\">%d</span></td>",
				  verdict_name((enum verdict)v), counts[v]);
		else
			buf_adds(b, "<td></td>");
	if (counts[NONE])
		html_addf(b, "<td>%d</td>", counts[NONE]);
	else
		buf_adds(b, "<td></td>");
}

struct commune_sort {
	const struct overview *ov;
	const struct model *m;
};

/* Siblings worst first, then by name: provinces, their districts, their communes. */
static int commune_cmp(const void *x, const void *y, void *ctx)
{
	const struct commune_sort *s = ctx;
	const struct commune *a = &s->ov->communes[*(const int *)x];
	const struct commune *b = &s->ov->communes[*(const int *)y];
	int c;

	if (a->prov != b->prov)
		return s->m->gworst[a->prov] != s->m->gworst[b->prov] ?
		       s->m->gworst[a->prov] - s->m->gworst[b->prov] : a->prov - b->prov;
	if (a->dist != b->dist) {
		int wa = a->dist >= 0 ? s->m->gworst[a->dist] : -1;
		int wb = b->dist >= 0 ? s->m->gworst[b->dist] : -1;

		return wa != wb ? wa - wb : a->dist - b->dist;
	}
	c = s->m->cworst[*(const int *)x] - s->m->cworst[*(const int *)y];
	return c ? c : strcmp(or_empty(a->name), or_empty(b->name));
}

/* Every commune with its counts per verdict, under its province (and district). */
static void commune_table(struct buf *b, const struct overview *ov, const struct model *m,
			  int english)
{
	struct commune_sort s = { ov, m };
	int *order = malloc((size_t)(ov->ncommunes ? ov->ncommunes : 1) * sizeof(*order));
	int prov = -1, dist = -1;
	struct buf u;

	if (!order)
		return;
	for (int c = 0; c < ov->ncommunes; c++)
		order[c] = c;
	qsort_r(order, (size_t)ov->ncommunes, sizeof(*order), commune_cmp, &s);
	html_addf(b, "<h2 id=\"communes\">%s</h2><div style=\"overflow-x:auto\"><table "
		  "class=\"communes\"><tr><th>%s</th>", tr("by_commune", english),
		  tr("place", english));
	for (int v = 0; v < VERDICT_COUNT; v++)
		html_addf(b, "<th>%s</th>", verdict_name((enum verdict)v));
	buf_adds(b, "<th>–</th></tr>");
	buf_init(&u, 1024);
	for (int k = 0; k < ov->ncommunes; k++) {
		const struct commune *c = &ov->communes[order[k]];

		if (c->prov != prov) {
			prov = c->prov;
			dist = -1;
			html_addf(b, "<tr><td style=\"padding-left:0em\">%s</td>",
				  ov->groups[prov].name);
			count_cells(b, m->gcount[prov]);
			buf_adds(b, "</tr>");
		}
		if (c->dist >= 0 && c->dist != dist) {
			dist = c->dist;
			html_addf(b, "<tr><td style=\"padding-left:2em\">%s</td>",
				  ov->groups[dist].name);
			count_cells(b, m->gcount[dist]);
			buf_adds(b, "</tr>");
		}
		self_url(&u, c, 1, english);
		html_addf(b, "<tr data-commune=\"%s\"><td style=\"padding-left:%dem\"><a href=\"%s\">"
			  "%s</a></td>", c->id, c->dist >= 0 ? 4 : 2, buf_str(&u), c->name);
		count_cells(b, m->ccount[order[k]]);
		buf_adds(b, "</tr>");
	}
	buf_release(&u);
	buf_adds(b, "</table></div>");
	free(order);
}

static void changes_table(struct buf *b, const struct model *m, int english)
{
	char when[32];

	html_addf(b, "<h2 id=\"changes\">%s</h2><table class=\"changes\">", tr("changes", english));
	for (int i = 0; i < m->nch; i++) {
		fmt_time(m->ch[i].time_ms, when, sizeof(when));
		html_addf(b, "<tr><td>%s</td><td>%s</td><td><a href=\"/target/%s%s\">%s</a></td>"
			  "<td>%s → ", when, m->ch[i].probe, m->ch[i].target,
			  english ? "?lang=en" : "", m->ch[i].target,
			  m->ch[i].old[0] ? m->ch[i].old : "–");
		html_verdict(b, m->ch[i].now);
		buf_adds(b, "</td></tr>");
	}
	buf_adds(b, "</table>");
}

static int npages_of(int n)
{
	return n <= 0 ? 1 : (n + OVERVIEW_PAGE_ROWS - 1) / OVERVIEW_PAGE_ROWS;
}

/* The whole of a page: the overview (commune < 0) or one commune's codes. */
static void draw_page(struct buf *b, const struct overview *ov, const struct model *m,
		      int commune, int page, const struct buf *incidents, int english)
{
	int64_t now = now_ms();
	struct buf u, title;

	buf_init(&u, 1024);
	buf_init(&title, 4096);
	if (commune < 0) {
		int np = npages_of(m->nbad), from;

		page = page > np ? np : page;
		from = (page - 1) * OVERVIEW_PAGE_ROWS;
		self_url(&u, NULL, page, 0);
		html_begin(b, tr("overview", english), buf_str(&u), english);
		html_addf(b, "<h1>%s</h1>", tr("overview", english));
		counts_line(b, m->counts, english);
		if (page == 1 && incidents)
			buf_add(b, incidents->data ? incidents->data : "", incidents->len);
		html_addf(b, "<h2 id=\"attention\">%s (%d)</h2>", tr("attention", english), m->nbad);
		if (m->nbad) {
			pager(b, NULL, page, np, english);
			code_rows(b, ov, m, m->bad, from,
				  from + OVERVIEW_PAGE_ROWS < m->nbad ? from + OVERVIEW_PAGE_ROWS :
				  m->nbad, now, english);
			pager(b, NULL, page, np, english);
		} else {
			html_addf(b, "<p class=\"all-ok\">%s</p>", tr("all_ok", english));
		}
		if (page == 1) {
			commune_table(b, ov, m, english);
			changes_table(b, m, english);
		}
	} else {
		const struct commune *c = &ov->communes[commune];
		int np = npages_of(c->n), from;
		int *idx = malloc((size_t)(c->n ? c->n : 1) * sizeof(*idx));
		struct model_ctx ctx = { (struct model *)m, ov->cat };

		page = page > np ? np : page;
		from = (page - 1) * OVERVIEW_PAGE_ROWS;
		self_url(&u, c, page, 0);
		buf_addf(&title, "%s", or_empty(c->name));
		if (c->district)
			buf_addf(&title, ", %s", c->district);
		buf_addf(&title, ", %s", or_empty(c->province));
		html_begin(b, buf_str(&title), buf_str(&u), english);
		self_url(&u, NULL, 1, english);
		html_addf(b, "<p><a href=\"%s\">‹ %s</a></p><h1>%s</h1>", buf_str(&u),
			  tr("overview", english), buf_str(&title));
		counts_line(b, m->ccount[commune], english);
		if (idx) {
			memcpy(idx, ov->codes + c->first, (size_t)c->n * sizeof(*idx));
			qsort_r(idx, (size_t)c->n, sizeof(*idx), worst_first, &ctx);
			pager(b, c, page, np, english);
			code_rows(b, ov, m, idx, from, from + OVERVIEW_PAGE_ROWS < c->n ?
				  from + OVERVIEW_PAGE_ROWS : c->n, now, english);
			pager(b, c, page, np, english);
			free(idx);
		}
	}
	html_end(b);
	buf_release(&u);
	buf_release(&title);
}

/* ---- the pages kept ---- */

static struct page *page_find(struct overview *ov, int english, int commune, int page)
{
	for (int i = 0; i < OVERVIEW_CACHE_PAGES; i++) {
		struct page *p = &ov->pages[i];

		if (p->used && p->english == english && p->commune == commune && p->page == page)
			return p;
	}
	return NULL;
}

/* A slot for a new page: a free one, or the least recently used. */
static struct page *page_slot(struct overview *ov)
{
	struct page *lru = &ov->pages[0];

	for (int i = 0; i < OVERVIEW_CACHE_PAGES; i++) {
		if (!ov->pages[i].used)
			return &ov->pages[i];
		if (ov->pages[i].last_use < lru->last_use)
			lru = &ov->pages[i];
	}
	return lru;
}

/* 1 when p still shows the states as of mark, its incidents are recent and its times too. */
static int page_fresh(const struct page *p, int64_t mark)
{
	int64_t now = mono_ms();

	return p->mark == mark && now - p->built_ms < OVERVIEW_MAX_AGE_S * 1000 &&
	       (!p->has_incidents || now - p->checked_ms < OVERVIEW_INCIDENTS_MS);
}

/* The page as kept, or 304 (under ov->lock). */
static void page_serve(struct overview *ov, struct page *p, const struct dash_req *q,
		       struct reply *r)
{
	const char *tag = q->gzip_ok ? p->etag_gz : p->etag;

	p->last_use = ++ov->uses;
	snprintf(r->etag, sizeof(r->etag), "%s", tag);
	r->vary_encoding = 1;
	if (httpcache_match(q->if_none_match, tag)) {
		r->status = 304;
		return;
	}
	if (q->gzip_ok) {
		buf_add(&r->body, p->gz.data, p->gz.len);
		r->encoding = "gzip";
	} else {
		buf_add(&r->body, p->raw.data, p->raw.len);
	}
}

static int find_commune(const struct overview *ov, const char *id)
{
	struct place_ix key = { id, 0 }, *hit;

	hit = bsearch(&key, ov->places, ov->nplaces, sizeof(*ov->places), place_ix_cmp);
	return hit ? hit->commune : -1;
}

/*
 * The open incidents' part of the first page, read again when older than
 * OVERVIEW_INCIDENTS_MS (holding ov->draw). NULL on a statement error.
 */
static const struct incidents_part *incidents_get(struct overview *ov, struct store_reader *rd,
						  int english)
{
	struct incidents_part *x = &ov->incidents[english ? 1 : 0];
	int64_t now = mono_ms();

	if (x->read_ms && now - x->read_ms < OVERVIEW_INCIDENTS_MS)
		return x;
	buf_release(&x->html);
	buf_init(&x->html, OVERVIEW_PAGE_MAX);
	incidents_open_html(store_reader_alerts(rd), ov->cat, english, &x->html);
	if (!store_reader_ok(rd) || x->html.overflow) {
		x->read_ms = 0;
		return NULL;
	}
	x->hash = httpcache_hash(HTTPCACHE_HASH_INIT, buf_str(&x->html), x->html.len);
	x->read_ms = now;
	return x;
}

/*
 * Answer from page (english, commune, page) as of mark, drawing it first
 * unless only its incidents were due and they have not changed (holding
 * ov->draw).
 */
static void draw_and_keep(struct overview *ov, struct store_reader *rd, int64_t mark,
			  int english, int commune, int page, const struct dash_req *q,
			  struct reply *r)
{
	const struct incidents_part *inc = NULL;
	struct buf raw, gz;
	struct model *m;
	struct page *p;
	uint64_t h;

	if (commune < 0 && page == 1 && !(inc = incidents_get(ov, rd, english)))
		return;		/* a statement error, kept in rd: the caller answers 500 */
	pthread_mutex_lock(&ov->lock);
	p = page_find(ov, english, commune, page);
	if (p && p->mark == mark && mono_ms() - p->built_ms < OVERVIEW_MAX_AGE_S * 1000 &&
	    (!inc || p->incidents == inc->hash)) {
		p->checked_ms = inc ? inc->read_ms : mono_ms();	/* as they were: no drawing */
		page_serve(ov, p, q, r);
		pthread_mutex_unlock(&ov->lock);
		return;
	}
	pthread_mutex_unlock(&ov->lock);
	if (!(m = model_get(ov, rd, mark)))
		return;
	buf_init(&raw, OVERVIEW_PAGE_MAX);
	buf_init(&gz, OVERVIEW_PAGE_MAX);
	draw_page(&raw, ov, m, commune, page, inc ? &inc->html : NULL, english);
	if (raw.overflow || httpcache_gzip(raw.data, raw.len, HTTPCACHE_GZIP_KEPT, &gz) < 0) {
		r->body.overflow = 1;	/* the caller answers "too large" */
		buf_release(&raw);
		buf_release(&gz);
		return;
	}
	h = httpcache_hash(HTTPCACHE_HASH_INIT, raw.data, raw.len);
	pthread_mutex_lock(&ov->lock);
	p = page_find(ov, english, commune, page);
	if (!p)
		p = page_slot(ov);
	buf_release(&p->raw);
	buf_release(&p->gz);
	p->raw = raw;
	p->gz = gz;
	p->used = 1;
	p->english = english;
	p->commune = commune;
	p->page = page;
	p->mark = mark;
	p->has_incidents = inc != NULL;
	p->incidents = inc ? inc->hash : 0;
	p->built_ms = mono_ms();
	p->checked_ms = inc ? inc->read_ms : p->built_ms;
	httpcache_etag(p->etag, 'o', h, NULL);
	httpcache_etag(p->etag_gz, 'o', h, "-gz");
	page_serve(ov, p, q, r);
	pthread_mutex_unlock(&ov->lock);
}

void overview_get(struct overview *ov, struct store_reader *rd, const struct dash_req *q,
		  struct reply *r)
{
	int commune = -1, page = 1, drawing;
	int64_t mark;
	struct page *p;
	long n;

	if (q->page && text_to_long(q->page, 1, 1000000, &n) == 0)
		page = (int)n;
	if (q->commune && (commune = find_commune(ov, q->commune)) < 0) {
		r->status = 404;
		html_begin(&r->body, "404", "/", q->english);
		html_addf(&r->body, "<p>%s '%s'.</p>", tr("no_commune", q->english), q->commune);
		html_end(&r->body);
		return;
	}
	/* first the mark, then the states: a page is never older than its mark */
	if (store_changes_mark(rd, &mark) < 0)
		return;
	pthread_mutex_lock(&ov->lock);
	p = page_find(ov, q->english, commune, page);
	if (p && page_fresh(p, mark)) {
		page_serve(ov, p, q, r);
		pthread_mutex_unlock(&ov->lock);
		return;
	}
	drawing = pthread_mutex_trylock(&ov->draw) == 0;
	if (!drawing && p && mono_ms() - p->built_ms < OVERVIEW_MAX_AGE_S * 1000) {
		/* the page as it was, while another thread draws */
		page_serve(ov, p, q, r);
		pthread_mutex_unlock(&ov->lock);
		return;
	}
	pthread_mutex_unlock(&ov->lock);
	if (!drawing) {
		pthread_mutex_lock(&ov->draw);
		pthread_mutex_lock(&ov->lock);
		p = page_find(ov, q->english, commune, page);
		if (p && page_fresh(p, mark)) {
			page_serve(ov, p, q, r);	/* drawn meanwhile */
			pthread_mutex_unlock(&ov->lock);
			pthread_mutex_unlock(&ov->draw);
			return;
		}
		pthread_mutex_unlock(&ov->lock);
	}
	draw_and_keep(ov, rd, mark, q->english, commune, page, q, r);
	pthread_mutex_unlock(&ov->draw);
}
