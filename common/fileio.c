/* fileio.c - capped whole-file reads and atomic writes (see fileio.h). */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "banned.h"

char *file_read(const char *path, size_t max, size_t *len, struct err *e)
{
	struct stat st;
	char *data = NULL;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set(e, "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		err_set(e, "cannot stat '%s': %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, "'%s' is not a regular file", path);
		goto fail;
	}
	if ((unsigned long long)st.st_size > max) {
		err_set(e, "'%s' is %lld bytes, over the limit of %zu bytes",
			path, (long long)st.st_size, max);
		goto fail;
	}
	data = malloc((size_t)st.st_size + 1);
	if (!data) {
		err_set(e, "out of memory reading '%s'", path);
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(e, "cannot read '%s': %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	data[got] = '\0';
	close(fd);
	if (len)
		*len = got;
	return data;
fail:
	free(data);
	close(fd);
	return NULL;
}

int file_write_atomic(const char *path, const void *data, size_t n,
		      struct err *e)
{
	char tmp[4096];
	const char *p = data;
	int fd, rc = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
	    (int)sizeof(tmp))
		return err_set(e, "path too long: '%s'", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_set(e, "cannot create '%s': %s", tmp, strerror(errno));
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			err_set(e, "cannot write '%s': %s", tmp, strerror(errno));
			goto out;
		}
		p += w;
		n -= (size_t)w;
	}
	if (fsync(fd) < 0) {
		err_set(e, "cannot sync '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_set(e, "cannot close '%s': %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		err_set(e, "cannot rename '%s' to '%s': %s", tmp, path,
			strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int file_beside_self(const char *name, char *out, size_t n)
{
	char self[4096];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (len <= 0)
		return -1;
	self[len] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return (size_t)snprintf(out, n, "%s/%s", self, name) < n ? 0 : -1;
}

int file_write_new(const char *dir, const char *name, const char *ext, const void *data,
		   size_t n, char *out, size_t cap, struct err *e)
{
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return err_set(e, "cannot create %s: %s", dir, strerror(errno));
	for (int k = 0; k < 100; k++) {
		int len = k ? snprintf(out, cap, "%s/%s-%d.%s", dir, name, k, ext) :
			  snprintf(out, cap, "%s/%s.%s", dir, name, ext);
		int fd;
		size_t done = 0;

		if (len < 0 || (size_t)len >= cap)
			return err_set(e, "the file name in %s is too long", dir);
		fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0)
			return err_set(e, "cannot create %s: %s", out, strerror(errno));
		while (done < n) {
			ssize_t w = write(fd, (const char *)data + done, n - done);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			done += (size_t)w;
		}
		if (done < n || fsync(fd) < 0) {
			err_set(e, "cannot write %s: %s", out, strerror(errno));
			close(fd);
			unlink(out);
			return -1;
		}
		close(fd);
		return 0;
	}
	return err_set(e, "too many files named %s in %s", name, dir);
}
