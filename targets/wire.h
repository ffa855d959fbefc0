/* wire.h - JSON objects to C structs and back through one field table (the Result's and the batch's codec). */
#ifndef QRW_WIRE_H
#define QRW_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "../common/arena.h"
#include "../common/err.h"

/*
 * A table names each field of a JSON object once: how the C struct keeps
 * it, its bounds, and whether an object without it is refused. The encoder
 * writes the fields in the table's order and the decoder checks them in it,
 * so that what the probe writes and what the server takes cannot drift
 * apart. (libubox's blobmsg policies are the model.)
 */
enum wire_type {
	WIRE_STR,	/* const char *, at most max bytes */
	WIRE_ID,	/* const char *, a catalog id (text_is_id) or "-", at most max bytes */
	WIRE_HEX,	/* const char *, exactly max lower-case hex digits */
	WIRE_INT,	/* int, min..max */
	WIRE_I64,	/* int64_t, min..max */
	WIRE_BOOL,	/* int, true or false */
	WIRE_TIME,	/* int64_t ms, written "2026-11-22T11:48:01.532Z" */
	WIRE_TIME_S,	/* int64_t ms, written to the second "2026-11-22T11:48:03Z" */
	WIRE_VERDICT,	/* enum verdict, written by name */
	WIRE_UPLINK,	/* const char *, one of UPLINK_KINDS */
	WIRE_ARRAY,	/* a pointer to items of the sub-table, count (int) at count_off */
	WIRE_OBJECT,	/* an object whose fields (the sub-table) live in this same struct */
};

struct wire_table;

struct wire_field {
	const char *name;
	enum wire_type type;
	size_t off, count_off;
	int64_t min, max;
	int required;
	const struct wire_table *sub;	/* WIRE_ARRAY, WIRE_OBJECT */
};

struct wire_table {
	const struct wire_field *fields;
	size_t n;
	size_t size;			/* of one item, for arrays of them */
	const char *item_words;		/* "steps": for "more than 32 steps" */
};

/* base as a new JSON object (the caller puts it). A NULL string is written as "". */
json_object *wire_encode(const void *base, const struct wire_table *t);

/*
 * Fill base from o, checking every field: its type, range, length (a NUL
 * inside a string is refused), and for the special types a real date, a
 * known verdict or uplink, an id. Absent optional strings become "" (and
 * an optional string sent as "", as the encoder writes a NULL one, counts
 * as absent), absent numbers 0, absent arrays empty. Strings and arrays go into a.
 * Unknown fields are left alone (a newer probe may send more). path
 * prefixes fields in errors: "results[3]." gives "results[3].steps[0].dns_us:
 * -5 is out of range (0 to 86400000000)". Returns 0, or the HTTP status that
 * fits (413 for a string too long, else 422) with e.
 */
int wire_decode(json_object *o, struct arena *a, const char *path, void *base,
		const struct wire_table *t, struct err *e);

#endif
