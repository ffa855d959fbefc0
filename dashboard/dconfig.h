/* dconfig.h - qrwatchd.conf: the server's settings and the probes it accepts. */
#ifndef QRW_DCONFIG_H
#define QRW_DCONFIG_H

#include "ingest.h"
#include "server.h"
#include "auth.h"
#include "../alerts/engine.h"
#include "../common/buf.h"

#define DCONFIG_MAX_PROBES 10000
#define DCONFIG_MAX_USERS  100
#define DCONFIG_PROVINCE_MAX 128	/* bytes of the province label: a name, not a text */

struct dconfig {
	char listen_addr[64];
	unsigned port;
	char data_dir[1024];
	char catalog[1024];
	char tls_cert[1024], tls_key[1024];
	struct server_limits lim;
	int pending_per_ip_set;		/* max_pending_per_ip was given */
	struct probe_key *probes;	/* malloc'ed; free with dconfig_release() */
	size_t nprobes;
	char log[16], log_level[16];
	struct web_user *users;		/* optional login for the pages */
	size_t nusers;
	char trusted_proxy[64];		/* a reverse proxy whose X-Forwarded-For is believed */
	int public_pages;		/* with users: pages open to read, actions need the login */
	char rrdcached[256];		/* "" our own rrdcached, "off", or an address */
	long rrd_checkpoint_s;		/* RRD files made durable and marked this often */
	char province[DCONFIG_PROVINCE_MAX + 1];	/* /metrics' province label, "" from the catalog */
	long changes_keep_s;		/* verdict changes kept this long, 0: for ever */
	long results_keep_s;		/* results kept this long, 0: for ever */
	unsigned graph_workers;		/* processes drawing graphs */
	long lookup_every_s;		/* stale codes' new addresses looked up this often, 0: never */
	char lookup_probe[1024];	/* the checker, "" qrwatch-probe beside qrwatchd */
	char lookup_resolve[300];	/* HOST:PORT:ADDRESS for its checks, or "" */
	struct alert_cfg alerts;	/* recipients malloc'ed; freed by dconfig_release() */
};

/*
 * Read qrwatchd.conf ("key = value"; "probe = ID SECRET-FILE" once per
 * probe). Every problem goes to errors as "FILE:LINE: what is wrong".
 * Returns 0 when there were none.
 */
int dconfig_load(const char *path, struct dconfig *c, struct buf *errors);
void dconfig_release(struct dconfig *c);

#endif
