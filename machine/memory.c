#include "machine/memory.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/sbuf.h"

#define ISA_SIZE (MEM_ISA_END - MEM_ISA_BASE)
#define SEG_SIZE (ISA_SIZE / MEM_ISA_SEGMENTS)

int memory_init(struct memory *m, uint64_t ram_size, char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	if (ram_size < MEM_MIN_RAM || ram_size > MEM_MAX_RAM) {
		snprintf(err, errlen, "memory size %llu MiB is out of range (2 MiB to %llu MiB)",
		         (unsigned long long)(ram_size >> 20), (unsigned long long)(MEM_MAX_RAM >> 20));
		return -1;
	}
	if (ram_size % MEM_PAGE_SIZE) {
		snprintf(err, errlen, "memory size %llu is not a multiple of 4 KiB",
		         (unsigned long long)ram_size);
		return -1;
	}
	/* NORESERVE: the host commits a page only when the guest touches it. */
	m->ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE,
	              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->ram == MAP_FAILED) {
		m->ram = NULL;
		snprintf(err, errlen, "cannot map %llu MiB of guest RAM: %s",
		         (unsigned long long)(ram_size >> 20), strerror(errno));
		return -1;
	}
	m->ram_size = ram_size;
	m->isa_rom = malloc(ISA_SIZE);
	if (!m->isa_rom) {
		snprintf(err, errlen, "out of memory for the ROM window");
		memory_destroy(m);
		return -1;
	}
	/* An empty ROM socket reads as all ones. */
	memset(m->isa_rom, 0xff, ISA_SIZE);
	memory_reset(m);
	return 0;
}

void memory_destroy(struct memory *m)
{
	if (m->ram)
		munmap(m->ram, m->ram_size);
	free(m->isa_rom);
	free(m->bios);
	memset(m, 0, sizeof(*m));
}

int memory_set_bios(struct memory *m, const void *image, size_t size, char *err, size_t errlen)
{
	size_t low;
	uint8_t *copy;

	if (size == 0 || size % 65536 || size > MEM_MAX_BIOS) {
		snprintf(err, errlen, "BIOS image of %zu bytes: must be a multiple of 64 KiB, at most 1 MiB",
		         size);
		return -1;
	}
	copy = malloc(size);
	if (!copy) {
		snprintf(err, errlen, "out of memory for the BIOS image");
		return -1;
	}
	memcpy(copy, image, size);
	free(m->bios);
	m->bios = copy;
	m->bios_size = (uint32_t)size;
	/* Below 1 MiB only the last 128 KiB are visible (0xE0000-0xFFFFF). */
	low = size < 0x20000 ? size : 0x20000;
	memcpy(m->isa_rom + ISA_SIZE - low, copy + size - low, low);
	return 0;
}

static bool in_ram(const struct memory *m, uint32_t paddr)
{
	return paddr < m->ram_size && (paddr < MEM_VGA_BASE || paddr >= MEM_ISA_END);
}

uint8_t *memory_page(struct memory *m, uint32_t paddr, bool write)
{
	uint32_t page = paddr & ~(MEM_PAGE_SIZE - 1);

	if (in_ram(m, page))
		return m->ram + page;
	if (page >= MEM_ISA_BASE && page < MEM_ISA_END) {
		uint8_t mode = m->isa_mode[(page - MEM_ISA_BASE) / SEG_SIZE];
		if (write)
			return (mode & MEM_ISA_WRITE_RAM) ? m->ram + page : NULL;
		return (mode & MEM_ISA_READ_RAM) ? m->ram + page : m->isa_rom + (page - MEM_ISA_BASE);
	}
	if (!write && m->bios && page >= 0x100000000ull - m->bios_size)
		return m->bios + (page - (uint32_t)(0x100000000ull - m->bios_size));
	return NULL;
}

bool memory_is_ram(const struct memory *m, uint64_t paddr, uint64_t len)
{
	uint64_t end = paddr + len;

	if (len == 0)
		return paddr <= m->ram_size;
	if (end < paddr || end > m->ram_size)
		return false;
	/* RAM is [0, 0xA0000) and [1 MiB, ram_size): the range must sit in one. */
	return end <= MEM_VGA_BASE || paddr >= MEM_ISA_END;
}

int memory_write(struct memory *m, uint32_t paddr, const void *src, size_t len)
{
	if (!memory_is_ram(m, paddr, len))
		return -1;
	memcpy(m->ram + paddr, src, len);
	return 0;
}

int memory_fill(struct memory *m, uint32_t paddr, uint8_t byte, size_t len)
{
	if (!memory_is_ram(m, paddr, len))
		return -1;
	memset(m->ram + paddr, byte, len);
	return 0;
}

void memory_read(struct memory *m, uint32_t paddr, void *dst, size_t len)
{
	uint8_t *out = dst;

	while (len) {
		uint32_t off = paddr & (MEM_PAGE_SIZE - 1);
		size_t n = MEM_PAGE_SIZE - off;
		const uint8_t *page = memory_page(m, paddr, false);

		if (n > len)
			n = len;
		if (page)
			memcpy(out, page + off, n);
		else
			memset(out, 0xff, n);
		out += n;
		len -= n;
		paddr += (uint32_t)n;
	}
}

int memory_write_rom(struct memory *m, uint32_t paddr, const void *src, size_t len)
{
	if (paddr < MEM_ISA_BASE || paddr > MEM_ISA_END || len > MEM_ISA_END - paddr)
		return -1;
	memcpy(m->isa_rom + (paddr - MEM_ISA_BASE), src, len);
	return 0;
}

void memory_set_isa_mode(struct memory *m, unsigned seg, uint8_t mode)
{
	if (seg < MEM_ISA_SEGMENTS)
		m->isa_mode[seg] = mode & (MEM_ISA_READ_RAM | MEM_ISA_WRITE_RAM);
}

void memory_reset(struct memory *m)
{
	memset(m->isa_mode, 0, sizeof(m->isa_mode));
}

static bool page_is_zero(const uint8_t *p)
{
	static const uint8_t zero[256];

	for (unsigned i = 0; i < MEM_PAGE_SIZE; i += sizeof(zero))
		if (memcmp(p + i, zero, sizeof(zero)) != 0)
			return false;
	return true;
}

#define MEMORY_SAVE_VERSION 1
#define PAGE_LIST_END 0xffffffffu

void memory_save(const struct memory *m, struct sbuf *sb)
{
	size_t mark = sbuf_begin(sb, "memory", MEMORY_SAVE_VERSION);

	sbuf_put_u64(sb, m->ram_size);
	sbuf_put_bytes(sb, m->isa_mode, sizeof(m->isa_mode));
	sbuf_put_bytes(sb, m->isa_rom, ISA_SIZE);
	for (uint64_t p = 0; p < m->ram_size; p += MEM_PAGE_SIZE) {
		if (page_is_zero(m->ram + p))
			continue;
		sbuf_put_u32(sb, (uint32_t)(p / MEM_PAGE_SIZE));
		sbuf_put_bytes(sb, m->ram + p, MEM_PAGE_SIZE);
	}
	sbuf_put_u32(sb, PAGE_LIST_END);
	sbuf_end(sb, mark);
}

/* Walks the page list without storing anything: true if it is well formed. */
static bool page_list_valid(const struct memory *m, struct sbuf *sb)
{
	uint64_t npages = m->ram_size / MEM_PAGE_SIZE;
	bool first = true;
	uint32_t last = 0, idx;

	for (;;) {
		idx = sbuf_get_u32(sb);
		if (sb->error)
			return false;
		if (idx == PAGE_LIST_END)
			return true;
		if ((uint64_t)idx >= npages || (!first && idx <= last)) {
			sbuf_fail(sb, "memory: bad page index %u", idx);
			return false;
		}
		if (sb->section_end - sb->pos < MEM_PAGE_SIZE) {
			sbuf_fail(sb, "memory: page %u is truncated", idx);
			return false;
		}
		sb->pos += MEM_PAGE_SIZE;
		first = false;
		last = idx;
	}
}

int memory_load(struct memory *m, struct sbuf *sb)
{
	uint32_t version, idx;
	uint64_t size;
	uint8_t modes[MEM_ISA_SEGMENTS];
	size_t rom_pos, list_pos;

	if (!sbuf_open(sb, "memory", &version))
		return -1;
	if (version != MEMORY_SAVE_VERSION) {
		sbuf_fail(sb, "memory: unsupported version %u", version);
		return -1;
	}
	size = sbuf_get_u64(sb);
	if (sb->error)
		return -1;
	if (size != m->ram_size) {
		sbuf_fail(sb, "memory: snapshot has %llu MiB of RAM, this machine %llu MiB",
		          (unsigned long long)(size >> 20), (unsigned long long)(m->ram_size >> 20));
		return -1;
	}
	sbuf_get_bytes(sb, modes, sizeof(modes));
	for (unsigned i = 0; i < MEM_ISA_SEGMENTS; i++) {
		if (modes[i] & ~(MEM_ISA_READ_RAM | MEM_ISA_WRITE_RAM)) {
			sbuf_fail(sb, "memory: bad ROM window mode 0x%x", modes[i]);
			return -1;
		}
	}
	rom_pos = sb->pos;
	if (sb->error || sb->section_end - sb->pos < ISA_SIZE) {
		sbuf_fail(sb, "memory: ROM window is truncated");
		return -1;
	}
	sb->pos += ISA_SIZE;
	/* Check everything before touching the machine: a bad snapshot loses nothing. */
	list_pos = sb->pos;
	if (!page_list_valid(m, sb) || sb->pos != sb->section_end) {
		if (!sb->error)
			sbuf_fail(sb, "memory: %zu unread bytes", sb->section_end - sb->pos);
		return -1;
	}
	sb->pos = rom_pos;
	sbuf_get_bytes(sb, m->isa_rom, ISA_SIZE);
	memcpy(m->isa_mode, modes, sizeof(modes));
	/* Pages absent from the snapshot are zero: drop everything first. */
	if (madvise(m->ram, m->ram_size, MADV_DONTNEED) != 0)
		memset(m->ram, 0, m->ram_size);
	sb->pos = list_pos;
	while ((idx = sbuf_get_u32(sb)) != PAGE_LIST_END && !sb->error)
		sbuf_get_bytes(sb, m->ram + (uint64_t)idx * MEM_PAGE_SIZE, MEM_PAGE_SIZE);
	return sbuf_close(sb) ? 0 : -1;
}

uint64_t memory_parse_size(const char *s)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !isdigit((unsigned char)*s))
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return 0;
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case '\0': break;
	default: return 0;
	}
	if (*end == 'i' || *end == 'B' || *end == 'b')
		end += (*end == 'i' && (end[1] == 'B' || end[1] == 'b')) ? 2 : 1;
	if (*end != '\0' || v > (UINT64_MAX >> shift))
		return 0;
	return (uint64_t)v << shift;
}
