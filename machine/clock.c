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

void clock_init(struct clock *c)
{
	memset(c, 0, sizeof(*c));
	c->offset_ns = -(int64_t)host_monotonic_ns();
}

void clock_init_manual(struct clock *c)
{
	memset(c, 0, sizeof(*c));
	c->manual = true;
}

uint64_t clock_now(const struct clock *c)
{
	if (c->manual)
		return c->manual_ns;
	if (c->paused)
		return c->paused_at;
	return (uint64_t)((int64_t)host_monotonic_ns() + c->offset_ns);
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
	if (c->manual)
		c->manual_ns = ns;
	else if (c->paused)
		c->paused_at = ns;
	else
		c->offset_ns = (int64_t)ns - (int64_t)host_monotonic_ns();
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
