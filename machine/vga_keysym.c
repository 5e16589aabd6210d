#include "machine/vga_keysym.h"

#include <stddef.h>

#include "machine/ps2.h"

struct keymap {
	uint32_t keysym;
	uint16_t code;
	uint8_t shift;          /* enum vga_key_shift */
};

/* The printable ASCII keysyms (equal to their character), US layout. */
static const struct keymap ascii[] = {
	{ ' ', 0x39, VGA_SHIFT_ANY },
	{ '1', 0x02, VGA_SHIFT_OFF }, { '!', 0x02, VGA_SHIFT_ON },
	{ '2', 0x03, VGA_SHIFT_OFF }, { '@', 0x03, VGA_SHIFT_ON },
	{ '3', 0x04, VGA_SHIFT_OFF }, { '#', 0x04, VGA_SHIFT_ON },
	{ '4', 0x05, VGA_SHIFT_OFF }, { '$', 0x05, VGA_SHIFT_ON },
	{ '5', 0x06, VGA_SHIFT_OFF }, { '%', 0x06, VGA_SHIFT_ON },
	{ '6', 0x07, VGA_SHIFT_OFF }, { '^', 0x07, VGA_SHIFT_ON },
	{ '7', 0x08, VGA_SHIFT_OFF }, { '&', 0x08, VGA_SHIFT_ON },
	{ '8', 0x09, VGA_SHIFT_OFF }, { '*', 0x09, VGA_SHIFT_ON },
	{ '9', 0x0a, VGA_SHIFT_OFF }, { '(', 0x0a, VGA_SHIFT_ON },
	{ '0', 0x0b, VGA_SHIFT_OFF }, { ')', 0x0b, VGA_SHIFT_ON },
	{ '-', 0x0c, VGA_SHIFT_OFF }, { '_', 0x0c, VGA_SHIFT_ON },
	{ '=', 0x0d, VGA_SHIFT_OFF }, { '+', 0x0d, VGA_SHIFT_ON },
	{ '[', 0x1a, VGA_SHIFT_OFF }, { '{', 0x1a, VGA_SHIFT_ON },
	{ ']', 0x1b, VGA_SHIFT_OFF }, { '}', 0x1b, VGA_SHIFT_ON },
	{ ';', 0x27, VGA_SHIFT_OFF }, { ':', 0x27, VGA_SHIFT_ON },
	{ '\'', 0x28, VGA_SHIFT_OFF }, { '"', 0x28, VGA_SHIFT_ON },
	{ '`', 0x29, VGA_SHIFT_OFF }, { '~', 0x29, VGA_SHIFT_ON },
	{ '\\', 0x2b, VGA_SHIFT_OFF }, { '|', 0x2b, VGA_SHIFT_ON },
	{ ',', 0x33, VGA_SHIFT_OFF }, { '<', 0x33, VGA_SHIFT_ON },
	{ '.', 0x34, VGA_SHIFT_OFF }, { '>', 0x34, VGA_SHIFT_ON },
	{ '/', 0x35, VGA_SHIFT_OFF }, { '?', 0x35, VGA_SHIFT_ON },
};

/* Letters a-z by their set-1 codes. */
static const uint8_t letters[26] = {
	0x1e, 0x30, 0x2e, 0x20, 0x12, 0x21, 0x22, 0x23, 0x17, 0x24, 0x25, 0x26, 0x32,
	0x31, 0x18, 0x19, 0x10, 0x13, 0x1f, 0x14, 0x16, 0x2f, 0x11, 0x2d, 0x15, 0x2c,
};

/* Function, editing, modifier and keypad keysyms (X11 keysymdef.h values). */
static const struct keymap special[] = {
	{ 0xff08, 0x0e, VGA_SHIFT_ANY },    /* BackSpace */
	{ 0xff09, 0x0f, VGA_SHIFT_ANY },    /* Tab */
	{ 0xfe20, 0x0f, VGA_SHIFT_ANY },    /* ISO_Left_Tab (Shift+Tab) */
	{ 0xff0d, 0x1c, VGA_SHIFT_ANY },    /* Return */
	{ 0xff13, PS2_KEY_PAUSE, VGA_SHIFT_ANY },   /* Pause */
	{ 0xff6b, PS2_KEY_PAUSE, VGA_SHIFT_ANY },   /* Break */
	{ 0xff14, 0x46, VGA_SHIFT_ANY },    /* Scroll_Lock */
	{ 0xff15, PS2_KEY_PRINT_SCREEN, VGA_SHIFT_ANY },  /* Sys_Req */
	{ 0xff61, PS2_KEY_PRINT_SCREEN, VGA_SHIFT_ANY },  /* Print */
	{ 0xff1b, 0x01, VGA_SHIFT_ANY },    /* Escape */
	{ 0xffff, 0xe053, VGA_SHIFT_ANY },  /* Delete */
	{ 0xff50, 0xe047, VGA_SHIFT_ANY },  /* Home */
	{ 0xff51, 0xe04b, VGA_SHIFT_ANY },  /* Left */
	{ 0xff52, 0xe048, VGA_SHIFT_ANY },  /* Up */
	{ 0xff53, 0xe04d, VGA_SHIFT_ANY },  /* Right */
	{ 0xff54, 0xe050, VGA_SHIFT_ANY },  /* Down */
	{ 0xff55, 0xe049, VGA_SHIFT_ANY },  /* Page_Up */
	{ 0xff56, 0xe051, VGA_SHIFT_ANY },  /* Page_Down */
	{ 0xff57, 0xe04f, VGA_SHIFT_ANY },  /* End */
	{ 0xff63, 0xe052, VGA_SHIFT_ANY },  /* Insert */
	{ 0xff67, 0xe05d, VGA_SHIFT_ANY },  /* Menu */
	{ 0xff7f, 0x45, VGA_SHIFT_ANY },    /* Num_Lock */
	{ 0xff8d, 0xe01c, VGA_SHIFT_ANY },  /* KP_Enter */
	{ 0xff95, 0x47, VGA_SHIFT_ANY },    /* KP_Home */
	{ 0xff96, 0x4b, VGA_SHIFT_ANY },    /* KP_Left */
	{ 0xff97, 0x48, VGA_SHIFT_ANY },    /* KP_Up */
	{ 0xff98, 0x4d, VGA_SHIFT_ANY },    /* KP_Right */
	{ 0xff99, 0x50, VGA_SHIFT_ANY },    /* KP_Down */
	{ 0xff9a, 0x49, VGA_SHIFT_ANY },    /* KP_Page_Up */
	{ 0xff9b, 0x51, VGA_SHIFT_ANY },    /* KP_Page_Down */
	{ 0xff9c, 0x4f, VGA_SHIFT_ANY },    /* KP_End */
	{ 0xff9d, 0x4c, VGA_SHIFT_ANY },    /* KP_Begin */
	{ 0xff9e, 0x52, VGA_SHIFT_ANY },    /* KP_Insert */
	{ 0xff9f, 0x53, VGA_SHIFT_ANY },    /* KP_Delete */
	{ 0xffaa, 0x37, VGA_SHIFT_ANY },    /* KP_Multiply */
	{ 0xffab, 0x4e, VGA_SHIFT_ANY },    /* KP_Add */
	{ 0xffac, 0x53, VGA_SHIFT_ANY },    /* KP_Separator */
	{ 0xffad, 0x4a, VGA_SHIFT_ANY },    /* KP_Subtract */
	{ 0xffae, 0x53, VGA_SHIFT_ANY },    /* KP_Decimal */
	{ 0xffaf, 0xe035, VGA_SHIFT_ANY },  /* KP_Divide */
	{ 0xffb0, 0x52, VGA_SHIFT_ANY }, { 0xffb1, 0x4f, VGA_SHIFT_ANY },  /* KP_0, KP_1 */
	{ 0xffb2, 0x50, VGA_SHIFT_ANY }, { 0xffb3, 0x51, VGA_SHIFT_ANY },
	{ 0xffb4, 0x4b, VGA_SHIFT_ANY }, { 0xffb5, 0x4c, VGA_SHIFT_ANY },
	{ 0xffb6, 0x4d, VGA_SHIFT_ANY }, { 0xffb7, 0x47, VGA_SHIFT_ANY },
	{ 0xffb8, 0x48, VGA_SHIFT_ANY }, { 0xffb9, 0x49, VGA_SHIFT_ANY },  /* KP_8, KP_9 */
	{ 0xffbe, 0x3b, VGA_SHIFT_ANY }, { 0xffbf, 0x3c, VGA_SHIFT_ANY },  /* F1, F2 */
	{ 0xffc0, 0x3d, VGA_SHIFT_ANY }, { 0xffc1, 0x3e, VGA_SHIFT_ANY },
	{ 0xffc2, 0x3f, VGA_SHIFT_ANY }, { 0xffc3, 0x40, VGA_SHIFT_ANY },
	{ 0xffc4, 0x41, VGA_SHIFT_ANY }, { 0xffc5, 0x42, VGA_SHIFT_ANY },
	{ 0xffc6, 0x43, VGA_SHIFT_ANY }, { 0xffc7, 0x44, VGA_SHIFT_ANY },  /* F9, F10 */
	{ 0xffc8, 0x57, VGA_SHIFT_ANY }, { 0xffc9, 0x58, VGA_SHIFT_ANY },  /* F11, F12 */
	{ 0xffe1, VGA_KEY_LSHIFT, VGA_SHIFT_ANY },  /* Shift_L */
	{ 0xffe2, VGA_KEY_RSHIFT, VGA_SHIFT_ANY },  /* Shift_R */
	{ 0xffe3, 0x1d, VGA_SHIFT_ANY },    /* Control_L */
	{ 0xffe4, 0xe01d, VGA_SHIFT_ANY },  /* Control_R */
	{ 0xffe5, 0x3a, VGA_SHIFT_ANY },    /* Caps_Lock */
	{ 0xffe7, 0xe05b, VGA_SHIFT_ANY },  /* Meta_L: the Windows key */
	{ 0xffe8, 0xe05c, VGA_SHIFT_ANY },  /* Meta_R */
	{ 0xffe9, 0x38, VGA_SHIFT_ANY },    /* Alt_L */
	{ 0xffea, 0xe038, VGA_SHIFT_ANY },  /* Alt_R */
	{ 0xfe03, 0xe038, VGA_SHIFT_ANY },  /* ISO_Level3_Shift (AltGr) */
	{ 0xffeb, 0xe05b, VGA_SHIFT_ANY },  /* Super_L */
	{ 0xffec, 0xe05c, VGA_SHIFT_ANY },  /* Super_R */
};

bool vga_keysym_lookup(uint32_t keysym, unsigned *keycode, enum vga_key_shift *shift)
{
	if (keysym >= 'a' && keysym <= 'z') {
		*keycode = letters[keysym - 'a'];
		*shift = VGA_SHIFT_OFF;
		return true;
	}
	if (keysym >= 'A' && keysym <= 'Z') {
		*keycode = letters[keysym - 'A'];
		*shift = VGA_SHIFT_ON;
		return true;
	}
	for (size_t i = 0; i < sizeof(ascii) / sizeof(ascii[0]); i++)
		if (ascii[i].keysym == keysym) {
			*keycode = ascii[i].code;
			*shift = ascii[i].shift;
			return true;
		}
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (special[i].keysym == keysym) {
			*keycode = special[i].code;
			*shift = special[i].shift;
			return true;
		}
	return false;
}

void vga_keyboard_init(struct vga_keyboard *k, vga_key_emit_fn emit, void *opaque)
{
	k->lshift = k->rshift = false;
	k->emit = emit;
	k->opaque = opaque;
}

bool vga_keyboard_event(struct vga_keyboard *k, uint32_t keysym, bool down)
{
	unsigned code;
	enum vga_key_shift shift;

	if (!vga_keysym_lookup(keysym, &code, &shift))
		return false;
	if (code == VGA_KEY_LSHIFT)
		k->lshift = down;
	else if (code == VGA_KEY_RSHIFT)
		k->rshift = down;
	bool held = k->lshift || k->rshift;

	/* Releases and shift-neutral keys go through as they are. */
	if (!down || shift == VGA_SHIFT_ANY || (shift == VGA_SHIFT_ON) == held) {
		k->emit(k->opaque, code, down);
		return true;
	}
	if (shift == VGA_SHIFT_ON) {
		k->emit(k->opaque, VGA_KEY_LSHIFT, true);
		k->emit(k->opaque, code, true);
		k->emit(k->opaque, VGA_KEY_LSHIFT, false);
	} else {
		/* The client holds shift for a symbol that is unshifted here. */
		if (k->lshift)
			k->emit(k->opaque, VGA_KEY_LSHIFT, false);
		if (k->rshift)
			k->emit(k->opaque, VGA_KEY_RSHIFT, false);
		k->emit(k->opaque, code, true);
		if (k->lshift)
			k->emit(k->opaque, VGA_KEY_LSHIFT, true);
		if (k->rshift)
			k->emit(k->opaque, VGA_KEY_RSHIFT, true);
	}
	return true;
}
