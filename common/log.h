/* log.h - leveled logging to stderr or syslog, with repeated messages rate-limited. */
#ifndef QRW_LOG_H
#define QRW_LOG_H

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Where and how much: to syslog (ident) or stderr, and the least important level shown. */
void log_setup(int use_syslog, const char *ident, enum log_level level);

/* Parse "error", "warn", "info", "debug". Returns 0 or -1. */
int log_level_parse(const char *s, enum log_level *out);

int log_enabled(enum log_level level);

/*
 * Log a line. Lines with the same `key` (a short string naming the kind of
 * message, e.g. "push-failed") are shown at most once a minute; the next
 * one shown says how many were held back. key NULL: never limited.
 */
void log_msg(enum log_level level, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The level is checked before the arguments are evaluated. */
#define LOG(level, key, ...) \
	do { if (log_enabled(level)) log_msg(level, key, __VA_ARGS__); } while (0)

#endif
