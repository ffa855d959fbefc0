/* poster.h - printable replacement codes for a target: PNG at print resolution and an SVG poster. */
#ifndef QRW_POSTER_H
#define QRW_POSTER_H

#include <qrencode.h>

#include "catalog.h"
#include "image.h"
#include "../common/buf.h"
#include "../common/err.h"

/*
 * The code is printed POSTER_CODE_MM wide at POSTER_DPI, with error
 * correction level Q (a quarter of the code may be dirty or torn and it
 * still reads) and the standard four-module quiet zone.
 */
#define POSTER_DPI     300
#define POSTER_CODE_MM 80

/*
 * The payload a replacement code for t must carry: its registered payload,
 * or for a VietQR target registered by payee only, a static VietQR code for
 * that payee. Appends it to out; -1 with e when t has nothing to print.
 */
int poster_payload(const struct target *t, struct buf *out, struct err *e);

/* t's payload encoded for print (level Q), or NULL with e; QRcode_free() it. */
QRcode *poster_encode(const struct target *t, struct err *e);

/*
 * Draw an encoded code into a new grey image, `scale` pixels per module,
 * with the four-module quiet zone. Returns 0, or -1 when memory runs out.
 */
int poster_render(const QRcode *qr, int scale, struct image *img);

/* Encode t's payload as a grey PNG of the code alone, into out. */
int poster_png(const struct target *t, struct buf *out, struct err *e);

/*
 * An A5 SVG poster: the procedure name, the place and board location as
 * text (XML-escaped: catalog text is shown, never interpreted), the code as
 * vector modules, and the target id. Into out.
 */
int poster_svg(const struct target *t, struct buf *out, struct err *e);

/* Write a poster to path, PNG or SVG by its extension, atomically. */
int poster_write(const struct target *t, const char *path, struct err *e);

#endif
