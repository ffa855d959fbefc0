/* fuzz_page.c - a page's visible text, title and fields (targets/page.c, libxml2's HTML parser) on any body. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../targets/page.h"
#include "../../common/text.h"
#include "../../common/banned.h"

/*
 * A page is the portal's (or whoever a code leads to) choice. The first
 * byte picks the charset the response names (none, UTF-8, windows-1252,
 * a bogus one); the rest is the body. Whatever the bytes:
 *   - the parse ends and frees everything;
 *   - text and title are valid UTF-8 with no NUL, no leading, trailing or
 *     doubled space, and text is already folded (folding it again changes
 *     nothing);
 *   - the text contains each of its own words, and the empty string;
 *   - a field or an element, when found, is valid UTF-8 of at most
 *     PAGE_FIELD_MAX bytes;
 *   - the page's shape has a sorted, distinct sketch, and a page with
 *     any words is the same page as itself.
 */
static void tidy(const char *s)
{
	size_t n = strlen(s);

	if (!utf8_valid(s, n))
		abort();
	if (n && (s[0] == ' ' || s[n - 1] == ' '))
		abort();
	if (strstr(s, "  "))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const charsets[] = { NULL, "utf-8", "windows-1252", "x-bogus" };
	struct page pg;
	char *again, *v;

	if (size < 1)
		return 0;
	if (page_parse(&pg, (const char *)data + 1, size - 1, charsets[data[0] % 4]) < 0) {
		page_release(&pg);
		return 0;
	}
	tidy(pg.text);
	tidy(pg.title);
	again = page_fold(pg.text);
	if (!again || strcmp(again, pg.text) != 0)
		abort();
	free(again);
	if (!page_contains(&pg, ""))
		abort();
	{
		/* its first word, at most 32 bytes, whole characters */
		size_t n = strcspn(pg.text, " ");
		char word[40];

		if (n && n < 32) {
			memcpy(word, pg.text, n);
			word[n] = '\0';
			if (!page_contains(&pg, word))
				abort();
		}
	}
	v = page_field(&pg, "csrf_token");
	if (v && (strlen(v) > PAGE_FIELD_MAX || !utf8_valid(v, strlen(v))))
		abort();
	free(v);
	{
		struct page_shape sh;

		page_shape(&pg, &sh);
		for (unsigned i = 1; i < sh.nsketch; i++)
			if (sh.sketch[i - 1] >= sh.sketch[i])
				abort();
		if (sh.nsketch && !page_shape_same(&sh, &sh))
			abort();
		(void)page_is_search(&pg, "https://dvc.example.vn/tim-kiem?q=1.001193&k=x");
	}
	v = page_element(&pg, "h1");
	if (v && strlen(v) > PAGE_FIELD_MAX)
		abort();
	free(v);
	page_release(&pg);
	return 0;
}
