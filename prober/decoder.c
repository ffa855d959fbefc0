/* decoder.c - qrwatch-probe-decode: the probe's board decoder, run under its limits only when a board changed. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../targets/decode.h"
#include "../targets/image.h"
#include "../common/buf.h"
#include "../common/banned.h"

/*
 * Usage: qrwatch-probe-decode < IMAGE
 *
 * Reads one image (PNG or JPEG, at most IMAGE_MAX_BYTES) on standard input,
 * runs the decoding cascade and writes the reply of targets/decodereply.h
 * on standard output. qrwatch-probe starts it under the guard's limits
 * (address space, CPU, a wall-clock deadline) so that ZBar and the image
 * libraries, which parse what is pinned on a board, are never mapped in
 * the long-running daemon. Exit status 0 with a reply, 2 when memory ran
 * out, 3 when the reply would be too large, 4 when the input could not be
 * read.
 */
int main(int argc, char **argv)
{
	struct buf in, out;
	struct decode_result r;
	struct image img;
	struct err e;
	char chunk[65536];
	ssize_t n;
	int rc = 0;

	(void)argv;
	memset(&r, 0, sizeof(r));
	if (argc != 1) {
		fputs("usage: qrwatch-probe-decode < IMAGE\n"
		      "Decode the QR codes of one board photo for qrwatch-probe.\n", stderr);
		return 2;
	}
	buf_init(&in, (size_t)IMAGE_MAX_BYTES + 1);
	while ((n = read(0, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			buf_release(&in);
			return 4;
		}
		buf_add(&in, chunk, (size_t)n);
	}
	buf_init(&out, DECODE_REPLY_MAX);
	if (in.overflow) {
		char why[128];

		snprintf(why, sizeof(why), "image is over the limit of %u bytes",
			 (unsigned)IMAGE_MAX_BYTES);
		decode_reply_refused(why, &out);
	} else if (image_load_mem(in.data ? in.data : "", in.len, &img, &e) < 0) {
		decode_reply_refused(e.msg, &out);
	} else {
		if (decode_image(&img, &r, &e) < 0)
			rc = 2;
		else
			decode_reply_write(&r, &out);
		image_release(&img);
		decode_result_release(&r);
	}
	buf_release(&in);
	if (out.overflow)
		rc = 3;
	if (rc == 0 && fwrite(out.data ? out.data : "", 1, out.len, stdout) != out.len)
		rc = 4;
	buf_release(&out);
	return rc;
}
