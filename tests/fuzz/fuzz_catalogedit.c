/* fuzz_catalogedit.c - a confirmed address written into any catalog text (targets/catalogedit.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../targets/catalog.h"
#include "../../targets/catalogedit.h"
#include "../../common/banned.h"

/*
 * Input: TARGET-ID, a NUL, the new address, a NUL, the catalog text.
 * Whatever the bytes, the edit either refuses with a message and writes
 * nothing, or gives a catalog that loads, whose target has the new
 * address as its payload and the old one among its replaces, and whose
 * other targets keep their payloads: the file qrwatchd writes is always
 * one it can load again.
 */
#define NAME "fuzz.catalog"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *id = (const char *)data, *addr, *text;
	const uint8_t *z1 = memchr(data, '\0', size), *z2;
	struct buf before, after, out;
	struct catalog *old, *new;
	struct err e;
	size_t len;
	int rc;

	if (!z1 || !(z2 = memchr(z1 + 1, '\0', size - (size_t)(z1 + 1 - data))))
		return 0;
	addr = (const char *)z1 + 1;
	text = (const char *)z2 + 1;
	len = size - (size_t)(z2 + 1 - data);
	buf_init(&out, CATALOG_MAX_BYTES);
	buf_init(&before, 1 << 20);
	buf_init(&after, 1 << 20);
	rc = catalogedit_replace_payload(NAME, ".", text, len, id, NULL, addr, &out, &e);
	if (rc < 0) {
		if (out.len || !e.msg[0])
			abort();
		goto done;
	}
	old = catalog_parse(NAME, ".", text, len, &before);
	new = catalog_parse(NAME, ".", out.data, out.len, &after);
	if (!old || !new || new->ntargets != old->ntargets)
		abort();
	for (size_t i = 0; i < new->ntargets; i++) {
		const struct target *t = &new->targets[i], *o = catalog_target(old, t->id);
		int kept = 0;

		if (!o)
			abort();
		if (strcmp(t->id, id)) {
			if (!t->payload != !o->payload || (t->payload && strcmp(t->payload, o->payload)))
				abort();
			continue;
		}
		if (!t->payload || strcmp(t->payload, addr))
			abort();
		for (size_t k = 0; k < t->nreplaces; k++)
			kept |= !strcmp(t->replaces[k], o->payload);
		if (!kept)
			abort();
	}
	catalog_free(old);
	catalog_free(new);
done:
	buf_release(&out);
	buf_release(&before);
	buf_release(&after);
	return 0;
}
