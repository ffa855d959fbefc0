/* guarddecode.c - decoding an image in a forked, resource-limited child (see guarddecode.h). */
#include "guarddecode.h"

#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "../common/fileio.h"
#include "../common/banned.h"

struct mem_job {
	const void *data;
	size_t len;
};

/* In the child: load, run the cascade, write the reply (decodereply.h). */
static int child_decode(void *arg, struct buf *out)
{
	struct mem_job *job = arg;
	struct decode_result r;
	struct image img;
	struct err e;

	if (image_load_mem(job->data, job->len, &img, &e) < 0) {
		decode_reply_refused(e.msg, out);
		return 0;
	}
	if (decode_image(&img, &r, &e) < 0) {
		image_release(&img);
		return 2;
	}
	image_release(&img);
	decode_reply_write(&r, out);
	decode_result_release(&r);
	return 0;
}

int guard_decode_start(struct guard_job *j, const void *data, size_t len,
		       const struct guard_limits *lim, struct err *e)
{
	struct mem_job job = { data, len };

	/* the child gets its own copy of data with fork(): job may go out of scope */
	return guard_start(j, child_decode, &job, lim, e);
}

enum guard_status guard_decode_finish(struct guard_job *j,
				      struct decode_result *r, struct err *e)
{
	enum guard_status st;

	memset(r, 0, sizeof(*r));
	if (guard_finish(j, e) < 0)
		st = GUARD_FAILED;
	else
		st = decode_reply_read(&j->out, r, e);
	guard_job_release(j);
	return st;
}

enum guard_status guard_decode_mem(const void *data, size_t len,
				   const struct guard_limits *lim,
				   struct decode_result *r, struct err *e)
{
	struct mem_job job = { data, len };
	struct buf out;
	enum guard_status st;

	memset(r, 0, sizeof(*r));
	if (len > IMAGE_MAX_BYTES) {
		err_set(e, "image is %zu bytes, over the limit of %u bytes", len,
			IMAGE_MAX_BYTES);
		return GUARD_REFUSED;
	}
	buf_init(&out, GUARD_OUT_MAX);
	if (guard_call(child_decode, &job, lim, &out, e) < 0)
		st = GUARD_FAILED;
	else
		st = decode_reply_read(&out, r, e);
	buf_release(&out);
	return st;
}

enum guard_status guard_decode_file(const char *path,
				    const struct guard_limits *lim,
				    struct decode_result *r, struct err *e)
{
	enum guard_status st;
	size_t len;
	char *data;

	memset(r, 0, sizeof(*r));
	data = file_read(path, IMAGE_MAX_BYTES, &len, e);
	if (!data)
		return GUARD_REFUSED;
	st = guard_decode_mem(data, len, lim, r, e);
	free(data);
	if (st == GUARD_REFUSED || st == GUARD_FAILED)
		err_prefix(e, "'%s'", path);
	return st;
}

/* In the child: load, try every step, write the mask as a decimal line. */
static int child_yield(void *arg, struct buf *out)
{
	struct mem_job *job = arg;
	struct image img;
	unsigned read;
	struct err e;
	int rc;

	if (image_load_mem(job->data, job->len, &img, &e) < 0) {
		decode_reply_refused(e.msg, out);
		return 0;
	}
	rc = decode_yield(&img, &read, &e);
	image_release(&img);
	if (rc < 0)
		return 2;
	buf_addf(out, "Y %u\n", read);
	return 0;
}

int guard_yield_file(const char *path, const struct guard_limits *lim, unsigned *read,
		     struct err *e)
{
	struct mem_job job;
	struct buf out;
	size_t len;
	char *data = file_read(path, IMAGE_MAX_BYTES, &len, e);
	unsigned long v;
	char *end;
	int rc = -1;

	*read = 0;
	if (!data)
		return -1;
	job.data = data;
	job.len = len;
	buf_init(&out, 4096);
	if (guard_call(child_yield, &job, lim, &out, e) == 0) {
		const char *s = buf_str(&out);

		if (s[0] == 'R' && s[1] == ' ') {
			err_set(e, "'%s': %.*s", path, (int)strcspn(s + 2, "\n"), s + 2);
		} else if (s[0] == 'Y' && s[1] == ' ' &&
			   (v = strtoul(s + 2, &end, 10)) <= 0xffffu && *end == '\n') {
			*read = (unsigned)v;
			rc = 0;
		} else {
			err_set(e, "'%s': the decoder sent back a malformed reply", path);
		}
	}
	buf_release(&out);
	free(data);
	return rc;
}
