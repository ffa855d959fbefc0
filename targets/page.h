/* page.h - what a citizen sees of a page: its visible text, title and form fields, matched as a reader would. */
#ifndef QRW_PAGE_H
#define QRW_PAGE_H

#include <stddef.h>

#define PAGE_FIELD_MAX 4096	/* a captured field's value, at most */

/*
 * A page parsed by libxml2's HTML parser (recovering, as browsers do; no
 * network). text is its visible text (no <script>, <style>, <head> or
 * comments; entities decoded; blocks apart), folded for matching: Unicode
 * NFC, case-folded, every run of white space (NBSP included) one space.
 * title is the <title> as shown (NFC, white space collapsed, not folded).
 */
struct page {
	void *doc;		/* the parsed document (htmlDocPtr) */
	char *text;
	char *title;
};

/*
 * Parse body (len bytes, NUL bytes dropped as a browser drops them).
 * charset is the Content-Type's, or NULL to let the page's <meta> decide.
 * Returns 0, or -1 when memory ran out (pg is then empty but releasable).
 */
int page_parse(struct page *pg, const char *body, size_t len, const char *charset);

void page_release(struct page *pg);

/* s folded as page text is (NFC, case-folded, white space collapsed); free() it. NULL on ENOMEM. */
char *page_fold(const char *s);

/* Whether the page's visible text contains the words of s, folded alike. */
int page_contains(const struct page *pg, const char *s);

/*
 * The value a form would send for the field named name (an <input>'s
 * value attribute, a <textarea>'s text, a <select>'s selected or first
 * option), or NULL when the page has no such field; free() it.
 */
char *page_field(const struct page *pg, const char *name);

/*
 * The visible text of the first element matching sel: "#ID" (by id) or a
 * tag name ("h1", "title"), white space collapsed, not folded; NULL when
 * none matches; free() it.
 */
char *page_element(const struct page *pg, const char *sel);

#endif
