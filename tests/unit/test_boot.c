/* The boot loaders: e820 maps, bzImage (synthetic and Debian's), multiboot (ELF and a.out kludge). */
#include <stdlib.h>
#include <string.h>

#include "machine/bios.h"
#include "machine/e820.h"
#include "machine/linux_boot.h"
#include "machine/memory.h"
#include "machine/multiboot.h"
#include "tests/unit/harness.h"
#include "translator/cpu.h"

static char err[512];

static uint32_t rd32(const struct memory *m, uint32_t a)
{
	const uint8_t *p = m->ram + a;
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const struct memory *m, uint32_t a) { return rd32(m, a) | (uint64_t)rd32(m, a + 4) << 32; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v); wr16(p + 2, (uint16_t)(v >> 16)); }

/* A path under the build folder ($VMD_BUILD when run by tests/run). */
static const char *build_path(char *buf, size_t len, const char *rel)
{
	const char *b = getenv("VMD_BUILD");
	snprintf(buf, len, "%s/%s", b && *b ? b : "build", rel);
	return buf;
}

static void pc_map(struct e820_map *map, uint64_t ram, uint32_t acpi_size)
{
	struct e820_layout l = { .ram_size = ram, .acpi_base = acpi_size ? (uint32_t)(ram - acpi_size) : 0,
	                         .acpi_size = acpi_size, .bios_size = 0x40000 };
	if (e820_build_pc(map, &l) != 0)
		map->n = 0;
}

static void e820_pc_layout(struct test *t)
{
	struct e820_map map;

	pc_map(&map, 256 << 20, 0x10000);
	REQUIRE(t, map.n == 6);
	CHECK_EQ(t, map.e[0].addr, 0);
	CHECK_EQ(t, map.e[0].size, 0x9fc00);
	CHECK_EQ(t, map.e[0].type, E820_RAM);
	CHECK_EQ(t, map.e[1].type, E820_RESERVED);
	CHECK_EQ(t, map.e[2].addr, 0xe0000);
	CHECK_EQ(t, map.e[2].type, E820_RESERVED);
	CHECK_EQ(t, map.e[3].addr, 0x100000);
	CHECK_EQ(t, map.e[3].size, (256 << 20) - 0x100000 - 0x10000);
	CHECK_EQ(t, map.e[3].type, E820_RAM);
	CHECK_EQ(t, map.e[4].addr, (256 << 20) - 0x10000);
	CHECK_EQ(t, map.e[4].type, E820_ACPI);
	CHECK_EQ(t, map.e[5].addr, 0xfffc0000);
	CHECK_EQ(t, map.e[5].size, 0x40000);
	CHECK_EQ(t, e820_ram_total(&map), 0x9fc00 + (256 << 20) - 0x100000 - 0x10000);
	/* Overlaps and empty ranges are refused; inserts stay sorted. */
	CHECK(t, e820_add(&map, 0x50000, 0x1000, E820_RESERVED) != 0);
	CHECK(t, e820_add(&map, 0xc0000, 0, E820_RESERVED) != 0);
	CHECK(t, e820_add(&map, 0xc0000, 0x8000, E820_RESERVED) == 0);
	CHECK_EQ(t, map.e[2].addr, 0xc0000);
	/* ACPI not at the top of RAM: a layout bug, refused. */
	struct e820_layout bad = { .ram_size = 64 << 20, .acpi_base = 32 << 20, .acpi_size = 0x1000 };
	CHECK(t, e820_build_pc(&map, &bad) != 0);
}

/* A minimal well-formed bzImage: setup (4 sectors + boot sector) then pm_size bytes. */
static uint8_t *fake_bzimage(size_t pm_size, size_t *size)
{
	size_t setup = 5 * 512;
	uint8_t *k = calloc(1, setup + pm_size);

	if (!k)
		return NULL;
	k[0x1f1] = 4;
	wr32(k + 0x1f4, (uint32_t)(pm_size / 16));
	wr16(k + 0x1fe, 0xaa55);
	k[0x200] = 0xeb;
	k[0x201] = 0x6a;                        /* header ends at 0x26c, as in 6.1 */
	memcpy(k + 0x202, "HdrS", 4);
	wr16(k + 0x206, 0x020f);
	k[0x211] = 0x01;                        /* LOADED_HIGH */
	wr32(k + 0x214, 0x100000);
	wr32(k + 0x22c, 0x7fffffff);
	wr32(k + 0x230, 0x1000000);
	k[0x234] = 1;
	wr32(k + 0x238, 2047);
	wr32(k + 0x258, 0x1000000);
	wr32(k + 0x260, 0x1000000);             /* init_size 16 MiB: kernel_end 32 MiB */
	for (size_t i = 0; i < pm_size; i++)
		k[setup + i] = (uint8_t)(i * 7);
	*size = setup + pm_size;
	return k;
}

static void bzimage_synthetic(struct test *t)
{
	struct memory m;
	struct e820_map map;
	struct boot_entry entry;
	struct linux_boot_result res;
	size_t size;
	uint8_t *k = fake_bzimage(0x10000, &size), initrd[5000];
	struct linux_boot_config cfg = { .kernel = k, .kernel_size = size, .initrd = initrd,
	                                 .initrd_size = sizeof(initrd), .cmdline = "console=ttyS0 quiet",
	                                 .e820 = &map, .acpi_rsdp = 0xf0000, .vga_text = true };

	REQUIRE(t, k != NULL);
	memset(initrd, 0xa5, sizeof(initrd));
	REQUIRE(t, memory_init(&m, 64 << 20, err, sizeof(err)) == 0);
	pc_map(&map, 64 << 20, 0x20000);
	CHECK(t, linux_boot_probe(k, size));
	REQUIRE(t, linux_boot_load(&m, &cfg, &entry, &res, err, sizeof(err)) == 0);
	CHECK_EQ(t, res.protocol, 0x020f);
	CHECK_EQ(t, res.kernel_end, 0x2000000);
	/* Entry state. */
	CHECK_EQ(t, entry.eip, 0x100000);
	CHECK_EQ(t, entry.gpr[R_ESI], BOOT_ZERO_PAGE);
	CHECK_EQ(t, entry.gpr[R_EBP] | entry.gpr[R_EDI] | entry.gpr[R_EBX], 0);
	CHECK_EQ(t, entry.gdt_base, BOOT_GDT_ADDR);
	CHECK_EQ(t, entry.gdt_limit, 31);
	CHECK_EQ(t, rd64(&m, BOOT_GDT_ADDR + BOOT_CS), 0x00cf9b000000ffffull);
	CHECK_EQ(t, rd64(&m, BOOT_GDT_ADDR + BOOT_DS), 0x00cf93000000ffffull);
	/* The protected-mode part at 1 MiB. */
	CHECK(t, memcmp(m.ram + 0x100000, k + 2560, 0x10000) == 0);
	/* Zero page: header copied, loader fields set. */
	CHECK(t, memcmp(m.ram + BOOT_ZERO_PAGE + 0x202, "HdrS", 4) == 0);
	CHECK_EQ(t, m.ram[BOOT_ZERO_PAGE + 0x1f1], 4);
	CHECK_EQ(t, rd32(&m, BOOT_ZERO_PAGE + 0x260), 0x1000000);
	CHECK_EQ(t, m.ram[BOOT_ZERO_PAGE + 0x210], 0xff);
	CHECK_EQ(t, m.ram[BOOT_ZERO_PAGE + 0x211] & 0x81, 0x81);
	CHECK_EQ(t, rd32(&m, BOOT_ZERO_PAGE + 0x1fa) & 0xffff, 0xffff);
	CHECK_EQ(t, rd32(&m, BOOT_ZERO_PAGE + 0x228), BOOT_CMDLINE_ADDR);
	CHECK(t, strcmp((char *)m.ram + BOOT_CMDLINE_ADDR, "console=ttyS0 quiet") == 0);
	CHECK_EQ(t, rd64(&m, BOOT_ZERO_PAGE + 0x070), 0xf0000);
	/* screen_info for vgacon: mode 3, 80x25, VGA, 16-line font. */
	CHECK_EQ(t, m.ram[BOOT_ZERO_PAGE + 0x06], 3);
	CHECK_EQ(t, m.ram[BOOT_ZERO_PAGE + 0x07], 80);
	CHECK_EQ(t, m.ram[BOOT_ZERO_PAGE + 0x0e], 25);
	CHECK_EQ(t, m.ram[BOOT_ZERO_PAGE + 0x0f], 1);
	CHECK_EQ(t, m.ram[BOOT_ZERO_PAGE + 0x10], 16);
	CHECK_EQ(t, rd32(&m, BOOT_ZERO_PAGE + 0x1e0), ((64 << 20) - 0x20000 - 0x100000) >> 10);
	/* Initrd: page aligned, as high as fits below the ACPI tables. */
	CHECK_EQ(t, res.initrd_addr, ((64 << 20) - 0x20000 - sizeof(initrd)) & ~0xfffu);
	CHECK_EQ(t, rd32(&m, BOOT_ZERO_PAGE + 0x218), res.initrd_addr);
	CHECK_EQ(t, rd32(&m, BOOT_ZERO_PAGE + 0x21c), sizeof(initrd));
	CHECK(t, memcmp(m.ram + res.initrd_addr, initrd, sizeof(initrd)) == 0);
	/* e820 in the zero page. */
	REQUIRE(t, m.ram[BOOT_ZERO_PAGE + 0x1e8] == map.n);
	for (unsigned i = 0; i < map.n; i++) {
		CHECK_EQ(t, rd64(&m, BOOT_ZERO_PAGE + 0x2d0 + 20 * i), map.e[i].addr);
		CHECK_EQ(t, rd64(&m, BOOT_ZERO_PAGE + 0x2d0 + 20 * i + 8), map.e[i].size);
		CHECK_EQ(t, rd32(&m, BOOT_ZERO_PAGE + 0x2d0 + 20 * i + 16), map.e[i].type);
	}
	memory_destroy(&m);
	free(k);
}

/* Loads `k` and expects an error mentioning `needle`. */
static void expect_error(struct test *t, const uint8_t *k, size_t size, size_t initrd_size,
                         const char *cmdline, uint64_t ram, const char *needle)
{
	struct memory m;
	struct e820_map map;
	struct boot_entry entry;
	struct linux_boot_result res;
	static uint8_t initrd[1];
	struct linux_boot_config cfg = { .kernel = k, .kernel_size = size, .initrd = initrd,
	                                 .initrd_size = initrd_size, .cmdline = cmdline, .e820 = &map };

	if (memory_init(&m, ram, err, sizeof(err)) != 0) {
		test_fail(t, __FILE__, __LINE__, "memory_init: %s", err);
		return;
	}
	pc_map(&map, ram, 0x10000);
	err[0] = 0;
	if (linux_boot_load(&m, &cfg, &entry, &res, err, sizeof(err)) == 0)
		test_fail(t, __FILE__, __LINE__, "loaded, expected an error about \"%s\"", needle);
	else if (!strstr(err, needle))
		test_fail(t, __FILE__, __LINE__, "error \"%s\" does not mention \"%s\"", err, needle);
	memory_destroy(&m);
}

static void bzimage_bad(struct test *t)
{
	size_t size;
	uint8_t *k = fake_bzimage(0x10000, &size), *b = malloc(size);
	char longcmd[3000];

	REQUIRE(t, k && b);
#define MUTATE(stmt) do { memcpy(b, k, size); stmt; } while (0)
	expect_error(t, k, 0x100, 0, NULL, 64 << 20, "HdrS");
	MUTATE(memcpy(b + 0x202, "HdrX", 4));
	expect_error(t, b, size, 0, NULL, 64 << 20, "HdrS");
	CHECK(t, !linux_boot_probe(b, size));
	MUTATE(wr16(b + 0x206, 0x0204));
	expect_error(t, b, size, 0, NULL, 64 << 20, "too old");
	expect_error(t, k, 0x250, 0, NULL, 64 << 20, "truncated");
	expect_error(t, k, 2560, 0, NULL, 64 << 20, "truncated");
	expect_error(t, k, size - 16, 0, NULL, 64 << 20, "truncated");
	MUTATE(wr16(b + 0x1fe, 0x1234));
	expect_error(t, b, size, 0, NULL, 64 << 20, "boot_flag");
	MUTATE(b[0x211] = 0);
	expect_error(t, b, size, 0, NULL, 64 << 20, "LOADED_HIGH");
	MUTATE(b[0x201] = 0x10);
	expect_error(t, b, size, 0, NULL, 64 << 20, "setup header");
	MUTATE(wr32(b + 0x214, 0x200000));
	expect_error(t, b, size, 0, NULL, 64 << 20, "code32_start");
	/* 16 MiB of RAM cannot hold a kernel that decompresses up to 32 MiB. */
	expect_error(t, k, size, 0, NULL, 16 << 20, "not enough RAM");
	memset(longcmd, 'x', sizeof(longcmd) - 1);
	longcmd[sizeof(longcmd) - 1] = 0;
	expect_error(t, k, size, 0, longcmd, 64 << 20, "command line");
	/* 40 MiB of initrd cannot sit between 32 MiB and the top of 64 MiB. */
	expect_error(t, k, size, 40 << 20, NULL, 64 << 20, "initrd too large");
	MUTATE(wr32(b + 0x22c, 0x1ffffff));  /* initrd_addr_max below the kernel's end */
	expect_error(t, b, size, 4096, NULL, 64 << 20, "initrd too large");
#undef MUTATE
	free(k);
	free(b);
}

static void bzimage_debian(struct test *t)
{
	char path[512];
	uint8_t *k, *initrd = NULL;
	size_t size, initrd_size = 0;
	struct memory m;
	struct e820_map map;
	struct boot_entry entry;
	struct linux_boot_result res;

	if (image_read_file(build_path(path, sizeof(path), "kit/vmlinuz"), 64 << 20, &k, &size, err,
	                    sizeof(err)) != 0)
		SKIP(t, "no Debian kernel at build/kit/vmlinuz (the kit engineer's `make kit` builds it)");
	image_read_file(build_path(path, sizeof(path), "kit/initrd.img"), 256 << 20, &initrd,
	                &initrd_size, err, sizeof(err));
	CHECK(t, linux_boot_probe(k, size));
	if (memory_init(&m, 256 << 20, err, sizeof(err)) != 0) {
		free(k);
		free(initrd);
		REQUIRE(t, false);
	}
	pc_map(&map, 256 << 20, 0x10000);
	struct linux_boot_config cfg = { .kernel = k, .kernel_size = size, .initrd = initrd,
	                                 .initrd_size = initrd_size, .cmdline = "console=ttyS0 nokaslr",
	                                 .e820 = &map };
	if (linux_boot_load(&m, &cfg, &entry, &res, err, sizeof(err)) != 0) {
		test_fail(t, __FILE__, __LINE__, "linux_boot_load: %s", err);
	} else {
		/* bookworm's 6.1 kernels speak protocol 2.15 and are relocatable. */
		CHECK(t, res.protocol >= 0x020f);
		CHECK_EQ(t, entry.eip, 0x100000);
		CHECK(t, res.kernel_end > 0x1000000);
		CHECK_EQ(t, m.ram[BOOT_ZERO_PAGE + 0x234], 1);
		CHECK(t, memcmp(m.ram + 0x100000, k + (k[0x1f1] + 1) * 512, res.kernel_size) == 0);
		if (initrd) {
			CHECK(t, res.initrd_addr >= res.kernel_end);
			CHECK(t, res.initrd_addr + initrd_size <= (256u << 20) - 0x10000);
			CHECK(t, memcmp(m.ram + res.initrd_addr, initrd, initrd_size) == 0);
		}
	}
	memory_destroy(&m);
	free(k);
	free(initrd);
}

static void multiboot_elf(struct test *t)
{
	char path[512];
	uint8_t *k;
	size_t size;
	struct memory m;
	struct e820_map map;
	struct boot_entry entry;
	struct multiboot_result res;
	static const uint8_t mod0[] = "first module", mod1[5000] = { 1, 2, 3 };
	const struct multiboot_module mods[2] = {
		{ mod0, sizeof(mod0), "mod0 arg" }, { mod1, sizeof(mod1), NULL },
	};
	struct multiboot_config cfg = { .cmdline = "info exit=1", .modules = mods, .nmodules = 2,
	                                .e820 = &map };

	if (image_read_file(build_path(path, sizeof(path), "tests/guests/board/kernel.elf"), 1 << 20, &k,
	                    &size, err, sizeof(err)) != 0) {
		test_fail(t, __FILE__, __LINE__, "%s (mk/guest.mk builds it)", err);
		return;
	}
	cfg.kernel = k;
	cfg.kernel_size = size;
	CHECK(t, multiboot_probe(k, size));
	CHECK(t, !linux_boot_probe(k, size));
	REQUIRE(t, memory_init(&m, 32 << 20, err, sizeof(err)) == 0);
	pc_map(&map, 32 << 20, 0);
	if (multiboot_load(&m, &cfg, &entry, &res, err, sizeof(err)) != 0) {
		test_fail(t, __FILE__, __LINE__, "multiboot_load: %s", err);
		memory_destroy(&m);
		free(k);
		return;
	}
	CHECK(t, res.elf);
	CHECK_EQ(t, res.load_start, 0x200000);
	CHECK(t, res.load_end > res.load_start);
	CHECK_EQ(t, entry.gpr[R_EAX], MB_BOOTLOADER_MAGIC);
	CHECK_EQ(t, entry.gpr[R_EBX], MB_INFO_ADDR);
	/* The entry point is _start inside the loaded text; the kernel's bytes are there. */
	CHECK(t, entry.eip >= res.load_start && entry.eip < res.load_end);
	CHECK(t, memcmp(m.ram + 0x200000, k + 0x1000, 12) == 0);
	CHECK_EQ(t, rd32(&m, 0x200000), 0x1BADB002);
	/* Info structure. */
	uint32_t info = MB_INFO_ADDR;
	CHECK_EQ(t, rd32(&m, info) & 0x24f, 0x24d);     /* mem, cmdline, mods, mmap, name */
	CHECK_EQ(t, rd32(&m, info + 4), 639);          /* the EBDA's KiB is not free */
	CHECK_EQ(t, rd32(&m, info + 8), ((32 << 20) - 0x100000) >> 10);
	CHECK(t, strcmp((char *)m.ram + rd32(&m, info + 16), "info exit=1") == 0);
	CHECK(t, strcmp((char *)m.ram + rd32(&m, info + 64), "vmd") == 0);
	REQUIRE(t, rd32(&m, info + 20) == 2);
	uint32_t mods_at = rd32(&m, info + 24);
	uint32_t m0 = rd32(&m, mods_at), m0end = rd32(&m, mods_at + 4);
	uint32_t m1 = rd32(&m, mods_at + 16), m1end = rd32(&m, mods_at + 20);
	CHECK_EQ(t, m0 & 0xfff, 0);
	CHECK(t, m0 >= res.load_end);
	CHECK_EQ(t, m0end - m0, sizeof(mod0));
	CHECK(t, memcmp(m.ram + m0, mod0, sizeof(mod0)) == 0);
	CHECK(t, strcmp((char *)m.ram + rd32(&m, mods_at + 8), "mod0 arg") == 0);
	CHECK_EQ(t, m1 & 0xfff, 0);
	CHECK(t, m1 >= m0end);
	CHECK_EQ(t, m1end - m1, sizeof(mod1));
	CHECK(t, memcmp(m.ram + m1, mod1, sizeof(mod1)) == 0);
	CHECK_EQ(t, m.ram[rd32(&m, mods_at + 24)], 0);  /* no cmdline: empty string */
	/* Tables low (where QEMU has them), strings after the last module. */
	CHECK(t, mods_at >= MB_INFO_ADDR && mods_at < MB_INFO_END);
	CHECK(t, rd32(&m, info + 16) >= m1end);
	CHECK(t, rd32(&m, info + 16) < res.strings_end);
	/* mmap: 24-byte records mirroring the e820 map. */
	REQUIRE(t, rd32(&m, info + 44) == 24 * map.n);
	uint32_t mm = rd32(&m, info + 48);
	for (unsigned i = 0; i < map.n; i++) {
		CHECK_EQ(t, rd32(&m, mm + 24 * i), 20);
		CHECK_EQ(t, rd64(&m, mm + 24 * i + 4), map.e[i].addr);
		CHECK_EQ(t, rd64(&m, mm + 24 * i + 12), map.e[i].size);
		CHECK_EQ(t, rd32(&m, mm + 24 * i + 20), map.e[i].type);
	}
	/* A module too large for RAM is refused. */
	static uint8_t big[1];
	const struct multiboot_module huge = { big, 64u << 20, NULL };
	cfg.modules = &huge;
	cfg.nmodules = 1;
	CHECK(t, multiboot_load(&m, &cfg, &entry, &res, err, sizeof(err)) != 0);
	CHECK(t, strstr(err, "module 0") != NULL);
	memory_destroy(&m);
	free(k);
}

/* An a.out-kludge image: header at offset 0x40, loaded at 0x300000. */
static size_t fake_aout(uint8_t *img, size_t cap, uint32_t flags_extra)
{
	uint32_t flags = 0x00010002 | flags_extra;

	memset(img, 0x90, cap);
	wr32(img + 0x40, 0x1BADB002);
	wr32(img + 0x44, flags);
	wr32(img + 0x48, (uint32_t)-(0x1BADB002 + flags));
	wr32(img + 0x4c, 0x300040);             /* header_addr */
	wr32(img + 0x50, 0x300000);             /* load_addr */
	wr32(img + 0x54, 0x300000 + 0x800);     /* load_end_addr */
	wr32(img + 0x58, 0x302000);             /* bss_end_addr */
	wr32(img + 0x5c, 0x300100);             /* entry_addr */
	return cap;
}

static void multiboot_aout_and_bad(struct test *t)
{
	uint8_t img[0x1000], bad[0x1000];
	struct memory m;
	struct e820_map map;
	struct boot_entry entry;
	struct multiboot_result res;
	struct multiboot_config cfg = { .kernel = img, .kernel_size = sizeof(img), .e820 = &map };

	REQUIRE(t, memory_init(&m, 8 << 20, err, sizeof(err)) == 0);
	pc_map(&map, 8 << 20, 0);
	fake_aout(img, sizeof(img), 0);
	memory_fill(&m, 0x300800, 0xee, 0x1800);        /* bss must come out zeroed */
	REQUIRE(t, multiboot_load(&m, &cfg, &entry, &res, err, sizeof(err)) == 0);
	CHECK(t, !res.elf);
	CHECK_EQ(t, entry.eip, 0x300100);
	CHECK_EQ(t, res.load_start, 0x300000);
	CHECK_EQ(t, res.load_end, 0x302000);
	CHECK_EQ(t, m.ram[0x300000 + 0x40], 0x02);      /* the header landed at header_addr */
	CHECK_EQ(t, m.ram[0x3007ff], 0x90);
	CHECK_EQ(t, m.ram[0x300800], 0);
	CHECK_EQ(t, m.ram[0x301fff], 0);
	CHECK_EQ(t, rd32(&m, MB_INFO_ADDR) & 8, 0);     /* no modules */

#define TRY(stmt, needle) do { \
	memcpy(bad, img, sizeof(img)); stmt; cfg.kernel = bad; \
	if (multiboot_load(&m, &cfg, &entry, &res, err, sizeof(err)) == 0) \
		test_fail(t, __FILE__, __LINE__, "loaded, expected \"%s\"", needle); \
	else if (!strstr(err, needle)) \
		test_fail(t, __FILE__, __LINE__, "error \"%s\" lacks \"%s\"", err, needle); \
	} while (0)
	TRY(wr32(bad + 0x48, 0), "no multiboot header");
	TRY(fake_aout(bad, sizeof(bad), 0x8), "requires features");
	TRY(wr32(bad + 0x4c, 0x200000), "header_addr");
	TRY(wr32(bad + 0x54, 0x310000), "load_end_addr");
	TRY(wr32(bad + 0x58, 0x300100), "bss_end_addr");
	/* Loading over the boot information area, or outside RAM. */
	TRY((wr32(bad + 0x4c, 0x8840), wr32(bad + 0x50, 0x8800), wr32(bad + 0x54, 0x9100),
	     wr32(bad + 0x58, 0)), "boot information");
	TRY((wr32(bad + 0x4c, 0x5840), wr32(bad + 0x50, 0x5800), wr32(bad + 0x54, 0x6010),
	     wr32(bad + 0x58, 0)), "boot information");
	TRY((wr32(bad + 0x4c, 0x900040), wr32(bad + 0x50, 0x900000), wr32(bad + 0x54, 0x900800),
	     wr32(bad + 0x58, 0)), "not in guest RAM");
	/* Without flag 16 the image must be ELF. */
	TRY((wr32(bad + 0x44, 0x2), wr32(bad + 0x48, (uint32_t)-(0x1BADB002 + 2))), "ELF");
	cfg.kernel = img;
	/* Truncated ELF program headers. */
	memset(bad, 0, sizeof(bad));
	memcpy(bad, "\177ELF\1\1\1", 7);
	wr16(bad + 16, 2);
	wr16(bad + 18, 3);
	wr32(bad + 28, 0xff0);
	wr16(bad + 42, 32);
	wr16(bad + 44, 4);
	wr32(bad + 0x100, 0x1BADB002);
	wr32(bad + 0x104, 0);
	wr32(bad + 0x108, (uint32_t)-0x1BADB002);
	cfg.kernel = bad;
	CHECK(t, multiboot_load(&m, &cfg, &entry, &res, err, sizeof(err)) != 0);
	CHECK(t, strstr(err, "program headers") != NULL);
#undef TRY
	memory_destroy(&m);
}

/* xorshift: reproducible mutations without global state. */
static uint32_t next_rand(uint32_t *state)
{
	uint32_t x = *state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

/*
 * Hostile images: random header mutations must end in a load or a clear
 * error, never a crash or an out-of-bounds access (the ASan build checks).
 */
static void loaders_fuzz(struct test *t)
{
	char path[512];
	uint8_t *elf, *bz, *img;
	size_t elf_size, bz_size, size;
	uint32_t seed = 0x12345678;
	struct memory m;
	struct e820_map map;
	struct boot_entry entry;
	unsigned loaded = 0, refused = 0;

	bz = fake_bzimage(0x2000, &bz_size);
	REQUIRE(t, bz != NULL);
	if (image_read_file(build_path(path, sizeof(path), "tests/guests/board/kernel.elf"), 1 << 20, &elf,
	                    &elf_size, err, sizeof(err)) != 0) {
		free(bz);
		test_fail(t, __FILE__, __LINE__, "%s", err);
		return;
	}
	img = malloc(elf_size > bz_size ? elf_size : bz_size);
	REQUIRE(t, img != NULL);
	REQUIRE(t, memory_init(&m, 40 << 20, err, sizeof(err)) == 0);
	pc_map(&map, 40 << 20, 0x10000);
	for (unsigned i = 0; i < 3000; i++) {
		bool linux = i & 1;
		const uint8_t *orig = linux ? bz : elf;
		size_t span = linux ? 0x280 : 0x200;     /* the headers the loaders parse */
		unsigned flips = 1 + next_rand(&seed) % 8;
		int rc;

		size = linux ? bz_size : elf_size;
		memcpy(img, orig, size);
		for (unsigned f = 0; f < flips; f++)
			img[next_rand(&seed) % span] = (uint8_t)next_rand(&seed);
		if (next_rand(&seed) % 4 == 0)
			size = next_rand(&seed) % size;  /* truncated too */
		err[0] = 0;
		if (linux) {
			struct linux_boot_result res;
			static const uint8_t initrd[100];
			struct linux_boot_config c = { .kernel = img, .kernel_size = size, .initrd = initrd,
			                               .initrd_size = sizeof(initrd), .cmdline = "x", .e820 = &map };
			rc = linux_boot_load(&m, &c, &entry, &res, err, sizeof(err));
		} else {
			struct multiboot_result res;
			static const uint8_t mod[10];
			const struct multiboot_module mods[1] = { { mod, sizeof(mod), "m" } };
			struct multiboot_config c = { .kernel = img, .kernel_size = size, .cmdline = "x",
			                              .modules = mods, .nmodules = 1, .e820 = &map };
			rc = multiboot_load(&m, &c, &entry, &res, err, sizeof(err));
		}
		if (rc == 0) {
			loaded++;
		} else {
			refused++;
			if (err[0] == 0)
				test_fail(t, __FILE__, __LINE__, "iteration %u: refused without a message", i);
		}
	}
	/* Both outcomes happen: the mutations are neither all harmless nor all fatal. */
	CHECK(t, loaded > 0);
	CHECK(t, refused > 0);
	memory_destroy(&m);
	free(img);
	free(elf);
	free(bz);
}

int main(int argc, char **argv)
{
	struct harness h;

	harness_init(&h, "boot", argc, argv);
	RUN(&h, e820_pc_layout);
	RUN(&h, bzimage_synthetic);
	RUN(&h, bzimage_bad);
	RUN(&h, bzimage_debian);
	RUN(&h, multiboot_elf);
	RUN(&h, multiboot_aout_and_bad);
	RUN(&h, loaders_fuzz);
	return harness_done(&h);
}
