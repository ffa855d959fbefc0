/* confirm.h - a stale code's new address confirmed by an official: checked, written to the catalog, kept. */
#ifndef QRW_CONFIRM_H
#define QRW_CONFIRM_H

#include "pages.h"
#include "../common/err.h"

#define CONFIRM_KEY_BYTES 32
#define CONFIRM_TOKEN_HEX (2 * 32 + 1)	/* a form's token, hex, with its NUL */
#define CONFIRM_KEY_FILE "csrf.key"	/* in the data folder, made at the first start */
#define CONFIRM_HISTORY_DIR "catalog-history"	/* in the data folder: the catalog before each change */

/* The fields of POST /stale/confirm (application/x-www-form-urlencoded). */
struct confirm_form {
	char target[80];
	char address[2048];
	char token[CONFIRM_TOKEN_HEX + 8];
	int bad;		/* a field too long, repeated or unknown */
};

/*
 * The key the forms' tokens are made with: DATA_DIR/csrf.key, made (random,
 * mode 0600) when it is missing, so that a form stays good across reloads
 * and restarts. Returns 0, or -1 with e.
 */
int confirm_key_load(const char *data_dir, unsigned char key[CONFIRM_KEY_BYTES], struct err *e);

/*
 * The token of the form that confirms target's address, for user:
 * HMAC-SHA256 of both under the key, hex. A page of another site can
 * neither read it nor make it, though the browser sends it the login.
 */
void confirm_token(const unsigned char key[CONFIRM_KEY_BYTES], const char *user,
		   const char *target, char out[CONFIRM_TOKEN_HEX]);

/* Whether token is the one confirm_token() makes for user and scope (constant time). */
int confirm_token_ok(const unsigned char key[CONFIRM_KEY_BYTES], const char *user,
		     const char *scope, const char *token);

/*
 * A form's answer (a refusal or what was done): a short page headed head,
 * saying vi or en, with the way back to the reprint page.
 */
void form_answer(struct reply *r, int status, int english, const char *head, const char *vi,
		 const char *en);

/*
 * POST /stale/confirm from q->user with q->form: the token must be the
 * user's for that target, the target a STALE url code, the address one
 * that the catalog takes as its payload (official domains) and that
 * qrwatch-probe walks OK as the target's own flow. Then, in this order:
 * the catalog file as it was into DATA_DIR/catalog-history/, the catalog
 * file rewritten (catalogedit.h), the change into the database (who,
 * when, the check's last page; the old file is put back if it cannot be)
 * and r->reload_after set: d->reload() once the answer is sent. The
 * catalog's folder must be writable (checked first). Any refusal
 * changes nothing and says why, in r (403, 404, 409, 422, 500).
 */
void dash_confirm(struct dash *d, const struct dash_req *q, struct reply *r);

#endif
