/* fuzz_decodereply.c - the decoder's reply (targets/decodereply.c) as a probe reads it from qrwatchd's answer to a snapshot. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../targets/decodereply.h"
#include "../../common/text.h"
#include "../../common/banned.h"

/*
 * A probe that hands a board photo to the server reads the answer's body
 * as a decoder reply: bytes from the network. Whatever they are:
 *   - FOUND has 1 to DECODE_MAX_CODES codes, each with its bytes
 *     (NUL-terminated, raw_len long, at most DECODE_MAX_PAYLOAD) and, when
 *     it has text, NUL-terminated UTF-8 no longer than 4 x DECODE_MAX_PAYLOAD;
 *     NONE has none; REFUSED says why, in one line of valid UTF-8;
 *   - a reading written again with decode_reply_write() reads back the
 *     same: status, count, bytes and places.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct decode_result r, again;
	struct buf in, out;
	struct err e;
	enum guard_status st, st2;

	buf_init(&in, DECODE_REPLY_MAX + 1);
	buf_add(&in, data, size);
	e.msg[0] = '\0';
	st = decode_reply_read(&in, &r, &e);
	buf_release(&in);
	if (st == GUARD_REFUSED && (!e.msg[0] || !utf8_valid(e.msg, strlen(e.msg))))
		abort();
	for (const char *q = e.msg; st == GUARD_REFUSED && *q; q++)
		if ((unsigned char)*q < 0x20)
			abort();	/* one line of text */
	if ((st == GUARD_FOUND) != (r.n > 0) || r.n < 0 || r.n > DECODE_MAX_CODES)
		abort();
	for (int i = 0; i < r.n; i++) {
		const struct qr_code *c = &r.codes[i];

		if (!c->raw || c->raw[c->raw_len] != '\0' || c->raw_len > DECODE_MAX_PAYLOAD ||
		    !memchr(c->step, '\0', sizeof(c->step)))
			abort();
		if (c->text && strlen(c->text) > 4 * DECODE_MAX_PAYLOAD)
			abort();
	}
	if (st == GUARD_FOUND || st == GUARD_NONE) {
		buf_init(&out, DECODE_REPLY_MAX);
		decode_reply_write(&r, &out);
		if (out.overflow)
			abort();
		st2 = decode_reply_read(&out, &again, &e);
		if (st2 != st || again.n != r.n)
			abort();
		for (int i = 0; i < r.n; i++)
			if (again.codes[i].raw_len != r.codes[i].raw_len ||
			    memcmp(again.codes[i].raw, r.codes[i].raw, r.codes[i].raw_len) ||
			    again.codes[i].x != r.codes[i].x || again.codes[i].y != r.codes[i].y ||
			    again.codes[i].w != r.codes[i].w || again.codes[i].h != r.codes[i].h)
				abort();
		decode_result_release(&again);
		buf_release(&out);
	}
	decode_result_release(&r);
	return 0;
}
