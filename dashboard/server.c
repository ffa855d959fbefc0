/* server.c - libmicrohttpd with explicit limits and a route table (see server.h). */
#include "server.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "../common/buf.h"
#include "../common/fileio.h"
#include "../prober/push.h"
#include "../common/banned.h"

#define ASSIGN_MAX_SKEW_MS (10 * 60 * 1000)	/* signed fetches older are refused */

struct server {
	struct MHD_Daemon *d;
	struct server_cfg cfg;
	struct ingest *ing;
	struct dash *dash;
};

struct request {
	struct buf body;
	int too_big;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status,
				 const char *type, const char *body, size_t len,
				 const char *etag)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	/* pages load nothing from elsewhere and run no script */
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'none'; img-src 'self'; style-src 'unsafe-inline'");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	if (etag)
		MHD_add_response_header(r, "ETag", etag);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status,
				 const char *body)
{
	return send_text(c, status, "application/json", body, strlen(body), NULL);
}

static enum MHD_Result route_ingest(struct server *s, struct MHD_Connection *c,
				    struct request *rq)
{
	struct ingest_reply out;

	ingest_batch(s->ing,
		     MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Qrwatch-Probe"),
		     MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Qrwatch-Signature"),
		     rq->body.data ? rq->body.data : "", rq->body.len, now_ms(), &out);
	return send_json(c, (unsigned)out.status, out.body);
}

/* GET /api/v1/probes/ID/catalog: the probe's assignment, signed request, ETag. */
static enum MHD_Result route_assignment(struct server *s, struct MHD_Connection *c,
					const char *url)
{
	const char *id = url + strlen("/api/v1/probes/");
	const char *slash = strchr(id, '/');
	const char *hp = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Qrwatch-Probe");
	const char *ht = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Qrwatch-Time");
	const char *hs = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     "X-Qrwatch-Signature");
	const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
	const struct probe_key *pk = NULL;
	char msg[160], want[65], etag[48];
	size_t len;
	struct err e;
	char *text;
	unsigned long h = 5381;
	long long t;
	enum MHD_Result ret;

	if (!slash || strcmp(slash, "/catalog") != 0 || !hp || !ht || !hs ||
	    (size_t)(slash - id) != strlen(hp) || strncmp(id, hp, (size_t)(slash - id)))
		return send_json(c, 401, "{\"error\":\"sign the request as docs/protocol.md "
				 "says, for this probe's own id\"}");
	for (size_t i = 0; i < s->ing->nprobes; i++)
		if (!strcmp(s->ing->probes[i].id, hp))
			pk = &s->ing->probes[i];
	t = strtoll(ht, NULL, 10);
	snprintf(msg, sizeof(msg), "%s\n%lld", hp, t);
	if (!pk || strncmp(hs, "sha256=", 7))
		return send_json(c, 401, "{\"error\":\"unknown probe or unsigned request\"}");
	push_sign(pk->secret, pk->secret_len, msg, strlen(msg), want);
	if (!push_signature_equal(hs + 7, want))
		return send_json(c, 401, "{\"error\":\"signature does not match\"}");
	if (llabs(now_ms() - t) > ASSIGN_MAX_SKEW_MS)
		return send_json(c, 401, "{\"error\":\"X-Qrwatch-Time is more than 10 minutes "
				 "off the server's clock\"}");
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

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version,
			      const char *upload, size_t *upload_size, void **ctx)
{
	struct server *s = cls;
	struct request *rq = *ctx;

	(void)version;
	if (!rq) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     "Content-Length");

		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		buf_init(&rq->body, s->cfg.lim.max_body);
		if (cl && strtoull(cl, NULL, 10) > s->cfg.lim.max_body)
			rq->too_big = 1;
		*ctx = rq;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!rq->too_big && buf_add(&rq->body, upload, *upload_size) < 0)
			rq->too_big = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->too_big) {
		char msg[128];

		snprintf(msg, sizeof(msg), "{\"error\":\"body over the limit of %zu bytes\"}",
			 s->cfg.lim.max_body);
		return send_json(c, 413, msg);
	}
	if (!strcmp(url, "/api/v1/ingest")) {
		if (strcmp(method, "POST"))
			return send_json(c, 405, "{\"error\":\"ingest takes POST\"}");
		return route_ingest(s, c, rq);
	}
	if (!strncmp(url, "/api/v1/probes/", 15) && !strcmp(method, "GET"))
		return route_assignment(s, c, url);
	if (!strcmp(url, "/healthz"))
		return send_text(c, 200, "text/plain", "ok\n", 3, NULL);
	if (!strcmp(method, "GET") && s->dash && s->cfg.nusers) {
		/* pages need a login when users are configured; ingest uses its HMAC */
		char *pass = NULL, *user = MHD_basic_auth_get_username_password(c, &pass);
		int ok = 0;

		for (size_t i = 0; user && pass && i < s->cfg.nusers; i++)
			if (!strcmp(s->cfg.users[i].name, user))
				ok = auth_check(&s->cfg.users[i], pass);
		MHD_free(user);
		MHD_free(pass);
		if (!ok) {
			static const char denied[] = "login required\n";
			struct MHD_Response *r = MHD_create_response_from_buffer(
				sizeof(denied) - 1, (void *)denied, MHD_RESPMEM_PERSISTENT);
			enum MHD_Result ret = MHD_queue_basic_auth_fail_response(c, "qrwatch", r);

			MHD_destroy_response(r);
			return ret;
		}
	}
	if (!strcmp(method, "GET") && s->dash) {
		const char *lang = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "lang");
		struct reply r;
		enum MHD_Result ret;

		if (dash_get(s->dash, url, lang && !strcmp(lang, "en"), &r)) {
			if (r.body.overflow) {
				buf_release(&r.body);
				return send_json(c, 500, "{\"error\":\"page too large\"}");
			}
			ret = send_text(c, (unsigned)r.status, r.type,
					r.body.data ? r.body.data : "", r.body.len, NULL);
			buf_release(&r.body);
			return ret;
		}
	}
	return send_json(c, 404, "{\"error\":\"no such page\"}");
}

static void done(void *cls, struct MHD_Connection *c, void **ctx,
		 enum MHD_RequestTerminationCode code)
{
	struct request *rq = *ctx;

	(void)cls;
	(void)c;
	(void)code;
	if (rq) {
		buf_release(&rq->body);
		free(rq);
	}
	*ctx = NULL;
}

struct server *server_start(const struct server_cfg *cfg, struct ingest *ing,
			    struct dash *dash, struct err *e)
{
	struct server *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;

	if (!s) {
		err_set(e, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	s->ing = ing;
	s->dash = dash;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)cfg->port);
	if (inet_pton(AF_INET, cfg->listen_addr, &sa.sin_addr) != 1) {
		err_set(e, "listen address '%s' is not an IPv4 address", cfg->listen_addr);
		free(s);
		return NULL;
	}
	if (cfg->tls_cert_pem)
		flags |= MHD_USE_TLS;
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, s,
				MHD_OPTION_SOCK_ADDR, &sa,
				MHD_OPTION_THREAD_POOL_SIZE, cfg->lim.threads,
				MHD_OPTION_CONNECTION_LIMIT, cfg->lim.max_connections,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->lim.max_per_ip,
				MHD_OPTION_CONNECTION_TIMEOUT, cfg->lim.timeout_s,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
				MHD_OPTION_NOTIFY_COMPLETED, done, NULL,
				cfg->tls_cert_pem ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
				cfg->tls_cert_pem, MHD_OPTION_HTTPS_MEM_KEY, cfg->tls_key_pem,
				MHD_OPTION_END);
	if (!s->d) {
		err_set(e, "cannot listen on %s:%u (in use, or TLS files unusable)",
			cfg->listen_addr, cfg->port);
		free(s);
		return NULL;
	}
	return s;
}

unsigned server_port(const struct server *s)
{
	return MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT)->port;
}

void server_stop(struct server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	free(s);
}
