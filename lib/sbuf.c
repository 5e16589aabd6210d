#include "lib/sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sbuf_init(struct sbuf *sb)
{
	memset(sb, 0, sizeof(*sb));
}

void sbuf_init_read(struct sbuf *sb, const void *data, size_t len)
{
	memset(sb, 0, sizeof(*sb));
	/* Never written through: readers only advance pos. */
	sb->data = (uint8_t *)(uintptr_t)data;
	sb->len = len;
	sb->cap = 0;
	sb->section_end = len;
}

void sbuf_free(struct sbuf *sb)
{
	if (sb->cap)
		free(sb->data);
	memset(sb, 0, sizeof(*sb));
}

void sbuf_fail(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;

	if (sb->error)
		return;
	sb->error = true;
	va_start(ap, fmt);
	vsnprintf(sb->why, sizeof(sb->why), fmt, ap);
	va_end(ap);
}

static uint8_t *reserve(struct sbuf *sb, size_t n)
{
	if (sb->error)
		return NULL;
	if (sb->len + n > sb->cap) {
		size_t cap = sb->cap ? sb->cap : 4096;
		uint8_t *p;

		while (cap < sb->len + n)
			cap *= 2;
		p = realloc(sb->cap ? sb->data : NULL, cap);
		if (!p) {
			sbuf_fail(sb, "out of memory saving state");
			return NULL;
		}
		if (!sb->cap && sb->len)
			memcpy(p, sb->data, sb->len);
		sb->data = p;
		sb->cap = cap;
	}
	sb->len += n;
	return sb->data + sb->len - n;
}

void sbuf_put_bytes(struct sbuf *sb, const void *p, size_t n)
{
	uint8_t *d = reserve(sb, n);

	if (d && n)
		memcpy(d, p, n);
}

static void put_le(struct sbuf *sb, uint64_t v, unsigned n)
{
	uint8_t *d = reserve(sb, n);

	for (unsigned i = 0; d && i < n; i++)
		d[i] = (uint8_t)(v >> (8 * i));
}

void sbuf_put_u8(struct sbuf *sb, uint8_t v) { put_le(sb, v, 1); }
void sbuf_put_u16(struct sbuf *sb, uint16_t v) { put_le(sb, v, 2); }
void sbuf_put_u32(struct sbuf *sb, uint32_t v) { put_le(sb, v, 4); }
void sbuf_put_u64(struct sbuf *sb, uint64_t v) { put_le(sb, v, 8); }
void sbuf_put_bool(struct sbuf *sb, bool v) { put_le(sb, v ? 1 : 0, 1); }

void sbuf_get_bytes(struct sbuf *sb, void *p, size_t n)
{
	if (sb->error || n > sb->section_end - sb->pos) {
		sbuf_fail(sb, "state ends early at offset %zu", sb->pos);
		memset(p, 0, n);
		return;
	}
	memcpy(p, sb->data + sb->pos, n);
	sb->pos += n;
}

static uint64_t get_le(struct sbuf *sb, unsigned n)
{
	uint8_t b[8];
	uint64_t v = 0;

	sbuf_get_bytes(sb, b, n);
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

uint8_t sbuf_get_u8(struct sbuf *sb) { return (uint8_t)get_le(sb, 1); }
uint16_t sbuf_get_u16(struct sbuf *sb) { return (uint16_t)get_le(sb, 2); }
uint32_t sbuf_get_u32(struct sbuf *sb) { return (uint32_t)get_le(sb, 4); }
uint64_t sbuf_get_u64(struct sbuf *sb) { return get_le(sb, 8); }

bool sbuf_get_bool(struct sbuf *sb)
{
	uint8_t v = sbuf_get_u8(sb);

	if (v > 1)
		sbuf_fail(sb, "bad boolean %u at offset %zu", v, sb->pos - 1);
	return v == 1;
}

/* Section header: u8 name length, name, u32 version, u32 body length. */
size_t sbuf_begin(struct sbuf *sb, const char *name, uint32_t version)
{
	size_t n = strlen(name);

	if (n > 255)
		n = 255;
	sbuf_put_u8(sb, (uint8_t)n);
	sbuf_put_bytes(sb, name, n);
	sbuf_put_u32(sb, version);
	sbuf_put_u32(sb, 0);
	return sb->len;
}

void sbuf_end(struct sbuf *sb, size_t mark)
{
	uint32_t body;

	if (sb->error || mark < 4 || mark > sb->len)
		return;
	body = (uint32_t)(sb->len - mark);
	for (unsigned i = 0; i < 4; i++)
		sb->data[mark - 4 + i] = (uint8_t)(body >> (8 * i));
}

bool sbuf_open(struct sbuf *sb, const char *name, uint32_t *version)
{
	char got[256];
	uint8_t n;
	uint32_t body;

	sb->section_end = sb->len;
	n = sbuf_get_u8(sb);
	sbuf_get_bytes(sb, got, n);
	got[sb->error ? 0 : n] = '\0';
	*version = sbuf_get_u32(sb);
	body = sbuf_get_u32(sb);
	if (sb->error)
		return false;
	if (strcmp(got, name) != 0) {
		sbuf_fail(sb, "expected state section \"%s\", found \"%s\"", name, got);
		return false;
	}
	if (body > sb->len - sb->pos) {
		sbuf_fail(sb, "state section \"%s\" is truncated", name);
		return false;
	}
	sb->section_end = sb->pos + body;
	return true;
}

bool sbuf_close(struct sbuf *sb)
{
	if (!sb->error && sb->pos != sb->section_end)
		sbuf_fail(sb, "state section has %zu unread bytes", sb->section_end - sb->pos);
	sb->pos = sb->error ? sb->pos : sb->section_end;
	sb->section_end = sb->len;
	return !sb->error;
}
