/* imgops.c - grey-image operations for the decoding cascade (see imgops.h). */
#include "imgops.h"

#include <math.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

/* Source position (in 1/256 pixel, pixel centres aligned) of each of n
 * output positions when scaling m pixels by num/den: whole pixel in i0,
 * its neighbour in i1 (itself when there is none), fraction in f. */
static void scale_axis(int n, int m, int num, int den, int *i0, int *i1, int *f)
{
	for (int x = 0; x < n; x++) {
		long sx = ((2L * x + 1) * den * 256 / num - 256) / 2;

		if (sx < 0)
			sx = 0;
		i0[x] = (int)(sx >> 8);
		f[x] = (int)(sx & 255);
		if (i0[x] >= m - 1) {
			i0[x] = m - 1;
			f[x] = 0;
		}
		i1[x] = f[x] ? i0[x] + 1 : i0[x];
	}
}

int imgop_scale(const struct image *src, struct image *dst, int num, int den)
{
	int w = (int)((long)src->w * num / den), h = (int)((long)src->h * num / den);
	int *tab, *x0, *x1, *fx, *y0, *y1, *fy;

	if (w < 1 || h < 1)
		return -1;
	/* the divisions once per row and column, not per pixel */
	tab = malloc(sizeof(*tab) * 3 * ((size_t)w + h));
	if (!tab)
		return -1;
	if (image_alloc(dst, w, h) < 0) {
		free(tab);
		return -1;
	}
	x0 = tab;
	x1 = x0 + w;
	fx = x1 + w;
	y0 = fx + w;
	y1 = y0 + h;
	fy = y1 + h;
	scale_axis(w, src->w, num, den, x0, x1, fx);
	scale_axis(h, src->h, num, den, y0, y1, fy);
	for (int y = 0; y < h; y++) {
		const unsigned char *r0 = src->px + (size_t)y0[y] * src->w;
		const unsigned char *r1 = src->px + (size_t)y1[y] * src->w;
		unsigned char *out = dst->px + (size_t)y * w;
		int gy = fy[y];

		for (int x = 0; x < w; x++) {
			int top = r0[x0[x]] * (256 - fx[x]) + r0[x1[x]] * fx[x];
			int bot = r1[x0[x]] * (256 - fx[x]) + r1[x1[x]] * fx[x];

			out[x] = (unsigned char)((top * (256 - gy) + bot * gy + 32768) >> 16);
		}
	}
	free(tab);
	return 0;
}

static void histogram(const struct image *img, unsigned long hist[256])
{
	size_t n = (size_t)img->w * img->h;

	memset(hist, 0, 256 * sizeof(hist[0]));
	for (size_t i = 0; i < n; i++)
		hist[img->px[i]]++;
}

int imgop_stretch(const struct image *src, struct image *dst)
{
	unsigned long hist[256], acc = 0;
	size_t n = (size_t)src->w * src->h;
	int lo = 0, hi = 255;
	unsigned char map[256];

	if (image_alloc(dst, src->w, src->h) < 0)
		return -1;
	histogram(src, hist);
	for (lo = 0; lo < 255; lo++) {
		acc += hist[lo];
		if (acc > n / 100)
			break;
	}
	acc = 0;
	for (hi = 255; hi > 0; hi--) {
		acc += hist[hi];
		if (acc > n / 100)
			break;
	}
	if (hi <= lo) {
		memcpy(dst->px, src->px, n);
		return 0;
	}
	for (int v = 0; v < 256; v++) {
		int m = (v - lo) * 255 / (hi - lo);

		map[v] = (unsigned char)(m < 0 ? 0 : m > 255 ? 255 : m);
	}
	for (size_t i = 0; i < n; i++)
		dst->px[i] = map[src->px[i]];
	return 0;
}

int imgop_adaptive(const struct image *src, struct image *dst, int r,
		   int offset)
{
	int w = src->w, h = src->h;
	uint32_t *sum;

	if (image_alloc(dst, w, h) < 0)
		return -1;
	/* integral image, (w+1) x (h+1); 32 bits hold 255 * 16 Mpx */
	sum = calloc((size_t)(w + 1) * (h + 1), sizeof(*sum));
	if (!sum) {
		image_release(dst);
		return -1;
	}
	for (int y = 0; y < h; y++) {
		uint32_t row = 0;

		for (int x = 0; x < w; x++) {
			row += src->px[(size_t)y * w + x];
			sum[(size_t)(y + 1) * (w + 1) + x + 1] =
				sum[(size_t)y * (w + 1) + x + 1] + row;
		}
	}
	for (int y = 0; y < h; y++) {
		int y0 = y - r < 0 ? 0 : y - r, y1 = y + r + 1 > h ? h : y + r + 1;

		for (int x = 0; x < w; x++) {
			int x0 = x - r < 0 ? 0 : x - r;
			int x1 = x + r + 1 > w ? w : x + r + 1;
			uint32_t s = sum[(size_t)y1 * (w + 1) + x1] -
				     sum[(size_t)y0 * (w + 1) + x1] -
				     sum[(size_t)y1 * (w + 1) + x0] +
				     sum[(size_t)y0 * (w + 1) + x0];
			long area = (long)(x1 - x0) * (y1 - y0);
			long v = (long)src->px[(size_t)y * w + x] * area;

			dst->px[(size_t)y * w + x] =
				v < ((long)s - (long)offset * area) ? 0 : 255;
		}
	}
	free(sum);
	return 0;
}

int imgop_otsu(const struct image *src, struct image *dst)
{
	unsigned long hist[256];
	size_t n = (size_t)src->w * src->h;
	double total = 0, sum_b = 0, best = -1;
	unsigned long w_b = 0;
	int t = 128;

	if (image_alloc(dst, src->w, src->h) < 0)
		return -1;
	histogram(src, hist);
	for (int v = 0; v < 256; v++)
		total += (double)v * hist[v];
	for (int v = 0; v < 256; v++) {
		unsigned long w_f;
		double m_b, m_f, between;

		w_b += hist[v];
		if (w_b == 0)
			continue;
		w_f = n - w_b;
		if (w_f == 0)
			break;
		sum_b += (double)v * hist[v];
		m_b = sum_b / w_b;
		m_f = (total - sum_b) / w_f;
		between = (double)w_b * w_f * (m_b - m_f) * (m_b - m_f);
		if (between > best) {
			best = between;
			t = v;
		}
	}
	for (size_t i = 0; i < n; i++)
		dst->px[i] = src->px[i] <= t ? 0 : 255;
	return 0;
}

int imgop_invert(const struct image *src, struct image *dst)
{
	size_t n = (size_t)src->w * src->h;

	if (image_alloc(dst, src->w, src->h) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		dst->px[i] = (unsigned char)(255 - src->px[i]);
	return 0;
}

/* The mean of the pixels of the 3x3 window at (x, y) inside the image. */
static unsigned char box_mean(const struct image *src, int x, int y)
{
	int s = 0, c = 0;

	for (int yy = y - 1; yy <= y + 1; yy++)
		for (int xx = x - 1; xx <= x + 1; xx++)
			if (yy >= 0 && yy < src->h && xx >= 0 && xx < src->w) {
				s += src->px[(size_t)yy * src->w + xx];
				c++;
			}
	return (unsigned char)((s + c / 2) / c);
}

int imgop_blur(const struct image *src, struct image *dst)
{
	int w = src->w, h = src->h;

	if (image_alloc(dst, w, h) < 0)
		return -1;
	for (int y = 0; y < h; y++) {
		unsigned char *out = dst->px + (size_t)y * w;
		int x;

		if (y == 0 || y == h - 1) {
			for (x = 0; x < w; x++)
				out[x] = box_mean(src, x, y);
			continue;
		}
		{
			/* inside: all nine pixels, no bounds to test */
			const unsigned char *u = src->px + (size_t)(y - 1) * w, *m = u + w, *d = m + w;

			for (x = 1; x < w - 1; x++)
				out[x] = (unsigned char)((u[x - 1] + u[x] + u[x + 1] + m[x - 1] + m[x] +
							  m[x + 1] + d[x - 1] + d[x] + d[x + 1] + 4) / 9);
		}
		out[0] = box_mean(src, 0, y);
		if (w > 1)
			out[w - 1] = box_mean(src, w - 1, y);
	}
	return 0;
}

int imgop_sharpen(const struct image *src, struct image *dst, int amount)
{
	int w = src->w, h = src->h;
	uint16_t *tmp;		/* the row pass, at most 16 x 255 */

	if (image_alloc(dst, w, h) < 0)
		return -1;
	tmp = malloc(sizeof(*tmp) * (size_t)w * h);
	if (!tmp) {
		image_release(dst);
		return -1;
	}
	/* separable 1 4 6 4 1 blur: rows into tmp, then columns; edges repeat */
	for (int y = 0; y < h; y++) {
		const unsigned char *row = src->px + (size_t)y * w;
		uint16_t *t = tmp + (size_t)y * w;
		int x;

		for (x = 2; x < w - 2; x++)
			t[x] = (uint16_t)(row[x - 2] + 4 * row[x - 1] + 6 * row[x] +
					  4 * row[x + 1] + row[x + 2]);
		for (x = 0; x < w; x = x == 1 && w > 4 ? w - 2 : x + 1) {
			int a = 0;

			for (int i = -2; i <= 2; i++) {
				int xx = x + i < 0 ? 0 : x + i >= w ? w - 1 : x + i;

				a += (i == 0 ? 6 : i == -2 || i == 2 ? 1 : 4) * row[xx];
			}
			t[x] = (uint16_t)a;
		}
	}
	for (int y = 0; y < h; y++) {
		const uint16_t *t[5];
		const unsigned char *p = src->px + (size_t)y * w;
		unsigned char *out = dst->px + (size_t)y * w;

		for (int i = -2; i <= 2; i++) {
			int yy = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i;

			t[i + 2] = tmp + (size_t)yy * w;
		}
		for (int x = 0; x < w; x++) {
			int a = t[0][x] + 4 * t[1][x] + 6 * t[2][x] + 4 * t[3][x] + t[4][x];
			int v = p[x] + amount * (p[x] - (a + 128) / 256);

			out[x] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
		}
	}
	free(tmp);
	return 0;
}

int imgop_photo(const struct image *src, struct image *dst, double tilt_deg,
		unsigned seed)
{
	int margin = src->w / 4, w = src->w + 2 * margin, h = src->h + 2 * margin;
	double a = tilt_deg * 3.14159265358979 / 180, ca = cos(a), sa = sin(a);
	double cx = w / 2.0, cy = h / 2.0;
	struct image tilted, soft;

	if (image_alloc(&tilted, w, h) < 0)
		return -1;
	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++) {
			/* where this pixel of the photo comes from in the code */
			double sx = ca * (x - cx) + sa * (y - cy) + cx - margin;
			double sy = -sa * (x - cx) + ca * (y - cy) + cy - margin;
			int ix = (int)floor(sx), iy = (int)floor(sy);
			double fx = sx - ix, fy = sy - iy, v = 0;

			for (int k = 0; k < 4; k++) {
				int px = ix + (k & 1), py = iy + (k >> 1);
				double wgt = ((k & 1) ? fx : 1 - fx) * ((k >> 1) ? fy : 1 - fy);
				int g = px >= 0 && py >= 0 && px < src->w && py < src->h ?
					src->px[(size_t)py * src->w + px] : 235;	/* paper */

				v += wgt * g;
			}
			/* light from the top left: the far corner gets 45% less */
			v *= 1.0 - 0.45 * ((double)x / w + (double)y / h) / 2;
			seed = seed * 1103515245u + 12345u;
			v += (double)((seed >> 16) % 25) - 12;	/* sensor noise */
			tilted.px[(size_t)y * w + x] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
		}
	}
	if (imgop_blur(&tilted, &soft) < 0) {
		image_release(&tilted);
		return -1;
	}
	image_release(&tilted);
	*dst = soft;
	return 0;
}
