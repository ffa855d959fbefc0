/* regrid.h - reading a code whose module grid is bent (cloth, curled paper) by resampling it clean. */
#ifndef QRW_REGRID_H
#define QRW_REGRID_H

#include "image.h"

/*
 * ZBar and ZXing-C++ both sample a code through one perspective transform
 * from its corners. On a T-shirt or a sheet that curls off a notice board
 * the modules drift off that grid by a module or more, and neither reads
 * it. This step finds the three finder patterns itself, fits the grid
 * through them, the alignment pattern and the code's own isolated modules
 * (a cubic surface, refitted as more modules line up), samples every
 * module and draws the result as a clean, flat code for the decoder to
 * read. Decoding and error correction stay the decoder's.
 */

/* Photos larger than this on either side are scaled down first: labelling
 * every pixel of a 12 Mpx photo costs 100 MB, and a code big enough to be
 * bent visibly still has 3 pixels a module at this size. */
#define REGRID_MAX_SIDE 1024

/* At most this many finder-pattern candidates per thresholding, triples
 * of them kept (the best), finder triples and side guesses fitted, and
 * clean codes handed to the reader per image, so that a photo with no
 * code (or a page of look-alike squares) costs a bounded time. */
#define REGRID_MAX_FINDERS 64
#define REGRID_MAX_TRIPLES 256
#define REGRID_MAX_GRIDS 48
#define REGRID_MAX_TRIES 96

/* Versions 1..10 (21..57 modules): a bent code denser than that cannot
 * be sampled from the few modules a photo of it resolves. */
#define REGRID_MAX_SIDE_MODULES 57

/*
 * Called with each candidate: clean is the code drawn flat, 4 pixels a
 * module inside a quiet zone of 4 modules; x0, y0, x1, y1 its box in img's
 * pixels. Returns >0 when it read a code there (that triple is done, and
 * the search goes on for others), 0 to try the next candidate, or -1 to
 * stop with an error.
 */
typedef int (*regrid_read_fn)(const struct image *clean, long x0, long y0,
			      long x1, long y1, void *arg);

/* Whether (x, y), in img's pixels, lies on a code read already: finder
 * triples around it are not tried again. */
typedef int (*regrid_known_fn)(double x, double y, void *arg);

/*
 * Search img (grey) for bent codes, every one on the photo: each finder
 * triple, best first, whose middle known() (which may be NULL) does not
 * place on a code read already, is fitted and its candidates handed to
 * read() until one reads. Returns the codes read (the sum of read's
 * positive values), 0 when none, or -1 when memory ran out or read()
 * failed.
 */
int regrid_scan(const struct image *img, regrid_read_fn read, regrid_known_fn known,
		void *arg);

#endif
