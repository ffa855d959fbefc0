/* probecheck.c - a target's address checked by qrwatch-probe (see probecheck.h). */
#include "probecheck.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "domain.h"
#include "result.h"
#include "verdict.h"
#include "../common/arena.h"
#include "../common/fileio.h"
#include "../common/banned.h"

#define PROBECHECK_JSON_MAX (4u * 1024 * 1024)

/* Between fork and exec only async-signal-safe calls: write(2), not stdio. */
static void child_say(const char *a, const char *b)
{
	if (write(STDERR_FILENO, a, strlen(a)) < 0 || write(STDERR_FILENO, b, strlen(b)) < 0 ||
	    write(STDERR_FILENO, "\n", 1) < 0)
		return;
}

int probecheck_run(const struct probecheck *pc, const char *id, const char *url,
		   struct buf *json)
{
	char beside[4200];
	const char *argv[14], *probe = pc->probe;
	int n = 0, status, fds[2] = { -1, -1 };
	pid_t pid;

	if (!probe) {
		if (file_beside_self("qrwatch-probe", beside, sizeof(beside)) < 0)
			return -1;
		probe = beside;
	}
	argv[n++] = probe;
	argv[n++] = "check";
	argv[n++] = "-c";
	argv[n++] = pc->catalog;
	if (url) {
		argv[n++] = "--payload";
		argv[n++] = url;
	} else {
		argv[n++] = "--lookup";
	}
	if (json)
		argv[n++] = "--json";
	if (pc->resolve) {
		argv[n++] = "--resolve";
		argv[n++] = pc->resolve;
	}
	argv[n++] = id;
	argv[n] = NULL;
	/* close-on-exec: a program another thread starts must not hold it open */
	if (json && pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		if (json) {
			close(fds[0]);
			close(fds[1]);
		}
		return -1;
	}
	if (pid > 0 && pc->running) {
		int idle = 0;

		/* a cancel that came before the child: it goes at once */
		if (!__atomic_compare_exchange_n(pc->running, &idle, (int)pid, 0,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			kill(pid, SIGTERM);
	}
	if (pid == 0) {
		/* its waterfall beside our messages, or its JSON to us */
		dup2(json ? fds[1] : STDERR_FILENO, STDOUT_FILENO);
		if (json) {
			close(fds[0]);
			close(fds[1]);
		}
		execv(probe, (char *const *)argv);
		child_say("cannot run the checker: ", probe);
		_exit(127);
	}
	if (json) {
		char chunk[4096];
		ssize_t got;

		close(fds[1]);
		while ((got = read(fds[0], chunk, sizeof(chunk))) != 0) {
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0 || json->len + (size_t)got > PROBECHECK_JSON_MAX)
				break;
			buf_add(json, chunk, (size_t)got);
		}
		close(fds[0]);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (pc->running) {
		int mine = (int)pid;

		__atomic_compare_exchange_n(pc->running, &mine, 0, 0, __ATOMIC_SEQ_CST,
					    __ATOMIC_SEQ_CST);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
		return -1;
	return WEXITSTATUS(status);
}

void probecheck_cancel(const struct probecheck *pc)
{
	int pid = __atomic_exchange_n(pc->running, -1, __ATOMIC_SEQ_CST);

	if (pid > 0)
		kill(pid, SIGTERM);
}

static void why(struct probecheck_found *out, const char *vi, const char *en)
{
	snprintf(out->why_vi, sizeof(out->why_vi), "%s", vi);
	snprintf(out->why_en, sizeof(out->why_en), "%s", en);
}

/*
 * The checker's result in json: 0 with the last step's final URL in
 * url (when not NULL) if it is OK, 1 with its reason in out if not, -1
 * when it is no result at all.
 */
static int read_result(const struct buf *json, char *url, size_t n,
		       struct probecheck_found *out)
{
	json_object *o = json_tokener_parse(buf_str(json));
	struct arena a;
	struct result r;
	struct err e;
	int rc = -1;

	arena_init(&a, PROBECHECK_JSON_MAX);
	if (!o || result_from_json(o, &a, "", &r, &e) != 0) {
		why(out, "Bộ kiểm tra trả lời không phải là một kết quả.",
		    "The checker's answer is not a result.");
	} else if (r.verdict != VERDICT_OK) {
		why(out, r.why_vi, r.why_en);
		rc = 1;
	} else if (url && (r.nsteps < 1 || !r.steps[r.nsteps - 1].final_url[0] ||
			   (size_t)snprintf(url, n, "%s", r.steps[r.nsteps - 1].final_url) >= n)) {
		why(out, "Việc tìm kiếm không dẫn tới trang nào.", "The lookup ended on no page.");
		rc = 1;
	} else {
		rc = 0;
	}
	json_object_put(o);
	arena_release(&a);
	return rc;
}

/* Whether url is http(s) on one of t's official domains, as a registered payload must be. */
static int official(const struct target *t, const char *url)
{
	char host[256];
	struct err e;

	return url_parse_http(url, host, sizeof(host), &e) == 0 &&
	       domain_is_official(host, t->official, t->nofficial);
}

int probecheck_find(const struct probecheck *pc, const struct target *t,
		    struct probecheck_found *out)
{
	struct buf json;
	int rc;

	memset(out, 0, sizeof(*out));
	buf_init(&json, PROBECHECK_JSON_MAX);
	rc = probecheck_run(pc, t->id, NULL, &json);
	if (rc < 0) {
		why(out, "Không chạy được bộ kiểm tra.", "the checker could not run");
	} else if ((rc = read_result(&json, out->candidate, sizeof(out->candidate), out)) != 0) {
		out->candidate[0] = '\0';
		if (rc > 0) {
			char vi[sizeof(out->why_vi)], en[sizeof(out->why_en)];

			snprintf(vi, sizeof(vi), "Không tìm được trên cổng: %.500s", out->why_vi);
			snprintf(en, sizeof(en), "the lookup did not work: %.500s", out->why_en);
			why(out, vi, en);
		}
	} else if (t->payload && !strcmp(out->candidate, t->payload)) {
		out->candidate[0] = '\0';
		why(out, "Cổng vẫn chỉ tới địa chỉ đã đăng ký, địa chỉ đã hỏng.",
		    "the lookup found the registered address again");
		rc = 1;
	} else if (!official(t, out->candidate)) {
		/* a link off the portal (an advert on its search page, say) is no address */
		char vi[sizeof(out->why_vi)], en[sizeof(out->why_en)];

		snprintf(vi, sizeof(vi), "Địa chỉ tìm được (%.300s) không thuộc tên miền chính thức "
			 "của thủ tục.", out->candidate);
		snprintf(en, sizeof(en), "the address found (%.300s) is not under the target's "
			 "official_domains", out->candidate);
		why(out, vi, en);
		out->candidate[0] = '\0';
		rc = 1;
	}
	buf_release(&json);
	return rc;
}

int probecheck_address(const struct probecheck *pc, const struct target *t, const char *url,
		       struct probecheck_found *out)
{
	struct buf json;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!official(t, url)) {
		why(out, "Địa chỉ không phải http(s) trên tên miền chính thức của thủ tục.",
		    "the address is not http(s) under the target's official_domains");
		return 1;
	}
	buf_init(&json, PROBECHECK_JSON_MAX);
	rc = probecheck_run(pc, t->id, url, &json);
	if (rc < 0)
		why(out, "Không chạy được bộ kiểm tra.", "the checker could not run");
	else
		rc = read_result(&json, out->candidate, sizeof(out->candidate), out);
	if (rc != 0)
		out->candidate[0] = '\0';
	buf_release(&json);
	return rc;
}

int probecheck_lookup(const struct probecheck *pc, const struct target *t,
		      struct probecheck_found *out)
{
	char found[sizeof(out->candidate)];
	int rc = probecheck_find(pc, t, out);

	if (rc != 0)
		return rc;
	snprintf(found, sizeof(found), "%s", out->candidate);
	rc = probecheck_address(pc, t, found, out);
	if (rc == 0) {
		snprintf(out->candidate, sizeof(out->candidate), "%s", found);
	} else {
		char vi[sizeof(out->why_vi)], en[sizeof(out->why_en)];

		snprintf(vi, sizeof(vi), "Địa chỉ tìm được (%.200s) không đạt: %.300s", found,
			 out->why_vi);
		snprintf(en, sizeof(en), "the address found (%.200s) is not OK: %.300s", found,
			 out->why_en);
		why(out, vi, en);
	}
	return rc;
}
