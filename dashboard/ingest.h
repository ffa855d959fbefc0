/* ingest.h - applying a probe's signed batch: authenticate, validate every field, store, acknowledge. */
#ifndef QRW_INGEST_H
#define QRW_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "rrdstore.h"
#include "store.h"
#include "../alerts/engine.h"
#include "../alerts/outbox.h"
#include "../targets/catalog.h"

#define INGEST_MAX_BODY     (2u * 1024 * 1024)	/* a probe sends at most 1 MiB */
#define INGEST_MAX_RESULTS  1000
#define INGEST_FUTURE_MS    60000	/* tolerated clock error after correction */
#define INGEST_TEXT_MAX     4096	/* per string field */

struct probe_key {
	char id[65];
	unsigned char secret[128];
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
 * acknowledgement, then written to the RRD files. A batch number already
 * applied is acknowledged again and not applied twice.
 */
void ingest_batch(struct ingest *x, const char *probe_hdr, const char *sig_hdr,
		  const char *body, size_t len, int64_t now_ms,
		  struct ingest_reply *out);

/* Results still to be written to RRD files (after a crash): write them. */
int ingest_replay_rrd(struct ingest *x, struct err *e);

#endif
