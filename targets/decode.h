/* decode.h - reading QR codes from a grey image with ZBar and a preprocessing cascade. */
#ifndef QRW_DECODE_H
#define QRW_DECODE_H

#include <stddef.h>

#include "image.h"
#include "qrtext.h"
#include "../common/err.h"

/* Named limits on what one image may yield. */
#define DECODE_MAX_CODES   8		/* codes kept per image */
#define DECODE_MAX_PAYLOAD 12000	/* bytes per code: QR v40 holds 2953,
					   ECI-converted text at most 4x that */
/*
 * Enlarging doubles each side; the cascade skips that step for images whose
 * enlarged copy would exceed this many pixels (slow, and a phone photo that
 * large needs no enlarging).
 */
#define DECODE_MAX_ENLARGED_PIXELS (8u * 1000 * 1000)

struct qr_code {
	char *raw;		/* the bytes ZBar returned (binary mode), NUL-terminated */
	size_t raw_len;
	char *text;		/* UTF-8, or NULL when the charset is unknown */
	enum qr_charset charset;
};

struct decode_result {
	int n;					/* codes found, 0..DECODE_MAX_CODES */
	struct qr_code codes[DECODE_MAX_CODES];
	const char *step;			/* cascade step that found them
						   (static string), NULL if none */
	int steps_tried;
};

/*
 * Run the cascade over img: each step prepares a variant of the image
 * (as is, smoothed, enlarged and sharpened, contrast-stretched, locally
 * thresholded, halved, inverted) and scans it with ZBar, QR symbology only;
 * the first step that finds a code ends the cascade. Returns 0 (r->n may be
 * 0 when nothing was found) or -1 when memory ran out. Release r with
 * decode_result_release().
 */
int decode_image(const struct image *img, struct decode_result *r,
		 struct err *e);

void decode_result_release(struct decode_result *r);

/* The cascade's step names, in order, NULL-terminated (for docs and tests). */
const char *const *decode_steps(void);

#endif
