/* zxing.h - ZXing-C++ as the decoding cascade's second detector, behind a C interface. */
#ifndef QRW_ZXING_H
#define QRW_ZXING_H

#ifdef __cplusplus
extern "C" {	/* the C headers below declare C functions, for zxing.cc too */
#endif

#include "decodereply.h"
#include "image.h"

/*
 * Read the QR codes in img with ZXing-C++ (Debian's libzxing-dev): it
 * finds codes that ZBar does not (tilted and perspective-warped, damaged
 * finder patterns, no quiet zone). Appends to r, up to DECODE_MAX_CODES,
 * each code's bytes as ZXing read them: raw (charset decided by
 * qr_text_from_bytes, as for ZBar) or, under an ECI, converted to UTF-8 as
 * ZBar does, with its box and step. Returns the codes added, or -1 when
 * memory ran out. Built
 * only with ZXing (make ZXING=yes, the default where pkg-config finds it).
 */
int zxing_scan(const struct image *img, struct decode_result *r, const char *step);

#ifdef __cplusplus
}
#endif

#endif
