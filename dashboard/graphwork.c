/* graphwork.c - worker processes that run rrd_graph, one graph each at a time (see graphwork.h). */
#include "graphwork.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rrd.h>

#include "../common/log.h"
#include "../common/banned.h"

/*
 * The exchange, in big-endian 32-bit numbers: a request is argc, then
 * each argument as its length and bytes; the worker answers at once one
 * byte, GRAPHWORK_TAKEN, then a status (0: the image follows, 1: librrd's
 * message follows), a length and the bytes. A worker that does not take
 * a request within GRAPHWORK_TAKE_MS is dead or dying (a killed process
 * can linger in its exit, its socket still open): another is started and
 * the graph asked of it.
 */
#define GRAPHWORK_TAKEN 'T'
#define GRAPHWORK_TAKE_MS 2000
#define GRAPHWORK_REAP_MAX 64		/* workers killed and not yet reaped */

struct worker {
	pid_t pid;		/* 0 when not running */
	int fd;			/* our end of its socket, -1 when not running */
	int busy;
	unsigned long drawn;	/* graphs since it started */
};

struct graphwork {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	unsigned n;
	struct worker w[GRAPHWORK_MAX];
	pid_t reap[GRAPHWORK_REAP_MAX];	/* gone, to be reaped without waiting (under lock) */
	int nreap;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* All n bytes, or -1. */
static int send_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t k = send(fd, c, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

/* All n bytes before deadline (mono ms; 0: none): 1, 0 at EOF before the first byte, -1. */
static int recv_all(int fd, void *p, size_t n, int64_t deadline)
{
	char *c = p;
	size_t got = 0;

	while (got < n) {
		ssize_t k;

		if (deadline) {
			struct pollfd pf = { fd, POLLIN, 0 };
			int64_t left = deadline - mono_ms();
			int rc;

			if (left <= 0)
				return -1;
			rc = poll(&pf, 1, (int)left);
			if (rc < 0 && errno == EINTR)
				continue;
			if (rc <= 0)
				return -1;
		}
		k = recv(fd, c + got, n - got, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k == 0 && got == 0)
			return 0;
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	return 1;
}

/* ---- the server's side ---- */

static int spawn(struct worker *w, struct err *e)
{
	char *const argv[] = { (char *)"qrwatchd", (char *)"--graph-worker", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none;
	int sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return err_set(e, "cannot make a socket for a graph worker: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 1);
	/* nothing else of the server's: no database, no listening socket */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
	rc = posix_spawn(&w->pid, "/proc/self/exe", &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	if (rc != 0) {
		close(sv[0]);
		w->pid = 0;
		return err_set(e, "cannot start a graph worker: %s", strerror(rc));
	}
	w->fd = sv[0];
	return 0;
}

/* Reap what has exited of the workers let go (under g->lock), without waiting. */
static void reap(struct graphwork *g)
{
	for (int i = 0; i < g->nreap;)
		if (waitpid(g->reap[i], NULL, WNOHANG) != 0)
			g->reap[i] = g->reap[--g->nreap];	/* reaped, or not ours any more */
		else
			i++;
}

/*
 * Let a worker go: its socket closed (it reads EOF and exits) or, when it
 * failed, killed too (it may be stuck). It is reaped later, never waited
 * for here: a killed process can take seconds to finish exiting.
 */
static void let_go(struct graphwork *g, struct worker *w, int kill_it)
{
	if (w->fd >= 0)
		close(w->fd);
	if (w->pid > 0) {
		if (kill_it)
			kill(w->pid, SIGKILL);
		pthread_mutex_lock(&g->lock);
		reap(g);
		if (g->nreap == GRAPHWORK_REAP_MAX) {
			/* too many at once: wait for the oldest */
			while (waitpid(g->reap[0], NULL, 0) < 0 && errno == EINTR)
				;
			g->reap[0] = g->reap[--g->nreap];
		}
		g->reap[g->nreap++] = w->pid;
		pthread_mutex_unlock(&g->lock);
	}
	w->fd = -1;
	w->pid = 0;
	w->drawn = 0;
}

struct graphwork *graphwork_new(unsigned n, struct err *e)
{
	struct graphwork *g;

	if (n < 1 || n > GRAPHWORK_MAX) {
		err_set(e, "graph workers must be 1 to %d, not %u", GRAPHWORK_MAX, n);
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		err_set(e, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->freed, NULL);
	g->n = n;
	for (unsigned i = 0; i < n; i++)
		g->w[i].fd = -1;
	return g;
}

void graphwork_free(struct graphwork *g)
{
	if (!g)
		return;
	for (unsigned i = 0; i < g->n; i++)
		let_go(g, &g->w[i], 0);		/* it reads EOF and exits */
	for (int i = 0; i < g->nreap; i++)
		while (waitpid(g->reap[i], NULL, 0) < 0 && errno == EINTR)
			;
	pthread_cond_destroy(&g->freed);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

/*
 * One request and its answer. Returns 0 with the image in png, 1 with
 * librrd's message in e (the worker is fine), -1 with e when the worker
 * is not (dead, stuck or talking nonsense); *taken says whether it had
 * taken the graph (then it is not asked of another).
 */
static int exchange(struct worker *w, int argc, const char *const *argv, struct buf *png,
		    int *taken, struct err *e)
{
	unsigned char hd[8];
	int64_t deadline;
	uint32_t status, len;
	char *msg;
	int rc;

	*taken = 0;
	put_u32(hd, (uint32_t)argc);
	if (send_all(w->fd, hd, 4) < 0)
		return err_set(e, "graph worker %d is gone", (int)w->pid);
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);

		put_u32(hd, (uint32_t)n);
		if (send_all(w->fd, hd, 4) < 0 || send_all(w->fd, argv[i], n) < 0)
			return err_set(e, "graph worker %d is gone", (int)w->pid);
	}
	if (recv_all(w->fd, hd, 1, mono_ms() + GRAPHWORK_TAKE_MS) != 1 || hd[0] != GRAPHWORK_TAKEN)
		return err_set(e, "graph worker %d did not take the graph", (int)w->pid);
	*taken = 1;
	deadline = mono_ms() + GRAPHWORK_TIMEOUT_MS;
	rc = recv_all(w->fd, hd, 8, deadline);
	if (rc <= 0)
		return err_set(e, rc == 0 ? "graph worker %d died drawing the graph" :
			       "graph worker %d did not answer within %d ms", (int)w->pid,
			       GRAPHWORK_TIMEOUT_MS);
	status = get_u32(hd);
	len = get_u32(hd + 4);
	if (status > 1 || len > GRAPHWORK_PNG_MAX || !(msg = malloc(len + 1)))
		return err_set(e, "graph worker %d answered nonsense", (int)w->pid);
	if (recv_all(w->fd, msg, len, deadline) != 1) {
		free(msg);
		return err_set(e, "graph worker %d died answering", (int)w->pid);
	}
	msg[len] = '\0';
	rc = 0;
	if (status == 1) {
		err_set(e, "rrd_graph: %s", msg);
		rc = 1;
	} else if (buf_add(png, msg, len) < 0) {
		err_set(e, "graph of %u bytes: too large", (unsigned)len);
		rc = 1;
	}
	free(msg);
	return rc;
}

int graphwork_draw(struct graphwork *g, int argc, const char *const *argv, struct buf *png,
		   struct err *e)
{
	struct worker *w = NULL;
	int rc = -1;

	if (argc < 1 || argc > GRAPHWORK_ARGS_MAX)
		return err_set(e, "a graph of %d arguments", argc);
	for (int i = 0; i < argc; i++)
		if (strlen(argv[i]) > GRAPHWORK_ARG_MAX)
			return err_set(e, "a graph argument over %d bytes", GRAPHWORK_ARG_MAX);
	pthread_mutex_lock(&g->lock);
	while (!w) {
		for (unsigned i = 0; i < g->n && !w; i++)
			if (!g->w[i].busy)
				w = &g->w[i];
		if (!w)
			pthread_cond_wait(&g->freed, &g->lock);
	}
	w->busy = 1;
	pthread_mutex_unlock(&g->lock);
	/* a worker found dead (killed while idle) is started again, once */
	for (int attempt = 0; attempt < 2; attempt++) {
		int taken = 0;

		if (w->fd < 0 && spawn(w, e) < 0)
			break;
		rc = exchange(w, argc, argv, png, &taken, e);
		if (rc >= 0) {
			if (++w->drawn >= GRAPHWORK_RECYCLE)
				let_go(g, w, 0);
			break;
		}
		LOG(LOG_LVL_WARN, "graph-worker", "%s; starting another", e->msg);
		let_go(g, w, 1);
		if (taken)
			break;	/* it died or stuck on this graph: not twice */
	}
	pthread_mutex_lock(&g->lock);
	w->busy = 0;
	pthread_cond_signal(&g->freed);
	pthread_mutex_unlock(&g->lock);
	return rc == 0 ? 0 : -1;
}

/* ---- the worker's side ---- */

static int answer(int out, uint32_t status, const void *p, size_t n)
{
	unsigned char hd[8];

	put_u32(hd, status);
	put_u32(hd + 4, (uint32_t)n);
	return send_all(out, hd, 8) < 0 || send_all(out, p, n) < 0 ? -1 : 0;
}

int graphwork_serve(int in, int out)
{
	char *argv[GRAPHWORK_ARGS_MAX + 1];
	int rc;

	prctl(PR_SET_NAME, "qrwatchd-graph");	/* not "exe", for ps and top */
	/* stopped by its server: the socket closes (a Ctrl-C or SIGTERM is the server's) */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * The file is read here, never fetched through an rrdcached librrd
	 * would find itself: its text answer costs more to parse than the
	 * drawing. The server has rrdcached write the file out first.
	 */
	unsetenv("RRDCACHED_ADDRESS");
	for (;;) {
		unsigned char hd[4];
		uint32_t argc;
		rrd_info_t *info, *it;
		int sent = 0;

		memset(argv, 0, sizeof(argv));
		rc = recv_all(in, hd, 4, 0);
		if (rc <= 0)
			break;		/* the server closed its end (0), or the socket failed */
		argc = get_u32(hd);
		if (argc < 1 || argc > GRAPHWORK_ARGS_MAX) {
			rc = -1;
			break;
		}
		for (int i = 0; i < (int)argc && rc > 0; i++) {
			uint32_t len;

			if (recv_all(in, hd, 4, 0) != 1 || (len = get_u32(hd)) > GRAPHWORK_ARG_MAX ||
			    !(argv[i] = malloc(len + 1)) || recv_all(in, argv[i], len, 0) != 1)
				rc = -1;
			else
				argv[i][len] = '\0';
		}
		if (rc > 0 && send_all(out, &(char){ GRAPHWORK_TAKEN }, 1) == 0) {
			rrd_clear_error();
			info = rrd_graph_v((int)argc, argv);
			for (it = info; it && !sent; it = it->next)
				if (!strcmp(it->key, "image") && it->type == RD_I_BLO) {
					rc = answer(out, 0, it->value.u_blo.ptr, it->value.u_blo.size);
					sent = 1;
				}
			if (!sent) {
				const char *why = rrd_test_error() ? rrd_get_error() : "no image drawn";

				rc = answer(out, 1, why, strlen(why));
			}
			if (info)
				rrd_info_free(info);
		} else {
			rc = -1;
		}
		for (int i = 0; i < (int)argc; i++)
			free(argv[i]);
		if (rc < 0)
			break;
	}
	/*
	 * What is left allocated is the font libraries' caches and librrd's
	 * own, kept to the end: out without the exit handlers (a leak check
	 * would find only those).
	 */
	_exit(rc < 0);
}
