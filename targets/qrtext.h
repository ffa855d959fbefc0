/* qrtext.h - turning the bytes of a decoded QR code into UTF-8 text, or saying we can't. */
#ifndef QRW_QRTEXT_H
#define QRW_QRTEXT_H

#include <stddef.h>

/*
 * How the bytes were read. ZBar (in binary mode) hands us byte and Kanji
 * segments raw, and segments under an ECI designator already converted to
 * UTF-8 from the charset the ECI names. From there:
 *
 *   ASCII      all bytes below 0x80
 *   UTF-8      valid UTF-8: ECI-converted text, or what most encoders
 *              write today without an ECI
 *   Shift_JIS  Kanji mode (and JIS8, the 2000 edition's default), read
 *              as CP932 ('\' and '~' stay themselves): taken when the
 *              whole text converts and it cannot be Latin-1 (a byte in
 *              0x80-0x9F) or looks Japanese (two double-byte characters
 *              or two half-width katakana in a row)
 *   ISO-8859-1 the QR standard's default for byte mode; taken last, when
 *              no byte falls in 0x80-0x9F (C1 controls never appear in
 *              real Latin-1 text)
 *   UNKNOWN    none of the above: the payload is reported as bytes
 *              (hex), never printed as mojibake
 */
enum qr_charset {
	QR_CHARSET_ASCII,
	QR_CHARSET_UTF8,
	QR_CHARSET_LATIN1,
	QR_CHARSET_SJIS,
	QR_CHARSET_UNKNOWN,
};

/* Name for messages and JSON: "ascii", "utf-8", "iso-8859-1", ... */
const char *qr_charset_name(enum qr_charset cs);

/*
 * Convert raw bytes to UTF-8. Returns the charset used; *text is a
 * malloc'ed NUL-terminated UTF-8 string (caller frees), or NULL when the
 * charset is QR_CHARSET_UNKNOWN or memory ran out.
 */
enum qr_charset qr_text_from_bytes(const char *raw, size_t n, char **text);

/* Lower-case hex of n bytes, malloc'ed (caller frees); NULL on no memory. */
char *qr_hex(const char *raw, size_t n);

#endif
