/* channel.c - SMTP (libcurl), JSON webhooks and Telegram-style webhooks (see channel.h). */
#include "channel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "../common/buf.h"
#include "../common/banned.h"

#define MAIL_MAX (256 * 1024)	/* one e-mail, headers and encoded body */

/* Base64 of n bytes, in lines of at most 76 characters ending in CRLF. */
static int add_base64(struct buf *out, const unsigned char *p, size_t n, int lines)
{
	unsigned char enc[80];

	while (n) {
		size_t chunk = n > 57 ? 57 : n;
		int len = EVP_EncodeBlock(enc, p, (int)chunk);

		if (buf_add(out, enc, (size_t)len) < 0 || (lines && buf_adds(out, "\r\n") < 0))
			return -1;
		p += chunk;
		n -= chunk;
	}
	return 0;
}

/* An RFC 2047 header value: UTF-8 words of at most 45 bytes each, never split a character. */
static int add_encoded_words(struct buf *out, const char *s)
{
	size_t n = strlen(s);
	int first = 1;

	while (n) {
		size_t chunk = n > 45 ? 45 : n;

		while (chunk < n && chunk && ((unsigned char)s[chunk] & 0xc0) == 0x80)
			chunk--;
		if (!first)
			buf_adds(out, "\r\n ");
		buf_adds(out, "=?UTF-8?B?");
		add_base64(out, (const unsigned char *)s, chunk, 0);
		if (buf_adds(out, "?=") < 0)
			return -1;
		s += chunk;
		n -= chunk;
		first = 0;
	}
	return 0;
}

char *channel_mail_text(const struct alert_cfg *cfg, const struct outbox_msg *m,
			int64_t now_s, size_t *len)
{
	time_t t = (time_t)now_s + 7 * 3600;
	struct tm tm;
	char date[64];
	struct buf b;
	const char *at = strchr(cfg->smtp_from, '@');

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0700", &tm);
	buf_init(&b, MAIL_MAX);
	buf_addf(&b, "From: qrwatch <%s>\r\nTo: <%s>\r\nDate: %s\r\n"
		 "Message-ID: <%s@%s>\r\nSubject: ", cfg->smtp_from, m->address, date,
		 m->dedupe, at ? at + 1 : "qrwatch.invalid");
	add_encoded_words(&b, m->subject);
	buf_addf(&b, "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
		 "Content-Transfer-Encoding: base64\r\nX-Qrwatch-Event: %s\r\n"
		 "X-Qrwatch-Incident: %lld\r\nAuto-Submitted: auto-generated\r\n\r\n",
		 m->event, (long long)m->incident);
	add_base64(&b, (const unsigned char *)m->body, strlen(m->body), 1);
	return buf_detach(&b, len);
}

struct upload {
	const char *p;
	size_t left;
};

static size_t read_cb(char *dst, size_t size, size_t n, void *ud)
{
	struct upload *u = ud;
	size_t k = size * n < u->left ? size * n : u->left;

	memcpy(dst, u->p, k);
	u->p += k;
	u->left -= k;
	return k;
}

static size_t keep_cb(char *p, size_t size, size_t n, void *ud)
{
	struct buf *b = ud;

	buf_add(b, p, size * n);	/* the answer is only looked at, never needed whole */
	return size * n;
}

/* What every delivery attempt sets: where, which protocols only, a time limit. */
static void easy_common(CURL *c, const char *url, const char *protocols, char *errbuf)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protocols);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)CHANNEL_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
}

static int send_mail(const struct alert_cfg *cfg, const struct outbox_msg *m, struct err *e)
{
	struct curl_slist *rcpt = NULL;
	char from[300], to[600], errbuf[CURL_ERROR_SIZE] = "";
	struct upload u;
	size_t len;
	char *text;
	CURLcode rc;
	CURL *c;

	if (!cfg->smtp_url[0])
		return err_set(e, "no smtp_url in the configuration");
	text = channel_mail_text(cfg, m, (int64_t)time(NULL), &len);
	c = curl_easy_init();
	if (!text || !c) {
		free(text);
		curl_easy_cleanup(c);
		return err_set(e, "out of memory");
	}
	snprintf(from, sizeof(from), "<%s>", cfg->smtp_from);
	snprintf(to, sizeof(to), "<%s>", m->address);
	rcpt = curl_slist_append(rcpt, to);
	u.p = text;
	u.left = len;
	easy_common(c, cfg->smtp_url, "smtp,smtps", errbuf);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_USE_SSL, cfg->smtp_starttls == 2 ? (long)CURLUSESSL_ALL :
			 cfg->smtp_starttls == 1 ? (long)CURLUSESSL_TRY : (long)CURLUSESSL_NONE);
	if (cfg->smtp_user[0]) {
		curl_easy_setopt(c, CURLOPT_USERNAME, cfg->smtp_user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, cfg->smtp_password);
	}
	if (cfg->smtp_ca_file[0])
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg->smtp_ca_file);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		err_set(e, "smtp: %s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	free(text);
	return rc == CURLE_OK ? 0 : -1;
}

static int send_post(const struct outbox_msg *m, const char *json, int telegram,
		     struct err *e)
{
	struct curl_slist *h = NULL;
	char key[256], errbuf[CURL_ERROR_SIZE] = "";
	struct buf resp;
	long status = 0;
	CURLcode rc;
	CURL *c = curl_easy_init();
	int ret = -1;

	if (!c)
		return err_set(e, "out of memory");
	buf_init(&resp, 64 * 1024);
	snprintf(key, sizeof(key), "Idempotency-Key: %s", m->dedupe);
	h = curl_slist_append(h, "Content-Type: application/json; charset=utf-8");
	h = curl_slist_append(h, key);
	easy_common(c, m->address, "http,https", errbuf);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "qrwatchd");
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK)
		err_set(e, "%s: %s", m->channel, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	else if (status < 200 || status > 299)
		err_set(e, "%s: the receiver answered HTTP %ld", m->channel, status);
	else if (telegram && strstr(buf_str(&resp), "\"ok\":false"))
		err_set(e, "telegram: the receiver refused it: %.200s", buf_str(&resp));
	else
		ret = 0;
	buf_release(&resp);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return ret;
}

int channel_send(const struct alert_cfg *cfg, const struct outbox_msg *m, struct err *e)
{
	json_object *o;
	int rc;

	if (!strcmp(m->channel, "email"))
		return send_mail(cfg, m, e);
	o = json_object_new_object();
	if (!strcmp(m->channel, "telegram")) {
		struct buf text;

		buf_init(&text, MAIL_MAX);
		buf_addf(&text, "%s\n\n%s", m->subject, m->body);
		json_object_object_add(o, "chat_id", json_object_new_string(m->chat));
		json_object_object_add(o, "text", json_object_new_string(buf_str(&text)));
		json_object_object_add(o, "disable_web_page_preview", json_object_new_boolean(1));
		buf_release(&text);
	} else {
		json_object_object_add(o, "id", json_object_new_string(m->dedupe));
		json_object_object_add(o, "event", json_object_new_string(m->event));
		json_object_object_add(o, "incident", json_object_new_int64(m->incident));
		json_object_object_add(o, "recipient", json_object_new_string(m->recipient));
		json_object_object_add(o, "subject", json_object_new_string(m->subject));
		json_object_object_add(o, "text", json_object_new_string(m->body));
		json_object_object_add(o, "link", json_object_new_string(m->link));
	}
	rc = send_post(m, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
		       !strcmp(m->channel, "telegram"), e);
	json_object_put(o);
	return rc;
}
