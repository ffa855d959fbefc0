/* result.c - a check result as JSON and as a waterfall (see result.h). */
#include "result.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/banned.h"

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static void add_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

int result_to_json(const struct check_result *r, struct buf *out)
{
	json_object *o = json_object_new_object(), *steps = json_object_new_array();
	char ts[32], full[48];
	struct tm tm;
	int rc;

	gmtime_r(&r->started, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(full, sizeof(full), "%s.%03dZ", ts, r->started_ms);
	add_str(o, "target", r->target);
	add_str(o, "time", full);
	add_str(o, "verdict", verdict_name(r->verdict));
	add_str(o, "why_vi", r->why_vi);
	add_str(o, "why_en", r->why_en);
	add_str(o, "payload", r->payload);
	add_str(o, "decode_step", r->decode_step);
	add_int(o, "failed_step", r->failed_step);
	add_str(o, "failed_step_name", r->failed_step_name);
	add_int(o, "total_us", r->total_us);
	add_str(o, "uplink", r->uplink);
	add_str(o, "interface", r->interface);
	for (int i = 0; i < r->nsteps; i++) {
		const struct step_result *s = &r->steps[i];
		json_object *j = json_object_new_object(), *hops = json_object_new_array();

		add_str(j, "name", s->name);
		add_str(j, "method", s->method);
		add_str(j, "url", s->url);
		add_str(j, "final_url", s->final_url);
		add_int(j, "status", s->status);
		add_int(j, "bytes", s->bytes);
		add_int(j, "redirects", s->redirects);
		for (int k = 0; k < s->nhops; k++) {
			json_object *h = json_object_new_object();

			add_int(h, "status", s->hops[k].status);
			add_str(h, "url", s->hops[k].url);
			json_object_array_add(hops, h);
		}
		json_object_object_add(j, "redirect_chain", hops);
		json_object_object_add(j, "reused", json_object_new_boolean(s->reused));
		json_object_object_add(j, "cold", json_object_new_boolean(s->cold));
		add_int(j, "dns_us", s->dns_us);
		add_int(j, "connect_us", s->connect_us);
		add_int(j, "tls_us", s->tls_us);
		add_int(j, "ttfb_us", s->ttfb_us);
		add_int(j, "transfer_us", s->transfer_us);
		add_int(j, "total_us", s->total_us);
		json_object_object_add(j, "ok", json_object_new_boolean(s->ok));
		add_str(j, "error", s->error);
		json_object_array_add(steps, j);
	}
	json_object_object_add(o, "steps", steps);
	rc = buf_adds(out, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return rc;
}

/* Terminal text from pages and codes: control characters become '?'. */
static void add_safe(struct buf *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			buf_addc(out, '?');
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			buf_addc(out, '?');
			p++;
		} else
			buf_addc(out, (char)*p);
	}
}

#define BAR 40	/* characters for the longest step */

static const char *colour_of(enum verdict v)
{
	switch (v) {
	case VERDICT_OK: return "\033[32m";
	case VERDICT_SLOW: return "\033[33m";
	default: return "\033[31m";
	}
}

int result_waterfall(const struct check_result *r, int colour, int english,
		     struct buf *out)
{
	static const char phase_ch[] = "dctwr";	/* dns connect tls wait receive */
	int64_t longest = 1;

	for (int i = 0; i < r->nsteps; i++)
		if (r->steps[i].total_us > longest)
			longest = r->steps[i].total_us;
	buf_addf(out, "target %s, uplink %s\n", r->target, r->uplink);
	if (r->payload[0]) {
		buf_adds(out, "code   ");
		add_safe(out, r->payload);
		if (r->decode_step[0])
			buf_addf(out, "  (read: %s)", r->decode_step);
		buf_addc(out, '\n');
	}
	for (int i = 0; i < r->nsteps; i++) {
		const struct step_result *s = &r->steps[i];
		int64_t ph[5] = { s->dns_us, s->connect_us, s->tls_us, s->ttfb_us,
				  s->transfer_us };
		int used = 0;

		buf_addf(out, "\n%2d %-4s ", i + 1, s->method);
		add_safe(out, s->url);
		buf_addf(out, "\n   %s[", colour ? (s->ok ? "\033[32m" : "\033[31m") : "");
		for (int k = 0; k < 5; k++) {
			int n = (int)(ph[k] * BAR / longest);

			for (int x = 0; x < n && used < BAR; x++, used++)
				buf_addc(out, phase_ch[k]);
		}
		for (; used < BAR; used++)
			buf_addc(out, ' ');
		buf_addf(out, "]%s %7.1f ms  HTTP %d  %lld B%s\n", colour ? "\033[0m" : "",
			 (double)s->total_us / 1000, s->status, (long long)s->bytes,
			 s->reused ? "  reused connection" : s->cold ? "  cold radio" : "");
		if (s->redirects) {
			buf_addf(out, "   %d redirect%s, landed on ", s->redirects,
				 s->redirects == 1 ? "" : "s");
			add_safe(out, s->final_url);
			buf_addc(out, '\n');
		}
		buf_addf(out, "   dns %.1f  connect %.1f  tls %.1f  wait %.1f  receive %.1f ms\n",
			 (double)s->dns_us / 1000, (double)s->connect_us / 1000,
			 (double)s->tls_us / 1000, (double)s->ttfb_us / 1000,
			 (double)s->transfer_us / 1000);
		if (s->error[0]) {
			buf_adds(out, "   error: ");
			add_safe(out, s->error);
			buf_addc(out, '\n');
		}
	}
	buf_addf(out, "\n%s%s%s  ", colour ? colour_of(r->verdict) : "",
		 verdict_name(r->verdict), colour ? "\033[0m" : "");
	add_safe(out, english ? r->why_en : r->why_vi);
	buf_addc(out, '\n');
	if (r->nsteps)
		buf_adds(out, "legend: d dns, c connect, t tls, w waiting for the first "
			 "byte, r receiving\n");
	return out->overflow ? -1 : 0;
}
