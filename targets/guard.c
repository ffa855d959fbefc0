/* guard.c - forked, resource-limited decoding (see guard.h). */
#include "guard.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/fileio.h"
#include "../common/text.h"
#include "../common/banned.h"

void guard_limits_default(struct guard_limits *lim)
{
	lim->mem_bytes = GUARD_MEM_DEFAULT;
	lim->cpu_seconds = GUARD_CPU_DEFAULT;
	lim->wall_ms = GUARD_WALL_DEFAULT;
}

/* Address space the process maps already (sanitizers map terabytes). */
static unsigned long current_vm_bytes(void)
{
	unsigned long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%lu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return pages * (unsigned long)sysconf(_SC_PAGESIZE);
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void child_run(int fd, int (*fn)(void *, struct buf *), void *arg,
		      const struct guard_limits *lim)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct rlimit rl;
	struct buf out;
	int rc;

	/*
	 * A crash must end the child by its signal, so the parent can say
	 * "crashed"; handlers inherited from the parent (a sanitizer's, say)
	 * would turn it into an ordinary exit.
	 */
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], SIG_DFL);
	rl.rlim_cur = current_vm_bytes() + lim->mem_bytes;
	rl.rlim_max = rl.rlim_cur;
	setrlimit(RLIMIT_AS, &rl);
	rl.rlim_cur = lim->cpu_seconds;
	rl.rlim_max = lim->cpu_seconds + 1;
	setrlimit(RLIMIT_CPU, &rl);
	/* no core files from a crash on hostile input */
	rl.rlim_cur = rl.rlim_max = 0;
	setrlimit(RLIMIT_CORE, &rl);

	buf_init(&out, GUARD_OUT_MAX);
	rc = fn(arg, &out);
	if (out.overflow)
		rc = 3;
	write_all(fd, buf_str(&out), out.len);
	/* _exit: no atexit handlers, no stdio flush of the parent's buffers */
	_exit(rc == 0 ? 0 : rc > 0 && rc < 100 ? rc : 1);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000L + (t.tv_nsec - t0->tv_nsec) / 1000000L;
}

int guard_call(int (*fn)(void *arg, struct buf *out), void *arg,
	       const struct guard_limits *lim, struct buf *out, struct err *e)
{
	struct timespec t0;
	int fds[2], status = 0, timed_out = 0;
	char chunk[4096];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return err_set(e, "cannot create a pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return err_set(e, "cannot start the decoder process: %s",
			       strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		child_run(fds[1], fn, arg, lim);
	}
	close(fds[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { fds[0], POLLIN, 0 };
		long left = (long)lim->wall_ms - ms_since(&t0);
		ssize_t n;
		int pr;

		if (left <= 0) {
			timed_out = 1;
			break;
		}
		pr = poll(&pfd, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0) {
			timed_out = 1;
			break;
		}
		n = read(fds[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (!out->overflow)
			buf_add(out, chunk, (size_t)n);
	}
	close(fds[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out)
		return err_set(e, "decoder ran past its deadline of %u ms and was "
			       "stopped", lim->wall_ms);
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);

		if (sig == SIGXCPU || (sig == SIGKILL &&
				       ms_since(&t0) >= (long)lim->cpu_seconds * 1000))
			return err_set(e, "decoder ran over its CPU limit of %u s",
				       lim->cpu_seconds);
		return err_set(e, "decoder crashed (signal %d, %s)", sig,
			       strsignal(sig));
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

		if (code == 3)
			return err_set(e, "decoder output over %zu bytes",
				       (size_t)GUARD_OUT_MAX);
		return err_set(e, "decoder failed (exit status %d; memory limit "
			       "%lu MB)", code, lim->mem_bytes >> 20);
	}
	if (out->overflow)
		return err_set(e, "decoder output over its limit");
	return 0;
}

/*
 * What the child sends back, one record per line, byte strings framed by
 * their length:  "R <reason>\n" | "N <steps>\n" |
 * "F <steps> <step> <count>\n" then per code "<charset> <len>\n<bytes>".
 */
struct mem_job {
	const void *data;
	size_t len;
};

static int child_decode(void *arg, struct buf *out)
{
	struct mem_job *job = arg;
	struct decode_result r;
	struct image img;
	struct err e;

	if (image_load_mem(job->data, job->len, &img, &e) < 0) {
		for (char *p = e.msg; *p; p++)
			if (*p == '\n')
				*p = ' ';
		buf_addf(out, "R %s\n", e.msg);
		return 0;
	}
	if (decode_image(&img, &r, &e) < 0) {
		image_release(&img);
		return 2;
	}
	image_release(&img);
	if (r.n == 0) {
		buf_addf(out, "N %d\n", r.steps_tried);
		return 0;
	}
	buf_addf(out, "F %d %s %d\n", r.steps_tried, r.step, r.n);
	for (int i = 0; i < r.n; i++) {
		buf_addf(out, "%d %zu\n", (int)r.codes[i].charset, r.codes[i].raw_len);
		buf_add(out, r.codes[i].raw, r.codes[i].raw_len);
	}
	decode_result_release(&r);
	return 0;
}

/* Read "<a> <b>\n" style decimal fields from the reply. */
static int take_long(const char **p, const char *end, long *v)
{
	char *e;

	if (*p >= end)
		return -1;
	*v = strtol(*p, &e, 10);
	if (e == *p || e > end)
		return -1;
	*p = e;
	if (*p < end && (**p == ' ' || **p == '\n'))
		(*p)++;
	return 0;
}

static enum guard_status parse_reply(const struct buf *out,
				     struct decode_result *r, struct err *e)
{
	const char *p = buf_str(out), *end = p + out->len, *nl;
	const char *const *names = decode_steps();
	long steps, n, cs, len;

	if (out->len < 2)
		goto bad;
	if (p[0] == 'R') {
		nl = memchr(p, '\n', out->len);
		err_set(e, "%.*s", (int)((nl ? nl : end) - p - 2), p + 2);
		return GUARD_REFUSED;
	}
	p += 2;
	if (take_long(&p, end, &steps) < 0)
		goto bad;
	r->steps_tried = (int)steps;
	if (out->data[0] == 'N')
		return GUARD_NONE;
	if (out->data[0] != 'F')
		goto bad;
	nl = memchr(p, ' ', (size_t)(end - p));
	if (!nl)
		goto bad;
	for (size_t i = 0; names[i]; i++)
		if (strlen(names[i]) == (size_t)(nl - p) &&
		    memcmp(names[i], p, (size_t)(nl - p)) == 0)
			r->step = names[i];
	p = nl + 1;
	if (!r->step || take_long(&p, end, &n) < 0 || n < 1 ||
	    n > DECODE_MAX_CODES)
		goto bad;
	for (long i = 0; i < n; i++) {
		struct qr_code *c = &r->codes[r->n];
		char *text;

		if (take_long(&p, end, &cs) < 0 || take_long(&p, end, &len) < 0 ||
		    len < 1 || len > DECODE_MAX_PAYLOAD || end - p < len)
			goto bad;
		c->raw = malloc((size_t)len + 1);
		if (!c->raw)
			goto bad;
		memcpy(c->raw, p, (size_t)len);
		c->raw[len] = '\0';
		c->raw_len = (size_t)len;
		/* recompute rather than trust the child's charset */
		c->charset = qr_text_from_bytes(c->raw, c->raw_len, &text);
		c->text = text;
		(void)cs;
		r->n++;
		p += len;
	}
	return GUARD_FOUND;
bad:
	decode_result_release(r);
	err_set(e, "decoder sent back a malformed reply");
	return GUARD_FAILED;
}

enum guard_status guard_decode_mem(const void *data, size_t len,
				   const struct guard_limits *lim,
				   struct decode_result *r, struct err *e)
{
	struct mem_job job = { data, len };
	struct buf out;
	enum guard_status st;

	memset(r, 0, sizeof(*r));
	if (len > IMAGE_MAX_BYTES) {
		err_set(e, "image is %zu bytes, over the limit of %u bytes", len,
			IMAGE_MAX_BYTES);
		return GUARD_REFUSED;
	}
	buf_init(&out, GUARD_OUT_MAX);
	if (guard_call(child_decode, &job, lim, &out, e) < 0)
		st = GUARD_FAILED;
	else
		st = parse_reply(&out, r, e);
	buf_release(&out);
	return st;
}

enum guard_status guard_decode_file(const char *path,
				    const struct guard_limits *lim,
				    struct decode_result *r, struct err *e)
{
	enum guard_status st;
	size_t len;
	char *data;

	memset(r, 0, sizeof(*r));
	data = file_read(path, IMAGE_MAX_BYTES, &len, e);
	if (!data)
		return GUARD_REFUSED;
	st = guard_decode_mem(data, len, lim, r, e);
	free(data);
	if (st == GUARD_REFUSED || st == GUARD_FAILED)
		err_prefix(e, "'%s'", path);
	return st;
}
