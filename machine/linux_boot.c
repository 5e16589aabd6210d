#include "machine/linux_boot.h"

#include <stdio.h>
#include <string.h>

#include "machine/e820.h"
#include "machine/memory.h"
#include "translator/cpu.h"

/* Setup header fields, as file (and zero page) offsets. */
#define HDR_SETUP_SECTS 0x1f1
#define HDR_SYSSIZE 0x1f4
#define HDR_VID_MODE 0x1fa
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END_PTR 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define HDR_END_206 0x23c               /* header bytes of a 2.06 kernel */
#define HDR_END_210 0x264               /* and of a 2.10+ one (pref_address, init_size) */

/* Zero page fields outside the setup header: screen_info first. */
#define ZP_ORIG_X 0x00
#define ZP_ORIG_Y 0x01
#define ZP_VIDEO_MODE 0x06
#define ZP_VIDEO_COLS 0x07
#define ZP_VIDEO_EGA_BX 0x0a
#define ZP_VIDEO_LINES 0x0e
#define ZP_VIDEO_IS_VGA 0x0f
#define ZP_VIDEO_POINTS 0x10
#define ZP_ACPI_RSDP_ADDR 0x070
#define ZP_ALT_MEM_K 0x1e0
#define ZP_E820_ENTRIES 0x1e8
#define ZP_E820_TABLE 0x2d0
#define ZP_E820_MAX 128

#define LOADED_HIGH 0x01
#define CAN_USE_HEAP 0x80
#define MIN_PROTOCOL 0x0206             /* cmdline_size and a 32-bit syssize */

static uint16_t get16(const uint8_t *p, size_t off) { return (uint16_t)(p[off] | p[off + 1] << 8); }
static uint32_t get32(const uint8_t *p, size_t off) { return get16(p, off) | (uint32_t)get16(p, off + 2) << 16; }
static uint64_t get64(const uint8_t *p, size_t off) { return get32(p, off) | (uint64_t)get32(p, off + 4) << 32; }
static void put8(uint8_t *p, size_t off, uint8_t v) { p[off] = v; }
static void put16(uint8_t *p, size_t off, uint16_t v) { p[off] = (uint8_t)v; p[off + 1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, size_t off, uint32_t v) { put16(p, off, (uint16_t)v); put16(p, off + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, size_t off, uint64_t v) { put32(p, off, (uint32_t)v); put32(p, off + 4, (uint32_t)(v >> 32)); }

int boot_write_gdt(struct memory *m, struct boot_entry *entry)
{
	/* null, unused, flat code (exec/read), flat data (read/write); 4 GiB, 32-bit. */
	static const uint8_t gdt[32] = {
		0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff, 0, 0, 0, 0x9b, 0xcf, 0,
		0xff, 0xff, 0, 0, 0, 0x93, 0xcf, 0,
	};

	if (memory_write(m, BOOT_GDT_ADDR, gdt, sizeof(gdt)) != 0)
		return -1;
	entry->gdt_base = BOOT_GDT_ADDR;
	entry->gdt_limit = sizeof(gdt) - 1;
	return 0;
}

bool linux_boot_probe(const uint8_t *image, size_t size)
{
	return size >= HDR_MAGIC + 4 && memcmp(image + HDR_MAGIC, "HdrS", 4) == 0;
}

/* Highest end of RAM in the map below 4 GiB: where a high initrd may go. */
static uint64_t ram_top(const struct e820_map *map)
{
	uint64_t top = 0;

	for (unsigned i = 0; i < map->n; i++) {
		const struct e820_entry *e = &map->e[i];
		if (e->type == E820_RAM && e->addr + e->size > top && e->addr + e->size <= 0x100000000ull)
			top = e->addr + e->size;
	}
	return top;
}

/* Whether [addr, addr+size) lies inside one RAM entry of the map. */
static bool map_has_ram(const struct e820_map *map, uint64_t addr, uint64_t size)
{
	for (unsigned i = 0; i < map->n; i++) {
		const struct e820_entry *e = &map->e[i];
		if (e->type == E820_RAM && addr >= e->addr && addr + size <= e->addr + e->size)
			return true;
	}
	return false;
}

int linux_boot_load(struct memory *m, const struct linux_boot_config *cfg,
                    struct boot_entry *entry, struct linux_boot_result *res,
                    char *err, size_t errlen)
{
	const uint8_t *k = cfg->kernel;
	size_t size = cfg->kernel_size, setup_size, pm_size, hdr_end, hdr_min, cmdlen;
	uint8_t zp[4096];
	uint16_t version;
	uint32_t setup_sects, syssize, cmdline_size, initrd_max, code32, init_size = 0;
	uint64_t load_base, kernel_end, top, initrd_addr = 0;

	memset(res, 0, sizeof(*res));
	memset(entry, 0, sizeof(*entry));
	if (!linux_boot_probe(k, size)) {
		snprintf(err, errlen, "not a Linux bzImage: no \"HdrS\" signature at offset 0x202%s",
		         size < HDR_MAGIC + 4 ? " (file too short)" : "");
		return -1;
	}
	version = get16(k, HDR_VERSION);
	res->protocol = version;
	if (version < MIN_PROTOCOL) {
		snprintf(err, errlen, "boot protocol %u.%02u is too old (need %u.%02u or later)",
		         version >> 8, version & 0xff, MIN_PROTOCOL >> 8, MIN_PROTOCOL & 0xff);
		return -1;
	}
	hdr_min = version >= 0x020a ? HDR_END_210 : HDR_END_206;
	if (size < hdr_min) {
		snprintf(err, errlen, "image truncated: %zu bytes, shorter than its setup header", size);
		return -1;
	}
	if (get16(k, HDR_BOOT_FLAG) != 0xaa55) {
		snprintf(err, errlen, "bad boot_flag 0x%04x (expected 0xaa55)", get16(k, HDR_BOOT_FLAG));
		return -1;
	}
	if (!(k[HDR_LOADFLAGS] & LOADED_HIGH)) {
		snprintf(err, errlen, "zImage (loaded low) is not supported: loadflags 0x%02x lacks LOADED_HIGH",
		         k[HDR_LOADFLAGS]);
		return -1;
	}
	setup_sects = k[HDR_SETUP_SECTS] ? k[HDR_SETUP_SECTS] : 4;
	setup_size = (setup_sects + 1) * 512;
	hdr_end = HDR_MAGIC + k[HDR_JUMP + 1];
	if (hdr_end < hdr_min || hdr_end > setup_size || hdr_end > sizeof(zp)) {
		snprintf(err, errlen, "setup header ends at 0x%zx, outside the setup code (0x%zx-0x%zx)",
		         hdr_end, hdr_min, setup_size);
		return -1;
	}
	if (size <= setup_size) {
		snprintf(err, errlen, "image truncated: %zu bytes, but the setup code alone is %zu",
		         size, setup_size);
		return -1;
	}
	pm_size = size - setup_size;
	syssize = get32(k, HDR_SYSSIZE);
	if (syssize == 0 || (uint64_t)syssize * 16 > pm_size) {
		snprintf(err, errlen, "image truncated: header says the kernel is %llu bytes, file has %zu",
		         (unsigned long long)syssize * 16, pm_size);
		return -1;
	}
	code32 = get32(k, HDR_CODE32_START);
	if (code32 != BOOT_KERNEL_ADDR) {
		snprintf(err, errlen, "code32_start 0x%x: only kernels entered at 0x%x are supported",
		         code32, BOOT_KERNEL_ADDR);
		return -1;
	}
	/* Where the kernel works while it boots: relocatable ones decompress at pref_address. */
	load_base = BOOT_KERNEL_ADDR;
	if (version >= 0x020a) {
		uint64_t pref = get64(k, HDR_PREF_ADDRESS);
		init_size = get32(k, HDR_INIT_SIZE);
		if (pref > load_base)
			load_base = pref;
	}
	kernel_end = BOOT_KERNEL_ADDR + (uint64_t)pm_size;
	if (load_base + init_size > kernel_end)
		kernel_end = load_base + init_size;
	res->kernel_size = (uint32_t)pm_size;
	if (!map_has_ram(cfg->e820, BOOT_KERNEL_ADDR, kernel_end - BOOT_KERNEL_ADDR) ||
	    !memory_is_ram(m, BOOT_KERNEL_ADDR, kernel_end - BOOT_KERNEL_ADDR)) {
		snprintf(err, errlen, "not enough RAM: the kernel needs memory up to %llu MiB while it boots",
		         (unsigned long long)((kernel_end + 0xfffff) >> 20));
		return -1;
	}
	res->kernel_end = (uint32_t)kernel_end;

	cmdlen = cfg->cmdline ? strlen(cfg->cmdline) : 0;
	cmdline_size = get32(k, HDR_CMDLINE_SIZE);
	if (cmdlen > cmdline_size || cmdlen >= BOOT_CMDLINE_MAX) {
		snprintf(err, errlen, "command line of %zu bytes is longer than the kernel accepts (%u)",
		         cmdlen, cmdline_size < BOOT_CMDLINE_MAX - 1 ? cmdline_size : BOOT_CMDLINE_MAX - 1);
		return -1;
	}

	if (cfg->initrd && cfg->initrd_size) {
		initrd_max = get32(k, HDR_INITRD_ADDR_MAX);
		top = ram_top(cfg->e820);
		if (top > (uint64_t)initrd_max + 1)
			top = (uint64_t)initrd_max + 1;
		if (cfg->initrd_size > top || ((top - cfg->initrd_size) & ~0xfffull) < kernel_end) {
			snprintf(err, errlen,
			         "initrd too large: %zu bytes do not fit between the kernel (ends at 0x%llx) "
			         "and 0x%llx (initrd_addr_max or the top of RAM)",
			         cfg->initrd_size, (unsigned long long)kernel_end, (unsigned long long)top);
			return -1;
		}
		initrd_addr = (top - cfg->initrd_size) & ~0xfffull;
		if (!map_has_ram(cfg->e820, initrd_addr, cfg->initrd_size) ||
		    !memory_is_ram(m, initrd_addr, cfg->initrd_size)) {
			snprintf(err, errlen, "initrd too large: no RAM at 0x%llx for %zu bytes",
			         (unsigned long long)initrd_addr, cfg->initrd_size);
			return -1;
		}
		res->initrd_addr = (uint32_t)initrd_addr;
		res->initrd_size = (uint32_t)cfg->initrd_size;
	}
	if (cfg->e820->n < 2 || cfg->e820->n > ZP_E820_MAX) {
		snprintf(err, errlen, "the e820 map has %u entries: Linux needs 2 to %u", cfg->e820->n,
		         ZP_E820_MAX);
		return -1;
	}

	/* The zero page: the image's own setup header, then the loader's fields. */
	memset(zp, 0, sizeof(zp));
	memcpy(zp + HDR_SETUP_SECTS, k + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
	put16(zp, HDR_VID_MODE, 0xffff);
	put8(zp, HDR_TYPE_OF_LOADER, 0xff);
	put8(zp, HDR_LOADFLAGS, (uint8_t)((zp[HDR_LOADFLAGS] | CAN_USE_HEAP)));
	put16(zp, HDR_HEAP_END_PTR, 0xfe00);
	put32(zp, HDR_CMD_LINE_PTR, BOOT_CMDLINE_ADDR);
	put32(zp, HDR_RAMDISK_IMAGE, (uint32_t)initrd_addr);
	put32(zp, HDR_RAMDISK_SIZE, res->initrd_size);
	if (version >= 0x020e)
		put64(zp, ZP_ACPI_RSDP_ADDR, cfg->acpi_rsdp);
	if (cfg->vga_text) {
		/* What the real-mode setup would have read from a VGA BIOS in mode 3. */
		put8(zp, ZP_ORIG_X, 0);
		put8(zp, ZP_ORIG_Y, 0);
		put8(zp, ZP_VIDEO_MODE, 3);
		put8(zp, ZP_VIDEO_COLS, 80);
		put16(zp, ZP_VIDEO_EGA_BX, 0x0003);    /* not 0x10: EGA/VGA, 256 KiB */
		put8(zp, ZP_VIDEO_LINES, 25);
		put8(zp, ZP_VIDEO_IS_VGA, 1);
		put16(zp, ZP_VIDEO_POINTS, 16);
	}
	{
		uint64_t ext_k = (ram_top(cfg->e820) - 0x100000) >> 10;
		put32(zp, ZP_ALT_MEM_K, ext_k > UINT32_MAX ? UINT32_MAX : (uint32_t)ext_k);
	}
	put8(zp, ZP_E820_ENTRIES, (uint8_t)cfg->e820->n);
	for (unsigned i = 0; i < cfg->e820->n; i++) {
		const struct e820_entry *e = &cfg->e820->e[i];
		put64(zp, ZP_E820_TABLE + 20 * i, e->addr);
		put64(zp, ZP_E820_TABLE + 20 * i + 8, e->size);
		put32(zp, ZP_E820_TABLE + 20 * i + 16, e->type);
	}

	if (memory_write(m, BOOT_ZERO_PAGE, zp, sizeof(zp)) != 0 ||
	    memory_fill(m, BOOT_CMDLINE_ADDR, 0, cmdlen + 1) != 0 ||
	    (cmdlen && memory_write(m, BOOT_CMDLINE_ADDR, cfg->cmdline, cmdlen) != 0) ||
	    memory_write(m, BOOT_KERNEL_ADDR, k + setup_size, pm_size) != 0 ||
	    (res->initrd_size && memory_write(m, (uint32_t)initrd_addr, cfg->initrd, cfg->initrd_size) != 0) ||
	    boot_write_gdt(m, entry) != 0) {
		snprintf(err, errlen, "cannot write the boot data into guest RAM");
		return -1;
	}
	entry->eip = code32;
	entry->gpr[R_ESI] = BOOT_ZERO_PAGE;
	return 0;
}
