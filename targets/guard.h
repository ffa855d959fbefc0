/* guard.h - running risky work (image and QR decoding) in a child process under limits. */
#ifndef QRW_GUARD_H
#define QRW_GUARD_H

#include <stddef.h>

#include "decode.h"
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
#define GUARD_OUT_MAX ((size_t)DECODE_MAX_CODES * (DECODE_MAX_PAYLOAD + 64) + 1024)

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
};

int guard_start(struct guard_job *j, int (*fn)(void *arg, struct buf *out),
		void *arg, const struct guard_limits *lim, struct err *e);
int guard_poll(struct guard_job *j);
long guard_left_ms(const struct guard_job *j);
int guard_finish(struct guard_job *j, struct err *e);
void guard_job_release(struct guard_job *j);

/* How a guarded decode ended. */
enum guard_status {
	GUARD_FOUND,	/* at least one code in r */
	GUARD_NONE,	/* image read, no code found */
	GUARD_REFUSED,	/* image refused: too large, corrupt, unknown format */
	GUARD_FAILED,	/* the decoder crashed or hit a limit */
};

/*
 * Load and decode an image held in memory, in a guarded child. Returns the
 * status; r holds the codes for GUARD_FOUND (release it with
 * decode_result_release()), e the reason for REFUSED and FAILED.
 */
enum guard_status guard_decode_mem(const void *data, size_t len,
				   const struct guard_limits *lim,
				   struct decode_result *r, struct err *e);

/* guard_decode_mem() in two halves, for an event loop (see guard_start()). */
int guard_decode_start(struct guard_job *j, const void *data, size_t len,
		       const struct guard_limits *lim, struct err *e);
enum guard_status guard_decode_finish(struct guard_job *j,
				      struct decode_result *r, struct err *e);

/*
 * A decoding child's reply (the job's out, once guard_finish() said 0)
 * into r: for a caller that keeps the reply to read it again later.
 */
enum guard_status guard_reply_parse(const struct buf *reply, struct decode_result *r,
				    struct err *e);

/* guard_decode_mem() on a file (read, capped at IMAGE_MAX_BYTES, by the caller). */
enum guard_status guard_decode_file(const char *path,
				    const struct guard_limits *lim,
				    struct decode_result *r, struct err *e);

#endif
