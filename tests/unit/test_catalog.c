/* test_catalog.c - the catalog format: every error class named with file and line, all or nothing. */
#include <stdio.h>
#include <string.h>

#include "../harness.h"
#include "../../targets/catalog.h"
#include "../../targets/catalogedit.h"
#include "../../common/banned.h"

#define PLACE "[place p1]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\nvillage = Thôn Đông\n"
#define BOARD "[board b1]\nplace = p1\nlocation = Nhà văn hoá thôn Đông\n"
#define TARGET "[target t1]\nboard = b1\nprocedure = Đăng ký khai sinh\nimage = b.png\n" \
	"official_domains = dichvucong.gov.vn\n"

/* 510 characters of a harmless pattern */
#define REGEX_50 "(token|csrf)=([A-Za-z0-9_-]+);? (path|domain)=[^;]"
#define LONG_REGEX REGEX_50 REGEX_50 REGEX_50 REGEX_50 REGEX_50 REGEX_50 REGEX_50 \
	REGEX_50 REGEX_50 REGEX_50 "0123456789"

static struct catalog *parse(const char *text, struct buf *errs)
{
	buf_init(errs, 64 * 1024);
	return catalog_parse("c.catalog", "/srv/qr", text, strlen(text), errs);
}

static void test_valid_roundtrip(void)
{
	struct buf errs;
	struct catalog *c = parse(PLACE BOARD TARGET
				  "payload = https://dichvucong.gov.vn/p/ks?id=1\n"
				  "interval = 2m\nslo_ms = 3000\n", &errs);
	const struct target *t;
	struct buf place;

	CHECK(c != NULL);
	CHECK_STR(buf_str(&errs), "");
	if (!c) {
		buf_release(&errs);
		return;
	}
	t = catalog_target(c, "t1");
	CHECK(t != NULL);
	if (t) {
		/* UTF-8 Vietnamese comes back byte for byte */
		CHECK_STR(t->procedure, "Đăng ký khai sinh");
		CHECK_STR(t->board->location, "Nhà văn hoá thôn Đông");
		CHECK_STR(t->image, "/srv/qr/b.png");
		CHECK_INT(t->interval_s, 120);
		CHECK_INT(t->slo_ms, 3000);
		CHECK_INT(t->kind, TARGET_URL);
		buf_init(&place, 256);
		place_format(t->board->place, &place);
		CHECK_STR(buf_str(&place), "Thôn Đông, Xã Tân An, Tỉnh Bắc Ninh");
		buf_release(&place);
	}
	catalog_free(c);
	buf_release(&errs);
}

/* Every error class: the text, and what the message must say (with its line). */
static void test_errors(void)
{
	static const struct {
		const char *text;
		const char *msg;
	} rows[] = {
		{ PLACE BOARD TARGET "intervl = 5m\n",
		  "c.catalog:13: unknown key 'intervl' in [target] (did you mean 'interval'?)" },
		{ PLACE BOARD "[target t1]\nboard = b1\nimage = b.png\nofficial_domains = a.gov.vn\n",
		  "c.catalog:8: [target t1] is missing required key 'procedure'" },
		{ PLACE BOARD TARGET TARGET,
		  "c.catalog:13: duplicate target id 't1' (first defined at line 8)" },
		{ PLACE BOARD TARGET "payload = https//dichvucong.gov.vn\n",
		  "c.catalog:13: payload of url target 't1' is not a usable link" },
		{ PLACE "[board b1]\nplace = p9\nlocation = x\n" TARGET,
		  "c.catalog:6: board 'b1' names unknown place 'p9'" },
		{ PLACE BOARD "[target t1]\nboard = b2\nprocedure = x\nimage = b.png\nofficial_domains = a.gov.vn\n",
		  "c.catalog:9: target 't1' names unknown board 'b2'" },
		{ PLACE BOARD TARGET "flow = nowhere\n",
		  "c.catalog:13: target 't1' names unknown flow 'nowhere'" },
		{ PLACE BOARD TARGET "interval = 10s\n",
		  "c.catalog:13: interval must be a duration from 30s to 1d" },
		{ PLACE BOARD TARGET "slo_ms = fast\n",
		  "c.catalog:13: 'slo_ms' must be a whole number from 100 to 600000" },
		{ PLACE BOARD TARGET "payload = https://evil.example/x\n",
		  "c.catalog:13: payload host 'evil.example' of target 't1' is not under its official_domains" },
		{ PLACE "[board b1]\nplace = p1\nlocation = Th\xf4n \xd0\xf4ng\n" TARGET,
		  "c.catalog:7: line is not valid UTF-8" },
		{ PLACE BOARD TARGET "[step]\nname = x\nurl = /\n",
		  "c.catalog:13: [step] must follow a [flow] section" },
		{ "province = x\n" PLACE BOARD TARGET,
		  "c.catalog:1: key 'province' comes before any [section]" },
		{ PLACE BOARD "[target T 1]\n",
		  "c.catalog:8: [target] needs an id of lower-case letters" },
		{ PLACE BOARD "[targt t1]\n",
		  "c.catalog:8: unknown section 'targt'" },
		{ PLACE BOARD TARGET "procedure = again\n",
		  "c.catalog:13: key 'procedure' given twice (first at line 10)" },
		{ PLACE BOARD "[target t1]\nboard = b1\nprocedure = x\nimage = b.png\n",
		  "c.catalog:8: url target 't1' needs 'official_domains'" },
		{ PLACE BOARD "[target t1]\nboard = b1\nprocedure = x\nimage = b.png\nofficial_domains = gov.vn\n",
		  "c.catalog:12: official domain 'gov.vn' is a public suffix" },
		{ PLACE BOARD "[target t1]\nboard = b1\nprocedure = x\nofficial_domains = a.gov.vn\n",
		  "c.catalog:8: [target t1] needs 'image'" },
		{ PLACE BOARD "[target t1]\nboard = b1\nprocedure = x\nkind = vietqr\nimage = b.png\n",
		  "c.catalog:8: vietqr target 't1' needs 'payee = BIN:ACCOUNT'" },
		{ PLACE BOARD "[target t1]\nboard = b1\nprocedure = x\nkind = vietqr\nimage = b.png\npayee = 97040:123\n",
		  "c.catalog:13: payee must be 'BIN:ACCOUNT' with a 6-digit bank BIN" },
		{ PLACE BOARD "[target t1]\nboard = b1\nprocedure = x\nkind = vietqr\nimage = b.png\npayee = 970405:123\npayload = 000201010211630400000\n",
		  "c.catalog:14: payload is not a valid payment code" },
		{ PLACE BOARD "[target t1]\nboard = b1\nprocedure = x\nkind = paper\nimage = b.png\n",
		  "c.catalog:11: kind must be url, vietqr or text" },
		{ PLACE "[board b1]\nplace = p1\nlocation = x\ngps = 95.1,105.2\n" TARGET,
		  "c.catalog:8: 'gps' must be 'LATITUDE,LONGITUDE'" },
		{ PLACE BOARD TARGET "image_url = ftp://cam/snap.jpg\n",
		  "c.catalog:13: bad image_url 'ftp://cam/snap.jpg'" },
		{ PLACE BOARD TARGET "flow = f1\n[flow f1]\nname = F\n",
		  "c.catalog:14: flow 'f1' has no [step] sections" },
		{ PLACE BOARD TARGET "flow = f1\n[flow f1]\nname = F\n[step]\nname = s\nurl = /a?t={token}\n",
		  "c.catalog:18: url uses {token}, which is neither {payload}, {code} nor captured by an earlier step" },
		{ PLACE BOARD TARGET "flow = f1\n[flow f1]\nname = F\n[step]\nname = s\nurl = {payload}\ncapture = tok body ([a-z\n",
		  "c.catalog:19: capture 'tok': bad regular expression" },
		{ PLACE BOARD TARGET "flow = f1\n[flow f1]\nname = F\n[step]\nname = s\nurl = {payload}\njson = {\"a\": \n",
		  "c.catalog:19: json body is not valid JSON" },
		{ PLACE BOARD TARGET "flow = f1\n[flow f1]\nname = F\n[step]\nname = s\nurl = {payload}\nmethod = FETCH\n",
		  "c.catalog:19: method must be GET, POST, PUT or HEAD" },
		{ PLACE BOARD TARGET "flow = f1\n[flow f1]\nname = F\n[step]\nname = s\nurl = {payload}\nexpect_status = 200 700\n",
		  "c.catalog:19: expect_status must be HTTP status codes" },
		{ PLACE BOARD TARGET "flow = f1\n[flow f1]\nname = F\n[step]\nurl = {payload}\n",
		  "c.catalog:16: [step] is missing required key 'name'" },
		{ PLACE BOARD TARGET "flow = f1\n[flow f1]\nname = F\n[step]\nname = s\nurl = https://[bad/\n",
		  "c.catalog:18: bad url 'https://[bad/'" },
		/* matched as written: a placeholder there is a mistake, not a capture */
		{ PLACE BOARD TARGET "flow = f1\n[flow f1]\nname = F\n[step]\nname = s\nurl = {payload}\n"
		  "capture = csrf body v=([a-z]+)\nexpect_text = {csrf}\n",
		  "c.catalog:16: expect_text '{csrf}' would be matched as written: placeholders "
		  "such as {csrf} are not filled in there" },
		{ PLACE BOARD TARGET "flow = f1\n[flow f1]\nname = F\n[step]\nname = s\nurl = {payload}\n"
		  "enctype = text/plain\nform = a=b\n",
		  "c.catalog:19: enctype must be application/x-www-form-urlencoded or multipart/form-data" },
		{ PLACE BOARD TARGET "flow = f1\n[flow f1]\nname = F\n[step]\nname = s\nurl = {payload}\n"
		  "enctype = multipart/form-data\n",
		  "c.catalog:19: enctype says how form fields are sent, and this step has none" },
		{ PLACE BOARD TARGET "allow_private = maybe\n",
		  "c.catalog:13: allow_private must be yes, no, or addresses and networks: 'maybe' is not an address" },
		{ PLACE BOARD, "c.catalog: no [target] sections" },
		/* an empty file, or one of comments, watches nothing either (found by a fuzzer) */
		{ "", "c.catalog: no [target] sections" },
		{ "# the catalog moved\n\n", "c.catalog: no [target] sections" },
		/* capture patterns that would take minutes to compile or run (found by a fuzzer) */
		{ PLACE BOARD TARGET "flow = f1\n[flow f1]\nname = F\n[step]\nname = s\nurl = {payload}\n"
		  "capture = tok body ((((a{1,20}){1,20}){1,20}){1,20})\n",
		  "c.catalog:19: capture 'tok': the regular expression '((((a{1,20}){1,20}){1,20}){1,20})' "
		  "repeats too much" },
		/* empty groups are pieces too: regcomp copies each (2.5 GB for this one) */
		{ PLACE BOARD TARGET "flow = f1\n[flow f1]\nname = F\n[step]\nname = s\nurl = {payload}\n"
		  "capture = tok body (((((){1,20}){1,20}){1,20}){1,20}){1,20})\n",
		  "c.catalog:19: capture 'tok': the regular expression '(((((){1,20}){1,20}){1,20}){1,20}){1,20})' "
		  "repeats too much" },
		{ PLACE BOARD TARGET "flow = f1\n[flow f1]\nname = F\n[step]\nname = s\nurl = {payload}\n"
		  "capture = tok body ([a-z]+)=\\1\n",
		  "c.catalog:19: capture 'tok': the regular expression '([a-z]+)=\\1' has a back-reference" },
		{ PLACE BOARD TARGET "flow = f1\n[flow f1]\nname = F\n[step]\nname = s\nurl = {payload}\n"
		  "capture = tok header:Set-Cookie " LONG_REGEX "\n",
		  "c.catalog:19: capture 'tok': the regular expression is 510 characters long, more than 500" },
		{ PLACE "[board b1]\nplace = p1\nlocation = x\nprobe = Ward 1\n" TARGET,
		  "c.catalog:8: probe of board 'b1' must be a probe ID" },
		{ PLACE BOARD TARGET "checked_from = place nowhere\n",
		  "c.catalog:13: checked_from names unknown place 'nowhere'" },
		{ PLACE BOARD TARGET "checked_from = place\n",
		  "c.catalog:13: checked_from = place takes one place ID" },
		{ PLACE BOARD TARGET "procedure_code = 1.00a\n",
		  "c.catalog:13: procedure_code must be the national procedure code, digits with dots such as '1.001193', got '1.00a'" },
		{ PLACE BOARD TARGET "lookup = nope\nprocedure_code = 1.001193\n",
		  "c.catalog:13: target 't1' names unknown lookup flow 'nope'" },
		{ PLACE BOARD TARGET "flow = f1\nlookup = f1\n[flow f1]\nname = F\n[step]\nname = s\nurl = {payload}\n",
		  "c.catalog:14: target 't1' has a lookup but no 'procedure_code' to look up" },
		{ PLACE BOARD TARGET "checked_from = all ward\n",
		  "c.catalog:13: checked_from = all takes nothing after it" },
		{ PLACE BOARD TARGET "checked_from = ward Lane\n",
		  "c.catalog:13: checked_from: 'Lane' is not a probe ID" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct buf errs;
		struct catalog *c;

		harness_case("row %zu", i);
		c = parse(rows[i].text, &errs);
		/* nothing half-loaded: any error means no catalog at all */
		CHECK(c == NULL);
		CHECK_CONTAINS(buf_str(&errs), rows[i].msg);
		catalog_free(c);
		buf_release(&errs);
	}
}

static void test_all_errors_reported(void)
{
	struct buf errs;
	struct catalog *c = parse(PLACE BOARD TARGET "intervl = 5m\nslo = 3\n"
				  "[board b2]\nplace = nowhere\nlocation = x\n", &errs);
	int lines = 0;

	CHECK(c == NULL);
	for (const char *p = buf_str(&errs); *p; p++)
		lines += *p == '\n';
	CHECK_INT(lines, 3);
	CHECK_CONTAINS(buf_str(&errs), "c.catalog:14: unknown key 'slo'");
	CHECK_CONTAINS(buf_str(&errs), "unknown place 'nowhere'");
	catalog_free(c);
	buf_release(&errs);
}

static void test_example_catalog(void)
{
	struct buf errs;
	struct catalog *c;
	const struct target *t;
	static const char *const procedures[] = {
		"Đăng ký khai sinh", "Đăng ký khai tử", "Đăng ký kết hôn",
		"Chứng thực bản sao từ bản chính", "Xác nhận tình trạng hôn nhân",
		"Nộp lệ phí chứng thực",
	};

	buf_init(&errs, 64 * 1024);
	c = catalog_load("targets/examples/xa-tan-an.catalog", &errs);
	CHECK(c != NULL);
	CHECK_STR(buf_str(&errs), "");
	if (!c) {
		buf_release(&errs);
		return;
	}
	for (size_t i = 0; i < sizeof(procedures) / sizeof(procedures[0]); i++) {
		int found = 0;

		for (size_t k = 0; k < c->ntargets; k++)
			found |= strcmp(c->targets[k].procedure, procedures[i]) == 0;
		harness_case("%s", procedures[i]);
		CHECK(found);
	}
	harness_case("flow");
	t = catalog_target(c, "ks-thon-dong");
	CHECK(t && t->flow && t->flow->nsteps == 2);
	if (t && t->flow && t->flow->nsteps == 2) {
		CHECK_STR(t->flow->steps[1].method, "POST");
		CHECK_INT(t->flow->steps[0].ncaptures, 1);
		CHECK_STR(t->flow->steps[0].captures[0].name, "csrf");
		CHECK_INT(t->flow->steps[1].nexpect_status, 2);
	}
	t = catalog_target(c, "le-phi-mot-cua");
	CHECK(t && t->kind == TARGET_VIETQR);
	if (t)
		CHECK_STR(t->payee_account, "2605205012345");
	catalog_free(c);
	buf_release(&errs);
}

/* Keys of issue 13: a relative link whose query holds "://", multipart forms, extra_ca. */
static void test_links_forms_and_cas(void)
{
	struct buf errs;
	struct catalog *c = parse(PLACE BOARD TARGET "flow = f1\nextra_ca = ca/tinh.pem\n"
				  "[flow f1]\nname = F\n[step]\nname = s\n"
				  "url = /chuyen?den=https://dichvucong.gov.vn/x\n"
				  "method = POST\nenctype = multipart/form-data\nform = a=b & c\n",
				  &errs);

	CHECK_STR(buf_str(&errs), "");
	CHECK(c != NULL);
	if (c) {
		const struct target *t = catalog_target(c, "t1");

		CHECK(t && t->flow && t->flow->steps[0].multipart);
		if (t)
			CHECK_STR(t->extra_ca, "/srv/qr/ca/tinh.pem");
	}
	catalog_free(c);
	buf_release(&errs);
}

/* Boards belong to the probe at their place; flows to all, a place's probes, or a list. */
static void test_probes(void)
{
	struct buf errs, found;
	struct catalog *c = parse(
		"[place ward]\nprovince = P\ncommune = C\n"
		"[place lane]\nprovince = P\ncommune = C\nvillage = V\n"
		"[place far]\nprovince = P\ncommune = D\n"
		"[board bw]\nplace = ward\nlocation = x\nprobe = ward-1\n"
		"[board bl]\nplace = lane\nlocation = y\nprobe = lane-1\n"
		"[board bx]\nplace = lane\nlocation = z\n"
		"[target all]\nboard = bw\nprocedure = A\nimage = a.png\n"
		"official_domains = a.gov.vn\n"
		"[target lane]\nboard = bl\nprocedure = B\nimage = b.png\n"
		"official_domains = a.gov.vn\nchecked_from = place lane\n"
		"[target listed]\nboard = bl\nprocedure = C\nimage = c.png\n"
		"official_domains = a.gov.vn\nchecked_from = ward-1 other\n"
		"[target nobody]\nboard = bw\nprocedure = D\nimage = d.png\n"
		"official_domains = a.gov.vn\nchecked_from = place far\n"
		"[target unowned]\nboard = bx\nprocedure = E\nimage = e.png\n"
		"official_domains = a.gov.vn\n"
		"[target shared]\nboard = bw\nprocedure = F\nimage = f.png\n"
		"official_domains = a.gov.vn\nchecked_from = ward-1 lane-1\n", &errs);
	const struct target *t;

	CHECK(c != NULL);
	if (!c) {
		buf_release(&errs);
		return;
	}
	t = catalog_target(c, "all");
	CHECK(catalog_reads_board(t, "ward-1") && !catalog_reads_board(t, "lane-1"));
	CHECK(catalog_walks_flow(c, t, "ward-1") && catalog_walks_flow(c, t, "lane-1"));
	t = catalog_target(c, "lane");
	CHECK(t->from == FROM_PLACE);
	CHECK(catalog_walks_flow(c, t, "lane-1") && !catalog_walks_flow(c, t, "ward-1"));
	t = catalog_target(c, "listed");
	CHECK(t->from == FROM_PROBES && t->nfrom_probes == 2);
	CHECK(catalog_walks_flow(c, t, "ward-1") && catalog_walks_flow(c, t, "other") &&
	      !catalog_walks_flow(c, t, "lane-1"));
	t = catalog_target(c, "unowned");
	CHECK(catalog_reads_board(t, "ward-1") && catalog_reads_board(t, "lane-1"));
	/* lint: the unowned board, the flow of a place without probes, and a flow
	 * walked by others with no payload to walk from */
	buf_init(&found, 64 * 1024);
	CHECK(catalog_lint(c, &found) == 4);
	CHECK_CONTAINS(buf_str(&found), "c.catalog:19: board 'bx' names no probe, so every "
		       "probe reads its photos");
	CHECK_CONTAINS(buf_str(&found), "target 'nobody' is checked from place 'far', "
		       "where no board names a probe");
	CHECK_CONTAINS(buf_str(&found), "target 'listed' is checked from probes that do not "
		       "read its board ('lane-1' does), so they have no address to walk from: "
		       "give it 'payload'");
	/* its own probe walks it, but so should lane-1, which has no address to walk from */
	CHECK_CONTAINS(buf_str(&found), "target 'shared' is checked from probes that do not "
		       "read its board ('ward-1' does)");
	buf_release(&found);
	catalog_free(c);
	buf_release(&errs);
	/* no board names a probe: every probe reads every board, as before, and lint is quiet */
	c = parse(PLACE BOARD TARGET, &errs);
	buf_init(&found, 1024);
	CHECK(c && catalog_lint(c, &found) == 0 && found.len == 0);
	buf_release(&found);
	catalog_free(c);
	buf_release(&errs);
}

static void test_missing_file(void)
{
	struct buf errs;

	buf_init(&errs, 1024);
	CHECK(catalog_load("/nonexistent/qr.catalog", &errs) == NULL);
	CHECK_CONTAINS(buf_str(&errs), "cannot open '/nonexistent/qr.catalog'");
	buf_release(&errs);
}

/*
 * A confirmed new address rewrites one line of the file: the target's
 * payload, the old one kept as `replaces`; comments, other targets and
 * the file's other bytes are as they were. Putting an old address back
 * drops its `replaces`. Every refusal leaves out untouched.
 */
static void test_replace_payload(void)
{
	static const char text[] =
		"# the commune's boards\n"
		"[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n"
		"[board b]\nplace = p\nlocation = Nhà văn hoá\n\n"
		"[target ks]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = b.png\n"
		"  payload = https://dichvucong.gov.vn/ks   \n"
		"official_domains = dichvucong.gov.vn\n\n"
		"[target kt]\nboard = b\nprocedure = Đăng ký khai tử\nimage = b.png\n"
		"payload = https://dichvucong.gov.vn/kt\nofficial_domains = dichvucong.gov.vn\n";
	struct buf out, back, none;
	struct err e;
	struct catalog *cat;

	buf_init(&out, 64 * 1024);
	buf_init(&back, 64 * 1024);
	buf_init(&none, 64 * 1024);
	CHECK_INT(catalogedit_replace_payload("t.catalog", ".", text, sizeof(text) - 1, "ks", NULL,
					      "https://dichvucong.gov.vn/dvc/ks", &out, &e), 0);
	CHECK_CONTAINS(buf_str(&out), "[target ks]\nboard = b\nprocedure = Đăng ký khai sinh\n"
		       "image = b.png\npayload = https://dichvucong.gov.vn/dvc/ks\n"
		       "replaces = https://dichvucong.gov.vn/ks\nofficial_domains");
	CHECK_CONTAINS(buf_str(&out), "# the commune's boards\n[place p]");
	CHECK_CONTAINS(buf_str(&out), "payload = https://dichvucong.gov.vn/kt\n");
	cat = catalog_parse("t.catalog", ".", out.data, out.len, &none);
	CHECK(cat && cat->ntargets == 2 && catalog_target(cat, "ks")->nreplaces == 1);
	catalog_free(cat);
	buf_reset(&none);
	/* the old address put back: no target replaces its own payload */
	CHECK_INT(catalogedit_replace_payload("t.catalog", ".", out.data, out.len, "ks", NULL,
					      "https://dichvucong.gov.vn/ks", &back, &e), 0);
	CHECK_CONTAINS(buf_str(&back), "payload = https://dichvucong.gov.vn/ks\n"
		       "replaces = https://dichvucong.gov.vn/dvc/ks\nofficial_domains");
	CHECK(strstr(buf_str(&back), "replaces = https://dichvucong.gov.vn/ks\n") == NULL);
	/* refusals: nothing written */
	CHECK_INT(catalogedit_replace_payload("t.catalog", ".", text, sizeof(text) - 1, "nope", NULL,
					      "https://dichvucong.gov.vn/x", &none, &e), -1);
	CHECK_CONTAINS(e.msg, "no target 'nope'");
	CHECK_INT(catalogedit_replace_payload("t.catalog", ".", text, sizeof(text) - 1, "ks", NULL,
					      "https://dichvucong.gov.vn/ks\n[target x]", &none,
					      &e), -1);
	CHECK_CONTAINS(e.msg, "one line");
	CHECK_INT(catalogedit_replace_payload("t.catalog", ".", text, sizeof(text) - 1, "ks", NULL,
					      "https://dichvucong.gov.vn/ks", &none, &e), -1);
	CHECK_CONTAINS(e.msg, "already has the address");
	/* off the official domains: the catalog's own check refuses it */
	CHECK_INT(catalogedit_replace_payload("t.catalog", ".", text, sizeof(text) - 1, "ks", NULL,
					      "https://evil.example/ks", &none, &e), -1);
	CHECK_CONTAINS(e.msg, "would not load");
	/* the payload the caller judged is no longer the file's: -2, nothing written */
	CHECK_INT(catalogedit_replace_payload("t.catalog", ".", text, sizeof(text) - 1, "ks",
					      "https://dichvucong.gov.vn/other", "https://dichvucong.gov.vn/dvc/ks",
					      &none, &e), -2);
	CHECK_CONTAINS(e.msg, "the file changed since it was loaded");
	CHECK_INT((int)none.len, 0);
	buf_release(&out);
	buf_release(&back);
	buf_release(&none);
}

static const struct test catalog_tests[] = {
	{ "replace_payload", test_replace_payload },
	{ "valid_utf8_roundtrip", test_valid_roundtrip },
	{ "every_error_class", test_errors },
	{ "all_errors_reported", test_all_errors_reported },
	{ "example_catalog", test_example_catalog },
	{ "links_forms_and_cas", test_links_forms_and_cas },
	{ "missing_file", test_missing_file },
	{ "boards_and_flows_by_probe", test_probes },
};
SUITE(catalog, catalog_tests);
