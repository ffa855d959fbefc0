/* policy.h - is a decoded code the registered one? Genuine, TAMPERED or damaged, and why. */
#ifndef QRW_POLICY_H
#define QRW_POLICY_H

#include "catalog.h"
#include "decodereply.h"
#include "payload.h"
#include "verdict.h"
#include "../common/buf.h"

/* Why a code was judged as it was; each has a sentence in both languages. */
enum reason {
	REASON_GENUINE_URL,
	REASON_GENUINE_PAYMENT,
	REASON_GENUINE_TEXT,
	REASON_NOT_A_LINK,
	REASON_BAD_LINK,
	REASON_OUTSIDE_OFFICIAL,
	REASON_OUTSIDE_IP,
	REASON_OUTSIDE_PUNYCODE,
	REASON_OUTSIDE_LOOKALIKE,
	REASON_DIFFERENT_LINK,
	REASON_NOT_A_PAYMENT,
	REASON_PAYMENT_MALFORMED,
	REASON_PAYMENT_CRC,
	REASON_OTHER_PAYEE,
	REASON_PAYMENT_DIFFERS,
	REASON_TEXT_DIFFERS,
	REASON_OLD_CODE,
	REASON_EXTRA_CODE,
	REASON_NO_CODE,
	REASON_UNKNOWN_CHARSET,
	REASON_IMAGE_REFUSED,
	REASON_DECODER_FAILED,
	REASON_COUNT
};

#define JUDGEMENT_ARG_MAX 600

struct judgement {
	enum verdict verdict;	/* VERDICT_OK when the code is genuine */
	int genuine;
	enum reason reason;
	char arg[3][JUDGEMENT_ARG_MAX];	/* {1} {2} {3} of the sentence */
};

/*
 * Judge decoded UTF-8 text against target t:
 *   URL targets: a link outside the official domains (whole-label match;
 *   punycode, IP addresses and look-alikes refused) or other than the
 *   registered payload is TAMPERED;
 *   VietQR targets: a broken payment code or a bad checksum is UNREADABLE
 *   (damaged), another payee (BIN and account of field 38) or other
 *   registered fields is TAMPERED. The checksum never proves genuineness;
 *   text targets: anything but the registered text is TAMPERED.
 */
void policy_judge(const struct target *t, const char *text, struct judgement *j);
/*
 * (Before any of that: a code that t `replaces`, the one its board held
 * before a new address was confirmed, is STALE, REASON_OLD_CODE: the
 * board waits for the new code to be pinned up. It is the board's own,
 * never a foreign code beside it.)
 */

/*
 * Judge every code read on t's board photo (r, in reading order): the
 * judgement of the code that is t's own (genuine for t). But a code beside
 * it that is no code of the board's (genuine for no target of cat on t's
 * board) makes the board TAMPERED, naming that code and where it is: a
 * fraudster's sticker next to the official one. With no code of t's, the
 * first code that is none of the board's decides (or the first code with a
 * text, when all are the board's). Codes of unknown charset count only
 * when no code has a text. *used is the index of the code judged, -1 when
 * none had a text (then j is UNREADABLE). cat may be NULL: t alone.
 */
void policy_judge_board(const struct catalog *cat, const struct target *t,
			const struct decode_result *r, struct judgement *j, int *used);

/* A judgement for a board that yielded no text; reason is one of
 * REASON_NO_CODE, REASON_UNKNOWN_CHARSET, REASON_IMAGE_REFUSED,
 * REASON_DECODER_FAILED, with detail as {1}. Always UNREADABLE. */
void policy_unreadable(enum reason reason, const char *detail,
		       struct judgement *j);

/* Append the plain-language sentence for j (Vietnamese, or English). */
int policy_explain(const struct judgement *j, int english, struct buf *out);

#endif
