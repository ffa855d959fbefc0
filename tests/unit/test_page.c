/* test_page.c - a page's text as a reader sees it: entities, NFD, capitals, NUL bytes, hidden parts, fields. */
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "../../targets/page.h"
#include "../../common/banned.h"

static int contains(const char *html, size_t len, const char *charset, const char *s)
{
	struct page pg;
	int hit;

	CHECK(page_parse(&pg, html, len, charset) == 0);
	hit = page_contains(&pg, s);
	page_release(&pg);
	return hit;
}

#define HAS(html, s) contains(html, sizeof(html) - 1, NULL, s)

/* Each of these fooled a byte match into a false STALE (issue 13, item 7). */
static void test_what_a_browser_shows(void)
{
	/* ố as a numeric entity, and as a named one for a space */
	CHECK(HAS("<p>Th&#7911; t&#7909;c &#273;&#259;ng k&#253; khai sinh</p>",
		  "Thủ tục đăng ký khai sinh"));
	CHECK(HAS("<p>Khai&nbsp;sinh</p>", "khai sinh"));
	/* decomposed Vietnamese (NFD) on the page, composed in the catalog, and back */
	CHECK(HAS("<p>\x44\xc4\x83ng ky\xcc\x81 khai sinh</p>", "Đăng ký khai sinh") == 0);
	CHECK(HAS("<p>\xc4\x90\xc4\x83ng ky\xcc\x81 khai sinh</p>", "Đăng ký khai sinh"));
	CHECK(HAS("<p>Đăng ký khai sinh</p>", "\xc4\x90\xc4\x83ng ky\xcc\x81 khai sinh"));
	/* capitals, and words split by tags and line breaks */
	CHECK(HAS("<h1>ĐĂNG KÝ KHAI SINH</h1>", "Đăng ký khai sinh"));
	CHECK(HAS("<p>Đăng ký <b>khai</b>\n   sinh</p>", "đăng ký khai sinh"));
	/* a stray NUL byte in the middle of a word */
	CHECK(HAS("<p>Đăng ký kh\0ai sinh</p>", "Đăng ký khai sinh"));
	/* blocks are apart: two paragraphs are not one word */
	CHECK(HAS("<p>khai</p><p>sinh</p>", "khai sinh"));
	CHECK(HAS("<p>khai</p><p>sinh</p>", "khaisinh") == 0);
	/* what a reader never sees does not count */
	CHECK(HAS("<script>var t = 'Đăng ký khai sinh';</script><p>Trang chủ</p>",
		  "Đăng ký khai sinh") == 0);
	CHECK(HAS("<style>.khai-sinh{}</style><p>x</p>", "khai-sinh") == 0);
	CHECK(HAS("<!-- Đăng ký khai sinh --><p>x</p>", "Đăng ký khai sinh") == 0);
	/* the title is shown in the browser's tab */
	CHECK(HAS("<html><head><title>Khai sinh</title></head><body>x</body></html>",
		  "khai sinh"));
}

/* A page in a legacy charset, named by its Content-Type or its <meta>. */
static void test_charsets(void)
{
	static const char latin1[] = "<p>Caf\xe9</p>";
	static const char meta[] = "<html><head><meta charset=\"windows-1252\"></head>"
				   "<body>Caf\xe9</body></html>";

	CHECK(contains(latin1, sizeof(latin1) - 1, "ISO-8859-1", "café"));
	CHECK(contains(meta, sizeof(meta) - 1, NULL, "CAFÉ"));
}

static void test_fields_and_elements(void)
{
	static const char html[] =
		"<html><head><title> Nộp   hồ sơ </title></head><body>"
		"<h1 id=\"tieu-de\">Đăng ký <i>khai sinh</i></h1>"
		"<form><input type=\"hidden\" name=\"csrf_token\" value=\"a&amp;b 7\">"
		"<textarea name=\"ghi_chu\">Dòng một</textarea>"
		"<select name=\"xa\"><option value=\"1\">Tân An</option>"
		"<option value=\"2\" selected>Tân Bình</option></select></form></body></html>";
	struct page pg;
	char *v;

	CHECK(page_parse(&pg, html, sizeof(html) - 1, NULL) == 0);
	CHECK_STR(pg.title, "Nộp hồ sơ");
	v = page_field(&pg, "csrf_token");
	CHECK_STR(v, "a&b 7");
	free(v);
	v = page_field(&pg, "ghi_chu");
	CHECK_STR(v, "Dòng một");
	free(v);
	v = page_field(&pg, "xa");
	CHECK_STR(v, "2");
	free(v);
	CHECK(page_field(&pg, "khong_co") == NULL);
	v = page_element(&pg, "#tieu-de");
	CHECK_STR(v, "Đăng ký khai sinh");
	free(v);
	v = page_element(&pg, "h1");
	CHECK_STR(v, "Đăng ký khai sinh");
	free(v);
	CHECK(page_element(&pg, "#khong-co") == NULL);
	page_release(&pg);
}

/* Not HTML at all, or nothing: no crash, no text. */
static void test_odd_bodies(void)
{
	struct page pg;

	CHECK(page_parse(&pg, "", 0, NULL) == 0);
	CHECK(page_contains(&pg, "x") == 0);
	CHECK(page_field(&pg, "x") == NULL);
	page_release(&pg);
	CHECK(page_parse(&pg, "{\"ok\": true}", 12, "utf-8") == 0);
	CHECK(page_contains(&pg, "\"ok\": true"));
	page_release(&pg);
}

static const struct test page_tests[] = {
	{ "what_a_browser_shows", test_what_a_browser_shows },
	{ "charsets", test_charsets },
	{ "fields_and_elements", test_fields_and_elements },
	{ "odd_bodies", test_odd_bodies },
};
SUITE(page, page_tests);
