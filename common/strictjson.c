/* strictjson.c - json-c's strict mode plus the checks it lacks (see strictjson.h). */
#include "strictjson.h"

#include <string.h>

#include "banned.h"

static int hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			return -1;
		*v = *v * 16 + (unsigned)d;
	}
	return 0;
}

/*
 * The lexical checks json-c does not make: walk the text, tracking whether
 * we are inside a double-quoted string. Grammar errors are json-c's to find.
 */
static int lexical_check(const char *s, size_t n, struct err *e)
{
	int in_str = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!in_str) {
			if (c == '"')
				in_str = 1;
			else if (c == '\'')
				return err_set(e, "single-quoted string at byte %zu: JSON "
					       "strings take double quotes", i);
			continue;
		}
		if (c == '"') {
			in_str = 0;
		} else if (c == '\\' && i + 1 < n) {
			unsigned u, lo;

			i++;
			if (s[i] != 'u')
				continue;
			if (i + 4 >= n || hex4(s + i + 1, &u) < 0)
				continue;	/* json-c reports the bad escape */
			if (u == 0)
				return err_set(e, "\\u0000 at byte %zu: strings may not hold "
					       "NUL", i - 1);
			if (u >= 0xdc00 && u <= 0xdfff)
				return err_set(e, "lone low surrogate \\u%04x at byte %zu", u,
					       i - 1);
			if (u >= 0xd800 && u <= 0xdbff) {
				if (i + 10 >= n || s[i + 5] != '\\' || s[i + 6] != 'u' ||
				    hex4(s + i + 7, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
					return err_set(e, "lone high surrogate \\u%04x at byte "
						       "%zu", u, i - 1);
				i += 6;
			}
			i += 4;
		}
	}
	return 0;
}

json_object *strictjson_parse(const char *text, size_t len, struct err *e)
{
	struct json_tokener *tok;
	json_object *o;
	size_t end;

	if (len > (size_t)0x7fffffff) {
		err_set(e, "JSON text of %zu bytes is too large", len);
		return NULL;
	}
	if (lexical_check(text, len, e) < 0)
		return NULL;
	tok = json_tokener_new_ex(STRICTJSON_MAX_DEPTH);
	if (!tok) {
		err_set(e, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (!o) {
		enum json_tokener_error je = json_tokener_get_error(tok);

		err_set(e, "%s at byte %zu", je == json_tokener_continue ?
			"the text ends inside a value" : json_tokener_error_desc(je),
			json_tokener_get_parse_end(tok));
		json_tokener_free(tok);
		return NULL;
	}
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	while (end < len && (text[end] == ' ' || text[end] == '\t' || text[end] == '\n' ||
			     text[end] == '\r'))
		end++;
	if (end != len) {
		err_set(e, "%zu bytes after the JSON value, from byte %zu", len - end, end);
		json_object_put(o);
		return NULL;
	}
	return o;
}
