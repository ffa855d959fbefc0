/* wire.c - the field-table codec (see wire.h). */
#include "wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "uplink.h"
#include "verdict.h"
#include "../common/text.h"
#include "../common/banned.h"

/* ---- encoding ---- */

static json_object *encode_array(const void *base, const struct wire_field *f)
{
	json_object *arr = json_object_new_array();
	int n = *(const int *)((const char *)base + f->count_off);
	const char *items = *(const char *const *)((const char *)base + f->off);

	for (int i = 0; items && i < n; i++)
		json_object_array_add(arr, wire_encode(items + (size_t)i * f->sub->size, f->sub));
	return arr;
}

json_object *wire_encode(const void *base, const struct wire_table *t)
{
	json_object *o = json_object_new_object();
	const char *b = base;

	for (size_t i = 0; i < t->n; i++) {
		const struct wire_field *f = &t->fields[i];
		json_object *v = NULL;
		char ts[TEXT_UTC_MAX];

		switch (f->type) {
		case WIRE_STR:
		case WIRE_ID:
		case WIRE_HEX:
		case WIRE_UPLINK: {
			const char *s = *(const char *const *)(b + f->off);

			v = json_object_new_string(s ? s : "");
			break;
		}
		case WIRE_INT:
			v = json_object_new_int64(*(const int *)(b + f->off));
			break;
		case WIRE_I64:
			v = json_object_new_int64(*(const int64_t *)(b + f->off));
			break;
		case WIRE_BOOL:
			v = json_object_new_boolean(*(const int *)(b + f->off));
			break;
		case WIRE_TIME:
		case WIRE_TIME_S:
			text_utc_format(*(const int64_t *)(b + f->off), f->type == WIRE_TIME, ts);
			v = json_object_new_string(ts);
			break;
		case WIRE_VERDICT:
			v = json_object_new_string(verdict_name(*(const enum verdict *)(b + f->off)));
			break;
		case WIRE_ARRAY:
			v = encode_array(base, f);
			break;
		case WIRE_OBJECT:
			v = wire_encode(base, f->sub);
			break;
		}
		/* the names are the tables' own static strings: no copy of each */
		json_object_object_add_ex(o, f->name, v, JSON_C_OBJECT_ADD_CONSTANT_KEY);
	}
	return o;
}

/* ---- decoding ---- */

__attribute__((format(printf, 3, 4)))
static int refuse(struct err *e, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return status;
}

static const char *type_words(json_type t)
{
	switch (t) {
	case json_type_string: return "a string";
	case json_type_int: return "a whole number";
	case json_type_boolean: return "true or false";
	case json_type_array: return "an array";
	case json_type_object: return "an object";
	default: return "of another type";
	}
}

static json_type json_type_of(enum wire_type t)
{
	switch (t) {
	case WIRE_INT:
	case WIRE_I64: return json_type_int;
	case WIRE_BOOL: return json_type_boolean;
	case WIRE_ARRAY: return json_type_array;
	case WIRE_OBJECT: return json_type_object;
	default: return json_type_string;
	}
}

static int is_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

static int decode_array(json_object *arr, struct arena *a, const char *path, void *base,
			const struct wire_field *f, struct err *e)
{
	size_t n = json_object_array_length(arr);
	char *items;

	if (n > (size_t)f->max)
		return refuse(e, 422, "%s%s: more than %lld %s", path, f->name,
			      (long long)f->max, f->sub->item_words);
	items = arena_alloc(a, (n ? n : 1) * f->sub->size);
	if (!items)
		return refuse(e, 413, "%s%s: out of memory", path, f->name);
	for (size_t i = 0; i < n; i++) {
		json_object *el = json_object_array_get_idx(arr, i);
		char sub[160];
		int rc;

		if (!json_object_is_type(el, json_type_object))
			return refuse(e, 422, "%s%s[%zu]: must be an object", path, f->name, i);
		snprintf(sub, sizeof(sub), "%s%s[%zu].", path, f->name, i);
		rc = wire_decode(el, a, sub, items + i * f->sub->size, f->sub, e);
		if (rc)
			return rc;
	}
	*(char **)((char *)base + f->off) = items;
	*(int *)((char *)base + f->count_off) = (int)n;
	return 0;
}

/*
 * A string field's checks beyond its length: id, hex, uplink. An optional
 * field that is "" is what the encoder writes for one left out, and is
 * taken as left out.
 */
static int check_string(const struct wire_field *f, const char *path, const char *s,
			struct err *e)
{
	if (!f->required && !*s)
		return 0;
	if (f->type == WIRE_STR && strlen(s) > (size_t)f->max)
		return refuse(e, 413, "%s%s: longer than %lld bytes", path, f->name,
			      (long long)f->max);
	if (f->type == WIRE_ID && strcmp(s, "-") != 0 && !text_is_id(s, (size_t)f->max))
		return refuse(e, 422, "%s%s: '%.80s' is not a target id", path, f->name, s);
	if (f->type == WIRE_HEX && !is_hex(s, (size_t)f->max))
		return refuse(e, 422, "%s%s: '%.80s' is not %lld lower-case hex digits", path,
			      f->name, s, (long long)f->max);
	if (f->type == WIRE_UPLINK && !uplink_valid(s))
		return refuse(e, 422, "%s%s: '%.40s' is not one of: %s", path, f->name, s,
			      UPLINK_KINDS);
	return 0;
}

/* The value of one present field of the right JSON type, into base. */
static int decode_field(json_object *v, struct arena *a, const char *path, char *b,
			const struct wire_field *f, struct err *e)
{
	const char *s = NULL;
	int64_t n = 0;
	int rc;

	if (json_type_of(f->type) == json_type_string) {
		s = json_object_get_string(v);
		if ((size_t)json_object_get_string_len(v) != strlen(s))
			return refuse(e, 422, "%s%s: holds a NUL character", path, f->name);
	} else if (json_type_of(f->type) == json_type_int) {
		n = json_object_get_int64(v);
		/* json-c holds larger numbers as unsigned, and saturates past 2^64 */
		if (n == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
			return refuse(e, 422, "%s%s: a number above %lld is out of range (%lld "
				      "to %lld)", path, f->name, (long long)INT64_MAX,
				      (long long)f->min, (long long)f->max);
		if (n < f->min || n > f->max)
			return refuse(e, 422, "%s%s: %lld is out of range (%lld to %lld)", path,
				      f->name, (long long)n, (long long)f->min, (long long)f->max);
	}
	switch (f->type) {
	case WIRE_STR:
	case WIRE_ID:
	case WIRE_HEX:
	case WIRE_UPLINK:
		rc = check_string(f, path, s, e);
		if (rc)
			return rc;
		*(const char **)(b + f->off) = arena_strdup(a, s);
		if (!*(const char **)(b + f->off))
			return refuse(e, 413, "%s%s: out of memory", path, f->name);
		return 0;
	case WIRE_TIME:
	case WIRE_TIME_S:
		if (text_utc_parse(s, (int64_t *)(b + f->off)) < 0)
			return refuse(e, 422, "%s%s: '%.40s' is not a UTC time such as %s", path,
				      f->name, s, f->type == WIRE_TIME ? "2026-11-22T11:48:01.532Z" :
				      "2026-11-22T11:48:03Z");
		return 0;
	case WIRE_VERDICT:
		if (verdict_parse(s, (enum verdict *)(b + f->off)) < 0)
			return refuse(e, 422, "%s%s: unknown verdict '%.40s'", path, f->name, s);
		return 0;
	case WIRE_INT:
		*(int *)(b + f->off) = (int)n;
		return 0;
	case WIRE_I64:
		*(int64_t *)(b + f->off) = n;
		return 0;
	case WIRE_BOOL:
		*(int *)(b + f->off) = json_object_get_boolean(v);
		return 0;
	case WIRE_ARRAY:
		return decode_array(v, a, path, b, f, e);
	case WIRE_OBJECT: {
		char sub[160];

		snprintf(sub, sizeof(sub), "%s%s.", path, f->name);
		return wire_decode(v, a, sub, b, f->sub, e);
	}
	}
	return 0;
}

int wire_decode(json_object *o, struct arena *a, const char *path, void *base,
		const struct wire_table *t, struct err *e)
{
	char *b = base;

	for (size_t i = 0; i < t->n; i++) {
		const struct wire_field *f = &t->fields[i];
		json_object *v;
		int rc;

		if (!json_object_object_get_ex(o, f->name, &v) ||
		    json_object_is_type(v, json_type_null)) {
			if (f->required)
				return refuse(e, 422, "%s%s: missing", path, f->name);
			if (f->type == WIRE_STR || f->type == WIRE_ID || f->type == WIRE_HEX ||
			    f->type == WIRE_UPLINK)
				*(const char **)(b + f->off) = "";
			continue;
		}
		if (!json_object_is_type(v, json_type_of(f->type)))
			return refuse(e, 422, "%s%s: must be %s", path, f->name,
				      type_words(json_type_of(f->type)));
		rc = decode_field(v, a, path, b, f, e);
		if (rc)
			return rc;
	}
	return 0;
}
