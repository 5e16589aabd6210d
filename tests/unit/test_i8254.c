#include <stdlib.h>
#include <string.h>

#include "lib/sbuf.h"
#include "machine/bus.h"
#include "machine/clock.h"
#include "machine/i8254.h"
#include "tests/unit/harness.h"

struct rig {
	struct iobus io;
	struct clock clk;
	struct i8254 pit;
	bool irq;               /* IRQ0 level */
	unsigned edges;         /* rising edges seen on IRQ0 */
};

static void irq_in(void *ctrl, unsigned pin, bool level)
{
	struct rig *r = ctrl;

	if (level && !r->irq)
		r->edges++;
	r->irq = level;
}

static void out8(struct rig *r, uint16_t port, uint8_t v) { iobus_write(&r->io, port, v, 1); }
static uint8_t in8(struct rig *r, uint16_t port) { return (uint8_t)iobus_read(&r->io, port, 1); }

static struct rig *rig_new(struct test *t)
{
	struct rig *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	iobus_init(&r->io);
	clock_init_manual(&r->clk);
	if (i8254_init(&r->pit, &r->io, &r->clk, (struct irq_line){ irq_in, r, 0 }) != 0) {
		test_fail(t, __FILE__, __LINE__, "i8254_init failed");
		free(r);
		return NULL;
	}
	return r;
}

/* Moves machine time to the instant PIT clock T has passed, firing timers. */
static void go_tick(struct rig *r, uint64_t T)
{
	uint64_t ns = i8254_ticks_to_ns(T);

	if (ns > clock_now(&r->clk))
		clock_advance(&r->clk, ns - clock_now(&r->clk));
	timers_run(&r->clk, clock_now(&r->clk));
}

static uint64_t tick(struct rig *r) { return i8254_ns_to_ticks(clock_now(&r->clk)); }

/* A live LSB/MSB read of a channel in access mode 3. */
static uint16_t read16(struct rig *r, unsigned ch)
{
	uint16_t lo = in8(r, (uint16_t)(0x40 + ch));

	return (uint16_t)(lo | in8(r, (uint16_t)(0x40 + ch)) << 8);
}

static void program(struct rig *r, unsigned ch, unsigned mode, uint16_t count)
{
	out8(r, 0x43, (uint8_t)(ch << 6 | 0x30 | mode << 1));
	out8(r, (uint16_t)(0x40 + ch), (uint8_t)count);
	out8(r, (uint16_t)(0x40 + ch), (uint8_t)(count >> 8));
}

static void conversions(struct test *t)
{
	CHECK_EQ(t, i8254_ns_to_ticks(1000000000ull), I8254_HZ);
	CHECK_EQ(t, i8254_ns_to_ticks(838), 0);
	CHECK_EQ(t, i8254_ns_to_ticks(839), 1);
	CHECK_EQ(t, i8254_ticks_to_ns(1), 839);
	/* Exact across long uptimes (no 64-bit overflow): 30 days. */
	CHECK_EQ(t, i8254_ns_to_ticks(30ull * 86400 * 1000000000ull), 30ull * 86400 * I8254_HZ);
	for (uint64_t T = 0; T < 5000000; T += 12345) {
		uint64_t ns = i8254_ticks_to_ns(T);

		CHECK_EQ(t, i8254_ns_to_ticks(ns), T);
		if (ns)
			CHECK_EQ(t, i8254_ns_to_ticks(ns - 1), T - 1);
	}
}

static void mode0_terminal_count(struct test *t)
{
	struct rig *r = rig_new(t);

	REQUIRE(t, r);
	go_tick(r, 1000);
	program(r, 0, 0, 100);          /* written at clock 1000, loaded at 1001 */
	CHECK(t, !r->irq);
	go_tick(r, 1001);
	CHECK_EQ(t, read16(r, 0), 100);
	go_tick(r, 1050);
	CHECK_EQ(t, read16(r, 0), 51);
	go_tick(r, 1100);
	CHECK_EQ(t, read16(r, 0), 1);
	CHECK_EQ(t, r->edges, 0);
	/* OUT rises N+1 clocks after the write, and IRQ0 exactly then. */
	go_tick(r, 1101);
	CHECK_EQ(t, r->edges, 1);
	CHECK(t, r->irq);
	CHECK_EQ(t, read16(r, 0), 0);
	go_tick(r, 1102);
	CHECK_EQ(t, read16(r, 0), 0xffff);      /* counting wraps on, OUT stays high */
	go_tick(r, 1101 + 65536 + 10);
	CHECK(t, r->irq);
	CHECK_EQ(t, r->edges, 1);
	/* A new count drops OUT; the first byte alone stops the counter. */
	out8(r, 0x40, 50);
	CHECK(t, !r->irq);
	{
		uint16_t held = read16(r, 0);

		go_tick(r, tick(r) + 500);
		CHECK_EQ(t, read16(r, 0), held);
	}
	out8(r, 0x40, 0);
	go_tick(r, tick(r) + 50);
	CHECK(t, !r->irq);
	go_tick(r, tick(r) + 1);
	CHECK(t, r->irq);
	CHECK_EQ(t, r->edges, 2);
	free(r);
}

static void mode0_gate_pauses(struct test *t)
{
	struct rig *r = rig_new(t);

	REQUIRE(t, r);
	out8(r, 0x61, 0x01);            /* gate 2 high */
	program(r, 2, 0, 1000);
	go_tick(r, tick(r) + 301);
	CHECK_EQ(t, read16(r, 2), 700);
	out8(r, 0x61, 0x00);            /* gate low: counting stops */
	go_tick(r, tick(r) + 5000);
	CHECK_EQ(t, read16(r, 2), 700);
	CHECK_EQ(t, in8(r, 0x61) & 0x20, 0);
	out8(r, 0x61, 0x01);            /* resumes on the next clock */
	go_tick(r, tick(r) + 700);
	CHECK_EQ(t, in8(r, 0x61) & 0x20, 0);
	go_tick(r, tick(r) + 1);
	CHECK_EQ(t, in8(r, 0x61) & 0x20, 0x20);
	free(r);
}

static void mode1_one_shot(struct test *t)
{
	struct rig *r = rig_new(t);
	uint64_t t0;

	REQUIRE(t, r);
	program(r, 2, 1, 200);
	CHECK_EQ(t, in8(r, 0x61) & 0x20, 0x20);     /* OUT high until triggered */
	go_tick(r, tick(r) + 1000);
	CHECK_EQ(t, in8(r, 0x61) & 0x20, 0x20);
	t0 = tick(r);
	out8(r, 0x61, 0x01);            /* gate rising edge: trigger */
	CHECK_EQ(t, in8(r, 0x61) & 0x20, 0x20);
	go_tick(r, t0 + 1);
	CHECK_EQ(t, in8(r, 0x61) & 0x20, 0);        /* OUT low from the load */
	CHECK_EQ(t, read16(r, 2), 200);
	go_tick(r, t0 + 150);
	/* Retrigger: reload on the next clock, the one-shot lengthens. */
	out8(r, 0x61, 0x00);
	out8(r, 0x61, 0x01);
	go_tick(r, t0 + 151);
	CHECK_EQ(t, read16(r, 2), 200);
	go_tick(r, t0 + 350);
	CHECK_EQ(t, in8(r, 0x61) & 0x20, 0);
	go_tick(r, t0 + 351);
	CHECK_EQ(t, in8(r, 0x61) & 0x20, 0x20);
	/* Gate low does not stop mode 1. */
	out8(r, 0x61, 0x00);
	go_tick(r, t0 + 361);
	CHECK_EQ(t, read16(r, 2), 0x10000 - 10);
	free(r);
}

static void mode2_rate_generator(struct test *t)
{
	struct rig *r = rig_new(t);
	uint64_t t0;

	REQUIRE(t, r);
	t0 = tick(r);
	program(r, 0, 2, 100);          /* load at t0+1, period 100 clocks */
	CHECK(t, r->irq);               /* the control word sets OUT high */
	r->edges = 0;
	go_tick(r, t0 + 1);
	CHECK_EQ(t, read16(r, 0), 100);
	go_tick(r, t0 + 99);
	CHECK_EQ(t, read16(r, 0), 2);
	CHECK(t, r->irq);
	go_tick(r, t0 + 100);           /* CE = 1: OUT low for one clock */
	CHECK_EQ(t, read16(r, 0), 1);
	out8(r, 0x43, 0xe2);            /* read-back status: OUT is bit 7 */
	CHECK_EQ(t, in8(r, 0x40) & 0x80, 0);
	CHECK_EQ(t, r->edges, 0);
	go_tick(r, t0 + 101);           /* reload, OUT high: IRQ0 edge */
	CHECK_EQ(t, read16(r, 0), 100);
	CHECK(t, r->irq);
	CHECK_EQ(t, r->edges, 1);
	for (unsigned i = 2; i <= 10; i++)
		go_tick(r, t0 + 1 + 100 * i);
	CHECK_EQ(t, r->edges, 10);
	/* A new count takes effect at the end of the current period. */
	go_tick(r, t0 + 1 + 1000 + 30);
	out8(r, 0x40, 50);              /* count only, no control word */
	out8(r, 0x40, 0);
	CHECK_EQ(t, read16(r, 0), 70);
	go_tick(r, t0 + 1 + 1099);
	CHECK_EQ(t, read16(r, 0), 1);           /* the old period runs out */
	go_tick(r, t0 + 1 + 1100);
	CHECK_EQ(t, read16(r, 0), 50);
	CHECK_EQ(t, r->edges, 11);
	go_tick(r, t0 + 1 + 1150);
	CHECK_EQ(t, r->edges, 12);
	free(r);
}

static void mode3_square_wave(struct test *t)
{
	struct rig *r = rig_new(t);
	uint64_t t0;

	REQUIRE(t, r);
	out8(r, 0x61, 0x01);
	t0 = tick(r);
	program(r, 2, 3, 10);           /* even: 5 high, 5 low */
	go_tick(r, t0 + 1);
	CHECK_EQ(t, read16(r, 2), 10);
	CHECK_EQ(t, in8(r, 0x61) & 0x20, 0x20);
	go_tick(r, t0 + 3);
	CHECK_EQ(t, read16(r, 2), 6);   /* counts by two */
	go_tick(r, t0 + 5);
	CHECK_EQ(t, in8(r, 0x61) & 0x20, 0x20);
	go_tick(r, t0 + 6);
	CHECK_EQ(t, in8(r, 0x61) & 0x20, 0);
	CHECK_EQ(t, read16(r, 2), 10);
	go_tick(r, t0 + 10);
	CHECK_EQ(t, in8(r, 0x61) & 0x20, 0);
	go_tick(r, t0 + 11);
	CHECK_EQ(t, in8(r, 0x61) & 0x20, 0x20);

	/* Odd count: high (N+1)/2, low (N-1)/2. */
	t0 = tick(r);
	program(r, 2, 3, 7);
	go_tick(r, t0 + 1);
	{
		unsigned high = 0, low = 0;

		for (unsigned i = 0; i < 7; i++) {
			go_tick(r, t0 + 1 + i);
			if (in8(r, 0x61) & 0x20)
				high++;
			else
				low++;
		}
		CHECK_EQ(t, high, 4);
		CHECK_EQ(t, low, 3);
	}
	/* Gate low forces OUT high at once and holds the count. */
	go_tick(r, t0 + 1 + 5);
	CHECK_EQ(t, in8(r, 0x61) & 0x20, 0);
	out8(r, 0x61, 0x00);
	CHECK_EQ(t, in8(r, 0x61) & 0x20, 0x20);
	free(r);
}

static void mode3_irq0_rate(struct test *t)
{
	struct rig *r = rig_new(t);
	uint64_t t0;

	REQUIRE(t, r);
	t0 = tick(r);
	program(r, 0, 3, 0);            /* 65536: the BIOS's 18.2 Hz */
	r->edges = 0;
	for (unsigned i = 1; i <= 18; i++)
		go_tick(r, t0 + 1 + 65536ull * i);
	CHECK_EQ(t, r->edges, 18);
	free(r);
}

static void mode4_software_strobe(struct test *t)
{
	struct rig *r = rig_new(t);
	uint64_t t0;

	REQUIRE(t, r);
	t0 = tick(r);
	program(r, 0, 4, 40);
	CHECK(t, r->irq);
	r->edges = 0;
	go_tick(r, t0 + 40);
	CHECK(t, r->irq);
	CHECK_EQ(t, read16(r, 0), 1);
	go_tick(r, t0 + 41);            /* CE = 0: OUT low for one clock */
	out8(r, 0x43, 0xe2);
	CHECK_EQ(t, in8(r, 0x40) & 0x80, 0);
	CHECK_EQ(t, r->edges, 0);
	go_tick(r, t0 + 42);
	CHECK(t, r->irq);
	CHECK_EQ(t, r->edges, 1);
	CHECK_EQ(t, read16(r, 0), 0xffff);
	go_tick(r, t0 + 42 + 70000);    /* only once */
	CHECK_EQ(t, r->edges, 1);
	/* Software retrigger: a new count restarts the strobe. */
	t0 = tick(r);
	program(r, 0, 4, 10);
	go_tick(r, t0 + 12);
	CHECK_EQ(t, r->edges, 2);
	free(r);
}

static void mode5_hardware_strobe(struct test *t)
{
	struct rig *r = rig_new(t);
	uint64_t t0;

	REQUIRE(t, r);
	program(r, 2, 5, 20);
	go_tick(r, tick(r) + 100);
	CHECK_EQ(t, in8(r, 0x61) & 0x20, 0x20);
	t0 = tick(r);
	out8(r, 0x61, 0x01);
	go_tick(r, t0 + 20);
	CHECK_EQ(t, in8(r, 0x61) & 0x20, 0x20);
	go_tick(r, t0 + 21);
	CHECK_EQ(t, in8(r, 0x61) & 0x20, 0);
	go_tick(r, t0 + 22);
	CHECK_EQ(t, in8(r, 0x61) & 0x20, 0x20);
	free(r);
}

static void bcd_counting(struct test *t)
{
	struct rig *r = rig_new(t);
	uint64_t t0;

	REQUIRE(t, r);
	t0 = tick(r);
	out8(r, 0x43, 0x35);            /* ch0, lo/hi, mode 2, BCD */
	out8(r, 0x40, 0x00);
	out8(r, 0x40, 0x10);            /* 1000 decimal */
	r->edges = 0;
	go_tick(r, t0 + 1);
	CHECK_EQ(t, read16(r, 0), 0x1000);
	go_tick(r, t0 + 1 + 1);
	CHECK_EQ(t, read16(r, 0), 0x0999);
	go_tick(r, t0 + 1 + 1000);
	CHECK_EQ(t, r->edges, 1);
	/* BCD 0 is 10000 clocks. */
	t0 = tick(r);
	out8(r, 0x43, 0x31);            /* mode 0, BCD */
	out8(r, 0x40, 0);
	out8(r, 0x40, 0);
	go_tick(r, t0 + 2);
	CHECK_EQ(t, read16(r, 0), 0x9999);
	free(r);
}

static void latch_and_access_modes(struct test *t)
{
	struct rig *r = rig_new(t);
	uint64_t t0;

	REQUIRE(t, r);
	t0 = tick(r);
	program(r, 0, 2, 0x1234);
	go_tick(r, t0 + 1 + 0x10);
	out8(r, 0x43, 0x00);            /* latch channel 0 */
	go_tick(r, t0 + 1 + 0x20);
	out8(r, 0x43, 0x00);            /* ignored: already latched */
	CHECK_EQ(t, in8(r, 0x40), 0x24);
	go_tick(r, t0 + 1 + 0x30);
	CHECK_EQ(t, in8(r, 0x40), 0x12);
	/* The latch is spent: live again. */
	CHECK_EQ(t, read16(r, 0), 0x1234 - 0x30);

	/* LSB only: count < 256, reads give the LSB. */
	t0 = tick(r);
	out8(r, 0x43, 0x14);            /* ch0, LSB, mode 2 */
	out8(r, 0x40, 0x80);
	go_tick(r, t0 + 1 + 0x10);
	CHECK_EQ(t, in8(r, 0x40), 0x70);
	CHECK_EQ(t, in8(r, 0x40), 0x70);
	/* MSB only: count = v << 8. */
	t0 = tick(r);
	out8(r, 0x43, 0x24);
	out8(r, 0x40, 0x02);
	go_tick(r, t0 + 1 + 0x101);
	CHECK_EQ(t, in8(r, 0x40), 0x00);   /* 0x200 - 0x101 = 0xff */
	out8(r, 0x43, 0x00);
	CHECK_EQ(t, in8(r, 0x40), 0x00);
	free(r);
}

static void read_back(struct test *t)
{
	struct rig *r = rig_new(t);
	uint64_t t0;

	REQUIRE(t, r);
	out8(r, 0x61, 0x01);
	out8(r, 0x43, 0xb0);            /* ch2 lo/hi mode 0 */
	out8(r, 0x42, 0x00);
	/* Status after half a count: NULL COUNT set, OUT low. */
	out8(r, 0x43, 0xe8);            /* read-back status of ch2 */
	CHECK_EQ(t, in8(r, 0x42), 0x40 | 0x30 | 0x00);
	out8(r, 0x42, 0x01);
	t0 = tick(r);
	go_tick(r, t0 + 1);
	program(r, 1, 2, 500);
	go_tick(r, t0 + 11);
	/* Count and status of ch1 and ch2 in one command; status reads first. */
	out8(r, 0x43, 0xcc);
	CHECK_EQ(t, in8(r, 0x42), 0x30);        /* OUT low, count loaded, lo/hi, mode 0 */
	CHECK_EQ(t, in8(r, 0x42), 0xf6);        /* 0x100 - 10 */
	CHECK_EQ(t, in8(r, 0x42), 0x00);
	CHECK_EQ(t, in8(r, 0x41), 0x80 | 0x34);
	CHECK_EQ(t, read16(r, 1), 500 - 9);     /* ch1 loaded at t0+2 */
	/* Count-only read-back latches like a counter latch. */
	out8(r, 0x43, 0xd8);
	go_tick(r, t0 + 200);
	CHECK_EQ(t, read16(r, 2), 0x100 - 10);
	free(r);
}

static void port61_and_refresh(struct test *t)
{
	struct rig *r = rig_new(t);
	uint8_t first;
	unsigned flips = 0;

	REQUIRE(t, r);
	out8(r, 0x61, 0xff);
	CHECK_EQ(t, in8(r, 0x61) & 0x0f, 0x0f);
	/* Bit 4 flips every 15.085 us of machine time. */
	first = in8(r, 0x61) & 0x10;
	for (unsigned i = 0; i < 100; i++) {
		uint8_t b;

		clock_advance(&r->clk, I8254_REFRESH_NS);
		b = in8(r, 0x61) & 0x10;
		if (b != first)
			flips++;
		first = b;
	}
	CHECK_EQ(t, flips, 100);
	clock_advance(&r->clk, I8254_REFRESH_NS / 3);
	CHECK_EQ(t, in8(r, 0x61) & 0x10, first);
	out8(r, 0x61, 0x03);
	program(r, 2, 3, 2000);
	go_tick(r, tick(r) + 2);
	CHECK(t, i8254_speaker(&r->pit));
	out8(r, 0x61, 0x01);
	CHECK(t, !i8254_speaker(&r->pit));
	free(r);
}

/* Linux's pit_calibrate_tsc(): mode 0 on channel 2, poll port 0x61 bit 5. */
static void linux_tsc_calibration_loop(struct test *t)
{
	struct rig *r = rig_new(t);
	uint64_t start, loops = 0;
	const unsigned latch = 1193182 / 100;   /* 10 ms */

	REQUIRE(t, r);
	clock_advance(&r->clk, 123456789);
	out8(r, 0x61, (uint8_t)((in8(r, 0x61) & ~0x02) | 0x01));
	out8(r, 0x43, 0xb0);
	out8(r, 0x42, latch & 0xff);
	out8(r, 0x42, latch >> 8);
	start = clock_now(&r->clk);
	uint64_t expect = i8254_ticks_to_ns(i8254_ns_to_ticks(start) + 1 + latch) - start;
	while ((in8(r, 0x61) & 0x20) == 0 && loops < 100000) {
		clock_advance(&r->clk, 250);    /* one loop iteration of guest time */
		loops++;
	}
	/* OUT rises at the (latch + 1)th PIT clock after the write, seen within one poll. */
	{
		uint64_t took = clock_now(&r->clk) - start;

		CHECK(t, took >= expect);
		CHECK(t, took < expect + 250);
		CHECK(t, expect + 839 > 10000000 && expect <= 10000000 + 839);
	}
	/* quick_pit_calibrate(): the MSB of a free-running 0xffff count steps every 256 clocks. */
	out8(r, 0x43, 0xb0);
	out8(r, 0x42, 0xff);
	out8(r, 0x42, 0xff);
	/* Read back at once, within the same PIT clock: already the new count. */
	CHECK_EQ(t, read16(r, 2), 0xffff);
	go_tick(r, tick(r) + 1);
	for (unsigned i = 0; i < 50; i++) {
		uint8_t msb;

		(void)in8(r, 0x42);
		msb = in8(r, 0x42);
		CHECK_EQ(t, msb, 0xff - i);
		go_tick(r, tick(r) + 256);
	}
	free(r);
}

static void no_catch_up_storm(struct test *t)
{
	struct rig *r = rig_new(t);
	uint64_t t0;

	REQUIRE(t, r);
	t0 = tick(r);
	program(r, 0, 2, 1193);         /* ~1 kHz */
	r->edges = 0;
	go_tick(r, t0 + 1 + 1193);
	CHECK_EQ(t, r->edges, 1);
	/* The process sleeps for a whole second: 1000 periods pass, one edge now. */
	clock_advance(&r->clk, 1000000000ull);
	timers_run(&r->clk, clock_now(&r->clk));
	CHECK_EQ(t, r->edges, 2);
	CHECK_EQ(t, r->pit.stats.missed, 999);
	/* The backlog holds a second of ticks (1001 at this count): nothing dropped. */
	CHECK_EQ(t, r->pit.irq0_backlog, 999);
	CHECK_EQ(t, r->pit.stats.dropped, 0);
	/* And the next natural edge is back on the counter's own schedule. */
	{
		uint64_t now = tick(r);
		uint64_t R = t0 + 1 + ((now - (t0 + 1)) / 1193 + 1) * 1193;

		CHECK(t, i8254_next_irq0_ns(&r->pit) > clock_now(&r->clk));
		/* Re-injection in between is paced: at most one edge per 100 us. */
		go_tick(r, R - 1);
		CHECK(t, r->edges - 2 <= (i8254_ticks_to_ns(R - 1) - i8254_ticks_to_ns(now)) / 100000 + 1);
		program(r, 0, 2, 1193);     /* reprogramming drops the backlog */
		CHECK_EQ(t, r->pit.irq0_backlog, 0);
		CHECK(t, r->pit.stats.dropped > 900);
	}
	/* A tiny count is rate-limited, not a timer flood. */
	program(r, 0, 2, 2);
	{
		uint64_t end = clock_now(&r->clk) + 1000000;    /* 1 ms */
		unsigned fired = 0, before = r->edges;

		while (i8254_next_irq0_ns(&r->pit) <= end && fired < 10000) {
			uint64_t d = i8254_next_irq0_ns(&r->pit);

			clock_advance(&r->clk, d - clock_now(&r->clk));
			timers_run(&r->clk, d);
			fired++;
		}
		CHECK(t, fired <= 1000000 / 20000 + 1);
		CHECK(t, r->edges - before >= fired / 2);
	}
	free(r);
}

/* Runs the clock in 10 us steps for `ns`, firing timers at each. */
static void run_for(struct rig *r, uint64_t ns)
{
	for (uint64_t end = clock_now(&r->clk) + ns; clock_now(&r->clk) < end;) {
		clock_advance(&r->clk, 10000);
		timers_run(&r->clk, clock_now(&r->clk));
	}
}

/* HZ=250 (Linux's periodic tick on a PIT): LATCH = 4773 (rounded). */
#define HZ250 4773u

static void reinject_50ms_stall(struct test *t)
{
	struct rig *r = rig_new(t);
	uint64_t t0, stall_end, ns_at_12;

	REQUIRE(t, r);
	t0 = tick(r);
	program(r, 0, 2, HZ250);
	go_tick(r, t0 + 1 + HZ250);
	r->edges = 0;
	/* The host does not run the process for 50 ms: 12 periods pass. */
	clock_advance(&r->clk, 50000000ull);
	stall_end = clock_now(&r->clk);
	timers_run(&r->clk, stall_end);
	CHECK_EQ(t, r->edges, 1);                   /* one now, not twelve */
	CHECK_EQ(t, r->pit.stats.missed, 11);
	CHECK_EQ(t, r->pit.irq0_backlog, 11);
	/* The next 100 us bring one more, not the rest. */
	run_for(r, 100000);
	CHECK_EQ(t, r->edges, 2);
	/* The other ten follow, spread out, long before the next natural tick. */
	while (r->edges < 12 && clock_now(&r->clk) < stall_end + 4000000)
		run_for(r, 10000);
	ns_at_12 = clock_now(&r->clk) - stall_end;
	CHECK_EQ(t, r->edges, 12);
	CHECK(t, ns_at_12 >= 11 * 100000ull);       /* paced: 11 gaps of 100 us */
	CHECK(t, ns_at_12 < 11 * 100000ull + 20000);
	CHECK_EQ(t, r->pit.stats.reinjected, 11);
	CHECK_EQ(t, r->pit.irq0_backlog, 0);
	CHECK_EQ(t, r->pit.stats.dropped, 0);
	/* Then the natural ticks go on alone: the count since t0 is exact. */
	run_for(r, i8254_ticks_to_ns(t0 + 1 + 20 * (uint64_t)HZ250) - clock_now(&r->clk));
	CHECK_EQ(t, r->edges + 1, 20);
	free(r);
}

static void reinject_10s_stall_drops_excess(struct test *t)
{
	struct rig *r = rig_new(t);
	uint64_t t0;
	unsigned before;

	REQUIRE(t, r);
	t0 = tick(r);
	program(r, 0, 2, HZ250);
	go_tick(r, t0 + 1 + HZ250);
	clock_advance(&r->clk, 10000000000ull);
	timers_run(&r->clk, clock_now(&r->clk));
	/* 2499 periods pass (4.0002 ms each): one now, 2498 lost; a second's
	 * worth (250) is kept, the rest dropped. */
	CHECK_EQ(t, r->pit.stats.missed, 2498);
	CHECK_EQ(t, r->pit.irq0_backlog, 250);
	CHECK_EQ(t, r->pit.stats.dropped, 2248);
	before = r->edges;
	/* 250 edges at one per 100 us take 25 ms, with 6 natural ones meanwhile. */
	run_for(r, 30000000ull);
	CHECK_EQ(t, r->pit.irq0_backlog, 0);
	CHECK_EQ(t, r->pit.stats.reinjected, 250);
	CHECK(t, r->edges - before >= 250 + 6 && r->edges - before <= 250 + 8);
	free(r);
}

struct sink_rig {
	struct rig *r;
	enum i8254_sink state;
	unsigned probes;
};

static enum i8254_sink sink_probe(void *opaque)
{
	struct sink_rig *s = opaque;

	s->probes++;
	return s->state;
}

static void reinject_waits_for_the_controller(struct test *t)
{
	struct rig *r = rig_new(t);
	struct sink_rig s = { r, I8254_SINK_BUSY, 0 };
	uint64_t t0;

	REQUIRE(t, r);
	i8254_set_irq0_sink(&r->pit, sink_probe, &s);
	t0 = tick(r);
	program(r, 0, 2, HZ250);
	go_tick(r, t0 + 1 + HZ250);
	r->edges = 0;
	clock_advance(&r->clk, 20100000ull);        /* 5 periods: 1 now, 4 owed */
	timers_run(&r->clk, clock_now(&r->clk));
	CHECK_EQ(t, r->edges, 1);
	CHECK_EQ(t, r->pit.irq0_backlog, 4);
	/* The guest has not taken the last edge: nothing is re-injected. */
	run_for(r, 1000000);
	CHECK_EQ(t, r->edges, 1);
	CHECK(t, s.probes > 0);
	/* It takes it: the owed ones come, each after the previous was taken. */
	s.state = I8254_SINK_READY;
	run_for(r, 100000);
	CHECK_EQ(t, r->edges, 2);
	run_for(r, 300000);
	CHECK_EQ(t, r->edges, 5);
	CHECK_EQ(t, r->pit.irq0_backlog, 0);
	/* Masked for a moment (a handler running): owed ticks wait. */
	clock_advance(&r->clk, 20000000ull);
	timers_run(&r->clk, clock_now(&r->clk));
	CHECK(t, r->pit.irq0_backlog > 0);
	s.state = I8254_SINK_MASKED;
	run_for(r, 200000);
	CHECK(t, r->pit.irq0_backlog > 0);
	CHECK_EQ(t, r->pit.stats.dropped, 0);
	/* Still masked when the next period ends: they are dropped. */
	run_for(r, 4000000);
	CHECK_EQ(t, r->pit.irq0_backlog, 0);
	CHECK(t, r->pit.stats.dropped >= 3);
	free(r);
}

static void save_load(struct test *t)
{
	struct rig *a = rig_new(t), *b = rig_new(t);
	struct sbuf sb, rd;
	uint64_t t0;

	REQUIRE(t, a && b);
	t0 = tick(a);
	program(a, 0, 2, 1000);
	out8(a, 0x61, 0x01);
	program(a, 2, 0, 30000);
	program(a, 1, 3, 777);
	go_tick(a, t0 + 5555);
	out8(a, 0x43, 0x80);            /* latch ch2 and read half of it */
	(void)in8(a, 0x42);
	out8(a, 0x43, 0x50);            /* ch1: LSB-only mode 0, no count yet */
	unsigned a_before = a->edges;
	sbuf_init(&sb);
	i8254_save(&a->pit, &sb);
	REQUIRE(t, !sb.error);

	clock_set(&b->clk, clock_now(&a->clk));
	sbuf_init_read(&rd, sb.data, sb.len);
	REQUIRE(t, i8254_load(&b->pit, &rd) == 0);
	CHECK_EQ(t, b->irq, a->irq);
	b->edges = 0;
	CHECK_EQ(t, in8(b, 0x42), in8(a, 0x42));    /* the latch's second byte */
	CHECK_EQ(t, in8(b, 0x61) & 0x2f, in8(a, 0x61) & 0x2f);
	for (unsigned i = 0; i < 20; i++) {
		go_tick(a, t0 + 5555 + 377 * i);
		go_tick(b, t0 + 5555 + 377 * i);
		CHECK_EQ(t, read16(b, 0), read16(a, 0));
		CHECK_EQ(t, read16(b, 2), read16(a, 2));
		CHECK_EQ(t, b->irq, a->irq);
	}
	CHECK(t, a->edges > 0);
	CHECK(t, a->edges > a_before);
	CHECK_EQ(t, b->edges, a->edges - a_before);

	/* Corrupt: channel 0's mode byte becomes 9. */
	{
		struct i8254 before = b->pit;
		size_t hdr = sb.len - (3 * 51 + 1 + 1 + 8 + 4 + 8);   /* channel 0's first byte */

		sb.data[hdr] = 9;
		sbuf_init_read(&rd, sb.data, sb.len);
		CHECK(t, i8254_load(&b->pit, &rd) != 0);
		CHECK(t, strstr(rd.why, "mode") != NULL);
		CHECK(t, memcmp(&before.ch, &b->pit.ch, sizeof(before.ch)) == 0);
	}
	sbuf_init_read(&rd, sb.data, 10);
	CHECK(t, i8254_load(&b->pit, &rd) != 0);
	sbuf_free(&sb);
	free(a);
	free(b);
}

static uint32_t rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/*
 * A hostile guest programs random modes and counts; the IRQ0 timer must
 * never run more often than one programming or one floor gap allows.
 */
static void hostile_guest(struct test *t)
{
	static const uint16_t ports[] = { 0x40, 0x41, 0x42, 0x43, 0x61 };
	struct rig *r = rig_new(t);
	uint32_t x = 777;
	struct sbuf sb, rd;
	unsigned refused = 0, fired = 0, writes = 0;
	uint64_t start;

	REQUIRE(t, r);
	start = clock_now(&r->clk);
	for (unsigned i = 0; i < 100000; i++) {
		uint32_t v = rnd(&x);

		if (v % 3 == 0) {
			out8(r, ports[(v >> 8) % 5], (uint8_t)(v >> 16));
			writes++;
		} else if (v % 3 == 1) {
			(void)in8(r, ports[(v >> 8) % 5]);
		} else {
			uint64_t d = timer_next_deadline(&r->clk), lim = clock_now(&r->clk) + (v >> 20);

			if (d <= lim) {
				clock_advance(&r->clk, d - clock_now(&r->clk));
				timers_run(&r->clk, d);
				fired++;
			} else {
				clock_advance(&r->clk, lim - clock_now(&r->clk));
			}
		}
	}
	CHECK(t, fired <= writes + (clock_now(&r->clk) - start) / 20000 + 1);
	sbuf_init(&sb);
	i8254_save(&r->pit, &sb);
	REQUIRE(t, !sb.error);
	for (unsigned i = 0; i < 2000; i++) {
		uint8_t *copy = malloc(sb.len);

		REQUIRE(t, copy);
		memcpy(copy, sb.data, sb.len);
		copy[rnd(&x) % sb.len] ^= (uint8_t)(1u << (rnd(&x) % 8));
		sbuf_init_read(&rd, copy, sb.len);
		if (i8254_load(&r->pit, &rd) != 0) {
			CHECK(t, rd.why[0] != 0);
			refused++;
		}
		free(copy);
		for (unsigned p = 0; p < 5; p++)
			(void)in8(r, ports[p]);
		go_tick(r, tick(r) + 100);
	}
	CHECK(t, refused > 0);
	sbuf_free(&sb);
	free(r);
}

int main(int argc, char **argv)
{
	struct harness h;

	harness_init(&h, "i8254", argc, argv);
	RUN(&h, conversions);
	RUN(&h, mode0_terminal_count);
	RUN(&h, mode0_gate_pauses);
	RUN(&h, mode1_one_shot);
	RUN(&h, mode2_rate_generator);
	RUN(&h, mode3_square_wave);
	RUN(&h, mode3_irq0_rate);
	RUN(&h, mode4_software_strobe);
	RUN(&h, mode5_hardware_strobe);
	RUN(&h, bcd_counting);
	RUN(&h, latch_and_access_modes);
	RUN(&h, read_back);
	RUN(&h, port61_and_refresh);
	RUN(&h, linux_tsc_calibration_loop);
	RUN(&h, no_catch_up_storm);
	RUN(&h, reinject_50ms_stall);
	RUN(&h, reinject_10s_stall_drops_excess);
	RUN(&h, reinject_waits_for_the_controller);
	RUN(&h, save_load);
	RUN(&h, hostile_guest);
	return harness_done(&h);
}
