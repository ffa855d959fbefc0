/* metrics.h - /metrics: the Prometheus text exposition of the codes by place and procedure, and of the server's health. */
#ifndef QRW_METRICS_H
#define QRW_METRICS_H

#include "pages.h"
#include "../common/err.h"
#include "../targets/catalog.h"

/*
 * The size cap of one /metrics answer (the pages' PAGE_MAX is 16 MiB).
 * A (probe, target) pair takes three lines of about 140 bytes with
 * Vietnamese place names (bench/metrics.sh: 42 MB for 100,000 targets
 * seen by one probe each, 84 MB by two). The cap leaves room for longer
 * names and a third probe on some codes; past it the answer is a 500.
 */
#define METRICS_MAX (192u * 1024 * 1024)
#define METRICS_PROBES_MAX 10000	/* probes listed (DCONFIG_MAX_PROBES) */

/*
 * The series (docs/api.md has the table). Labels come from the catalog,
 * so their number is bounded by it, never by what results say:
 *
 *   per (probe, target) of the catalog, with province, commune, procedure,
 *   probe and target: qrwatch_target_ok (1 for OK or SLOW),
 *   qrwatch_target_verdict (the verdict as a number, 0 OK ... 7
 *   UNREADABLE, higher is worse) and qrwatch_check_seconds. The verdict is
 *   a value, never a label, so a verdict change starts no new series.
 *
 *   per (province, commune, procedure) of the catalog and verdict (the
 *   eight and UNCHECKED, all nine always written): qrwatch_codes, the
 *   codes whose worst latest verdict over their probes it is. This is what
 *   a national server aggregates cheaply.
 *
 *   per probe, and for the server: last batch times, spool backlogs,
 *   incidents, notifications, ingest answers, RRD updates, WAL
 *   checkpoints, connections cut off and the login's rate limits.
 *
 * The province label is the server's province (qrwatchd.conf "province")
 * when set, else each target's place's province from the catalog (and
 * then the server's own series carry none: the scrape adds it).
 */
struct metrics;

/*
 * Work out every target's labels once, from the catalog (which must
 * outlive it). province: the server's province label, or NULL; version:
 * qrwatchd's, for qrwatch_server_info. Returns NULL with e when out of memory.
 */
struct metrics *metrics_new(const struct catalog *cat, const char *province,
			    const char *version, struct err *e);
void metrics_free(struct metrics *m);

/*
 * Answer GET /metrics into r (its body is given a cap of METRICS_MAX)
 * from d->metrics, reading on rd; d->srv and d->outbox add their
 * counters when not NULL; gzipped when gzip_ok (Prometheus asks so: the
 * text is a tenth of the size, for a national server scraping provinces
 * over the WAN). A read error is left on rd for the caller.
 */
void metrics_page(struct dash *d, struct store_reader *rd, int gzip_ok, struct reply *r);

#endif
