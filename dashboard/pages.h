/* pages.h - the dashboard: HTML pages, graphs, posters, the JSON API, CSV and /metrics (metrics.h). */
#ifndef QRW_PAGES_H
#define QRW_PAGES_H

#include <pthread.h>

#include "rrdstore.h"
#include "store.h"
#include "../alerts/outbox.h"
#include "../common/buf.h"
#include "../targets/catalog.h"

struct metrics;
struct server;
struct overview;
struct graphs;
struct probecheck;
struct confirm_form;
struct photo_form;
struct snapshot_req;
struct photos;

struct dash {
	struct store *db;
	const struct catalog *cat;
	struct rrdstore *rrd;
	struct overview *ov;		/* the overview, drawn when a verdict changes */
	struct graphs *graphs;		/* latency graphs: drawn by worker processes, cached */
	struct outbox *outbox;		/* delivery counters for /metrics, or NULL */
	struct metrics *metrics;	/* /metrics' labels, made from the catalog at start */
	struct server *srv;		/* set by server_start(): its counters for /metrics */
	int cert_warn_days;		/* certificates expiring this soon are marked */
	struct addrlookup *lookup;	/* stale codes' new addresses found, or NULL */
	void (*reload)(void);		/* after the catalog file changed: load it again */
	/* confirming a stale code's new address (confirm.h) */
	int logins;			/* users are configured: pages know who is there */
	const char *catalog_path;	/* the file qrwatchd loaded, rewritten on a confirm */
	const char *data_dir;
	const struct probecheck *pc;	/* the checker an address must pass */
	unsigned char csrf_key[32];	/* confirm_key_load() */
	struct photos *photos;		/* board photos from phones (photos.h), or NULL */
};

/* A GET as the dashboard takes it: the path and what of the request it reads. */
struct dash_req {
	const char *path;		/* without the query */
	int english;			/* ?lang=en */
	const char *page;		/* ?page=N (lists in pages), or NULL */
	const char *commune;		/* ?commune=PLACE-ID (the overview of one commune), or NULL */
	const char *size;		/* ?size=a5|a4 (a poster's or sheet's paper), or NULL */
	const char *if_none_match;	/* the header, or NULL */
	int gzip_ok;			/* Accept-Encoding allows gzip */
	const char *user;		/* who logged in, or NULL (no users configured) */
	const struct confirm_form *form;	/* a POST's fields, or NULL for a GET */
	const struct photo_form *photo;	/* a photo's POST (photos.h), or NULL */
	const struct snapshot_req *snapshot;	/* a probe's snapshot (photos.h), or NULL */
};

/* What a page handler produces. */
struct reply {
	int status;			/* 304: the client's copy (etag) is current, no body */
	const char *type;		/* Content-Type */
	struct buf body;
	char etag[48];			/* "" for none; with one, clients may revalidate */
	const char *encoding;		/* Content-Encoding of body ("gzip"), or NULL */
	int vary_encoding;		/* the answer depends on Accept-Encoding */
	int reload_after;		/* the catalog file changed: dash->reload() once sent */
};

/*
 * Serve a GET into r. Returns 1 when the path is one of the dashboard's,
 * 0 if not.
 */
int dash_get(struct dash *d, const struct dash_req *q, struct reply *r);

#endif
