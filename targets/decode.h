/* decode.h - reading QR codes from a grey image with ZBar and a preprocessing cascade. */
#ifndef QRW_DECODE_H
#define QRW_DECODE_H

#include <stddef.h>

#include "image.h"
#include "decodereply.h"
#include "qrtext.h"
#include "../common/err.h"

/*
 * Enlarging doubles each side; the cascade skips that step for images whose
 * enlarged copy would exceed this many pixels (slow, and a phone photo that
 * large needs no enlarging).
 */
#define DECODE_MAX_ENLARGED_PIXELS (8u * 1000 * 1000)

/*
 * Run the cascade over img: each step prepares a variant of the image
 * (as is, smoothed, enlarged and sharpened, contrast-stretched, locally
 * thresholded, inverted) and scans it with ZBar, QR symbology only,
 * until one finds a code; ZXing-C++ then reads the whole image too, when
 * built with it; last, bent codes are resampled flat (regrid.h) for
 * ZBar (docs/decoding.md). Every code found, in reading
 * order. Returns 0 (r->n may be 0 when nothing was found) or -1 when
 * memory ran out. Release r with
 * decode_result_release().
 */
int decode_image(const struct image *img, struct decode_result *r,
		 struct err *e);

/* The cascade's step names, in order, NULL-terminated (for docs and tests). */
const char *const *decode_steps(void);

/*
 * Every step of the cascade on img, each on its own (none stops the
 * others): bit i of *read is set when step i (decode_steps() order) read a
 * code. For measuring what each step is worth (qrwatch decode --yield, the
 * benchmark), never for judging a board. Returns 0, or -1 when memory ran
 * out.
 */
int decode_yield(const struct image *img, unsigned *read, struct err *e);

#endif
