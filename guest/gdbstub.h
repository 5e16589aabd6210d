/*
 * A GDB remote-protocol stub on 127.0.0.1:PORT, like QEMU's -gdb: one
 * debugger at a time, non-blocking inside the event loop. It speaks what
 * gdb needs for an i386 target: qSupported, ?, g/G and p/P with the i386
 * register layout (eax..edi, eip, eflags, cs ss ds es fs gs), m/M through
 * the CPU's current paging, Z0/z0 (and Z1/z1) breakpoints, s, c, Ctrl-C,
 * k and D.
 */
#ifndef GUEST_GDBSTUB_H
#define GUEST_GDBSTUB_H

#include <stddef.h>

struct guest;
struct gdbstub;

struct gdbstub *gdbstub_new(struct guest *g, int port, char *err, size_t errlen);
/* The CPU stopped at a breakpoint or after a single step. */
void gdbstub_stopped(struct gdbstub *s);
/* The machine stopped for good: report the exit status to an attached debugger. */
void gdbstub_exited(struct gdbstub *s, int status);
void gdbstub_free(struct gdbstub *s);

#endif
