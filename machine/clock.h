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
 *
 * Host stalls. On a loaded host the guest process is descheduled for
 * milliseconds at a time; a guest that reads its clocks around such a stall
 * sees time jump while it executed nothing, which it cannot tell from
 * broken hardware (Linux's PIT/PM-timer TSC calibrations fail, and jiffies
 * fall behind). A suspended VM would see no time pass, and that is the
 * policy here: when a read comes at least 50 us of host time after the
 * previous one, the clock compares host time with the thread's CPU time
 * since its last sample, and the part of the gap the process did not run
 * (at most the gap, so machine time never goes backwards) is hidden: the
 * clock stands still across it. Hidden time is a debt, given back by
 * skipping it from the loop's idle waits (a halted guest waiting for its
 * next timer gets there sooner: invisible to it) and, while it runs, by
 * running machine time twice as fast as the host's until the debt is
 * paid, so the guest's date keeps following the host's. The debt is
 * bounded (1 s, the most the guest's date lags): a stall beyond it is
 * let through as a jump (and the devices' lost-tick policies take over).
 * Time the loop sleeps on purpose (clock_idle) is never a stall. All
 * machine clocks (PIT, RTC, PM timer, TSC) read this one clock, so the
 * guest cannot see the speed-up against any of its own clocks.
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

/* How much host time was kept from the guest (for the log and tests). */
struct clock_stall_stats {
	uint64_t stalls;        /* reads that found a stall */
	uint64_t hidden_ns;     /* stall time hidden (then given back) */
	uint64_t released_ns;   /* stall time let through: the debt was full */
	uint64_t longest_ns;    /* the longest stall */
};

/*
 * What a host-following clock changes as it is read (stall bookkeeping).
 * Reads take a const clock, so this lives behind a pointer in it.
 */
struct clock_host {
	int64_t offset_ns;              /* machine time = host monotonic + offset (+ slew) */
	uint64_t (*host_ns)(void *opaque);      /* the host's monotonic clock */
	uint64_t (*cpu_ns)(void *opaque);       /* this thread's CPU time */
	void *src_opaque;
	bool idle;                      /* the loop sleeps: gaps are not stalls */
	uint64_t last_host;             /* host ns of the last read */
	uint64_t sample_host, sample_cpu;       /* the last (host, CPU time) sample */
	uint64_t debt_ns;               /* hidden time not yet given back, as of slew_from */
	uint64_t slew_from;             /* host ns from which the debt is being given back */
	struct clock_stall_stats stall;
};

/* Initialised in place and never copied: `host` points into the clock itself. */
struct clock {
	bool manual;
	uint64_t manual_ns;             /* manual: the current time */
	bool paused;
	uint64_t paused_at;
	struct timer *timers;           /* armed timers, soonest first */
	struct clock_host host_state;
	struct clock_host *host;        /* &host_state */
};

#define CLOCK_NEVER UINT64_MAX

/* A clock following the host, starting at 0 now. */
void clock_init(struct clock *c);
/* A host-following clock reading the given sources (tests simulate stalls). */
void clock_init_sources(struct clock *c, uint64_t (*host_ns)(void *opaque),
                        uint64_t (*cpu_ns)(void *opaque), void *opaque);
/* A clock that moves only by clock_advance() (for tests). */
void clock_init_manual(struct clock *c);
/* Machine time now; a read may find (and hide) a host stall. */
uint64_t clock_now(const struct clock *c);
/* The loop is about to sleep (true) or has woken (false): idle gaps are not stalls. */
void clock_idle(struct clock *c, bool idle);
/* Hidden stall time not yet given back (how far machine time is behind). */
uint64_t clock_debt(const struct clock *c);
/* Pays up to `ns` of the debt at once (machine time jumps): for idle waits. Returns what was paid. */
uint64_t clock_repay(struct clock *c, uint64_t ns);
/* The host ns in which `ns` of machine time pass from now (less while repaying). */
uint64_t clock_host_wait(const struct clock *c, uint64_t ns);
void clock_advance(struct clock *c, uint64_t ns);     /* manual clocks only */
void clock_pause(struct clock *c);
void clock_resume(struct clock *c);
/* Restores a saved time (snapshots): now becomes `ns`. */
void clock_set(struct clock *c, uint64_t ns);
/* The host's monotonic clock in ns. */
uint64_t host_monotonic_ns(void);
/* The calling thread's CPU time in ns. */
uint64_t thread_cpu_ns(void);

void timer_init(struct timer *t, void (*fn)(void *opaque, uint64_t now), void *opaque,
                const char *name);
/* (Re)arms t for `deadline`; a deadline in the past fires at the next run. */
void timer_mod(struct clock *c, struct timer *t, uint64_t deadline);
void timer_del(struct clock *c, struct timer *t);
uint64_t timer_next_deadline(const struct clock *c);  /* CLOCK_NEVER if none */
/* Fires every timer due at `now`, soonest first; callbacks may re-arm. */
void timers_run(struct clock *c, uint64_t now);

#endif
