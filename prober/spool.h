/* spool.h - the probe's bounded on-disk queue of unsent results, safe against kill -9 and power cuts. */
#ifndef QRW_SPOOL_H
#define QRW_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"
#include "../common/err.h"

/*
 * Records live in segment files "seg-NNNNNNNNNNNN" in the spool folder, each
 * framed as  [length u32 LE][CRC-32 of the bytes u32 LE][bytes].  A crash
 * can tear only the newest segment's last record: that tail is cut off at
 * the next open and counted as dropped. A damaged record anywhere else (a
 * flipped bit, a fragment) is stepped over to the next whole record when it
 * is read, and counted once, when the cursor passes it; the records after
 * it are kept and sent. A "cursor" file, replaced atomically, says where
 * the first unsent record is, how many records were dropped, the next
 * batch number, and the spool's epoch: 16 hex digits drawn at random when
 * the spool is created, so that the server can tell a spool that was lost
 * and made anew (numbering its batches from 1 again) from a replay.
 *
 * Appends are buffered in memory and written by spool_flush() in one
 * write and one fdatasync, so that a router's flash is not worn by a sync
 * per result. A result counts as kept once a flush has returned; a failed
 * write is cut back to the last whole record and retried whole. A file
 * "reserve" holds a few pages that a full disk gives up to the cursor, so
 * that what the full disk cost is still counted.
 */
#define SPOOL_SEGMENT_BYTES (256u * 1024)	/* rotate segments at this size */
#define SPOOL_RECORD_MAX    (256u * 1024)	/* one result, generously */
#define SPOOL_MIN_BYTES     (4u * SPOOL_SEGMENT_BYTES)
#define SPOOL_PENDING_MAX   (8u * 1024 * 1024)	/* unflushed results held in memory */
#define SPOOL_EPOCH_LEN     16			/* hex digits of a spool's identity */

struct spool;

/*
 * Open (creating if needed) the spool in dir, holding at most max_bytes on
 * disk (at least SPOOL_MIN_BYTES). Returns NULL with e on error.
 */
struct spool *spool_open(const char *dir, uint64_t max_bytes, struct err *e);

/*
 * Queue a record in memory (copied). -1 when it is empty or over
 * SPOOL_RECORD_MAX, or when SPOOL_PENDING_MAX bytes already wait for a
 * flush (a disk that keeps failing): then the record is dropped and counted.
 */
int spool_append(struct spool *s, const void *rec, size_t n, struct err *e);

/* Records appended but not yet flushed. */
size_t spool_buffered(const struct spool *s);

/*
 * Write the queued records durably. When the spool would pass its size,
 * the oldest segments are deleted first and their records counted as
 * dropped. Returns 0, or -1 with e: then the segment is cut back to its
 * last whole record and the records stay queued for the next flush.
 */
int spool_flush(struct spool *s, struct err *e);

/*
 * Give up the queued records (a stop with a disk that refuses them):
 * count them as dropped and try to record the count. Returns how many
 * were dropped; e->msg is "" when the count was recorded, else says why not.
 */
size_t spool_discard(struct spool *s, struct err *e);

/* Up to max_records oldest unsent records, read from disk. */
struct spool_batch {
	struct buf *recs;	/* recs[i] holds record i */
	size_t n;
	uint64_t seg_end;	/* where the batch ends: segment and offset */
	uint64_t off_end;
	uint64_t seq;		/* the batch's number (spool_next_seq) */
	char epoch[SPOOL_EPOCH_LEN + 1];	/* the spool's identity (spool_epoch) */
	size_t damaged;		/* damaged stretches stepped over before end */
};

int spool_peek(struct spool *s, size_t max_records, size_t max_bytes,
	       struct spool_batch *b, struct err *e);
void spool_batch_release(struct spool_batch *b);

/*
 * The server acknowledged b: move the cursor past it durably, bump the
 * batch number, count the damage it stepped over, and delete segments that
 * are wholly sent.
 */
int spool_consume(struct spool *s, const struct spool_batch *b, struct err *e);

/* Records dropped (for space, torn, damaged, unwritable) since the spool was made. */
uint64_t spool_dropped(const struct spool *s);

/* The number the next batch will carry; it only grows within an epoch. */
uint64_t spool_next_seq(const struct spool *s);

/* The spool's identity: SPOOL_EPOCH_LEN lower-case hex digits. */
const char *spool_epoch(const struct spool *s);

/* Bytes on disk not yet sent. */
uint64_t spool_pending_bytes(const struct spool *s);

/* Flushes nothing: call spool_flush() first if records must be kept. */
void spool_close(struct spool *s);

#endif
