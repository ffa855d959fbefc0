/* text.h - small string helpers: UTF-8 checks, numbers, trimming, edit distance, CSV fields. */
#ifndef QRW_TEXT_H
#define QRW_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* 1 if the n bytes at s are well-formed UTF-8 (no overlongs, no surrogates). */
int utf8_valid(const char *s, size_t n);

/* 1 if every byte is below 0x80. */
int text_is_ascii(const char *s, size_t n);

/*
 * Parse a whole string as a decimal integer in [min, max]. Returns 0, or -1
 * when s is empty, has trailing garbage, or is out of range.
 */
int text_to_long(const char *s, long min, long max, long *out);

/*
 * Parse a duration such as "300", "90s", "5m", "2h", "1d" into seconds,
 * within [min, max]. Returns 0 or -1.
 */
int text_to_seconds(const char *s, long min, long max, long *out);

/* Trim ASCII white space from both ends in place; returns s. */
char *text_trim(char *s);

/* Levenshtein distance between two short ASCII strings (capped at 64 chars). */
int text_distance(const char *a, const char *b);

/*
 * The same when it is at most max; otherwise max + 1, found early: strings
 * whose lengths differ by more than max cost nothing, and the rows stop
 * once every cell passes max. For did-you-mean on whatever a file holds.
 * Strings over 64 chars are max + 1 away.
 */
int text_distance_max(const char *a, const char *b, int max);

/* Case-insensitive ASCII equality. */
int text_ieq(const char *a, const char *b);

/* 1 if s ends with suffix. */
int text_ends_with(const char *s, const char *suffix);

/*
 * 1 if s is an id as the catalog and the probes use them: 1 to max bytes
 * of lower-case letters, digits, '-', '_' and '.', starting with a letter
 * or a digit.
 */
int text_is_id(const char *s, size_t max);

/*
 * Parse a UTC time "2026-11-22T11:48:01.532Z" or "2026-11-22T11:48:01Z"
 * to milliseconds since 1970. The date must exist (2026-02-30 is
 * refused, not read as 2 March), years 2000 to 2200. Returns 0 or -1.
 */
int text_utc_parse(const char *s, int64_t *ms);

/* ms since 1970 as "2026-11-22T11:48:01.532Z", or to the second ("...:01Z"). */
#define TEXT_UTC_MAX 32
void text_utc_format(int64_t ms, int with_ms, char out[TEXT_UTC_MAX]);

/* 1 if w is one of the space-separated words of list (an empty w never is). */
int text_has_word(const char *list, const char *w);

/*
 * Append s (NULL: empty) to b as one quoted CSV field. A field that a
 * spreadsheet would run as a formula (it starts with = + - @, a TAB or a
 * CR) gets a leading ' so that it is shown as text. -1 on overflow.
 */
int text_csv_field(struct buf *b, const char *s);

#endif
