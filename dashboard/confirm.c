/* confirm.c - a stale code's new address confirmed, checked and written to the catalog (see confirm.h). */
#include "confirm.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "html.h"
#include "photos.h"
#include "store.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "../targets/catalogedit.h"
#include "../targets/probecheck.h"
#include "../common/banned.h"

/* One confirm at a time reads, changes and writes the catalog file. */
static pthread_mutex_t edit_lock = PTHREAD_MUTEX_INITIALIZER;

int confirm_key_load(const char *data_dir, unsigned char key[CONFIRM_KEY_BYTES], struct err *e)
{
	char path[1100];
	size_t len = 0;
	char *got;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", data_dir, CONFIRM_KEY_FILE);
	got = file_read(path, 4096, &len, e);
	if (got) {
		int ok = len == CONFIRM_KEY_BYTES;

		if (ok)
			memcpy(key, got, CONFIRM_KEY_BYTES);
		OPENSSL_cleanse(got, len);
		free(got);
		return ok ? 0 : err_set(e, "%s is not a key of %d bytes: remove it and start "
					"again (forms open in browsers then need reloading)", path,
					CONFIRM_KEY_BYTES);
	}
	if (RAND_bytes(key, CONFIRM_KEY_BYTES) != 1)
		return err_set(e, "no randomness for the forms' key");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, "cannot create %s: %s", path, strerror(errno));
	if (write(fd, key, CONFIRM_KEY_BYTES) != CONFIRM_KEY_BYTES || fsync(fd) < 0) {
		close(fd);
		unlink(path);
		return err_set(e, "cannot write %s", path);
	}
	close(fd);
	return 0;
}

void confirm_token(const unsigned char key[CONFIRM_KEY_BYTES], const char *user,
		   const char *target, char out[CONFIRM_TOKEN_HEX])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char msg[256];
	int len = snprintf(msg, sizeof(msg), "confirm\n%s\n%s", user, target);

	if (len < 0 || (size_t)len >= sizeof(msg) ||
	    !HMAC(EVP_sha256(), key, CONFIRM_KEY_BYTES, (const unsigned char *)msg, (size_t)len,
		  mac, &n) || n != 32) {
		out[0] = '\0';	/* matches no form */
		return;
	}
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

int confirm_token_ok(const unsigned char key[CONFIRM_KEY_BYTES], const char *user,
		     const char *scope, const char *token)
{
	char want[CONFIRM_TOKEN_HEX];

	confirm_token(key, user, scope, want);
	return want[0] && strlen(token) == strlen(want) &&
	       CRYPTO_memcmp(token, want, strlen(want)) == 0;
}

void form_answer(struct reply *r, int status, int english, const char *head, const char *vi,
		 const char *en)
{
	r->status = status;
	r->type = "text/html; charset=utf-8";
	buf_reset(&r->body);
	html_begin(&r->body, head, "/stale", english);
	html_addf(&r->body, "<h1>%s</h1><p>%s</p><p><a href=\"/stale%s\">%s</a></p>", head,
		  english ? en : vi, english ? "?lang=en" : "", tr("stale", english));
	html_end(&r->body);
}

static void refuse(struct reply *r, int status, int english, const char *vi, const char *en)
{
	form_answer(r, status, english, english ? "Not confirmed" : "Chưa xác nhận", vi, en);
}

/* The catalog as it was into DATA_DIR/catalog-history/UTC-TARGET.catalog (a new name). */
static int keep_history(const char *data_dir, const char *target, int64_t now_ms,
			const char *text, size_t len, char *out, size_t cap, struct err *e)
{
	char dir[1100], name[128];
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;
	size_t k;

	snprintf(dir, sizeof(dir), "%s/%s", data_dir, CONFIRM_HISTORY_DIR);
	gmtime_r(&t, &tm);
	k = strftime(name, sizeof(name), "%Y%m%dT%H%M%SZ-", &tm);
	snprintf(name + k, sizeof(name) - k, "%s", target);
	return file_write_new(dir, name, "catalog", text, len, out, cap, e);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Whether qrwatchd may rewrite the catalog: the file and its folder (the
 * new file is renamed over it) writable by this process. 0, or -1 with e.
 */
static int catalog_writable(const char *path, struct err *e)
{
	char dir[1100];
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path) + (slash == path), path);
	if (access(path, W_OK) < 0 || access(dir, W_OK) < 0)
		return err_set(e, "qrwatchd may not rewrite the catalog %s (%s): keep the catalog "
			       "in a folder the server writes, such as its data_dir "
			       "(docs/deploy.md)", path, strerror(errno));
	return 0;
}

/*
 * The catalog's change written: the old file into the history, the new
 * one over it, then the record of who did it; when that record cannot be
 * written, the old file is put back. 0, or -1 with e.
 */
static int write_change(struct dash *d, const struct target *t, const char *old_text,
			size_t old_len, const struct buf *new_text, const char *user,
			const char *address, const char *checked, struct store_address_change *x,
			struct err *e)
{
	struct err e2;
	int rc;

	memset(x, 0, sizeof(*x));
	x->at_ms = now_ms();
	if (keep_history(d->data_dir, t->id, x->at_ms, old_text, old_len, x->history_file,
			 sizeof(x->history_file), e) < 0 ||
	    file_write_atomic(d->catalog_path, new_text->data, new_text->len, e) < 0)
		return -1;
	snprintf(x->target, sizeof(x->target), "%s", t->id);
	snprintf(x->old_address, sizeof(x->old_address), "%s", t->payload);
	snprintf(x->new_address, sizeof(x->new_address), "%s", address);
	snprintf(x->who, sizeof(x->who), "%s", user);
	snprintf(x->checked_url, sizeof(x->checked_url), "%s", checked);
	pthread_mutex_lock(&d->db->lock);
	rc = store_put_address_change(d->db, x) < 0 ? -1 : 0;
	if (store_failed(d->db, e) < 0)
		rc = -1;
	pthread_mutex_unlock(&d->db->lock);
	if (rc < 0 && file_write_atomic(d->catalog_path, old_text, old_len, &e2) < 0)
		LOG(LOG_LVL_ERROR, NULL, "the catalog %s could not be put back after the database "
		    "refused the change (%s): %s; the file as it was is %s", d->catalog_path,
		    e->msg, e2.msg, x->history_file);
	return rc;
}

/*
 * The catalog file read and target t's payload changed to address in
 * changed: t's payload in the file must still be the one the server
 * judged, the file writable, and the result a catalog that loads. -1 with
 * the refusal in r.
 */
static int edit(struct dash *d, const struct target *t, const char *address, char **text,
		size_t *len, struct buf *changed, struct reply *r, int en)
{
	char vi[1200], eng[1200];
	struct err e;
	int rc;

	*text = file_read(d->catalog_path, CATALOG_MAX_BYTES, len, &e);
	if (*text && catalog_writable(d->catalog_path, &e) < 0) {
		LOG(LOG_LVL_ERROR, NULL, "target '%s': a new address cannot be confirmed: %s",
		    t->id, e.msg);
		snprintf(vi, sizeof(vi), "Máy chủ không được phép ghi danh mục; chưa có gì thay "
			 "đổi. Cán bộ kỹ thuật cần đặt danh mục trong thư mục máy chủ ghi được: %s",
			 e.msg);
		snprintf(eng, sizeof(eng), "The server may not write the catalog; nothing has "
			 "changed. %s", e.msg);
		refuse(r, 500, en, vi, eng);
		return -1;
	}
	rc = *text ? catalogedit_replace_payload(d->catalog_path, d->cat->dir, *text, *len,
						 t->id, t->payload, address, changed, &e) : -1;
	if (rc == -2) {
		snprintf(vi, sizeof(vi), "Danh mục vừa thay đổi (có thể một cán bộ khác vừa xác "
			 "nhận); hãy mở lại trang Mã cần in lại. %s", e.msg);
		snprintf(eng, sizeof(eng), "The catalog has just changed (another official may "
			 "have confirmed); open the reprint page again. %s", e.msg);
		refuse(r, 409, en, vi, eng);
		return -1;
	}
	if (rc < 0) {
		snprintf(vi, sizeof(vi), "Danh mục không nhận địa chỉ này: %s", e.msg);
		snprintf(eng, sizeof(eng), "The catalog does not take this address: %s", e.msg);
		refuse(r, 422, en, vi, eng);
		return -1;
	}
	return 0;
}

void dash_confirm(struct dash *d, const struct dash_req *q, struct reply *r)
{
	const struct confirm_form *f = q->form;
	const int en = q->english;
	char vi[3000], eng[3000];
	const struct target *t;
	struct store_reader *rd;
	struct store_state st;
	struct probecheck_found found;
	struct store_address_change x;
	struct buf changed;
	struct err e;
	char *text = NULL;
	size_t len = 0;
	int known;

	buf_init(&changed, CATALOG_MAX_BYTES);
	r->status = 200;
	r->type = "text/html; charset=utf-8";
	buf_init(&r->body, 256 * 1024);
	if (!q->user || !f || f->bad) {
		refuse(r, f && f->bad ? 400 : 403, en, "Biểu mẫu không hợp lệ hoặc chưa đăng nhập.",
		       "The form is not valid, or nobody is logged in.");
		return;
	}
	if (!confirm_token_ok(d->csrf_key, q->user, f->target, f->token)) {
		refuse(r, 403, en, "Biểu mẫu không đến từ trang Mã cần in lại của máy chủ này, hoặc "
		       "của một người dùng khác. Hãy mở lại trang rồi xác nhận.",
		       "The form did not come from this server's reprint page, or came from "
		       "another user's. Open the page again and confirm there.");
		return;
	}
	t = catalog_target(d->cat, f->target);
	if (!t || t->kind != TARGET_URL || !t->payload) {
		refuse(r, 404, en, "Không có mã liên kết nào như vậy trong danh mục.",
		       "The catalog has no such link code.");
		return;
	}
	rd = store_reader_get(d->db, &e);
	known = rd ? store_state_of(rd, t->id, &st) : -1;
	if (rd)
		store_reader_put(d->db, rd);
	if (known < 0) {
		refuse(r, 500, en, "Không đọc được cơ sở dữ liệu.", "The database could not be read.");
		return;
	}
	if (!known || strcmp(st.verdict, "STALE")) {
		refuse(r, 409, en, "Mã này không ở trạng thái STALE (địa chỉ hỏng): không có gì "
		       "để thay.", "This code is not STALE: there is nothing to replace.");
		return;
	}
	/* the catalog's own checks first, then the walk (up to a minute) with no lock held */
	if (edit(d, t, f->address, &text, &len, &changed, r, en) < 0)
		goto out_unlocked;
	/* walked as a citizen who scans it would, with the probe's guards */
	if (probecheck_address(d->pc, t, f->address, &found) != 0) {
		snprintf(vi, sizeof(vi), "Đã đi thử địa chỉ %.1000s: không đạt. %s", f->address,
			 found.why_vi);
		snprintf(eng, sizeof(eng), "The address %.1000s was walked and is not OK: %s",
			 f->address, found.why_en);
		refuse(r, 422, en, vi, eng);
		goto out_unlocked;
	}
	/* then the edit again on the file as it is now: one confirm at a time */
	pthread_mutex_lock(&edit_lock);
	free(text);
	text = NULL;
	buf_reset(&changed);
	if (edit(d, t, f->address, &text, &len, &changed, r, en) < 0)
		goto out;
	if (write_change(d, t, text, len, &changed, q->user, f->address, found.candidate, &x,
			 &e) < 0) {
		LOG(LOG_LVL_ERROR, NULL, "target '%s': the confirmed address could not be written: "
		    "%s", t->id, e.msg);
		refuse(r, 500, en, "Không ghi được thay đổi; danh mục vẫn như cũ. Nhật ký máy chủ "
		       "cho biết lý do.", "The change could not be written; the catalog is as it "
		       "was. The server's log says why.");
		goto out;
	}
	LOG(LOG_LVL_INFO, NULL, "target '%s': new address confirmed by '%s': %s (was %s; the "
	    "catalog before is %s)", t->id, q->user, f->address, t->payload, x.history_file);
	/* a board photographed by phones: known to show the old code until a photo says */
	if (photos_waiting(d, t, t->payload, f->address, &e) < 0)
		LOG(LOG_LVL_WARN, NULL, "target '%s': its board's wait for the new code was not "
		    "recorded: %s", t->id, e.msg);
	/* the file's path is for the log and the database, not for the official's page */
	snprintf(vi, sizeof(vi), "Địa chỉ mới %.1000s đã qua kiểm tra và được ghi vào danh mục "
		 "(bản cũ được lưu lại). Máy chủ đang nạp lại danh mục; sau vài giây trang Mã "
		 "cần in lại có tờ dán để in.", f->address);
	snprintf(eng, sizeof(eng), "The new address %.1000s passed its check and is written to "
		 "the catalog (the old one is kept). The server is reloading the catalog; in a "
		 "few seconds the reprint page offers the poster.", f->address);
	form_answer(r, 200, en, en ? "Confirmed" : "Đã xác nhận", vi, eng);
	r->reload_after = 1;	/* once this answer is sent (server.c) */
out:
	pthread_mutex_unlock(&edit_lock);
out_unlocked:
	buf_release(&changed);
	free(text);
}
