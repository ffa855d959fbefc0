/* emvco.h - EMVCo merchant-presented QR codes as VietQR uses them: TLV fields, CRC, payee. */
#ifndef QRW_EMVCO_H
#define QRW_EMVCO_H

#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"
#include "../common/err.h"

/*
 * A VietQR code is a string of TLV fields: two-digit id, two-digit length,
 * value. Field 38 (NAPAS) holds sub-fields: 00 the GUID A000000727,
 * 01 the beneficiary (00 bank BIN, 01 account or card number), 02 the
 * service code. Field 63 is a CRC-16/CCITT-FALSE over everything before its
 * value; it detects damage only: anyone who swaps the account recomputes it.
 */
#define EMVCO_MAX_FIELDS 40

struct emvco {
	char format[4];		/* 00: payload format indicator, "01" */
	char initiation[4];	/* 01: "11" static, "12" dynamic */
	char guid[40];		/* 38/00 */
	char bin[16];		/* 38/01/00: bank BIN (6 digits) */
	char account[40];	/* 38/01/01: account or card number */
	char service[16];	/* 38/02: QRIBFTTA (account) or QRIBFTTC (card) */
	char mcc[8];		/* 52 */
	char currency[8];	/* 53: "704" is VND */
	char amount[16];	/* 54 */
	char country[4];	/* 58 */
	char merchant[32];	/* 59 */
	char city[24];		/* 60 */
	char purpose[104];	/* 62/08 */
	unsigned crc_given;	/* 63 as written */
	unsigned crc_computed;	/* over the text before 63's value */
	int crc_ok;
	int has_payee;		/* field 38 with a BIN and an account */
};

/* CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no xor-out). */
uint16_t emvco_crc16(const void *data, size_t n);

/*
 * 1 if s starts like an EMVCo code ("000201"). Parse with emvco_parse().
 */
int emvco_looks_like(const char *s, size_t n);

/*
 * Parse an EMVCo payload. Returns 0 with out filled (crc_ok says whether the
 * checksum matches), or -1 with e naming the malformed field when the TLV
 * structure is broken (truncated field, bad length, missing 63).
 */
int emvco_parse(const char *s, size_t n, struct emvco *out, struct err *e);

/* Builders, for posters and tests: append one field, then finish with the CRC. */
int emvco_add(struct buf *b, const char *id, const char *value);
int emvco_finish(struct buf *b);

/*
 * Build a static VietQR account-transfer payload for bank BIN and account,
 * with optional merchant name and purpose (NULL to leave out), into b.
 */
int emvco_build_vietqr(struct buf *b, const char *bin, const char *account,
		       const char *merchant, const char *purpose);

#endif
