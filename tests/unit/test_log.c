/* test_log.c - log levels and rate limiting of repeated messages. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness.h"
#include "../../common/fileio.h"
#include "../../common/log.h"
#include "../../common/banned.h"

static void test_rate_limit(void)
{
	char path[512];
	int saved, fd;
	size_t len;
	struct err e;
	char *text;
	int lines = 0;

	snprintf(path, sizeof(path), "%s/log.txt", harness_tmpdir());
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && saved >= 0);
	if (fd < 0 || saved < 0)
		return;
	dup2(fd, 2);
	close(fd);
	log_setup(0, "test", LOG_LVL_INFO);
	for (int i = 0; i < 5; i++)
		LOG(LOG_LVL_WARN, "push-failed", "push failed, will retry: try %d", i);
	LOG(LOG_LVL_WARN, "catalog-fetch", "keeping the cached catalog");
	LOG(LOG_LVL_DEBUG, NULL, "not shown at info");
	LOG(LOG_LVL_INFO, NULL, "kept result for t1: OK");
	LOG(LOG_LVL_INFO, NULL, "kept result for t1: OK");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	text = file_read(path, 1 << 20, &len, &e);
	CHECK(text != NULL);
	if (!text)
		return;
	for (char *p = text; *p; p++)
		lines += *p == '\n';
	/* one push line (four held back), one fetch line, two unkeyed lines */
	CHECK_INT(lines, 4);
	CHECK_CONTAINS(text, "warning: push failed, will retry: try 0\n");
	CHECK(strstr(text, "try 1") == NULL);
	CHECK_CONTAINS(text, "warning: keeping the cached catalog");
	CHECK(strstr(text, "not shown") == NULL);
	free(text);
}

static void test_levels(void)
{
	enum log_level l;

	CHECK_INT(log_level_parse("debug", &l), 0);
	CHECK_INT(l, LOG_LVL_DEBUG);
	CHECK_INT(log_level_parse("loud", &l), -1);
	log_setup(0, "test", LOG_LVL_ERROR);
	CHECK(!log_enabled(LOG_LVL_WARN));
	CHECK(log_enabled(LOG_LVL_ERROR));
	log_setup(0, "test", LOG_LVL_INFO);
}

static const struct test log_tests[] = {
	{ "rate_limit", test_rate_limit },
	{ "levels", test_levels },
};
SUITE(log, log_tests);
