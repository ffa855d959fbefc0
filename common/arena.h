/* arena.h - many small allocations freed at once (a loaded catalog, a parsed batch). */
#ifndef QRW_ARENA_H
#define QRW_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head;
	size_t used;		/* bytes handed out, for limits and tests */
	size_t max;		/* hard cap; 0 = unlimited */
};

void arena_init(struct arena *a, size_t max);

/* Zeroed memory, aligned for any type; NULL when out of memory or over max. */
void *arena_alloc(struct arena *a, size_t n);

/* Copies of strings; NULL on failure. */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* Free everything handed out. */
void arena_release(struct arena *a);

#endif
