/* catalogedit.h - changes to a catalog file's text made by qrwatchd: a stale code's confirmed new address. */
#ifndef QRW_CATALOGEDIT_H
#define QRW_CATALOGEDIT_H

#include <stddef.h>

#include "catalog.h"
#include "../common/buf.h"
#include "../common/err.h"

/*
 * Catalog text (len bytes, loaded from name in folder dir) with target
 * id's `payload` line changed to new_payload and the old payload kept as
 * a `replaces` line right after it (a board still showing it is then
 * STALE, waiting for the new poster: policy.h). Every other byte is kept
 * as it was, comments too; a `replaces` line of the target naming
 * new_payload (an address put back) is dropped. The result must load
 * with catalog_parse() and give the target new_payload, or nothing is
 * written to out. With old_payload, the target's payload in text must
 * be that one (the one the caller judged). Returns 0, -2 with e when it
 * is another (the file changed meanwhile), or -1 with e (no such target,
 * no payload to replace, the same address, an address of more than one
 * line, or the catalog's own errors).
 */
int catalogedit_replace_payload(const char *name, const char *dir, const char *text,
				size_t len, const char *id, const char *old_payload,
				const char *new_payload, struct buf *out, struct err *e);

#endif
