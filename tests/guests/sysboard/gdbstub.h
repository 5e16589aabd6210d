/*
 * A minimal GDB remote-protocol stub for the test board, enough for
 * tools/lockstep and for poking at a kernel with gdb: registers (the 16
 * i386 core registers), memory through the current paging, single step,
 * continue, software breakpoints (Z0), kill/detach.
 */
#ifndef SYSBOARD_GDBSTUB_H
#define SYSBOARD_GDBSTUB_H

#include <stdbool.h>
#include <stdint.h>

struct cpu;

/* What the stub needs from the board. */
struct gdbstub_ops {
	void *opaque;
	/* Run: one instruction if step, else until a breakpoint or the end.
	 * Returns true while the machine is alive; false once it exited
	 * (*code set to its exit status). */
	bool (*run)(void *opaque, bool step, int *code);
};

/* Listens on 127.0.0.1:port, serves one debugger until it detaches or
 * kills, or the machine exits. Returns the machine's exit code, or -1 on a
 * socket error / kill, or -2 if the debugger detached with the machine alive. */
int gdbstub_serve(struct cpu *cpu, uint16_t port, const struct gdbstub_ops *ops);

#endif
