/* buf.h - one growable byte buffer with a hard size cap, for bodies, pages, JSON and lines. */
#ifndef QRW_BUF_H
#define QRW_BUF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * A buffer always holds a NUL after its last byte, so data can be used as
 * a C string when it holds text. It never grows past max bytes: the add
 * that would do so frees the contents, marks the buffer as overflowed and
 * returns -1, so a caller that ignores one error still cannot emit a
 * truncated result (every later add fails too).
 *
 *     struct buf b;
 *     buf_init(&b, 64 * 1024);
 *     if (buf_addf(&b, "%s=%d", key, val) < 0) goto out;
 *     ... use b.data, b.len ...
 *     buf_release(&b);
 */
struct buf {
	char *data;	/* NULL until the first add; "" via buf_str() */
	size_t len;	/* bytes held, not counting the trailing NUL */
	size_t cap;	/* bytes allocated */
	size_t max;	/* hard cap on len */
	int overflow;	/* set once an add went past max or malloc failed */
};

/* Prepare an empty buffer that will hold at most max bytes. */
void buf_init(struct buf *b, size_t max);

/* Free the contents; the buffer may be reused after buf_init(). */
void buf_release(struct buf *b);

/* Forget the contents but keep the memory (and the overflow flag cleared). */
void buf_reset(struct buf *b);

/* Append n bytes. Returns 0, or -1 (contents freed) on overflow. */
int buf_add(struct buf *b, const void *p, size_t n);

/* Append a C string. */
int buf_adds(struct buf *b, const char *s);

/* Append one byte. */
int buf_addc(struct buf *b, char c);

/* Append printf-style. */
int buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* The contents as a C string, "" when empty. Valid until the next add. */
const char *buf_str(const struct buf *b);

/*
 * Hand the contents to the caller, who must free() them; the buffer is left
 * empty. Returns a malloc'ed "" for an empty buffer, NULL on overflow.
 */
char *buf_detach(struct buf *b, size_t *len);

#endif
