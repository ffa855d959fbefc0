/* catalog.h - the registry of places, boards, posted codes (targets) and procedure flows. */
#ifndef QRW_CATALOG_H
#define QRW_CATALOG_H

#include <stddef.h>

#include "../common/arena.h"
#include "../common/buf.h"

/* Named limits: a province catalog has up to about 100,000 targets, not millions. */
#define CATALOG_MAX_BYTES   (64u * 1024 * 1024)	/* 100,000 targets take about 20 MiB */
#define CATALOG_MAX_LINE    4096
#define CATALOG_MAX_ERRORS  50	/* errors reported before giving up */
#define CATALOG_MAX_ITEMS   250000	/* places + boards + targets + flows: a province of 100,000 targets */
#define CATALOG_MAX_STEPS   32	/* per flow */
#define CATALOG_ID_MAX      64
/*
 * A capture's regular expression runs on every page the step reads (up to
 * 2 MB). glibc's regcomp() copies a repeated piece once per repetition, so
 * nested bounds multiply: "((a{1,100}){1,100}){1,100}" is a million copies
 * and minutes of compiling. Patterns are refused past these sizes, and
 * back-references (\1..\9), which make matching exponential, always.
 */
#define CATALOG_REGEX_MAX          500	/* characters in a pattern */
#define CATALOG_REGEX_MAX_EXPANDED 1000	/* its pieces once every repetition is copied */

/* A place: province / optional district / commune / optional village. */
struct place {
	const char *id;
	const char *province, *district, *commune, *village;	/* NULL if absent */
	int line;
};

struct board {
	const char *id;
	const struct place *place;
	const char *location;
	int has_gps;
	double lat, lon;
	const char *probe;	/* the probe at its place that reads its photos; NULL: every probe */
	int line;
};

enum capture_source {
	CAPTURE_BODY,		/* a regex over the raw body */
	CAPTURE_HEADER,		/* a regex over a response header */
	CAPTURE_JSON,		/* a JSON path */
	CAPTURE_FIELD,		/* a form field's value, by its name (hidden inputs too) */
	CAPTURE_ELEMENT,	/* an element's visible text: "#id" or a tag name */
};

/* "capture = NAME body REGEX" | "NAME header:Name REGEX" | "NAME json PATH" */
struct capture {
	const char *name;
	enum capture_source source;
	const char *header;	/* for CAPTURE_HEADER */
	const char *expr;	/* POSIX extended regex, or JSON path */
};

struct step {
	const char *name;
	const char *method;		/* GET, POST, PUT, HEAD */
	const char *url;		/* template: {payload}, {capture} */
	const char **headers;		/* "Name: value" */
	size_t nheaders;
	const char **form;		/* "key=value" template pairs */
	size_t nform;
	int multipart;			/* enctype = multipart/form-data */
	const char *json;		/* JSON body template, or NULL */
	struct capture *captures;
	size_t ncaptures;
	int *expect_status;		/* empty: any 2xx */
	size_t nexpect_status;
	const char **expect_text;	/* must appear in the body */
	size_t nexpect_text;
	const char **reject_text;	/* must not appear */
	size_t nreject_text;
	long slo_ms;			/* 0: none for this step */
	int line;
};

struct flow {
	const char *id;
	const char *name;
	struct step *steps;
	size_t nsteps;
	int line;
};

enum target_kind { TARGET_URL, TARGET_VIETQR, TARGET_TEXT };

struct target {
	const char *id;
	const struct board *board;
	const char *procedure;		/* e.g. "Đăng ký khai sinh" */
	const char *procedure_code;	/* the national code, e.g. "1.001193", or NULL */
	const struct flow *lookup;	/* finds its address on the portal by {code}, or NULL */
	enum target_kind kind;
	const char *image;		/* file path, resolved against the catalog's folder */
	const char *image_url;		/* or a camera snapshot URL */
	int image_uploads;		/* or `image = uploads`: photos officials upload to
					   qrwatchd, judged there; no probe reads the board */
	int image_allow_private;	/* the snapshot URL may be on the LAN */
	const char *payload;		/* the registered payload, or NULL */
	const char **replaces;		/* payloads it replaced, still on boards until reprinted */
	size_t nreplaces;
	const char *payee_bin;		/* VietQR: bank BIN */
	const char *payee_account;	/* VietQR: account number */
	const char **official;		/* official domains (URL targets) */
	size_t nofficial;
	long interval_s;
	long slo_ms;
	const struct flow *flow;	/* NULL: the default one-page check */
	int allow_private;		/* the service may be on a private address */
	const char **expect_text;	/* the first page must name these */
	size_t nexpect_text;
	/* which probes walk its web flow: every one, those of a place, or a list */
	enum checked_from { FROM_ALL, FROM_PLACE, FROM_PROBES } from;
	const struct place *from_place;	/* FROM_PLACE: probes reading a board there */
	const char **from_probes;	/* FROM_PROBES: probe IDs */
	size_t nfrom_probes;
	const char *allow_networks;	/* allow_private: "yes" or CIDRs, NULL = no */
	const char *extra_ca;		/* CA certificates trusted besides the system's, or NULL */
	/* hang detection, milliseconds */
	long connect_timeout_ms;	/* TCP (and DNS) must finish within */
	long first_byte_ms;		/* request sent, no first byte within */
	long stall_ms;			/* no body bytes for this long */
	long deadline_ms;		/* the whole check */
	/* alerts: 0 = the server's alert_open_after / alert_resolve_after */
	long open_after;		/* non-OK results in a row that open an incident */
	long resolve_after;		/* OK results in a row that resolve it */
	int line;
};

struct catalog {
	struct arena arena;
	const char *path;
	const char *dir;		/* folder of the file, for relative image paths */
	struct place *places;
	size_t nplaces;
	struct board *boards;
	size_t nboards;
	struct flow *flows;
	size_t nflows;
	struct target *targets;
	size_t ntargets;
	/* targets and boards by id, sorted, for catalog_target() and catalog_board() */
	const struct catalog_ix *target_ix, *board_ix;
};

struct catalog_ix {
	const char *id;
	size_t pos;
};

/* Defaults and bounds of target keys. */
#define TARGET_INTERVAL_DEFAULT 300
#define TARGET_INTERVAL_MIN     30
#define TARGET_INTERVAL_MAX     86400
#define TARGET_SLO_DEFAULT      5000
#define TARGET_SLO_MIN          100
#define TARGET_SLO_MAX          600000
#define TARGET_CONNECT_TIMEOUT_DEFAULT 10000
#define TARGET_FIRST_BYTE_DEFAULT      15000
#define TARGET_STALL_DEFAULT           10000
#define TARGET_DEADLINE_DEFAULT        60000
#define TARGET_TIMEOUT_MIN             100
#define TARGET_TIMEOUT_MAX             300000

/*
 * Load a catalog file (docs/catalog.md). All or nothing: on success returns
 * a catalog to free with catalog_free(); on any error returns NULL and
 * appends every error found (up to CATALOG_MAX_ERRORS), one per line, as
 * "FILE:LINE: what is wrong", to errors.
 */
struct catalog *catalog_load(const char *path, struct buf *errors);

/* catalog_load() on text in memory; name is used in messages. */
struct catalog *catalog_parse(const char *name, const char *dir,
			      const char *text, size_t len, struct buf *errors);

void catalog_free(struct catalog *c);

/* Look-ups by id; NULL when absent. */
const struct target *catalog_target(const struct catalog *c, const char *id);
const struct board *catalog_board(const struct catalog *c, const char *id);

/* "Phú Thượng, Tây Hồ, Hà Nội" style text for a place (village first). */
int place_format(const struct place *p, struct buf *out);

/* "url", "vietqr", "text". */
const char *target_kind_name(enum target_kind k);


/*
 * Whether probe probe_id reads the photo or camera of t's board: the
 * board's `probe`, or every probe when it names none; none when its
 * photos are uploaded to the server (`image = uploads`).
 */
int catalog_reads_board(const struct target *t, const char *probe_id);

/*
 * Whether probe probe_id walks t's web flow (`checked_from`): every
 * probe, the probes that read a board at a place, or those listed.
 */
int catalog_walks_flow(const struct catalog *c, const struct target *t,
		       const char *probe_id);

/*
 * What `qrwatch lint` says of a catalog that loads: where the boards'
 * probes leave a board read by every probe or a flow nobody can walk.
 * One "FILE:LINE: ..." line each into out; returns how many.
 */
int catalog_lint(const struct catalog *c, struct buf *out);
#endif
