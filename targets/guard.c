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

int guard_start(struct guard_job *j, int (*fn)(void *arg, struct buf *out),
		void *arg, const struct guard_limits *lim, struct err *e)
{
	int fds[2];

	memset(j, 0, sizeof(*j));
	j->fd = -1;
	j->lim = *lim;
	buf_init(&j->out, GUARD_OUT_MAX);
	if (pipe2(fds, O_CLOEXEC) < 0)
		return err_set(e, "cannot create a pipe: %s", strerror(errno));
	fflush(NULL);
	j->pid = fork();
	if (j->pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return err_set(e, "cannot start the decoder process: %s",
			       strerror(errno));
	}
	if (j->pid == 0) {
		close(fds[0]);
		child_run(fds[1], fn, arg, lim);
	}
	close(fds[1]);
	fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	j->fd = fds[0];
	clock_gettime(CLOCK_MONOTONIC, &j->t0);
	return 0;
}

int guard_poll(struct guard_job *j)
{
	char chunk[4096];

	if (j->done)
		return 1;
	for (;;) {
		ssize_t n = read(j->fd, chunk, sizeof(chunk));

		if (n > 0) {
			if (!j->out.overflow)
				buf_add(&j->out, chunk, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (ms_since(&j->t0) >= (long)j->lim.wall_ms) {
				j->timed_out = 1;
				j->done = 1;
			}
			return j->done;
		}
		j->done = 1;	/* end of file: the child has finished */
		return 1;
	}
}

long guard_left_ms(const struct guard_job *j)
{
	long left = (long)j->lim.wall_ms - ms_since(&j->t0);

	return left > 0 ? left : 0;
}

int guard_finish(struct guard_job *j, struct err *e)
{
	int status = 0;

	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	if (!j->done || j->timed_out)
		kill(j->pid, SIGKILL);
	while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!j->done)
		return err_set(e, "decoder stopped before it finished");
	if (j->timed_out)
		return err_set(e, "decoder ran past its deadline of %u ms and was "
			       "stopped", j->lim.wall_ms);
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);

		if (sig == SIGXCPU || (sig == SIGKILL &&
				       ms_since(&j->t0) >= (long)j->lim.cpu_seconds * 1000))
			return err_set(e, "decoder ran over its CPU limit of %u s",
				       j->lim.cpu_seconds);
		return err_set(e, "decoder crashed (signal %d, %s)", sig,
			       strsignal(sig));
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

		if (code == 3)
			return err_set(e, "decoder output over %zu bytes",
				       (size_t)GUARD_OUT_MAX);
		return err_set(e, "decoder failed (exit status %d; memory limit "
			       "%lu MB)", code, j->lim.mem_bytes >> 20);
	}
	if (j->out.overflow)
		return err_set(e, "decoder output over its limit");
	return 0;
}

void guard_job_release(struct guard_job *j)
{
	if (j->fd >= 0) {
		close(j->fd);
		j->fd = -1;
		kill(j->pid, SIGKILL);
		while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	buf_release(&j->out);
}

int guard_call(int (*fn)(void *arg, struct buf *out), void *arg,
	       const struct guard_limits *lim, struct buf *out, struct err *e)
{
	struct guard_job j;
	int rc;

	if (guard_start(&j, fn, arg, lim, e) < 0) {
		guard_job_release(&j);
		return -1;
	}
	while (!guard_poll(&j)) {
		struct pollfd pfd = { j.fd, POLLIN, 0 };

		poll(&pfd, 1, (int)guard_left_ms(&j) + 1);
	}
	rc = guard_finish(&j, e);
	if (rc == 0 && buf_add(out, j.out.data ? j.out.data : "", j.out.len) < 0)
		rc = err_set(e, "decoder output over its limit");
	guard_job_release(&j);
	return rc;
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

enum guard_status guard_reply_parse(const struct buf *out, struct decode_result *r,
				    struct err *e)
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

int guard_decode_start(struct guard_job *j, const void *data, size_t len,
		       const struct guard_limits *lim, struct err *e)
{
	struct mem_job job = { data, len };

	/* the child gets its own copy of data with fork(): job may go out of scope */
	return guard_start(j, child_decode, &job, lim, e);
}

enum guard_status guard_decode_finish(struct guard_job *j,
				      struct decode_result *r, struct err *e)
{
	enum guard_status st;

	memset(r, 0, sizeof(*r));
	if (guard_finish(j, e) < 0)
		st = GUARD_FAILED;
	else
		st = guard_reply_parse(&j->out, r, e);
	guard_job_release(j);
	return st;
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
		st = guard_reply_parse(&out, r, e);
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
