/* incidents.h - incidents and notifications on the dashboard: open ones, a target's history, JSON. */
#ifndef QRW_INCIDENTS_H
#define QRW_INCIDENTS_H

#include "../alerts/astore.h"
#include "../common/buf.h"
#include "../targets/catalog.h"

#define INCIDENTS_ROWS 200	/* rows in one list; older ones via the JSON API's limit */
#define INCIDENT_EVENTS 100	/* events and notifications shown per incident */

/*
 * All three read the alerts' tables through st (the caller holds what st
 * needs: the lock of its connection) and append to b; every string from a
 * probe, a code or the configuration is escaped. A database error is kept
 * in st for the caller (astore_failed()).
 */

/* The overview's section: open incidents, and notifications that failed. */
void incidents_open_html(struct astore *st, const struct catalog *cat, int english,
			 struct buf *b);

/* The target page's section: its incidents, their timelines and notifications. */
void incidents_target_html(struct astore *st, const char *target, int english, struct buf *b);

/* GET /api/v1/incidents[?target=ID]: incidents with events and notifications. */
int incidents_json(struct astore *st, const char *target, struct buf *b);

#endif
