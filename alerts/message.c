/* message.c - alert texts: one table of templates, filled in from the incident (see message.h). */
#include "message.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "../targets/verdict.h"
#include "../common/banned.h"

#define MESSAGE_FIELD_MAX 300	/* bytes of probe- or code-supplied text in a message */

struct words {
	const char *verdict;
	const char *plain[2];	/* Vietnamese, English */
	const char *todo[2];
};

static const struct words verdict_words[] = {
	{ "UNREADABLE", { "không đọc được mã", "the code cannot be read" },
	  { "Kiểm tra bảng tin: mã có bị mờ, rách hay bị che không. Nếu cần, in lại mã "
	    "từ trang \"Mã cần in lại\" của bảng điều khiển.",
	    "Check the board: is the code faded, torn or covered? If needed, print it "
	    "again from the dashboard's \"Codes to reprint\" page." } },
	{ "TAMPERED", { "mã bị thay hoặc bị dán đè", "the code was replaced or stuck over" },
	  { "Đến bảng tin ngay, gỡ mã lạ, dán lại mã đúng in từ trang \"Mã cần in lại\" "
	    "của bảng điều khiển (trang chỉ đưa mã có địa chỉ đã kiểm tra là hoạt động), "
	    "và báo người dân không quét mã lạ.",
	    "Go to the board now, remove the foreign code, put up the right one printed "
	    "from the dashboard's \"Codes to reprint\" page (it only offers codes whose "
	    "address was checked working), and warn citizens not to scan the foreign one." } },
	/* never "print the code again": the code's own address is the dead one */
	{ "STALE", { "mã đã cũ, trang không còn", "the code is stale: its page is gone" },
	  { "Đừng in lại mã đang dán: địa chỉ trong mã không còn dẫn tới thủ tục. Cần địa "
	    "chỉ mới của thủ tục trên cổng dịch vụ công, được xác nhận và kiểm tra là "
	    "hoạt động, rồi mới in mã mới (trang \"Mã cần in lại\" của bảng điều khiển).",
	    "Do not print the posted code again: its address no longer leads to the "
	    "procedure. The procedure's new address on the portal must be confirmed and "
	    "checked working before a new code is printed (the dashboard's \"Codes to "
	    "reprint\" page)." } },
	{ "HANG", { "cổng dịch vụ treo, không trả lời", "the service hangs and does not answer" },
	  { "Báo cho đơn vị vận hành cổng dịch vụ công của tỉnh. Trong lúc chờ, người dân "
	    "có thể nộp hồ sơ trực tiếp tại bộ phận một cửa.",
	    "Tell the operator of the provincial public-service portal. Meanwhile citizens "
	    "can file in person at the one-stop desk." } },
	{ "DOWN", { "cổng dịch vụ bị lỗi", "the service is down" },
	  { "Báo cho đơn vị vận hành cổng dịch vụ công của tỉnh. Trong lúc chờ, người dân "
	    "có thể nộp hồ sơ trực tiếp tại bộ phận một cửa.",
	    "Tell the operator of the provincial public-service portal. Meanwhile citizens "
	    "can file in person at the one-stop desk." } },
	{ "BROKEN_FLOW", { "thủ tục hỏng giữa chừng", "the procedure breaks part-way" },
	  { "Báo cho đơn vị vận hành cổng dịch vụ: người dân không đi hết được thủ tục "
	    "(xem bước bị lỗi ở trên).",
	    "Tell the portal's operator: citizens cannot finish the procedure (see the "
	    "failing step above)." } },
	{ "SLOW", { "cổng dịch vụ chậm", "the service is slow" },
	  { "Theo dõi thêm. Nếu kéo dài, báo cho đơn vị vận hành cổng dịch vụ.",
	    "Keep an eye on it. If it lasts, tell the portal's operator." } },
	{ "OK", { "hoạt động bình thường", "working normally" }, { "", "" } },
};

static const struct words *find_words(const char *verdict)
{
	for (size_t i = 0; i < sizeof(verdict_words) / sizeof(verdict_words[0]); i++)
		if (verdict && !strcmp(verdict_words[i].verdict, verdict))
			return &verdict_words[i];
	return NULL;
}

int message_service_verdict(const char *verdict)
{
	enum verdict v;

	return verdict && verdict_parse(verdict, &v) == 0 && verdict_is_service(v);
}

const char *message_verdict_words(const char *verdict, int english)
{
	const struct words *w = find_words(verdict);

	return w ? w->plain[!!english] : verdict ? verdict : "?";
}

/*
 * The templates. {name} is replaced by the field of that name; a line
 * whose fields are all empty is left out. Index 0 Vietnamese, 1 English.
 */
struct tmpl {
	const char *kind, *event;
	const char *subject[2];
	const char *headline[2];
};

static const struct tmpl templates[] = {
	{ "target", "opened",
	  { "{urgent}[qrwatch] {words}: {procedure}, {place}",
	    "{urgent}[qrwatch] {words}: {procedure}, {place}" },
	  { "Mã QR của thủ tục \"{procedure}\" đang có sự cố: {words}.",
	    "The QR code for \"{procedure}\" has a problem: {words}." } },
	{ "target", "changed",
	  { "{urgent}[qrwatch] Cập nhật: {words}: {procedure}, {place}",
	    "{urgent}[qrwatch] Update: {words}: {procedure}, {place}" },
	  { "Sự cố với mã QR của thủ tục \"{procedure}\" đã thay đổi: {change}.",
	    "The problem with the QR code for \"{procedure}\" has changed: {change}." } },
	{ "target", "reminder",
	  { "{urgent}[qrwatch] Nhắc lại: vẫn {words}: {procedure}, {place}",
	    "{urgent}[qrwatch] Reminder: still {words}: {procedure}, {place}" },
	  { "Sự cố với mã QR của thủ tục \"{procedure}\" vẫn chưa được khắc phục.",
	    "The problem with the QR code for \"{procedure}\" is not fixed yet." } },
	{ "target", "resolved",
	  { "[qrwatch] Đã khắc phục: {procedure}, {place}",
	    "[qrwatch] Resolved: {procedure}, {place}" },
	  { "Mã QR của thủ tục \"{procedure}\" đã hoạt động bình thường trở lại.",
	    "The QR code for \"{procedure}\" works normally again." } },
	{ "uplink", "opened",
	  { "[qrwatch] Điểm đo {probe} mất kết nối ({failing}/{total} mã lỗi cùng lúc)",
	    "[qrwatch] Probe {probe} lost its uplink ({failing} of {total} codes failing at once)" },
	  { "Hầu hết các mã do điểm đo {probe} kiểm tra cùng lỗi một lúc: nhiều khả năng "
	    "đường truyền của router có vấn đề, không phải các dịch vụ. Các sự cố của từng "
	    "mã từ điểm đo này được tạm giữ lại.",
	    "Most codes checked by probe {probe} fail at the same time: most likely the "
	    "router's uplink has a problem, not the services. The per-code incidents from "
	    "this probe are held back." } },
	/* an uplink incident that the probe's resolver opened (its results' link_fault) */
	{ "resolver", "opened",
	  { "[qrwatch] Điểm đo {probe} không hỏi được DNS ({dns}/{total} mã lỗi)",
	    "[qrwatch] Probe {probe} cannot look names up ({dns} of {total} codes failing)" },
	  { "Máy chủ DNS mà điểm đo {probe} dùng không trả lời hoặc báo lỗi khi hỏi tên "
	    "miền của {dns} mã: nhiều khả năng đường truyền của router hoặc máy chủ DNS có "
	    "vấn đề, không phải các dịch vụ. Các sự cố của những mã này được tạm giữ lại.",
	    "The resolver that probe {probe} uses fails or does not answer for the names "
	    "of {dns} codes: most likely the router's link or its DNS server has a "
	    "problem, not the services. The incidents of these codes are held back." } },
	{ "uplink", "reminder",
	  { "[qrwatch] Nhắc lại: điểm đo {probe} vẫn mất kết nối",
	    "[qrwatch] Reminder: probe {probe} still has no uplink" },
	  { "Đường truyền của điểm đo {probe} vẫn chưa ổn định.",
	    "The uplink of probe {probe} is still not working." } },
	{ "uplink", "resolved",
	  { "[qrwatch] Đã khắc phục: đường truyền điểm đo {probe}",
	    "[qrwatch] Resolved: uplink of probe {probe}" },
	  { "Các mã do điểm đo {probe} kiểm tra đã trả lời bình thường trở lại.",
	    "The codes checked by probe {probe} answer normally again." } },
	{ "cert", "opened",
	  { "[qrwatch] Chứng chỉ HTTPS sắp hết hạn: {host}, còn {days} ngày",
	    "[qrwatch] TLS certificate expires soon: {host}, {days} days left" },
	  { "Chứng chỉ HTTPS của {host} (thủ tục \"{procedure}\") hết hạn lúc {expires} "
	    "(giờ Việt Nam), còn {days} ngày. Khi hết hạn, điện thoại của người dân sẽ báo "
	    "trang không an toàn và mã QR không dùng được nữa.",
	    "The TLS certificate of {host} (procedure \"{procedure}\") expires at {expires} "
	    "(Vietnam time), {days} days from now. Once it has expired, citizens' phones "
	    "will call the page unsafe and the QR code will not work." } },
	{ "cert", "reminder",
	  { "[qrwatch] Nhắc lại: chứng chỉ HTTPS của {host} còn {days} ngày",
	    "[qrwatch] Reminder: the TLS certificate of {host} has {days} days left" },
	  { "Chứng chỉ HTTPS của {host} vẫn chưa được gia hạn; hết hạn lúc {expires}.",
	    "The TLS certificate of {host} is not renewed yet; it expires at {expires}." } },
	{ "cert", "resolved",
	  { "[qrwatch] Đã gia hạn: chứng chỉ HTTPS của {host}",
	    "[qrwatch] Renewed: the TLS certificate of {host}" },
	  { "Điểm đo đã gặp chứng chỉ mới của {host}, hết hạn lúc {expires}.",
	    "The probes met a new certificate for {host}; it expires at {expires}." } },
	{ "silent", "opened",
	  { "[qrwatch] Điểm đo {probe} không gửi kết quả",
	    "[qrwatch] Probe {probe} has gone silent" },
	  { "Điểm đo {probe} không gửi kết quả nào về máy chủ huyện từ {since}.",
	    "Probe {probe} has sent no results to the district server since {since}." } },
	{ "silent", "reminder",
	  { "[qrwatch] Nhắc lại: điểm đo {probe} vẫn không gửi kết quả",
	    "[qrwatch] Reminder: probe {probe} is still silent" },
	  { "Điểm đo {probe} vẫn không gửi kết quả nào từ {since}.",
	    "Probe {probe} has still sent nothing since {since}." } },
	{ "silent", "resolved",
	  { "[qrwatch] Đã khắc phục: điểm đo {probe} gửi kết quả trở lại",
	    "[qrwatch] Resolved: probe {probe} reports again" },
	  { "Điểm đo {probe} đã gửi kết quả về máy chủ trở lại.",
	    "Probe {probe} sends its results again." } },
};

/* The body: the same shape for every event; empty lines drop out. */
static const char *const body_tmpl[2] = {
	"{headline}\n"
	"\n"
	"Tình trạng: {words} ({verdict}). {meaning}\n"
	"Phạm vi: {scope}\n"
	"Bảng tin: {board}\n"
	"Địa điểm: {place}\n"
	"Điểm đo: {probes}\n"
	"Từ lúc: {since} (giờ Việt Nam)\n"
	"Kết thúc lúc: {resolved}\n"
	"Bằng chứng: {evidence}\n"
	"Mã đọc được: {payload}\n"
	"\n"
	"Cần làm: {todo}\n"
	"\n"
	"Xem chi tiết: {link}\n"
	"Sự cố số {incident}. Thư này do qrwatch gửi tự động.\n",
	"{headline}\n"
	"\n"
	"Status: {words} ({verdict}). {meaning}\n"
	"Scope: {scope}\n"
	"Board: {board}\n"
	"Place: {place}\n"
	"Probes: {probes}\n"
	"Since: {since} (Vietnam time)\n"
	"Ended: {resolved}\n"
	"Evidence: {evidence}\n"
	"Decoded code: {payload}\n"
	"\n"
	"What to do: {todo}\n"
	"\n"
	"Details: {link}\n"
	"Incident {incident}. Sent automatically by qrwatch.\n",
};

struct field {
	const char *name;
	char value[1024];
};

void message_time(int64_t ms, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000) + 7 * 3600;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, "%d/%m/%Y %H:%M", &tm);
}

/* Copy text from outside (a probe, a QR code) with no control characters. */
static void clean(char *dst, size_t cap, const char *src)
{
	size_t n = 0;

	for (; src && *src && n + 4 < cap && n < MESSAGE_FIELD_MAX; src++)
		dst[n++] = (unsigned char)*src < 0x20 || *src == 0x7f ? ' ' : *src;
	if (src && *src) {
		/* do not cut a UTF-8 sequence in half */
		while (n && ((unsigned char)dst[n - 1] & 0xc0) == 0x80)
			n--;
		if (n && (unsigned char)dst[n - 1] >= 0xc0)
			n--;
		dst[n++] = '.';
		dst[n++] = '.';
		dst[n++] = '.';
	}
	dst[n] = '\0';
}

static struct field *field(struct field *f, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(f[i].name, name))
			return &f[i];
	return NULL;
}

static void setf(struct field *f, size_t n, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void setf(struct field *f, size_t n, const char *name, const char *fmt, ...)
{
	struct field *x = field(f, n, name);
	va_list ap;

	if (!x)
		return;
	va_start(ap, fmt);
	vsnprintf(x->value, sizeof(x->value), fmt, ap);
	va_end(ap);
	/* every field is one line: nothing from outside may break it */
	for (char *c = x->value; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
}

/* Append tmpl with its fields filled in; lines left with only empty fields drop out. */
static int fill(struct buf *out, const char *tmpl, struct field *f, size_t n,
		int drop_empty_lines)
{
	struct buf line;
	int rc = 0;

	buf_init(&line, 16 * 1024);
	while (*tmpl) {
		size_t len = strcspn(tmpl, "\n");
		int fields = 0, empty = 0;

		buf_reset(&line);
		for (size_t i = 0; i < len; i++) {
			const char *close;
			struct field *x;

			if (tmpl[i] == '{' && (close = memchr(tmpl + i, '}', len - i))) {
				char name[32];

				snprintf(name, sizeof(name), "%.*s", (int)(close - tmpl - i - 1),
					 tmpl + i + 1);
				x = field(f, n, name);
				fields++;
				if (!x || !x->value[0])
					empty++;
				else
					buf_adds(&line, x->value);
				i = (size_t)(close - tmpl);
			} else {
				buf_addc(&line, tmpl[i]);
			}
		}
		tmpl += len;
		if (*tmpl == '\n')
			tmpl++;
		if (drop_empty_lines && fields && fields == empty)
			continue;
		/* and never two blank lines in a row */
		if (drop_empty_lines && !line.len && out->len >= 2 &&
		    !memcmp(out->data + out->len - 2, "\n\n", 2))
			continue;
		if (buf_add(out, line.data ? line.data : "", line.len) < 0 ||
		    (drop_empty_lines && buf_addc(out, '\n') < 0))
			rc = -1;
	}
	if (line.overflow)
		rc = -1;
	buf_release(&line);
	return rc;
}

/* "bước 2 'Nộp hồ sơ': HTTP 503, tổng 1234 ms, byte đầu sau 800 ms" from a result. */
static void evidence(const struct alert_evidence *ev, int english, char *out, size_t cap,
		     char *payload, size_t pcap)
{
	char name[400] = "", err[400] = "";
	size_t len = 0;

	out[0] = payload[0] = '\0';
	if (!ev)
		return;
	clean(payload, pcap, ev->payload);
	clean(name, sizeof(name), ev->step_name);
	clean(err, sizeof(err), ev->error);
	if (ev->failed_step > 0)
		len += (size_t)snprintf(out + len, cap - len, english ? "step %d \"%s\": " :
					"bước %d \"%s\": ", ev->failed_step, name);
	if (len < cap && ev->status > 0)
		len += (size_t)snprintf(out + len, cap - len, "HTTP %d, ", ev->status);
	if (len < cap && err[0])
		len += (size_t)snprintf(out + len, cap - len, "%s, ", err);
	if (len < cap)
		snprintf(out + len, cap - len, english ?
			 "total %lld ms, first byte after %lld ms" :
			 "tổng %lld ms, byte đầu tiên sau %lld ms",
			 (long long)(ev->total_us / 1000), (long long)(ev->ttfb_us / 1000));
}

/* The procedure, its board and place: for incidents about one code. */
static void target_fields(struct field *f, size_t nf, const struct alert_event *ev)
{
	const struct target *tg = ev->target;
	struct buf place;

	setf(f, nf, "procedure", "%s", tg ? tg->procedure : ev->target_id);
	if (tg) {
		buf_init(&place, 1024);
		place_format(tg->board->place, &place);
		setf(f, nf, "place", "%s", buf_str(&place));
		buf_release(&place);
		setf(f, nf, "board", "%s (%s)", tg->board->location, tg->board->id);
	} else {
		setf(f, nf, "place", "%s", ev->target_id);
	}
}

int message_render(const struct alert_event *ev, int english, struct buf *subject,
		   struct buf *body)
{
	struct field f[] = {
		{ "headline", "" }, { "words", "" }, { "verdict", "" }, { "meaning", "" },
		{ "scope", "" }, { "board", "" }, { "place", "" }, { "probes", "" },
		{ "probe", "" }, { "since", "" }, { "resolved", "" }, { "evidence", "" },
		{ "payload", "" }, { "todo", "" }, { "link", "" }, { "incident", "" },
		{ "procedure", "" }, { "urgent", "" }, { "change", "" }, { "failing", "" },
		{ "total", "" }, { "dns", "" }, { "host", "" }, { "days", "" }, { "expires", "" },
	};
	size_t nf = sizeof(f) / sizeof(f[0]);
	const struct tmpl *t = NULL;
	const struct words *w = find_words(ev->verdict);
	enum verdict vd;
	int en = !!english, rc;
	struct buf head;

	/* opened by the probe's resolver: say so, not "most codes fail" */
	const char *kind = !strcmp(ev->kind, "uplink") && ev->dns_failing > 0 &&
			   !strcmp(ev->event, "opened") ? "resolver" : ev->kind;

	for (size_t i = 0; i < sizeof(templates) / sizeof(templates[0]); i++)
		if (!strcmp(templates[i].kind, kind) && !strcmp(templates[i].event, ev->event))
			t = &templates[i];
	if (!t)
		return -1;
	setf(f, nf, "incident", "%lld", ev->incident);
	setf(f, nf, "probe", "%s", ev->probe ? ev->probe : "");
	setf(f, nf, "link", "%s", ev->link ? ev->link : "");
	setf(f, nf, "failing", "%d", ev->failing);
	setf(f, nf, "total", "%d", ev->total);
	setf(f, nf, "dns", "%d", ev->dns_failing);
	if (ev->since_ms)
		message_time(ev->since_ms, field(f, nf, "since")->value, 64);
	if (!strcmp(ev->event, "resolved"))
		message_time(ev->now_ms, field(f, nf, "resolved")->value, 64);
	if (ev->urgent && strcmp(ev->event, "resolved"))
		setf(f, nf, "urgent", "%s", en ? "[URGENT] " : "[KHẨN] ");
	if (!strcmp(ev->kind, "target")) {
		char ev_text[600], pay[400];

		setf(f, nf, "words", "%s", message_verdict_words(ev->verdict, en));
		setf(f, nf, "verdict", "%s", ev->verdict ? ev->verdict : "");
		if (ev->verdict && verdict_parse(ev->verdict, &vd) == 0 &&
		    strcmp(ev->event, "resolved"))
			setf(f, nf, "meaning", "%s", verdict_meaning(vd, en));
		if (!strcmp(ev->event, "resolved")) {
			setf(f, nf, "words", "%s", message_verdict_words("OK", en));
			setf(f, nf, "verdict", "OK");
		}
		target_fields(f, nf, ev);
		setf(f, nf, "probes", "%s", ev->probes ? ev->probes : "");
		if (ev->nprobes >= 2 && message_service_verdict(ev->verdict))
			setf(f, nf, "scope", en ? "fails from %d probes: the service itself, "
			     "not one village's connection" : "lỗi từ %d điểm đo: lỗi ở chính "
			     "dịch vụ, không phải đường truyền của một thôn", ev->nprobes);
		else if (ev->nprobes >= 2)
			setf(f, nf, "scope", en ? "seen from %d probes" : "thấy từ %d điểm đo",
			     ev->nprobes);
		else if (ev->nprobes == 1)
			setf(f, nf, "scope", "%s", en ? "seen from one probe" :
			     "thấy từ một điểm đo");
		if (ev->old_verdict)
			setf(f, nf, "change", en ? "%s, was %s" : "%s, trước đó %s",
			     message_verdict_words(ev->verdict, en),
			     message_verdict_words(ev->old_verdict, en));
		else
			setf(f, nf, "change", "%s", en ? "now seen from more probes" :
			     "nay thấy từ nhiều điểm đo hơn");
		if (strcmp(ev->event, "resolved")) {
			evidence(ev->evidence, en, ev_text, sizeof(ev_text), pay, sizeof(pay));
			setf(f, nf, "evidence", "%s", ev_text);
			setf(f, nf, "payload", "%s", pay);
			if (w)
				setf(f, nf, "todo", "%s", w->todo[en]);
		}
	} else if (!strcmp(ev->kind, "cert")) {
		int64_t left = ev->cert_expires - ev->now_ms / 1000;
		char host[256] = "", expires[64];
		CURLU *u = curl_url();
		char *h = NULL;

		target_fields(f, nf, ev);
		if (u && curl_url_set(u, CURLUPART_URL, ev->cert_url ? ev->cert_url : "", 0) ==
		    CURLUE_OK && curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK)
			clean(host, sizeof(host), h);
		curl_free(h);
		curl_url_cleanup(u);
		setf(f, nf, "host", "%s", host[0] ? host : ev->target_id);
		setf(f, nf, "days", "%lld", (long long)(left > 0 ? left / 86400 : 0));
		message_time(ev->cert_expires * 1000, expires, sizeof(expires));
		setf(f, nf, "expires", "%s", expires);
		setf(f, nf, "probes", "%s", ev->probe ? ev->probe : "");
		if (strcmp(ev->event, "resolved")) {
			clean(host, sizeof(host), ev->cert_url ? ev->cert_url : "");
			setf(f, nf, "evidence", en ? "the certificate met at %s expires at %s" :
			     "chứng chỉ gặp ở %s hết hạn lúc %s", host, expires);
			setf(f, nf, "todo", en ? "Ask whoever runs the portal to renew its "
			     "certificate before %s. The boards need no change." :
			     "Đề nghị đơn vị quản lý cổng dịch vụ gia hạn chứng chỉ trước %s. Không "
			     "cần thay mã trên bảng tin.", expires);
		}
	} else {
		setf(f, nf, "probes", "%s", ev->probe ? ev->probe : "");
		if (!strcmp(ev->event, "resolved"))
			setf(f, nf, "todo", "%s", "");
		else if (!strcmp(ev->kind, "uplink"))
			setf(f, nf, "todo", en ? "Check the router and the 4G/5G link of probe %s "
			     "(power, SIM card, signal%s). The codes on the boards may well be fine." :
			     "Kiểm tra router và đường truyền 4G/5G của điểm đo %s (nguồn điện, "
			     "thẻ SIM, sóng%s). Các mã trên bảng tin có thể vẫn bình thường.",
			     ev->probe, ev->dns_failing > 0 ? (en ? ", its DNS server" :
			     ", máy chủ DNS của router") : "");
		else
			setf(f, nf, "todo", en ? "Check that the router of probe %s has power and "
			     "a connection, and that qrwatch-probe runs on it." :
			     "Kiểm tra router của điểm đo %s còn điện, còn kết nối, và "
			     "qrwatch-probe còn chạy.", ev->probe);
	}
	buf_init(&head, 4096);
	fill(&head, t->headline[en], f, nf, 0);
	setf(f, nf, "headline", "%s", buf_str(&head));
	buf_release(&head);
	rc = fill(subject, t->subject[en], f, nf, 0);
	if (fill(body, body_tmpl[en], f, nf, 1) < 0)
		rc = -1;
	/* a subject is one line: nothing from outside may break it */
	for (size_t i = 0; subject->data && i < subject->len; i++)
		if ((unsigned char)subject->data[i] < 0x20)
			subject->data[i] = ' ';
	return rc;
}

int message_digest_head(int n, int english, int64_t now_ms, struct buf *subject,
			struct buf *body)
{
	char when[64];

	message_time(now_ms, when, sizeof(when));
	if (english) {
		buf_addf(subject, "[qrwatch] Daily summary %.10s: %d open incidents", when, n);
		return buf_addf(body, "Open incidents at %s (Vietnam time): %d\n\n", when, n);
	}
	buf_addf(subject, "[qrwatch] Tóm tắt ngày %.10s: %d sự cố đang mở", when, n);
	return buf_addf(body, "Các sự cố đang mở lúc %s (giờ Việt Nam): %d\n\n", when, n);
}
