/* html.h - building dashboard pages safely: escaping, the page frame, and the two languages. */
#ifndef QRW_HTML_H
#define QRW_HTML_H

#include <stddef.h>
#include <stdint.h>

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

/* A moment (Unix ms) as the pages write it: Vietnam time, "2026-12-04 21:05". */
void html_time(int64_t ms, char *out, size_t cap);

/* Words of the interface, in Vietnamese (default) or English. */
const char *tr(const char *key, int english);

/* The page's start: doctype, title (escaped), inline CSS, the header with a
 * language switch that keeps path (which may hold a query, without lang). */
void html_begin(struct buf *b, const char *title, const char *path, int english);
void html_end(struct buf *b);

/* A verdict as a coloured badge. */
void html_verdict(struct buf *b, const char *verdict);

#endif
