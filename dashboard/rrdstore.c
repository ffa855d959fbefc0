/* rrdstore.c - RRD files through rrdcached's BATCH or librrd, created in the background (see rrdstore.h). */
#include "rrdstore.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rrd.h>

#include "../common/buf.h"
#include "../common/log.h"
#include "../common/banned.h"

#define RRDCACHED_START_MS 5000		/* for our rrdcached to take connections */
#define RRDCACHED_STOP_MS  60000	/* for one to write out what it holds and exit */
#define RRDCACHED_IO_MS    60000	/* for one answer (a FLUSH may write many files) */

/* ---- the table of files: which exist, which are being made, which were written ---- */

/*
 * F_UNKNOWN: not looked at yet; F_CREATING: waiting for the creator;
 * F_MADE: on disk, on_created writing what waited; F_READY: takes updates.
 */
enum fstate { F_UNKNOWN, F_CREATING, F_MADE, F_READY };

struct rrd_file {
	char probe[65], target[65];
	enum fstate state;
	long interval_s;
	int64_t first_ms;	/* the oldest sample waiting when its creation was asked */
	int64_t dirty_ms;	/* the newest sample written since the last checkpoint, 0 none */
};

/*
 * Entries are allocated one by one and never move or go until the store
 * is released: a growing table moves only its pointers, so a caller may
 * hold an entry across file_of() calls.
 */
struct rrd_files {
	struct rrd_file **slot;
	size_t cap, n;		/* cap a power of two, n <= cap / 2 */
	struct rrd_file **queue;	/* creations asked for, oldest first */
	size_t qn, qcap;
};

static uint64_t key_hash(const char *probe, const char *target)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)probe; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h = (h ^ '/') * 1099511628211ULL;
	for (const unsigned char *p = (const unsigned char *)target; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h;
}

static struct rrd_file **slot_for(struct rrd_files *t, const char *probe, const char *target)
{
	size_t i = (size_t)key_hash(probe, target) & (t->cap - 1);

	while (t->slot[i] && (strcmp(t->slot[i]->probe, probe) ||
			      strcmp(t->slot[i]->target, target)))
		i = (i + 1) & (t->cap - 1);
	return &t->slot[i];
}

static int grow(struct rrd_files *t)
{
	struct rrd_file **old = t->slot;
	size_t oldcap = t->cap, cap = oldcap ? oldcap * 2 : 1024;

	t->slot = calloc(cap, sizeof(*t->slot));
	if (!t->slot) {
		t->slot = old;
		return -1;
	}
	t->cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i])
			*slot_for(t, old[i]->probe, old[i]->target) = old[i];
	free(old);
	return 0;
}

/* The entry of (probe, target), made on first sight; NULL when the table is full. */
static struct rrd_file *file_of(struct rrd_files *t, const char *probe, const char *target)
{
	struct rrd_file **slot;

	if ((t->n + 1) * 2 > t->cap && (t->n >= RRD_FILES_MAX || grow(t) < 0))
		return NULL;
	slot = slot_for(t, probe, target);
	if (!*slot) {
		struct rrd_file *f = calloc(1, sizeof(*f));

		if (!f)
			return NULL;
		snprintf(f->probe, sizeof(f->probe), "%s", probe);
		snprintf(f->target, sizeof(f->target), "%s", target);
		*slot = f;
		t->n++;
	}
	return *slot;
}

void rrdstore_path(const struct rrdstore *s, const char *probe, const char *target,
		   char *out, size_t cap)
{
	/* ids are at most 64 bytes (ingest checks them) */
	snprintf(out, cap, "%s/%.64s/%.64s.rrd", s->dir, probe, target);
}

/* ---- talking to rrdcached ---- */

static int connect_to(const char *addr, struct err *e)
{
	const char *path = !strncmp(addr, "unix:", 5) ? addr + 5 : addr[0] == '/' ? addr : NULL;
	int fd;

	if (path) {
		struct sockaddr_un sa;

		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		if (strlen(path) >= sizeof(sa.sun_path))
			return err_set(e, "rrdcached socket path '%s' is too long", path);
		memcpy(sa.sun_path, path, strlen(path) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			int err = errno;

			if (fd >= 0)
				close(fd);
			return err_set(e, "cannot reach rrdcached at '%s': %s", addr, strerror(err));
		}
		return fd;
	}
	{
		char host[256], *colon;
		const char *port = "42217";
		struct addrinfo hints, *res = NULL;
		int rc;

		snprintf(host, sizeof(host), "%s", addr);
		colon = strrchr(host, ':');
		if (colon) {
			*colon = '\0';
			port = colon + 1;
		}
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		rc = getaddrinfo(host, port, &hints, &res);
		if (rc != 0)
			return err_set(e, "cannot find rrdcached at '%s': %s", addr, gai_strerror(rc));
		fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
			int err = errno;

			if (fd >= 0)
				close(fd);
			freeaddrinfo(res);
			return err_set(e, "cannot reach rrdcached at '%s': %s", addr, strerror(err));
		}
		freeaddrinfo(res);
		/*
		 * A BATCH is several small writes, each waiting for an answer:
		 * with Nagle's algorithm every exchange waited for a delayed ACK
		 * (40 ms), 11 s for a start's 252 results on loopback.
		 */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
		return fd;
	}
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One line of the answer into line (without the newline). -1 on error or timeout. */
static int read_line(int fd, struct buf *in, char *line, size_t cap)
{
	for (;;) {
		char *nl = in->data ? memchr(in->data, '\n', in->len) : NULL;

		if (nl) {
			size_t n = (size_t)(nl - in->data);

			snprintf(line, cap, "%.*s", (int)n, in->data);
			memmove(in->data, nl + 1, in->len - n - 1);
			in->len -= n + 1;
			return 0;
		}
		{
			struct pollfd pfd = { fd, POLLIN, 0 };
			char chunk[4096];
			ssize_t r;

			if (poll(&pfd, 1, RRDCACHED_IO_MS) <= 0)
				return -1;
			r = recv(fd, chunk, sizeof(chunk), 0);
			if (r <= 0 || buf_add(in, chunk, (size_t)r) < 0)
				return -1;
		}
	}
}

/*
 * Run a BATCH of commands (one per line in cmds) on fd. Each error is
 * given to on_error(ctx, command number from 1, message). Returns the
 * number of errors, or -1 when the exchange itself failed.
 */
static int batch(int fd, const struct buf *cmds,
		 void (*on_error)(void *ctx, long cmd, const char *msg), void *ctx)
{
	struct buf in;
	char line[1024];
	long nerr, got = 0;
	int rc = -1;

	buf_init(&in, 1 << 20);
	if (write_all(fd, "BATCH\n", 6) < 0 || read_line(fd, &in, line, sizeof(line)) < 0 ||
	    line[0] != '0')
		goto out;
	if (write_all(fd, cmds->data ? cmds->data : "", cmds->len) < 0 ||
	    write_all(fd, ".\n", 2) < 0 || read_line(fd, &in, line, sizeof(line)) < 0)
		goto out;
	/* "N errors", then one line per error: "CMDNO message" */
	nerr = strtol(line, NULL, 10);
	while (got < nerr && read_line(fd, &in, line, sizeof(line)) == 0) {
		char *msg;
		long cmd = strtol(line, &msg, 10);

		on_error(ctx, cmd, msg + strspn(msg, " "));
		got++;
	}
	if (got == nerr)
		rc = (int)nerr;
out:
	buf_release(&in);
	return rc;
}

/* ---- our own rrdcached ---- */

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* One left by a qrwatchd that died may still be writing out its cache: let it finish. */
static void wait_for_old(const char *pidfile)
{
	FILE *f = fopen(pidfile, "r");
	long pid = 0;
	int64_t until = mono_ms() + RRDCACHED_STOP_MS;

	if (!f)
		return;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	if (pid <= 1)
		return;
	while (kill((pid_t)pid, 0) == 0 && mono_ms() < until)
		sleep_ms(100);
	if (kill((pid_t)pid, 0) == 0) {
		LOG(LOG_LVL_WARN, NULL, "rrdcached %ld did not stop in time: killed (what it held "
		    "is written again from the database)", pid);
		kill((pid_t)pid, SIGKILL);
		sleep_ms(200);
	}
}

/*
 * Start rrdcached on DATA_DIR/rrdcached.sock, tied to us: it gets SIGTERM
 * when qrwatchd dies, and writes out what it holds (-F) before it exits.
 * Returns 0, 1 when the program is not installed, -1 with e.
 */
static int spawn(struct rrdstore *s, const char *data_dir, struct err *e)
{
	char sock[1100], pidfile[1100], listen[1110];
	int64_t until;
	pid_t pid;

	snprintf(sock, sizeof(sock), "%s/rrdcached.sock", data_dir);
	snprintf(pidfile, sizeof(pidfile), "%s/rrdcached.pid", data_dir);
	snprintf(listen, sizeof(listen), "unix:%s", sock);
	wait_for_old(pidfile);
	unlink(sock);
	unlink(pidfile);
	pid = fork();
	if (pid < 0)
		return err_set(e, "cannot start rrdcached: %s", strerror(errno));
	if (pid == 0) {
		/* execvp() takes char *const[]: copies, in the child only */
		static char a0[] = "rrdcached", g[] = "-g", l[] = "-l", p[] = "-p", b[] = "-b",
			    bb[] = "-B", ff[] = "-F", w[] = "-w", wv[] = "3600", f[] = "-f",
			    fv[] = "7200", z[] = "-z", zv[] = "360";
		char *const argv[] = { a0, g, l, listen, p, pidfile, b, s->dir, bb, ff, w, wv, f,
				       fv, z, zv, NULL };

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(1);	/* we were orphaned already */
		execvp("rrdcached", argv);
		_exit(127);
	}
	until = mono_ms() + RRDCACHED_START_MS;
	for (;;) {
		int status, fd;
		struct err ce;

		if (waitpid(pid, &status, WNOHANG) == pid) {
			if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
				return 1;
			return err_set(e, "rrdcached stopped at once (status %d)", status);
		}
		fd = connect_to(listen, &ce);
		if (fd >= 0) {
			s->fd = fd;
			s->child = pid;
			s->via_cached = 1;
			snprintf(s->cached, sizeof(s->cached), "%s", listen);
			return 0;
		}
		if (mono_ms() > until) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return err_set(e, "rrdcached did not open '%s' in time", sock);
		}
		sleep_ms(20);
	}
}

/* ---- creating files ---- */

static long clamp_step(long interval_s)
{
	return interval_s < RRD_STEP_MIN ? RRD_STEP_MIN : interval_s > RRD_STEP_MAX ?
	       RRD_STEP_MAX : interval_s;
}

static int create(const char *path, long interval_s, time_t start, struct err *e)
{
	static const char *const names[8] = { "avail", "total", "dns", "connect",
					      "tls", "ttfb", "step", "status" };
	long step = clamp_step(interval_s);
	long hour = 3600 / step > 0 ? (3600 + step / 2) / step : 1;
	long day = (86400 + step / 2) / step;
	char ds[8][80], rra[7][64];
	const char *argv[15];
	int argc = 0;

	for (int i = 0; i < 8; i++) {
		snprintf(ds[i], sizeof(ds[i]), "DS:%s:GAUGE:%ld:0:%s", names[i], step * 3,
			 i == 0 ? "1" : "U");
		argv[argc++] = ds[i];
	}
	/*
	 * A detail row holds one check, so its MIN and MAX would equal its
	 * AVERAGE: that archive is AVERAGE only.
	 */
	snprintf(rra[0], sizeof(rra[0]), "RRA:AVERAGE:0.5:1:%ld", RRD_DETAIL_S / step);
	snprintf(rra[1], sizeof(rra[1]), "RRA:AVERAGE:0.5:%ld:2160", hour);
	snprintf(rra[2], sizeof(rra[2]), "RRA:MIN:0.5:%ld:2160", hour);
	snprintf(rra[3], sizeof(rra[3]), "RRA:MAX:0.5:%ld:2160", hour);
	snprintf(rra[4], sizeof(rra[4]), "RRA:AVERAGE:0.5:%ld:1825", day);
	snprintf(rra[5], sizeof(rra[5]), "RRA:MIN:0.5:%ld:1825", day);
	snprintf(rra[6], sizeof(rra[6]), "RRA:MAX:0.5:%ld:1825", day);
	for (int i = 0; i < 7; i++)
		argv[argc++] = rra[i];
	rrd_clear_error();
	if (rrd_create_r(path, (unsigned long)step, start, argc, argv) != 0)
		return err_set(e, "cannot create '%s': %s", path, rrd_get_error());
	return 0;
}

static void *creator(void *arg)
{
	struct rrdstore *s = arg;

	pthread_setname_np(pthread_self(), "qrw-rrd-create");
	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct rrd_file *round[RRD_CREATE_ROUND];
		long interval[RRD_CREATE_ROUND];
		int64_t first[RRD_CREATE_ROUND];
		struct rrd_made made[RRD_CREATE_ROUND];
		size_t n, nmade = 0;

		while ((!s->files->qn || mono_ms() < s->retry_ms) && !s->stopping) {
			if (s->files->qn) {
				/* the files wait while rrdcached cannot be reached */
				struct timespec ts;

				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_nsec += 200 * 1000000L;
				if (ts.tv_nsec >= 1000000000L) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000L;
				}
				pthread_cond_timedwait(&s->wake, &s->lock, &ts);
			} else {
				pthread_cond_wait(&s->wake, &s->lock);
			}
		}
		if (s->stopping)
			break;
		n = s->files->qn < RRD_CREATE_ROUND ? s->files->qn : RRD_CREATE_ROUND;
		for (size_t i = 0; i < n; i++) {
			round[i] = s->files->queue[i];
			interval[i] = round[i]->interval_s;
			first[i] = round[i]->first_ms;
		}
		memmove(&s->files->queue[0], &s->files->queue[n],
			(s->files->qn - n) * sizeof(s->files->queue[0]));
		s->files->qn -= n;
		pthread_mutex_unlock(&s->lock);
		for (size_t i = 0; i < n; i++) {
			/* an entry's ids never change: read without the lock */
			const char *probe = round[i]->probe, *target = round[i]->target;
			char path[1400], dir[1200];
			struct err e;
			int ok;

			/* the slow part, while ingest goes on: a file is a megabyte of rows */
			snprintf(dir, sizeof(dir), "%s/%.64s", s->dir, probe);
			rrdstore_path(s, probe, target, path, sizeof(path));
			ok = (mkdir(dir, 0750) == 0 || errno == EEXIST) &&
			     (access(path, F_OK) == 0 ||
			      /* a day before the oldest waiting sample: late ones still fit */
			      create(path, interval[i], (time_t)(first[i] / 1000) - 86400, &e) == 0);
			if (!ok)
				LOG(LOG_LVL_ERROR, "rrd-create", "%s",
				    access(dir, W_OK) ? strerror(errno) : e.msg);
			pthread_mutex_lock(&s->lock);
			round[i]->state = !ok ? F_UNKNOWN : s->on_created ? F_MADE : F_READY;
			pthread_mutex_unlock(&s->lock);
			if (ok && s->on_created) {
				memcpy(made[nmade].probe, probe, sizeof(made[0].probe));
				memcpy(made[nmade].target, target, sizeof(made[0].target));
				nmade++;
			}
		}
		if (nmade)
			s->on_created(s->created_ctx, made, nmade);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* Queue f for the creator: made if missing, then given to on_created (under the lock). */
static int ask_create(struct rrdstore *s, struct rrd_file *f, long interval_s, int64_t first_ms)
{
	struct rrd_files *t = s->files;

	if (f->state == F_CREATING)
		return 0;
	if (t->qn == t->qcap) {
		size_t nc = t->qcap ? t->qcap * 2 : 64;
		void *q = realloc(t->queue, nc * sizeof(*t->queue));

		if (!q)
			return -1;
		t->queue = q;
		t->qcap = nc;
	}
	t->queue[t->qn++] = f;
	f->state = F_CREATING;
	f->interval_s = interval_s;
	f->first_ms = first_ms;
	pthread_cond_signal(&s->wake);
	return 0;
}

void rrdstore_ready(struct rrdstore *s, const char *probe, const char *target)
{
	struct rrd_file *f;

	pthread_mutex_lock(&s->lock);
	f = file_of(s->files, probe, target);
	if (f && f->state == F_MADE)
		f->state = F_READY;
	pthread_mutex_unlock(&s->lock);
}

/*
 * rrdcached went away: what it held since the last checkpoint may be
 * gone with it, so every file written since then has its updates written
 * again, from above its mark (under the lock).
 */
static void connection_lost(struct rrdstore *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->retry_ms = mono_ms() + 1000;
	for (size_t i = 0; i < s->files->cap; i++) {
		struct rrd_file *f = s->files->slot[i];

		if (f && f->dirty_ms && f->state == F_READY)
			ask_create(s, f, f->interval_s, f->dirty_ms);
	}
}

/* A connection to rrdcached, starting ours again if it died (under the lock). 0 or -1. */
static int connection(struct rrdstore *s, struct err *e)
{
	int status;

	if (s->fd >= 0)
		return 0;
	if (mono_ms() < s->retry_ms)
		return err_set(e, "rrdcached at '%s' is not reachable; trying again shortly",
			       s->cached);
	if (s->child > 0 && waitpid(s->child, &status, WNOHANG) == s->child) {
		LOG(LOG_LVL_WARN, NULL, "rrdcached stopped (status %d): started again; what it "
		    "held is written again from the database", status);
		s->child = 0;
		if (spawn(s, s->data_dir, e) != 0) {
			s->retry_ms = mono_ms() + 1000;
			return -1;
		}
		return 0;
	}
	s->fd = connect_to(s->cached, e);
	if (s->fd < 0) {
		s->retry_ms = mono_ms() + 1000;
		return -1;
	}
	return 0;
}

/* ---- set-up ---- */

int rrdstore_init(struct rrdstore *s, const char *data_dir, const char *cached,
		  void (*on_created)(void *ctx, const struct rrd_made *made, size_t n),
		  void *ctx, struct err *e)
{
	char dir[1100], abs[PATH_MAX];

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->on_created = on_created;
	s->created_ctx = ctx;
	snprintf(dir, sizeof(dir), "%s/rrd", data_dir);
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return err_set(e, "cannot create '%s': %s", dir, strerror(errno));
	/* rrdcached takes absolute paths only, under its base directory */
	if (!realpath(dir, abs) || strlen(abs) >= sizeof(s->dir))
		return err_set(e, "cannot resolve '%s': %s", dir, strerror(errno ? errno : ENAMETOOLONG));
	snprintf(s->dir, sizeof(s->dir), "%s", abs);
	if (!realpath(data_dir, abs) || strlen(abs) >= sizeof(s->data_dir))
		return err_set(e, "cannot resolve '%s': %s", data_dir, strerror(errno ? errno : ENAMETOOLONG));
	snprintf(s->data_dir, sizeof(s->data_dir), "%s", abs);
	s->files = calloc(1, sizeof(*s->files));
	if (!s->files || grow(s->files) < 0)
		return err_set(e, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	if (!cached || !*cached) {
		int rc = spawn(s, s->data_dir, e);

		if (rc < 0)
			goto fail;
		if (rc == 1)
			LOG(LOG_LVL_WARN, NULL, "rrdcached is not installed (Debian package "
			    "rrdcached): writing RRD files directly, which is slower");
	} else if (strcmp(cached, "off") != 0) {
		snprintf(s->cached, sizeof(s->cached), "%s", cached);
		s->via_cached = 1;
		s->fd = connect_to(cached, e);
		if (s->fd < 0)
			goto fail;
	}
	if (pthread_create(&s->thread, NULL, creator, s) != 0) {
		err_set(e, "cannot start the RRD file creator");
		goto fail;
	}
	s->started = 1;
	return 0;
fail:
	rrdstore_release(s);
	return -1;
}

void rrdstore_stop_creating(struct rrdstore *s)
{
	if (!s->started)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	s->started = 0;
}

void rrdstore_release(struct rrdstore *s)
{
	rrdstore_stop_creating(s);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->child > 0) {
		int64_t until = mono_ms() + RRDCACHED_STOP_MS;

		/* it writes out what it holds (-F), then exits */
		kill(s->child, SIGTERM);
		while (waitpid(s->child, NULL, WNOHANG) == 0 && mono_ms() < until)
			sleep_ms(50);
		if (kill(s->child, 0) == 0) {
			kill(s->child, SIGKILL);
			waitpid(s->child, NULL, 0);
		}
		s->child = 0;
	}
	if (s->files) {
		for (size_t i = 0; i < s->files->cap; i++)
			free(s->files->slot[i]);
		free(s->files->slot);
		free(s->files->queue);
		free(s->files);
		s->files = NULL;
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->wake);
	}
}

/* ---- writing ---- */

struct sent {
	struct rrd_file **file;		/* per command: the file, or NULL once settled */
	int64_t *ms;			/* its result's time */
	long *interval;			/* its target's interval */
	size_t n;
	struct rrdstore_counts *c;
	struct rrdstore *s;
	int again, failed;
	char first_error[256];
};

static int is_refusal(const char *msg)
{
	return strstr(msg, "illegal attempt") || strstr(msg, "minimum one second");
}

static void written(struct rrd_file *f, int64_t ms)
{
	if (ms > f->dirty_ms)
		f->dirty_ms = ms;
}

static void on_update_error(void *ctx, long cmd, const char *msg)
{
	struct sent *t = ctx;
	struct rrd_file *f;

	if (cmd < 1 || (size_t)cmd > t->n || !(f = t->file[cmd - 1]))
		return;
	t->file[cmd - 1] = NULL;
	t->c->written--;
	t->s->written--;
	if (is_refusal(msg)) {
		/* not newer than the file's last update: kept in SQLite only */
		t->c->refused++;
		if (!t->again)
			t->s->refused++;
		else
			written(f, t->ms[cmd - 1]);	/* held already: marked, not replayed again */
		return;
	}
	/* gone since we looked (made again), or not taken: written again later */
	t->c->deferred++;
	if (strstr(msg, "No such file")) {
		f->state = F_UNKNOWN;
		return;
	}
	if (!t->failed)
		snprintf(t->first_error, sizeof(t->first_error), "%s", msg);
	t->failed = 1;
	ask_create(t->s, f, t->interval[cmd - 1], t->ms[cmd - 1]);
}

/*
 * A result with no step (a board judged alone: TAMPERED, UNREADABLE, or a
 * board read by a probe that leaves the flow to others) timed nothing: its
 * phases go in as unknown, never as 0 ms.
 */
static void value(const struct rrd_sample *x, char *out, size_t cap)
{
	if (x->step == 0)
		snprintf(out, cap, "%lld:%d:U:U:U:U:U:0:%d", (long long)x->when, x->avail,
			 x->status);
	else
		snprintf(out, cap, "%lld:%d:%.3f:%.3f:%.3f:%.3f:%.3f:%d:%d", (long long)x->when,
			 x->avail, x->total_ms, x->dns_ms, x->connect_ms, x->tls_ms, x->ttfb_ms,
			 x->step, x->status);
}

/* Through librrd, one update at a time (no rrdcached). */
static int write_direct(struct rrdstore *s, struct rrd_file *f, const struct rrd_write *w,
			int again, struct rrdstore_counts *c, struct err *e)
{
	char path[1400], val[256];
	const char *argv[1] = { val };

	rrdstore_path(s, f->probe, f->target, path, sizeof(path));
	value(&w->x, val, sizeof(val));
	rrd_clear_error();
	if (rrd_update_r(path, NULL, 1, argv) != 0) {
		const char *why = rrd_get_error();

		if (why && is_refusal(why)) {
			c->refused++;
			if (!again)
				s->refused++;
			else
				written(f, w->time_ms);	/* held already: marked, not replayed again */
			return 0;
		}
		c->deferred++;
		if (access(path, F_OK) != 0) {
			f->state = F_UNKNOWN;	/* gone: made again */
			return 0;
		}
		s->retry_ms = mono_ms() + 1000;
		ask_create(s, f, w->interval_s, w->time_ms);
		return err_set(e, "cannot update '%s': %s", path, why ? why : "?");
	}
	c->written++;
	s->written++;
	written(f, w->time_ms);
	return 0;
}

/* Send what t holds to rrdcached as one BATCH (under the lock). 0 or -1 with e. */
static int send_batch(struct rrdstore *s, struct sent *t, struct buf *cmds, struct err *e)
{
	int rc = 0;

	if (batch(s->fd, cmds, on_update_error, t) < 0) {
		/* none of them is known taken: all written again, with what rrdcached held */
		for (size_t k = 0; k < t->n; k++)
			if (t->file[k]) {
				t->c->written--;
				t->s->written--;
				t->c->deferred++;
				ask_create(s, t->file[k], t->interval[k], t->ms[k]);
			}
		connection_lost(s);
		rc = err_set(e, "rrdcached at '%s' did not take a batch of updates (written "
			     "again when it is back)", s->cached);
	} else {
		if (t->failed)
			rc = err_set(e, "rrdcached refused an update: %s", t->first_error);
		for (size_t k = 0; k < t->n; k++)
			if (t->file[k])
				written(t->file[k], t->ms[k]);
	}
	t->n = 0;
	t->failed = 0;
	buf_reset(cmds);
	return rc;
}

int rrdstore_write(struct rrdstore *s, const struct rrd_write *w, size_t n, int again,
		   struct rrdstore_counts *c, struct err *e)
{
	size_t cap = n < RRD_BATCH_MAX ? n : RRD_BATCH_MAX;
	struct buf cmds;
	struct sent t;
	int rc = 0;

	memset(&t, 0, sizeof(t));
	t.c = c;
	t.s = s;
	t.again = again;
	t.file = calloc(cap ? cap : 1, sizeof(*t.file));
	t.ms = calloc(cap ? cap : 1, sizeof(*t.ms));
	t.interval = calloc(cap ? cap : 1, sizeof(*t.interval));
	buf_init(&cmds, 64u * 1024 * 1024);
	if (!t.file || !t.ms || !t.interval) {
		free(t.file);
		free(t.ms);
		free(t.interval);
		return err_set(e, "out of memory");
	}
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < n; i++) {
		struct rrd_file *f = file_of(s->files, w[i].probe, w[i].target);
		char path[1400], val[256];
		struct err we;

		if (!f) {
			if (!rc)
				rc = err_set(e, "more than %d RRD files", RRD_FILES_MAX);
			c->deferred++;
			continue;
		}
		if (f->state == F_UNKNOWN) {
			rrdstore_path(s, f->probe, f->target, path, sizeof(path));
			f->interval_s = w[i].interval_s;
			if (access(path, F_OK) == 0)
				f->state = F_READY;
			else if (ask_create(s, f, w[i].interval_s, w[i].time_ms) < 0 && !rc)
				rc = err_set(e, "out of memory");
		}
		/* a file being made takes only what on_created writes again */
		if (f->state != F_READY && !(again && f->state == F_MADE)) {
			c->deferred++;
			continue;
		}
		if (!s->via_cached) {
			if (write_direct(s, f, &w[i], again, c, &we) < 0 && !rc)
				rc = err_set(e, "%s", we.msg);
			continue;
		}
		if (connection(s, &we) < 0) {
			if (!rc)
				rc = err_set(e, "%s", we.msg);
			c->deferred++;
			ask_create(s, f, w[i].interval_s, w[i].time_ms);
			continue;
		}
		rrdstore_path(s, f->probe, f->target, path, sizeof(path));
		value(&w[i].x, val, sizeof(val));
		buf_addf(&cmds, "UPDATE %s %s\n", path, val);
		t.file[t.n] = f;
		t.ms[t.n] = w[i].time_ms;
		t.interval[t.n] = w[i].interval_s;
		t.n++;
		c->written++;
		s->written++;
		if (t.n == cap && send_batch(s, &t, &cmds, &we) < 0 && !rc)
			rc = err_set(e, "%s", we.msg);
	}
	if (t.n) {
		struct err we;

		if (send_batch(s, &t, &cmds, &we) < 0 && !rc)
			rc = err_set(e, "%s", we.msg);
	}
	pthread_mutex_unlock(&s->lock);
	buf_release(&cmds);
	free(t.file);
	free(t.ms);
	free(t.interval);
	return rc;
}

/* ---- making it durable ---- */

struct dirty {
	char probe[65], target[65];
	int64_t ms;
};

/* A FLUSH's error that is none: rrdcached holds nothing for the file, which is on disk already. */
static int holds_nothing(const char *msg)
{
	return strstr(msg, "No such file") != NULL;
}

static void on_flush_error(void *ctx, long cmd, const char *msg)
{
	int *failed = ctx;

	(void)cmd;
	if (!holds_nothing(msg))
		*failed = 1;
}

int rrdstore_flush(const struct rrdstore *s, const char *probe, const char *target, struct err *e)
{
	struct buf in;
	char path[1400], cmd[1420], line[1024];
	int fd, n, rc = 0;

	e->msg[0] = '\0';
	if (!s->via_cached)
		return 0;	/* written directly: on disk already */
	fd = connect_to(s->cached, e);
	if (fd < 0)
		return -1;
	rrdstore_path(s, probe, target, path, sizeof(path));
	n = snprintf(cmd, sizeof(cmd), "FLUSH %s\n", path);
	buf_init(&in, 1 << 16);	/* the answer may quote the path */
	/* one command, one line back: "0 ..." once written, "-1 ..." if not */
	if (write_all(fd, cmd, (size_t)n) < 0 || read_line(fd, &in, line, sizeof(line)) < 0)
		rc = err_set(e, "rrdcached at '%s' did not answer a FLUSH", s->cached);
	else if (line[0] == '-' && !holds_nothing(line))
		rc = err_set(e, "rrdcached could not write the file out: %s",
			     line + strspn(line, "-0123456789 "));
	buf_release(&in);
	close(fd);
	return rc;
}

int rrdstore_checkpoint(struct rrdstore *s,
			int (*mark)(void *ctx, const char *probe, const char *target,
				    int64_t ms),
			void *ctx, struct err *e)
{
	struct dirty *d = NULL;
	size_t n = 0, cap = 0;
	int fd, failed = 0;

	e->msg[0] = '\0';
	/* what was written since the last checkpoint: taken, to be marked once on disk */
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->files->cap; i++) {
		struct rrd_file *f = s->files->slot[i];

		if (!f || !f->dirty_ms)
			continue;
		if (n == cap) {
			struct dirty *g = realloc(d, (cap = cap ? cap * 2 : 256) * sizeof(*g));

			if (!g) {
				pthread_mutex_unlock(&s->lock);
				free(d);
				return err_set(e, "out of memory");
			}
			d = g;
		}
		snprintf(d[n].probe, sizeof(d[n].probe), "%s", f->probe);
		snprintf(d[n].target, sizeof(d[n].target), "%s", f->target);
		d[n].ms = f->dirty_ms;
		f->dirty_ms = 0;
		n++;
	}
	pthread_mutex_unlock(&s->lock);
	if (!n)
		return 0;
	/* rrdcached writes them out (on a connection of its own: ingest goes on) */
	if (s->via_cached) {
		struct buf cmds;
		int cfd = connect_to(s->cached, e);

		if (cfd < 0) {
			failed = 1;
		} else {
			buf_init(&cmds, 64u * 1024 * 1024);
			for (size_t i = 0; i < n; i++) {
				char path[1400];

				rrdstore_path(s, d[i].probe, d[i].target, path, sizeof(path));
				buf_addf(&cmds, "FLUSH %s\n", path);
			}
			if (batch(cfd, &cmds, on_flush_error, &failed) < 0)
				failed = 1;
			buf_release(&cmds);
			close(cfd);
		}
	}
	/* librrd never syncs: one sync of the filesystem for every file at once */
	fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!failed && (fd < 0 || syncfs(fd) < 0))
		failed = 1;
	if (fd >= 0)
		close(fd);
	if (failed) {
		/*
		 * Put them back for the next checkpoint; and since rrdcached may
		 * have gone with what it held, their updates are written again.
		 */
		pthread_mutex_lock(&s->lock);
		for (size_t i = 0; i < n; i++) {
			struct rrd_file *f = file_of(s->files, d[i].probe, d[i].target);

			if (!f)
				continue;
			written(f, d[i].ms);
			if (f->state == F_READY)
				ask_create(s, f, f->interval_s, d[i].ms);
		}
		pthread_mutex_unlock(&s->lock);
		free(d);
		if (!e->msg[0])
			err_set(e, "RRD files could not be made durable");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (mark(ctx, d[i].probe, d[i].target, d[i].ms) < 0) {
			free(d);
			return err_set(e, "the RRD marks could not be kept");
		}
	free(d);
	return (int)n;
}
