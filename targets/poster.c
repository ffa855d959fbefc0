/* poster.c - replacement posters with libqrencode (see poster.h). */
#include "poster.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <png.h>
#include <qrencode.h>

#include "emvco.h"
#include "image.h"
#include "../common/fileio.h"
#include "../common/text.h"
#include "../common/banned.h"

#define QUIET 4		/* modules of white around the code, per the standard */
#define POSTER_MAX_BYTES (64u * 1024 * 1024)

int poster_payload(const struct target *t, struct buf *out, struct err *e)
{
	if (t->payload)
		return buf_adds(out, t->payload) < 0 ?
			err_set(e, "payload too large") : 0;
	if (t->kind == TARGET_VIETQR && t->payee_bin && t->payee_account) {
		if (emvco_build_vietqr(out, t->payee_bin, t->payee_account, NULL,
				       NULL) < 0)
			return err_set(e, "cannot build a payment code for '%s'", t->id);
		return 0;
	}
	return err_set(e, "target '%s' has no registered payload to print", t->id);
}

QRcode *poster_encode(const struct target *t, struct err *e)
{
	struct buf p;
	QRcode *qr;

	buf_init(&p, 8192);
	if (poster_payload(t, &p, e) < 0) {
		buf_release(&p);
		return NULL;
	}
	/* 8-bit mode, no ECI: UTF-8 bytes, as most encoders and readers expect */
	qr = QRcode_encodeData((int)p.len, (const unsigned char *)p.data, 0,
			       QR_ECLEVEL_Q);
	buf_release(&p);
	if (!qr)
		err_set(e, "payload of '%s' does not fit in a QR code", t->id);
	return qr;
}


int poster_render(const QRcode *qr, int scale, struct image *img)
{
	int side = (qr->width + 2 * QUIET) * scale;

	if (image_alloc(img, side, side) < 0)
		return -1;
	memset(img->px, 255, (size_t)side * side);
	for (int y = 0; y < qr->width; y++)
		for (int x = 0; x < qr->width; x++) {
			if (!(qr->data[y * qr->width + x] & 1))
				continue;
			for (int dy = 0; dy < scale; dy++)
				memset(img->px + (size_t)((y + QUIET) * scale + dy) * side +
				       (size_t)(x + QUIET) * scale, 0, (size_t)scale);
		}
	return 0;
}

int poster_png(const struct target *t, struct buf *out, struct err *e)
{
	QRcode *qr = poster_encode(t, e);
	png_image pi;
	struct image im;
	unsigned char *img;
	int scale, px;
	png_alloc_size_t size = 0;
	int rc = -1;

	if (!qr)
		return -1;
	/* pixels per module so the code is about POSTER_CODE_MM wide */
	scale = (int)((POSTER_CODE_MM / 25.4 * POSTER_DPI) /
		      (qr->width + 2 * QUIET) + 0.5);
	if (scale < 2)
		scale = 2;
	if (poster_render(qr, scale, &im) < 0) {
		QRcode_free(qr);
		return err_set(e, "out of memory");
	}
	img = im.px;
	px = im.w;
	memset(&pi, 0, sizeof(pi));
	pi.version = PNG_IMAGE_VERSION;
	pi.width = (png_uint_32)px;
	pi.height = (png_uint_32)px;
	pi.format = PNG_FORMAT_GRAY;
	if (!png_image_write_to_memory(&pi, NULL, &size, 0, img, 0, NULL)) {
		err_set(e, "cannot encode PNG: %s", pi.message);
		goto out;
	}
	{
		void *mem = malloc(size);

		if (!mem) {
			err_set(e, "out of memory");
			goto out;
		}
		if (!png_image_write_to_memory(&pi, mem, &size, 0, img, 0, NULL)) {
			err_set(e, "cannot encode PNG: %s", pi.message);
			free(mem);
			goto out;
		}
		rc = buf_add(out, mem, size) < 0 ? err_set(e, "poster too large") : 0;
		free(mem);
	}
out:
	image_release(&im);
	QRcode_free(qr);
	return rc;
}

/* XML-escape text for SVG. */
static int add_xml(struct buf *b, const char *s)
{
	for (; *s; s++) {
		const char *r = NULL;

		switch (*s) {
		case '&': r = "&amp;"; break;
		case '<': r = "&lt;"; break;
		case '>': r = "&gt;"; break;
		case '"': r = "&quot;"; break;
		case '\'': r = "&#39;"; break;
		default: break;
		}
		if (r ? buf_adds(b, r) < 0 : buf_addc(b, *s) < 0)
			return -1;
	}
	return 0;
}

static void text_line(struct buf *b, double y, double size, int bold,
		      const char *s)
{
	buf_addf(b, "<text x=\"74\" y=\"%.1f\" font-size=\"%.1f\"%s "
		 "text-anchor=\"middle\">", y, size,
		 bold ? " font-weight=\"bold\"" : "");
	add_xml(b, s);
	buf_adds(b, "</text>\n");
}

int poster_svg(const struct target *t, struct buf *out, struct err *e)
{
	QRcode *qr = poster_encode(t, e);
	struct buf place;
	double mod, x0, y0;
	char date[32];
	time_t now = time(NULL) + 7 * 3600;	/* Vietnam time, as the PDF's */
	struct tm tm;
	int side;

	if (!qr)
		return -1;
	buf_init(&place, 1024);
	if (t->board && t->board->place)
		place_format(t->board->place, &place);
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%d/%m/%Y", &tm);
	side = qr->width + 2 * QUIET;
	mod = (double)POSTER_CODE_MM / side;
	x0 = (148.0 - POSTER_CODE_MM) / 2;
	y0 = 62;
	buf_adds(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"148mm\" "
		 "height=\"210mm\" viewBox=\"0 0 148 210\" "
		 "font-family=\"DejaVu Sans, Noto Sans, Arial, sans-serif\">\n"
		 "<rect width=\"148\" height=\"210\" fill=\"#fff\"/>\n");
	text_line(out, 18, 5, 0, "Quét mã để thực hiện thủ tục trực tuyến");
	text_line(out, 32, 8, 1, t->procedure ? t->procedure : t->id);
	text_line(out, 44, 4.5, 0, buf_str(&place));
	if (t->board && t->board->location)
		text_line(out, 52, 4, 0, t->board->location);
	buf_addf(out, "<path fill=\"#000\" d=\"");
	for (int y = 0; y < qr->width; y++)
		for (int x = 0; x < qr->width; x++)
			if (qr->data[y * qr->width + x] & 1)
				buf_addf(out, "M%.3f %.3fh%.3fv%.3fh-%.3fz",
					 x0 + (x + QUIET) * mod, y0 + (y + QUIET) * mod,
					 mod, mod, mod);
	buf_adds(out, "\"/>\n");
	{
		char foot[160];

		snprintf(foot, sizeof(foot), "Mã thay thế, in ngày %s · %s", date,
			 t->id);
		text_line(out, 158, 3.5, 0, foot);
	}
	buf_adds(out, "</svg>\n");
	buf_release(&place);
	QRcode_free(qr);
	if (out->overflow)
		return err_set(e, "poster too large");
	return 0;
}

int poster_write(const struct target *t, const char *path, struct err *e)
{
	struct buf b;
	int rc;

	buf_init(&b, POSTER_MAX_BYTES);
	if (text_ends_with(path, ".png") || text_ends_with(path, ".PNG"))
		rc = poster_png(t, &b, e);
	else if (text_ends_with(path, ".svg") || text_ends_with(path, ".SVG"))
		rc = poster_svg(t, &b, e);
	else
		rc = err_set(e, "poster file '%s' must end in .png or .svg", path);
	if (rc == 0)
		rc = file_write_atomic(path, b.data, b.len, e);
	buf_release(&b);
	return rc;
}
