/* decodereply.h - what decoding an image yields, and the one reply format that carries it out of a decoding process. */
#ifndef QRW_DECODEREPLY_H
#define QRW_DECODEREPLY_H

#include <stddef.h>

#include "qrtext.h"
#include "../common/buf.h"
#include "../common/err.h"

/* Named limits on what one image may yield. */
#define DECODE_MAX_CODES   8		/* codes kept per image */
#define DECODE_MAX_PAYLOAD 12000	/* bytes per code: QR v40 holds 2953,
					   ECI-converted text at most 4x that */
#define DECODE_STEP_MAX    32		/* a cascade step's name, with its NUL */
#define DECODE_REPLY_MAX   ((size_t)DECODE_MAX_CODES * (DECODE_MAX_PAYLOAD + 64) + 1024)

struct qr_code {
	char *raw;		/* the bytes the detector returned (ZBar in binary mode), NUL-terminated */
	size_t raw_len;
	char *text;		/* UTF-8, or NULL when the charset is unknown */
	enum qr_charset charset;
	int x, y, w, h;		/* where it is: its bounding box in the image's pixels */
	char step[DECODE_STEP_MAX];	/* the cascade step that read it */
};

/* The codes of an image, in reading order: top to bottom, then left to right. */
struct decode_result {
	int n;					/* codes found, 0..DECODE_MAX_CODES */
	struct qr_code codes[DECODE_MAX_CODES];
	const char *step;			/* cascade step that found them
						   (static string, or step_name
						   when read from a reply), NULL if none */
	char step_name[DECODE_STEP_MAX];
	int steps_tried;
};

void decode_result_release(struct decode_result *r);

/* Set c's box from the corners (x0, y0) to (x1, y1) (exclusive), clipped to w x h. */
void decode_box(struct qr_code *c, long x0, long y0, long x1, long y1, int w, int h);

/*
 * Drop the codes from index from on whose middle lies inside the box of a
 * code before it: a second detector's reading of a code read already.
 */
void decode_drop_repeats(struct decode_result *r, int from);

/* Put r's codes in reading order: rows top to bottom (codes whose middles
 * lie within half a code's height of each other share a row), each row
 * left to right, so that the same board always lists its codes alike. */
void decode_result_order(struct decode_result *r);

/* A deep copy of src into dst (its step as a name of its own); -1 when memory ran out (dst empty). */
int decode_result_copy(struct decode_result *dst, const struct decode_result *src);

/*
 * How a decode ended, as the reply says it. The reply is one record per
 * line, byte strings framed by their length: "R <reason>\n" (the image was
 * refused) | "N <steps>\n" (no code) | "F <steps> <step> <count>\n" then
 * per code "<charset> <len> <x> <y> <w> <h> <step>\n<bytes>".
 */
enum guard_status {
	GUARD_FOUND,	/* at least one code in r */
	GUARD_NONE,	/* image read, no code found */
	GUARD_REFUSED,	/* image refused: too large, corrupt, unknown format */
	GUARD_FAILED,	/* the decoder crashed or hit a limit */
};

/* Append r's reply (N or F) to out. */
void decode_reply_write(const struct decode_result *r, struct buf *out);

/* Append a refusal (one line: newlines in why become spaces) to out. */
void decode_reply_refused(const char *why, struct buf *out);

/*
 * Read a reply into r (zeroed first; release it with
 * decode_result_release()). The charset of each code is worked out again
 * here, never taken from the reply. GUARD_REFUSED sets e to the reason;
 * a malformed reply is GUARD_FAILED.
 */
enum guard_status decode_reply_read(const struct buf *reply, struct decode_result *r,
				    struct err *e);

#endif
