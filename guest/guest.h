/*
 * The guest process (build/vmd-guest): one machine, one thread, one
 * libevent loop. The loop runs the CPU in slices that end near the next
 * device timer, fires the timers, and polls the serial console, the
 * control channel from vmd and the GDB stub between slices. A halted CPU
 * sleeps in the event loop until a timer is due or I/O arrives.
 */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "guest/display.h"
#include "machine/pc.h"

struct event_base;
struct event;
struct serial;
struct control;
struct gdbstub;

enum guest_state { GUEST_RUNNING, GUEST_PAUSED };

struct guest_options {
	struct pc_config pc;
	const char *name;
	const char *serial;             /* "stdio", "fd:N", "unix:PATH" */
	int control_fd;                 /* -1: none */
	int gdb_port;                   /* 0: no stub */
	bool gdb_wait;
	bool no_reboot;
	const char *vnc;                /* --vnc "ADDR:PORT" or "unix:PATH", or NULL */
	const char *vnc_password_file;
	const char *vnc_web;            /* noVNC pages to serve, or NULL for the default */
	const char *trace_path;
	uint64_t trace_from, trace_to;  /* guest ns */
	int verbose;
};

struct guest {
	struct guest_options opt;
	struct pc *pc;
	struct event_base *base;
	struct event *wake;             /* ends a sleep at the next timer deadline */
	struct event *sigint, *sigterm;
	struct serial *serial;
	struct control *control;
	struct gdbstub *gdb;
	struct display_link *display;   /* with --vnc */
	struct display_hooks display_hooks;

	enum guest_state state;
	bool halted;                    /* the CPU executed HLT: sleep until woken */
	bool stopped_cpu;               /* HLT with interrupts off: only NMI or reset wakes it */
	bool debug_stopped;             /* the debugger holds the CPU */
	bool quit;
	int exit_status;

	/* Slice sizing: instructions per host ns, from recent full slices. */
	double ips_per_ns;
	uint64_t slices, sleeps;

	FILE *trace;
	bool tracing;
};

/* Sets everything up from the options; exit status 2 for bad configuration. */
int guest_init(struct guest *g, const struct guest_options *opt, char *err, size_t errlen);
/* Runs until the machine stops; returns the process exit status. */
int guest_run(struct guest *g);
void guest_destroy(struct guest *g);

/* Control actions, shared by the control channel and signals. */
void guest_pause(struct guest *g);
void guest_resume(struct guest *g);
int guest_reset(struct guest *g);
/* Ends the loop: the process exits with `status` after telling vmd `reason`. */
void guest_stop(struct guest *g, int status, const char *reason, int code);
const char *guest_state_name(const struct guest *g);
/* Machine state to and from a file (between slices); -1 with a message. */
int guest_snapshot_save(struct guest *g, const char *path, char *err, size_t errlen);
int guest_snapshot_load(struct guest *g, const char *path, char *err, size_t errlen);

/* The debugger holds (or releases) the CPU; machine time stands still meanwhile. */
void guest_debug_hold(struct guest *g, bool hold);

/* The CPU should look at its inputs again (I/O raised an interrupt). */
void guest_kick(struct guest *g);

#endif
