/* test_result.c - the Result's codec and the batch's: what the probe writes, the server takes, field by field. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "../../targets/batch.h"
#include "../../targets/result.h"
#include "../../common/strictjson.h"
#include "../../common/banned.h"

/* A result with every field set to a value of its own. */
static void full_result(struct arena *a, struct result *r)
{
	struct result_step *s;

	memset(r, 0, sizeof(*r));
	r->target = "ks-thon-dong";
	r->time_ms = 1795348081532LL;
	r->verdict = VERDICT_BROKEN_FLOW;
	r->why_vi = "Bước 2 (Nộp hồ sơ): Máy chủ báo lỗi (mã HTTP 500).";
	r->why_en = "Step 2 (Nộp hồ sơ): The server failed (HTTP 500).";
	r->payload = "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh.html?ma=1.001193";
	r->decode_step = "as-is";
	r->failed_step = 2;
	r->failed_step_name = "Nộp hồ sơ";
	r->total_us = 412233;
	r->uplink = "4g";
	r->interface = "wwan0";
	r->link_fault = 1;
	r->nsteps = 2;
	r->steps = result_steps_new(a, 2);
	s = &r->steps[0];
	s->name = "Trang thủ tục";
	s->method = "GET";
	s->url = "https://dichvucong.gov.vn/p/ks";
	s->final_url = "https://dichvucong.gov.vn/p/ks/";
	s->status = 200;
	s->bytes = 18211;
	s->redirects = 1;
	result_add_hop(a, s, 301, "https://dichvucong.gov.vn/p/ks", "/p/ks/");
	s->reused = 0;
	s->cold = 1;
	s->dns_us = 31200;
	s->connect_us = 61544;
	s->tls_us = 122310;
	s->ttfb_us = 143002;
	s->transfer_us = 12001;
	s->total_us = 370057;
	s->ok = 1;
	s->error = "";
	s = &r->steps[1];
	s->name = "Nộp hồ sơ";
	s->method = "POST";
	s->url = "https://dichvucong.gov.vn/p/ks/nop";
	s->final_url = s->url;
	s->status = 500;
	s->reused = 1;
	s->total_us = 42176;
	s->error = "The server failed (HTTP 500).";
}

static int same_str(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static void test_round_trip(void)
{
	struct arena a, b;
	struct result r, back;
	struct buf j1, j2;
	struct err e;
	json_object *o;

	arena_init(&a, 0);
	arena_init(&b, 0);
	buf_init(&j1, 1 << 20);
	buf_init(&j2, 1 << 20);
	full_result(&a, &r);
	CHECK_INT(result_to_json(&r, &j1), 0);
	o = strictjson_parse(j1.data, j1.len, &e);
	CHECK(o != NULL);
	if (!o)
		goto out;
	CHECK_INT(result_from_json(o, &b, "", &back, &e), 0);
	json_object_put(o);
	CHECK_STR(back.target, r.target);
	CHECK_INT(back.time_ms, r.time_ms);
	CHECK_INT(back.verdict, r.verdict);
	CHECK(same_str(back.why_vi, r.why_vi) && same_str(back.why_en, r.why_en));
	CHECK(same_str(back.payload, r.payload) && same_str(back.decode_step, r.decode_step));
	CHECK_INT(back.failed_step, 2);
	CHECK_STR(back.failed_step_name, "Nộp hồ sơ");
	CHECK_INT(back.total_us, 412233);
	CHECK_STR(back.uplink, "4g");
	CHECK_STR(back.interface, "wwan0");
	CHECK_INT(back.link_fault, 1);
	CHECK_INT(back.nsteps, 2);
	if (back.nsteps == 2) {
		const struct result_step *s = &back.steps[0], *t = &back.steps[1];

		CHECK_STR(s->name, "Trang thủ tục");
		CHECK_INT(s->status, 200);
		CHECK_INT(s->bytes, 18211);
		CHECK_INT(s->nhops, 1);
		if (s->nhops == 1) {
			CHECK_INT(s->hops[0].status, 301);
			CHECK_STR(s->hops[0].url, "https://dichvucong.gov.vn/p/ks");
			CHECK_STR(s->hops[0].location, "/p/ks/");
		}
		CHECK(!s->reused && s->cold && s->ok);
		CHECK(s->dns_us == 31200 && s->connect_us == 61544 && s->tls_us == 122310 &&
		      s->ttfb_us == 143002 && s->transfer_us == 12001 && s->total_us == 370057);
		CHECK_STR(t->method, "POST");
		CHECK_INT(t->status, 500);
		CHECK(t->reused && !t->ok);
		CHECK_STR(t->error, "The server failed (HTTP 500).");
	}
	/* and written again, byte for byte the same */
	CHECK_INT(result_to_json(&back, &j2), 0);
	CHECK_STR(buf_str(&j2), buf_str(&j1));
out:
	buf_release(&j1);
	buf_release(&j2);
	arena_release(&a);
	arena_release(&b);
}

/* One change to a good result, and the refusal it must get. */
static void test_refusals(void)
{
	static const struct {
		const char *from, *to;	/* replace the first from with to */
		int status;
		const char *msg;
	} rows[] = {
		{ "\"target\":\"ks-thon-dong\",", "", 422, "r.target: missing" },
		{ "\"ks-thon-dong\"", "\"KS thôn\"", 422, "r.target: 'KS thôn' is not a target id" },
		{ "\"ks-thon-dong\"", "7", 422, "r.target: must be a string" },
		{ "\"2026-11-22T11:48:01.532Z\"", "\"2026-02-30T11:48:01.532Z\"", 422,
		  "r.time: '2026-02-30T11:48:01.532Z' is not a UTC time" },
		{ "\"BROKEN_FLOW\"", "\"BROKEN\"", 422, "r.verdict: unknown verdict 'BROKEN'" },
		{ "\"failed_step\":2", "\"failed_step\":33", 422, "r.failed_step: 33 is out of range (0 to 32)" },
		{ "\"failed_step\":2", "\"failed_step\":2.5", 422, "r.failed_step: must be a whole number" },
		{ "\"total_us\":412233", "\"total_us\":-1", 422, "r.total_us: -1 is out of range" },
		{ "\"total_us\":412233", "\"total_us\":99999999999999999999", 422,
		  "r.total_us: a number above 9223372036854775807 is out of range" },
		{ "\"uplink\":\"4g\"", "\"uplink\":\"lte\"", 422, "r.uplink: 'lte' is not one of: fibre" },
		{ "\"dns_us\":31200", "\"dns_us\":-5", 422, "r.steps[0].dns_us: -5 is out of range (0 to 86400000000)" },
		{ "\"status\":200", "\"status\":1000", 422, "r.steps[0].status: 1000 is out of range (0 to 999)" },
		{ "\"reused\":false", "\"reused\":0", 422, "r.steps[0].reused: must be true or false" },
		{ "\"redirect_chain\":[{", "\"redirect_chain\":[7,{", 422, "r.steps[0].redirect_chain[0]: must be an object" },
		{ "\"steps\":[", "\"steps\":7,\"x\":[", 422, "r.steps: must be an array" },
		{ "\"why_en\":\"", "\"why_en\":\"a\\u0000", 422, "r.why_en: holds a NUL character" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct arena a, b;
		struct result r, back;
		struct buf j, k;
		struct err e;
		json_object *o;
		const char *at;

		harness_case("%s", rows[i].msg);
		arena_init(&a, 0);
		arena_init(&b, 0);
		buf_init(&j, 1 << 20);
		buf_init(&k, 1 << 20);
		full_result(&a, &r);
		result_to_json(&r, &j);
		at = strstr(buf_str(&j), rows[i].from);
		CHECK(at != NULL);
		if (at) {
			buf_add(&k, j.data, (size_t)(at - j.data));
			buf_adds(&k, rows[i].to);
			buf_adds(&k, at + strlen(rows[i].from));
			o = json_tokener_parse(buf_str(&k));
			CHECK(o != NULL);
			if (o) {
				CHECK_INT(result_from_json(o, &b, "r.", &back, &e), rows[i].status);
				CHECK_CONTAINS(e.msg, rows[i].msg);
				json_object_put(o);
			}
		}
		buf_release(&j);
		buf_release(&k);
		arena_release(&a);
		arena_release(&b);
	}
}

/* A string over its limit is a 413; too many steps or hops is refused. */
static void test_limits(void)
{
	char *big = calloc(1, RESULT_FIELD_MAX + 2);
	json_object *o = json_object_new_object(), *steps = json_object_new_array();
	struct arena a;
	struct result r;
	struct err e;

	arena_init(&a, 0);
	memset(big, 'x', RESULT_FIELD_MAX + 1);
	json_object_object_add(o, "target", json_object_new_string("t"));
	json_object_object_add(o, "time", json_object_new_string("2026-11-22T11:48:01Z"));
	json_object_object_add(o, "verdict", json_object_new_string("OK"));
	json_object_object_add(o, "why_vi", json_object_new_string(big));
	json_object_object_add(o, "steps", steps);
	CHECK_INT(result_from_json(o, &a, "", &r, &e), 413);
	CHECK_CONTAINS(e.msg, "why_vi: longer than 4096 bytes");
	json_object_object_add(o, "why_vi", json_object_new_string("ok"));
	for (int i = 0; i <= RESULT_MAX_STEPS; i++)
		json_object_array_add(steps, json_object_new_object());
	CHECK_INT(result_from_json(o, &a, "", &r, &e), 422);
	CHECK_CONTAINS(e.msg, "steps: more than 32 steps");
	json_object_put(o);
	o = json_object_new_string("x");
	CHECK_INT(result_from_json(o, &a, "results[4].", &r, &e), 422);
	CHECK_STR(e.msg, "results[4]: must be an object");
	json_object_put(o);
	/* a result without its optional fields reads as empty strings and zeros */
	o = json_tokener_parse("{\"target\":\"t\",\"time\":\"2026-11-22T11:48:01Z\","
			       "\"verdict\":\"OK\",\"steps\":[{}]}");
	CHECK_INT(result_from_json(o, &a, "", &r, &e), 0);
	CHECK(r.why_vi && !r.why_vi[0] && r.uplink && !r.uplink[0]);
	CHECK(r.nsteps == 1 && r.steps[0].name && !r.steps[0].name[0] && r.steps[0].nhops == 0);
	CHECK_INT(r.time_ms, 1795348081000LL);
	json_object_put(o);
	free(big);
	arena_release(&a);
}

/* The probe's batch body is what the server's decoder takes, head and results. */
static void test_batch(void)
{
	struct batch_head h;
	struct buf recs[2], body;
	struct batch b;
	struct arena a;
	struct result r;
	struct err e;
	char sig[65], again[65];

	arena_init(&a, 0);
	full_result(&a, &r);
	for (int i = 0; i < 2; i++) {
		buf_init(&recs[i], 1 << 20);
		result_to_json(&r, &recs[i]);
	}
	memset(&h, 0, sizeof(h));
	h.probe = "tan-an-thon-dong";
	h.epoch = "9f3c41d07ab2e856";
	h.seq = 42;
	h.clock_ms = 1795348083123LL;
	h.since_sync_s = 120;
	h.uplink = "4g";
	h.version = "0.1.0";
	h.dropped = 3;
	h.pending_bytes = 5120;
	buf_init(&body, 1 << 20);
	CHECK_INT(batch_body(&h, recs, 2, &body), 0);
	CHECK_CONTAINS(buf_str(&body), "\"clock\":\"2026-11-22T11:48:03Z\"");
	CHECK_INT(batch_decode(body.data, body.len, "tan-an-thon-dong", &b, &e), 0);
	CHECK_STR(b.head.epoch, "9f3c41d07ab2e856");
	CHECK_INT(b.head.seq, 42);
	CHECK_INT(b.head.clock_ms, 1795348083123LL);
	CHECK_INT(b.head.since_sync_s, 120);
	CHECK_STR(b.head.uplink, "4g");
	CHECK_INT(b.head.dropped, 3);
	CHECK_INT(b.head.pending_bytes, 5120);
	CHECK_INT(b.n, 2);
	if (b.n == 2)
		CHECK_STR(b.results[1].steps[1].error, "The server failed (HTTP 500).");
	batch_release(&b);
	CHECK_INT(batch_decode(body.data, body.len, "another-probe", &b, &e), 400);
	CHECK_CONTAINS(e.msg, "probe: 'tan-an-thon-dong' does not match X-Qrwatch-Probe 'another-probe'");
	batch_release(&b);
	/* signatures: the same bytes, the same key; anything else differs */
	batch_sign((const unsigned char *)"secret", 6, body.data, body.len, sig);
	batch_sign((const unsigned char *)"secret", 6, body.data, body.len, again);
	CHECK(batch_signature_equal(sig, again));
	batch_sign((const unsigned char *)"secreT", 6, body.data, body.len, again);
	CHECK(!batch_signature_equal(sig, again));
	CHECK(!batch_signature_equal(sig, "abc"));
	for (int i = 0; i < 2; i++)
		buf_release(&recs[i]);
	buf_release(&body);
	arena_release(&a);
}

/*
 * A head without the optional fields (a probe from before epochs, no
 * uplink): what the encoder writes for them, the decoder takes (found by
 * a fuzzer: "epoch":"" was refused).
 */
static void test_batch_optional_left_out(void)
{
	struct batch_head h;
	struct buf body;
	struct batch b;
	struct err e;

	memset(&h, 0, sizeof(h));
	h.probe = "tan-an-thon-dong";
	h.epoch = "";
	h.seq = 1;
	h.clock_ms = 1795348083123LL;
	h.since_sync_s = -1;
	buf_init(&body, 1 << 20);
	CHECK_INT(batch_body(&h, NULL, 0, &body), 0);
	CHECK_CONTAINS(buf_str(&body), "\"epoch\":\"\"");
	CHECK_INT(batch_decode(body.data, body.len, "tan-an-thon-dong", &b, &e), 0);
	CHECK_STR(b.head.epoch, "");
	CHECK(b.head.uplink == NULL);
	CHECK(b.head.version == NULL);
	batch_release(&b);
	buf_release(&body);
}

static const struct test result_tests[] = {
	{ "round_trip_every_field", test_round_trip },
	{ "refusals_name_the_field", test_refusals },
	{ "limits", test_limits },
	{ "batch_body_and_decode", test_batch },
	{ "batch_optional_fields_left_out", test_batch_optional_left_out },
};
SUITE(result, result_tests);
