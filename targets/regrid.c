/* regrid.c - reading a code whose module grid is bent (cloth, curled paper) by resampling it clean. */
#include "regrid.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "imgops.h"
#include "../common/banned.h"

/* A 4-connected run of dark or of light pixels in the thresholded image. */
struct blob {
	int x0, y0, x1, y1;
	long n;
	double sx, sy;		/* centroid */
	int dark;
};

struct finder {
	double x, y;		/* centre, pixels */
	double ms;		/* module size, pixels */
};

/*
 * Module coordinates (u, v), 0..N across the code, to pixels: a
 * homography while nterms is 0, else a polynomial in u and v with
 * nterms terms (6: quadratic, 10: cubic).
 */
struct grid_map {
	int nterms;
	double h[9];
	double ax[10], ay[10];
};

/* One control point: module coordinates, where it lies, its weight. */
struct control {
	double u, v, x, y, w;
};

struct regrid {
	const struct image *grey;	/* the photo, scaled down if large */
	const struct image *bin;	/* thresholded: 0 dark, 255 light */
	int *id;			/* blob of each pixel */
	struct blob *blobs;
	size_t nblobs, cap;
	struct control *ctl;		/* room for every module and the patterns */
	double scale;			/* working image pixels to img's */
	int tries;
	int grids;			/* finder triple and side guesses tried */
	regrid_read_fn read;
	regrid_known_fn known;
	void *arg;
};

/* Label every pixel with its blob (flood fill with an explicit stack). */
static int label(struct regrid *g)
{
	const struct image *b = g->bin;
	size_t n = (size_t)b->w * b->h;
	int *stack = malloc(n * sizeof(*stack));

	g->id = malloc(n * sizeof(*g->id));
	if (!stack || !g->id) {
		free(stack);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		g->id[i] = -1;
	g->nblobs = 0;
	for (size_t i = 0; i < n; i++) {
		struct blob bl;
		int dark = b->px[i] == 0, top = 0;
		int me = (int)g->nblobs;

		if (g->id[i] >= 0)
			continue;
		if (g->nblobs == g->cap) {
			size_t cap = g->cap ? g->cap * 2 : 1024;
			struct blob *nb = realloc(g->blobs, cap * sizeof(*nb));

			if (!nb) {
				free(stack);
				return -1;
			}
			g->blobs = nb;
			g->cap = cap;
		}
		bl.x0 = b->w;
		bl.y0 = b->h;
		bl.x1 = bl.y1 = -1;
		bl.n = 0;
		bl.sx = bl.sy = 0;
		bl.dark = dark;
		stack[top++] = (int)i;
		g->id[i] = me;
		while (top) {
			int p = stack[--top], x = p % b->w, y = p / b->w;
			int nb[4] = { x > 0 ? p - 1 : -1, x < b->w - 1 ? p + 1 : -1,
				      y > 0 ? p - b->w : -1, y < b->h - 1 ? p + b->w : -1 };

			bl.x0 = x < bl.x0 ? x : bl.x0;
			bl.x1 = x > bl.x1 ? x : bl.x1;
			bl.y0 = y < bl.y0 ? y : bl.y0;
			bl.y1 = y > bl.y1 ? y : bl.y1;
			bl.n++;
			bl.sx += x;
			bl.sy += y;
			for (int k = 0; k < 4; k++) {
				int q = nb[k];

				if (q >= 0 && g->id[q] < 0 && (b->px[q] == 0) == dark) {
					g->id[q] = me;
					stack[top++] = q;
				}
			}
		}
		/* centroids at pixel centres */
		bl.sx = bl.sx / (double)bl.n + 0.5;
		bl.sy = bl.sy / (double)bl.n + 0.5;
		g->blobs[g->nblobs++] = bl;
	}
	free(stack);
	return 0;
}

/*
 * Finder patterns: a dark centre (3x3 modules) inside a dark ring (7x7),
 * found as a dark blob whose nearest dark blob to the left encloses it,
 * centred, at about 3/7 of its size. Returns how many were put in f.
 */
static int find_finders(const struct regrid *g, struct finder *f, int max)
{
	const int w = g->bin->w;
	int n = 0;

	for (size_t d = 0; d < g->nblobs && n < max; d++) {
		const struct blob *c = &g->blobs[d], *ring;
		int cw = c->x1 - c->x0 + 1, ch = c->y1 - c->y0 + 1, rw, rh;
		int x = (int)c->sx, y = (int)c->sy;
		double fw, fh;

		if (!c->dark || cw < 2 || ch < 2 || cw > 2 * ch || ch > 2 * cw)
			continue;
		if (g->id[(size_t)y * w + x] != (int)d)
			continue;	/* not a solid square */
		while (x >= 0 && g->id[(size_t)y * w + x] == (int)d)
			x--;
		while (x >= 0 && g->bin->px[(size_t)y * w + x] != 0)
			x--;
		if (x < 0)
			continue;
		ring = &g->blobs[g->id[(size_t)y * w + x]];
		if (ring->x0 >= c->x0 || ring->x1 <= c->x1 ||
		    ring->y0 >= c->y0 || ring->y1 <= c->y1)
			continue;
		rw = ring->x1 - ring->x0 + 1;
		rh = ring->y1 - ring->y0 + 1;
		fw = (double)cw / rw;
		fh = (double)ch / rh;
		if (fw < 0.26 || fw > 0.64 || fh < 0.26 || fh > 0.64)
			continue;
		if (fabs((ring->x0 + ring->x1 + 1) / 2.0 - c->sx) > 0.2 * rw ||
		    fabs((ring->y0 + ring->y1 + 1) / 2.0 - c->sy) > 0.2 * rh)
			continue;
		f[n].x = c->sx;
		f[n].y = c->sy;
		f[n].ms = (rw + rh) / 14.0;
		n++;
	}
	return n;
}

/* Solve the n x n system a | rhs in place (Gauss-Jordan, partial pivot). */
static int solve(double a[10][11], int n)
{
	for (int c = 0; c < n; c++) {
		int p = c;

		for (int r = c + 1; r < n; r++)
			if (fabs(a[r][c]) > fabs(a[p][c]))
				p = r;
		if (fabs(a[p][c]) < 1e-12)
			return -1;
		for (int k = 0; k <= n; k++) {
			double t = a[c][k];

			a[c][k] = a[p][k];
			a[p][k] = t;
		}
		for (int r = 0; r < n; r++) {
			double f;

			if (r == c)
				continue;
			f = a[r][c] / a[c][c];
			for (int k = c; k <= n; k++)
				a[r][k] -= f * a[c][k];
		}
	}
	for (int i = 0; i < n; i++)
		a[i][n] /= a[i][i];
	return 0;
}

/* The homography taking the four module points s to the pixels d. */
static int homography(double s[4][2], double d[4][2], double h[9])
{
	double a[10][11];

	for (int i = 0; i < 4; i++) {
		double x = s[i][0], y = s[i][1], u = d[i][0], v = d[i][1];
		double r1[9] = { x, y, 1, 0, 0, 0, -u * x, -u * y, u };
		double r2[9] = { 0, 0, 0, x, y, 1, -v * x, -v * y, v };

		for (int k = 0; k < 8; k++) {
			a[2 * i][k] = r1[k];
			a[2 * i + 1][k] = r2[k];
		}
		a[2 * i][8] = r1[8];
		a[2 * i + 1][8] = r2[8];
	}
	if (solve(a, 8) < 0)
		return -1;
	for (int i = 0; i < 8; i++)
		h[i] = a[i][8];
	h[8] = 1;
	return 0;
}

static void terms(double u, double v, double t[10])
{
	t[0] = 1;
	t[1] = u;
	t[2] = v;
	t[3] = u * u;
	t[4] = u * v;
	t[5] = v * v;
	t[6] = u * u * u;
	t[7] = u * u * v;
	t[8] = u * v * v;
	t[9] = v * v * v;
}

static void map_point(const struct grid_map *m, double u, double v, double *x, double *y)
{
	double t[10];

	if (!m->nterms) {
		double z = m->h[6] * u + m->h[7] * v + m->h[8];

		*x = (m->h[0] * u + m->h[1] * v + m->h[2]) / z;
		*y = (m->h[3] * u + m->h[4] * v + m->h[5]) / z;
		return;
	}
	terms(u, v, t);
	*x = *y = 0;
	for (int i = 0; i < m->nterms; i++) {
		*x += m->ax[i] * t[i];
		*y += m->ay[i] * t[i];
	}
}

/* Weighted least squares of a polynomial map through the controls. */
static int fit(struct grid_map *m, int nterms, const struct control *c, int n)
{
	double a[10][11], b[10][11];

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	for (int k = 0; k < n; k++) {
		double t[10];

		terms(c[k].u, c[k].v, t);
		for (int i = 0; i < nterms; i++) {
			for (int j = 0; j < nterms; j++) {
				a[i][j] += c[k].w * t[i] * t[j];
				b[i][j] += c[k].w * t[i] * t[j];
			}
			a[i][nterms] += c[k].w * t[i] * c[k].x;
			b[i][nterms] += c[k].w * t[i] * c[k].y;
		}
	}
	if (solve(a, nterms) < 0 || solve(b, nterms) < 0)
		return -1;
	m->nterms = nterms;
	for (int i = 0; i < nterms; i++) {
		m->ax[i] = a[i][nterms];
		m->ay[i] = b[i][nterms];
	}
	return 0;
}

static int dark_at(const struct image *b, double x, double y)
{
	int xi, yi;

	if (!(x >= 0 && y >= 0 && x < b->w && y < b->h))
		return 0;	/* outside, or not a number */
	xi = (int)x;
	yi = (int)y;
	return b->px[(size_t)yi * b->w + xi] == 0;
}

/*
 * The alignment pattern (5x5 modules: dark ring, light ring, dark centre)
 * nearest the best match around (px, py), within 3.5 modules; e and f are
 * one module along u and along v. Writes its centre.
 */
static void find_alignment(const struct image *b, double px, double py,
			   const double e[2], const double f[2], double *ox, double *oy)
{
	double best = -1;

	*ox = px;
	*oy = py;
	for (double dv = -3.5; dv <= 3.5; dv += 0.25)
		for (double du = -3.5; du <= 3.5; du += 0.25) {
			double cx = px + du * e[0] + dv * f[0];
			double cy = py + du * e[1] + dv * f[1], score = 0;

			for (int j = -2; j <= 2; j++)
				for (int i = -2; i <= 2; i++) {
					int want = abs(i) == 2 || abs(j) == 2 || (!i && !j);

					score += dark_at(b, cx + i * e[0] + j * f[0],
							 cy + i * e[1] + j * f[1]) == want;
				}
			/* of equal matches, the one nearest the prediction */
			score -= 0.05 * (du * du + dv * dv);
			if (score > best) {
				best = score;
				*ox = cx;
				*oy = cy;
			}
		}
}

/* The mean grey of the 3x3 pixels at (x, y), 255 outside the image. */
static int grey_at(const struct image *img, double x, double y)
{
	int s = 0;

	if (!(x >= 1 && y >= 1 && x < img->w - 1 && y < img->h - 1))
		return 255;	/* outside, or not a number */
	for (int dy = -1; dy <= 1; dy++)
		for (int dx = -1; dx <= 1; dx++)
			s += img->px[(size_t)((int)y + dy) * img->w + (size_t)((int)x + dx)];
	return s / 9;
}

/* Draw the sampled modules flat and hand them to the reader. */
static int hand_over(struct regrid *g, const unsigned char *dark, int n, const double box[4])
{
	const int mod = 4, quiet = 4, side = (n + 2 * quiet) * mod;
	struct image clean = { 0, 0, NULL };
	int rc;

	if (g->tries >= REGRID_MAX_TRIES)
		return 0;
	g->tries++;
	if (image_alloc(&clean, side, side) < 0)
		return -1;
	memset(clean.px, 255, (size_t)side * side);
	for (int j = 0; j < n; j++)
		for (int i = 0; i < n; i++)
			if (dark[j * n + i])
				for (int r = 0; r < mod; r++)
					memset(clean.px + (size_t)((quiet + j) * mod + r) * side +
					       (size_t)(quiet + i) * mod, 0, mod);
	rc = g->read(&clean, (long)(box[0] * g->scale), (long)(box[1] * g->scale),
		     (long)(box[2] * g->scale) + 1, (long)(box[3] * g->scale) + 1, g->arg);
	image_release(&clean);
	return rc;
}

/*
 * Sample each module two ways and hand each sampling over: the majority
 * of the thresholded 3x3 pixels at its centre; and its grey against the
 * mean grey of the 5x5 modules around it, a threshold that follows the
 * modules whatever their size in pixels.
 */
static int try_read(struct regrid *g, const struct grid_map *m, int n)
{
	unsigned char dark[REGRID_MAX_SIDE_MODULES * REGRID_MAX_SIDE_MODULES];
	int grey[REGRID_MAX_SIDE_MODULES * REGRID_MAX_SIDE_MODULES];
	double box[4] = { 1e9, 1e9, -1e9, -1e9 };
	int rc;

	memset(dark, 0, sizeof(dark));
	for (int j = 0; j < n; j++)
		for (int i = 0; i < n; i++) {
			double x, y;
			int d = 0;

			map_point(m, i + 0.5, j + 0.5, &x, &y);
			box[0] = x < box[0] ? x : box[0];
			box[1] = y < box[1] ? y : box[1];
			box[2] = x > box[2] ? x : box[2];
			box[3] = y > box[3] ? y : box[3];
			for (int dy = -1; dy <= 1; dy++)
				for (int dx = -1; dx <= 1; dx++)
					d += dark_at(g->bin, x + dx, y + dy);
			dark[j * n + i] = d >= 5;
			grey[j * n + i] = grey_at(g->grey, x, y);
		}
	rc = hand_over(g, dark, n, box);
	if (rc != 0)
		return rc;
	for (int j = 0; j < n; j++)
		for (int i = 0; i < n; i++) {
			int s = 0, c = 0;

			for (int v = j - 2; v <= j + 2; v++)
				for (int u = i - 2; u <= i + 2; u++)
					if (u >= 0 && v >= 0 && u < n && v < n) {
						s += grey[v * n + u];
						c++;
					}
			dark[j * n + i] = grey[j * n + i] * c < s;
		}
	return hand_over(g, dark, n, box);
}

/*
 * Refit m through the finder centres, the alignment centre (when n has
 * one) and every compact dark blob lying within tol modules of a module
 * centre m predicts: on a bent code those are the modules that show
 * where the grid really runs.
 */
static int refine(struct regrid *g, struct grid_map *m, int n, double ms,
		  const struct finder three[3], const double align[2],
		  int nterms, double tol)
{
	const int w = g->bin->w;
	struct control *c = g->ctl;
	struct grid_map next;
	int k = 0;

	for (int i = 0; i < 3; i++) {
		c[k].u = i == 1 ? n - 3.5 : 3.5;
		c[k].v = i == 2 ? n - 3.5 : 3.5;
		c[k].x = three[i].x;
		c[k].y = three[i].y;
		c[k++].w = 20;
	}
	if (align) {
		c[k].u = c[k].v = n - 6.5;
		c[k].x = align[0];
		c[k].y = align[1];
		c[k++].w = 10;
	}
	for (int j = 0; j < n; j++)
		for (int i = 0; i < n; i++) {
			const struct blob *b;
			double x, y;
			int bw, bh;

			map_point(m, i + 0.5, j + 0.5, &x, &y);
			if (!(x >= 0 && y >= 0 && x < g->bin->w && y < g->bin->h))
				continue;	/* outside, or not a number */
			b = &g->blobs[g->id[(size_t)y * w + (size_t)x]];
			bw = b->x1 - b->x0 + 1;
			bh = b->y1 - b->y0 + 1;
			if (!b->dark || bw > 1.7 * ms || bh > 1.7 * ms ||
			    b->n < 0.35 * ms * ms || b->n > 2.2 * ms * ms ||
			    hypot(b->sx - x, b->sy - y) > tol * ms)
				continue;
			c[k].u = i + 0.5;
			c[k].v = j + 0.5;
			c[k].x = b->sx;
			c[k].y = b->sy;
			c[k++].w = 1;
		}
	if (k < nterms + 6)
		return 0;	/* too few modules to fit so many terms */
	next = *m;
	if (fit(&next, nterms, c, k) < 0)
		return 0;
	*m = next;
	return 1;
}

/*
 * One finder triple (top left, top right, bottom left) and a guess n of
 * the code's side: the perspective through the finders and the
 * alignment pattern first, then fits that follow the modules.
 */
static int try_grid(struct regrid *g, const struct finder three[3], int n, double ms)
{
	static const struct {
		int nterms;
		double tol;
	} passes[] = { { 6, 0.30 }, { 6, 0.35 }, { 10, 0.40 }, { 10, 0.45 }, { 10, 0.45 } };
	const struct finder *tl = &three[0], *tr = &three[1], *bl = &three[2];
	double e[2] = { (tr->x - tl->x) / (n - 7.0), (tr->y - tl->y) / (n - 7.0) };
	double f[2] = { (bl->x - tl->x) / (n - 7.0), (bl->y - tl->y) / (n - 7.0) };
	double s[4][2] = { { 3.5, 3.5 }, { n - 3.5, 3.5 }, { 3.5, n - 3.5 }, { 0, 0 } };
	double d[4][2] = { { tl->x, tl->y }, { tr->x, tr->y }, { bl->x, bl->y }, { 0, 0 } };
	double align[2];
	struct grid_map m;
	int rc;

	memset(&m, 0, sizeof(m));
	if (n == 21) {
		/* version 1 has no alignment pattern: the fourth finder corner */
		s[3][0] = s[3][1] = n - 3.5;
		d[3][0] = tr->x + bl->x - tl->x;
		d[3][1] = tr->y + bl->y - tl->y;
	} else {
		s[3][0] = s[3][1] = n - 6.5;
		find_alignment(g->bin, tl->x + (n - 10) * (e[0] + f[0]),
			       tl->y + (n - 10) * (e[1] + f[1]), e, f, &align[0], &align[1]);
		d[3][0] = align[0];
		d[3][1] = align[1];
	}
	if (homography(s, d, m.h) < 0)
		return 0;
	rc = try_read(g, &m, n);
	for (size_t p = 0; rc == 0 && p < sizeof(passes) / sizeof(passes[0]); p++) {
		if (!refine(g, &m, n, ms, three, n == 21 ? NULL : align,
			    passes[p].nterms, passes[p].tol))
			break;
		rc = try_read(g, &m, n);
	}
	return rc;
}

/* A finder triple that could be one code's, and how well it fits one. */
struct triple {
	int tl, tr, bl;
	double score;		/* 0 for a perfect square corner of alike finders */
};

static int by_score(const void *a, const void *b)
{
	double d = ((const struct triple *)a)->score - ((const struct triple *)b)->score;

	return d < 0 ? -1 : d > 0;
}

/*
 * The triples of f that could be one code's (top right clockwise of
 * bottom left, legs alike, a square corner, finders of one size), best
 * first, at most max. Returns how many.
 */
static int find_triples(const struct finder *f, int nf, struct triple *t, int max)
{
	int n = 0;

	for (int i = 0; i < nf; i++)
		for (int j = 0; j < nf; j++)
			for (int k = 0; k < nf; k++) {
				double ax = f[j].x - f[i].x, ay = f[j].y - f[i].y;
				double bx = f[k].x - f[i].x, by = f[k].y - f[i].y;
				double la = hypot(ax, ay), lb = hypot(bx, by), cosv, lo, hi, score;

				if (i == j || j == k || i == k || la <= 0 || lb <= 0)
					continue;
				cosv = (ax * bx + ay * by) / (la * lb);
				if (ax * by - ay * bx <= 0 || la < lb * 0.7 || la > lb * 1.4 ||
				    fabs(cosv) > 0.35)
					continue;
				lo = fmin(f[i].ms, fmin(f[j].ms, f[k].ms));
				hi = fmax(f[i].ms, fmax(f[j].ms, f[k].ms));
				score = fabs(la / lb - 1) + fabs(cosv) + (hi - lo) / hi;
				if (n == max) {
					/* full: replace the worst kept if this one is better */
					int worst = 0;

					for (int q = 1; q < n; q++)
						if (t[q].score > t[worst].score)
							worst = q;
					if (score >= t[worst].score)
						continue;
					n--;
					t[worst] = t[n];
				}
				t[n].tl = i;
				t[n].tr = j;
				t[n].bl = k;
				t[n++].score = score;
			}
	qsort(t, (size_t)n, sizeof(*t), by_score);
	return n;
}

/*
 * Each triple, best first, that does not lie on a code read already, at
 * every side near the one its spacing gives, until the budget is spent.
 * Returns the codes read, or -1; sets *unread when a triple was tried and
 * did not read.
 */
static int try_finders(struct regrid *g, const struct finder *f, int nf, int *unread)
{
	struct triple t[REGRID_MAX_TRIPLES];
	int nt = find_triples(f, nf, t, REGRID_MAX_TRIPLES), found = 0;

	for (int q = 0; q < nt && g->tries < REGRID_MAX_TRIES &&
	     g->grids < REGRID_MAX_GRIDS; q++) {
		struct finder three[3] = { f[t[q].tl], f[t[q].tr], f[t[q].bl] };
		double la = hypot(three[1].x - three[0].x, three[1].y - three[0].y);
		double lb = hypot(three[2].x - three[0].x, three[2].y - three[0].y);
		double ms = (three[0].ms + three[1].ms + three[2].ms) / 3;
		/* the code's middle: halfway from top right to bottom left */
		double cx = (three[1].x + three[2].x) / 2 * g->scale;
		double cy = (three[1].y + three[2].y) / 2 * g->scale;
		int n0 = (int)lround(((la + lb) / 2 / ms + 7 - 17) / 4) * 4 + 17, rc = 0;

		if (g->known && g->known(cx, cy, g->arg))
			continue;
		for (int n = n0 - 4; rc == 0 && n <= n0 + 4; n += 4)
			if (n >= 21 && n <= REGRID_MAX_SIDE_MODULES) {
				g->grids++;
				rc = try_grid(g, three, n, ms);
			}
		if (rc < 0)
			return -1;
		if (rc > 0)
			found += rc;
		else
			*unread = 1;
	}
	return found;
}

int regrid_scan(const struct image *img, regrid_read_fn read, regrid_known_fn known,
		void *arg)
{
	/*
	 * Local thresholds, as a window of a fraction of the short side and
	 * an offset: the first finds where finder patterns are; the others
	 * threshold the cloth's unevenly shaded folds otherwise, and are
	 * tried only while a triple that is not a code read already has not
	 * read. A photo with no finder-like squares costs one labelling.
	 */
	static const struct {
		int div, offset;
	} thresholds[] = { { 12, 8 }, { 16, 12 }, { 24, 2 } };
	struct regrid g;
	struct image small = { 0, 0, NULL };
	const struct image *work = img;
	int side = img->w > img->h ? img->w : img->h, rc = 0, found = 0, unread = 1;
	int lo = img->w < img->h ? img->w : img->h, wlo;

	/* a code is 21 modules a side: nothing narrower can hold one */
	if ((long)lo * (side > REGRID_MAX_SIDE ? REGRID_MAX_SIDE : side) / side < 21)
		return 0;
	memset(&g, 0, sizeof(g));
	g.read = read;
	g.known = known;
	g.arg = arg;
	g.scale = 1;
	if (side > REGRID_MAX_SIDE) {
		if (imgop_scale(img, &small, REGRID_MAX_SIDE, side) < 0)
			return -1;
		work = &small;
		g.scale = (double)img->w / small.w;
	}
	g.grey = work;
	wlo = work->w < work->h ? work->w : work->h;
	g.ctl = malloc((REGRID_MAX_SIDE_MODULES * REGRID_MAX_SIDE_MODULES + 4) * sizeof(*g.ctl));
	if (!g.ctl)
		rc = -1;
	for (size_t t = 0; rc >= 0 && unread && t < sizeof(thresholds) / sizeof(thresholds[0]); t++) {
		struct image bin = { 0, 0, NULL };
		struct finder f[REGRID_MAX_FINDERS];
		int radius = wlo / thresholds[t].div, nf;

		unread = 0;
		rc = 0;		/* this threshold's codes, counted once */
		if (imgop_adaptive(work, &bin, radius < 4 ? 4 : radius, thresholds[t].offset) < 0) {
			rc = -1;
			break;
		}
		g.bin = &bin;
		if (label(&g) < 0)
			rc = -1;
		else if ((nf = find_finders(&g, f, REGRID_MAX_FINDERS)) >= 3)
			rc = try_finders(&g, f, nf, &unread);
		if (rc > 0)
			found += rc;
		free(g.id);
		g.id = NULL;
		image_release(&bin);
	}
	free(g.blobs);
	free(g.ctl);
	image_release(&small);
	return rc < 0 ? -1 : found;
}
