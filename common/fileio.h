/* fileio.h - reading whole files with a size cap, and durable writes. */
#ifndef QRW_FILEIO_H
#define QRW_FILEIO_H

#include <stddef.h>

#include "err.h"

/*
 * Read all of path into a malloc'ed buffer (NUL-terminated, not counted in
 * *len). Refuses files larger than max bytes before reading them, with a
 * message naming the file and both sizes. Returns NULL and fills e on error.
 */
char *file_read(const char *path, size_t max, size_t *len, struct err *e);

/*
 * Write n bytes to path durably: a temporary file in the same directory,
 * fsync, then rename() over path. Returns 0 or -1 with e filled.
 */
int file_write_atomic(const char *path, const void *data, size_t n,
		      struct err *e);

/*
 * Write n bytes durably to a new file in dir (made, mode 0750, when
 * missing): DIR/NAME.EXT, or DIR/NAME-1.EXT and on when that is taken,
 * each name claimed by its creation (O_EXCL), so that two writers at
 * once get two files. The path into out. Returns 0, or -1 with e.
 */
int file_write_new(const char *dir, const char *name, const char *ext, const void *data,
		   size_t n, char *out, size_t cap, struct err *e);

/*
 * The path of program name in this program's own folder (from
 * /proc/self/exe), into out. Returns 0, or -1 when it cannot be told or
 * does not fit in n.
 */
int file_beside_self(const char *name, char *out, size_t n);

#endif
