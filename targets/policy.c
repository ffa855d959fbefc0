/* policy.c - judging a decoded code against the catalog (see policy.h). */
#include "policy.h"

#include <stdio.h>
#include <string.h>

#include "../common/banned.h"

/* One table of sentences; {1} {2} {3} are the judgement's arguments. */
static const struct {
	const char *vi;
	const char *en;
} sentences[REASON_COUNT] = {
	[REASON_GENUINE_URL] = {
		"Mã chính thức: liên kết {1} đúng như đã đăng ký, thuộc tên miền chính thức.",
		"Genuine: the link {1} is as registered, on an official domain." },
	[REASON_GENUINE_PAYMENT] = {
		"Mã thanh toán chính thức: tài khoản {2} tại ngân hàng mã BIN {1} đúng như đã đăng ký. (Mã kiểm tra CRC chỉ cho biết mã không bị hỏng, không chứng minh mã là thật.)",
		"Genuine payment code: account {2} at bank BIN {1}, as registered. (The CRC only shows the code is undamaged; it never proves it genuine.)" },
	[REASON_GENUINE_TEXT] = {
		"Mã chính thức: nội dung đúng như đã đăng ký.",
		"Genuine: the text is as registered." },
	[REASON_NOT_A_LINK] = {
		"Mã trên bảng chứa {1}, không phải liên kết đã đăng ký: \"{2}\".",
		"The code on the board holds {1}, not the registered link: \"{2}\"." },
	[REASON_BAD_LINK] = {
		"Mã trên bảng chứa liên kết không dùng được ({1}): \"{2}\".",
		"The code on the board holds an unusable link ({1}): \"{2}\"." },
	[REASON_OUTSIDE_OFFICIAL] = {
		"Mã dẫn tới {1}, không thuộc tên miền chính thức ({2}). Có thể mã giả đã được dán đè.",
		"The code points to {1}, outside the official domains ({2}). A fake sticker may have been pasted over the board." },
	[REASON_OUTSIDE_IP] = {
		"Mã dẫn tới địa chỉ IP {1}, không phải tên miền chính thức ({2}). Có thể mã giả đã được dán đè.",
		"The code points to the bare IP address {1}, not an official domain ({2}). A fake sticker may have been pasted over the board." },
	[REASON_OUTSIDE_PUNYCODE] = {
		"Mã dẫn tới {1}, một tên miền quốc tế hoá (punycode) thường dùng để giả mạo, không thuộc tên miền chính thức ({2}). Có thể mã giả đã được dán đè.",
		"The code points to {1}, an internationalised (punycode) name often used to imitate official ones, outside the official domains ({2}). A fake sticker may have been pasted over the board." },
	[REASON_OUTSIDE_LOOKALIKE] = {
		"Mã dẫn tới {1}, tên miền giả mạo {3}, không thuộc tên miền chính thức ({2}). Có thể mã giả đã được dán đè.",
		"The code points to {1}, a look-alike of {3}, outside the official domains ({2}). A fake sticker may have been pasted over the board." },
	[REASON_DIFFERENT_LINK] = {
		"Mã dẫn tới {1} thay vì liên kết đã đăng ký {2}.",
		"The code points to {1} instead of the registered {2}." },
	[REASON_NOT_A_PAYMENT] = {
		"Mã trên bảng chứa {1}, không phải mã thanh toán VietQR: \"{2}\".",
		"The code on the board holds {1}, not a VietQR payment code: \"{2}\"." },
	[REASON_PAYMENT_MALFORMED] = {
		"Mã thanh toán bị hỏng: {1}.",
		"The payment code is damaged: {1}." },
	[REASON_PAYMENT_CRC] = {
		"Mã thanh toán bị hỏng: mã kiểm tra (trường 63) là {1} nhưng nội dung cho {2}{3}.",
		"The payment code is damaged: its checksum (field 63) says {1} but its content gives {2}{3}." },
	[REASON_OTHER_PAYEE] = {
		"Mã thanh toán chuyển tiền tới tài khoản {2} tại ngân hàng mã BIN {1}, không phải tài khoản đã đăng ký {3}. Mã có thể đã bị đổi.",
		"The payment code pays account {2} at bank BIN {1}, not the registered {3}. The code may have been swapped." },
	[REASON_PAYMENT_DIFFERS] = {
		"Mã thanh toán đúng tài khoản nhưng khác mã đã đăng ký ở: {1}.",
		"The payment code has the right account but differs from the registered one in: {1}." },
	[REASON_TEXT_DIFFERS] = {
		"Nội dung mã khác với nội dung đã đăng ký: \"{1}\".",
		"The code's text differs from the registered text: \"{1}\"." },
	[REASON_OLD_CODE] = {
		"Bảng vẫn còn mã cũ ({1}). Địa chỉ mới ({2}) đã được xác nhận: hãy in mã mới "
		"và dán lên bảng thay cho mã cũ.",
		"The board still has the old code ({1}). The new address ({2}) has been "
		"confirmed: print the new code and pin it up in place of the old one." },
	[REASON_EXTRA_CODE] = {
		"Bên cạnh mã chính thức có một mã lạ dẫn tới {1}: {2}. Mã này không có "
		"trong danh mục; nhiều khả năng là mã do kẻ gian dán thêm.",
		"Beside the official code there is a foreign code pointing to {1}: {3}. "
		"It is not in the catalog; most likely a fraudster's sticker." },
	[REASON_NO_CODE] = {
		"Không tìm thấy mã QR nào trong ảnh{1}.",
		"No QR code found in the image{1}." },
	[REASON_UNKNOWN_CHARSET] = {
		"Đọc được mã nhưng không xác định được bảng mã ký tự (byte: {1}).",
		"A code was read but its character encoding cannot be determined (bytes: {1})." },
	[REASON_IMAGE_REFUSED] = {
		"Ảnh bị từ chối: {1}.",
		"The image was refused: {1}." },
	[REASON_DECODER_FAILED] = {
		"Bộ giải mã gặp lỗi: {1}.",
		"The decoder failed: {1}." },
};

static void set(struct judgement *j, enum verdict v, enum reason r,
		const char *a1, const char *a2, const char *a3)
{
	j->verdict = v;
	j->genuine = v == VERDICT_OK;
	j->reason = r;
	snprintf(j->arg[0], sizeof(j->arg[0]), "%s", a1 ? a1 : "");
	snprintf(j->arg[1], sizeof(j->arg[1]), "%s", a2 ? a2 : "");
	snprintf(j->arg[2], sizeof(j->arg[2]), "%s", a3 ? a3 : "");
}

/* Shorten attacker-controlled text for a sentence. */
static void clip(const char *s, char *out, size_t cap)
{
	size_t n = strlen(s);

	if (n < cap) {
		memcpy(out, s, n + 1);
		return;
	}
	n = cap - 4;
	/* back up to a UTF-8 character boundary */
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	memcpy(out, s, n);
	memcpy(out + n, "...", 4);
}

static void join(const char *const *list, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? ", " : "", list[i]);
}

static void judge_url(const struct target *t, const struct payload *p,
		      struct judgement *j)
{
	static const enum reason by_suspicion[] = {
		[SUSPECT_NONE] = REASON_OUTSIDE_OFFICIAL,
		[SUSPECT_IP] = REASON_OUTSIDE_IP,
		[SUSPECT_PUNYCODE] = REASON_OUTSIDE_PUNYCODE,
		[SUSPECT_LOOKALIKE] = REASON_OUTSIDE_LOOKALIKE,
	};
	char shown[200], list[400];
	const char *imitated;
	enum suspicion why;

	clip(p->text, shown, sizeof(shown));
	if (p->kind != PAYLOAD_URL) {
		if (p->looks_link)
			set(j, VERDICT_TAMPERED, REASON_BAD_LINK, p->problem, shown, NULL);
		else
			set(j, VERDICT_TAMPERED, REASON_NOT_A_LINK,
			    payload_kind_name(p->kind), shown, NULL);
		return;
	}
	if (!domain_is_official(p->host, t->official, t->nofficial)) {
		join(t->official, t->nofficial, list, sizeof(list));
		why = domain_explain(p->host, t->official, t->nofficial, &imitated);
		set(j, VERDICT_TAMPERED, by_suspicion[why], p->host, list, imitated);
		return;
	}
	if (t->payload && strcmp(t->payload, p->text) != 0) {
		set(j, VERDICT_TAMPERED, REASON_DIFFERENT_LINK, shown, t->payload, NULL);
		return;
	}
	set(j, VERDICT_OK, REASON_GENUINE_URL, shown, NULL, NULL);
}

static void judge_vietqr(const struct target *t, const struct payload *p,
			 struct judgement *j)
{
	const struct emvco *m = &p->emv;
	char shown[200], a[16], b[16], reg[64], note[128];
	int same_payee;

	clip(p->text, shown, sizeof(shown));
	if (p->kind != PAYLOAD_EMVCO) {
		if (p->looks_emvco)
			set(j, VERDICT_UNREADABLE, REASON_PAYMENT_MALFORMED, p->problem,
			    NULL, NULL);
		else
			set(j, VERDICT_TAMPERED, REASON_NOT_A_PAYMENT,
			    payload_kind_name(p->kind), shown, NULL);
		return;
	}
	same_payee = m->has_payee && strcmp(m->bin, t->payee_bin) == 0 &&
		     strcmp(m->account, t->payee_account) == 0;
	snprintf(reg, sizeof(reg), "%s:%s", t->payee_bin, t->payee_account);
	if (!m->crc_ok) {
		snprintf(a, sizeof(a), "%04X", m->crc_given);
		snprintf(b, sizeof(b), "%04X", m->crc_computed);
		note[0] = '\0';
		if (!same_payee)
			snprintf(note, sizeof(note), " [%s:%s != %s]", m->bin,
				 m->account, reg);
		set(j, VERDICT_UNREADABLE, REASON_PAYMENT_CRC, a, b, note);
		return;
	}
	if (!same_payee) {
		set(j, VERDICT_TAMPERED, REASON_OTHER_PAYEE,
		    m->has_payee ? m->bin : "?", m->has_payee ? m->account : "?", reg);
		return;
	}
	if (t->payload && strcmp(t->payload, p->text) != 0) {
		struct emvco r;
		struct err e;
		char diff[256] = "";
		size_t o = 0;

		if (emvco_parse(t->payload, strlen(t->payload), &r, &e) == 0) {
#define DIFF(field, label) \
	if (strcmp(r.field, m->field) && o < sizeof(diff)) \
		o += (size_t)snprintf(diff + o, sizeof(diff) - o, "%s%s", o ? ", " : "", label)
			DIFF(amount, "amount (54)");
			DIFF(merchant, "merchant name (59)");
			DIFF(city, "city (60)");
			DIFF(purpose, "purpose (62.08)");
			DIFF(currency, "currency (53)");
			DIFF(initiation, "initiation (01)");
			DIFF(service, "service (38.02)");
#undef DIFF
		}
		set(j, VERDICT_TAMPERED, REASON_PAYMENT_DIFFERS,
		    diff[0] ? diff : "other fields", NULL, NULL);
		return;
	}
	set(j, VERDICT_OK, REASON_GENUINE_PAYMENT, m->bin, m->account, NULL);
}

/* Whether text is a code t replaced (catalog key `replaces`). */
static int old_code(const struct target *t, const char *text)
{
	for (size_t i = 0; i < t->nreplaces; i++)
		if (!strcmp(t->replaces[i], text))
			return 1;
	return 0;
}

void policy_judge(const struct target *t, const char *text, struct judgement *j)
{
	struct payload p;
	char shown[200];

	if (old_code(t, text)) {
		clip(text, shown, sizeof(shown));
		set(j, VERDICT_STALE, REASON_OLD_CODE, shown, t->payload, NULL);
		return;
	}
	payload_classify(text, &p);
	switch (t->kind) {
	case TARGET_URL:
		judge_url(t, &p, j);
		return;
	case TARGET_VIETQR:
		judge_vietqr(t, &p, j);
		return;
	case TARGET_TEXT:
		clip(text, shown, sizeof(shown));
		if (t->payload && strcmp(t->payload, text) == 0)
			set(j, VERDICT_OK, REASON_GENUINE_TEXT, NULL, NULL, NULL);
		else
			set(j, VERDICT_TAMPERED, REASON_TEXT_DIFFERS, shown, NULL, NULL);
		return;
	}
}

/* Whether text is genuine for a target of cat on t's board (t itself when cat is NULL). */
static int board_code(const struct catalog *cat, const struct target *t, const char *text)
{
	struct judgement j;

	if (!cat) {
		policy_judge(t, text, &j);
		return j.genuine || old_code(t, text);
	}
	for (size_t i = 0; i < cat->ntargets; i++) {
		const struct target *o = &cat->targets[i];

		if (o->board != t->board)
			continue;
		policy_judge(o, text, &j);
		if (j.genuine || old_code(o, text))
			return 1;
	}
	return 0;
}

void policy_judge_board(const struct catalog *cat, const struct target *t,
			const struct decode_result *r, struct judgement *j, int *used)
{
	int own = -1, foreign = -1, first = -1;

	*used = -1;
	for (int i = 0; i < r->n; i++) {
		const char *text = r->codes[i].text;

		if (!text)
			continue;
		if (first < 0)
			first = i;
		policy_judge(t, text, j);
		if (j->genuine) {
			if (own < 0)
				own = i;
		} else if (foreign < 0 && !board_code(cat, t, text)) {
			foreign = i;
		}
	}
	if (first < 0) {
		policy_unreadable(REASON_NO_CODE, "", j);
		return;
	}
	if (own >= 0 && foreign >= 0) {
		const struct qr_code *c = &r->codes[foreign];
		char shown[200], where[200];

		clip(c->text, shown, sizeof(shown));
		snprintf(where, sizeof(where), "mã thứ %d trong %d mã trên ảnh (từ trên xuống, "
			 "trái sang phải), ở điểm ảnh (%d, %d), cỡ %dx%d", foreign + 1, r->n,
			 c->x, c->y, c->w, c->h);
		set(j, VERDICT_TAMPERED, REASON_EXTRA_CODE, shown, where, NULL);
		/* {3}: the same place in English */
		snprintf(j->arg[2], sizeof(j->arg[2]), "code %d of %d in the photo (top to "
			 "bottom, left to right), at pixel (%d, %d), %dx%d", foreign + 1, r->n,
			 c->x, c->y, c->w, c->h);
		*used = own;
		return;
	}
	*used = own >= 0 ? own : foreign >= 0 ? foreign : first;
	policy_judge(t, r->codes[*used].text, j);
}

void policy_unreadable(enum reason reason, const char *detail,
		       struct judgement *j)
{
	set(j, VERDICT_UNREADABLE, reason, detail, NULL, NULL);
}

int policy_explain(const struct judgement *j, int english, struct buf *out)
{
	const char *s;

	if ((unsigned)j->reason >= REASON_COUNT)
		return buf_adds(out, "?");
	s = english ? sentences[j->reason].en : sentences[j->reason].vi;
	while (*s) {
		if (s[0] == '{' && s[1] >= '1' && s[1] <= '3' && s[2] == '}') {
			if (buf_adds(out, j->arg[s[1] - '1']) < 0)
				return -1;
			s += 3;
		} else if (buf_addc(out, *s++) < 0) {
			return -1;
		}
	}
	return 0;
}
