/* astore.h - the alerts' own tables (streaks, incidents, events, outbox): every statement the alerts run. */
#ifndef QRW_ASTORE_H
#define QRW_ASTORE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "message.h"
#include "../common/err.h"

/*
 * The alerts keep their tables in the server's database, so that an
 * incident change and its notifications commit in the same transaction as
 * the results that caused them, but they own them: their migrations run
 * here (tracked in schema_modules, apart from the dashboard's), and no
 * other module reads or writes them except through these functions.
 *
 * A struct astore wraps one connection with its statements, prepared once
 * and kept. It is not thread-safe: the writer's is used under the server's
 * write lock, and each reader (a page thread) has its own. A statement
 * error (a damaged database) makes the call fail and is kept until
 * astore_failed() takes it, so that a loop cut short by it cannot pass for
 * a short answer.
 */
#define ASTORE_SCHEMA 5

struct astore_stmts;

struct astore {
	sqlite3 *db;
	struct astore_stmts *st;
	char error[ERR_MAX];		/* the first statement error since astore_failed() */
};

/* Bring the alerts' tables in db up to ASTORE_SCHEMA, in one transaction each step. */
int astore_migrate(sqlite3 *db, struct err *e);

/* Use db (which the caller keeps open). Returns 0 or -1 with e. */
int astore_init(struct astore *s, sqlite3 *db, struct err *e);
void astore_release(struct astore *s);

/* The first statement error since the last call: 1 with e, or 0. */
int astore_failed(struct astore *s, struct err *e);

/* Run a plain statement (BEGIN IMMEDIATE, COMMIT, ROLLBACK). -1 with e. */
int astore_exec(struct astore *s, const char *sql, struct err *e);

/* ---- streaks: results in a row per (probe, target) ---- */

/*
 * Count one result in its streak: ok resets the bad count (and the hold),
 * a bad one keeps ev as the latest evidence, and link (it failed on the
 * probe's own side). A result not newer than the last one counted is
 * ignored. Returns 0, or -1 (kept).
 */
int astore_streak_count(struct astore *s, const char *probe, const char *target, int ok,
			const char *verdict, int link, int64_t time_ms,
			const struct alert_evidence *ev);

struct astore_streak {
	char target[65], verdict[16];
	int bad, good, held;
	int link;			/* its latest failure was on the probe's side */
	int64_t first_bad_ms;
};

/*
 * The streaks counted for probe since the last call, as they are now (an
 * uplink hold after the count shows), each target once, in target order:
 * *out is malloc'ed for the caller to free. The list is kept in memory,
 * not in the table, and starts afresh when a count for another probe
 * comes; a target left over from a batch that was rolled back is read as
 * it is, so deciding on it again changes nothing. Returns how many or -1.
 */
int astore_counted(struct astore *s, const char *probe, struct astore_streak **out);

/* This probe's failing streaks (bad > 0), at most max. Returns how many or -1. */
int astore_failing_streaks(struct astore *s, const char *probe, struct astore_streak *out,
			   size_t max);

/*
 * How many targets the probe has streaks for, how many of them fail now,
 * and (link, unless NULL) how many of those fail on the probe's own side.
 */
int astore_probe_counts(struct astore *s, const char *probe, int *total, int *failing,
			int *link);

/* The earliest first_bad_ms of the probe's failing streaks, or dflt. */
int64_t astore_first_bad(struct astore *s, const char *probe, int64_t dflt);

/*
 * Uplink incident: hold the failing streaks (all of them, or only those
 * failing on the probe's side); once back, count the held ones afresh.
 */
int astore_hold_failing(struct astore *s, const char *probe, int all);
int astore_release_held(struct astore *s, const char *probe);

/* The worst verdict among the failing streaks of target on the incident's probes, "" if none. */
int astore_worst_verdict(struct astore *s, int64_t incident, const char *target,
			 char *out, size_t cap);

/* The latest evidence of target from one of the incident's probes (0 when there is none). */
int astore_evidence(struct astore *s, int64_t incident, const char *target,
		    struct alert_evidence *ev);

/* ---- probes as the alerts know them: when each last sent a batch ---- */

int astore_probe_seen(struct astore *s, const char *probe, int64_t now_ms);

struct astore_quiet {
	char probe[65];
	int64_t last_ms;
};

/* Probes last heard before before_ms without an open silent incident, at most max. */
int astore_quiet_probes(struct astore *s, int64_t before_ms, struct astore_quiet *out,
			size_t max);

/* ---- incidents ---- */

struct astore_incident {
	int64_t id;
	char kind[16];			/* target, uplink, silent, cert */
	char probe[65], target[65], verdict[16];
	char state[12];			/* open, resolved */
	int announced, urgent;
	int64_t opened_ms, since_ms, updated_ms, resolved_ms, reminded_ms;
	int nprobes;			/* target incidents: the probes that see it */
	char probes[512];		/* "a, b" in order */
	char cert_url[512];		/* cert: the step that met the certificate */
	int64_t cert_expires;		/* cert: when it expires, Unix s */
};

/* A new open incident; its id, or -1. */
int64_t astore_open_incident(struct astore *s, const char *kind, const char *probe,
			     const char *target, const char *verdict, int urgent,
			     int64_t since_ms, int64_t now_ms);

/* The open incident of a kind about a probe (uplink, silent) or a target: its id, or 0. */
int64_t astore_find_open(struct astore *s, const char *kind, const char *probe,
			 const char *target);

/* One incident by id: 1 found, 0 not, -1 error. */
int astore_incident(struct astore *s, int64_t id, struct astore_incident *out);

int astore_set_announced(struct astore *s, int64_t id, int announced);
int astore_set_verdict(struct astore *s, int64_t id, const char *verdict, int urgent,
		       int64_t now_ms);
/* A certificate incident's certificate: the step's URL and its expiry. */
int astore_set_cert(struct astore *s, int64_t id, const char *url, int64_t expires,
		    int64_t now_ms);
int astore_resolve(struct astore *s, int64_t id, int64_t now_ms);
int astore_set_reminded(struct astore *s, int64_t id, int64_t now_ms);

/* The probes of a target incident. */
int astore_add_probe(struct astore *s, int64_t id, const char *probe);
int astore_remove_probe(struct astore *s, int64_t id, const char *probe);
int astore_has_probe(struct astore *s, int64_t id, const char *probe);
int astore_count_probes(struct astore *s, int64_t id);

/* Open, announced incidents not reminded since before_ms, at most max ids. */
int astore_reminders_due(struct astore *s, int64_t before_ms, int64_t *ids, size_t max);

/* Open incidents, urgent first then oldest; or every incident of one target (target not NULL), newest first. */
int astore_open_incidents(struct astore *s, struct astore_incident *out, size_t max);
int astore_open_announced(struct astore *s, struct astore_incident *out, size_t max);
int astore_incidents_of(struct astore *s, const char *target, struct astore_incident *out,
			size_t max);

/* How many incidents are open, per kind. */
int astore_open_counts(struct astore *s, int *target, int *uplink, int *silent, int *cert);

/* ---- an incident's timeline ---- */

struct astore_event {
	int64_t time_ms;
	char what[24], detail[256];
};

/* Add an event; its id (for dedupe keys), or -1. */
int64_t astore_add_event(struct astore *s, int64_t incident, int64_t now_ms,
			 const char *what, const char *detail);
int astore_events(struct astore *s, int64_t incident, struct astore_event *out, size_t max);

/* ---- the outbox ---- */

struct astore_note {
	int64_t id, incident;
	char event[16], recipient[65], channel[16], state[12];
	char *address, *chat, *subject, *body, *link, *dedupe;	/* malloc'ed, astore_note_release() */
	int64_t created_ms;
	int attempts;
	char last_error[256];
};

void astore_note_release(struct astore_note *n);

/* Write a notification once (dedupe unique). 1 written, 0 already there, -1 error. */
int astore_enqueue(struct astore *s, int64_t incident, const char *event,
		   const char *recipient, const char *channel, const char *address,
		   const char *chat, const char *subject, const char *body, const char *link,
		   const char *dedupe, int64_t now_ms);

/* Was recipient told about this incident before? */
int astore_told(struct astore *s, int64_t incident, const char *recipient);

/* Pending notifications due by now_ms, oldest first, at most max (with their texts). */
int astore_due(struct astore *s, int64_t now_ms, struct astore_note *out, size_t max);

/* After a try: state "sent", "pending" (again at next_ms) or "failed". */
int astore_settle(struct astore *s, int64_t id, const char *state, const char *error,
		  int64_t next_ms, int64_t sent_ms);

/* An incident's notifications (without their texts), and the undeliverable ones. */
int astore_notes_of(struct astore *s, int64_t incident, struct astore_note *out, size_t max);
int astore_failed_notes(struct astore *s, struct astore_note *out, size_t max);
int astore_note_counts(struct astore *s, int64_t *pending, int64_t *sent, int64_t *failed);

/* ---- small state: this database's id for dedupe keys, the last digest's day ---- */

int64_t astore_instance(struct astore *s);
int64_t astore_digest_day(struct astore *s);
int astore_set_digest_day(struct astore *s, int64_t day);

#endif
