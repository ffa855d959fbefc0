/* overview.h - the overview of a province's codes: not OK first, the rest counted per commune; drawn when a verdict changes. */
#ifndef QRW_OVERVIEW_H
#define QRW_OVERVIEW_H

#include "pages.h"
#include "store.h"
#include "../targets/catalog.h"

/*
 * GET / lists the codes that are not OK, the worst verdict first (the
 * precedence of DESIGN.md section 4) and within one verdict the longest
 * broken first, OVERVIEW_PAGE_ROWS to a page (?page=N, with links to the
 * pages before and after). Its first page also holds the open incidents,
 * every commune with its count of codes per verdict (the OK ones are only
 * counted there, linking to the commune's list), and the verdict changes
 * of the last 24 hours. GET /?commune=PLACE (the id of any place of the
 * commune) lists every code of that commune, worst first, paged the same
 * way.
 *
 * A page is drawn once and kept, as it is and gzipped, each with an ETag.
 * It is drawn again when a verdict has changed since (store_changes_mark(),
 * read before the states, so a page is never older than the mark it is
 * kept under), when the open incidents differ (read again, when a page is
 * asked for, at most every OVERVIEW_INCIDENTS_MS: hundreds of them take
 * milliseconds), or after OVERVIEW_MAX_AGE_S, since its durations and its
 * 24 hours move. The states are kept between drawings and read
 * again only for the codes whose verdict changed (store_changed_targets()),
 * all of them every OVERVIEW_MAX_AGE_S. One page thread draws at a time;
 * meanwhile the others serve the page as it was, if there is one.
 */
#define OVERVIEW_PAGE_ROWS 100		/* codes to a page: as far as a phone scrolls */
#define OVERVIEW_MAX_AGE_S 60		/* "since" is shown to the minute */
#define OVERVIEW_CACHE_PAGES 64		/* pages kept (language x page x commune), least used out */
#define OVERVIEW_CHANGES_ROWS 200	/* verdict changes on the first page */
#define OVERVIEW_DELTA_MAX 2000		/* changes read one by one; more: every state again */
#define OVERVIEW_INCIDENTS_MS 2000	/* the open incidents read again at most this often */
#define OVERVIEW_PAGE_MAX (16u * 1024 * 1024)

struct overview;

/* The overview of cat, which must outlive it. NULL when out of memory. */
struct overview *overview_new(const struct catalog *cat);
void overview_free(struct overview *ov);

/*
 * Answer q (path "/", ?page, ?commune, If-None-Match, gzip) into r,
 * reading through rd; a statement error is left in rd for the caller.
 */
void overview_get(struct overview *ov, struct store_reader *rd, const struct dash_req *q,
		  struct reply *r);

#endif
