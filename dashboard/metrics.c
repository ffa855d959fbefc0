/* metrics.c - /metrics in the Prometheus text format, its labels bounded by the catalog (see metrics.h). */
#include "metrics.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpcache.h"
#include "server.h"
#include "store.h"
#include "../alerts/astore.h"
#include "../targets/verdict.h"
#include "../common/log.h"
#include "../common/text.h"
#include "../common/banned.h"

/*
 * qrwatch_target_verdict's numbers: 0 is OK and higher is worse, the
 * reverse of the precedence in DESIGN.md, so that max() over probes is the
 * worst. Documented in docs/api.md: never renumber.
 */
static const enum verdict by_code[] = {
	VERDICT_OK, VERDICT_SLOW, VERDICT_BROKEN_FLOW, VERDICT_DOWN, VERDICT_HANG,
	VERDICT_STALE, VERDICT_TAMPERED, VERDICT_UNREADABLE,
};
#define NVERDICTS ((int)(sizeof(by_code) / sizeof(by_code[0])))
#define UNCHECKED NVERDICTS	/* a code no probe has checked yet */
#define NCODES (NVERDICTS + 1)

/* Labels of a group of codes: one (province, commune, procedure). */
struct mgroup {
	char *labels;		/* province="…",commune="…",procedure="…", escaped */
	size_t len;
};

struct metrics {
	const struct catalog *cat;
	char *server_labels;	/* province="…" or NULL: on the server's own series */
	char *version;		/* escaped */
	struct mgroup *groups;
	size_t ngroups;
	uint32_t *group_of;	/* per catalog target */
};

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int code_of(const char *name)
{
	enum verdict v;

	if (verdict_parse(name, &v) < 0)
		return -1;
	for (int i = 0; i < NVERDICTS; i++)
		if (by_code[i] == v)
			return i;
	return -1;
}

static const char *code_name(int code)
{
	return code < NVERDICTS ? verdict_name(by_code[code]) : "UNCHECKED";
}

/*
 * Append s as a label value: backslash, double quote and line feed
 * escaped as the exposition format says. Place names are Vietnamese text
 * from the catalog; bytes that are not UTF-8 (Prometheus refuses them)
 * become '?'. Errors stay in b (overflow).
 */
static void label_value(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	int utf8 = utf8_valid(s, n);
	const char *run = s;

	if (utf8 && !strpbrk(s, "\\\"\n")) {
		buf_add(b, s, n);
		return;
	}
	for (const char *p = s; *p; p++) {
		const char *rep = NULL;

		if (*p == '\\')
			rep = "\\\\";
		else if (*p == '"')
			rep = "\\\"";
		else if (*p == '\n')
			rep = "\\n";
		else if (!utf8 && (unsigned char)*p >= 0x80)
			rep = "?";
		if (rep) {
			buf_add(b, run, (size_t)(p - run));
			buf_adds(b, rep);
			run = p + 1;
		}
	}
	buf_adds(b, run);
}

/* name="value", after a comma unless first. */
static void label(struct buf *b, int first, const char *name, const char *value)
{
	if (!first)
		buf_addc(b, ',');
	buf_adds(b, name);
	buf_adds(b, "=\"");
	label_value(b, value);
	buf_addc(b, '"');
}

/* A label text made once, malloc'ed; NULL when out of memory. */
static char *labels_dup(struct buf *b, size_t *len)
{
	char *s = b->overflow ? NULL : buf_detach(b, len);

	buf_release(b);
	return s;
}

/* ---- the labels, worked out once from the catalog ---- */

struct gkey {
	const char *province, *commune, *procedure;
	size_t pos;
};

static int gkey_cmp(const void *pa, const void *pb)
{
	const struct gkey *a = pa, *b = pb;
	int c = strcmp(a->province, b->province);

	if (!c)
		c = strcmp(a->commune, b->commune);
	if (!c)
		c = strcmp(a->procedure, b->procedure);
	return c;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->ngroups; i++)
		free(m->groups[i].labels);
	free(m->groups);
	free(m->group_of);
	free(m->server_labels);
	free(m->version);
	free(m);
}

struct metrics *metrics_new(const struct catalog *cat, const char *province,
			    const char *version, struct err *e)
{
	size_t n = cat->ntargets;
	struct metrics *m = calloc(1, sizeof(*m));
	struct gkey *k = calloc(n ? n : 1, sizeof(*k));
	struct buf b;
	size_t len;

	if (!m || !k)
		goto oom;
	m->cat = cat;
	m->group_of = calloc(n ? n : 1, sizeof(*m->group_of));
	m->groups = calloc(n ? n : 1, sizeof(*m->groups));
	if (!m->group_of || !m->groups)
		goto oom;
	buf_init(&b, 4096);
	label_value(&b, version);
	if (!(m->version = labels_dup(&b, &len)))
		goto oom;
	if (province && province[0]) {
		buf_init(&b, 4096);
		label(&b, 1, "province", province);
		if (!(m->server_labels = labels_dup(&b, &len)))
			goto oom;
	}
	for (size_t i = 0; i < n; i++) {
		const struct target *t = &cat->targets[i];
		const struct place *p = t->board ? t->board->place : NULL;

		k[i].province = province && province[0] ? province :
				p && p->province ? p->province : "";
		k[i].commune = p && p->commune ? p->commune : "";
		k[i].procedure = t->procedure ? t->procedure : "";
		k[i].pos = i;
	}
	qsort(k, n, sizeof(*k), gkey_cmp);
	for (size_t i = 0; i < n; i++) {
		if (!i || gkey_cmp(&k[i - 1], &k[i])) {
			struct mgroup *g = &m->groups[m->ngroups++];

			buf_init(&b, 64 * 1024);
			label(&b, 1, "province", k[i].province);
			label(&b, 0, "commune", k[i].commune);
			label(&b, 0, "procedure", k[i].procedure);
			if (!(g->labels = labels_dup(&b, &g->len)))
				goto oom;
		}
		m->group_of[k[i].pos] = (uint32_t)(m->ngroups - 1);
	}
	free(k);
	return m;
oom:
	free(k);
	metrics_free(m);
	err_set(e, "out of memory for the labels of /metrics");
	return NULL;
}

/* ---- one answer ---- */

/* One (probe, target) of the catalog with its latest result. */
struct pair {
	uint32_t target;	/* in the catalog */
	uint32_t probe;		/* in the scrape's probe names */
	int64_t total_us;
	int code;
};

struct scrape {
	const struct catalog *cat;
	struct pair *p;
	size_t n, cap;
	char (*probe)[65];	/* the probes' names, each once */
	size_t nprobes, probes_cap, last;
	uint32_t *slot;		/* open addressing over them: index + 1, 0 free */
	size_t nslots;		/* a power of two, at least twice nprobes */
	int oom;
};

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t want = *cap ? *cap * 2 : 1024;
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*arr, want * size);
	if (!p)
		return -1;
	*arr = p;
	*cap = want;
	return 0;
}

static size_t name_hash(const char *k)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*k)
		h = (h ^ (unsigned char)*k++) * 16777619u;
	return h;
}

static size_t free_slot(const struct scrape *s, const char *name, long *found)
{
	size_t i = name_hash(name) & (s->nslots - 1);

	*found = -1;
	while (s->slot[i]) {
		if (!strcmp(s->probe[s->slot[i] - 1], name)) {
			*found = (long)s->slot[i] - 1;
			break;
		}
		i = (i + 1) & (s->nslots - 1);
	}
	return i;
}

/* The index of a probe's name, added when new; -1 when out of memory. */
static long probe_index(struct scrape *s, const char *name)
{
	long found;
	size_t i;

	if (s->nprobes && !strcmp(s->probe[s->last], name))
		return (long)s->last;	/* rows of one probe often come together */
	if (2 * (s->nprobes + 1) > s->nslots) {
		size_t n = s->nslots ? s->nslots * 2 : 1024;
		uint32_t *old = s->slot;

		if (!(s->slot = calloc(n, sizeof(*s->slot)))) {
			s->slot = old;
			return -1;
		}
		free(old);
		s->nslots = n;
		for (size_t k = 0; k < s->nprobes; k++)
			s->slot[free_slot(s, s->probe[k], &found)] = (uint32_t)k + 1;
	}
	i = free_slot(s, name, &found);
	if (found < 0) {
		if (grow((void **)&s->probe, &s->probes_cap, s->nprobes, sizeof(*s->probe)) < 0)
			return -1;
		snprintf(s->probe[s->nprobes], sizeof(*s->probe), "%s", name);
		found = (long)s->nprobes++;
		s->slot[i] = (uint32_t)found + 1;
	}
	s->last = (size_t)found;
	return found;
}

static int take_pair(void *ctx, const struct store_latest_brief *l)
{
	struct scrape *s = ctx;
	const struct target *t = catalog_target(s->cat, l->target);
	int code = code_of(l->verdict);
	struct pair *p;
	long probe;

	if (!t || code < 0)
		return 0;	/* gone from the catalog: no series for it */
	if ((probe = probe_index(s, l->probe)) < 0 ||
	    grow((void **)&s->p, &s->cap, s->n, sizeof(*s->p)) < 0)
		goto oom;
	p = &s->p[s->n++];
	p->target = (uint32_t)(t - s->cat->targets);
	p->probe = (uint32_t)probe;
	p->total_us = l->total_us > 0 ? l->total_us : 0;
	p->code = code;
	return 0;
oom:
	s->oom = 1;
	return -1;
}

/* By target in the catalog's order, then by probe as first seen. */
static int pair_cmp(const void *pa, const void *pb)
{
	const struct pair *a = pa, *b = pb;

	if (a->target != b->target)
		return a->target < b->target ? -1 : 1;
	return (a->probe > b->probe) - (a->probe < b->probe);
}

/* Where the lines go, and how many series they are. */
struct out {
	struct buf *b;
	const struct metrics *m;
	size_t series;
};

static void family(struct out *o, const char *name, const char *type, const char *help)
{
	buf_addf(o->b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{the server's labels[,extra]} */
static void server_series(struct out *o, const char *name, const char *extra)
{
	const char *own = o->m->server_labels;

	buf_adds(o->b, name);
	if (own || extra) {
		buf_addc(o->b, '{');
		if (own)
			buf_adds(o->b, own);
		if (own && extra)
			buf_addc(o->b, ',');
		if (extra)
			buf_adds(o->b, extra);
		buf_addc(o->b, '}');
	}
	o->series++;
}

static void server_int(struct out *o, const char *name, const char *extra, long long v)
{
	server_series(o, name, extra);
	buf_addf(o->b, " %lld\n", v);
}

static void server_num(struct out *o, const char *name, const char *extra, double v)
{
	server_series(o, name, extra);
	buf_addf(o->b, " %.3f\n", v);
}

/* A one-sample family of the server's. */
static void server_one(struct out *o, const char *name, const char *type, const char *help,
		       long long v)
{
	family(o, name, type, help);
	server_int(o, name, NULL, v);
}

static void add_u64(struct buf *b, uint64_t v)
{
	char t[24];
	size_t i = sizeof(t);

	do
		t[--i] = (char)('0' + v % 10);
	while (v /= 10);
	buf_add(b, t + i, sizeof(t) - i);
}

/* Microseconds as seconds with six decimals, without printf per line. */
static void add_seconds(struct buf *b, int64_t us)
{
	char f[7];
	int64_t r = us % 1000000;

	add_u64(b, (uint64_t)(us / 1000000));
	f[0] = '.';
	for (int i = 6; i >= 1; i--) {
		f[i] = (char)('0' + r % 10);
		r /= 10;
	}
	buf_add(b, f, sizeof(f));
}

enum pair_value { PV_OK, PV_VERDICT, PV_SECONDS };

/* One line per (probe, target): name{province,commune,procedure,probe,target} value */
static void pair_family(struct out *o, const struct scrape *s, const char *name,
			enum pair_value what)
{
	const struct metrics *m = o->m;
	struct buf *b = o->b;
	size_t nlen = strlen(name);

	for (size_t i = 0; i < s->n && !b->overflow; i++) {
		const struct pair *p = &s->p[i];
		const struct mgroup *g = &m->groups[m->group_of[p->target]];

		buf_add(b, name, nlen);
		buf_addc(b, '{');
		buf_add(b, g->labels, g->len);
		label(b, 0, "probe", s->probe[p->probe]);
		label(b, 0, "target", s->cat->targets[p->target].id);
		buf_add(b, "} ", 2);
		if (what == PV_OK)
			buf_addc(b, verdict_available(by_code[p->code]) ? '1' : '0');
		else if (what == PV_VERDICT)
			buf_addc(b, (char)('0' + p->code));
		else
			add_seconds(b, p->total_us);
		buf_addc(b, '\n');
	}
	o->series += s->n;
}

static void targets_part(struct out *o, const struct scrape *s)
{
	const struct metrics *m = o->m;
	size_t ng = m->ngroups, nt = s->cat->ntargets;
	unsigned char *worst = malloc(nt ? nt : 1);
	uint32_t *count = calloc(ng ? ng * NCODES : 1, sizeof(*count));

	if (!worst || !count) {
		free(worst);
		free(count);
		o->b->overflow = 1;
		buf_release(o->b);
		return;
	}
	memset(worst, UNCHECKED, nt);
	for (size_t i = 0; i < s->n; i++) {
		unsigned char *w = &worst[s->p[i].target];

		if (*w == UNCHECKED || s->p[i].code > *w)
			*w = (unsigned char)s->p[i].code;
	}
	for (size_t i = 0; i < nt; i++)
		count[(size_t)m->group_of[i] * NCODES + worst[i]]++;

	family(o, "qrwatch_codes", "gauge", "Posted codes of the catalog by place, procedure and "
	       "the worst latest verdict over their probes (UNCHECKED: no result yet).");
	for (size_t g = 0; g < ng; g++)
		for (int c = 0; c < NCODES; c++) {
			buf_adds(o->b, "qrwatch_codes{");
			buf_add(o->b, m->groups[g].labels, m->groups[g].len);
			buf_addf(o->b, ",verdict=\"%s\"} %u\n", code_name(c), count[g * NCODES + c]);
			o->series++;
		}
	free(worst);
	free(count);

	family(o, "qrwatch_target_ok", "gauge", "1 when the latest verdict of the code from the "
	       "probe is OK or SLOW, else 0.");
	pair_family(o, s, "qrwatch_target_ok", PV_OK);
	family(o, "qrwatch_target_verdict", "gauge", "The latest verdict of the code from the "
	       "probe: 0 OK, 1 SLOW, 2 BROKEN_FLOW, 3 DOWN, 4 HANG, 5 STALE, 6 TAMPERED, "
	       "7 UNREADABLE.");
	pair_family(o, s, "qrwatch_target_verdict", PV_VERDICT);
	family(o, "qrwatch_check_seconds", "gauge", "How long the latest check of the code from "
	       "the probe took.");
	pair_family(o, s, "qrwatch_check_seconds", PV_SECONDS);
}

static void probes_part(struct out *o, struct store_reader *rd)
{
	struct store_probe *ps = malloc(METRICS_PROBES_MAX * sizeof(*ps));
	int n = ps ? store_probes(rd, NULL, ps, METRICS_PROBES_MAX) : 0;
	int64_t newest = 0;
	struct buf pl;
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "qrwatch_probe_last_batch_timestamp_seconds", "gauge",
		  "When the server took the probe's newest batch (Unix time)." },
		{ "qrwatch_probe_clock_offset_seconds", "gauge",
		  "The server's clock minus the probe's at its newest batch." },
		{ "qrwatch_probe_spool_pending_bytes", "gauge",
		  "Results the probe holds unsent, as its newest batch said." },
		{ "qrwatch_probe_spool_dropped_total", "counter",
		  "Results the probe's full spool dropped, as its newest batch said." },
	};

	buf_init(&pl, 1024);
	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		family(o, fam[f].name, fam[f].type, fam[f].help);
		for (int i = 0; i < n; i++) {
			const struct store_probe *p = &ps[i];

			buf_reset(&pl);
			label(&pl, 1, "probe", p->id);
			if (f == 0)
				server_num(o, fam[f].name, buf_str(&pl), (double)p->last_seen_ms / 1000);
			else if (f == 1)
				server_num(o, fam[f].name, buf_str(&pl),
					   (double)p->clock_offset_ms / 1000);
			else if (f == 2)
				server_int(o, fam[f].name, buf_str(&pl), p->spool_pending);
			else
				server_int(o, fam[f].name, buf_str(&pl), p->spool_dropped);
			if (p->last_seen_ms > newest)
				newest = p->last_seen_ms;
		}
	}
	buf_release(&pl);
	free(ps);
	family(o, "qrwatch_last_batch_timestamp_seconds", "gauge", "When the server took the "
	       "newest batch from any probe (Unix time; 0 before the first).");
	server_num(o, "qrwatch_last_batch_timestamp_seconds", NULL, (double)newest / 1000);
}

static void alerts_part(struct out *o, struct dash *d, struct store_reader *rd)
{
	struct astore *as = store_reader_alerts(rd);
	int nt, nu, ns, nc;
	int64_t pending, sent, failed;

	if (astore_open_counts(as, &nt, &nu, &ns, &nc) == 0) {
		family(o, "qrwatch_incidents_open", "gauge", "Open incidents by kind.");
		server_int(o, "qrwatch_incidents_open", "kind=\"target\"", nt);
		server_int(o, "qrwatch_incidents_open", "kind=\"uplink\"", nu);
		server_int(o, "qrwatch_incidents_open", "kind=\"silent\"", ns);
		server_int(o, "qrwatch_incidents_open", "kind=\"cert\"", nc);
	}
	if (astore_note_counts(as, &pending, &sent, &failed) == 0) {
		family(o, "qrwatch_notifications", "gauge", "Notifications in the outbox by state.");
		server_int(o, "qrwatch_notifications", "state=\"pending\"", pending);
		server_int(o, "qrwatch_notifications", "state=\"sent\"", sent);
		server_int(o, "qrwatch_notifications", "state=\"failed\"", failed);
	}
	if (d->outbox) {
		/* counters of one thread each, read without its lock: never torn, at worst one behind */
		const struct outbox *ob = d->outbox;

		server_one(o, "qrwatch_notifications_delivered_total", "counter",
			   "Notifications a channel accepted since the start.",
			   (long long)__atomic_load_n(&ob->delivered, __ATOMIC_RELAXED));
		server_one(o, "qrwatch_notification_retries_total", "counter",
			   "Deliveries that failed and will be tried again, since the start.",
			   (long long)__atomic_load_n(&ob->retried, __ATOMIC_RELAXED));
		server_one(o, "qrwatch_notifications_given_up_total", "counter",
			   "Notifications marked undeliverable since the start.",
			   (long long)__atomic_load_n(&ob->given_up, __ATOMIC_RELAXED));
	}
}

static void server_part(struct out *o, struct dash *d)
{
	struct server_stats st;
	unsigned long wal;
	char extra[64];

	server_one(o, "qrwatch_rrd_updates_total", "counter", "Results written to their RRD "
		   "files since the start.",
		   (long long)__atomic_load_n(&d->rrd->written, __ATOMIC_RELAXED));
	server_one(o, "qrwatch_rrd_refused_total", "counter", "Results not newer than their RRD "
		   "file's last update.",
		   (long long)__atomic_load_n(&d->rrd->refused, __ATOMIC_RELAXED));
	pthread_mutex_lock(&d->db->wal_lock);
	wal = d->db->wal_checkpoints;
	pthread_mutex_unlock(&d->db->wal_lock);
	server_one(o, "qrwatch_wal_checkpoints_total", "counter", "SQLite WAL checkpoints that "
		   "copied pages back into the database, since the start.", (long long)wal);
	if (!d->srv)
		return;
	server_get_stats(d->srv, &st);
	family(o, "qrwatch_ingest_answers_total", "counter", "Answers to probes' batches by "
	       "HTTP status (other: any status not listed).");
	for (size_t i = 0; i < SERVER_INGEST_NCODES; i++) {
		if (st.ingest_answers[i].code)
			snprintf(extra, sizeof(extra), "code=\"%d\"", st.ingest_answers[i].code);
		else
			snprintf(extra, sizeof(extra), "code=\"other\"");
		server_int(o, "qrwatch_ingest_answers_total", extra,
			   (long long)st.ingest_answers[i].n);
	}
	server_one(o, "qrwatch_ingest_batches_total", "counter", "Batches applied and "
		   "acknowledged since the start.", (long long)st.ingest.batches);
	server_one(o, "qrwatch_ingest_results_total", "counter", "New results stored since the "
		   "start (a resent one is not counted again).", (long long)st.ingest.results);
	server_one(o, "qrwatch_ingest_commits_total", "counter", "Transactions that applied "
		   "them: batches arriving together share one.", (long long)st.ingest.commits);
	server_one(o, "qrwatch_ingest_queue_batches", "gauge", "Batches waiting for the "
		   "committer.", st.ingest.queued);
	server_one(o, "qrwatch_http_connections_total", "counter", "Connections accepted since "
		   "the start.", (long long)st.guard.opened);
	family(o, "qrwatch_http_connections_cut_total", "counter", "Connections closed while "
	       "still sending their request: head or body too late, too many pending from one "
	       "address or in total.");
	server_int(o, "qrwatch_http_connections_cut_total", "reason=\"head_late\"",
		   (long long)st.guard.head_late);
	server_int(o, "qrwatch_http_connections_cut_total", "reason=\"body_late\"",
		   (long long)st.guard.body_late);
	server_int(o, "qrwatch_http_connections_cut_total", "reason=\"per_ip\"",
		   (long long)st.guard.per_ip);
	server_int(o, "qrwatch_http_connections_cut_total", "reason=\"pending\"",
		   (long long)st.guard.pending);
	server_one(o, "qrwatch_http_bodies_cut_total", "counter", "Chunked request bodies cut "
		   "off past max_body_kb.", (long long)st.cut_bodies);
	server_one(o, "qrwatch_login_enabled", "gauge", "1 when the pages need a login.",
		   st.login_on);
	server_one(o, "qrwatch_login_password_checks_total", "counter", "Password checks "
		   "(PBKDF2) run.", (long long)st.login.checks);
	server_one(o, "qrwatch_login_refused_total", "counter", "Logins refused for a wrong "
		   "name or password.", (long long)st.login.refused);
	server_one(o, "qrwatch_login_unknown_user_total", "counter", "Of the refused logins, "
		   "those naming no user.", (long long)st.login.unknown);
	server_one(o, "qrwatch_login_rate_limited_total", "counter", "Logins refused by a rate "
		   "limit, before any check.", (long long)st.login.limited);
	server_one(o, "qrwatch_login_cache_hits_total", "counter", "Logins let in by the cache "
		   "of verified ones.", (long long)st.login.cached);
}

/* The answer gzipped when the client takes it (and said so in its Vary either way). */
static void gzip_body(struct reply *r, int gzip_ok)
{
	struct buf gz;

	r->vary_encoding = 1;
	if (!gzip_ok)
		return;
	buf_init(&gz, METRICS_MAX);
	if (httpcache_gzip(r->body.data, r->body.len, HTTPCACHE_GZIP_FAST, &gz) < 0) {
		/* no worse than before: the text as it is */
		LOG(LOG_LVL_WARN, "metrics-gzip", "/metrics: could not gzip %zu bytes; sent "
		    "as they are", r->body.len);
		return;
	}
	buf_release(&r->body);
	r->body = gz;
	r->encoding = "gzip";
}

void metrics_page(struct dash *d, struct store_reader *rd, int gzip_ok, struct reply *r)
{
	const struct metrics *m = d->metrics;
	int64_t t0 = mono_us();
	struct scrape s;
	struct out o;
	int n;

	buf_release(&r->body);
	buf_init(&r->body, METRICS_MAX);
	r->type = "text/plain; version=0.0.4; charset=utf-8";
	if (!m) {
		r->status = 503;
		buf_adds(&r->body, "no catalog labels\n");
		return;
	}
	memset(&s, 0, sizeof(s));
	s.cat = m->cat;
	o.b = &r->body;
	o.m = m;
	o.series = 0;
	n = store_latest_all(rd, take_pair, &s);
	if (n < 0 || s.oom) {
		r->status = 503;
		buf_reset(&r->body);
		buf_adds(&r->body, s.oom ? "out of memory\n" : "the database could not be read\n");
		goto out;
	}
	/* rows come in the table's order, the fastest to read: list them in the catalog's */
	if (s.n > 1)
		qsort(s.p, s.n, sizeof(*s.p), pair_cmp);
	family(&o, "qrwatch_server_info", "gauge", "Always 1: the server's version, and its "
	       "province when qrwatchd.conf names one.");
	{
		char extra[160];

		snprintf(extra, sizeof(extra), "version=\"%s\"", m->version);
		server_int(&o, "qrwatch_server_info", extra, 1);
	}
	family(&o, "qrwatch_verdict_code", "gauge", "The number qrwatch_target_verdict holds "
	       "for each verdict.");
	for (int c = 0; c < NVERDICTS; c++) {
		buf_addf(o.b, "qrwatch_verdict_code{verdict=\"%s\"} %d\n", code_name(c), c);
		o.series++;
	}
	targets_part(&o, &s);
	probes_part(&o, rd);
	alerts_part(&o, d, rd);
	server_part(&o, d);
	family(&o, "qrwatch_metrics_series", "gauge", "Series in this answer, this one included.");
	server_int(&o, "qrwatch_metrics_series", NULL, (long long)o.series + 2);
	family(&o, "qrwatch_metrics_render_seconds", "gauge", "How long this answer took to make.");
	server_series(&o, "qrwatch_metrics_render_seconds", NULL);
	buf_addf(o.b, " %.6f\n", (double)(mono_us() - t0) / 1e6);
	if (r->body.overflow)
		LOG(LOG_LVL_ERROR, "metrics-size", "/metrics: %zu (probe, target) pairs make more "
		    "than %u MiB (METRICS_MAX); the answer is a 500", s.n, METRICS_MAX >> 20);
	else
		gzip_body(r, gzip_ok);
out:
	free(s.p);
	free(s.probe);
	free(s.slot);
}
