/* test_payload.c - EMVCo/VietQR parsing, link and domain policy, and judging codes. */
#include <stdio.h>
#include <string.h>

#include "../harness.h"
#include "../../targets/domain.h"
#include "../../targets/emvco.h"
#include "../../targets/payload.h"
#include "../../targets/policy.h"
#include "../../common/text.h"
#include "../../common/banned.h"

/* Built with the shared builder: BIN 970405, account 2605205012345. */
static void make_vietqr(char *out, size_t cap, const char *bin, const char *acct,
			const char *purpose)
{
	struct buf b;

	buf_init(&b, 1024);
	emvco_build_vietqr(&b, bin, acct, "UBND XA TAN AN", purpose);
	snprintf(out, cap, "%s", buf_str(&b));
	buf_release(&b);
}

static void test_crc(void)
{
	/* the CRC-16/CCITT-FALSE check value */
	CHECK_INT(emvco_crc16("123456789", 9), 0x29B1);
	CHECK_INT(emvco_crc16("", 0), 0xFFFF);
}

static void test_parse_vietqr(void)
{
	/* a payload written out by hand, CRC from an independent tool */
	const char *s = "00020101021138570010A00000072701270006970405011326052050123450208QRIBFTTA53037045802VN5914UBND XA TAN AN62210817LE PHI CHUNG THUC63044EE9";
	struct emvco m;
	struct err e;

	CHECK_INT(emvco_parse(s, strlen(s), &m, &e), 0);
	CHECK(m.crc_ok);
	CHECK(m.has_payee);
	CHECK_STR(m.bin, "970405");
	CHECK_STR(m.account, "2605205012345");
	CHECK_STR(m.service, "QRIBFTTA");
	CHECK_STR(m.guid, "A000000727");
	CHECK_STR(m.merchant, "UBND XA TAN AN");
	CHECK_STR(m.purpose, "LE PHI CHUNG THUC");
	CHECK_STR(m.currency, "704");
	CHECK_STR(m.initiation, "11");
}

static void test_build_roundtrip(void)
{
	char s[512];
	struct emvco m;
	struct err e;

	make_vietqr(s, sizeof(s), "970436", "0011001234567", "HOC PHI");
	CHECK_INT(emvco_parse(s, strlen(s), &m, &e), 0);
	CHECK(m.crc_ok);
	CHECK_STR(m.bin, "970436");
	CHECK_STR(m.account, "0011001234567");
	/* damage one character of the account: the CRC catches it */
	s[strlen("00020101021138570010A000000727012700069704360113") + 2] = '9';
	CHECK_INT(emvco_parse(s, strlen(s), &m, &e), 0);
	CHECK(!m.crc_ok);
}

static void test_malformed(void)
{
	static const struct {
		const char *s;
		const char *msg;
	} rows[] = {
		{ "000201010211", "checksum) is missing" },
		{ "00020101", "truncated field" },
		{ "000201019911", "says 99 characters" },
		{ "0002010102AB6304ABCD", "" },		/* valid TLV, wrong CRC: parses */
		{ "0002016304ABCD5802VN", "must be the last field" },
		{ "0002016304XYZW", "not hexadecimal" },
		{ "000201x10211", "not two digits" },
		{ "000201385A0010", "bad length" },
		/*
		 * bytes of the code are shown as ASCII or \xHH, never as half a
		 * character: the message becomes a result's explanation, which must
		 * stay valid UTF-8 (found by a fuzzer)
		 */
		{ "000201Tr\xe1\xbb\xa9", "field id 'Tr' at offset 6" },
		{ "000201010211\xe1\xbb\xa9x", "field id '\\xE1\\xBB' at offset 12 is not two digits" },
		{ "00020138\xc3\xa2n", "field 38 has a bad length '\\xC3\\xA2'" },
		{ "0002016304\xe1\xbb\xa9x", "field 63 '\\xE1\\xBB\\xA9x' is not hexadecimal" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct emvco m;
		struct err e;
		int rc = emvco_parse(rows[i].s, strlen(rows[i].s), &m, &e);

		harness_case("'%s'", rows[i].s);
		if (rows[i].msg[0]) {
			CHECK_INT(rc, -1);
			if (rc < 0) {
				CHECK_CONTAINS(e.msg, rows[i].msg);
				CHECK(text_is_ascii(e.msg, strlen(e.msg)));
			}
		} else {
			CHECK_INT(rc, 0);
			CHECK(!m.crc_ok);
		}
	}
}

static void test_classify(void)
{
	static const struct {
		const char *text;
		enum payload_kind kind;
		const char *problem;
	} rows[] = {
		{ "https://dichvucong.gov.vn/p/home", PAYLOAD_URL, "" },
		{ "HTTP://Example.gov.vn/", PAYLOAD_URL, "" },
		{ "ftp://files.gov.vn/form.pdf", PAYLOAD_TEXT, "not http or https" },
		{ "javascript:alert(1)", PAYLOAD_TEXT, "not a valid link" },
		{ "https://hanoi.gov.vn@evil.example/", PAYLOAD_TEXT, "user name" },
		{ "https://hà-nội.vn/", PAYLOAD_TEXT, "non-ASCII" },
		/*
		 * libcurl decodes %XX in the host: what it gives back is a host
		 * name or an address, or the link is refused (found by a fuzzer:
		 * %ee made a host with a byte that is not UTF-8, in the
		 * explanation the server then refused)
		 */
		{ "https://dichvucong.gov.vn%ee/x", PAYLOAD_TEXT, "characters a host name cannot have" },
		{ "https://h%c3%a0-n%e1%bb%99i.vn/", PAYLOAD_TEXT, "characters a host name cannot have" },
		{ "https://evil.example%2f.dichvucong.gov.vn/", PAYLOAD_TEXT, "not a valid link" },
		{ "https://dichvucong%2egov%2evn/p/home", PAYLOAD_URL, "" },
		{ "http://[2001:db8::1]:8080/", PAYLOAD_URL, "" },
		{ "http://my_portal.tanan.gov.vn/", PAYLOAD_URL, "" },
		{ "Liên hệ: 0243 123 4567", PAYLOAD_TEXT, "" },
		{ "000201010211", PAYLOAD_TEXT, "missing" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct payload p;

		harness_case("'%s'", rows[i].text);
		payload_classify(rows[i].text, &p);
		CHECK_INT(p.kind, rows[i].kind);
		if (rows[i].problem[0])
			CHECK_CONTAINS(p.problem, rows[i].problem);
		else
			CHECK_STR(p.problem, "");
	}
	{
		char s[512];
		struct payload p;

		make_vietqr(s, sizeof(s), "970405", "123", NULL);
		payload_classify(s, &p);
		CHECK_INT(p.kind, PAYLOAD_EMVCO);
		CHECK_STR(p.emv.account, "123");
	}
}

static const struct test emvco_tests[] = {
	{ "crc16_ccitt_false", test_crc },
	{ "parse_vietqr", test_parse_vietqr },
	{ "build_roundtrip_and_damage", test_build_roundtrip },
	{ "malformed", test_malformed },
	{ "classify", test_classify },
};
SUITE(emvco, emvco_tests);

static void test_official(void)
{
	static const char *const official[] = { "dichvucong.gov.vn", "hanoi.gov.vn" };
	static const struct {
		const char *host;
		int ok;
	} rows[] = {
		{ "dichvucong.gov.vn", 1 },
		{ "hanoi.gov.vn", 1 },
		{ "dvc.hanoi.gov.vn", 1 },
		{ "a.b.hanoi.gov.vn", 1 },
		{ "evilhanoi.gov.vn", 0 },
		{ "hanoi.gov.vn.evil.example", 0 },
		{ "dichvucong-gov.vn", 0 },
		{ "dichvuc0ng.gov.vn", 0 },
		{ "xn--dchvucng-6za.gov.vn", 0 },
		{ "xn--abc.hanoi.gov.vn", 0 },
		{ "gov.vn", 0 },
		{ "203.162.0.1", 0 },
		{ "[2001:db8::1]", 0 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		harness_case("%s", rows[i].host);
		CHECK_INT(domain_is_official(rows[i].host, official, 2), rows[i].ok);
	}
}

static void test_suspicion(void)
{
	static const char *const official[] = { "dichvucong.gov.vn" };
	const char *imit = NULL;

	CHECK_INT(domain_explain("dichvuc0ng.gov.vn", official, 1, &imit),
		  SUSPECT_LOOKALIKE);
	CHECK_STR(imit, "dichvucong.gov.vn");
	CHECK_INT(domain_explain("dichvucong-gov.vn.pay.example", official, 1, &imit),
		  SUSPECT_LOOKALIKE);
	CHECK_INT(domain_explain("xn--dchvucng-6za.gov.vn", official, 1, &imit),
		  SUSPECT_PUNYCODE);
	CHECK_INT(domain_explain("198.51.100.7", official, 1, &imit), SUSPECT_IP);
	CHECK_INT(domain_explain("weather.example", official, 1, &imit),
		  SUSPECT_NONE);
}

static void test_check_official(void)
{
	static const struct {
		const char *d;
		const char *msg;
	} rows[] = {
		{ "hanoi.gov.vn", "" },
		{ "dichvucong.gov.vn", "" },
		{ "gov.vn", "public suffix" },
		{ "vn", "not a full domain" },
		{ "com.vn", "public suffix" },
		{ "Hanoi.gov.vn", "lower-case" },
		{ "10.0.0.1", "IP address" },
		{ "hanoi..gov.vn", "not a full domain" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct err e;
		int rc = domain_check_official(rows[i].d, &e);

		harness_case("%s", rows[i].d);
		CHECK_INT(rc, rows[i].msg[0] ? -1 : 0);
		if (rc < 0 && rows[i].msg[0])
			CHECK_CONTAINS(e.msg, rows[i].msg);
	}
}

static const struct test domain_tests[] = {
	{ "official_whole_label_match", test_official },
	{ "suspicion", test_suspicion },
	{ "check_official_domain", test_check_official },
};
SUITE(domain, domain_tests);

static void test_judge(void)
{
	static const char *const official[] = { "dichvucong.gov.vn", "bacninh.gov.vn" };
	static const char *reg_url =
		"https://dichvucong.gov.vn/p/home/dvc-tthc.html?ma_thu_tuc=1.001193";
	struct target url = { 0 }, pay = { 0 }, txt = { 0 };
	char good[512], other[512], damaged[512], differs[512];
	const struct {
		const struct target *t;
		const char *text;
		enum verdict v;
		enum reason r;
	} rows[] = {
		{ &url, reg_url, VERDICT_OK, REASON_GENUINE_URL },
		{ &url, "https://dichvucong.gov.vn/p/home/other.html", VERDICT_TAMPERED,
		  REASON_DIFFERENT_LINK },
		{ &url, "https://dichvuc0ng.gov.vn/p/home/dvc-tthc.html", VERDICT_TAMPERED,
		  REASON_OUTSIDE_LOOKALIKE },
		{ &url, "https://xn--dchvucng-6za.gov.vn/", VERDICT_TAMPERED,
		  REASON_OUTSIDE_PUNYCODE },
		{ &url, "http://203.0.113.9/khai-sinh", VERDICT_TAMPERED,
		  REASON_OUTSIDE_IP },
		{ &url, "https://weather.example/", VERDICT_TAMPERED,
		  REASON_OUTSIDE_OFFICIAL },
		{ &url, "https://dichvucong.gov.vn@evil.example/", VERDICT_TAMPERED,
		  REASON_BAD_LINK },
		{ &url, "Gọi 0243 123 4567", VERDICT_TAMPERED, REASON_NOT_A_LINK },
		{ &url, good, VERDICT_TAMPERED, REASON_NOT_A_LINK },
		{ &pay, good, VERDICT_OK, REASON_GENUINE_PAYMENT },
		{ &pay, other, VERDICT_TAMPERED, REASON_OTHER_PAYEE },
		{ &pay, damaged, VERDICT_UNREADABLE, REASON_PAYMENT_CRC },
		{ &pay, "000201010211", VERDICT_UNREADABLE, REASON_PAYMENT_MALFORMED },
		{ &pay, reg_url, VERDICT_TAMPERED, REASON_NOT_A_PAYMENT },
		{ &txt, "Hotline xã: 0222 3850 123", VERDICT_OK, REASON_GENUINE_TEXT },
		{ &txt, "Hotline xã: 0999 999 999", VERDICT_TAMPERED, REASON_TEXT_DIFFERS },
	};

	url.id = "ks";
	url.kind = TARGET_URL;
	url.payload = reg_url;
	url.official = (const char **)official;
	url.nofficial = 2;
	make_vietqr(good, sizeof(good), "970405", "2605205012345", "LE PHI");
	make_vietqr(other, sizeof(other), "970422", "0987654321", "LE PHI");
	snprintf(damaged, sizeof(damaged), "%s", good);
	damaged[strlen(damaged) - 1] = damaged[strlen(damaged) - 1] == '0' ? '1' : '0';
	pay.id = "fee";
	pay.kind = TARGET_VIETQR;
	pay.payee_bin = "970405";
	pay.payee_account = "2605205012345";
	txt.id = "hotline";
	txt.kind = TARGET_TEXT;
	txt.payload = "Hotline xã: 0222 3850 123";
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct judgement j;

		harness_case("row %zu: %.40s", i, rows[i].text);
		policy_judge(rows[i].t, rows[i].text, &j);
		CHECK_STR(verdict_name(j.verdict), verdict_name(rows[i].v));
		CHECK_INT(j.reason, rows[i].r);
		CHECK_INT(j.genuine, rows[i].v == VERDICT_OK);
	}
	/* the registered payment code, with a changed amount: same payee, still tampered */
	{
		struct judgement j;
		struct buf b;
		struct buf msg;

		buf_init(&b, 1024);
		emvco_add(&b, "00", "01");
		emvco_add(&b, "01", "12");
		emvco_add(&b, "38", "0010A00000072701270006970405011326052050123450208QRIBFTTA");
		emvco_add(&b, "53", "704");
		emvco_add(&b, "54", "500000");
		emvco_add(&b, "58", "VN");
		emvco_finish(&b);
		snprintf(differs, sizeof(differs), "%s", buf_str(&b));
		buf_release(&b);
		pay.payload = good;
		policy_judge(&pay, differs, &j);
		CHECK_INT(j.reason, REASON_PAYMENT_DIFFERS);
		buf_init(&msg, 4096);
		policy_explain(&j, 1, &msg);
		CHECK_CONTAINS(buf_str(&msg), "amount (54)");
		buf_release(&msg);
	}
}

static void test_explain_languages(void)
{
	static const char *const official[] = { "dichvucong.gov.vn" };
	struct target url = { 0 };
	struct judgement j;
	struct buf vi, en;

	url.kind = TARGET_URL;
	url.official = (const char **)official;
	url.nofficial = 1;
	policy_judge(&url, "https://dichvuc0ng.gov.vn/x", &j);
	buf_init(&vi, 4096);
	buf_init(&en, 4096);
	policy_explain(&j, 0, &vi);
	policy_explain(&j, 1, &en);
	CHECK_CONTAINS(buf_str(&vi), "dichvuc0ng.gov.vn");
	CHECK_CONTAINS(buf_str(&vi), "giả mạo dichvucong.gov.vn");
	CHECK_CONTAINS(buf_str(&en), "look-alike of dichvucong.gov.vn");
	buf_release(&vi);
	buf_release(&en);
}

/* A decode result of texts in reading order, their boxes side by side. */
static void codes_of(struct decode_result *r, const char *const *texts, int n)
{
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < n; i++) {
		r->codes[i].text = (char *)texts[i];
		r->codes[i].x = 200 * i;
		r->codes[i].y = 40;
		r->codes[i].w = r->codes[i].h = 150;
	}
	r->n = n;
}

/*
 * A board judged whole: its own code with a foreign one beside it is
 * TAMPERED, naming the foreign one and where; another target's code of the
 * same board is no foreigner; with no code of its own the foreign one
 * decides as before.
 */
static void test_judge_board(void)
{
	static const char cat_text[] =
		"[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n"
		"[board b]\nplace = p\nlocation = Nhà văn hoá\n\n"
		"[target ks]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = b.png\n"
		"payload = https://dichvucong.gov.vn/ks\nofficial_domains = dichvucong.gov.vn\n\n"
		"[target kt]\nboard = b\nprocedure = Đăng ký khai tử\nimage = b.png\n"
		"payload = https://dichvucong.gov.vn/kt\nofficial_domains = dichvucong.gov.vn\n";
	static const char *const own_and_fake[] = { "https://dichvucong.gov.vn/ks",
		"https://dichvucong-gov.vn.nop-ho-so.com/ks" };
	static const char *const own_and_mate[] = { "https://dichvucong.gov.vn/kt",
		"https://dichvucong.gov.vn/ks" };
	static const char *const fake_and_mate[] = { "https://dichvucong-gov.vn.nop-ho-so.com/ks",
		"https://dichvucong.gov.vn/kt" };
	struct buf errors, vi, en;
	struct catalog *cat;
	const struct target *ks;
	struct decode_result r;
	struct judgement j;
	int used;

	buf_init(&errors, 4096);
	cat = catalog_parse("t.catalog", ".", cat_text, sizeof(cat_text) - 1, &errors);
	CHECK(cat != NULL);
	buf_release(&errors);
	if (!cat)
		return;
	ks = catalog_target(cat, "ks");
	codes_of(&r, own_and_fake, 2);
	policy_judge_board(cat, ks, &r, &j, &used);
	CHECK_STR(verdict_name(j.verdict), "TAMPERED");
	CHECK_INT(j.reason, REASON_EXTRA_CODE);
	CHECK_INT(used, 0);
	buf_init(&vi, 4096);
	buf_init(&en, 4096);
	policy_explain(&j, 0, &vi);
	policy_explain(&j, 1, &en);
	CHECK_CONTAINS(buf_str(&vi), "mã thứ 2 trong 2 mã trên ảnh");
	CHECK_CONTAINS(buf_str(&vi), "https://dichvucong-gov.vn.nop-ho-so.com/ks");
	CHECK_CONTAINS(buf_str(&en), "code 2 of 2 in the photo (top to bottom, left to right), "
		       "at pixel (200, 40)");
	buf_release(&vi);
	buf_release(&en);
	/* the other code is the board's other target's: genuine */
	codes_of(&r, own_and_mate, 2);
	policy_judge_board(cat, ks, &r, &j, &used);
	CHECK_STR(verdict_name(j.verdict), "OK");
	CHECK_INT(used, 1);
	/* without the catalog, that code is foreign too */
	policy_judge_board(NULL, ks, &r, &j, &used);
	CHECK_INT(j.reason, REASON_EXTRA_CODE);
	/* no code of its own: the fake one decides, as a single code would */
	codes_of(&r, fake_and_mate, 2);
	policy_judge_board(cat, ks, &r, &j, &used);
	CHECK_STR(verdict_name(j.verdict), "TAMPERED");
	CHECK_INT(j.reason, REASON_OUTSIDE_LOOKALIKE);
	CHECK_INT(used, 0);
	/* no text at all */
	r.codes[0].text = r.codes[1].text = NULL;
	policy_judge_board(cat, ks, &r, &j, &used);
	CHECK_INT(used, -1);
	catalog_free(cat);
}

/*
 * After a new address is confirmed the catalog keeps the old code as
 * `replaces`: a board still showing it waits for the new poster (STALE,
 * naming both), never TAMPERED; the old code beside the new one is no
 * foreigner; and a catalog cannot replace a payload by itself.
 */
static void test_judge_replaced(void)
{
	static const char cat_text[] =
		"[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n"
		"[board b]\nplace = p\nlocation = Nhà văn hoá\n\n"
		"[target ks]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = b.png\n"
		"payload = https://dichvucong.gov.vn/dvc/ks\n"
		"replaces = https://dichvucong.gov.vn/ks\nofficial_domains = dichvucong.gov.vn\n";
	static const char self_text[] =
		"[place p]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n"
		"[board b]\nplace = p\nlocation = Nhà văn hoá\n\n"
		"[target ks]\nboard = b\nprocedure = Đăng ký khai sinh\nimage = b.png\n"
		"payload = https://dichvucong.gov.vn/ks\n"
		"replaces = https://dichvucong.gov.vn/ks\nofficial_domains = dichvucong.gov.vn\n";
	static const char *const old_only[] = { "https://dichvucong.gov.vn/ks" };
	static const char *const old_and_new[] = { "https://dichvucong.gov.vn/ks",
		"https://dichvucong.gov.vn/dvc/ks" };
	struct buf errors, vi;
	struct catalog *cat;
	const struct target *ks;
	struct decode_result r;
	struct judgement j;
	int used;

	buf_init(&errors, 4096);
	cat = catalog_parse("t.catalog", ".", self_text, sizeof(self_text) - 1, &errors);
	CHECK(cat == NULL);
	CHECK_CONTAINS(buf_str(&errors), "t.catalog:14: target 'ks' replaces its own payload");
	buf_reset(&errors);
	cat = catalog_parse("t.catalog", ".", cat_text, sizeof(cat_text) - 1, &errors);
	CHECK(cat != NULL);
	buf_release(&errors);
	if (!cat)
		return;
	ks = catalog_target(cat, "ks");
	CHECK_INT(ks->nreplaces, 1);
	policy_judge(ks, "https://dichvucong.gov.vn/ks", &j);
	CHECK_STR(verdict_name(j.verdict), "STALE");
	CHECK_INT(j.reason, REASON_OLD_CODE);
	CHECK_INT(j.genuine, 0);
	buf_init(&vi, 4096);
	policy_explain(&j, 0, &vi);
	CHECK_CONTAINS(buf_str(&vi), "Bảng vẫn còn mã cũ (https://dichvucong.gov.vn/ks). "
		       "Địa chỉ mới (https://dichvucong.gov.vn/dvc/ks) đã được xác nhận");
	buf_release(&vi);
	codes_of(&r, old_only, 1);
	policy_judge_board(cat, ks, &r, &j, &used);
	CHECK_STR(verdict_name(j.verdict), "STALE");
	CHECK_INT(used, 0);
	/* the new poster pinned up beside the old one: the new one is the board's code */
	codes_of(&r, old_and_new, 2);
	policy_judge_board(cat, ks, &r, &j, &used);
	CHECK_STR(verdict_name(j.verdict), "OK");
	CHECK_INT(used, 1);
	policy_judge_board(NULL, ks, &r, &j, &used);
	CHECK_STR(verdict_name(j.verdict), "OK");
	catalog_free(cat);
}

static const struct test policy_tests[] = {
	{ "judge_table", test_judge },
	{ "judge_board", test_judge_board },
	{ "judge_replaced", test_judge_replaced },
	{ "explain_vi_en", test_explain_languages },
};
SUITE(policy, policy_tests);
