/*
 * The i8042 keyboard controller (ports 0x60 data, 0x64 status/command)
 * with its PS/2 keyboard (IRQ 1) and mouse (IRQ 12) ports.
 *
 * One output buffer is shared by both devices, by controller replies and
 * by the keyboard bytes after set 2 -> set 1 translation (command byte
 * bit 6). The status register's AUX bit says a mouse byte is waiting.
 * The output port drives A20 and the CPU reset line, both handed to the
 * board through callbacks.
 */
#ifndef MACHINE_I8042_H
#define MACHINE_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/sbuf.h"
#include "machine/bus.h"
#include "machine/ps2.h"

/* Status register (port 0x64 read) */
#define I8042_STR_OBF     0x01u   /* output buffer full */
#define I8042_STR_IBF     0x02u   /* input buffer full (never seen: we are instant) */
#define I8042_STR_SYS     0x04u   /* system flag, from command byte bit 2 */
#define I8042_STR_CMD     0x08u   /* last write was to 0x64 */
#define I8042_STR_KEYLOCK 0x10u   /* 1 = keyboard not inhibited */
#define I8042_STR_AUXDATA 0x20u   /* output buffer holds a mouse byte */
#define I8042_STR_TIMEOUT 0x40u
#define I8042_STR_PARITY  0x80u

/* Command byte (controller RAM byte 0) */
#define I8042_CTR_KBDINT  0x01u   /* IRQ 1 on keyboard byte */
#define I8042_CTR_AUXINT  0x02u   /* IRQ 12 on mouse byte */
#define I8042_CTR_SYS     0x04u
#define I8042_CTR_KBDDIS  0x10u   /* keyboard clock disabled */
#define I8042_CTR_AUXDIS  0x20u   /* mouse clock disabled */
#define I8042_CTR_XLATE   0x40u   /* translate set 2 to set 1 */

/* Output port (D0/D1) */
#define I8042_OUT_RESET   0x01u   /* 0 = CPU held in reset */
#define I8042_OUT_A20     0x02u

/* Board actions. Either callback may be NULL. */
struct i8042_board_ops {
	void (*reset)(void *opaque);              /* pulse of the reset line */
	void (*set_a20)(void *opaque, bool enabled);
	void *opaque;
};

struct i8042 {
	struct ps2_kbd kbd;
	struct ps2_mouse mouse;
	struct irq_line irq_kbd, irq_mouse;
	struct i8042_board_ops board;

	uint8_t status;
	uint8_t ctr;            /* command byte */
	uint8_t outport;
	uint8_t obuf;           /* output buffer, valid while STR_OBF */
	uint8_t pending_cmd;    /* controller command waiting for a data byte */
	uint8_t ram[32];        /* controller RAM 0x00-0x1F (byte 0 is ctr) */
	/* Controller replies (and D2/D3 bytes) waiting for the output buffer;
	 * bit i of cq_aux marks entry i as a mouse byte. */
	uint8_t cq[8];
	uint8_t cq_count;
	uint8_t cq_aux;
	bool xlat_break;        /* translation saw F0: next byte gets bit 7 */
	bool irq_kbd_level, irq_mouse_level;
};

/* Maps ports 0x60 and 0x64; -1 if they are taken. */
int i8042_init(struct i8042 *c, struct iobus *io, struct irq_line irq_kbd,
               struct irq_line irq_mouse, const struct i8042_board_ops *board);
/* Power-on state; also resets the keyboard and mouse. */
void i8042_reset(struct i8042 *c);
/* The saved state includes the keyboard and mouse (three sections). */
void i8042_save(const struct i8042 *c, struct sbuf *sb);
int i8042_load(struct i8042 *c, struct sbuf *sb);

/* Host input: see ps2_kbd_key() and ps2_mouse_move() on &c->kbd, &c->mouse. */

#endif
