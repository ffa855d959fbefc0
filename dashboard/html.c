/* html.c - escaping and the page frame of the dashboard (see html.h). */
#include "html.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../common/banned.h"

int html_add(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		const char *r = NULL;

		switch (*s) {
		case '&': r = "&amp;"; break;
		case '<': r = "&lt;"; break;
		case '>': r = "&gt;"; break;
		case '"': r = "&quot;"; break;
		case '\'': r = "&#39;"; break;
		default: break;
		}
		if (r ? buf_adds(b, r) < 0 : buf_addc(b, *s) < 0)
			return -1;
	}
	return 0;
}

int html_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	const char *p = fmt;

	va_start(ap, fmt);
	while (*p) {
		if (*p != '%') {
			buf_addc(b, *p++);
			continue;
		}
		p++;
		if (*p == 's') {
			html_add(b, va_arg(ap, const char *));
			p++;
		} else if (*p == 'd') {
			buf_addf(b, "%d", va_arg(ap, int));
			p++;
		} else if (p[0] == 'l' && p[1] == 'd') {
			buf_addf(b, "%ld", va_arg(ap, long));
			p += 2;
		} else if (p[0] == 'l' && p[1] == 'l' && p[2] == 'd') {
			buf_addf(b, "%lld", va_arg(ap, long long));
			p += 3;
		} else if (*p == '%') {
			buf_addc(b, '%');
			p++;
		}
	}
	va_end(ap);
	return b->overflow ? -1 : 0;
}

static const struct {
	const char *key, *vi, *en;
} words[] = {
	{ "title", "Giám sát mã QR thủ tục hành chính", "QR code watch" },
	{ "overview", "Tổng quan", "Overview" },
	{ "stale", "Mã cần in lại", "Codes to reprint" },
	{ "probes", "Thiết bị đo", "Probes" },
	{ "place", "Địa bàn", "Place" },
	{ "board", "Bảng tin", "Board" },
	{ "procedure", "Thủ tục", "Procedure" },
	{ "verdict", "Kết quả", "Verdict" },
	{ "since", "Từ lúc", "Since" },
	{ "why", "Giải thích", "Explanation" },
	{ "last_check", "Lần kiểm tra gần nhất", "Last check" },
	{ "steps", "Các bước", "Steps" },
	{ "graphs", "Độ trễ", "Latency" },
	{ "history", "Lịch sử", "History" },
	{ "probe", "Thiết bị", "Probe" },
	{ "last_seen", "Lần cuối liên lạc", "Last seen" },
	{ "uplink", "Đường truyền", "Uplink" },
	{ "backlog", "Kết quả chờ gửi", "Spool backlog" },
	{ "offset", "Lệch đồng hồ", "Clock offset" },
	{ "version", "Phiên bản", "Version" },
	{ "changes", "Thay đổi trong 24 giờ", "Changes in the last 24 hours" },
	{ "attention", "Mã cần xử lý", "Codes that need attention" },
	{ "all_ok", "Tất cả các mã đều hoạt động tốt.", "Every code works." },
	{ "by_commune", "Theo xã, phường", "By commune" },
	{ "codes", "mã", "codes" },
	{ "no_result_yet", "chưa có kết quả", "no result yet" },
	{ "no_commune", "Không có xã, phường", "No commune" },
	{ "page", "Trang", "Page" },
	{ "page_prev", "Trang trước", "Previous" },
	{ "page_next", "Trang sau", "Next" },
	{ "just_now", "vừa xong", "just now" },
	{ "minutes", "phút", "min" },
	{ "hours", "giờ", "h" },
	{ "days", "ngày", "d" },
	{ "no_results", "Chưa có kết quả nào.", "No results yet." },
	{ "poster", "Mã thay thế để in", "Replacement code to print" },
	{ "poster_checked", "Địa chỉ trong mã này đang hoạt động: lần kiểm tra gần nhất của",
	  "The address in this code works: the latest check of" },
	{ "no_poster_stale", "Không in lại mã này: địa chỉ trong mã không còn dẫn tới thủ tục, "
	  "in lại chỉ dán lại đúng đường dẫn đã hỏng. Cần địa chỉ mới của thủ tục trên cổng "
	  "dịch vụ công, được xác nhận và kiểm tra là hoạt động; khi đó trang này sẽ có mã để in.",
	  "Do not print this code again: its address no longer leads to the procedure, and "
	  "a reprint would put the broken link back up. The procedure's new address on the "
	  "portal must be confirmed and checked working first; this page then offers its code." },
	{ "no_poster_unchecked", "Chưa có mã để in: địa chỉ chính thức của thủ tục chưa được "
	  "kiểm tra là hoạt động (chưa có bảng nào có mã này đạt OK).",
	  "No code to print yet: the procedure's official address has not been checked "
	  "working (no board with this code is OK)." },
	{ "dead_link", "Địa chỉ đã hỏng", "Broken address" },
	{ "candidate", "Địa chỉ mới tìm được trên cổng dịch vụ công", "New address found on the portal" },
	{ "procedure_code", "mã thủ tục", "procedure code" },
	{ "candidate_checked", "Đã đi thử như người dân quét mã: hoạt động, lúc",
	  "Walked as a citizen who scans it would: it works, at" },
	{ "no_candidate", "Chưa tìm được địa chỉ mới", "No new address found yet" },
	{ "candidate_next", "Chưa in: địa chỉ này cần được cán bộ xác nhận trước khi đưa lên mã mới.",
	  "Not printed yet: an official confirms this address before it goes on a new code." },
	{ "confirmed", "Địa chỉ mới đã được xác nhận", "New address confirmed" },
	{ "confirmed_by", "bởi", "by" },
	{ "at", "lúc", "at" },
	{ "confirmed_checked", "Trước khi ghi, máy chủ đã đi thử như người dân quét mã: hoạt động, tới trang",
	  "Before writing it, the server walked it as a citizen who scans it would: it works, up to" },
	{ "waiting_board", "Đang chờ dán mã mới: hãy in tờ dán dưới đây và dán thay cho mã cũ",
	  "Waiting for the new code on the board: print the poster below and pin it up in place of the old code" },
	{ "confirm_needs_login", "Để xác nhận địa chỉ mới cần đăng nhập (để biết ai đã xác nhận): "
	  "thêm tài khoản vào qrwatchd.conf bằng qrwatchd --hash-password.",
	  "Confirming a new address needs a login (to know who confirmed it): add a user to "
	  "qrwatchd.conf with qrwatchd --hash-password." },
	{ "photo_title", "Ảnh bảng tin", "Board photo" },
	{ "photo_latest", "Ảnh mới nhất, gửi", "Latest photo, sent" },
	{ "photo_none", "Chưa có ảnh nào của bảng tin này.", "No photo of this board yet." },
	{ "photo_needs_login", "Để gửi ảnh cần đăng nhập: thêm tài khoản vào qrwatchd.conf "
	  "bằng qrwatchd --hash-password.", "Sending a photo needs a login: add a user to "
	  "qrwatchd.conf with qrwatchd --hash-password." },
	{ "photo_login", "Đăng nhập để gửi ảnh bảng tin", "Log in to send a photo of the board" },
	{ "photo_pick", "Chụp hoặc chọn ảnh bảng tin:", "Take or pick a photo of the board:" },
	{ "photo_send", "Gửi ảnh", "Send the photo" },
	{ "photo_how", "Chụp thẳng, đủ gần để mã QR rõ nét. Máy chủ đọc mã trên ảnh và kiểm tra "
	  "như thiết bị đo; ảnh được lưu làm bằng chứng.", "Take it straight on, close enough "
	  "for the QR code to be sharp. The server reads the code on it and judges it as a "
	  "probe would; the photo is kept as evidence." },
	{ "photo_send_link", "Gửi ảnh bảng tin", "Send a photo of the board" },
	{ "confirm_login", "Đăng nhập để xác nhận địa chỉ mới", "Log in to confirm the new address" },
	{ "confirm_address", "Địa chỉ mới của thủ tục:", "The procedure's new address:" },
	{ "confirm_button", "Kiểm tra và xác nhận", "Check and confirm" },
	{ "confirm_how", "Máy chủ đi thử địa chỉ này như người dân quét mã; chỉ khi đạt mới ghi vào "
	  "danh mục (bản cũ được lưu lại) và cho in mã mới. Có thể gõ địa chỉ khác.",
	  "The server walks this address as a citizen who scans it would; only when it is OK is it "
	  "written to the catalog (the old one is kept) and a new code offered. Another address may be typed in." },
	{ "poster_pdf", "Tải tờ dán để in (PDF, khổ A5)", "Download the poster to print (PDF, A5)" },
	{ "poster_pdf_a4", "khổ A4", "A4" },
	{ "sheet", "Tờ dán của mọi mã đã kiểm tra, in một lượt (PDF, khổ A5):",
	  "Posters of every checked code, for one print run (PDF, A5):" },
	{ "sheet_a4", "khổ A4", "A4" },
	{ "none_stale", "Không có bảng nào cần in lại mã.", "No board needs a new code." },
	{ "lang", "English", "Tiếng Việt" },
	{ "availability", "Tỷ lệ hoạt động", "Availability" },
	{ "by_uplink", "Theo đường truyền (7 ngày)", "By uplink (7 days)" },
	{ "avg_total", "Thời gian trung bình", "Average total" },
	{ "avg_connect", "Kết nối trung bình", "Average connect" },
	{ "day", "24 giờ", "Day" },
	{ "week", "7 ngày", "Week" },
	{ "month", "30 ngày", "Month" },
	{ "incidents_open", "Sự cố đang mở", "Open incidents" },
	{ "no_incidents", "Không có sự cố nào đang mở.", "No open incidents." },
	{ "incident_history", "Sự cố và thông báo", "Incidents and notifications" },
	{ "undeliverable", "Thông báo không gửi được", "Notifications that could not be delivered" },
	{ "pending_notes", "thông báo đang chờ gửi", "notifications waiting to be sent" },
	{ "kind_target", "Mã QR", "QR code" },
	{ "kind_service", "Dịch vụ (nhiều điểm đo)", "Service (several probes)" },
	{ "kind_uplink", "Đường truyền điểm đo", "Probe uplink" },
	{ "kind_silent", "Điểm đo im lặng", "Silent probe" },
	{ "kind_cert", "Chứng chỉ HTTPS sắp hết hạn", "TLS certificate expires soon" },
	{ "cert", "Chứng chỉ HTTPS hết hạn", "TLS certificate expires" },
	{ "what", "Sự cố", "Incident" },
	{ "state", "Trạng thái", "State" },
	{ "open", "đang mở", "open" },
	{ "resolved", "đã khắc phục", "resolved" },
	{ "recipient", "Người nhận", "Recipient" },
	{ "attempts", "Số lần gửi", "Attempts" },
	{ "error", "Lỗi", "Error" },
	{ "held", "chưa báo (đường truyền)", "not announced (uplink)" },
	{ "spool", "Hàng đợi kết quả hiện tại", "Current result spool" },
	{ "spools", "Các hàng đợi kết quả của thiết bị", "The probe's result spools" },
	{ "spool_since", "từ", "since" },
	{ "spool_remade", "tạo lại", "made anew" },
	{ "times", "lần", "times" },
	{ "spool_epoch", "Mã hàng đợi", "Epoch" },
	{ "first_batch", "Lô đầu", "First batch" },
	{ "last_batch", "Lô cuối", "Last batch" },
	{ "batches", "Số lô", "Batches" },
	{ "first_seen", "Nhận lần đầu", "First received" },
	{ "before_epochs", "(phiên bản cũ)", "(older version)" },
	{ "spool_new_vi_en", "Thiết bị này đã bắt đầu một hàng đợi kết quả mới lúc %s: có thể "
	  "nó bị mất điện khi hàng đợi nằm trong bộ nhớ RAM, hoặc bộ nhớ bị thay. Các kết quả "
	  "chưa kịp gửi trước đó đã mất; các kết quả từ lúc đó vẫn được lưu đầy đủ.",
	  "This probe started a new result spool at %s: it may have lost power while its "
	  "spool was in RAM, or its storage was replaced. Results it had not sent before "
	  "then are lost; every result since then is stored." },
};

void html_time(int64_t ms, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000) + 7 * 3600;	/* Vietnam, UTC+7 */
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%d %H:%M", &tm);
}

const char *tr(const char *key, int english)
{
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(words[i].key, key))
			return english ? words[i].en : words[i].vi;
	return key;
}

void html_begin(struct buf *b, const char *title, const char *path, int english)
{
	html_addf(b, "<!doctype html><html lang=\"%s\"><head><meta charset=\"utf-8\">"
		  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		  "<title>%s</title><style>"
		  "body{font-family:'DejaVu Sans','Noto Sans',Arial,sans-serif;margin:0;color:#222}"
		  "header{background:#0b4f8a;color:#fff;padding:.6em 1em;display:flex;flex-wrap:wrap;gap:1em;align-items:center}"
		  "header a{color:#fff}main{padding:1em;max-width:1100px}"
		  "table{border-collapse:collapse;width:100%%}td,th{border-bottom:1px solid #ddd;padding:.35em;text-align:left;vertical-align:top}"
		  ".v{padding:.1em .5em;border-radius:.3em;color:#fff;font-weight:bold;white-space:nowrap}"
		  ".OK{background:#2e7d32}.SLOW{background:#b58900}.BROKEN_FLOW{background:#c75000}"
		  ".DOWN,.HANG{background:#c62828}.STALE{background:#6a1b9a}.TAMPERED{background:#000}"
		  ".UNREADABLE{background:#555}.bar{display:inline-block;height:.8em}"
		  ".d{background:#90caf9}.c{background:#42a5f5}.t{background:#ab47bc}.w{background:#ffb74d}.r{background:#66bb6a}"
		  ".cert.warn{color:#c62828;font-weight:bold}"
		  "img{max-width:100%%}code{overflow-wrap:anywhere}@media print{header{display:none}}"
		  "</style></head><body><header><strong>%s</strong>"
		  "<a href=\"/?%s\">%s</a><a href=\"/stale?%s\">%s</a><a href=\"/probes?%s\">%s</a>"
		  "<a href=\"%s%s%s\">%s</a></header><main>",
		  english ? "en" : "vi", title, tr("title", english),
		  english ? "lang=en" : "", tr("overview", english),
		  english ? "lang=en" : "", tr("stale", english),
		  english ? "lang=en" : "", tr("probes", english),
		  path, strchr(path, '?') ? "&" : "?", english ? "" : "lang=en",
		  tr("lang", english));
}

void html_end(struct buf *b)
{
	buf_adds(b, "</main></body></html>\n");
}

void html_verdict(struct buf *b, const char *verdict)
{
	enum verdict v;

	if (verdict_parse(verdict, &v) < 0)
		verdict = "UNREADABLE";
	html_addf(b, "<span class=\"v %s\">%s</span>", verdict, verdict);
}
