#include "machine/multiboot.h"

#include <stdio.h>
#include <string.h>

#include "machine/e820.h"
#include "machine/memory.h"
#include "translator/cpu.h"

#define MB_HEADER_MAGIC 0x1BADB002u
#define MB_SEARCH 8192

/* Header flags: bits 0-15 are requirements a loader must meet or refuse. */
#define MBH_PAGE_ALIGN 0x00000001u
#define MBH_MEMORY_INFO 0x00000002u
#define MBH_VIDEO_MODE 0x00000004u
#define MBH_AOUT_KLUDGE 0x00010000u
#define MBH_KNOWN_REQUIRED (MBH_PAGE_ALIGN | MBH_MEMORY_INFO | MBH_VIDEO_MODE)

/* Info flags. */
#define MBI_MEMORY 0x001u
#define MBI_CMDLINE 0x004u
#define MBI_MODS 0x008u
#define MBI_MMAP 0x040u
#define MBI_LOADER_NAME 0x200u
#define MBI_SIZE 120

#define MB_LOADER_NAME "vmd"
#define PAGE_UP(x) (((x) + 0xfffull) & ~0xfffull)

static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static void put32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }

/* Offset of a valid header in the first 8 KiB (32-bit aligned), or -1. */
static long find_header(const uint8_t *image, size_t size)
{
	size_t limit = size < MB_SEARCH ? size : MB_SEARCH;

	for (size_t off = 0; off + 12 <= limit; off += 4) {
		uint32_t magic = get32(image + off), flags = get32(image + off + 4);
		if (magic == MB_HEADER_MAGIC && magic + flags + get32(image + off + 8) == 0)
			return (long)off;
	}
	return -1;
}

bool multiboot_probe(const uint8_t *image, size_t size)
{
	return find_header(image, size) >= 0;
}

static bool overlaps(uint64_t addr, uint64_t size, uint64_t base, uint64_t end)
{
	return addr < end && base < addr + size;
}

/* A kernel piece must land in RAM and clear of the loader's own low-memory data. */
static int check_placement(const struct memory *m, uint64_t addr, uint64_t size, const char *what,
                           char *err, size_t errlen)
{
	if (size == 0)
		return 0;
	if (addr + size > 0x100000000ull || !memory_is_ram(m, addr, size)) {
		snprintf(err, errlen, "%s at 0x%llx-0x%llx is not in guest RAM", what,
		         (unsigned long long)addr, (unsigned long long)(addr + size));
		return -1;
	}
	if (overlaps(addr, size, BOOT_GDT_ADDR, BOOT_GDT_ADDR + BOOT_GDT_SIZE) ||
	    overlaps(addr, size, MB_INFO_ADDR, MB_INFO_END)) {
		snprintf(err, errlen, "%s at 0x%llx-0x%llx overlaps the boot information "
		         "(GDT at 0x%x, tables at 0x%x-0x%x)", what, (unsigned long long)addr,
		         (unsigned long long)(addr + size), BOOT_GDT_ADDR, MB_INFO_ADDR, MB_INFO_END);
		return -1;
	}
	return 0;
}

static int load_elf(struct memory *m, const uint8_t *k, size_t size, struct boot_entry *entry,
                    struct multiboot_result *res, char *err, size_t errlen)
{
	uint32_t phoff, e_entry;
	uint16_t phentsize, phnum;
	uint64_t lo = UINT64_MAX, hi = 0;
	bool entry_mapped = false;

	if (size < 52 || memcmp(k, "\177ELF", 4) != 0) {
		snprintf(err, errlen, "multiboot kernel without load addresses (flag 16) must be ELF");
		return -1;
	}
	if (k[4] != 1 || k[5] != 1 || get16(k + 18) != 3 || get16(k + 16) != 2) {
		snprintf(err, errlen, "ELF kernel is not a 32-bit little-endian i386 executable "
		         "(class %u, data %u, machine %u, type %u)", k[4], k[5], get16(k + 18), get16(k + 16));
		return -1;
	}
	e_entry = get32(k + 24);
	phoff = get32(k + 28);
	phentsize = get16(k + 42);
	phnum = get16(k + 44);
	if (phnum == 0 || phentsize < 32 || phoff > size || (uint64_t)phnum * phentsize > size - phoff) {
		snprintf(err, errlen, "ELF program headers (%u at 0x%x, %u bytes each) are outside the file",
		         phnum, phoff, phentsize);
		return -1;
	}
	/* Check every segment before writing any. */
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < phnum; i++) {
			const uint8_t *ph = k + phoff + (size_t)i * phentsize;
			uint32_t type = get32(ph), off = get32(ph + 4), vaddr = get32(ph + 8);
			uint32_t paddr = get32(ph + 12), filesz = get32(ph + 16), memsz = get32(ph + 20);

			if (type != 1 || memsz == 0)        /* PT_LOAD only */
				continue;
			if (pass == 0) {
				if (filesz > memsz || off > size || filesz > size - off) {
					snprintf(err, errlen, "ELF segment %u (offset 0x%x, %u bytes) is outside the file",
					         i, off, filesz);
					return -1;
				}
				if (check_placement(m, paddr, memsz, "ELF segment", err, errlen) != 0)
					return -1;
				if (paddr < lo)
					lo = paddr;
				if ((uint64_t)paddr + memsz > hi)
					hi = (uint64_t)paddr + memsz;
				/* The entry is virtual; the CPU starts with paging off. */
				if (!entry_mapped && e_entry - vaddr < memsz) {
					entry->eip = e_entry - vaddr + paddr;
					entry_mapped = true;
				}
			} else {
				/* Placement was checked in the first pass. */
				if (memory_write(m, paddr, k + off, filesz) != 0 ||
				    memory_fill(m, paddr + filesz, 0, memsz - filesz) != 0) {
					snprintf(err, errlen, "cannot write ELF segment %u", i);
					return -1;
				}
			}
		}
		if (pass == 0 && hi == 0) {
			snprintf(err, errlen, "ELF kernel has no loadable segment");
			return -1;
		}
	}
	if (!entry_mapped)
		entry->eip = e_entry;
	res->elf = true;
	res->load_start = (uint32_t)lo;
	res->load_end = (uint32_t)hi;
	return 0;
}

static int load_aout(struct memory *m, const uint8_t *k, size_t size, size_t hdr_off,
                     struct boot_entry *entry, struct multiboot_result *res, char *err, size_t errlen)
{
	const uint8_t *h = k + hdr_off;
	uint32_t header_addr, load_addr, load_end, bss_end;
	uint64_t file_off, load_size;

	if (hdr_off + 32 > size) {
		snprintf(err, errlen, "multiboot header's address fields are cut off by the end of the file");
		return -1;
	}
	header_addr = get32(h + 12);
	load_addr = get32(h + 16);
	load_end = get32(h + 20);
	bss_end = get32(h + 24);
	if (header_addr < load_addr || header_addr - load_addr > hdr_off) {
		snprintf(err, errlen, "multiboot header_addr 0x%x and load_addr 0x%x put the load before the file start",
		         header_addr, load_addr);
		return -1;
	}
	file_off = hdr_off - (header_addr - load_addr);
	if (load_end == 0) {
		load_size = size - file_off;
	} else {
		if (load_end < load_addr || load_end - load_addr > size - file_off) {
			snprintf(err, errlen, "multiboot load_end_addr 0x%x is beyond the file (load_addr 0x%x, %zu bytes)",
			         load_end, load_addr, size);
			return -1;
		}
		load_size = load_end - load_addr;
	}
	if (bss_end && bss_end < load_addr + load_size) {
		snprintf(err, errlen, "multiboot bss_end_addr 0x%x is below the end of the load 0x%llx",
		         bss_end, (unsigned long long)(load_addr + load_size));
		return -1;
	}
	res->load_start = load_addr;
	res->load_end = (uint32_t)(bss_end ? bss_end : load_addr + load_size);
	if (check_placement(m, load_addr, res->load_end - load_addr, "kernel", err, errlen) != 0)
		return -1;
	if (memory_write(m, load_addr, k + file_off, load_size) != 0 ||
	    memory_fill(m, (uint32_t)(load_addr + load_size), 0, res->load_end - (load_addr + load_size)) != 0) {
		snprintf(err, errlen, "cannot write the kernel at 0x%x", load_addr);
		return -1;
	}
	entry->eip = get32(h + 28);
	return 0;
}

/* Bump allocator over an area of guest RAM. */
struct area {
	struct memory *m;
	uint32_t next, end;
};

static uint32_t area_put(struct area *a, const void *data, size_t len)
{
	uint32_t at = (a->next + 3) & ~3u;

	if (at < a->next || len > (size_t)(a->end - at) || memory_write(a->m, at, data, len) != 0)
		return 0;
	a->next = at + (uint32_t)len;
	return at;
}

static uint32_t area_str(struct area *a, const char *s)
{
	return area_put(a, s ? s : "", strlen(s ? s : "") + 1);
}

static size_t str_size(const char *s)
{
	return (s ? strlen(s) : 0) + 1 + 3;     /* NUL and alignment */
}

int multiboot_load(struct memory *m, const struct multiboot_config *cfg,
                   struct boot_entry *entry, struct multiboot_result *res,
                   char *err, size_t errlen)
{
	long hdr = find_header(cfg->kernel, cfg->kernel_size);
	uint32_t flags;
	uint8_t info[MBI_SIZE], mods[MB_MAX_MODULES * 16];
	uint8_t mmap[E820_MAX * 24];
	struct area tables = { .m = m, .next = MB_INFO_ADDR + MBI_SIZE, .end = MB_INFO_END };
	struct area strings;
	uint64_t next, mem_lower = 0, mem_upper = 0, strings_size;
	uint32_t at;

	memset(res, 0, sizeof(*res));
	memset(entry, 0, sizeof(*entry));
	if (hdr < 0) {
		snprintf(err, errlen, "no multiboot header (magic 0x%08x with a valid checksum) in the first 8 KiB",
		         MB_HEADER_MAGIC);
		return -1;
	}
	flags = get32(cfg->kernel + hdr + 4);
	res->header_flags = flags;
	if (flags & 0xffff & ~MBH_KNOWN_REQUIRED) {
		snprintf(err, errlen, "multiboot kernel requires features this loader lacks (flags 0x%08x)", flags);
		return -1;
	}
	if (cfg->nmodules > MB_MAX_MODULES) {
		snprintf(err, errlen, "%u multiboot modules: at most %d are supported", cfg->nmodules,
		         MB_MAX_MODULES);
		return -1;
	}
	if ((flags & MBH_AOUT_KLUDGE) ?
	    load_aout(m, cfg->kernel, cfg->kernel_size, (size_t)hdr, entry, res, err, errlen) :
	    load_elf(m, cfg->kernel, cfg->kernel_size, entry, res, err, errlen))
		return -1;

	/* Modules follow the kernel, each on a page boundary. */
	next = PAGE_UP((uint64_t)res->load_end);
	res->mods_start = (uint32_t)next;
	for (unsigned i = 0; i < cfg->nmodules; i++) {
		const struct multiboot_module *mod = &cfg->modules[i];
		if (check_placement(m, next, mod->size, "module", err, errlen) != 0) {
			snprintf(err, errlen, "module %u (%zu bytes) does not fit in RAM after the kernel at 0x%llx",
			         i, mod->size, (unsigned long long)next);
			return -1;
		}
		if (memory_write(m, (uint32_t)next, mod->data, mod->size) != 0) {
			snprintf(err, errlen, "cannot write module %u at 0x%llx", i, (unsigned long long)next);
			return -1;
		}
		put32(mods + 16 * i, (uint32_t)next);
		put32(mods + 16 * i + 4, (uint32_t)(next + mod->size));
		put32(mods + 16 * i + 12, 0);
		next = PAGE_UP(next + mod->size);
	}
	res->mods_end = (uint32_t)next;

	/* The strings follow the modules (they can be long); the tables sit low, at MB_INFO_ADDR. */
	strings_size = str_size(cfg->cmdline) + str_size(MB_LOADER_NAME);
	for (unsigned i = 0; i < cfg->nmodules; i++)
		strings_size += str_size(cfg->modules[i].cmdline);
	if (next + strings_size > 0x100000000ull ||
	    check_placement(m, next, strings_size, "command lines", err, errlen) != 0) {
		snprintf(err, errlen, "no RAM for the command lines (%llu bytes) after the modules at 0x%llx",
		         (unsigned long long)strings_size, (unsigned long long)next);
		return -1;
	}
	strings = (struct area){ .m = m, .next = (uint32_t)next, .end = (uint32_t)(next + strings_size) };
	for (unsigned i = 0; i < cfg->nmodules; i++)
		put32(mods + 16 * i + 8, area_str(&strings, cfg->modules[i].cmdline));
	res->strings_end = strings.end;

	for (unsigned i = 0; i < cfg->e820->n; i++) {
		const struct e820_entry *e = &cfg->e820->e[i];
		put32(mmap + 24 * i, 20);
		put32(mmap + 24 * i + 4, (uint32_t)e->addr);
		put32(mmap + 24 * i + 8, (uint32_t)(e->addr >> 32));
		put32(mmap + 24 * i + 12, (uint32_t)e->size);
		put32(mmap + 24 * i + 16, (uint32_t)(e->size >> 32));
		put32(mmap + 24 * i + 20, e->type);
		if (e->type == E820_RAM && e->addr == 0x100000)
			mem_upper = e->size >> 10;
		if (e->type == E820_RAM && e->addr == 0)
			mem_lower = e->size >> 10;
	}

	memset(info, 0, sizeof(info));
	put32(info, MBI_MEMORY | MBI_CMDLINE | MBI_MMAP | MBI_LOADER_NAME |
	            (cfg->nmodules ? MBI_MODS : 0));
	put32(info + 4, (uint32_t)(mem_lower > 640 ? 640 : mem_lower));
	put32(info + 8, mem_upper > UINT32_MAX ? UINT32_MAX : (uint32_t)mem_upper);
	put32(info + 16, area_str(&strings, cfg->cmdline));
	put32(info + 20, cfg->nmodules);
	put32(info + 24, cfg->nmodules ? area_put(&tables, mods, 16u * cfg->nmodules) : 0);
	put32(info + 44, 24u * cfg->e820->n);
	put32(info + 48, area_put(&tables, mmap, 24u * cfg->e820->n));
	put32(info + 64, area_str(&strings, MB_LOADER_NAME));
	at = area_put(&(struct area){ .m = m, .next = MB_INFO_ADDR, .end = MB_INFO_ADDR + MBI_SIZE },
	              info, sizeof(info));
	/* Sizes were checked above: a zero address here is a loader bug, not bad input. */
	if (at != MB_INFO_ADDR || get32(info + 16) == 0 || get32(info + 48) == 0 || get32(info + 64) == 0 ||
	    (cfg->nmodules && get32(info + 24) == 0) || boot_write_gdt(m, entry) != 0) {
		snprintf(err, errlen, "cannot write the multiboot information into guest RAM");
		return -1;
	}
	res->info_addr = MB_INFO_ADDR;
	entry->gpr[R_EAX] = MB_BOOTLOADER_MAGIC;
	entry->gpr[R_EBX] = MB_INFO_ADDR;
	return 0;
}
