#include "machine/vga_png.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Appends a chunk: length, type, data, CRC over type and data. */
static uint8_t *put_chunk(uint8_t *p, const char type[4], const uint8_t *data, uint32_t len)
{
	put_be32(p, len);
	memcpy(p + 4, type, 4);
	if (len)
		memcpy(p + 8, data, len);
	uLong crc = crc32(0L, Z_NULL, 0);
	crc = crc32(crc, p + 4, 4 + len);
	put_be32(p + 8 + len, (uint32_t)crc);
	return p + 12 + len;
}

int vga_png_encode(const uint32_t *px, unsigned w, unsigned h, size_t stride,
                   uint8_t **out, size_t *out_len)
{
	static const uint8_t signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

	if (w == 0 || h == 0 || w > 16384 || h > 16384 || stride < w)
		return -1;
	size_t row = 1 + (size_t)w * 3;
	size_t raw_len = row * h;
	uint8_t *raw = malloc(raw_len);
	uLongf zlen = compressBound((uLong)raw_len);
	uint8_t *z = malloc(zlen);
	uint8_t *png = malloc(8 + 25 + 12 + zlen + 12);
	if (!raw || !z || !png) {
		free(raw);
		free(z);
		free(png);
		return -1;
	}
	for (unsigned y = 0; y < h; y++) {
		uint8_t *r = raw + y * row;
		const uint32_t *s = px + (size_t)y * stride;
		r[0] = 1;   /* Sub: each byte minus the same channel of the pixel on its left */
		for (unsigned x = 0; x < w; x++) {
			uint32_t c = s[x], left = x ? s[x - 1] : 0;
			r[1 + x * 3 + 0] = (uint8_t)((c >> 16) - (left >> 16));
			r[1 + x * 3 + 1] = (uint8_t)((c >> 8) - (left >> 8));
			r[1 + x * 3 + 2] = (uint8_t)(c - left);
		}
	}
	if (compress2(z, &zlen, raw, (uLong)raw_len, 6) != Z_OK) {
		free(raw);
		free(z);
		free(png);
		return -1;
	}
	uint8_t ihdr[13];
	put_be32(ihdr, w);
	put_be32(ihdr + 4, h);
	ihdr[8] = 8;        /* bit depth */
	ihdr[9] = 2;        /* truecolour */
	ihdr[10] = ihdr[11] = ihdr[12] = 0;
	uint8_t *p = png;
	memcpy(p, signature, 8);
	p = put_chunk(p + 8, "IHDR", ihdr, sizeof(ihdr));
	p = put_chunk(p, "IDAT", z, (uint32_t)zlen);
	p = put_chunk(p, "IEND", NULL, 0);
	free(raw);
	free(z);
	*out = png;
	*out_len = (size_t)(p - png);
	return 0;
}

int vga_png_write(const char *path, const uint32_t *px, unsigned w, unsigned h, size_t stride)
{
	uint8_t *png;
	size_t len, done = 0;
	char tmp[4096];

	if (vga_png_encode(px, w, h, stride, &png, &len) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
		free(png);
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		free(png);
		return -1;
	}
	while (done < len) {
		ssize_t n = write(fd, png + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	free(png);
	int saved = errno;
	if (done < len || close(fd) != 0) {
		if (done < len)
			close(fd);
		unlink(tmp);
		errno = done < len ? saved : errno;
		return -1;
	}
	if (rename(tmp, path) != 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return 0;
}
