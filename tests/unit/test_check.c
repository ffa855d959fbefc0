/* test_check.c - a check reads a board again only when its image changed (prober/check.c's board memo). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/*
 * A board the probe's decoder (ZBar only, as a router build has it) reads
 * nothing on, handed to a real qrwatchd whose whole cascade reads it.
 */
static const char handover_text[] = "Sang 7h30 den 11h30, chieu 13h30 den 17h";

/* Run a shell command line; 0 when it exited 0. */
static int sh(const char *fmt, const char *a, const char *b, const char *c)
{
	char cmd[16384];

	snprintf(cmd, sizeof(cmd), fmt, a, b, c);
	return system(cmd) == 0 ? 0 : -1;
}

struct handover_env {
	struct check_env env;
	struct push_cfg server;
	char url[256], decoder[4200];
	char step[64], why[1024];
};

static enum verdict run_handover(const struct target *t, struct board_memo *memo,
				 struct handover_env *h)
{
	struct check *c = check_new(t, NULL, &h->env);
	enum verdict v;

	CHECK(c != NULL);
	if (!c)
		return VERDICT_UNREADABLE;
	check_use_memo(c, memo);
	check_run(c);
	v = check_result(c)->verdict;
	snprintf(h->step, sizeof(h->step), "%s", check_result(c)->decode_step);
	snprintf(h->why, sizeof(h->why), "%s", check_result(c)->why_en);
	check_free(c);
	return v;
}

static void test_handover(void)
{
	const char *dir = harness_tmpdir();
	static char build[4096];
	struct catalog *cat = text_catalog(dir, handover_text);
	static struct handover_env h;
	struct board_memo memo;
	char path[1200], port[16] = "";
	FILE *f;
	pid_t server = -1;

	memset(&memo, 0, sizeof(memo));
	/* the commands below run in dir: the build's programs by their full path */
	CHECK(realpath(getenv("QRW_BUILD") ? getenv("QRW_BUILD") : "build", build) != NULL);
	if (!cat)
		return;
	/* the photos: the code at three angles ZBar cannot read and ZXing-C++ can */
	CHECK(sh("'%s/qrwatch' encode -o '%s/flat.png' '%s' >/dev/null", build, dir,
		 handover_text) == 0);
	CHECK(sh("cd '%s' && W=$(identify -format %%w flat.png) && m=$((W * 45 / 200)) && "
		 "convert flat.png -virtual-pixel white -distort Perspective "
		 "\"0,0 $m,0  $W,0 $((W - m)),0  0,$W 0,$W  $W,$W $W,$W\" a.png && "
		 "m=$((W * 48 / 200)) && "
		 "convert flat.png -virtual-pixel white -distort Perspective "
		 "\"0,0 0,0  $W,0 $W,0  0,$W $m,$W  $W,$W $((W - m)),$W\" b.png && "
		 "m=$((W * 50 / 200)) && "
		 "convert flat.png -virtual-pixel white -distort Perspective "
		 "\"0,0 $m,0  $W,0 $((W - m)),0  0,$W 0,$W  $W,$W $W,$W\" c.png && "
		 "convert -size 300x300 xc:white blank.png && cp a.png board.png%s%s",
		 dir, "", "") == 0);
	for (const char *const *p = (const char *const[]){ "a", "b", "c", NULL }; *p; p++)
		CHECK(sh("cd '%s' && '%s/tests/qrwatch-probe-decode-zbar' < %s.png | grep -q '^N'",
			 dir, build, *p) == 0);
	if (sh("cd '%s' && '%s/qrwatch-probe-decode' < a.png | grep -q '^F'%s", dir, build, "")) {
		printf("note: built without ZXing-C++: the server reads no more than the probe\n");
		goto out;
	}
	/* qrwatchd, with this probe's key */
	snprintf(path, sizeof(path), "%s/qrwatchd.conf", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		goto out;
	fprintf(f, "listen = 127.0.0.1:0\ndata_dir = %s/data\ncatalog = %s/c.catalog\n"
		"probe = p1 %s/p1.secret\n", dir, dir, dir);
	fclose(f);
	CHECK(sh("cd '%s' && printf 'snapshot-secret-of-p1\\n' > p1.secret && printf '"
		 "[place p]\\nprovince = T\\ncommune = X\\n[board b]\\nplace = p\\n"
		 "location = L\\n[target gio]\\nboard = b\\nprocedure = Gio\\n"
		 "kind = text\\nimage = %s/board.png\\npayload = %s\\n' > c.catalog",
		 dir, dir, handover_text) == 0);
	server = fork();
	if (server == 0) {
		char conf[1200], pf[1200], bin[4200];

		snprintf(conf, sizeof(conf), "%s/qrwatchd.conf", dir);
		snprintf(pf, sizeof(pf), "%s/server.port", dir);
		snprintf(bin, sizeof(bin), "%s/qrwatchd", build);
		freopen("/dev/null", "w", stderr);
		execl(bin, bin, "-c", conf, "-p", pf, (char *)NULL);
		_exit(127);
	}
	snprintf(path, sizeof(path), "%s/server.port", dir);
	for (int i = 0; i < 300 && !port[0]; i++) {
		struct timespec ms = { 0, 20 * 1000 * 1000 };

		f = fopen(path, "r");
		if (f) {
			if (!fgets(port, sizeof(port), f))
				port[0] = '\0';
			port[strcspn(port, "\n")] = '\0';
			fclose(f);
		}
		if (!port[0])
			nanosleep(&ms, NULL);
	}
	CHECK(port[0] != '\0');
	if (!port[0])
		goto out;
	snprintf(h.url, sizeof(h.url), "http://127.0.0.1:%s/api/v1/probes/p1/snapshot", port);
	snprintf(h.decoder, sizeof(h.decoder), "%s/tests/qrwatch-probe-decode-zbar", build);
	h.server.probe_id = "p1";
	memcpy(h.server.secret, "snapshot-secret-of-p1", 21);
	h.server.secret_len = 21;
	h.env.uplink = "fibre";
	h.env.decoder = h.decoder;
	h.env.snapshot_url = h.url;
	h.env.server = &h.server;
	h.env.snapshot_every_us = 3600LL * 1000000;
	h.env.snapshot_max = 2u << 20;
	catalog_free(cat);
	cat = text_catalog(dir, handover_text);
	if (!cat)
		goto out;

	/* read by the server, judged here */
	CHECK_INT(run_handover(&cat->targets[0], &memo, &h), VERDICT_OK);
	CHECK_STR(h.step, "qrwatchd:zxing");
	CHECK(memo.handovers == 1 && memo.decodes == 1);
	/* the same photo: the server's reading remembered, nothing sent */
	CHECK_INT(run_handover(&cat->targets[0], &memo, &h), VERDICT_OK);
	CHECK_STR(h.step, "qrwatchd:zxing");
	CHECK(memo.handovers == 1 && memo.reuses == 1);
	/* a new photo within snapshot_every: read here in vain, the last reading stands */
	CHECK(sh("cd '%s' && cp b.png board.png%s%s", dir, "", "") == 0);
	CHECK_INT(run_handover(&cat->targets[0], &memo, &h), VERDICT_OK);
	CHECK_STR(h.step, "qrwatchd:zxing");
	CHECK(memo.handovers == 1 && memo.decodes == 2);
	/* snapshot_every later, the next new photo goes over */
	memo.handed_us -= h.env.snapshot_every_us;
	CHECK(sh("cd '%s' && cp c.png board.png%s%s", dir, "", "") == 0);
	CHECK_INT(run_handover(&cat->targets[0], &memo, &h), VERDICT_OK);
	CHECK(memo.handovers == 2);
	/* a photo with no code at all: the server reads none either */
	memo.handed_us -= h.env.snapshot_every_us;
	CHECK(sh("cd '%s' && cp blank.png board.png%s%s", dir, "", "") == 0);
	CHECK_INT(run_handover(&cat->targets[0], &memo, &h), VERDICT_UNREADABLE);
	CHECK_CONTAINS(h.why, "preprocessing steps tried here");
	CHECK_CONTAINS(h.why, "by the server's cascade");
	CHECK(memo.handovers == 3);
	/* and now, within snapshot_every, no reading stands: a new photo stays unread */
	CHECK(sh("cd '%s' && cp a.png board.png%s%s", dir, "", "") == 0);
	CHECK_INT(run_handover(&cat->targets[0], &memo, &h), VERDICT_UNREADABLE);
	CHECK_CONTAINS(h.why, "the next photo goes to the server");
	CHECK(memo.handovers == 3);
	/* too large for snapshot_max: not sent */
	memo.handed_us -= h.env.snapshot_every_us;
	h.env.snapshot_max = 1024;
	CHECK(sh("cd '%s' && cp b.png board.png%s%s", dir, "", "") == 0);
	CHECK_INT(run_handover(&cat->targets[0], &memo, &h), VERDICT_UNREADABLE);
	CHECK_CONTAINS(h.why, "over snapshot_max_kb");
	CHECK(memo.handovers == 3);
out:
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
	}
	board_memo_release(&memo);
	catalog_free(cat);
}

static const struct test check_tests[] = {
	{ "board_memo", test_board_memo },
	{ "handover", test_handover },
};
SUITE(check, check_tests);
