/* test_alerts.c - alert routing, message texts and the e-mail they become. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "../../alerts/channel.h"
#include "../../alerts/message.h"
#include "../../alerts/route.h"
#include "../../common/banned.h"

static const char cat_text[] =
	"[place xa]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\n\n"
	"[place thon]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Tân An\nvillage = Thôn Đông\n\n"
	"[place khac]\nprovince = Tỉnh Bắc Ninh\ncommune = Xã Khác\n\n"
	"[board b]\nplace = thon\nlocation = Nhà văn hoá\n\n"
	"[board k]\nplace = khac\nlocation = UBND\n\n"
	"[target t]\nboard = b\nprocedure = Đăng ký khai sinh\nkind = text\nimage = t.png\npayload = a\n\n"
	"[target u]\nboard = k\nprocedure = Chứng thực\nkind = text\nimage = u.png\npayload = b\n";

static void test_parse(void)
{
	static const struct { const char *line; const char *err; } bad[] = {
		{ "x pigeon a@b", "unknown channel 'pigeon'" },
		{ "x email not-an-address", "is not an e-mail address" },
		{ "x email a@b\r\nRCPT:<c@d>", "is not an e-mail address" },
		{ "x webhook ftp://host/", "must be an http:// or https:// URL" },
		{ "x telegram http://h/bot", "needs chat=ID" },
		{ "x email a@b colour=red", "bad option 'colour=red'" },
		{ "bad/name email a@b", "recipient name 'bad/name'" },
		{ "x email", "notify must be" },
	};
	struct recipient r;
	struct err e;

	CHECK_INT(route_parse("it email it@huyen.example place=xa severity=urgent lang=en "
			      "digest=yes", 0, &r, &e), 0);
	CHECK_STR(r.name, "it");
	CHECK_STR(r.place, "xa");
	CHECK_INT(r.urgent_only, 1);
	CHECK_INT(r.english, 1);
	CHECK_INT(r.digest, 1);
	CHECK_INT(route_parse("tg telegram https://h/bot1/sendMessage chat=-1001", -1, &r, &e), 0);
	CHECK_STR(r.chat, "-1001");
	CHECK_INT(r.english, -1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		harness_case("%s", bad[i].line);
		memset(&e, 0, sizeof(e));
		CHECK_INT(route_parse(bad[i].line, 0, &r, &e), -1);
		CHECK_CONTAINS(e.msg, bad[i].err);
	}
}

static void test_matches(void)
{
	struct buf errs;
	struct catalog *c;
	struct recipient all, commune, village, other, urgent;
	struct err e;

	buf_init(&errs, 4096);
	c = catalog_parse("t.catalog", ".", cat_text, strlen(cat_text), &errs);
	CHECK(c != NULL);
	if (!c) {
		CHECK_STR(buf_str(&errs), "");
		buf_release(&errs);
		return;
	}
	route_parse("a email a@x", 0, &all, &e);
	route_parse("b email b@x place=xa", 0, &commune, &e);
	route_parse("c email c@x place=thon", 0, &village, &e);
	route_parse("d email d@x place=khac", 0, &other, &e);
	route_parse("e email e@x severity=urgent", 0, &urgent, &e);
	/* IT staff hear of everything, probe incidents too */
	CHECK(route_matches(&all, c, catalog_target(c, "t"), 0));
	CHECK(route_matches(&all, c, NULL, 0));
	/* a commune covers its villages; a place never hears of a probe */
	CHECK(route_matches(&commune, c, catalog_target(c, "t"), 0));
	CHECK(!route_matches(&commune, c, catalog_target(c, "u"), 0));
	CHECK(!route_matches(&commune, c, NULL, 0));
	CHECK(route_matches(&village, c, catalog_target(c, "t"), 0));
	CHECK(!route_matches(&other, c, catalog_target(c, "t"), 0));
	CHECK(route_matches(&other, c, catalog_target(c, "u"), 0));
	CHECK(!route_matches(&urgent, c, catalog_target(c, "t"), 0));
	CHECK(route_matches(&urgent, c, catalog_target(c, "t"), 1));
	CHECK(route_verdict_urgent("TAMPERED") && route_verdict_urgent("HANG"));
	CHECK(!route_verdict_urgent("DOWN") && !route_verdict_urgent("STALE"));
	catalog_free(c);
	buf_release(&errs);
}

/* A hostile payload and step name: no line breaks in the subject or the headers. */
static void test_hostile_text(void)
{
	static const struct alert_evidence evid = {
		"https://x.example/\r\nBcc: victim@x\r\n\r\nhi", 1, "s\nSubject: x", 503, "",
		1000, 5000
	};
	struct alert_event ev;
	struct buf subject, body;
	struct alert_cfg cfg;
	struct outbox_msg m;
	char *mail;
	size_t len;

	memset(&ev, 0, sizeof(ev));
	ev.event = "opened";
	ev.kind = "target";
	ev.incident = 7;
	ev.verdict = "TAMPERED";
	ev.target_id = "evil\r\nBcc: x@y";
	ev.nprobes = 1;
	ev.probes = "p1";
	ev.since_ms = 1795436280000LL;
	ev.evidence = &evid;
	ev.urgent = 1;
	buf_init(&subject, 4096);
	buf_init(&body, 65536);
	CHECK_INT(message_render(&ev, 0, &subject, &body), 0);
	CHECK(!strchr(buf_str(&subject), '\n') && !strchr(buf_str(&subject), '\r'));
	CHECK_CONTAINS(buf_str(&subject), "[KHẨN]");
	CHECK_CONTAINS(buf_str(&body), "Mã đọc được: https://x.example/  Bcc: victim@x    hi");
	CHECK_CONTAINS(buf_str(&body), "Địa điểm: evil  Bcc: x@y\n");
	CHECK_CONTAINS(buf_str(&body), "bước 1 \"s Subject: x\": HTTP 503");
	CHECK_CONTAINS(buf_str(&body), "Từ lúc: 23/11/2026 19:18 (giờ Việt Nam)");
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.smtp_from, sizeof(cfg.smtp_from), "qrwatch@huyen.example");
	memset(&m, 0, sizeof(m));
	m.event = "opened";
	m.address = "it@huyen.example";
	m.subject = buf_str(&subject);
	m.body = buf_str(&body);
	m.dedupe = "qrw-1-7-9-it";
	mail = channel_mail_text(&cfg, &m, 1795436280, &len);
	CHECK(mail != NULL);
	if (mail) {
		char *end = strstr(mail, "\r\n\r\n");

		CHECK_CONTAINS(mail, "Message-ID: <qrw-1-7-9-it@huyen.example>\r\n");
		CHECK_CONTAINS(mail, "Subject: =?UTF-8?B?");
		CHECK_CONTAINS(mail, "Date: Mon, 23 Nov 2026 19:18:00 +0700\r\n");
		/* the headers end once, before the encoded body, and hold no Bcc */
		CHECK(end != NULL);
		if (end) {
			*end = '\0';
			CHECK(strstr(mail, "Bcc") == NULL);
			CHECK(strstr(end + 4, "\r\n\r\n") == NULL);
		}
		free(mail);
	}
	buf_release(&subject);
	buf_release(&body);
}

static void test_english_resolved(void)
{
	struct alert_event ev;
	struct buf subject, body;

	memset(&ev, 0, sizeof(ev));
	ev.event = "resolved";
	ev.kind = "uplink";
	ev.probe = "p9";
	ev.since_ms = 1795436280000LL;
	ev.now_ms = 1795439880000LL;
	buf_init(&subject, 4096);
	buf_init(&body, 65536);
	CHECK_INT(message_render(&ev, 1, &subject, &body), 0);
	CHECK_STR(buf_str(&subject), "[qrwatch] Resolved: uplink of probe p9");
	CHECK_CONTAINS(buf_str(&body), "Ended: 23/11/2026 20:18\n\nIncident 0.");
	CHECK(strstr(buf_str(&body), "Status:") == NULL);	/* empty lines drop out */
	buf_release(&subject);
	buf_release(&body);
}

static const struct test tests[] = {
	{ "notify lines parsed, bad ones named", test_parse },
	{ "routing by place, commune and severity", test_matches },
	{ "hostile text stays out of subjects and headers", test_hostile_text },
	{ "English texts, empty lines left out", test_english_resolved },
};

SUITE(alerts, tests);
