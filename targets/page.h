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

/*
 * The shape of a page, to tell a portal's generic pages (its home page,
 * whatever address shows it) from a procedure's: its title, folded, and a
 * sketch of its visible text (the PAGE_SKETCH smallest hashes of its runs
 * of three words), so that two fetches of one page match while a
 * procedure's page in the portal's layout (the same menus and footer
 * around other words) does not.
 */
#define PAGE_TITLE_MAX 256
#define PAGE_SKETCH    128

struct page_shape {
	char title[PAGE_TITLE_MAX];	/* folded, clipped */
	unsigned long long sketch[PAGE_SKETCH];	/* ascending, distinct */
	unsigned nsketch;
};

void page_shape(const struct page *pg, struct page_shape *sh);

/* Whether two pages are the same page to a reader: the same title and 80% of their words alike. */
int page_shape_same(const struct page_shape *a, const struct page_shape *b);

/*
 * Whether the page is a portal's search results, reached at url: it has a
 * GET form with a search field (type=search, or named as search boxes
 * are: q, keyword, tu_khoa...) and url's query fills that field in.
 */
int page_is_search(const struct page *pg, const char *url);

#endif
