/* posterpdf.c - the poster a commune pins up, as PDF (A5 or A4) drawn with cairo. */
#include "posterpdf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cairo.h>
#include <cairo-pdf.h>
#include <fontconfig/fontconfig.h>
#include <openssl/evp.h>
#include <qrencode.h>

#include "banks.h"
#include "domain.h"
#include "emvco.h"
#include "poster.h"
#include "../common/banned.h"

#define QUIET 4			/* modules of white around the code */
#define VN_OFFSET_S (7 * 3600)	/* Vietnam time, UTC+7 all year */
#define FONT "DejaVu Sans"
#define ADDRESS_SHOWN 60	/* characters of a link printed before "…" */

/* printf into a fixed field, clipped (a long catalog name is cut, not an error). */
__attribute__((format(printf, 3, 4)))
static void put(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}

/* The link without its scheme, cut at ADDRESS_SHOWN characters (UTF-8 safe). */
static void short_address(const char *url, char *out, size_t n)
{
	const char *p = strstr(url, "://");
	size_t len, cut;

	p = p ? p + 3 : url;
	len = strlen(p);
	cut = len > ADDRESS_SHOWN ? ADDRESS_SHOWN : len;
	while (cut < len && cut > 0 && ((unsigned char)p[cut] & 0xC0) == 0x80)
		cut--;
	snprintf(out, n, "%.*s%s", (int)cut, p, cut < len ? "…" : "");
}

int poster_text(const struct target *t, long long now, struct poster_text *pt,
		struct err *e)
{
	const struct place *pl = t->board ? t->board->place : NULL;
	struct buf payload;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	time_t vn = (time_t)(now + VN_OFFSET_S);
	struct tm tm;

	memset(pt, 0, sizeof(*pt));
	buf_init(&payload, 8192);
	if (poster_payload(t, &payload, e) < 0) {
		buf_release(&payload);
		return -1;
	}
	put(pt->issuer, sizeof(pt->issuer), "Ủy ban nhân dân %s%s%s",
	    pl && pl->commune ? pl->commune : "xã", pl && pl->province ? " · " : "",
	    pl && pl->province ? pl->province : "");
	put(pt->title, sizeof(pt->title), "%s", t->procedure ? t->procedure : t->id);
	put(pt->place, sizeof(pt->place), "%s%s%s", pl && pl->village ? pl->village : "",
	    pl && pl->village && t->board && t->board->location ? " · " : "",
	    t->board && t->board->location ? t->board->location : "");
	put(pt->steps[0], sizeof(pt->steps[0]), "1. Mở camera của điện thoại, hoặc Zalo "
	    "(mục Quét mã QR).");
	put(pt->steps[1], sizeof(pt->steps[1]), "2. Hướng camera vào mã, giữ yên đến khi "
	    "hiện đường dẫn.");
	if (t->kind == TARGET_VIETQR) {
		struct emvco q;
		struct err pe;

		put(pt->steps[2], sizeof(pt->steps[2]), "3. Kiểm tra tên người nhận, rồi mới "
		    "xác nhận trả tiền.");
		char bank[96];
		const char *bin = t->payee_bin, *name;

		if (emvco_parse(buf_str(&payload), payload.len, &q, &pe) < 0)
			memset(&q, 0, sizeof(q));
		if (!bin)
			bin = q.bin;
		/* the bank by name, from the shipped table; its BIN when unknown */
		name = bank_name(bin);
		if (name)
			put(bank, sizeof(bank), "%s", name);
		else
			put(bank, sizeof(bank), "ngân hàng mã %s", bin ? bin : "?");
		if (q.merchant[0])
			put(pt->guard, sizeof(pt->guard), "Trước khi trả tiền, kiểm tra người "
			    "nhận là “%s”, tài khoản %s tại %s. Tên khác: đừng trả, báo Ủy ban.",
			    q.merchant, t->payee_account ? t->payee_account : q.account, bank);
		else
			put(pt->guard, sizeof(pt->guard), "Trước khi trả tiền, kiểm tra tài "
			    "khoản nhận là %s tại %s. Tài khoản khác: đừng trả, báo Ủy ban.",
			    t->payee_account ? t->payee_account : q.account, bank);
		/* the code's own purpose and amount, as the payer's bank app will show them */
		put(pt->address, sizeof(pt->address), "Tài khoản nhận: %s%s%s%s%s%s",
		    t->payee_account ? t->payee_account : q.account,
		    q.purpose[0] ? " · Nội dung: " : "", q.purpose,
		    q.amount[0] ? " · Số tiền: " : "", q.amount, q.amount[0] ? " đồng" : "");
	} else {
		char host[256] = "";
		struct err he;

		put(pt->steps[2], sizeof(pt->steps[2]), "3. Xem tên miền trong đường dẫn, "
		    "rồi mới bấm mở.");
		if (t->nofficial)
			put(host, sizeof(host), "%s", t->official[0]);
		else if (url_parse_http(buf_str(&payload), host, sizeof(host), &he) < 0)
			host[0] = '\0';
		put(pt->guard, sizeof(pt->guard), "Chỉ mở khi tên miền là %s. Mã dán đè hoặc "
		    "tên miền lạ: đừng mở, báo Ủy ban.", host[0] ? host : "của cổng dịch vụ công");
		short_address(buf_str(&payload), pt->address, sizeof(pt->address));
	}
	gmtime_r(&vn, &tm);
	strftime(pt->date, sizeof(pt->date), "In ngày %d/%m/%Y", &tm);
	EVP_Digest(payload.data, payload.len, md, &mdlen, EVP_sha256(), NULL);
	put(pt->serial, sizeof(pt->serial), "Số: %s-%02x%02x%02x%02x", t->id, md[0], md[1],
	    md[2], md[3]);
	buf_release(&payload);
	return 0;
}

static cairo_status_t to_buf(void *closure, const unsigned char *data, unsigned int len)
{
	return buf_add(closure, data, len) < 0 ? CAIRO_STATUS_WRITE_ERROR : CAIRO_STATUS_SUCCESS;
}

/*
 * Draw s centred on x, wrapped to width, from baseline y; returns the
 * baseline after it. Words are kept whole.
 */
static double text_block(cairo_t *cr, const char *s, double x, double y, double width,
			 double size, int bold)
{
	char line[512];
	const char *p = s;

	cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL,
			       bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, size);
	while (*p) {
		size_t fit = 0, n = 0;
		cairo_text_extents_t ex;

		/* the most words that fit the width */
		while (p[n]) {
			size_t next = n;

			while (p[next] == ' ')
				next++;
			while (p[next] && p[next] != ' ')
				next++;
			if (next >= sizeof(line))
				break;
			memcpy(line, p, next);
			line[next] = '\0';
			cairo_text_extents(cr, line, &ex);
			if (ex.x_advance > width && fit)
				break;
			fit = n = next;
		}
		if (!fit)
			break;
		memcpy(line, p, fit);
		line[fit] = '\0';
		cairo_text_extents(cr, line, &ex);
		cairo_move_to(cr, x - ex.x_advance / 2, y);
		cairo_show_text(cr, line);
		y += size * 1.3;
		p += fit;
		while (*p == ' ')
			p++;
	}
	return y;
}

/* One poster on the current page, w x h points. */
static int draw_poster(cairo_t *cr, const struct target *t, double w, double h,
		       long long now, struct err *e)
{
	struct poster_text pt;
	QRcode *qr = poster_encode(t, e);
	double k = w / 420.0;	/* A5 is 420 points wide: everything scales with it */
	double y, code, mod, x0;
	int side;

	if (!qr)
		return -1;
	if (poster_text(t, now, &pt, e) < 0) {
		QRcode_free(qr);
		return -1;
	}
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	y = text_block(cr, pt.issuer, w / 2, 40 * k, w - 60 * k, 11 * k, 0);
	y = text_block(cr, pt.title, w / 2, y + 12 * k, w - 60 * k, 20 * k, 1);
	if (pt.place[0])
		y = text_block(cr, pt.place, w / 2, y + 2 * k, w - 60 * k, 10 * k, 0);
	side = qr->width + 2 * QUIET;
	code = 230 * k;
	mod = code / side;
	x0 = (w - code) / 2;
	y += 4 * k;
	for (int r = 0; r < qr->width; r++)
		for (int c = 0; c < qr->width; c++)
			if (qr->data[r * qr->width + c] & 1)
				cairo_rectangle(cr, x0 + (c + QUIET) * mod, y + (r + QUIET) * mod,
						mod, mod);
	cairo_fill(cr);
	QRcode_free(qr);
	y = text_block(cr, pt.address, w / 2, y + code + 6 * k, w - 60 * k, 10 * k, 0);
	y += 8 * k;
	for (int i = 0; i < 3; i++)
		y = text_block(cr, pt.steps[i], w / 2, y, w - 60 * k, 11 * k, 0);
	text_block(cr, pt.guard, w / 2, y + 8 * k, w - 70 * k, 11 * k, 1);
	text_block(cr, pt.date, w / 2, h - 30 * k, w - 60 * k, 8 * k, 0);
	text_block(cr, pt.serial, w / 2, h - 19 * k, w - 60 * k, 7 * k, 0);
	if (cairo_status(cr) != CAIRO_STATUS_SUCCESS)
		return err_set(e, "cannot draw the poster of '%s': %s", t->id,
			       cairo_status_to_string(cairo_status(cr)));
	return 0;
}

int poster_pdf(const struct target *const *targets, size_t n, enum poster_size size,
	       long long now, struct buf *out, struct err *e)
{
	/* ISO sizes in points (1/72 inch) */
	double w = size == POSTER_A4 ? 595.28 : 419.53, h = size == POSTER_A4 ? 841.89 : 595.28;
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(to_buf, out, w, h);
	cairo_t *cr = cairo_create(s);
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = draw_poster(cr, targets[i], w, h, now, e);
		if (rc == 0)
			cairo_show_page(cr);
	}
	cairo_destroy(cr);
	cairo_surface_finish(s);
	if (rc == 0 && cairo_surface_status(s) != CAIRO_STATUS_SUCCESS)
		rc = err_set(e, "cannot write the PDF: %s",
			     cairo_status_to_string(cairo_surface_status(s)));
	cairo_surface_destroy(s);
	if (rc == 0 && out->overflow)
		rc = err_set(e, "the posters' PDF is too large");
	return rc;
}

void poster_pdf_cleanup(void)
{
	cairo_debug_reset_static_data();
	FcFini();
}
