/* test_common.c - tests of the small shared helpers: text and buf. */
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "../../common/buf.h"
#include "../../common/text.h"
#include "../../common/banned.h"

static void test_utf8(void)
{
	static const struct {
		const char *s;
		int valid;
	} rows[] = {
		{ "", 1 },
		{ "plain ascii", 1 },
		{ "Đăng ký khai sinh", 1 },
		{ "Xác nhận tình trạng hôn nhân", 1 },
		{ "\xe6\x97\xa5\xe6\x9c\xac", 1 },	/* 日本 */
		{ "\xf0\x9f\x98\x80", 1 },		/* emoji */
		{ "caf\xe9", 0 },			/* Latin-1 */
		{ "\xc0\xaf", 0 },			/* overlong '/' */
		{ "\xed\xa0\x80", 0 },			/* surrogate */
		{ "\xe6\x97", 0 },			/* truncated */
		{ "\xf4\x90\x80\x80", 0 },		/* above U+10FFFF */
		{ "\x80", 0 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		harness_case("row %zu", i);
		CHECK_INT(utf8_valid(rows[i].s, strlen(rows[i].s)), rows[i].valid);
	}
}

static void test_seconds(void)
{
	static const struct {
		const char *s;
		int rc;
		long v;
	} rows[] = {
		{ "300", 0, 300 }, { "90s", 0, 90 }, { "5m", 0, 300 },
		{ "2h", 0, 7200 }, { "1d", 0, 86400 }, { "29", -1, 0 },
		{ "2d", -1, 0 }, { "", -1, 0 }, { "5x", -1, 0 }, { "m", -1, 0 },
		{ " 5m", -1, 0 }, { "-5m", -1, 0 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		long v = 0;

		harness_case("'%s'", rows[i].s);
		CHECK_INT(text_to_seconds(rows[i].s, 30, 86400, &v), rows[i].rc);
		if (rows[i].rc == 0)
			CHECK_INT(v, rows[i].v);
	}
}

static void test_distance(void)
{
	CHECK_INT(text_distance("interval", "intervl"), 1);
	CHECK_INT(text_distance("kitten", "sitting"), 3);
	CHECK_INT(text_distance("", "abc"), 3);
	CHECK_INT(text_distance("same", "same"), 0);
}

static const struct test text_tests[] = {
	{ "utf8_valid", test_utf8 },
	{ "durations", test_seconds },
	{ "edit_distance", test_distance },
};
SUITE(text, text_tests);

static void test_buf_cap(void)
{
	struct buf b;
	char *s;

	buf_init(&b, 8);
	CHECK_INT(buf_adds(&b, "12345"), 0);
	CHECK_STR(buf_str(&b), "12345");
	CHECK_INT(buf_addf(&b, "%d", 678), 0);
	CHECK_STR(buf_str(&b), "12345678");
	/* one byte over the cap: everything goes, and stays gone */
	CHECK_INT(buf_addc(&b, '9'), -1);
	CHECK(b.overflow);
	CHECK_STR(buf_str(&b), "");
	CHECK_INT(buf_adds(&b, "x"), -1);
	CHECK(buf_detach(&b, NULL) == NULL);
	buf_release(&b);

	buf_init(&b, 1024);
	buf_adds(&b, "Thôn Đông");
	s = buf_detach(&b, NULL);
	CHECK_STR(s, "Thôn Đông");
	free(s);
	buf_release(&b);
}

static const struct test buf_tests[] = {
	{ "cap_and_overflow", test_buf_cap },
};
SUITE(buf, buf_tests);
