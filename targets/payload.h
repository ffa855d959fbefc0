/* payload.h - what a decoded code holds: a link, a VietQR/EMVCo payment code, or plain text. */
#ifndef QRW_PAYLOAD_H
#define QRW_PAYLOAD_H

#include "domain.h"
#include "emvco.h"

enum payload_kind { PAYLOAD_URL, PAYLOAD_EMVCO, PAYLOAD_TEXT };

struct payload {
	enum payload_kind kind;
	const char *text;	/* the decoded UTF-8 text (not owned) */
	/* PAYLOAD_URL */
	char host[DOMAIN_MAX];
	/* PAYLOAD_EMVCO */
	struct emvco emv;
	/*
	 * Why the text is not the kind it first looks like: a link with
	 * another scheme or a user@ part, a payment code with broken fields.
	 * Empty when nothing is wrong.
	 */
	char problem[ERR_MAX];
	int looks_emvco;	/* starts like a payment code */
	int looks_link;		/* starts with a scheme:// */
};

/*
 * Classify text. An http(s) link that parses is PAYLOAD_URL; a string that
 * starts with "000201" and parses as TLV with a field 63 is PAYLOAD_EMVCO
 * (emv.crc_ok says whether its checksum holds); anything else, including a
 * link with another scheme or a payment code with broken fields, is
 * PAYLOAD_TEXT with `problem` saying what was wrong.
 */
void payload_classify(const char *text, struct payload *p);

/* "url", "payment code", "text". */
const char *payload_kind_name(enum payload_kind k);

#endif
