#include "guest/guest.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "guest/control.h"
#include "guest/gdbstub.h"
#include "guest/serial.h"
#include "lib/log.h"
#include "lib/sbuf.h"
#include "machine/bios.h"

/*
 * Slices are bounded in host time so I/O is polled often enough (console
 * echo, the control channel) even when no timer is due soon.
 */
#define SLICE_MAX_NS 1000000ull         /* 1 ms */
#define SLICE_MIN_INSNS 1000ull
#define SLEEP_MAX_NS 1000000000ull      /* wake at least once a second while idle */
#define IPS_INITIAL 0.05                /* 50 MIPS until measured */

static void wake_cb(evutil_socket_t fd, short what, void *opaque)
{
	/* Nothing to do: returning from the loop is the point. */
}

static void signal_cb(evutil_socket_t sig, short what, void *opaque)
{
	struct guest *g = opaque;

	log_info("signal %d: stopping", (int)sig);
	guest_stop(g, 0, "quit", 0);
}

static void serial_wake(void *opaque)
{
	guest_kick(opaque);
}

static void display_kick(void *opaque)
{
	guest_kick(opaque);
}

static void display_flush_tlb(void *opaque)
{
	struct guest *g = opaque;
	cpu_flush_tlb(g->pc->cpu);
}

const char *guest_state_name(const struct guest *g)
{
	if (g->state == GUEST_PAUSED || g->debug_stopped)
		return "paused";
	/* "halted" is the CPU stopped for good, not the idle HLT between interrupts. */
	return g->stopped_cpu ? "halted" : "running";
}

void guest_kick(struct guest *g)
{
	/* The next loop turn runs the CPU again; a halted CPU takes the interrupt. */
	g->halted = false;
}

static void notify_state(struct guest *g, const char *why)
{
	if (g->control)
		control_notify_state(g->control, guest_state_name(g), why);
}

/* Machine time runs only while the machine does: not paused, not held by the debugger. */
static void update_clock(struct guest *g)
{
	if (g->state == GUEST_RUNNING && !g->debug_stopped)
		clock_resume(&g->pc->clock);
	else
		clock_pause(&g->pc->clock);
}

void guest_pause(struct guest *g)
{
	if (g->state == GUEST_PAUSED)
		return;
	g->state = GUEST_PAUSED;
	update_clock(g);
	notify_state(g, NULL);
}

void guest_resume(struct guest *g)
{
	if (g->state == GUEST_RUNNING)
		return;
	g->state = GUEST_RUNNING;
	update_clock(g);
	guest_kick(g);
	notify_state(g, NULL);
}

void guest_debug_hold(struct guest *g, bool hold)
{
	if (g->debug_stopped == hold)
		return;
	g->debug_stopped = hold;
	update_clock(g);
	if (!hold)
		guest_kick(g);
}

static int reset_machine(struct guest *g, const char *why)
{
	char err[512];

	if (pc_reset(g->pc, err, sizeof(err)) != 0) {
		log_err("reset: %s", err);
		guest_stop(g, 1, "error", 1);
		return -1;
	}
	g->halted = false;
	g->stopped_cpu = false;
	notify_state(g, why);
	return 0;
}

int guest_reset(struct guest *g)
{
	return reset_machine(g, "reset");
}

void guest_stop(struct guest *g, int status, const char *reason, int code)
{
	if (g->quit)
		return;
	g->quit = true;
	g->exit_status = status;
	log_info("machine stopped: %s (exit status %d)", reason, status);
	/* vmd learns why only when the guest itself ended the machine. */
	if (g->control && strcmp(reason, "quit") != 0 && strcmp(reason, "error") != 0)
		control_notify_shutdown(g->control, reason, code);
	gdbstub_exited(g->gdb, status);
	event_base_loopbreak(g->base);
}

/* What the board asked for during the last slice. */
static void handle_request(struct guest *g)
{
	struct pc *pc = g->pc;
	const char *reason = pc->request_reason ? pc->request_reason : "reset";

	switch (pc->request) {
	case PC_REQ_NONE:
		return;
	case PC_REQ_POWEROFF:
		guest_stop(g, 0, "poweroff", 0);
		return;
	case PC_REQ_DEBUG_EXIT:
		guest_stop(g, pc->exit_status, "debug-exit", pc->exit_status);
		return;
	case PC_REQ_RESET:
		if (g->opt.no_reboot) {
			guest_stop(g, 0, reason, 0);
			return;
		}
		/* A guest in a reset loop must not flood the log: the first few, then now and then. */
		if (pc->resets < 10 || pc->resets % 1000 == 0)
			log_info("guest %s: resetting the machine (reset %llu)", reason,
			         (unsigned long long)pc->resets);
		reset_machine(g, reason);
		return;
	}
}

/* Turns the instruction trace on and off as guest time crosses the window. */
static void update_trace(struct guest *g, uint64_t now)
{
	bool want;

	if (!g->trace)
		return;
	want = now >= g->opt.trace_from && now < g->opt.trace_to;
	if (want != g->tracing) {
		cpu_set_trace(g->pc->cpu, g->trace, want);
		g->tracing = want;
		if (!want)
			fflush(g->trace);
	}
}

/* Runs the CPU up to the next timer deadline (at most SLICE_MAX_NS) and fires timers. */
static void run_slice(struct guest *g)
{
	struct pc *pc = g->pc;
	uint64_t now = clock_now(&pc->clock), deadline, window, budget, insns0, t0, dt, done;
	enum cpu_exit why;

	deadline = timer_next_deadline(&pc->clock);
	if (deadline <= now) {
		timers_run(&pc->clock, now);
		deadline = timer_next_deadline(&pc->clock);
	}
	window = deadline > now ? deadline - now : 0;
	if (window > SLICE_MAX_NS)
		window = SLICE_MAX_NS;
	update_trace(g, now);
	/* The trace window's edges end slices too, so a short window is not stepped over. */
	if (g->trace) {
		uint64_t edge = g->tracing ? g->opt.trace_to : g->opt.trace_from;
		if (edge > now && edge - now < window)
			window = edge - now;
	}
	/* While the clock repays hidden stall time, machine time outruns the host's. */
	window = clock_host_wait(&pc->clock, window);
	budget = (uint64_t)((double)window * g->ips_per_ns);
	if (budget < SLICE_MIN_INSNS)
		budget = SLICE_MIN_INSNS;

	insns0 = cpu_insn_count(pc->cpu);
	t0 = host_monotonic_ns();
	why = pc_run(pc, budget);
	dt = host_monotonic_ns() - t0;
	done = cpu_insn_count(pc->cpu) - insns0;
	g->slices++;
	/* Only slices that used their whole budget measure the CPU's speed. */
	if (why == CPU_EXIT_BUDGET && dt > 20000 && done > 0) {
		double rate = (double)done / (double)dt;
		g->ips_per_ns = 0.75 * g->ips_per_ns + 0.25 * rate;
	}
	serial_push(g->serial);
	/*
	 * One timers_run per slice: a timer that fell far behind (the process
	 * was descheduled) fires once and re-phases itself, not once per
	 * missed period.
	 */
	timers_run(&pc->clock, clock_now(&pc->clock));

	switch (why) {
	case CPU_EXIT_HALT: {
		struct cpu_regs r;
		g->halted = true;
		cpu_get_regs(pc->cpu, &r);
		if (!(r.eflags & 0x200) && !g->stopped_cpu) {
			g->stopped_cpu = true;
			notify_state(g, "hlt with interrupts disabled");
		}
		break;
	}
	case CPU_EXIT_DEBUG:
		/* A step that ended the machine (debug-exit, power-off) is
		 * reported as an exit by handle_request, not as a stop. */
		if (g->gdb && pc->request == PC_REQ_NONE)
			gdbstub_stopped(g->gdb);
		break;
	default:
		break;
	}
	handle_request(g);
}

/* Sleeps in the event loop until the next timer deadline or I/O. */
static void sleep_until_event(struct guest *g)
{
	uint64_t now = clock_now(&g->pc->clock), wait = SLEEP_MAX_NS;
	struct timeval tv;

	if (g->state == GUEST_RUNNING && !g->debug_stopped) {
		uint64_t deadline = timer_next_deadline(&g->pc->clock);
		if (deadline != CLOCK_NEVER)
			wait = deadline > now ? deadline - now : 0;
		if (wait > SLEEP_MAX_NS)
			wait = SLEEP_MAX_NS;
		/* Hidden stall time is repaid from the idle wait first: the halted
		 * guest only sees its next timer come sooner. */
		wait -= clock_repay(&g->pc->clock, wait);
		wait = clock_host_wait(&g->pc->clock, wait);
	}
	if (wait == 0)
		return;
	tv.tv_sec = (time_t)(wait / 1000000000ull);
	tv.tv_usec = (suseconds_t)((wait % 1000000000ull + 999) / 1000);
	if (evtimer_add(g->wake, &tv) != 0) {
		/* Without the wake-up timer the sleep could last forever: do not sleep. */
		log_warn("cannot arm the wake-up timer; polling instead");
		event_base_loop(g->base, EVLOOP_NONBLOCK);
		return;
	}
	g->sleeps++;
	/* A sleep is time the guest chose to let pass, not a host stall to hide. */
	clock_idle(&g->pc->clock, true);
	if (event_base_loop(g->base, EVLOOP_ONCE) < 0)
		log_warn("event loop failed while sleeping");
	clock_idle(&g->pc->clock, false);
	evtimer_del(g->wake);
}

#define SNAPSHOT_MAGIC "VMDSNAP1"

int guest_snapshot_save(struct guest *g, const char *path, char *err, size_t errlen)
{
	struct sbuf sb;
	char tmp[4096];
	FILE *f;
	int rc = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "snapshot path too long");
		return -1;
	}
	sbuf_init(&sb);
	pc_save(g->pc, &sb);
	if (sb.error) {
		snprintf(err, errlen, "cannot save the machine: %s", sb.why);
		sbuf_free(&sb);
		return -1;
	}
	/* Written aside and renamed: a failed save never leaves half a snapshot. */
	f = fopen(tmp, "wb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
	} else if (fwrite(SNAPSHOT_MAGIC, 1, 8, f) != 8 || fwrite(sb.data, 1, sb.len, f) != sb.len) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
	} else if (fclose(f) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
	} else {
		rc = 0;
	}
	sbuf_free(&sb);
	return rc;
}

int guest_snapshot_load(struct guest *g, const char *path, char *err, size_t errlen)
{
	struct sbuf sb;
	uint8_t *data;
	size_t size;
	int rc;

	/* A snapshot holds at most all of RAM plus the devices. */
	if (image_read_file(path, g->pc->cfg.ram_size + (64u << 20), &data, &size, err, errlen) != 0)
		return -1;
	if (size < 8 || memcmp(data, SNAPSHOT_MAGIC, 8) != 0) {
		snprintf(err, errlen, "%s: not a vmd snapshot", path);
		free(data);
		return -1;
	}
	sbuf_init_read(&sb, data + 8, size - 8);
	rc = pc_load(g->pc, &sb);
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", path, sb.why);
	else if (sb.pos != sb.len)
		log_warn("%s: %zu bytes after the last section ignored", path, sb.len - sb.pos);
	free(data);
	if (rc == 0) {
		g->halted = false;
		g->stopped_cpu = false;
		/* The loaded clock must not run while the machine is paused. */
		if (g->state != GUEST_RUNNING || g->debug_stopped)
			clock_pause(&g->pc->clock);
	}
	return rc;
}

int guest_run(struct guest *g)
{
	while (!g->quit) {
		bool runnable = g->state == GUEST_RUNNING && !g->debug_stopped;

		if (runnable && !g->halted) {
			run_slice(g);
			/* Poll I/O without blocking between slices. */
			if (!g->quit && event_base_loop(g->base, EVLOOP_NONBLOCK) < 0) {
				log_err("event loop failed");
				guest_stop(g, 1, "error", 1);
			}
			continue;
		}
		sleep_until_event(g);
		if (g->quit)
			break;
		if (g->state == GUEST_RUNNING && !g->debug_stopped) {
			timers_run(&g->pc->clock, clock_now(&g->pc->clock));
			handle_request(g);
			/* Timers or I/O may have raised an interrupt: let the CPU look. */
			g->halted = false;
		}
	}
	if (g->serial)
		serial_flush(g->serial, 500);
	if (g->control)
		control_flush(g->control, 1000);
	testdev_flush(&g->pc->testdev);
	if (g->serial && serial_dropped(g->serial))
		log_warn("serial: %llu bytes of console output were dropped (reader too slow)",
		         (unsigned long long)serial_dropped(g->serial));
	{
		const struct i8254_stats *st = &g->pc->pit.stats;
		const struct clock_stall_stats *cs = &g->pc->clock.host->stall;

		if (cs->stalls)
			log_info("clock: %llu host stalls (longest %llu ms), %llu ms hidden from the guest "
			         "and given back, %llu ms let through, %llu ms still owed",
			         (unsigned long long)cs->stalls,
			         (unsigned long long)(cs->longest_ns / 1000000),
			         (unsigned long long)(cs->hidden_ns / 1000000),
			         (unsigned long long)(cs->released_ns / 1000000),
			         (unsigned long long)(clock_debt(&g->pc->clock) / 1000000));
		if (st->missed)
			log_info("pit: %llu timer ticks on time, %llu missed while the host ran late, "
			         "%llu re-injected, %llu dropped", (unsigned long long)st->edges,
			         (unsigned long long)st->missed, (unsigned long long)st->reinjected,
			         (unsigned long long)st->dropped);
	}
	log_debug("%llu slices, %llu sleeps, %llu instructions", (unsigned long long)g->slices,
	          (unsigned long long)g->sleeps, (unsigned long long)cpu_insn_count(g->pc->cpu));
	return g->exit_status;
}

int guest_init(struct guest *g, const struct guest_options *opt, char *err, size_t errlen)
{
	struct event_config *ec;
	struct pc_config pcfg;

	memset(g, 0, sizeof(*g));
	g->opt = *opt;
	g->ips_per_ns = IPS_INITIAL;
	g->exit_status = 0;
	/* Precise timers: sleeps end at the deadline, not at the next millisecond. */
	ec = event_config_new();
	if (ec)
		event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
	g->base = ec ? event_base_new_with_config(ec) : NULL;
	if (ec)
		event_config_free(ec);
	if (!g->base) {
		snprintf(err, errlen, "cannot create the event loop");
		return 1;
	}
	g->wake = evtimer_new(g->base, wake_cb, g);
	g->sigint = evsignal_new(g->base, SIGINT, signal_cb, g);
	g->sigterm = evsignal_new(g->base, SIGTERM, signal_cb, g);
	if (!g->wake || !g->sigint || !g->sigterm || evsignal_add(g->sigint, NULL) != 0 ||
	    evsignal_add(g->sigterm, NULL) != 0) {
		snprintf(err, errlen, "cannot set up events");
		return 1;
	}
	g->serial = serial_new(g->base, opt->serial ? opt->serial : "stdio", err, errlen);
	if (!g->serial)
		return 2;
	if (opt->trace_path) {
		g->trace = fopen(opt->trace_path, "w");
		if (!g->trace) {
			snprintf(err, errlen, "%s: %s", opt->trace_path, strerror(errno));
			return 2;
		}
	}
	pcfg = opt->pc;
	pcfg.com1 = serial_backend(g->serial);
	g->pc = pc_new(&pcfg, err, errlen);
	if (!g->pc)
		return 2;
	serial_attach(g->serial, &g->pc->com1, serial_wake, g);
	g->display_hooks = (struct display_hooks){
		.vga = &g->pc->vga, .kbd = &g->pc->kbc.kbd, .mouse = &g->pc->kbc.mouse,
		.flush_tlb = display_flush_tlb, .kick = display_kick, .opaque = g,
	};
	if (opt->vnc) {
		struct display_config dc = {
			.listen = opt->vnc, .password_file = opt->vnc_password_file,
			.web_dir = opt->vnc_web, .name = opt->name ? opt->name : "vmd",
		};
		g->display = display_link_start(g->base, &dc, &g->display_hooks, err, errlen);
		if (!g->display)
			return 2;
	}
	if (opt->control_fd >= 0) {
		g->control = control_new(g, opt->control_fd, err, errlen);
		if (!g->control)
			return 2;
	}
	if (opt->gdb_port) {
		g->gdb = gdbstub_new(g, opt->gdb_port, err, errlen);
		if (!g->gdb)
			return 2;
		if (opt->gdb_wait)
			guest_debug_hold(g, true);
	}
	g->state = GUEST_RUNNING;
	notify_state(g, "start");
	return 0;
}

void guest_destroy(struct guest *g)
{
	if (g->gdb)
		gdbstub_free(g->gdb);
	if (g->control)
		control_free(g->control);
	if (g->display)
		display_link_stop(g->display);
	if (g->pc)
		pc_free(g->pc);
	if (g->serial)
		serial_free(g->serial);
	if (g->trace)
		fclose(g->trace);
	if (g->wake)
		event_free(g->wake);
	if (g->sigint)
		event_free(g->sigint);
	if (g->sigterm)
		event_free(g->sigterm);
	if (g->base)
		event_base_free(g->base);
	memset(g, 0, sizeof(*g));
}
