#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/sbuf.h"
#include "machine/bus.h"
#include "machine/clock.h"
#include "machine/mc146818.h"
#include "tests/unit/devtest.h"
#include "tests/unit/harness.h"

#define MS 1000000ull
#define SEC 1000000000ull

struct rig {
	struct iobus io;
	struct clock clk;
	struct mc146818 rtc;
	bool irq;
	unsigned edges;
};

static void irq_in(void *ctrl, unsigned pin, bool level)
{
	struct rig *r = ctrl;

	if (level && !r->irq)
		r->edges++;
	r->irq = level;
}

static uint8_t rd(struct rig *r, uint8_t reg)
{
	iobus_write(&r->io, 0x70, reg, 1);
	return (uint8_t)iobus_read(&r->io, 0x71, 1);
}

static void wr(struct rig *r, uint8_t reg, uint8_t v)
{
	iobus_write(&r->io, 0x70, reg, 1);
	iobus_write(&r->io, 0x71, v, 1);
}

/* 2024-02-28 23:59:58 UTC, a Wednesday, the day before a leap day. */
#define START 1709164798

static struct rig *rig_new(struct test *t, int64_t start)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct mc146818_config cfg = { .fixed_time = true, .start_time = start };

	if (!r)
		return NULL;
	iobus_init(&r->io);
	clock_init_manual(&r->clk);
	clock_advance(&r->clk, 5 * SEC + 123456);   /* not at a round machine time */
	if (mc146818_init(&r->rtc, &r->io, &r->clk, (struct irq_line){ irq_in, r, 8 }, &cfg) != 0) {
		test_fail(t, __FILE__, __LINE__, "mc146818_init failed");
		free(r);
		return NULL;
	}
	return r;
}

static void advance(struct rig *r, uint64_t ns)
{
	clock_advance(&r->clk, ns);
	timers_run(&r->clk, clock_now(&r->clk));
}

static void date_and_leap_day(struct test *t)
{
	struct rig *r = rig_new(t, START);

	REQUIRE(t, r);
	CHECK_EQ(t, rd(r, RTC_SEC), 0x58);
	CHECK_EQ(t, rd(r, RTC_MIN), 0x59);
	CHECK_EQ(t, rd(r, RTC_HOUR), 0x23);
	CHECK_EQ(t, rd(r, RTC_DOW), 4);
	CHECK_EQ(t, rd(r, RTC_DAY), 0x28);
	CHECK_EQ(t, rd(r, RTC_MONTH), 0x02);
	CHECK_EQ(t, rd(r, RTC_YEAR), 0x24);
	CHECK_EQ(t, rd(r, RTC_CENTURY), 0x20);
	CHECK_EQ(t, rd(r, RTC_REG_A), 0x26);
	CHECK_EQ(t, rd(r, RTC_REG_B), 0x02);
	CHECK_EQ(t, rd(r, RTC_REG_D), 0x80);
	advance(r, 2 * SEC);
	CHECK_EQ(t, rd(r, RTC_SEC), 0x00);
	CHECK_EQ(t, rd(r, RTC_HOUR), 0x00);
	CHECK_EQ(t, rd(r, RTC_DAY), 0x29);      /* 2024 is a leap year */
	CHECK_EQ(t, rd(r, RTC_MONTH), 0x02);
	CHECK_EQ(t, rd(r, RTC_DOW), 5);
	advance(r, 86400 * SEC);
	CHECK_EQ(t, rd(r, RTC_DAY), 0x01);
	CHECK_EQ(t, rd(r, RTC_MONTH), 0x03);
	CHECK_EQ(t, rd(r, RTC_DOW), 6);
	free(r);
}

static void update_cycle_and_uip(struct test *t)
{
	struct rig *r = rig_new(t, START);
	uint64_t t0;

	REQUIRE(t, r);
	t0 = clock_now(&r->clk);            /* the next update is 1 s after init */
	wr(r, RTC_REG_A, 0x20);             /* no periodic flag in the way */
	wr(r, RTC_HOUR_ALARM, 0x12);        /* nor the alarm (00:00:00 comes by) */
	clock_advance(&r->clk, SEC - 244000 - 1);
	CHECK_EQ(t, rd(r, RTC_REG_A) & RTC_A_UIP, 0);
	clock_advance(&r->clk, 1);
	CHECK_EQ(t, rd(r, RTC_REG_A) & RTC_A_UIP, RTC_A_UIP);
	CHECK_EQ(t, rd(r, RTC_SEC), 0x58);  /* not yet updated */
	CHECK_EQ(t, rd(r, RTC_REG_C), 0);
	clock_advance(&r->clk, 244000 - 1);
	CHECK_EQ(t, rd(r, RTC_REG_A) & RTC_A_UIP, RTC_A_UIP);
	CHECK_EQ(t, rd(r, RTC_SEC), 0x58);
	clock_advance(&r->clk, 1);
	CHECK_EQ(t, clock_now(&r->clk) - t0, SEC);
	CHECK_EQ(t, rd(r, RTC_REG_A) & RTC_A_UIP, 0);
	CHECK_EQ(t, rd(r, RTC_SEC), 0x59);
	/* The update set UF; no UIE, so no IRQF and no interrupt. */
	CHECK_EQ(t, rd(r, RTC_REG_C), RTC_C_UF);
	CHECK_EQ(t, rd(r, RTC_REG_C), 0);
	CHECK_EQ(t, r->edges, 0);

	/* Update-ended interrupt: once a second, exactly at the update. */
	wr(r, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
	advance(r, SEC - 1);
	CHECK(t, !r->irq);
	advance(r, 1);
	CHECK(t, r->irq);
	CHECK_EQ(t, rd(r, RTC_REG_C), RTC_C_IRQF | RTC_C_UF);
	CHECK(t, !r->irq);
	for (unsigned i = 0; i < 5; i++) {
		advance(r, SEC);
		CHECK(t, r->irq);
		(void)rd(r, RTC_REG_C);
	}
	CHECK_EQ(t, r->edges, 6);
	free(r);
}

static void binary_and_12_hour(struct test *t)
{
	struct rig *r = rig_new(t, START);

	REQUIRE(t, r);
	wr(r, RTC_REG_B, RTC_B_SET | RTC_B_DM);     /* binary, 12-hour, halted */
	wr(r, RTC_SEC, 59);
	wr(r, RTC_MIN, 59);
	wr(r, RTC_HOUR, 0x80 | 11);                 /* 11 PM */
	wr(r, RTC_DAY, 31);
	wr(r, RTC_MONTH, 12);
	wr(r, RTC_YEAR, 99);
	wr(r, RTC_DOW, 7);
	advance(r, 3 * SEC);
	CHECK_EQ(t, rd(r, RTC_SEC), 59);            /* SET holds the clock */
	wr(r, RTC_REG_B, RTC_B_DM);
	advance(r, SEC);
	CHECK_EQ(t, rd(r, RTC_SEC), 0);
	CHECK_EQ(t, rd(r, RTC_MIN), 0);
	CHECK_EQ(t, rd(r, RTC_HOUR), 12);           /* 12 AM */
	CHECK_EQ(t, rd(r, RTC_DAY), 1);
	CHECK_EQ(t, rd(r, RTC_MONTH), 1);
	CHECK_EQ(t, rd(r, RTC_YEAR), 0);
	CHECK_EQ(t, rd(r, RTC_DOW), 1);
	/* 11:59:59 AM -> 12:00:00 PM */
	wr(r, RTC_REG_B, RTC_B_SET | RTC_B_DM);
	wr(r, RTC_HOUR, 11);
	wr(r, RTC_MIN, 59);
	wr(r, RTC_SEC, 59);
	wr(r, RTC_REG_B, RTC_B_DM);
	advance(r, SEC);
	CHECK_EQ(t, rd(r, RTC_HOUR), 0x80 | 12);
	/* 12:59:59 PM -> 1:00:00 PM, in BCD */
	wr(r, RTC_REG_B, RTC_B_SET);
	wr(r, RTC_HOUR, 0x92);
	wr(r, RTC_MIN, 0x59);
	wr(r, RTC_SEC, 0x59);
	wr(r, RTC_REG_B, 0);
	advance(r, SEC);
	CHECK_EQ(t, rd(r, RTC_HOUR), 0x81);
	free(r);
}

/* Counts periodic interrupts over `span` ns, acknowledging each by reading C. */
static unsigned count_periodic(struct rig *r, uint64_t span)
{
	uint64_t end = clock_now(&r->clk) + span;
	unsigned n = 0;

	while (timer_next_deadline(&r->clk) <= end) {
		uint64_t d = timer_next_deadline(&r->clk);

		clock_advance(&r->clk, d - clock_now(&r->clk));
		timers_run(&r->clk, d);
		if (r->irq) {
			if (rd(r, RTC_REG_C) & RTC_C_PF)
				n++;
		}
	}
	clock_advance(&r->clk, end - clock_now(&r->clk));
	return n;
}

static void periodic_rates(struct test *t)
{
	struct rig *r = rig_new(t, START);

	REQUIRE(t, r);
	for (unsigned rs = 1; rs <= 15; rs++) {
		unsigned period = rs <= 2 ? 1u << (rs + 6) : 1u << (rs - 1);
		unsigned n;

		wr(r, RTC_REG_A, (uint8_t)(0x20 | rs));
		wr(r, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
		(void)rd(r, RTC_REG_C);
		n = count_periodic(r, 2 * SEC);
		CHECK_EQ(t, n, 2 * 32768 / period);
	}
	/* RS = 0: no periodic interrupt, and no PF either. */
	wr(r, RTC_REG_A, 0x20);
	(void)rd(r, RTC_REG_C);
	advance(r, SEC / 3);
	CHECK_EQ(t, rd(r, RTC_REG_C) & RTC_C_PF, 0);
	CHECK_EQ(t, timer_next_deadline(&r->clk), CLOCK_NEVER);
	free(r);
}

static void periodic_does_not_storm(struct test *t)
{
	struct rig *r = rig_new(t, START);

	REQUIRE(t, r);
	wr(r, RTC_REG_A, 0x23);             /* 8192 Hz */
	wr(r, RTC_HOUR_ALARM, 0x12);
	wr(r, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	advance(r, 200000);
	CHECK(t, r->irq);
	/* Nobody reads C: no timer work at all until someone does. */
	CHECK_EQ(t, timer_next_deadline(&r->clk), CLOCK_NEVER);
	advance(r, 10 * SEC);
	CHECK_EQ(t, r->edges, 1);
	CHECK_EQ(t, rd(r, RTC_REG_C), RTC_C_IRQF | RTC_C_PF | RTC_C_UF);
	CHECK(t, !r->irq);
	CHECK(t, timer_next_deadline(&r->clk) <= clock_now(&r->clk) + 122071);
	/* PF without PIE: set, but no IRQF. */
	wr(r, RTC_REG_B, RTC_B_24H);
	advance(r, 1 * MS);
	CHECK_EQ(t, rd(r, RTC_REG_C), RTC_C_PF);
	/* Enabling PIE while PF is pending raises IRQF at once. */
	advance(r, 1 * MS);
	wr(r, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	CHECK(t, r->irq);
	free(r);
}

static void alarm(struct test *t)
{
	struct rig *r = rig_new(t, START);
	unsigned fired = 0;

	REQUIRE(t, r);
	/* 00:00:03 on the leap day, 5 s after the start. */
	wr(r, RTC_REG_A, 0x20);
	wr(r, RTC_HOUR_ALARM, 0x00);
	wr(r, RTC_MIN_ALARM, 0x00);
	wr(r, RTC_SEC_ALARM, 0x03);
	wr(r, RTC_REG_B, RTC_B_24H | RTC_B_AIE);
	advance(r, 4 * SEC);
	CHECK(t, !r->irq);
	advance(r, SEC);
	CHECK(t, r->irq);
	CHECK_EQ(t, rd(r, RTC_SEC), 0x03);
	CHECK_EQ(t, rd(r, RTC_REG_C), RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
	advance(r, SEC);
	CHECK(t, !r->irq);
	/* Don't-care hours and minutes: every minute at :30. */
	wr(r, RTC_HOUR_ALARM, 0xc0);
	wr(r, RTC_MIN_ALARM, 0xff);
	wr(r, RTC_SEC_ALARM, 0x30);
	for (unsigned s = 0; s < 180; s++) {
		advance(r, SEC);
		if (r->irq) {
			CHECK_EQ(t, rd(r, RTC_SEC), 0x30);
			CHECK(t, rd(r, RTC_REG_C) & RTC_C_AF);
			fired++;
		}
	}
	CHECK_EQ(t, fired, 3);
	/* All don't care: every second. */
	wr(r, RTC_SEC_ALARM, 0xc0);
	(void)rd(r, RTC_REG_C);
	advance(r, SEC);
	CHECK(t, r->irq);
	free(r);
}

static void set_bit_and_divider(struct test *t)
{
	struct rig *r = rig_new(t, START);

	REQUIRE(t, r);
	wr(r, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
	wr(r, RTC_REG_B, RTC_B_24H | RTC_B_UIE | RTC_B_SET);
	CHECK_EQ(t, rd(r, RTC_REG_B), RTC_B_24H | RTC_B_SET);  /* SET clears UIE */
	advance(r, 5 * SEC);
	CHECK_EQ(t, rd(r, RTC_SEC), 0x58);
	CHECK_EQ(t, rd(r, RTC_REG_C), RTC_C_PF);    /* the divider runs, no updates: no UF */
	CHECK_EQ(t, rd(r, RTC_REG_A) & RTC_A_UIP, 0);
	wr(r, RTC_REG_B, RTC_B_24H);
	/* The divider kept its phase: the next update is on the old schedule. */
	advance(r, SEC);
	CHECK_EQ(t, rd(r, RTC_SEC), 0x59);

	/* Divider reset (DV = 110): the clock stops... */
	wr(r, RTC_REG_A, 0x66);
	advance(r, 10 * SEC);
	CHECK_EQ(t, rd(r, RTC_SEC), 0x59);
	CHECK_EQ(t, rd(r, RTC_REG_A), 0x66);
	/* ...and the first update comes 500 ms after it is released. */
	advance(r, 77 * MS);
	wr(r, RTC_REG_A, 0x26);
	advance(r, 500 * MS - 1);
	CHECK_EQ(t, rd(r, RTC_SEC), 0x59);
	advance(r, 1);
	CHECK_EQ(t, rd(r, RTC_SEC), 0x00);
	CHECK_EQ(t, rd(r, RTC_DAY), 0x29);
	free(r);
}

static void set_clock(struct rig *r, uint8_t b, uint8_t mon, uint8_t day, uint8_t dow,
                      uint8_t hour, uint8_t min, uint8_t sec)
{
	wr(r, RTC_REG_B, (uint8_t)(b | RTC_B_SET));
	wr(r, RTC_YEAR, 0x24);
	wr(r, RTC_MONTH, mon);
	wr(r, RTC_DAY, day);
	wr(r, RTC_DOW, dow);
	wr(r, RTC_HOUR, hour);
	wr(r, RTC_MIN, min);
	wr(r, RTC_SEC, sec);
	wr(r, RTC_REG_B, b);
}

static void daylight_saving(struct test *t)
{
	struct rig *r = rig_new(t, START);

	REQUIRE(t, r);
	/* Last Sunday in April 2024 (the 28th): 1:59:59 -> 3:00:00. */
	set_clock(r, RTC_B_24H | RTC_B_DSE, 0x04, 0x28, 1, 0x01, 0x59, 0x58);
	advance(r, 2 * SEC);
	CHECK_EQ(t, rd(r, RTC_HOUR), 0x03);
	CHECK_EQ(t, rd(r, RTC_MIN), 0x00);
	/* A week earlier is not the last Sunday. */
	set_clock(r, RTC_B_24H | RTC_B_DSE, 0x04, 0x21, 1, 0x01, 0x59, 0x59);
	advance(r, SEC);
	CHECK_EQ(t, rd(r, RTC_HOUR), 0x02);
	/* Last Sunday in October (the 27th), 12-hour mode: 1 AM comes twice. */
	set_clock(r, RTC_B_DSE, 0x10, 0x27, 1, 0x01, 0x59, 0x59);
	advance(r, SEC);
	CHECK_EQ(t, rd(r, RTC_HOUR), 0x01);
	CHECK_EQ(t, rd(r, RTC_MIN), 0x00);
	advance(r, 3599 * SEC);
	CHECK_EQ(t, rd(r, RTC_HOUR), 0x01);
	CHECK_EQ(t, rd(r, RTC_MIN), 0x59);
	advance(r, SEC);
	CHECK_EQ(t, rd(r, RTC_HOUR), 0x02);
	/* Without DSE the clock just runs on. */
	set_clock(r, RTC_B_24H, 0x04, 0x28, 1, 0x01, 0x59, 0x59);
	advance(r, SEC);
	CHECK_EQ(t, rd(r, RTC_HOUR), 0x02);
	free(r);
}

static void nvram_index_and_nmi(struct test *t)
{
	struct rig *r = rig_new(t, START);

	REQUIRE(t, r);
	iobus_write(&r->io, 0x70, 0x80 | 0x40, 1);
	CHECK(t, mc146818_nmi_masked(&r->rtc));
	iobus_write(&r->io, 0x71, 0x5a, 1);
	CHECK_EQ(t, mc146818_get_cmos(&r->rtc, 0x40), 0x5a);
	CHECK_EQ(t, iobus_read(&r->io, 0x70, 1), 0xff);
	iobus_write(&r->io, 0x70, 0x40, 1);
	CHECK(t, !mc146818_nmi_masked(&r->rtc));
	CHECK_EQ(t, iobus_read(&r->io, 0x71, 1), 0x5a);
	for (unsigned i = 0x0e; i < 0x80; i++)
		wr(r, (uint8_t)i, (uint8_t)(i * 7));
	for (unsigned i = 0x0e; i < 0x80; i++)
		CHECK_EQ(t, rd(r, (uint8_t)i), (uint8_t)(i * 7));
	/* The board's memory bytes. */
	mc146818_set_cmos(&r->rtc, 0x34, 0x12);
	CHECK_EQ(t, rd(r, 0x34), 0x12);
	/* Register D and C are read-only. */
	wr(r, RTC_REG_D, 0);
	CHECK_EQ(t, rd(r, RTC_REG_D), 0x80);
	wr(r, RTC_REG_C, 0xff);
	CHECK_EQ(t, rd(r, RTC_REG_C), 0);
	free(r);
}

static void long_gap(struct test *t)
{
	struct rig *r = rig_new(t, START);
	time_t want = START + 400 * 86400 + 3 * 3600 + 17;
	struct tm tm;

	REQUIRE(t, r);
	REQUIRE(t, gmtime_r(&want, &tm));
	wr(r, RTC_REG_A, 0x20);
	wr(r, RTC_HOUR_ALARM, 0x05);
	wr(r, RTC_MIN_ALARM, 0x06);
	wr(r, RTC_SEC_ALARM, 0x07);
	/* Nothing touches the clock for 400 days: one update per second. */
	clock_advance(&r->clk, (400 * 86400ull + 3 * 3600 + 17) * SEC);
	CHECK_EQ(t, rd(r, RTC_SEC), (tm.tm_sec / 10) << 4 | tm.tm_sec % 10);
	CHECK_EQ(t, rd(r, RTC_MIN), (tm.tm_min / 10) << 4 | tm.tm_min % 10);
	CHECK_EQ(t, rd(r, RTC_HOUR), (tm.tm_hour / 10) << 4 | tm.tm_hour % 10);
	CHECK_EQ(t, rd(r, RTC_DAY), (tm.tm_mday / 10) << 4 | tm.tm_mday % 10);
	CHECK_EQ(t, rd(r, RTC_MONTH), ((tm.tm_mon + 1) / 10) << 4 | (tm.tm_mon + 1) % 10);
	CHECK_EQ(t, rd(r, RTC_YEAR), 0x25);
	CHECK_EQ(t, rd(r, RTC_DOW), tm.tm_wday + 1);
	CHECK_EQ(t, rd(r, RTC_REG_C), RTC_C_UF | RTC_C_AF);    /* 05:06:07 came by */
	free(r);
}

/* The clock under the shared save/load checks (devtest.h). */
struct loaded_rtc {
	struct rig *r;
	uint8_t before[MC146818_NVRAM];     /* what a refused load must leave */
};

static int load_rtc(void *ctx, struct sbuf *sb)
{
	struct loaded_rtc *lr = ctx;

	return mc146818_load(&lr->r->rtc, sb);
}

static void rtc_untouched(struct test *t, void *ctx)
{
	struct loaded_rtc *lr = ctx;

	CHECK(t, memcmp(lr->before, lr->r->rtc.cmos, sizeof(lr->before)) == 0);
}

/* Whatever was loaded, the registers read and time runs on. */
static void rtc_still_ticks(struct test *t, void *ctx)
{
	struct rig *r = ((struct loaded_rtc *)ctx)->r;

	for (uint8_t reg = 0; reg < 14; reg++)
		(void)rd(r, reg);
	advance(r, 1000 * MS);
}

static void save_load(struct test *t)
{
	struct rig *a = rig_new(t, START), *b = rig_new(t, 0);
	struct sbuf sb, r2;

	REQUIRE(t, a && b);
	wr(a, RTC_REG_A, 0x2a);             /* 64 Hz */
	wr(a, RTC_REG_B, RTC_B_24H | RTC_B_PIE | RTC_B_UIE);
	wr(a, RTC_SEC_ALARM, 0xc0);
	wr(a, 0x50, 0x99);
	advance(a, 1500 * MS + 7);
	iobus_write(&a->io, 0x70, 0x80 | RTC_REG_C, 1);     /* NMI masked, index C */
	sbuf_init(&sb);
	mc146818_save(&a->rtc, &sb);
	REQUIRE(t, !sb.error);

	clock_set(&b->clk, clock_now(&a->clk));
	sbuf_init_read(&r2, sb.data, sb.len);
	REQUIRE(t, mc146818_load(&b->rtc, &r2) == 0);
	CHECK_EQ(t, b->irq, a->irq);
	CHECK(t, mc146818_nmi_masked(&b->rtc));
	CHECK_EQ(t, iobus_read(&b->io, 0x71, 1), iobus_read(&a->io, 0x71, 1));
	for (unsigned i = 0; i < 40; i++) {
		advance(a, 77 * MS);
		advance(b, 77 * MS);
		for (uint8_t reg = 0; reg < 0x0e; reg++)
			CHECK_EQ(t, rd(b, reg), rd(a, reg));
		CHECK_EQ(t, b->irq, a->irq);
	}
	CHECK_EQ(t, rd(b, 0x50), 0x99);

	/* Corrupt: register D (VRT) cleared; then every truncation. Refused,
	 * the CMOS untouched. */
	{
		struct loaded_rtc lr = { .r = b };
		struct devtest_ops ops = { .ctx = &lr, .load = load_rtc,
		                           .check_untouched = rtc_untouched };

		memcpy(lr.before, b->rtc.cmos, sizeof(lr.before));
		sb.data[sb.len - (128 + 1 + 1 + 4 + 8 + 1 + 1) + RTC_REG_D] = 0;
		devtest_refuses(t, &ops, sb.data, sb.len, NULL);
		devtest_truncations(t, &ops, sb.data, sb.len, 1);
	}
	sbuf_free(&sb);
	free(a);
	free(b);
}

static void host_time_start(struct test *t)
{
	struct rig *r = calloc(1, sizeof(*r));
	time_t before = time(NULL), after;
	unsigned yy, mm, dd;
	struct tm tm;

	REQUIRE(t, r);
	iobus_init(&r->io);
	clock_init_manual(&r->clk);
	REQUIRE(t, mc146818_init(&r->rtc, &r->io, &r->clk, (struct irq_line){ irq_in, r, 8 }, NULL) == 0);
	after = time(NULL);
	REQUIRE(t, gmtime_r(&before, &tm));
	yy = rd(r, RTC_YEAR);
	mm = rd(r, RTC_MONTH);
	dd = rd(r, RTC_DAY);
	CHECK_EQ(t, yy, ((tm.tm_year % 100) / 10) << 4 | tm.tm_year % 10);
	/* (unless midnight passed during the test) */
	if (before / 86400 == after / 86400) {
		CHECK_EQ(t, mm, ((tm.tm_mon + 1) / 10) << 4 | (tm.tm_mon + 1) % 10);
		CHECK_EQ(t, dd, (tm.tm_mday / 10) << 4 | tm.tm_mday % 10);
	}
	CHECK_EQ(t, rd(r, RTC_CENTURY), 0x20);
	free(r);
}

/* Random register writes (invalid times included), time jumps, corrupt saves. */
static void hostile_guest(struct test *t)
{
	struct rig *r = rig_new(t, START);
	uint32_t x = 4242;
	struct loaded_rtc lr = { .r = r };
	struct devtest_ops ops = { .ctx = &lr, .load = load_rtc, .exercise = rtc_still_ticks };
	struct sbuf sb;

	REQUIRE(t, r);
	for (unsigned i = 0; i < 100000; i++) {
		uint32_t v = devtest_rand(&x);

		if (v % 3 == 0)
			wr(r, (uint8_t)(v >> 8), (uint8_t)(v >> 16));
		else if (v % 3 == 1)
			(void)rd(r, (uint8_t)(v >> 8));
		else
			advance(r, (v >> 8) % 3 ? (v >> 12) : (uint64_t)(v >> 12) * 100000);
	}
	/* Still a clock: a sane time set now runs on. */
	wr(r, RTC_REG_A, 0x26);
	wr(r, RTC_REG_B, RTC_B_SET | RTC_B_24H);
	wr(r, RTC_SEC, 0x10);
	wr(r, RTC_MIN, 0x20);
	wr(r, RTC_HOUR, 0x12);
	wr(r, RTC_REG_B, RTC_B_24H);
	advance(r, 3 * SEC);
	CHECK(t, rd(r, RTC_SEC) >= 0x12 && rd(r, RTC_SEC) <= 0x13);
	sbuf_init(&sb);
	mc146818_save(&r->rtc, &sb);
	REQUIRE(t, !sb.error);
	devtest_flip_bits(t, &ops, sb.data, sb.len, 2000, &x);
	sbuf_free(&sb);
	free(r);
}

int main(int argc, char **argv)
{
	struct harness h;

	harness_init(&h, "mc146818", argc, argv);
	RUN(&h, date_and_leap_day);
	RUN(&h, update_cycle_and_uip);
	RUN(&h, binary_and_12_hour);
	RUN(&h, periodic_rates);
	RUN(&h, periodic_does_not_storm);
	RUN(&h, alarm);
	RUN(&h, set_bit_and_divider);
	RUN(&h, daylight_saving);
	RUN(&h, nvram_index_and_nmi);
	RUN(&h, long_gap);
	RUN(&h, save_load);
	RUN(&h, host_time_start);
	RUN(&h, hostile_guest);
	return harness_done(&h);
}
