/* waterfall.c - a result drawn for a terminal (see waterfall.h). */
#include "waterfall.h"

#include <stdio.h>
#include <string.h>

#include "../common/banned.h"

/* Terminal text from pages and codes: control characters become '?'. */
static void add_safe(struct buf *out, const char *s)
{
	if (!s)
		return;
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

int result_waterfall(const struct result *r, int colour, int english, struct buf *out)
{
	static const char phase_ch[] = "dctwr";	/* dns connect tls wait receive */
	int64_t longest = 1;

	for (int i = 0; i < r->nsteps; i++)
		if (r->steps[i].total_us > longest)
			longest = r->steps[i].total_us;
	buf_addf(out, "target %s, uplink %s\n", r->target, r->uplink);
	if (r->payload && r->payload[0]) {
		buf_adds(out, "code   ");
		add_safe(out, r->payload);
		if (r->decode_step && r->decode_step[0])
			buf_addf(out, "  (read: %s)", r->decode_step);
		buf_addc(out, '\n');
	}
	for (int i = 0; i < r->nsteps; i++) {
		const struct result_step *s = &r->steps[i];
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
		/* sub-millisecond phases (loopback, a LAN) with two decimals, not "0.0" */
		buf_adds(out, "  ");
		for (int k = 0; k < 5; k++) {
			static const char *const names[] = { "dns", "connect", "tls", "wait",
							     "receive" };

			buf_addf(out, " %s %.*f%s", names[k], ph[k] < 1000 ? 2 : 1,
				 (double)ph[k] / 1000, k == 4 ? " ms\n" : " ");
		}
		if (s->error && s->error[0]) {
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
