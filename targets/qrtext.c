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

enum qr_charset qr_text_from_bytes(const char *raw, size_t n, char **text)
{
	int c1 = 0;

	*text = NULL;
	/* An embedded NUL would cut the text short wherever it is shown. */
	if (memchr(raw, '\0', n))
		return QR_CHARSET_UNKNOWN;
	if (text_is_ascii(raw, n)) {
		*text = dup_bytes(raw, n);
		return QR_CHARSET_ASCII;
	}
	if (utf8_valid(raw, n)) {
		*text = dup_bytes(raw, n);
		return QR_CHARSET_UTF8;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)raw[i] >= 0x80 && (unsigned char)raw[i] <= 0x9f)
			c1 = 1;
	if (!c1) {
		*text = convert("ISO-8859-1", raw, n);
		return *text ? QR_CHARSET_LATIN1 : QR_CHARSET_UNKNOWN;
	}
	*text = convert("SHIFT_JIS", raw, n);
	return *text ? QR_CHARSET_SJIS : QR_CHARSET_UNKNOWN;
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
