/* result.c - the Result's field table, read both ways (see result.h, docs/protocol.md). */
#include "result.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "wire.h"
#include "../common/banned.h"

#define R(m) offsetof(struct result, m)
#define S(m) offsetof(struct result_step, m)
#define H(m) offsetof(struct result_hop, m)
#define NF(t) (sizeof(t) / sizeof((t)[0]))

/* Every field of a result on the wire, once: docs/protocol.md, "A result". */
static const struct wire_field hop_fields[] = {
	{ "status", WIRE_INT, H(status), 0, 0, 999, 0, NULL },
	{ "url", WIRE_STR, H(url), 0, 0, RESULT_FIELD_MAX, 0, NULL },
	{ "location", WIRE_STR, H(location), 0, 0, RESULT_FIELD_MAX, 0, NULL },
};
static const struct wire_table hop_table = {
	hop_fields, NF(hop_fields), sizeof(struct result_hop), "redirects"
};

static const struct wire_field step_fields[] = {
	{ "name", WIRE_STR, S(name), 0, 0, RESULT_FIELD_MAX, 0, NULL },
	{ "method", WIRE_STR, S(method), 0, 0, 16, 0, NULL },
	{ "url", WIRE_STR, S(url), 0, 0, RESULT_FIELD_MAX, 0, NULL },
	{ "final_url", WIRE_STR, S(final_url), 0, 0, RESULT_FIELD_MAX, 0, NULL },
	{ "status", WIRE_INT, S(status), 0, 0, 999, 0, NULL },
	{ "bytes", WIRE_I64, S(bytes), 0, 0, (int64_t)1 << 40, 0, NULL },
	{ "redirects", WIRE_INT, S(redirects), 0, 0, 1000, 0, NULL },
	{ "redirect_chain", WIRE_ARRAY, S(hops), S(nhops), 0, RESULT_MAX_HOPS, 0, &hop_table },
	{ "reused", WIRE_BOOL, S(reused), 0, 0, 0, 0, NULL },
	{ "cold", WIRE_BOOL, S(cold), 0, 0, 0, 0, NULL },
	{ "cert_expires", WIRE_I64, S(cert_expires), 0, 0, (int64_t)1 << 40, 0, NULL },
	{ "dns_us", WIRE_I64, S(dns_us), 0, 0, RESULT_US_MAX, 0, NULL },
	{ "connect_us", WIRE_I64, S(connect_us), 0, 0, RESULT_US_MAX, 0, NULL },
	{ "tls_us", WIRE_I64, S(tls_us), 0, 0, RESULT_US_MAX, 0, NULL },
	{ "ttfb_us", WIRE_I64, S(ttfb_us), 0, 0, RESULT_US_MAX, 0, NULL },
	{ "transfer_us", WIRE_I64, S(transfer_us), 0, 0, RESULT_US_MAX, 0, NULL },
	{ "total_us", WIRE_I64, S(total_us), 0, 0, RESULT_US_MAX, 0, NULL },
	{ "ok", WIRE_BOOL, S(ok), 0, 0, 0, 0, NULL },
	{ "error", WIRE_STR, S(error), 0, 0, RESULT_FIELD_MAX, 0, NULL },
};
static const struct wire_table step_table = {
	step_fields, NF(step_fields), sizeof(struct result_step), "steps"
};

static const struct wire_field result_fields[] = {
	{ "target", WIRE_ID, R(target), 0, 0, CATALOG_ID_MAX, 1, NULL },
	{ "time", WIRE_TIME, R(time_ms), 0, 0, 0, 1, NULL },
	{ "verdict", WIRE_VERDICT, R(verdict), 0, 0, 0, 1, NULL },
	{ "why_vi", WIRE_STR, R(why_vi), 0, 0, RESULT_FIELD_MAX, 0, NULL },
	{ "why_en", WIRE_STR, R(why_en), 0, 0, RESULT_FIELD_MAX, 0, NULL },
	{ "payload", WIRE_STR, R(payload), 0, 0, RESULT_FIELD_MAX, 0, NULL },
	{ "decode_step", WIRE_STR, R(decode_step), 0, 0, RESULT_FIELD_MAX, 0, NULL },
	{ "failed_step", WIRE_INT, R(failed_step), 0, 0, RESULT_MAX_STEPS, 0, NULL },
	{ "failed_step_name", WIRE_STR, R(failed_step_name), 0, 0, RESULT_FIELD_MAX, 0, NULL },
	{ "total_us", WIRE_I64, R(total_us), 0, 0, RESULT_US_MAX, 0, NULL },
	{ "uplink", WIRE_UPLINK, R(uplink), 0, 0, 16, 0, NULL },
	{ "interface", WIRE_STR, R(interface), 0, 0, RESULT_FIELD_MAX, 0, NULL },
	{ "link_fault", WIRE_BOOL, R(link_fault), 0, 0, 0, 0, NULL },
	{ "steps", WIRE_ARRAY, R(steps), R(nsteps), 0, RESULT_MAX_STEPS, 1, &step_table },
};
static const struct wire_table result_table = {
	result_fields, NF(result_fields), sizeof(struct result), "results"
};

/* ---- making results on the probe ---- */

struct result_step *result_steps_new(struct arena *a, int n)
{
	return arena_alloc(a, (size_t)(n > 0 ? n : 1) * sizeof(struct result_step));
}

const char *result_text(struct arena *a, const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	char *out;

	if (n <= max) {
		out = arena_strndup(a, s ? s : "", n);
		return out ? out : "";
	}
	n = max > 3 ? max - 3 : 0;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;	/* not in the middle of a character */
	out = arena_alloc(a, n + 4);
	if (!out)
		return "";
	memcpy(out, s, n);
	memcpy(out + n, "...", 4);
	return out;
}

const char *result_textf(struct arena *a, size_t max, const char *fmt, ...)
{
	char tmp[RESULT_FIELD_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	return result_text(a, tmp, max);
}

int result_add_hop(struct arena *a, struct result_step *s, int status, const char *url,
		   const char *location)
{
	if (s->nhops >= RESULT_MAX_HOPS)
		return -1;
	if (!s->hops) {
		s->hops = arena_alloc(a, RESULT_MAX_HOPS * sizeof(*s->hops));
		if (!s->hops)
			return -1;
	}
	s->hops[s->nhops].status = status;
	s->hops[s->nhops].url = result_text(a, url, RESULT_URL_MAX);
	s->hops[s->nhops].location = result_text(a, location, RESULT_URL_MAX);
	s->nhops++;
	return 0;
}

/* ---- the codec ---- */

int result_to_json(const struct result *r, struct buf *out)
{
	json_object *o = wire_encode(r, &result_table);
	int rc = buf_adds(out, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(o);
	return rc;
}

json_object *result_to_object(const struct result *r)
{
	return wire_encode(r, &result_table);
}

int result_from_json(json_object *o, struct arena *a, const char *path,
		     struct result *out, struct err *e)
{
	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(o, json_type_object)) {
		size_t n = strlen(path);

		/* "results[3]." names the element itself as "results[3]" */
		err_set(e, "%.*s: must be an object",
			(int)(n && path[n - 1] == '.' ? n - 1 : n), path);
		return 422;
	}
	return wire_decode(o, a, path, out, &result_table, e);
}
