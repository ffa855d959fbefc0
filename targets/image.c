/* image.c - PNG/JPEG loading into grey with limits checked before decoding. */
#include "image.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "../common/fileio.h"
#include "../common/banned.h"

int image_alloc(struct image *img, int w, int h)
{
	img->w = w;
	img->h = h;
	img->px = malloc((size_t)w * (size_t)h);
	return img->px ? 0 : -1;
}

void image_release(struct image *img)
{
	free(img->px);
	img->px = NULL;
	img->w = img->h = 0;
}

static int check_dims(const char *fmt, unsigned long w, unsigned long h,
		      struct err *e)
{
	if (w == 0 || h == 0)
		return err_set(e, "%s image has no pixels (%lux%lu)", fmt, w, h);
	if (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE ||
	    (unsigned long long)w * h > IMAGE_MAX_PIXELS)
		return err_set(e, "%s image is %lux%lu, over the limit of %u pixels "
			       "(%u per side)", fmt, w, h, IMAGE_MAX_PIXELS,
			       IMAGE_MAX_SIDE);
	return 0;
}

static int load_png(const void *data, size_t len, struct image *img,
		    struct err *e)
{
	png_image pi;
	png_color white = { 255, 255, 255 };
	int rc = -1;

	memset(&pi, 0, sizeof(pi));
	pi.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&pi, data, len))
		return err_set(e, "corrupt PNG: %s", pi.message);
	if (check_dims("PNG", pi.width, pi.height, e) < 0)
		goto out;
	pi.format = PNG_FORMAT_GRAY;
	if (image_alloc(img, (int)pi.width, (int)pi.height) < 0) {
		err_set(e, "out of memory for a %ux%u image", pi.width, pi.height);
		goto out;
	}
	if (!png_image_finish_read(&pi, &white, img->px, 0, NULL)) {
		err_set(e, "corrupt PNG: %s", pi.message);
		image_release(img);
		goto out;
	}
	rc = 0;
out:
	png_image_free(&pi);
	return rc;
}

struct jpeg_fail {
	struct jpeg_error_mgr mgr;
	jmp_buf jump;
	char msg[JMSG_LENGTH_MAX];
};

static void jpeg_fail_exit(j_common_ptr cinfo)
{
	struct jpeg_fail *f = (struct jpeg_fail *)cinfo->err;

	f->mgr.format_message(cinfo, f->msg);
	longjmp(f->jump, 1);
}

static void jpeg_quiet(j_common_ptr cinfo, int level)
{
	struct jpeg_fail *f = (struct jpeg_fail *)cinfo->err;

	/* A corrupt-data warning means a damaged file: treat it as an error. */
	if (level < 0 && f->mgr.num_warnings++ == 0)
		f->mgr.format_message(cinfo, f->msg);
}

static int load_jpeg(const void *data, size_t len, struct image *img,
		     struct err *e)
{
	struct jpeg_decompress_struct ci;
	struct jpeg_fail fail;
	/* volatile: read after a longjmp from inside libjpeg */
	unsigned char *volatile px = NULL;

	memset(&fail, 0, sizeof(fail));
	ci.err = jpeg_std_error(&fail.mgr);
	fail.mgr.error_exit = jpeg_fail_exit;
	fail.mgr.emit_message = jpeg_quiet;
	if (setjmp(fail.jump)) {
		jpeg_destroy_decompress(&ci);
		free(px);
		return err_set(e, "corrupt JPEG: %s", fail.msg);
	}
	jpeg_create_decompress(&ci);
	/* libjpeg's own working memory, on top of the output image */
	ci.mem->max_memory_to_use = 64L * 1024 * 1024;
	jpeg_mem_src(&ci, data, (unsigned long)len);
	jpeg_read_header(&ci, TRUE);
	if (check_dims("JPEG", ci.image_width, ci.image_height, e) < 0) {
		jpeg_destroy_decompress(&ci);
		return -1;
	}
	ci.out_color_space = JCS_GRAYSCALE;
	jpeg_start_decompress(&ci);
	px = malloc((size_t)ci.output_width * ci.output_height);
	if (!px) {
		jpeg_destroy_decompress(&ci);
		return err_set(e, "out of memory for a %ux%u image",
			       ci.output_width, ci.output_height);
	}
	/* stop at the first sign of damage: the rest of a refused file is not worth decoding */
	while (ci.output_scanline < ci.output_height && !fail.mgr.num_warnings) {
		JSAMPROW row = px + (size_t)ci.output_scanline * ci.output_width;

		jpeg_read_scanlines(&ci, &row, 1);
	}
	if (fail.mgr.num_warnings) {
		unsigned line = ci.output_scanline, height = ci.output_height;

		jpeg_destroy_decompress(&ci);
		free(px);
		return err_set(e, "corrupt JPEG at row %u of %u: %s", line, height,
			       fail.msg);
	}
	jpeg_finish_decompress(&ci);
	img->w = (int)ci.output_width;
	img->h = (int)ci.output_height;
	img->px = px;
	jpeg_destroy_decompress(&ci);
	return 0;
}

const char *image_kind(const void *data, size_t len)
{
	static const unsigned char png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n',
						  0x1a, '\n' };
	const unsigned char *p = data;

	if (len >= 8 && memcmp(p, png_sig, 8) == 0)
		return "png";
	if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return "jpg";
	return NULL;
}

int image_load_mem(const void *data, size_t len, struct image *img,
		   struct err *e)
{
	const char *kind;

	img->px = NULL;
	img->w = img->h = 0;
	if (len > IMAGE_MAX_BYTES)
		return err_set(e, "image is %zu bytes, over the limit of %u bytes",
			       len, IMAGE_MAX_BYTES);
	kind = image_kind(data, len);
	if (kind && !strcmp(kind, "png"))
		return load_png(data, len, img, e);
	if (kind)
		return load_jpeg(data, len, img, e);
	return err_set(e, "not a PNG or JPEG image");
}

int image_load_file(const char *path, struct image *img, struct err *e)
{
	size_t len;
	char *data;
	int rc;

	data = file_read(path, IMAGE_MAX_BYTES, &len, e);
	if (!data)
		return -1;
	rc = image_load_mem(data, len, img, e);
	free(data);
	if (rc < 0)
		err_prefix(e, "'%s'", path);
	return rc;
}

int image_save_png(const struct image *img, const char *path, struct err *e)
{
	png_image pi;

	memset(&pi, 0, sizeof(pi));
	pi.version = PNG_IMAGE_VERSION;
	pi.width = (png_uint_32)img->w;
	pi.height = (png_uint_32)img->h;
	pi.format = PNG_FORMAT_GRAY;
	if (!png_image_write_to_file(&pi, path, 0, img->px, 0, NULL))
		return err_set(e, "cannot write PNG '%s': %s", path, pi.message);
	return 0;
}

int image_save_jpeg(const struct image *img, const char *path, int quality, struct err *e)
{
	struct jpeg_compress_struct ci;
	struct jpeg_fail fail;
	/* on the heap: libjpeg updates it, and it is read after a longjmp */
	struct { unsigned char *mem; unsigned long size; } *out = calloc(1, sizeof(*out));
	FILE *f;
	int ok;

	if (!out)
		return err_set(e, "out of memory");
	memset(&ci, 0, sizeof(ci));
	ci.err = jpeg_std_error(&fail.mgr);
	fail.mgr.error_exit = jpeg_fail_exit;
	fail.msg[0] = '\0';
	if (setjmp(fail.jump)) {
		jpeg_destroy_compress(&ci);
		free(out->mem);
		free(out);
		return err_set(e, "cannot encode JPEG '%s': %s", path, fail.msg);
	}
	jpeg_create_compress(&ci);
	jpeg_mem_dest(&ci, &out->mem, &out->size);
	ci.image_width = (JDIMENSION)img->w;
	ci.image_height = (JDIMENSION)img->h;
	ci.input_components = 1;
	ci.in_color_space = JCS_GRAYSCALE;
	jpeg_set_defaults(&ci);
	jpeg_set_quality(&ci, quality, TRUE);
	jpeg_start_compress(&ci, TRUE);
	while (ci.next_scanline < ci.image_height) {
		JSAMPROW row = img->px + (size_t)ci.next_scanline * (size_t)img->w;

		jpeg_write_scanlines(&ci, &row, 1);
	}
	jpeg_finish_compress(&ci);
	jpeg_destroy_compress(&ci);
	f = fopen(path, "wb");
	ok = f && fwrite(out->mem, 1, out->size, f) == out->size;
	if (f)
		ok &= fclose(f) == 0;
	free(out->mem);
	free(out);
	return ok ? 0 : err_set(e, "cannot write '%s': %s", path, strerror(errno));
}
