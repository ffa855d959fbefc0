/* check.h - one check of one posted code: read the board, judge the code, walk the flow, time it. */
#ifndef QRW_CHECK_H
#define QRW_CHECK_H

#include <stdint.h>

#include <curl/curl.h>

#include "push.h"
#include "../targets/result.h"
#include "../targets/catalog.h"
#include "../targets/decodereply.h"
#include "../targets/page.h"
#include "../common/buf.h"
#include "../common/err.h"

/* Named limits on every transfer. */
#define CHECK_MAX_BODY      (2l * 1024 * 1024)	/* a procedure page is ~100 KB */
#define CHECK_MAX_REDIRECTS 10
#define CHECK_COLD_AFTER_MS 15000	/* a 4G/5G radio sleeps after ~10 s idle */
#define CHECK_RESULT_MAX    (1024L * 1024)	/* a result's strings and steps, at most */
#define CHECK_USER_AGENT    "Mozilla/5.0 (Linux; Android 13) qrwatch-probe/0.1"	/* a phone's browser */
#define CHECK_CA_MAX        (1024L * 1024)	/* a CA bundle file (Debian's is ~220 KB) */

/*
 * A portal's home page, as the probe last fetched it: a code that lands on
 * a page of the same shape lands on the portal's home, not its procedure.
 */
#define CHECK_HOMES     32	/* portals remembered */
#define CHECK_HOME_TTL_S 3600	/* a home page is fetched again after an hour */

struct check_home {
	char origin[256];		/* "https://dichvucong.gov.vn" */
	struct page_shape shape;
	int64_t at_us;			/* when fetched, monotonic; 0 = free */
	int known;			/* the fetch worked: shape holds */
	size_t body_len;		/* its bytes, to skip reading pages far from it */
};

/*
 * The last reading of a board, kept by the daemon per target: a board
 * whose image has not changed is not decoded again. A file is known by
 * its identity and modification time (then not even read), or, when those
 * changed, by the SHA-256 of its bytes; a camera snapshot by the SHA-256
 * of what it sent.
 */
struct board_memo {
	int valid;
	unsigned long long dev, ino, size;
	long long mtime_s, mtime_ns;
	unsigned char sha256[32];
	int status;			/* enum guard_status */
	/* the reading, kept as read (no charset work again), only the codes
	 * found: a probe keeps one per board for as long as it runs */
	int ncodes;
	struct qr_code *codes;		/* ncodes, malloc'ed, each owning its strings */
	char step[DECODE_STEP_MAX];	/* the step that read them, "" when none */
	int steps_tried;
	char *err;			/* why it was not read (malloc'ed), or NULL */
	unsigned long decodes, reuses;	/* for the log and the benchmark */
	int from_server;		/* the reading is qrwatchd's: the probe read nothing */
	int64_t handed_us;		/* a photo last handed to qrwatchd, monotonic; 0 = never */
	unsigned long handovers;	/* photos handed over */
};

void board_memo_release(struct board_memo *m);

/* What the probe brings to every check. */
struct check_env {
	const char *uplink;		/* "fibre", "4g", "5g", ... */
	const char *interface;		/* bind to this interface, or NULL */
	const char *extra_ca;		/* CAs trusted besides the system's, or NULL */
	const char *decoder;		/* the decoder program, or NULL: the one beside this one */
	const char *unread_dir;		/* keep unreadable boards' photos here (unread.h), or NULL */
	unsigned long long unread_cap;	/* bytes that directory may hold */
	/*
	 * A board photo the decoder reads nothing on goes to qrwatchd, whose
	 * cascade is the whole one (ZXing-C++ too), signed as the push is
	 * (server's probe id, secret, CA, resolve): at most one per board per
	 * snapshot_every_us, none over snapshot_max bytes. Within that time
	 * the server's last reading of the board stands for a photo the
	 * probe cannot read. NULL url: never.
	 */
	const char *snapshot_url;
	const struct push_cfg *server;
	int64_t snapshot_every_us;
	size_t snapshot_max;
	const char *lookup;		/* a program with `lookup NAME`, or NULL: this one */
	struct curl_slist *resolve;	/* "host:port:address" overrides, or NULL */
	int64_t last_activity_us;	/* monotonic end of the last request */
	long emulate_rate;		/* --emulate: bytes/s cap, 0 = none */
	int64_t emulate_rtt_us;		/* --emulate: added round trip per connection */
	struct check_home homes[CHECK_HOMES];	/* shared by the checks, never their connections */
	unsigned next_home;		/* the next to replace when all are used */
};

struct check;

/*
 * A check of target t (which must outlive it). When t is NULL, url is
 * checked alone: one GET with the default timeouts, no board image.
 * Returns NULL when memory runs out.
 */
struct check *check_new(const struct target *t, const char *url,
			struct check_env *env);

/* Where the decoder program is by default: qrwatch-probe-decode beside this program. */
int check_default_decoder(char *out, size_t n);

/* Read and keep the board through memo (which must outlive the check). */
void check_use_memo(struct check *c, struct board_memo *memo);

/*
 * The catalog the check's target is from: a code on its board photo that
 * is another target's of the same board is that target's, not a foreign
 * one (policy_judge_board). Without it, every other code is foreign.
 */
void check_use_catalog(struct check *c, const struct catalog *cat);

/*
 * Read and judge the board only: its web flow is walked by other probes
 * (the catalog's checked_from), so a genuine link ends the check OK
 * without a step, saying so.
 */
void check_board_only(struct check *c);

/*
 * Walk the target's lookup flow instead of its code: the steps that find
 * the procedure's address on its portal by its code ({code}). The last
 * step's final URL is the candidate address (OK when every step passed).
 * Returns -1 when the target has no lookup.
 */
int check_lookup(struct check *c);

/*
 * Begin: fetch the board image (a camera snapshot is a transfer on m) and
 * hand it to a guarded decoding child, without blocking. Returns 1 when
 * the check already ended, 0 when it is under way.
 */
int check_start(struct check *c, CURLM *m);

/*
 * While the board is being decoded, the fd to wait on (readable when the
 * decoder answers), else -1. The loop passes it to curl_multi_poll() and
 * then calls check_poll(), which judges the code and adds the flow's first
 * transfer to m when the decoder is done. check_poll() returns 1 when the
 * check ended.
 */
int check_wait_fd(const struct check *c);
int check_poll(struct check *c, CURLM *m);

/*
 * The loop calls this when one of the check's transfers finishes (find the
 * check with CURLINFO_PRIVATE). Returns 1 when the check ended, 0 when the
 * next step's transfer was added.
 */
int check_step_done(struct check *c, CURLM *m, CURLcode code);

/*
 * Resume a transfer that --emulate paused, when its time has come. Returns
 * how many ms until the check next needs a tick, or -1 when it does not.
 * The loop calls it on every turn.
 */
long check_tick(struct check *c);

/* The check's result; it lives as long as the check. */
const struct result *check_result(const struct check *c);

void check_free(struct check *c);

/* Run one check to the end on a private multi handle (the `check` command). */
int check_run(struct check *c);

/* Microseconds on the monotonic clock. */
int64_t check_now_us(void);

#endif
