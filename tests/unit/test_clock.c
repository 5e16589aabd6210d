#include <stdlib.h>

#include "machine/clock.h"
#include "tests/unit/harness.h"

/* A simulated host: wall time and the thread's CPU time, moved by the test. */
struct host {
	uint64_t wall, cpu;
};

static uint64_t host_wall(void *opaque) { return ((struct host *)opaque)->wall; }
static uint64_t host_cpu(void *opaque) { return ((struct host *)opaque)->cpu; }

/* The process runs for ns: both clocks advance. */
static void run(struct host *h, uint64_t ns) { h->wall += ns; h->cpu += ns; }
/* The process is descheduled for ns: only wall time advances. */
static void stall(struct host *h, uint64_t ns) { h->wall += ns; }

#define MS 1000000ull
#define US 1000ull

static void follows_the_host(struct test *t)
{
	struct host h = { 5000 * MS, 77 * MS };
	struct clock c;

	clock_init_sources(&c, host_wall, host_cpu, &h);
	CHECK_EQ(t, clock_now(&c), 0);
	run(&h, 3 * MS);
	CHECK_EQ(t, clock_now(&c), 3 * MS);
	for (int i = 0; i < 1000; i++)
		run(&h, 10 * US);
	CHECK_EQ(t, clock_now(&c), 13 * MS);
	CHECK_EQ(t, c.host->stall.stalls, 0);
	CHECK_EQ(t, clock_debt(&c), 0);
}

/* A stall between two reads is not seen; the time is given back later at 2x. */
static void stall_hidden_then_given_back(struct test *t)
{
	struct host h = { 1000 * MS, 0 };
	struct clock c;
	uint64_t before, after;

	clock_init_sources(&c, host_wall, host_cpu, &h);
	run(&h, 10 * MS);
	before = clock_now(&c);
	CHECK_EQ(t, before, 10 * MS);
	stall(&h, 8 * MS);
	run(&h, 20 * US);
	after = clock_now(&c);
	/* Only the 20 us the process ran show. */
	CHECK_EQ(t, after - before, 20 * US);
	CHECK_EQ(t, c.host->stall.stalls, 1);
	CHECK_EQ(t, c.host->stall.hidden_ns, 8 * MS);
	CHECK_EQ(t, clock_debt(&c), 8 * MS);
	/* Machine time goes twice as fast until the 8 ms are back; a loop
	 * wanting 4 ms of machine time waits 2 ms. */
	CHECK_EQ(t, clock_host_wait(&c, 4 * MS), 2 * MS);
	CHECK_EQ(t, clock_host_wait(&c, 20 * MS), 12 * MS);
	run(&h, 2 * MS);
	CHECK_EQ(t, clock_now(&c) - after, 4 * MS);
	CHECK_EQ(t, clock_debt(&c), 6 * MS);
	run(&h, 10 * MS);
	CHECK_EQ(t, clock_now(&c) - after, 12 * MS + 8 * MS);
	CHECK_EQ(t, clock_host_wait(&c, 4 * MS), 4 * MS);
	CHECK_EQ(t, clock_debt(&c), 0);
	/* Caught up: machine time is the host's again. */
	CHECK_EQ(t, clock_now(&c), h.wall - 1000 * MS);
	run(&h, 1 * MS);
	CHECK_EQ(t, clock_now(&c), h.wall - 1000 * MS);
}

/* An idle wait repays at once: machine time jumps while the guest is halted. */
static void idle_wait_repays(struct test *t)
{
	struct host h = { 0, 0 };
	struct clock c;
	uint64_t t0;

	clock_init_sources(&c, host_wall, host_cpu, &h);
	run(&h, 1 * MS);
	stall(&h, 30 * MS);
	t0 = clock_now(&c);
	CHECK_EQ(t, t0, 1 * MS);
	CHECK_EQ(t, clock_repay(&c, 4 * MS), 4 * MS);       /* a 4 ms wait for a tick */
	CHECK_EQ(t, clock_now(&c), 5 * MS);
	CHECK_EQ(t, clock_debt(&c), 26 * MS);
	CHECK_EQ(t, clock_repay(&c, 100 * MS), 26 * MS);    /* never more than owed */
	CHECK_EQ(t, clock_now(&c), h.wall);
	CHECK_EQ(t, clock_repay(&c, 1 * MS), 0);
}

/* A gap the process spent running (no reads) is not a stall. */
static void busy_gap_is_not_a_stall(struct test *t)
{
	struct host h = { 0, 0 };
	struct clock c;
	uint64_t t0;

	clock_init_sources(&c, host_wall, host_cpu, &h);
	t0 = clock_now(&c);
	run(&h, 2 * MS);
	CHECK_EQ(t, clock_now(&c) - t0, 2 * MS);
	/* A stall and a run in one gap: only the stalled part is hidden. */
	stall(&h, 3 * MS);
	run(&h, 1 * MS);
	CHECK_EQ(t, clock_now(&c) - t0, 3 * MS);
	CHECK_EQ(t, clock_debt(&c), 3 * MS);
}

/* An idle sleep is real time passing; paused/set time owes nothing. */
static void idle_is_not_a_stall(struct test *t)
{
	struct host h = { 0, 0 };
	struct clock c;

	clock_init_sources(&c, host_wall, host_cpu, &h);
	run(&h, 1 * MS);
	CHECK_EQ(t, clock_now(&c), 1 * MS);
	clock_idle(&c, true);
	stall(&h, 40 * MS);             /* asleep in the event loop */
	CHECK_EQ(t, clock_now(&c), 41 * MS);    /* an I/O handler reads meanwhile */
	stall(&h, 9 * MS);
	clock_idle(&c, false);
	run(&h, 100 * US);
	CHECK_EQ(t, clock_now(&c), 50 * MS + 100 * US);
	CHECK_EQ(t, c.host->stall.stalls, 0);
	/* A pause keeps time still; resuming owes nothing. */
	clock_pause(&c);
	stall(&h, 500 * MS);
	clock_resume(&c);
	run(&h, 1 * MS);
	CHECK_EQ(t, clock_now(&c), 51 * MS + 100 * US);
	CHECK_EQ(t, clock_debt(&c), 0);
}

/* A debt beyond 1 s is let through as a jump; time never goes backwards. */
static void long_stall_bounded(struct test *t)
{
	struct host h = { 0, 0 };
	struct clock c;
	uint64_t t0, t1, prev;

	clock_init_sources(&c, host_wall, host_cpu, &h);
	run(&h, 1 * MS);
	t0 = clock_now(&c);
	stall(&h, 3000 * MS);
	t1 = clock_now(&c);
	CHECK_EQ(t, t1 - t0, 2000 * MS);
	CHECK_EQ(t, clock_debt(&c), 1000 * MS);
	CHECK_EQ(t, c.host->stall.released_ns, 2000 * MS);
	/* Many small stalls while owing: monotonic, debt stays bounded, paid back. */
	prev = t1;
	for (int i = 0; i < 3000; i++) {
		uint64_t now;

		run(&h, 300 * US);
		if (i % 3 == 0)
			stall(&h, 200 * US);
		now = clock_now(&c);
		CHECK(t, now >= prev);
		prev = now;
	}
	CHECK(t, clock_debt(&c) <= 1000 * MS);
	for (int i = 0; i < 2000; i++)
		run(&h, 1 * MS), (void)clock_now(&c);
	CHECK_EQ(t, clock_debt(&c), 0);
	CHECK_EQ(t, clock_now(&c), h.wall);
}

static void timers_on_a_stalled_clock(struct test *t)
{
	struct host h = { 0, 0 };
	struct clock c;
	struct timer tm;

	clock_init_sources(&c, host_wall, host_cpu, &h);
	timer_init(&tm, NULL, NULL, "t");
	/* A deadline 1 ms ahead is not reached by a 5 ms stall, only by running. */
	timer_mod(&c, &tm, clock_now(&c) + 1 * MS);
	stall(&h, 5 * MS);
	CHECK(t, clock_now(&c) < timer_next_deadline(&c));
	run(&h, 500 * US);              /* 2x: 500 us give 1 ms */
	CHECK(t, clock_now(&c) >= timer_next_deadline(&c));
	timer_del(&c, &tm);
}

/* Manual clocks (device tests) move only when told and never owe anything. */
static void manual_clock(struct test *t)
{
	struct clock c;

	clock_init_manual(&c);
	CHECK_EQ(t, clock_now(&c), 0);
	clock_advance(&c, 123);
	CHECK_EQ(t, clock_now(&c), 123);
	clock_idle(&c, true);
	clock_idle(&c, false);
	CHECK_EQ(t, clock_now(&c), 123);
	CHECK_EQ(t, clock_debt(&c), 0);
}

int main(int argc, char **argv)
{
	struct harness h;

	harness_init(&h, "clock", argc, argv);
	RUN(&h, follows_the_host);
	RUN(&h, stall_hidden_then_given_back);
	RUN(&h, idle_wait_repays);
	RUN(&h, busy_gap_is_not_a_stall);
	RUN(&h, idle_is_not_a_stall);
	RUN(&h, long_stall_bounded);
	RUN(&h, timers_on_a_stalled_clock);
	RUN(&h, manual_clock);
	return harness_done(&h);
}
