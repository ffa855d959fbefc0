/* test_common.c - tests of the small shared helpers: text and buf. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../harness.h"
#include "../../common/buf.h"
#include "../../common/conffile.h"
#include "../../common/fileio.h"
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

/* The whole Levenshtein table, the plain way, to hold the fast one against. */
static int reference_distance(const char *a, const char *b)
{
	int d[65][65];
	size_t la = strlen(a), lb = strlen(b);

	for (size_t i = 0; i <= la; i++)
		for (size_t j = 0; j <= lb; j++) {
			int best;

			if (!i || !j) {
				d[i][j] = (int)(i + j);
				continue;
			}
			best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

static void test_distance(void)
{
	CHECK_INT(text_distance("interval", "intervl"), 1);
	CHECK_INT(text_distance("kitten", "sitting"), 3);
	CHECK_INT(text_distance("", "abc"), 3);
	CHECK_INT(text_distance("same", "same"), 0);
	/* bounded: beyond max it only says "more" */
	CHECK_INT(text_distance_max("interval", "intervl", 2), 1);
	CHECK_INT(text_distance_max("kitten", "sitting", 2), 3);
	CHECK_INT(text_distance_max("probe_id", "an_unknown_key_much_longer_than_any_known_one", 2), 3);
	CHECK_INT(text_distance_max("abcdef", "ghijkl", 2), 3);
	/* the banded, bounded search agrees with the whole table on every pair */
	{
		static const char *const w[] = {
			"", "a", "ab", "ba", "abc", "acb", "interval", "intervl", "intreval",
			"interval_s", "log", "log_level", "loglevel", "lgo_level", "probe",
			"probe_id", "prob_id", "secret", "secret_file", "scret_file",
		};
		size_t n = sizeof(w) / sizeof(w[0]);

		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; k < n; k++)
				for (int max = 0; max <= 3; max++) {
					int d = reference_distance(w[i], w[k]);

					harness_case("'%s' '%s' max %d", w[i], w[k], max);
					CHECK_INT(text_distance_max(w[i], w[k], max),
						  d <= max ? d : max + 1);
				}
		harness_case("%s", "");
	}
}

static void note_key(void *ctx, size_t index, const char *key, const char *val,
		     const char *path, int line, struct buf *errors)
{
	(void)path;
	(void)errors;
	buf_addf(ctx, "%zu:%s=%s@%d;", index, key, val, line);
}

/* The reader both configuration files use: what it passes on and what it names. */
/* CSV fields: quoted, quotes doubled, formulas shown as text. */
static void test_csv(void)
{
	static const struct { const char *in, *out; } rows[] = {
		{ "4g", "\"4g\"" },
		{ "say \"hi\"", "\"say \"\"hi\"\"\"" },
		{ "=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\"" },
		{ "+1", "\"'+1\"" }, { "-1", "\"'-1\"" }, { "@SUM(A1)", "\"'@SUM(A1)\"" },
		{ "\t=1", "\"'\t=1\"" }, { "\r=1", "\"'\r=1\"" },
		{ "a=1", "\"a=1\"" }, { "", "\"\"" }, { NULL, "\"\"" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct buf b;

		buf_init(&b, 1024);
		harness_case("row %zu", i);
		CHECK_INT(text_csv_field(&b, rows[i].in), 0);
		CHECK_STR(buf_str(&b), rows[i].out);
		buf_release(&b);
	}
}

static void test_conffile(void)
{
	static const char *const known[] = { "alpha", "beta" };
	static const char text[] = "# comment\n; comment too\n\n  alpha =  1 \nno equals here\n"
				   "beta=two words\nbeat = 3\nzzz = 4\n";
	char path[512];
	struct buf got, errs;
	struct err e;

	snprintf(path, sizeof(path), "%s/c.conf", harness_tmpdir());
	CHECK_INT(file_write_atomic(path, text, sizeof(text) - 1, &e), 0);
	buf_init(&got, 4096);
	buf_init(&errs, 4096);
	CHECK_INT(conf_read(path, known, 2, note_key, &got, &errs), 8);
	CHECK_STR(buf_str(&got), "0:alpha=1@4;1:beta=two words@6;");
	CHECK_CONTAINS(buf_str(&errs), "c.conf:5: expected 'key = value'");
	CHECK_CONTAINS(buf_str(&errs), "c.conf:7: unknown key 'beat' (did you mean 'beta'?)");
	CHECK_CONTAINS(buf_str(&errs), "c.conf:8: unknown key 'zzz'\n");
	buf_reset(&errs);
	CHECK_INT(conf_read("/nonexistent/c.conf", known, 2, note_key, &got, &errs), -1);
	CHECK_CONTAINS(buf_str(&errs), "/nonexistent/c.conf");
	buf_release(&got);
	buf_release(&errs);
}

/* A NUL byte is refused on its line, and the lines after it are still read (found by a fuzzer). */
static void test_conffile_nul(void)
{
	static const char *const known[] = { "alpha", "beta" };
	static const char text[] = "alpha = 1\0 and more\nbeta = 2\n";
	char path[512];
	struct buf got, errs;
	struct err e;

	snprintf(path, sizeof(path), "%s/nul.conf", harness_tmpdir());
	CHECK_INT(file_write_atomic(path, text, sizeof(text) - 1, &e), 0);
	buf_init(&got, 4096);
	buf_init(&errs, 4096);
	CHECK_INT(conf_read(path, known, 2, note_key, &got, &errs), 2);
	CHECK_CONTAINS(buf_str(&errs), "nul.conf:1: line contains a NUL byte");
	CHECK_STR(buf_str(&got), "1:beta=2@2;");
	buf_release(&got);
	buf_release(&errs);
}

/*
 * The did-you-mean for an unknown key costs little whatever the key: a
 * megabyte of 63-character unknown keys used to take seconds (found by a
 * fuzzer).
 */
static void test_conffile_suggest_bounded(void)
{
	static const char *const known[] = {
		"listen", "data_dir", "catalog", "probe", "threads", "max_connections",
		"max_per_ip", "connection_timeout", "max_body_kb", "tls_cert", "tls_key",
		"log", "log_level", "user", "rrdcached", "public_url", "notify",
		"alert_open_after", "alert_resolve_after", "alert_uplink_share",
		"alert_silent_after", "alert_remind_every", "alert_digest_at", "alert_lang",
		"alert_retry_min", "alert_retry_max", "alert_give_up", "smtp_url", "smtp_from",
		"smtp_user", "smtp_password_file", "smtp_starttls", "smtp_ca_file",
		"header_timeout", "body_timeout", "max_pending_per_ip", "connection_reserve",
		"page_threads", "page_queue", "auth_threads", "auth_queue", "login_rate_ip",
		"login_rate_user", "login_cache", "trusted_proxy", "rrd_checkpoint",
	};
	size_t n = CONFFILE_MAX_BYTES - 1024, line = 66;
	char *text = malloc(n), path[512];
	struct buf got, errs;
	struct timespec t0, t1;
	struct err e;
	double took;

	if (!text) {
		CHECK(text != NULL);
		return;
	}
	for (size_t i = 0; i < n; i++)
		text[i] = i % line == line - 1 ? '\n' : i % line == line - 3 ? '=' :
			  (char)('a' + (i * 7 + i / line) % 26);
	snprintf(path, sizeof(path), "%s/long-keys.conf", harness_tmpdir());
	CHECK_INT(file_write_atomic(path, text, n, &e), 0);
	buf_init(&got, 4096);
	buf_init(&errs, 64 * 1024 * 1024);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(conf_read(path, known, sizeof(known) / sizeof(known[0]), note_key, &got,
			&errs) > 15000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	CHECK_CONTAINS(buf_str(&errs), "long-keys.conf:1: unknown key '");
	if (took > 1.0)
		harness_case("took %.2f s", took);
	CHECK(took < 1.0);
	harness_case("%s", "");
	buf_release(&got);
	buf_release(&errs);
	free(text);
}

/* New files in a folder: the name given, then -1, -2 for the same name; never one written over. */
static void test_write_new(void)
{
	char dir[512], a[600], b[600], c[600];
	struct err e;
	size_t n = 0;
	char *got;

	snprintf(dir, sizeof(dir), "%s/new-files", harness_tmpdir());
	CHECK_INT(file_write_new(dir, "20261204T210000Z", "jpg", "one", 3, a, sizeof(a), &e), 0);
	CHECK_INT(file_write_new(dir, "20261204T210000Z", "jpg", "two", 3, b, sizeof(b), &e), 0);
	CHECK(text_ends_with(a, "/new-files/20261204T210000Z.jpg"));
	CHECK(text_ends_with(b, "/new-files/20261204T210000Z-1.jpg"));
	got = file_read(a, 100, &n, &e);
	CHECK(got && n == 3 && !memcmp(got, "one", 3));
	free(got);
	CHECK_INT(file_write_new("/nonexistent/x", "n", "jpg", "z", 1, c, sizeof(c), &e), -1);
	CHECK_CONTAINS(e.msg, "cannot create /nonexistent/x");
}

static const struct test text_tests[] = {
	{ "file_write_new", test_write_new },
	{ "utf8_valid", test_utf8 },
	{ "durations", test_seconds },
	{ "edit_distance", test_distance },
	{ "config_reader", test_conffile },
	{ "config_reader_nul_byte", test_conffile_nul },
	{ "config_reader_suggestion_bounded", test_conffile_suggest_bounded },
	{ "csv_fields", test_csv },
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
