#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/sbuf.h"
#include "machine/memory.h"
#include "tests/unit/harness.h"

static char err[256];

static void sizes_refused(struct test *t)
{
	struct memory m;

	CHECK(t, memory_init(&m, 1 << 20, err, sizeof(err)) != 0);
	CHECK(t, strstr(err, "out of range") != NULL);
	CHECK(t, memory_init(&m, 0xE0000000ull + 4096, err, sizeof(err)) != 0);
	CHECK(t, memory_init(&m, 4ull << 30, err, sizeof(err)) != 0);
	CHECK(t, memory_init(&m, (64 << 20) + 1, err, sizeof(err)) != 0);
	CHECK(t, strstr(err, "multiple") != NULL);
	REQUIRE(t, memory_init(&m, 0xE0000000ull, err, sizeof(err)) == 0);
	memory_destroy(&m);
}

static void map_regions(struct test *t)
{
	struct memory m;
	uint8_t *p;

	REQUIRE(t, memory_init(&m, 64 << 20, err, sizeof(err)) == 0);
	/* Conventional and extended RAM: same page for read and write. */
	p = memory_page(&m, 0x1234, true);
	CHECK(t, p == m.ram + 0x1000);
	CHECK(t, memory_page(&m, 0x1234, false) == p);
	CHECK(t, memory_page(&m, 0x9ffff, true) == m.ram + 0x9f000);
	CHECK(t, memory_page(&m, 0x100000, true) == m.ram + 0x100000);
	CHECK(t, memory_page(&m, (64 << 20) - 1, true) == m.ram + (64 << 20) - 4096);
	/* VGA window and above the top of RAM: holes. */
	CHECK(t, memory_page(&m, 0xa0000, false) == NULL);
	CHECK(t, memory_page(&m, 0xbffff, true) == NULL);
	CHECK(t, memory_page(&m, 64 << 20, false) == NULL);
	CHECK(t, memory_page(&m, 0xfee00000, false) == NULL);
	/* ISA window at power-on: reads the ROM (empty: 0xFF), writes dropped. */
	p = memory_page(&m, 0xf0000, false);
	REQUIRE(t, p != NULL);
	CHECK(t, p == m.isa_rom + 0x30000);
	CHECK_EQ(t, p[0], 0xff);
	CHECK(t, memory_page(&m, 0xf0000, true) == NULL);
	CHECK(t, memory_page(&m, 0xc0000, true) == NULL);
	/* No BIOS: nothing at the top of 4 GiB. */
	CHECK(t, memory_page(&m, 0xfffffff0, false) == NULL);
	memory_destroy(&m);
}

static void bios_and_shadow(struct test *t)
{
	struct memory m;
	uint8_t *image = malloc(256 << 10), buf[4];

	REQUIRE(t, image != NULL);
	for (unsigned i = 0; i < (256u << 10); i++)
		image[i] = (uint8_t)(i >> 12);
	REQUIRE(t, memory_init(&m, 16 << 20, err, sizeof(err)) == 0);
	CHECK(t, memory_set_bios(&m, image, 1000, err, sizeof(err)) != 0);
	CHECK(t, memory_set_bios(&m, image, 2 << 20, err, sizeof(err)) != 0);
	REQUIRE(t, memory_set_bios(&m, image, 256 << 10, err, sizeof(err)) == 0);
	/* Reset vector page: the image's last page, at the top of 4 GiB and below 1 MiB. */
	CHECK_EQ(t, memory_page(&m, 0xfffffff0, false)[0], 0x3f);
	CHECK(t, memory_page(&m, 0xfffffff0, true) == NULL);
	CHECK_EQ(t, memory_page(&m, 0xfffc0000, false)[0], 0x00);
	CHECK(t, memory_page(&m, 0xfffbffff, false) == NULL);
	CHECK_EQ(t, memory_page(&m, 0xffff0, false)[0], 0x3f);
	CHECK_EQ(t, memory_page(&m, 0xe0000, false)[0], 0x20);  /* last 128 KiB only */
	CHECK_EQ(t, memory_page(&m, 0xc0000, false)[0], 0xff);
	/* Shadowing as a BIOS does: write-only RAM, copy, then read-write RAM. */
	memory_set_isa_mode(&m, 15, MEM_ISA_WRITE_RAM);
	CHECK(t, memory_page(&m, 0xfc000, true) == m.ram + 0xfc000);
	CHECK(t, memory_page(&m, 0xfc000, false) == m.isa_rom + 0x3c000);
	memory_page(&m, 0xfc000, true)[5] = 0x77;
	memory_set_isa_mode(&m, 15, MEM_ISA_READ_RAM);
	CHECK_EQ(t, memory_page(&m, 0xfc000, false)[5], 0x77);
	CHECK(t, memory_page(&m, 0xfc000, true) == NULL);
	memory_read(&m, 0xfc004, buf, 2);
	CHECK_EQ(t, buf[1], 0x77);
	memory_reset(&m);
	CHECK_EQ(t, memory_page(&m, 0xfc000, false)[5], 0x3c);
	/* Loader ROM writes land in the ROM image, not in RAM. */
	REQUIRE(t, memory_write_rom(&m, 0xf0000, "RSD PTR ", 8) == 0);
	CHECK(t, memcmp(memory_page(&m, 0xf0000, false), "RSD PTR ", 8) == 0);
	CHECK(t, memory_write_rom(&m, 0xffffc, "12345", 5) != 0);
	CHECK(t, memory_write_rom(&m, 0xbfff0, "x", 1) != 0);
	memory_destroy(&m);
	free(image);
}

static void loader_access(struct test *t)
{
	struct memory m;
	uint8_t buf[8];

	REQUIRE(t, memory_init(&m, 4 << 20, err, sizeof(err)) == 0);
	CHECK(t, memory_write(&m, 0x500, "abcd", 4) == 0);
	CHECK(t, memcmp(m.ram + 0x500, "abcd", 4) == 0);
	CHECK(t, memory_write(&m, 0x9fffe, "abcd", 4) != 0);     /* into the VGA hole */
	CHECK(t, memory_write(&m, 0xffffe, "abcd", 4) != 0);     /* from the ROM window */
	CHECK(t, memory_write(&m, (4 << 20) - 2, "abcd", 4) != 0); /* past the top */
	CHECK(t, memory_write(&m, 0xfffffffe, "abcd", 4) != 0);  /* wraps */
	CHECK(t, memory_fill(&m, 0x3ffffc, 0x5a, 4) == 0);
	CHECK_EQ(t, m.ram[0x3fffff], 0x5a);
	CHECK(t, memory_is_ram(&m, 0x100000, 3 << 20));
	CHECK(t, !memory_is_ram(&m, 0x9f000, 0x2000));
	/* Reads across a hole boundary: RAM then 0xFF. */
	memory_read(&m, 0x9fffc, buf, 8);
	CHECK_EQ(t, buf[3], 0);
	CHECK_EQ(t, buf[4], 0xff);
	memory_destroy(&m);
}

static void lazy_allocation(struct test *t)
{
	struct memory m;
	long pagesz = sysconf(_SC_PAGESIZE);
	unsigned char vec[16];

	REQUIRE(t, pagesz == 4096);
	/* 3 GiB of guest RAM must cost nothing until touched. */
	REQUIRE(t, memory_init(&m, 3ull << 30, err, sizeof(err)) == 0);
	REQUIRE(t, mincore(m.ram + (1ull << 30), sizeof(vec) * 4096, vec) == 0);
	for (unsigned i = 0; i < sizeof(vec); i++)
		CHECK_EQ(t, vec[i] & 1, 0);
	memory_page(&m, (1u << 30) + 5 * 4096, true)[0] = 1;
	REQUIRE(t, mincore(m.ram + (1ull << 30), sizeof(vec) * 4096, vec) == 0);
	CHECK_EQ(t, vec[5] & 1, 1);
	CHECK_EQ(t, vec[4] & 1, 0);
	CHECK_EQ(t, vec[6] & 1, 0);
	memory_destroy(&m);
}

static void save_load(struct test *t)
{
	struct memory a, b, c;
	struct sbuf sb, rd;

	REQUIRE(t, memory_init(&a, 8 << 20, err, sizeof(err)) == 0);
	REQUIRE(t, memory_init(&b, 8 << 20, err, sizeof(err)) == 0);
	REQUIRE(t, memory_init(&c, 16 << 20, err, sizeof(err)) == 0);
	memory_write(&a, 0x1000, "hello", 5);
	memory_write(&a, 0x7ff000, "top", 3);
	memory_set_isa_mode(&a, 3, MEM_ISA_READ_RAM | MEM_ISA_WRITE_RAM);
	memory_write_rom(&a, 0xe0010, "rom", 3);
	memory_write(&b, 0x2000, "stale", 5);
	sbuf_init(&sb);
	memory_save(&a, &sb);
	REQUIRE(t, !sb.error);
	/* Only the two touched pages are stored, not 8 MiB. */
	CHECK(t, sb.len < (256u << 10) + 3 * 4096);

	sbuf_init_read(&rd, sb.data, sb.len);
	REQUIRE(t, memory_load(&b, &rd) == 0);
	CHECK(t, memcmp(b.ram + 0x1000, "hello", 5) == 0);
	CHECK(t, memcmp(b.ram + 0x7ff000, "top", 3) == 0);
	CHECK_EQ(t, b.ram[0x2000], 0);
	CHECK_EQ(t, b.isa_mode[3], MEM_ISA_READ_RAM | MEM_ISA_WRITE_RAM);
	CHECK(t, memcmp(b.isa_rom + 0x20010, "rom", 3) == 0);

	/* Wrong size: refused, nothing changed. */
	memory_write(&c, 0x3000, "keep", 4);
	sbuf_init_read(&rd, sb.data, sb.len);
	CHECK(t, memory_load(&c, &rd) != 0);
	CHECK(t, strstr(rd.why, "MiB") != NULL);
	CHECK(t, memcmp(c.ram + 0x3000, "keep", 4) == 0);

	/* A corrupt page index: refused before anything is overwritten. */
	memory_write(&b, 0x3000, "keep", 4);
	for (size_t i = sb.len - 4 - 4096 - 4 - 4096 - 4; i < sb.len; i++) {
		/* find the second page index (0x7ff) and make it out of range */
		if (sb.data[i] == 0xff && sb.data[i + 1] == 0x07 && sb.data[i + 2] == 0 && sb.data[i + 3] == 0) {
			sb.data[i + 1] = 0x70;
			break;
		}
	}
	sbuf_init_read(&rd, sb.data, sb.len);
	CHECK(t, memory_load(&b, &rd) != 0);
	CHECK(t, strstr(rd.why, "page index") != NULL);
	CHECK(t, memcmp(b.ram + 0x3000, "keep", 4) == 0);
	/* Truncated. */
	sbuf_init_read(&rd, sb.data, sb.len - 100);
	CHECK(t, memory_load(&b, &rd) != 0);
	sbuf_free(&sb);
	memory_destroy(&a);
	memory_destroy(&b);
	memory_destroy(&c);
}

static void parse_size(struct test *t)
{
	CHECK_EQ(t, memory_parse_size("256M"), 256ull << 20);
	CHECK_EQ(t, memory_parse_size("1G"), 1ull << 30);
	CHECK_EQ(t, memory_parse_size("64k"), 64ull << 10);
	CHECK_EQ(t, memory_parse_size("512MiB"), 512ull << 20);
	CHECK_EQ(t, memory_parse_size("4096"), 4096);
	CHECK_EQ(t, memory_parse_size(""), 0);
	CHECK_EQ(t, memory_parse_size("12X"), 0);
	CHECK_EQ(t, memory_parse_size("-5M"), 0);
	CHECK_EQ(t, memory_parse_size("99999999999999999999G"), 0);
}

int main(int argc, char **argv)
{
	struct harness h;

	harness_init(&h, "memory", argc, argv);
	RUN(&h, sizes_refused);
	RUN(&h, map_regions);
	RUN(&h, bios_and_shadow);
	RUN(&h, loader_access);
	RUN(&h, lazy_allocation);
	RUN(&h, save_load);
	RUN(&h, parse_size);
	return harness_done(&h);
}
