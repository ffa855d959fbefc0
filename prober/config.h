/* config.h - probe.conf: one table of keys with types, bounds and defaults (docs/probe.md). */
#ifndef QRW_PROBE_CONFIG_H
#define QRW_PROBE_CONFIG_H

#include <stddef.h>

#include "push.h"
#include "../common/buf.h"

struct probe_config {
	char probe_id[65];
	unsigned char secret[BATCH_SECRET_MAX];
	size_t secret_len;
	char server[1024];		/* ingest URL; "" = keep results in the spool only */
	char catalog[1024];		/* the catalog file (the cache, with catalog_url) */
	char catalog_url[1024];		/* fetch the catalog from the server, or "" */
	long catalog_refresh_s;
	char uplink[16];
	char interface[32];
	char spool_dir[1024];
	long spool_hours;
	long spool_max_mb;		/* 0 = from spool_hours */
	long unread_keep_mb;		/* unreadable boards' photos kept, 0 = none */
	char snapshot_to_server[4];	/* "yes": hand unread board photos to the server */
	char snapshot_url[1024];	/* where; "" = beside server's /api/v1/ingest */
	long snapshot_every_s;		/* a board's photos handed over at most this often */
	long snapshot_max_kb;		/* and never one larger */
	long concurrency;
	long push_interval_s;
	long first_push_delay_max_s;
	long flush_every;
	long flush_interval_s;
	char ca_file[1024];		/* the server's CA, for push and catalog fetch only */
	char extra_ca[1024];		/* CAs the checks trust besides the system's */
	char decoder[1024];		/* the decoder program; "" = the one beside qrwatch-probe */
	char clock_sync_file[1024];
	char resolve[1024];		/* "host:port:address ..." like curl --resolve */
	char emulate[16];		/* an uplink profile for lab runs, or "none" */
	char log[16];			/* "stderr" or "syslog" */
	char log_level[16];
};

/*
 * Read probe.conf ("key = value" lines, '#' comments). Every problem is
 * appended to errors as "FILE:LINE: what is wrong"; returns 0 when there
 * were none. Unknown keys get a did-you-mean.
 */
int probe_config_load(const char *path, struct probe_config *c, struct buf *errors);

/* The spool size to use: spool_max_mb, or spool_hours of results at the catalog's rate. */
unsigned long long probe_config_spool_bytes(const struct probe_config *c,
					    double results_per_hour);

#endif
