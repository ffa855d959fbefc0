/* decode.c - the QR decoding cascade: image variants scanned by ZBar until one reads. */
#include "decode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zbar.h>

#include "imgops.h"
#include "regrid.h"
#ifdef QRW_ZXING
#include "zxing.h"
#endif
#include "../common/banned.h"

/*
 * Each step builds one variant from the original image. The order is
 * cheapest-and-most-likely first: most photos read as they are; print
 * texture and sensor noise yield to a light blur; small or soft codes to
 * enlarging with a sharpening pass (ZBar wants a few pixels per module);
 * dim photos to a contrast stretch; shadows to a local threshold;
 * light-on-dark codes to inversion. (Halving large photos was a step
 * until the yield measure showed it read nothing that another step had
 * not: ZXing-C++ scales down on its own.)
 */
typedef int (*variant_fn)(const struct image *src, struct image *dst);

static int v_asis(const struct image *src, struct image *dst)
{
	(void)src;
	(void)dst;
	return 1;	/* scan the original itself */
}

static int v_enlarge(const struct image *src, struct image *dst)
{
	struct image big = { 0, 0, NULL };
	int rc;

	if ((unsigned long long)src->w * src->h * 4 > DECODE_MAX_ENLARGED_PIXELS)
		return 2;	/* skip */
	if (imgop_scale(src, &big, 2, 1) < 0)
		return -1;
	rc = imgop_sharpen(&big, dst, 1);
	image_release(&big);
	return rc;
}

static int v_local(const struct image *src, struct image *dst)
{
	int side = src->w < src->h ? src->w : src->h;
	int r = side / 16 < 4 ? 4 : side / 16;

	return imgop_adaptive(src, dst, r, 8);
}

static const struct step {
	const char *name;
	variant_fn make;
} steps[] = {
	{ "as-is", v_asis },
	{ "smoothed", imgop_blur },
	{ "enlarged-sharpened", v_enlarge },
	{ "contrast-stretched", imgop_stretch },
	{ "local-threshold", v_local },
	{ "inverted", imgop_invert },
};

#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

/* Behind ZBar's steps, ZXing-C++ on the original, when built with it. */
#define ZXING_STEP "zxing"

/* Last, on every photo: bent codes resampled flat (regrid.h). */
#define REGRID_STEP "regridded"

#ifdef QRW_ZXING
#define ZXING_STEPS 1
#else
#define ZXING_STEPS 0
#endif

const char *const *decode_steps(void)
{
	static const char *names[NSTEPS + 3];
	size_t i;

	for (i = 0; i < NSTEPS; i++)
		names[i] = steps[i].name;
#ifdef QRW_ZXING
	names[i++] = ZXING_STEP;
#endif
	names[i++] = REGRID_STEP;
	names[i] = NULL;
	return names;
}

static zbar_image_scanner_t *scanner_new(void)
{
	zbar_image_scanner_t *sc = zbar_image_scanner_create();

	if (!sc)
		return NULL;
	/* QR only: every other symbology is attack surface we don't need. */
	zbar_image_scanner_set_config(sc, 0, ZBAR_CFG_ENABLE, 0);
	zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	/* Raw bytes: we decide the charset ourselves (qrtext.h). */
	zbar_image_scanner_set_config(sc, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
	return sc;
}

/*
 * Scan one variant (of the original's size ow x oh); fills r, each code
 * with its box in the original's pixels and the step's name. Returns the
 * codes found, or -1 on no memory.
 */
static int scan(zbar_image_scanner_t *sc, const struct image *img, int ow, int oh,
		const char *step, struct decode_result *r)
{
	zbar_image_t *zi = zbar_image_create();
	const zbar_symbol_t *sym;
	int n, rc = 0, before = r->n;

	if (!zi)
		return -1;
	zbar_image_set_format(zi, zbar_fourcc('Y', '8', '0', '0'));
	zbar_image_set_size(zi, (unsigned)img->w, (unsigned)img->h);
	zbar_image_set_data(zi, img->px, (unsigned long)img->w * img->h, NULL);
	n = zbar_scan_image(sc, zi);
	for (sym = n > 0 ? zbar_image_first_symbol(zi) : NULL;
	     sym && r->n < DECODE_MAX_CODES; sym = zbar_symbol_next(sym)) {
		struct qr_code *c = &r->codes[r->n];
		unsigned len = zbar_symbol_get_data_length(sym), pts;
		long x0 = img->w, y0 = img->h, x1 = 0, y1 = 0;

		if (zbar_symbol_get_type(sym) != ZBAR_QRCODE ||
		    len == 0 || len > DECODE_MAX_PAYLOAD)
			continue;
		c->raw = malloc(len + 1);
		if (!c->raw) {
			rc = -1;
			break;
		}
		memcpy(c->raw, zbar_symbol_get_data(sym), len);
		c->raw[len] = '\0';
		c->raw_len = len;
		c->charset = qr_text_from_bytes(c->raw, len, &c->text);
		/* its corners, from the variant's pixels back to the original's */
		pts = zbar_symbol_get_loc_size(sym);
		for (unsigned k = 0; k < pts; k++) {
			long px = zbar_symbol_get_loc_x(sym, k), py = zbar_symbol_get_loc_y(sym, k);

			x0 = px < x0 ? px : x0;
			y0 = py < y0 ? py : y0;
			x1 = px > x1 ? px : x1;
			y1 = py > y1 ? py : y1;
		}
		if (pts && x1 >= x0 && y1 >= y0)
			decode_box(c, x0 * ow / img->w, y0 * oh / img->h,
				   (x1 + 1) * ow / img->w, (y1 + 1) * oh / img->h, ow, oh);
		snprintf(c->step, sizeof(c->step), "%s", step);
		r->n++;
	}
	zbar_image_destroy(zi);
	return rc < 0 ? -1 : r->n - before;
}

/* The regrid step's reader: ZBar on the flattened code, its box the
 * bent code's in the original. */
struct regrid_reader {
	zbar_image_scanner_t *sc;
	struct decode_result *r;
	int ow, oh;
};

static int read_regridded(const struct image *clean, long x0, long y0,
			  long x1, long y1, void *arg)
{
	struct regrid_reader *rr = arg;
	int before = rr->r->n;
	int found = scan(rr->sc, clean, clean->w, clean->h, REGRID_STEP, rr->r);

	for (int i = before; found > 0 && i < rr->r->n; i++)
		decode_box(&rr->r->codes[i], x0, y0, x1, y1, rr->ow, rr->oh);
	return found;
}

/* Whether (x, y) lies in the box of a code read already. */
static int known_code(double x, double y, void *arg)
{
	const struct regrid_reader *rr = arg;

	for (int i = 0; i < rr->r->n; i++) {
		const struct qr_code *c = &rr->r->codes[i];

		if (x >= c->x && x < c->x + c->w && y >= c->y && y < c->y + c->h)
			return 1;
	}
	return rr->r->n >= DECODE_MAX_CODES;	/* no room for another */
}

static int regrid(zbar_image_scanner_t *sc, const struct image *img,
		  struct decode_result *r)
{
	struct regrid_reader rr = { sc, r, img->w, img->h };

	return regrid_scan(img, read_regridded, known_code, &rr);
}

#ifdef QRW_ZXING
static int zxing(zbar_image_scanner_t *sc, const struct image *img, struct decode_result *r)
{
	(void)sc;
	return zxing_scan(img, r, ZXING_STEP);
}
#endif

/*
 * A detector behind ZBar's steps, which runs whether or not they read:
 * what it adds, less its readings of codes read already; named the step
 * that read when it was the first. Returns 0, or -1 when memory ran out.
 */
static int run_behind(zbar_image_scanner_t *sc, const struct image *img,
		      struct decode_result *r,
		      int (*detect)(zbar_image_scanner_t *, const struct image *,
				    struct decode_result *),
		      const char *step, struct err *e)
{
	int before = r->n, found;

	if (before >= DECODE_MAX_CODES)
		return 0;
	if (!before)
		r->steps_tried++;
	found = detect(sc, img, r);
	if (found < 0)
		return err_set(e, "out of memory reading a code with '%s'", step);
	decode_drop_repeats(r, before);
	if (!before && r->n)
		r->step = step;
	return 0;
}

int decode_image(const struct image *img, struct decode_result *r,
		 struct err *e)
{
	zbar_image_scanner_t *sc;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	sc = scanner_new();
	if (!sc)
		return err_set(e, "cannot create the QR scanner");
	for (size_t i = 0; i < NSTEPS; i++) {
		struct image v = { 0, 0, NULL };
		int made = steps[i].make(img, &v), found;

		if (made < 0) {
			err_set(e, "out of memory preparing the '%s' variant of a "
				"%dx%d image", steps[i].name, img->w, img->h);
			goto out;
		}
		if (made == 2)
			continue;
		r->steps_tried++;
		found = scan(sc, made == 1 ? img : &v, img->w, img->h, steps[i].name, r);
		image_release(&v);
		if (found < 0) {
			err_set(e, "out of memory reading a decoded code");
			goto out;
		}
		if (found > 0) {
			r->step = steps[i].name;
			break;
		}
	}
#ifdef QRW_ZXING
	/*
	 * Behind ZBar's steps, and after any of them read a code too: a
	 * second code on the board (a sticker beside the official one) that
	 * ZBar missed must not go unseen. A code ZXing finds where one was
	 * read already is that one, not another.
	 */
	if (run_behind(sc, img, r, zxing, ZXING_STEP, e) < 0)
		goto out;
#endif
	/*
	 * Last, and after a read too: a bent sticker beside a flat official
	 * code must not go unseen either. Finders on a code read already are
	 * not tried again.
	 */
	if (run_behind(sc, img, r, regrid, REGRID_STEP, e) < 0)
		goto out;
	decode_result_order(r);
	rc = 0;
out:
	zbar_image_scanner_destroy(sc);
	if (rc < 0)
		decode_result_release(r);
	return rc;
}


int decode_yield(const struct image *img, unsigned *read, struct err *e)
{
	zbar_image_scanner_t *sc = scanner_new();
	struct decode_result r;
	int rc = 0;

	*read = 0;
	if (!sc)
		return err_set(e, "cannot create the QR scanner");
	for (size_t i = 0; i < NSTEPS && rc == 0; i++) {
		struct image v = { 0, 0, NULL };
		int made = steps[i].make(img, &v), found = 0;

		memset(&r, 0, sizeof(r));
		if (made < 0)
			rc = err_set(e, "out of memory preparing the '%s' variant", steps[i].name);
		else if (made != 2)
			found = scan(sc, made == 1 ? img : &v, img->w, img->h, steps[i].name, &r);
		image_release(&v);
		if (found < 0)
			rc = err_set(e, "out of memory reading a decoded code");
		else if (found > 0)
			*read |= 1u << i;
		decode_result_release(&r);
	}
#ifdef QRW_ZXING
	if (rc == 0) {
		int found;

		memset(&r, 0, sizeof(r));
		found = zxing_scan(img, &r, ZXING_STEP);
		if (found < 0)
			rc = err_set(e, "out of memory reading a decoded code");
		else if (found > 0)
			*read |= 1u << NSTEPS;
		decode_result_release(&r);
	}
#endif
	if (rc == 0) {
		int found;

		memset(&r, 0, sizeof(r));
		found = regrid(sc, img, &r);
		if (found < 0)
			rc = err_set(e, "out of memory resampling a bent code");
		else if (found > 0)
			*read |= 1u << (NSTEPS + ZXING_STEPS);
		decode_result_release(&r);
	}
	zbar_image_scanner_destroy(sc);
	return rc;
}
