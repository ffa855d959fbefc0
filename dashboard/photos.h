/* photos.h - board photos officials upload from their phones: decoded in a guarded child, judged, kept as evidence. */
#ifndef QRW_PHOTOS_H
#define QRW_PHOTOS_H

#include <pthread.h>
#include <stdint.h>

#include "ingest.h"
#include "pages.h"
#include "store.h"
#include "../common/buf.h"
#include "../common/err.h"
#include "../targets/catalog.h"
#include "../targets/image.h"

#define PHOTO_MAX_BYTES IMAGE_MAX_BYTES	/* a phone's photo is 2 to 8 MB; the probe's cap */
#define PHOTO_FORM_SLACK (64u * 1024)	/* the form's other fields and boundaries */
#define PHOTO_DIR "photos"		/* in the data folder: DATA_DIR/photos/BOARD/ */
#define PHOTO_EPOCH "0000000000000001"	/* the photo probe's one spool epoch */

/* The fields of POST /board/ID/photo (multipart/form-data). */
struct photo_form {
	char token[72];
	struct buf file;		/* the photo's bytes, at most PHOTO_MAX_BYTES */
	int bad;			/* a field too long, repeated or unknown */
};

/* A camera snapshot a probe could not read, signed by it (POST /api/v1/probes/ID/snapshot). */
struct snapshot_req {
	char probe[CATALOG_ID_MAX + 1];
	char target[CATALOG_ID_MAX + 1];	/* X-Qrwatch-Target */
	const char *data;		/* the image's bytes */
	size_t len;
};

/*
 * The server's own probe, INGEST_PHOTO_PROBE: its key (random, made at
 * each start) and the last batch number it used. Its results go through
 * ingest like any probe's, so that a photo's judgement is stored, drawn
 * and alerted on as a probe's reading of the board would be.
 */
struct photos {
	struct ingest *ing;
	struct probe_key key;
	pthread_mutex_t lock;		/* one batch at a time */
	int64_t last_seq;
};

/* A key for the photo probe. Returns 0, or -1 with e (no randomness). */
int photos_key(struct probe_key *key, struct err *e);

/* Ready p to send through ing with key (copied). */
void photos_init(struct photos *p, struct ingest *ing, const struct probe_key *key);
void photos_release(struct photos *p);

/*
 * POST /board/ID/photo from q->user with q->photo: the token must be the
 * user's for that board (one whose photos are uploaded); the file an image within PHOTO_MAX_BYTES and
 * IMAGE_MAX_PIXELS, decoded with the whole cascade in a guarded child (the
 * probe's limits), with at least one code read. Each target of the board
 * whose photos are uploaded (`image = uploads`) is judged on it as a
 * probe judges its board (policy.h), the photo is kept under
 * DATA_DIR/photos/BOARD/ and in board_photos, and the judgements go in as
 * one batch of the photo probe. A refusal keeps nothing and says why, in
 * r (400, 403, 404, 413, 422, 500).
 */
void dash_photo(struct dash *d, const struct dash_req *q, const char *board_id,
		struct reply *r);

/*
 * A probe's snapshot of a board it photographs (catalog_reads_board()),
 * which its own decoder could not read: decoded with the whole cascade in
 * a guarded child (the probe's limits), the reading answered in the
 * decoder's own reply format (decodereply.h), text/plain, for the probe
 * to judge as its own reading. Nothing is kept: the probe's result is the
 * evidence. A refusal is JSON with why (403, 404, 409, 415, 500).
 */
void dash_snapshot(struct dash *d, const struct dash_req *q, struct reply *r);

/*
 * GET /board/ID/photo: the board's latest photo with what was read on it,
 * and for a logged-in user the upload form (a phone's camera opens for
 * it); GET /board/ID/photo.img: that photo. 404 for a board whose photos
 * are not uploaded.
 */
void page_board_photo(struct dash *d, struct store_reader *rd, const struct dash_req *q,
		      const char *board_id, struct reply *r);
void board_photo_file(struct dash *d, struct store_reader *rd, const char *board_id,
		      struct reply *r);

/*
 * For a confirmed address (confirm.c): the photo probe's reading of a
 * board photographed by phones is that it still shows the old code (the
 * last code known on it), STALE until a photo shows the new one. 0, or
 * -1 with e.
 */
int photos_waiting(struct dash *d, const struct target *t, const char *old_code,
		   const char *new_code, struct err *e);

#endif
