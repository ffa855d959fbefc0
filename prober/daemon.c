/* daemon.c - the probe's single-threaded loop over libcurl multi (see daemon.h). */
#include "daemon.h"
#include "emulate.h"

#include <errno.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "check.h"
#include "fetch.h"
#include "push.h"
#include "spool.h"
#include "../common/log.h"
#include "../targets/catalog.h"
#include "../common/banned.h"

#define MAX_WAIT_MS 1000	/* the loop looks at signals at least this often */

static volatile sig_atomic_t want_stop, want_reload;

static void on_stop(int sig)
{
	(void)sig;
	want_stop = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	want_reload = 1;
}

/*
 * What this probe does of a target (the catalog's board `probe` and the
 * target's `checked_from`): all of it, its board only, its web flow only
 * (from the registered payload: the board is another probe's), or nothing.
 */
enum role { ROLE_ALL, ROLE_BOARD, ROLE_FLOW, ROLE_NONE };

static enum role role_of(const struct catalog *cat, const struct target *t, const char *me)
{
	int board = catalog_reads_board(t, me);

	if (t->kind != TARGET_URL)
		return board ? ROLE_ALL : ROLE_NONE;	/* no flow: the board is all */
	if (!catalog_walks_flow(cat, t, me))
		return board ? ROLE_BOARD : ROLE_NONE;
	if (board)
		return ROLE_ALL;
	return t->payload ? ROLE_FLOW : ROLE_NONE;
}

struct slot {
	const struct target *t;		/* NULL: a retired slot, idle */
	int64_t next_due_us;
	struct check *running;
	struct catalog *run_cat;	/* the catalog the running check's target lives in */
	int retired;			/* the target left the catalog; its last check runs on */
	struct board_memo *memo;	/* the board's last reading (its own allocation: a
					   running check holds it across a reload) */
	enum role role;			/* what this probe does of the target */
};

struct probe {
	const struct probe_config *cfg;
	char refused_path[1100];	/* spool_dir/refused.jsonl */
	char unread_dir[1100];		/* spool_dir/unread: boards no code was read on */
	struct catalog *cat;
	struct catalog **old;		/* earlier catalogs that running checks still use */
	size_t nold;
	struct slot *slots;
	size_t nslots;
	int running;
	CURLM *m;
	struct spool *spool;
	struct check_env env;
	struct push_cfg pcfg;
	struct pusher pusher;
	struct fetcher fetcher;
	int64_t next_push_us, last_flush_us;
	unsigned long checks_done;
};

/* Spread a target's checks: interval +/- 10%. */
static int64_t jittered(long interval_s)
{
	int64_t us = (int64_t)interval_s * 1000000;
	int64_t spread = us / 10;

	return us - spread + (int64_t)(random() % (spread * 2 + 1));
}

/* Free an earlier catalog once no running check uses it. */
static void release_old(struct probe *p)
{
	for (size_t i = 0; i < p->nold;) {
		int used = 0;

		for (size_t k = 0; k < p->nslots && !used; k++)
			used = p->slots[k].running && p->slots[k].run_cat == p->old[i];
		if (used) {
			i++;
			continue;
		}
		catalog_free(p->old[i]);
		p->old[i] = p->old[--p->nold];
	}
}

/*
 * Load the catalog and switch to it at once: new checks start under it,
 * while checks that are running finish under the catalog they began with
 * (kept until the last of them ends). A target that left the catalog keeps
 * a retired slot until its running check ends; its result is kept too.
 */
static int load_catalog(struct probe *p)
{
	struct buf errs;
	struct catalog *cat, **old;
	struct slot *slots;
	size_t n, extra = 0, nothing = 0;
	int64_t now = check_now_us();

	buf_init(&errs, 64 * 1024);
	cat = catalog_load(p->cfg->catalog, &errs);
	if (!cat) {
		LOG(LOG_LVL_ERROR, NULL, "catalog not loaded, keeping the previous one: %s",
		    buf_str(&errs));
		buf_release(&errs);
		return -1;
	}
	buf_release(&errs);
	for (size_t k = 0; k < p->nslots; k++)
		if (p->slots[k].running && !catalog_target(cat, p->slots[k].t->id))
			extra++;
	n = cat->ntargets + extra;
	slots = calloc(n ? n : 1, sizeof(*slots));
	old = p->cat ? realloc(p->old, (p->nold + 1) * sizeof(*p->old)) : p->old;
	if (!slots || (p->cat && !old)) {
		free(slots);
		catalog_free(cat);
		LOG(LOG_LVL_ERROR, NULL, "catalog not loaded, keeping the previous one: "
		    "out of memory");
		return -1;
	}
	p->old = old;
	for (size_t i = 0; i < cat->ntargets; i++) {
		const struct target *t = &cat->targets[i];

		slots[i].t = t;
		slots[i].role = role_of(cat, t, p->cfg->probe_id);
		/* first checks spread over the first minute (or interval) */
		slots[i].next_due_us = now + (int64_t)(random() %
			((t->interval_s < 60 ? t->interval_s : 60) * 1000000L / 10 + 1));
		if (slots[i].role == ROLE_NONE) {
			slots[i].next_due_us = INT64_MAX;	/* other probes' */
			nothing++;
		}
		/* named to walk a flow it cannot: qrwatch lint says so too */
		if (slots[i].role == ROLE_NONE && t->kind == TARGET_URL && t->from != FROM_ALL &&
		    catalog_walks_flow(cat, t, p->cfg->probe_id))
			LOG(LOG_LVL_WARN, NULL, "target '%s': its board is probe '%s''s and it "
			    "has no 'payload', so this probe has no address to walk its flow "
			    "from", t->id, t->board && t->board->probe ? t->board->probe : "?");
	}
	extra = cat->ntargets;
	for (size_t k = 0; k < p->nslots; k++) {
		struct slot *o = &p->slots[k];
		/* o->t lives in the current catalog, or (retired) in the running check's */
		const struct target *t = o->t ? catalog_target(cat, o->t->id) : NULL;
		struct slot *sl = t ? &slots[t - cat->targets] : NULL;

		if (!o->running && !sl) {
			if (o->memo)	/* gone, and idle */
				board_memo_release(o->memo);
			free(o->memo);
			continue;
		}
		if (!sl) {
			sl = &slots[extra++];	/* gone, but its check runs on */
			sl->t = o->t;
			sl->role = o->role;
			sl->retired = 1;
			sl->next_due_us = INT64_MAX;
		} else if (!o->retired && sl->role != ROLE_NONE && o->role == sl->role) {
			sl->next_due_us = o->next_due_us;	/* the schedule goes on */
		}
		sl->running = o->running;
		sl->run_cat = o->run_cat;
		sl->memo = o->memo;
	}
	free(p->slots);
	if (p->cat)
		p->old[p->nold++] = p->cat;
	p->cat = cat;
	p->slots = slots;
	p->nslots = extra;
	release_old(p);
	LOG(LOG_LVL_INFO, NULL, "catalog '%s': %zu targets, %zu of them checked here "
	    "(the others' boards and flows are other probes')", p->cfg->catalog,
	    cat->ntargets, cat->ntargets - nothing);
	return 0;
}

static double results_per_hour(const struct catalog *cat)
{
	double r = 0;

	for (size_t i = 0; i < cat->ntargets; i++)
		r += 3600.0 / (double)cat->targets[i].interval_s;
	return r;
}

static void flush(struct probe *p, int64_t now)
{
	struct err e;

	if (!spool_buffered(p->spool))
		return;
	if (spool_flush(p->spool, &e) < 0)
		LOG(LOG_LVL_ERROR, "spool-flush", "results not yet on disk: %s", e.msg);
	p->last_flush_us = now;
}

static void keep_result(struct probe *p, struct slot *sl, int64_t now)
{
	const struct result *r = check_result(sl->running);
	struct buf json;
	struct err e;

	buf_init(&json, SPOOL_RECORD_MAX);
	if (result_to_json(r, &json) < 0)
		LOG(LOG_LVL_ERROR, "spool-append", "result of '%s' lost: too large",
		    r->target);
	else if (spool_append(p->spool, json.data, json.len, &e) < 0)
		LOG(LOG_LVL_ERROR, "spool-append", "result of '%s' lost: %s", r->target,
		    e.msg);
	else if (sl->memo && sl->memo->valid)
		LOG(LOG_LVL_INFO, NULL, "kept result for %s: %s (board read %lu times, "
		    "unchanged %lu times)", r->target, verdict_name(r->verdict),
		    sl->memo->decodes, sl->memo->reuses);
	else
		LOG(LOG_LVL_INFO, NULL, "kept result for %s: %s", r->target,
		    verdict_name(r->verdict));
	buf_release(&json);
	check_free(sl->running);
	sl->running = NULL;
	sl->run_cat = NULL;
	p->running--;
	p->checks_done++;
	if (sl->retired)
		sl->t = NULL;	/* its catalog may go now */
	else if (sl->role == ROLE_NONE)
		sl->next_due_us = INT64_MAX;	/* a reload gave it to other probes */
	else
		sl->next_due_us = now + jittered(sl->t->interval_s);
	if (p->nold)
		release_old(p);
	if ((long)spool_buffered(p->spool) >= p->cfg->flush_every)
		flush(p, now);
}

static void start_due(struct probe *p, int64_t now)
{
	for (size_t i = 0; i < p->nslots && p->running < p->cfg->concurrency; i++) {
		struct slot *sl = &p->slots[i];

		if (sl->running || sl->retired || sl->next_due_us > now)
			continue;
		/* the flow only: walked from the registered address, the board is another's */
		sl->running = check_new(sl->t, sl->role == ROLE_FLOW ? sl->t->payload : NULL,
					&p->env);
		sl->run_cat = p->cat;
		if (sl->running && sl->role == ROLE_BOARD)
			check_board_only(sl->running);
		if (sl->running && sl->role != ROLE_FLOW && !sl->memo)
			sl->memo = calloc(1, sizeof(*sl->memo));
		if (sl->running && sl->memo && sl->role != ROLE_FLOW)
			check_use_memo(sl->running, sl->memo);
		if (sl->running)
			check_use_catalog(sl->running, sl->run_cat);
		if (!sl->running) {
			sl->next_due_us = now + 60 * 1000000LL;
			continue;
		}
		p->running++;
		if (check_start(sl->running, p->m))
			keep_result(p, sl, check_now_us());
	}
}

static struct slot *slot_of(struct probe *p, CURL *h)
{
	struct check *c = NULL;

	curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&c);
	for (size_t i = 0; c && i < p->nslots; i++)
		if (p->slots[i].running == c)
			return &p->slots[i];
	return NULL;
}

static void finished_transfers(struct probe *p)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(p->m, &left)) != NULL) {
		CURL *h = msg->easy_handle;
		CURLcode code = msg->data.result;
		struct slot *sl;

		if (msg->msg != CURLMSG_DONE)
			continue;
		if (p->cfg->catalog_url[0] && h == p->fetcher.h) {
			if (fetcher_done(&p->fetcher, p->m, code)) {
				LOG(LOG_LVL_INFO, NULL, "new catalog from the server (ETag %s)",
				    p->fetcher.etag);
				want_reload = 1;
			} else if (p->fetcher.last_error[0]) {
				LOG(LOG_LVL_WARN, "catalog-fetch", "keeping the cached catalog: %s",
				    p->fetcher.last_error);
			} else {
				LOG(LOG_LVL_DEBUG, NULL, "catalog unchanged (304)");
			}
			p->fetcher.next_us = check_now_us() +
					     (int64_t)p->cfg->catalog_refresh_s * 1000000;
			continue;
		}
		if (h == p->pusher.h) {
			int64_t now = check_now_us();

			int rc = pusher_done(&p->pusher, p->spool, p->m, code, now);

			if (rc == 1) {
				LOG(LOG_LVL_INFO, NULL, "batch acknowledged by the server");
				p->next_push_us = now;	/* more may be waiting */
			} else if (rc == 2) {
				LOG(LOG_LVL_ERROR, NULL, "%s", p->pusher.last_error);
				p->next_push_us = now;
			} else {
				LOG(LOG_LVL_WARN, "push-failed", "push failed, will retry: %s",
				    p->pusher.last_error);
			}
			continue;
		}
		sl = slot_of(p, h);
		if (!sl) {
			curl_multi_remove_handle(p->m, h);
			continue;
		}
		if (check_step_done(sl->running, p->m, code))
			keep_result(p, sl, check_now_us());
	}
}

static long next_wait_ms(struct probe *p, int64_t now)
{
	int64_t next = now + (int64_t)MAX_WAIT_MS * 1000;

	for (size_t i = 0; i < p->nslots; i++) {
		if (p->slots[i].running) {
			long t = check_tick(p->slots[i].running);

			if (t >= 0 && now + (int64_t)t * 1000 < next)
				next = now + (int64_t)t * 1000;
		} else if (p->slots[i].next_due_us < next &&
			   p->running < p->cfg->concurrency) {
			next = p->slots[i].next_due_us;
		}
	}
	if (p->cfg->server[0] && !p->pusher.in_flight && p->next_push_us < next)
		next = p->next_push_us;
	if (p->cfg->catalog_url[0] && !p->fetcher.in_flight && p->fetcher.next_us < next)
		next = p->fetcher.next_us;
	return next <= now ? 0 : (long)((next - now + 999) / 1000);
}

int daemon_run(const struct probe_config *cfg, const char *version)
{
	struct probe p;
	struct sigaction sa;
	struct err e;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	srandom((unsigned)(time(NULL) ^ getpid()));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (cfg->catalog_url[0]) {
		/* the cached copy (if any) until the server answers */
		struct buf errs;
		struct catalog *cached;

		buf_init(&errs, 4096);
		cached = catalog_load(cfg->catalog, &errs);
		buf_release(&errs);
		if (cached) {
			catalog_free(cached);
			load_catalog(&p);
		}
	} else if (load_catalog(&p) < 0) {
		return -1;
	}
	p.spool = spool_open(cfg->spool_dir, probe_config_spool_bytes(cfg,
			     p.cat ? results_per_hour(p.cat) : 60), &e);
	if (!p.cat) {
		/* nothing cached yet: an empty catalog until the server sends one */
		p.cat = calloc(1, sizeof(*p.cat));
		if (!p.cat)
			goto out;
		arena_init(&p.cat->arena, 0);
	}
	if (!p.spool) {
		LOG(LOG_LVL_ERROR, NULL, "%s", e.msg);
		goto out;
	}
	p.m = curl_multi_init();
	if (!p.m)
		goto out;
	p.env.uplink = cfg->uplink;
	p.env.interface = cfg->interface[0] ? cfg->interface : NULL;
	p.env.extra_ca = cfg->extra_ca[0] ? cfg->extra_ca : NULL;
	p.env.decoder = cfg->decoder[0] ? cfg->decoder : NULL;
	snprintf(p.unread_dir, sizeof(p.unread_dir), "%s/unread", cfg->spool_dir);
	p.env.unread_dir = cfg->unread_keep_mb ? p.unread_dir : NULL;
	p.env.unread_cap = (unsigned long long)cfg->unread_keep_mb * 1024 * 1024;
	if (strcmp(cfg->emulate, "none") != 0) {
		const struct emulate_profile *ep = emulate_find(cfg->emulate);

		if (ep) {
			p.env.emulate_rtt_us = (int64_t)ep->rtt_ms * 1000;
			p.env.emulate_rate = ep->rate;
		}
	}
	{
		/* "host:port:address" entries, space-separated, as curl --resolve */
		const char *q = cfg->resolve;

		while (*q) {
			char one[256];
			size_t n;

			while (*q == ' ')
				q++;
			n = strcspn(q, " ");
			if (n && n < sizeof(one)) {
				snprintf(one, sizeof(one), "%.*s", (int)n, q);
				p.env.resolve = curl_slist_append(p.env.resolve, one);
			}
			q += n;
		}
	}
	p.pcfg.url = cfg->server;
	p.pcfg.probe_id = cfg->probe_id;
	memcpy(p.pcfg.secret, cfg->secret, cfg->secret_len);
	p.pcfg.secret_len = cfg->secret_len;
	p.pcfg.uplink = cfg->uplink;
	p.pcfg.version = version;
	p.pcfg.ca_file = cfg->ca_file[0] ? cfg->ca_file : NULL;	/* never the checks' */
	/*
	 * The pusher and the catalog fetch resolve as the checks do; they no
	 * longer see the checks' DNS cache, which is each check's own.
	 */
	p.pcfg.resolve = p.env.resolve;
	p.pcfg.clock_sync_file = cfg->clock_sync_file[0] ? cfg->clock_sync_file : NULL;
	/* unreadable board photos go to the server signed as the push is (check.h) */
	p.env.snapshot_url = cfg->snapshot_url[0] && cfg->secret_len ? cfg->snapshot_url : NULL;
	p.env.server = &p.pcfg;
	p.env.snapshot_every_us = (int64_t)cfg->snapshot_every_s * 1000000;
	p.env.snapshot_max = (size_t)cfg->snapshot_max_kb * 1024;
	if (!strcmp(cfg->snapshot_to_server, "yes") && cfg->server[0] && !p.env.snapshot_url)
		LOG(LOG_LVL_WARN, NULL, "board photos no code is read on stay here: 'server' "
		    "does not end in /api/v1/ingest, so set 'snapshot_url' (or "
		    "snapshot_to_server = no)");
	snprintf(p.refused_path, sizeof(p.refused_path), "%s/refused.jsonl", cfg->spool_dir);
	p.pcfg.refused_path = p.refused_path;
	pusher_init(&p.pusher, &p.pcfg);
	fetcher_init(&p.fetcher, cfg->catalog_url, cfg->catalog, &p.pcfg);
	/*
	 * After a reboot, wait a random while before the first push: a power
	 * cut that restarts a whole commune must not hit the server at once.
	 */
	p.next_push_us = check_now_us() + (cfg->first_push_delay_max_s ?
		(int64_t)(random() % (cfg->first_push_delay_max_s * 1000L + 1)) * 1000 : 0);
	p.last_flush_us = check_now_us();
	LOG(LOG_LVL_INFO, NULL, "probe '%s' started: %zu targets, uplink %s, spool '%s' "
	    "(epoch %s, next batch %llu, %llu bytes pending, %llu dropped)", cfg->probe_id,
	    p.nslots, cfg->uplink, cfg->spool_dir, spool_epoch(p.spool),
	    (unsigned long long)spool_next_seq(p.spool),
	    (unsigned long long)spool_pending_bytes(p.spool),
	    (unsigned long long)spool_dropped(p.spool));

	while (!want_stop) {
		int64_t now = check_now_us();
		int still;

		if (want_reload) {
			want_reload = 0;
			load_catalog(&p);	/* running checks finish under the old one */
		}
		if (cfg->catalog_url[0] && !p.fetcher.in_flight && now >= p.fetcher.next_us) {
			if (!fetcher_start(&p.fetcher, p.m))
				p.fetcher.next_us = now + 60 * 1000000LL;
			else
				p.fetcher.next_us = INT64_MAX;
		}
		start_due(&p, now);
		if (now - p.last_flush_us >= (int64_t)cfg->flush_interval_s * 1000000)
			flush(&p, now);
		if (cfg->server[0] && !p.pusher.in_flight && now >= p.next_push_us) {
			flush(&p, now);
			if (!pusher_start(&p.pusher, p.spool, p.m, now))
				p.next_push_us = now + (int64_t)cfg->push_interval_s * 1000000;
		}
		/* boards being decoded: a finished decoder moves its check on */
		for (size_t i = 0; i < p.nslots; i++)
			if (p.slots[i].running && check_poll(p.slots[i].running, p.m))
				keep_result(&p, &p.slots[i], check_now_us());
		curl_multi_perform(p.m, &still);
		finished_transfers(&p);
		{
			struct curl_waitfd wfd[64];
			unsigned nw = 0;

			for (size_t i = 0; i < p.nslots && nw < 64; i++) {
				int fd = p.slots[i].running ?
					 check_wait_fd(p.slots[i].running) : -1;

				if (fd >= 0) {
					wfd[nw].fd = fd;
					wfd[nw].events = CURL_WAIT_POLLIN;
					wfd[nw].revents = 0;
					nw++;
				}
			}
			curl_multi_poll(p.m, wfd, nw, (int)next_wait_ms(&p, check_now_us()),
					NULL);
		}
	}
	LOG(LOG_LVL_INFO, NULL, "stopping: keeping %zu unflushed results",
	    spool_buffered(p.spool));
	flush(&p, check_now_us());
	if (spool_buffered(p.spool)) {
		/* the disk refused them: say so, and count them where the server will see it */
		size_t lost = spool_discard(p.spool, &e);

		LOG(LOG_LVL_ERROR, NULL, "%zu results lost at stop: the spool in '%s' could "
		    "not be written; counted as dropped%s%s", lost, cfg->spool_dir,
		    e.msg[0] ? ", but " : "", e.msg);
	}
	rc = 0;
out:
	for (size_t i = 0; i < p.nslots; i++) {
		check_free(p.slots[i].running);	/* its cleanup leaves the multi */
		if (p.slots[i].memo)
			board_memo_release(p.slots[i].memo);
		free(p.slots[i].memo);
	}
	for (size_t i = 0; i < p.nold; i++)
		catalog_free(p.old[i]);
	free(p.old);
	if (p.pusher.in_flight)
		curl_multi_remove_handle(p.m, p.pusher.h);
	pusher_release(&p.pusher);
	fetcher_release(&p.fetcher);
	curl_slist_free_all(p.env.resolve);
	if (p.m)
		curl_multi_cleanup(p.m);
	spool_close(p.spool);
	free(p.slots);
	catalog_free(p.cat);
	return rc;
}
