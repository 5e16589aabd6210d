/*
 * The PC's pair of Intel 8259A programmable interrupt controllers: the
 * master at ports 0x20-0x21 drives the CPU's INTR, the slave at 0xA0-0xA1
 * has its INT output wired to the master's IR2. The edge/level control
 * registers (ELCR) at 0x4D0-0x4D1 belong to the PIIX southbridge but act on
 * these inputs, so they live here too.
 *
 * Inputs: i8259_set_irq(pic, 0..15, level) from any device (it matches
 * irq_line.set, so { i8259_set_irq, pic, n } is a valid struct irq_line).
 * Output: the intr callback given at init, called whenever INTR changes.
 * The CPU acknowledges with i8259_ack(), which returns the vector.
 *
 * Edge-triggered inputs latch a rising edge into IRR until it is
 * acknowledged (so a device may pulse its line); level-triggered inputs
 * (ELCR bit or ICW1.LTIM) request only while the line is high, and a
 * request that disappears before INTA yields the spurious vector (IR7).
 */
#ifndef MACHINE_I8259_H
#define MACHINE_I8259_H

#include <stdbool.h>
#include <stdint.h>

struct iobus;
struct sbuf;

#define I8259_CASCADE_PIN 2     /* the slave's INT drives master IR2 on a PC */

/* One 8259A. */
struct i8259_chip {
	uint8_t irr;            /* interrupt request register */
	uint8_t isr;            /* in-service register */
	uint8_t imr;            /* interrupt mask register (OCW1) */
	uint8_t lines;          /* current input levels, for edge detection */
	uint8_t elcr;           /* 1 = level-triggered input */
	uint8_t elcr_mask;      /* which ELCR bits are writable */
	uint8_t vector_base;    /* ICW2 & 0xf8 */
	uint8_t icw3;           /* master: IRs with a slave; slave: its ID */
	uint8_t lowest;         /* IR with the lowest priority (rotation), 0-7 */
	uint8_t init_step;      /* 0 = operational, else the ICW expected next (2-4) */
	bool icw4_needed;       /* ICW1.IC4 */
	bool single;            /* ICW1.SNGL: no cascade */
	bool ltim;              /* ICW1.LTIM: all inputs level-triggered */
	bool auto_eoi;          /* ICW4.AEOI */
	bool rotate_on_aeoi;    /* OCW2 "set rotate in AEOI mode" */
	bool sfnm;              /* ICW4.SFNM: special fully nested mode */
	uint8_t icw4;           /* ICW4 as written (uPM, BUF, M/S kept for save) */
	bool read_isr;          /* OCW3: the even port reads ISR, else IRR */
	bool poll;              /* OCW3.P: the next even-port read is a poll */
	bool special_mask;      /* OCW3 special mask mode */
	bool is_slave;          /* fixed by the board wiring, not by software */
};

struct i8259 {
	struct i8259_chip chip[2];      /* [0] master, [1] slave */
	void (*intr)(void *opaque, bool level);
	void *intr_opaque;
	bool intr_level;                /* last level given to intr() */
	bool ext_ir2;                   /* a device line on master IR2 (not the slave) */
};

/* Maps 0x20-0x21, 0xA0-0xA1 and 0x4D0-0x4D1; -1 if a port is taken. */
int i8259_init(struct i8259 *pic, struct iobus *io,
               void (*intr)(void *opaque, bool level), void *opaque);
/* Power-on state: both chips uninitialised, all masked off, ELCR edge. */
void i8259_reset(struct i8259 *pic);

/* An interrupt input changed level: irq 0-7 master, 8-15 slave. */
void i8259_set_irq(void *pic, unsigned irq, bool level);
/* INTA: returns the vector and moves the request in service. */
uint8_t i8259_ack(struct i8259 *pic);

/* An input's state as a device about to raise it sees it (IRQ 0-15):
 * masked (IMR), a request still waiting in IRR (a new edge would merge
 * with it), or ready for a new edge. */
enum i8259_input_state { I8259_INPUT_READY, I8259_INPUT_PENDING, I8259_INPUT_MASKED };
enum i8259_input_state i8259_input_state(const struct i8259 *pic, unsigned irq);
/* The current INTR level (what intr() was last told). */
bool i8259_intr_pending(const struct i8259 *pic);

/* The port handlers, for a board that dispatches itself. */
uint32_t i8259_io_read(void *pic, uint32_t port, unsigned size);
void i8259_io_write(void *pic, uint32_t port, uint32_t value, unsigned size);

/* Section "i8259". Load refuses bad input (sb->why) and keeps the old state. */
void i8259_save(const struct i8259 *pic, struct sbuf *sb);
int i8259_load(struct i8259 *pic, struct sbuf *sb);

#endif
