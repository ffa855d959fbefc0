/* incidents.c - incidents and their notifications on the dashboard (see incidents.h). */
#include "incidents.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "html.h"
#include "store.h"
#include "../alerts/message.h"
#include "../common/banned.h"

static const char *col(sqlite3_stmt *q, int i)
{
	const unsigned char *s = sqlite3_column_text(q, i);

	return s ? (const char *)s : "";
}

static const char *kind_key(const char *kind, int nprobes, const char *verdict)
{
	if (!strcmp(kind, "uplink"))
		return "kind_uplink";
	if (!strcmp(kind, "silent"))
		return "kind_silent";
	return nprobes >= 2 && message_service_verdict(verdict) ? "kind_service" : "kind_target";
}

void incidents_open_html(sqlite3 *db, const struct catalog *cat, int english,
			 struct buf *b)
{
	sqlite3_stmt *q;
	char when[32];
	int n = 0;

	html_addf(b, "<h2 id=\"incidents\">%s</h2><table class=\"incidents\">", tr("incidents_open",
										 english));
	if (store_prepare(db, "SELECT i.id, i.kind, coalesce(i.probe, ''), "
			       "coalesce(i.target, ''), coalesce(i.verdict, ''), i.since_ms, "
			       "i.announced, (SELECT count(*) FROM incident_probes p WHERE "
			       "p.incident = i.id), (SELECT group_concat(probe, ', ') FROM "
			       "incident_probes p WHERE p.incident = i.id) FROM incidents i WHERE "
			       "i.state = 'open' ORDER BY i.urgent DESC, i.since_ms LIMIT ?", &q) == 0) {
		sqlite3_bind_int(q, 1, INCIDENTS_ROWS);
		while (store_step(q) == SQLITE_ROW) {
			const char *kind = col(q, 1), *probe = col(q, 2), *tid = col(q, 3);
			const struct target *t = cat && tid[0] ? catalog_target(cat, tid) : NULL;
			int nprobes = sqlite3_column_int(q, 7);

			if (!n++)
				html_addf(b, "<tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
					  "<th>%s</th></tr>", tr("what", english),
					  tr("verdict", english), tr("place", english),
					  tr("probe", english), tr("since", english));
			message_time(sqlite3_column_int64(q, 5), when, sizeof(when));
			html_addf(b, "<tr data-kind=\"%s\" data-target=\"%s\"><td>%s ",
				  kind, tid, tr(kind_key(kind, nprobes, col(q, 4)), english));
			if (tid[0])
				html_addf(b, "<a href=\"/target/%s%s\">%s</a>", tid,
					  english ? "?lang=en" : "", t ? t->procedure : tid);
			buf_adds(b, "</td><td>");
			if (col(q, 4)[0])
				html_verdict(b, col(q, 4));
			if (!sqlite3_column_int(q, 6))
				html_addf(b, " <small>(%s)</small>", tr("held", english));
			buf_adds(b, "</td><td>");
			if (t && t->board) {
				struct buf place;

				buf_init(&place, 1024);
				place_format(t->board->place, &place);
				html_addf(b, "%s — %s", buf_str(&place), t->board->location);
				buf_release(&place);
			}
			html_addf(b, "</td><td>%s</td><td>%s</td></tr>",
				  tid[0] ? col(q, 8) : probe, when);
		}
		sqlite3_finalize(q);
	}
	buf_adds(b, "</table>");
	if (!n)
		html_addf(b, "<p class=\"no-incidents\">%s</p>", tr("no_incidents", english));
	/* what the outbox could not deliver: someone has to know */
	n = 0;
	if (store_prepare(db, "SELECT recipient, channel, subject, attempts, "
			       "coalesce(last_error, ''), created_ms FROM outbox WHERE state = "
			       "'failed' ORDER BY created_ms DESC LIMIT ?", &q) == 0) {
		sqlite3_bind_int(q, 1, INCIDENTS_ROWS);
		while (store_step(q) == SQLITE_ROW) {
			if (!n++)
				html_addf(b, "<h2 id=\"undeliverable\">%s</h2><table class=\"undeliverable\">"
					  "<tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>",
					  tr("undeliverable", english), tr("recipient", english),
					  tr("what", english), tr("attempts", english),
					  tr("error", english));
			html_addf(b, "<tr><td>%s (%s)</td><td>%s</td><td>%d</td><td>%s</td></tr>",
				  col(q, 0), col(q, 1), col(q, 2), sqlite3_column_int(q, 3),
				  col(q, 4));
		}
		sqlite3_finalize(q);
		if (n)
			buf_adds(b, "</table>");
	}
	if (store_prepare(db, "SELECT count(*) FROM outbox WHERE state = 'pending'", &q) == 0) {
		if (store_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) > 0)
			html_addf(b, "<p class=\"pending\">%d %s</p>", sqlite3_column_int(q, 0),
				  tr("pending_notes", english));
		sqlite3_finalize(q);
	}
}

void incidents_target_html(sqlite3 *db, const char *target, int english, struct buf *b)
{
	sqlite3_stmt *q, *ev, *nq;
	char when[32], end[32];
	int n = 0;

	html_addf(b, "<h2 id=\"incidents\">%s</h2>", tr("incident_history", english));
	if (store_prepare(db, "SELECT id, coalesce(verdict, ''), state, since_ms, "
			       "coalesce(resolved_ms, 0), (SELECT group_concat(probe, ', ') FROM "
			       "incident_probes p WHERE p.incident = incidents.id) FROM incidents "
			       "WHERE target = ? ORDER BY opened_ms DESC LIMIT ?", &q) != 0)
		return;
	sqlite3_bind_text(q, 1, target, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 2, INCIDENTS_ROWS);
	while (store_step(q) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(q, 0);

		n++;
		message_time(sqlite3_column_int64(q, 3), when, sizeof(when));
		if (sqlite3_column_int64(q, 4))
			message_time(sqlite3_column_int64(q, 4), end, sizeof(end));
		else
			end[0] = '\0';
		buf_addf(b, "<details class=\"incident\" data-id=\"%lld\"><summary>#%lld ",
			 (long long)id, (long long)id);
		html_verdict(b, col(q, 1)[0] ? col(q, 1) : "OK");
		html_addf(b, " %s %s%s%s — %s</summary><ul>",
			  tr(strcmp(col(q, 2), "open") ? "resolved" : "open", english), when,
			  end[0] ? " → " : "", end, col(q, 5));
		if (store_prepare(db, "SELECT time_ms, what, coalesce(detail, '') FROM "
				       "incident_events WHERE incident = ? ORDER BY rowid", &ev) == 0) {
			sqlite3_bind_int64(ev, 1, id);
			while (store_step(ev) == SQLITE_ROW) {
				message_time(sqlite3_column_int64(ev, 0), when, sizeof(when));
				html_addf(b, "<li>%s: %s %s</li>", when, col(ev, 1), col(ev, 2));
			}
			sqlite3_finalize(ev);
		}
		buf_adds(b, "</ul><table>");
		if (store_prepare(db, "SELECT event, recipient, channel, state, attempts, "
				       "coalesce(last_error, '') FROM outbox WHERE incident = ? "
				       "ORDER BY id", &nq) == 0) {
			sqlite3_bind_int64(nq, 1, id);
			while (store_step(nq) == SQLITE_ROW)
				html_addf(b, "<tr class=\"note %s\"><td>%s</td><td>%s (%s)</td>"
					  "<td>%s</td><td>%d</td><td>%s</td></tr>", col(nq, 3),
					  col(nq, 0), col(nq, 1), col(nq, 2), col(nq, 3),
					  sqlite3_column_int(nq, 4), col(nq, 5));
			sqlite3_finalize(nq);
		}
		buf_adds(b, "</table></details>");
	}
	sqlite3_finalize(q);
	if (!n)
		html_addf(b, "<p>%s</p>", tr("no_incidents", english));
}

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

int incidents_json(sqlite3 *db, const char *target, struct buf *b)
{
	json_object *root = json_object_new_object(), *arr = json_object_new_array();
	sqlite3_stmt *q, *s2;
	int rc;

	if (store_prepare(db, "SELECT id, kind, coalesce(probe, ''), coalesce(target, ''), "
			       "coalesce(verdict, ''), state, announced, urgent, opened_ms, "
			       "since_ms, coalesce(resolved_ms, 0) FROM incidents WHERE ?1 IS NULL "
			       "OR target = ?1 ORDER BY id DESC LIMIT ?2", &q) == 0) {
		if (target)
			sqlite3_bind_text(q, 1, target, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(q, 2, INCIDENTS_ROWS);
		while (store_step(q) == SQLITE_ROW) {
			json_object *o = json_object_new_object(), *pa = json_object_new_array();
			json_object *ea = json_object_new_array(), *na = json_object_new_array();
			int64_t id = sqlite3_column_int64(q, 0);

			json_object_object_add(o, "id", json_object_new_int64(id));
			add_str(o, "kind", col(q, 1));
			add_str(o, "probe", col(q, 2));
			add_str(o, "target", col(q, 3));
			add_str(o, "verdict", col(q, 4));
			add_str(o, "state", col(q, 5));
			json_object_object_add(o, "announced",
					       json_object_new_boolean(sqlite3_column_int(q, 6)));
			json_object_object_add(o, "urgent",
					       json_object_new_boolean(sqlite3_column_int(q, 7)));
			json_object_object_add(o, "opened_ms",
					       json_object_new_int64(sqlite3_column_int64(q, 8)));
			json_object_object_add(o, "since_ms",
					       json_object_new_int64(sqlite3_column_int64(q, 9)));
			json_object_object_add(o, "resolved_ms",
					       json_object_new_int64(sqlite3_column_int64(q, 10)));
			if (store_prepare(db, "SELECT probe FROM incident_probes WHERE "
					       "incident = ? ORDER BY probe", &s2) == 0) {
				sqlite3_bind_int64(s2, 1, id);
				while (store_step(s2) == SQLITE_ROW)
					json_object_array_add(pa, json_object_new_string(col(s2, 0)));
				sqlite3_finalize(s2);
			}
			if (store_prepare(db, "SELECT time_ms, what, coalesce(detail, '') FROM "
					       "incident_events WHERE incident = ? ORDER BY rowid", &s2) == 0) {
				sqlite3_bind_int64(s2, 1, id);
				while (store_step(s2) == SQLITE_ROW) {
					json_object *e = json_object_new_object();

					json_object_object_add(e, "time_ms", json_object_new_int64(
						sqlite3_column_int64(s2, 0)));
					add_str(e, "what", col(s2, 1));
					add_str(e, "detail", col(s2, 2));
					json_object_array_add(ea, e);
				}
				sqlite3_finalize(s2);
			}
			if (store_prepare(db, "SELECT event, recipient, channel, state, attempts, "
					       "coalesce(last_error, ''), dedupe FROM outbox WHERE "
					       "incident = ? ORDER BY id", &s2) == 0) {
				sqlite3_bind_int64(s2, 1, id);
				while (store_step(s2) == SQLITE_ROW) {
					json_object *e = json_object_new_object();

					add_str(e, "event", col(s2, 0));
					add_str(e, "recipient", col(s2, 1));
					add_str(e, "channel", col(s2, 2));
					add_str(e, "state", col(s2, 3));
					json_object_object_add(e, "attempts", json_object_new_int(
						sqlite3_column_int(s2, 4)));
					add_str(e, "last_error", col(s2, 5));
					add_str(e, "dedupe", col(s2, 6));
					json_object_array_add(na, e);
				}
				sqlite3_finalize(s2);
			}
			json_object_object_add(o, "probes", pa);
			json_object_object_add(o, "events", ea);
			json_object_object_add(o, "notifications", na);
			json_object_array_add(arr, o);
		}
		sqlite3_finalize(q);
	}
	json_object_object_add(root, "incidents", arr);
	if (store_prepare(db, "SELECT sum(state = 'pending'), sum(state = 'sent'), "
			       "sum(state = 'failed') FROM outbox", &q) == 0) {
		if (store_step(q) == SQLITE_ROW) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "pending", json_object_new_int64(
				sqlite3_column_int64(q, 0)));
			json_object_object_add(o, "sent", json_object_new_int64(
				sqlite3_column_int64(q, 1)));
			json_object_object_add(o, "undeliverable", json_object_new_int64(
				sqlite3_column_int64(q, 2)));
			json_object_object_add(root, "notifications", o);
		}
		sqlite3_finalize(q);
	}
	rc = buf_adds(b, json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
	return rc;
}
