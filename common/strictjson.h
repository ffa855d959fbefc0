/* strictjson.h - parsing JSON that came from outside: strict grammar, valid UTF-8, nothing after it. */
#ifndef QRW_STRICTJSON_H
#define QRW_STRICTJSON_H

#include <stddef.h>

#include <json-c/json.h>

#include "err.h"

#define STRICTJSON_MAX_DEPTH 32	/* a result is 4 levels deep; no need for more */

/*
 * Parse exactly len bytes of text as one JSON value with json-c in strict
 * mode, validating UTF-8, and refuse what json-c's strict mode still lets
 * through: single-quoted strings, escaped lone surrogates (which json-c
 * would turn into U+FFFD silently), and any byte but white space after the
 * value (trailing text, or bytes after a NUL). Strings that carry \u0000 are refused too:
 * every string we keep is a C string. Returns a new reference (the caller
 * puts it), or NULL with e saying what is wrong and at which byte.
 */
json_object *strictjson_parse(const char *text, size_t len, struct err *e);

#endif
