/* fuzz_image.c - loading board photos (targets/image.c: libpng, libjpeg) from any bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../targets/image.h"
#include "../../common/banned.h"

/*
 * A board photo comes from a camera on the village LAN or a file someone
 * copied: the bytes are not ours. Whatever they are:
 *   - a refusal says why and leaves no pixels behind;
 *   - an image has 1 to IMAGE_MAX_SIDE pixels a side and at most
 *     IMAGE_MAX_PIXELS, and all w x h of its pixels can be read;
 *   - a small image written as PNG and read back gives the same pixels.
 */
#define ROUND_TRIP_MAX_PIXELS (256 * 256)	/* keep the harness quick */

static volatile unsigned sink;		/* the pixels' sum, so that reading them stays */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image img, back;
	struct err e;
	unsigned sum = 0;

	e.msg[0] = '\0';
	if (image_load_mem(data, size, &img, &e) < 0) {
		if (!e.msg[0] || img.px)
			abort();
		return 0;
	}
	if (!img.px || img.w < 1 || img.h < 1 || (unsigned)img.w > IMAGE_MAX_SIDE ||
	    (unsigned)img.h > IMAGE_MAX_SIDE ||
	    (unsigned long long)img.w * (unsigned long long)img.h > IMAGE_MAX_PIXELS)
		abort();
	/* every pixel is there (a short buffer is a sanitizer report) */
	for (size_t i = 0; i < (size_t)img.w * (size_t)img.h; i++)
		sum += img.px[i];
	if ((size_t)img.w * (size_t)img.h <= ROUND_TRIP_MAX_PIXELS) {
		char path[4200];

		snprintf(path, sizeof(path), "%s/back.png", fuzz_tmpdir());
		if (image_save_png(&img, path, &e) < 0 || image_load_file(path, &back, &e) < 0) {
			fprintf(stderr, "fuzz_image: %s\n", e.msg);
			abort();
		}
		if (back.w != img.w || back.h != img.h ||
		    memcmp(back.px, img.px, (size_t)img.w * (size_t)img.h) != 0)
			abort();
		image_release(&back);
	}
	image_release(&img);
	sink = sum;
	return 0;
}
