/*
 * The VGA: a standard VGA register set and planar memory behind the
 * 0xA0000-0xBFFFF window, plus the Bochs VBE extension with a linear
 * framebuffer, presented as the PCI display device 1234:1111 (the "stdvga"
 * that Linux's bochs DRM driver and vesafb/vgacon know).
 *
 * Video memory layout. vram holds VGA_VRAM_SIZE bytes. The VGA's four
 * planes live in its first 256 KiB interleaved: byte p of planar address a
 * is vram[a * 4 + p]. That makes chain-4 (mode 13h) a plain linear byte
 * array and lets the VBE modes use the same memory linearly. Odd/even
 * addressing (text modes) packs too: CPU offset o goes to planar address
 * o >> 1, plane o & 1 (plus the "odd/even page" from the read map select),
 * so text character i is planar address i and the CRTC start address and
 * cursor location count characters, as vgacon programs them.
 *
 * The device renders into a 32-bit XRGB framebuffer (vga->fb, stride
 * VGA_MAX_WIDTH pixels) on demand: vga_render() redraws only if something
 * changed since the last call (video memory written through the window or
 * through the LFB, a register that affects the picture, the cursor blink
 * phase) and reports which 16x16 tiles differ from the previous frame.
 *
 * Dirty tracking of the linear framebuffer: the CPU reaches it as RAM
 * through vga_lfb_page(), so writes are invisible to the device. A page
 * handed out for writing is recorded as dirty; vga_render() clears the
 * record and returns VGA_RENDER_FLUSH_TLB so the board drops the CPU's
 * cached page pointers (cpu_flush_tlb) and the next write to each page asks
 * again. That costs one TLB flush per frame, and only while something is
 * drawing into the LFB; comparing page hashes instead would read all of a
 * 1920x1080x32 frame (8 MiB) 30 times a second even on an idle screen.
 * Rendering is then compared tile by tile against the previous frame, so a
 * client is sent only what really changed.
 */
#ifndef MACHINE_VGA_H
#define MACHINE_VGA_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/sbuf.h"
#include "machine/bus.h"
#include "machine/clock.h"
#include "machine/pci.h"

#define VGA_VRAM_SIZE   (16u << 20)     /* BAR0: 16 MiB */
#define VGA_PLANAR_SIZE (256u << 10)    /* the VGA's own 4 x 64 KiB */
#define VGA_MAX_WIDTH   1920
#define VGA_MAX_HEIGHT  1080
#define VGA_TILE        16
#define VGA_TILES_X     (VGA_MAX_WIDTH / VGA_TILE)
#define VGA_TILES_Y     ((VGA_MAX_HEIGHT + VGA_TILE - 1) / VGA_TILE)
#define VGA_PCI_VENDOR  0x1234
#define VGA_PCI_DEVICE  0x1111
#define VGA_MMIO_BAR_SIZE 0x1000        /* BAR2: VGA ports at 0x400, VBE at 0x500 */

/* Bochs VBE (ports 0x1CE index / 0x1CF data) */
#define VBE_DISPI_INDEX_ID          0x0
#define VBE_DISPI_INDEX_XRES        0x1
#define VBE_DISPI_INDEX_YRES        0x2
#define VBE_DISPI_INDEX_BPP         0x3
#define VBE_DISPI_INDEX_ENABLE      0x4
#define VBE_DISPI_INDEX_BANK        0x5
#define VBE_DISPI_INDEX_VIRT_WIDTH  0x6
#define VBE_DISPI_INDEX_VIRT_HEIGHT 0x7
#define VBE_DISPI_INDEX_X_OFFSET    0x8
#define VBE_DISPI_INDEX_Y_OFFSET    0x9
#define VBE_DISPI_INDEX_VIDEO_MEMORY_64K 0xa
#define VBE_DISPI_NUM_REGS          0xb
#define VBE_DISPI_ID0               0xB0C0
#define VBE_DISPI_ID5               0xB0C5
#define VBE_DISPI_ENABLED           0x01
#define VBE_DISPI_GETCAPS           0x02
#define VBE_DISPI_8BIT_DAC          0x20
#define VBE_DISPI_LFB_ENABLED       0x40
#define VBE_DISPI_NOCLEARMEM        0x80

struct vga {
	uint8_t *vram;                  /* VGA_VRAM_SIZE bytes */
	uint32_t *fb;                   /* rendered picture, VGA_MAX_WIDTH stride */
	unsigned width, height;         /* of the picture in fb */
	struct clock *clock;
	struct mmiobus *mmio;
	struct iobus *io;

	/* VGA registers */
	uint8_t misc;                   /* 0x3C2 write / 0x3CC read */
	uint8_t feature;                /* 0x3?A write / 0x3CA read */
	uint8_t seq_index, seq[8];
	uint8_t crtc_index, crtc[0x40];
	uint8_t gc_index, gc[16];
	uint8_t attr_index, attr[0x20];
	bool attr_flipflop;             /* false: next 0x3C0 write is an index */
	uint8_t dac_write_index, dac_read_index, dac_sub;
	uint8_t dac_state;              /* 0x3C7 read: 0 = reading, 3 = writing */
	uint8_t dac_mask;               /* 0x3C6 */
	uint8_t dac_latch[3];
	uint8_t palette[768];           /* 6-bit RGB triples */
	uint32_t latch;                 /* the four plane latches, plane p in bits 8p */

	/* VBE */
	uint16_t vbe_index;
	uint16_t vbe_regs[VBE_DISPI_NUM_REGS];
	uint32_t vbe_line_bytes;        /* virtual line length */
	uint32_t vbe_start;             /* byte offset of the visible origin */

	/* PCI */
	struct pci_dev pci;

	/* Where the 0xA0000 window and the LFB currently decode. */
	bool lfb_mapped;
	uint32_t lfb_base;

	/* Change tracking (not saved: a loaded machine redraws everything). */
	uint32_t *draw;                 /* scratch picture compared against fb */
	bool dirty;                     /* memory or a register changed the picture */
	bool lfb_written;               /* a page went out for writing since the last frame */
	uint8_t blink_phase;            /* cursor/blink phase last rendered */
	bool rendered_once;
	bool warned_mode;               /* a refused VBE mode was logged */
	uint8_t tile_dirty[VGA_TILES_Y][VGA_TILES_X / 8 + 1];
	uint64_t renders;               /* frames actually redrawn */
};

/* Allocates video memory and the framebuffer, maps the legacy ports and
 * window, adds the PCI function at `devfn` (BAR0 LFB, BAR2 MMIO). */
int vga_init(struct vga *v, struct clock *clock, struct iobus *io, struct mmiobus *mmio,
             struct pci_bus *pci, uint8_t devfn);
void vga_free(struct vga *v);
/* Power-on state: 80x25 colour text (mode 3) with the standard 8x16 font
 * in plane 2 and the default palette, as a VGA BIOS would leave it. */
void vga_reset(struct vga *v);

/* The board's ram_page hook for physical addresses in the LFB BAR: the
 * vram page, or NULL if paddr is not in the mapped LFB. */
uint8_t *vga_lfb_page(struct vga *v, uint32_t paddr, bool write);

#define VGA_RENDER_CHANGED   0x1u      /* fb differs from the last frame (tiles set) */
#define VGA_RENDER_RESIZED   0x2u      /* width/height changed */
#define VGA_RENDER_FLUSH_TLB 0x4u      /* board: cpu_flush_tlb() (see above) */
/* Brings fb up to date; returns VGA_RENDER_* bits. tile_dirty[][] then
 * marks the 16x16 tiles that changed; vga_tiles_clear() resets them. */
unsigned vga_render(struct vga *v);
void vga_tiles_clear(struct vga *v);
bool vga_tile_is_dirty(const struct vga *v, unsigned tx, unsigned ty);

/* The 0xA0000 window and the ports as the guest reaches them (also for
 * tests, which drive the device without a CPU). */
uint32_t vga_mem_read(struct vga *v, uint32_t offset);            /* offset from 0xA0000 */
void vga_mem_write(struct vga *v, uint32_t offset, uint8_t value);
uint8_t vga_port_read(struct vga *v, uint16_t port);
void vga_port_write(struct vga *v, uint16_t port, uint8_t value);
uint16_t vga_vbe_read(struct vga *v, uint16_t index);
void vga_vbe_write(struct vga *v, uint16_t index, uint16_t value);

/* Saves registers and video memory up to the highest non-zero 64 KiB. */
void vga_save(const struct vga *v, struct sbuf *sb);
int vga_load(struct vga *v, struct sbuf *sb);

/* The 8x16 font loaded into plane 2 at reset (machine/vgafont.h). */

#endif
