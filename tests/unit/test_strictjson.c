/* test_strictjson.c - JSON from outside: what json-c's strict mode lets through, refused. */
#include <string.h>

#include "../harness.h"
#include "../../common/strictjson.h"
#include "../../targets/uplink.h"
#include "../../common/banned.h"

static void test_cases(void)
{
	static const struct {
		const char *text;
		size_t len;	/* 0: strlen */
		const char *error;	/* NULL: accepted */
	} cases[] = {
		{ "{\"a\":1}", 0, NULL },
		{ "{\"a\":1}\n", 0, NULL },
		{ "{\"a\":\"\\ud83d\\ude00 ok\"}", 0, NULL },
		{ "{\"a\":\"it's\"}", 0, NULL },
		{ "{\"a\":\"\\\"'\"}", 0, NULL },
		{ "{\"a\":1} x", 0, "unexpected character" },
		{ "{\"a\":1}\0{\"b\":2}", 15, "bytes after the JSON value, from byte 7" },
		{ "{'a':1}", 0, "single-quoted string at byte 1" },
		{ "{\"a\":1 /* c */}", 0, "at byte" },
		{ "{\"a\":\"\\ud800\"}", 0, "lone high surrogate \\ud800 at byte 6" },
		{ "{\"a\":\"\\ud800\\u0041\"}", 0, "lone high surrogate" },
		{ "{\"a\":\"\\udc00\"}", 0, "lone low surrogate \\udc00" },
		{ "{\"a\":\"x\\u0000y\"}", 0, "strings may not hold NUL" },
		{ "{\"a\":\"\xff\"}", 0, "invalid utf-8" },
		{ "{\"a\":\"\xc3\x28\"}", 0, "invalid utf-8" },
		{ "{\"a\":", 0, "the text ends inside a value" },
		{ "", 0, "at byte 0" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err e;
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
		json_object *o = strictjson_parse(cases[i].text, len, &e);

		harness_case("case %zu", i);
		if (!cases[i].error) {
			CHECK(o != NULL);
			if (!o)
				CHECK_STR(e.msg, "");
		} else {
			CHECK(o == NULL);
			if (!o)
				CHECK_CONTAINS(e.msg, cases[i].error);
		}
		json_object_put(o);
	}
}

static void test_uplinks(void)
{
	CHECK(uplink_valid("4g"));
	CHECK(uplink_valid("unknown"));
	CHECK(uplink_valid("fibre"));
	CHECK(!uplink_valid("6g"));
	CHECK(!uplink_valid(""));
	CHECK(!uplink_valid("4"));
	CHECK(!uplink_valid("4g "));
	CHECK(!uplink_valid("fibre 5g"));
}

static const struct test strictjson_tests[] = {
	{ "strict_parse", test_cases },
	{ "uplink_kinds", test_uplinks },
};
SUITE(strictjson, strictjson_tests);
