#include <stdlib.h>
#include <string.h>

#include "lib/sbuf.h"
#include "machine/bus.h"
#include "machine/clock.h"
#include "machine/ns16550.h"
#include "tests/unit/devtest.h"
#include "tests/unit/harness.h"

#define COM1 0x3f8

struct rig {
	struct iobus io;
	struct clock clk;
	struct ns16550 uart;
	bool irq;
	uint8_t txbuf[256];
	size_t txlen;
	unsigned rx_space_calls;
};

static void irq_in(void *ctrl, unsigned pin, bool level)
{
	((struct rig *)ctrl)->irq = level;
}

static void tx(void *opaque, const uint8_t *buf, size_t len)
{
	struct rig *r = opaque;

	for (size_t i = 0; i < len && r->txlen < sizeof(r->txbuf); i++)
		r->txbuf[r->txlen++] = buf[i];
}

static void rx_space(void *opaque)
{
	((struct rig *)opaque)->rx_space_calls++;
}

static void out8(struct rig *r, unsigned reg, uint8_t v) { iobus_write(&r->io, (uint16_t)(COM1 + reg), v, 1); }
static uint8_t in8(struct rig *r, unsigned reg) { return (uint8_t)iobus_read(&r->io, (uint16_t)(COM1 + reg), 1); }

static struct rig *rig_new(struct test *t)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct ns16550_backend be;

	if (!r)
		return NULL;
	be = (struct ns16550_backend){ tx, rx_space, r };
	iobus_init(&r->io);
	clock_init_manual(&r->clk);
	if (ns16550_init(&r->uart, &r->io, &r->clk, COM1, (struct irq_line){ irq_in, r, 4 }, &be) != 0) {
		test_fail(t, __FILE__, __LINE__, "ns16550_init failed");
		free(r);
		return NULL;
	}
	return r;
}

/* Linux's setup for 115200 8N1 with FIFOs (trigger 8) and OUT2. */
static void linux_setup(struct rig *r, uint8_t fcr)
{
	out8(r, UART_LCR, 0x83);
	out8(r, UART_DLL, 1);
	out8(r, UART_DLM, 0);
	out8(r, UART_LCR, 0x03);
	out8(r, UART_FCR, fcr);
	out8(r, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
}

static void advance(struct rig *r, uint64_t ns)
{
	clock_advance(&r->clk, ns);
	timers_run(&r->clk, clock_now(&r->clk));
}

static void reset_values(struct test *t)
{
	struct rig *r = rig_new(t);

	REQUIRE(t, r);
	CHECK_EQ(t, in8(r, UART_IER), 0);
	CHECK_EQ(t, in8(r, UART_IIR), 0x01);
	CHECK_EQ(t, in8(r, UART_LCR), 0);
	CHECK_EQ(t, in8(r, UART_MCR), 0);
	CHECK_EQ(t, in8(r, UART_LSR), 0x60);
	CHECK_EQ(t, in8(r, UART_MSR), UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
	CHECK(t, !r->irq);
	free(r);
}

static void divisor_and_scratch(struct test *t)
{
	struct rig *r = rig_new(t);

	REQUIRE(t, r);
	out8(r, UART_IER, 0x05);
	out8(r, UART_LCR, 0x80 | 0x1b);
	out8(r, UART_DLL, 0x34);
	out8(r, UART_DLM, 0x12);
	CHECK_EQ(t, in8(r, UART_DLL), 0x34);
	CHECK_EQ(t, in8(r, UART_DLM), 0x12);
	CHECK_EQ(t, in8(r, UART_LCR), 0x9b);
	out8(r, UART_LCR, 0x1b);
	CHECK_EQ(t, in8(r, UART_IER), 0x05);
	CHECK_EQ(t, r->uart.divisor, 0x1234);
	out8(r, UART_SCR, 0xa5);
	CHECK_EQ(t, in8(r, UART_SCR), 0xa5);
	/* IER's upper nibble is reserved. */
	out8(r, UART_IER, 0xff);
	CHECK_EQ(t, in8(r, UART_IER), 0x0f);
	CHECK_EQ(t, r->txlen, 0);       /* DLL writes are not data */
	free(r);
}

static void transmit_and_thre(struct test *t)
{
	struct rig *r = rig_new(t);

	REQUIRE(t, r);
	linux_setup(r, 0x87);
	out8(r, UART_THR, 'h');
	out8(r, UART_THR, 'i');
	CHECK_EQ(t, r->txlen, 2);
	CHECK(t, memcmp(r->txbuf, "hi", 2) == 0);
	CHECK_EQ(t, in8(r, UART_LSR) & 0x60, 0x60);
	CHECK(t, !r->irq);
	/* Enabling the THRE interrupt with the transmitter empty fires at once. */
	out8(r, UART_IER, UART_IER_THRI);
	CHECK(t, r->irq);
	CHECK_EQ(t, in8(r, UART_IIR), 0xc2);
	/* Reading IIR acknowledged it. */
	CHECK_EQ(t, in8(r, UART_IIR), 0xc1);
	CHECK(t, !r->irq);
	/* Linux's UART_BUG_THRE probe: re-enabling must re-assert it. */
	out8(r, UART_IER, 0);
	out8(r, UART_IER, UART_IER_THRI);
	CHECK_EQ(t, in8(r, UART_IIR), 0xc2);
	/* Writing THR clears it; the character leaves, and it is back. */
	out8(r, UART_THR, '!');
	CHECK_EQ(t, in8(r, UART_IIR), 0xc2);
	CHECK_EQ(t, r->txlen, 3);
	free(r);
}

static void receive_fifo_and_trigger(struct test *t)
{
	struct rig *r = rig_new(t);
	uint8_t data[20];

	REQUIRE(t, r);
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)('a' + i);
	linux_setup(r, 0xc7);           /* trigger 14 */
	out8(r, UART_IER, UART_IER_RDI);
	CHECK_EQ(t, ns16550_can_receive(&r->uart), 16);
	CHECK_EQ(t, ns16550_receive(&r->uart, data, 13), 13);
	CHECK_EQ(t, in8(r, UART_IIR), 0xc1);
	CHECK(t, !r->irq);
	CHECK_EQ(t, in8(r, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
	CHECK_EQ(t, ns16550_receive(&r->uart, data + 13, 7), 3);    /* only what fits */
	CHECK_EQ(t, ns16550_can_receive(&r->uart), 0);
	CHECK_EQ(t, ns16550_receive(&r->uart, data + 16, 4), 0);
	CHECK_EQ(t, in8(r, UART_IIR), 0xc4);
	CHECK(t, r->irq);
	CHECK_EQ(t, in8(r, UART_LSR) & UART_LSR_OE, 0);     /* nothing was lost */
	CHECK_EQ(t, in8(r, UART_RBR), 'a');
	CHECK_EQ(t, r->rx_space_calls, 1);
	CHECK_EQ(t, in8(r, UART_RBR), 'b');
	CHECK_EQ(t, in8(r, UART_IIR), 0xc4);    /* 14 left */
	CHECK_EQ(t, in8(r, UART_RBR), 'c');
	CHECK_EQ(t, in8(r, UART_IIR), 0xc1);    /* 13: below the trigger */
	CHECK(t, !r->irq);
	for (unsigned i = 3; i < 16; i++)
		CHECK_EQ(t, in8(r, UART_RBR), 'a' + i);
	CHECK_EQ(t, in8(r, UART_LSR) & UART_LSR_DR, 0);
	/* The other trigger levels: 1, 4, 8. */
	for (unsigned lvl = 0; lvl < 3; lvl++) {
		static const unsigned want[3] = { 1, 4, 8 };

		out8(r, UART_FCR, (uint8_t)(lvl << 6 | 0x03));
		CHECK_EQ(t, ns16550_receive(&r->uart, data, want[lvl] - 1), want[lvl] - 1);
		CHECK_EQ(t, in8(r, UART_IIR) & 0x0f, 0x01);
		CHECK_EQ(t, ns16550_receive(&r->uart, data, 1), 1);
		CHECK_EQ(t, in8(r, UART_IIR) & 0x0f, 0x04);
	}
	/* FCR clear-receive empties the FIFO. */
	out8(r, UART_FCR, 0x03);
	CHECK_EQ(t, in8(r, UART_LSR) & UART_LSR_DR, 0);
	CHECK_EQ(t, ns16550_can_receive(&r->uart), 16);
	free(r);
}

static void character_timeout(struct test *t)
{
	struct rig *r = rig_new(t);
	const uint8_t data[3] = { 'x', 'y', 'z' };
	const uint64_t char_time = 10ull * 16 * 1000000000ull / 1843200;   /* 8N1 at 115200 */

	REQUIRE(t, r);
	linux_setup(r, 0x87);           /* trigger 8 */
	out8(r, UART_IER, UART_IER_RDI);
	CHECK_EQ(t, ns16550_receive(&r->uart, data, 3), 3);
	advance(r, 4 * char_time - 1000);
	CHECK_EQ(t, in8(r, UART_IIR), 0xc1);
	advance(r, 1000);
	CHECK_EQ(t, in8(r, UART_IIR), 0xcc);
	CHECK(t, r->irq);
	/* Reading a character clears it and restarts the timeout. */
	CHECK_EQ(t, in8(r, UART_RBR), 'x');
	CHECK_EQ(t, in8(r, UART_IIR), 0xc1);
	CHECK(t, !r->irq);
	advance(r, 4 * char_time);
	CHECK_EQ(t, in8(r, UART_IIR), 0xcc);
	CHECK_EQ(t, in8(r, UART_RBR), 'y');
	CHECK_EQ(t, in8(r, UART_RBR), 'z');
	advance(r, 10 * char_time);
	CHECK_EQ(t, in8(r, UART_IIR), 0xc1);    /* empty: no timeout */
	/* A slower rate stretches it: 9600 baud, 7E2 = 11 bits. */
	out8(r, UART_LCR, 0x80);
	out8(r, UART_DLL, 12);
	out8(r, UART_LCR, 0x02 | 0x04 | 0x18);
	CHECK_EQ(t, ns16550_receive(&r->uart, data, 1), 1);
	advance(r, 4 * 11 * 16 * 12 * 1000000000ull / 1843200 - 1000);
	CHECK_EQ(t, in8(r, UART_IIR), 0xc1);
	advance(r, 1000);
	CHECK_EQ(t, in8(r, UART_IIR), 0xcc);
	free(r);
}

static void non_fifo_mode(struct test *t)
{
	struct rig *r = rig_new(t);
	const uint8_t data[2] = { 1, 2 };

	REQUIRE(t, r);
	linux_setup(r, 0x00);
	out8(r, UART_IER, UART_IER_RDI);
	CHECK_EQ(t, ns16550_can_receive(&r->uart), 1);
	CHECK_EQ(t, ns16550_receive(&r->uart, data, 2), 1);
	CHECK_EQ(t, in8(r, UART_IIR), 0x04);    /* no FIFO bits */
	CHECK(t, r->irq);
	CHECK_EQ(t, in8(r, UART_RBR), 1);
	CHECK_EQ(t, in8(r, UART_IIR), 0x01);
	CHECK_EQ(t, r->rx_space_calls, 1);
	/* In loopback a second character overwrites an unread RBR. */
	out8(r, UART_MCR, UART_MCR_LOOP);
	out8(r, UART_THR, 7);
	out8(r, UART_THR, 8);
	CHECK_EQ(t, in8(r, UART_LSR) & (UART_LSR_OE | UART_LSR_DR), UART_LSR_OE | UART_LSR_DR);
	CHECK_EQ(t, in8(r, UART_RBR), 8);
	free(r);
}

static void line_status_and_priority(struct test *t)
{
	struct rig *r = rig_new(t);

	REQUIRE(t, r);
	linux_setup(r, 0x07);           /* FIFO, trigger 1 */
	out8(r, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	for (unsigned i = 0; i < 17; i++)
		out8(r, UART_THR, (uint8_t)i);  /* 17th overruns */
	CHECK_EQ(t, r->txlen, 0);       /* loopback: nothing on the line */
	out8(r, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);  /* CTS changes */
	out8(r, UART_IER, 0x0f);
	/* All four sources pending: line status first. */
	CHECK_EQ(t, in8(r, UART_IIR), 0xc6);
	CHECK(t, !r->irq);              /* loopback keeps the interrupt off the bus */
	CHECK_EQ(t, in8(r, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT | UART_LSR_OE | UART_LSR_DR);
	CHECK_EQ(t, in8(r, UART_LSR) & UART_LSR_OE, 0);  /* read clears it */
	CHECK_EQ(t, in8(r, UART_IIR), 0xc4);
	for (unsigned i = 0; i < 16; i++)
		CHECK_EQ(t, in8(r, UART_RBR), i);
	CHECK_EQ(t, in8(r, UART_IIR), 0xc2);
	CHECK_EQ(t, in8(r, UART_IIR), 0xc0);    /* modem status */
	CHECK_EQ(t, in8(r, UART_MSR) & 0x0f, UART_MSR_DCTS | UART_MSR_DDSR);
	CHECK_EQ(t, in8(r, UART_IIR), 0xc1);

	/* Break in loopback: BI, a NUL, and LSR bit 7 while it is in the FIFO. */
	out8(r, UART_THR, 'q');
	out8(r, UART_LCR, 0x03 | UART_LCR_SBC);
	{
		uint8_t lsr = in8(r, UART_LSR);

		CHECK_EQ(t, lsr & UART_LSR_BI, 0);      /* the top character is fine */
		CHECK_EQ(t, lsr & UART_LSR_FIFOE, UART_LSR_FIFOE);
	}
	CHECK_EQ(t, in8(r, UART_RBR), 'q');
	CHECK_EQ(t, in8(r, UART_IIR), 0xc6);
	CHECK_EQ(t, in8(r, UART_LSR) & (UART_LSR_BI | UART_LSR_DR), UART_LSR_BI | UART_LSR_DR);
	CHECK_EQ(t, in8(r, UART_RBR), 0);
	CHECK_EQ(t, in8(r, UART_LSR) & 0x9f, 0);
	free(r);
}

static void loopback_modem_lines(struct test *t)
{
	struct rig *r = rig_new(t);

	REQUIRE(t, r);
	out8(r, UART_MCR, UART_MCR_LOOP);
	CHECK_EQ(t, in8(r, UART_MSR), UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD);
	CHECK_EQ(t, in8(r, UART_MSR), 0);
	out8(r, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
	CHECK_EQ(t, in8(r, UART_MSR), UART_MSR_CTS | UART_MSR_DCTS);
	out8(r, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_DTR);
	CHECK_EQ(t, in8(r, UART_MSR), UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DDSR);
	out8(r, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
	CHECK_EQ(t, in8(r, UART_MSR), UART_MSR_RI | UART_MSR_DCTS | UART_MSR_DDSR);
	out8(r, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	CHECK_EQ(t, in8(r, UART_MSR), UART_MSR_DCD | UART_MSR_TERI | UART_MSR_DDCD);
	/* The serial input is disconnected in loopback. */
	CHECK_EQ(t, ns16550_can_receive(&r->uart), 0);
	CHECK_EQ(t, ns16550_receive(&r->uart, (const uint8_t *)"x", 1), 0);
	/* Back to normal: the backend's lines, and the backend may send again. */
	r->rx_space_calls = 0;
	out8(r, UART_MCR, UART_MCR_OUT2);
	CHECK_EQ(t, r->rx_space_calls, 1);
	CHECK_EQ(t, ns16550_can_receive(&r->uart), 1);
	CHECK_EQ(t, in8(r, UART_MSR) & 0xf0, UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
	free(r);
}

static void backend_connect_and_out2(struct test *t)
{
	struct rig *r = rig_new(t);

	REQUIRE(t, r);
	out8(r, UART_IER, UART_IER_MSI);
	ns16550_set_connected(&r->uart, false);
	CHECK_EQ(t, in8(r, UART_IIR), 0x00);
	CHECK(t, !r->irq);              /* OUT2 clear: nothing on the bus */
	out8(r, UART_MCR, UART_MCR_OUT2);
	CHECK(t, r->irq);
	CHECK_EQ(t, in8(r, UART_MSR), UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD);
	CHECK(t, !r->irq);
	ns16550_set_connected(&r->uart, true);
	CHECK(t, r->irq);
	CHECK_EQ(t, in8(r, UART_MSR), (UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD | 0x0b));
	free(r);
}

/* The register dance Linux's 8250 driver does to find and size a port. */
static void linux_8250_probe(struct test *t)
{
	struct rig *r = rig_new(t);
	uint8_t mcr, st1, st2;

	REQUIRE(t, r);
	/* Existence: IER keeps what is written to its low nibble. */
	out8(r, UART_IER, 0);
	CHECK_EQ(t, in8(r, UART_IER) & 0x0f, 0);
	out8(r, UART_IER, 0x0f);
	CHECK_EQ(t, in8(r, UART_IER) & 0x0f, 0x0f);
	out8(r, UART_IER, 0);
	/* Loopback with RTS and OUT2 reads back CTS and DCD. */
	out8(r, UART_MCR, UART_MCR_LOOP | 0x0a);
	CHECK_EQ(t, in8(r, UART_MSR) & 0xf0, 0x90);
	out8(r, UART_MCR, 0);
	/* FIFOs: IIR bits 7-6 both set means a working 16550A. */
	out8(r, UART_LCR, 0xbf);
	out8(r, UART_FCR, 0);           /* "EFR" on other chips: FCR here */
	out8(r, UART_LCR, 0);
	out8(r, UART_FCR, UART_FCR_ENABLE);
	CHECK_EQ(t, in8(r, UART_IIR) >> 6, 3);
	/* No EFR behind LCR 0x80 or 0xbf: offset 2 reads IIR, never 0. */
	out8(r, UART_LCR, 0x80);
	CHECK(t, in8(r, UART_IIR) != 0);
	out8(r, UART_LCR, 0xbf);
	CHECK(t, in8(r, UART_IIR) != 0);
	/* Not an NS SuperIO: "EXCR1" does not follow MCR.LOOP. */
	out8(r, UART_LCR, 0);
	mcr = in8(r, UART_MCR);
	out8(r, UART_LCR, 0xe0);
	st1 = in8(r, UART_IIR);
	out8(r, UART_LCR, 0);
	out8(r, UART_MCR, mcr ^ UART_MCR_LOOP);
	out8(r, UART_LCR, 0xe0);
	st2 = in8(r, UART_IIR);
	out8(r, UART_LCR, 0);
	out8(r, UART_MCR, mcr);
	CHECK_EQ(t, (st1 ^ st2) & UART_MCR_LOOP, 0);
	/* Not a TI16750: no 64-byte FIFO bit in IIR, with or without DLAB. */
	out8(r, UART_FCR, UART_FCR_ENABLE | 0x20);
	CHECK_EQ(t, in8(r, UART_IIR) >> 5, 6);
	out8(r, UART_FCR, UART_FCR_ENABLE);
	out8(r, UART_LCR, 0x80);
	out8(r, UART_FCR, UART_FCR_ENABLE | 0x20);
	CHECK_EQ(t, in8(r, UART_IIR) >> 5, 6);
	out8(r, UART_FCR, UART_FCR_ENABLE);
	out8(r, UART_LCR, 0);
	/* Not an XScale UART: IER bit 6 does not stick. */
	out8(r, UART_IER, 0x40);
	CHECK_EQ(t, in8(r, UART_IER) & 0x40, 0);
	/* Startup: THRE interrupt on enable (no UART_BUG_TXEN). */
	out8(r, UART_IER, UART_IER_THRI);
	CHECK(t, in8(r, UART_LSR) & UART_LSR_TEMT);
	CHECK_EQ(t, in8(r, UART_IIR) & UART_IIR_NONE, 0);
	out8(r, UART_IER, 0);
	free(r);
}

/* The port under the shared save/load checks (devtest.h); ctx is the rig. */
static int load_uart(void *ctx, struct sbuf *sb)
{
	return ns16550_load(&((struct rig *)ctx)->uart, sb);
}

/* save_load's port: a refused load leaves its line settings and scratch. */
static void uart_untouched(struct test *t, void *ctx)
{
	struct rig *r = ctx;

	CHECK_EQ(t, in8(r, UART_SCR), 0x42);
	CHECK_EQ(t, in8(r, UART_LCR), 0x03);
}

/* Whatever was loaded, the registers read, input lands and time runs on. */
static void uart_still_works(struct test *t, void *ctx)
{
	struct rig *r = ctx;

	for (unsigned reg = 0; reg < 8; reg++)
		(void)in8(r, reg);
	(void)ns16550_receive(&r->uart, (const uint8_t *)"zzz", 3);
	advance(r, 100000);
}

static void save_load(struct test *t)
{
	struct rig *a = rig_new(t), *b = rig_new(t);
	struct sbuf sb, rd;

	REQUIRE(t, a && b);
	linux_setup(a, 0x87);
	out8(a, UART_IER, 0x07);
	out8(a, UART_SCR, 0x42);
	CHECK_EQ(t, ns16550_receive(&a->uart, (const uint8_t *)"hello", 5), 5);
	advance(a, 1000);
	sbuf_init(&sb);
	ns16550_save(&a->uart, &sb);
	REQUIRE(t, !sb.error);

	clock_set(&b->clk, clock_now(&a->clk));
	sbuf_init_read(&rd, sb.data, sb.len);
	REQUIRE(t, ns16550_load(&b->uart, &rd) == 0);
	CHECK_EQ(t, b->irq, a->irq);
	CHECK_EQ(t, in8(b, UART_SCR), 0x42);
	CHECK_EQ(t, in8(b, UART_LCR), 0x03);
	/* The timeout timer came along: it fires at the same instant. */
	advance(a, 400000);
	advance(b, 400000);
	CHECK_EQ(t, in8(b, UART_IIR), in8(a, UART_IIR));
	CHECK_EQ(t, in8(a, UART_IIR), 0xcc);
	CHECK_EQ(t, b->irq, a->irq);
	for (unsigned i = 0; i < 6; i++) {
		CHECK_EQ(t, in8(b, UART_LSR), in8(a, UART_LSR));
		CHECK_EQ(t, in8(b, UART_RBR), in8(a, UART_RBR));
	}

	/* Corrupt: rx_count of 40; then every truncation. Refused, the port
	 * keeps its registers and keeps working. */
	{
		struct devtest_ops ops = { .ctx = b, .load = load_uart,
		                           .check_untouched = uart_untouched };
		size_t off = sb.len - (8 + 1 + 1 + 1 + 1 + 1);   /* rx_count */

		CHECK_EQ(t, sb.data[off], 5);
		sb.data[off] = 40;
		devtest_refuses(t, &ops, sb.data, sb.len, "FIFO");
		devtest_truncations(t, &ops, sb.data, sb.len, 1);
		CHECK_EQ(t, ns16550_receive(&b->uart, (const uint8_t *)"ok", 2), 2);
		CHECK_EQ(t, in8(b, UART_RBR), 'o');
	}
	sbuf_free(&sb);
	free(a);
	free(b);
}

/* Random register traffic and input, then corrupt saves: never a crash or a lost invariant. */
static void hostile_guest(struct test *t)
{
	struct rig *r = rig_new(t);
	uint32_t x = 99;
	struct devtest_ops ops = { .ctx = r, .load = load_uart, .exercise = uart_still_works };
	struct sbuf sb;
	uint8_t buf[32];

	REQUIRE(t, r);
	memset(buf, 'z', sizeof(buf));
	for (unsigned i = 0; i < 100000; i++) {
		uint32_t v = devtest_rand(&x);

		switch (v % 4) {
		case 0:
			out8(r, (v >> 8) & 7, (uint8_t)(v >> 16));
			break;
		case 1:
			(void)in8(r, (v >> 8) & 7);
			break;
		case 2: {
			size_t room = ns16550_can_receive(&r->uart), n = (v >> 8) % sizeof(buf);

			CHECK(t, ns16550_receive(&r->uart, buf, n) == (n < room ? n : room));
			break;
		}
		default:
			advance(r, v >> 14);
			break;
		}
		if (r->uart.rx_count > NS16550_FIFO) {
			CHECK(t, r->uart.rx_count <= NS16550_FIFO);
			break;
		}
		r->txlen = 0;
	}
	sbuf_init(&sb);
	ns16550_save(&r->uart, &sb);
	REQUIRE(t, !sb.error);
	devtest_flip_bits(t, &ops, sb.data, sb.len, 2000, &x);
	sbuf_free(&sb);
	free(r);
}

int main(int argc, char **argv)
{
	struct harness h;

	harness_init(&h, "ns16550", argc, argv);
	RUN(&h, reset_values);
	RUN(&h, divisor_and_scratch);
	RUN(&h, transmit_and_thre);
	RUN(&h, receive_fifo_and_trigger);
	RUN(&h, character_timeout);
	RUN(&h, non_fifo_mode);
	RUN(&h, line_status_and_priority);
	RUN(&h, loopback_modem_lines);
	RUN(&h, backend_connect_and_out2);
	RUN(&h, linux_8250_probe);
	RUN(&h, save_load);
	RUN(&h, hostile_guest);
	return harness_done(&h);
}
