/* text.c - small string helpers (see text.h). */
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "banned.h"

int utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		size_t k;
		unsigned cp, min;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			k = 1; cp = c & 0x1f; min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2; cp = c & 0x0f; min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3; cp = c & 0x07; min = 0x10000;
		} else {
			return 0;
		}
		if (n - i <= k)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

int text_is_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

int text_to_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int text_to_seconds(const char *s, long min, long max, long *out)
{
	char num[32];
	size_t n = strlen(s);
	long mult = 1, v;

	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 's': mult = 1; num[n - 1] = '\0'; break;
	case 'm': mult = 60; num[n - 1] = '\0'; break;
	case 'h': mult = 3600; num[n - 1] = '\0'; break;
	case 'd': mult = 86400; num[n - 1] = '\0'; break;
	default: break;
	}
	/* at most ten years, which fits a 32-bit long (routers) after the multiply */
	if (text_to_long(num, 0, 10L * 365 * 86400 / mult, &v) < 0)
		return -1;
	v *= mult;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

char *text_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
			 e[-1] == '\n'))
		*--e = '\0';
	return s;
}

int text_distance_max(const char *a, const char *b, int max)
{
	enum { N = 64 };
	int rows[2][N + 2], *prev = rows[0], *cur = rows[1];
	size_t la = strnlen(a, N + 1), lb = strnlen(b, N + 1), band;
	const int over = max + 1;

	if (max < 0 || la > N || lb > N || (la > lb ? la - lb : lb - la) > (size_t)max)
		return over;
	/* only cells within max of the diagonal can lead to an answer of max or less */
	band = (size_t)max;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j <= band ? (int)j : over;
	prev[lb + 1] = over;
	for (size_t i = 1; i <= la; i++) {
		size_t lo = i > band ? i - band : 1, hi = i + band < lb ? i + band : lb;
		int least, *t;

		cur[0] = i <= band ? (int)i : over;
		cur[lo - 1] = lo > 1 ? over : cur[0];
		least = cur[lo - 1];
		for (size_t j = lo; j <= hi; j++) {
			int best = prev[j - 1] + (a[i - 1] != b[j - 1]);

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			cur[j] = best < over ? best : over;
			if (cur[j] < least)
				least = cur[j];
		}
		cur[hi + 1] = over;	/* what the next row reads beyond the band */
		if (least > max)
			return over;	/* no later row can come back under it */
		t = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb] <= max ? prev[lb] : over;
}

int text_distance(const char *a, const char *b)
{
	return text_distance_max(a, b, 999);	/* 1000 past 64 chars, as before */
}

int text_ieq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

int text_ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

int text_is_id(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
		      s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

int text_utc_parse(const char *s, int64_t *ms)
{
	struct tm tm, back;
	int y, mo, d, h, mi, sec, milli = 0, n = 0;
	time_t t;

	for (int i = 0; i < 19; i++)
		if (!(i == 4 || i == 7 ? s[i] == '-' : i == 10 ? s[i] == 'T' :
		      i == 13 || i == 16 ? s[i] == ':' : isdigit((unsigned char)s[i])))
			return -1;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n != 19)
		return -1;
	s += n;
	if (*s == '.') {
		if (!isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[2]) ||
		    !isdigit((unsigned char)s[3]))
			return -1;
		milli = (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
		s += 4;
	}
	if (strcmp(s, "Z") != 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || sec > 59 || y < 2000 || y > 2200)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (!gmtime_r(&t, &back) || back.tm_mday != d || back.tm_mon != mo - 1)
		return -1;
	*ms = (int64_t)t * 1000 + milli;
	return 0;
}

void text_utc_format(int64_t ms, int with_ms, char out[TEXT_UTC_MAX])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&t, &tm);
	n = strftime(out, TEXT_UTC_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
	if (with_ms)
		snprintf(out + n, TEXT_UTC_MAX - n, ".%03dZ", (int)(ms % 1000));
	else
		snprintf(out + n, TEXT_UTC_MAX - n, "Z");
}

int text_has_word(const char *list, const char *w)
{
	size_t n = strlen(w);

	while (*list) {
		size_t k = strcspn(list, " ");

		if (k == n && n > 0 && memcmp(list, w, n) == 0)
			return 1;
		list += k;
		list += strspn(list, " ");
	}
	return 0;
}

int text_csv_field(struct buf *b, const char *s)
{
	int rc = buf_addc(b, '"');

	if (s && (*s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' ||
		  *s == '\r'))
		rc |= buf_addc(b, '\'');
	for (; s && *s; s++) {
		if (*s == '"')
			rc |= buf_addc(b, '"');
		rc |= buf_addc(b, *s);
	}
	rc |= buf_addc(b, '"');
	return rc ? -1 : 0;
}
