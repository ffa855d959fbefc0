/* spool.c - segment files of framed records, a cursor, and durable batched writes (see spool.h). */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	struct buf pending;	/* framed records waiting for a flush */
	size_t npending;
	int wfd;		/* the newest segment, for appending */
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

/*
 * Walk the records of a segment image from off. Returns the offset just
 * past the last whole, checksummed record, and counts them in *n.
 */
static uint64_t valid_end(const unsigned char *d, uint64_t len, uint64_t off,
			  size_t *n)
{
	*n = 0;
	while (len - off >= HDR) {
		uint32_t rl = rd32(d + off), crc = rd32(d + off + 4);

		if (rl > SPOOL_RECORD_MAX || len - off - HDR < rl)
			break;
		if ((uint32_t)crc32(0L, d + off + HDR, rl) != crc)
			break;
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

static int save_cursor(struct spool *s, struct err *e)
{
	char path[1100], text[160];
	int n;

	snprintf(path, sizeof(path), "%s/cursor", s->dir);
	n = snprintf(text, sizeof(text), "cursor %" PRIu64 " %" PRIu64 "\ndropped %"
		     PRIu64 "\nseq %" PRIu64 "\n", s->cur_seg, s->cur_off,
		     s->dropped, s->seq);
	return file_write_atomic(path, text, (size_t)n, e);
}

static void load_cursor(struct spool *s)
{
	char path[1100];
	FILE *f;

	s->cur_seg = 0;
	s->cur_off = 0;
	s->dropped = 0;
	s->seq = 1;
	snprintf(path, sizeof(path), "%s/cursor", s->dir);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fscanf(f, "cursor %" SCNu64 " %" SCNu64 " dropped %" SCNu64 " seq %"
		   SCNu64, &s->cur_seg, &s->cur_off, &s->dropped, &s->seq) != 4) {
		s->cur_seg = s->cur_off = s->dropped = 0;
		s->seq = 1;
	}
	fclose(f);
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
	DIR *d;

	if (!s) {
		err_set(e, "out of memory");
		return NULL;
	}
	s->wfd = -1;
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	s->max = max_bytes < SPOOL_MIN_BYTES ? SPOOL_MIN_BYTES : max_bytes;
	buf_init(&s->pending, 64u * 1024 * 1024);
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
	load_cursor(s);
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
	/* a crash can tear the newest segment's tail: cut it back to whole records */
	{
		uint64_t newest = s->segs[s->nsegs - 1], len, end;
		size_t n;
		unsigned char *data = NULL;

		if (s->sizes[s->nsegs - 1] > 0) {
			data = read_segment(s, newest, &len, e);
			if (!data)
				goto fail;
			end = valid_end(data, len, 0, &n);
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
			}
		}
		if (open_writer(s, newest, e) < 0)
			goto fail;
	}
	/* the cursor must point into a segment that still exists */
	if (s->cur_seg < s->segs[0] || s->cur_seg > s->segs[s->nsegs - 1]) {
		s->cur_seg = s->segs[0];
		s->cur_off = 0;
	}
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

	if (n > SPOOL_RECORD_MAX)
		return err_set(e, "result of %zu bytes is over the spool's record "
			       "limit of %u", n, SPOOL_RECORD_MAX);
	wr32(hdr, (uint32_t)n);
	wr32(hdr + 4, (uint32_t)crc32(0L, rec, (uInt)n));
	if (buf_add(&s->pending, hdr, HDR) < 0 || buf_add(&s->pending, rec, n) < 0) {
		buf_init(&s->pending, 64u * 1024 * 1024);
		s->npending = 0;
		return err_set(e, "spool write buffer overflowed; unflushed results lost");
	}
	s->npending++;
	return 0;
}

size_t spool_buffered(const struct spool *s)
{
	return s->npending;
}

static uint64_t total_bytes(const struct spool *s)
{
	uint64_t t = 0;

	for (size_t i = 0; i < s->nsegs; i++)
		t += s->sizes[i];
	return t;
}

/* Count the unsent records in segment i (those at or past the cursor). */
static uint64_t unsent_in(const struct spool *s, size_t i)
{
	struct err e;
	uint64_t len, from = 0;
	unsigned char *d;
	size_t n = 0;

	if (s->segs[i] < s->cur_seg)
		return 0;
	if (s->segs[i] == s->cur_seg)
		from = s->cur_off;
	d = read_segment(s, s->segs[i], &len, &e);
	if (!d)
		return 0;
	if (from <= len)
		valid_end(d, len, from, &n);
	free(d);
	return n;
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

int spool_flush(struct spool *s, struct err *e)
{
	const char *p = s->pending.data;
	size_t left = s->pending.len;
	int cursor_moved = 0;

	if (!s->npending)
		return 0;
	/* a full segment: start the next one */
	if (s->sizes[s->nsegs - 1] > 0 &&
	    s->sizes[s->nsegs - 1] + left > SPOOL_SEGMENT_BYTES) {
		uint64_t next = s->segs[s->nsegs - 1] + 1;

		if (add_seg(s, next, 0) < 0)
			return err_set(e, "out of memory");
		if (open_writer(s, next, e) < 0)
			return -1;
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
		if (w < 0)
			return err_set(e, "cannot write to the spool in '%s': %s",
				       s->dir, strerror(errno));
		p += w;
		left -= (size_t)w;
		s->sizes[s->nsegs - 1] += (uint64_t)w;
	}
	if (fdatasync(s->wfd) < 0)
		return err_set(e, "cannot sync the spool in '%s': %s", s->dir,
			       strerror(errno));
	buf_reset(&s->pending);
	s->npending = 0;
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
	b->recs = calloc(max_records ? max_records : 1, sizeof(*b->recs));
	if (!b->recs)
		return err_set(e, "out of memory");
	for (size_t i = 0; i < s->nsegs && b->n < max_records; i++) {
		uint64_t len, p;
		unsigned char *d;

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
		p = off;
		while (b->n < max_records && p <= len && len - p >= HDR) {
			uint32_t rl = rd32(d + p), crc = rd32(d + p + 4);

			if (rl > SPOOL_RECORD_MAX || len - p - HDR < rl ||
			    (uint32_t)crc32(0L, d + p + HDR, rl) != crc) {
				p = len;	/* damaged: the rest of this segment is lost */
				break;
			}
			if (b->n && bytes + rl > max_bytes)
				break;
			buf_init(&b->recs[b->n], rl + 1);
			buf_add(&b->recs[b->n], d + p + HDR, rl);
			b->n++;
			bytes += rl;
			p += HDR + rl;
		}
		free(d);
		off = p;
		b->seg_end = seg;
		b->off_end = off;
		if (b->n && bytes >= max_bytes)
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
