/* harness.c - the unit-test harness (see harness.h). */
#include "harness.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/banned.h"

static int failures;		/* failed checks in the running test */
static char label[256];		/* current table row */
static char tmpdir[256];

static void report(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	failures++;
	fprintf(stdout, "    %s:%d: ", file, line);
	if (label[0])
		fprintf(stdout, "[%s] ", label);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

void harness_check(int ok, const char *file, int line, const char *expr)
{
	if (!ok)
		report(file, line, "check failed: %s", expr);
}

void harness_check_int(long long got, long long exp, const char *file, int line,
		       const char *expr)
{
	if (got != exp)
		report(file, line, "%s: expected %lld, got %lld", expr, exp, got);
}

void harness_check_str(const char *got, const char *exp, const char *file,
		       int line, const char *expr)
{
	if (!got || !exp) {
		if (got != exp)
			report(file, line, "%s: expected %s%s%s, got %s%s%s", expr,
			       exp ? "\"" : "", exp ? exp : "NULL", exp ? "\"" : "",
			       got ? "\"" : "", got ? got : "NULL", got ? "\"" : "");
		return;
	}
	if (strcmp(got, exp) != 0)
		report(file, line, "%s: expected \"%s\", got \"%s\"", expr, exp, got);
}

void harness_check_contains(const char *hay, const char *needle,
			    const char *file, int line, const char *expr)
{
	if (!hay || !strstr(hay, needle))
		report(file, line, "%s: expected to contain \"%s\", got \"%s\"", expr,
		       needle, hay ? hay : "NULL");
}

void harness_case(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(label, sizeof(label), fmt, ap);
	va_end(ap);
}

static void cleanup(void)
{
	char cmd[300];

	if (tmpdir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tmpdir);
	}
}

const char *harness_tmpdir(void)
{
	if (!tmpdir[0]) {
		const char *base = getenv("TMPDIR");

		snprintf(tmpdir, sizeof(tmpdir), "%s/qrwatch-unit.XXXXXX",
			 base ? base : "/tmp");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			exit(2);
		}
		atexit(cleanup);
	}
	return tmpdir;
}

static int wanted(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

int harness_main(const struct suite *const *suites, size_t n, int argc,
		 char **argv)
{
	int passed = 0, failed = 0;

	for (size_t s = 0; s < n; s++) {
		if (!wanted(suites[s]->name, argc, argv))
			continue;
		for (size_t i = 0; i < suites[s]->n; i++) {
			const struct test *t = &suites[s]->tests[i];

			failures = 0;
			label[0] = '\0';
			t->fn();
			if (!failures)
				printf("ok   %s.%s\n", suites[s]->name, t->name);
			if (failures) {
				printf("FAIL %s.%s\n", suites[s]->name, t->name);
				failed++;
			} else {
				passed++;
			}
			fflush(stdout);
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
