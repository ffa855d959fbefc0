/* imgops.h - the grey-image operations the decoding cascade is built from. */
#ifndef QRW_IMGOPS_H
#define QRW_IMGOPS_H

#include "image.h"

/*
 * Each operation writes a new image into dst (allocated here; the caller
 * releases it) and returns 0, or -1 when memory runs out. src is never
 * changed.
 */

/* Resize by num/den with bilinear interpolation. */
int imgop_scale(const struct image *src, struct image *dst, int num, int den);

/* Stretch the grey levels so that the 1st..99th percentiles span 0..255. */
int imgop_stretch(const struct image *src, struct image *dst);

/*
 * Local (adaptive) threshold: a pixel becomes black when it is darker than
 * the mean of the (2r+1)^2 window around it by more than `offset` levels.
 * Handles shadows and uneven light that defeat one global threshold.
 */
int imgop_adaptive(const struct image *src, struct image *dst, int r,
		   int offset);

/* One global threshold chosen by Otsu's method. */
int imgop_otsu(const struct image *src, struct image *dst);

/* Swap black and white (light codes on dark boards). */
int imgop_invert(const struct image *src, struct image *dst);

/*
 * Unsharp mask: add `amount` times the difference between the image and a
 * 5x5 binomial blur of it. Restores module edges that enlarging softened.
 */
int imgop_sharpen(const struct image *src, struct image *dst, int amount);

/* 3x3 box blur: smooths print texture and sensor noise. */
int imgop_blur(const struct image *src, struct image *dst);

/*
 * Make a clean code look like a phone photo of a notice board: on a paper
 * margin, tilted by tilt_deg, lit unevenly (one corner darker), softened
 * and with sensor noise. seed makes the noise repeatable. For test boards
 * and the demo, never for decoding.
 */
int imgop_photo(const struct image *src, struct image *dst, double tilt_deg,
		unsigned seed);

#endif
