/* test_page.c - a page's text as a reader sees it: entities, NFD, capitals, NUL bytes, hidden parts, fields. */
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "../../targets/page.h"
#include "../../common/text.h"
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
	/* a page that says UTF-8 and is not: what it yields is UTF-8 all the same (fuzz_page) */
	{
		static const char bad[] = "<input name=csrf_token value=\"th\xb1\xb1z\"><h1>Caf\xe9</h1>";
		char *v;

		CHECK(page_parse(&pg, bad, sizeof(bad) - 1, "utf-8") == 0);
		v = page_field(&pg, "csrf_token");
		CHECK(v && utf8_valid(v, strlen(v)));
		free(v);
		CHECK(pg.text && utf8_valid(pg.text, strlen(pg.text)));
		page_release(&pg);
	}
	CHECK(page_parse(&pg, "{\"ok\": true}", 12, "utf-8") == 0);
	CHECK(page_contains(&pg, "\"ok\": true"));
	page_release(&pg);
}

static void shape_of(const char *html, struct page_shape *sh)
{
	struct page pg;

	CHECK(page_parse(&pg, html, strlen(html), NULL) == 0);
	page_shape(&pg, sh);
	page_release(&pg);
}

#define LAYOUT_TOP "<html><head><title>Cổng Dịch vụ công tỉnh</title></head><body>" \
	"<nav><a href=/>Trang chủ</a> <a href=/tin>Tin tức</a> <a href=/hd>Hướng dẫn</a></nav>"
#define LAYOUT_END "<footer>Sở Thông tin và Truyền thông tỉnh Bắc Ninh, đường Lý Thái Tổ</footer>" \
	"</body></html>"

/* The portal's home page, whatever address shows it, is not a procedure's page in its layout. */
static void test_shapes(void)
{
	static const char home[] = LAYOUT_TOP
		"<h2>Tin nổi bật</h2><p>Khai trương bộ phận một cửa xã Tân An mới</p>"
		"<p>Hướng dẫn nộp hồ sơ trực tuyến cho người cao tuổi</p>" LAYOUT_END;
	static const char home_later[] = LAYOUT_TOP
		"<h2>Tin nổi bật</h2><p>Khai trương bộ phận một cửa xã Tân An mới</p>"
		"<p>Hướng dẫn nộp hồ sơ trực tuyến cho người cao tuổi</p>" LAYOUT_END;
	static const char procedure[] = LAYOUT_TOP
		"<h1>Đăng ký khai sinh</h1><p>Cơ quan thực hiện: Ủy ban nhân dân cấp xã</p>"
		"<p>Thời hạn giải quyết: trong ngày làm việc</p>" LAYOUT_END;
	static const char other_title[] =
		"<html><head><title>Trang khác</title></head><body>"
		"<h2>Tin nổi bật</h2><p>Khai trương bộ phận một cửa xã Tân An mới</p>"
		"<p>Hướng dẫn nộp hồ sơ trực tuyến cho người cao tuổi</p>" LAYOUT_END;
	struct page_shape a, b, c, d;

	shape_of(home, &a);
	shape_of(home_later, &b);
	shape_of(procedure, &c);
	shape_of(other_title, &d);
	CHECK(a.nsketch > 10);
	CHECK(page_shape_same(&a, &b));
	CHECK(!page_shape_same(&a, &c));
	CHECK(!page_shape_same(&a, &d));
}

static void test_search(void)
{
	static const char results[] =
		"<form action=/tim-kiem method=get><input name=q value=1.001193></form>"
		"<p>Kết quả</p>";
	static const char post_form[] =
		"<form action=/tim-kiem method=post><input name=q></form>";
	struct page pg;

	CHECK(page_parse(&pg, results, strlen(results), NULL) == 0);
	CHECK(page_is_search(&pg, "https://dvc.bacninh.gov.vn/tim-kiem?q=1.001193"));
	CHECK(!page_is_search(&pg, "https://dvc.bacninh.gov.vn/tim-kiem"));
	CHECK(!page_is_search(&pg, "https://dvc.bacninh.gov.vn/thu-tuc?id=1.001193"));
	page_release(&pg);
	CHECK(page_parse(&pg, post_form, strlen(post_form), NULL) == 0);
	CHECK(!page_is_search(&pg, "https://dvc.bacninh.gov.vn/x?q=1"));
	page_release(&pg);
}

static const struct test page_tests[] = {
	{ "shapes", test_shapes },
	{ "search", test_search },
	{ "what_a_browser_shows", test_what_a_browser_shows },
	{ "charsets", test_charsets },
	{ "fields_and_elements", test_fields_and_elements },
	{ "odd_bodies", test_odd_bodies },
};
SUITE(page, page_tests);
