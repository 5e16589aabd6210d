#include "machine/i8254.h"

#include <string.h>

#include "lib/sbuf.h"

#define I8254_SAVE_VERSION 2     /* 2: the IRQ0 backlog */
#define NS_PER_S 1000000000ull
#define NEVER UINT64_MAX
/*
 * Periodic modes may ask for an IRQ0 edge every 2 PIT clocks; the timer is
 * never armed closer than this, and a late timer delivers one edge for all
 * it missed. 20 us still allows a 50 kHz tick rate.
 */
#define IRQ0_MIN_GAP_NS 20000u
/*
 * Lost-tick re-injection: at most one re-injected edge per 100 us (a
 * second's backlog at HZ=1000 drains in 0.1 s, never as a burst), and only
 * for periods of at least 200 us (5 kHz): faster rates cannot be paced.
 */
#define IRQ0_REINJECT_GAP_NS 100000u
#define IRQ0_REINJECT_MIN_PERIOD 239u    /* PIT clocks: 200 us */

uint64_t i8254_ns_to_ticks(uint64_t ns)
{
	/* Split at whole seconds so the product cannot overflow. */
	return ns / NS_PER_S * I8254_HZ + ns % NS_PER_S * I8254_HZ / NS_PER_S;
}

uint64_t i8254_ticks_to_ns(uint64_t ticks)
{
	uint64_t r = ticks % I8254_HZ;

	if (ticks / I8254_HZ >= UINT64_MAX / NS_PER_S)
		return NEVER;
	return ticks / I8254_HZ * NS_PER_S + (r * NS_PER_S + I8254_HZ - 1) / I8254_HZ;
}

static unsigned eff_mode(const struct i8254_channel *c)
{
	return c->mode > 5 ? c->mode - 4u : c->mode;
}

static uint32_t modulus(const struct i8254_channel *c)
{
	return c->bcd ? 10000 : 65536;
}

/* The initial count the CR stands for: 0 is the largest count. */
static uint32_t cr_count(const struct i8254_channel *c)
{
	uint32_t v = c->cr;

	if (c->bcd) {
		/* Nibbles above 9 are not BCD; count with their face value. */
		v = ((v >> 12) & 15) * 1000 + ((v >> 8) & 15) * 100 + ((v >> 4) & 15) * 10 + (v & 15);
		v %= 10000;
	}
	return v ? v : modulus(c);
}

static uint16_t encode(const struct i8254_channel *c, uint32_t v)
{
	if (!c->bcd)
		return (uint16_t)v;
	return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

/* CR -> CE: a new counting cycle starts at `tick`. */
static void start_cycle(struct i8254_channel *c, uint64_t tick, bool low_half)
{
	c->n = cr_count(c);
	c->start = c->n;
	c->base_tick = tick;
	c->phase = low_half ? (c->n + 1) / 2 : 0;
	c->tc_done = false;
	c->loaded = true;
	c->null_count = false;
	c->counting = true;
	switch (eff_mode(c)) {
	case 0: case 4:
		c->counting = c->gate;
		c->out_idle = eff_mode(c) == 4;
		break;
	default:
		break;
	}
}

/* Applies a CR -> CE load that has happened by tick T. Idempotent. */
static void sync(struct i8254_channel *c, uint64_t T)
{
	if (c->load_pending && c->load_tick <= T) {
		c->load_pending = false;
		start_cycle(c, c->load_tick, c->load_low_half);
	}
}

/* Clocks counted since base_tick, as seen at tick T. */
static uint64_t elapsed(const struct i8254_channel *c, uint64_t T)
{
	return T > c->base_tick ? T - c->base_tick : 0;
}

static uint32_t sub_mod(uint32_t a, uint64_t e, uint32_t m)
{
	return (uint32_t)(((uint64_t)a + m - e % m) % m);
}

/* CE value (binary) and OUT at tick T of a synced channel. */
static void eval(const struct i8254_channel *c, uint64_t T, uint32_t *value, bool *out)
{
	uint32_t m = modulus(c), n = c->n, ph, h1;
	uint64_t e;

	if (!c->loaded || !c->counting) {
		*value = c->start % m;
		*out = c->out_idle;
		return;
	}
	e = elapsed(c, T);
	switch (eff_mode(c)) {
	case 0: case 1:
		*value = sub_mod(c->start, e, m);
		*out = c->tc_done || e >= c->start;
		break;
	case 4: case 5:
		*value = sub_mod(c->start, e, m);
		*out = c->tc_done || e != c->start;
		break;
	case 2:
		ph = (uint32_t)(e % n);
		*value = (n - ph) % m;
		*out = ph != n - 1;
		break;
	default: /* 3: the CE counts down by two through each half */
		ph = (uint32_t)((e + c->phase) % n);
		h1 = (n + 1) / 2;
		if (ph < h1) {
			*out = true;
			*value = ((n & ~1u) - 2 * ph) % m;
		} else {
			*out = false;
			*value = ((n & ~1u) - 2 * (ph - h1)) % m;
		}
		break;
	}
}

/* The state at tick T without touching the channel. */
static void peek(const struct i8254_channel *c0, uint64_t T, uint32_t *value, bool *out)
{
	struct i8254_channel c = *c0;

	sync(&c, T);
	eval(&c, T, value, out);
}

/*
 * The count software reads at tick T. A count written during this clock
 * is loaded at the next one; on a PC no ISA read can come back that fast
 * (an inb takes longer than a PIT clock), and Linux's quick TSC
 * calibration relies on that, so reads already show the count being
 * loaded. OUT keeps the datasheet's timing.
 */
static uint32_t read_value(const struct i8254_channel *c, uint64_t T)
{
	uint32_t v;
	bool out;

	/* (Not a running rate generator's reload at the end of its period.) */
	bool periodic_reload = (eff_mode(c) == 2 || eff_mode(c) == 3) && c->loaded && c->counting;

	if (c->load_pending && c->load_tick == T + 1 && !periodic_reload)
		return cr_count(c) % modulus(c);
	peek(c, T, &v, &out);
	return v;
}

static bool out_at(const struct i8254_channel *c, uint64_t T)
{
	uint32_t v;
	bool out;

	peek(c, T, &v, &out);
	return out;
}

/* Within the current cycle (no pending load): the next tick > T where OUT changes. */
static uint64_t next_change_in_cycle(const struct i8254_channel *c, uint64_t T)
{
	uint64_t now = T > c->base_tick ? T : c->base_tick, e, n = c->n;
	uint32_t ph, h1;

	if (!c->loaded || !c->counting)
		return NEVER;
	e = now - c->base_tick;
	switch (eff_mode(c)) {
	case 0: case 1:
		return !c->tc_done && e < c->start ? c->base_tick + c->start : NEVER;
	case 4: case 5:
		if (c->tc_done || e > c->start)
			return NEVER;
		return e < c->start ? c->base_tick + c->start : c->base_tick + c->start + 1;
	case 2:
		if (n == 1)
			return NEVER;
		ph = (uint32_t)(e % n);
		return ph < n - 1 ? now + (n - 1 - ph) : now + 1;
	default:
		if (n == 1)
			return NEVER;   /* high for the whole (one-clock) cycle */
		ph = (uint32_t)((e + c->phase) % n);
		h1 = (uint32_t)(n + 1) / 2;
		return ph < h1 ? now + (h1 - ph) : now + (n - ph);
	}
}

/* The first tick > T at which the channel's OUT differs from OUT at T. */
static uint64_t next_change(const struct i8254_channel *c0, uint64_t T)
{
	struct i8254_channel c = *c0;
	bool out0 = out_at(c0, T);

	sync(&c, T);
	for (int guard = 0; guard < 4; guard++) {
		uint64_t t = next_change_in_cycle(&c, T);

		if (!c.load_pending || t < c.load_tick)
			return t;
		/* A load comes first: it may change OUT itself, or start a new cycle. */
		T = c.load_tick;
		sync(&c, T);
		if (out_at(&c, T) != out0)
			return T;
	}
	return NEVER;
}

static uint64_t now_tick(const struct i8254 *pit)
{
	return i8254_ns_to_ticks(clock_now(pit->clk));
}

static bool is_periodic(const struct i8254_channel *c)
{
	return eff_mode(c) == 2 || eff_mode(c) == 3;
}

/* The first tick > T at which OUT rises. */
static uint64_t next_rise(const struct i8254_channel *c, uint64_t T)
{
	uint64_t t1 = next_change(c, T);

	if (t1 == NEVER || out_at(c, t1))
		return t1;
	return next_change(c, t1);
}

/*
 * How many times OUT rises in (a, b]. Walks edge by edge only across
 * pending loads; a steady periodic cycle is counted arithmetically, so a
 * long host stall costs nothing to account.
 */
static uint64_t count_rises(const struct i8254_channel *c0, uint64_t a, uint64_t b)
{
	struct i8254_channel c = *c0;
	uint64_t k = 0;

	for (int guard = 0; guard < 16 && a < b; guard++) {
		uint64_t r = next_rise(&c, a);

		if (r == NEVER || r > b)
			return k;
		k++;
		sync(&c, r);
		if (is_periodic(&c) && c.loaded && c.counting && !(c.load_pending && c.load_tick <= b))
			return k + (b - r) / c.n;
		a = r;
	}
	return k;
}

/* One second of periods: the most a backlog may hold (0: no re-injection). */
static uint32_t backlog_cap(const struct i8254_channel *c)
{
	if (!is_periodic(c) || !c->loaded || !c->counting || c->n < IRQ0_REINJECT_MIN_PERIOD)
		return 0;
	return (I8254_HZ + c->n - 1) / c->n;
}

static enum i8254_sink irq0_sink(const struct i8254 *pit)
{
	return pit->irq0_sink ? pit->irq0_sink(pit->irq0_sink_opaque) : I8254_SINK_READY;
}

static void drop_backlog(struct i8254 *pit)
{
	pit->stats.dropped += pit->irq0_backlog;
	pit->irq0_backlog = 0;
}

/*
 * The PIC sees IRQ0's rising edges only (IRQ0 cannot be level-triggered),
 * so the timer waits for the next rise; the line takes OUT0's level at
 * each rise and whenever channel 0 is reprogrammed.
 */
static void irq0_rearm(struct i8254 *pit, uint64_t now, uint64_t T)
{
	const struct i8254_channel *c = &pit->ch[0];
	uint64_t next = next_rise(c, T), ns = CLOCK_NEVER;

	if (next != NEVER) {
		ns = i8254_ticks_to_ns(next);
		if (is_periodic(c) && ns < now + IRQ0_MIN_GAP_NS)
			ns = now + IRQ0_MIN_GAP_NS;
	}
	if (pit->irq0_backlog) {
		uint64_t r = pit->irq0_last_ns + IRQ0_REINJECT_GAP_NS;

		if (r <= now)
			r = now + IRQ0_REINJECT_GAP_NS;     /* waiting for the controller */
		if (r < ns)
			ns = r;
	}
	if (ns == CLOCK_NEVER)
		timer_del(pit->clk, &pit->irq0_timer);
	else
		timer_mod(pit->clk, &pit->irq0_timer, ns);
}

static void irq0_level(struct i8254 *pit, bool level)
{
	if (pit->irq0_level != level) {
		pit->irq0_level = level;
		irq_set(&pit->irq0, level);
	}
}

static void irq0_edge(struct i8254 *pit, uint64_t now)
{
	irq0_level(pit, false);
	irq0_level(pit, true);
	pit->irq0_last_ns = now;
}

/*
 * Brings IRQ0 up to machine time `now`. If OUT0 rose since the last update,
 * one rising edge is delivered now and the other rises missed meanwhile
 * join the backlog; otherwise a backlogged edge is delivered if its pacing
 * gap has passed and the controller can take it.
 */
static void irq0_catch_up(struct i8254 *pit, uint64_t now)
{
	struct i8254_channel *c = &pit->ch[0];
	uint64_t T = i8254_ns_to_ticks(now);
	uint64_t rises = T > pit->irq0_tick ? count_rises(c, pit->irq0_tick, T) : 0, room;
	uint32_t cap;
	bool out;

	sync(c, T);
	out = out_at(c, T);
	cap = backlog_cap(c);
	if (rises) {
		uint64_t missed = rises - 1;

		enum i8254_sink sink = pit->irq0_backlog ? irq0_sink(pit) : I8254_SINK_READY;

		/* IRQ0 still masked a whole period on: the guest does not want ticks. */
		if (sink == I8254_SINK_MASKED)
			drop_backlog(pit);
		/* During re-injection an edge the controller would merge into the
		 * pending one waits its turn instead. */
		if (pit->irq0_backlog && cap && sink == I8254_SINK_BUSY)
			missed++;
		else
			irq0_edge(pit, now);
		pit->stats.edges += rises - missed;
		pit->stats.missed += rises - 1;
		room = cap > pit->irq0_backlog ? cap - pit->irq0_backlog : 0;
		if (missed > room) {
			pit->stats.dropped += missed - room;
			missed = room;
		}
		pit->irq0_backlog += (uint32_t)missed;
	} else if (pit->irq0_backlog && now >= pit->irq0_last_ns + IRQ0_REINJECT_GAP_NS) {
		if (!cap)
			drop_backlog(pit);      /* no longer a rate that is re-injected */
		else if (irq0_sink(pit) == I8254_SINK_READY) {
			irq0_edge(pit, now);
			pit->irq0_backlog--;
			pit->stats.reinjected++;
		}
		/* Otherwise the guest has not taken the last edge, or masks IRQ0
		 * for now (Linux masks it at the PIC while its handler runs): wait. */
	}
	irq0_level(pit, out);
	pit->irq0_tick = T;
	irq0_rearm(pit, now, T);
}

static void irq0_timer_fired(void *opaque, uint64_t now)
{
	irq0_catch_up(opaque, now);
}

/* After software changed channel 0: OUT0 takes its new level at once. */
static void irq0_reprogrammed(struct i8254 *pit)
{
	uint64_t now = clock_now(pit->clk), T = i8254_ns_to_ticks(now);

	sync(&pit->ch[0], T);
	drop_backlog(pit);      /* ticks of the old programming */
	irq0_level(pit, out_at(&pit->ch[0], T));
	pit->irq0_tick = T;
	irq0_rearm(pit, now, T);
}

/* Stops the CE at tick T keeping its value and OUT (gate low, mode 0 rewrite). */
static void freeze(struct i8254_channel *c, uint64_t T)
{
	uint32_t v;
	bool out;
	uint64_t e;

	sync(c, T);
	if (!c->loaded || !c->counting)
		return;
	eval(c, T, &v, &out);
	e = elapsed(c, T);
	switch (eff_mode(c)) {
	case 0: case 1: case 4: case 5:
		if (!c->tc_done && e < c->start) {
			c->start -= (uint32_t)e;        /* still counting towards TC */
		} else {
			c->tc_done = true;
			c->start = v;
			out = true;     /* past TC OUT is high in these modes; a strobe ends */
		}
		break;
	default:
		c->start = v;
		break;
	}
	c->out_idle = out;
	c->counting = false;
}

static void set_gate(struct i8254_channel *c, bool gate, uint64_t T)
{
	bool rising = gate && !c->gate;

	if (gate == c->gate)
		return;
	sync(c, T);
	switch (eff_mode(c)) {
	case 0: case 4:
		/* The gate enables counting; OUT is unaffected. */
		if (!gate) {
			freeze(c, T);
		} else if (c->loaded && !c->load_pending) {
			c->counting = true;
			c->base_tick = T + 1;
		}
		break;
	case 1: case 5:
		/* A rising edge triggers: the CR is loaded on the next clock. */
		if (rising && c->cr_valid) {
			if (eff_mode(c) == 1 && !c->loaded)
				c->out_idle = true;
			c->load_pending = true;
			c->load_low_half = false;
			c->load_tick = T + 1;
			if (c->loaded && c->counting)
				freeze(c, T);       /* OUT holds until the reload */
		}
		break;
	default:
		/* Gate low forces OUT high and stops; rising reloads on the next clock. */
		if (!gate) {
			freeze(c, T);
			c->out_idle = true;
			c->load_pending = false;
		} else if (c->cr_valid) {
			c->load_pending = true;
			c->load_low_half = false;
			c->load_tick = T + 1;
		}
		break;
	}
	c->gate = gate;
}

static void write_count(struct i8254_channel *c, uint8_t v, uint64_t T)
{
	sync(c, T);
	switch (c->rw) {
	case 1:
		c->cr = v;
		break;
	case 2:
		c->cr = (uint16_t)(v << 8);
		break;
	default:
		if (!c->cr_msb_next) {
			c->cr = (uint16_t)((c->cr & 0xff00) | v);
			c->cr_msb_next = true;
			/* Mode 0: the first byte stops the count and drops OUT. */
			if (eff_mode(c) == 0) {
				freeze(c, T);
				c->out_idle = false;
				c->load_pending = false;
			}
			return;
		}
		c->cr = (uint16_t)((c->cr & 0x00ff) | v << 8);
		c->cr_msb_next = false;
		break;
	}
	c->null_count = true;
	c->cr_valid = true;
	switch (eff_mode(c)) {
	case 0:
		freeze(c, T);
		c->out_idle = false;
		c->load_pending = true;
		c->load_low_half = false;
		c->load_tick = T + 1;
		break;
	case 4:
		c->load_pending = true;
		c->load_low_half = false;
		c->load_tick = T + 1;
		break;
	case 1: case 5:
		break;      /* waits for a gate trigger */
	default:
		if (!c->gate)
			break;  /* loaded when the gate rises */
		if (!c->loaded || !c->counting) {
			c->load_pending = true;
			c->load_low_half = false;
			c->load_tick = T + 1;
		} else {
			/* A running rate/square wave takes the new count at the end of the
			 * current period (mode 2) or half-cycle (mode 3). */
			uint64_t e = elapsed(c, T), n = c->n, ph = (e + c->phase) % n;

			c->load_pending = true;
			if (eff_mode(c) == 2) {
				c->load_tick = c->base_tick + e + (n - ph);
				c->load_low_half = false;
			} else if (ph < (n + 1) / 2) {
				c->load_tick = (T > c->base_tick ? T : c->base_tick) + ((n + 1) / 2 - ph);
				c->load_low_half = true;
			} else {
				c->load_tick = (T > c->base_tick ? T : c->base_tick) + (n - ph);
				c->load_low_half = false;
			}
		}
		break;
	}
}

static uint8_t status_byte(const struct i8254_channel *c, uint64_t T)
{
	return (uint8_t)((out_at(c, T) ? 0x80 : 0) | (c->null_count ? 0x40 : 0) |
	                 c->rw << 4 | c->mode << 1 | (c->bcd ? 1 : 0));
}

static void latch_count(struct i8254_channel *c, uint64_t T)
{
	if (c->count_latched)
		return;     /* a second latch before the read is ignored */
	c->latch = encode(c, read_value(c, T));
	c->count_latched = true;
	c->latch_bytes = c->rw == 3 ? 2 : 1;
}

static void write_control(struct i8254 *pit, uint8_t v, uint64_t T)
{
	unsigned sel = v >> 6;

	if (sel == 3) {
		/* Read-back: bit 5 clear latches counts, bit 4 clear latches status. */
		for (unsigned i = 0; i < 3; i++) {
			struct i8254_channel *c = &pit->ch[i];

			if (!(v & (2u << i)))
				continue;
			sync(c, T);
			if (!(v & 0x10) && !c->status_latched) {
				c->status = status_byte(c, T);
				c->status_latched = true;
			}
			if (!(v & 0x20))
				latch_count(c, T);
		}
		return;
	}
	struct i8254_channel *c = &pit->ch[sel];

	if (((v >> 4) & 3) == 0) {
		latch_count(c, T);
		return;
	}
	freeze(c, T);
	c->rw = (v >> 4) & 3;
	c->mode = (v >> 1) & 7;
	c->bcd = v & 1;
	c->programmed = true;
	c->loaded = false;
	c->counting = false;
	c->load_pending = false;
	c->cr_valid = false;
	c->cr_msb_next = false;
	c->read_msb_next = false;
	c->count_latched = false;
	c->status_latched = false;
	c->null_count = true;
	c->tc_done = false;
	c->out_idle = eff_mode(c) != 0;
	c->start %= modulus(c);
}

static uint8_t read_count(struct i8254_channel *c, uint64_t T)
{
	uint16_t v;
	bool msb;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->count_latched) {
		v = c->latch;
		msb = c->rw == 2 || (c->rw == 3 && c->latch_bytes == 1);
		if (--c->latch_bytes == 0)
			c->count_latched = false;
	} else {
		v = encode(c, read_value(c, T));
		msb = c->rw == 2 || (c->rw == 3 && c->read_msb_next);
		if (c->rw == 3)
			c->read_msb_next = !c->read_msb_next;
	}
	return (uint8_t)(msb ? v >> 8 : v);
}

bool i8254_out(struct i8254 *pit, unsigned channel)
{
	if (channel > 2)
		return false;
	return out_at(&pit->ch[channel], now_tick(pit));
}

bool i8254_speaker(struct i8254 *pit)
{
	return (pit->port61 & 3) == 3 && i8254_out(pit, 2);
}

void i8254_set_irq0_sink(struct i8254 *pit, enum i8254_sink (*probe)(void *opaque), void *opaque)
{
	pit->irq0_sink = probe;
	pit->irq0_sink_opaque = opaque;
}

uint64_t i8254_next_irq0_ns(const struct i8254 *pit)
{
	return pit->irq0_timer.armed ? pit->irq0_timer.deadline : CLOCK_NEVER;
}

uint32_t i8254_io_read(void *opaque, uint32_t port, unsigned size)
{
	struct i8254 *pit = opaque;
	uint64_t now = clock_now(pit->clk), T = i8254_ns_to_ticks(now);

	switch (port) {
	case 0x40: case 0x41: case 0x42:
		return read_count(&pit->ch[port - 0x40], T);
	case 0x61:
		return pit->port61 |
		       ((now / I8254_REFRESH_NS) & 1 ? 0x10 : 0) |
		       (out_at(&pit->ch[2], T) ? 0x20 : 0);
	default:
		return 0xff;    /* the control word register is write-only */
	}
}

void i8254_io_write(void *opaque, uint32_t port, uint32_t value, unsigned size)
{
	struct i8254 *pit = opaque;
	uint64_t now = clock_now(pit->clk), T = i8254_ns_to_ticks(now);
	uint8_t v = (uint8_t)value;

	/* An IRQ0 edge that came due before this write is still delivered. */
	if (pit->irq0_timer.armed && pit->irq0_timer.deadline <= now)
		irq0_catch_up(pit, now);
	switch (port) {
	case 0x40: case 0x41: case 0x42:
		write_count(&pit->ch[port - 0x40], v, T);
		if (port == 0x40)
			irq0_reprogrammed(pit);
		break;
	case 0x43:
		write_control(pit, v, T);
		if ((v >> 6) == 0)
			irq0_reprogrammed(pit);
		break;
	case 0x61:
		pit->port61 = v & 0x0f;
		set_gate(&pit->ch[2], v & 1, T);
		break;
	default:
		break;
	}
}

static const struct io_ops i8254_ops = { i8254_io_read, i8254_io_write };

void i8254_reset(struct i8254 *pit)
{
	for (unsigned i = 0; i < 3; i++) {
		struct i8254_channel *c = &pit->ch[i];

		memset(c, 0, sizeof(*c));
		c->rw = 3;
		c->gate = i < 2;    /* gates 0 and 1 are tied high; 2 is port 0x61 bit 0 */
	}
	pit->port61 = 0;
	timer_del(pit->clk, &pit->irq0_timer);
	irq0_level(pit, false);
	pit->irq0_tick = now_tick(pit);
	pit->irq0_backlog = 0;
	pit->irq0_last_ns = clock_now(pit->clk);
}

int i8254_init(struct i8254 *pit, struct iobus *io, struct clock *clk, struct irq_line irq0)
{
	memset(pit, 0, sizeof(*pit));
	pit->clk = clk;
	pit->irq0 = irq0;
	timer_init(&pit->irq0_timer, irq0_timer_fired, pit, "pit-irq0");
	i8254_reset(pit);
	if (iobus_map(io, 0x40, 4, &i8254_ops, pit, "pit") < 0)
		return -1;
	if (iobus_map(io, 0x61, 1, &i8254_ops, pit, "port61") < 0) {
		iobus_unmap(io, 0x40, 4);
		return -1;
	}
	return 0;
}

static void save_channel(const struct i8254_channel *c, struct sbuf *sb)
{
	sbuf_put_u8(sb, c->mode);
	sbuf_put_u8(sb, c->rw);
	sbuf_put_bool(sb, c->bcd);
	sbuf_put_bool(sb, c->programmed);
	sbuf_put_u16(sb, c->cr);
	sbuf_put_bool(sb, c->cr_msb_next);
	sbuf_put_bool(sb, c->null_count);
	sbuf_put_bool(sb, c->loaded);
	sbuf_put_bool(sb, c->counting);
	sbuf_put_bool(sb, c->load_pending);
	sbuf_put_bool(sb, c->load_low_half);
	sbuf_put_u64(sb, c->load_tick);
	sbuf_put_bool(sb, c->cr_valid);
	sbuf_put_u32(sb, c->n);
	sbuf_put_u32(sb, c->start);
	sbuf_put_u64(sb, c->base_tick);
	sbuf_put_u32(sb, c->phase);
	sbuf_put_bool(sb, c->tc_done);
	sbuf_put_bool(sb, c->out_idle);
	sbuf_put_bool(sb, c->gate);
	sbuf_put_bool(sb, c->count_latched);
	sbuf_put_u16(sb, c->latch);
	sbuf_put_u8(sb, c->latch_bytes);
	sbuf_put_bool(sb, c->status_latched);
	sbuf_put_u8(sb, c->status);
	sbuf_put_bool(sb, c->read_msb_next);
}

static void load_channel(struct i8254_channel *c, struct sbuf *sb, unsigned i)
{
	c->mode = sbuf_get_u8(sb);
	c->rw = sbuf_get_u8(sb);
	c->bcd = sbuf_get_bool(sb);
	c->programmed = sbuf_get_bool(sb);
	c->cr = sbuf_get_u16(sb);
	c->cr_msb_next = sbuf_get_bool(sb);
	c->null_count = sbuf_get_bool(sb);
	c->loaded = sbuf_get_bool(sb);
	c->counting = sbuf_get_bool(sb);
	c->load_pending = sbuf_get_bool(sb);
	c->load_low_half = sbuf_get_bool(sb);
	c->load_tick = sbuf_get_u64(sb);
	c->cr_valid = sbuf_get_bool(sb);
	c->n = sbuf_get_u32(sb);
	c->start = sbuf_get_u32(sb);
	c->base_tick = sbuf_get_u64(sb);
	c->phase = sbuf_get_u32(sb);
	c->tc_done = sbuf_get_bool(sb);
	c->out_idle = sbuf_get_bool(sb);
	c->gate = sbuf_get_bool(sb);
	c->count_latched = sbuf_get_bool(sb);
	c->latch = sbuf_get_u16(sb);
	c->latch_bytes = sbuf_get_u8(sb);
	c->status_latched = sbuf_get_bool(sb);
	c->status = sbuf_get_u8(sb);
	c->read_msb_next = sbuf_get_bool(sb);
	if (sb->error)
		return;
	if (c->mode > 7 || c->rw < 1 || c->rw > 3)
		sbuf_fail(sb, "i8254 channel %u: bad mode %u / access %u", i, c->mode, c->rw);
	else if (c->loaded && (c->n < 1 || c->n > modulus(c) || c->start > modulus(c) ||
	                       c->phase >= c->n))
		sbuf_fail(sb, "i8254 channel %u: count %u/%u/%u out of range", i, c->n, c->start,
		          c->phase);
	else if (!c->loaded && c->start > modulus(c))
		sbuf_fail(sb, "i8254 channel %u: count %u out of range", i, c->start);
	else if (c->latch_bytes > (c->rw == 3 ? 2 : 1) || c->count_latched != (c->latch_bytes != 0))
		sbuf_fail(sb, "i8254 channel %u: bad latch state", i);
	else if (i < 2 && !c->gate)
		sbuf_fail(sb, "i8254 channel %u: gate is tied high", i);
}

void i8254_save(const struct i8254 *pit, struct sbuf *sb)
{
	size_t mark = sbuf_begin(sb, "i8254", I8254_SAVE_VERSION);

	for (unsigned i = 0; i < 3; i++)
		save_channel(&pit->ch[i], sb);
	sbuf_put_u8(sb, pit->port61);
	sbuf_put_bool(sb, pit->irq0_level);
	sbuf_put_u64(sb, pit->irq0_tick);
	sbuf_put_u32(sb, pit->irq0_backlog);
	sbuf_put_u64(sb, pit->irq0_last_ns);
	sbuf_end(sb, mark);
}

int i8254_load(struct i8254 *pit, struct sbuf *sb)
{
	struct i8254_channel ch[3];
	uint32_t version;
	uint8_t port61;
	bool level;
	uint64_t tick, last_ns = 0;
	uint32_t backlog = 0;

	if (!sbuf_open(sb, "i8254", &version))
		return -1;
	if (version != 1 && version != I8254_SAVE_VERSION) {
		sbuf_fail(sb, "i8254: unsupported state version %u", version);
		return -1;
	}
	for (unsigned i = 0; i < 3 && !sb->error; i++)
		load_channel(&ch[i], sb, i);
	port61 = sbuf_get_u8(sb);
	level = sbuf_get_bool(sb);
	tick = sbuf_get_u64(sb);
	if (version >= 2) {
		backlog = sbuf_get_u32(sb);
		last_ns = sbuf_get_u64(sb);
	}
	if (!sb->error && port61 > 0x0f)
		sbuf_fail(sb, "i8254: bad port 0x61 value 0x%02x", port61);
	if (!sb->error && ch[2].gate != (port61 & 1))
		sbuf_fail(sb, "i8254: gate 2 disagrees with port 0x61");
	if (!sb->error && backlog > backlog_cap(&ch[0]))
		sbuf_fail(sb, "i8254: IRQ0 backlog %u is more than a second of ticks", backlog);
	if (!sbuf_close(sb) || sb->error)
		return -1;
	memcpy(pit->ch, ch, sizeof(ch));
	pit->irq0_backlog = backlog;
	pit->irq0_last_ns = last_ns;
	pit->port61 = port61;
	pit->irq0_tick = tick;
	/* Put the line where the saved state had it, then catch up to now. */
	pit->irq0_level = !level;
	irq0_level(pit, level);
	irq0_catch_up(pit, clock_now(pit->clk));
	return 0;
}
