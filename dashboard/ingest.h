/* ingest.h - applying a probe's signed batch: authenticate, validate every field, store, acknowledge. */
#ifndef QRW_INGEST_H
#define QRW_INGEST_H

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

struct probe_key {
	char id[65];
	unsigned char secret[BATCH_SECRET_MAX];
	size_t secret_len;
};

struct ingest {
	struct store *db;
	struct rrdstore *rrd;
	const struct catalog *cat;	/* known targets, or NULL to accept any id */
	const struct probe_key *probes;
	size_t nprobes;
	struct alerts *alerts;		/* incidents, in the batch's transaction; or NULL */
	struct outbox *outbox;		/* woken when a batch wrote notifications */
};

struct ingest_reply {
	int status;		/* HTTP status */
	char body[1024];	/* JSON: {"ack":N,...} or {"error":"..."} */
};

/*
 * Handle one POST to /api/v1/ingest (docs/protocol.md). The signature is
 * checked, in constant time, before the body is parsed; every field is
 * checked before anything is written, and a rejected batch changes
 * nothing; the results are committed to SQLite (synchronous) before the
 * acknowledgement, then written to the RRD files. Replays are known by
 * (probe, spool epoch, batch number): a number already applied in its
 * epoch is acknowledged again and not applied twice, and a new epoch (a
 * probe whose spool was made anew) starts a new sequence, logged and shown
 * on the probe's page.
 */
void ingest_batch(struct ingest *x, const char *probe_hdr, const char *sig_hdr,
		  const char *body, size_t len, int64_t now_ms,
		  struct ingest_reply *out);

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
 * Results still to be written to RRD files (after a crash): write them.
 * Returns how many, or -1 with e when the database could not be read.
 */
int ingest_replay_rrd(struct ingest *x, struct err *e);

#endif
