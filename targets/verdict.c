/* verdict.c - verdict names and meanings from one table (see verdict.h). */
#include "verdict.h"

#include <strings.h>

#include "../common/banned.h"

static const struct {
	const char *name;
	const char *vi;
	const char *en;
} table[VERDICT_COUNT] = {
	[VERDICT_UNREADABLE] = { "UNREADABLE",
		"Không đọc được mã QR trên bảng (ảnh mờ, mã hỏng hoặc rách).",
		"The code on the board cannot be read (blurred photo, damaged sticker)." },
	[VERDICT_TAMPERED] = { "TAMPERED",
		"Mã QR không phải mã đã đăng ký: có thể bị dán đè hoặc bị đổi tài khoản.",
		"The code is not the registered one: a sticker may have been pasted over it or the account swapped." },
	[VERDICT_STALE] = { "STALE",
		"Mã QR đúng nhưng trang đích không còn: cần in mã mới.",
		"The code is genuine but what it points at is gone: a new code must be printed." },
	[VERDICT_HANG] = { "HANG",
		"Hệ thống nhận kết nối rồi không trả lời.",
		"The service accepted the request and then stopped answering." },
	[VERDICT_DOWN] = { "DOWN",
		"Hệ thống từ chối hoặc báo lỗi.",
		"The service refused or failed." },
	[VERDICT_BROKEN_FLOW] = { "BROKEN_FLOW",
		"Trang đầu hoạt động nhưng thủ tục dừng ở một bước sau.",
		"The first page works but the procedure stops at a later step." },
	[VERDICT_SLOW] = { "SLOW",
		"Hoạt động nhưng chậm hơn mức cho phép.",
		"Everything worked, but slower than its objective." },
	[VERDICT_OK] = { "OK",
		"Hoạt động bình thường.",
		"All steps passed within their objectives." },
};

const char *verdict_name(enum verdict v)
{
	return (unsigned)v < VERDICT_COUNT ? table[v].name : "?";
}

int verdict_parse(const char *s, enum verdict *v)
{
	for (int i = 0; i < VERDICT_COUNT; i++) {
		if (strcasecmp(s, table[i].name) == 0) {
			*v = (enum verdict)i;
			return 0;
		}
	}
	return -1;
}

const char *verdict_meaning(enum verdict v, int english)
{
	if ((unsigned)v >= VERDICT_COUNT)
		return "?";
	return english ? table[v].en : table[v].vi;
}

enum verdict verdict_worse(enum verdict a, enum verdict b)
{
	return a < b ? a : b;
}

int verdict_available(enum verdict v)
{
	return v == VERDICT_OK || v == VERDICT_SLOW;
}

int verdict_is_board(enum verdict v)
{
	return v == VERDICT_UNREADABLE || v == VERDICT_TAMPERED;
}

int verdict_is_service(enum verdict v)
{
	return v == VERDICT_HANG || v == VERDICT_DOWN || v == VERDICT_BROKEN_FLOW ||
	       v == VERDICT_SLOW;
}

int verdict_urgent(enum verdict v)
{
	return v == VERDICT_TAMPERED || v == VERDICT_HANG;
}
