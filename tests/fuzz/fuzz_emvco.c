/* fuzz_emvco.c - the EMVCo/VietQR TLV parser (targets/emvco.c) on any decoded text, and its builder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../targets/emvco.h"
#include "../../common/text.h"
#include "../../common/banned.h"

/*
 * What a board's code holds is the attacker's choice. Whatever the bytes:
 *   - a refusal says why, in ASCII (the code's bytes as \xHH); an
 *     acceptance means the TLV chain covers the text exactly, starts with
 *     field 00 and ends with a 4-hex-digit 63;
 *   - the checksum is the CRC-16 of everything up to "6304", and crc_ok
 *     says exactly whether it matches what is written;
 *   - every field kept is a NUL-terminated prefix of the value written in
 *     the text (checked here by an independent walk over the fields);
 *   - has_payee is set exactly when field 38 named a BIN and an account;
 *   - what the parser took, built again by emvco_build_vietqr(), parses
 *     back with a good checksum and the same payee, merchant and purpose.
 */
#define FIELD_OK(f) (memchr((f), '\0', sizeof(f)) != NULL)

static int two(const char *p)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/*
 * The value of top-level field id in s, found independently of emvco.c:
 * the last one when it repeats, as the parser keeps the last.
 */
static const char *find(const char *s, size_t n, int id, size_t *len)
{
	const char *last = NULL;
	size_t i = 0;

	while (n - i >= 4) {
		int fid = two(s + i), flen = two(s + i + 2);

		if (fid < 0 || flen < 0 || (size_t)flen > n - i - 4)
			abort();	/* the parser accepted a broken chain */
		if (fid == id) {
			*len = (size_t)flen;
			last = s + i + 4;
		}
		i += 4 + (size_t)flen;
	}
	if (i != n)
		abort();
	return last;
}

/* kept must be the value (clipped to the field's size), or "" when absent. */
static void same(const char *kept, size_t cap, const char *val, size_t len, int present)
{
	size_t k = strlen(kept);

	if (!present) {
		if (k)
			abort();
		return;
	}
	if (k != (len < cap - 1 ? len : cap - 1) || memcmp(kept, val, k) != 0) {
		/* a NUL inside the value ends the copy early: allowed, nothing else */
		if (k > len || memcmp(kept, val, k) != 0 || memchr(val, '\0', len) != val + k)
			abort();
	}
}

#define SAME(field, val, len, present) same(m.field, sizeof(m.field), (val), (len), (present))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *v;
	struct emvco m, back;
	struct err e;
	struct buf b;
	size_t len = 0;

	e.msg[0] = '\0';
	if (emvco_parse(s, size, &m, &e) < 0) {
		/* the reason ends up in a result's explanation: plain ASCII, never half a character */
		if (!e.msg[0] || !text_is_ascii(e.msg, strlen(e.msg)))
			abort();
		return 0;
	}
	if (!FIELD_OK(m.format) || !FIELD_OK(m.initiation) || !FIELD_OK(m.guid) ||
	    !FIELD_OK(m.bin) || !FIELD_OK(m.account) || !FIELD_OK(m.service) ||
	    !FIELD_OK(m.mcc) || !FIELD_OK(m.currency) || !FIELD_OK(m.amount) ||
	    !FIELD_OK(m.country) || !FIELD_OK(m.merchant) || !FIELD_OK(m.city) ||
	    !FIELD_OK(m.purpose))
		abort();
	/* the chain: 00 first, 63 last with four hex digits */
	if (size < 12 || memcmp(s, "00", 2) != 0 || memcmp(s + size - 8, "6304", 4) != 0)
		abort();
	if (m.crc_computed != emvco_crc16(s, size - 4) ||
	    m.crc_ok != (m.crc_given == m.crc_computed) || m.crc_given > 0xffff)
		abort();
	if (m.has_payee != (m.bin[0] && m.account[0]))
		abort();
	v = find(s, size, 0, &len);
	SAME(format, v, len, v != NULL);
	v = find(s, size, 59, &len);
	SAME(merchant, v, len, v != NULL);
	v = find(s, size, 54, &len);
	SAME(amount, v, len, v != NULL);
	v = find(s, size, 60, &len);
	SAME(city, v, len, v != NULL);
	if (!find(s, size, 38, &len) && (m.has_payee || m.guid[0] || m.service[0]))
		abort();

	/* built again from what was taken, it reads back the same */
	if (!m.has_payee)
		return 0;
	buf_init(&b, 4096);
	if (emvco_build_vietqr(&b, m.bin, m.account, m.merchant[0] ? m.merchant : NULL,
			       m.purpose[0] ? m.purpose : NULL) == 0) {
		if (emvco_parse(b.data, b.len, &back, &e) < 0 || !back.crc_ok ||
		    !back.has_payee || strcmp(back.bin, m.bin) || strcmp(back.account, m.account) ||
		    strcmp(back.merchant, m.merchant) || strcmp(back.purpose, m.purpose))
			abort();
	}
	buf_release(&b);
	return 0;
}
