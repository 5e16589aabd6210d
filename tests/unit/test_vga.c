/* VGA registers, memory addressing, rendering and VBE, as a guest driver sees them. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lib/sbuf.h"
#include "machine/bus.h"
#include "machine/clock.h"
#include "machine/pci.h"
#include "machine/vga.h"
#include "machine/vga_keysym.h"
#include "machine/vga_png.h"
#include "machine/vgafont.h"
#include "machine/ps2.h"
#include "tests/unit/harness.h"

struct rig {
	struct clock clock;
	struct iobus io;
	struct mmiobus mmio;
	struct pci_bus pci;
	struct vga vga;
};

static struct rig *rig_new(void)
{
	struct rig *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	clock_init_manual(&r->clock);
	iobus_init(&r->io);
	mmiobus_init(&r->mmio);
	if (pci_bus_init(&r->pci, &r->io, &r->mmio) != 0 ||
	    vga_init(&r->vga, &r->clock, &r->io, &r->mmio, &r->pci, PCI_DEVFN(2, 0)) != 0) {
		free(r);
		return NULL;
	}
	return r;
}

static void rig_free(struct rig *r)
{
	if (r) {
		vga_free(&r->vga);
		free(r);
	}
}

static void out8(struct rig *r, uint16_t port, uint8_t v) { iobus_write(&r->io, port, v, 1); }
static uint8_t in8(struct rig *r, uint16_t port) { return (uint8_t)iobus_read(&r->io, port, 1); }
static void seq(struct rig *r, uint8_t i, uint8_t v) { out8(r, 0x3c4, i); out8(r, 0x3c5, v); }
static void gc(struct rig *r, uint8_t i, uint8_t v) { out8(r, 0x3ce, i); out8(r, 0x3cf, v); }
static void crtc(struct rig *r, uint8_t i, uint8_t v) { out8(r, 0x3d4, i); out8(r, 0x3d5, v); }
static void attr(struct rig *r, uint8_t i, uint8_t v)
{
	(void)in8(r, 0x3da);
	out8(r, 0x3c0, i);
	out8(r, 0x3c0, v);
	out8(r, 0x3c0, 0x20);   /* palette address source back on */
}
static uint8_t mem_r(struct rig *r, uint32_t paddr) { return (uint8_t)mmiobus_read(&r->mmio, paddr, 1); }
static void mem_w(struct rig *r, uint32_t paddr, uint8_t v) { mmiobus_write(&r->mmio, paddr, v, 1); }
static uint8_t plane(struct rig *r, uint32_t pa, unsigned p) { return r->vga.vram[pa * 4 + p]; }

/* Planar 16-colour addressing at A0000, as mode 12h leaves it. */
static void planar_mode(struct rig *r)
{
	memset(r->vga.vram, 0, VGA_PLANAR_SIZE);     /* no text-mode leftovers */
	seq(r, 4, 0x06);        /* sequential, no chain 4 */
	seq(r, 2, 0x0f);
	gc(r, 5, 0x00);
	gc(r, 6, 0x05);         /* graphics, A0000 64K */
	gc(r, 8, 0xff);
}

static void write_mode0_set_reset_and_bit_mask(struct test *t)
{
	struct rig *r = rig_new();
	REQUIRE(t, r);
	planar_mode(r);
	for (unsigned p = 0; p < 4; p++)
		r->vga.vram[10 * 4 + p] = 0xa5;
	(void)mem_r(r, 0xa0000 + 10);            /* loads the latches */
	gc(r, 0, 0x05);                         /* set/reset: planes 0 and 2 */
	gc(r, 1, 0x0f);                         /* enable set/reset on every plane */
	gc(r, 8, 0xf0);                         /* bit mask: high nibble from data */
	mem_w(r, 0xa0000 + 10, 0x00);
	CHECK_EQ(t, plane(r, 10, 0), 0xf5);
	CHECK_EQ(t, plane(r, 10, 1), 0x05);
	CHECK_EQ(t, plane(r, 10, 2), 0xf5);
	CHECK_EQ(t, plane(r, 10, 3), 0x05);
	/* Map mask leaves plane 3 alone; rotate 4 and XOR with the latches. */
	gc(r, 1, 0x00);
	gc(r, 8, 0xff);
	gc(r, 3, 0x18 | 4);                     /* XOR, rotate right 4 */
	seq(r, 2, 0x07);
	(void)mem_r(r, 0xa0000 + 10);
	mem_w(r, 0xa0000 + 10, 0x0f);           /* rotated: 0xf0 */
	CHECK_EQ(t, plane(r, 10, 0), 0xf5 ^ 0xf0);
	CHECK_EQ(t, plane(r, 10, 1), 0x05 ^ 0xf0);
	CHECK_EQ(t, plane(r, 10, 3), 0x05);
	rig_free(r);
}

static void write_modes_1_2_3(struct test *t)
{
	struct rig *r = rig_new();
	REQUIRE(t, r);
	planar_mode(r);
	for (unsigned p = 0; p < 4; p++)
		r->vga.vram[0 * 4 + p] = (uint8_t)(0x11 * (p + 1));
	/* Mode 1: the latches copied, whatever the CPU writes. */
	gc(r, 5, 0x01);
	(void)mem_r(r, 0xa0000);
	mem_w(r, 0xa0000 + 7, 0xee);
	for (unsigned p = 0; p < 4; p++)
		CHECK_EQ(t, plane(r, 7, p), 0x11 * (p + 1));
	/* Mode 2: data bits are the colour, bit mask picks the pixels. */
	gc(r, 5, 0x02);
	gc(r, 8, 0x81);
	(void)mem_r(r, 0xa0000 + 20);            /* zero latches */
	mem_w(r, 0xa0000 + 20, 0x0a);           /* colour 1010b */
	CHECK_EQ(t, plane(r, 20, 0), 0x00);
	CHECK_EQ(t, plane(r, 20, 1), 0x81);
	CHECK_EQ(t, plane(r, 20, 2), 0x00);
	CHECK_EQ(t, plane(r, 20, 3), 0x81);
	/* Mode 3: set/reset colour, rotated data ANDed into the bit mask. */
	gc(r, 5, 0x03);
	gc(r, 8, 0xff);
	gc(r, 0, 0x0c);
	(void)mem_r(r, 0xa0000 + 30);
	mem_w(r, 0xa0000 + 30, 0x3c);
	CHECK_EQ(t, plane(r, 30, 0), 0x00);
	CHECK_EQ(t, plane(r, 30, 2), 0x3c);
	CHECK_EQ(t, plane(r, 30, 3), 0x3c);
	rig_free(r);
}

static void read_modes(struct test *t)
{
	struct rig *r = rig_new();
	REQUIRE(t, r);
	planar_mode(r);
	r->vga.vram[5 * 4 + 0] = 0xf0;
	r->vga.vram[5 * 4 + 1] = 0xcc;
	r->vga.vram[5 * 4 + 2] = 0xaa;
	r->vga.vram[5 * 4 + 3] = 0x00;
	gc(r, 4, 2);
	CHECK_EQ(t, mem_r(r, 0xa0000 + 5), 0xaa);
	/* Read mode 1: pixels of colour 0011b (planes 0,1 set, 2,3 clear). */
	gc(r, 5, 0x08);
	gc(r, 2, 0x03);
	gc(r, 7, 0x0f);
	CHECK_EQ(t, mem_r(r, 0xa0000 + 5), 0xf0 & 0xcc & ~0xaa & 0xff);
	/* Don't care about plane 2: */
	gc(r, 7, 0x0b);
	CHECK_EQ(t, mem_r(r, 0xa0000 + 5), 0xf0 & 0xcc);
	rig_free(r);
}

static void chain4_and_memory_map(struct test *t)
{
	struct rig *r = rig_new();
	REQUIRE(t, r);
	memset(r->vga.vram, 0, VGA_PLANAR_SIZE);
	seq(r, 4, 0x0e);        /* chain 4 */
	seq(r, 2, 0x0f);
	gc(r, 5, 0x40);
	gc(r, 6, 0x05);         /* A0000 64K */
	mem_w(r, 0xa0000 + 1001, 0x42);
	CHECK_EQ(t, r->vga.vram[1001], 0x42);
	CHECK_EQ(t, plane(r, 250, 1), 0x42);
	CHECK_EQ(t, mem_r(r, 0xa0000 + 1001), 0x42);
	/* Outside the 64K map: not decoded. */
	mem_w(r, 0xb0000 + 4, 0x99);
	CHECK_EQ(t, r->vga.vram[4], 0);
	CHECK_EQ(t, mem_r(r, 0xb0000 + 4), 0xff);
	/* B8000/32K: only that window answers. */
	gc(r, 6, 0x0d);
	mem_w(r, 0xa0000 + 8, 0x11);
	CHECK_EQ(t, r->vga.vram[8], 0);
	mem_w(r, 0xb8000 + 8, 0x22);
	CHECK_EQ(t, r->vga.vram[8], 0x22);
	rig_free(r);
}

static void odd_even_text_memory(struct test *t)
{
	struct rig *r = rig_new();
	REQUIRE(t, r);
	/* Reset state is mode 3: B8000, odd/even. */
	mem_w(r, 0xb8000 + 2 * 3, 'Q');
	mem_w(r, 0xb8000 + 2 * 3 + 1, 0x1e);
	CHECK_EQ(t, plane(r, 3, 0), 'Q');
	CHECK_EQ(t, plane(r, 3, 1), 0x1e);
	CHECK_EQ(t, plane(r, 3, 2), vgafont_8x16[3 * 16 + 3 * 0]);   /* font untouched... */
	CHECK_EQ(t, mem_r(r, 0xb8000 + 6), 'Q');
	CHECK_EQ(t, mem_r(r, 0xb8000 + 7), 0x1e);
	rig_free(r);
}

static uint32_t px(struct rig *r, unsigned x, unsigned y) { return r->vga.fb[y * VGA_MAX_WIDTH + x]; }

static void text_renders_font_glyph(struct test *t)
{
	struct rig *r = rig_new();
	REQUIRE(t, r);
	unsigned res = vga_render(&r->vga);
	CHECK(t, res & VGA_RENDER_RESIZED);
	CHECK_EQ(t, r->vga.width, 720);
	CHECK_EQ(t, r->vga.height, 400);
	vga_tiles_clear(&r->vga);
	/* 'A' white on blue at row 2, column 5. */
	mem_w(r, 0xb8000 + (2 * 80 + 5) * 2, 'A');
	mem_w(r, 0xb8000 + (2 * 80 + 5) * 2 + 1, 0x1f);
	res = vga_render(&r->vga);
	CHECK(t, res & VGA_RENDER_CHANGED);
	CHECK(t, !(res & VGA_RENDER_RESIZED));
	unsigned set = 0;
	for (unsigned y = 0; y < 16; y++)
		for (unsigned x = 0; x < 9; x++) {
			uint8_t bits = vgafont_8x16['A' * 16 + y];
			bool on = x < 8 && (bits & (0x80 >> x));
			uint32_t want = on ? 0xffffff : 0x0000aa;
			if (px(r, 5 * 9 + x, 2 * 16 + y) != want) {
				CHECK_EQ(t, px(r, 5 * 9 + x, 2 * 16 + y), want);
				y = 16;
				break;
			}
			set += on;
		}
	CHECK(t, set > 10);
	/* Only the tiles under the character changed. */
	CHECK(t, vga_tile_is_dirty(&r->vga, 45 / 16, 32 / 16));
	CHECK(t, !vga_tile_is_dirty(&r->vga, 0, 0));
	CHECK(t, !vga_tile_is_dirty(&r->vga, 40, 20));
	/* Nothing changed: nothing redrawn. */
	uint64_t renders = r->vga.renders;
	vga_tiles_clear(&r->vga);
	CHECK_EQ(t, vga_render(&r->vga) & VGA_RENDER_CHANGED, 0);
	CHECK_EQ(t, r->vga.renders, renders);
	rig_free(r);
}

static void text_cursor_blinks_and_80x50(struct test *t)
{
	struct rig *r = rig_new();
	REQUIRE(t, r);
	crtc(r, 0x0a, 14);
	crtc(r, 0x0b, 15);
	crtc(r, 0x0e, 0);
	crtc(r, 0x0f, 81);              /* row 1, column 1 */
	/* Phase 0: cursor off; phase 1: on. */
	vga_render(&r->vga);
	CHECK_EQ(t, px(r, 9 + 3, 16 + 14), 0);
	clock_advance(&r->clock, 300000000);
	CHECK(t, vga_render(&r->vga) & VGA_RENDER_CHANGED);
	CHECK_EQ(t, px(r, 9 + 3, 16 + 14), 0xaaaaaa);
	CHECK_EQ(t, px(r, 9 + 3, 16 + 13), 0);
	/* 80x50: 8-line characters; 8-dot clock. */
	crtc(r, 0x09, 0x47);
	seq(r, 1, 0x01);
	vga_render(&r->vga);
	CHECK_EQ(t, r->vga.width, 640);
	CHECK_EQ(t, r->vga.height, 400);
	rig_free(r);
}

static void dac_and_attribute_flipflop(struct test *t)
{
	struct rig *r = rig_new();
	REQUIRE(t, r);
	out8(r, 0x3c8, 200);
	out8(r, 0x3c9, 0x3f);
	out8(r, 0x3c9, 0x7f);           /* 6 bits kept */
	out8(r, 0x3c9, 0x01);
	out8(r, 0x3c9, 0x02);           /* entry 201 starts */
	CHECK_EQ(t, in8(r, 0x3c8), 201);
	CHECK_EQ(t, in8(r, 0x3c7), 0);
	out8(r, 0x3c7, 200);
	CHECK_EQ(t, in8(r, 0x3c7), 3);
	CHECK_EQ(t, in8(r, 0x3c9), 0x3f);
	CHECK_EQ(t, in8(r, 0x3c9), 0x3f);
	CHECK_EQ(t, in8(r, 0x3c9), 0x01);
	/* Entry 201 had one of three writes: not committed. */
	CHECK_EQ(t, in8(r, 0x3c9), 0x00);
	/* Flip-flop: index, data, index...; reading 0x3DA resets it. */
	(void)in8(r, 0x3da);
	out8(r, 0x3c0, 0x21);
	out8(r, 0x3c0, 0x3b);
	CHECK_EQ(t, in8(r, 0x3c0), 0x21);
	CHECK_EQ(t, in8(r, 0x3c1), 0x3b);
	out8(r, 0x3c0, 0x22);           /* an index again */
	(void)in8(r, 0x3da);
	out8(r, 0x3c0, 0x23);           /* index after the reset */
	out8(r, 0x3c0, 0x15);
	CHECK_EQ(t, r->vga.attr[3], 0x15);
	CHECK_EQ(t, r->vga.attr[2], 0x02);
	rig_free(r);
}

static void crtc_protect_and_port_select(struct test *t)
{
	struct rig *r = rig_new();
	REQUIRE(t, r);
	crtc(r, 0x11, 0x8e);            /* protect on */
	crtc(r, 0x01, 0x33);
	CHECK_EQ(t, r->vga.crtc[1], 0x4f);
	crtc(r, 0x07, 0x00);            /* only bit 4 writable */
	CHECK_EQ(t, r->vga.crtc[7], 0x1f & ~0x10);
	crtc(r, 0x0c, 0x12);            /* above 7: writable */
	CHECK_EQ(t, r->vga.crtc[0x0c], 0x12);
	crtc(r, 0x11, 0x0e);
	crtc(r, 0x01, 0x33);
	CHECK_EQ(t, r->vga.crtc[1], 0x33);
	/* Monochrome: the CRTC moves to 0x3B4, 0x3D4 stops answering. */
	out8(r, 0x3c2, 0x66);
	CHECK_EQ(t, in8(r, 0x3cc), 0x66);
	out8(r, 0x3d4, 0x0c);
	CHECK_EQ(t, in8(r, 0x3d5), 0xff);
	out8(r, 0x3b4, 0x0c);
	CHECK_EQ(t, in8(r, 0x3b5), 0x12);
	rig_free(r);
}

static void retrace_follows_machine_time(struct test *t)
{
	struct rig *r = rig_new();
	REQUIRE(t, r);
	unsigned vr = 0, de = 0, n = 0;
	uint8_t last = in8(r, 0x3da);
	unsigned changes = 0;
	for (unsigned i = 0; i < 2000; i++) {
		clock_advance(&r->clock, 15000);        /* 30 ms in all: two frames */
		uint8_t s = in8(r, 0x3da);
		vr += (s & 0x08) != 0;
		de += (s & 0x01) != 0;
		changes += ((s ^ last) & 0x08) != 0;
		last = s;
		n++;
	}
	CHECK(t, vr > 0 && vr < n / 10);
	CHECK(t, de > vr && de < n / 2);
	CHECK(t, changes >= 3);
	/* Time standing still: the bits do not move. */
	uint8_t s0 = in8(r, 0x3da);
	for (unsigned i = 0; i < 10; i++)
		CHECK_EQ(t, in8(r, 0x3da), s0);
	rig_free(r);
}

static void mode13h_renders_palette(struct test *t)
{
	struct rig *r = rig_new();
	REQUIRE(t, r);
	/* Mode 13h registers. */
	out8(r, 0x3c2, 0x63);
	seq(r, 1, 0x01);
	seq(r, 2, 0x0f);
	seq(r, 4, 0x0e);
	crtc(r, 0x11, 0x0e);
	crtc(r, 0x01, 0x4f);
	crtc(r, 0x09, 0x41);
	crtc(r, 0x12, 0x8f);
	crtc(r, 0x07, 0x1f);
	crtc(r, 0x13, 0x28);
	crtc(r, 0x14, 0x40);
	crtc(r, 0x0c, 0);
	crtc(r, 0x0d, 0);
	gc(r, 5, 0x40);
	gc(r, 6, 0x05);
	attr(r, 0x10, 0x41);
	out8(r, 0x3c8, 7);
	out8(r, 0x3c9, 0x3f);
	out8(r, 0x3c9, 0x00);
	out8(r, 0x3c9, 0x20);
	for (unsigned y = 0; y < 200; y++)
		for (unsigned x = 0; x < 320; x++)
			mem_w(r, 0xa0000 + y * 320 + x, (uint8_t)((x + y) % 8 == 0 ? 7 : 0));
	vga_render(&r->vga);
	CHECK_EQ(t, r->vga.width, 320);
	CHECK_EQ(t, r->vga.height, 200);
	unsigned bad = 0;
	for (unsigned y = 0; y < 200; y++)
		for (unsigned x = 0; x < 320; x++) {
			uint32_t want = (x + y) % 8 == 0 ? 0xff0082 : 0;
			bad += px(r, x, y) != want;
		}
	CHECK_EQ(t, bad, 0);
	rig_free(r);
}

static void mode12h_planar_render(struct test *t)
{
	struct rig *r = rig_new();
	REQUIRE(t, r);
	memset(r->vga.vram, 0, VGA_PLANAR_SIZE);
	out8(r, 0x3c2, 0xe3);
	seq(r, 1, 0x01);
	seq(r, 2, 0x0f);
	seq(r, 4, 0x06);
	crtc(r, 0x11, 0x0c);
	crtc(r, 0x01, 0x4f);
	crtc(r, 0x07, 0x3e);
	crtc(r, 0x09, 0x40);
	crtc(r, 0x12, 0xdf);
	crtc(r, 0x13, 0x28);
	gc(r, 5, 0x00);
	gc(r, 6, 0x05);
	attr(r, 0x10, 0x01);
	/* Colour 12 (bright red: attr palette 0x3c) at pixel 9 of line 3 via write mode 2. */
	gc(r, 5, 0x02);
	gc(r, 8, 0x40);
	(void)mem_r(r, 0xa0000 + 3 * 80 + 1);
	mem_w(r, 0xa0000 + 3 * 80 + 1, 12);
	vga_render(&r->vga);
	CHECK_EQ(t, r->vga.width, 640);
	CHECK_EQ(t, r->vga.height, 480);
	CHECK_EQ(t, px(r, 9, 3), 0xff5555);
	CHECK_EQ(t, px(r, 8, 3), 0);
	CHECK_EQ(t, px(r, 10, 3), 0);
	/* Pel panning by 2: the pixel appears 2 to the left. */
	attr(r, 0x13, 2);
	vga_render(&r->vga);
	CHECK_EQ(t, px(r, 7, 3), 0xff5555);
	CHECK_EQ(t, px(r, 9, 3), 0);
	attr(r, 0x13, 0);
	/* Split screen: start address at row 100, line compare at scan line
	 * 399: rows 0-399 show memory from row 100, rows 400- from 0. */
	crtc(r, 0x0c, (100 * 80) >> 8);
	crtc(r, 0x0d, (100 * 80) & 0xff);
	crtc(r, 0x18, 399 & 0xff);
	crtc(r, 0x07, (uint8_t)(0x3e | 0x10));  /* line compare bit 8 */
	crtc(r, 0x09, 0x00);                    /* line compare bit 9 clear */
	vga_render(&r->vga);
	CHECK_EQ(t, px(r, 9, 403), 0xff5555);   /* row 3 of memory, below the split */
	CHECK_EQ(t, px(r, 9, 3), 0);            /* above: memory row 103 */
	rig_free(r);
}

static void vbe(struct rig *r, uint16_t i, uint16_t v)
{
	iobus_write(&r->io, 0x1ce, i, 2);
	iobus_write(&r->io, 0x1cf, v, 2);
}

static uint16_t vbe_rd(struct rig *r, uint16_t i)
{
	iobus_write(&r->io, 0x1ce, i, 2);
	return (uint16_t)iobus_read(&r->io, 0x1cf, 2);
}

static void vbe_mode_and_lfb(struct test *t)
{
	struct rig *r = rig_new();
	REQUIRE(t, r);
	const uint8_t pirqs[4] = { 10, 10, 11, 11 };
	REQUIRE(t, pci_bus_assign_resources(&r->pci, 0xc000, 0xfeff, 0xe0000000, 0xfebfffff, pirqs) == 0);
	CHECK_EQ(t, pci_config_read(&r->pci, PCI_DEVFN(2, 0), 0, 4), 0x11111234);
	CHECK_EQ(t, pci_config_read(&r->pci, PCI_DEVFN(2, 0), 0x0a, 2), 0x0300);
	uint32_t bar0 = pci_config_read(&r->pci, PCI_DEVFN(2, 0), PCI_BAR0, 4);
	CHECK_EQ(t, bar0 & 0xf, 0x8);           /* prefetchable 32-bit memory */
	uint32_t lfb = bar0 & ~0xfu;
	REQUIRE(t, lfb != 0);

	CHECK_EQ(t, vbe_rd(r, VBE_DISPI_INDEX_ID), 0xb0c5);
	vbe(r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_GETCAPS);
	CHECK_EQ(t, vbe_rd(r, VBE_DISPI_INDEX_XRES), 1920);
	CHECK_EQ(t, vbe_rd(r, VBE_DISPI_INDEX_YRES), 1080);
	CHECK_EQ(t, vbe_rd(r, VBE_DISPI_INDEX_BPP), 32);
	CHECK_EQ(t, vbe_rd(r, VBE_DISPI_INDEX_VIDEO_MEMORY_64K), 256);
	vbe(r, VBE_DISPI_INDEX_ENABLE, 0);
	vbe(r, VBE_DISPI_INDEX_XRES, 801);      /* not a multiple of 8: refused */
	CHECK_EQ(t, vbe_rd(r, VBE_DISPI_INDEX_XRES), 0);
	vbe(r, VBE_DISPI_INDEX_XRES, 800);
	vbe(r, VBE_DISPI_INDEX_YRES, 600);
	vbe(r, VBE_DISPI_INDEX_BPP, 32);
	vbe(r, VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
	CHECK_EQ(t, vbe_rd(r, VBE_DISPI_INDEX_VIRT_WIDTH), 800);
	vbe(r, VBE_DISPI_INDEX_XRES, 640);      /* locked while enabled */
	CHECK_EQ(t, vbe_rd(r, VBE_DISPI_INDEX_XRES), 800);

	/* Through the MMIO BAR (as the CPU does without the RAM hook)... */
	mmiobus_write(&r->mmio, lfb + (10 * 800 + 20) * 4, 0x00123456, 4);
	/* ...and as RAM, which the device only sees as a page handed out. */
	uint8_t *page = vga_lfb_page(&r->vga, lfb + 4096 * 3 + 5, true);
	REQUIRE(t, page == r->vga.vram + 4096 * 3);
	CHECK(t, vga_lfb_page(&r->vga, lfb - 1, false) == NULL);
	CHECK(t, vga_lfb_page(&r->vga, lfb + VGA_VRAM_SIZE, true) == NULL);
	memcpy(page + 8, "\x01\x02\x03\x00", 4);    /* pixel 3074 = (674, 3) */
	unsigned res = vga_render(&r->vga);
	CHECK(t, res & VGA_RENDER_RESIZED);
	CHECK(t, res & VGA_RENDER_FLUSH_TLB);
	CHECK_EQ(t, r->vga.width, 800);
	CHECK_EQ(t, r->vga.height, 600);
	CHECK_EQ(t, px(r, 20, 10), 0x123456);
	CHECK_EQ(t, px(r, 674, 3), 0x030201);
	/* Idle: no flush, no redraw. */
	CHECK_EQ(t, vga_render(&r->vga), 0);

	/* 16 bpp with a virtual width and a Y offset through the MMIO BAR2 registers. */
	uint32_t bar2 = pci_config_read(&r->pci, PCI_DEVFN(2, 0), PCI_BAR0 + 8, 4) & ~0xfu;
	REQUIRE(t, bar2 != 0);
	mmiobus_write(&r->mmio, bar2 + 0x500 + 2 * VBE_DISPI_INDEX_ENABLE, 0, 2);
	mmiobus_write(&r->mmio, bar2 + 0x500 + 2 * VBE_DISPI_INDEX_BPP, 16, 2);
	mmiobus_write(&r->mmio, bar2 + 0x500 + 2 * VBE_DISPI_INDEX_ENABLE,
	              VBE_DISPI_ENABLED | VBE_DISPI_NOCLEARMEM, 2);
	CHECK_EQ(t, mmiobus_read(&r->mmio, bar2 + 0x500 + 2 * VBE_DISPI_INDEX_BPP, 2), 16);
	vbe(r, VBE_DISPI_INDEX_VIRT_WIDTH, 1024);
	vbe(r, VBE_DISPI_INDEX_Y_OFFSET, 2);
	CHECK_EQ(t, r->vga.vbe_start, 2 * 1024 * 2);
	mmiobus_write(&r->mmio, lfb + (2 + 5) * 2048 + 7 * 2, 0xf800, 2);   /* red at (7,5) */
	vga_render(&r->vga);
	CHECK_EQ(t, px(r, 7, 5), 0xff0000);
	/* A Y offset past the end of memory is refused. */
	vbe(r, VBE_DISPI_INDEX_Y_OFFSET, 60000);
	CHECK_EQ(t, vbe_rd(r, VBE_DISPI_INDEX_Y_OFFSET), 2);
	/* Banked window at A0000 reaches the same memory. */
	vbe(r, VBE_DISPI_INDEX_BANK, 1);
	mem_w(r, 0xa0000 + 3, 0x77);
	CHECK_EQ(t, r->vga.vram[0x10003], 0x77);
	mem_w(r, 0xb0000 + 3, 0x66);           /* outside the 64 KiB bank window */
	CHECK_EQ(t, r->vga.vram[0x10003], 0x77);
	CHECK_EQ(t, mem_r(r, 0xb0000 + 3), 0xff);
	rig_free(r);
}

static void save_load_round_trip(struct test *t)
{
	struct rig *a = rig_new(), *b = rig_new();
	REQUIRE(t, a && b);
	mem_w(a, 0xb8000, 'Z');
	crtc(a, 0x0e, 0x01);
	out8(a, 0x3c8, 9);
	out8(a, 0x3c9, 1);
	out8(a, 0x3c9, 2);
	out8(a, 0x3c9, 3);
	a->vga.vram[VGA_VRAM_SIZE - 1] = 0x5a;
	struct sbuf sb;
	sbuf_init(&sb);
	vga_save(&a->vga, &sb);
	REQUIRE(t, !sb.error);
	struct sbuf rd;
	sbuf_init_read(&rd, sb.data, sb.len);
	REQUIRE(t, vga_load(&b->vga, &rd) == 0);
	CHECK_EQ(t, b->vga.vram[0], 'Z');
	CHECK_EQ(t, b->vga.crtc[0x0e], 0x01);
	CHECK_EQ(t, b->vga.palette[27 + 2], 3);
	CHECK_EQ(t, b->vga.vram[VGA_VRAM_SIZE - 1], 0x5a);
	vga_render(&a->vga);
	vga_render(&b->vga);
	CHECK(t, memcmp(a->vga.fb, b->vga.fb, (size_t)VGA_MAX_WIDTH * 400 * 4) == 0);

	/* Truncated and corrupted input is refused and changes nothing. */
	struct sbuf tr;
	sbuf_init_read(&tr, sb.data, sb.len - 100);
	b->vga.vram[0] = 'Y';
	CHECK(t, vga_load(&b->vga, &tr) != 0);
	CHECK_EQ(t, b->vga.vram[0], 'Y');
	/* A palette entry beyond 6 bits is refused. */
	uint8_t *copy = malloc(sb.len);
	REQUIRE(t, copy);
	memcpy(copy, sb.data, sb.len);
	uint8_t *pal = memmem(copy, sb.len, a->vga.palette, sizeof(a->vga.palette));
	REQUIRE(t, pal);
	pal[27] = 0x40;
	struct sbuf bad;
	sbuf_init_read(&bad, copy, sb.len);
	CHECK(t, vga_load(&b->vga, &bad) != 0);
	CHECK(t, bad.error);
	free(copy);
	sbuf_free(&sb);
	rig_free(a);
	rig_free(b);
}

struct keylog {
	unsigned n;
	unsigned code[16];
	bool down[16];
};

static void key_emit(void *opaque, unsigned code, bool down)
{
	struct keylog *l = opaque;
	if (l->n < 16) {
		l->code[l->n] = code;
		l->down[l->n] = down;
	}
	l->n++;
}

static void keysym_table(struct test *t)
{
	unsigned code;
	enum vga_key_shift sh;
	CHECK(t, vga_keysym_lookup('a', &code, &sh) && code == 0x1e && sh == VGA_SHIFT_OFF);
	CHECK(t, vga_keysym_lookup('Z', &code, &sh) && code == 0x2c && sh == VGA_SHIFT_ON);
	CHECK(t, vga_keysym_lookup('@', &code, &sh) && code == 0x03 && sh == VGA_SHIFT_ON);
	CHECK(t, vga_keysym_lookup(0xff13, &code, &sh) && code == PS2_KEY_PAUSE);
	CHECK(t, vga_keysym_lookup(0xff61, &code, &sh) && code == PS2_KEY_PRINT_SCREEN);
	CHECK(t, vga_keysym_lookup(0xffc9, &code, &sh) && code == 0x58);      /* F12 */
	CHECK(t, vga_keysym_lookup(0xff8d, &code, &sh) && code == 0xe01c);    /* KP_Enter */
	CHECK(t, vga_keysym_lookup(0xffaf, &code, &sh) && code == 0xe035);    /* KP_Divide */
	CHECK(t, vga_keysym_lookup(0xff52, &code, &sh) && code == 0xe048);    /* Up */
	CHECK(t, vga_keysym_lookup(0xffb7, &code, &sh) && code == 0x47);      /* KP_7 */
	CHECK(t, !vga_keysym_lookup(0x20ac, &code, &sh));                     /* EuroSign */

	/* '@' from a client that did not press shift: shift wrapped around 2. */
	struct keylog l = { 0 };
	struct vga_keyboard kb;
	vga_keyboard_init(&kb, key_emit, &l);
	CHECK(t, vga_keyboard_event(&kb, '@', true));
	CHECK(t, vga_keyboard_event(&kb, '@', false));
	REQUIRE(t, l.n == 4);
	CHECK(t, l.code[0] == VGA_KEY_LSHIFT && l.down[0]);
	CHECK(t, l.code[1] == 0x03 && l.down[1]);
	CHECK(t, l.code[2] == VGA_KEY_LSHIFT && !l.down[2]);
	CHECK(t, l.code[3] == 0x03 && !l.down[3]);
	/* '/' with the client's shift held (another layout's Shift+7): shift
	 * lifted around the key and pressed again. */
	memset(&l, 0, sizeof(l));
	vga_keyboard_event(&kb, 0xffe1, true);
	vga_keyboard_event(&kb, '/', true);
	REQUIRE(t, l.n == 4);
	CHECK(t, l.code[0] == VGA_KEY_LSHIFT && l.down[0]);
	CHECK(t, l.code[1] == VGA_KEY_LSHIFT && !l.down[1]);
	CHECK(t, l.code[2] == 0x35 && l.down[2]);
	CHECK(t, l.code[3] == VGA_KEY_LSHIFT && l.down[3]);
	/* 'A' with shift held: typed as is. */
	memset(&l, 0, sizeof(l));
	vga_keyboard_event(&kb, 'A', true);
	CHECK(t, l.n == 1 && l.code[0] == 0x1e);
}

static void png_decodes_back(struct test *t)
{
	enum { W = 37, H = 11 };
	uint32_t img[W * H];
	for (unsigned i = 0; i < W * H; i++)
		img[i] = (i * 2654435761u) & 0xffffff;
	uint8_t *png;
	size_t len;
	REQUIRE(t, vga_png_encode(img, W, H, W, &png, &len) == 0);
	REQUIRE(t, len > 8 + 25 + 12 + 12);
	CHECK(t, memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
	/* Walk the chunks, checking each CRC; collect IDAT. */
	size_t pos = 8;
	uint8_t *idat = NULL;
	size_t idat_len = 0;
	bool iend = false;
	while (pos + 12 <= len) {
		uint32_t n = (uint32_t)png[pos] << 24 | png[pos + 1] << 16 | png[pos + 2] << 8 | png[pos + 3];
		REQUIRE(t, pos + 12 + n <= len);
		uLong crc = crc32(crc32(0, Z_NULL, 0), png + pos + 4, 4 + n);
		const uint8_t *c = png + pos + 8 + n;
		CHECK_EQ(t, (uint32_t)c[0] << 24 | c[1] << 16 | c[2] << 8 | c[3], crc);
		if (memcmp(png + pos + 4, "IHDR", 4) == 0) {
			CHECK_EQ(t, n, 13);
			CHECK_EQ(t, png[pos + 8 + 3], W);
			CHECK_EQ(t, png[pos + 8 + 7], H);
		} else if (memcmp(png + pos + 4, "IDAT", 4) == 0) {
			idat = png + pos + 8;
			idat_len = n;
		} else if (memcmp(png + pos + 4, "IEND", 4) == 0) {
			iend = true;
		}
		pos += 12 + n;
	}
	CHECK(t, iend);
	CHECK_EQ(t, pos, len);
	REQUIRE(t, idat);
	uint8_t raw[H * (1 + W * 3)];
	uLongf raw_len = sizeof(raw);
	REQUIRE(t, uncompress(raw, &raw_len, idat, idat_len) == Z_OK);
	REQUIRE(t, raw_len == sizeof(raw));
	unsigned bad = 0;
	for (unsigned y = 0; y < H; y++) {
		const uint8_t *row = raw + y * (1 + W * 3);
		CHECK_EQ(t, row[0], 1);
		uint8_t prev[3] = { 0, 0, 0 };
		for (unsigned x = 0; x < W; x++) {
			uint8_t rgb[3];
			for (unsigned k = 0; k < 3; k++)
				prev[k] = rgb[k] = (uint8_t)(row[1 + x * 3 + k] + prev[k]);
			uint32_t got = (uint32_t)rgb[0] << 16 | rgb[1] << 8 | rgb[2];
			bad += got != img[y * W + x];
		}
	}
	CHECK_EQ(t, bad, 0);
	free(png);
	CHECK(t, vga_png_encode(img, 0, H, W, &png, &len) != 0);
}

/* A hostile guest: random register, window, VBE and BAR2 accesses with a
 * render after each batch. Nothing may crash (ASan build) and the picture
 * stays within the framebuffer. */
static void hostile_guest_random_accesses(struct test *t)
{
	struct rig *r = rig_new();
	REQUIRE(t, r);
	const uint8_t pirqs[4] = { 10, 10, 11, 11 };
	REQUIRE(t, pci_bus_assign_resources(&r->pci, 0xc000, 0xfeff, 0xe0000000, 0xfebfffff, pirqs) == 0);
	uint32_t bar2 = pci_config_read(&r->pci, PCI_DEVFN(2, 0), PCI_BAR0 + 8, 4) & ~0xfu;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (unsigned batch = 0; batch < 300; batch++) {
		for (unsigned i = 0; i < 200; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			uint32_t a = (uint32_t)(x >> 8), val = (uint32_t)(x >> 32);
			switch (x & 7) {
			case 0: case 1:
				iobus_write(&r->io, (uint16_t)(0x3b0 + a % 0x30), val & 0xff, 1 + (a >> 20) % 2);
				break;
			case 2:
				(void)iobus_read(&r->io, (uint16_t)(0x3b0 + a % 0x30), 1);
				break;
			case 3:
				iobus_write(&r->io, 0x1ce, a % 12, 2);
				iobus_write(&r->io, 0x1cf, val & 0xffff, 2);
				break;
			case 4:
				mmiobus_write(&r->mmio, 0xa0000 + a % 0x20000, val, 1u << (a >> 28) % 3);
				break;
			case 5:
				(void)mmiobus_read(&r->mmio, 0xa0000 + a % 0x20000, 4);
				break;
			default:
				mmiobus_write(&r->mmio, bar2 + a % VGA_MMIO_BAR_SIZE, val, 1u << (a >> 28) % 3);
				break;
			}
		}
		clock_advance(&r->clock, 1000000);
		vga_render(&r->vga);
		CHECK(t, r->vga.width <= VGA_MAX_WIDTH && r->vga.height <= VGA_MAX_HEIGHT);
		CHECK(t, r->vga.width >= 8 && r->vga.height >= 8);
	}
	rig_free(r);
}

int main(int argc, char **argv)
{
	struct harness h;
	harness_init(&h, "vga", argc, argv);
	RUN(&h, write_mode0_set_reset_and_bit_mask);
	RUN(&h, write_modes_1_2_3);
	RUN(&h, read_modes);
	RUN(&h, chain4_and_memory_map);
	RUN(&h, odd_even_text_memory);
	RUN(&h, text_renders_font_glyph);
	RUN(&h, text_cursor_blinks_and_80x50);
	RUN(&h, dac_and_attribute_flipflop);
	RUN(&h, crtc_protect_and_port_select);
	RUN(&h, retrace_follows_machine_time);
	RUN(&h, mode13h_renders_palette);
	RUN(&h, mode12h_planar_render);
	RUN(&h, vbe_mode_and_lfb);
	RUN(&h, save_load_round_trip);
	RUN(&h, keysym_table);
	RUN(&h, png_decodes_back);
	RUN(&h, hostile_guest_random_accesses);
	return harness_done(&h);
}
