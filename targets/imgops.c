/* imgops.c - grey-image operations for the decoding cascade (see imgops.h). */
#include "imgops.h"

#include <math.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/banned.h"

int imgop_scale(const struct image *src, struct image *dst, int num, int den)
{
	int w = (int)((long)src->w * num / den), h = (int)((long)src->h * num / den);

	if (w < 1 || h < 1 || image_alloc(dst, w, h) < 0)
		return -1;
	for (int y = 0; y < h; y++) {
		/* source position in 1/256 pixel, pixel centres aligned */
		long sy = ((2L * y + 1) * den * 256 / num - 256) / 2;
		int y0, fy;

		if (sy < 0)
			sy = 0;
		y0 = (int)(sy >> 8);
		fy = (int)(sy & 255);
		if (y0 >= src->h - 1) {
			y0 = src->h - 1;
			fy = 0;
		}
		const unsigned char *r0 = src->px + (size_t)y0 * src->w;
		const unsigned char *r1 = fy ? r0 + src->w : r0;
		unsigned char *out = dst->px + (size_t)y * w;

		for (int x = 0; x < w; x++) {
			long sx = ((2L * x + 1) * den * 256 / num - 256) / 2;
			int x0, fx, x1;

			if (sx < 0)
				sx = 0;
			x0 = (int)(sx >> 8);
			fx = (int)(sx & 255);
			if (x0 >= src->w - 1) {
				x0 = src->w - 1;
				fx = 0;
			}
			x1 = fx ? x0 + 1 : x0;
			int top = r0[x0] * (256 - fx) + r0[x1] * fx;
			int bot = r1[x0] * (256 - fx) + r1[x1] * fx;

			out[x] = (unsigned char)((top * (256 - fy) + bot * fy +
						  32768) >> 16);
		}
	}
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

int imgop_blur(const struct image *src, struct image *dst)
{
	int w = src->w, h = src->h;

	if (image_alloc(dst, w, h) < 0)
		return -1;
	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++) {
			int s = 0, c = 0;

			for (int dy = -1; dy <= 1; dy++) {
				int yy = y + dy;

				if (yy < 0 || yy >= h)
					continue;
				for (int dx = -1; dx <= 1; dx++) {
					int xx = x + dx;

					if (xx < 0 || xx >= w)
						continue;
					s += src->px[(size_t)yy * w + xx];
					c++;
				}
			}
			dst->px[(size_t)y * w + x] = (unsigned char)((s + c / 2) / c);
		}
	}
	return 0;
}

int imgop_sharpen(const struct image *src, struct image *dst, int amount)
{
	static const int k[5] = { 1, 4, 6, 4, 1 };
	int w = src->w, h = src->h;
	int *tmp;

	if (image_alloc(dst, w, h) < 0)
		return -1;
	tmp = malloc(sizeof(*tmp) * (size_t)w * h);
	if (!tmp) {
		image_release(dst);
		return -1;
	}
	/* separable blur: rows into tmp, then columns */
	for (int y = 0; y < h; y++) {
		const unsigned char *row = src->px + (size_t)y * w;

		for (int x = 0; x < w; x++) {
			int a = 0;

			for (int i = -2; i <= 2; i++) {
				int xx = x + i < 0 ? 0 : x + i >= w ? w - 1 : x + i;

				a += k[i + 2] * row[xx];
			}
			tmp[(size_t)y * w + x] = a;
		}
	}
	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++) {
			int a = 0, v, p = src->px[(size_t)y * w + x];

			for (int i = -2; i <= 2; i++) {
				int yy = y + i < 0 ? 0 : y + i >= h ? h - 1 : y + i;

				a += k[i + 2] * tmp[(size_t)yy * w + x];
			}
			v = p + amount * (p - (a + 128) / 256);
			dst->px[(size_t)y * w + x] =
				(unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
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
