/* decodereply.c - the decode result's reply format, written by a decoding process and read by its parent (see decodereply.h). */
#include "decodereply.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "../common/text.h"
#include "../common/banned.h"

void decode_result_release(struct decode_result *r)
{
	for (int i = 0; i < r->n; i++) {
		free(r->codes[i].raw);
		free(r->codes[i].text);
	}
	r->n = 0;
}

int decode_result_copy(struct decode_result *dst, const struct decode_result *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->steps_tried = src->steps_tried;
	if (src->step) {
		snprintf(dst->step_name, sizeof(dst->step_name), "%s", src->step);
		dst->step = dst->step_name;
	}
	for (int i = 0; i < src->n; i++) {
		struct qr_code *d = &dst->codes[i];
		const struct qr_code *s = &src->codes[i];

		d->raw = malloc(s->raw_len + 1);
		d->text = s->text ? strdup(s->text) : NULL;
		if (!d->raw || (s->text && !d->text)) {
			free(d->raw);
			free(d->text);
			decode_result_release(dst);
			return -1;
		}
		memcpy(d->raw, s->raw, s->raw_len + 1);
		d->raw_len = s->raw_len;
		d->charset = s->charset;
		d->x = s->x;
		d->y = s->y;
		d->w = s->w;
		d->h = s->h;
		memcpy(d->step, s->step, sizeof(d->step));
		dst->n++;
	}
	return 0;
}

void decode_box(struct qr_code *c, long x0, long y0, long x1, long y1, int w, int h)
{
	x0 = x0 < 0 ? 0 : x0 > w ? w : x0;
	y0 = y0 < 0 ? 0 : y0 > h ? h : y0;
	x1 = x1 < x0 ? x0 : x1 > w ? w : x1;
	y1 = y1 < y0 ? y0 : y1 > h ? h : y1;
	c->x = (int)x0;
	c->y = (int)y0;
	c->w = (int)(x1 - x0);
	c->h = (int)(y1 - y0);
}

void decode_drop_repeats(struct decode_result *r, int from)
{
	int kept = from;

	for (int i = from; i < r->n; i++) {
		const struct qr_code *c = &r->codes[i];
		long mx = 2L * c->x + c->w, my = 2L * c->y + c->h;	/* twice the middle */
		int seen = 0;

		for (int k = 0; k < from && !seen; k++) {
			const struct qr_code *o = &r->codes[k];

			seen = mx >= 2L * o->x && mx <= 2L * (o->x + o->w) &&
			       my >= 2L * o->y && my <= 2L * (o->y + o->h);
		}
		if (seen) {
			free(r->codes[i].raw);
			free(r->codes[i].text);
		} else {
			r->codes[kept++] = r->codes[i];
		}
	}
	r->n = kept;
}

/* Whether a comes before b in reading order (decode_result_order). */
static int reads_before(const struct qr_code *a, const struct qr_code *b)
{
	long ay = 2L * a->y + a->h, by = 2L * b->y + b->h;	/* twice the middles */
	long half = (a->h < b->h ? a->h : b->h);

	if (labs(ay - by) <= half)
		return 2L * a->x + a->w < 2L * b->x + b->w;
	return ay < by;
}

void decode_result_order(struct decode_result *r)
{
	/* at most DECODE_MAX_CODES: an insertion sort, stable for equal boxes */
	for (int i = 1; i < r->n; i++) {
		struct qr_code c = r->codes[i];
		int j = i;

		while (j > 0 && reads_before(&c, &r->codes[j - 1])) {
			r->codes[j] = r->codes[j - 1];
			j--;
		}
		r->codes[j] = c;
	}
}

void decode_reply_write(const struct decode_result *r, struct buf *out)
{
	if (r->n == 0) {
		buf_addf(out, "N %d\n", r->steps_tried);
		return;
	}
	buf_addf(out, "F %d %s %d\n", r->steps_tried, r->step, r->n);
	for (int i = 0; i < r->n; i++) {
		const struct qr_code *c = &r->codes[i];

		buf_addf(out, "%d %zu %d %d %d %d %s\n", (int)c->charset, c->raw_len, c->x, c->y,
			 c->w, c->h, c->step[0] ? c->step : r->step);
		buf_add(out, c->raw, c->raw_len);
	}
}

void decode_reply_refused(const char *why, struct buf *out)
{
	buf_adds(out, "R ");
	for (const char *p = why; *p; p++)
		buf_addc(out, *p == '\n' ? ' ' : *p);
	buf_addc(out, '\n');
}

/* Read "<a> <b>\n" style decimal fields from the reply. */
static int take_long(const char **p, const char *end, long *v)
{
	char *e;

	if (*p >= end)
		return -1;
	*v = strtol(*p, &e, 10);
	if (e == *p || e > end)
		return -1;
	*p = e;
	if (*p < end && (**p == ' ' || **p == '\n'))
		(*p)++;
	return 0;
}

/* A step's name as the cascade writes them: lower-case words joined by '-'. */
static int step_name_ok(const char *p, size_t n)
{
	if (n == 0 || n >= DECODE_STEP_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)p[i]) && p[i] != '-')
			return 0;
	return 1;
}

enum guard_status decode_reply_read(const struct buf *reply, struct decode_result *r,
				    struct err *e)
{
	const char *p = buf_str(reply), *end = p + reply->len, *nl;
	long steps, n, cs, len;

	memset(r, 0, sizeof(*r));
	if (reply->len < 2)
		goto bad;
	if (p[0] == 'R' && p[1] == ' ') {
		/* a reason from a server is shown to people: one line of text */
		size_t n = (size_t)((nl = memchr(p, '\n', reply->len)) ? nl - p : end - p) - 2;
		size_t k = 0;
		int text = utf8_valid(p + 2, n);

		for (size_t i = 0; i < n && k + 1 < sizeof(e->msg); i++) {
			unsigned char ch = (unsigned char)p[2 + i];

			if (ch >= 0x20 && ch != 0x7f && (ch < 0x80 || text))
				e->msg[k++] = (char)ch;
			else if (k + 1 < sizeof(e->msg))
				e->msg[k++] = '?';
		}
		/* cut short: never inside a letter (each byte above is copied to its place) */
		while (text && k < n && k > 0 && ((unsigned char)p[2 + k] & 0xC0) == 0x80)
			k--;
		e->msg[k] = '\0';
		if (!k)
			err_set(e, "the decoder gave no reason");
		return GUARD_REFUSED;
	}
	p += 2;
	if (take_long(&p, end, &steps) < 0)
		goto bad;
	r->steps_tried = (int)steps;
	if (reply->data[0] == 'N')
		return GUARD_NONE;
	if (reply->data[0] != 'F')
		goto bad;
	nl = memchr(p, ' ', (size_t)(end - p));
	if (!nl || !step_name_ok(p, (size_t)(nl - p)))
		goto bad;
	memcpy(r->step_name, p, (size_t)(nl - p));
	r->step_name[nl - p] = '\0';
	r->step = r->step_name;
	p = nl + 1;
	if (take_long(&p, end, &n) < 0 || n < 1 || n > DECODE_MAX_CODES)
		goto bad;
	for (long i = 0; i < n; i++) {
		struct qr_code *c = &r->codes[r->n];
		long box[4];
		char *text;

		if (take_long(&p, end, &cs) < 0 || take_long(&p, end, &len) < 0 ||
		    len < 1 || len > DECODE_MAX_PAYLOAD)
			goto bad;
		for (int k = 0; k < 4; k++)
			if (take_long(&p, end, &box[k]) < 0 || box[k] < 0 ||
			    box[k] > (long)IMAGE_MAX_SIDE)
				goto bad;
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl || !step_name_ok(p, (size_t)(nl - p)))
			goto bad;
		memcpy(c->step, p, (size_t)(nl - p));
		c->step[nl - p] = '\0';
		p = nl + 1;
		if (end - p < len)
			goto bad;
		c->x = (int)box[0];
		c->y = (int)box[1];
		c->w = (int)box[2];
		c->h = (int)box[3];
		c->raw = malloc((size_t)len + 1);
		if (!c->raw)
			goto bad;
		memcpy(c->raw, p, (size_t)len);
		c->raw[len] = '\0';
		c->raw_len = (size_t)len;
		/* recompute rather than trust the child's charset */
		c->charset = qr_text_from_bytes(c->raw, c->raw_len, &text);
		c->text = text;
		(void)cs;
		r->n++;
		p += len;
	}
	return GUARD_FOUND;
bad:
	decode_result_release(r);
	r->step = NULL;
	err_set(e, "decoder sent back a malformed reply");
	return GUARD_FAILED;
}
