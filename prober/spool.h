/* spool.h - the probe's bounded on-disk queue of unsent results, safe against kill -9 and power cuts. */
#ifndef QRW_SPOOL_H
#define QRW_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"
#include "../common/err.h"

/*
 * Records live in segment files "seg-NNNNNNNNNNNN" in the spool folder, each
 * framed as  [length u32 LE][CRC-32 of the bytes u32 LE][bytes].  A record
 * torn by a crash (short, or with a bad CRC) ends the readable part of its
 * segment and is counted as lost; it never poisons another segment. A
 * "cursor" file, replaced atomically, says where the first unsent record
 * is, how many records were dropped for space, and the next batch number.
 *
 * Appends are buffered in memory and written by spool_flush() in one
 * write and one fdatasync, so that a router's flash is not worn by a sync
 * per result. A result counts as kept once a flush has returned.
 */
#define SPOOL_SEGMENT_BYTES (256u * 1024)	/* rotate segments at this size */
#define SPOOL_RECORD_MAX    (256u * 1024)	/* one result, generously */
#define SPOOL_MIN_BYTES     (4u * SPOOL_SEGMENT_BYTES)

struct spool;

/*
 * Open (creating if needed) the spool in dir, holding at most max_bytes on
 * disk (at least SPOOL_MIN_BYTES). Returns NULL with e on error.
 */
struct spool *spool_open(const char *dir, uint64_t max_bytes, struct err *e);

/* Queue a record in memory (copied). -1 when it is over SPOOL_RECORD_MAX. */
int spool_append(struct spool *s, const void *rec, size_t n, struct err *e);

/* Records appended but not yet flushed. */
size_t spool_buffered(const struct spool *s);

/*
 * Write the queued records durably. When the spool would pass its size,
 * the oldest segments are deleted first and their records counted as
 * dropped. Returns 0, or -1 with e (the records stay queued).
 */
int spool_flush(struct spool *s, struct err *e);

/* Up to max_records oldest unsent records, read from disk. */
struct spool_batch {
	struct buf *recs;	/* recs[i] holds record i */
	size_t n;
	uint64_t seg_end;	/* where the batch ends: segment and offset */
	uint64_t off_end;
	uint64_t seq;		/* the batch's number (spool_next_seq) */
};

int spool_peek(struct spool *s, size_t max_records, size_t max_bytes,
	       struct spool_batch *b, struct err *e);
void spool_batch_release(struct spool_batch *b);

/*
 * The server acknowledged b: move the cursor past it durably, bump the
 * batch number, and delete segments that are wholly sent.
 */
int spool_consume(struct spool *s, const struct spool_batch *b, struct err *e);

/* Records dropped for space (or lost to a torn write) since the spool was made. */
uint64_t spool_dropped(const struct spool *s);

/* The number the next batch will carry; it only grows. */
uint64_t spool_next_seq(const struct spool *s);

/* Bytes on disk not yet sent. */
uint64_t spool_pending_bytes(const struct spool *s);

/* Flushes nothing: call spool_flush() first if records must be kept. */
void spool_close(struct spool *s);

#endif
