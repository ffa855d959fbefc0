/* test_spool.c - the probe's spool: order, persistence, torn writes, the size bound, kill -9. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness.h"
#include "../../prober/spool.h"
#include "../../common/banned.h"

static const char *fresh_dir(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", harness_tmpdir(), name);
	return path;
}

static void rec(char *out, size_t cap, long i)
{
	snprintf(out, cap, "{\"n\":%ld,\"target\":\"ks-thon-đông\"}", i);
}

/* Read every unsent record; check they are n0, n0+1, ... Returns the count. */
static long drain(struct spool *s, long n0, int consume)
{
	long got = 0;

	for (;;) {
		struct spool_batch b;
		struct err e;

		CHECK_INT(spool_peek(s, 100, 1 << 20, &b, &e), 0);
		if (b.n == 0) {
			spool_batch_release(&b);
			return got;
		}
		for (size_t i = 0; i < b.n; i++) {
			char want[128];

			rec(want, sizeof(want), n0 + got);
			harness_case("record %ld", n0 + got);
			CHECK_STR(buf_str(&b.recs[i]), want);
			got++;
		}
		if (consume)
			CHECK_INT(spool_consume(s, &b, &e), 0);
		spool_batch_release(&b);
		if (!consume)
			return got;
	}
}

static void test_order_and_reopen(void)
{
	const char *dir = fresh_dir("order");
	struct spool *s;
	struct spool_batch b;
	struct err e;
	char r[128];

	s = spool_open(dir, 0, &e);
	CHECK(s != NULL);
	if (!s)
		return;
	for (long i = 0; i < 250; i++) {
		rec(r, sizeof(r), i);
		CHECK_INT(spool_append(s, r, strlen(r), &e), 0);
	}
	CHECK_INT(spool_buffered(s), 250);
	CHECK_INT(spool_flush(s, &e), 0);
	CHECK_INT(spool_buffered(s), 0);
	/* send the first 100, then close as a crash would */
	CHECK_INT(spool_peek(s, 100, 1 << 20, &b, &e), 0);
	CHECK_INT(b.n, 100);
	CHECK_INT(b.seq, 1);
	CHECK_INT(spool_consume(s, &b, &e), 0);
	spool_batch_release(&b);
	spool_close(s);

	s = spool_open(dir, 0, &e);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(spool_next_seq(s), 2);
	CHECK_INT(drain(s, 100, 1), 150);
	CHECK_INT(spool_pending_bytes(s), 0);
	CHECK_INT(spool_dropped(s), 0);
	spool_close(s);
}

static void test_torn_tail(void)
{
	const char *dir = fresh_dir("torn");
	struct spool *s;
	struct err e;
	char r[128], path[600];
	int fd;

	s = spool_open(dir, 0, &e);
	for (long i = 0; i < 10; i++) {
		rec(r, sizeof(r), i);
		spool_append(s, r, strlen(r), &e);
	}
	CHECK_INT(spool_flush(s, &e), 0);
	spool_close(s);
	/* a power cut in the middle of the next write: half a header and body */
	snprintf(path, sizeof(path), "%s/seg-000000000001", dir);
	fd = open(path, O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK_INT(write(fd, "\x40\x00\x00\x00\x12\x34{\"n\":1", 13), 13);
		close(fd);
	}
	s = spool_open(dir, 0, &e);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(spool_dropped(s), 1);
	/* what comes after the repair is readable */
	for (long i = 10; i < 15; i++) {
		rec(r, sizeof(r), i);
		spool_append(s, r, strlen(r), &e);
	}
	CHECK_INT(spool_flush(s, &e), 0);
	CHECK_INT(drain(s, 0, 1), 15);
	spool_close(s);
}

static void test_corrupt_older_segment(void)
{
	const char *dir = fresh_dir("corrupt");
	struct spool *s;
	struct err e;
	char r[4096], path[600];
	long n = 0;
	int fd;

	s = spool_open(dir, 0, &e);
	/* about 3 segments of 3 KB records */
	for (int f = 0; f < 3; f++) {
		for (int i = 0; i < 80; i++, n++) {
			int k = snprintf(r, sizeof(r), "{\"n\":%ld,\"pad\":\"", n);

			memset(r + k, 'x', 3000);
			snprintf(r + k + 3000, sizeof(r) - (size_t)k - 3000, "\"}");
			spool_append(s, r, strlen(r), &e);
		}
		CHECK_INT(spool_flush(s, &e), 0);
	}
	spool_close(s);
	/* flip a byte in the middle of the first segment */
	snprintf(path, sizeof(path), "%s/seg-000000000001", dir);
	fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK_INT(pwrite(fd, "#", 1, 50000), 1);
		close(fd);
	}
	s = spool_open(dir, 0, &e);
	CHECK(s != NULL);
	if (!s)
		return;
	{
		long got = 0, last = -1, jumps = 0;

		for (;;) {
			struct spool_batch b;

			CHECK_INT(spool_peek(s, 50, 1 << 20, &b, &e), 0);
			if (!b.n) {
				spool_batch_release(&b);
				break;
			}
			for (size_t i = 0; i < b.n; i++) {
				long v = strtol(buf_str(&b.recs[i]) + 5, NULL, 10);

				if (v != last + 1)
					jumps++;
				CHECK(v > last);
				last = v;
				got++;
			}
			spool_consume(s, &b, &e);
			spool_batch_release(&b);
		}
		/* the damaged segment's tail is lost, the later segments are whole */
		CHECK(got > 160 && got < 240);
		CHECK_INT(last, 239);
		CHECK_INT(jumps, 1);
	}
	spool_close(s);
}

static void test_bound(void)
{
	const char *dir = fresh_dir("bound");
	struct spool *s;
	struct err e;
	char r[2100];
	long total = 0, kept;

	s = spool_open(dir, SPOOL_MIN_BYTES, &e);
	CHECK(s != NULL);
	if (!s)
		return;
	/* 3 MB of 2 KB records into a 1 MB spool, flushed 50 at a time */
	for (int f = 0; f < 30; f++) {
		for (int i = 0; i < 50; i++, total++) {
			int k = snprintf(r, sizeof(r), "{\"n\":%ld,\"pad\":\"", total);

			memset(r + k, 'y', 2000);
			snprintf(r + k + 2000, sizeof(r) - (size_t)k - 2000, "\"}");
			spool_append(s, r, strlen(r), &e);
		}
		CHECK_INT(spool_flush(s, &e), 0);
	}
	CHECK(spool_pending_bytes(s) <= SPOOL_MIN_BYTES);
	CHECK(spool_dropped(s) > 0);
	/* nothing lost silently: kept + dropped = written, and the kept are the newest */
	kept = 0;
	{
		long first = -1, last = -1;

		for (;;) {
			struct spool_batch b;

			spool_peek(s, 200, 4 << 20, &b, &e);
			if (!b.n) {
				spool_batch_release(&b);
				break;
			}
			for (size_t i = 0; i < b.n; i++) {
				long v = strtol(buf_str(&b.recs[i]) + 5, NULL, 10);

				if (first < 0)
					first = v;
				CHECK_INT(v, first + kept);
				last = v;
				kept++;
			}
			spool_consume(s, &b, &e);
			spool_batch_release(&b);
		}
		CHECK_INT(last, total - 1);
		CHECK_INT(first, (long)spool_dropped(s));
	}
	CHECK_INT(kept + (long)spool_dropped(s), total);
	spool_close(s);
}

static void test_kill_minus_nine(void)
{
	const char *dir = fresh_dir("kill9");
	int fds[2];
	pid_t pid;
	long acked = 0, n;
	struct spool *s;
	struct err e;

	CHECK_INT(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		/* a probe spooling results: tells the parent each flushed count */
		struct spool *w = spool_open(dir, 0, &e);
		char r[128];
		long i = 0;

		close(fds[0]);
		if (!w)
			_exit(1);
		for (;;) {
			for (int k = 0; k < 7; k++, i++) {
				rec(r, sizeof(r), i);
				spool_append(w, r, strlen(r), &e);
			}
			if (spool_flush(w, &e) < 0)
				_exit(1);
			if (write(fds[1], &i, sizeof(i)) != sizeof(i))
				_exit(1);
		}
	}
	close(fds[1]);
	/* let it spool a while, then pull the plug mid-flight */
	while (acked < 3000 && read(fds[0], &n, sizeof(n)) == sizeof(n))
		acked = n;
	kill(pid, SIGKILL);
	while (read(fds[0], &n, sizeof(n)) == sizeof(n))
		acked = n;	/* flushes that finished before the kill */
	close(fds[0]);
	waitpid(pid, NULL, 0);
	s = spool_open(dir, 0, &e);
	CHECK(s != NULL);
	if (!s)
		return;
	n = drain(s, 0, 1);
	/* every flushed record is there, once and in order (drain checks order) */
	CHECK(n >= acked);
	CHECK(n <= acked + 7);
	spool_close(s);
}

static void test_bad_dir(void)
{
	struct err e;

	CHECK(spool_open("/proc/qrwatch-spool", 0, &e) == NULL);
	CHECK_CONTAINS(e.msg, "cannot create spool folder '/proc/qrwatch-spool'");
}

static const struct test spool_tests[] = {
	{ "order_and_reopen", test_order_and_reopen },
	{ "torn_tail_repaired", test_torn_tail },
	{ "corrupt_older_segment", test_corrupt_older_segment },
	{ "size_bound_drops_oldest_counted", test_bound },
	{ "kill_minus_nine", test_kill_minus_nine },
	{ "bad_folder", test_bad_dir },
};
SUITE(spool, spool_tests);
