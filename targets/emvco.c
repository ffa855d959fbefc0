/* emvco.c - EMVCo/VietQR TLV parsing, CRC and building (see emvco.h). */
#include "emvco.h"

#include <stdio.h>
#include <string.h>

#include "../common/banned.h"

uint16_t emvco_crc16(const void *data, size_t n)
{
	const unsigned char *p = data;
	uint16_t crc = 0xffff;

	for (size_t i = 0; i < n; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
	}
	return crc;
}

int emvco_looks_like(const char *s, size_t n)
{
	return n >= 6 && memcmp(s, "000201", 6) == 0;
}

/* One TLV field: id and value (pointing into the input). */
struct tlv {
	char id[3];
	const char *val;
	size_t len;
	size_t at;		/* offset of the field's id in the input */
};

static int two_digits(const char *p)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/*
 * n bytes of the code for a message: printable ASCII as it is, any other
 * byte as \xHH, so that a message never holds half a UTF-8 character (it
 * becomes a result's explanation, which must stay valid UTF-8).
 */
static const char *shown(const char *p, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 5 <= cap; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x20 && c < 0x7f)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02X", c);
	}
	out[o] = '\0';
	return out;
}

/* Split s into fields. Returns the count, or -1 with e filled. */
static int tlv_split(const char *s, size_t n, struct tlv *f, int max,
		     const char *where, struct err *e)
{
	size_t i = 0;
	int k = 0;

	while (i < n) {
		char show[16];
		int len;

		if (n - i < 4)
			return err_set(e, "%s: truncated field at offset %zu", where, i);
		if (two_digits(s + i) < 0)
			return err_set(e, "%s: field id '%s' at offset %zu is not "
				       "two digits", where, shown(s + i, 2, show, sizeof(show)), i);
		len = two_digits(s + i + 2);
		if (len < 0)
			return err_set(e, "%s: field %.2s has a bad length '%s'",
				       where, s + i, shown(s + i + 2, 2, show, sizeof(show)));
		if ((size_t)len > n - i - 4)
			return err_set(e, "%s: field %.2s says %d characters but "
				       "only %zu remain", where, s + i, len, n - i - 4);
		if (k == max)
			return err_set(e, "%s: more than %d fields", where, max);
		memcpy(f[k].id, s + i, 2);
		f[k].id[2] = '\0';
		f[k].val = s + i + 4;
		f[k].len = (size_t)len;
		f[k].at = i;
		k++;
		i += 4 + (size_t)len;
	}
	return k;
}

static void copy_field(char *dst, size_t cap, const struct tlv *f)
{
	size_t n = f->len < cap - 1 ? f->len : cap - 1;

	memcpy(dst, f->val, n);
	dst[n] = '\0';
}

#define COPY(dst, f) copy_field((dst), sizeof(dst), (f))

static int parse_napas(const struct tlv *f38, struct emvco *out, struct err *e)
{
	struct tlv sub[10], ben[10];
	int n, m;

	n = tlv_split(f38->val, f38->len, sub, 10, "field 38", e);
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (strcmp(sub[i].id, "00") == 0) {
			COPY(out->guid, &sub[i]);
		} else if (strcmp(sub[i].id, "01") == 0) {
			m = tlv_split(sub[i].val, sub[i].len, ben, 10,
				      "field 38.01", e);
			if (m < 0)
				return -1;
			for (int j = 0; j < m; j++) {
				if (strcmp(ben[j].id, "00") == 0)
					COPY(out->bin, &ben[j]);
				else if (strcmp(ben[j].id, "01") == 0)
					COPY(out->account, &ben[j]);
			}
		} else if (strcmp(sub[i].id, "02") == 0) {
			COPY(out->service, &sub[i]);
		}
	}
	out->has_payee = out->bin[0] && out->account[0];
	return 0;
}

int emvco_parse(const char *s, size_t n, struct emvco *out, struct err *e)
{
	struct tlv f[EMVCO_MAX_FIELDS];
	int k, have63 = 0;

	memset(out, 0, sizeof(*out));
	k = tlv_split(s, n, f, EMVCO_MAX_FIELDS, "payment code", e);
	if (k < 0)
		return -1;
	if (k == 0 || strcmp(f[0].id, "00") != 0)
		return err_set(e, "payment code: field 00 does not come first");
	for (int i = 0; i < k; i++) {
		const struct tlv *t = &f[i];

		if (strcmp(t->id, "00") == 0) {
			COPY(out->format, t);
		} else if (strcmp(t->id, "01") == 0) {
			COPY(out->initiation, t);
		} else if (strcmp(t->id, "38") == 0) {
			if (parse_napas(t, out, e) < 0)
				return -1;
		} else if (strcmp(t->id, "52") == 0) {
			COPY(out->mcc, t);
		} else if (strcmp(t->id, "53") == 0) {
			COPY(out->currency, t);
		} else if (strcmp(t->id, "54") == 0) {
			COPY(out->amount, t);
		} else if (strcmp(t->id, "58") == 0) {
			COPY(out->country, t);
		} else if (strcmp(t->id, "59") == 0) {
			COPY(out->merchant, t);
		} else if (strcmp(t->id, "60") == 0) {
			COPY(out->city, t);
		} else if (strcmp(t->id, "62") == 0) {
			struct tlv add[10];
			int m = tlv_split(t->val, t->len, add, 10, "field 62", e);

			if (m < 0)
				return -1;
			for (int j = 0; j < m; j++)
				if (strcmp(add[j].id, "08") == 0)
					COPY(out->purpose, &add[j]);
		} else if (strcmp(t->id, "63") == 0) {
			unsigned v = 0;

			if (i != k - 1 || t->len != 4)
				return err_set(e, "payment code: field 63 must be the "
					       "last field, 4 characters long");
			for (size_t j = 0; j < 4; j++) {
				char c = t->val[j];
				int d = c >= '0' && c <= '9' ? c - '0' :
					c >= 'A' && c <= 'F' ? c - 'A' + 10 :
					c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

				if (d < 0) {
					char show[24];

					return err_set(e, "payment code: field 63 "
						       "'%s' is not hexadecimal",
						       shown(t->val, 4, show, sizeof(show)));
				}
				v = v * 16 + (unsigned)d;
			}
			out->crc_given = v;
			/* the CRC covers everything up to and including "6304" */
			out->crc_computed = emvco_crc16(s, t->at + 4);
			out->crc_ok = out->crc_given == out->crc_computed;
			have63 = 1;
		}
	}
	if (!have63)
		return err_set(e, "payment code: field 63 (checksum) is missing");
	return 0;
}

int emvco_add(struct buf *b, const char *id, const char *value)
{
	size_t n = strlen(value);

	if (strlen(id) != 2 || n > 99)
		return -1;
	return buf_addf(b, "%s%02zu%s", id, n, value);
}

int emvco_finish(struct buf *b)
{
	if (buf_adds(b, "6304") < 0)
		return -1;
	return buf_addf(b, "%04X", emvco_crc16(b->data, b->len));
}

int emvco_build_vietqr(struct buf *b, const char *bin, const char *account,
		       const char *merchant, const char *purpose)
{
	struct buf ben, napas, add;
	int rc = -1;

	buf_init(&ben, 128);
	buf_init(&napas, 128);
	buf_init(&add, 128);
	if (emvco_add(&ben, "00", bin) < 0 || emvco_add(&ben, "01", account) < 0)
		goto out;
	if (emvco_add(&napas, "00", "A000000727") < 0 ||
	    emvco_add(&napas, "01", buf_str(&ben)) < 0 ||
	    emvco_add(&napas, "02", "QRIBFTTA") < 0)
		goto out;
	if (emvco_add(b, "00", "01") < 0 || emvco_add(b, "01", "11") < 0 ||
	    emvco_add(b, "38", buf_str(&napas)) < 0 ||
	    emvco_add(b, "53", "704") < 0 || emvco_add(b, "58", "VN") < 0)
		goto out;
	if (merchant && emvco_add(b, "59", merchant) < 0)
		goto out;
	if (purpose) {
		if (emvco_add(&add, "08", purpose) < 0 ||
		    emvco_add(b, "62", buf_str(&add)) < 0)
			goto out;
	}
	rc = emvco_finish(b);
out:
	buf_release(&ben);
	buf_release(&napas);
	buf_release(&add);
	return rc;
}
