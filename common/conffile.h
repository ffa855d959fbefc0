/* conffile.h - reading "key = value" files: comments, line numbers, errors naming FILE:LINE, did-you-mean. */
#ifndef QRW_CONFFILE_H
#define QRW_CONFFILE_H

#include <stddef.h>

#include "buf.h"

#define CONFFILE_MAX_BYTES (1024 * 1024)	/* a configuration, not a database */

/*
 * Called for each "key = value" line whose key is one of the known ones
 * (index into known), with both trimmed. It reports problems with
 * conf_err(); its return value is ignored.
 */
typedef void conf_fn(void *ctx, size_t index, const char *key, const char *val,
		     const char *path, int line, struct buf *errors);

/*
 * Read path line by line: blank lines and lines starting with '#' or ';'
 * are skipped; a line without '=' or with an unknown key is reported (with
 * the nearest known key as a suggestion) and skipped. Returns the number of
 * lines read, or -1 when the file cannot be read (the reason is appended to
 * errors).
 */
int conf_read(const char *path, const char *const *known, size_t nknown, conf_fn *fn,
	      void *ctx, struct buf *errors);

/* Append "FILE:LINE: message\n" to errors. */
void conf_err(struct buf *errors, const char *path, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
