/* incidents.c - incidents and their notifications on the dashboard (see incidents.h). */
#include "incidents.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "html.h"
#include "../alerts/message.h"
#include "../common/banned.h"

static const char *kind_key(const struct astore_incident *in)
{
	if (!strcmp(in->kind, "uplink"))
		return "kind_uplink";
	if (!strcmp(in->kind, "silent"))
		return "kind_silent";
	if (!strcmp(in->kind, "cert"))
		return "kind_cert";
	return in->nprobes >= 2 && message_service_verdict(in->verdict) ? "kind_service" :
	       "kind_target";
}

static void open_rows(const struct astore_incident *rows, int n, const struct catalog *cat,
		      int english, struct buf *b)
{
	char when[32];

	for (int i = 0; i < n; i++) {
		const struct astore_incident *in = &rows[i];
		const struct target *t = cat && in->target[0] ? catalog_target(cat, in->target) :
					 NULL;

		if (i == 0)
			html_addf(b, "<tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
				  "<th>%s</th></tr>", tr("what", english), tr("verdict", english),
				  tr("place", english), tr("probe", english), tr("since", english));
		message_time(in->since_ms, when, sizeof(when));
		html_addf(b, "<tr data-kind=\"%s\" data-target=\"%s\"><td>%s ", in->kind,
			  in->target, tr(kind_key(in), english));
		if (in->target[0])
			html_addf(b, "<a href=\"/target/%s%s\">%s</a>", in->target,
				  english ? "?lang=en" : "", t ? t->procedure : in->target);
		buf_adds(b, "</td><td>");
		if (in->verdict[0])
			html_verdict(b, in->verdict);
		if (!in->announced)
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
			  in->target[0] ? in->probes : in->probe, when);
	}
}

void incidents_open_html(struct astore *st, const struct catalog *cat, int english,
			 struct buf *b)
{
	struct astore_incident *rows = malloc(INCIDENTS_ROWS * sizeof(*rows));
	struct astore_note *notes = malloc(INCIDENTS_ROWS * sizeof(*notes));
	int64_t pending, sent, failed;
	int n = rows ? astore_open_incidents(st, rows, INCIDENTS_ROWS) : 0;

	html_addf(b, "<h2 id=\"incidents\">%s</h2><table class=\"incidents\">",
		  tr("incidents_open", english));
	if (n > 0)
		open_rows(rows, n, cat, english, b);
	buf_adds(b, "</table>");
	if (n <= 0)
		html_addf(b, "<p class=\"no-incidents\">%s</p>", tr("no_incidents", english));
	/* what the outbox could not deliver: someone has to know */
	n = notes ? astore_failed_notes(st, notes, INCIDENTS_ROWS) : 0;
	for (int i = 0; i < n; i++) {
		const struct astore_note *m = &notes[i];

		if (i == 0)
			html_addf(b, "<h2 id=\"undeliverable\">%s</h2><table class=\"undeliverable\">"
				  "<tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>",
				  tr("undeliverable", english), tr("recipient", english),
				  tr("what", english), tr("attempts", english), tr("error", english));
		html_addf(b, "<tr><td>%s (%s)</td><td>%s</td><td>%d</td><td>%s</td></tr>",
			  m->recipient, m->channel, m->subject, m->attempts, m->last_error);
		astore_note_release(&notes[i]);
	}
	if (n > 0)
		buf_adds(b, "</table>");
	if (astore_note_counts(st, &pending, &sent, &failed) == 0 && pending > 0)
		html_addf(b, "<p class=\"pending\">%lld %s</p>", (long long)pending,
			  tr("pending_notes", english));
	free(rows);
	free(notes);
}

void incidents_target_html(struct astore *st, const char *target, int english, struct buf *b)
{
	struct astore_incident *rows = malloc(INCIDENTS_ROWS * sizeof(*rows));
	struct astore_event *evs = malloc(INCIDENT_EVENTS * sizeof(*evs));
	struct astore_note *notes = malloc(INCIDENT_EVENTS * sizeof(*notes));
	char when[32], end[32];
	int n = rows && evs && notes ? astore_incidents_of(st, target, rows, INCIDENTS_ROWS) : 0;

	html_addf(b, "<h2 id=\"incidents\">%s</h2>", tr("incident_history", english));
	for (int i = 0; i < n; i++) {
		const struct astore_incident *in = &rows[i];
		int ne, nn;

		message_time(in->since_ms, when, sizeof(when));
		if (in->resolved_ms)
			message_time(in->resolved_ms, end, sizeof(end));
		else
			end[0] = '\0';
		buf_addf(b, "<details class=\"incident\" data-id=\"%lld\"><summary>#%lld ",
			 (long long)in->id, (long long)in->id);
		html_verdict(b, in->verdict[0] ? in->verdict : "OK");
		html_addf(b, " %s %s%s%s — %s</summary><ul>",
			  tr(strcmp(in->state, "open") ? "resolved" : "open", english), when,
			  end[0] ? " → " : "", end, in->probes);
		ne = astore_events(st, in->id, evs, INCIDENT_EVENTS);
		for (int k = 0; k < ne; k++) {
			message_time(evs[k].time_ms, when, sizeof(when));
			html_addf(b, "<li>%s: %s %s</li>", when, evs[k].what, evs[k].detail);
		}
		buf_adds(b, "</ul><table>");
		nn = astore_notes_of(st, in->id, notes, INCIDENT_EVENTS);
		for (int k = 0; k < nn; k++) {
			const struct astore_note *m = &notes[k];

			html_addf(b, "<tr class=\"note %s\"><td>%s</td><td>%s (%s)</td>"
				  "<td>%s</td><td>%d</td><td>%s</td></tr>", m->state, m->event,
				  m->recipient, m->channel, m->state, m->attempts, m->last_error);
			astore_note_release(&notes[k]);
		}
		buf_adds(b, "</table></details>");
	}
	if (n <= 0)
		html_addf(b, "<p>%s</p>", tr("no_incidents", english));
	free(rows);
	free(evs);
	free(notes);
}

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void add_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

int incidents_json(struct astore *st, const char *target, struct buf *b)
{
	json_object *root = json_object_new_object(), *arr = json_object_new_array();
	struct astore_incident *rows = malloc(INCIDENTS_ROWS * sizeof(*rows));
	struct astore_event *evs = malloc(INCIDENT_EVENTS * sizeof(*evs));
	struct astore_note *notes = malloc(INCIDENT_EVENTS * sizeof(*notes));
	int64_t pending, sent, failed;
	int n = rows && evs && notes ? astore_incidents_of(st, target, rows, INCIDENTS_ROWS) : 0;
	int rc;

	for (int i = 0; i < n; i++) {
		const struct astore_incident *in = &rows[i];
		json_object *o = json_object_new_object(), *pa = json_object_new_array();
		json_object *ea = json_object_new_array(), *na = json_object_new_array();
		const char *p = in->probes;
		int ne, nn;

		add_int(o, "id", in->id);
		add_str(o, "kind", in->kind);
		add_str(o, "probe", in->probe);
		add_str(o, "target", in->target);
		add_str(o, "verdict", in->verdict);
		add_str(o, "state", in->state);
		json_object_object_add(o, "announced", json_object_new_boolean(in->announced));
		json_object_object_add(o, "urgent", json_object_new_boolean(in->urgent));
		add_int(o, "opened_ms", in->opened_ms);
		add_int(o, "since_ms", in->since_ms);
		add_int(o, "resolved_ms", in->resolved_ms);
		if (!strcmp(in->kind, "cert")) {
			add_str(o, "cert_url", in->cert_url);
			add_int(o, "cert_expires", in->cert_expires);
		}
		while (*p) {
			size_t k = strcspn(p, ",");

			json_object_array_add(pa, json_object_new_string_len(p, (int)k));
			p += k;
			p += strspn(p, ", ");
		}
		ne = astore_events(st, in->id, evs, INCIDENT_EVENTS);
		for (int k = 0; k < ne; k++) {
			json_object *e = json_object_new_object();

			add_int(e, "time_ms", evs[k].time_ms);
			add_str(e, "what", evs[k].what);
			add_str(e, "detail", evs[k].detail);
			json_object_array_add(ea, e);
		}
		nn = astore_notes_of(st, in->id, notes, INCIDENT_EVENTS);
		for (int k = 0; k < nn; k++) {
			json_object *e = json_object_new_object();

			add_str(e, "event", notes[k].event);
			add_str(e, "recipient", notes[k].recipient);
			add_str(e, "channel", notes[k].channel);
			add_str(e, "state", notes[k].state);
			json_object_object_add(e, "attempts", json_object_new_int(notes[k].attempts));
			add_str(e, "last_error", notes[k].last_error);
			add_str(e, "dedupe", notes[k].dedupe);
			json_object_array_add(na, e);
			astore_note_release(&notes[k]);
		}
		json_object_object_add(o, "probes", pa);
		json_object_object_add(o, "events", ea);
		json_object_object_add(o, "notifications", na);
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "incidents", arr);
	if (astore_note_counts(st, &pending, &sent, &failed) == 0) {
		json_object *o = json_object_new_object();

		add_int(o, "pending", pending);
		add_int(o, "sent", sent);
		add_int(o, "undeliverable", failed);
		json_object_object_add(root, "notifications", o);
	}
	rc = buf_adds(b, json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
	free(rows);
	free(evs);
	free(notes);
	return rc;
}
