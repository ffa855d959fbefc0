/* err.h - an error message slot that modules fill and callers print. */
#ifndef QRW_ERR_H
#define QRW_ERR_H

#include <stddef.h>

/*
 * Modules never print or exit on bad input: they write one line saying what
 * failed and on what into a struct err and return -1. The caller decides
 * whether to log it, show it, or collect it.
 */
#define ERR_MAX 512

struct err {
	char msg[ERR_MAX];
};

/* Write a message (printf-style) into e, if e is not NULL. Returns -1. */
int err_set(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefix the message already in e with "prefix: ". Returns -1. */
int err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
