/* guard.c - forked, resource-limited work: a function in a child, or a program (see guard.h). */
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

static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };

/* In the child: the limits, and crashes that end it by their signal. */
static void child_limits(const struct guard_limits *lim, unsigned long as_bytes)
{
	struct rlimit rl;

	/*
	 * A crash must end the child by its signal, so the parent can say
	 * "crashed"; handlers inherited from the parent (a sanitizer's, say)
	 * would turn it into an ordinary exit.
	 */
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], SIG_DFL);
	rl.rlim_cur = as_bytes;
	rl.rlim_max = rl.rlim_cur;
	setrlimit(RLIMIT_AS, &rl);
	rl.rlim_cur = lim->cpu_seconds;
	rl.rlim_max = lim->cpu_seconds + 1;
	setrlimit(RLIMIT_CPU, &rl);
	/* no core files from a crash on hostile input */
	rl.rlim_cur = rl.rlim_max = 0;
	setrlimit(RLIMIT_CORE, &rl);
}

static void child_run(int fd, int (*fn)(void *, struct buf *), void *arg,
		      const struct guard_limits *lim)
{
	struct buf out;
	int rc;

	child_limits(lim, current_vm_bytes() + lim->mem_bytes);
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

/*
 * Fork a child that runs fn (or execs path with stdin_fd as its standard
 * input), its output into a pipe that j->fd reads.
 */
static int start(struct guard_job *j, int (*fn)(void *arg, struct buf *out), void *arg,
		 const char *path, char *const argv[], int stdin_fd,
		 const struct guard_limits *lim, struct err *e)
{
	int fds[2];
	unsigned long as_bytes = current_vm_bytes() + lim->mem_bytes;

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
		if (fn)
			child_run(fds[1], fn, arg, lim);
		/*
		 * The program gets the address space a forked child would have
		 * had (what the probe maps, plus the budget), the same CPU
		 * limit, stdin and stdout, and nothing else of the probe's.
		 */
		if (dup2(stdin_fd, 0) < 0 || dup2(fds[1], 1) < 0)
			_exit(126);
		child_limits(lim, as_bytes);
		execv(path, argv);
		_exit(127);
	}
	close(fds[1]);
	fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	j->fd = fds[0];
	clock_gettime(CLOCK_MONOTONIC, &j->t0);
	return 0;
}

int guard_start(struct guard_job *j, int (*fn)(void *arg, struct buf *out),
		void *arg, const struct guard_limits *lim, struct err *e)
{
	return start(j, fn, arg, NULL, NULL, -1, lim, e);
}

int guard_exec_start(struct guard_job *j, const char *path, char *const argv[],
		     int stdin_fd, const struct guard_limits *lim, struct err *e)
{
	if (access(path, X_OK) < 0)
		return err_set(e, "decoder program '%s' cannot be run: %s", path,
			       strerror(errno));
	return start(j, NULL, NULL, path, argv, stdin_fd, lim, e);
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
	j->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
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

		if (code == 127)
			return err_set(e, "the decoder program could not be started");
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

