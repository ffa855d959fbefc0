/* html.h - building dashboard pages safely: escaping, the page frame, and the two languages. */
#ifndef QRW_HTML_H
#define QRW_HTML_H

#include "../common/buf.h"
#include "../targets/verdict.h"

/*
 * Append s escaped for HTML text and attribute values (& < > " '). Every
 * string that came from a QR code, a web page, a probe or the catalog goes
 * through here: a QR code is attacker-controlled text.
 */
int html_add(struct buf *b, const char *s);

/* printf into b with every %s argument HTML-escaped (only %s, %d, %ld, %lld, %%). */
int html_addf(struct buf *b, const char *fmt, ...);

/* Words of the interface, in Vietnamese (default) or English. */
const char *tr(const char *key, int english);

/* The page's start: doctype, title (escaped), inline CSS, the header with a
 * language switch that keeps path (which may hold a query, without lang). */
void html_begin(struct buf *b, const char *title, const char *path, int english);
void html_end(struct buf *b);

/* A verdict as a coloured badge. */
void html_verdict(struct buf *b, const char *verdict);

#endif
