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

#endif
