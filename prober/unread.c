/* unread.c - keeping the board photos the probe could not read, for qrwatchd to read. */
#include "unread.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include "../common/fileio.h"
#include "../common/banned.h"

static const char *const exts[] = { "png", "jpg" };

static int is_own(const char *name, const char *target)
{
	size_t tl = strlen(target);

	if (strncmp(name, target, tl) != 0 || name[tl] != '.')
		return 0;
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (!strcmp(name + tl + 1, exts[i]))
			return 1;
	return 0;
}

/* The bytes the other kept photos take, leaving out target's own. */
static unsigned long long others_bytes(const char *dir, const char *target)
{
	unsigned long long sum = 0;
	struct dirent *d;
	DIR *dh = opendir(dir);

	if (!dh)
		return 0;
	while ((d = readdir(dh)) != NULL) {
		char path[4096];
		struct stat st;

		if (d->d_name[0] == '.')
			continue;
		if (is_own(d->d_name, target))
			continue;	/* about to be replaced */
		if (snprintf(path, sizeof(path), "%s/%s", dir, d->d_name) >= (int)sizeof(path))
			continue;
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			sum += (unsigned long long)st.st_size;
	}
	closedir(dh);
	return sum;
}

int unread_keep(const char *dir, const char *target, const void *data, size_t len,
		unsigned long long cap, struct err *e)
{
	const unsigned char *p = data;
	char path[4096];
	int png = len >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8);
	int jpeg = len >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF;

	if (!png && !jpeg)
		return err_set(e, "the board photo of '%s' is neither PNG nor JPEG", target);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return err_set(e, "cannot create '%s': %s", dir, strerror(errno));
	if (others_bytes(dir, target) + len > cap)
		return 0;
	if (snprintf(path, sizeof(path), "%s/%s.%s", dir, target, png ? "png" : "jpg") >=
	    (int)sizeof(path))
		return err_set(e, "path too long: '%s'", dir);
	if (file_write_atomic(path, data, len, e) < 0)
		return -1;
	/* a photo of the other kind kept before is this board's no longer */
	if (snprintf(path, sizeof(path), "%s/%s.%s", dir, target, png ? "jpg" : "png") <
	    (int)sizeof(path))
		unlink(path);
	return 1;
}

void unread_forget(const char *dir, const char *target)
{
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		char path[4096];

		if (snprintf(path, sizeof(path), "%s/%s.%s", dir, target, exts[i]) <
		    (int)sizeof(path))
			unlink(path);
	}
}
