/*
 * The emulated side of the differential CPU test: runs a case in our CPU
 * (through translator/cpu.h only) in a flat 32-bit protected-mode world
 * that mirrors a Linux user process: ring 3, flat CS/DS/ES/FS/GS/SS with
 * the host's selector numbers, the 64 KiB LDT data segment, IOPL 0,
 * paging off. Exceptions go through an IDT to ring-0 stubs that HLT; the
 * snippet ends at a HLT, which at ring 3 is #GP(0) at the end address:
 * that fault is the normal end. See README.md.
 */
#ifndef TESTS_DIFF_EMU_H
#define TESTS_DIFF_EMU_H

#include <stdbool.h>
#include <stdint.h>

#include "tests/diff/diff.h"

enum emu_status {
	EMU_OK,                 /* ended or faulted normally: result filled in */
	EMU_OUTSIDE,            /* touched memory or a port outside the map */
	EMU_SHUTDOWN,           /* triple fault */
	EMU_RUNAWAY,            /* did not reach the end within the budget */
	EMU_BAD_HALT,           /* stopped somewhere unexpected */
	EMU_CRASHED,            /* the process running the CPU died (see main.c) */
	EMU_HUNG,               /* cpu_run did not return */
};

struct emu;

/* NULL if the translator does not provide the CPU API yet; *missing then
 * names the first absent function. */
struct emu *emu_new(bool fresh_cpu_per_case, const char **missing);
void emu_free(struct emu *e);
/* *outside_addr: for EMU_OUTSIDE the address (0xFFFFxxxx: port xxxx), for
 * EMU_BAD_HALT the EIP it stopped at. */
enum emu_status emu_run(struct emu *e, const struct diff_case *c, struct diff_result *r,
                        uint32_t *outside_addr);
const char *emu_status_name(enum emu_status s);

#endif
