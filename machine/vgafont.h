/*
 * The standard IBM VGA 8x16 character set (code page 437 order), 16 bytes
 * per glyph, top row first, bit 7 = leftmost pixel.
 *
 * There is no VGA BIOS on a direct Linux boot to load a font into plane 2,
 * so the device does it at reset. The glyphs are not typed in here: mk/vga.mk
 * converts Debian's console-data font /usr/share/consolefonts/default8x16.psf.gz
 * (the kbd project's copy of the VGA ROM font, GPL-2) into
 * $(O)/gen/machine/vgafont.c at build time.
 */
#ifndef MACHINE_VGAFONT_H
#define MACHINE_VGAFONT_H

#include <stdint.h>

#define VGAFONT_GLYPHS 256
#define VGAFONT_HEIGHT 16

extern const uint8_t vgafont_8x16[VGAFONT_GLYPHS * VGAFONT_HEIGHT];

#endif
