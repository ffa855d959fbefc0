/* channel.h - delivering one notification: e-mail over SMTP, a JSON webhook, a Telegram-style webhook. */
#ifndef QRW_CHANNEL_H
#define QRW_CHANNEL_H

#include <stdint.h>

#include "engine.h"
#include "../common/err.h"

#define CHANNEL_TIMEOUT_S 20	/* one delivery attempt, connect to accepted */

/* One row of the outbox, as the worker hands it to a channel. */
struct outbox_msg {
	int64_t id, incident;
	const char *event, *recipient, *channel, *address, *chat;
	const char *subject, *body, *link, *dedupe;
};

/*
 * Deliver m. Returns 0 only when the channel accepted it: the SMTP server
 * answered 250 to the message, or the webhook answered 2xx. Otherwise -1
 * with e saying why. Every message carries its dedupe key (Message-ID for
 * mail, Idempotency-Key and "id" for webhooks), so a receiver can drop the
 * copy a crash between "accepted" and "marked sent" would make.
 */
int channel_send(const struct alert_cfg *cfg, const struct outbox_msg *m, struct err *e);

/* The e-mail as sent (headers and base64 body), for tests. Caller frees. */
char *channel_mail_text(const struct alert_cfg *cfg, const struct outbox_msg *m,
			int64_t now_s, size_t *len);

#endif
