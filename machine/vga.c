#include "machine/vga.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "lib/log.h"
#include "machine/vgafont.h"

#define VGA_SAVE_VERSION 1

/* Register indices used by name */
#define SEQ_CLOCKING   1
#define SEQ_MAP_MASK   2
#define SEQ_CHARMAP    3
#define SEQ_MEMMODE    4
#define GC_SET_RESET   0
#define GC_ENABLE_SR   1
#define GC_COLOR_CMP   2
#define GC_ROTATE      3
#define GC_READ_MAP    4
#define GC_MODE        5
#define GC_MISC        6
#define GC_DONT_CARE   7
#define GC_BIT_MASK    8
#define CRTC_HDE       0x01
#define CRTC_OVERFLOW  0x07
#define CRTC_MAX_SCAN  0x09
#define CRTC_CUR_START 0x0a
#define CRTC_CUR_END   0x0b
#define CRTC_START_HI  0x0c
#define CRTC_START_LO  0x0d
#define CRTC_CUR_HI    0x0e
#define CRTC_CUR_LO    0x0f
#define CRTC_VRE       0x11
#define CRTC_VDE       0x12
#define CRTC_OFFSET    0x13
#define CRTC_LINE_COMPARE 0x18
#define ATTR_MODE      0x10
#define ATTR_PLANE_EN  0x12
#define ATTR_PANNING   0x13
#define ATTR_COLOR_SEL 0x14

/* Retrace timing: a 70 Hz frame of 449 lines, as in the 400-line modes;
 * guests only poll the bits, so one timing serves every mode. */
#define FRAME_NS       14268000u
#define LINE_NS        31778u
#define VRETRACE_NS    (2u * LINE_NS)
#define VBLANK_NS      (49u * LINE_NS)
#define HBLANK_NS      6356u
/* Text cursor toggles every 16 frames at 60 Hz; blinking characters at half that. */
#define BLINK_NS       266666667u

/* Mode 3 as a VGA BIOS programs it. */
static const uint8_t mode3_seq[5] = { 0x03, 0x00, 0x03, 0x00, 0x02 };
static const uint8_t mode3_crtc[0x19] = {
	0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00, 0x4f, 0x0d, 0x0e, 0x00,
	0x00, 0x00, 0x00, 0x9c, 0x8e, 0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff,
};
static const uint8_t mode3_gc[9] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff };
static const uint8_t mode3_attr[0x15] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3a,
	0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00,
};
/* Writable bits of each register (the rest read as zero). */
static const uint8_t seq_mask[8] = { 0x03, 0x3d, 0x0f, 0x3f, 0x0e, 0, 0, 0 };
static const uint8_t gc_mask[16] = { 0x0f, 0x0f, 0x0f, 0x1f, 0x03, 0x7b, 0x0f, 0x0f, 0xff };

static uint8_t vram_plane(const struct vga *v, uint32_t pa, unsigned plane)
{
	return v->vram[((pa & 0xffffu) << 2) | plane];
}

/* --- retrace and blink from machine time --- */

static uint8_t input_status1(struct vga *v)
{
	uint64_t now = clock_now(v->clock);
	uint64_t in_frame = now % FRAME_NS;
	uint8_t st = 0;

	if (in_frame >= FRAME_NS - VRETRACE_NS)
		st |= 0x08;
	if (in_frame >= FRAME_NS - VBLANK_NS || now % LINE_NS >= LINE_NS - HBLANK_NS)
		st |= 0x01;
	return st;
}

static uint8_t blink_phase(const struct vga *v)
{
	return (uint8_t)((clock_now(v->clock) / BLINK_NS) & 3);
}

/* --- video memory through the 0xA0000 window --- */

/* Offset into the decoded window, or -1 if the map select leaves `offset`
 * (from 0xA0000) undecoded. */
static int64_t window_offset(const struct vga *v, uint32_t offset)
{
	static const uint32_t base[4] = { 0, 0, 0x10000, 0x18000 };
	static const uint32_t size[4] = { 0x20000, 0x10000, 0x8000, 0x8000 };
	unsigned map = (v->gc[GC_MISC] >> 2) & 3;

	if (offset < base[map] || offset - base[map] >= size[map])
		return -1;
	return offset - base[map];
}

static bool vbe_enabled(const struct vga *v)
{
	return v->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED;
}

static void load_latches(struct vga *v, uint32_t pa)
{
	uint32_t i = (pa & 0xffffu) << 2;

	v->latch = (uint32_t)v->vram[i] | (uint32_t)v->vram[i + 1] << 8 |
	           (uint32_t)v->vram[i + 2] << 16 | (uint32_t)v->vram[i + 3] << 24;
}

uint32_t vga_mem_read(struct vga *v, uint32_t offset)
{
	if (offset >= 0x20000)
		return 0xff;
	if (vbe_enabled(v)) {
		/* The window is a 64 KiB bank of the linear framebuffer at A0000. */
		if (offset >= 0x10000)
			return 0xff;
		uint64_t lin = (uint64_t)v->vbe_regs[VBE_DISPI_INDEX_BANK] * 0x10000 + (offset & 0xffff);
		return lin < VGA_VRAM_SIZE ? v->vram[lin] : 0xff;
	}
	int64_t off = window_offset(v, offset);
	if (off < 0)
		return 0xff;
	uint32_t a = (uint32_t)off;

	if (v->seq[SEQ_MEMMODE] & 0x08) {   /* chain 4 */
		load_latches(v, a >> 2);
		return vram_plane(v, a >> 2, a & 3);
	}
	if (v->gc[GC_MODE] & 0x10) {        /* odd/even */
		load_latches(v, a >> 1);
		return vram_plane(v, a >> 1, (v->gc[GC_READ_MAP] & 2) | (a & 1));
	}
	load_latches(v, a);
	if (!(v->gc[GC_MODE] & 0x08))       /* read mode 0: one plane */
		return (v->latch >> (8 * (v->gc[GC_READ_MAP] & 3))) & 0xff;
	/* Read mode 1: 1 where every plane we care about matches the colour. */
	uint8_t match = 0xff;
	for (unsigned p = 0; p < 4; p++) {
		if (!(v->gc[GC_DONT_CARE] & (1u << p)))
			continue;
		uint8_t plane = (v->latch >> (8 * p)) & 0xff;
		uint8_t want = (v->gc[GC_COLOR_CMP] & (1u << p)) ? 0xff : 0x00;
		match &= (uint8_t)~(plane ^ want);
	}
	return match;
}

static uint8_t alu(const struct vga *v, uint8_t data, unsigned p)
{
	uint8_t latch = (v->latch >> (8 * p)) & 0xff;

	switch ((v->gc[GC_ROTATE] >> 3) & 3) {
	case 1: return data & latch;
	case 2: return data | latch;
	case 3: return data ^ latch;
	default: return data;
	}
}

void vga_mem_write(struct vga *v, uint32_t offset, uint8_t value)
{
	if (offset >= 0x20000)
		return;
	if (vbe_enabled(v)) {
		if (offset >= 0x10000)
			return;
		uint64_t lin = (uint64_t)v->vbe_regs[VBE_DISPI_INDEX_BANK] * 0x10000 + (offset & 0xffff);
		if (lin < VGA_VRAM_SIZE) {
			v->vram[lin] = value;
			v->dirty = true;
		}
		return;
	}
	int64_t off = window_offset(v, offset);
	if (off < 0)
		return;
	uint32_t a = (uint32_t)off;
	uint8_t map_mask = v->seq[SEQ_MAP_MASK] & 0x0f;

	v->dirty = true;
	if (v->seq[SEQ_MEMMODE] & 0x08) {   /* chain 4: plane from the low bits */
		if (map_mask & (1u << (a & 3)))
			v->vram[(((a >> 2) & 0xffffu) << 2) | (a & 3)] = value;
		return;
	}
	if (!(v->seq[SEQ_MEMMODE] & 0x04)) { /* odd/even: A0 picks plane 0/1 (2/3) */
		unsigned plane = (v->gc[GC_READ_MAP] & 2) | (a & 1);
		if (map_mask & (1u << plane))
			v->vram[(((a >> 1) & 0xffffu) << 2) | plane] = value;
		return;
	}

	uint8_t rot = v->gc[GC_ROTATE] & 7;
	uint8_t rotated = (uint8_t)((value >> rot) | (value << ((8 - rot) & 7)));
	uint8_t bitmask = v->gc[GC_BIT_MASK];
	uint8_t planes[4];

	for (unsigned p = 0; p < 4; p++) {
		uint8_t sr = (v->gc[GC_SET_RESET] & (1u << p)) ? 0xff : 0x00;
		uint8_t data;
		switch (v->gc[GC_MODE] & 3) {
		case 0:
			data = (v->gc[GC_ENABLE_SR] & (1u << p)) ? sr : rotated;
			data = alu(v, data, p);
			break;
		case 1:
			planes[p] = (v->latch >> (8 * p)) & 0xff;
			continue;
		case 2:
			data = alu(v, (value & (1u << p)) ? 0xff : 0x00, p);
			break;
		default:    /* 3: the rotated data ANDed into the bit mask, colour from set/reset */
			data = alu(v, sr, p);
			break;
		}
		uint8_t mask = (v->gc[GC_MODE] & 3) == 3 ? (uint8_t)(bitmask & rotated) : bitmask;
		uint8_t latch = (v->latch >> (8 * p)) & 0xff;
		planes[p] = (uint8_t)((data & mask) | (latch & ~mask));
	}
	for (unsigned p = 0; p < 4; p++)
		if (map_mask & (1u << p))
			v->vram[((a & 0xffffu) << 2) | p] = planes[p];
}

static uint32_t window_read(void *dev, uint32_t addr, unsigned size)
{
	uint32_t val = 0;
	for (unsigned i = 0; i < size && i < 4; i++)
		val |= vga_mem_read(dev, addr + i) << (8 * i);
	return val;
}

static void window_write(void *dev, uint32_t addr, uint32_t value, unsigned size)
{
	for (unsigned i = 0; i < size && i < 4; i++)
		vga_mem_write(dev, addr + i, (uint8_t)(value >> (8 * i)));
}

static const struct io_ops window_ops = { .read = window_read, .write = window_write };

/* --- registers --- */

static bool colour_ports(const struct vga *v) { return v->misc & 0x01; }

uint8_t vga_port_read(struct vga *v, uint16_t port)
{
	/* The CRTC and status ports answer only at the address misc selects. */
	if ((port >= 0x3b0 && port <= 0x3bf && colour_ports(v)) ||
	    (port >= 0x3d0 && port <= 0x3df && !colour_ports(v)))
		return 0xff;
	switch (port) {
	case 0x3c0: return (uint8_t)(v->attr_index);
	case 0x3c1: return v->attr[v->attr_index & 0x1f];
	case 0x3c2: return 0x10;    /* input status 0: switch sense, no CRT interrupt */
	case 0x3c3: return 0x01;
	case 0x3c4: return v->seq_index;
	case 0x3c5: return v->seq[v->seq_index & 7];
	case 0x3c6: return v->dac_mask;
	case 0x3c7: return v->dac_state;
	case 0x3c8: return v->dac_write_index;
	case 0x3c9: {
		uint8_t val = v->palette[v->dac_read_index * 3 + v->dac_sub];
		if (++v->dac_sub == 3) {
			v->dac_sub = 0;
			v->dac_read_index++;
		}
		return val;
	}
	case 0x3ca: return v->feature;
	case 0x3cc: return v->misc;
	case 0x3ce: return v->gc_index;
	case 0x3cf: return v->gc[v->gc_index & 0x0f];
	case 0x3b4: case 0x3d4: return v->crtc_index;
	case 0x3b5: case 0x3d5: return v->crtc[v->crtc_index & 0x3f];
	case 0x3ba: case 0x3da:
		v->attr_flipflop = false;
		return input_status1(v);
	default: return 0xff;
	}
}

static void crtc_write(struct vga *v, uint8_t value)
{
	unsigned i = v->crtc_index & 0x3f;

	/* The protect bit locks registers 0-7, except line compare bit 8 in 7. */
	if ((v->crtc[CRTC_VRE] & 0x80) && i <= 7) {
		if (i == CRTC_OVERFLOW)
			v->crtc[i] = (uint8_t)((v->crtc[i] & ~0x10) | (value & 0x10));
		return;
	}
	if (i > 0x18)
		return;
	v->crtc[i] = value;
	v->dirty = true;
}

void vga_port_write(struct vga *v, uint16_t port, uint8_t value)
{
	if ((port >= 0x3b0 && port <= 0x3bf && colour_ports(v)) ||
	    (port >= 0x3d0 && port <= 0x3df && !colour_ports(v)))
		return;
	switch (port) {
	case 0x3c0:
		if (!v->attr_flipflop) {
			if ((v->attr_index ^ value) & 0x20)
				v->dirty = true;
			v->attr_index = value & 0x3f;
		} else {
			unsigned i = v->attr_index & 0x1f;
			if (i < 0x10)
				v->attr[i] = value & 0x3f;
			else if (i <= 0x14)
				v->attr[i] = value;
			v->dirty = true;
		}
		v->attr_flipflop = !v->attr_flipflop;
		break;
	case 0x3c2: v->misc = value; v->dirty = true; break;
	case 0x3c4: v->seq_index = value & 7; break;
	case 0x3c5:
		v->seq[v->seq_index & 7] = value & seq_mask[v->seq_index & 7];
		v->dirty = true;
		break;
	case 0x3c6: v->dac_mask = value; v->dirty = true; break;
	case 0x3c7:
		v->dac_read_index = value;
		v->dac_sub = 0;
		v->dac_state = 3;
		break;
	case 0x3c8:
		v->dac_write_index = value;
		v->dac_sub = 0;
		v->dac_state = 0;
		break;
	case 0x3c9:
		v->dac_latch[v->dac_sub] = value & 0x3f;
		if (++v->dac_sub == 3) {
			memcpy(&v->palette[v->dac_write_index * 3], v->dac_latch, 3);
			v->dac_sub = 0;
			v->dac_write_index++;
			v->dirty = true;
		}
		break;
	case 0x3ce: v->gc_index = value & 0x0f; break;
	case 0x3cf:
		v->gc[v->gc_index & 0x0f] = value & gc_mask[v->gc_index & 0x0f];
		v->dirty = true;
		break;
	case 0x3b4: case 0x3d4: v->crtc_index = value & 0x3f; break;
	case 0x3b5: case 0x3d5: crtc_write(v, value); break;
	case 0x3ba: case 0x3da: v->feature = value & 0x03; break;
	default: break;
	}
}

static uint32_t ports_read(void *dev, uint32_t port, unsigned size)
{
	uint32_t val = 0;
	for (unsigned i = 0; i < size && i < 4; i++)
		val |= (uint32_t)vga_port_read(dev, (uint16_t)(port + i)) << (8 * i);
	return val;
}

static void ports_write(void *dev, uint32_t port, uint32_t value, unsigned size)
{
	/* A word write to an index port sets the index, then the data. */
	for (unsigned i = 0; i < size && i < 4; i++)
		vga_port_write(dev, (uint16_t)(port + i), (uint8_t)(value >> (8 * i)));
}

static const struct io_ops port_ops = { .read = ports_read, .write = ports_write };

/* --- Bochs VBE --- */

static unsigned vbe_bytes_pp(const struct vga *v)
{
	return (v->vbe_regs[VBE_DISPI_INDEX_BPP] + 7) / 8;
}

/* Recomputes the line length and visible origin; false if the virtual
 * screen does not fit in video memory (the caller then refuses it). */
static bool vbe_layout(struct vga *v)
{
	uint16_t *r = v->vbe_regs;
	uint64_t line = (uint64_t)r[VBE_DISPI_INDEX_VIRT_WIDTH] * vbe_bytes_pp(v);
	uint64_t start = (uint64_t)r[VBE_DISPI_INDEX_Y_OFFSET] * line +
	                 (uint64_t)r[VBE_DISPI_INDEX_X_OFFSET] * vbe_bytes_pp(v);

	if (line == 0 || start + line * r[VBE_DISPI_INDEX_YRES] > VGA_VRAM_SIZE)
		return false;
	v->vbe_line_bytes = (uint32_t)line;
	v->vbe_start = (uint32_t)start;
	return true;
}

uint16_t vga_vbe_read(struct vga *v, uint16_t index)
{
	if (index >= VBE_DISPI_NUM_REGS)
		return 0;
	if (v->vbe_regs[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_GETCAPS) {
		switch (index) {
		case VBE_DISPI_INDEX_XRES: return VGA_MAX_WIDTH;
		case VBE_DISPI_INDEX_YRES: return VGA_MAX_HEIGHT;
		case VBE_DISPI_INDEX_BPP: return 32;
		default: break;
		}
	}
	if (index == VBE_DISPI_INDEX_VIDEO_MEMORY_64K)
		return VGA_VRAM_SIZE >> 16;
	return v->vbe_regs[index];
}

void vga_vbe_write(struct vga *v, uint16_t index, uint16_t value)
{
	uint16_t *r = v->vbe_regs;
	bool enabled = vbe_enabled(v);

	switch (index) {
	case VBE_DISPI_INDEX_ID:
		if (value >= VBE_DISPI_ID0 && value <= VBE_DISPI_ID5)
			r[index] = value;
		break;
	case VBE_DISPI_INDEX_XRES:
		if (!enabled && value <= VGA_MAX_WIDTH && (value & 7) == 0)
			r[index] = value;
		break;
	case VBE_DISPI_INDEX_YRES:
		if (!enabled && value <= VGA_MAX_HEIGHT)
			r[index] = value;
		break;
	case VBE_DISPI_INDEX_BPP:
		if (value == 0)
			value = 8;
		if (!enabled && (value == 8 || value == 15 || value == 16 || value == 24 || value == 32))
			r[index] = value;
		break;
	case VBE_DISPI_INDEX_BANK:
		if ((uint32_t)value << 16 < VGA_VRAM_SIZE)
			r[index] = value;
		break;
	case VBE_DISPI_INDEX_ENABLE: {
		uint16_t keep = value & (VBE_DISPI_ENABLED | VBE_DISPI_GETCAPS | VBE_DISPI_8BIT_DAC |
		                         VBE_DISPI_LFB_ENABLED | VBE_DISPI_NOCLEARMEM);
		if ((value & VBE_DISPI_ENABLED) && !enabled) {
			uint16_t old[VBE_DISPI_NUM_REGS];
			memcpy(old, r, sizeof(old));
			r[VBE_DISPI_INDEX_VIRT_WIDTH] = r[VBE_DISPI_INDEX_XRES];
			r[VBE_DISPI_INDEX_VIRT_HEIGHT] = r[VBE_DISPI_INDEX_YRES];
			r[VBE_DISPI_INDEX_X_OFFSET] = 0;
			r[VBE_DISPI_INDEX_Y_OFFSET] = 0;
			if (r[VBE_DISPI_INDEX_XRES] == 0 || r[VBE_DISPI_INDEX_YRES] == 0 || !vbe_layout(v)) {
				memcpy(r, old, sizeof(old));
				/* Once: a guest must not be able to flood the log. */
				if (!v->warned_mode)
					log_warn("vga: VBE mode %ux%ux%u refused", r[VBE_DISPI_INDEX_XRES],
				         r[VBE_DISPI_INDEX_YRES], r[VBE_DISPI_INDEX_BPP]);
				v->warned_mode = true;
				break;
			}
			if (!(value & VBE_DISPI_NOCLEARMEM))
				memset(v->vram, 0, (size_t)v->vbe_line_bytes * r[VBE_DISPI_INDEX_YRES]);
		}
		r[index] = keep;
		v->dirty = true;
		break;
	}
	case VBE_DISPI_INDEX_VIRT_WIDTH: {
		uint16_t old = r[index];
		if (value < r[VBE_DISPI_INDEX_XRES])
			break;
		r[index] = value;
		if (!vbe_layout(v)) {
			r[index] = old;
			if (!vbe_layout(v))
				v->vbe_line_bytes = 0;
			break;
		}
		r[VBE_DISPI_INDEX_VIRT_HEIGHT] = (uint16_t)(VGA_VRAM_SIZE / v->vbe_line_bytes > 0xffff
		                                 ? 0xffff : VGA_VRAM_SIZE / v->vbe_line_bytes);
		v->dirty = true;
		break;
	}
	case VBE_DISPI_INDEX_X_OFFSET:
	case VBE_DISPI_INDEX_Y_OFFSET: {
		uint16_t old = r[index];
		r[index] = value;
		if (!vbe_layout(v)) {
			r[index] = old;
			if (!vbe_layout(v))
				v->vbe_line_bytes = 0;
		}
		v->dirty = true;
		break;
	}
	default:
		break;
	}
}

static uint32_t vbe_port_read(void *dev, uint32_t port, unsigned size)
{
	struct vga *v = dev;
	if (port == 0x1ce)
		return v->vbe_index;
	return vga_vbe_read(v, v->vbe_index);
}

static void vbe_port_write(void *dev, uint32_t port, uint32_t value, unsigned size)
{
	struct vga *v = dev;
	if (port == 0x1ce)
		v->vbe_index = (uint16_t)value;
	else
		vga_vbe_write(v, v->vbe_index, (uint16_t)value);
}

static const struct io_ops vbe_port_ops = { .read = vbe_port_read, .write = vbe_port_write };

/* --- PCI BARs --- */

/* BAR0 through MMIO: used when the board does not map LFB pages as RAM. */
static uint32_t lfb_read(void *dev, uint32_t off, unsigned size)
{
	struct vga *v = dev;
	uint32_t val = 0;
	for (unsigned i = 0; i < size && i < 4; i++)
		if ((uint64_t)off + i < VGA_VRAM_SIZE)
			val |= (uint32_t)v->vram[off + i] << (8 * i);
	return val;
}

static void lfb_write(void *dev, uint32_t off, uint32_t value, unsigned size)
{
	struct vga *v = dev;
	for (unsigned i = 0; i < size && i < 4; i++)
		if ((uint64_t)off + i < VGA_VRAM_SIZE)
			v->vram[off + i] = (uint8_t)(value >> (8 * i));
	v->dirty = true;
}

static const struct io_ops lfb_ops = { .read = lfb_read, .write = lfb_write };

/* BAR2: the VGA ports 0x3C0-0x3DF at 0x400, the VBE registers at 0x500
 * (16 bits each), as the bochs DRM driver expects. */
static uint32_t mmio_read(void *dev, uint32_t off, unsigned size)
{
	struct vga *v = dev;
	if (off >= 0x400 && off < 0x420)
		return ports_read(v, 0x3c0 + (off - 0x400), size);
	if (off >= 0x500 && off < 0x500 + 2 * VBE_DISPI_NUM_REGS)
		return vga_vbe_read(v, (uint16_t)((off - 0x500) / 2));
	return 0xffffffffu >> (32 - 8 * (size > 4 ? 4 : size));
}

static void mmio_write(void *dev, uint32_t off, uint32_t value, unsigned size)
{
	struct vga *v = dev;
	if (off >= 0x400 && off < 0x420)
		ports_write(v, 0x3c0 + (off - 0x400), value, size);
	else if (off >= 0x500 && off < 0x500 + 2 * VBE_DISPI_NUM_REGS)
		vga_vbe_write(v, (uint16_t)((off - 0x500) / 2), (uint16_t)value);
}

static const struct io_ops mmio_ops = { .read = mmio_read, .write = mmio_write };

uint8_t *vga_lfb_page(struct vga *v, uint32_t paddr, bool write)
{
	const struct pci_bar *bar = &v->pci.bars[0];

	if (!bar->mapped || paddr < bar->mapped_base || paddr - bar->mapped_base >= VGA_VRAM_SIZE)
		return NULL;
	if (write) {
		v->lfb_written = true;
		v->dirty = true;
	}
	return v->vram + ((paddr - bar->mapped_base) & ~0xfffu);
}

/* --- rendering --- */

static uint32_t dac_rgb(const struct vga *v, uint8_t index)
{
	const uint8_t *c = &v->palette[(index & v->dac_mask) * 3];
	uint32_t r = (uint32_t)(c[0] << 2 | c[0] >> 4);
	uint32_t g = (uint32_t)(c[1] << 2 | c[1] >> 4);
	uint32_t b = (uint32_t)(c[2] << 2 | c[2] >> 4);
	return r << 16 | g << 8 | b;
}

/* A 4-bit attribute colour through the attribute palette to the DAC. */
static uint32_t attr_rgb(const struct vga *v, uint8_t colour)
{
	uint8_t pal = v->attr[colour & 0x0f];
	uint8_t sel = v->attr[ATTR_COLOR_SEL];
	uint8_t index;

	if (v->attr[ATTR_MODE] & 0x80)
		index = (uint8_t)(((sel & 0x0c) << 4) | ((sel & 0x03) << 4) | (pal & 0x0f));
	else
		index = (uint8_t)(((sel & 0x0c) << 4) | (pal & 0x3f));
	return dac_rgb(v, index);
}

static unsigned vde_lines(const struct vga *v)
{
	unsigned vde = v->crtc[CRTC_VDE] | (v->crtc[CRTC_OVERFLOW] & 0x02) << 7 |
	               (v->crtc[CRTC_OVERFLOW] & 0x40) << 3;
	return vde + 1;
}

static void render_text(struct vga *v, uint32_t *out, unsigned *pw, unsigned *ph, uint8_t phase)
{
	unsigned cw = (v->seq[SEQ_CLOCKING] & 0x01) ? 8 : 9;
	unsigned ch = (v->crtc[CRTC_MAX_SCAN] & 0x1f) + 1;
	unsigned cols = v->crtc[CRTC_HDE] + 1u;
	unsigned lines = vde_lines(v) / ((v->crtc[CRTC_MAX_SCAN] & 0x80) ? 2 : 1);
	unsigned rows = lines / ch;
	unsigned stride = v->crtc[CRTC_OFFSET] * 2u;
	uint32_t start = (uint32_t)v->crtc[CRTC_START_HI] << 8 | v->crtc[CRTC_START_LO];
	uint32_t cursor = (uint32_t)v->crtc[CRTC_CUR_HI] << 8 | v->crtc[CRTC_CUR_LO];
	unsigned cur_start = v->crtc[CRTC_CUR_START] & 0x1f, cur_end = v->crtc[CRTC_CUR_END] & 0x1f;
	bool cursor_on = !(v->crtc[CRTC_CUR_START] & 0x20) && (phase & 1);
	bool blink = v->attr[ATTR_MODE] & 0x08;
	bool line_graphics = v->attr[ATTR_MODE] & 0x04;
	/* Character map select: map A for attribute bit 3 set, map B clear. */
	static const uint16_t map_base[8] = { 0x0000, 0x4000, 0x8000, 0xc000,
	                                      0x2000, 0x6000, 0xa000, 0xe000 };
	uint8_t cms = v->seq[SEQ_CHARMAP];
	uint32_t font_a = map_base[((cms >> 3) & 4) | ((cms >> 2) & 3)];
	uint32_t font_b = map_base[((cms >> 2) & 4) | (cms & 3)];

	if (cols * cw > VGA_MAX_WIDTH)
		cols = VGA_MAX_WIDTH / cw;
	if (rows * ch > VGA_MAX_HEIGHT)
		rows = VGA_MAX_HEIGHT / ch;
	*pw = cols * cw;
	*ph = rows * ch;

	for (unsigned row = 0; row < rows; row++) {
		for (unsigned col = 0; col < cols; col++) {
			uint32_t pa = start + row * stride + col;
			uint8_t code = vram_plane(v, pa, 0);
			uint8_t attr = vram_plane(v, pa, 1);
			uint8_t fgc = attr & 0x0f, bgc = attr >> 4;
			if (blink) {
				bgc &= 7;
				if ((attr & 0x80) && !(phase & 2))
					fgc = bgc;
			}
			uint32_t fg = attr_rgb(v, fgc), bg = attr_rgb(v, bgc);
			uint32_t font = (attr & 0x08) ? font_a : font_b;
			bool is_cursor = cursor_on && ((pa ^ cursor) & 0xffff) == 0;
			for (unsigned y = 0; y < ch; y++) {
				uint8_t bits = vram_plane(v, font + code * 32u + y, 2);
				uint32_t *px = out + (size_t)(row * ch + y) * VGA_MAX_WIDTH + col * cw;
				if (is_cursor && cur_start <= cur_end && y >= cur_start && y <= cur_end)
					bits = 0xff;
				for (unsigned x = 0; x < 8; x++)
					px[x] = (bits & (0x80 >> x)) ? fg : bg;
				if (cw == 9)
					px[8] = (line_graphics && code >= 0xc0 && code <= 0xdf && (bits & 1)) ||
					        (is_cursor && bits == 0xff) ? fg : bg;
			}
		}
	}
}

static void render_graphics(struct vga *v, uint32_t *out, unsigned *pw, unsigned *ph)
{
	unsigned scan = ((v->crtc[CRTC_MAX_SCAN] & 0x1f) + 1) * ((v->crtc[CRTC_MAX_SCAN] & 0x80) ? 2 : 1);
	unsigned w = (v->crtc[CRTC_HDE] + 1u) * 8;
	unsigned h = vde_lines(v) / scan;
	unsigned stride = v->crtc[CRTC_OFFSET] * 2u;
	uint32_t start = (uint32_t)v->crtc[CRTC_START_HI] << 8 | v->crtc[CRTC_START_LO];
	bool mode256 = v->gc[GC_MODE] & 0x40;
	/* Line compare (split screen): after that scan line the address
	 * counter starts again at 0; the rows below show memory from 0. */
	unsigned lc = v->crtc[CRTC_LINE_COMPARE] | (v->crtc[CRTC_OVERFLOW] & 0x10) << 4 |
	              (v->crtc[CRTC_MAX_SCAN] & 0x40) << 3;
	unsigned split = lc / scan + 1;
	/* Horizontal pel panning (attribute 13h); the split part is not panned
	 * when the attribute mode's pixel panning compatibility bit is set. */
	unsigned pan = v->attr[ATTR_PANNING] & 7;

	if (mode256 || (v->seq[SEQ_CLOCKING] & 0x08))
		w /= 2;     /* two dot clocks per pixel */
	if (w > VGA_MAX_WIDTH)
		w = VGA_MAX_WIDTH;
	if (h > VGA_MAX_HEIGHT)
		h = VGA_MAX_HEIGHT;
	*pw = w;
	*ph = h;

	if (mode256) {
		uint32_t colours[256];
		for (unsigned i = 0; i < 256; i++)
			colours[i] = dac_rgb(v, (uint8_t)i);
		for (unsigned y = 0; y < h; y++) {
			uint32_t *px = out + (size_t)y * VGA_MAX_WIDTH;
			bool below = y >= split;
			uint32_t base = below ? (y - split) * stride : start + y * stride;
			unsigned p = below && (v->attr[ATTR_MODE] & 0x20) ? 0 : pan / 2;
			for (unsigned x = 0; x < w; x++)
				px[x] = colours[vram_plane(v, base + (x + p) / 4, (x + p) & 3)];
		}
		return;
	}
	uint32_t colours[16];
	uint8_t plane_en = v->attr[ATTR_PLANE_EN] & 0x0f;
	for (unsigned i = 0; i < 16; i++)
		colours[i] = attr_rgb(v, (uint8_t)i);
	for (unsigned y = 0; y < h; y++) {
		uint32_t *px = out + (size_t)y * VGA_MAX_WIDTH;
		bool below = y >= split;
		uint32_t base = below ? (y - split) * stride : start + y * stride;
		unsigned p = below && (v->attr[ATTR_MODE] & 0x20) ? 0 : pan;
		for (unsigned x = 0; x < w; x++) {
			unsigned pos = x + p;
			uint32_t pa = base + pos / 8;
			unsigned s = 7 - (pos & 7);
			uint8_t c = (uint8_t)(((vram_plane(v, pa, 0) >> s) & 1) | ((vram_plane(v, pa, 1) >> s) & 1) << 1 |
			                      ((vram_plane(v, pa, 2) >> s) & 1) << 2 | ((vram_plane(v, pa, 3) >> s) & 1) << 3);
			px[x] = colours[c & plane_en];
		}
	}
}

static void render_vbe(struct vga *v, uint32_t *out, unsigned *pw, unsigned *ph)
{
	unsigned w = v->vbe_regs[VBE_DISPI_INDEX_XRES], h = v->vbe_regs[VBE_DISPI_INDEX_YRES];
	unsigned bpp = v->vbe_regs[VBE_DISPI_INDEX_BPP], bytes = vbe_bytes_pp(v);

	*pw = w;
	*ph = h;
	for (unsigned y = 0; y < h; y++) {
		uint32_t *px = out + (size_t)y * VGA_MAX_WIDTH;
		uint64_t line = (uint64_t)v->vbe_start + (uint64_t)y * v->vbe_line_bytes;
		if (v->vbe_line_bytes == 0 || line + (uint64_t)w * bytes > VGA_VRAM_SIZE) {
			memset(px, 0, w * sizeof(*px));
			continue;
		}
		const uint8_t *s = v->vram + line;
		for (unsigned x = 0; x < w; x++, s += bytes) {
			uint32_t c;
			switch (bpp) {
			case 8: c = dac_rgb(v, s[0]); break;
			case 15: {
				unsigned p = s[0] | s[1] << 8;
				c = ((p >> 10) & 0x1f) * 255 / 31 << 16 | ((p >> 5) & 0x1f) * 255 / 31 << 8 |
				    (p & 0x1f) * 255 / 31;
				break;
			}
			case 16: {
				unsigned p = s[0] | s[1] << 8;
				c = ((p >> 11) & 0x1f) * 255 / 31 << 16 | ((p >> 5) & 0x3f) * 255 / 63 << 8 |
				    (p & 0x1f) * 255 / 31;
				break;
			}
			default:    /* 24 and 32: B, G, R in memory */
				c = (uint32_t)s[2] << 16 | (uint32_t)s[1] << 8 | s[0];
				break;
			}
			px[x] = c;
		}
	}
}

static void tile_set(struct vga *v, unsigned tx, unsigned ty)
{
	v->tile_dirty[ty][tx / 8] |= (uint8_t)(1u << (tx % 8));
}

bool vga_tile_is_dirty(const struct vga *v, unsigned tx, unsigned ty)
{
	if (tx >= VGA_TILES_X || ty >= VGA_TILES_Y)
		return false;
	return v->tile_dirty[ty][tx / 8] & (1u << (tx % 8));
}

void vga_tiles_clear(struct vga *v)
{
	memset(v->tile_dirty, 0, sizeof(v->tile_dirty));
}

unsigned vga_render(struct vga *v)
{
	unsigned result = 0, w = 0, h = 0;
	bool text = !vbe_enabled(v) && !(v->gc[GC_MISC] & 0x01);
	uint8_t phase = blink_phase(v);

	if (text && phase != v->blink_phase)
		v->dirty = true;
	if (v->lfb_written) {
		/* Pages handed out for writing may be written again unseen: make
		 * the CPU ask for them again, and look at this frame. */
		v->lfb_written = false;
		result |= VGA_RENDER_FLUSH_TLB;
	}
	if (!v->dirty && v->rendered_once)
		return result;
	v->dirty = false;
	v->blink_phase = phase;
	v->renders++;

	if (vbe_enabled(v))
		render_vbe(v, v->draw, &w, &h);
	else if (text)
		render_text(v, v->draw, &w, &h, phase);
	else
		render_graphics(v, v->draw, &w, &h);
	/* Timings that leave no picture (a guest can program anything): show
	 * a black 640x480, as a monitor without a signal would. */
	if (w < 8 || h < 8) {
		w = 640;
		h = 480;
		for (unsigned y = 0; y < h; y++)
			memset(v->draw + (size_t)y * VGA_MAX_WIDTH, 0, w * sizeof(uint32_t));
	}
	/* Screen off (sequencer) or the palette being programmed (PAS clear):
	 * the picture is black. */
	if (!vbe_enabled(v) && ((v->seq[SEQ_CLOCKING] & 0x20) || !(v->attr_index & 0x20)))
		for (unsigned y = 0; y < h; y++)
			memset(v->draw + (size_t)y * VGA_MAX_WIDTH, 0, w * sizeof(uint32_t));

	if (w != v->width || h != v->height || !v->rendered_once) {
		v->width = w;
		v->height = h;
		result |= VGA_RENDER_RESIZED | VGA_RENDER_CHANGED;
		for (unsigned y = 0; y < h; y++)
			memcpy(v->fb + (size_t)y * VGA_MAX_WIDTH, v->draw + (size_t)y * VGA_MAX_WIDTH,
			       w * sizeof(uint32_t));
		for (unsigned ty = 0; ty * VGA_TILE < h; ty++)
			for (unsigned tx = 0; tx * VGA_TILE < w; tx++)
				tile_set(v, tx, ty);
		v->rendered_once = true;
		return result;
	}
	for (unsigned ty = 0; ty * VGA_TILE < h; ty++) {
		unsigned y0 = ty * VGA_TILE, y1 = y0 + VGA_TILE < h ? y0 + VGA_TILE : h;
		for (unsigned tx = 0; tx * VGA_TILE < w; tx++) {
			unsigned x0 = tx * VGA_TILE, n = (x0 + VGA_TILE < w ? VGA_TILE : w - x0);
			bool changed = false;
			for (unsigned y = y0; y < y1; y++) {
				size_t o = (size_t)y * VGA_MAX_WIDTH + x0;
				if (memcmp(v->fb + o, v->draw + o, n * sizeof(uint32_t)) != 0) {
					memcpy(v->fb + o, v->draw + o, n * sizeof(uint32_t));
					changed = true;
				}
			}
			if (changed) {
				tile_set(v, tx, ty);
				result |= VGA_RENDER_CHANGED;
			}
		}
	}
	return result;
}

/* --- life cycle --- */

void vga_reset(struct vga *v)
{
	/* Dropping the pages zeroes them and gives the memory back: a guest
	 * that never used the LFB costs no more than the planes it touched. */
	if (madvise(v->vram, VGA_VRAM_SIZE, MADV_DONTNEED) != 0)
		memset(v->vram, 0, VGA_VRAM_SIZE);
	v->misc = 0x67;
	v->feature = 0;
	memset(v->seq, 0, sizeof(v->seq));
	memcpy(v->seq, mode3_seq, sizeof(mode3_seq));
	memset(v->crtc, 0, sizeof(v->crtc));
	memcpy(v->crtc, mode3_crtc, sizeof(mode3_crtc));
	memset(v->gc, 0, sizeof(v->gc));
	memcpy(v->gc, mode3_gc, sizeof(mode3_gc));
	memset(v->attr, 0, sizeof(v->attr));
	memcpy(v->attr, mode3_attr, sizeof(mode3_attr));
	v->seq_index = v->crtc_index = v->gc_index = 0;
	v->attr_index = 0x20;       /* palette address source: display on */
	v->attr_flipflop = false;
	v->dac_write_index = v->dac_read_index = v->dac_sub = 0;
	v->dac_state = 0;
	v->dac_mask = 0xff;
	v->latch = 0;
	/* DAC 0-63: the EGA colours (bits 5-3 low intensity rgb, 2-0 high RGB). */
	memset(v->palette, 0, sizeof(v->palette));
	for (unsigned i = 0; i < 64; i++) {
		v->palette[i * 3 + 0] = (uint8_t)(((i >> 2) & 1) * 0x2a + ((i >> 5) & 1) * 0x15);
		v->palette[i * 3 + 1] = (uint8_t)(((i >> 1) & 1) * 0x2a + ((i >> 4) & 1) * 0x15);
		v->palette[i * 3 + 2] = (uint8_t)((i & 1) * 0x2a + ((i >> 3) & 1) * 0x15);
	}
	/* The font in plane 2, 32 bytes per character, map 0. */
	for (unsigned c = 0; c < VGAFONT_GLYPHS; c++)
		for (unsigned y = 0; y < VGAFONT_HEIGHT; y++)
			v->vram[((c * 32 + y) << 2) | 2] = vgafont_8x16[c * VGAFONT_HEIGHT + y];
	/* A blank screen: spaces, light grey on black. */
	for (unsigned i = 0; i < 80 * 25; i++) {
		v->vram[i << 2] = ' ';
		v->vram[(i << 2) | 1] = 0x07;
	}
	v->vbe_index = 0;
	memset(v->vbe_regs, 0, sizeof(v->vbe_regs));
	v->vbe_regs[VBE_DISPI_INDEX_ID] = VBE_DISPI_ID5;
	v->vbe_regs[VBE_DISPI_INDEX_BPP] = 8;
	v->vbe_line_bytes = 0;
	v->vbe_start = 0;
	v->dirty = true;
	v->lfb_written = false;
}

int vga_init(struct vga *v, struct clock *clock, struct iobus *io, struct mmiobus *mmio,
             struct pci_bus *pci, uint8_t devfn)
{
	memset(v, 0, sizeof(*v));
	v->clock = clock;
	v->io = io;
	v->mmio = mmio;
	v->vram = mmap(NULL, VGA_VRAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
	               -1, 0);
	if (v->vram == MAP_FAILED)
		v->vram = NULL;
	v->fb = calloc((size_t)VGA_MAX_WIDTH * VGA_MAX_HEIGHT, sizeof(uint32_t));
	v->draw = calloc((size_t)VGA_MAX_WIDTH * VGA_MAX_HEIGHT, sizeof(uint32_t));
	if (!v->vram || !v->fb || !v->draw) {
		log_err("vga: out of memory for video memory");
		vga_free(v);
		return -1;
	}
	if (iobus_map(io, 0x3b0, 0x30, &port_ops, v, "vga") != 0 ||
	    iobus_map(io, 0x1ce, 2, &vbe_port_ops, v, "vga-vbe") != 0 ||
	    mmiobus_map(mmio, 0xa0000, 0x20000, &window_ops, v, "vga-window") != 0) {
		log_err("vga: ports or the 0xA0000 window already taken");
		vga_free(v);
		return -1;
	}
	if (pci) {
		pci_dev_init(&v->pci, "vga", VGA_PCI_VENDOR, VGA_PCI_DEVICE, 0, 0x030000);
		v->pci.opaque = v;
		if (pci_dev_add_bar(&v->pci, 0, PCI_BAR_MEM, VGA_VRAM_SIZE, true, &lfb_ops, v, "vga-lfb") != 0 ||
		    pci_dev_add_bar(&v->pci, 2, PCI_BAR_MEM, VGA_MMIO_BAR_SIZE, false, &mmio_ops, v,
		                    "vga-mmio") != 0 ||
		    pci_bus_add(pci, &v->pci, devfn) != 0) {
			log_err("vga: cannot add the PCI function");
			vga_free(v);
			return -1;
		}
	}
	vga_reset(v);
	return 0;
}

void vga_free(struct vga *v)
{
	if (v->vram)
		munmap(v->vram, VGA_VRAM_SIZE);
	free(v->fb);
	free(v->draw);
	v->vram = NULL;
	v->fb = NULL;
	v->draw = NULL;
}

/* --- save/load --- */

void vga_save(const struct vga *v, struct sbuf *sb)
{
	size_t mark = sbuf_begin(sb, "vga", VGA_SAVE_VERSION);
	uint32_t used = VGA_VRAM_SIZE;

	/* Most of 16 MiB is usually untouched: save up to the last non-zero 64 KiB. */
	while (used > 0) {
		const uint8_t *chunk = v->vram + used - 0x10000;
		bool zero = chunk[0] == 0 && memcmp(chunk, chunk + 1, 0x10000 - 1) == 0;
		if (!zero)
			break;
		used -= 0x10000;
	}
	sbuf_put_u8(sb, v->misc);
	sbuf_put_u8(sb, v->feature);
	sbuf_put_u8(sb, v->seq_index);
	sbuf_put_bytes(sb, v->seq, sizeof(v->seq));
	sbuf_put_u8(sb, v->crtc_index);
	sbuf_put_bytes(sb, v->crtc, sizeof(v->crtc));
	sbuf_put_u8(sb, v->gc_index);
	sbuf_put_bytes(sb, v->gc, sizeof(v->gc));
	sbuf_put_u8(sb, v->attr_index);
	sbuf_put_bytes(sb, v->attr, sizeof(v->attr));
	sbuf_put_bool(sb, v->attr_flipflop);
	sbuf_put_u8(sb, v->dac_write_index);
	sbuf_put_u8(sb, v->dac_read_index);
	sbuf_put_u8(sb, v->dac_sub);
	sbuf_put_u8(sb, v->dac_state);
	sbuf_put_u8(sb, v->dac_mask);
	sbuf_put_bytes(sb, v->dac_latch, sizeof(v->dac_latch));
	sbuf_put_bytes(sb, v->palette, sizeof(v->palette));
	sbuf_put_u32(sb, v->latch);
	sbuf_put_u16(sb, v->vbe_index);
	for (unsigned i = 0; i < VBE_DISPI_NUM_REGS; i++)
		sbuf_put_u16(sb, v->vbe_regs[i]);
	sbuf_put_u32(sb, used);
	sbuf_put_bytes(sb, v->vram, used);
	sbuf_end(sb, mark);
}

int vga_load(struct vga *v, struct sbuf *sb)
{
	uint32_t version, used;
	struct vga t = *v;      /* registers only; vram is copied at the end */

	if (!sbuf_open(sb, "vga", &version))
		return -1;
	if (version != VGA_SAVE_VERSION) {
		sbuf_fail(sb, "vga: unsupported state version %u", version);
		return -1;
	}
	t.misc = sbuf_get_u8(sb);
	t.feature = sbuf_get_u8(sb);
	t.seq_index = sbuf_get_u8(sb);
	sbuf_get_bytes(sb, t.seq, sizeof(t.seq));
	t.crtc_index = sbuf_get_u8(sb);
	sbuf_get_bytes(sb, t.crtc, sizeof(t.crtc));
	t.gc_index = sbuf_get_u8(sb);
	sbuf_get_bytes(sb, t.gc, sizeof(t.gc));
	t.attr_index = sbuf_get_u8(sb);
	sbuf_get_bytes(sb, t.attr, sizeof(t.attr));
	t.attr_flipflop = sbuf_get_bool(sb);
	t.dac_write_index = sbuf_get_u8(sb);
	t.dac_read_index = sbuf_get_u8(sb);
	t.dac_sub = sbuf_get_u8(sb);
	t.dac_state = sbuf_get_u8(sb);
	t.dac_mask = sbuf_get_u8(sb);
	sbuf_get_bytes(sb, t.dac_latch, sizeof(t.dac_latch));
	sbuf_get_bytes(sb, t.palette, sizeof(t.palette));
	t.latch = sbuf_get_u32(sb);
	t.vbe_index = sbuf_get_u16(sb);
	for (unsigned i = 0; i < VBE_DISPI_NUM_REGS; i++)
		t.vbe_regs[i] = sbuf_get_u16(sb);
	used = sbuf_get_u32(sb);
	if (sb->error)
		return -1;
	if (used > VGA_VRAM_SIZE || used % 0x10000) {
		sbuf_fail(sb, "vga: bad video memory size %u", used);
		return -1;
	}
	if (t.seq_index > 7 || t.crtc_index > 0x3f || t.gc_index > 0x0f || t.attr_index > 0x3f ||
	    t.dac_sub > 2) {
		sbuf_fail(sb, "vga: register index out of range");
		return -1;
	}
	for (unsigned i = 0; i < 8; i++)
		if (t.seq[i] & ~seq_mask[i]) {
			sbuf_fail(sb, "vga: bad sequencer register %u", i);
			return -1;
		}
	for (unsigned i = 0; i < 768; i++)
		if (t.palette[i] > 0x3f) {
			sbuf_fail(sb, "vga: bad palette entry %u", i);
			return -1;
		}
	uint16_t *r = t.vbe_regs;
	if (r[VBE_DISPI_INDEX_XRES] > VGA_MAX_WIDTH || r[VBE_DISPI_INDEX_YRES] > VGA_MAX_HEIGHT ||
	    (r[VBE_DISPI_INDEX_BPP] != 8 && r[VBE_DISPI_INDEX_BPP] != 15 && r[VBE_DISPI_INDEX_BPP] != 16 &&
	     r[VBE_DISPI_INDEX_BPP] != 24 && r[VBE_DISPI_INDEX_BPP] != 32) ||
	    ((uint32_t)r[VBE_DISPI_INDEX_BANK] << 16) >= VGA_VRAM_SIZE) {
		sbuf_fail(sb, "vga: bad VBE registers");
		return -1;
	}
	if ((r[VBE_DISPI_INDEX_ENABLE] & VBE_DISPI_ENABLED) && !vbe_layout(&t)) {
		sbuf_fail(sb, "vga: VBE mode does not fit in video memory");
		return -1;
	}
	/* Read the memory into a scratch copy so a short input changes nothing. */
	uint8_t *mem = malloc(used ? used : 1);
	if (!mem) {
		sbuf_fail(sb, "vga: out of memory");
		return -1;
	}
	sbuf_get_bytes(sb, mem, used);
	if (sb->error || !sbuf_close(sb)) {
		free(mem);
		return -1;
	}
	*v = t;
	memcpy(v->vram, mem, used);
	memset(v->vram + used, 0, VGA_VRAM_SIZE - used);
	free(mem);
	v->dirty = true;
	v->rendered_once = false;
	return 0;
}
