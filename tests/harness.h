/* harness.h - a tiny table-driven unit-test harness: checks that say expected vs got, file:line. */
#ifndef QRW_HARNESS_H
#define QRW_HARNESS_H

#include <stddef.h>

struct test {
	const char *name;
	void (*fn)(void);
};

struct suite {
	const char *name;
	const struct test *tests;
	size_t n;
};

#define SUITE(sname, arr) \
	const struct suite suite_##sname = { #sname, arr, sizeof(arr) / sizeof(arr[0]) }

/* Each CHECK records a failure (and goes on) when it does not hold. */
#define CHECK(cond) harness_check(!!(cond), __FILE__, __LINE__, #cond)
#define CHECK_INT(got, exp) \
	harness_check_int((long long)(got), (long long)(exp), __FILE__, __LINE__, #got)
#define CHECK_STR(got, exp) harness_check_str((got), (exp), __FILE__, __LINE__, #got)
#define CHECK_CONTAINS(hay, needle) \
	harness_check_contains((hay), (needle), __FILE__, __LINE__, #hay)

void harness_check(int ok, const char *file, int line, const char *expr);
void harness_check_int(long long got, long long exp, const char *file, int line,
		       const char *expr);
void harness_check_str(const char *got, const char *exp, const char *file,
		       int line, const char *expr);
void harness_check_contains(const char *hay, const char *needle,
			    const char *file, int line, const char *expr);

/* A table row label printed with failures: harness_case("row %d", i). */
void harness_case(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Run the suites (those named in argv, or all), print one line per test and
 * finally "N passed, N failed". Returns the process exit status.
 */
int harness_main(const struct suite *const *suites, size_t n, int argc,
		 char **argv);

/* A fresh temporary directory for this run (removed at exit). */
const char *harness_tmpdir(void);

#endif
