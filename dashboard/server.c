/* server.c - libmicrohttpd with explicit limits and a route table (see server.h). */
#include "server.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "confirm.h"
#include "photos.h"
#include "connguard.h"
#include "httpcache.h"
#include "login.h"
#include "workers.h"
#include "../common/buf.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "../common/text.h"
#include "../targets/batch.h"
#include "../common/banned.h"

#define ASSIGN_MAX_SKEW_MS (10 * 60 * 1000)	/* signed fetches older are refused */
#define BUSY_RETRY_S "1"			/* Retry-After when a queue is full */
#define REPORT_EVERY_MS 60000			/* one line a minute about cut-off bodies */

struct server {
	struct MHD_Daemon *d;
	struct server_cfg cfg;
	struct ingest *ing;
	struct dash *dash;
	struct connguard *guard;
	struct login *login;		/* NULL when no users are configured */
	struct workers *pages, *auth;
	pthread_mutex_t report_lock;
	unsigned long cut_bodies, reported_bodies;
	int64_t last_report_ms;
	unsigned long ingest_answers[SERVER_INGEST_NCODES];	/* atomic adds */
	unsigned photo_bodies;		/* photo uploads being received or judged (atomic) */
};

static const int ingest_codes[SERVER_INGEST_NCODES] = SERVER_INGEST_CODES;

/* What a request waits for, off the HTTP thread, while its connection is suspended. */
enum waiting { WAIT_NONE, WAIT_AUTH, WAIT_PAGE, WAIT_INGEST };

struct request {
	struct server *s;
	struct MHD_Connection *c;
	struct gconn *gc;
	struct buf body;
	int arrived;			/* the whole request is in */
	enum waiting waiting;
	int busy;			/* the pool was full: answer 503 */
	char addr[INET6_ADDRSTRLEN];	/* the client, for limits and logs */
	const char *url;		/* the connection's, valid for the request */
	struct dash_req dq;		/* what a page reads of the request */
	char *user, *pass;		/* from Basic auth (MHD_free), during the check */
	char who[64];			/* the user name once the login is good (dq.user) */
	struct confirm_form form;	/* a POST /stale/confirm's fields */
	struct photo_form photo;	/* a POST /board/ID/photo's */
	char board[CATALOG_ID_MAX + 1];	/* its board */
	struct snapshot_req snap;	/* a POST /api/v1/probes/ID/snapshot's */
	int auth_ok;
	size_t max_body;		/* this request's cap: a photo's is larger */
	int photo_slot;			/* counted in photo_bodies */
	int found;			/* dash_get knew the path */
	struct reply reply;
	struct ingest_reply ingest;	/* the committer's answer to a batch */
};

void server_limits_default(struct server_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	lim->threads = SERVER_THREADS;
	lim->max_connections = SERVER_MAX_CONNECTIONS;
	lim->max_per_ip = SERVER_MAX_PER_IP;
	lim->timeout_s = SERVER_IDLE_TIMEOUT_S;
	lim->max_body = INGEST_MAX_BODY;
	lim->header_timeout_s = SERVER_HEADER_TIMEOUT_S;
	lim->body_timeout_s = SERVER_BODY_TIMEOUT_S;
	lim->max_pending_per_ip = SERVER_MAX_PENDING_PER_IP;
	lim->reserve_pct = SERVER_RESERVE_PCT;
	lim->page_threads = SERVER_PAGE_THREADS;
	lim->page_queue = SERVER_PAGE_QUEUE;
	lim->auth_threads = SERVER_AUTH_THREADS;
	lim->auth_queue = SERVER_AUTH_QUEUE;
	lim->login_rate_ip = SERVER_LOGIN_RATE_IP;
	lim->login_rate_user = SERVER_LOGIN_RATE_USER;
	lim->login_cache_s = SERVER_LOGIN_CACHE_S;
}

int server_fd_limit(const struct server_limits *lim, struct err *e)
{
	rlim_t need = (rlim_t)lim->max_connections + SERVER_FD_SPARE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return err_set(e, "cannot read the open-file limit");
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
			return err_set(e, "max_connections = %u needs %llu open files, but this "
				       "process may open at most %llu: raise LimitNOFILE= in "
				       "qrwatchd.service (or ulimit -n), or lower max_connections",
				       lim->max_connections, (unsigned long long)need,
				       (unsigned long long)rl.rlim_max);
		rl.rlim_cur = need;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			return err_set(e, "cannot raise the open-file limit to %llu",
				       (unsigned long long)need);
	}
	return 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The headers some answers carry besides those every answer does. */
struct extra {
	const char *etag;		/* with one, the client may keep it and revalidate */
	const char *encoding;		/* Content-Encoding */
	int vary_encoding;		/* the body depends on Accept-Encoding */
	const char *retry_s;		/* Retry-After */
};

/* Queue an answer with the headers every answer carries, and x's (NULL: none). */
static enum MHD_Result send_full(struct MHD_Connection *c, unsigned status, const char *type,
				 const char *body, size_t len, const struct extra *x)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	/* what has an ETag may be kept, but asked about again every time */
	MHD_add_response_header(r, "Cache-Control", x && x->etag ? "private, no-cache" :
				"no-store");
	/* pages load nothing from elsewhere and run no script */
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'none'; img-src 'self'; style-src 'unsafe-inline'");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	if (x && x->etag)
		MHD_add_response_header(r, "ETag", x->etag);
	if (x && x->encoding)
		MHD_add_response_header(r, "Content-Encoding", x->encoding);
	if (x && x->vary_encoding)
		MHD_add_response_header(r, "Vary", "Accept-Encoding");
	if (x && x->retry_s)
		MHD_add_response_header(r, "Retry-After", x->retry_s);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status,
				 const char *type, const char *body, size_t len,
				 const char *etag)
{
	struct extra x = { etag, NULL, 0, NULL };

	return send_full(c, status, type, body, len, &x);
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status,
				 const char *body)
{
	return send_text(c, status, "application/json", body, strlen(body), NULL);
}

/* One more answer to a batch, counted by its status for /metrics. */
static void count_ingest(struct server *s, int status)
{
	size_t i = 0;

	while (i < SERVER_INGEST_NCODES - 1 && ingest_codes[i] != status)
		i++;
	__atomic_add_fetch(&s->ingest_answers[i], 1, __ATOMIC_RELAXED);
}

/* A page's reply, with its ETag and encoding (a 304 has no body). */
static enum MHD_Result send_reply(struct MHD_Connection *c, const struct reply *r)
{
	struct extra x = { r->etag[0] ? r->etag : NULL, r->encoding, r->vary_encoding, NULL };

	return send_full(c, (unsigned)r->status, r->type, r->body.data ? r->body.data : "",
			 r->body.len, &x);
}

/* The committer applied the batch (or it was refused): answer it. */
static void ingest_answered(void *ctx)
{
	struct request *rq = ctx;

	MHD_resume_connection(rq->c);
}

/*
 * A batch is checked here, then waits for the committer with its
 * connection suspended, so that the HTTP threads go on moving bytes and
 * batches arriving together are committed together.
 */
static enum MHD_Result route_ingest(struct request *rq)
{
	struct server *s = rq->s;
	struct MHD_Connection *c = rq->c;

	rq->waiting = WAIT_INGEST;
	MHD_suspend_connection(c);
	ingest_submit(s->ing,
		      MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Qrwatch-Probe"),
		      MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Qrwatch-Signature"),
		      rq->body.data ? rq->body.data : "", rq->body.len, now_ms(), &rq->ingest,
		      ingest_answered, rq);
	return MHD_YES;
}

/*
 * The probe that signed a request to /api/v1/probes/ID/WHAT as
 * docs/protocol.md says: its own id in the path and X-Qrwatch-Probe, a
 * time within ASSIGN_MAX_SKEW_MS of ours, and the HMAC of "ID\nTIME" (a
 * catalog fetch) or, for a snapshot (target not NULL), of
 * "ID\nTIME\nTARGET\nSHA256(body)". NULL with why (a JSON body) if not.
 */
static const struct probe_key *signer(struct request *rq, const char *what,
				      const char *target, const char **why)
{
	struct server *s = rq->s;
	struct MHD_Connection *c = rq->c;
	const char *id = rq->url + strlen("/api/v1/probes/");
	const char *slash = strchr(id, '/');
	const char *hp = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Qrwatch-Probe");
	const char *ht = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Qrwatch-Time");
	const char *hs = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     "X-Qrwatch-Signature");
	const struct probe_key *pk = NULL;
	char msg[160], want[65];
	long long t;

	*why = "{\"error\":\"sign the request as docs/protocol.md says, for this probe's "
	       "own id\"}";
	if (!slash || strcmp(slash + 1, what) != 0 || !hp || !ht || !hs ||
	    (size_t)(slash - id) != strlen(hp) || strncmp(id, hp, (size_t)(slash - id)))
		return NULL;
	for (size_t i = 0; i < s->ing->nprobes; i++)
		if (!strcmp(s->ing->probes[i].id, hp))
			pk = &s->ing->probes[i];
	t = strtoll(ht, NULL, 10);
	*why = "{\"error\":\"unknown probe or unsigned request\"}";
	if (!pk || strncmp(hs, "sha256=", 7))
		return NULL;
	if (target) {
		batch_sign_snapshot(pk->secret, pk->secret_len, hp, t, target,
				    rq->body.data ? rq->body.data : "", rq->body.len, want);
	} else {
		snprintf(msg, sizeof(msg), "%s\n%lld", hp, t);
		batch_sign(pk->secret, pk->secret_len, msg, strlen(msg), want);
	}
	*why = "{\"error\":\"signature does not match\"}";
	if (!batch_signature_equal(hs + 7, want))
		return NULL;
	*why = "{\"error\":\"X-Qrwatch-Time is more than 10 minutes off the server's clock\"}";
	if (llabs(now_ms() - t) > ASSIGN_MAX_SKEW_MS)
		return NULL;
	return pk;
}

/* GET /api/v1/probes/ID/catalog: the probe's assignment, signed request, ETag. */
static enum MHD_Result route_assignment(struct request *rq)
{
	struct server *s = rq->s;
	struct MHD_Connection *c = rq->c;
	const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
	const char *why;
	char etag[48];
	size_t len;
	struct err e;
	char *text;
	unsigned long h = 5381;
	enum MHD_Result ret;

	if (!signer(rq, "catalog", NULL, &why))
		return send_json(c, 401, why);
	if (!s->cfg.catalog_path)
		return send_json(c, 404, "{\"error\":\"this server has no catalog\"}");
	text = file_read(s->cfg.catalog_path, CATALOG_MAX_BYTES, &len, &e);
	if (!text)
		return send_json(c, 503, "{\"error\":\"catalog unavailable\"}");
	for (size_t i = 0; i < len; i++)
		h = h * 33 + (unsigned char)text[i];
	snprintf(etag, sizeof(etag), "\"%lx-%zu\"", h, len);
	if (inm && !strcmp(inm, etag))
		ret = send_text(c, 304, "text/plain", "", 0, etag);
	else
		ret = send_text(c, 200, "text/plain; charset=utf-8", text, len, etag);
	free(text);
	return ret;
}

/* The client's address as text: the peer, or behind trusted_proxy the last hop it names. */
static void client_addr(struct server *s, struct MHD_Connection *c, char *out, size_t cap)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	const char *xff;

	snprintf(out, cap, "?");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
			  (socklen_t)cap);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
			  (socklen_t)cap);
	if (s->cfg.trusted_proxy && !strcmp(out, s->cfg.trusted_proxy) &&
	    (xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For"))) {
		/* the proxy appends the address it saw: only the last one is its word */
		const char *last = strrchr(xff, ',');
		char hop[INET6_ADDRSTRLEN];
		unsigned char bin[sizeof(struct in6_addr)];
		size_t n;

		last = last ? last + 1 : xff;
		last += strspn(last, " \t");
		n = strcspn(last, " \t");
		if (n && n < sizeof(hop)) {
			memcpy(hop, last, n);
			hop[n] = '\0';
			if (inet_pton(AF_INET, hop, bin) == 1 || inet_pton(AF_INET6, hop, bin) == 1)
				snprintf(out, cap, "%s", hop);
		}
	}
}

/* The login was good: the page knows who is there (a confirm is signed with it). */
static void logged_in(struct request *rq)
{
	snprintf(rq->who, sizeof(rq->who), "%s", rq->user);
	rq->dq.user = rq->who;
}

static void forget_credentials(struct request *rq)
{
	if (rq->pass)
		OPENSSL_cleanse(rq->pass, strlen(rq->pass));
	MHD_free(rq->user);
	MHD_free(rq->pass);
	rq->user = rq->pass = NULL;
}

/*
 * Hand the request to a pool and suspend its connection until the job
 * resumes it; libmicrohttpd then calls handle() again. A full pool
 * resumes it at once with rq->busy set.
 */
static enum MHD_Result offload(struct request *rq, struct workers *pool, work_fn fn,
			       enum waiting what)
{
	rq->waiting = what;
	rq->busy = 0;
	MHD_suspend_connection(rq->c);
	if (workers_submit(pool, fn, rq) < 0) {
		rq->busy = 1;
		MHD_resume_connection(rq->c);
	}
	return MHD_YES;
}

/* On a page thread. rq belongs to the HTTP thread again after the resume. */
static void page_job(void *arg)
{
	struct request *rq = arg;

	if (rq->dq.form) {
		dash_confirm(rq->s->dash, &rq->dq, &rq->reply);
		rq->found = 1;
	} else if (rq->dq.photo) {
		dash_photo(rq->s->dash, &rq->dq, rq->board, &rq->reply);
		rq->found = 1;
	} else if (rq->dq.snapshot) {
		dash_snapshot(rq->s->dash, &rq->dq, &rq->reply);
		rq->found = 1;
	} else {
		rq->found = dash_get(rq->s->dash, &rq->dq, &rq->reply);
	}
	MHD_resume_connection(rq->c);
}

/* On a password-check thread. */
static void auth_job(void *arg)
{
	struct request *rq = arg;

	rq->auth_ok = login_check(rq->s->login, rq->user, rq->pass, rq->addr);
	MHD_resume_connection(rq->c);
}

static enum MHD_Result send_busy(struct MHD_Connection *c)
{
	static const char msg[] = "{\"error\":\"the server is busy; try again in a second\"}";
	struct extra x = { NULL, NULL, 0, BUSY_RETRY_S };

	return send_full(c, 503, "application/json", msg, sizeof(msg) - 1, &x);
}

static enum MHD_Result send_login_required(struct MHD_Connection *c)
{
	static const char denied[] = "login required\n";
	struct MHD_Response *r = MHD_create_response_from_buffer(
		sizeof(denied) - 1, (void *)denied, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	ret = MHD_queue_basic_auth_fail_response(c, "qrwatch", r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result start_page(struct request *rq)
{
	return offload(rq, rq->s->pages, page_job, WAIT_PAGE);
}

static enum MHD_Result page_done(struct request *rq)
{
	struct MHD_Connection *c = rq->c;

	if (rq->busy)
		return send_busy(c);
	if (!rq->found)
		return send_json(c, 404, "{\"error\":\"no such page\"}");
	if (rq->reply.body.overflow)
		return send_json(c, 500, "{\"error\":\"page too large\"}");
	return send_reply(c, &rq->reply);
}

/* Pages need a login when users are configured; ingest uses its HMAC instead. */
static enum MHD_Result start_login(struct request *rq)
{
	unsigned retry = 1;
	char msg[256], after[16];

	rq->user = MHD_basic_auth_get_username_password(rq->c, &rq->pass);
	if (!rq->user || !rq->pass) {
		forget_credentials(rq);
		return send_login_required(rq->c);
	}
	switch (login_begin(rq->s->login, rq->user, rq->pass, rq->addr, &retry)) {
	case LOGIN_OK:
		logged_in(rq);
		forget_credentials(rq);
		return start_page(rq);
	case LOGIN_LIMITED:
		forget_credentials(rq);
		snprintf(after, sizeof(after), "%u", retry);
		snprintf(msg, sizeof(msg), "Đăng nhập quá nhiều lần. Hãy thử lại sau %u giây.\n"
			 "Too many login attempts. Try again in %u s.\n", retry, retry);
		{
			struct extra x = { NULL, NULL, 0, after };

			return send_full(rq->c, 429, "text/plain; charset=utf-8", msg, strlen(msg),
					 &x);
		}
	case LOGIN_CHECK:
		break;
	}
	return offload(rq, rq->s->auth, auth_job, WAIT_AUTH);
}

static enum MHD_Result login_done(struct request *rq)
{
	int ok = rq->auth_ok;

	if (ok)
		logged_in(rq);
	forget_credentials(rq);
	if (rq->busy)
		return send_busy(rq->c);
	if (!ok)
		return send_login_required(rq->c);
	return start_page(rq);
}

static void report_cut_body(struct server *s, const char *addr)
{
	int64_t now = mono_ms();

	pthread_mutex_lock(&s->report_lock);
	s->cut_bodies++;
	if (now - s->last_report_ms >= REPORT_EVERY_MS) {
		LOG(LOG_LVL_WARN, NULL, "closed %lu connections whose chunked body passed "
		    "max_body_kb = %zu (the last from %s)", s->cut_bodies - s->reported_bodies,
		    s->cfg.lim.max_body / 1024, addr);
		s->reported_bodies = s->cut_bodies;
		s->last_report_ms = now;
	}
	pthread_mutex_unlock(&s->report_lock);
}

static enum MHD_Result route_health(struct request *rq)
{
	return send_text(rq->c, 200, "text/plain", "ok\n", 3, NULL);
}

/* A dashboard page: what it reads of the request, then the login or a page thread. */
static enum MHD_Result route_dashboard(struct request *rq)
{
	struct MHD_Connection *c = rq->c;
	const char *lang = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "lang");

	if (!rq->s->dash)
		return send_json(c, 404, "{\"error\":\"no such page\"}");
	rq->dq.path = rq->url;
	rq->dq.english = lang && !strcmp(lang, "en");
	rq->dq.page = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "page");
	rq->dq.commune = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "commune");
	rq->dq.size = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "size");
	rq->dq.if_none_match = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
	rq->dq.gzip_ok = httpcache_accepts_gzip(
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding"));
	if (!rq->s->login)
		return start_page(rq);
	/* public_pages: a page is open, but one who logs in (or asks to) is known */
	if (rq->s->cfg.public_pages &&
	    !MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization") &&
	    !MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "login"))
		return start_page(rq);
	return start_login(rq);
}

/* One field of the confirm form, as libmicrohttpd's post processor hands it (in pieces). */
static enum MHD_Result form_field(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *filename, const char *content_type,
				  const char *transfer_encoding, const char *data, uint64_t off,
				  size_t size)
{
	struct confirm_form *f = cls;
	char *to = NULL;
	size_t cap = 0, had;

	(void)kind;
	(void)filename;
	(void)content_type;
	(void)transfer_encoding;
	if (!strcmp(key, "target")) {
		to = f->target;
		cap = sizeof(f->target);
	} else if (!strcmp(key, "address")) {
		to = f->address;
		cap = sizeof(f->address);
	} else if (!strcmp(key, "token")) {
		to = f->token;
		cap = sizeof(f->token);
	}
	had = to ? strlen(to) : 0;
	if (!to || (off == 0 && had) || had != off || had + size >= cap ||
	    memchr(data, '\0', size)) {
		f->bad = 1;	/* unknown, repeated, too long, or with a NUL */
		return MHD_YES;
	}
	memcpy(to + had, data, size);
	to[had + size] = '\0';
	return MHD_YES;
}

/*
 * Whether a form was posted from this server's own pages: its Origin (or,
 * without one, its Referer) is http(s)://HOST of the request's Host. A
 * request with neither (not from a browser) passes: the form's token is
 * the check that always applies.
 */
static int same_origin(struct MHD_Connection *c)
{
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	const char *from = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	size_t n;

	if (!from)
		from = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Referer");
	if (!from)
		return 1;
	if (!host)
		return 0;
	if (!strncmp(from, "http://", 7))
		from += 7;
	else if (!strncmp(from, "https://", 8))
		from += 8;
	else
		return 0;
	n = strlen(host);
	return !strncmp(from, host, n) && (from[n] == '\0' || from[n] == '/');
}

/*
 * POST /stale/confirm: a stale code's new address, confirmed by an
 * official (confirm.h). Only with a login, which says who did it.
 */
static enum MHD_Result route_confirm(struct request *rq)
{
	static const char need_login[] =
		"Xác nhận địa chỉ mới cần đăng nhập, để biết ai đã xác nhận: thêm tài khoản "
		"vào qrwatchd.conf (dòng 'user = ...' do qrwatchd --hash-password TÊN in ra).\n"
		"Confirming a new address needs a login, to know who confirmed it: add a user "
		"to qrwatchd.conf (the 'user = ...' line from qrwatchd --hash-password NAME).\n";
	struct MHD_PostProcessor *pp;
	const char *lang = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, "lang");

	if (!rq->s->dash)
		return send_json(rq->c, 404, "{\"error\":\"no such page\"}");
	if (!rq->s->login)
		return send_text(rq->c, 403, "text/plain; charset=utf-8", need_login,
				 sizeof(need_login) - 1, NULL);
	if (!same_origin(rq->c))
		return send_json(rq->c, 403, "{\"error\":\"the confirm form comes from another "
				 "site (Origin or Referer)\"}");
	pp = MHD_create_post_processor(rq->c, 4096, form_field, &rq->form);
	if (!pp)
		return send_json(rq->c, 415, "{\"error\":\"the confirm form is sent as "
				 "application/x-www-form-urlencoded\"}");
	if (rq->body.len && MHD_post_process(pp, rq->body.data, rq->body.len) != MHD_YES)
		rq->form.bad = 1;
	MHD_destroy_post_processor(pp);
	rq->dq.path = rq->url;
	rq->dq.english = lang && !strcmp(lang, "en");
	rq->dq.form = &rq->form;
	return start_login(rq);
}

/* The photo form's fields: the file (in pieces, capped) and the token. */
static enum MHD_Result photo_field(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *filename, const char *content_type,
				   const char *transfer_encoding, const char *data, uint64_t off,
				   size_t size)
{
	struct photo_form *f = cls;

	(void)kind;
	(void)filename;
	(void)content_type;
	(void)transfer_encoding;
	if (!strcmp(key, "photo")) {
		if (f->file.overflow)
			return MHD_YES;	/* over PHOTO_MAX_BYTES: told as 413, the rest ignored */
		if (off != f->file.len)
			f->bad = 1;	/* a second file */
		else if (size)
			buf_add(&f->file, data, size);	/* past the cap: overflow, told as 413 */
		return MHD_YES;
	}
	if (!strcmp(key, "token") && size < sizeof(f->token) - strlen(f->token) &&
	    off == strlen(f->token) && !memchr(data, '\0', size)) {
		memcpy(f->token + off, data, size);
		f->token[off + size] = '\0';
		return MHD_YES;
	}
	f->bad = 1;
	return MHD_YES;
}

/*
 * POST /board/ID/photo: a board photo from an official's phone
 * (photos.h), always with the login, which says who sent it.
 */
static enum MHD_Result route_photo(struct request *rq)
{
	static const char need_login[] =
		"Gửi ảnh bảng tin cần đăng nhập: thêm tài khoản vào qrwatchd.conf.\n"
		"Sending a board photo needs a login: add a user to qrwatchd.conf.\n";
	const char *lang = MHD_lookup_connection_value(rq->c, MHD_GET_ARGUMENT_KIND, "lang");
	const char *id = rq->url + strlen("/board/"), *slash = strchr(id, '/');
	struct MHD_PostProcessor *pp;

	if (!rq->s->dash || !slash || strcmp(slash, "/photo") || slash == id ||
	    (size_t)(slash - id) > CATALOG_ID_MAX)
		return send_json(rq->c, 404, "{\"error\":\"no such page\"}");
	if (!rq->s->login)
		return send_text(rq->c, 403, "text/plain; charset=utf-8", need_login,
				 sizeof(need_login) - 1, NULL);
	if (!same_origin(rq->c))
		return send_json(rq->c, 403, "{\"error\":\"the photo form comes from another "
				 "site (Origin or Referer)\"}");
	memcpy(rq->board, id, (size_t)(slash - id));
	rq->board[slash - id] = '\0';
	buf_init(&rq->photo.file, PHOTO_MAX_BYTES);
	pp = MHD_create_post_processor(rq->c, 64 * 1024, photo_field, &rq->photo);
	if (!pp)
		return send_json(rq->c, 415, "{\"error\":\"the photo is sent as "
				 "multipart/form-data\"}");
	if (rq->body.len && MHD_post_process(pp, rq->body.data, rq->body.len) != MHD_YES)
		rq->photo.bad = 1;
	MHD_destroy_post_processor(pp);
	buf_release(&rq->body);		/* the photo is in its own buffer now */
	rq->dq.path = rq->url;
	rq->dq.english = lang && !strcmp(lang, "en");
	rq->dq.photo = &rq->photo;
	return start_login(rq);
}

/*
 * POST /api/v1/probes/ID/snapshot: a board photo the probe could not read,
 * signed by it, read on a page thread (photos.h); the probe judges the
 * reading as its own.
 */
static enum MHD_Result route_snapshot(struct request *rq)
{
	const char *target = MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND,
							 "X-Qrwatch-Target");
	const struct probe_key *pk;
	const char *why;

	if (!target || !*target || strlen(target) > CATALOG_ID_MAX)
		return send_json(rq->c, 400, "{\"error\":\"X-Qrwatch-Target names the snapshot's "
				 "target\"}");
	pk = signer(rq, "snapshot", target, &why);
	if (!pk)
		return send_json(rq->c, 401, why);
	if (!rq->s->dash)
		return send_json(rq->c, 404, "{\"error\":\"this server has no catalog\"}");
	snprintf(rq->snap.probe, sizeof(rq->snap.probe), "%s", pk->id);
	snprintf(rq->snap.target, sizeof(rq->snap.target), "%s", target);
	rq->snap.data = rq->body.data ? rq->body.data : "";
	rq->snap.len = rq->body.len;
	rq->dq.snapshot = &rq->snap;
	return start_page(rq);
}

static enum MHD_Result ingest_done(struct request *rq)
{
	count_ingest(rq->s, rq->ingest.status);
	return send_json(rq->c, (unsigned)rq->ingest.status, rq->ingest.body);
}

/*
 * The routes of the HTTP side, tried in order: the first whose path (and
 * method) fits answers. Ingest and catalogs are answered here, pages on
 * the page threads (dash_get() has their own table).
 */
static const struct route {
	const char *path;
	int prefix;			/* path is a prefix of the URL */
	const char *method;		/* the one it takes, NULL: any */
	const char *wrong_method;	/* the 405 for another, NULL: the next route may take it */
	enum MHD_Result (*fn)(struct request *rq);
} routes[] = {
	{ "/api/v1/ingest", 0, "POST", "{\"error\":\"ingest takes POST\"}", route_ingest },
	{ "/api/v1/probes/", 1, "GET", NULL, route_assignment },
	{ "/api/v1/probes/", 1, "POST", "{\"error\":\"GET a catalog, POST a snapshot\"}",
	  route_snapshot },
	{ "/healthz", 0, NULL, NULL, route_health },
	{ "/stale/confirm", 0, "POST", "{\"error\":\"the confirm form takes POST\"}",
	  route_confirm },
	{ "/board/", 1, "POST", NULL, route_photo },
	{ "/", 1, "GET", NULL, route_dashboard },
};

/* A request resumed after the work it waited for, by what it waited for. */
static enum MHD_Result (*const resumed[])(struct request *rq) = {
	[WAIT_AUTH] = login_done,
	[WAIT_PAGE] = page_done,
	[WAIT_INGEST] = ingest_done,
};

/* The first call for a request: its head is complete. */
/*
 * Whether a request is a photo's upload, POST /board/ID/photo, or a
 * probe's snapshot, POST /api/v1/probes/ID/snapshot (their larger cap).
 */
static int photo_upload(const char *method, const char *url)
{
	return !strcmp(method, "POST") &&
	       ((!strncmp(url, "/board/", 7) && text_ends_with(url, "/photo")) ||
		(!strncmp(url, "/api/v1/probes/", 15) && text_ends_with(url, "/snapshot")));
}

static enum MHD_Result begin(struct server *s, struct MHD_Connection *c, const char *url,
			     const char *method, void **ctx)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
	const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	unsigned long long length = cl ? strtoull(cl, NULL, 10) : 0;
	struct request *rq = calloc(1, sizeof(*rq));

	if (!rq)
		return MHD_NO;
	rq->s = s;
	rq->c = c;
	rq->url = url;
	rq->gc = ci ? ci->socket_context : NULL;
	/*
	 * a board photo from a phone may be larger than any batch (photos.h);
	 * a few at a time, so that no crowd of them holds the server's memory
	 */
	rq->max_body = s->cfg.lim.max_body;
	client_addr(s, c, rq->addr, sizeof(rq->addr));
	*ctx = rq;
	if (photo_upload(method, url)) {
		if (__atomic_add_fetch(&s->photo_bodies, 1, __ATOMIC_SEQ_CST) > SERVER_PHOTO_BODIES) {
			__atomic_sub_fetch(&s->photo_bodies, 1, __ATOMIC_SEQ_CST);
			rq->arrived = 1;
			connguard_arrived(s->guard, rq->gc);
			return send_busy(c);
		}
		rq->photo_slot = 1;
		rq->max_body = PHOTO_MAX_BYTES + PHOTO_FORM_SLACK;
	}
	buf_init(&rq->body, rq->max_body);
	if (length > rq->max_body) {
		char msg[128];

		/* answered before a byte of the body is read; the connection then closes */
		rq->arrived = 1;
		connguard_arrived(s->guard, rq->gc);
		snprintf(msg, sizeof(msg), "{\"error\":\"body over the limit of %zu bytes\"}",
			 rq->max_body);
		if (!strcmp(url, "/api/v1/ingest"))
			count_ingest(s, 413);
		return send_json(c, 413, msg);
	}
	connguard_head(s->guard, rq->gc, length > 0 || (te && strstr(te, "chunked")));
	return MHD_YES;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version,
			      const char *upload, size_t *upload_size, void **ctx)
{
	struct server *s = cls;
	struct request *rq = *ctx;

	(void)version;
	if (!rq)
		return begin(s, c, url, method, ctx);
	if (*upload_size) {
		if (buf_add(&rq->body, upload, *upload_size) < 0) {
			/* a chunked body past the cap (a Content-Length one got 413 at once):
			   libmicrohttpd 0.9.75 can answer nothing now, so stop reading */
			report_cut_body(s, rq->addr);
			return MHD_NO;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (!rq->arrived) {
		rq->arrived = 1;
		connguard_arrived(s->guard, rq->gc);
	}
	if (rq->waiting != WAIT_NONE)
		return resumed[rq->waiting](rq);
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *rt = &routes[i];

		if (rt->prefix ? strncmp(url, rt->path, strlen(rt->path)) : strcmp(url, rt->path))
			continue;
		if (rt->method && strcmp(method, rt->method)) {
			if (rt->wrong_method)
				return send_json(c, 405, rt->wrong_method);
			continue;	/* another route may take it */
		}
		return rt->fn(rq);
	}
	return send_json(c, 404, "{\"error\":\"no such page\"}");
}

static void done(void *cls, struct MHD_Connection *c, void **ctx,
		 enum MHD_RequestTerminationCode code)
{
	struct server *s = cls;
	struct request *rq = *ctx;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	(void)code;
	/* answered (or given up): the connection now waits for its next request head */
	if (ci)
		connguard_idle(s->guard, ci->socket_context);
	if (rq) {
		/* a confirmed address: the catalog is loaded again once its answer went out
		   (or the client went away: the file has changed all the same) */
		if (rq->reply.reload_after && s->dash && s->dash->reload)
			s->dash->reload();
		forget_credentials(rq);
		buf_release(&rq->reply.body);
		buf_release(&rq->body);
		buf_release(&rq->photo.file);
		if (rq->photo_slot)
			__atomic_sub_fetch(&s->photo_bodies, 1, __ATOMIC_SEQ_CST);
		free(rq);
	}
	*ctx = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	struct server *s = cls;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fd =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		const union MHD_ConnectionInfo *sa =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

		*socket_ctx = fd ? connguard_open(s->guard, fd->connect_fd,
						  sa ? sa->client_addr : NULL) : NULL;
	} else {
		connguard_close(s->guard, *socket_ctx);
		*socket_ctx = NULL;
	}
}

static void release(struct server *s)
{
	if (s->dash && s->dash->srv == s)
		s->dash->srv = NULL;
	workers_free(s->auth);
	workers_free(s->pages);
	login_free(s->login);
	connguard_free(s->guard);
	pthread_mutex_destroy(&s->report_lock);
	free(s);
}

struct server *server_start(const struct server_cfg *cfg, struct ingest *ing,
			    struct dash *dash, struct err *e)
{
	struct server *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_ALLOW_SUSPEND_RESUME;
	const struct server_limits *lim = &cfg->lim;
	struct connguard_cfg gc;
	struct MHD_OptionItem first[2];

	if (!s) {
		err_set(e, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->report_lock, NULL);
	s->last_report_ms = mono_ms() - REPORT_EVERY_MS;
	s->cfg = *cfg;
	s->ing = ing;
	s->dash = dash;
	if (dash)
		dash->srv = s;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)cfg->port);
	if (inet_pton(AF_INET, cfg->listen_addr, &sa.sin_addr) != 1) {
		err_set(e, "listen address '%s' is not an IPv4 address", cfg->listen_addr);
		release(s);
		return NULL;
	}
	if (server_fd_limit(lim, e) < 0) {
		release(s);
		return NULL;
	}
	memset(&gc, 0, sizeof(gc));
	gc.header_timeout_s = lim->header_timeout_s;
	gc.body_timeout_s = lim->body_timeout_s;
	gc.max_pending_per_ip = lim->max_pending_per_ip;
	gc.capacity = lim->max_connections;
	gc.max_pending = lim->max_connections * (100 - lim->reserve_pct) / 100;
	if (!gc.max_pending)
		gc.max_pending = 1;
	gc.exempt_addr = cfg->trusted_proxy;
	if (!(s->guard = connguard_new(&gc, e)) ||
	    !(s->pages = workers_new("qrw-pages", lim->page_threads, lim->page_queue, e)) ||
	    !(s->auth = workers_new("qrw-auth", lim->auth_threads, lim->auth_queue, e))) {
		release(s);
		return NULL;
	}
	if (cfg->nusers) {
		struct login_cfg lc = { lim->login_rate_ip, lim->login_rate_user,
					lim->login_cache_s };

		if (!(s->login = login_new(cfg->users, cfg->nusers, &lc, e))) {
			release(s);
			return NULL;
		}
	}
	if (cfg->tls_cert_pem)
		flags |= MHD_USE_TLS;
	/* where it listens: its own socket, or the one a reload hands over */
	first[0].option = cfg->listen_fd >= 0 ? MHD_OPTION_LISTEN_SOCKET : MHD_OPTION_SOCK_ADDR;
	first[0].value = cfg->listen_fd;
	first[0].ptr_value = cfg->listen_fd >= 0 ? NULL : &sa;
	first[1].option = MHD_OPTION_END;
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, s,
				MHD_OPTION_ARRAY, first,
				MHD_OPTION_THREAD_POOL_SIZE, lim->threads,
				MHD_OPTION_CONNECTION_LIMIT, lim->max_connections,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, lim->max_per_ip,
				MHD_OPTION_CONNECTION_TIMEOUT, lim->timeout_s,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
				MHD_OPTION_NOTIFY_COMPLETED, done, s,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
				cfg->tls_cert_pem ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
				cfg->tls_cert_pem, MHD_OPTION_HTTPS_MEM_KEY, cfg->tls_key_pem,
				MHD_OPTION_END);
	if (!s->d) {
		err_set(e, "cannot listen on %s:%u (in use, or TLS files unusable)",
			cfg->listen_addr, cfg->port);
		release(s);
		return NULL;
	}
	return s;
}

unsigned server_port(const struct server *s)
{
	return MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT)->port;
}

void server_get_stats(struct server *s, struct server_stats *st)
{
	memset(st, 0, sizeof(*st));
	connguard_get_stats(s->guard, &st->guard);
	if (s->login) {
		login_get_stats(s->login, &st->login);
		st->login_on = 1;
	}
	pthread_mutex_lock(&s->report_lock);
	st->cut_bodies = s->cut_bodies;
	pthread_mutex_unlock(&s->report_lock);
	for (size_t i = 0; i < SERVER_INGEST_NCODES; i++) {
		st->ingest_answers[i].code = ingest_codes[i];
		st->ingest_answers[i].n = __atomic_load_n(&s->ingest_answers[i], __ATOMIC_RELAXED);
	}
	ingest_get_stats(s->ing, &st->ingest);
}

int server_stop(struct server *s, int keep)
{
	int fd = -1;

	if (!s)
		return -1;
	/* no new connection from here on; with keep, they wait for the next server */
	if (keep)
		fd = MHD_quiesce_daemon(s->d);
	/*
	 * Every suspended connection must be resumed before MHD_stop_daemon:
	 * the pools refuse new jobs and run what they hold (each job resumes
	 * its connection; a request resumed from the password checks and
	 * refused by the stopped page pool gets 503).
	 */
	workers_stop(s->auth);
	workers_stop(s->pages);
	ingest_stop(s->ing);	/* answers the batches waiting, refuses what comes after */
	MHD_stop_daemon(s->d);
	release(s);
	return fd;
}
