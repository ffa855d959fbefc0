/* posterpdf.h - the poster a commune pins up, as PDF (A5 or A4) drawn with cairo. */
#ifndef QRW_POSTERPDF_H
#define QRW_POSTERPDF_H

#include "catalog.h"
#include "../common/buf.h"
#include "../common/err.h"

enum poster_size { POSTER_A5, POSTER_A4 };

/*
 * What a poster says besides its code, in plain Vietnamese, each line
 * composed from the catalog (never interpreted) and the date.
 */
struct poster_text {
	char issuer[256];	/* "Ủy ban nhân dân Xã Tân An · Tỉnh Bắc Ninh" */
	char title[256];	/* the procedure's name */
	char place[256];	/* the board: its place and location */
	char address[256];	/* the link in short form, or the payee, purpose and amount of a fee */
	char steps[3][160];	/* how to scan, step by step */
	char guard[320];	/* anti-fraud: the domain to see, or the payee to check */
	char date[64];		/* "In ngày 03/12/2026", Vietnam time */
	char serial[64];	/* "Số: ks-thon-dong-1a2b3c4d": target id and payload hash */
};

/* Compose t's poster text for the time now (Unix s). Returns 0, or -1 with e. */
int poster_text(const struct target *t, long long now, struct poster_text *pt,
		struct err *e);

/*
 * One page per target: the issuer, the procedure, the code (level Q, a
 * quarter of it may be torn and it still reads), the address, the three
 * steps, the anti-fraud line, the date and the serial. Fonts by
 * fontconfig (DejaVu Sans carries Vietnamese). Appends the PDF to out;
 * -1 with e when a target has nothing to print or cairo fails.
 */
int poster_pdf(const struct target *const *targets, size_t n, enum poster_size size,
	       long long now, struct buf *out, struct err *e);

/*
 * Release what cairo and fontconfig keep for the process's life (font
 * caches). For a program about to exit, so that leak checkers see none;
 * never while another thread may draw.
 */
void poster_pdf_cleanup(void);

#endif
