/*
 * The PS/2 keyboard and mouse that sit behind the i8042 controller.
 *
 * Each device has its own queue of bytes towards the controller and a
 * command interpreter for bytes the controller forwards to it. The
 * controller pulls bytes (ps2_*_read) when its output buffer is free and
 * is told through `notify` when a device has new bytes.
 *
 * Host input enters here: ps2_kbd_key() with set-1 key codes, and
 * ps2_mouse_move() with relative motion. The keyboard emits set 1, 2 or 3
 * bytes as the guest selected; translation of set 2 to set 1 is the
 * controller's business (machine/i8042.h), as on real hardware.
 */
#ifndef MACHINE_PS2_H
#define MACHINE_PS2_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/sbuf.h"

#define PS2_QUEUE_SIZE 256

struct ps2_queue {
	uint8_t data[PS2_QUEUE_SIZE];
	unsigned head;      /* index of the oldest byte */
	unsigned count;
};

/* Key codes for ps2_kbd_key(): the set-1 make code, 0xE0xx for keys with
 * the E0 prefix. Two keys have sequences of their own: */
#define PS2_KEY_PRINT_SCREEN 0xE037u  /* E0 2A E0 37 / E0 B7 E0 AA in set 1 */
#define PS2_KEY_PAUSE        0xE11Du  /* E1 1D 45 E1 9D C5, make only */

struct ps2_kbd {
	struct ps2_queue q;
	void (*notify)(void *opaque);   /* bytes became available */
	void *opaque;

	uint8_t scancode_set;   /* 1, 2 or 3 */
	bool scanning;          /* F4 enables, F5/F6 and reset leave it per spec */
	uint8_t leds;           /* ED: bit 0 scroll, 1 num, 2 caps */
	uint8_t typematic;      /* F3 parameter */
	uint8_t pending_cmd;    /* command waiting for its parameter, 0 if none */
	uint8_t last_sent;      /* for FE (resend) */
	/* Set 3 per-key behaviour (F7-FD), indexed by set-3 code:
	 * PS2_KEY_BREAK sends F0 xx on release, PS2_KEY_TYPEMATIC lets a
	 * held key repeat its make code. */
	uint8_t key_type[256];
	uint8_t down[32];       /* set-3 codes held, for non-typematic keys */
	uint8_t list_cmd;       /* FB/FC/FD taking a list of key codes, or 0 */
};

#define PS2_KEY_BREAK     0x01u
#define PS2_KEY_TYPEMATIC 0x02u

#define PS2_MOUSE_LEFT   0x01u
#define PS2_MOUSE_RIGHT  0x02u
#define PS2_MOUSE_MIDDLE 0x04u

enum ps2_mouse_mode { PS2_MOUSE_STREAM, PS2_MOUSE_REMOTE, PS2_MOUSE_WRAP };

struct ps2_mouse {
	struct ps2_queue q;
	void (*notify)(void *opaque);
	void *opaque;

	uint8_t mode;           /* enum ps2_mouse_mode */
	uint8_t prev_mode;      /* mode to return to when leaving wrap mode */
	bool reporting;         /* F4/F5: data reporting in stream mode */
	bool scaling21;         /* E7/E6 */
	uint8_t resolution;     /* E8: 0..3 = 1, 2, 4, 8 counts/mm */
	uint8_t sample_rate;    /* F3 */
	uint8_t id;             /* 0 standard, 3 IntelliMouse (wheel) */
	uint8_t rate_hist[3];   /* last sample rates set, for the wheel knock */
	uint8_t pending_cmd;
	uint8_t last_sent;

	/* Motion not yet sent: accumulated until packets fit in the queue
	 * (stream mode) or until the guest asks (remote mode). */
	int32_t dx, dy, dz;
	uint8_t buttons;        /* current state, PS2_MOUSE_* */
	uint8_t sent_buttons;   /* state in the last packet sent */
};

/* notify(opaque) is called whenever a byte enters the device's queue. */
void ps2_kbd_init(struct ps2_kbd *k, void (*notify)(void *opaque), void *opaque);
void ps2_kbd_reset(struct ps2_kbd *k);
/* A byte from the controller (port 0x60 write) for the keyboard. */
void ps2_kbd_write(struct ps2_kbd *k, uint8_t byte);
bool ps2_kbd_has_data(const struct ps2_kbd *k);
/* The oldest queued byte, removed; 0 if none. */
uint8_t ps2_kbd_read(struct ps2_kbd *k);
/* Host key event; keycode as above. Ignored while scanning is disabled.
 * A key-down for a key already down is the host's auto-repeat: it repeats
 * the make code (in set 3 only for typematic keys). */
void ps2_kbd_key(struct ps2_kbd *k, unsigned keycode, bool down);
/* The i8042's set 2 -> set 1 translation of one byte (F0 is handled by the
 * caller: it sets bit 7 of the following translated byte). */
uint8_t ps2_set2_to_set1(uint8_t code);
void ps2_kbd_save(const struct ps2_kbd *k, struct sbuf *sb);
int ps2_kbd_load(struct ps2_kbd *k, struct sbuf *sb);

void ps2_mouse_init(struct ps2_mouse *m, void (*notify)(void *opaque), void *opaque);
void ps2_mouse_reset(struct ps2_mouse *m);
void ps2_mouse_write(struct ps2_mouse *m, uint8_t byte);
bool ps2_mouse_has_data(const struct ps2_mouse *m);
uint8_t ps2_mouse_read(struct ps2_mouse *m);
/* Host motion: dx right, dy up (PS/2 convention), dz wheel (positive =
 * towards the user, i.e. scroll down), buttons PS2_MOUSE_* currently held. */
void ps2_mouse_move(struct ps2_mouse *m, int dx, int dy, int dz, unsigned buttons);
void ps2_mouse_save(const struct ps2_mouse *m, struct sbuf *sb);
int ps2_mouse_load(struct ps2_mouse *m, struct sbuf *sb);

#endif
