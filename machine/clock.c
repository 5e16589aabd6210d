#include "machine/clock.h"

#include <string.h>
#include <time.h>

uint64_t host_monotonic_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer; treat failure as 0. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	/* Cannot fail for the calling thread; 0 makes every gap look like work. */
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t real_host_ns(void *opaque) { return host_monotonic_ns(); }
static uint64_t real_cpu_ns(void *opaque) { return thread_cpu_ns(); }

/* A read this long after the previous one checks for a stall (one syscall). */
#define STALL_CHECK_NS 50000ull
/* The most hidden time owed; beyond it a stall shows as a jump. */
#define DEBT_MAX_NS 1000000000ull
/*
 * While the guest runs, debt is given back at SLEW_MUL ns per ns of host
 * time (machine time runs twice as fast meanwhile). Faster would repay
 * more under load, but it also multiplies every host-side delay the guest
 * can see between two of its clock reads, and Linux's calibrations reject
 * slow reads. Idle waits repay at once (clock_repay).
 */
#define SLEW_MUL 1ull

void clock_init_sources(struct clock *c, uint64_t (*host_ns)(void *opaque),
                        uint64_t (*cpu_ns)(void *opaque), void *opaque)
{
	struct clock_host *hs = &c->host_state;
	uint64_t h;

	memset(c, 0, sizeof(*c));
	c->host = hs;
	hs->host_ns = host_ns;
	hs->cpu_ns = cpu_ns;
	hs->src_opaque = opaque;
	h = host_ns(opaque);
	hs->offset_ns = -(int64_t)h;
	hs->last_host = hs->sample_host = hs->slew_from = h;
	hs->sample_cpu = cpu_ns(opaque);
}

void clock_init(struct clock *c)
{
	clock_init_sources(c, real_host_ns, real_cpu_ns, NULL);
}

void clock_init_manual(struct clock *c)
{
	memset(c, 0, sizeof(*c));
	c->manual = true;
	c->host = &c->host_state;
}

/* The part of the debt given back by host time h. */
static uint64_t slewed(const struct clock_host *hs, uint64_t h)
{
	uint64_t back = h > hs->slew_from ? (h - hs->slew_from) * SLEW_MUL : 0;

	return back < hs->debt_ns ? back : hs->debt_ns;
}

static uint64_t machine_at(const struct clock_host *hs, uint64_t h)
{
	return (uint64_t)((int64_t)h + hs->offset_ns) + slewed(hs, h);
}

/* Settles the debt as of host time h: what was given back joins the offset. */
static void settle(struct clock_host *hs, uint64_t h)
{
	uint64_t back = slewed(hs, h);

	hs->offset_ns += (int64_t)back;
	hs->debt_ns -= back;
	hs->slew_from = h;
}

/*
 * A read at host time h, some gap after the previous one: the part of the
 * gap the thread did not run is hidden, up to the debt's bound. The slew is
 * settled as of the previous read, so nothing is given back during the
 * stall itself, and a fully hidden stall shows no time passing at all.
 */
static void check_stall(struct clock_host *hs, uint64_t h)
{
	uint64_t gap = h - hs->last_host, cpu = hs->cpu_ns(hs->src_opaque);
	uint64_t wall = h - hs->sample_host, ran = cpu - hs->sample_cpu;
	uint64_t stall = wall > ran ? wall - ran : 0, hide;

	hs->sample_host = h;
	hs->sample_cpu = cpu;
	if (stall > gap)
		stall = gap;
	if (!stall)
		return;
	settle(hs, hs->last_host);
	hs->slew_from = h;
	hide = DEBT_MAX_NS - hs->debt_ns;
	if (hide > stall)
		hide = stall;
	hs->offset_ns -= (int64_t)hide;
	hs->debt_ns += hide;
	hs->stall.stalls++;
	if (stall > hs->stall.longest_ns)
		hs->stall.longest_ns = stall;
	hs->stall.hidden_ns += hide;
	hs->stall.released_ns += stall - hide;
}

uint64_t clock_now(const struct clock *c)
{
	struct clock_host *hs = c->host;
	uint64_t h;

	if (c->manual)
		return c->manual_ns;
	if (c->paused)
		return c->paused_at;
	h = hs->host_ns(hs->src_opaque);
	if (h < hs->last_host)
		h = hs->last_host;  /* a test source going backwards must not break monotony */
	if (!hs->idle && h - hs->last_host >= STALL_CHECK_NS)
		check_stall(hs, h);
	hs->last_host = h;
	return machine_at(hs, h);
}

/* Starts the stall bookkeeping afresh at host time now: the gap before is no stall. */
static void resample(struct clock_host *hs)
{
	hs->last_host = hs->sample_host = hs->host_ns(hs->src_opaque);
	hs->sample_cpu = hs->cpu_ns(hs->src_opaque);
}

void clock_idle(struct clock *c, bool idle)
{
	if (c->manual || c->host->idle == idle)
		return;
	c->host->idle = idle;
	if (!idle)
		resample(c->host);
}

uint64_t clock_repay(struct clock *c, uint64_t ns)
{
	struct clock_host *hs = c->host;
	uint64_t now_host, back;

	if (c->manual || c->paused)
		return 0;
	(void)clock_now(c);
	now_host = hs->last_host;
	settle(hs, now_host);
	back = ns < hs->debt_ns ? ns : hs->debt_ns;
	hs->offset_ns += (int64_t)back;
	hs->debt_ns -= back;
	return back;
}

uint64_t clock_host_wait(const struct clock *c, uint64_t ns)
{
	uint64_t debt = clock_debt(c), repay;

	if (c->manual || c->paused || !debt)
		return ns;
	/* While the debt lasts, host time runs 1 + SLEW_MUL times slower than machine time. */
	repay = debt / SLEW_MUL;
	if (ns <= repay * (1 + SLEW_MUL))
		return ns / (1 + SLEW_MUL);
	return ns - debt;
}

uint64_t clock_debt(const struct clock *c)
{
	const struct clock_host *hs = c->host;

	return c->manual ? 0 : hs->debt_ns - slewed(hs, hs->last_host);
}

void clock_advance(struct clock *c, uint64_t ns)
{
	if (c->manual)
		c->manual_ns += ns;
}

void clock_pause(struct clock *c)
{
	if (c->manual || c->paused)
		return;
	c->paused_at = clock_now(c);
	c->paused = true;
}

void clock_resume(struct clock *c)
{
	if (c->manual || !c->paused)
		return;
	c->paused = false;
	clock_set(c, c->paused_at);
}

void clock_set(struct clock *c, uint64_t ns)
{
	struct clock_host *hs = c->host;

	if (c->manual) {
		c->manual_ns = ns;
	} else if (c->paused) {
		c->paused_at = ns;
	} else {
		/* A set time owes nothing. */
		resample(hs);
		hs->offset_ns = (int64_t)ns - (int64_t)hs->last_host;
		hs->debt_ns = 0;
		hs->slew_from = hs->last_host;
	}
}

void timer_init(struct timer *t, void (*fn)(void *opaque, uint64_t now), void *opaque,
                const char *name)
{
	memset(t, 0, sizeof(*t));
	t->fn = fn;
	t->opaque = opaque;
	t->name = name;
}

void timer_del(struct clock *c, struct timer *t)
{
	if (!t->armed)
		return;
	for (struct timer **p = &c->timers; *p; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	t->next = NULL;
	t->armed = false;
}

void timer_mod(struct clock *c, struct timer *t, uint64_t deadline)
{
	struct timer **p;

	timer_del(c, t);
	t->deadline = deadline;
	for (p = &c->timers; *p && (*p)->deadline <= deadline; p = &(*p)->next)
		;
	t->next = *p;
	*p = t;
	t->armed = true;
}

uint64_t timer_next_deadline(const struct clock *c)
{
	return c->timers ? c->timers->deadline : CLOCK_NEVER;
}

void timers_run(struct clock *c, uint64_t now)
{
	/* One at a time from the head: a callback may re-arm or delete others. */
	while (c->timers && c->timers->deadline <= now) {
		struct timer *t = c->timers;

		c->timers = t->next;
		t->next = NULL;
		t->armed = false;
		t->fn(t->opaque, now);
	}
}
