/* qrtext.c - charset decisions for decoded QR bytes (see qrtext.h). */
#include "qrtext.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include "../common/text.h"
#include "../common/banned.h"

const char *qr_charset_name(enum qr_charset cs)
{
	switch (cs) {
	case QR_CHARSET_ASCII: return "ascii";
	case QR_CHARSET_UTF8: return "utf-8";
	case QR_CHARSET_LATIN1: return "iso-8859-1";
	case QR_CHARSET_SJIS: return "shift_jis";
	case QR_CHARSET_UNKNOWN: break;
	}
	return "unknown";
}

static char *dup_bytes(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* Convert with iconv; NULL if any byte sequence is invalid in `from`. */
static char *convert(const char *from, const char *raw, size_t n)
{
	iconv_t cd = iconv_open("UTF-8", from);
	size_t cap = n * 4 + 1, inleft = n, outleft = cap - 1;
	char *out, *in = (char *)raw, *o;

	if (cd == (iconv_t)-1)
		return NULL;
	out = malloc(cap);
	if (!out)
		goto fail;
	o = out;
	if (iconv(cd, &in, &inleft, &o, &outleft) == (size_t)-1 ||
	    iconv(cd, NULL, NULL, &o, &outleft) == (size_t)-1)
		goto fail;
	*o = '\0';
	iconv_close(cd);
	return out;
fail:
	free(out);
	iconv_close(cd);
	return NULL;
}

/*
 * What Shift_JIS would make of the bytes, counted without converting: the
 * longest run of double-byte characters (a lead byte 0x81-0x9F or
 * 0xE0-0xFC, then a trail byte) and of half-width katakana (0xA1-0xDF).
 * Whether the bytes are valid Shift_JIS at all is iconv's to say.
 */
static void sjis_signs(const unsigned char *b, size_t n, int *double_run, int *kana_run)
{
	int dr = 0, kr = 0;

	*double_run = *kana_run = 0;
	for (size_t i = 0; i < n; i++) {
		if (b[i] >= 0xa1 && b[i] <= 0xdf) {
			dr = 0;
			if (++kr > *kana_run)
				*kana_run = kr;
		} else if (((b[i] >= 0x81 && b[i] <= 0x9f) || (b[i] >= 0xe0 && b[i] <= 0xfc)) &&
			   i + 1 < n) {
			kr = 0;
			if (++dr > *double_run)
				*double_run = dr;
			i++;
		} else {
			dr = kr = 0;
		}
	}
}

/*
 * Shift_JIS as Japanese phones and ZXing read it: CP932, where 0x5C and
 * 0x7E are '\' and '~' (strict Shift_JIS makes them YEN SIGN and
 * OVERLINE, which breaks "URL:http\://"). Strict Shift_JIS only where the
 * iconv has no CP932.
 */
static char *from_sjis(const char *raw, size_t n)
{
	char *t = convert("CP932", raw, n);

	return t ? t : convert("SHIFT_JIS", raw, n);
}

enum qr_charset qr_text_from_bytes(const char *raw, size_t n, char **text)
{
	int c1 = 0, double_run, kana_run;
	char *sjis;

	*text = NULL;
	/* An embedded NUL would cut the text short wherever it is shown. */
	if (memchr(raw, '\0', n))
		return QR_CHARSET_UNKNOWN;
	if (text_is_ascii(raw, n)) {
		*text = dup_bytes(raw, n);
		return QR_CHARSET_ASCII;
	}
	/* byte for byte: decomposed Vietnamese stays as it was encoded */
	if (utf8_valid(raw, n)) {
		*text = dup_bytes(raw, n);
		return QR_CHARSET_UTF8;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)raw[i] >= 0x80 && (unsigned char)raw[i] <= 0x9f)
			c1 = 1;
	sjis = from_sjis(raw, n);
	sjis_signs((const unsigned char *)raw, n, &double_run, &kana_run);
	/*
	 * Bytes that fit both: Shift_JIS when they hold two double-byte
	 * characters or two half-width katakana in a row (日本, ﾃﾞｻﾞｲﾝ),
	 * which Latin-1 text, an accented letter here and there, hardly does
	 * ("Réunion" fits Shift_JIS too, with one double-byte character).
	 */
	if (sjis && (c1 || double_run >= 2 || kana_run >= 2)) {
		*text = sjis;
		return QR_CHARSET_SJIS;
	}
	free(sjis);
	if (!c1) {
		*text = convert("ISO-8859-1", raw, n);
		return *text ? QR_CHARSET_LATIN1 : QR_CHARSET_UNKNOWN;
	}
	return QR_CHARSET_UNKNOWN;
}

char *qr_hex(const char *raw, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *p = malloc(n * 2 + 1);

	if (!p)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		p[2 * i] = digits[(unsigned char)raw[i] >> 4];
		p[2 * i + 1] = digits[(unsigned char)raw[i] & 15];
	}
	p[2 * n] = '\0';
	return p;
}
