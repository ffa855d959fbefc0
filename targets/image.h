/* image.h - board photos read from PNG or JPEG into 8-bit grey, within named limits. */
#ifndef QRW_IMAGE_H
#define QRW_IMAGE_H

#include <stddef.h>

#include "../common/err.h"

/*
 * Limits checked before any pixel is decoded. A phone photo of a board is a
 * few megabytes and at most ~12 megapixels; a 16 MiB / 40 Mpx image is
 * refused as a probable decompression bomb rather than decoded.
 */
#define IMAGE_MAX_BYTES  (16u * 1024 * 1024)	/* file size */
#define IMAGE_MAX_PIXELS (40u * 1000 * 1000)	/* width x height */
#define IMAGE_MAX_SIDE   20000u			/* either dimension */

/* A grey image, one byte per pixel, rows packed (stride == w). */
struct image {
	int w, h;
	unsigned char *px;
};

/* Allocate a w x h image (contents undefined). Returns 0 or -1. */
int image_alloc(struct image *img, int w, int h);

/* Free the pixels; img may be reused. */
void image_release(struct image *img);

/*
 * Decode a PNG or JPEG (told apart by their signatures) from memory into
 * grey. Transparent pixels are composited onto white, as on paper. Refuses
 * unknown formats, corrupt or truncated data, and images over the limits
 * above, with the reason in e. The caller owns img->px on success.
 */
/* An image's kind by its signature: "png", "jpg", or NULL for neither (what loads). */
const char *image_kind(const void *data, size_t len);

int image_load_mem(const void *data, size_t len, struct image *img,
		   struct err *e);

/* image_load_mem() on a file, refusing files over IMAGE_MAX_BYTES first. */
int image_load_file(const char *path, struct image *img, struct err *e);

/* Write img as an 8-bit grey PNG. Returns 0 or -1 with e filled. */
int image_save_png(const struct image *img, const char *path, struct err *e);

/* Write img as a grey JPEG of quality 1..100. Returns 0 or -1 with e filled. */
int image_save_jpeg(const struct image *img, const char *path, int quality, struct err *e);

#endif
