/* test_engine.c - the alert engine alone, against an in-memory database: streaks, incidents, the outbox. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "../harness.h"
#include "../../alerts/astore.h"
#include "../../alerts/engine.h"
#include "../../common/banned.h"

#define T0 1795348080000LL	/* 2026-11-22, the examples' clock */
#define MIN (60 * 1000LL)

struct rig {
	sqlite3 *db;
	struct astore st;
	struct alert_cfg cfg;
	struct recipient rcpt[1];
	struct alerts a;
	struct arena arena;
	int known;		/* what probe_known answers */
};

static int known(void *ctx, const char *id)
{
	(void)id;
	return ((struct rig *)ctx)->known;
}

static int rig_open(struct rig *r)
{
	struct err e;

	memset(r, 0, sizeof(*r));
	if (sqlite3_open(":memory:", &r->db) != SQLITE_OK)
		return -1;
	CHECK_INT(astore_migrate(r->db, &e), 0);
	CHECK_INT(astore_init(&r->st, r->db, &e), 0);
	alert_cfg_init(&r->cfg);
	snprintf(r->cfg.public_url, sizeof(r->cfg.public_url), "http://qrwatch.huyen.example");
	CHECK_INT(route_parse("it email it@huyen.example", 0, &r->rcpt[0], &e), 0);
	r->cfg.recipients = r->rcpt;
	r->cfg.nrecipients = 1;
	r->a.cfg = &r->cfg;
	r->a.st = &r->st;
	r->a.probe_known = known;
	r->a.probe_known_ctx = r;
	r->known = 1;
	arena_init(&r->arena, 0);
	return 0;
}

static void rig_close(struct rig *r)
{
	astore_release(&r->st);
	sqlite3_close(r->db);
	arena_release(&r->arena);
}

/* One result of probe for target at minute m; link: it failed on the probe's side. */
static int result_on(struct rig *r, const char *probe, const char *target, enum verdict v,
		     int m, int link)
{
	struct result res;
	struct err e;

	memset(&res, 0, sizeof(res));
	res.target = target;
	res.time_ms = T0 + m * MIN;
	res.verdict = v;
	res.payload = "https://dichvucong.gov.vn/p/ks";
	res.nsteps = 1;
	res.steps = result_steps_new(&r->arena, 1);
	res.steps[0].name = "Mở trang";
	res.steps[0].status = v == VERDICT_OK ? 200 : 503;
	res.steps[0].error = v == VERDICT_OK ? "" : "The server failed (HTTP 503).";
	res.steps[0].ttfb_us = 1200000;
	res.total_us = 1500000;
	res.failed_step = v == VERDICT_OK ? 0 : 1;
	res.link_fault = link;
	if (alerts_result(&r->a, probe, &res, res.time_ms, &e) < 0)
		return -1;
	return 0;
}

static int result(struct rig *r, const char *probe, const char *target, enum verdict v, int m)
{
	return result_on(r, probe, target, v, m, 0);
}

static int batch(struct rig *r, const char *probe, int m)
{
	struct err e;

	return alerts_batch(&r->a, probe, T0 + m * MIN, &e);
}

static int query_int(sqlite3 *db, const char *q)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Three bad results open an incident and tell IT staff, with the evidence; two good resolve it. */
static void test_open_and_resolve(void)
{
	struct rig r;
	struct astore_incident in[4];
	struct astore_note notes[8];
	int n;

	if (rig_open(&r) < 0)
		return;
	for (int m = 0; m < 2; m++)
		CHECK_INT(result(&r, "p1", "ks", VERDICT_DOWN, m) || batch(&r, "p1", m), 0);
	CHECK_INT(astore_open_incidents(&r.st, in, 4), 0);
	CHECK_INT(result(&r, "p1", "ks", VERDICT_DOWN, 2) || batch(&r, "p1", 2), 0);
	CHECK_INT(astore_open_incidents(&r.st, in, 4), 1);
	CHECK_STR(in[0].kind, "target");
	CHECK_STR(in[0].verdict, "DOWN");
	CHECK_INT(in[0].since_ms, T0);
	CHECK_INT(in[0].announced, 1);
	n = astore_due(&r.st, T0 + 10 * MIN, notes, 8);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_STR(notes[0].event, "opened");
		CHECK_STR(notes[0].address, "it@huyen.example");
		CHECK_CONTAINS(notes[0].body, "HTTP 503");
		CHECK_CONTAINS(notes[0].body, "https://dichvucong.gov.vn/p/ks");
		CHECK_CONTAINS(notes[0].link, "/target/ks");
		astore_note_release(&notes[0]);
	}
	/* an older result changes nothing */
	CHECK_INT(result(&r, "p1", "ks", VERDICT_OK, 1) || batch(&r, "p1", 3), 0);
	CHECK_INT(astore_open_incidents(&r.st, in, 4), 1);
	CHECK_INT(result(&r, "p1", "ks", VERDICT_OK, 4) || batch(&r, "p1", 4), 0);
	CHECK_INT(result(&r, "p1", "ks", VERDICT_OK, 5) || batch(&r, "p1", 5), 0);
	CHECK_INT(astore_open_incidents(&r.st, in, 4), 0);
	CHECK_INT(query_int(r.db, "SELECT count(*) FROM outbox WHERE event = 'resolved'"), 1);
	rig_close(&r);
}

/* A second probe seeing a service verdict makes it the service's incident: one, with an update. */
static void test_service(void)
{
	struct rig r;
	struct astore_incident in[4];

	if (rig_open(&r) < 0)
		return;
	for (int m = 0; m < 3; m++) {
		CHECK_INT(result(&r, "p1", "ks", VERDICT_HANG, m) || batch(&r, "p1", m), 0);
		CHECK_INT(result(&r, "p2", "ks", VERDICT_HANG, m) || batch(&r, "p2", m), 0);
	}
	CHECK_INT(astore_open_incidents(&r.st, in, 4), 1);
	CHECK_INT(in[0].nprobes, 2);
	CHECK_STR(in[0].probes, "p1, p2");
	CHECK_INT(in[0].urgent, 1);	/* HANG */
	CHECK_INT(query_int(r.db, "SELECT count(*) FROM outbox WHERE event = 'opened'"), 1);
	CHECK_INT(query_int(r.db, "SELECT count(*) FROM outbox WHERE event = 'changed'"), 1);
	rig_close(&r);
}

/* Most of a probe's codes failing at once is its uplink: one incident, the codes held back. */
static void test_uplink(void)
{
	static const char *const targets[] = { "a", "b", "c", "d" };
	struct rig r;
	struct astore_incident in[8];

	if (rig_open(&r) < 0)
		return;
	for (int m = 0; m < 3; m++) {
		for (int t = 0; t < 4; t++)
			CHECK_INT(result(&r, "p1", targets[t], VERDICT_DOWN, m), 0);
		CHECK_INT(batch(&r, "p1", m), 0);
	}
	CHECK_INT(astore_open_incidents(&r.st, in, 8), 1);
	CHECK_STR(in[0].kind, "uplink");
	CHECK_STR(in[0].probe, "p1");
	/* back: the uplink resolves, and the codes count afresh */
	for (int t = 0; t < 4; t++)
		CHECK_INT(result(&r, "p1", targets[t], VERDICT_OK, 3), 0);
	CHECK_INT(batch(&r, "p1", 3), 0);
	CHECK_INT(astore_open_incidents(&r.st, in, 8), 0);
	rig_close(&r);
}

/*
 * A code whose name the probe's resolver cannot look up (link_fault) is the
 * probe's uplink, even alone: an uplink incident that says DNS, the code
 * held back and no incident of its own; another code's real failure in the
 * meantime still opens its own.
 */
static void test_resolver(void)
{
	static const char *const targets[] = { "a", "b", "c", "d" };
	struct rig r;
	struct astore_incident in[8];
	struct astore_note notes[8];
	int n;

	if (rig_open(&r) < 0)
		return;
	for (int m = 0; m < 3; m++) {
		CHECK_INT(result_on(&r, "p1", "a", VERDICT_DOWN, m, 1), 0);
		CHECK_INT(result(&r, "p1", "b", VERDICT_STALE, m), 0);
		for (int t = 2; t < 4; t++)
			CHECK_INT(result(&r, "p1", targets[t], VERDICT_OK, m), 0);
		CHECK_INT(batch(&r, "p1", m), 0);
	}
	n = astore_open_incidents(&r.st, in, 8);
	CHECK_INT(n, 2);
	CHECK_INT(query_int(r.db, "SELECT count(*) FROM incidents WHERE kind = 'uplink' AND "
			    "probe = 'p1' AND state = 'open'"), 1);
	CHECK_INT(query_int(r.db, "SELECT count(*) FROM incidents WHERE kind = 'target' AND "
			    "target = 'b' AND state = 'open'"), 1);
	CHECK_INT(query_int(r.db, "SELECT count(*) FROM incidents WHERE target = 'a'"), 0);
	n = astore_due(&r.st, T0 + 10 * MIN, notes, 8);
	CHECK_INT(n, 2);
	for (int i = 0; i < n; i++)
		astore_note_release(&notes[i]);
	/* the message says what failed: names not looked up, not "most codes" */
	CHECK_INT(query_int(r.db, "SELECT count(*) FROM outbox WHERE subject = '[qrwatch] "
			    "Điểm đo p1 không hỏi được DNS (1/4 mã lỗi)' AND body LIKE "
			    "'%máy chủ DNS của router%'"), 1);
	/* the resolver answers again: the uplink resolves, a counts afresh */
	CHECK_INT(result(&r, "p1", "a", VERDICT_OK, 3) || batch(&r, "p1", 3), 0);
	CHECK_INT(query_int(r.db, "SELECT count(*) FROM incidents WHERE kind = 'uplink' AND "
			    "state = 'open'"), 0);
	CHECK_INT(query_int(r.db, "SELECT count(*) FROM incidents WHERE kind = 'target' AND "
			    "target = 'b' AND state = 'open'"), 1);
	rig_close(&r);
}

/* One OK result of "ks" at minute m whose step met a certificate that expires in days. */
static int cert_result(struct rig *r, int m, int days)
{
	struct result res;
	struct err e;

	memset(&res, 0, sizeof(res));
	res.target = "ks";
	res.time_ms = T0 + m * MIN;
	res.verdict = VERDICT_OK;
	res.nsteps = 1;
	res.steps = result_steps_new(&r->arena, 1);
	res.steps[0].name = "Mở trang";
	res.steps[0].url = "https://dichvucong.gov.vn/p/ks";
	res.steps[0].status = 200;
	res.steps[0].error = "";
	res.steps[0].cert_expires = days ? res.time_ms / 1000 + days * 86400LL + 3600 : 0;
	if (alerts_result(&r->a, "p1", &res, res.time_ms, &e) < 0 ||
	    alerts_batch(&r->a, "p1", res.time_ms, &e) < 0)
		return -1;
	return 0;
}

/*
 * A certificate within cert_warn_days of its expiry is told once, to IT
 * staff, before anything breaks; a result without a new TLS connection
 * says nothing; a renewed one resolves it.
 */
static void test_cert(void)
{
	struct rig r;

	if (rig_open(&r) < 0)
		return;
	CHECK_INT(cert_result(&r, 0, 60), 0);
	CHECK_INT(query_int(r.db, "SELECT count(*) FROM incidents"), 0);
	CHECK_INT(cert_result(&r, 1, 17), 0);
	CHECK_INT(cert_result(&r, 2, 17), 0);
	CHECK_INT(cert_result(&r, 3, 0), 0);
	CHECK_INT(query_int(r.db, "SELECT count(*) FROM incidents WHERE kind = 'cert' AND "
			    "target = 'ks' AND state = 'open' AND cert_url = "
			    "'https://dichvucong.gov.vn/p/ks'"), 1);
	CHECK_INT(query_int(r.db, "SELECT count(*) FROM outbox WHERE subject = '[qrwatch] "
			    "Chứng chỉ HTTPS sắp hết hạn: dichvucong.gov.vn, còn 17 ngày' AND "
			    "body LIKE '%gia hạn chứng chỉ trước%' AND link LIKE '%/target/ks'"), 1);
	CHECK_INT(cert_result(&r, 4, 90), 0);
	CHECK_INT(query_int(r.db, "SELECT count(*) FROM incidents WHERE kind = 'cert' AND "
			    "state = 'open'"), 0);
	CHECK_INT(query_int(r.db, "SELECT count(*) FROM outbox WHERE event = 'resolved' AND "
			    "subject LIKE '%Đã gia hạn%'"), 1);
	/* none told when the window is 0 */
	r.cfg.cert_warn_days = 0;
	CHECK_INT(cert_result(&r, 5, 3), 0);
	CHECK_INT(query_int(r.db, "SELECT count(*) FROM incidents WHERE state = 'open'"), 0);
	rig_close(&r);
}

/* A probe that stops sending is reported once it is quiet long enough; one taken out of the config is not. */
static void test_silent(void)
{
	struct rig r;
	struct astore_incident in[4];
	struct err e;

	if (rig_open(&r) < 0)
		return;
	r.cfg.silent_after_s = 600;
	CHECK_INT(result(&r, "p1", "ks", VERDICT_OK, 0) || batch(&r, "p1", 0), 0);
	CHECK_INT(alerts_tick(&r.a, T0 + 9 * MIN, &e), 0);
	CHECK_INT(astore_open_incidents(&r.st, in, 4), 0);
	r.known = 0;
	CHECK_INT(alerts_tick(&r.a, T0 + 11 * MIN, &e), 0);
	CHECK_INT(astore_open_incidents(&r.st, in, 4), 0);
	r.known = 1;
	CHECK_INT(alerts_tick(&r.a, T0 + 11 * MIN, &e), 0);
	CHECK_INT(astore_open_incidents(&r.st, in, 4), 1);
	CHECK_STR(in[0].kind, "silent");
	/* it sends again: resolved */
	CHECK_INT(batch(&r, "p1", 12), 0);
	CHECK_INT(astore_open_incidents(&r.st, in, 4), 0);
	rig_close(&r);
}

/*
 * A batch decides on what it counted: each target once, however many of
 * its results the batch held, and never another probe's targets.
 */
static void test_batch_decides_its_own(void)
{
	struct rig r;
	struct astore_incident in[4];

	if (rig_open(&r) < 0)
		return;
	/* a batch that counted nothing (all its results old news) decides nothing */
	CHECK_INT(batch(&r, "p1", 0), 0);
	CHECK_INT(astore_open_incidents(&r.st, in, 4), 0);
	/* three bad results of one code in one batch: one incident, told once */
	for (int m = 0; m < 3; m++)
		CHECK_INT(result(&r, "p1", "ks", VERDICT_DOWN, m), 0);
	CHECK_INT(batch(&r, "p1", 3), 0);
	CHECK_INT(astore_open_incidents(&r.st, in, 4), 1);
	CHECK_INT(query_int(r.db, "SELECT count(*) FROM outbox WHERE event = 'opened'"), 1);
	/* p2's counts (its batch never decided, as after a rollback) are not p1's to decide */
	for (int m = 0; m < 3; m++)
		CHECK_INT(result(&r, "p2", "x", VERDICT_DOWN, m), 0);
	CHECK_INT(result(&r, "p1", "ks", VERDICT_DOWN, 4) || batch(&r, "p1", 4), 0);
	CHECK_INT(astore_open_incidents(&r.st, in, 4), 1);
	CHECK_STR(in[0].target, "ks");
	/* and p2's next batch decides on what it counts then */
	CHECK_INT(result(&r, "p2", "x", VERDICT_DOWN, 5) || batch(&r, "p2", 5), 0);
	CHECK_INT(astore_open_incidents(&r.st, in, 4), 2);
	rig_close(&r);
}

/* A statement the database refuses fails the call with its reason, never half a decision. */
static void test_database_error(void)
{
	struct rig r;
	struct result res;
	struct err e;

	if (rig_open(&r) < 0)
		return;
	CHECK_INT(sqlite3_exec(r.db, "DROP TABLE streaks", NULL, NULL, NULL), SQLITE_OK);
	memset(&res, 0, sizeof(res));
	res.target = "ks";
	res.verdict = VERDICT_DOWN;
	CHECK_INT(alerts_result(&r.a, "p1", &res, T0, &e), -1);
	CHECK_CONTAINS(e.msg, "no such table: streaks");
	rig_close(&r);
}

static const struct test engine_tests[] = {
	{ "open_announce_resolve", test_open_and_resolve },
	{ "two_probes_make_a_service_incident", test_service },
	{ "uplink_holds_the_codes", test_uplink },
	{ "resolver_down_is_the_uplink", test_resolver },
	{ "certificate_expiring_is_told", test_cert },
	{ "silent_probe", test_silent },
	{ "a_batch_decides_its_own_counts", test_batch_decides_its_own },
	{ "database_error_fails_the_call", test_database_error },
};
SUITE(engine, engine_tests);
