/*
 * Keyboard input from a VNC client: X keysyms (RFB KeyEvent) to the PS/2
 * keyboard's set-1 key codes (machine/ps2.h) for a US layout.
 *
 * A keysym names a symbol, not a key: a client with another layout sends
 * '@' for its own AltGr+q or Shift+2 and we must type '@' the US way
 * (Shift+2). The translator tracks which shift keys the client holds and
 * wraps a key in a temporary shift press (or release) when the symbol
 * needs the other shift state, then restores what the client holds.
 */
#ifndef MACHINE_VGA_KEYSYM_H
#define MACHINE_VGA_KEYSYM_H

#include <stdbool.h>
#include <stdint.h>

#define VGA_KEY_LSHIFT 0x2au
#define VGA_KEY_RSHIFT 0x36u

/* How a symbol is typed on a US keyboard. */
enum vga_key_shift {
	VGA_SHIFT_ANY,          /* keys that mean the same with or without shift */
	VGA_SHIFT_OFF,          /* the unshifted symbol of its key */
	VGA_SHIFT_ON,           /* the shifted symbol */
};

/* Key code (set 1, 0xE0xx extended, PS2_KEY_PAUSE/PRINT_SCREEN) and the
 * shift state it needs; false for a keysym with no key on a US keyboard. */
bool vga_keysym_lookup(uint32_t keysym, unsigned *keycode, enum vga_key_shift *shift);

typedef void (*vga_key_emit_fn)(void *opaque, unsigned keycode, bool down);

struct vga_keyboard {
	bool lshift, rshift;    /* shift keys the client holds */
	vga_key_emit_fn emit;
	void *opaque;
};

void vga_keyboard_init(struct vga_keyboard *k, vga_key_emit_fn emit, void *opaque);
/* One RFB KeyEvent. Unknown keysyms are ignored (returns false). */
bool vga_keyboard_event(struct vga_keyboard *k, uint32_t keysym, bool down);

#endif
