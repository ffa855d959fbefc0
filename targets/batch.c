/* batch.c - signed batches: signing, the probe's encoder, the server's decoder (see batch.h). */
#include "batch.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "wire.h"
#include "../common/strictjson.h"
#include "../common/text.h"
#include "../common/banned.h"

void batch_sign(const unsigned char *key, size_t keylen, const void *body, size_t n,
		char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	HMAC(EVP_sha256(), key, (int)keylen, body, n, mac, &len);
	for (unsigned i = 0; i < 32 && i < len; i++) {
		hex[2 * i] = digits[mac[i] >> 4];
		hex[2 * i + 1] = digits[mac[i] & 15];
	}
	hex[64] = '\0';
}

void batch_sign_snapshot(const unsigned char *key, size_t keylen, const char *probe,
			 long long time_ms, const char *target, const void *img, size_t n,
			 char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char sha[65], msg[512];
	int len;

	EVP_Digest(img, n, md, &mdlen, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32 && i < mdlen; i++) {
		sha[2 * i] = digits[md[i] >> 4];
		sha[2 * i + 1] = digits[md[i] & 15];
	}
	sha[64] = '\0';
	/* ids are at most 64 bytes (catalog and probe ids): msg always holds them */
	len = snprintf(msg, sizeof(msg), "%.128s\n%lld\n%.128s\n%s", probe, time_ms, target, sha);
	batch_sign(key, keylen, msg, (size_t)len, hex);
}

int batch_signature_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb || la != 64)
		return 0;
	return CRYPTO_memcmp(a, b, la) == 0;
}

/*
 * The head on the wire, once (docs/protocol.md, "Pushing a batch"). The
 * decoder keeps "clock" in clock_stamp to hold it against clock_ms.
 */
struct head_wire {
	struct batch_head h;
	int64_t clock_stamp;
};

#define B(m) offsetof(struct head_wire, h.m)
#define NF(t) (sizeof(t) / sizeof((t)[0]))

static const struct wire_field batch_spool_fields[] = {
	{ "dropped", WIRE_I64, B(dropped), 0, 0, BATCH_SEQ_MAX, 0, NULL },
	{ "pending_bytes", WIRE_I64, B(pending_bytes), 0, 0, BATCH_SEQ_MAX, 0, NULL },
};
static const struct wire_table batch_spool_table = {
	batch_spool_fields, NF(batch_spool_fields), 0, ""
};

static const struct wire_field head_fields[] = {
	{ "probe", WIRE_ID, B(probe), 0, 0, 64, 1, NULL },
	{ "epoch", WIRE_HEX, B(epoch), 0, 0, BATCH_EPOCH_LEN, 0, NULL },
	{ "seq", WIRE_I64, B(seq), 0, 1, BATCH_SEQ_MAX, 1, NULL },
	{ "clock", WIRE_TIME_S, offsetof(struct head_wire, clock_stamp), 0, 0, 0, 0, NULL },
	{ "clock_ms", WIRE_I64, B(clock_ms), 0, 946684800000LL, 7258118400000LL, 1, NULL },
	{ "since_sync_s", WIRE_I64, B(since_sync_s), 0, -1, 100LL * 365 * 86400, 0, NULL },
	{ "uplink", WIRE_UPLINK, B(uplink), 0, 0, 16, 0, NULL },
	{ "version", WIRE_STR, B(version), 0, 0, 32, 0, NULL },
	{ "spool", WIRE_OBJECT, 0, 0, 0, 0, 0, &batch_spool_table },
};
static const struct wire_table head_table = { head_fields, NF(head_fields), 0, "" };

int batch_body(const struct batch_head *h, const struct buf *results, size_t n,
	       struct buf *out)
{
	struct head_wire w;
	json_object *o;
	const char *head;
	size_t hl;
	int rc = 0;

	memset(&w, 0, sizeof(w));
	w.h = *h;
	w.clock_stamp = h->clock_ms;
	o = wire_encode(&w, &head_table);
	json_object_object_add(o, "results", json_object_new_array());
	/* results are already JSON in the spool: splice them in as they are */
	head = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	hl = strlen(head);
	rc |= buf_add(out, head, hl - 2);	/* it ends with "[]}" */
	for (size_t i = 0; i < n; i++) {
		if (i)
			rc |= buf_addc(out, ',');
		rc |= buf_add(out, results[i].data, results[i].len);
	}
	rc |= buf_adds(out, "]}");
	json_object_put(o);
	return rc ? -1 : 0;
}

void batch_release(struct batch *b)
{
	arena_release(&b->arena);
	memset(b, 0, sizeof(*b));
}

int batch_decode(const char *body, size_t len, const char *probe_id, struct batch *b,
		 struct err *e)
{
	struct head_wire w;
	json_object *o, *results = NULL;
	size_t n;
	int rc;

	memset(b, 0, sizeof(*b));
	arena_init(&b->arena, 0);
	o = strictjson_parse(body, len, e);
	if (!o || !json_object_is_type(o, json_type_object)) {
		if (o)
			err_set(e, "another JSON value");
		err_prefix(e, "body is not a JSON object");
		json_object_put(o);
		return 400;
	}
	memset(&w, 0, sizeof(w));
	w.h.since_sync_s = -1;
	rc = wire_decode(o, &b->arena, "", &w, &head_table, e);
	if (rc)
		goto out;
	if (strcmp(w.h.probe, probe_id) != 0) {
		err_set(e, "probe: '%s' does not match X-Qrwatch-Probe '%s'", w.h.probe, probe_id);
		rc = 400;
		goto out;
	}
	/* "clock" is the moment of clock_ms, to the second it was written in */
	if (json_object_object_get_ex(o, "clock", NULL) &&
	    (w.h.clock_ms < w.clock_stamp || w.h.clock_ms - w.clock_stamp >= 1000)) {
		char ts[TEXT_UTC_MAX];

		text_utc_format(w.clock_stamp, 0, ts);
		err_set(e, "clock: '%s' is not the moment of clock_ms %lld", ts,
			(long long)w.h.clock_ms);
		rc = 422;
		goto out;
	}
	if (!w.h.uplink[0])
		w.h.uplink = NULL;
	if (!w.h.version[0])
		w.h.version = NULL;
	if (!json_object_object_get_ex(o, "results", &results) ||
	    !json_object_is_type(results, json_type_array)) {
		err_set(e, "results: %s", results ? "must be an array" : "missing");
		rc = 422;
		goto out;
	}
	n = json_object_array_length(results);
	if (n > BATCH_MAX_RESULTS) {
		err_set(e, "results: %zu results, more than %d per batch", n, BATCH_MAX_RESULTS);
		rc = 413;
		goto out;
	}
	b->results = arena_alloc(&b->arena, (n ? n : 1) * sizeof(*b->results));
	if (!b->results) {
		err_set(e, "results: out of memory");
		rc = 413;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char path[32];

		snprintf(path, sizeof(path), "results[%zu].", i);
		rc = result_from_json(json_object_array_get_idx(results, i), &b->arena, path,
				      &b->results[i], e);
		if (rc)
			goto out;
	}
	b->head = w.h;
	b->n = n;
out:
	json_object_put(o);
	return rc;
}
