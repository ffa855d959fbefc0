/* incidents.h - incidents and notifications on the dashboard: open ones, a target's history, JSON. */
#ifndef QRW_INCIDENTS_H
#define QRW_INCIDENTS_H

#include <sqlite3.h>

#include "../common/buf.h"
#include "../targets/catalog.h"

#define INCIDENTS_ROWS 200	/* rows in one list; older ones via the JSON API's limit */

/*
 * All three read the database under the caller's lock and append to b;
 * every string from a probe, a code or the configuration is escaped.
 */

/* The overview's section: open incidents, and notifications that failed. */
void incidents_open_html(sqlite3 *db, const struct catalog *cat, int english,
			 struct buf *b);

/* The target page's section: its incidents, their timelines and notifications. */
void incidents_target_html(sqlite3 *db, const char *target, int english, struct buf *b);

/* GET /api/v1/incidents[?target=ID]: incidents with events and notifications. */
int incidents_json(sqlite3 *db, const char *target, struct buf *b);

#endif
