/* photos.c - board photos from phones: decoded guarded, judged, kept, sent through ingest (see photos.h). */
#include "photos.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "confirm.h"
#include "html.h"
#include "store.h"
#include "../common/arena.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "../targets/batch.h"
#include "../targets/guarddecode.h"
#include "../targets/policy.h"
#include "../targets/result.h"
#include "../common/banned.h"

#define PHOTO_TARGETS_MAX 64	/* codes judged on one board's photo */

int photos_key(struct probe_key *key, struct err *e)
{
	memset(key, 0, sizeof(*key));
	snprintf(key->id, sizeof(key->id), "%s", INGEST_PHOTO_PROBE);
	key->secret_len = 32;
	if (RAND_bytes(key->secret, (int)key->secret_len) != 1)
		return err_set(e, "no randomness for the photo probe's key");
	return 0;
}

void photos_init(struct photos *p, struct ingest *ing, const struct probe_key *key)
{
	memset(p, 0, sizeof(*p));
	p->ing = ing;
	p->key = *key;
	pthread_mutex_init(&p->lock, NULL);
}

void photos_release(struct photos *p)
{
	OPENSSL_cleanse(&p->key, sizeof(p->key));
	pthread_mutex_destroy(&p->lock);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Results (JSON, n of them) as one signed batch of the photo probe,
 * through ingest: stored, drawn and alerted on as any probe's are.
 */
static int send_batch(struct dash *d, const struct buf *recs, size_t n, struct err *e)
{
	struct photos *p = d->photos;
	struct batch_head h;
	struct ingest_reply reply;
	struct buf body;
	char sig[65], hdr[80];
	int64_t now = now_ms(), last = 0;
	int rc = 0;

	pthread_mutex_lock(&p->lock);
	/* batch numbers go on from the last applied, also across restarts */
	pthread_mutex_lock(&d->db->lock);
	if (store_epoch_last(d->db, INGEST_PHOTO_PROBE, PHOTO_EPOCH, &last) < 0)
		last = 0;
	pthread_mutex_unlock(&d->db->lock);
	if (last > p->last_seq)
		p->last_seq = last;
	p->last_seq = now > p->last_seq ? now : p->last_seq + 1;
	memset(&h, 0, sizeof(h));
	h.probe = INGEST_PHOTO_PROBE;
	h.epoch = PHOTO_EPOCH;
	h.seq = p->last_seq;
	h.clock_ms = now;
	h.since_sync_s = 0;
	h.uplink = "other";
	h.version = "qrwatchd";
	buf_init(&body, INGEST_MAX_BODY);
	if (batch_body(&h, recs, n, &body) < 0) {
		rc = err_set(e, "the photo's results are too large");
	} else {
		batch_sign(p->key.secret, p->key.secret_len, body.data, body.len, sig);
		snprintf(hdr, sizeof(hdr), "sha256=%s", sig);	/* as a probe's header says it */
		ingest_batch(p->ing, INGEST_PHOTO_PROBE, hdr, body.data, body.len, now, &reply);
		if (reply.status != 200)
			rc = err_set(e, "the photo's results were refused (%d): %s", reply.status,
				     reply.body);
	}
	buf_release(&body);
	pthread_mutex_unlock(&p->lock);
	return rc;
}

/* One result of the photo probe for t (no steps: a look at the board). */
static int photo_result(struct arena *a, const struct target *t, enum verdict v,
			const char *why_vi, const char *why_en, const char *payload,
			const char *step, struct buf *out)
{
	struct result r;

	memset(&r, 0, sizeof(r));
	r.target = t->id;
	r.time_ms = now_ms();
	r.verdict = v;
	r.why_vi = result_text(a, why_vi, RESULT_TEXT_MAX);
	r.why_en = result_text(a, why_en, RESULT_TEXT_MAX);
	r.payload = result_text(a, payload, RESULT_TEXT_MAX);
	r.decode_step = result_text(a, step, 32);
	r.failed_step_name = "";
	r.uplink = "other";
	r.interface = "";
	return result_to_json(&r, out);
}

int photos_waiting(struct dash *d, const struct target *t, const char *old_code,
		   const char *new_code, struct err *e)
{
	struct judgement j;
	struct buf vi, en, rec;
	struct arena a;
	int rc;

	if (!t->image_uploads || !d->photos)
		return 0;	/* a probe reads this board: it sees the old code itself */
	memset(&j, 0, sizeof(j));
	j.verdict = VERDICT_STALE;
	j.reason = REASON_OLD_CODE;
	snprintf(j.arg[0], sizeof(j.arg[0]), "%s", old_code);
	snprintf(j.arg[1], sizeof(j.arg[1]), "%s", new_code);
	buf_init(&vi, 4096);
	buf_init(&en, 4096);
	buf_init(&rec, 64 * 1024);
	arena_init(&a, 64 * 1024);
	policy_explain(&j, 0, &vi);
	policy_explain(&j, 1, &en);
	buf_adds(&vi, " (Chưa có ảnh bảng tin có mã mới.)");
	buf_adds(&en, " (No photo of the board with the new code yet.)");
	rc = photo_result(&a, t, VERDICT_STALE, buf_str(&vi), buf_str(&en), old_code, "", &rec);
	rc = rc < 0 ? err_set(e, "out of memory") : send_batch(d, &rec, 1, e);
	arena_release(&a);
	buf_release(&rec);
	buf_release(&vi);
	buf_release(&en);
	return rc;
}

static void refuse(struct reply *r, int status, int english, const char *vi, const char *en)
{
	form_answer(r, status, english, english ? "Photo not taken" : "Ảnh chưa được nhận", vi,
		    en);
}

/* Keep the photo: DATA_DIR/photos/BOARD/UTC.EXT, a name no earlier photo took. */
static int keep_photo(struct dash *d, const char *board, const char *ext, const struct buf *f,
		      int64_t at_ms, char *path, size_t cap, struct err *e)
{
	char dir[1100], stamp[32];
	time_t t = (time_t)(at_ms / 1000);
	struct tm tm;

	snprintf(dir, sizeof(dir), "%s/%s", d->data_dir, PHOTO_DIR);
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return err_set(e, "cannot create %s: %s", dir, strerror(errno));
	snprintf(dir, sizeof(dir), "%s/%s/%s", d->data_dir, PHOTO_DIR, board);
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	return file_write_new(dir, stamp, ext, f->data, f->len, path, cap, e);
}

void dash_photo(struct dash *d, const struct dash_req *q, const char *board_id,
		struct reply *r)
{
	const struct photo_form *f = q->photo;
	const int en = q->english;
	const struct board *b = catalog_board(d->cat, board_id);
	const struct target *ts[PHOTO_TARGETS_MAX];
	char scope[96], msg[2048], when[32];
	struct decode_result dr;
	struct guard_limits lim;
	struct store_board_photo ph;
	struct buf recs[PHOTO_TARGETS_MAX], page;
	struct arena a;
	struct err e;
	enum guard_status gs;
	const char *kind;
	size_t nt = 0;
	int rc = 0, wrong_board = 0;

	r->status = 200;
	r->type = "text/html; charset=utf-8";
	buf_init(&r->body, 256 * 1024);
	if (!q->user || !f || f->bad) {
		refuse(r, f && f->bad ? 400 : 403, en, "Biểu mẫu không hợp lệ hoặc chưa đăng nhập.",
		       "The form is not valid, or nobody is logged in.");
		return;
	}
	for (size_t i = 0; b && i < d->cat->ntargets && nt < PHOTO_TARGETS_MAX; i++)
		if (d->cat->targets[i].board == b && d->cat->targets[i].image_uploads)
			ts[nt++] = &d->cat->targets[i];
	if (!b || !nt) {
		refuse(r, 404, en, "Danh mục không có bảng tin nào như vậy nhận ảnh tải lên "
		       "(image = uploads).", "The catalog has no such board whose photos are "
		       "uploaded (image = uploads).");
		return;
	}
	snprintf(scope, sizeof(scope), "photo:%s", board_id);
	if (!confirm_token_ok(d->csrf_key, q->user, scope, f->token)) {
		refuse(r, 403, en, "Biểu mẫu không đến từ trang gửi ảnh của bảng này trên máy chủ "
		       "này, hoặc của một người dùng khác. Hãy mở lại trang rồi gửi ảnh.",
		       "The form did not come from this board's photo page on this server, or "
		       "came from another user's. Open the page again and send the photo there.");
		return;
	}
	if (f->file.overflow) {
		snprintf(msg, sizeof(msg), en ? "The photo is larger than %u MB: take it again "
			 "at a smaller size." : "Ảnh lớn hơn %u MB: hãy chụp lại với cỡ ảnh nhỏ "
			 "hơn.", PHOTO_MAX_BYTES / (1024 * 1024));
		refuse(r, 413, en, msg, msg);
		return;
	}
	if (!f->file.len) {
		refuse(r, 400, en, "Chưa chọn ảnh.", "No photo was chosen.");
		return;
	}
	kind = image_kind(f->file.data, f->file.len);
	if (!kind) {
		refuse(r, 422, en, "Tệp không phải ảnh JPEG hay PNG.",
		       "The file is not a JPEG or PNG photo.");
		return;
	}
	/* the whole cascade, in a child with the probe's limits (size, pixels, memory, time) */
	guard_limits_default(&lim);
	gs = guard_decode_mem(f->file.data, f->file.len, &lim, &dr, &e);
	if (gs != GUARD_FOUND) {
		if (gs == GUARD_NONE)
			refuse(r, 422, en, "Không đọc được mã QR nào trên ảnh. Hãy chụp lại: gần "
			       "hơn, đủ sáng, mã nằm trọn trong ảnh.", "No QR code could be read "
			       "on the photo. Take it again: closer, in good light, the whole "
			       "code in the picture.");
		else {
			snprintf(msg, sizeof(msg), "%s: %s", en ? "The photo was refused" :
				 "Ảnh bị từ chối", e.msg);
			refuse(r, 422, en, msg, msg);
		}
		return;
	}
	memset(&ph, 0, sizeof(ph));
	ph.at_ms = now_ms();
	snprintf(ph.board, sizeof(ph.board), "%s", b->id);
	snprintf(ph.who, sizeof(ph.who), "%s", q->user);
	ph.bytes = (int64_t)f->file.len;
	arena_init(&a, 256 * 1024);
	buf_init(&page, 64 * 1024);
	for (size_t i = 0; i < nt; i++) {
		struct judgement j;
		struct buf vi, eng;
		int used;
		size_t sl = strlen(ph.summary);

		policy_judge_board(d->cat, ts[i], &dr, &j, &used);
		buf_init(&vi, 4096);
		buf_init(&eng, 4096);
		buf_init(&recs[i], 64 * 1024);
		/* the evidence named in the result, so in the incident's messages too */
		html_time(ph.at_ms, when, sizeof(when));
		buf_addf(&vi, "Ảnh bảng tin do %s gửi lúc %s: ", q->user, when);
		buf_addf(&eng, "Board photo sent by %s at %s: ", q->user, when);
		policy_explain(&j, 0, &vi);
		policy_explain(&j, 1, &eng);
		if (j.genuine && ts[i]->kind == TARGET_URL) {
			buf_adds(&vi, " Trang của thủ tục do các thiết bị đo kiểm tra.");
			buf_adds(&eng, " The procedure's page is checked by the probes.");
		}
		if (photo_result(&a, ts[i], j.verdict, buf_str(&vi), buf_str(&eng),
				 used >= 0 ? dr.codes[used].text : "",
				 used >= 0 && dr.codes[used].step[0] ? dr.codes[used].step : dr.step,
				 &recs[i]) < 0)
			rc = -1;
		snprintf(ph.summary + sl, sizeof(ph.summary) - sl, "%s%s: %s", sl ? "\n" : "",
			 ts[i]->id, verdict_name(j.verdict));
		html_addf(&page, "<li><a href=\"/target/%s\">%s</a> ", ts[i]->id, ts[i]->procedure);
		html_verdict(&page, verdict_name(j.verdict));
		html_addf(&page, " %s</li>", en ? buf_str(&eng) : buf_str(&vi));
		if (j.verdict == VERDICT_TAMPERED)
			wrong_board = 1;
		buf_release(&vi);
		buf_release(&eng);
	}
	decode_result_release(&dr);
	if (rc < 0)
		err_set(&e, "out of memory");
	/* the evidence first, file and record: the judgements then name a kept photo */
	if (rc == 0)
		rc = keep_photo(d, b->id, kind, &f->file, ph.at_ms, ph.file, sizeof(ph.file), &e);
	if (rc == 0) {
		pthread_mutex_lock(&d->db->lock);
		rc = store_put_board_photo(d->db, &ph) < 0 || store_failed(d->db, &e) < 0 ? -1 : 0;
		pthread_mutex_unlock(&d->db->lock);
		if (rc < 0)
			unlink(ph.file);
	}
	if (rc < 0) {
		LOG(LOG_LVL_ERROR, NULL, "board '%s': a photo from '%s' could not be kept: %s",
		    b->id, q->user, e.msg);
		refuse(r, 500, en, "Không lưu được ảnh; nhật ký máy chủ cho biết lý do.",
		       "The photo could not be kept; the server's log says why.");
	} else if (send_batch(d, recs, nt, &e) < 0) {
		LOG(LOG_LVL_ERROR, NULL, "board '%s': the photo from '%s' is kept as %s, but its "
		    "judgement was not stored: %s", b->id, q->user, ph.file, e.msg);
		refuse(r, 500, en, "Ảnh đã được lưu nhưng kết quả đọc mã chưa ghi được; nhật ký "
		       "máy chủ cho biết lý do. Hãy gửi lại ảnh sau.", "The photo is kept but its "
		       "judgement could not be stored; the server's log says why. Send it again "
		       "later.");
	} else {
		LOG(LOG_LVL_INFO, NULL, "board '%s': photo from '%s' (%zu bytes) kept as %s: %s",
		    b->id, q->user, f->file.len, ph.file, ph.summary);
		r->status = 200;
		buf_reset(&r->body);
		html_begin(&r->body, en ? "Photo taken" : "Đã nhận ảnh", "/stale", en);
		html_addf(&r->body, "<h1>%s</h1><p>%s <a href=\"/board/%s/photo\">%s</a>.</p><ul>",
			  en ? "Photo taken" : "Đã nhận ảnh",
			  en ? "The photo is kept as the board's evidence; what was read on it:" :
			  "Ảnh được lưu làm bằng chứng của bảng tin; đọc được trên ảnh:", b->id,
			  b->location);
		buf_add(&r->body, page.data, page.len);
		html_addf(&r->body, "</ul>");
		if (wrong_board)
			html_addf(&r->body, "<p class=\"hint\">%s</p>", en ?
				  "If this photo is of another board, send the photo of this one "
				  "again: the latest photo is the board's evidence." :
				  "Nếu ảnh này chụp nhầm bảng tin khác, hãy gửi lại ảnh đúng bảng "
				  "này: ảnh mới nhất là bằng chứng của bảng.");
		html_addf(&r->body, "<p><a href=\"/stale%s\">%s</a></p>", en ? "?lang=en" : "",
			  tr("stale", en));
		html_end(&r->body);
	}
	for (size_t i = 0; i < nt; i++)
		buf_release(&recs[i]);
	buf_release(&page);
	arena_release(&a);
}

/* ---- the board's photo page (GET) ---- */

/* A snapshot refused: JSON, its reason escaped (ids come from the request). */
static void snapshot_refused(struct reply *r, int status, const char *why)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(why));
	r->status = status;
	r->type = "application/json";
	buf_reset(&r->body);
	buf_adds(&r->body, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

void dash_snapshot(struct dash *d, const struct dash_req *q, struct reply *r)
{
	const struct snapshot_req *sn = q->snapshot;
	const struct target *t = catalog_target(d->cat, sn->target);
	struct decode_result dr;
	struct guard_limits lim;
	enum guard_status gs;
	struct err e;
	char why[ERR_MAX + 160];

	r->status = 200;
	buf_init(&r->body, DECODE_REPLY_MAX);
	if (!t) {
		snprintf(why, sizeof(why), "the catalog has no target '%s' (X-Qrwatch-Target)",
			 sn->target);
		snapshot_refused(r, 404, why);
		return;
	}
	if (t->image_uploads || (!t->image && !t->image_url)) {
		snprintf(why, sizeof(why), "target '%s' has no board photographed by a probe",
			 t->id);
		snapshot_refused(r, 409, why);
		return;
	}
	if (!catalog_reads_board(t, sn->probe)) {
		snprintf(why, sizeof(why), "probe '%s' does not read the board of '%s' "
			 "(the board's probe in the catalog)", sn->probe, t->id);
		snapshot_refused(r, 403, why);
		return;
	}
	if (!image_kind(sn->data, sn->len)) {
		snapshot_refused(r, 415, "the snapshot is neither PNG nor JPEG");
		return;
	}
	/* the whole cascade, in a child with the probe's limits (size, pixels, memory, time) */
	guard_limits_default(&lim);
	gs = guard_decode_mem(sn->data, sn->len, &lim, &dr, &e);
	r->type = "text/plain; charset=utf-8";
	switch (gs) {
	case GUARD_FOUND:
	case GUARD_NONE:
		decode_reply_write(&dr, &r->body);
		LOG(LOG_LVL_INFO, NULL, "%s: read the snapshot probe %s could not: %d code%s",
		    t->id, sn->probe, dr.n, dr.n == 1 ? "" : "s");
		decode_result_release(&dr);
		break;
	case GUARD_REFUSED:
		decode_reply_refused(e.msg, &r->body);
		break;
	case GUARD_FAILED:
		snprintf(why, sizeof(why), "the server's decoder failed: %s", e.msg);
		snapshot_refused(r, 500, why);
		break;
	}
}

void page_board_photo(struct dash *d, struct store_reader *rd, const struct dash_req *q,
		      const char *board_id, struct reply *r)
{
	const struct board *b = catalog_board(d->cat, board_id);
	const int en = q->english;
	struct store_board_photo ph;
	char token[CONFIRM_TOKEN_HEX], scope[96], when[32];
	int uploads = 0, got;

	for (size_t i = 0; b && i < d->cat->ntargets; i++)
		uploads |= d->cat->targets[i].board == b && d->cat->targets[i].image_uploads;
	if (!b || !uploads) {
		r->status = 404;
		r->type = "text/plain; charset=utf-8";
		buf_adds(&r->body, "no such board taking uploaded photos\n");
		return;
	}
	html_begin(&r->body, tr("photo_title", en), q->path, en);
	{
		struct buf place;

		/* which board this is: its place, where on it, and its codes */
		buf_init(&place, 1024);
		if (b->place)
			place_format(b->place, &place);
		html_addf(&r->body, "<h1>%s</h1><p>%s — %s</p><ul>", tr("photo_title", en),
			  buf_str(&place), b->location);
		buf_release(&place);
		for (size_t i = 0; i < d->cat->ntargets; i++)
			if (d->cat->targets[i].board == b && d->cat->targets[i].image_uploads)
				html_addf(&r->body, "<li><a href=\"/target/%s\">%s</a></li>",
					  d->cat->targets[i].id, d->cat->targets[i].procedure);
		html_addf(&r->body, "</ul>");
	}
	got = store_board_photo_latest(rd, b->id, &ph);
	if (got > 0) {
		html_time(ph.at_ms, when, sizeof(when));
		/* no width: the page's img rule keeps it inside a phone's screen */
		html_addf(&r->body, "<p>%s %s %s %s %s:</p><p><img class=\"photo\" alt=\"%s\" "
			  "src=\"/board/%s/photo.img\"></p><p class=\"read\">%s</p>",
			  tr("photo_latest", en), tr("at", en), when, tr("confirmed_by", en), ph.who,
			  tr("photo_title", en), b->id, ph.summary);
	} else if (got == 0) {
		html_addf(&r->body, "<p>%s</p>", tr("photo_none", en));
	}
	if (!d->logins) {
		html_addf(&r->body, "<p class=\"no-confirm\">%s</p>", tr("photo_needs_login", en));
	} else if (!q->user) {
		html_addf(&r->body, "<p class=\"no-confirm\"><a href=\"/board/%s/photo?login=1%s\">"
			  "%s</a></p>", b->id, en ? "&lang=en" : "", tr("photo_login", en));
	} else {
		snprintf(scope, sizeof(scope), "photo:%s", b->id);
		confirm_token(d->csrf_key, q->user, scope, token);
		/* a phone opens its camera for this; a computer picks a file */
		html_addf(&r->body, "<form class=\"photo\" method=\"post\" "
			  "enctype=\"multipart/form-data\" action=\"/board/%s/photo%s\">"
			  "<input type=\"hidden\" name=\"token\" value=\"%s\">"
			  "<label>%s <input type=\"file\" name=\"photo\" accept=\"image/*\" "
			  "capture=\"environment\" required></label> <button>%s</button>"
			  "<br><small>%s</small></form>", b->id, en ? "?lang=en" : "", token,
			  tr("photo_pick", en), tr("photo_send", en), tr("photo_how", en));
	}
	html_end(&r->body);
}

void board_photo_file(struct dash *d, struct store_reader *rd, const char *board_id,
		      struct reply *r)
{
	struct store_board_photo ph;
	struct err e;
	size_t len = 0;
	const char *kind;
	char *data;

	if (!catalog_board(d->cat, board_id) || store_board_photo_latest(rd, board_id, &ph) <= 0 ||
	    !(data = file_read(ph.file, PHOTO_MAX_BYTES, &len, &e))) {
		r->status = 404;
		r->type = "text/plain; charset=utf-8";
		buf_adds(&r->body, "no photo of this board\n");
		return;
	}
	buf_add(&r->body, data, len);
	free(data);
	kind = image_kind(r->body.data, r->body.len);
	r->type = kind && !strcmp(kind, "jpg") ? "image/jpeg" : "image/png";
}
