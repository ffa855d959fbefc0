/* fuzz_guard.c - the guarded decode (targets/guard.c: a forked child reads the image and its codes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../targets/guarddecode.h"
#include "../../common/text.h"
#include "../../common/banned.h"

/*
 * Any bytes as a board's image, through the path the probe takes: a
 * child under limits loads and decodes it and sends back what it read.
 * The child's crash, a limit it hits or a reply the parent cannot read
 * comes back as GUARD_FAILED, which this harness treats as a finding
 * (the limits here are generous, so a healthy decoder never meets them).
 * Otherwise:
 *   - REFUSED exactly when the image loader refuses the bytes in this
 *     process too, with its reason;
 *   - NONE with no codes; FOUND with 1 to DECODE_MAX_CODES codes, each of
 *     1 to DECODE_MAX_PAYLOAD raw bytes ending in a NUL, its text valid
 *     UTF-8 or NULL (charset unknown), found by a step of the cascade,
 *     its box inside the image, and the codes in reading order.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *const *steps = decode_steps();
	struct guard_limits lim;
	struct decode_result r;
	struct image img;
	struct err e, le;
	enum guard_status st;
	int loads;

	guard_limits_default(&lim);
	lim.cpu_seconds = 60;		/* the sanitizers slow the decoder down */
	lim.wall_ms = 90000;
	lim.mem_bytes = 1024ul * 1024 * 1024;
	e.msg[0] = '\0';
	st = guard_decode_mem(data, size, &lim, &r, &e);
	loads = image_load_mem(data, size, &img, &le) == 0;
	switch (st) {
	case GUARD_FAILED:
		fprintf(stderr, "fuzz_guard: %s\n", e.msg);
		abort();
	case GUARD_REFUSED:
		if (loads)
			image_release(&img);
		for (char *q = le.msg; *q; q++)	/* the child's reply is one line */
			if (*q == '\n')
				*q = ' ';
		if (loads || !e.msg[0] || strcmp(e.msg, le.msg) != 0 || r.n != 0)
			abort();
		return 0;
	case GUARD_NONE:
		if (!loads || r.n != 0)
			abort();
		image_release(&img);
		return 0;
	case GUARD_FOUND:
		break;
	default:
		abort();
	}
	if (!loads || r.n < 1 || r.n > DECODE_MAX_CODES || !r.step)
		abort();
	{
		int known = 0;

		for (size_t i = 0; steps[i]; i++)
			known |= strcmp(steps[i], r.step) == 0;
		if (!known)
			abort();
	}
	for (int i = 0; i < r.n; i++) {
		const struct qr_code *c = &r.codes[i];
		int known = 0;

		if (!c->raw || c->raw_len < 1 || c->raw_len > DECODE_MAX_PAYLOAD ||
		    c->raw[c->raw_len] != '\0' ||
		    (c->text && !utf8_valid(c->text, strlen(c->text))) ||
		    (!c->text && c->charset != QR_CHARSET_UNKNOWN) ||
		    c->x < 0 || c->y < 0 || c->w < 0 || c->h < 0 ||
		    c->x + c->w > img.w || c->y + c->h > img.h)
			abort();
		for (size_t k = 0; steps[k]; k++)
			known |= strcmp(steps[k], c->step) == 0;
		if (!known)
			abort();
	}
	{
		/* reading order: sorting again changes nothing */
		struct decode_result again = r;

		decode_result_order(&again);
		for (int i = 0; i < r.n; i++)
			if (again.codes[i].raw != r.codes[i].raw)
				abort();
	}
	image_release(&img);
	decode_result_release(&r);
	return 0;
}
