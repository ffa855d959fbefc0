/* unread.h - keeping the board photos the probe could not read, for qrwatchd to read. */
#ifndef QRW_UNREAD_H
#define QRW_UNREAD_H

#include <stddef.h>

#include "../common/err.h"

/*
 * A router's decoder may lack what the server's has (ZXing-C++ is left
 * out of router builds), so a board the probe finds UNREADABLE is kept,
 * the latest photo per target, as DIR/<target>.png or .jpg, for the
 * server's whole cascade to read (check.h: the check hands it over).
 * A board that reads again, here or on the server, drops its photo. The directory holds at most
 * cap bytes: a photo that would pass it is not kept (and the caller says
 * so), since a router's spool is small and often in RAM.
 */

/*
 * Keep data (a PNG or JPEG, told apart by its signature) as target's
 * photo in dir, replacing the one kept before, written atomically.
 * Returns 1 when kept, 0 when not kept because dir would hold more than
 * cap bytes, or -1 with e filled (cannot write, not an image).
 */
int unread_keep(const char *dir, const char *target, const void *data, size_t len,
		unsigned long long cap, struct err *e);

/* Drop target's kept photo, if any (the board reads again). */
void unread_forget(const char *dir, const char *target);

#endif
