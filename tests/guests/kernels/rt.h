/*
 * The system-test kernels' runtime: console on port 0xE9, exit through
 * port 0xF4 (qemu isa-debug-exit, the test boards' exit port), descriptor
 * table helpers and a way to catch an expected exception.
 *
 * A kernel defines `void test_main(void)` and reports with CHECK(); the
 * runtime prints "ok NAME" or "FAIL NAME: detail" lines, then
 * "done: N ok, M failed" and exits with 0 (all ok) or 1.
 */
#ifndef KERNELS_RT_H
#define KERNELS_RT_H

#include <stdarg.h>
#include <stdint.h>
#include "rt_layout.h"

/* What the common trap entry pushes, lowest address first. */
struct frame {
	uint32_t edi, esi, ebp, esp0, ebx, edx, ecx, eax;
	uint32_t gs, fs, es, ds;
	uint32_t vector, err;
	uint32_t eip, cs, eflags;
	uint32_t esp, ss;                /* only from an outer ring or V86 */
	uint32_t v86_es, v86_ds, v86_fs, v86_gs;   /* only from V86 */
};

/* What a caught exception looked like. */
struct caught {
	int vector;                      /* -1: nothing was raised */
	uint32_t err, eip, cs, cr2;
};

extern volatile struct caught rt_caught;
/* Armed by TRY(): the next exception resumes at rt_resume instead of failing. */
extern volatile uint32_t rt_armed, rt_resume;

/*
 * TRY(insns, outputs, inputs, clobbers): runs the instructions once; if one
 * raises an exception, the handler records it in rt_caught and resumes
 * right after the block. Returns the vector, or -1.
 */
#define TRY(insns, ...) ({ \
	rt_caught.vector = -1; rt_armed = 1; \
	__asm__ volatile("movl $9f, rt_resume\n\t" insns "\n9:\n\t" __VA_ARGS__); \
	__asm__ volatile("" : : : "memory"); \
	rt_armed = 0; rt_caught.vector; })

typedef void (*trap_handler)(struct frame *f);
/* A kernel's own handler for one vector (NULL: back to the default). */
void rt_set_handler(int vec, trap_handler h);

void test_main(void);

void putch(char c);
void puts_(const char *s);
void printf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vprintf_(const char *fmt, va_list ap);
/* Reports one check: "ok NAME" or "FAIL NAME: detail". */
void check(int cond, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define CHECK_EQ(name, got, want) \
	check((uint32_t)(got) == (uint32_t)(want), (name), "%s = %#x, want %#x", #got, \
	      (uint32_t)(got), (uint32_t)(want))
_Noreturn void rt_exit(int code);

/* Descriptors. attr is the access byte | flags nibble << 8 (G, D/B). */
void gdt_set(int index, uint32_t base, uint32_t limit, uint16_t attr);
void idt_set_gate(int vec, uint16_t sel, uint32_t offset, uint8_t type_attr);
/* The runtime's own stub for vector `vec`, for re-pointing a gate at it. */
uint32_t rt_stub(int vec);
extern uint64_t rt_gdt[RT_NGDT];
extern uint64_t rt_idt[RT_NVEC];

#define ACC_PRESENT  0x80
#define ACC_DPL(n)   ((n) << 5)
#define ACC_CODE     0x1a           /* S=1, code, readable */
#define ACC_DATA     0x12           /* S=1, data, writable */
#define ACC_DATA_RO  0x10
#define ACC_EXPDOWN  0x04
#define FLAG_G       0x800
#define FLAG_DB      0x400
#define GATE_INT32   0x8e           /* present, DPL 0 */
#define GATE_TRAP32  0x8f
#define GATE_TASK    0x85
#define GATE_CALL32  0x8c

/* The runtime's TSS (selector SEL_TSS), loaded by rt_start. */
struct tss {
	uint16_t link, r0;
	uint32_t esp0; uint16_t ss0, r1;
	uint32_t esp1; uint16_t ss1, r2;
	uint32_t esp2; uint16_t ss2, r3;
	uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint16_t es, r4, cs, r5, ss, r6, ds, r7, fs, r8, gs, r9, ldt, r10;
	uint16_t trap, iomap;
} __attribute__((packed));
extern struct tss rt_tss;

/*
 * Like TRY, with CLEANUP instructions run after the resume point either
 * way (to restore a segment register the block changed, say).
 */
#define TRY_CLEANUP(insns, cleanup, ...) ({ \
	rt_caught.vector = -1; rt_armed = 1; \
	__asm__ volatile("movl $9f, rt_resume\n\t" insns "\n9:\n\t" cleanup "\n\t" __VA_ARGS__); \
	__asm__ volatile("" : : : "memory"); \
	rt_armed = 0; rt_caught.vector; })
#define RESTORE_DS "movw $0x10, %%ax\n\tmovw %%ax, %%ds\n\tmovw %%ax, %%es\n\t"

/*
 * Paging: a page directory at 4 MiB and two page tables identity-mapping
 * 0-8 MiB as user, writable, present (so ring-3 code runs anywhere).
 * rt_paging_on() fills them and sets CR3 and CR0.PG; rt_pte() is the PTE of
 * a linear address below 8 MiB.
 */
#define RT_PD_ADDR 0x400000u
#define PTE_P 0x001u
#define PTE_W 0x002u
#define PTE_U 0x004u
#define PTE_A 0x020u
#define PTE_D 0x040u
#define PDE_PS 0x080u
#define PTE_G 0x100u
void rt_paging_on(void);
void rt_paging_off(void);
volatile uint32_t *rt_pte(uint32_t linear);
volatile uint32_t *rt_pde(uint32_t linear);

/*
 * Runs fn in ring 3 (CS 0x2b, SS/DS 0x33) on the user stack `ustack`
 * until it executes `int $0x30`; returns the EAX it had then. Ring-3 code
 * must not do port I/O (IOPL 0): it leaves its results in memory.
 */
uint32_t rt_ring3(void (*fn)(void), uint32_t ustack);
#define RT_RING3_EXIT_VEC 0x30
extern uint8_t rt_ustack_top[];

static inline uint32_t read_eflags(void) { uint32_t v; __asm__ volatile("pushfl; popl %0" : "=r"(v)); return v; }
static inline void wrmsr(uint32_t msr, uint64_t v) { __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))); }
static inline uint64_t rdmsr(uint32_t msr) { uint32_t lo, hi; __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr)); return lo | (uint64_t)hi << 32; }
static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{ __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0)); }

/* Mode switches in start.S. */
uint32_t rt_visit_real_mode(uint32_t seg, uint32_t off);
extern uint32_t rt_real_entries, rt_multiboot_magic, rt_rm_value;
extern uint16_t rt_rm_sp, rt_rm_pushpop;
extern uint8_t stack_top[];

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t read_cr0(void) { uint32_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint32_t read_cr2(void) { uint32_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint32_t read_cr3(void) { uint32_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint32_t read_cr4(void) { uint32_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(uint32_t v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static inline void write_cr3(uint32_t v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline void write_cr4(uint32_t v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }
static inline void invlpg(uint32_t a) { __asm__ volatile("invlpg (%0)" : : "r"(a) : "memory"); }

void *memset(void *d, int c, unsigned n);
void *memcpy(void *d, const void *s, unsigned n);

#endif
