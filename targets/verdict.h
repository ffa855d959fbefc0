/* verdict.h - the verdicts a check can end in, in precedence order (DESIGN.md section 4). */
#ifndef QRW_VERDICT_H
#define QRW_VERDICT_H

/* Lower value wins when several apply. */
enum verdict {
	VERDICT_UNREADABLE,
	VERDICT_TAMPERED,
	VERDICT_STALE,
	VERDICT_HANG,
	VERDICT_DOWN,
	VERDICT_BROKEN_FLOW,
	VERDICT_SLOW,
	VERDICT_OK,
	VERDICT_COUNT
};

/* "UNREADABLE", "OK", ...; "?" for an out-of-range value. */
const char *verdict_name(enum verdict v);

/* Parse a verdict name (case-insensitive). Returns 0 or -1. */
int verdict_parse(const char *s, enum verdict *v);

/* One plain sentence saying what the verdict means, Vietnamese or English. */
const char *verdict_meaning(enum verdict v, int english);

/* The more severe of two verdicts. */
enum verdict verdict_worse(enum verdict a, enum verdict b);

/*
 * The rules that hang on a verdict, here once (DESIGN.md sections 4, 6):
 * available: the service did what a citizen needs (OK, SLOW), the 1 of an
 * RRD file's availability; board: about the posted code itself
 * (UNREADABLE, TAMPERED), no latency to draw, not the service's fault;
 * service: about the service behind the code (HANG, DOWN, BROKEN_FLOW,
 * SLOW), so that two probes seeing it make one service incident; urgent:
 * someone must act today (TAMPERED: citizens may pay a fraudster; HANG:
 * the service takes requests and loses them).
 */
int verdict_available(enum verdict v);
int verdict_is_board(enum verdict v);
int verdict_is_service(enum verdict v);
int verdict_urgent(enum verdict v);

#endif
