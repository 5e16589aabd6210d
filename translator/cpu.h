/*
 * The public face of the CPU: an i686 (Pentium Pro/II class) emulated by
 * translation blocks. This header is all that machine/ and the guest
 * process may use; everything else in translator/ is private.
 *
 * The CPU reaches the rest of the PC only through struct cpu_bus: physical
 * memory pages, port I/O, MMIO and the interrupt controller's acknowledge.
 * It knows nothing of devices.
 */
#ifndef TRANSLATOR_CPU_H
#define TRANSLATOR_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf;
struct cpu;

/* Calls from the CPU into the machine. `opaque` is passed back unchanged. */
struct cpu_bus {
	void *opaque;
	/*
	 * Host pointer to the start of the 4 KiB physical page holding
	 * `paddr` (already masked by A20) if that page is RAM (or ROM, when
	 * !write), else NULL: the access then goes through mmio_read/write.
	 * A returned pointer stays valid until cpu_flush_tlb() is called.
	 */
	uint8_t *(*ram_page)(void *opaque, uint32_t paddr, bool write);
	uint32_t (*mmio_read)(void *opaque, uint32_t paddr, unsigned size);
	void (*mmio_write)(void *opaque, uint32_t paddr, uint32_t value, unsigned size);
	uint32_t (*io_in)(void *opaque, uint16_t port, unsigned size);
	void (*io_out)(void *opaque, uint16_t port, uint32_t value, unsigned size);
	/* INTA cycle: the vector of the interrupt being taken. */
	uint8_t (*intr_ack)(void *opaque);
	/* Machine time in nanoseconds; the TSC counts at cpu_config.tsc_hz of it. */
	uint64_t (*clock_ns)(void *opaque);
	/* The legacy FERR# output (x87 error with CR0.NE=0): the board routes it to IRQ13. */
	void (*ferr)(void *opaque, bool level);
};

struct cpu_config {
	uint64_t tsc_hz;        /* advertised TSC frequency, e.g. 1000000000 */
	bool fpu;               /* x87 present (advertised in CPUID) */
};

/* Why cpu_run() returned. */
enum cpu_exit {
	CPU_EXIT_BUDGET,        /* ran the instructions it was given */
	CPU_EXIT_HALT,          /* HLT with no interrupt to take: sleep until one */
	CPU_EXIT_REQUEST,       /* cpu_request_exit() was called (from I/O, say) */
	CPU_EXIT_SHUTDOWN,      /* triple fault: the machine must reset */
	CPU_EXIT_DEBUG,         /* breakpoint or single step hit (debugger) */
};

/* The architectural state, as a debugger, a test or a snapshot sees it. */
enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };
enum { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS, S_LDTR, S_TR };

struct cpu_seg {
	uint16_t sel;
	uint32_t base;
	uint32_t limit;         /* byte granular, already scaled by G */
	uint16_t attr;          /* descriptor bits 40-47 and 52-55: type,S,DPL,P,AVL,L,D/B,G */
};

struct cpu_regs {
	uint32_t gpr[8];        /* indexed by R_* */
	uint32_t eip;
	uint32_t eflags;
	struct cpu_seg seg[8];  /* indexed by S_*; LDTR and TR included */
	uint32_t gdtr_base, gdtr_limit;
	uint32_t idtr_base, idtr_limit;
	uint32_t cr0, cr2, cr3, cr4;
	uint32_t dr[8];
	uint64_t tsc_offset;    /* TSC = clock_ns * tsc_hz / 1e9 + tsc_offset */
	uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint32_t apic_base;
};

struct cpu *cpu_new(const struct cpu_config *cfg, const struct cpu_bus *bus);
void cpu_free(struct cpu *cpu);

/* Power-on / RESET state: real mode at F000:FFF0. */
void cpu_reset(struct cpu *cpu);
/* INIT-style start for direct kernel boot is done with cpu_set_regs(). */

/*
 * Runs until about `budget` instructions have executed or something in
 * enum cpu_exit happens. Interrupts are taken at instruction boundaries.
 */
enum cpu_exit cpu_run(struct cpu *cpu, uint64_t budget);
/* From a bus callback: return from cpu_run at the next instruction boundary. */
void cpu_request_exit(struct cpu *cpu);

/* The INTR line from the interrupt controller (level). */
void cpu_set_irq(struct cpu *cpu, bool level);
void cpu_nmi(struct cpu *cpu);
/* IGNNE# (a write to port 0xF0 on a PC): clears a pending legacy FERR#. */
void cpu_ignne(struct cpu *cpu);
/* The A20 gate: false masks physical address bit 20. */
void cpu_set_a20(struct cpu *cpu, bool enabled);

void cpu_get_regs(const struct cpu *cpu, struct cpu_regs *regs);
void cpu_set_regs(struct cpu *cpu, const struct cpu_regs *regs);

/*
 * Something other than the CPU (DMA, a loader, a debugger) wrote guest
 * physical memory: drop translations of that code.
 */
void cpu_phys_written(struct cpu *cpu, uint32_t paddr, uint32_t len);
/* The machine changed its memory map: forget every cached host pointer. */
void cpu_flush_tlb(struct cpu *cpu);

/* Debugger support: linear-address breakpoints and single step. */
int cpu_add_breakpoint(struct cpu *cpu, uint32_t linear);
int cpu_remove_breakpoint(struct cpu *cpu, uint32_t linear);
void cpu_set_single_step(struct cpu *cpu, bool on);
/* Reads guest memory through the current paging (for the GDB stub); -1 on fault. */
int cpu_read_linear(struct cpu *cpu, uint32_t linear, void *buf, size_t len);
int cpu_write_linear(struct cpu *cpu, uint32_t linear, const void *buf, size_t len);

/* Instruction and interrupt trace to a stream, for a range of guest time. */
void cpu_set_trace(struct cpu *cpu, void *stream /* FILE * */, bool on);

/* Counters for benchmarks and status. */
uint64_t cpu_insn_count(const struct cpu *cpu);

/* Snapshot of the complete CPU state, FPU included; only between cpu_run calls. */
void cpu_save(const struct cpu *cpu, struct sbuf *sb);
int cpu_load(struct cpu *cpu, struct sbuf *sb);

#endif
