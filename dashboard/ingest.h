/* ingest.h - applying a probe's signed batch: authenticate, validate every field, store, acknowledge. */
#ifndef QRW_INGEST_H
#define QRW_INGEST_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "rrdstore.h"
#include "store.h"
#include "../alerts/engine.h"
#include "../alerts/outbox.h"
#include "../targets/batch.h"
#include "../targets/catalog.h"

#define INGEST_MAX_BODY     (2u * 1024 * 1024)	/* a probe sends at most 1 MiB */
#define INGEST_FUTURE_MS    60000	/* tolerated clock error after correction */
#define INGEST_GROUP_RESULTS 4000	/* results applied in one transaction at most */
#define INGEST_QUEUE_MAX    256		/* batches waiting for the committer; then 503 */
#define INGEST_CHECKPOINT_S 300		/* RRD files made durable and marked, by default */

/*
 * The probe that board photos uploaded by officials come from (photos.h):
 * qrwatchd's own, signed with a key made at each start; no configured
 * probe may take its name.
 */
#define INGEST_PHOTO_PROBE "anh-tai-len"

struct probe_key {
	char id[65];
	unsigned char secret[BATCH_SECRET_MAX];
	size_t secret_len;
};

struct ingest_job;

struct ingest {
	struct store *db;
	struct rrdstore *rrd;
	const struct catalog *cat;	/* known targets, or NULL to accept any id */
	const struct probe_key *probes;
	size_t nprobes;
	struct alerts *alerts;		/* incidents, in the batch's transaction; or NULL */
	struct outbox *outbox;		/* woken when a batch wrote notifications */
	/* the committer (ingest_start) and the batches waiting for it */
	pthread_t thread;
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct ingest_job *queue, **queue_tail;
	unsigned queued_jobs;
	int stopping, started;
	/* the checkpoints of the RRD files (under qlock too) */
	long checkpoint_s;		/* every so often; 0 for INGEST_CHECKPOINT_S */
	pthread_t ck_thread;
	pthread_cond_t ckcond;
	int ck_stopping, ck_started;
	/* since the start, written by the committer alone (ingest_get_stats) */
	unsigned long batches_applied, results_applied, commits;
};

struct ingest_reply {
	int status;		/* HTTP status */
	char body[1024];	/* JSON: {"ack":N,...} or {"error":"..."} */
};

/*
 * One POST to /api/v1/ingest (docs/protocol.md). The signature is checked,
 * in constant time, before the body is parsed; every field is checked
 * before anything is written, and a rejected batch changes nothing. These
 * checks run on the caller's thread; the batch then waits for the
 * committer, which applies every batch waiting at that moment (up to
 * INGEST_GROUP_RESULTS results) in one SQLite transaction (synchronous),
 * each under a savepoint of its own, and answers them only after the
 * commit, then writes them to the RRD files. Replays are known by (probe,
 * spool epoch, batch number): a number already applied in its epoch is
 * acknowledged again and nothing in it applied twice, and a new epoch (a
 * probe whose spool was made anew) starts a new sequence, logged and shown
 * on the probe's page.
 *
 * ingest_submit() fills out and calls done(ctx) once, from whichever
 * thread finished (the caller's at once for a refusal, the committer's
 * after the commit); body may be freed when it returns. ingest_batch()
 * waits for it. ingest_start() starts the committer, and the RRD
 * checkpoints: every checkpoint_s, what the files hold is made durable
 * and their marks moved (rrdstore.h); ingest_stop() answers what waits,
 * stops the committer, then makes a last checkpoint.
 */
int ingest_start(struct ingest *x, struct err *e);
void ingest_stop(struct ingest *x);
void ingest_submit(struct ingest *x, const char *probe_hdr, const char *sig_hdr,
		   const char *body, size_t len, int64_t now_ms, struct ingest_reply *out,
		   void (*done)(void *ctx), void *ctx);
void ingest_batch(struct ingest *x, const char *probe_hdr, const char *sig_hdr,
		  const char *body, size_t len, int64_t now_ms,
		  struct ingest_reply *out);

/* What ingest has done since the start, for /metrics. */
struct ingest_stats {
	unsigned long batches;		/* batches applied and acknowledged */
	unsigned long results;		/* results in them that were new */
	unsigned long commits;		/* transactions that applied them (group commit) */
	unsigned queued;		/* batches waiting for the committer now */
};
void ingest_get_stats(struct ingest *x, struct ingest_stats *st);

/* A batch whose every field was checked, and its results judged. */
struct ingest_rec;
struct ingest_parsed {
	struct batch batch;		/* the decoded batch (targets/batch.h) */
	struct ingest_rec *recs;	/* its results' values for the stores, oldest first */
	size_t n;
};

/*
 * Parse and check a batch body from probe_id without touching the stores
 * (the signature is the caller's to check first). JSON is parsed strictly
 * (common/strictjson.h); numbers out of range are refused, never
 * saturated; dates must exist. Returns 0, or -1 with out holding the 4xx
 * and the field at fault. Release b with ingest_parsed_release().
 */
int ingest_parse(const struct ingest *x, const char *probe_id, const char *body,
		 size_t len, int64_t now_ms, struct ingest_parsed *b,
		 struct ingest_reply *out);
void ingest_parsed_release(struct ingest_parsed *b);

/*
 * Results above their RRD files' marks (after a crash, or a stop before a
 * checkpoint): write them again; a file refuses what it already holds.
 * Returns how many were read, or -1 with e when the database could not be
 * read.
 */
int ingest_replay_rrd(struct ingest *x, struct err *e);

/*
 * rrdstore's on_created (ctx is the struct ingest): write what waited for
 * each file made, then open it to new updates (one lock for them all).
 */
void ingest_rrd_created(void *ctx, const struct rrd_made *made, size_t n);

#endif
