/* test_spool.c - the probe's spool: order, persistence, torn writes, the size bound, kill -9. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness.h"
#include "../../prober/spool.h"
#include "../../prober/unread.h"
#include "../../common/fileio.h"
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
		/* only the damaged record is lost: the rest of its segment is read */
		CHECK_INT(got, 239);
		CHECK_INT(last, 239);
		CHECK_INT(jumps, 1);
		CHECK_INT(spool_dropped(s), 1);
	}
	spool_close(s);
}

/* Write n small records to a new spool in dir, flushed every 8; returns the segment path. */
static void spool_of(const char *dir, long n)
{
	struct spool *s;
	struct err e;
	char r[128];

	s = spool_open(dir, 0, &e);
	CHECK(s != NULL);
	if (!s)
		return;
	for (long i = 0; i < n; i++) {
		rec(r, sizeof(r), i);
		CHECK_INT(spool_append(s, r, strlen(r), &e), 0);
		if (i % 8 == 7)
			CHECK_INT(spool_flush(s, &e), 0);
	}
	CHECK_INT(spool_flush(s, &e), 0);
	spool_close(s);
}

/* Drain every record; the values must ascend; returns the count and the missing ones. */
static long drain_values(struct spool *s, long *missing, long nmissing_max, long *nmissing)
{
	long got = 0, last = -1;
	struct err e;

	*nmissing = 0;
	for (;;) {
		struct spool_batch b;

		CHECK_INT(spool_peek(s, 7, 1 << 20, &b, &e), 0);
		if (!b.n) {
			spool_batch_release(&b);
			return got;
		}
		for (size_t i = 0; i < b.n; i++) {
			long v = strtol(buf_str(&b.recs[i]) + 5, NULL, 10);

			CHECK(v > last);
			for (long k = last + 1; k < v && *nmissing < nmissing_max; k++)
				missing[(*nmissing)++] = k;
			last = v;
			got++;
		}
		CHECK_INT(spool_consume(s, &b, &e), 0);
		spool_batch_release(&b);
	}
}

/*
 * One flipped byte in the newest segment, in a record's body or in its
 * length: that record is skipped and counted, every record after it is
 * kept (the spool once cut the segment there and lost the rest).
 */
static void test_flip_in_newest(void)
{
	static const struct { const char *name; long at; } cases[] = {
		{ "body of record 5", 5 * 41 + 20 },
		{ "length of record 5", 5 * 41 + 1 },
		{ "checksum of record 5", 5 * 41 + 5 },
		{ "first record", 12 },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char dir[64], path[600];
		long missing[4] = { -1, -1, -1, -1 }, nmissing;
		struct spool *s;
		struct err e;
		unsigned char byte;
		int fd;

		snprintf(dir, sizeof(dir), "flip%zu", c);
		harness_case("%s", cases[c].name);
		spool_of(fresh_dir(dir), 40);
		snprintf(path, sizeof(path), "%s/seg-000000000001", fresh_dir(dir));
		fd = open(path, O_RDWR);
		CHECK(fd >= 0);
		if (fd < 0)
			continue;
		/* every record here is 8 + 33 bytes: {"n":N,"target":"ks-thon-đông"} */
		CHECK_INT(pread(fd, &byte, 1, cases[c].at), 1);
		byte ^= 0x10;
		CHECK_INT(pwrite(fd, &byte, 1, cases[c].at), 1);
		close(fd);
		s = spool_open(fresh_dir(dir), 0, &e);
		CHECK(s != NULL);
		if (!s)
			continue;
		CHECK_INT(spool_dropped(s), 0);	/* not a torn tail: nothing cut */
		CHECK_INT(drain_values(s, missing, 4, &nmissing), 39);
		CHECK_INT(nmissing, 1);
		CHECK_INT(missing[0], cases[c].at / 41);
		CHECK_INT(spool_dropped(s), 1);
		spool_close(s);
		/* counted once: a reopen does not count it again */
		s = spool_open(fresh_dir(dir), 0, &e);
		CHECK(s != NULL);
		if (s) {
			CHECK_INT(spool_dropped(s), 1);
			spool_close(s);
		}
	}
}

/*
 * Everything sent, then the last sent record is damaged: the repair cuts
 * the segment below the cursor, and the next result, written there, is
 * still sent (found by a fuzzer: it was skipped for good).
 */
static void test_cut_below_cursor(void)
{
	const char *dir = fresh_dir("below");
	struct spool *s;
	struct err e;
	char r[128], path[600];
	unsigned char byte;
	int fd;

	s = spool_open(dir, 0, &e);
	CHECK(s != NULL);
	if (!s)
		return;
	for (long i = 0; i < 3; i++) {
		rec(r, sizeof(r), i);
		spool_append(s, r, strlen(r), &e);
	}
	CHECK_INT(spool_flush(s, &e), 0);
	CHECK_INT(drain(s, 0, 1), 3);
	spool_close(s);
	/* a flipped bit in the last record, already sent: a damaged tail */
	snprintf(path, sizeof(path), "%s/seg-000000000001", dir);
	fd = open(path, O_RDWR);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_INT(pread(fd, &byte, 1, 2 * 41 + 20), 1);
	byte ^= 0x10;
	CHECK_INT(pwrite(fd, &byte, 1, 2 * 41 + 20), 1);
	close(fd);
	s = spool_open(dir, 0, &e);
	CHECK(s != NULL);
	if (!s)
		return;
	rec(r, sizeof(r), 3);
	CHECK_INT(spool_append(s, r, strlen(r), &e), 0);
	CHECK_INT(spool_flush(s, &e), 0);
	CHECK_INT(drain(s, 3, 1), 1);
	spool_close(s);
}

/* A tail of zeros (what ext4 can leave after a power cut) is cut, not read as records. */
static void test_zero_tail(void)
{
	const char *dir = fresh_dir("zeros");
	char path[600], zeros[4096];
	struct spool *s;
	struct err e;
	int fd;

	spool_of(dir, 10);
	snprintf(path, sizeof(path), "%s/seg-000000000001", dir);
	memset(zeros, 0, sizeof(zeros));
	fd = open(path, O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK_INT(write(fd, zeros, sizeof(zeros)), (long)sizeof(zeros));
		close(fd);
	}
	s = spool_open(dir, 0, &e);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(drain(s, 0, 1), 10);
	CHECK_INT(spool_dropped(s), 1);
	spool_close(s);
}

/*
 * A write that stops part-way (a full disk: here a file size limit makes
 * write() return short, then fail) leaves no fragment behind: the segment
 * is cut back, and the retry after space returns writes every record once.
 */
static void test_short_write(void)
{
	const char *dir = fresh_dir("short");
	pid_t pid;
	int status = -1;

	spool_of(dir, 10);	/* 410 bytes on disk */
	pid = fork();
	if (pid == 0) {
		struct rlimit rl = { 1000, RLIM_INFINITY };
		struct spool *s = spool_open(dir, 0, NULL);
		struct err e;
		char r[128];
		int ok = s != NULL;

		signal(SIGXFSZ, SIG_IGN);
		for (long i = 10; ok && i < 30; i++) {
			rec(r, sizeof(r), i);
			ok = spool_append(s, r, strlen(r), &e) == 0;
		}
		/* 20 records = 840 bytes: 590 fit under the limit, then EFBIG */
		setrlimit(RLIMIT_FSIZE, &rl);
		ok = ok && spool_flush(s, &e) < 0 && strstr(e.msg, "cannot write to the spool");
		ok = ok && spool_flush(s, &e) < 0;	/* retried, still refused */
		rl.rlim_cur = RLIM_INFINITY;
		setrlimit(RLIMIT_FSIZE, &rl);
		ok = ok && spool_buffered(s) == 20 && spool_flush(s, &e) == 0;
		spool_close(s);
		_exit(ok ? 0 : 1);
	}
	CHECK(pid > 0);
	waitpid(pid, &status, 0);
	CHECK_INT(status, 0);
	{
		struct err e;
		struct spool *s = spool_open(dir, 0, &e);
		struct stat st;
		char path[600];

		CHECK(s != NULL);
		if (!s)
			return;
		snprintf(path, sizeof(path), "%s/seg-000000000001", dir);
		CHECK_INT(stat(path, &st), 0);
		CHECK_INT(st.st_size, 10 * 41 + 20 * 42);
		CHECK_INT(drain(s, 0, 1), 30);
		CHECK_INT(spool_dropped(s), 0);
		spool_close(s);
	}
}

/* Records that never reach the disk are counted when they are given up. */
static void test_discard_counts(void)
{
	const char *dir = fresh_dir("discard");
	struct spool *s = spool_open(dir, 0, NULL);
	struct err e;
	char r[128];

	CHECK(s != NULL);
	if (!s)
		return;
	for (long i = 0; i < 5; i++) {
		rec(r, sizeof(r), i);
		spool_append(s, r, strlen(r), &e);
	}
	CHECK_INT(spool_discard(s, &e), 5);
	CHECK_STR(e.msg, "");
	CHECK_INT(spool_buffered(s), 0);
	spool_close(s);
	s = spool_open(dir, 0, &e);
	CHECK(s != NULL);
	if (s) {
		CHECK_INT(spool_dropped(s), 5);
		spool_close(s);
	}
}

static int is_epoch(const char *p)
{
	if (strlen(p) != SPOOL_EPOCH_LEN)
		return 0;
	for (; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

/*
 * A spool's epoch is drawn when it is made and kept across restarts; a
 * spool made anew (a power cut on a RAM disk) has another, with batch
 * numbers from 1 again. A spool from before epochs gets one, keeping its
 * numbers.
 */
static void test_epoch(void)
{
	const char *dir = fresh_dir("epoch");
	char first[SPOOL_EPOCH_LEN + 1], path[600];
	struct spool_batch b;
	struct spool *s;
	struct err e;
	FILE *f;

	spool_of(dir, 3);
	s = spool_open(dir, 0, &e);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(is_epoch(spool_epoch(s)));
	snprintf(first, sizeof(first), "%s", spool_epoch(s));
	CHECK_INT(spool_peek(s, 10, 1 << 20, &b, &e), 0);
	CHECK_STR(b.epoch, first);
	CHECK_INT(spool_consume(s, &b, &e), 0);
	spool_batch_release(&b);
	spool_close(s);
	s = spool_open(dir, 0, &e);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_STR(spool_epoch(s), first);
	CHECK_INT(spool_next_seq(s), 2);
	spool_close(s);

	/* the whole folder lost */
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK_INT(system(path), 0);
	s = spool_open(dir, 0, &e);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(is_epoch(spool_epoch(s)));
	CHECK(strcmp(spool_epoch(s), first) != 0);
	CHECK_INT(spool_next_seq(s), 1);
	spool_close(s);

	/* a cursor written before epochs */
	snprintf(path, sizeof(path), "%s/cursor", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs("cursor 1 0\ndropped 4\nseq 77\n", f);
	fclose(f);
	s = spool_open(dir, 0, &e);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK(is_epoch(spool_epoch(s)));
	CHECK_INT(spool_next_seq(s), 77);
	CHECK_INT(spool_dropped(s), 4);
	snprintf(first, sizeof(first), "%s", spool_epoch(s));
	spool_close(s);
	s = spool_open(dir, 0, &e);
	CHECK(s != NULL);
	if (s) {
		CHECK_STR(spool_epoch(s), first);	/* written at once, kept */
		spool_close(s);
	}
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

/*
 * Unreadable boards' photos kept beside the spool: the latest per target,
 * replaced whole, of either kind, within the cap, dropped when the board
 * reads again; what is not an image is refused.
 */
static void test_unread(void)
{
	static const char png[] = "\x89PNG\r\n\x1a\n-one-board-photo-";
	static const char jpg[] = "\xff\xd8\xff\xe0-a-newer-jpeg-photo-of-it-";
	const char *dir = fresh_dir("unread");
	char path[600], *got;
	struct err e;
	size_t len;

	CHECK_INT(unread_keep(dir, "ks-thon-dong", png, sizeof(png) - 1, 100, &e), 1);
	snprintf(path, sizeof(path), "%s/ks-thon-dong.png", dir);
	got = file_read(path, 1000, &len, &e);
	CHECK(got && len == sizeof(png) - 1 && !memcmp(got, png, len));
	free(got);
	/* a JPEG of the same board replaces the PNG */
	CHECK_INT(unread_keep(dir, "ks-thon-dong", jpg, sizeof(jpg) - 1, 100, &e), 1);
	CHECK(access(path, F_OK) != 0);
	snprintf(path, sizeof(path), "%s/ks-thon-dong.jpg", dir);
	CHECK(access(path, F_OK) == 0);
	/* its own photo does not count against the cap when replaced */
	CHECK_INT(unread_keep(dir, "ks-thon-dong", jpg, sizeof(jpg) - 1, sizeof(jpg), &e), 1);
	/* another board's would pass the cap: not kept, and the first stays */
	CHECK_INT(unread_keep(dir, "ks-thon-dong.2", png, sizeof(png) - 1, sizeof(jpg) + 8, &e), 0);
	snprintf(path, sizeof(path), "%s/ks-thon-dong.2.png", dir);
	CHECK(access(path, F_OK) != 0);
	CHECK_INT(unread_keep(dir, "ks-thon-dong.2", png, sizeof(png) - 1, 100, &e), 1);
	CHECK(access(path, F_OK) == 0);
	/* not an image */
	CHECK_INT(unread_keep(dir, "tb", "<html>", 6, 100, &e), -1);
	CHECK_CONTAINS(e.msg, "neither PNG nor JPEG");
	/* the board reads again: its photo goes, the other board's stays */
	unread_forget(dir, "ks-thon-dong");
	snprintf(path, sizeof(path), "%s/ks-thon-dong.jpg", dir);
	CHECK(access(path, F_OK) != 0);
	snprintf(path, sizeof(path), "%s/ks-thon-dong.2.png", dir);
	CHECK(access(path, F_OK) == 0);
}

static const struct test spool_tests[] = {
	{ "order_and_reopen", test_order_and_reopen },
	{ "torn_tail_repaired", test_torn_tail },
	{ "corrupt_older_segment", test_corrupt_older_segment },
	{ "flipped_byte_in_newest_segment", test_flip_in_newest },
	{ "zero_tail_cut", test_zero_tail },
	{ "cut_below_the_cursor", test_cut_below_cursor },
	{ "short_write_cut_back", test_short_write },
	{ "discarded_results_counted", test_discard_counts },
	{ "epoch", test_epoch },
	{ "size_bound_drops_oldest_counted", test_bound },
	{ "kill_minus_nine", test_kill_minus_nine },
	{ "bad_folder", test_bad_dir },
	{ "unreadable_photos_kept", test_unread },
};
SUITE(spool, spool_tests);
