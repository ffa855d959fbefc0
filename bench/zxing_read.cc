/* zxing_read.cc - ZXing-C++ alone on one image, for the decoding benchmark's "ZXing-C++" column. */
#define ZX_USE_UTF8 1
#include <cstdio>

#include <ReadBarcode.h>

extern "C" {
#include "../targets/image.h"
}

/*
 * Usage: zxing_read IMAGE... Loads each image as the probe does (the
 * project's loader, grey), reads it with ZXing-C++ as Debian ships it (QR
 * only, try harder, rotations, downscaling) and prints each code's text as
 * ZXing decodes it, one per line: ZXing's own charset guess, not the
 * project's. Exit status 2 when an image cannot be loaded.
 */
int main(int argc, char **argv)
{
	ZXing::DecodeHints hints;
	int rc = 0;

	if (argc < 2) {
		std::fprintf(stderr, "usage: zxing_read IMAGE...\n");
		return 2;
	}
	hints.setFormats(ZXing::BarcodeFormat::QRCode);
	hints.setTryHarder(true);
	hints.setTryRotate(true);
	hints.setTryDownscale(true);
	for (int i = 1; i < argc; i++) {
		struct image img = { 0, 0, nullptr };
		struct err e;

		if (image_load_file(argv[i], &img, &e) < 0) {
			std::fprintf(stderr, "zxing_read: %s\n", e.msg);
			rc = 2;
			continue;
		}
		ZXing::ImageView view(img.px, img.w, img.h, ZXing::ImageFormat::Lum);
		for (const ZXing::Result &r : ZXing::ReadBarcodes(view, hints))
			if (r.isValid())
				std::printf("%s\n", r.text().c_str());
		image_release(&img);
	}
	return rc;
}
