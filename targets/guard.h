/* guard.h - running risky work (image and QR decoding) in a child process, or a program, under limits. */
#ifndef QRW_GUARD_H
#define QRW_GUARD_H

#include <stddef.h>

#include "decodereply.h"
#include "../common/buf.h"
#include "../common/err.h"

/*
 * ZBar's QR decoder has had critical memory bugs and image libraries parse
 * hostile input, so decoding runs in a forked child with an address-space
 * limit (on top of what the process already maps), a CPU-time limit and a
 * wall-clock deadline. A crash, a limit hit or a hang kills only the child
 * and comes back as an error saying which.
 */
struct guard_limits {
	unsigned long mem_bytes;	/* extra address space for the child */
	unsigned cpu_seconds;		/* CPU time before SIGXCPU */
	unsigned wall_ms;		/* wall-clock deadline, then SIGKILL */
};

#define GUARD_MEM_DEFAULT (256ul * 1024 * 1024)	/* a 40 Mpx image + variants */
#define GUARD_CPU_DEFAULT 10u
#define GUARD_WALL_DEFAULT 20000u
#define GUARD_OUT_MAX DECODE_REPLY_MAX

/* The defaults above. */
void guard_limits_default(struct guard_limits *lim);

/*
 * Run fn(arg, out) in a child under lim. What fn appends to out (at most
 * GUARD_OUT_MAX bytes) is copied back into the caller's out. Returns 0 when
 * fn returned 0 and the child exited cleanly; -1 with e saying what
 * happened otherwise ("decoder crashed (signal 11, Segmentation fault)",
 * "decoder ran over its CPU limit of 10 s", ...).
 */
int guard_call(int (*fn)(void *arg, struct buf *out), void *arg,
	       const struct guard_limits *lim, struct buf *out, struct err *e);

/*
 * The same, without blocking: guard_start() forks the child, the caller
 * polls j->fd (readable, or guard_left_ms() passed) and calls guard_poll()
 * until it returns 1, then guard_finish() (0, or -1 with e as above) and
 * guard_job_release(). Used by the probe so that decoding a board does not
 * stop its event loop.
 */
#include <sys/types.h>
#include <time.h>

struct guard_job {
	pid_t pid;
	int fd;				/* read end of the child's pipe, -1 when closed */
	struct buf out;
	struct guard_limits lim;
	struct timespec t0;
	int done, timed_out;
	int exit_status;		/* after guard_finish(): the child's exit status, -1 if killed */
};

int guard_start(struct guard_job *j, int (*fn)(void *arg, struct buf *out),
		void *arg, const struct guard_limits *lim, struct err *e);
int guard_poll(struct guard_job *j);
long guard_left_ms(const struct guard_job *j);
int guard_finish(struct guard_job *j, struct err *e);
void guard_job_release(struct guard_job *j);

/*
 * Run the program at path (argv[0] first, NULL-terminated) in a child
 * under lim, with stdin_fd as its standard input and a pipe as its
 * standard output, without blocking: then as guard_start(). The limits
 * are set before exec, so the program starts inside them, with the address
 * space a forked child would have had (what this process maps, plus
 * lim->mem_bytes). Exit status 127 is a program that could not start.
 */
int guard_exec_start(struct guard_job *j, const char *path, char *const argv[],
		     int stdin_fd, const struct guard_limits *lim, struct err *e);

#endif
