/* fuzz.c - the harnesses' scratch folder and paths into the source tree (see fuzz.h). */
#include "fuzz.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/banned.h"

#ifndef FUZZ_SRCDIR
#define FUZZ_SRCDIR "."		/* the Makefile passes the checkout's absolute path */
#endif

static char tmpdir[512];
static pid_t tmpdir_owner;	/* replay.c forks: only the maker removes it */

static int clear(const char *dir, int remove_self)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4200];
	int rc = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) < 0)
			rc = -1;
		else if (S_ISDIR(st.st_mode))
			rc |= clear(path, 1);
		else if (unlink(path) < 0)
			rc = -1;
	}
	closedir(d);
	if (remove_self && rmdir(dir) < 0)
		rc = -1;
	return rc;
}

int fuzz_dir_clear(const char *dir)
{
	return clear(dir, 0);
}

static void remove_tmpdir(void)
{
	if (tmpdir[0] && getpid() == tmpdir_owner)
		clear(tmpdir, 1);
}

const char *fuzz_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	struct stat st;

	if (tmpdir[0])
		return tmpdir;
	if (!base || !*base)
		base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
		       access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(tmpdir, sizeof(tmpdir), "%s/qrwatch-fuzz.XXXXXX", base);
	if (!mkdtemp(tmpdir)) {
		perror("fuzz: mkdtemp");
		abort();
	}
	tmpdir_owner = getpid();
	atexit(remove_tmpdir);
	return tmpdir;
}

const char *fuzz_put(const char *dir, const char *name, const void *data, size_t n)
{
	static char path[4200];
	const char *p = data;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror(path);
		abort();
	}
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0) {
			perror(path);
			abort();
		}
		p += w;
		n -= (size_t)w;
	}
	close(fd);
	return path;
}

char *fuzz_expand(const uint8_t *data, size_t n, size_t *len)
{
	static const char mark[] = "@DIR@";
	const char *dir = fuzz_tmpdir();
	const uint8_t *p, *at, *end = data + n;
	size_t dl = strlen(dir), ml = sizeof(mark) - 1, count = 0, o = 0;
	char *out;

	/* memchr() to each '@': a comparison per byte is what libFuzzer's hooks make slow */
	for (p = data; (at = memchr(p, '@', (size_t)(end - p))) != NULL; p = at + 1)
		count++;
	out = malloc(n + count * dl + 1);
	if (!out)
		abort();
	for (p = data; p < end; p = at) {
		at = memchr(p, '@', (size_t)(end - p));
		if (!at)
			at = end;
		memcpy(out + o, p, (size_t)(at - p));
		o += (size_t)(at - p);
		if (at == end)
			break;
		if ((size_t)(end - at) >= ml && !memcmp(at, mark, ml)) {
			memcpy(out + o, dir, dl);
			o += dl;
			at += ml;
		} else {
			out[o++] = '@';
			at++;
		}
	}
	out[o] = '\0';
	*len = o;
	return out;
}

const char *fuzz_source(const char *rel)
{
	static char path[4200];
	const char *root = getenv("QRW_SRCDIR");

	snprintf(path, sizeof(path), "%s/%s", root && *root ? root : FUZZ_SRCDIR, rel);
	return path;
}
