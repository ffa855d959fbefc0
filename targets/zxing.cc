/* zxing.cc - ZXing-C++ reading QR codes for the cascade (see zxing.h). */
#define ZX_USE_UTF8 1
#include "zxing.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include <ReadBarcode.h>

/* One code into r's next slot; false when memory ran out. */
static bool keep(const ZXing::Result &res, const struct image *img, const char *step,
		 struct decode_result *r)
{
	struct qr_code *c = &r->codes[r->n];
	std::string bytes;

	if (res.hasECI())
		bytes = res.text();	/* each ECI segment in UTF-8, as ZBar gives it */
	else
		bytes.assign(res.bytes().begin(), res.bytes().end());
	if (bytes.empty() || bytes.size() > DECODE_MAX_PAYLOAD)
		return true;	/* nothing to keep, as the ZBar scan skips it */
	c->raw = static_cast<char *>(std::malloc(bytes.size() + 1));
	if (!c->raw)
		return false;
	std::memcpy(c->raw, bytes.data(), bytes.size());
	c->raw[bytes.size()] = '\0';
	c->raw_len = bytes.size();
	c->charset = qr_text_from_bytes(c->raw, c->raw_len, &c->text);
	{
		const ZXing::Position &q = res.position();
		long x0 = img->w, y0 = img->h, x1 = 0, y1 = 0;

		for (const ZXing::PointI &pt : q) {
			x0 = pt.x < x0 ? pt.x : x0;
			y0 = pt.y < y0 ? pt.y : y0;
			x1 = pt.x > x1 ? pt.x : x1;
			y1 = pt.y > y1 ? pt.y : y1;
		}
		decode_box(c, x0, y0, x1 + 1, y1 + 1, img->w, img->h);
	}
	std::snprintf(c->step, sizeof(c->step), "%s", step);
	r->n++;
	return true;
}

extern "C" int zxing_scan(const struct image *img, struct decode_result *r, const char *step)
{
	int before = r->n;

	try {
		ZXing::ImageView view(img->px, img->w, img->h, ZXing::ImageFormat::Lum);
		ZXing::DecodeHints hints;

		/* QR only, and the hard way: rotations, inverted, downscaled too */
		hints.setFormats(ZXing::BarcodeFormat::QRCode);
		hints.setTryHarder(true);
		hints.setTryRotate(true);
		hints.setTryDownscale(true);
		hints.setMaxNumberOfSymbols(DECODE_MAX_CODES);
		for (const ZXing::Result &res : ZXing::ReadBarcodes(view, hints)) {
			if (r->n >= DECODE_MAX_CODES)
				break;
			if (res.isValid() && !keep(res, img, step, r))
				return -1;
		}
	} catch (const std::bad_alloc &) {
		return -1;
	} catch (...) {
		/* a library error on one image: nothing read by it */
	}
	return r->n - before;
}
