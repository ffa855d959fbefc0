/* check.c - the check state machine: board image, code, then the flow's steps over libcurl multi. */
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "../common/fileio.h"
#include "../common/log.h"
#include "../common/text.h"
#include "../targets/batch.h"
#include "../targets/guard.h"
#include "../targets/image.h"	/* IMAGE_MAX_BYTES only: no image code in the probe */
#include "../targets/netguard.h"
#include "../targets/page.h"
#include "../targets/policy.h"
#include "unread.h"
#include "../common/banned.h"

#define MAX_CAPTURES 64

/* Why a transfer stopped early, set by our callbacks. */
enum hang {
	HANG_NONE,
	HANG_CONNECT,		/* DNS or TCP did not finish in time */
	HANG_FIRST_BYTE,	/* request sent, nothing came back */
	HANG_STALL,		/* bytes came, then stopped */
	HANG_DEADLINE,		/* the whole check ran out of time */
};

struct capture_value {
	const char *name;
	char *value;
};

enum check_state { ST_FETCH, ST_DECODE, ST_HANDOVER, ST_FLOW, ST_HOME, ST_DNS, ST_DONE };

/* An address as the page judgement asks of it (looked()). */
struct url_look {
	const char *url;	/* NULL: nothing looked at yet */
	int root;		/* "/" with no query */
	char origin[256];	/* "scheme://host[:port]", or "" */
};

struct check {
	enum check_state state;
	struct buf img;			/* board image bytes */
	struct guard_job job;		/* the decoding child */
	struct netguard img_guard;	/* for a camera snapshot URL */
	const struct target *t;
	const struct flow *flow;	/* NULL: the default one-step check */
	struct step default_step;
	const char *default_expect;
	struct check_env *env;
	struct netguard guard;
	struct result r;		/* its strings and steps in arena */
	struct arena arena;
	char *payload;			/* decoded text (or the URL checked) */
	CURL *h;			/* the flow's handle: its cookie jar is the run's */
	CURL *img_h;			/* the camera snapshot's, a connection of its own;
					   then the hand-over's to qrwatchd */
	struct curl_slist *img_headers;	/* the hand-over's */
	struct buf reading;		/* qrwatchd's answer to it */
	int own_steps;			/* the probe's own cascade, tried before it */
	int server_read;		/* the reading judged is qrwatchd's */
	CURL *home_h;			/* the portal's home page, fetched beside step 1 */
	struct buf home_body;
	struct check_home *home;	/* the portal of step 1's page, in env->homes */
	struct url_look look;		/* the last address looked at (looked()) */
	const struct catalog *cat;	/* the target's catalog, for its board's other codes */
	struct board_memo *memo;	/* the board's last reading, or NULL */
	struct stat img_st;		/* the image file as read now */
	unsigned char img_sha[32];	/* and its bytes' hash */
	CURLSH *share;			/* this check's connections, DNS and TLS sessions */
	struct curl_slist *headers;
	char *post;			/* request body of the current step */
	curl_mime *mime;		/* or its multipart/form-data body */
	struct buf ca_pem;		/* system CAs and extra_ca, when extra_ca is set */
	/* the redirect chain as it arrives (on_header) */
	int hop_status;			/* status of the response being read, 0 = none */
	char hop_url[RESULT_URL_MAX];	/* the URL it answers */
	char hop_location[RESULT_URL_MAX];
	/* from libcurl's own messages (on_debug), for a step that failed */
	int64_t tcp_up_us;		/* when TCP connected, 0 = not yet */
	int name_mismatch;		/* the certificate names another host */
	int board_only;			/* the flow is other probes' (check_board_only) */
	int lookup;			/* the target's lookup flow (check_lookup) */
	struct buf body, resp_headers;
	int body_over;
	int step;			/* 0-based current step */
	char base_url[RESULT_URL_MAX];	/* for relative links */
	struct capture_value caps[MAX_CAPTURES];
	int ncaps;
	/* hang detection */
	int64_t check_start_us, step_start_us, last_data_us;
	int first_byte;
	int64_t first_body_us;		/* --emulate: when the body began */
	int64_t resume_at_us;		/* --emulate: paused until then, 0 = running */
	enum hang hang;
	long connect_ms, first_byte_ms, stall_ms, deadline_ms;
};

int64_t check_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- verdicts with both languages ---- */

__attribute__((format(printf, 4, 5)))
static void finish_msg(struct check *c, enum verdict v, const char *vi,
		       const char *en_fmt, ...);

/* Set the verdict; vi and en are complete sentences (en formatted). */
static void finish_msg(struct check *c, enum verdict v, const char *vi,
		       const char *en_fmt, ...)
{
	char en[RESULT_TEXT_MAX];
	va_list ap;

	c->state = ST_DONE;
	c->r.verdict = v;
	c->r.why_vi = result_text(&c->arena, vi, RESULT_TEXT_MAX);
	va_start(ap, en_fmt);
	vsnprintf(en, sizeof(en), en_fmt, ap);
	va_end(ap);
	c->r.why_en = result_text(&c->arena, en, RESULT_TEXT_MAX);
}

static void finish_judgement(struct check *c, const struct judgement *j)
{
	struct buf vi, en;

	buf_init(&vi, 4096);
	buf_init(&en, 4096);
	policy_explain(j, 0, &vi);
	policy_explain(j, 1, &en);
	c->state = ST_DONE;
	c->r.verdict = j->verdict;
	c->r.why_vi = result_text(&c->arena, buf_str(&vi), RESULT_TEXT_MAX);
	c->r.why_en = result_text(&c->arena, buf_str(&en), RESULT_TEXT_MAX);
	buf_release(&vi);
	buf_release(&en);
}

/* ---- set-up ---- */

struct check *check_new(const struct target *t, const char *url,
			struct check_env *env)
{
	struct check *c = calloc(1, sizeof(*c));
	struct err e;

	if (!c)
		return NULL;
	c->t = t;
	c->env = env;
	c->flow = t ? t->flow : NULL;
	c->default_step.name = "Mở trang";
	c->default_step.method = "GET";
	c->default_step.url = "{payload}";
	c->connect_ms = t ? t->connect_timeout_ms : TARGET_CONNECT_TIMEOUT_DEFAULT;
	c->first_byte_ms = t ? t->first_byte_ms : TARGET_FIRST_BYTE_DEFAULT;
	c->stall_ms = t ? t->stall_ms : TARGET_STALL_DEFAULT;
	c->deadline_ms = t ? t->deadline_ms : TARGET_DEADLINE_DEFAULT;
	if (t && t->allow_networks &&
	    netguard_parse_allow(&c->guard, t->allow_networks, &e) < 0)
		memset(&c->guard, 0, sizeof(c->guard));
	buf_init(&c->body, CHECK_MAX_BODY);
	buf_init(&c->img, IMAGE_MAX_BYTES);
	c->job.fd = -1;
	c->img_guard.allow_all = t && t->image_allow_private;
	buf_init(&c->resp_headers, 64 * 1024);
	arena_init(&c->arena, CHECK_RESULT_MAX);
	c->r.target = result_text(&c->arena, t ? t->id : "-", CATALOG_ID_MAX);
	c->r.uplink = result_text(&c->arena, env->uplink ? env->uplink : "unknown", 16);
	c->r.interface = result_text(&c->arena, env->interface ? env->interface : "", 32);
	c->r.why_vi = c->r.why_en = c->r.payload = c->r.decode_step = "";
	c->r.failed_step_name = "";
	{
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		c->r.time_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	}
	c->r.verdict = VERDICT_OK;
	c->r.steps = result_steps_new(&c->arena, c->flow ? (int)c->flow->nsteps : 1);
	if (!c->r.steps) {
		check_free(c);
		return NULL;
	}
	if (url) {
		c->payload = strdup(url);
		if (!c->payload) {
			check_free(c);
			return NULL;
		}
	}
	/*
	 * A check's connections are its own, as a phone's would be: never one
	 * that the pusher, the catalog fetch or another target's check opened
	 * (under other allowances), and never left for the next check.
	 */
	c->share = curl_share_init();
	c->h = curl_easy_init();
	if (!c->share || !c->h ||
	    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK ||
	    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
	    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) !=
	    CURLSHE_OK) {
		check_free(c);
		return NULL;
	}
	curl_easy_setopt(c->h, CURLOPT_SHARE, c->share);
	return c;
}

void check_free(struct check *c)
{
	if (!c)
		return;
	if (c->h)
		curl_easy_cleanup(c->h);
	if (c->img_h)
		curl_easy_cleanup(c->img_h);
	if (c->home_h)
		curl_easy_cleanup(c->home_h);
	buf_release(&c->home_body);
	if (c->share)
		curl_share_cleanup(c->share);	/* closes the check's connections */
	curl_slist_free_all(c->headers);
	free(c->post);
	curl_mime_free(c->mime);
	buf_release(&c->ca_pem);
	free(c->payload);
	for (int i = 0; i < c->ncaps; i++)
		free(c->caps[i].value);
	buf_release(&c->body);
	buf_release(&c->img);
	curl_slist_free_all(c->img_headers);
	buf_release(&c->reading);
	guard_job_release(&c->job);
	buf_release(&c->resp_headers);
	arena_release(&c->arena);
	free(c);
}

const struct result *check_result(const struct check *c)
{
	return &c->r;
}

static const struct step *step_def(const struct check *c, int i)
{
	return c->flow ? &c->flow->steps[i] : &c->default_step;
}

static int nsteps(const struct check *c)
{
	return c->flow ? (int)c->flow->nsteps : 1;
}

static int judges_landing(const struct check *c);

/* ---- templates ---- */

static const char *capture_get(const struct check *c, const char *name, size_t n)
{
	if (n == 7 && memcmp(name, "payload", 7) == 0)
		return c->payload;
	for (int i = 0; i < c->ncaps; i++)
		if (strlen(c->caps[i].name) == n && memcmp(c->caps[i].name, name, n) == 0)
			return c->caps[i].value;
	/* a value a step captured as "code" comes first: flows written before {code} */
	if (n == 4 && memcmp(name, "code", 4) == 0)
		return c->t && c->t->procedure_code ? c->t->procedure_code : "";
	return NULL;
}

/*
 * How a placeholder's value goes into its template: as it is (the start of
 * a URL, a form field's value before the whole value is encoded),
 * URL-encoded (anywhere else in a URL), inside a JSON string, or in a
 * header line (without CR and LF, which would start another header).
 */
enum esc { ESC_NONE, ESC_URL, ESC_JSON, ESC_HEADER };

/* Length of a {name} placeholder's name at p (after '{'), 0 if none. */
static size_t placeholder_len(const char *p)
{
	size_t n = 0;

	while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= '0' && p[n] <= '9') ||
	       p[n] == '_')
		n++;
	return n > 0 && p[n] == '}' ? n : 0;
}

/*
 * Expand {name} placeholders (other braces are literal, as in JSON); -1
 * with *missing set when one has no value.
 */
static int expand(const struct check *c, const char *tpl, enum esc esc,
		  struct buf *out, const char **missing, size_t *missing_len)
{
	const char *p = tpl;

	while (*p) {
		const char *open = strchr(p, '{'), *v;
		size_t n;

		if (!open)
			return buf_adds(out, p);
		buf_add(out, p, (size_t)(open - p));
		n = placeholder_len(open + 1);
		if (n == 0) {
			buf_addc(out, '{');
			p = open + 1;
			continue;
		}
		v = capture_get(c, open + 1, n);
		if (!v) {
			*missing = open + 1;
			*missing_len = n;
			return -1;
		}
		if (esc == ESC_URL && open != tpl) {
			char *q = curl_easy_escape(c->h, v, 0);

			buf_adds(out, q ? q : "");
			curl_free(q);
		} else if (esc == ESC_JSON) {
			json_object *s = json_object_new_string(v);
			const char *js = json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN);
			size_t len = strlen(js);

			buf_add(out, js + 1, len >= 2 ? len - 2 : 0);	/* without quotes */
			json_object_put(s);
		} else if (esc == ESC_HEADER) {
			for (; *v; v++)
				if (*v != '\r' && *v != '\n')
					buf_addc(out, *v);
		} else {
			buf_adds(out, v);
		}
		p = open + n + 2;
	}
	return out->overflow ? -1 : 0;
}

/* ---- libcurl callbacks ---- */

/* Bytes of a 16 KB burst, then the emulated rate. */
#define EMULATE_BURST 16384

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct check *c = ud;
	int64_t now = check_now_us();

	c->first_byte = 1;
	c->last_data_us = now;
	if (c->state == ST_HOME) {
		if (buf_add(&c->home_body, p, size * n) < 0)
			return 0;	/* larger than a page may be: no fingerprint */
		return size * n;
	}
	if (c->state == ST_HANDOVER)
		return buf_add(&c->reading, p, size * n) < 0 ? 0 : size * n;
	if (c->state == ST_FETCH) {
		if (buf_add(&c->img, p, size * n) < 0) {
			c->body_over = 1;
			return 0;
		}
		return size * n;
	}
	if (c->env->emulate_rate > 0) {
		/* hold the chunk back until the profile's bandwidth allows it */
		int64_t due;

		if (!c->first_body_us)
			c->first_body_us = now;
		due = c->first_body_us +
		      ((int64_t)c->body.len + (int64_t)(size * n) - EMULATE_BURST) *
		      1000000 / c->env->emulate_rate;
		if (due > now) {
			c->resume_at_us = due;
			return CURL_WRITEFUNC_PAUSE;
		}
	}
	if (buf_add(&c->body, p, size * n) < 0) {
		c->body_over = 1;
		return 0;
	}
	return size * n;
}

/*
 * The response being read ends: a redirect (3xx with a Location) becomes a
 * hop of the chain with the URL it answered, and the next request goes to
 * its Location, resolved against that URL. 1xx answers are not hops.
 */
static void hop_end(struct check *c, struct result_step *s)
{
	CURLU *u;
	char *next = NULL;

	if (c->hop_status < 300 || c->hop_status > 399 || !c->hop_location[0])
		return;
	result_add_hop(&c->arena, s, c->hop_status, c->hop_url, c->hop_location);
	u = curl_url();
	if (u && curl_url_set(u, CURLUPART_URL, c->hop_url, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, c->hop_location, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &next, 0) == CURLUE_OK)
		snprintf(c->hop_url, sizeof(c->hop_url), "%s", next);
	curl_free(next);
	curl_url_cleanup(u);
	c->hop_status = 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct check *c = ud;
	struct result_step *s = &c->r.steps[c->step];
	size_t len = size * n;

	c->first_byte = 1;
	c->last_data_us = check_now_us();
	if (len > 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* a new response: the one before it, if any, was a redirect hop */
		int status = 0;

		hop_end(c, s);
		sscanf(p, "HTTP/%*s %3d", &status);
		c->hop_status = status;
		c->hop_location[0] = '\0';
		buf_reset(&c->resp_headers);
	} else if (len > 9 && strncasecmp(p, "location:", 9) == 0) {
		size_t n = len - 9;
		const char *v = p + 9;

		while (n && (*v == ' ' || *v == '\t'))
			v++, n--;
		while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
			n--;
		snprintf(c->hop_location, sizeof(c->hop_location), "%.*s", (int)n, v);
	}
	buf_add(&c->resp_headers, p, len);
	return len;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct check *c = ud;
	int64_t now = check_now_us();
	curl_off_t sent = 0;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	curl_easy_getinfo(c->h, CURLINFO_PRETRANSFER_TIME_T, &sent);
	if (!c->first_byte && sent > 0 &&
	    now - c->step_start_us - sent > (int64_t)c->first_byte_ms * 1000) {
		c->hang = HANG_FIRST_BYTE;
		return 1;
	}
	if (c->resume_at_us)
		return 0;	/* paused by --emulate, not stalled */
	if (c->first_byte && now - c->last_data_us > (int64_t)c->stall_ms * 1000) {
		c->hang = HANG_STALL;
		return 1;
	}
	return 0;
}

/*
 * --emulate, in-process: each round trip a real link would add is spent
 * here, before what would cross the link, so that it shows in the phase
 * libcurl measures. The loop is held meanwhile (docs/probe.md): the
 * kernel's netem (qrwatch-netem) is the emulation to prefer.
 */
static void emulate_round_trip(const struct check *c)
{
	struct timespec until;

	if (c->env->emulate_rtt_us <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)(c->env->emulate_rtt_us / 1000000);
	until.tv_nsec += (long)(c->env->emulate_rtt_us % 1000000) * 1000;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
		;	/* a signal (SIGHUP) does not shorten the round trip */
}

/* The TCP handshake's round trip, before each new connection opens (connect time). */
static int on_sockopt(void *ud, curl_socket_t fd, curlsocktype purpose)
{
	(void)fd;
	(void)purpose;
	emulate_round_trip(ud);
	return CURL_SOCKOPT_OK;
}

/*
 * A TLS handshake message that the client sends and then waits on the
 * server's answer for: the ClientHello (every handshake, and a second one
 * after a HelloRetryRequest) and TLS 1.2's ClientKeyExchange (its full
 * handshake's second round trip). libcurl shows them, as sent, only with
 * OpenSSL (CURLINFO_SSL_DATA_OUT holds the message: type, 24-bit length).
 */
static int tls_awaits_answer(const unsigned char *m, size_t n)
{
	return n >= 4 && (m[0] == 1 || m[0] == 16) &&
	       ((size_t)m[1] << 16 | (size_t)m[2] << 8 | m[3]) == n - 4;
}

#if LIBCURL_VERSION_NUM >= 0x075000
/* Each request's round trip, before it is sent (waiting time). */
static int on_prereq(void *ud, char *ip, char *local_ip, int port, int local_port)
{
	(void)ip;
	(void)local_ip;
	(void)port;
	(void)local_port;
	emulate_round_trip(ud);
	return CURL_PREREQFUNC_OK;
}
#endif

/* --emulate on a transfer of the check's flow (or its portal's home page). */
static void emulate_attach(struct check *c, CURL *h)
{
	if (c->env->emulate_rate > 0)	/* uploads; downloads are paced in on_body() */
		curl_easy_setopt(h, CURLOPT_MAX_SEND_SPEED_LARGE,
				 (curl_off_t)c->env->emulate_rate);
	if (c->env->emulate_rtt_us <= 0)
		return;
	curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
	curl_easy_setopt(h, CURLOPT_SOCKOPTDATA, c);
#if LIBCURL_VERSION_NUM >= 0x075000
	curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, on_prereq);
	curl_easy_setopt(h, CURLOPT_PREREQDATA, c);
#endif
}

/*
 * libcurl's informational messages: the only word on when TCP connected
 * when the TLS handshake then fails (CURLINFO_CONNECT_TIME stays 0), and
 * on a certificate for another name (OpenSSL accepted the chain; libcurl
 * compared the names itself).
 */
static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
	struct check *c = ud;

	(void)h;
	if (type == CURLINFO_SSL_DATA_OUT && tls_awaits_answer((unsigned char *)data, size))
		emulate_round_trip(c);	/* --emulate: the handshake's round trip (TLS time) */
	if (type != CURLINFO_TEXT)
		return 0;
	if (!c->tcp_up_us && size > 13 && memcmp(data, "Connected to ", 13) == 0)
		c->tcp_up_us = check_now_us();
	else if ((size > 29 && memcmp(data, " subjectAltName does not match", 30) == 0) ||
		 (size > 34 && memcmp(data, "SSL: no alternative certificate", 31) == 0) ||
		 (size > 40 && memcmp(data, "SSL: certificate subject name", 29) == 0))
		c->name_mismatch = 1;
	return 0;
}

/* ---- steps ---- */

static int wants_redirect_status(const struct step *st)
{
	for (size_t i = 0; i < st->nexpect_status; i++)
		if (st->expect_status[i] >= 300 && st->expect_status[i] < 400)
			return 1;
	return 0;
}

static void fail_setup(struct check *c, const char *what);

/*
 * The step's form fields: each name and whole value URL-encoded (values
 * are filled in first, so a literal '&' or '=' is sent as data), or, when
 * the form declares multipart/form-data, as parts of c->mime.
 */
static int form_body(struct check *c, const struct step *st, struct buf *out,
		     const char **missing, size_t *mlen)
{
	struct buf v;
	int rc = 0;

	buf_init(&v, 256 * 1024);
	if (st->multipart && !(c->mime = curl_mime_init(c->h)))
		rc = -1;
	for (size_t i = 0; i < st->nform && rc == 0; i++) {
		const char *eq = strchr(st->form[i], '=');
		char *name = strndup(st->form[i], (size_t)(eq - st->form[i]));

		buf_reset(&v);
		if (!name || expand(c, eq + 1, ESC_NONE, &v, missing, mlen) < 0) {
			free(name);
			rc = -1;
			break;
		}
		if (c->mime) {
			curl_mimepart *part = curl_mime_addpart(c->mime);

			if (!part || curl_mime_name(part, name) != CURLE_OK ||
			    curl_mime_data(part, buf_str(&v), v.len) != CURLE_OK)
				rc = -1;
		} else {
			char *k = curl_easy_escape(c->h, name, 0);
			char *e = curl_easy_escape(c->h, buf_str(&v), (int)v.len);

			if (!k || !e)
				rc = -1;
			if (i)
				buf_addc(out, '&');
			buf_adds(out, k ? k : "");
			buf_addc(out, '=');
			buf_adds(out, e ? e : "");
			curl_free(k);
			curl_free(e);
		}
		free(name);
	}
	buf_release(&v);
	return rc < 0 || out->overflow ? -1 : 0;
}

/*
 * extra_ca (the probe's, and the target's): trusted besides the system's
 * CAs, never instead of them, so a check judges a certificate as a
 * citizen's phone does. libcurl takes one CA bundle, so the system's is
 * read and the extra ones appended, as a blob that works with any TLS
 * library. Returns -1 (the check ended) when a file cannot be read.
 */
static int trust_extra_ca(struct check *c, CURL *h)
{
	const char *files[3] = { NULL, c->env->extra_ca, c->t ? c->t->extra_ca : NULL };
	char *sys = NULL;
	struct curl_blob blob;

	if (!files[1] && !files[2])
		return 0;
	if (c->ca_pem.len)
		goto set;	/* read for the camera snapshot already */
#if LIBCURL_VERSION_NUM >= 0x075400
	curl_easy_getinfo(h, CURLINFO_CAINFO, &sys);
#endif
	files[0] = sys ? sys : "/etc/ssl/certs/ca-certificates.crt";
	buf_init(&c->ca_pem, 3 * CHECK_CA_MAX + 3);
	for (int i = 0; i < 3; i++) {
		struct err e;
		size_t len;
		char *pem;

		if (!files[i])
			continue;
		pem = file_read(files[i], CHECK_CA_MAX, &len, &e);
		if (!pem && i == 0)
			continue;	/* no system store: the extra CAs alone */
		if (!pem) {
			char what[ERR_MAX + 32];

			snprintf(what, sizeof(what), "extra_ca: %s", e.msg);
			fail_setup(c, what);
			return -1;
		}
		buf_add(&c->ca_pem, pem, len);
		buf_addc(&c->ca_pem, '\n');
		free(pem);
	}
set:
	blob.data = c->ca_pem.data;
	blob.len = c->ca_pem.len;
	blob.flags = CURL_BLOB_NOCOPY;
	curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	return 0;
}

/* Prepare and add the transfer of step c->step. Returns 0, or 1 if the check ended. */
static int start_step(struct check *c, CURLM *m)
{
	const struct step *st = step_def(c, c->step);
	struct result_step *s = &c->r.steps[c->step];
	struct buf url, tmp;
	const char *missing = NULL;
	size_t mlen = 0;
	int64_t now = check_now_us(), left;
	CURLU *u;
	char *full = NULL;

	memset(s, 0, sizeof(*s));
	c->r.nsteps = c->step + 1;
	s->name = result_text(&c->arena, st->name, 128);
	s->method = result_text(&c->arena, st->method, 16);
	s->url = s->final_url = s->error = "";
	buf_init(&url, RESULT_URL_MAX);
	if (expand(c, st->url, ESC_URL, &url, &missing, &mlen) < 0) {
		char what[160];

		snprintf(what, sizeof(what), "no value for {%.*s}", (int)mlen,
			 missing ? missing : "");
		buf_release(&url);
		fail_setup(c, what);
		return 1;
	}
	/* resolve relative links against the previous page */
	u = curl_url();
	if (c->base_url[0])
		curl_url_set(u, CURLUPART_URL, c->base_url, 0);
	if (!u || curl_url_set(u, CURLUPART_URL, buf_str(&url), 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK) {
		char what[RESULT_URL_MAX + 32];

		snprintf(what, sizeof(what), "bad link '%s'", buf_str(&url));
		curl_url_cleanup(u);
		buf_release(&url);
		fail_setup(c, what);
		return 1;
	}
	s->url = result_text(&c->arena, full, RESULT_URL_MAX);
	snprintf(c->hop_url, sizeof(c->hop_url), "%s", full);
	c->hop_status = 0;
	buf_release(&url);
	curl_url_cleanup(u);

	/*
	 * One handle for the whole run keeps its cookies and connections. No
	 * curl_easy_reset(): it would drop libcurl's pending cookie-file list
	 * (a leak). Options that differ per step are set, or cleared, below.
	 */
	curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c->h, CURLOPT_URL, full);
	curl_free(full);
	curl_easy_setopt(c->h, CURLOPT_PRIVATE, c);
	/* an empty cookie file turns on the handle's in-memory jar, once */
	if (c->step == 0)
		curl_easy_setopt(c->h, CURLOPT_COOKIEFILE, "");
	netguard_attach(c->h, &c->guard);
	curl_easy_setopt(c->h, CURLOPT_FOLLOWLOCATION, wants_redirect_status(st) ? 0L : 1L);
	curl_easy_setopt(c->h, CURLOPT_MAXREDIRS, (long)CHECK_MAX_REDIRECTS);
	curl_easy_setopt(c->h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CHECK_MAX_BODY);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(c->h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c->h, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(c->h, CURLOPT_DEBUGFUNCTION, on_debug);
	curl_easy_setopt(c->h, CURLOPT_DEBUGDATA, c);
	curl_easy_setopt(c->h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c->h, CURLOPT_XFERINFODATA, c);
	curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
	left = (int64_t)c->deadline_ms - (now - c->check_start_us) / 1000;
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, (long)(left > 1 ? left : 1));
	curl_easy_setopt(c->h, CURLOPT_USERAGENT, CHECK_USER_AGENT);
	curl_easy_setopt(c->h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	if (c->step == 0 && trust_extra_ca(c, c->h) < 0)
		return 1;
	/* the leaf certificate's expiry, read on each new TLS connection */
	curl_easy_setopt(c->h, CURLOPT_CERTINFO, 1L);
	if (c->env->resolve)
		curl_easy_setopt(c->h, CURLOPT_RESOLVE, c->env->resolve);
	if (c->env->interface)
		curl_easy_setopt(c->h, CURLOPT_INTERFACE, c->env->interface);
	emulate_attach(c, c->h);
	if (c->env->emulate_rtt_us > 0)
		/*
		 * Each check starts on a new connection, as a citizen's phone
		 * would, so that every check pays the emulated round trip.
		 */
		curl_easy_setopt(c->h, CURLOPT_FRESH_CONNECT, c->step == 0 ? 1L : 0L);

	/* headers and body */
	curl_slist_free_all(c->headers);
	c->headers = NULL;
	free(c->post);
	c->post = NULL;
	buf_init(&tmp, 256 * 1024);
	for (size_t i = 0; i < st->nheaders; i++) {
		buf_reset(&tmp);
		if (expand(c, st->headers[i], ESC_HEADER, &tmp, &missing, &mlen) == 0)
			c->headers = curl_slist_append(c->headers, buf_str(&tmp));
	}
	buf_reset(&tmp);
	curl_mime_free(c->mime);
	c->mime = NULL;
	if (st->nform && !missing) {
		if (form_body(c, st, &tmp, &missing, &mlen) < 0 && !missing) {
			buf_release(&tmp);
			fail_setup(c, "out of memory for the form");
			return 1;
		}
	} else if (st->json) {
		expand(c, st->json, ESC_JSON, &tmp, &missing, &mlen);
		c->headers = curl_slist_append(c->headers,
					       "Content-Type: application/json");
	}
	if (missing) {
		char what[160];

		snprintf(what, sizeof(what), "no value for {%.*s}", (int)mlen, missing);
		buf_release(&tmp);
		fail_setup(c, what);
		return 1;
	}
	if (c->mime) {
		curl_easy_setopt(c->h, CURLOPT_MIMEPOST, c->mime);
	} else if (st->nform || st->json) {
		c->post = buf_detach(&tmp, NULL);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, c->post);
	}
	buf_release(&tmp);
	if (strcmp(st->method, "POST") && strcmp(st->method, "GET"))
		curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, st->method);
	if (!strcmp(st->method, "HEAD"))
		curl_easy_setopt(c->h, CURLOPT_NOBODY, 1L);
	if (!strcmp(st->method, "POST") && !c->post && !c->mime)
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, "");
	if (c->headers)
		curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->headers);

	buf_reset(&c->body);
	buf_reset(&c->resp_headers);
	c->body_over = 0;
	c->first_byte = 0;
	c->first_body_us = 0;
	c->resume_at_us = 0;
	c->hang = HANG_NONE;
	c->guard.refused = 0;
	c->tcp_up_us = 0;
	c->name_mismatch = 0;
	c->step_start_us = check_now_us();
	c->last_data_us = c->step_start_us;
	s->cold = c->env->last_activity_us == 0 ||
		  c->step_start_us - c->env->last_activity_us >
		  (int64_t)CHECK_COLD_AFTER_MS * 1000;
	if (curl_multi_add_handle(m, c->h) != CURLM_OK) {
		fail_setup(c, "cannot start the transfer");
		return 1;
	}
	return 0;
}

static void fail_setup(struct check *c, const char *what)
{
	struct result_step *s = &c->r.steps[c->step];
	char vi[RESULT_TEXT_MAX];

	s->error = result_text(&c->arena, what, RESULT_TEXT_MAX);
	c->r.failed_step = c->step + 1;
	c->r.failed_step_name = result_text(&c->arena, step_def(c, c->step)->name, 128);
	snprintf(vi, sizeof(vi), "Bước %d (%s) không chạy được: %s.", c->step + 1,
		 c->r.failed_step_name, what);
	finish_msg(c, c->step == 0 ? VERDICT_DOWN : VERDICT_BROKEN_FLOW, vi,
		   "Step %d (%s) could not run: %s.", c->step + 1,
		   c->r.failed_step_name, what);
}

/* ---- after a transfer ---- */

/* When the leaf certificate of the step's new TLS connection expires (Unix seconds), 0 if none. */
static int64_t leaf_expiry(CURL *h)
{
	struct curl_certinfo *ci = NULL;

	if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci ||
	    ci->num_of_certs < 1)
		return 0;
	for (struct curl_slist *l = ci->certinfo[0]; l; l = l->next) {
		struct tm tm;
		const char *v;

		if (strncmp(l->data, "Expire date:", 12) != 0)
			continue;
		v = l->data + 12;
		memset(&tm, 0, sizeof(tm));
		/* OpenSSL writes "Mar  1 12:00:00 2027 GMT", GnuTLS "2027-03-01 12:00:00 UTC" */
		if (strptime(v, "%b %d %H:%M:%S %Y", &tm) ||
		    strptime(v, "%Y-%m-%d %H:%M:%S", &tm))
			return (int64_t)timegm(&tm);
	}
	return 0;
}

static void read_timings(struct check *c, struct result_step *s, CURLcode result)
{
	curl_off_t dns = 0, conn = 0, app = 0, pre = 0, start = 0, total = 0,
		   size = 0;
	long code = 0, redirects = 0, nconn = 0;
	char *u = NULL;

	curl_easy_getinfo(c->h, CURLINFO_NAMELOOKUP_TIME_T, &dns);
	curl_easy_getinfo(c->h, CURLINFO_CONNECT_TIME_T, &conn);
	curl_easy_getinfo(c->h, CURLINFO_APPCONNECT_TIME_T, &app);
	curl_easy_getinfo(c->h, CURLINFO_PRETRANSFER_TIME_T, &pre);
	curl_easy_getinfo(c->h, CURLINFO_STARTTRANSFER_TIME_T, &start);
	curl_easy_getinfo(c->h, CURLINFO_TOTAL_TIME_T, &total);
	curl_easy_getinfo(c->h, CURLINFO_SIZE_DOWNLOAD_T, &size);
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(c->h, CURLINFO_REDIRECT_COUNT, &redirects);
	curl_easy_getinfo(c->h, CURLINFO_NUM_CONNECTS, &nconn);
	curl_easy_getinfo(c->h, CURLINFO_EFFECTIVE_URL, &u);
	s->status = (int)code;
	s->bytes = size;
	s->redirects = (int)redirects;
	/*
	 * Reused: the request went out (pre-transfer time) on a connection
	 * this transfer did not open. One that never opened (refused, no
	 * DNS, a blocked address) has no pre-transfer time.
	 */
	s->reused = nconn == 0 && conn == 0 && pre > 0;
	s->final_url = result_text(&c->arena, u ? u : "", RESULT_URL_MAX);
	/* libcurl's times are cumulative from the start of the request */
	s->dns_us = dns;
	s->connect_us = conn > dns ? conn - dns : 0;
	s->tls_us = app > conn ? app - conn : 0;
	/*
	 * Waiting runs from the connection being ready (or, reused, from the
	 * start) to the first byte, so the phases add up to the total: the
	 * request's own few microseconds before it went out are waiting too.
	 */
	{
		curl_off_t ready = app > conn ? app : conn > dns ? conn : dns;

		s->ttfb_us = start > ready ? start - ready : 0;
	}
	s->transfer_us = total > start && start > 0 ? total - start : 0;
	s->total_us = total;
	if (!total)
		s->total_us = check_now_us() - c->step_start_us;
	if (result != CURLE_OK && !s->reused) {
		/* the phase that failed ran until the end: DNS, TCP, TLS, or waiting */
		int64_t upto = s->total_us;
		char *scheme = NULL;

		curl_easy_getinfo(c->h, CURLINFO_SCHEME, &scheme);
		int https = scheme && strcasecmp(scheme, "https") == 0;

		if (!conn && c->tcp_up_us > c->step_start_us)
			conn = c->tcp_up_us - c->step_start_us;	/* TCP, then TLS failed */
		if (!dns) {
			s->dns_us = upto;
		} else if (!conn) {
			s->connect_us = upto - dns;
		} else if (!app && https) {
			s->connect_us = conn > dns ? conn - dns : 0;
			s->tls_us = upto > conn ? upto - conn : 0;
		} else if (pre && !start) {
			s->ttfb_us = upto - pre;
		}
	}
	s->cert_expires = leaf_expiry(c->h);
}

static const char *find_header(const struct buf *h, const char *name,
			       size_t *len)
{
	const char *p = buf_str(h);
	size_t n = strlen(name);

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);

		if (ll > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;

			while (*v == ' ' || *v == '\t')
				v++;
			*len = (size_t)(p + ll - v);
			while (*len && (v[*len - 1] == '\r' || v[*len - 1] == ' '))
				(*len)--;
			return v;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return NULL;
}

static char *regex_capture(const char *expr, const char *text, size_t n)
{
	regex_t re;
	regmatch_t m[2];
	char *src, *out = NULL;

	src = malloc(n + 1);
	if (!src)
		return NULL;
	memcpy(src, text, n);
	src[n] = '\0';
	if (regcomp(&re, expr, REG_EXTENDED) == 0) {
		if (regexec(&re, src, 2, m, 0) == 0) {
			int k = m[1].rm_so >= 0 ? 1 : 0;

			out = strndup(src + m[k].rm_so, (size_t)(m[k].rm_eo - m[k].rm_so));
		}
		regfree(&re);
	}
	free(src);
	return out;
}

/* Follow $.a.b[2].c through parsed JSON. */
static char *json_capture(const char *path, const char *body)
{
	json_object *root = json_tokener_parse(body), *o;
	const char *p = path;
	char *out = NULL;

	if (!root)
		return NULL;
	o = root;
	if (*p == '$')
		p++;
	while (*p && o) {
		if (*p == '.') {
			p++;
			continue;
		}
		if (*p == '[') {
			long i = strtol(p + 1, (char **)&p, 10);

			if (*p == ']')
				p++;
			o = json_object_is_type(o, json_type_array) ?
				json_object_array_get_idx(o, (size_t)i) : NULL;
			continue;
		}
		{
			size_t n = strcspn(p, ".[");
			char key[128];

			snprintf(key, sizeof(key), "%.*s", (int)n, p);
			if (!json_object_object_get_ex(o, key, &o))
				o = NULL;
			p += n;
		}
	}
	if (o)
		out = strdup(json_object_is_type(o, json_type_string) ?
			     json_object_get_string(o) :
			     json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
	return out;
}

static void step_failed(struct check *c, enum verdict first, const char *vi,
			const char *en);

/*
 * What the checks ask of a landing page's address: whether it is a
 * site's root ("/", no query: the home page by its address) and its
 * "scheme://host[:port]" (empty when it has none). Parsed once for the
 * last address asked of, since the same final URL is asked several times.
 */
static const struct url_look *looked(struct check *c, const char *url)
{
	struct url_look *l = &c->look;
	CURLU *u;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL;

	if (l->url && !strcmp(l->url, url))
		return l;
	memset(l, 0, sizeof(*l));
	l->url = url;	/* an arena string: kept as long as the check */
	u = curl_url();
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
		if (curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
			curl_url_get(u, CURLUPART_QUERY, &query, 0);
			l->root = (!strcmp(path, "/") || !path[0]) && !query;
		}
		if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
		    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
			curl_url_get(u, CURLUPART_PORT, &port, 0);
			if ((size_t)snprintf(l->origin, sizeof(l->origin), "%s://%s%s%s", scheme,
					     host, port ? ":" : "", port ? port : "") >=
			    sizeof(l->origin))
				l->origin[0] = '\0';
		}
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_url_cleanup(u);
	return l;
}

/* The portal's home page as remembered, or a free (or the oldest) entry for it. */
static struct check_home *home_entry(struct check_env *env, const char *origin, int make)
{
	struct check_home *free_one = NULL;

	for (int i = 0; i < CHECK_HOMES; i++) {
		if (env->homes[i].at_us && !strcmp(env->homes[i].origin, origin))
			return &env->homes[i];
		if (!env->homes[i].at_us && !free_one)
			free_one = &env->homes[i];
	}
	if (!make)
		return NULL;
	if (!free_one)
		free_one = &env->homes[env->next_home++ % CHECK_HOMES];
	memset(free_one, 0, sizeof(*free_one));
	snprintf(free_one->origin, sizeof(free_one->origin), "%s", origin);
	return free_one;
}

/*
 * Is step 1's page one of the portal's generic pages rather than the
 * procedure's? Its home page (reached by a redirect to "/", or a page of
 * the same title and shape as the portal's root page, whatever its
 * address), or its search results. Returns -1 (the check ended STALE).
 */
static int generic_page(struct check *c, struct result_step *s, const struct page *pg)
{
	char vi[RESULT_TEXT_MAX], en[RESULT_TEXT_MAX];
	int home = 0;

	if (looked(c, s->final_url)->root) {
		home = !looked(c, s->url)->root;	/* a code for the home page is not stale */
	} else if (looked(c, s->final_url)->origin[0]) {
		const struct check_home *h = home_entry(c->env, c->look.origin, 0);
		struct page_shape sh;

		page_shape(pg, &sh);
		home = h && h->known && page_shape_same(&sh, &h->shape);
	}
	if (home) {
		snprintf(vi, sizeof(vi), "Mã dẫn tới trang chủ của cổng (%s) chứ không "
			 "phải trang thủ tục.", s->final_url);
		snprintf(en, sizeof(en), "The code lands on the portal's home page (%s), "
			 "not the procedure's.", s->final_url);
	} else if (page_is_search(pg, s->final_url)) {
		snprintf(vi, sizeof(vi), "Mã dẫn tới trang tìm kiếm của cổng (%s) chứ "
			 "không phải trang thủ tục.", s->final_url);
		snprintf(en, sizeof(en), "The code lands on the portal's search page "
			 "(%s), not the procedure's.", s->final_url);
	} else {
		return 0;
	}
	step_failed(c, VERDICT_STALE, vi, en);
	return -1;
}

/* The step's verdict when it failed: step 1 decides STALE/DOWN, later ones BROKEN_FLOW. */
static void step_failed(struct check *c, enum verdict first, const char *vi,
			const char *en)
{
	struct result_step *s = &c->r.steps[c->step];
	enum verdict v = first;
	char vmsg[RESULT_TEXT_MAX], emsg[RESULT_TEXT_MAX];

	s->error = result_text(&c->arena, en, RESULT_TEXT_MAX);
	c->r.failed_step = c->step + 1;
	c->r.failed_step_name = s->name;
	c->state = ST_DONE;
	if (c->step > 0 && first != VERDICT_HANG)
		v = VERDICT_BROKEN_FLOW;
	if (c->step > 0 || nsteps(c) > 1) {
		snprintf(vmsg, sizeof(vmsg), "Bước %d (%s): %s", c->step + 1, s->name, vi);
		snprintf(emsg, sizeof(emsg), "Step %d (%s): %s", c->step + 1, s->name, en);
	} else {
		snprintf(vmsg, sizeof(vmsg), "%s", vi);
		snprintf(emsg, sizeof(emsg), "%s", en);
	}
	finish_msg(c, v, vmsg, "%s", emsg);
}

/* Whether libcurl speaks OpenSSL, whose verify results are X509_V_ERR_* codes. */
static int tls_is_openssl(void)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

	return v->ssl_version && strncmp(v->ssl_version, "OpenSSL", 7) == 0;
}

/*
 * A TLS failure in plain words: what a citizen's browser would have shown
 * (expired, self-signed, not for this name, an unknown issuer), from
 * OpenSSL's verify result. Both texts are at most n bytes.
 */
static void tls_failure(struct check *c, CURLcode code, char *vi, char *en, size_t n)
{
	long vr = 0;
	char host[256] = "";
	const char *vi_what, *en_what;
	CURLU *u = curl_url();
	char *h = NULL;

	if (u && curl_url_set(u, CURLUPART_URL, c->r.steps[c->step].final_url, 0) ==
	    CURLUE_OK && curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK)
		snprintf(host, sizeof(host), "%s", h);
	curl_free(h);
	curl_url_cleanup(u);
	curl_easy_getinfo(c->h, CURLINFO_SSL_VERIFYRESULT, &vr);
	if (code == CURLE_PEER_FAILED_VERIFICATION && c->name_mismatch) {
		/* libcurl checks the name itself, after OpenSSL accepted the chain */
		vi_what = "được cấp cho một tên miền khác";
		en_what = "was issued for another name";
	} else if (!tls_is_openssl() || code != CURLE_PEER_FAILED_VERIFICATION) {
		vi_what = NULL;
		en_what = NULL;
	} else if (vr == 10) {		/* X509_V_ERR_CERT_HAS_EXPIRED */
		vi_what = "đã hết hạn";
		en_what = "has expired";
	} else if (vr == 9) {		/* X509_V_ERR_CERT_NOT_YET_VALID */
		vi_what = "chưa đến ngày có hiệu lực (hoặc đồng hồ máy kiểm tra sai)";
		en_what = "is not valid yet (or the probe's clock is wrong)";
	} else if (vr == 18 || vr == 19) {	/* self-signed leaf, or in the chain */
		vi_what = "tự ký, không do tổ chức cấp chứng chỉ nào xác nhận";
		en_what = "is self-signed, vouched for by no certificate authority";
	} else if (vr == 20 || vr == 21 || vr == 2) {	/* unknown issuer */
		vi_what = "do một tổ chức mà điện thoại không tin cậy cấp";
		en_what = "was issued by an authority that phones do not trust";
	} else {
		vi_what = NULL;
		en_what = NULL;
	}
	if (vi_what) {
		snprintf(vi, n, "Chứng chỉ bảo mật của %s %s: trình duyệt của người dân "
			 "sẽ báo trang không an toàn.", host, vi_what);
		snprintf(en, n, "The TLS certificate of %s %s: a citizen's browser will "
			 "warn that the page is not safe (verify result %ld).", host,
			 en_what, vr);
	} else if (code == CURLE_SSL_CONNECT_ERROR) {
		snprintf(vi, n, "Không bắt tay bảo mật (TLS) được với %s: máy chủ ngắt "
			 "hoặc trả lời sai giao thức.", host);
		snprintf(en, n, "The TLS handshake with %s failed: the server closed it "
			 "or answered out of protocol (%s).", host, curl_easy_strerror(code));
	} else {
		snprintf(vi, n, "Chứng chỉ bảo mật của %s không hợp lệ (mã kiểm tra %ld).",
			 host, vr);
		snprintf(en, n, "The TLS certificate of %s is not valid (%s; verify "
			 "result %ld).", host, curl_easy_strerror(code), vr);
	}
}

static void transfer_error(struct check *c, CURLcode code)
{
	struct result_step *s = &c->r.steps[c->step];
	char vi[RESULT_TEXT_MAX], en[RESULT_TEXT_MAX];
	enum verdict v = VERDICT_DOWN;

	if (c->guard.refused) {
		snprintf(vi, sizeof(vi), "Từ chối kết nối tới địa chỉ %s (%s): mã QR "
			 "không được dẫn thiết bị vào mạng nội bộ.", c->guard.refused_addr,
			 addr_class_name(c->guard.refused_class));
		snprintf(en, sizeof(en), "Refused to connect to the %s address %s: a "
			 "posted code must not lead the probe into its own network.",
			 addr_class_name(c->guard.refused_class), c->guard.refused_addr);
	} else if (c->hang == HANG_FIRST_BYTE) {
		v = VERDICT_HANG;
		snprintf(vi, sizeof(vi), "Máy chủ nhận yêu cầu nhưng không trả lời trong "
			 "%ld ms.", c->first_byte_ms);
		snprintf(en, sizeof(en), "The server took the request and sent nothing "
			 "back within %ld ms.", c->first_byte_ms);
	} else if (c->hang == HANG_STALL) {
		v = VERDICT_HANG;
		snprintf(vi, sizeof(vi), "Trang tải dở rồi dừng: không nhận thêm dữ liệu "
			 "trong %ld ms (đã nhận %zu byte).", c->stall_ms, c->body.len);
		snprintf(en, sizeof(en), "The page stalled mid-transfer: no data for "
			 "%ld ms after %zu bytes.", c->stall_ms, c->body.len);
	} else if (code == CURLE_OPERATION_TIMEDOUT) {
		curl_off_t conn = 0, app = 0;
		char *scheme = NULL;

		v = VERDICT_HANG;
		curl_easy_getinfo(c->h, CURLINFO_CONNECT_TIME_T, &conn);
		curl_easy_getinfo(c->h, CURLINFO_APPCONNECT_TIME_T, &app);
		curl_easy_getinfo(c->h, CURLINFO_SCHEME, &scheme);
		if (c->tcp_up_us && app == 0 && !s->reused && scheme &&
		    strcasecmp(scheme, "https") == 0) {
			snprintf(vi, sizeof(vi), "Máy chủ nhận kết nối nhưng không hoàn tất "
				 "bắt tay bảo mật (TLS) trong %lld ms.",
				 (long long)(s->total_us / 1000));
			snprintf(en, sizeof(en), "The server took the connection but did not "
				 "finish the TLS handshake within %lld ms.",
				 (long long)(s->total_us / 1000));
		} else if (conn == 0 && !c->tcp_up_us) {
			snprintf(vi, sizeof(vi), "Không kết nối được trong %ld ms.",
				 c->connect_ms);
			snprintf(en, sizeof(en), "The connection did not open within "
				 "%ld ms.", c->connect_ms);
		} else {
			snprintf(vi, sizeof(vi), "Quá thời hạn %ld ms cho cả lần kiểm tra.",
				 c->deadline_ms);
			snprintf(en, sizeof(en), "The check ran past its deadline of "
				 "%ld ms.", c->deadline_ms);
		}
	} else if (code == CURLE_COULDNT_RESOLVE_HOST) {
		v = VERDICT_STALE;
		snprintf(vi, sizeof(vi), "Tên miền không còn tồn tại (không phân giải "
			 "được DNS).");
		snprintf(en, sizeof(en), "The domain name no longer resolves (DNS).");
	} else if (code == CURLE_PEER_FAILED_VERIFICATION ||
		   code == CURLE_SSL_CONNECT_ERROR || code == CURLE_SSL_CACERT_BADFILE ||
		   code == CURLE_SSL_CERTPROBLEM) {
		tls_failure(c, code, vi, en, sizeof(vi));
	} else if (c->body_over || code == CURLE_FILESIZE_EXCEEDED) {
		snprintf(vi, sizeof(vi), "Trang lớn hơn giới hạn %ld byte.",
			 CHECK_MAX_BODY);
		snprintf(en, sizeof(en), "The page is larger than the limit of %ld "
			 "bytes.", CHECK_MAX_BODY);
	} else if (code == CURLE_TOO_MANY_REDIRECTS) {
		snprintf(vi, sizeof(vi), "Chuyển hướng quá %d lần.", CHECK_MAX_REDIRECTS);
		snprintf(en, sizeof(en), "More than %d redirects.", CHECK_MAX_REDIRECTS);
	} else if (code == CURLE_COULDNT_CONNECT) {
		snprintf(vi, sizeof(vi), "Máy chủ từ chối kết nối.");
		snprintf(en, sizeof(en), "The server refused the connection.");
	} else {
		snprintf(vi, sizeof(vi), "Lỗi truyền dữ liệu: %s.", curl_easy_strerror(code));
		snprintf(en, sizeof(en), "The transfer failed: %s.",
			 curl_easy_strerror(code));
	}
	step_failed(c, v, vi, en);
}

static int status_expected(const struct step *st, int status)
{
	if (!st->nexpect_status)
		return status >= 200 && status < 300;
	for (size_t i = 0; i < st->nexpect_status; i++)
		if (st->expect_status[i] == status)
			return 1;
	return 0;
}

/* Whether step st's judgement reads the page as a reader sees it. */
/*
 * Whether step 1's page could be one of the portal's generic pages, which
 * only reading it can tell: a search page has a query in its address, and
 * the home page is about as long as the portal's root page (a page of the
 * same words is within a quarter of its bytes). Reading a page costs more
 * than the rest of a check, so the others are not read for this.
 */
static int maybe_generic(struct check *c, const struct result_step *s)
{
	const struct url_look *l;
	const struct check_home *h;
	size_t a, b;

	if (strchr(s->final_url, '?') || (l = looked(c, s->final_url))->root)
		return 1;
	if (!l->origin[0])
		return 0;
	h = home_entry(c->env, l->origin, 0);
	if (!h || !h->known)
		return 0;
	a = c->body.len;
	b = h->body_len;
	return (a > b ? a - b : b - a) * 4 <= (a > b ? a : b);
}

static int needs_page(struct check *c, const struct step *st)
{
	if (st->nexpect_text || st->nreject_text || (judges_landing(c) && c->t->nexpect_text))
		return 1;
	if (judges_landing(c) && c->t->kind == TARGET_URL && maybe_generic(c, &c->r.steps[0]))
		return 1;
	for (size_t i = 0; i < st->ncaptures; i++)
		if (st->captures[i].source == CAPTURE_FIELD ||
		    st->captures[i].source == CAPTURE_ELEMENT)
			return 1;
	return 0;
}

/* The charset named by the response's Content-Type, or "" (the page's <meta> decides). */
static void response_charset(struct check *c, char *out, size_t n)
{
	char *ct = NULL;
	const char *p;

	out[0] = '\0';
	curl_easy_getinfo(c->h, CURLINFO_CONTENT_TYPE, &ct);
	p = ct ? strcasestr(ct, "charset=") : NULL;
	if (p) {
		size_t len;

		p += 8;
		p += *p == '"';
		len = strcspn(p, "\"; ");
		if (len < n)
			snprintf(out, n, "%.*s", (int)len, p);
	}
}

static int judge_page(struct check *c, const struct step *st, const struct page *pg);

/* Check the response of step c->step; returns 0 when it passed. */
static int judge_step(struct check *c)
{
	const struct step *st = step_def(c, c->step);
	struct page pg;
	int rc;

	if (!needs_page(c, st))
		return judge_page(c, st, NULL);
	{
		char charset[64];

		response_charset(c, charset, sizeof(charset));
		if (page_parse(&pg, c->body.data ? c->body.data : "", c->body.len,
			       charset) < 0) {
			page_release(&pg);
			fail_setup(c, "out of memory reading the page");
			return -1;
		}
	}
	rc = judge_page(c, st, &pg);
	page_release(&pg);
	return rc;
}

/*
 * The step's assertions: status, where it landed, the texts it must and
 * must not show (on pg, the page as a reader sees it, when any), then its
 * captures. Returns 0 when it passed.
 */
static int judge_page(struct check *c, const struct step *st, const struct page *pg)
{
	struct result_step *s = &c->r.steps[c->step];
	const char *body = buf_str(&c->body);
	char vi[RESULT_TEXT_MAX], en[RESULT_TEXT_MAX];

	if (!status_expected(st, s->status)) {
		int gone = s->status == 404 || s->status == 410;

		snprintf(vi, sizeof(vi), "%s (mã HTTP %d).", gone ?
			 "Trang không còn tồn tại" : s->status >= 500 ?
			 "Máy chủ báo lỗi" : "Máy chủ từ chối", s->status);
		snprintf(en, sizeof(en), "%s (HTTP %d).", gone ? "The page is gone" :
			 s->status >= 500 ? "The server failed" : "The server refused",
			 s->status);
		step_failed(c, gone ? VERDICT_STALE : VERDICT_DOWN, vi, en);
		return -1;
	}
	if (judges_landing(c) && c->t->kind == TARGET_URL && pg && generic_page(c, s, pg) < 0)
		return -1;
	for (size_t i = 0; i < st->nreject_text; i++)
		if (page_contains(pg, st->reject_text[i])) {
			snprintf(vi, sizeof(vi), "Trang có dòng \"%s\".", st->reject_text[i]);
			snprintf(en, sizeof(en), "The page says \"%s\".", st->reject_text[i]);
			step_failed(c, VERDICT_DOWN, vi, en);
			return -1;
		}
	for (size_t i = 0; i < st->nexpect_text; i++)
		if (!page_contains(pg, st->expect_text[i])) {
			snprintf(vi, sizeof(vi), "Trang không còn có dòng \"%s\".",
				 st->expect_text[i]);
			snprintf(en, sizeof(en), "The page no longer contains \"%s\".",
				 st->expect_text[i]);
			step_failed(c, VERDICT_STALE, vi, en);
			return -1;
		}
	if (judges_landing(c))
		for (size_t i = 0; i < c->t->nexpect_text; i++)
			if (!page_contains(pg, c->t->expect_text[i])) {
				snprintf(vi, sizeof(vi), "Trang không còn nhắc tới thủ tục "
					 "(\"%s\").", c->t->expect_text[i]);
				snprintf(en, sizeof(en), "The page no longer names the "
					 "procedure (\"%s\").", c->t->expect_text[i]);
				step_failed(c, VERDICT_STALE, vi, en);
				return -1;
			}
	for (size_t i = 0; i < st->ncaptures; i++) {
		const struct capture *cp = &st->captures[i];
		char *v = NULL;

		if (cp->source == CAPTURE_BODY) {
			v = regex_capture(cp->expr, body, c->body.len);
		} else if (cp->source == CAPTURE_JSON) {
			v = json_capture(cp->expr, body);
		} else if (cp->source == CAPTURE_FIELD) {
			v = page_field(pg, cp->expr);
		} else if (cp->source == CAPTURE_ELEMENT) {
			v = page_element(pg, cp->expr);
		} else {
			size_t n = 0;
			const char *h = find_header(&c->resp_headers, cp->header, &n);

			v = h ? regex_capture(cp->expr, h, n) : NULL;
		}
		if (!v || c->ncaps == MAX_CAPTURES) {
			free(v);
			snprintf(vi, sizeof(vi), "Không tìm thấy giá trị \"%s\" trên trang.",
				 cp->name);
			snprintf(en, sizeof(en), "Could not find \"%s\" on the page.",
				 cp->name);
			step_failed(c, VERDICT_BROKEN_FLOW, vi, en);
			return -1;
		}
		c->caps[c->ncaps].name = cp->name;
		c->caps[c->ncaps].value = v;
		c->ncaps++;
	}
	s->ok = 1;
	return 0;
}

/* A duration for a sentence: "0.42 ms" below a millisecond, "7.3 ms" below ten, else "123 ms". */
static void duration_text(int64_t us, char *out, size_t n)
{
	if (us < 1000)
		snprintf(out, n, "%.2f ms", (double)us / 1000);
	else if (us < 10000)
		snprintf(out, n, "%.1f ms", (double)us / 1000);
	else
		snprintf(out, n, "%lld ms", (long long)(us / 1000));
}

static void finish_ok(struct check *c)
{
	c->state = ST_DONE;
	long slo = c->t ? c->t->slo_ms : TARGET_SLO_DEFAULT;
	int64_t total = 0;

	for (int i = 0; i < c->r.nsteps; i++) {
		const struct step *st = step_def(c, i);

		total += c->r.steps[i].total_us;
		if (st->slo_ms && c->r.steps[i].total_us > st->slo_ms * 1000) {
			char vi[RESULT_TEXT_MAX];

			snprintf(vi, sizeof(vi), "Mọi bước đều chạy nhưng bước %d (%s) mất "
				 "%lld ms, quá mức %ld ms.", i + 1, c->r.steps[i].name,
				 (long long)(c->r.steps[i].total_us / 1000), st->slo_ms);
			c->r.total_us = total;
			finish_msg(c, VERDICT_SLOW, vi, "Every step worked, but step %d "
				   "(%s) took %lld ms, over its objective of %ld ms.", i + 1,
				   c->r.steps[i].name,
				   (long long)(c->r.steps[i].total_us / 1000), st->slo_ms);
			return;
		}
	}
	c->r.total_us = total;
	if (total > (int64_t)slo * 1000) {
		char vi[RESULT_TEXT_MAX];

		snprintf(vi, sizeof(vi), "Mọi bước đều chạy nhưng mất %lld ms, quá mức "
			 "%ld ms.", (long long)(total / 1000), slo);
		finish_msg(c, VERDICT_SLOW, vi, "Every step worked, but took %lld ms, "
			   "over the objective of %ld ms.", (long long)(total / 1000), slo);
		return;
	}
	{
		char took[32];

		duration_text(total, took, sizeof(took));
		if (c->r.nsteps == 1)
			finish_msg(c, VERDICT_OK, "Trang mở được, trong thời gian cho phép.",
				   "The page opened within %ld ms (it took %s).", slo, took);
		else
			finish_msg(c, VERDICT_OK, "Mọi bước đều chạy, trong thời gian cho "
				   "phép.", "All %d steps passed within %ld ms (they took "
				   "%s).", c->r.nsteps, slo, took);
	}
}

static int board_fetched(struct check *c, CURLM *m, CURLcode code);
static int handover_wanted(const struct check *c);
static int handover_done(struct check *c, CURLM *m, CURLcode code);
static int step_judged(struct check *c, CURLM *m, int failed);

/*
 * What a transfer beside the flow's steps (the camera snapshot, the
 * portal's home page) shares with them: the check's connections, a guard,
 * a bounded body into on_body(), its timeouts, the probe's pinned names.
 */
static void side_transfer(struct check *c, CURL *h, const char *url, struct netguard *guard,
			  long max_redirs, long max_bytes, int64_t timeout_ms)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PRIVATE, c);
	curl_easy_setopt(h, CURLOPT_SHARE, c->share);
	netguard_attach(h, guard);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, max_redirs);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_bytes);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	if (c->env->resolve)
		curl_easy_setopt(h, CURLOPT_RESOLVE, c->env->resolve);
}

/*
 * Step 1 of a link landed on a page of a portal whose home page the probe
 * has not seen for an hour: fetch it (on the check's connection, as a
 * browser opening the portal would) before judging. Returns 1 when the
 * fetch started.
 */
static int home_start(struct check *c, CURLM *m)
{
	const struct result_step *s = &c->r.steps[0];
	const struct url_look *l;
	char url[300];
	int64_t left;

	if (!c->t || c->t->kind != TARGET_URL || s->status < 200 || s->status > 299 ||
	    (l = looked(c, s->final_url))->root || !l->origin[0])
		return 0;
	c->home = home_entry(c->env, l->origin, 0);
	if (c->home && check_now_us() - c->home->at_us < CHECK_HOME_TTL_S * 1000000LL)
		return 0;
	c->home = home_entry(c->env, l->origin, 1);
	c->home->at_us = check_now_us();	/* tried now, whatever comes of it */
	c->home->known = 0;
	left = (int64_t)c->deadline_ms - (check_now_us() - c->check_start_us) / 1000;
	if (left < 100 || (!c->home_h && !(c->home_h = curl_easy_init())))
		return 0;
	snprintf(url, sizeof(url), "%s/", l->origin);
	buf_init(&c->home_body, CHECK_MAX_BODY);
	side_transfer(c, c->home_h, url, &c->guard, 5, CHECK_MAX_BODY,
		      left < 10000 ? left : 10000);
	curl_easy_setopt(c->home_h, CURLOPT_USERAGENT, CHECK_USER_AGENT);
	curl_easy_setopt(c->home_h, CURLOPT_ACCEPT_ENCODING, "");
	emulate_attach(c, c->home_h);
	if (c->env->interface)
		curl_easy_setopt(c->home_h, CURLOPT_INTERFACE, c->env->interface);
	/* step 1 read the extra CAs already: trust_extra_ca() cannot fail here */
	if (trust_extra_ca(c, c->home_h) < 0 || curl_multi_add_handle(m, c->home_h) != CURLM_OK)
		return 0;
	c->state = ST_HOME;
	return 1;
}

/* The home page came (or did not): remember its shape, then judge step 1. */
static int home_done(struct check *c, CURLM *m, CURLcode code)
{
	long status = 0;

	curl_multi_remove_handle(m, c->home_h);
	curl_easy_getinfo(c->home_h, CURLINFO_RESPONSE_CODE, &status);
	c->state = ST_FLOW;
	if (code == CURLE_OK && status == 200 && c->home) {
		struct page pg;

		if (page_parse(&pg, c->home_body.data ? c->home_body.data : "",
			       c->home_body.len, NULL) == 0) {
			page_shape(&pg, &c->home->shape);
			c->home->body_len = c->home_body.len;
			c->home->known = 1;
		}
		page_release(&pg);
	}
	buf_release(&c->home_body);
	return step_judged(c, m, judge_step(c) < 0);
}

/*
 * The step's host did not resolve. Whether the name is gone (NXDOMAIN: the
 * code is STALE) or the resolver did not answer (SERVFAIL, a timeout, no
 * network: the village link, DOWN) libcurl does not say, so ask again,
 * with `qrwatch-probe lookup HOST`, a program of its own under the guard's
 * limits, without blocking the loop. Returns 1 when the lookup started.
 */
static int dns_start(struct check *c)
{
	const struct result_step *s = &c->r.steps[c->step];
	struct guard_limits lim = { 64ul * 1024 * 1024, 5, 15000 };
	char host[256] = "", self[4096];
	char *argv[4];
	CURLU *u = curl_url();
	char *h = NULL;
	struct err e;
	int fd, rc;

	if (u && curl_url_set(u, CURLUPART_URL, s->final_url[0] ? s->final_url : s->url, 0) ==
	    CURLUE_OK && curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK)
		snprintf(host, sizeof(host), "%s", h);
	curl_free(h);
	curl_url_cleanup(u);
	if (!host[0] || host[0] == '-')
		return 0;
	if (c->env->lookup) {
		snprintf(self, sizeof(self), "%s", c->env->lookup);
	} else {
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

		if (n <= 0)
			return 0;
		self[n] = '\0';
	}
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	argv[0] = self;
	argv[1] = (char *)"lookup";
	argv[2] = host;
	argv[3] = NULL;
	rc = guard_exec_start(&c->job, self, argv, fd, &lim, &e);
	close(fd);
	if (rc < 0) {
		guard_job_release(&c->job);
		return 0;
	}
	c->state = ST_DNS;
	return 1;
}

/* The second lookup answered: gone, or no answer. Returns 1 (the check ended). */
static int dns_done(struct check *c, CURLM *m)
{
	char vi[RESULT_TEXT_MAX], en[RESULT_TEXT_MAX];
	struct err e;
	int ok = guard_finish(&c->job, &e) == 0;
	int status = c->job.timed_out ? 4 : c->job.exit_status;

	c->state = ST_FLOW;
	if (!ok && status == 3) {
		snprintf(vi, sizeof(vi), "Tên miền không còn tồn tại: máy chủ DNS trả lời "
			 "là không có tên này (NXDOMAIN).");
		snprintf(en, sizeof(en), "The domain name no longer exists: the DNS "
			 "answered that there is no such name (NXDOMAIN).");
		step_failed(c, VERDICT_STALE, vi, en);
	} else if (!ok && status == 4) {
		snprintf(vi, sizeof(vi), "Không hỏi được DNS: máy chủ phân giải tên không "
			 "trả lời hoặc báo lỗi (đường truyền của thôn hoặc máy chủ DNS có sự "
			 "cố, không phải mã QR).");
		snprintf(en, sizeof(en), "The name could not be looked up: the resolver "
			 "failed or did not answer (the village link or the resolver is "
			 "down, not the code).");
		c->r.link_fault = 1;
		step_failed(c, VERDICT_DOWN, vi, en);
	} else {
		/* it resolves now, or the lookup itself failed: a passing fault */
		snprintf(vi, sizeof(vi), "Lúc kiểm tra không phân giải được tên miền (DNS), "
			 "lần hỏi lại thì được: lỗi thoáng qua.");
		snprintf(en, sizeof(en), "The name did not resolve during the check, and "
			 "did when asked again: a passing DNS fault.");
		step_failed(c, VERDICT_DOWN, vi, en);
	}
	guard_job_release(&c->job);
	return step_judged(c, m, 1);
}

int check_step_done(struct check *c, CURLM *m, CURLcode code)
{
	struct result_step *s = &c->r.steps[c->step];

	if (c->state == ST_FETCH)
		return board_fetched(c, m, code);
	if (c->state == ST_HANDOVER)
		return handover_done(c, m, code);
	if (c->state == ST_HOME)
		return home_done(c, m, code);

	curl_multi_remove_handle(m, c->h);
	hop_end(c, s);	/* a redirect the step expected, not followed */
	read_timings(c, s, code);
	c->env->last_activity_us = check_now_us();
	if (code == CURLE_COULDNT_RESOLVE_HOST && !c->guard.refused && dns_start(c))
		return 0;
	if (code != CURLE_OK) {
		transfer_error(c, code);
		return step_judged(c, m, 1);
	}
	if (judges_landing(c) && home_start(c, m))
		return 0;
	return step_judged(c, m, judge_step(c) < 0);
}

/* After a step's judgement: end the check, or start the next step. */
static int step_judged(struct check *c, CURLM *m, int failed)
{
	struct result_step *s = &c->r.steps[c->step];

	if (failed) {
		for (int i = 0; i < c->r.nsteps; i++)
			c->r.total_us += c->r.steps[i].total_us;
		return 1;
	}
	snprintf(c->base_url, sizeof(c->base_url), "%s", s->final_url);
	if (++c->step >= nsteps(c)) {
		finish_ok(c);
		return 1;
	}
	return start_step(c, m);
}

/* ---- the board ---- */

static void board_unreadable(struct check *c, enum reason why, const char *detail)
{
	struct judgement j;

	policy_unreadable(why, detail, &j);
	finish_judgement(c, &j);
	c->state = ST_DONE;
}

void check_use_memo(struct check *c, struct board_memo *memo)
{
	c->memo = memo;
}

void check_use_catalog(struct check *c, const struct catalog *cat)
{
	c->cat = cat;
}

void check_board_only(struct check *c)
{
	c->board_only = 1;
}

int check_lookup(struct check *c)
{
	if (!c->t || !c->t->lookup)
		return -1;
	c->lookup = 1;
	c->flow = c->t->lookup;
	c->r.steps = result_steps_new(&c->arena, (int)c->flow->nsteps);	/* its own count */
	return c->r.steps ? 0 : -1;
}

/* Whether step 1's landing page is judged as the code's (not on a lookup's search page). */
static int judges_landing(const struct check *c)
{
	return c->step == 0 && c->t && !c->lookup;
}

/* The memo's reading as a decode_result that does not own its codes. */
static void memo_view(const struct board_memo *m, struct decode_result *view)
{
	memset(view, 0, sizeof(*view));
	view->n = m->ncodes;
	if (m->ncodes)
		memcpy(view->codes, m->codes, (size_t)m->ncodes * sizeof(*m->codes));
	view->step = m->step[0] ? m->step : NULL;
	view->steps_tried = m->steps_tried;
}

static void memo_forget(struct board_memo *m)
{
	struct decode_result view;

	memo_view(m, &view);
	decode_result_release(&view);	/* the codes' strings */
	free(m->codes);
	m->codes = NULL;
	m->ncodes = 0;
	m->step[0] = '\0';
}

/* Keep a copy of dr in m: 0, or -1 when memory ran out (m then holds none). */
static int memo_keep(struct board_memo *m, const struct decode_result *dr)
{
	struct decode_result copy;

	memo_forget(m);
	if (decode_result_copy(&copy, dr) < 0)
		return -1;
	if (copy.n) {
		m->codes = malloc((size_t)copy.n * sizeof(*m->codes));
		if (!m->codes) {
			decode_result_release(&copy);
			return -1;
		}
		/* the copy's strings now belong to m */
		memcpy(m->codes, copy.codes, (size_t)copy.n * sizeof(*m->codes));
	}
	m->ncodes = copy.n;
	snprintf(m->step, sizeof(m->step), "%s", copy.step ? copy.step : "");
	m->steps_tried = copy.steps_tried;
	return 0;
}

void board_memo_release(struct board_memo *m)
{
	memo_forget(m);
	free(m->err);
	memset(m, 0, sizeof(*m));
}

static int same_file(const struct board_memo *m, const struct stat *st)
{
	return m->valid && m->dev == (unsigned long long)st->st_dev &&
	       m->ino == (unsigned long long)st->st_ino &&
	       m->size == (unsigned long long)st->st_size &&
	       m->mtime_s == (long long)st->st_mtim.tv_sec &&
	       m->mtime_ns == (long long)st->st_mtim.tv_nsec;
}

static void file_key(struct board_memo *m, const struct stat *st)
{
	m->dev = (unsigned long long)st->st_dev;
	m->ino = (unsigned long long)st->st_ino;
	m->size = (unsigned long long)st->st_size;
	m->mtime_s = (long long)st->st_mtim.tv_sec;
	m->mtime_ns = (long long)st->st_mtim.tv_nsec;
}

static int board_judged(struct check *c, CURLM *m, enum guard_status st,
			struct decode_result *dr, const char *why);

/* The board is as it was: its last reading again, without a decoder. */
static int board_remembered(struct check *c, CURLM *m)
{
	struct decode_result dr;
	struct err e;
	enum guard_status st = (enum guard_status)c->memo->status;

	struct decode_result view;

	snprintf(e.msg, sizeof(e.msg), "%s", c->memo->err ? c->memo->err : "");
	memo_view(c->memo, &view);
	if (decode_result_copy(&dr, &view) < 0) {
		st = GUARD_FAILED;
		snprintf(e.msg, sizeof(e.msg), "out of memory");
	}
	c->memo->reuses++;
	if (c->memo->from_server)
		c->server_read = 1;
	return board_judged(c, m, st, &dr, e.msg);
}

int check_default_decoder(char *out, size_t n)
{
	return file_beside_self("qrwatch-probe-decode", out, n);
}

/*
 * Start the decoder program on the image bytes, under the guard's limits:
 * ZBar and the image libraries live in that program only, started when a
 * board changed, never in the probe's own address space. The bytes go to
 * its standard input from a memory file.
 */
static int decoder_start(struct check *c, const struct guard_limits *lim, struct err *e)
{
	char path[4200];
	char *argv[2];
	int fd, rc;
	const char *p = c->img.data ? c->img.data : "";
	size_t left = c->img.len;

	if (c->env->decoder)
		snprintf(path, sizeof(path), "%s", c->env->decoder);
	else if (check_default_decoder(path, sizeof(path)) < 0)
		return err_set(e, "cannot tell where the decoder program is (set 'decoder')");
	fd = memfd_create("qrwatch-board", MFD_CLOEXEC);
	if (fd < 0) {
		FILE *f = tmpfile();	/* kernels before 3.17 */

		fd = f ? dup(fileno(f)) : -1;
		if (f)
			fclose(f);
		if (fd < 0)
			return err_set(e, "cannot hold the image for the decoder: %s",
				       strerror(errno));
	}
	while (left > 0) {
		ssize_t w = write(fd, p, left);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return err_set(e, "cannot hold the image for the decoder: %s",
				       strerror(errno));
		}
		p += w;
		left -= (size_t)w;
	}
	lseek(fd, 0, SEEK_SET);
	argv[0] = path;
	argv[1] = NULL;
	rc = guard_exec_start(&c->job, path, argv, fd, lim, e);
	close(fd);
	return rc;
}

/* Hand the image bytes to the guarded decoder. Returns 1 if the check ended. */
static int board_decode(struct check *c, CURLM *m)
{
	struct guard_limits lim;
	struct err e;

	if (c->memo) {
		unsigned int n = 0;

		EVP_Digest(c->img.data ? c->img.data : "", c->img.len, c->img_sha, &n,
			   EVP_sha256(), NULL);
		if (c->memo->valid && !memcmp(c->memo->sha256, c->img_sha, 32)) {
			file_key(c->memo, &c->img_st);	/* touched, not changed */
			buf_release(&c->img);
			return board_remembered(c, m);
		}
	}

	guard_limits_default(&lim);
	if (decoder_start(c, &lim, &e) < 0) {
		board_unreadable(c, REASON_DECODER_FAILED, e.msg);
		return 1;
	}
	/* the decoder reads its own copy; this one is kept (or handed over) if it reads nothing */
	if (!c->env->unread_dir && !handover_wanted(c))
		buf_release(&c->img);
	c->state = ST_DECODE;
	return 0;
}

/*
 * A photo with no code the decoder could read is kept for qrwatchd's
 * whole cascade (unread.h); one that reads again is dropped.
 */
static void board_keep_unread(struct check *c, enum guard_status st)
{
	struct err e;
	int kept;

	if (st == GUARD_FOUND) {
		unread_forget(c->env->unread_dir, c->t->id);
		return;
	}
	if (st != GUARD_NONE || !c->img.len)
		return;
	kept = unread_keep(c->env->unread_dir, c->t->id, c->img.data, c->img.len,
			   c->env->unread_cap, &e);
	if (kept < 0)
		LOG(LOG_LVL_WARN, "unread-keep", "%s: the unreadable board photo was not kept: %s",
		    c->t->id, e.msg);
	else if (kept == 0)
		LOG(LOG_LVL_WARN, "unread-full", "%s: the unreadable board photo was not kept: "
		    "'%s' holds %llu bytes already (unread_keep_mb)", c->t->id,
		    c->env->unread_dir, c->env->unread_cap);
	else
		LOG(LOG_LVL_INFO, NULL, "%s: no code read on the board photo; kept in '%s' "
		    "for the server to read", c->t->id, c->env->unread_dir);
}

/* Keep dr (status st, error why) in the memo as the reading of the photo now read. */
static void memo_set(struct check *c, enum guard_status st, const struct decode_result *dr,
		     const char *why, int from_server)
{
	struct board_memo *mm = c->memo;

	mm->status = st;
	free(mm->err);
	mm->err = why[0] ? strdup(why) : NULL;
	memcpy(mm->sha256, c->img_sha, 32);
	file_key(mm, &c->img_st);
	/* not kept when memory ran out: read again next time */
	mm->valid = memo_keep(mm, dr) == 0 && (!why[0] || mm->err);
	mm->from_server = from_server;
	if (!from_server)
		mm->decodes++;
}

/* Whether a photo the decoder read nothing on may go to qrwatchd (check.h). */
static int handover_wanted(const struct check *c)
{
	return c->env->snapshot_url && c->env->server && c->t && c->memo && c->img.len;
}

/* The board stays unreadable as the probe's own cascade left it; more says what else was tried. */
static int own_unreadable(struct check *c, const char *more)
{
	char detail[ERR_MAX + 128];

	if (c->env->unread_dir)
		board_keep_unread(c, GUARD_NONE);
	buf_release(&c->img);
	snprintf(detail, sizeof(detail), " (%d preprocessing steps tried%s)", c->own_steps,
		 more);
	board_unreadable(c, REASON_NO_CODE, detail);
	return 1;
}

/* Sign and POST the photo to qrwatchd (docs/protocol.md), on a connection of its own. */
static int handover_start(struct check *c, CURLM *m)
{
	const struct push_cfg *sv = c->env->server;
	char sig[65], hdr[160];
	struct timespec now;
	long long ms;

	buf_reset(&c->reading);
	if (!c->reading.cap)
		buf_init(&c->reading, DECODE_REPLY_MAX + 4096);
	c->img_h = curl_easy_init();
	if (!c->img_h)
		return own_unreadable(c, "; out of memory to hand it to the server");
	clock_gettime(CLOCK_REALTIME, &now);
	ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	batch_sign_snapshot(sv->secret, sv->secret_len, sv->probe_id, ms, c->t->id,
			    c->img.data, c->img.len, sig);
	curl_slist_free_all(c->img_headers);
	c->img_headers = curl_slist_append(NULL, "Content-Type: application/octet-stream");
	c->img_headers = curl_slist_append(c->img_headers, "Expect:");
	snprintf(hdr, sizeof(hdr), "X-Qrwatch-Probe: %s", sv->probe_id);
	c->img_headers = curl_slist_append(c->img_headers, hdr);
	snprintf(hdr, sizeof(hdr), "X-Qrwatch-Time: %lld", ms);
	c->img_headers = curl_slist_append(c->img_headers, hdr);
	snprintf(hdr, sizeof(hdr), "X-Qrwatch-Target: %s", c->t->id);
	c->img_headers = curl_slist_append(c->img_headers, hdr);
	snprintf(hdr, sizeof(hdr), "X-Qrwatch-Signature: sha256=%s", sig);
	c->img_headers = curl_slist_append(c->img_headers, hdr);
	curl_easy_setopt(c->img_h, CURLOPT_URL, c->env->snapshot_url);
	curl_easy_setopt(c->img_h, CURLOPT_HTTPHEADER, c->img_headers);
	curl_easy_setopt(c->img_h, CURLOPT_POSTFIELDS, c->img.data);
	curl_easy_setopt(c->img_h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->img.len);
	curl_easy_setopt(c->img_h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->img_h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->img_h, CURLOPT_PRIVATE, c);
	push_server_opts(sv, c->img_h);	/* the server's trust and names, never the checks' */
	c->memo->handed_us = check_now_us();	/* tried now, whatever comes of it */
	c->memo->handovers++;
	c->state = ST_HANDOVER;
	if (curl_multi_add_handle(m, c->img_h) != CURLM_OK) {
		curl_easy_cleanup(c->img_h);
		c->img_h = NULL;
		return own_unreadable(c, "; the hand-over to the server could not start");
	}
	return 0;
}

/*
 * The probe's decoder read nothing on a new photo: hand it to qrwatchd,
 * or, within snapshot_every of the last hand-over, judge the server's
 * reading of the board's last photo again; too large a photo, or one
 * inside that time with no such reading, stays unreadable.
 */
static int handover(struct check *c, CURLM *m)
{
	const struct board_memo *mm = c->memo;
	int64_t since = check_now_us() - mm->handed_us;
	char more[96];

	if (mm->handed_us && since < c->env->snapshot_every_us) {
		if (mm->valid && mm->from_server && mm->status == GUARD_FOUND) {
			if (c->env->unread_dir)
				board_keep_unread(c, GUARD_NONE);
			buf_release(&c->img);
			c->server_read = 1;
			return board_remembered(c, m);
		}
		snprintf(more, sizeof(more), "; the next photo goes to the server for its "
			 "cascade in %lld s", (long long)((c->env->snapshot_every_us - since) /
							   1000000));
		return own_unreadable(c, more);
	}
	if (c->img.len > c->env->snapshot_max) {
		snprintf(more, sizeof(more), "; at %zu KB it is over snapshot_max_kb for the server",
			 c->img.len / 1024);
		return own_unreadable(c, more);
	}
	return handover_start(c, m);
}

/* qrwatchd answered the hand-over: its reading, judged as the probe's own. */
static int handover_done(struct check *c, CURLM *m, CURLcode code)
{
	struct decode_result dr;
	enum guard_status st = GUARD_FAILED;
	long status = 0;
	struct err e;
	char more[ERR_MAX + 96];

	memset(&dr, 0, sizeof(dr));
	e.msg[0] = '\0';
	curl_multi_remove_handle(m, c->img_h);
	curl_easy_getinfo(c->img_h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c->img_h);
	c->img_h = NULL;
	if (code != CURLE_OK) {
		snprintf(more, sizeof(more), "; the server could not be asked to read it: %s",
			 curl_easy_strerror(code));
		return own_unreadable(c, more);
	}
	if (status != 200) {
		snprintf(more, sizeof(more), "; the server did not read it: HTTP %ld %.200s",
			 status, buf_str(&c->reading));
		return own_unreadable(c, more);
	}
	st = decode_reply_read(&c->reading, &dr, &e);
	buf_release(&c->reading);
	if (st == GUARD_FAILED) {
		snprintf(more, sizeof(more), "; the server's answer could not be read: %s", e.msg);
		return own_unreadable(c, more);
	}
	memo_set(c, st, &dr, e.msg, 1);
	LOG(LOG_LVL_INFO, NULL, "%s: no code read on the board photo here; the server read %d",
	    c->t->id, dr.n);
	if (c->env->unread_dir)
		board_keep_unread(c, st);
	buf_release(&c->img);
	c->server_read = 1;
	return board_judged(c, m, st, &dr, e.msg);
}

/* The decoder answered: keep its reading, judge the code, then walk the flow or end. */
static int board_decoded(struct check *c, CURLM *m)
{
	struct decode_result dr;
	enum guard_status st;
	struct err e;

	memset(&dr, 0, sizeof(dr));
	e.msg[0] = '\0';
	if (guard_finish(&c->job, &e) < 0)
		st = GUARD_FAILED;
	else
		st = decode_reply_read(&c->job.out, &dr, &e);
	guard_job_release(&c->job);
	if (st == GUARD_NONE && handover_wanted(c)) {
		c->memo->decodes++;
		c->own_steps = dr.steps_tried;
		decode_result_release(&dr);
		return handover(c, m);
	}
	if (c->memo)
		memo_set(c, st, &dr, e.msg, 0);
	if (c->env->unread_dir)
		board_keep_unread(c, st);
	buf_release(&c->img);
	return board_judged(c, m, st, &dr, e.msg);
}

/* A reading of the board (new or remembered): judge the code. Returns 1 if the check ended. */
static int board_judged(struct check *c, CURLM *m, enum guard_status st,
			struct decode_result *dr_in, const char *why)
{
	struct decode_result dr = *dr_in;
	struct judgement j;
	int used;

	if (dr_in->step == dr_in->step_name)
		dr.step = dr.step_name;	/* the copy's own */

	if (st != GUARD_FOUND) {
		char detail[ERR_MAX + 64];

		if (st == GUARD_NONE && c->server_read && c->own_steps)
			snprintf(detail, sizeof(detail), " (%d preprocessing steps tried here, "
				 "%d by the server's cascade)", c->own_steps, dr.steps_tried);
		else if (st == GUARD_NONE && c->server_read)
			snprintf(detail, sizeof(detail), " (%d preprocessing steps tried by the "
				 "server's cascade)", dr.steps_tried);
		else if (st == GUARD_NONE)
			snprintf(detail, sizeof(detail), " (%d preprocessing steps tried)",
				 dr.steps_tried);
		else
			snprintf(detail, sizeof(detail), "%s", why);
		board_unreadable(c, st == GUARD_NONE ? REASON_NO_CODE :
				 st == GUARD_REFUSED ? REASON_IMAGE_REFUSED :
				 REASON_DECODER_FAILED, detail);
		return 1;
	}
	/* every code on the board: the target's own, and any foreign one beside it */
	policy_judge_board(c->cat, c->t, &dr, &j, &used);
	if (used < 0) {
		char *hex = qr_hex(dr.codes[0].raw, dr.codes[0].raw_len);

		decode_result_release(&dr);
		board_unreadable(c, REASON_UNKNOWN_CHARSET, hex ? hex : "");
		free(hex);
		return 1;
	}
	{
		const char *step = dr.codes[used].step[0] ? dr.codes[used].step : dr.step;
		char label[DECODE_STEP_MAX + 16];

		/* the server's cascade read it (check.h): say so where the step is named */
		snprintf(label, sizeof(label), "%s%s", c->server_read ? "qrwatchd:" : "",
			 step ? step : "");
		c->r.decode_step = result_text(&c->arena, label, 32);
	}
	c->payload = strdup(dr.codes[used].text);
	decode_result_release(&dr);
	if (!c->payload) {
		board_unreadable(c, REASON_DECODER_FAILED, "out of memory");
		return 1;
	}
	c->r.payload = result_text(&c->arena, c->payload, RESULT_TEXT_MAX);
	/* a fake code, and payment and text codes, end here: no flow to walk */
	if (!j.genuine || c->t->kind != TARGET_URL) {
		finish_judgement(c, &j);
		c->state = ST_DONE;
		return 1;
	}
	if (c->board_only) {
		finish_msg(c, VERDICT_OK, "Mã trên bảng là mã thật của thủ tục; trang của "
			   "thủ tục do thiết bị đo khác kiểm tra.", "The board's code is the "
			   "procedure's own; its page is checked by other probes.");
		return 1;
	}
	c->state = ST_FLOW;
	c->step = 0;
	return start_step(c, m);
}

/*
 * Fetch a camera snapshot: the camera may be on the LAN if the target says
 * so. On a handle and a connection of its own, closed after the snapshot,
 * so that the flow (which may not go to the LAN) can never reuse it.
 */
static int board_fetch(struct check *c, CURLM *m)
{
	c->img_h = curl_easy_init();
	if (!c->img_h) {
		board_unreadable(c, REASON_IMAGE_REFUSED, "out of memory");
		return 1;
	}
	side_transfer(c, c->img_h, c->t->image_url, &c->img_guard, 3, IMAGE_MAX_BYTES,
		      c->deadline_ms);
	curl_easy_setopt(c->img_h, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(c->img_h, CURLOPT_FORBID_REUSE, 1L);
	if (trust_extra_ca(c, c->img_h) < 0)
		return 1;
	c->state = ST_FETCH;
	if (curl_multi_add_handle(m, c->img_h) != CURLM_OK) {
		board_unreadable(c, REASON_IMAGE_REFUSED, "cannot start the snapshot "
				 "transfer");
		return 1;
	}
	return 0;
}

static int board_fetched(struct check *c, CURLM *m, CURLcode code)
{
	long status = 0;
	char detail[ERR_MAX];

	curl_multi_remove_handle(m, c->img_h);
	curl_easy_getinfo(c->img_h, CURLINFO_RESPONSE_CODE, &status);
	if (c->img_guard.refused) {
		snprintf(detail, sizeof(detail), "the camera snapshot URL leads to the "
			 "%s address %s, which this target does not allow",
			 addr_class_name(c->img_guard.refused_class),
			 c->img_guard.refused_addr);
	} else if (code != CURLE_OK) {
		snprintf(detail, sizeof(detail), "the camera snapshot could not be "
			 "fetched: %s", c->body_over ? "over the image size limit" :
			 curl_easy_strerror(code));
	} else if (status != 200) {
		snprintf(detail, sizeof(detail), "the camera answered HTTP %ld", status);
	} else {
		curl_easy_cleanup(c->img_h);
		c->img_h = NULL;
		return board_decode(c, m);
	}
	curl_easy_cleanup(c->img_h);
	c->img_h = NULL;
	board_unreadable(c, REASON_IMAGE_REFUSED, detail);
	return 1;
}

int check_start(struct check *c, CURLM *m)
{
	c->check_start_us = check_now_us();
	/* a check of a bare URL has its payload already and no board; a lookup neither */
	if (!c->t || c->payload || c->lookup) {
		if (c->payload)
			c->r.payload = result_text(&c->arena, c->payload, RESULT_TEXT_MAX);
		c->state = ST_FLOW;
		c->step = 0;
		return start_step(c, m);
	}
	if (c->t->image_url)
		return board_fetch(c, m);
	if (c->t->image_uploads) {
		/* no photo here: they are uploaded to qrwatchd; its flow starts from payload */
		if (!c->t->payload) {
			finish_msg(c, VERDICT_UNREADABLE, "Ảnh bảng tin do cán bộ tải lên máy chủ; "
				   "thiết bị đo không có ảnh để đọc và mã không có địa chỉ đăng ký "
				   "(payload) để đi thử.", "The board's photos are uploaded to "
				   "qrwatchd; this probe has none to read and the code no registered "
				   "payload to walk.");
			return 1;
		}
		c->payload = strdup(c->t->payload);
		if (!c->payload) {
			board_unreadable(c, REASON_DECODER_FAILED, "out of memory");
			return 1;
		}
		c->r.payload = result_text(&c->arena, c->payload, RESULT_TEXT_MAX);
		c->state = ST_FLOW;
		c->step = 0;
		return start_step(c, m);
	}
	/* an unchanged file (same identity, size and time) is not even read */
	if (c->memo && stat(c->t->image, &c->img_st) == 0 && same_file(c->memo, &c->img_st))
		return board_remembered(c, m);
	{
		struct err e;
		size_t len;
		char *data = file_read(c->t->image, IMAGE_MAX_BYTES, &len, &e);

		if (!data) {
			board_unreadable(c, REASON_IMAGE_REFUSED, e.msg);
			return 1;
		}
		buf_add(&c->img, data, len);
		free(data);
	}
	return board_decode(c, m);
}

int check_wait_fd(const struct check *c)
{
	return c->state == ST_DECODE || c->state == ST_DNS ? c->job.fd : -1;
}

int check_poll(struct check *c, CURLM *m)
{
	if (c->state == ST_DONE)
		return 1;
	if ((c->state != ST_DECODE && c->state != ST_DNS) || !guard_poll(&c->job))
		return 0;
	if (c->state == ST_DNS)
		return dns_done(c, m);
	return board_decoded(c, m);
}

long check_tick(struct check *c)
{
	int64_t now;

	if (c->state == ST_DECODE || c->state == ST_DNS)
		return guard_left_ms(&c->job) + 1;
	if (!c->resume_at_us)
		return -1;
	now = check_now_us();
	if (now < c->resume_at_us)
		return (long)((c->resume_at_us - now + 999) / 1000);
	c->resume_at_us = 0;
	c->last_data_us = now;
	curl_easy_pause(c->h, CURLPAUSE_CONT);
	return c->resume_at_us ? (long)((c->resume_at_us - check_now_us() + 999) / 1000) : -1;
}

int check_run(struct check *c)
{
	CURLM *m = curl_multi_init();
	int done, still = 1;

	if (!m)
		return -1;
	done = check_start(c, m);
	while (!done) {
		CURLMsg *msg;
		int left;

		if (check_poll(c, m)) {
			done = 1;
			break;
		}
		curl_multi_perform(m, &still);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			if (msg->msg == CURLMSG_DONE) {
				done = check_step_done(c, m, msg->data.result);
				break;
			}
		}
		if (!done) {
			long wait = check_tick(c);
			struct curl_waitfd wfd = { check_wait_fd(c), CURL_WAIT_POLLIN, 0 };

			curl_multi_poll(m, &wfd, wfd.fd >= 0 ? 1 : 0,
					wait >= 0 && wait < 100 ? (int)wait : 100, NULL);
		}
	}
	curl_multi_cleanup(m);
	return 0;
}
