/* guarddecode.h - decoding an image in a forked, resource-limited child: the CLI's, the server's and the probe decoder's way. */
#ifndef QRW_GUARDDECODE_H
#define QRW_GUARDDECODE_H

#include <stddef.h>

#include "decode.h"
#include "guard.h"

/*
 * Load and decode an image held in memory, in a guarded child. Returns the
 * status; r holds the codes for GUARD_FOUND (release it with
 * decode_result_release()), e the reason for REFUSED and FAILED.
 */
enum guard_status guard_decode_mem(const void *data, size_t len,
				   const struct guard_limits *lim,
				   struct decode_result *r, struct err *e);

/* guard_decode_mem() in two halves, for an event loop (see guard_start()). */
int guard_decode_start(struct guard_job *j, const void *data, size_t len,
		       const struct guard_limits *lim, struct err *e);
enum guard_status guard_decode_finish(struct guard_job *j,
				      struct decode_result *r, struct err *e);

/* guard_decode_mem() on a file (read, capped at IMAGE_MAX_BYTES, by the caller). */
enum guard_status guard_decode_file(const char *path,
				    const struct guard_limits *lim,
				    struct decode_result *r, struct err *e);

/*
 * decode_yield() on a file in a guarded child: *read has a bit per step
 * that read a code on its own. Returns 0, or -1 with e (refused, failed).
 */
int guard_yield_file(const char *path, const struct guard_limits *lim, unsigned *read,
		     struct err *e);

#endif
