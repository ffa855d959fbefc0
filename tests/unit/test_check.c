/* test_check.c - a check reads a board again only when its image changed (prober/check.c's board memo). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../harness.h"
#include "../../prober/check.h"
#include "../../targets/poster.h"
#include "../../common/fileio.h"
#include "../../common/banned.h"

/* A text code (no network): the board's image is all a check reads. */
static struct catalog *text_catalog(const char *dir, const char *payload)
{
	char text[1024];
	struct buf errs;
	struct catalog *c;

	snprintf(text, sizeof(text),
		 "[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n"
		 "[board b]\nplace = p\nlocation = Nhà văn hoá\n"
		 "[target gio]\nboard = b\nprocedure = Giờ làm việc\nkind = text\n"
		 "image = %s/board.png\npayload = %s\n", dir, payload);
	buf_init(&errs, 4096);
	c = catalog_parse("c.catalog", dir, text, strlen(text), &errs);
	CHECK_STR(buf_str(&errs), "");
	buf_release(&errs);
	return c;
}

/* Draw the board of cat's target into DIR/board.png. */
static void draw(const struct catalog *cat, const char *dir)
{
	char path[1200];
	struct buf png;
	struct err e;

	buf_init(&png, 1 << 22);
	CHECK(poster_png(&cat->targets[0], &png, &e) == 0);
	snprintf(path, sizeof(path), "%s/board.png", dir);
	CHECK(file_write_atomic(path, png.data, png.len, &e) == 0);
	buf_release(&png);
}

static enum verdict run_check(const struct target *t, struct board_memo *memo)
{
	static struct check_env env;
	static char decoder[1100];
	const char *build = getenv("QRW_BUILD");
	struct check *c;
	enum verdict v;

	/* the decoder program of this build (tests/run.sh says which) */
	snprintf(decoder, sizeof(decoder), "%s/qrwatch-probe-decode", build ? build : "build");
	env.decoder = decoder;
	env.uplink = "fibre";
	c = check_new(t, NULL, &env);
	CHECK(c != NULL);
	if (!c)
		return VERDICT_UNREADABLE;
	check_use_memo(c, memo);
	check_run(c);
	v = check_result(c)->verdict;
	check_free(c);
	return v;
}

static void test_board_memo(void)
{
	const char *dir = harness_tmpdir();
	struct catalog *cat = text_catalog(dir, "Sáng 7h30 đến 11h30");
	struct catalog *other = text_catalog(dir, "Nghỉ làm việc cả tuần");
	struct board_memo memo;
	char path[1200];
	struct timespec later[2] = { { 0, UTIME_NOW }, { 0, 0 } };
	struct stat st;

	memset(&memo, 0, sizeof(memo));
	if (!cat || !other)
		goto out;
	draw(cat, dir);
	/* first check: decoded */
	CHECK_INT(run_check(&cat->targets[0], &memo), VERDICT_OK);
	CHECK(memo.decodes == 1 && memo.reuses == 0);
	/* unchanged: the reading is reused, the file not even read */
	CHECK_INT(run_check(&cat->targets[0], &memo), VERDICT_OK);
	CHECK(memo.decodes == 1 && memo.reuses == 1);
	/* touched (a new time, the same bytes): read and hashed, not decoded */
	snprintf(path, sizeof(path), "%s/board.png", dir);
	CHECK(stat(path, &st) == 0);
	later[1].tv_sec = st.st_mtim.tv_sec + 60;
	CHECK(utimensat(AT_FDCWD, path, later, 0) == 0);
	CHECK_INT(run_check(&cat->targets[0], &memo), VERDICT_OK);
	CHECK(memo.decodes == 1 && memo.reuses == 2);
	/* a new photo: decoded in the check that first sees it */
	draw(other, dir);
	CHECK_INT(run_check(&cat->targets[0], &memo), VERDICT_TAMPERED);
	CHECK(memo.decodes == 2 && memo.reuses == 2);
	CHECK_INT(run_check(&cat->targets[0], &memo), VERDICT_TAMPERED);
	CHECK(memo.decodes == 2 && memo.reuses == 3);
out:
	board_memo_release(&memo);
	catalog_free(cat);
	catalog_free(other);
}

static const struct test check_tests[] = {
	{ "board_memo", test_board_memo },
};
SUITE(check, check_tests);
