/* fuzz_spool.c - the probe's spool (prober/spool.c) reading a damaged segment and cursor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../prober/spool.h"
#include "../../common/banned.h"

/*
 * The input is a cursor file and a segment, split at the first "\n--\n"
 * (no split: all of it is the segment): what a power cut, a flipped bit or
 * a full disk may leave on a router's flash. Whatever the bytes, the spool
 * opens or says why, never returns an empty or oversized record, only
 * records whose bytes are in the segment, and a record appended after the
 * damage is the last one read back.
 */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_tmpdir();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char marker[] = "{\"fuzz\":\"the last record\"}";
	const char *dir = fuzz_tmpdir();
	const uint8_t *seg = data;
	size_t seglen = size, got = 0;
	int last_is_marker = 0;
	struct spool *s;
	struct err e;

	if (fuzz_dir_clear(dir) < 0)
		abort();
	/* from '\n' to '\n' with memchr(): libFuzzer's hooks make a memcmp() per byte slow */
	for (const uint8_t *nl = data; (nl = memchr(nl, '\n', size - (size_t)(nl - data)));
	     nl++)
		if (size - (size_t)(nl - data) >= 4 && !memcmp(nl, "\n--\n", 4)) {
			fuzz_put(dir, "cursor", data, (size_t)(nl - data));
			seg = nl + 4;
			seglen = size - (size_t)(nl - data) - 4;
			break;
		}
	fuzz_put(dir, "seg-000000000001", seg, seglen);
	s = spool_open(dir, 0, &e);
	if (!s) {
		if (!e.msg[0])
			abort();
		return 0;
	}
	if (strlen(spool_epoch(s)) != SPOOL_EPOCH_LEN || spool_next_seq(s) < 1)
		abort();
	if (spool_append(s, marker, sizeof(marker) - 1, &e) < 0 || spool_flush(s, &e) < 0)
		abort();
	for (int rounds = 0; rounds < 10000; rounds++) {
		struct spool_batch b;

		if (spool_peek(s, 50, 1 << 20, &b, &e) < 0)
			abort();
		if (b.n == 0) {
			spool_batch_release(&b);
			break;
		}
		for (size_t i = 0; i < b.n; i++) {
			const struct buf *r = &b.recs[i];

			if (r->len == 0 || r->len > SPOOL_RECORD_MAX)
				abort();
			last_is_marker = r->len == sizeof(marker) - 1 &&
					 !memcmp(r->data, marker, r->len);
			/* read from the segment, or the record we appended */
			if (!last_is_marker && !memmem(seg, seglen, r->data, r->len))
				abort();
			got++;
		}
		if (strcmp(b.epoch, spool_epoch(s)) != 0 || spool_consume(s, &b, &e) < 0)
			abort();
		spool_batch_release(&b);
	}
	/* whatever came before it, the record written after the damage arrives last */
	if (!got || !last_is_marker)
		abort();
	spool_close(s);
	return 0;
}
