/*
 * i8042 keyboard controller: ports 0x60/0x64, the controller command set,
 * the shared output buffer and set 2 -> set 1 translation.
 */
#include "machine/i8042.h"

#include <string.h>

#include "lib/log.h"

#define I8042_DATA 0x60
#define I8042_CMD  0x64

/*
 * The command byte and output port a PC BIOS leaves behind after POST:
 * keyboard interrupt on, translation on, system flag set, mouse clock off
 * until a driver wants it; A20 on and the CPU out of reset.
 */
#define I8042_CTR_POST  (I8042_CTR_KBDINT | I8042_CTR_SYS | I8042_CTR_AUXDIS | I8042_CTR_XLATE)
#define I8042_OUT_POST  (I8042_OUT_RESET | I8042_OUT_A20)

static void update_irqs(struct i8042 *c)
{
	bool full = c->status & I8042_STR_OBF;
	bool aux = c->status & I8042_STR_AUXDATA;
	bool kbd_level = full && !aux && (c->ctr & I8042_CTR_KBDINT);
	bool mouse_level = full && aux && (c->ctr & I8042_CTR_AUXINT);

	if (kbd_level != c->irq_kbd_level) {
		c->irq_kbd_level = kbd_level;
		irq_set(&c->irq_kbd, kbd_level);
	}
	if (mouse_level != c->irq_mouse_level) {
		c->irq_mouse_level = mouse_level;
		irq_set(&c->irq_mouse, mouse_level);
	}
}

static void load_obuf(struct i8042 *c, uint8_t b, bool aux)
{
	c->obuf = b;
	c->status |= I8042_STR_OBF;
	if (aux)
		c->status |= I8042_STR_AUXDATA;
	else
		c->status &= (uint8_t)~I8042_STR_AUXDATA;
}

/* Fills an empty output buffer: controller replies first, then the
 * keyboard and the mouse when their interfaces are enabled. */
static void refill(struct i8042 *c)
{
	if (c->status & I8042_STR_OBF)
		goto out;
	if (c->cq_count) {
		bool aux = c->cq_aux & 1;
		load_obuf(c, c->cq[0], aux);
		memmove(c->cq, c->cq + 1, sizeof(c->cq) - 1);
		c->cq_aux >>= 1;
		c->cq_count--;
		goto out;
	}
	while (!(c->ctr & I8042_CTR_KBDDIS) && ps2_kbd_has_data(&c->kbd)) {
		uint8_t b = ps2_kbd_read(&c->kbd);

		if (c->ctr & I8042_CTR_XLATE) {
			if (b == 0xf0) {
				c->xlat_break = true;
				continue;
			}
			b = ps2_set2_to_set1(b);
			if (c->xlat_break)
				b |= 0x80;
			c->xlat_break = false;
		}
		load_obuf(c, b, false);
		goto out;
	}
	if (!(c->ctr & I8042_CTR_AUXDIS) && ps2_mouse_has_data(&c->mouse))
		load_obuf(c, ps2_mouse_read(&c->mouse), true);
out:
	update_irqs(c);
}

static void reply(struct i8042 *c, uint8_t b, bool aux)
{
	if (c->cq_count >= sizeof(c->cq)) {
		log_debug("i8042: reply queue full, 0x%02x dropped", b);
		return;
	}
	if (aux)
		c->cq_aux |= (uint8_t)(1u << c->cq_count);
	else
		c->cq_aux &= (uint8_t)~(1u << c->cq_count);
	c->cq[c->cq_count++] = b;
	refill(c);
}

static void device_notify(void *opaque)
{
	refill(opaque);
}

static void set_outport(struct i8042 *c, uint8_t v)
{
	uint8_t old = c->outport;

	c->outport = v;
	if ((old ^ v) & I8042_OUT_A20) {
		if (c->board.set_a20)
			c->board.set_a20(c->board.opaque, v & I8042_OUT_A20);
	}
	if (!(v & I8042_OUT_RESET)) {
		/* The reset line was driven low: the CPU restarts and the
		 * line floats back high. */
		c->outport |= I8042_OUT_RESET;
		if (c->board.reset)
			c->board.reset(c->board.opaque);
	}
}

static void set_ctr(struct i8042 *c, uint8_t v)
{
	c->ctr = v;
	c->ram[0] = v;
	if (v & I8042_CTR_SYS)
		c->status |= I8042_STR_SYS;
	else
		c->status &= (uint8_t)~I8042_STR_SYS;
	/* Re-enabled interfaces or interrupts take effect at once. */
	refill(c);
}

static void command(struct i8042 *c, uint8_t cmd)
{
	if (cmd >= 0x20 && cmd <= 0x3f) {
		reply(c, cmd == 0x20 ? c->ctr : c->ram[cmd & 0x1f], false);
		return;
	}
	if (cmd >= 0x60 && cmd <= 0x7f) {
		c->pending_cmd = cmd;
		return;
	}
	if (cmd >= 0xf0) {
		/* Pulse the output port bits whose command bit is 0; bit 0 is
		 * the reset line, the others are unconnected on a PC. */
		if (!(cmd & 1))
			set_outport(c, (uint8_t)(c->outport & ~I8042_OUT_RESET));
		return;
	}
	switch (cmd) {
	case 0xa4: /* password installed? */
		reply(c, 0xf1, false);
		break;
	case 0xa7:
		set_ctr(c, c->ctr | I8042_CTR_AUXDIS);
		break;
	case 0xa8:
		set_ctr(c, c->ctr & (uint8_t)~I8042_CTR_AUXDIS);
		break;
	case 0xa9: /* aux interface test: 0 = no error */
		reply(c, 0x00, false);
		break;
	case 0xaa: /* controller self test */
		c->status |= I8042_STR_SYS;
		reply(c, 0x55, false);
		break;
	case 0xab: /* keyboard interface test */
		reply(c, 0x00, false);
		break;
	case 0xad:
		set_ctr(c, c->ctr | I8042_CTR_KBDDIS);
		break;
	case 0xae:
		set_ctr(c, c->ctr & (uint8_t)~I8042_CTR_KBDDIS);
		break;
	case 0xc0: /* input port: keyboard not inhibited, colour display */
		reply(c, 0x80, false);
		break;
	case 0xd0: {
		uint8_t v = c->outport & 0xcf;

		if ((c->status & I8042_STR_OBF) && !(c->status & I8042_STR_AUXDATA))
			v |= 0x10;
		if ((c->status & I8042_STR_OBF) && (c->status & I8042_STR_AUXDATA))
			v |= 0x20;
		reply(c, v, false);
		break;
	}
	case 0xd1: case 0xd2: case 0xd3: case 0xd4:
		c->pending_cmd = cmd;
		break;
	case 0xdd:
		set_outport(c, c->outport & (uint8_t)~I8042_OUT_A20);
		break;
	case 0xdf:
		set_outport(c, c->outport | I8042_OUT_A20);
		break;
	case 0xe0: /* test inputs: clock and data low */
		reply(c, 0x00, false);
		break;
	default:
		log_debug("i8042: unknown command 0x%02x", cmd);
		break;
	}
}

static void data_write(struct i8042 *c, uint8_t v)
{
	uint8_t cmd = c->pending_cmd;

	c->pending_cmd = 0;
	if (cmd >= 0x60 && cmd <= 0x7f) {
		if (cmd == 0x60)
			set_ctr(c, v);
		else
			c->ram[cmd & 0x1f] = v;
		return;
	}
	switch (cmd) {
	case 0xd1:
		set_outport(c, v);
		break;
	case 0xd2:
		reply(c, v, false);
		break;
	case 0xd3:
		reply(c, v, true);
		break;
	case 0xd4:
		ps2_mouse_write(&c->mouse, v);
		break;
	default:
		/* Plain data goes to the keyboard. */
		ps2_kbd_write(&c->kbd, v);
		break;
	}
}

static uint32_t i8042_read(void *dev, uint32_t port, unsigned size)
{
	struct i8042 *c = dev;
	uint8_t v;

	if (port == I8042_CMD)
		return c->status;
	v = c->obuf;
	if (c->status & I8042_STR_OBF) {
		c->status &= (uint8_t)~(I8042_STR_OBF | I8042_STR_AUXDATA);
		/* The read empties the buffer and drops the IRQ line; a queued
		 * byte then loads and raises it again, a new edge for the
		 * edge-triggered PIC input (one interrupt per byte, as Linux's
		 * handler expects). */
		update_irqs(c);
		refill(c);
	}
	return v;
}

static void i8042_write(void *dev, uint32_t port, uint32_t value, unsigned size)
{
	struct i8042 *c = dev;
	uint8_t v = (uint8_t)value;

	if (port == I8042_CMD) {
		c->status |= I8042_STR_CMD;
		c->pending_cmd = 0;
		command(c, v);
	} else {
		c->status &= (uint8_t)~I8042_STR_CMD;
		data_write(c, v);
	}
}

static const struct io_ops i8042_ops = {
	.read = i8042_read,
	.write = i8042_write,
};

int i8042_init(struct i8042 *c, struct iobus *io, struct irq_line irq_kbd,
               struct irq_line irq_mouse, const struct i8042_board_ops *board)
{
	memset(c, 0, sizeof(*c));
	c->irq_kbd = irq_kbd;
	c->irq_mouse = irq_mouse;
	if (board)
		c->board = *board;
	ps2_kbd_init(&c->kbd, device_notify, c);
	ps2_mouse_init(&c->mouse, device_notify, c);
	if (iobus_map(io, I8042_DATA, 1, &i8042_ops, c, "i8042") < 0) {
		log_err("i8042: port 0x60 is taken");
		return -1;
	}
	if (iobus_map(io, I8042_CMD, 1, &i8042_ops, c, "i8042") < 0) {
		iobus_unmap(io, I8042_DATA, 1);
		log_err("i8042: port 0x64 is taken");
		return -1;
	}
	i8042_reset(c);
	return 0;
}

void i8042_reset(struct i8042 *c)
{
	c->status = I8042_STR_KEYLOCK;
	c->obuf = 0;
	c->pending_cmd = 0;
	c->cq_count = 0;
	c->cq_aux = 0;
	c->xlat_break = false;
	memset(c->ram, 0, sizeof(c->ram));
	ps2_kbd_reset(&c->kbd);
	ps2_mouse_reset(&c->mouse);
	c->outport = I8042_OUT_POST;
	if (c->board.set_a20)
		c->board.set_a20(c->board.opaque, true);
	set_ctr(c, I8042_CTR_POST);
}

#define I8042_VERSION 1

void i8042_save(const struct i8042 *c, struct sbuf *sb)
{
	size_t mark = sbuf_begin(sb, "i8042", I8042_VERSION);

	sbuf_put_u8(sb, c->status);
	sbuf_put_u8(sb, c->ctr);
	sbuf_put_u8(sb, c->outport);
	sbuf_put_u8(sb, c->obuf);
	sbuf_put_u8(sb, c->pending_cmd);
	sbuf_put_bytes(sb, c->ram, sizeof(c->ram));
	sbuf_put_u8(sb, c->cq_count);
	sbuf_put_bytes(sb, c->cq, sizeof(c->cq));
	sbuf_put_u8(sb, c->cq_aux);
	sbuf_put_bool(sb, c->xlat_break);
	sbuf_end(sb, mark);
	ps2_kbd_save(&c->kbd, sb);
	ps2_mouse_save(&c->mouse, sb);
}

static bool valid_pending(uint8_t cmd)
{
	return cmd == 0 || (cmd >= 0x60 && cmd <= 0x7f) || (cmd >= 0xd1 && cmd <= 0xd4);
}

int i8042_load(struct i8042 *c, struct sbuf *sb)
{
	struct i8042 n = *c;
	uint32_t ver;

	if (!sbuf_open(sb, "i8042", &ver))
		return -1;
	if (ver != I8042_VERSION) {
		sbuf_fail(sb, "i8042: version %u, expected %u", ver, I8042_VERSION);
		return -1;
	}
	n.status = sbuf_get_u8(sb);
	n.ctr = sbuf_get_u8(sb);
	n.outport = sbuf_get_u8(sb);
	n.obuf = sbuf_get_u8(sb);
	n.pending_cmd = sbuf_get_u8(sb);
	sbuf_get_bytes(sb, n.ram, sizeof(n.ram));
	n.cq_count = sbuf_get_u8(sb);
	sbuf_get_bytes(sb, n.cq, sizeof(n.cq));
	n.cq_aux = sbuf_get_u8(sb);
	n.xlat_break = sbuf_get_bool(sb);
	if (!sbuf_close(sb))
		return -1;
	if (n.cq_count > sizeof(n.cq) || !valid_pending(n.pending_cmd) || n.ram[0] != n.ctr) {
		sbuf_fail(sb, "i8042: inconsistent controller state");
		return -1;
	}
	if (ps2_kbd_load(&n.kbd, sb) < 0 || ps2_mouse_load(&n.mouse, sb) < 0)
		return -1;
	*c = n;
	/* Drive the lines and A20 as the loaded state says. */
	c->irq_kbd_level = c->irq_mouse_level = false;
	irq_lower(&c->irq_kbd);
	irq_lower(&c->irq_mouse);
	update_irqs(c);
	if (c->board.set_a20)
		c->board.set_a20(c->board.opaque, c->outport & I8042_OUT_A20);
	return 0;
}
