/* arena.c - block allocator freed in one go (see arena.h). */
#include "arena.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

struct arena_block {
	struct arena_block *next;
	size_t cap, off;
	alignas(max_align_t) unsigned char mem[];
};

#define ARENA_BLOCK 16384
#define ARENA_FIRST 4096	/* most arenas (one check's result) fit in one small block */

void arena_init(struct arena *a, size_t max)
{
	a->head = NULL;
	a->used = 0;
	a->max = max;
}

void *arena_alloc(struct arena *a, size_t n)
{
	const size_t al = alignof(max_align_t);
	struct arena_block *b = a->head;
	void *p;

	n = (n + al - 1) / al * al;
	if (n == 0)
		n = al;
	if (a->max && n > a->max - a->used)
		return NULL;
	if (!b || b->cap - b->off < n) {
		size_t block = b ? ARENA_BLOCK : ARENA_FIRST;
		size_t cap = n > block ? n : block;

		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->cap = cap;
		b->off = 0;
		b->next = a->head;
		a->head = b;
	}
	p = b->mem + b->off;
	b->off += n;
	a->used += n;
	memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

void arena_release(struct arena *a)
{
	while (a->head) {
		struct arena_block *next = a->head->next;

		free(a->head);
		a->head = next;
	}
	a->used = 0;
}
