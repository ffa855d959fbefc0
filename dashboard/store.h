/* store.h - the server's SQLite database (WAL): every statement of the dashboard, behind functions. */
#ifndef QRW_STORE_H
#define QRW_STORE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "../alerts/astore.h"
#include "../common/arena.h"
#include "../common/err.h"
#include "../targets/result.h"

/* The schema version this build writes; older databases are migrated. */
#define STORE_SCHEMA 9

/*
 * Results are indexed only by their key (probe, target, probe_time), the
 * probe's own clock. A read by server time ("since T") bounds probe_time
 * from below by T less the probe's clock offset as last seen and a day
 * (STORE_PT_MARGIN_MS), then filters on time_ms: exact unless the probe's
 * clock offset moved by more than a day between the result and now. The
 * SQL expression for the bound, from a server time and a probe id:
 */
#define STORE_PT_MARGIN_MS "86400000"
#define STORE_PT_FLOOR(ms, probe) \
	"strftime('%Y-%m-%dT%H:%M:%fZ', ((" ms ") - coalesce((SELECT clock_offset_ms " \
	"FROM probes WHERE id = " probe "), 0) - " STORE_PT_MARGIN_MS ") / 1000.0, " \
	"'unixepoch')"
#define STORE_READERS_MAX 16	/* page threads reading at once, each with a connection */

/*
 * The database has one writer connection, used under lock by ingest and
 * the alerts, and a few reader connections for the pages: in WAL mode a
 * reader sees the last commit and never waits for the writer, nor the
 * writer for it. Every statement lives in dashboard/store*.c (this header
 * is their contract) or, for the alerts' own tables, alerts/astore.c; each
 * is prepared once per connection and kept.
 *
 * A statement error (a damaged database, a full disk) makes the call fail
 * and is kept until store_failed() / store_reader_failed() takes it, so
 * that a page whose loop it cut short answers 500, never half a page.
 */
struct store_stmts;
struct store_reader;

struct store {
	sqlite3 *db;			/* the writer's connection */
	pthread_mutex_t lock;		/* held by whoever uses the writer */
	struct store_stmts *st;
	char error[ERR_MAX];		/* the writer's first error since store_failed() */
	char path[1100];
	pthread_mutex_t readers_lock;
	struct store_reader *readers[STORE_READERS_MAX];
	int nreaders, busy[STORE_READERS_MAX];
	pthread_cond_t reader_free;
	/* the WAL checkpoints, on a thread and connection of their own */
	pthread_t wal_thread;
	pthread_mutex_t wal_lock;
	pthread_cond_t wal_wake;
	int wal_started, wal_stopping;
	unsigned long wal_checkpoints;	/* since start, for /metrics */
};

/*
 * Open (creating) DATA_DIR/qrwatch.db in WAL mode with full syncs, so that
 * a committed transaction survives a kill -9 or a power cut; refuse it if
 * PRAGMA quick_check finds damage; and bring its schema up to STORE_SCHEMA
 * (the alerts' tables too, through astore_migrate()). The WAL is copied
 * back into the database by a thread of its own every STORE_WAL_MS (a
 * passive checkpoint, which never waits for readers or the writer), not
 * by the commit that happens to fill it; past STORE_WAL_RESTART frames it
 * waits for the writer once, so that the WAL starts over. Returns 0 or -1 with e.
 */
#define STORE_WAL_MS      500
#define STORE_WAL_RESTART 16384	/* WAL frames (64 MiB) before it is made to start over */
int store_open(struct store *s, const char *data_dir, struct err *e);
/* store_open() without PRAGMA quick_check: a reload, the file checked at the start. */
int store_open_again(struct store *s, const char *data_dir, struct err *e);
void store_close(struct store *s);

/*
 * Check the database file in data_dir (read-only) with PRAGMA quick_check,
 * which reads every page. Returns 0 when it is sound or does not exist yet,
 * -1 with e saying what is damaged and how to restore a backup.
 */
int store_check(const char *data_dir, struct err *e);

/* BEGIN IMMEDIATE, COMMIT, ROLLBACK on the writer (under its lock). -1 with e. */
int store_exec(struct store *s, const char *sql, struct err *e);

/* The writer's first statement error since the last call: 1 with e, or 0. */
int store_failed(struct store *s, struct err *e);

/* ---- the writer: what a batch changes (under s->lock, in a transaction) ---- */

/* The last batch number applied in (probe, epoch): 1 with *last, 0 for a new epoch, -1. */
int store_epoch_last(struct store *s, const char *probe, const char *epoch, int64_t *last);

/* The probe's newest epoch, its last batch and how many epochs it has had: 1, 0 unknown, -1. */
int store_probe_epoch(struct store *s, const char *probe, char epoch[32], int64_t *last,
		      int64_t *epochs);

/* Record that batch seq of (probe, epoch) was applied at now_ms. */
int store_put_epoch(struct store *s, const char *probe, const char *epoch, int64_t seq,
		    int64_t now_ms);

/* What a batch says of its probe. */
struct store_probe_news {
	const char *probe, *epoch, *uplink, *version;
	int64_t seq, now_ms, clock_offset_ms, since_sync_s, spool_pending, spool_dropped;
	int new_epoch, duplicate;
};
int store_put_probe(struct store *s, const struct store_probe_news *n);

/* One result as the stores keep it: the decoded result and what the server judged. */
struct store_result {
	const char *probe;
	const struct result *r;
	const char *probe_time;		/* the probe's own time, the result's key */
	int64_t time_ms;		/* corrected to the server's clock */
	const char *uplink;		/* the result's, else the batch's */
	const char *json;		/* the result written back once, kept for the record */
};

/*
 * Keep a result: in results (unique by probe, target, probe_time), and,
 * when it is the newest of its (probe, target), as the latest state with
 * its steps, a verdict change, and the target's worst state over its
 * probes. Returns 1 when it was new, 0 when it was already kept, -1.
 */
int store_put_result(struct store *s, const struct store_result *x);

/* A result the RRD files still need, with the values a file takes. */
struct store_rrd_row {
	char probe[65], target[65];
	int64_t time_ms, total_us, dns_us, connect_us, tls_us, ttfb_us;
	int avail, status, step;
};

/*
 * The results of one (probe, target) above its file's high-water mark,
 * oldest first, after the cursor (start it at zeros), at most max; the
 * cursor moves past them. Returns how many (0 at the end), or -1.
 */
struct store_rrd_cursor {
	int64_t time_ms, id;
};
int store_rrd_pending(struct store *s, const char *probe, const char *target,
		      struct store_rrd_cursor *at, struct store_rrd_row *out, size_t max);

/*
 * The (probe, target) pairs with results above their marks, in order,
 * after *after (start it at empty strings), at most max; *after moves to
 * the last. Returns how many (0 at the end), or -1.
 */
struct store_rrd_pair {
	char probe[65], target[65];
};
int store_rrd_pairs(struct store *s, struct store_rrd_pair *after,
		    struct store_rrd_pair *out, size_t max);

/* Move a file's high-water mark up to ms (never down): what it holds on disk. */
int store_put_mark(struct store *s, const char *probe, const char *target, int64_t ms);

/*
 * Delete at most max verdict changes older than before_ms, oldest first
 * (the retention, changes_keep; under s->lock, in the caller's
 * transaction). Returns how many went, or -1.
 */
int store_prune_changes(struct store *s, int64_t before_ms, int max);

/*
 * Of the max results that arrived first, delete those older than
 * before_ms (the retention, results_keep; under s->lock, in the caller's
 * transaction). Returns how many went (0: the first to arrive are all
 * newer), or -1.
 */
int store_prune_results(struct store *s, int64_t before_ms, int max);

/* ---- the readers: the pages' queries ---- */

/*
 * A reader connection for one request: a free one, opened on first need
 * (up to STORE_READERS_MAX, then waiting for one to be put back). NULL with
 * e when the database cannot be opened. Put it back after the request.
 */
struct store_reader *store_reader_get(struct store *s, struct err *e);
void store_reader_put(struct store *s, struct store_reader *r);

/* The reader's view of the alerts' tables, on its connection. */
struct astore *store_reader_alerts(struct store_reader *r);

/* The reader's first statement error since the last call: 1 with e, or 0. */
int store_reader_failed(struct store_reader *r, struct err *e);

/* 1 while r keeps no statement error (its own or the alerts'); takes nothing. */
int store_reader_ok(const struct store_reader *r);

/* A target's worst state over its probes (updated at ingest). */
struct store_state {
	char target[65];
	char verdict[16];
	int64_t since_ms, time_ms;
	int probes;
	int walked;	/* a probe's latest result is OK with its web flow walked */
};

/* Every target's state, to fn; ordered by target. */
int store_states(struct store_reader *r, int (*fn)(void *ctx, const struct store_state *st),
		 void *ctx);

/* The latest result of (probe, target): one per probe of a target. */
struct store_latest {
	char probe[65];
	int64_t since_ms;		/* when its verdict last changed */
	struct result r;		/* strings and steps in the caller's arena */
};

/* The latest results of target (by probe), at most max. Returns how many, or -1. */
int store_latest_of(struct store_reader *r, const char *target, struct arena *a,
		    struct store_latest *out, size_t max);

/*
 * Every (probe, target)'s latest verdict and duration, to fn, in the
 * table's own order: the fastest to read (at 100,000 rows a few times
 * faster than through the primary key); sort them if you need an order.
 */
struct store_latest_brief {
	char probe[65], target[65], verdict[16];
	int64_t total_us;
};
int store_latest_all(struct store_reader *r,
		     int (*fn)(void *ctx, const struct store_latest_brief *l), void *ctx);

/* Verdict changes: since a time (every target), or a target's newest. */
struct store_change {
	int64_t time_ms;
	char probe[65], target[65], old[16], now[16];
};
int store_changes_since(struct store_reader *r, int64_t since_ms, struct store_change *out,
			size_t max);
int store_changes_of(struct store_reader *r, const char *target, struct store_change *out,
		     size_t max);

/*
 * A number that moves whenever a verdict changes anywhere (the newest
 * verdict change's row id; 0 before the first). It moves when the change
 * commits: a page drawn from states read after it is at least as new as
 * the number. Returns 0 with *mark, or -1.
 */
int store_changes_mark(struct store_reader *r, int64_t *mark);

/*
 * The targets whose verdict changed between two marks (after < mark <=
 * upto), each once, to fn (which may stop them with -1): so that a page
 * kept from the states as of one mark reads only what moved since.
 * Returns how many, or -1.
 */
int store_changed_targets(struct store_reader *r, int64_t after, int64_t upto,
			  int (*fn)(void *ctx, const char *target), void *ctx);

/* One target's state: 1 with *out, 0 when it has none yet, -1. */
int store_state_of(struct store_reader *r, const char *target, struct store_state *out);

/*
 * A stale code's new address as an official confirmed it: who, when, the
 * address it replaced, the check that found it working (its final page),
 * and the catalog file as it was before (kept in history_file).
 */
struct store_address_change {
	int64_t at_ms;
	char target[80];
	char old_address[2048], new_address[2048];
	char who[64];
	char checked_url[2048];		/* the last page of the check that was OK */
	char history_file[1100];	/* the catalog as it was before */
};

/* A board photo an official uploaded (photos.h): kept as evidence. */
struct store_board_photo {
	char board[80];
	int64_t at_ms;
	char who[64];
	char file[1100];		/* under DATA_DIR/photos/ */
	int64_t bytes;
	char summary[2048];		/* what was read on it, one line per code of the board */
};

/* Record one (the writer; hold s->lock). 0, or -1 (store_failed() says why). */
int store_put_board_photo(struct store *s, const struct store_board_photo *p);

/* The board's latest photo: 1 with it in out, 0 when none was uploaded. */
int store_board_photo_latest(struct store_reader *r, const char *board,
			     struct store_board_photo *out);

/* Record a change (the writer; hold s->lock). 0, or -1 (store_failed() says why). */
int store_put_address_change(struct store *s, const struct store_address_change *c);

/*
 * The latest confirmed change of target whose new address is address
 * (the target's payload now): 1 with it in out, 0 when there is none.
 */
int store_address_confirmed(struct store_reader *r, const char *target, const char *address,
			    struct store_address_change *out);

/* When (probe, target)'s latest result was taken (ms), 0 if it has none. 0, or -1. */
int store_latest_time(struct store_reader *r, const char *probe, const char *target,
		      int64_t *ms);

/* The share of available results of target since since_ms: 1 with *avail, 0 none, -1. */
int store_availability(struct store_reader *r, const char *target, int64_t since_ms,
		       double *avail);

/* A target's results since since_ms by uplink kind. */
struct store_uplink {
	char uplink[16];
	int n;
	double avg_total_ms, avg_connect_ms, avail;
};
int store_by_uplink(struct store_reader *r, const char *target, int64_t since_ms,
		    struct store_uplink *out, size_t max);

/* A target's results, oldest first, to fn (the CSV export). */
struct store_history_row {
	int64_t time_ms, total_us;
	char probe[65], verdict[16], uplink[16];
};
int store_history(struct store_reader *r, const char *target,
		  int (*fn)(void *ctx, const struct store_history_row *h), void *ctx);

/* The probes as their batches describe them. */
struct store_probe {
	char id[65], uplink[16], version[33], epoch[32];
	int64_t last_seq, last_seen_ms, clock_offset_ms, since_sync_s;
	int64_t spool_pending, spool_dropped, epoch_since_ms, epochs;
};

/* Every probe, or just one (one not NULL), ordered by id, at most max. */
int store_probes(struct store_reader *r, const char *one, struct store_probe *out, size_t max);

/* The spools a probe has sent from, newest first. */
struct store_epoch {
	char epoch[32];
	int64_t first_seq, last_seq, batches, first_ms, last_ms;
};
int store_epochs(struct store_reader *r, const char *probe, struct store_epoch *out,
		 size_t max);

#endif
