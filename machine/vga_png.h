/*
 * A small PNG writer for screenshots of the VGA picture: 8-bit RGB
 * (colour type 2), no interlace, one IDAT holding a zlib stream of the
 * filtered rows (filter "Sub" on every row, which suits screen content).
 */
#ifndef MACHINE_VGA_PNG_H
#define MACHINE_VGA_PNG_H

#include <stddef.h>
#include <stdint.h>

/* Encodes w x h XRGB pixels (`stride` pixels per row) into a malloc'ed
 * buffer. Returns 0, or -1 on a bad size or no memory. */
int vga_png_encode(const uint32_t *px, unsigned w, unsigned h, size_t stride,
                   uint8_t **out, size_t *out_len);
/* Encodes and writes to `path` atomically (a temporary file renamed);
 * -1 with errno set on failure. */
int vga_png_write(const char *path, const uint32_t *px, unsigned w, unsigned h, size_t stride);

#endif
