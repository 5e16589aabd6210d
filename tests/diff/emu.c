/*
 * Runs differential test cases in our CPU. The machine is tiny: three
 * RAM regions (system tables, the data block, the code page) served by
 * ram_page(); everything else is "outside" and stops the run, because a
 * native process would have faulted there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/diff/emu.h"
#include "translator/cpu.h"

/*
 * Weak: the driver must link (and say SKIP) while the translator is still
 * being written. mk/diff.mk pulls in the members that define them.
 */
#pragma weak cpu_new
#pragma weak cpu_free
#pragma weak cpu_reset
#pragma weak cpu_run
#pragma weak cpu_get_regs
#pragma weak cpu_set_regs
#pragma weak cpu_phys_written
#pragma weak cpu_request_exit
#pragma weak cpu_flush_tlb

/* System area (physical = linear, paging off). */
#define SYS_BASE   0x1000u
#define SYS_SIZE   0x8000u
#define GDT_ADDR   0x1000u
#define LDT_ADDR   0x1100u
#define TSS_ADDR   0x1200u
#define IDT_ADDR   0x2000u
#define STUB_ADDR  0x3000u      /* 256 stubs of 8 bytes: HLT; JMP back */
#define STACK0_TOP 0x5000u
/* Paging (DIFF_F_PAGING cases): identity maps of the three regions. */
#define PD_ADDR    0x5000u
#define PT_SYS     0x6000u      /* 0x00000000-0x003FFFFF: supervisor */
#define PT_DATA    0x7000u      /* 0x20000000-: the data block, user */
#define PT_CODE    0x8000u      /* 0x30000000-: the code page, user */

#define SEL_CODE0  0x08u
#define SEL_DATA0  0x10u
#define SEL_TSS    0x18u
#define SEL_LDT    0x30u
#define GDT_ENTRIES 7
#define LDT_LIMIT  23           /* three entries, as the native runner's */

#define CODE_PAGE  4096u
#define RUN_BUDGET 20000u
#define RUN_ROUNDS 10u

struct emu {
	struct cpu *cpu;
	bool fresh;
	uint8_t *sys, *data, *code;
	uint8_t *initial, *pristine;
	bool outside;
	uint32_t outside_addr;
};

static uint8_t *ram_page(void *opaque, uint32_t paddr, bool write)
{
	struct emu *e = opaque;
	uint32_t page = paddr & ~0xFFFu;
	(void)write;
	if (page - SYS_BASE < SYS_SIZE)
		return e->sys + (page - SYS_BASE);
	if (page - DIFF_DATA_ADDR < DIFF_DATA_SIZE)
		return e->data + (page - DIFF_DATA_ADDR);
	if (page == DIFF_CODE_ADDR)
		return e->code;
	return NULL;
}

static void outside(struct emu *e, uint32_t addr)
{
	if (!e->outside) {
		e->outside = true;
		e->outside_addr = addr;
	}
	cpu_request_exit(e->cpu);
}

static uint32_t mmio_read(void *opaque, uint32_t paddr, unsigned size)
{
	(void)size;
	outside(opaque, paddr);
	return 0xFFFFFFFFu;
}

static void mmio_write(void *opaque, uint32_t paddr, uint32_t value, unsigned size)
{
	(void)value; (void)size;
	outside(opaque, paddr);
}

/* Ring 3 with IOPL 0 and no I/O bitmap: port accesses must #GP first. */
static uint32_t io_in(void *opaque, uint16_t port, unsigned size)
{
	(void)size;
	outside(opaque, 0xFFFF0000u | port);
	return 0xFFFFFFFFu;
}

static void io_out(void *opaque, uint16_t port, uint32_t value, unsigned size)
{
	(void)value; (void)size;
	outside(opaque, 0xFFFF0000u | port);
}

static uint8_t intr_ack(void *opaque) { (void)opaque; return 0; }
static uint64_t clock_ns(void *opaque) { (void)opaque; return 0; }
static void ferr(void *opaque, bool level) { (void)opaque; (void)level; }

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_desc(uint8_t *at, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	put32(at, (limit & 0xFFFF) | (base & 0xFFFF) << 16);
	put32(at + 4, ((base >> 16) & 0xFF) | (uint32_t)access << 8 | (limit & 0xF0000) |
	              (uint32_t)(flags & 0xF) << 20 | (base & 0xFF000000u));
}

static uint8_t *sys_at(struct emu *e, uint32_t addr) { return e->sys + (addr - SYS_BASE); }

/* GDT, LDT, TSS, IDT and the handler stubs, rebuilt for every case. */
static void build_system(struct emu *e)
{
	memset(e->sys, 0, SYS_SIZE);
	uint8_t *gdt = sys_at(e, GDT_ADDR);
	put_desc(gdt + SEL_CODE0, 0, 0xFFFFF, 0x9B, 0xC);
	put_desc(gdt + SEL_DATA0, 0, 0xFFFFF, 0x93, 0xC);
	put_desc(gdt + SEL_TSS, TSS_ADDR, 0x67, 0x8B, 0);          /* busy: TR holds it */
	put_desc(gdt + (DIFF_SEL_CODE3 & ~7u), 0, 0xFFFFF, 0xFB, 0xC);
	put_desc(gdt + (DIFF_SEL_DATA3 & ~7u), 0, 0xFFFFF, 0xF3, 0xC);
	put_desc(gdt + SEL_LDT, LDT_ADDR, LDT_LIMIT, 0x82, 0);
	/* As Linux's modify_ldt builds them: byte granular, AVL set; the
	 * data segment 32-bit (B), the code segment 16-bit. */
	put_desc(sys_at(e, LDT_ADDR), DIFF_DATA_ADDR, DIFF_DATA_SIZE - 1, 0xF3, 0x5);
	put_desc(sys_at(e, LDT_ADDR + 8), DIFF_CODE_ADDR, 0xFFFF, 0xFB, 0x1);
	put_desc(sys_at(e, LDT_ADDR + 16), DIFF_DATA_ADDR, 0xFFFFF, 0xF3, 0xD);     /* G D AVL */

	uint8_t *tss = sys_at(e, TSS_ADDR);
	put32(tss + 4, STACK0_TOP);
	put32(tss + 8, SEL_DATA0);
	put32(tss + 0x64, 0x68u << 16);         /* I/O map base past the limit */

	/* Page tables, used when a case turns paging on. Everything not
	 * mapped here is not present: a #PF, as in the native process. */
	put32(sys_at(e, PD_ADDR + (0u >> 22) * 4), PT_SYS | 7);
	put32(sys_at(e, PD_ADDR + (DIFF_DATA_ADDR >> 22) * 4), PT_DATA | 7);
	put32(sys_at(e, PD_ADDR + (DIFF_CODE_ADDR >> 22) * 4), PT_CODE | 7);
	for (uint32_t a = SYS_BASE; a < SYS_BASE + SYS_SIZE; a += 4096)
		put32(sys_at(e, PT_SYS + (a >> 12) * 4), a | 3);
	for (uint32_t a = 0; a < DIFF_DATA_SIZE; a += 4096)
		put32(sys_at(e, PT_DATA + (a >> 12) * 4), (DIFF_DATA_ADDR + a) | 7);
	put32(sys_at(e, PT_CODE), DIFF_CODE_ADDR | 7);

	for (uint32_t v = 0; v < 256; v++) {
		uint32_t stub = STUB_ADDR + v * 8;
		uint8_t *s = sys_at(e, stub);
		s[0] = 0xF4;                    /* hlt */
		s[1] = 0xEB; s[2] = 0xFD;       /* jmp back to the hlt */
		/* #BP and #OF may be raised from ring 3 by INT3/INTO, as on Linux. */
		uint32_t dpl = (v == 3 || v == 4) ? 3 : 0;
		uint8_t *gate = sys_at(e, IDT_ADDR + v * 8);
		put32(gate, (stub & 0xFFFF) | SEL_CODE0 << 16);
		put32(gate + 4, (stub & 0xFFFF0000u) | 0x8000u | dpl << 13 | 0xEu << 8);
	}
}

struct emu *emu_new(bool fresh, const char **missing)
{
	const struct { const char *name; bool present; } api[] = {
		{ "cpu_new", cpu_new != NULL }, { "cpu_free", cpu_free != NULL },
		{ "cpu_reset", cpu_reset != NULL }, { "cpu_run", cpu_run != NULL },
		{ "cpu_get_regs", cpu_get_regs != NULL }, { "cpu_set_regs", cpu_set_regs != NULL },
		{ "cpu_phys_written", cpu_phys_written != NULL },
		{ "cpu_request_exit", cpu_request_exit != NULL },
	};
	for (size_t i = 0; i < sizeof api / sizeof api[0]; i++) {
		if (!api[i].present) {
			*missing = api[i].name;
			return NULL;
		}
	}
	struct emu *e = calloc(1, sizeof *e);
	if (!e) {
		*missing = "memory";
		return NULL;
	}
	e->fresh = fresh;
	e->sys = aligned_alloc(4096, SYS_SIZE);
	e->data = aligned_alloc(4096, DIFF_DATA_SIZE);
	e->code = aligned_alloc(4096, CODE_PAGE);
	e->initial = malloc(DIFF_DATA_SIZE);
	e->pristine = malloc(DIFF_DATA_SIZE);
	if (!e->sys || !e->data || !e->code || !e->initial || !e->pristine) {
		emu_free(e);
		*missing = "memory";
		return NULL;
	}
	diff_fill_data(e->pristine);
	memcpy(e->initial, e->pristine, DIFF_DATA_SIZE);
	return e;
}

void emu_free(struct emu *e)
{
	if (!e)
		return;
	if (e->cpu)
		cpu_free(e->cpu);
	free(e->sys);
	free(e->data);
	free(e->code);
	free(e->initial);
	free(e->pristine);
	free(e);
}

static struct cpu *make_cpu(struct emu *e)
{
	struct cpu_bus bus = {
		.opaque = e, .ram_page = ram_page, .mmio_read = mmio_read,
		.mmio_write = mmio_write, .io_in = io_in, .io_out = io_out,
		.intr_ack = intr_ack, .clock_ns = clock_ns, .ferr = ferr,
	};
	struct cpu_config cfg = { .tsc_hz = 1000000000u, .fpu = true };
	return cpu_new(&cfg, &bus);
}

static struct cpu_seg seg(uint16_t sel, uint32_t base, uint32_t limit, uint16_t attr)
{
	struct cpu_seg s = { sel, base, limit, attr };
	return s;
}

const char *emu_status_name(enum emu_status s)
{
	switch (s) {
	case EMU_OK: return "ok";
	case EMU_OUTSIDE: return "touched memory or a port outside the map";
	case EMU_SHUTDOWN: return "triple fault (shutdown)";
	case EMU_RUNAWAY: return "did not reach the end (instruction budget spent)";
	case EMU_BAD_HALT: return "halted outside the exception stubs";
	case EMU_CRASHED: return "the translator crashed the process on this case";
	case EMU_HUNG: return "cpu_run did not return (hung)";
	}
	return "?";
}

static bool has_error_code(uint32_t v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17;
}

enum emu_status emu_run(struct emu *e, const struct diff_case *c, struct diff_result *r,
                        uint32_t *outside_addr)
{
	if (e->fresh && e->cpu) {
		cpu_free(e->cpu);
		e->cpu = NULL;
	}
	if (!e->cpu) {
		e->cpu = make_cpu(e);
		if (!e->cpu)
			return EMU_BAD_HALT;
	}
	struct cpu *cpu = e->cpu;
	build_system(e);
	memcpy(e->initial + c->patch_off, c->patch, c->patch_len);
	memcpy(e->data, e->initial, DIFF_DATA_SIZE);
	memset(e->code, 0xF4, CODE_PAGE);       /* HLT everywhere: the end marker */
	memcpy(e->code, c->code, c->code_len);
	bool code16 = (c->flags & DIFF_F_CODE16) != 0;
	/* EIP is an offset: into the code page for the 16-bit segment. */
	uint32_t code_end = (code16 ? 0 : DIFF_CODE_ADDR) + c->code_len;
	e->outside = false;

	cpu_reset(cpu);
	cpu_phys_written(cpu, DIFF_CODE_ADDR, CODE_PAGE);
	cpu_phys_written(cpu, SYS_BASE, SYS_SIZE);

	struct cpu_regs regs;
	cpu_get_regs(cpu, &regs);
	memcpy(regs.gpr, c->gpr, sizeof regs.gpr);
	regs.eip = code16 ? 0 : DIFF_CODE_ADDR;
	regs.eflags = (c->eflags & 0x0CD5u) | 0x202u;
	regs.seg[S_CS] = code16 ? seg(DIFF_SEL_CODE16, DIFF_CODE_ADDR, 0xFFFF, 0x1FB)
	                        : seg(DIFF_SEL_CODE3, 0, 0xFFFFFFFFu, 0xCFB);
	regs.seg[S_SS] = seg(DIFF_SEL_DATA3, 0, 0xFFFFFFFFu, 0xCF3);
	struct cpu_seg dseg = (c->flags & DIFF_F_LDT16)
		? seg(DIFF_SEL_LDT16, DIFF_DATA_ADDR, DIFF_DATA_SIZE - 1, 0x5F3)
		: seg(DIFF_SEL_DATA3, 0, 0xFFFFFFFFu, 0xCF3);
	regs.seg[S_DS] = regs.seg[S_ES] = regs.seg[S_FS] = regs.seg[S_GS] = dseg;
	if (c->flags & DIFF_F_FSGS_BASED)
		regs.seg[S_FS] = regs.seg[S_GS] = seg(DIFF_SEL_BASED, DIFF_DATA_ADDR, 0xFFFFFFFFu, 0xDF3);
	if (c->flags & DIFF_F_NULL_ES)
		regs.seg[S_ES] = seg(0, 0, 0, 0);
	regs.seg[S_LDTR] = seg(SEL_LDT, LDT_ADDR, LDT_LIMIT, 0x82);
	regs.seg[S_TR] = seg(SEL_TSS, TSS_ADDR, 0x67, 0x8B);
	regs.gdtr_base = GDT_ADDR;
	regs.gdtr_limit = GDT_ENTRIES * 8 - 1;
	regs.idtr_base = IDT_ADDR;
	regs.idtr_limit = 256 * 8 - 1;
	/* PE MP ET NE WP AM: what a Linux user process runs under, less paging. */
	regs.cr0 = 0x00050033u;
	regs.cr2 = 0;
	regs.cr3 = 0;
	if (c->flags & DIFF_F_PAGING) {
		regs.cr0 |= 0x80000000u;
		regs.cr3 = PD_ADDR;
	}
	regs.cr4 = 0;
	memset(regs.dr, 0, sizeof regs.dr);
	regs.dr[6] = 0xFFFF0FF0u;
	regs.dr[7] = 0x400u;
	cpu_set_regs(cpu, &regs);
	if (cpu_flush_tlb)
		cpu_flush_tlb(cpu);

	enum cpu_exit ex = CPU_EXIT_BUDGET;
	for (unsigned i = 0; i < RUN_ROUNDS && ex == CPU_EXIT_BUDGET; i++) {
		ex = cpu_run(cpu, RUN_BUDGET);
		if (e->outside)
			break;
	}
	memset(r, 0, sizeof *r);
	r->magic = DIFF_MAGIC_RESULT;
	r->id = c->id;
	diff_collect_changes(e->initial, e->data, r);
	memcpy(e->initial + c->patch_off, e->pristine + c->patch_off, c->patch_len);
	if (e->outside) {
		*outside_addr = e->outside_addr;
		return EMU_OUTSIDE;
	}
	if (ex == CPU_EXIT_SHUTDOWN)
		return EMU_SHUTDOWN;
	if (ex != CPU_EXIT_HALT)
		return EMU_RUNAWAY;

	cpu_get_regs(cpu, &regs);
	uint32_t off = regs.eip - STUB_ADDR;
	uint32_t esp = regs.gpr[R_ESP];
	bool ring0 = (regs.seg[S_CS].sel & 3) == 0;
	/* Anything else (a nested exception in a stub, a HLT elsewhere):
	 * where it stopped goes back in *outside_addr for the report. */
	*outside_addr = regs.eip;
	if (!ring0 || off == 0 || off > 256 * 8 || esp < STACK0_TOP - 24 || esp > STACK0_TOP - 20)
		return EMU_BAD_HALT;
	uint32_t vector = (off - 1) / 8;
	bool errc = esp == STACK0_TOP - 24;
	if (errc != has_error_code(vector))
		return EMU_BAD_HALT;
	*outside_addr = 0;
	const uint8_t *frame = sys_at(e, esp);
	if (errc) {
		r->err = get32(frame);
		frame += 4;
	}
	r->eip = get32(frame);
	r->seg[DIFF_CS] = get32(frame + 4) & 0xFFFF;
	r->eflags = get32(frame + 8);
	memcpy(r->gpr, regs.gpr, sizeof r->gpr);
	r->gpr[R_ESP] = get32(frame + 12);
	r->seg[DIFF_SS] = get32(frame + 16) & 0xFFFF;
	r->seg[DIFF_ES] = regs.seg[S_ES].sel;
	r->seg[DIFF_DS] = regs.seg[S_DS].sel;
	r->seg[DIFF_FS] = regs.seg[S_FS].sel;
	r->seg[DIFF_GS] = regs.seg[S_GS].sel;
	r->trap = vector;
	if (vector == 14)
		r->fault_addr = regs.cr2;
	/* The HLT at the end, refused at ring 3: the snippet finished. */
	if (vector == 13 && r->err == 0 && r->eip == code_end) {
		r->trap = DIFF_TRAP_NONE;
		r->eflags &= ~0x10000u;         /* RF, set in fault frames */
	}
	return EMU_OK;
}
