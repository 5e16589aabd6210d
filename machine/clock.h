/*
 * Machine time and device timers.
 *
 * Machine time is nanoseconds since the machine was created. It follows the
 * host's monotonic clock while the machine runs and stands still while it
 * is paused, so a paused guest does not see time jump. Tests use a manual
 * clock that moves only when told, which makes device timing deterministic.
 *
 * Devices arm struct timer values on the clock; the guest loop asks for
 * the next deadline (to bound a CPU slice or to sleep) and fires what is due.
 */
#ifndef MACHINE_CLOCK_H
#define MACHINE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct timer {
	uint64_t deadline;              /* machine ns */
	void (*fn)(void *opaque, uint64_t now);
	void *opaque;
	const char *name;
	struct timer *next;
	bool armed;
};

struct clock {
	bool manual;
	uint64_t manual_ns;             /* manual: the current time */
	int64_t offset_ns;              /* host: machine time = host monotonic + offset */
	bool paused;
	uint64_t paused_at;
	struct timer *timers;           /* armed timers, soonest first */
};

#define CLOCK_NEVER UINT64_MAX

/* A clock following the host, starting at 0 now. */
void clock_init(struct clock *c);
/* A clock that moves only by clock_advance() (for tests). */
void clock_init_manual(struct clock *c);
uint64_t clock_now(const struct clock *c);
void clock_advance(struct clock *c, uint64_t ns);     /* manual clocks only */
void clock_pause(struct clock *c);
void clock_resume(struct clock *c);
/* Restores a saved time (snapshots): now becomes `ns`. */
void clock_set(struct clock *c, uint64_t ns);
/* The host's monotonic clock in ns. */
uint64_t host_monotonic_ns(void);

void timer_init(struct timer *t, void (*fn)(void *opaque, uint64_t now), void *opaque,
                const char *name);
/* (Re)arms t for `deadline`; a deadline in the past fires at the next run. */
void timer_mod(struct clock *c, struct timer *t, uint64_t deadline);
void timer_del(struct clock *c, struct timer *t);
uint64_t timer_next_deadline(const struct clock *c);  /* CLOCK_NEVER if none */
/* Fires every timer due at `now`, soonest first; callbacks may re-arm. */
void timers_run(struct clock *c, uint64_t now);

#endif
