/* daemon.h - the probe's event loop: schedule checks, spool results, push batches. */
#ifndef QRW_DAEMON_H
#define QRW_DAEMON_H

#include "config.h"

/*
 * Run until SIGTERM or SIGINT (then flush the spool and return 0); SIGHUP
 * reloads the catalog without a restart. One thread, one libcurl multi
 * handle: checks run up to `concurrency` at a time, each target every
 * interval with 10% jitter; results go to the spool, which is flushed every
 * `flush_every` results or `flush_interval`, and pushed in signed batches.
 * Returns -1 when it cannot start (message logged).
 */
int daemon_run(const struct probe_config *cfg, const char *version);

#endif
