#include "machine/mc146818.h"

#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/sbuf.h"

#define MC146818_SAVE_VERSION 1
#define NS_PER_S 1000000000ull
#define DIVIDER_HZ 32768u
#define DV_RUN 0x20             /* register A divider bits 010: oscillator on, counting */
#define DAY_S 86400u
#define CYCLE_DAYS 36525u       /* 100 two-digit years, a leap year every fourth */

/* --- register formats ---------------------------------------------------- */

static bool binary_mode(const struct mc146818 *rtc)
{
	return rtc->cmos[RTC_REG_B] & RTC_B_DM;
}

static unsigned from_bcd(uint8_t v)
{
	return (v >> 4) * 10u + (v & 15);
}

static unsigned get_field(const struct mc146818 *rtc, unsigned reg)
{
	uint8_t v = rtc->cmos[reg];

	return binary_mode(rtc) ? v : from_bcd(v);
}

static uint8_t to_format(const struct mc146818 *rtc, unsigned v)
{
	return binary_mode(rtc) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static void set_field(struct mc146818 *rtc, unsigned reg, unsigned v)
{
	rtc->cmos[reg] = to_format(rtc, v);
}

/* The hour register as 0-23, whatever the 12/24 hour format. */
static unsigned get_hour24(const struct mc146818 *rtc)
{
	uint8_t raw = rtc->cmos[RTC_HOUR];
	unsigned h;

	if (rtc->cmos[RTC_REG_B] & RTC_B_24H)
		return get_field(rtc, RTC_HOUR);
	h = binary_mode(rtc) ? (raw & 0x7fu) : from_bcd(raw & 0x7f);
	return h % 12 + (raw & 0x80 ? 12 : 0);
}

static void set_hour24(struct mc146818 *rtc, unsigned h)
{
	unsigned h12;

	if (rtc->cmos[RTC_REG_B] & RTC_B_24H) {
		set_field(rtc, RTC_HOUR, h);
		return;
	}
	h12 = h % 12 ? h % 12 : 12;
	rtc->cmos[RTC_HOUR] = (uint8_t)(to_format(rtc, h12) | (h >= 12 ? 0x80 : 0));
}

static bool leap(unsigned yy)
{
	return yy % 4 == 0;     /* the chip's rule, right for 1901-2099 */
}

static unsigned days_in_month(unsigned month, unsigned yy)
{
	static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (month < 1 || month > 12)
		return 31;
	return days[month - 1] + (month == 2 && leap(yy) ? 1u : 0u);
}

/* Whether the time registers hold a date the chip could have produced. */
static bool time_valid(const struct mc146818 *rtc)
{
	unsigned mon = get_field(rtc, RTC_MONTH), yy = get_field(rtc, RTC_YEAR);
	unsigned day = get_field(rtc, RTC_DAY), dow = get_field(rtc, RTC_DOW);
	uint8_t hr = rtc->cmos[RTC_HOUR];

	if (!binary_mode(rtc)) {
		static const unsigned regs[] = { RTC_SEC, RTC_MIN, RTC_DOW, RTC_DAY, RTC_MONTH, RTC_YEAR };

		for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
			if ((rtc->cmos[regs[i]] & 15) > 9 || (rtc->cmos[regs[i]] >> 4) > 9)
				return false;
		if ((hr & 15) > 9 || ((hr & 0x7f) >> 4) > 9)
			return false;
	}
	if (!(rtc->cmos[RTC_REG_B] & RTC_B_24H)) {
		unsigned h = binary_mode(rtc) ? (hr & 0x7fu) : from_bcd(hr & 0x7f);

		if (h < 1 || h > 12)
			return false;
	} else if (get_field(rtc, RTC_HOUR) > 23) {
		return false;
	}
	return get_field(rtc, RTC_SEC) < 60 && get_field(rtc, RTC_MIN) < 60 && yy < 100 &&
	       mon >= 1 && mon <= 12 && day >= 1 && day <= days_in_month(mon, yy) &&
	       dow >= 1 && dow <= 7;
}

/* --- the update cycle ------------------------------------------------------ */

/*
 * The MC146818A's daylight saving (register B DSE): on the last Sunday in
 * April 1:59:59 AM is followed by 3:00:00 AM; on the last Sunday in October
 * 1:59:59 AM is followed by 1:00:00 AM the first time it is reached.
 * Returns the hour that follows 1 AM.
 */
static unsigned dse_after_one(struct mc146818 *rtc)
{
	unsigned mon = get_field(rtc, RTC_MONTH), day = get_field(rtc, RTC_DAY);
	bool sunday = get_field(rtc, RTC_DOW) == 1;

	if (!(rtc->cmos[RTC_REG_B] & RTC_B_DSE) || !sunday) {
		rtc->dse_fell_back = false;
		return 2;
	}
	if (mon == 4 && day > 30 - 7)
		return 3;
	if (mon == 10 && day > 31 - 7 && !rtc->dse_fell_back) {
		rtc->dse_fell_back = true;
		return 1;
	}
	rtc->dse_fell_back = false;
	return 2;
}

/*
 * One update: the seconds advance with carries through the date, as the
 * chip's counters do (a value out of range rolls over at once).
 */
static void step_second(struct mc146818 *rtc)
{
	unsigned v, yy, mon;

	v = get_field(rtc, RTC_SEC);
	if (v < 59) {
		set_field(rtc, RTC_SEC, v + 1);
		return;
	}
	set_field(rtc, RTC_SEC, 0);
	v = get_field(rtc, RTC_MIN);
	if (v < 59) {
		set_field(rtc, RTC_MIN, v + 1);
		return;
	}
	set_field(rtc, RTC_MIN, 0);
	v = get_hour24(rtc);
	if (v == 1) {
		set_hour24(rtc, dse_after_one(rtc));
		return;
	}
	if (v < 23) {
		set_hour24(rtc, v + 1);
		return;
	}
	set_hour24(rtc, 0);
	v = get_field(rtc, RTC_DOW);
	set_field(rtc, RTC_DOW, v >= 1 && v < 7 ? v + 1 : 1);
	yy = get_field(rtc, RTC_YEAR);
	mon = get_field(rtc, RTC_MONTH);
	v = get_field(rtc, RTC_DAY);
	if (v < days_in_month(mon, yy)) {
		set_field(rtc, RTC_DAY, v + 1);
		return;
	}
	set_field(rtc, RTC_DAY, 1);
	if (mon >= 1 && mon < 12) {
		set_field(rtc, RTC_MONTH, mon + 1);
		return;
	}
	set_field(rtc, RTC_MONTH, 1);
	set_field(rtc, RTC_YEAR, yy < 99 ? yy + 1 : 0);
}

static bool alarm_field(const struct mc146818 *rtc, unsigned alarm, unsigned reg)
{
	uint8_t a = rtc->cmos[alarm];

	return (a & 0xc0) == 0xc0 || a == rtc->cmos[reg];   /* 11xxxxxx: don't care */
}

static bool alarm_matches(const struct mc146818 *rtc)
{
	return alarm_field(rtc, RTC_SEC_ALARM, RTC_SEC) && alarm_field(rtc, RTC_MIN_ALARM, RTC_MIN) &&
	       alarm_field(rtc, RTC_HOUR_ALARM, RTC_HOUR);
}

static unsigned days_before(unsigned yy, unsigned mon, unsigned day)
{
	unsigned d = 365 * yy + (yy + 3) / 4;

	for (unsigned m = 1; m < mon; m++)
		d += days_in_month(m, yy);
	return d + day - 1;
}

/* Moves valid time registers `secs` seconds on, arithmetically. */
static void add_seconds(struct mc146818 *rtc, uint64_t secs)
{
	unsigned yy = get_field(rtc, RTC_YEAR), mon = get_field(rtc, RTC_MONTH);
	unsigned day = get_field(rtc, RTC_DAY), dow = get_field(rtc, RTC_DOW);
	uint64_t tod = get_hour24(rtc) * 3600ull + get_field(rtc, RTC_MIN) * 60ull +
	               get_field(rtc, RTC_SEC) + secs;
	uint64_t days = tod / DAY_S;
	unsigned d;

	tod %= DAY_S;
	d = (unsigned)((days_before(yy, mon, day) + days) % CYCLE_DAYS);
	dow = (unsigned)((dow - 1 + days) % 7) + 1;
	for (yy = 0; d >= 365u + leap(yy); yy++)
		d -= 365u + leap(yy);
	for (mon = 1; d >= days_in_month(mon, yy); mon++)
		d -= days_in_month(mon, yy);
	set_field(rtc, RTC_YEAR, yy);
	set_field(rtc, RTC_MONTH, mon);
	set_field(rtc, RTC_DAY, d + 1);
	set_field(rtc, RTC_DOW, dow);
	set_hour24(rtc, (unsigned)(tod / 3600));
	set_field(rtc, RTC_MIN, (unsigned)(tod / 60 % 60));
	set_field(rtc, RTC_SEC, (unsigned)(tod % 60));
}

/* `n` update cycles: each advances the time, sets UF and checks the alarm. */
static void run_updates(struct mc146818 *rtc, uint64_t n)
{
	/* Any alarm setting that can match does so within a day. */
	uint64_t stepped = 0;
	bool dse = rtc->cmos[RTC_REG_B] & RTC_B_DSE;   /* no shortcut through DST days */

	while (stepped < n && (stepped <= DAY_S || dse || !time_valid(rtc))) {
		step_second(rtc);
		if (alarm_matches(rtc))
			rtc->cmos[RTC_REG_C] |= RTC_C_AF;
		stepped++;
	}
	if (stepped < n)
		add_seconds(rtc, n - stepped);
	if (n)
		rtc->cmos[RTC_REG_C] |= RTC_C_UF;
}

/* --- the divider ------------------------------------------------------------ */

/* Time since a reference one second before the phase: never negative. */
static uint64_t rel_ns(const struct mc146818 *rtc, uint64_t t)
{
	return t + NS_PER_S - rtc->phase_ns;
}

static uint64_t ns_to_div(uint64_t ns)
{
	return ns / NS_PER_S * DIVIDER_HZ + ns % NS_PER_S * DIVIDER_HZ / NS_PER_S;
}

static uint64_t div_to_ns(uint64_t t)
{
	return t / DIVIDER_HZ * NS_PER_S + ((t % DIVIDER_HZ) * NS_PER_S + DIVIDER_HZ - 1) / DIVIDER_HZ;
}

/* The periodic rate in divider ticks (register A RS), 0 if off. */
static uint32_t periodic_ticks(const struct mc146818 *rtc)
{
	unsigned rs = rtc->cmos[RTC_REG_A] & RTC_A_RS;

	if (!rs)
		return 0;
	return rs <= 2 ? 1u << (rs + 6) : 1u << (rs - 1);
}

static bool updates_enabled(const struct mc146818 *rtc)
{
	return rtc->running && !(rtc->cmos[RTC_REG_B] & RTC_B_SET);
}

static bool uip(const struct mc146818 *rtc, uint64_t now)
{
	return updates_enabled(rtc) && rel_ns(rtc, now) % NS_PER_S >= NS_PER_S - RTC_UIP_NS;
}

static void update_irq(struct mc146818 *rtc)
{
	uint8_t b = rtc->cmos[RTC_REG_B], c = rtc->cmos[RTC_REG_C] & 0x70;
	bool irqf = (c & RTC_C_PF && b & RTC_B_PIE) || (c & RTC_C_AF && b & RTC_B_AIE) ||
	            (c & RTC_C_UF && b & RTC_B_UIE);

	rtc->cmos[RTC_REG_C] = (uint8_t)(c | (irqf ? RTC_C_IRQF : 0));
	if (irqf != rtc->irq_level) {
		rtc->irq_level = irqf;
		irq_set(&rtc->irq, irqf);
	}
}

/* Brings time and flags up to `now`. */
static void sync(struct mc146818 *rtc, uint64_t now)
{
	uint64_t a, b, p;

	if (now <= rtc->synced_ns)
		return;
	if (rtc->running) {
		a = rel_ns(rtc, rtc->synced_ns);
		b = rel_ns(rtc, now);
		if (updates_enabled(rtc))
			run_updates(rtc, b / NS_PER_S - a / NS_PER_S);
		p = periodic_ticks(rtc);
		if (p && ns_to_div(b) / p != ns_to_div(a) / p)
			rtc->cmos[RTC_REG_C] |= RTC_C_PF;
	}
	rtc->synced_ns = now;
	update_irq(rtc);
}

/*
 * A timer is needed only when an enabled source could raise IRQF; while
 * IRQF is set the line cannot change until register C is read.
 */
static void arm_timer(struct mc146818 *rtc, uint64_t now)
{
	/* base is phase - 1 s: it may wrap below 0, sums with it wrap back. */
	uint64_t next = CLOCK_NEVER, r = rel_ns(rtc, now), base = now - r;
	uint8_t b = rtc->cmos[RTC_REG_B];
	uint32_t p = periodic_ticks(rtc);

	if (rtc->running && !(rtc->cmos[RTC_REG_C] & RTC_C_IRQF)) {
		if ((b & RTC_B_PIE) && p)
			next = base + div_to_ns((ns_to_div(r) / p + 1) * p);
		if ((b & (RTC_B_UIE | RTC_B_AIE)) && updates_enabled(rtc)) {
			uint64_t u = base + (r / NS_PER_S + 1) * NS_PER_S;

			if (u < next)
				next = u;
		}
	}
	if (next == CLOCK_NEVER)
		timer_del(rtc->clk, &rtc->timer);
	else
		timer_mod(rtc->clk, &rtc->timer, next);
}

static void timer_fired(void *opaque, uint64_t now)
{
	struct mc146818 *rtc = opaque;

	sync(rtc, now);
	arm_timer(rtc, now);
}

/* --- registers ------------------------------------------------------------- */

static void write_reg_a(struct mc146818 *rtc, uint8_t v, uint64_t now)
{
	bool run = (v & RTC_A_DV) == DV_RUN;

	/* Out of reset or stop, the first update comes 500 ms later. */
	if (run && !rtc->running)
		rtc->phase_ns = (uint32_t)((now + NS_PER_S / 2) % NS_PER_S);
	rtc->running = run;
	rtc->cmos[RTC_REG_A] = v & 0x7f;
}

static void write_reg_b(struct mc146818 *rtc, uint8_t v)
{
	if (v & RTC_B_SET)
		v &= (uint8_t)~RTC_B_UIE;       /* SET clears UIE */
	rtc->cmos[RTC_REG_B] = v;
}

static uint8_t read_data(struct mc146818 *rtc, uint64_t now)
{
	unsigned i = rtc->index & 0x7f;
	uint8_t v;

	switch (i) {
	case RTC_REG_A:
		return (uint8_t)(rtc->cmos[RTC_REG_A] | (uip(rtc, now) ? RTC_A_UIP : 0));
	case RTC_REG_C:
		v = rtc->cmos[RTC_REG_C];
		rtc->cmos[RTC_REG_C] = 0;
		update_irq(rtc);
		return v;
	case RTC_REG_D:
		return RTC_D_VRT;
	default:
		return rtc->cmos[i];
	}
}

static void write_data(struct mc146818 *rtc, uint8_t v, uint64_t now)
{
	unsigned i = rtc->index & 0x7f;

	switch (i) {
	case RTC_REG_A:
		write_reg_a(rtc, v, now);
		break;
	case RTC_REG_B:
		write_reg_b(rtc, v);
		break;
	case RTC_REG_C: case RTC_REG_D:
		break;          /* read-only */
	default:
		rtc->cmos[i] = v;
		break;
	}
	update_irq(rtc);
}

uint32_t mc146818_io_read(void *opaque, uint32_t port, unsigned size)
{
	struct mc146818 *rtc = opaque;
	uint64_t now;
	uint8_t v;

	if (port != 0x71)
		return 0xff;    /* the index register is write-only */
	now = clock_now(rtc->clk);
	sync(rtc, now);
	v = read_data(rtc, now);
	arm_timer(rtc, now);
	return v;
}

void mc146818_io_write(void *opaque, uint32_t port, uint32_t value, unsigned size)
{
	struct mc146818 *rtc = opaque;
	uint64_t now;

	if (port == 0x70) {
		rtc->index = (uint8_t)value;
		return;
	}
	if (port != 0x71)
		return;
	now = clock_now(rtc->clk);
	sync(rtc, now);
	write_data(rtc, (uint8_t)value, now);
	arm_timer(rtc, now);
}

static const struct io_ops mc146818_ops = { mc146818_io_read, mc146818_io_write };

/* --- board interface ----------------------------------------------------- */

void mc146818_set_cmos(struct mc146818 *rtc, unsigned index, uint8_t value)
{
	if (index < MC146818_NVRAM && index > RTC_REG_D)
		rtc->cmos[index] = value;
	else if (index < RTC_REG_A)
		rtc->cmos[index] = value;
}

uint8_t mc146818_get_cmos(const struct mc146818 *rtc, unsigned index)
{
	return index < MC146818_NVRAM ? rtc->cmos[index] : 0xff;
}

bool mc146818_nmi_masked(const struct mc146818 *rtc)
{
	return rtc->index & 0x80;
}

static void set_from_tm(struct mc146818 *rtc, const struct tm *tm)
{
	unsigned year = (unsigned)(tm->tm_year + 1900);

	set_field(rtc, RTC_SEC, (unsigned)tm->tm_sec % 60);     /* a leap second folds */
	set_field(rtc, RTC_MIN, (unsigned)tm->tm_min);
	set_hour24(rtc, (unsigned)tm->tm_hour);
	set_field(rtc, RTC_DOW, (unsigned)tm->tm_wday + 1);
	set_field(rtc, RTC_DAY, (unsigned)tm->tm_mday);
	set_field(rtc, RTC_MONTH, (unsigned)tm->tm_mon + 1);
	set_field(rtc, RTC_YEAR, year % 100);
	rtc->cmos[RTC_CENTURY] = (uint8_t)((year / 100 / 10) << 4 | (year / 100 % 10));
}

/* Sets the registers to `secs`; the next update comes `to_next` ns from now. */
static int set_time_at(struct mc146818 *rtc, int64_t secs, bool local, uint64_t to_next)
{
	time_t t = (time_t)secs;
	struct tm tm;
	uint64_t now = clock_now(rtc->clk);

	if (!(local ? localtime_r(&t, &tm) : gmtime_r(&t, &tm)))
		return -1;
	if (tm.tm_year < 0 || tm.tm_year > 8099)
		return -1;
	sync(rtc, now);
	set_from_tm(rtc, &tm);
	rtc->phase_ns = (uint32_t)((now + to_next) % NS_PER_S);
	arm_timer(rtc, now);
	return 0;
}

void mc146818_set_time(struct mc146818 *rtc, int64_t unix_seconds)
{
	if (set_time_at(rtc, unix_seconds, false, NS_PER_S) != 0)
		log_warn("rtc: cannot represent time %lld", (long long)unix_seconds);
}

void mc146818_reset(struct mc146818 *rtc)
{
	uint64_t now = clock_now(rtc->clk);

	sync(rtc, now);
	rtc->cmos[RTC_REG_B] &= (uint8_t)~(RTC_B_PIE | RTC_B_AIE | RTC_B_UIE | RTC_B_SQWE);
	rtc->cmos[RTC_REG_C] = 0;
	update_irq(rtc);
	arm_timer(rtc, now);
}

int mc146818_init(struct mc146818 *rtc, struct iobus *io, struct clock *clk,
                  struct irq_line irq, const struct mc146818_config *cfg)
{
	struct timespec ts;
	int64_t secs;
	uint64_t to_next = NS_PER_S;

	memset(rtc, 0, sizeof(*rtc));
	rtc->clk = clk;
	rtc->irq = irq;
	timer_init(&rtc->timer, timer_fired, rtc, "rtc");
	rtc->synced_ns = clock_now(clk);
	/* The state a PC BIOS leaves: 32.768 kHz, 1024 Hz rate, 24-hour BCD. */
	rtc->cmos[RTC_REG_A] = DV_RUN | 0x06;
	rtc->cmos[RTC_REG_B] = RTC_B_24H;
	rtc->cmos[RTC_REG_D] = RTC_D_VRT;
	rtc->running = true;
	if (cfg && cfg->fixed_time) {
		secs = cfg->start_time;
	} else {
		if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
			log_err("rtc: cannot read the host clock");
			return -1;
		}
		secs = ts.tv_sec;
		/* Keep the guest's seconds in step with the host's. */
		to_next = NS_PER_S - (uint64_t)ts.tv_nsec;
	}
	if (set_time_at(rtc, secs, cfg && cfg->localtime, to_next) != 0) {
		log_err("rtc: cannot represent the start time %lld", (long long)secs);
		return -1;
	}
	if (iobus_map(io, 0x70, 2, &mc146818_ops, rtc, "rtc") < 0)
		return -1;
	return 0;
}

/* --- state ------------------------------------------------------------------ */

void mc146818_save(const struct mc146818 *rtc, struct sbuf *sb)
{
	size_t mark = sbuf_begin(sb, "mc146818", MC146818_SAVE_VERSION);

	sbuf_put_bytes(sb, rtc->cmos, sizeof(rtc->cmos));
	sbuf_put_u8(sb, rtc->index);
	sbuf_put_bool(sb, rtc->running);
	sbuf_put_u32(sb, rtc->phase_ns);
	sbuf_put_u64(sb, rtc->synced_ns);
	sbuf_put_bool(sb, rtc->irq_level);
	sbuf_put_bool(sb, rtc->dse_fell_back);
	sbuf_end(sb, mark);
}

int mc146818_load(struct mc146818 *rtc, struct sbuf *sb)
{
	uint8_t cmos[MC146818_NVRAM], index;
	uint32_t version, phase;
	uint64_t synced, now;
	bool running, level, fell_back;

	if (!sbuf_open(sb, "mc146818", &version))
		return -1;
	if (version != MC146818_SAVE_VERSION) {
		sbuf_fail(sb, "mc146818: unsupported state version %u", version);
		return -1;
	}
	sbuf_get_bytes(sb, cmos, sizeof(cmos));
	index = sbuf_get_u8(sb);
	running = sbuf_get_bool(sb);
	phase = sbuf_get_u32(sb);
	synced = sbuf_get_u64(sb);
	level = sbuf_get_bool(sb);
	fell_back = sbuf_get_bool(sb);
	if (!sb->error) {
		if (phase >= NS_PER_S)
			sbuf_fail(sb, "mc146818: divider phase %u ns out of range", phase);
		else if (running != ((cmos[RTC_REG_A] & RTC_A_DV) == DV_RUN))
			sbuf_fail(sb, "mc146818: divider state disagrees with register A");
		else if (cmos[RTC_REG_A] & RTC_A_UIP || cmos[RTC_REG_D] != RTC_D_VRT ||
		         cmos[RTC_REG_C] & 0x0f)
			sbuf_fail(sb, "mc146818: bad status registers");
		else if (level != !!(cmos[RTC_REG_C] & RTC_C_IRQF))
			sbuf_fail(sb, "mc146818: IRQ level disagrees with IRQF");
	}
	if (!sbuf_close(sb) || sb->error)
		return -1;
	memcpy(rtc->cmos, cmos, sizeof(cmos));
	rtc->index = index;
	rtc->running = running;
	rtc->phase_ns = phase;
	rtc->dse_fell_back = fell_back;
	now = clock_now(rtc->clk);
	rtc->synced_ns = synced < now ? synced : now;
	update_irq(rtc);
	/* The line now shows the loaded IRQF, whatever it showed before. */
	irq_set(&rtc->irq, rtc->irq_level);
	sync(rtc, now);
	arm_timer(rtc, now);
	return 0;
}
