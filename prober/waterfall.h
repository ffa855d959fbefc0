/* waterfall.h - a result drawn for a terminal: each step's phases to scale, then the verdict. */
#ifndef QRW_WATERFALL_H
#define QRW_WATERFALL_H

#include "../common/buf.h"
#include "../targets/result.h"

/*
 * Append a readable waterfall: one line per step with its phases drawn to
 * scale, status, bytes and errors, then the verdict and why. colour adds
 * ANSI colours (for terminals only); english picks the explanation.
 */
int result_waterfall(const struct result *r, int colour, int english, struct buf *out);

#endif
