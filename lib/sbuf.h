/*
 * A growable byte buffer for saving and loading state (snapshots, and later
 * migration). Values are little-endian and fixed-width. Reads past the end
 * or of the wrong section set an error flag instead of crashing, so a
 * corrupt snapshot is refused with a message rather than trusted.
 *
 * Every saveable part writes one section:
 *	sbuf_begin(sb, "i8259", 1); ...puts...; sbuf_end(sb, mark);
 * and reads it back with sbuf_open(sb, "i8259", &version) ... sbuf_close().
 * Sections do not nest.
 */
#ifndef LIB_SBUF_H
#define LIB_SBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf {
	uint8_t *data;
	size_t len;        /* bytes written */
	size_t cap;
	size_t pos;        /* read cursor */
	size_t section_end; /* end of the section being read, or len */
	bool error;        /* sticky: any failed get or allocation */
	char why[128];     /* first error, for the user */
};

void sbuf_init(struct sbuf *sb);
/* Wraps existing bytes for reading; the buffer does not own them. */
void sbuf_init_read(struct sbuf *sb, const void *data, size_t len);
void sbuf_free(struct sbuf *sb);
void sbuf_fail(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void sbuf_put_u8(struct sbuf *sb, uint8_t v);
void sbuf_put_u16(struct sbuf *sb, uint16_t v);
void sbuf_put_u32(struct sbuf *sb, uint32_t v);
void sbuf_put_u64(struct sbuf *sb, uint64_t v);
void sbuf_put_bool(struct sbuf *sb, bool v);
void sbuf_put_bytes(struct sbuf *sb, const void *p, size_t n);

uint8_t sbuf_get_u8(struct sbuf *sb);
uint16_t sbuf_get_u16(struct sbuf *sb);
uint32_t sbuf_get_u32(struct sbuf *sb);
uint64_t sbuf_get_u64(struct sbuf *sb);
bool sbuf_get_bool(struct sbuf *sb);
void sbuf_get_bytes(struct sbuf *sb, void *p, size_t n);

/* Section framing: a name, a version and a length, so loaders can check. */
size_t sbuf_begin(struct sbuf *sb, const char *name, uint32_t version);
void sbuf_end(struct sbuf *sb, size_t mark);
/* Returns false (and sets the error) unless the next section is NAME. */
bool sbuf_open(struct sbuf *sb, const char *name, uint32_t *version);
/* Fails if the section was not read to its end (a format mismatch). */
bool sbuf_close(struct sbuf *sb);

#endif
