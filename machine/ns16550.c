#include "machine/ns16550.h"

#include <string.h>

#include "lib/sbuf.h"

#define NS16550_SAVE_VERSION 1
#define NS_PER_S 1000000000ull
#define LSR_LINE_ERRORS (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)
#define RX_ERRORS (UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)

static bool fifo_mode(const struct ns16550 *u)
{
	return u->fcr & UART_FCR_ENABLE;
}

static unsigned rx_capacity(const struct ns16550 *u)
{
	return fifo_mode(u) ? NS16550_FIFO : 1;
}

static unsigned rx_trigger(const struct ns16550 *u)
{
	static const uint8_t levels[4] = { 1, 4, 8, 14 };

	return fifo_mode(u) ? levels[u->fcr >> 6] : 1;
}

/* One character's time on the line at the programmed rate and format. */
static uint64_t char_ns(const struct ns16550 *u)
{
	unsigned half_bits = 2 * (1 + 5 + (u->lcr & 3) + (u->lcr & 0x08 ? 1 : 0));
	uint64_t div = u->divisor ? u->divisor : 65536;

	/* Stop bits: 1, or 1.5 with 5-bit words, else 2. */
	half_bits += !(u->lcr & 0x04) ? 2 : (u->lcr & 3) == 0 ? 3 : 4;
	return half_bits * 16 * div * NS_PER_S / (2 * NS16550_CLOCK_HZ);
}

/* PE/FE/BI of the character at the top of the receive FIFO. */
static uint8_t top_errors(const struct ns16550 *u)
{
	return u->rx_count ? u->rx_err[u->rx_head] : 0;
}

static uint8_t line_errors(const struct ns16550 *u)
{
	return (uint8_t)(u->lsr_errors | top_errors(u));
}

/* The highest-priority pending interrupt, as IIR shows it. */
static uint8_t iir_id(const struct ns16550 *u)
{
	if ((u->ier & UART_IER_RLSI) && line_errors(u))
		return UART_IIR_RLSI;
	if ((u->ier & UART_IER_RDI) && u->rx_count >= rx_trigger(u))
		return UART_IIR_RDI;
	if ((u->ier & UART_IER_RDI) && u->timeout_pending && u->rx_count)
		return UART_IIR_TOI;
	if ((u->ier & UART_IER_THRI) && u->thre_pending)
		return UART_IIR_THRI;
	if ((u->ier & UART_IER_MSI) && (u->msr & 0x0f))
		return UART_IIR_MSI;
	return UART_IIR_NONE;
}

static void update_irq(struct ns16550 *u)
{
	/* On a PC the interrupt reaches the bus only through OUT2; loopback disconnects it. */
	bool level = iir_id(u) != UART_IIR_NONE && (u->mcr & (UART_MCR_OUT2 | UART_MCR_LOOP)) ==
	             UART_MCR_OUT2;

	if (level != u->irq_level) {
		u->irq_level = level;
		irq_set(&u->irq, level);
	}
}

/* The character timeout restarts whenever a character arrives or is read. */
static void restart_timeout(struct ns16550 *u)
{
	u->timeout_pending = false;
	if (fifo_mode(u) && u->rx_count)
		timer_mod(u->clk, &u->timeout_timer, clock_now(u->clk) + 4 * char_ns(u));
	else
		timer_del(u->clk, &u->timeout_timer);
}

static void timeout_fired(void *opaque, uint64_t now)
{
	struct ns16550 *u = opaque;

	if (fifo_mode(u) && u->rx_count)
		u->timeout_pending = true;
	update_irq(u);
}

static void rx_clear(struct ns16550 *u)
{
	u->rx_count = 0;
	u->rx_head = 0;
	memset(u->rx_err, 0, sizeof(u->rx_err));
	restart_timeout(u);
}

/*
 * The backend stops reading while the receiver has no room (FIFO full, or
 * loopback); tell it when room appears again, whatever made it.
 */
static void notify_room(struct ns16550 *u, size_t room_before)
{
	if (room_before == 0 && ns16550_can_receive(u) > 0 && u->be.rx_space)
		u->be.rx_space(u->be.opaque);
}

/* A character arrives at the receiver (from the line or looped back). */
static void rx_push(struct ns16550 *u, uint8_t c, uint8_t err)
{
	unsigned tail;

	if (u->rx_count >= rx_capacity(u)) {
		/* Overrun: the FIFO keeps its contents; a lone RBR is overwritten. */
		u->lsr_errors |= UART_LSR_OE;
		if (!fifo_mode(u)) {
			u->rx[u->rx_head] = c;
			u->rx_err[u->rx_head] = err;
		}
	} else {
		tail = (u->rx_head + u->rx_count) % NS16550_FIFO;
		u->rx[tail] = c;
		u->rx_err[tail] = err;
		u->rx_count++;
	}
	restart_timeout(u);
}

static uint8_t rx_pop(struct ns16550 *u)
{
	uint8_t c;

	if (!u->rx_count)
		return 0;
	c = u->rx[u->rx_head];
	u->rx_err[u->rx_head] = 0;
	u->rx_head = (uint8_t)((u->rx_head + 1) % NS16550_FIFO);
	u->rx_count--;
	restart_timeout(u);
	return c;
}

/* The modem inputs: the backend's, or in loopback the UART's own outputs. */
static uint8_t modem_inputs(const struct ns16550 *u)
{
	uint8_t m = u->mcr, v = 0;

	if (m & UART_MCR_LOOP) {
		v |= m & UART_MCR_RTS ? UART_MSR_CTS : 0;
		v |= m & UART_MCR_DTR ? UART_MSR_DSR : 0;
		v |= m & UART_MCR_OUT1 ? UART_MSR_RI : 0;
		v |= m & UART_MCR_OUT2 ? UART_MSR_DCD : 0;
	} else if (u->connected) {
		v = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	}
	return v;
}

static void update_msr(struct ns16550 *u)
{
	uint8_t old = u->msr, now = modem_inputs(u), delta = old & 0x0f, changed = old ^ now;

	if (changed & UART_MSR_CTS)
		delta |= UART_MSR_DCTS;
	if (changed & UART_MSR_DSR)
		delta |= UART_MSR_DDSR;
	if ((changed & UART_MSR_RI) && !(now & UART_MSR_RI))
		delta |= UART_MSR_TERI;         /* trailing edge only */
	if (changed & UART_MSR_DCD)
		delta |= UART_MSR_DDCD;
	u->msr = (uint8_t)((now & 0xf0) | delta);
}

static void transmit(struct ns16550 *u, uint8_t c)
{
	if (u->mcr & UART_MCR_LOOP)
		rx_push(u, c, 0);
	else if (u->be.tx)
		u->be.tx(u->be.opaque, &c, 1);
	/* The shift register takes it at once: THR (and the FIFO) are empty again. */
	u->thre_pending = true;
}

static uint8_t read_lsr(struct ns16550 *u)
{
	uint8_t v = (uint8_t)(line_errors(u) | UART_LSR_THRE | UART_LSR_TEMT);

	if (u->rx_count)
		v |= UART_LSR_DR;
	if (fifo_mode(u)) {
		for (unsigned i = 0; i < u->rx_count; i++)
			if (u->rx_err[(u->rx_head + i) % NS16550_FIFO])
				v |= UART_LSR_FIFOE;
	}
	/* Reading LSR clears the error bits it reported. */
	u->lsr_errors = 0;
	if (u->rx_count)
		u->rx_err[u->rx_head] = 0;
	return v;
}

uint32_t ns16550_io_read(void *opaque, uint32_t port, unsigned size)
{
	struct ns16550 *u = opaque;
	size_t room = ns16550_can_receive(u);
	uint8_t v;

	switch ((port - u->base) & 7) {
	case UART_RBR:
		v = u->lcr & UART_LCR_DLAB ? (uint8_t)u->divisor : rx_pop(u);
		break;
	case UART_IER:
		v = u->lcr & UART_LCR_DLAB ? (uint8_t)(u->divisor >> 8) : u->ier;
		break;
	case UART_IIR:
		v = iir_id(u);
		if (v == UART_IIR_THRI)
			u->thre_pending = false;        /* reading IIR acknowledges THRE */
		if (fifo_mode(u))
			v |= UART_IIR_FIFO;
		break;
	case UART_LCR:
		v = u->lcr;
		break;
	case UART_MCR:
		v = u->mcr;
		break;
	case UART_LSR:
		v = read_lsr(u);
		break;
	case UART_MSR:
		v = u->msr;
		u->msr &= 0xf0;
		break;
	default:
		v = u->scr;
		break;
	}
	update_irq(u);
	notify_room(u, room);
	return v;
}

static void write_fcr(struct ns16550 *u, uint8_t v)
{
	if ((v ^ u->fcr) & UART_FCR_ENABLE) {
		/* Switching FIFO mode empties both FIFOs. */
		rx_clear(u);
	} else if ((v & UART_FCR_ENABLE) && (v & UART_FCR_CLR_RX)) {
		rx_clear(u);
	}
	u->fcr = v & UART_FCR_ENABLE ? (uint8_t)(v & (UART_FCR_ENABLE | UART_FCR_DMA | UART_FCR_TRIGGER)) : 0;
	restart_timeout(u);
}

void ns16550_io_write(void *opaque, uint32_t port, uint32_t value, unsigned size)
{
	struct ns16550 *u = opaque;
	size_t room = ns16550_can_receive(u);
	uint8_t v = (uint8_t)value;

	switch ((port - u->base) & 7) {
	case UART_THR:
		if (u->lcr & UART_LCR_DLAB)
			u->divisor = (uint16_t)((u->divisor & 0xff00) | v);
		else
			transmit(u, v);
		break;
	case UART_IER:
		if (u->lcr & UART_LCR_DLAB) {
			u->divisor = (uint16_t)((u->divisor & 0x00ff) | v << 8);
		} else {
			/* Enabling THRE with the transmitter empty interrupts at once. */
			if ((v & UART_IER_THRI) && !(u->ier & UART_IER_THRI))
				u->thre_pending = true;
			u->ier = v & 0x0f;
		}
		break;
	case UART_FCR:
		write_fcr(u, v);
		break;
	case UART_LCR:
		/* A break set in loopback reaches our own receiver: BI and a NUL. */
		if ((v & UART_LCR_SBC) && !(u->lcr & UART_LCR_SBC) && (u->mcr & UART_MCR_LOOP))
			rx_push(u, 0, UART_LSR_BI);
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & 0x1f;
		update_msr(u);
		break;
	case UART_LSR: case UART_MSR:
		break;      /* factory test registers: writes ignored */
	default:
		u->scr = v;
		break;
	}
	update_irq(u);
	notify_room(u, room);
}

static const struct io_ops ns16550_ops = { ns16550_io_read, ns16550_io_write };

size_t ns16550_can_receive(const struct ns16550 *u)
{
	if (u->mcr & UART_MCR_LOOP)
		return 0;   /* the serial input is disconnected in loopback */
	return rx_capacity(u) - u->rx_count;
}

size_t ns16550_receive(struct ns16550 *u, const uint8_t *buf, size_t len)
{
	size_t n = ns16550_can_receive(u);

	if (n > len)
		n = len;
	for (size_t i = 0; i < n; i++)
		rx_push(u, buf[i], 0);
	update_irq(u);
	return n;
}

void ns16550_set_connected(struct ns16550 *u, bool connected)
{
	u->connected = connected;
	update_msr(u);
	update_irq(u);
}

void ns16550_reset(struct ns16550 *u)
{
	size_t room = ns16550_can_receive(u);

	u->ier = 0;
	u->lcr = 0;
	u->mcr = 0;
	u->fcr = 0;
	u->lsr_errors = 0;
	u->thre_pending = false;
	u->rx_count = 0;
	u->rx_head = 0;
	memset(u->rx_err, 0, sizeof(u->rx_err));
	u->msr = modem_inputs(u);
	restart_timeout(u);
	update_irq(u);
	notify_room(u, room);
}

int ns16550_init(struct ns16550 *u, struct iobus *io, struct clock *clk, uint16_t base,
                 struct irq_line irq, const struct ns16550_backend *be)
{
	memset(u, 0, sizeof(*u));
	u->base = base;
	u->clk = clk;
	u->irq = irq;
	if (be)
		u->be = *be;
	u->connected = be && be->tx;
	u->divisor = 12;        /* 9600 baud until software sets it */
	timer_init(&u->timeout_timer, timeout_fired, u, "uart-timeout");
	ns16550_reset(u);
	if (iobus_map(io, base, 8, &ns16550_ops, u, "uart") < 0)
		return -1;
	return 0;
}

void ns16550_save(const struct ns16550 *u, struct sbuf *sb)
{
	size_t mark = sbuf_begin(sb, "ns16550", NS16550_SAVE_VERSION);

	sbuf_put_u16(sb, u->base);
	sbuf_put_u8(sb, u->ier);
	sbuf_put_u8(sb, u->lcr);
	sbuf_put_u8(sb, u->mcr);
	sbuf_put_u8(sb, u->scr);
	sbuf_put_u8(sb, u->fcr);
	sbuf_put_u16(sb, u->divisor);
	sbuf_put_u8(sb, u->lsr_errors);
	sbuf_put_u8(sb, u->msr);
	sbuf_put_bytes(sb, u->rx, sizeof(u->rx));
	sbuf_put_bytes(sb, u->rx_err, sizeof(u->rx_err));
	sbuf_put_u8(sb, u->rx_head);
	sbuf_put_u8(sb, u->rx_count);
	sbuf_put_bool(sb, u->thre_pending);
	sbuf_put_bool(sb, u->timeout_pending);
	sbuf_put_bool(sb, u->connected);
	sbuf_put_bool(sb, u->timeout_timer.armed);
	sbuf_put_u64(sb, u->timeout_timer.armed ? u->timeout_timer.deadline : 0);
	sbuf_end(sb, mark);
}

int ns16550_load(struct ns16550 *u, struct sbuf *sb)
{
	struct ns16550 t = *u;
	uint32_t version;
	uint16_t base;
	bool armed;
	uint64_t deadline;
	size_t room;

	if (!sbuf_open(sb, "ns16550", &version))
		return -1;
	if (version != NS16550_SAVE_VERSION) {
		sbuf_fail(sb, "ns16550: unsupported state version %u", version);
		return -1;
	}
	base = sbuf_get_u16(sb);
	t.ier = sbuf_get_u8(sb);
	t.lcr = sbuf_get_u8(sb);
	t.mcr = sbuf_get_u8(sb);
	t.scr = sbuf_get_u8(sb);
	t.fcr = sbuf_get_u8(sb);
	t.divisor = sbuf_get_u16(sb);
	t.lsr_errors = sbuf_get_u8(sb);
	t.msr = sbuf_get_u8(sb);
	sbuf_get_bytes(sb, t.rx, sizeof(t.rx));
	sbuf_get_bytes(sb, t.rx_err, sizeof(t.rx_err));
	t.rx_head = sbuf_get_u8(sb);
	t.rx_count = sbuf_get_u8(sb);
	t.thre_pending = sbuf_get_bool(sb);
	t.timeout_pending = sbuf_get_bool(sb);
	t.connected = sbuf_get_bool(sb);
	armed = sbuf_get_bool(sb);
	deadline = sbuf_get_u64(sb);
	if (!sb->error) {
		bool errs_ok = true;

		for (unsigned i = 0; i < NS16550_FIFO; i++)
			errs_ok = errs_ok && !(t.rx_err[i] & ~RX_ERRORS);
		if (base != u->base)
			sbuf_fail(sb, "ns16550: state of the port at 0x%x, not 0x%x", base, u->base);
		else if (t.ier & 0xf0 || t.mcr & 0xe0 || t.lsr_errors & ~LSR_LINE_ERRORS || !errs_ok)
			sbuf_fail(sb, "ns16550 0x%x: reserved register bits set", base);
		else if (t.fcr & ~(UART_FCR_ENABLE | UART_FCR_DMA | UART_FCR_TRIGGER) ||
		         (t.fcr && !(t.fcr & UART_FCR_ENABLE)))
			sbuf_fail(sb, "ns16550 0x%x: bad FIFO control 0x%02x", base, t.fcr);
		else if (t.rx_head >= NS16550_FIFO || t.rx_count > rx_capacity(&t))
			sbuf_fail(sb, "ns16550 0x%x: receive FIFO %u@%u out of range", base, t.rx_count,
			          t.rx_head);
		else if ((t.msr & 0xf0) != modem_inputs(&t))
			sbuf_fail(sb, "ns16550 0x%x: modem status 0x%02x disagrees with the lines", base,
			          t.msr);
	}
	if (!sbuf_close(sb) || sb->error)
		return -1;
	timer_del(u->clk, &u->timeout_timer);
	room = ns16550_can_receive(u);
	t.timeout_timer = u->timeout_timer;    /* the live, now disarmed, timer */
	*u = t;
	if (armed)
		timer_mod(u->clk, &u->timeout_timer, deadline);
	/* The line shows what the loaded registers imply. */
	u->irq_level = iir_id(u) != UART_IIR_NONE &&
	               (u->mcr & (UART_MCR_OUT2 | UART_MCR_LOOP)) == UART_MCR_OUT2;
	irq_set(&u->irq, u->irq_level);
	notify_room(u, room);
	return 0;
}
