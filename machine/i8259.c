#include "machine/i8259.h"

#include <string.h>

#include "lib/sbuf.h"
#include "machine/bus.h"

#define I8259_SAVE_VERSION 1

/* Priority of `irq` relative to the rotation: 0 is the highest. */
static unsigned prio(const struct i8259_chip *c, unsigned irq)
{
	return (irq - c->lowest - 1) & 7;
}

/* The highest-priority set bit of `bits`, or -1. */
static int highest(const struct i8259_chip *c, uint8_t bits)
{
	for (unsigned i = 1; i <= 8; i++) {
		unsigned irq = (c->lowest + i) & 7;

		if (bits & (1u << irq))
			return (int)irq;
	}
	return -1;
}

static uint8_t level_mask(const struct i8259_chip *c)
{
	return c->ltim ? 0xff : c->elcr;
}

static bool is_cascade(const struct i8259_chip *c, unsigned irq)
{
	return !c->is_slave && !c->single && (c->icw3 & (1u << irq));
}

/*
 * The request the chip would present on INT now, or -1. In-service levels
 * block equal and lower priorities, except masked ones in special mask
 * mode and, in special fully nested mode, a cascade input (its slave may
 * have a higher request of its own).
 */
static int chip_pending(const struct i8259_chip *c)
{
	uint8_t req = c->irr & ~c->imr;
	uint8_t blocking = c->isr;
	int irq, cur;

	if (c->init_step)
		return -1;
	irq = highest(c, req);
	if (irq < 0)
		return -1;
	if (c->special_mask)
		blocking &= ~c->imr;
	if (c->sfnm && is_cascade(c, (unsigned)irq))
		blocking &= ~(1u << irq);
	cur = highest(c, blocking);
	if (cur >= 0 && prio(c, (unsigned)cur) <= prio(c, (unsigned)irq))
		return -1;
	return irq;
}

/* A new level on one input of one chip. */
static void chip_set_input(struct i8259_chip *c, unsigned pin, bool level)
{
	uint8_t bit = (uint8_t)(1u << pin);
	bool was = c->lines & bit;

	if (level)
		c->lines |= bit;
	else
		c->lines &= ~bit;
	if (level_mask(c) & bit) {
		if (level)
			c->irr |= bit;
		else
			c->irr &= ~bit;
	} else if (level && !was) {
		c->irr |= bit;
	}
}

/* Propagates the slave's INT to master IR2 and the master's INT to the CPU. */
static void update(struct i8259 *pic)
{
	struct i8259_chip *m = &pic->chip[0], *s = &pic->chip[1];
	bool slave_int = chip_pending(s) >= 0;
	bool intr;

	chip_set_input(m, I8259_CASCADE_PIN, slave_int || pic->ext_ir2);
	/*
	 * The datasheet's edge mode needs IR high until INTA. Device inputs
	 * latch their edge instead (devices may pulse), but the slave's INT is
	 * a real level: when it withdraws its request, so does IR2.
	 */
	if (!slave_int && !pic->ext_ir2)
		m->irr &= (uint8_t)~(1u << I8259_CASCADE_PIN);
	intr = chip_pending(m) >= 0;
	if (intr != pic->intr_level) {
		pic->intr_level = intr;
		if (pic->intr)
			pic->intr(pic->intr_opaque, intr);
	}
}

/* The INTA (or poll) of one chip: moves `irq` from IRR into service. */
static void chip_accept(struct i8259_chip *c, unsigned irq)
{
	uint8_t bit = (uint8_t)(1u << irq);

	/* A level input keeps requesting while its line is high. */
	if (!(level_mask(c) & bit) || !(c->lines & bit))
		c->irr &= ~bit;
	if (c->auto_eoi) {
		if (c->rotate_on_aeoi)
			c->lowest = (uint8_t)irq;
	} else {
		c->isr |= bit;
	}
}

uint8_t i8259_ack(struct i8259 *pic)
{
	struct i8259_chip *m = &pic->chip[0], *s = &pic->chip[1];
	int irq = chip_pending(m);
	uint8_t vector;

	if (irq < 0) {
		/* The request went away before INTA: IR7, nothing in service. */
		vector = (uint8_t)(m->vector_base + 7);
	} else {
		chip_accept(m, (unsigned)irq);
		if (is_cascade(m, (unsigned)irq)) {
			int sirq = chip_pending(s);

			if ((s->icw3 & 7) != (unsigned)irq) {
				vector = 0xff;  /* no slave with that ID: the bus floats */
			} else if (sirq < 0) {
				vector = (uint8_t)(s->vector_base + 7);
			} else {
				chip_accept(s, (unsigned)sirq);
				vector = (uint8_t)(s->vector_base + sirq);
			}
		} else {
			vector = (uint8_t)(m->vector_base + irq);
		}
	}
	update(pic);
	return vector;
}

bool i8259_intr_pending(const struct i8259 *pic)
{
	return pic->intr_level;
}

void i8259_set_irq(void *opaque, unsigned irq, bool level)
{
	struct i8259 *pic = opaque;

	if (irq >= 16)
		return;
	if (irq == I8259_CASCADE_PIN)
		pic->ext_ir2 = level;           /* merged with the slave's INT in update() */
	else
		chip_set_input(&pic->chip[irq >> 3], irq & 7, level);
	update(pic);
}

static void chip_eoi(struct i8259_chip *c, int irq, bool rotate)
{
	if (irq < 0)
		return;
	c->isr &= ~(1u << irq);
	if (rotate)
		c->lowest = (uint8_t)irq;
}

static void write_ocw2(struct i8259_chip *c, uint8_t v)
{
	unsigned level = v & 7;

	switch (v >> 5) {
	case 1: /* non-specific EOI */
		chip_eoi(c, highest(c, c->isr), false);
		break;
	case 3: /* specific EOI */
		chip_eoi(c, (int)level, false);
		break;
	case 5: /* rotate on non-specific EOI */
		chip_eoi(c, highest(c, c->isr), true);
		break;
	case 4:
		c->rotate_on_aeoi = true;
		break;
	case 0:
		c->rotate_on_aeoi = false;
		break;
	case 7: /* rotate on specific EOI */
		chip_eoi(c, (int)level, true);
		break;
	case 6: /* set priority */
		c->lowest = (uint8_t)level;
		break;
	default: /* 2: no operation */
		break;
	}
}

static void write_ocw3(struct i8259_chip *c, uint8_t v)
{
	if (v & 0x40)
		c->special_mask = v & 0x20;
	if (v & 0x04)
		c->poll = true;
	if (v & 0x02)
		c->read_isr = v & 0x01;
}

static void write_icw1(struct i8259_chip *c, uint8_t v)
{
	c->icw4_needed = v & 0x01;
	c->single = v & 0x02;
	c->ltim = v & 0x08;
	/* The edge sense is reset: an input must rise again to request. */
	c->irr = c->lines & level_mask(c);
	c->isr = 0;
	c->imr = 0;
	c->lowest = 7;
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
	c->rotate_on_aeoi = false;
	if (!c->icw4_needed) {
		c->icw4 = 0;
		c->auto_eoi = false;
		c->sfnm = false;
	}
	c->icw3 = c->is_slave ? 7 : 0;
	c->init_step = 2;
}

static void write_init(struct i8259_chip *c, uint8_t v)
{
	switch (c->init_step) {
	case 2:
		c->vector_base = v & 0xf8;
		c->init_step = !c->single ? 3 : c->icw4_needed ? 4 : 0;
		break;
	case 3:
		c->icw3 = c->is_slave ? (v & 7) : v;
		c->init_step = c->icw4_needed ? 4 : 0;
		break;
	default:
		c->icw4 = v & 0x1f;
		c->auto_eoi = v & 0x02;
		c->sfnm = v & 0x10;
		c->init_step = 0;
		break;
	}
}

/* The even port read: a poll, or IRR/ISR. */
static uint8_t chip_read_even(struct i8259 *pic, struct i8259_chip *c)
{
	if (c->poll) {
		int irq;

		c->poll = false;
		irq = chip_pending(c);
		if (irq < 0)
			return 0;
		chip_accept(c, (unsigned)irq);
		update(pic);
		return (uint8_t)(0x80 | irq);
	}
	return c->read_isr ? c->isr : c->irr;
}

uint32_t i8259_io_read(void *opaque, uint32_t port, unsigned size)
{
	struct i8259 *pic = opaque;

	switch (port) {
	case 0x20: return chip_read_even(pic, &pic->chip[0]);
	case 0x21: return pic->chip[0].imr;
	case 0xa0: return chip_read_even(pic, &pic->chip[1]);
	case 0xa1: return pic->chip[1].imr;
	case 0x4d0: return pic->chip[0].elcr;
	case 0x4d1: return pic->chip[1].elcr;
	default: return 0xff;
	}
}

static void chip_write(struct i8259_chip *c, bool odd, uint8_t v)
{
	if (!odd) {
		if (v & 0x10)
			write_icw1(c, v);
		else if (v & 0x08)
			write_ocw3(c, v);
		else
			write_ocw2(c, v);
	} else if (c->init_step) {
		write_init(c, v);
	} else {
		c->imr = v;
	}
}

static void write_elcr(struct i8259_chip *c, uint8_t v)
{
	uint8_t mask = c->elcr_mask;

	c->elcr = v & mask;
	/* Inputs now level-triggered request exactly while high. */
	c->irr = (c->irr & ~level_mask(c)) | (c->lines & level_mask(c));
}

void i8259_io_write(void *opaque, uint32_t port, uint32_t value, unsigned size)
{
	struct i8259 *pic = opaque;
	uint8_t v = (uint8_t)value;

	switch (port) {
	case 0x20: case 0x21:
		chip_write(&pic->chip[0], port & 1, v);
		break;
	case 0xa0: case 0xa1:
		chip_write(&pic->chip[1], port & 1, v);
		break;
	case 0x4d0:
		write_elcr(&pic->chip[0], v);
		break;
	case 0x4d1:
		write_elcr(&pic->chip[1], v);
		break;
	default:
		return;
	}
	update(pic);
}

static const struct io_ops i8259_ops = { i8259_io_read, i8259_io_write };

static void chip_reset(struct i8259_chip *c, bool slave)
{
	uint8_t lines = c->lines;

	memset(c, 0, sizeof(*c));
	c->lines = lines;               /* the wires keep their levels */
	c->is_slave = slave;
	c->lowest = 7;
	c->icw3 = slave ? 7 : 0;
	/* PIIX: IRQ0, 1, 2, 8 and 13 must stay edge-triggered. */
	c->elcr_mask = slave ? 0xde : 0xf8;
}

void i8259_reset(struct i8259 *pic)
{
	chip_reset(&pic->chip[0], false);
	chip_reset(&pic->chip[1], true);
	update(pic);
}

int i8259_init(struct i8259 *pic, struct iobus *io,
               void (*intr)(void *opaque, bool level), void *opaque)
{
	memset(pic, 0, sizeof(*pic));
	pic->intr = intr;
	pic->intr_opaque = opaque;
	i8259_reset(pic);
	if (iobus_map(io, 0x20, 2, &i8259_ops, pic, "pic-master") < 0)
		return -1;
	if (iobus_map(io, 0xa0, 2, &i8259_ops, pic, "pic-slave") < 0) {
		iobus_unmap(io, 0x20, 2);
		return -1;
	}
	if (iobus_map(io, 0x4d0, 2, &i8259_ops, pic, "elcr") < 0) {
		iobus_unmap(io, 0x20, 2);
		iobus_unmap(io, 0xa0, 2);
		return -1;
	}
	return 0;
}

static void save_chip(const struct i8259_chip *c, struct sbuf *sb)
{
	sbuf_put_u8(sb, c->irr);
	sbuf_put_u8(sb, c->isr);
	sbuf_put_u8(sb, c->imr);
	sbuf_put_u8(sb, c->lines);
	sbuf_put_u8(sb, c->elcr);
	sbuf_put_u8(sb, c->vector_base);
	sbuf_put_u8(sb, c->icw3);
	sbuf_put_u8(sb, c->lowest);
	sbuf_put_u8(sb, c->init_step);
	sbuf_put_u8(sb, c->icw4);
	sbuf_put_bool(sb, c->icw4_needed);
	sbuf_put_bool(sb, c->single);
	sbuf_put_bool(sb, c->ltim);
	sbuf_put_bool(sb, c->auto_eoi);
	sbuf_put_bool(sb, c->rotate_on_aeoi);
	sbuf_put_bool(sb, c->sfnm);
	sbuf_put_bool(sb, c->read_isr);
	sbuf_put_bool(sb, c->poll);
	sbuf_put_bool(sb, c->special_mask);
}

static void load_chip(struct i8259_chip *c, struct sbuf *sb, const char *name)
{
	c->irr = sbuf_get_u8(sb);
	c->isr = sbuf_get_u8(sb);
	c->imr = sbuf_get_u8(sb);
	c->lines = sbuf_get_u8(sb);
	c->elcr = sbuf_get_u8(sb);
	c->vector_base = sbuf_get_u8(sb);
	c->icw3 = sbuf_get_u8(sb);
	c->lowest = sbuf_get_u8(sb);
	c->init_step = sbuf_get_u8(sb);
	c->icw4 = sbuf_get_u8(sb);
	c->icw4_needed = sbuf_get_bool(sb);
	c->single = sbuf_get_bool(sb);
	c->ltim = sbuf_get_bool(sb);
	c->auto_eoi = sbuf_get_bool(sb);
	c->rotate_on_aeoi = sbuf_get_bool(sb);
	c->sfnm = sbuf_get_bool(sb);
	c->read_isr = sbuf_get_bool(sb);
	c->poll = sbuf_get_bool(sb);
	c->special_mask = sbuf_get_bool(sb);
	if (sb->error)
		return;
	if (c->elcr & ~c->elcr_mask)
		sbuf_fail(sb, "i8259 %s: ELCR 0x%02x sets fixed edge inputs", name, c->elcr);
	else if (c->vector_base & 7)
		sbuf_fail(sb, "i8259 %s: vector base 0x%02x not a multiple of 8", name, c->vector_base);
	else if (c->lowest > 7)
		sbuf_fail(sb, "i8259 %s: priority %u out of range", name, c->lowest);
	else if (c->init_step == 1 || c->init_step > 4)
		sbuf_fail(sb, "i8259 %s: bad initialisation step %u", name, c->init_step);
	else if (c->icw4 & ~0x1f)
		sbuf_fail(sb, "i8259 %s: bad ICW4 0x%02x", name, c->icw4);
	else if (c->auto_eoi != !!(c->icw4 & 0x02) || c->sfnm != !!(c->icw4 & 0x10))
		sbuf_fail(sb, "i8259 %s: ICW4 0x%02x disagrees with its modes", name, c->icw4);
	else if (c->is_slave && c->icw3 > 7)
		sbuf_fail(sb, "i8259 %s: slave ID %u out of range", name, c->icw3);
}

void i8259_save(const struct i8259 *pic, struct sbuf *sb)
{
	size_t mark = sbuf_begin(sb, "i8259", I8259_SAVE_VERSION);

	save_chip(&pic->chip[0], sb);
	save_chip(&pic->chip[1], sb);
	sbuf_put_bool(sb, pic->ext_ir2);
	sbuf_put_bool(sb, pic->intr_level);
	sbuf_end(sb, mark);
}

int i8259_load(struct i8259 *pic, struct sbuf *sb)
{
	struct i8259 tmp = *pic;
	uint32_t version;

	if (!sbuf_open(sb, "i8259", &version))
		return -1;
	if (version != I8259_SAVE_VERSION) {
		sbuf_fail(sb, "i8259: unsupported state version %u", version);
		return -1;
	}
	load_chip(&tmp.chip[0], sb, "master");
	load_chip(&tmp.chip[1], sb, "slave");
	tmp.ext_ir2 = sbuf_get_bool(sb);
	tmp.intr_level = sbuf_get_bool(sb);
	if (!sbuf_close(sb) || sb->error)
		return -1;
	*pic = tmp;
	update(pic);
	/* The CPU's INTR input may not match what it was told before the load. */
	if (pic->intr)
		pic->intr(pic->intr_opaque, pic->intr_level);
	return 0;
}

enum i8259_input_state i8259_input_state(const struct i8259 *pic, unsigned irq)
{
	const struct i8259_chip *c = &pic->chip[(irq >> 3) & 1];
	uint8_t bit = (uint8_t)(1u << (irq & 7));

	if (c->imr & bit)
		return I8259_INPUT_MASKED;
	return c->irr & bit ? I8259_INPUT_PENDING : I8259_INPUT_READY;
}
