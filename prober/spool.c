/* spool.c - segment files of framed records, a cursor, and durable batched writes (see spool.h). */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "../common/fileio.h"
#include "../common/banned.h"

#define HDR 8		/* length + CRC */
#define MAX_SEGMENTS 100000

struct spool {
	char dir[1024];
	uint64_t max;
	uint64_t *segs;		/* segment numbers, ascending */
	uint64_t *sizes;	/* their sizes in bytes */
	size_t nsegs, capsegs;
	uint64_t cur_seg, cur_off;	/* first unsent record */
	uint64_t dropped, seq;
	char epoch[SPOOL_EPOCH_LEN + 1];	/* this spool's identity */
	struct buf pending;	/* framed records waiting for a flush */
	size_t npending;
	int wfd;		/* the newest segment, for appending */
	int tail_dirty;		/* a failed write may have left a fragment there */
	int reserve_used;	/* the reserve went to the cursor: make it again */
};

static void seg_path(const struct spool *s, uint64_t seg, char *out, size_t cap)
{
	snprintf(out, cap, "%s/seg-%012" PRIu64, s->dir, seg);
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void wr32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* Whether a whole, checksummed record starts at off. Empty records are never written. */
static int record_at(const unsigned char *d, uint64_t len, uint64_t off, uint32_t *rl)
{
	uint32_t n, crc;

	if (off > len || len - off < HDR)
		return 0;
	n = rd32(d + off);
	crc = rd32(d + off + 4);
	if (n == 0 || n > SPOOL_RECORD_MAX || len - off - HDR < n)
		return 0;
	if ((uint32_t)crc32(0L, d + off + HDR, n) != crc)
		return 0;
	*rl = n;
	return 1;
}

/*
 * The next record at or after *off in a segment image. A damaged stretch
 * (a flipped bit, a fragment of a failed write) is stepped over to the next
 * whole record and counted in *damaged. Returns 1 with *off at the record
 * and its length in *rl; 0 when no whole record follows, with *off where
 * the readable part ends (before a torn or damaged tail, or at len).
 */
static int next_record(const unsigned char *d, uint64_t len, uint64_t *off,
		       uint32_t *rl, size_t *damaged)
{
	if (*off >= len)
		return 0;
	if (record_at(d, len, *off, rl))
		return 1;
	for (uint64_t q = *off + 1; q + HDR <= len; q++)
		if (record_at(d, len, q, rl)) {
			(*damaged)++;
			*off = q;
			return 1;
		}
	return 0;
}

/* Walk a segment image from off: whole records in *n, damaged stretches in *damaged. */
static uint64_t readable_end(const unsigned char *d, uint64_t len, uint64_t off,
			     size_t *n, size_t *damaged)
{
	uint32_t rl;

	*n = 0;
	while (next_record(d, len, &off, &rl, damaged)) {
		off += HDR + rl;
		(*n)++;
	}
	return off;
}

static unsigned char *read_segment(const struct spool *s, uint64_t seg,
				   uint64_t *len, struct err *e)
{
	char path[1100];
	size_t n;
	char *d;

	seg_path(s, seg, path, sizeof(path));
	d = file_read(path, 64u * 1024 * 1024, &n, e);
	*len = n;
	return (unsigned char *)d;
}

/*
 * A few pages kept free for the cursor: on a full disk the cursor could
 * not be replaced (the new copy needs room before the old one goes), and
 * the count of what a full disk cost would be lost with it.
 */
#define RESERVE_BYTES (8u * 1024)

static void make_reserve(struct spool *s)
{
	static const char zeros[RESERVE_BYTES];
	char path[1100];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/reserve", s->dir);
	if (stat(path, &st) == 0 && st.st_size == (off_t)RESERVE_BYTES) {
		s->reserve_used = 0;
		return;
	}
	s->reserve_used = 1;	/* until it is made: tried again after each write */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, zeros, sizeof(zeros)) != (ssize_t)sizeof(zeros)) {
		close(fd);
		unlink(path);
		return;
	}
	close(fd);
	s->reserve_used = 0;
}

static int write_cursor(struct spool *s, struct err *e)
{
	char path[1100], text[200];
	int n;

	snprintf(path, sizeof(path), "%s/cursor", s->dir);
	n = snprintf(text, sizeof(text), "cursor %" PRIu64 " %" PRIu64 "\ndropped %"
		     PRIu64 "\nseq %" PRIu64 "\nepoch %s\n", s->cur_seg, s->cur_off,
		     s->dropped, s->seq, s->epoch);
	return file_write_atomic(path, text, (size_t)n, e);
}

static int save_cursor(struct spool *s, struct err *e)
{
	char path[1100];

	if (write_cursor(s, e) == 0)
		return 0;
	/* a full disk: give up the reserve to the cursor, and try once more */
	snprintf(path, sizeof(path), "%s/reserve", s->dir);
	if (unlink(path) < 0)
		return -1;
	s->reserve_used = 1;
	return write_cursor(s, e);
}

/*
 * A new identity for a new spool: 64 random bits. Early in a router's boot
 * the kernel's pool may not be ready; then the clocks and the pid make it
 * unique, which is all an identity needs.
 */
static void new_epoch(struct spool *s)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char r[SPOOL_EPOCH_LEN / 2];

	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		struct timespec a, b;
		uint64_t v;

		clock_gettime(CLOCK_REALTIME, &a);
		clock_gettime(CLOCK_MONOTONIC, &b);
		v = (uint64_t)a.tv_sec * 1000000000u + (uint64_t)a.tv_nsec;
		v ^= ((uint64_t)b.tv_nsec << 32) ^ (uint64_t)getpid() * 0x9e3779b97f4a7c15u;
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)(v >> (8 * i));
	}
	for (size_t i = 0; i < sizeof(r); i++) {
		s->epoch[2 * i] = digits[r[i] >> 4];
		s->epoch[2 * i + 1] = digits[r[i] & 15];
	}
	s->epoch[SPOOL_EPOCH_LEN] = '\0';
}

/* Returns 1 when the cursor had to be made anew (and must be saved). */
static int load_cursor(struct spool *s)
{
	char path[1100], ep[SPOOL_EPOCH_LEN + 2] = "";
	FILE *f;
	int ok;

	s->cur_seg = 0;
	s->cur_off = 0;
	s->dropped = 0;
	s->seq = 1;
	snprintf(path, sizeof(path), "%s/cursor", s->dir);
	f = fopen(path, "r");
	if (!f) {
		new_epoch(s);
		return 1;
	}
	ok = fscanf(f, "cursor %" SCNu64 " %" SCNu64 " dropped %" SCNu64 " seq %"
		    SCNu64, &s->cur_seg, &s->cur_off, &s->dropped, &s->seq) == 4 &&
	     s->seq >= 1;
	if (!ok) {
		s->cur_seg = s->cur_off = s->dropped = 0;
		s->seq = 1;
	}
	/* a spool written before epochs existed gets one now, keeping its numbers */
	if (!ok || fscanf(f, " epoch %17[0-9a-f]", ep) != 1 ||
	    strlen(ep) != SPOOL_EPOCH_LEN) {
		fclose(f);
		new_epoch(s);
		return 1;
	}
	fclose(f);
	memcpy(s->epoch, ep, SPOOL_EPOCH_LEN + 1);
	return 0;
}

static int add_seg(struct spool *s, uint64_t seg, uint64_t size)
{
	if (s->nsegs == s->capsegs) {
		size_t nc = s->capsegs ? s->capsegs * 2 : 16;
		uint64_t *a = realloc(s->segs, nc * sizeof(*a));
		uint64_t *b;

		if (!a)
			return -1;
		s->segs = a;
		b = realloc(s->sizes, nc * sizeof(*b));
		if (!b)
			return -1;
		s->sizes = b;
		s->capsegs = nc;
	}
	s->segs[s->nsegs] = seg;
	s->sizes[s->nsegs] = size;
	s->nsegs++;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void sync_dir(const struct spool *s)
{
	int fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static int open_writer(struct spool *s, uint64_t seg, struct err *e)
{
	char path[1100];

	if (s->wfd >= 0)
		close(s->wfd);
	seg_path(s, seg, path, sizeof(path));
	s->wfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (s->wfd < 0)
		return err_set(e, "cannot open spool segment '%s': %s", path,
			       strerror(errno));
	return 0;
}

struct spool *spool_open(const char *dir, uint64_t max_bytes, struct err *e)
{
	struct spool *s = calloc(1, sizeof(*s));
	uint64_t *found = NULL;
	size_t nfound = 0, cap = 0;
	struct dirent *de;
	int fresh;
	DIR *d;

	if (!s) {
		err_set(e, "out of memory");
		return NULL;
	}
	s->wfd = -1;
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	s->max = max_bytes < SPOOL_MIN_BYTES ? SPOOL_MIN_BYTES : max_bytes;
	buf_init(&s->pending, SPOOL_PENDING_MAX);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		err_set(e, "cannot create spool folder '%s': %s", dir, strerror(errno));
		goto fail;
	}
	d = opendir(dir);
	if (!d) {
		err_set(e, "cannot open spool folder '%s': %s", dir, strerror(errno));
		goto fail;
	}
	while ((de = readdir(d)) != NULL) {
		uint64_t seg;
		char tail;

		if (sscanf(de->d_name, "seg-%" SCNu64 "%c", &seg, &tail) != 1)
			continue;
		if (nfound == cap) {
			uint64_t *a;

			cap = cap ? cap * 2 : 16;
			a = realloc(found, cap * sizeof(*a));
			if (!a || cap > MAX_SEGMENTS) {
				free(a ? a : found);
				closedir(d);
				err_set(e, "too many spool segments in '%s'", dir);
				goto fail;
			}
			found = a;
		}
		found[nfound++] = seg;
	}
	closedir(d);
	if (nfound)
		qsort(found, nfound, sizeof(*found), cmp_u64);
	fresh = load_cursor(s);
	for (size_t i = 0; i < nfound; i++) {
		char path[1100];
		struct stat st;

		seg_path(s, found[i], path, sizeof(path));
		if (stat(path, &st) == 0 && add_seg(s, found[i], (uint64_t)st.st_size) < 0) {
			err_set(e, "out of memory");
			free(found);
			goto fail;
		}
	}
	free(found);
	if (s->nsegs == 0 && add_seg(s, s->cur_seg ? s->cur_seg : 1, 0) < 0) {
		err_set(e, "out of memory");
		goto fail;
	}
	/*
	 * A crash can tear the newest segment's last record: cut that tail back
	 * to whole records. Only the tail: a damaged record with whole records
	 * after it is stepped over when it is read, and counted then. After
	 * either, writing goes on in a new segment.
	 */
	{
		uint64_t newest = s->segs[s->nsegs - 1], len, end;
		size_t n, damaged = 0;
		unsigned char *data = NULL;

		if (s->sizes[s->nsegs - 1] > 0) {
			data = read_segment(s, newest, &len, e);
			if (!data)
				goto fail;
			end = readable_end(data, len, 0, &n, &damaged);
			free(data);
			if (end < len) {
				char path[1100];

				seg_path(s, newest, path, sizeof(path));
				if (truncate(path, (off_t)end) < 0) {
					err_set(e, "cannot repair '%s': %s", path,
						strerror(errno));
					goto fail;
				}
				s->sizes[s->nsegs - 1] = end;
				s->dropped++;	/* the torn record */
				fresh = 1;
			}
			/*
			 * New records go to a segment of their own after damage: a
			 * damaged header left in this one could claim a length that
			 * reaches into them, and a record made of old bytes and new
			 * would be read (found by fuzz_spool, its CRC solved).
			 */
			if ((end < len || damaged) && newest < UINT64_MAX) {
				if (add_seg(s, newest + 1, 0) < 0) {
					err_set(e, "out of memory");
					goto fail;
				}
				newest++;
			}
		}
		if (open_writer(s, newest, e) < 0)
			goto fail;
	}
	/* the cursor must point into a segment that still exists */
	if (s->cur_seg < s->segs[0] || s->cur_seg > s->segs[s->nsegs - 1]) {
		s->cur_seg = s->segs[0];
		s->cur_off = 0;
		fresh = 1;
	}
	/*
	 * ... and not past its end: a repair may have cut sent records (a
	 * damaged tail of the newest segment), and what is written next lands
	 * where they were. A cursor left beyond would skip it for good.
	 */
	for (size_t i = 0; i < s->nsegs; i++)
		if (s->segs[i] == s->cur_seg && s->cur_off > s->sizes[i]) {
			s->cur_off = s->sizes[i];
			fresh = 1;
		}
	/* a new identity (or a repair) is on disk before any batch carries it */
	if (fresh && save_cursor(s, e) < 0)
		goto fail;
	make_reserve(s);
	return s;
fail:
	spool_close(s);
	return NULL;
}

void spool_close(struct spool *s)
{
	if (!s)
		return;
	if (s->wfd >= 0)
		close(s->wfd);
	free(s->segs);
	free(s->sizes);
	buf_release(&s->pending);
	free(s);
}

int spool_append(struct spool *s, const void *rec, size_t n, struct err *e)
{
	unsigned char hdr[HDR];

	if (n == 0 || n > SPOOL_RECORD_MAX)
		return err_set(e, "result of %zu bytes is outside the spool's record "
			       "sizes (1 to %u)", n, SPOOL_RECORD_MAX);
	if (s->pending.len + HDR + n > SPOOL_PENDING_MAX) {
		s->dropped++;
		return err_set(e, "%zu results wait to be written to the spool in '%s' "
			       "and no more fit in memory: result dropped and counted",
			       s->npending, s->dir);
	}
	wr32(hdr, (uint32_t)n);
	wr32(hdr + 4, (uint32_t)crc32(0L, rec, (uInt)n));
	buf_add(&s->pending, hdr, HDR);
	buf_add(&s->pending, rec, n);
	s->npending++;
	return 0;
}

size_t spool_buffered(const struct spool *s)
{
	return s->npending;
}

size_t spool_discard(struct spool *s, struct err *e)
{
	size_t n = s->npending;

	if (!n)
		return 0;
	s->dropped += n;
	buf_reset(&s->pending);
	s->npending = 0;
	if (save_cursor(s, e) < 0)
		err_prefix(e, "%zu unwritten results dropped, and the count could not "
			   "be recorded", n);
	else
		e->msg[0] = '\0';
	return n;
}

static uint64_t total_bytes(const struct spool *s)
{
	uint64_t t = 0;

	for (size_t i = 0; i < s->nsegs; i++)
		t += s->sizes[i];
	return t;
}

/* Count the unsent records in segment i (those at or past the cursor) and its damage. */
static uint64_t unsent_in(const struct spool *s, size_t i)
{
	struct err e;
	uint64_t len, from = 0;
	unsigned char *d;
	size_t n = 0, damaged = 0;

	if (s->segs[i] < s->cur_seg)
		return 0;
	if (s->segs[i] == s->cur_seg)
		from = s->cur_off;
	d = read_segment(s, s->segs[i], &len, &e);
	if (!d)
		return 0;
	if (from < len && readable_end(d, len, from, &n, &damaged) < len)
		damaged++;	/* a damaged tail */
	free(d);
	return n + damaged;
}

static int drop_oldest(struct spool *s, struct err *e)
{
	char path[1100];
	uint64_t lost = unsent_in(s, 0);

	seg_path(s, s->segs[0], path, sizeof(path));
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(e, "cannot delete '%s': %s", path, strerror(errno));
	s->dropped += lost;
	memmove(s->segs, s->segs + 1, (s->nsegs - 1) * sizeof(*s->segs));
	memmove(s->sizes, s->sizes + 1, (s->nsegs - 1) * sizeof(*s->sizes));
	s->nsegs--;
	if (s->cur_seg < s->segs[0]) {
		s->cur_seg = s->segs[0];
		s->cur_off = 0;
	}
	return 0;
}

/*
 * After a failed or short write, cut the newest segment back to its last
 * whole record, so that a retry never appends after a fragment.
 */
static int cut_back(struct spool *s, struct err *e)
{
	uint64_t size = s->sizes[s->nsegs - 1];

	if (ftruncate(s->wfd, (off_t)size) < 0) {
		char path[1100];

		seg_path(s, s->segs[s->nsegs - 1], path, sizeof(path));
		return err_set(e, "cannot cut '%s' back to its last whole record: %s",
			       path, strerror(errno));
	}
	s->tail_dirty = 0;
	return 0;
}

int spool_flush(struct spool *s, struct err *e)
{
	const char *p = s->pending.data;
	size_t left = s->pending.len;
	int cursor_moved = 0;

	if (!s->npending)
		return 0;
	/* a fragment of an earlier failed write must go before anything follows it */
	if (s->tail_dirty && cut_back(s, e) < 0)
		return -1;
	/* a full segment: start the next one */
	if (s->sizes[s->nsegs - 1] > 0 &&
	    s->sizes[s->nsegs - 1] + left > SPOOL_SEGMENT_BYTES) {
		uint64_t next = s->segs[s->nsegs - 1] + 1;

		if (add_seg(s, next, 0) < 0)
			return err_set(e, "out of memory");
		if (open_writer(s, next, e) < 0) {
			s->nsegs--;	/* try the rotation again at the next flush */
			return -1;
		}
		sync_dir(s);
	}
	/* keep within the size: the oldest segments go first, counted */
	while (s->nsegs > 1 && total_bytes(s) + left > s->max) {
		if (drop_oldest(s, e) < 0)
			return -1;
		cursor_moved = 1;
	}
	while (left > 0) {
		ssize_t w = write(s->wfd, p, left);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int err = w < 0 ? errno : ENOSPC;

			s->tail_dirty = 1;
			err_set(e, "cannot write to the spool in '%s': %s", s->dir,
				strerror(err));
			if (cut_back(s, e) < 0)
				err_prefix(e, "cannot write to the spool in '%s' (%s)", s->dir,
					   strerror(err));
			return -1;
		}
		p += w;
		left -= (size_t)w;
	}
	if (fdatasync(s->wfd) < 0) {
		int err = errno;

		s->tail_dirty = 1;
		cut_back(s, e);
		return err_set(e, "cannot sync the spool in '%s': %s", s->dir,
			       strerror(err));
	}
	s->sizes[s->nsegs - 1] += s->pending.len;
	buf_reset(&s->pending);
	s->npending = 0;
	if (s->reserve_used)
		make_reserve(s);
	if (cursor_moved)
		return save_cursor(s, e);
	return 0;
}

int spool_peek(struct spool *s, size_t max_records, size_t max_bytes,
	       struct spool_batch *b, struct err *e)
{
	uint64_t seg = s->cur_seg, off = s->cur_off;
	size_t bytes = 0;

	memset(b, 0, sizeof(*b));
	b->seq = s->seq;
	memcpy(b->epoch, s->epoch, sizeof(b->epoch));
	b->recs = calloc(max_records ? max_records : 1, sizeof(*b->recs));
	if (!b->recs)
		return err_set(e, "out of memory");
	for (size_t i = 0; i < s->nsegs && b->n < max_records; i++) {
		uint64_t len, p;
		unsigned char *d;
		uint32_t rl;
		int full = 0;

		if (s->segs[i] < seg)
			continue;
		if (s->segs[i] > seg) {
			seg = s->segs[i];
			off = 0;
		}
		d = read_segment(s, seg, &len, e);
		if (!d) {
			spool_batch_release(b);
			return -1;
		}
		/* a segment's written size, not bytes a failed write may have left */
		if (len > s->sizes[i])
			len = s->sizes[i];
		p = off;
		while (b->n < max_records) {
			uint64_t at = p;
			size_t damaged = 0;

			if (!next_record(d, len, &at, &rl, &damaged)) {
				/* a damaged tail of an older segment: skipped, counted */
				if (p < len && i + 1 < s->nsegs)
					b->damaged++;
				p = i + 1 < s->nsegs ? len : p;
				break;
			}
			if (b->n && bytes + rl > max_bytes) {
				full = 1;
				break;
			}
			b->damaged += damaged;
			buf_init(&b->recs[b->n], rl + 1);
			buf_add(&b->recs[b->n], d + at + HDR, rl);
			b->n++;
			bytes += rl;
			p = at + HDR + rl;
		}
		free(d);
		off = p;
		b->seg_end = seg;
		b->off_end = off;
		if (full || (b->n && bytes >= max_bytes))
			break;
	}
	if (!b->seg_end) {
		b->seg_end = s->cur_seg;
		b->off_end = s->cur_off;
	}
	return 0;
}

void spool_batch_release(struct spool_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		buf_release(&b->recs[i]);
	free(b->recs);
	memset(b, 0, sizeof(*b));
}

int spool_consume(struct spool *s, const struct spool_batch *b, struct err *e)
{
	s->cur_seg = b->seg_end;
	s->cur_off = b->off_end;
	s->seq = b->seq + 1;
	s->dropped += b->damaged;	/* damage the cursor passed over, counted once */
	if (save_cursor(s, e) < 0)
		return -1;
	/* segments wholly before the cursor are sent: delete them */
	while (s->nsegs > 1 && s->segs[0] < s->cur_seg) {
		char path[1100];

		seg_path(s, s->segs[0], path, sizeof(path));
		unlink(path);
		memmove(s->segs, s->segs + 1, (s->nsegs - 1) * sizeof(*s->segs));
		memmove(s->sizes, s->sizes + 1, (s->nsegs - 1) * sizeof(*s->sizes));
		s->nsegs--;
	}
	return 0;
}

uint64_t spool_dropped(const struct spool *s)
{
	return s->dropped;
}

uint64_t spool_next_seq(const struct spool *s)
{
	return s->seq;
}

const char *spool_epoch(const struct spool *s)
{
	return s->epoch;
}

uint64_t spool_pending_bytes(const struct spool *s)
{
	uint64_t t = 0;

	for (size_t i = 0; i < s->nsegs; i++) {
		if (s->segs[i] < s->cur_seg)
			continue;
		t += s->sizes[i] - (s->segs[i] == s->cur_seg ?
				    (s->cur_off < s->sizes[i] ? s->cur_off : s->sizes[i]) : 0);
	}
	return t;
}
