/* log.c - logging with a level check and per-key rate limiting (see log.h). */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "banned.h"

#define LOG_KEYS 32		/* kinds of message tracked for rate limiting */
#define LOG_QUIET_S 60		/* show one line per kind per minute */

static int to_syslog;
static enum log_level threshold = LOG_LVL_INFO;
static struct {
	char key[32];
	time_t last;
	unsigned held;
} keys[LOG_KEYS];
static pthread_mutex_t keys_lock = PTHREAD_MUTEX_INITIALIZER;	/* qrwatchd logs from many threads */

void log_setup(int use_syslog, const char *ident, enum log_level level)
{
	to_syslog = use_syslog;
	threshold = level;
	if (use_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

int log_level_parse(const char *s, enum log_level *out)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

int log_enabled(enum log_level level)
{
	return level <= threshold;
}

/* 0 to hold the line back; else how many were held before it (+1). */
static unsigned admit_locked(const char *key)
{
	time_t now = time(NULL);
	int free_slot = -1;

	for (int i = 0; i < LOG_KEYS; i++) {
		if (keys[i].key[0] && strcmp(keys[i].key, key) == 0) {
			if (now - keys[i].last < LOG_QUIET_S) {
				keys[i].held++;
				return 0;
			} else {
				unsigned held = keys[i].held;

				keys[i].last = now;
				keys[i].held = 0;
				return held + 1;
			}
		}
		if (!keys[i].key[0] && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		free_slot = (int)(now % LOG_KEYS);	/* evict one */
	snprintf(keys[free_slot].key, sizeof(keys[free_slot].key), "%s", key);
	keys[free_slot].last = now;
	keys[free_slot].held = 0;
	return 1;
}

static unsigned admit(const char *key)
{
	unsigned n;

	pthread_mutex_lock(&keys_lock);
	n = admit_locked(key);
	pthread_mutex_unlock(&keys_lock);
	return n;
}

void log_msg(enum log_level level, const char *key, const char *fmt, ...)
{
	static const char *const tags[] = { "error", "warning", "info", "debug" };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char line[1024];
	unsigned held = 1;
	va_list ap;

	if (!log_enabled(level))
		return;
	if (key && (held = admit(key)) == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (to_syslog) {
		if (held > 1)
			syslog(prio[level], "%s (%u like it held back)", line, held - 1);
		else
			syslog(prio[level], "%s", line);
		return;
	}
	if (held > 1)
		fprintf(stderr, "%s: %s (%u like it held back)\n", tags[level], line,
			held - 1);
	else
		fprintf(stderr, "%s: %s\n", tags[level], line);
}
