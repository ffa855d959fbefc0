/* page.c - visible text, title and form fields of a page, by libxml2's HTML parser; matching after NFC and case folding by libunistring. */
#include "page.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <unicase.h>
#include <unistr.h>
#include <uninorm.h>

#include "../common/buf.h"
#include "../common/banned.h"

#define PAGE_TEXT_MAX (4u * 1024 * 1024)	/* a page's text, at most (pages are 2 MB at most) */

/* Elements whose content a reader never sees as text. */
static int hidden(const xmlNode *n)
{
	static const char *const tags[] = { "script", "style", "head", "noscript",
		"template", "svg", "iframe", "object" };

	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (!xmlStrcasecmp(n->name, (const xmlChar *)tags[i]))
			return 1;
	return 0;
}

/* Inline elements: their text runs on with the words around it. */
static int is_inline(const xmlNode *n)
{
	static const char *const tags[] = { "a", "abbr", "b", "bdi", "bdo", "big",
		"cite", "code", "data", "dfn", "em", "font", "i", "kbd", "label",
		"mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup",
		"time", "tt", "u", "var", "wbr" };

	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (!xmlStrcasecmp(n->name, (const xmlChar *)tags[i]))
			return 1;
	return 0;
}

/* Append the visible text under n; blocks are kept apart by a space. */
static void collect(const xmlNode *n, struct buf *out)
{
	for (; n; n = n->next) {
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			if (n->content)
				buf_adds(out, (const char *)n->content);
		} else if (n->type == XML_ELEMENT_NODE && !hidden(n)) {
			int block = !is_inline(n);

			if (block)
				buf_addc(out, ' ');
			collect(n->children, out);
			if (block)
				buf_addc(out, ' ');
		}
	}
}

/* White space as a reader sees it: ASCII space, tab, CR, LF, FF and NBSP. */
static size_t space_len(const unsigned char *p)
{
	if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f')
		return 1;
	if (p[0] == 0xc2 && p[1] == 0xa0)
		return 2;
	return 0;
}

/*
 * A copy of the n bytes at s as valid UTF-8 of at most max bytes, cut at a
 * character: a page in a charset it does not declare leaves bytes that
 * libxml2 passes through (found by fuzz_page), and a captured value goes
 * into URLs, forms and results. Bad bytes become U+FFFD.
 */
static char *valid_utf8(const char *s, size_t n, size_t max)
{
	size_t o = 0;
	char *out = malloc(max + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		ucs4_t uc;
		int k = u8_mbtouc(&uc, (const uint8_t *)s + i, n - i);
		uint8_t enc[6];
		int m = u8_uctomb(enc, uc, sizeof(enc));

		if (m <= 0 || o + (size_t)m > max)
			break;
		memcpy(out + o, enc, (size_t)m);
		o += (size_t)m;
		i += (size_t)(k > 0 ? k : 1);
	}
	out[o] = '\0';
	return out;
}

/* s (n bytes of UTF-8) in NFC, case-folded when fold, white space collapsed and trimmed. */
static char *normalise(const char *s, size_t n, int fold)
{
	size_t len = 0, o = 0;
	char *fixed = NULL, *out;
	uint8_t *u;
	int space = 1;

	if (u8_check((const uint8_t *)s, n)) {
		fixed = valid_utf8(s, n, 3 * n);
		if (!fixed)
			return NULL;
		s = fixed;
		n = strlen(fixed);
	}
	u = fold ? u8_casefold((const uint8_t *)s, n, NULL, UNINORM_NFC, NULL, &len) :
		   u8_normalize(UNINORM_NFC, (const uint8_t *)s, n, NULL, &len);
	free(fixed);
	if (!u)
		return NULL;
	out = malloc(len + 1);
	if (!out) {
		free(u);
		return NULL;
	}
	for (size_t i = 0; i < len;) {
		size_t sp = i + 1 < len || u[i] != 0xc2 ? space_len(u + i) : 0;

		if (sp) {
			if (!space)
				out[o++] = ' ';
			space = 1;
			i += sp;
		} else {
			out[o++] = (char)u[i++];
			space = 0;
		}
	}
	if (o && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	free(u);
	return out;
}

char *page_fold(const char *s)
{
	return normalise(s, strlen(s), 1);
}

static const xmlNode *find(const xmlNode *n, const char *tag, const char *id)
{
	for (; n; n = n->next) {
		const xmlNode *f;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (tag && !xmlStrcasecmp(n->name, (const xmlChar *)tag))
			return n;
		if (id) {
			xmlChar *v = xmlGetProp(n, (const xmlChar *)"id");
			int hit = v && !strcmp((const char *)v, id);

			xmlFree(v);
			if (hit)
				return n;
		}
		f = find(n->children, tag, id);
		if (f)
			return f;
	}
	return NULL;
}

static char *text_of(const xmlNode *n, int fold)
{
	struct buf b;
	char *out;

	buf_init(&b, PAGE_TEXT_MAX);
	if (n->type == XML_ELEMENT_NODE && !xmlStrcasecmp(n->name, (const xmlChar *)"title")) {
		xmlChar *t = xmlNodeGetContent(n);

		buf_adds(&b, t ? (const char *)t : "");
		xmlFree(t);
	} else {
		collect(n->children, &b);
	}
	out = normalise(b.data ? b.data : "", b.len, fold);
	buf_release(&b);
	return out;
}

int page_parse(struct page *pg, const char *body, size_t len, const char *charset)
{
	char *clean = malloc(len + 1);
	size_t n = 0;
	htmlDocPtr doc;
	const xmlNode *root, *t;

	memset(pg, 0, sizeof(*pg));
	if (!clean)
		return -1;
	for (size_t i = 0; i < len; i++)	/* a NUL byte shows as nothing */
		if (body[i])
			clean[n++] = body[i];
	clean[n] = '\0';
	doc = htmlReadMemory(clean, (int)n, NULL, charset && *charset ? charset : NULL,
			     HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
			     HTML_PARSE_NONET | HTML_PARSE_COMPACT);
	free(clean);
	pg->doc = doc;
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root) {
		pg->text = strdup("");
		pg->title = strdup("");
		return pg->text && pg->title ? 0 : -1;
	}
	{
		xmlNode top = *root;	/* the root itself, walked as a list of one */

		top.next = NULL;
		{
			struct buf b;

			buf_init(&b, PAGE_TEXT_MAX);
			collect(&top, &b);
			pg->text = normalise(b.data ? b.data : "", b.len, 1);
			buf_release(&b);
		}
	}
	t = find(root, "title", NULL);
	pg->title = t ? text_of(t, 0) : strdup("");
	return pg->text && pg->title ? 0 : -1;
}

void page_release(struct page *pg)
{
	if (pg->doc)
		xmlFreeDoc(pg->doc);
	free(pg->text);
	free(pg->title);
	memset(pg, 0, sizeof(*pg));
}

int page_contains(const struct page *pg, const char *s)
{
	char *f = page_fold(s), *title;
	int hit = f && pg->text && strstr(pg->text, f) != NULL;

	if (f && !hit && pg->title && pg->title[0]) {	/* the browser's tab shows it too */
		title = page_fold(pg->title);
		hit = title && strstr(title, f) != NULL;
		free(title);
	}
	free(f);
	return hit;
}

/* The first element under n with attribute name="name" among input, textarea, select. */
static const xmlNode *find_field(const xmlNode *n, const char *name)
{
	for (; n; n = n->next) {
		const xmlNode *f;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!xmlStrcasecmp(n->name, (const xmlChar *)"input") ||
		    !xmlStrcasecmp(n->name, (const xmlChar *)"textarea") ||
		    !xmlStrcasecmp(n->name, (const xmlChar *)"select")) {
			xmlChar *v = xmlGetProp(n, (const xmlChar *)"name");
			int hit = v && !strcmp((const char *)v, name);

			xmlFree(v);
			if (hit)
				return n;
		}
		f = find_field(n->children, name);
		if (f)
			return f;
	}
	return NULL;
}

static char *clipped(xmlChar *v)
{
	char *out;

	if (!v)
		return strdup("");
	out = valid_utf8((const char *)v, strlen((const char *)v), PAGE_FIELD_MAX);
	xmlFree(v);
	return out;
}

char *page_field(const struct page *pg, const char *name)
{
	const xmlNode *root = pg->doc ? xmlDocGetRootElement(pg->doc) : NULL;
	const xmlNode *f = root ? find_field(root, name) : NULL;

	if (!f)
		return NULL;
	if (!xmlStrcasecmp(f->name, (const xmlChar *)"textarea"))
		return clipped(xmlNodeGetContent(f));
	if (!xmlStrcasecmp(f->name, (const xmlChar *)"select")) {
		const xmlNode *first = NULL;

		for (const xmlNode *o = f->children; o; o = o->next) {
			xmlChar *sel;

			if (o->type != XML_ELEMENT_NODE ||
			    xmlStrcasecmp(o->name, (const xmlChar *)"option"))
				continue;
			if (!first)
				first = o;
			sel = xmlGetProp(o, (const xmlChar *)"selected");
			if (sel || xmlHasProp(o, (const xmlChar *)"selected")) {
				xmlFree(sel);
				first = o;
				break;
			}
		}
		if (!first)
			return strdup("");
		if (xmlHasProp(first, (const xmlChar *)"value"))
			return clipped(xmlGetProp(first, (const xmlChar *)"value"));
		return clipped(xmlNodeGetContent(first));
	}
	return clipped(xmlGetProp(f, (const xmlChar *)"value"));
}

char *page_element(const struct page *pg, const char *sel)
{
	const xmlNode *root = pg->doc ? xmlDocGetRootElement(pg->doc) : NULL;
	const xmlNode *e;
	char *t;

	if (!root || !sel[0])
		return NULL;
	e = sel[0] == '#' ? find(root, NULL, sel + 1) : find(root, sel, NULL);
	if (!e)
		return NULL;
	t = text_of(e, 0);
	if (t && strlen(t) > PAGE_FIELD_MAX) {
		char *c = valid_utf8(t, strlen(t), PAGE_FIELD_MAX);

		free(t);
		t = c;
	}
	return t;
}

/* ---- shapes ---- */

/* FNV-1a over n bytes. */
static unsigned long long hash_bytes(const char *p, size_t n)
{
	unsigned long long h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* Keep h among the PAGE_SKETCH smallest distinct hashes (sorted insertion). */
static void sketch_add(struct page_shape *sh, unsigned long long h)
{
	unsigned lo = 0, hi = sh->nsketch;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (sh->sketch[mid] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	if ((lo < sh->nsketch && sh->sketch[lo] == h) || lo >= PAGE_SKETCH)
		return;
	if (sh->nsketch < PAGE_SKETCH)
		sh->nsketch++;
	memmove(&sh->sketch[lo + 1], &sh->sketch[lo],
		(sh->nsketch - 1 - lo) * sizeof(sh->sketch[0]));
	sh->sketch[lo] = h;
}

void page_shape(const struct page *pg, struct page_shape *sh)
{
	char *t = pg->title ? page_fold(pg->title) : NULL;
	const char *w[3] = { NULL, NULL, NULL }, *p = pg->text ? pg->text : "";

	memset(sh, 0, sizeof(*sh));
	snprintf(sh->title, sizeof(sh->title), "%s", t ? t : "");
	free(t);
	/* runs of three words of the folded text (single spaces already) */
	while (*p) {
		w[0] = w[1];
		w[1] = w[2];
		w[2] = p;
		p += strcspn(p, " ");
		if (w[0])
			sketch_add(sh, hash_bytes(w[0], (size_t)(p - w[0])));
		p += *p == ' ';
	}
	if (!sh->nsketch && w[2])	/* fewer than three words: the text itself */
		sketch_add(sh, hash_bytes(w[1] ? w[1] : w[2], strlen(w[1] ? w[1] : w[2])));
}

int page_shape_same(const struct page_shape *a, const struct page_shape *b)
{
	unsigned i = 0, j = 0, k = 0, both = 0;

	if (strcmp(a->title, b->title) != 0 || !a->nsketch || !b->nsketch)
		return 0;
	/* bottom-k estimate of the Jaccard index over the union's k smallest */
	while (k < PAGE_SKETCH && (i < a->nsketch || j < b->nsketch)) {
		if (j >= b->nsketch || (i < a->nsketch && a->sketch[i] < b->sketch[j])) {
			i++;
		} else if (i >= a->nsketch || b->sketch[j] < a->sketch[i]) {
			j++;
		} else {
			both++;
			i++;
			j++;
		}
		k++;
	}
	return both * 10 >= k * 8;
}

static int search_name(const char *name)
{
	static const char *const names[] = { "q", "query", "keyword", "keywords", "search",
		"s", "k", "tukhoa", "tu_khoa", "tu-khoa", "searchtext", "txtsearch" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(name, names[i]))
			return 1;
	return 0;
}

/* Whether url's query names field with a value. */
static int query_fills(const char *url, const char *field)
{
	const char *q = strchr(url, '?');
	size_t n = strlen(field);

	while (q && *q) {
		q++;
		if (!strncasecmp(q, field, n) && q[n] == '=' && q[n + 1] && q[n + 1] != '&')
			return 1;
		q = strchr(q, '&');
	}
	return 0;
}

static int find_search(const xmlNode *n, const char *url, int in_get_form)
{
	for (; n; n = n->next) {
		int get = in_get_form;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (!xmlStrcasecmp(n->name, (const xmlChar *)"form")) {
			xmlChar *m = xmlGetProp(n, (const xmlChar *)"method");

			get = !m || !xmlStrcasecmp(m, (const xmlChar *)"get");
			xmlFree(m);
		} else if (in_get_form && !xmlStrcasecmp(n->name, (const xmlChar *)"input")) {
			xmlChar *name = xmlGetProp(n, (const xmlChar *)"name");
			xmlChar *type = xmlGetProp(n, (const xmlChar *)"type");
			int hit = name && (search_name((const char *)name) ||
					   (type && !xmlStrcasecmp(type, (const xmlChar *)"search"))) &&
				  query_fills(url, (const char *)name);

			xmlFree(name);
			xmlFree(type);
			if (hit)
				return 1;
		}
		if (find_search(n->children, url, get))
			return 1;
	}
	return 0;
}

int page_is_search(const struct page *pg, const char *url)
{
	const xmlNode *root = pg->doc ? xmlDocGetRootElement(pg->doc) : NULL;

	return root && url && strchr(url, '?') && find_search(root, url, 0);
}
