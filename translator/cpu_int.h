/*
 * The CPU's private state and the helpers every part of translator/ shares:
 * struct cpu, lazy flags, the soft-MMU fast paths, segment checks and the
 * exception entry. Nothing outside translator/ includes this.
 *
 * Exceptions leave an instruction by a plain setjmp/longjmp (glibc's setjmp
 * does not save the signal mask, so raising one makes no system call):
 * cpu_raise() records the vector and jumps back to cpu_run's loop, which
 * restores EIP/ESP from the copies taken at instruction start and delivers
 * it. Handlers therefore commit registers only after their last memory
 * access that can fault; the few that must write several things (POPA,
 * LEAVE, far transfers, string steps) order their work accordingly.
 */
#ifndef TRANSLATOR_CPU_INT_H
#define TRANSLATOR_CPU_INT_H

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "translator/cpu.h"
#include "translator/insn.h"
#include "translator/x87.h"

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Exception vectors. */
enum {
	EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5,
	EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12,
	EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17,
};

#define CR0_PE (1u << 0)
#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR0_ET (1u << 4)
#define CR0_NE (1u << 5)
#define CR0_WP (1u << 16)
#define CR0_AM (1u << 18)
#define CR0_NW (1u << 29)
#define CR0_CD (1u << 30)
#define CR0_PG (1u << 31)
#define PERFCTR_MASK ((1ull << 40) - 1)

#define CR4_VME (1u << 0)
#define CR4_PVI (1u << 1)
#define CR4_TSD (1u << 2)
#define CR4_DE (1u << 3)
#define CR4_PSE (1u << 4)
#define CR4_PGE (1u << 7)

/* Lazy flag operations: how OSZAPC follow from cc_a, cc_b, cc_res. */
enum cc_op {
	CC_EFLAGS,      /* the arithmetic flags are in cpu->eflags */
	CC_ADD,         /* also ADC: carry and overflow follow from a, b, res alone */
	CC_SUB,         /* also CMP, NEG (a = 0) */
	CC_SBB,         /* as CC_SUB, but a borrow-in makes the a<b shortcuts wrong */
	CC_LOGIC,       /* CF = OF = AF = 0 */
	CC_INC,         /* CF kept in cc_cf */
	CC_DEC,
	CC_SHL,         /* shifts: a = operand, b = count (1-31), res = result */
	CC_SHR,
	CC_SAR,
};

#define TLB_BITS 8
#define TLB_SIZE (1u << TLB_BITS)
#define TLB_INVALID 1u  /* never equal to a page-aligned address */

struct tlb_entry {
	uint32_t vread;         /* linear page if readable through this entry */
	uint32_t vwrite;        /* linear page if writable (dirty, not code) */
	uint32_t phys;          /* physical page */
	uint8_t *host;          /* host pointer to the page */
	bool global;            /* PTE.G with CR4.PGE: survives a CR3 load */
};

/* A translation block: decoded instructions from one entry point. */
struct tb {
	uint32_t phys;          /* physical address of the first byte */
	uint32_t lin;           /* linear address it was decoded at */
	uint32_t page[2];       /* physical pages it covers; page[1] = TB_NOPAGE if one */
	bool code32;
	bool valid;
	bool chain;             /* ends in a plain near branch or a page/size limit: the next block may follow directly */
	uint16_t n;             /* instructions */
	struct insn *insns;
	struct tb *hash_next;
	uintptr_t page_next[2]; /* tagged: struct tb * | slot */
};
#define TB_NOPAGE 0xffffffffu
#define TB_MAX_INSNS 64
#define TB_POOL 16384
#define TB_INSN_POOL (TB_POOL * 8)
#define TB_HASH 8192
#define TB_PAGE_HASH 4096
#define JC_SIZE 4096

struct cpu {
	/* Hot state first. */
	uint32_t gpr[8];
	uint32_t eip;
	uint32_t eflags;        /* all bits; OSZAPC valid only when cc_op == CC_EFLAGS */
	enum cc_op cc_op;
	uint8_t cc_size;        /* bytes: 1, 2, 4 */
	uint32_t cc_a, cc_b, cc_res, cc_cf;
	struct cpu_seg seg[8];
	uint32_t seg_lo[6], seg_hi[6];  /* valid offset ranges, from limit and expand-down */
	uint8_t seg_rw[6];      /* bit 0 readable, bit 1 writable; 0 = unusable */
	uint8_t cpl;
	bool pe, vm86, code32, stack32, paging;
	bool ac_check;          /* CR0.AM && EFLAGS.AC && CPL 3: user accesses are alignment-checked */
	bool stop_block;        /* leave the current TB after this instruction */
	struct tlb_entry tlb[2][TLB_SIZE];  /* [user] */

	uint32_t insn_eip;      /* EIP of the running instruction */
	uint32_t insn_esp;      /* ESP at its start */

	uint32_t gdtr_base, gdtr_limit, idtr_base, idtr_limit;
	uint32_t cr0, cr2, cr3, cr4;
	uint32_t dr[8];
	uint64_t tsc_offset;
	uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
	/*
	 * The P6 performance-monitoring MSRs. They hold what is written but
	 * count nothing: kernels probe them (Linux writes PERFCTR0 and reads
	 * it back) and a P6 without them looks broken.
	 */
	uint64_t perfctr[2];            /* PERFCTR_MASK bits each */
	uint32_t evntsel[2];
	uint32_t apic_base;
	bool a20;

	/* Interrupt state. */
	bool irq_line, nmi_pending, nmi_blocked;
	bool inhibit_irq;       /* STI / MOV SS shadow: no interrupt before the next insn */
	bool exit_request;
	bool halted;
	bool ferr_asserted;

	/* Exception in flight. */
	jmp_buf *jmp;           /* where cpu_raise lands: cpu_run's, or the x87 memory glue's */
	int exc_vec;
	uint32_t exc_err;
	bool exc_has_err;
	int exc_depth;          /* 1 while delivering: a fault then may become #DF */
	int exc_depth_vec;      /* the vector being delivered */
	bool shutdown;
	bool delivered;         /* an interrupt or exception was delivered (ends a TF step) */

	struct x87 fpu;

	/* Translation blocks. */
	struct decoder dec;
	struct tb *tbs;
	unsigned ntbs;
	struct insn *insn_pool;
	unsigned ninsns;
	struct tb *tb_hash[TB_HASH];
	uintptr_t page_tbs[TB_PAGE_HASH];
	struct tb *jc[2][JC_SIZE];
	uint8_t *code_pages;    /* bitmap over 2^20 physical pages */
	struct tb *cur_tb;

	/* Debug. */
	uint32_t bp[16];
	unsigned nbp;
	bool single_step;
	bool bp_resume;         /* the breakpoint at EIP was reported: run it now */
	FILE *trace;
	uint64_t icount;
	uint64_t events;        /* interrupts and exceptions delivered: they use budget too */

	struct cpu_config cfg;
	struct cpu_bus bus;
};

/* ---- exceptions (exception.c) ---- */
_Noreturn void cpu_raise(struct cpu *cpu, int vec, uint32_t err, bool has_err);
_Noreturn void cpu_gp(struct cpu *cpu, uint32_t err);
_Noreturn void cpu_ud(struct cpu *cpu);
/* Delivers an interrupt or exception through the IVT/IDT. `soft`: INT n (checks gate DPL). */
void cpu_deliver(struct cpu *cpu, int vec, uint32_t err, bool has_err, bool soft, uint32_t ret_eip);
/* Handles the exception recorded by cpu_raise (called from the run loop). */
void cpu_handle_exception(struct cpu *cpu);
/* Checks and reads the stack segment `ss` for privilege `dpl` (faults are #TS/#SS). */
void load_inner_ss(struct cpu *cpu, uint16_t ss, unsigned dpl, struct cpu_seg *out);

/* ---- flags (flags.c) ---- */
uint32_t cpu_get_flags(struct cpu *cpu);            /* full EFLAGS */
void cpu_set_flags(struct cpu *cpu, uint32_t value, uint32_t mask);
bool cpu_cond(struct cpu *cpu, unsigned cc);
/* Condition from materialized flags (the slow path of cond_fast). */
bool cpu_cond_slow(struct cpu *cpu, unsigned cc);
uint32_t cpu_get_cf(struct cpu *cpu);

static inline void cc_set(struct cpu *cpu, enum cc_op op, unsigned size, uint32_t a, uint32_t b, uint32_t res)
{
	cpu->cc_op = op;
	cpu->cc_size = (uint8_t)size;
	cpu->cc_a = a;
	cpu->cc_b = b;
	cpu->cc_res = res;
}

static inline int32_t sext_size(uint32_t v, unsigned size)
{
	return size == 1 ? (int8_t)v : size == 2 ? (int16_t)v : (int32_t)v;
}

/*
 * Condition codes straight from the lazy state for the common cases
 * (compare, logic, add, inc/dec), without materializing EFLAGS.
 * Operands and results of the lazy ops are kept masked to their size.
 */
static inline bool cond_fast(struct cpu *cpu, unsigned cc)
{
	uint32_t a = cpu->cc_a, b = cpu->cc_b, res = cpu->cc_res;
	unsigned size = cpu->cc_size;
	if (cpu->cc_op == CC_EFLAGS)
		return cpu_cond_slow(cpu, cc);
	uint32_t sign = (res >> (size * 8 - 1)) & 1;
	bool r;
	switch (cpu->cc_op) {
	case CC_SUB:
		switch (cc >> 1) {
		case 1: r = a < b; break;
		case 2: r = a == b; break;
		case 3: r = a <= b; break;
		case 4: r = sign; break;
		case 6: r = sext_size(a, size) < sext_size(b, size); break;
		case 7: r = sext_size(a, size) <= sext_size(b, size); break;
		default: return cpu_cond_slow(cpu, cc);
		}
		break;
	case CC_LOGIC:
		switch (cc >> 1) {
		case 0: case 1: r = false; break;       /* OF = CF = 0 */
		case 2: case 3: r = res == 0; break;
		case 4: case 6: r = sign; break;        /* SF != OF with OF = 0 */
		case 7: r = res == 0 || sign; break;
		default: return cpu_cond_slow(cpu, cc);
		}
		break;
	case CC_ADD: case CC_INC: case CC_DEC: case CC_SHL: case CC_SHR: case CC_SAR:
		switch (cc >> 1) {
		case 2: r = res == 0; break;
		case 4: r = sign; break;
		default: return cpu_cond_slow(cpu, cc);
		}
		break;
	default:
		return cpu_cond_slow(cpu, cc);
	}
	return (cc & 1) ? !r : r;
}

/* ---- memory (mmu.c) ---- */
enum acc { ACC_READ = 0, ACC_WRITE = 1, ACC_EXEC = 2 };
/* Translates linear to physical, faulting (#PF) if `fault`; returns false on a miss without fault. */
bool mmu_translate(struct cpu *cpu, uint32_t lin, enum acc acc, bool user, bool fault, uint32_t *phys);
uint32_t mmu_read_slow(struct cpu *cpu, uint32_t lin, unsigned size, bool user);
void mmu_write_slow(struct cpu *cpu, uint32_t lin, unsigned size, uint32_t val, bool user);
uint32_t mmu_read_rmw_slow(struct cpu *cpu, uint32_t lin, unsigned size, bool user);
/* Host pointer for `size` bytes at lin within one page, for reading and writing, or NULL. */
uint8_t *mmu_rw_ptr(struct cpu *cpu, uint32_t lin, unsigned size, bool user);
void mmu_read_buf(struct cpu *cpu, uint32_t lin, void *buf, unsigned len, bool user);
void mmu_write_buf(struct cpu *cpu, uint32_t lin, const void *buf, unsigned len, bool user);
/* Checks that [lin, lin+len) is writable (faulting if not) without writing. */
void mmu_probe_write(struct cpu *cpu, uint32_t lin, unsigned len, bool user);
void mmu_flush(struct cpu *cpu, bool keep_global);
void mmu_invlpg(struct cpu *cpu, uint32_t lin);
uint32_t phys_read(struct cpu *cpu, uint32_t paddr, unsigned size);
void phys_write(struct cpu *cpu, uint32_t paddr, unsigned size, uint32_t val);

static inline bool cpu_user(const struct cpu *cpu) { return cpu->cpl == 3; }

static inline uint32_t lin_read(struct cpu *cpu, uint32_t lin, unsigned size, bool user)
{
	const struct tlb_entry *e = &cpu->tlb[user][(lin >> 12) & (TLB_SIZE - 1)];
	if (likely(e->vread == (lin & ~0xfffu) && (lin & 0xfff) <= 4096 - size)) {
		const uint8_t *p = e->host + (lin & 0xfff);
		switch (size) {
		case 1: return *p;
		case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
		default: { uint32_t v; memcpy(&v, p, 4); return v; }
		}
	}
	return mmu_read_slow(cpu, lin, size, user);
}

/* Read for a read-modify-write: hits only a writable entry. */
static inline uint32_t lin_read_rmw(struct cpu *cpu, uint32_t lin, unsigned size, bool user)
{
	const struct tlb_entry *e = &cpu->tlb[user][(lin >> 12) & (TLB_SIZE - 1)];
	if (likely(e->vwrite == (lin & ~0xfffu) && (lin & 0xfff) <= 4096 - size)) {
		const uint8_t *p = e->host + (lin & 0xfff);
		switch (size) {
		case 1: return *p;
		case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
		default: { uint32_t v; memcpy(&v, p, 4); return v; }
		}
	}
	return mmu_read_rmw_slow(cpu, lin, size, user);
}

static inline void lin_write(struct cpu *cpu, uint32_t lin, unsigned size, uint32_t val, bool user)
{
	const struct tlb_entry *e = &cpu->tlb[user][(lin >> 12) & (TLB_SIZE - 1)];
	if (likely(e->vwrite == (lin & ~0xfffu) && (lin & 0xfff) <= 4096 - size)) {
		uint8_t *p = e->host + (lin & 0xfff);
		switch (size) {
		case 1: *p = (uint8_t)val; return;
		case 2: { uint16_t v = (uint16_t)val; memcpy(p, &v, 2); return; }
		default: memcpy(p, &val, 4); return;
		}
	}
	mmu_write_slow(cpu, lin, size, val, user);
}

/* ---- segments (seg.c) ---- */
/* Recomputes seg_lo/hi/rw of one data segment register from its cache. */
void seg_update(struct cpu *cpu, int s);
/* Loads a segment register as MOV/POP do, with all protected-mode checks. */
void seg_load(struct cpu *cpu, int s, uint16_t sel);
/* Real/V86 style load: base = sel << 4. */
void seg_load_real(struct cpu *cpu, int s, uint16_t sel);
/* Reads the 8-byte descriptor for `sel`; raises `exc`(sel) on a bad selector. */
bool seg_read_desc(struct cpu *cpu, uint16_t sel, uint32_t desc[2]);
void seg_from_desc(struct cpu_seg *sc, uint16_t sel, const uint32_t desc[2]);
void seg_set_accessed(struct cpu *cpu, uint16_t sel, uint32_t desc[2]);
/* After CS/SS/CR0/EFLAGS.VM changes: recompute pe, vm86, code32, stack32, cpl. */
void cpu_update_mode(struct cpu *cpu);

_Noreturn void seg_fault(struct cpu *cpu, int s);

/* Linear address of seg:off for an access of `size` bytes; checks limits and rights. */
static inline uint32_t seg_lin(struct cpu *cpu, int s, uint32_t off, unsigned size, bool write)
{
	uint32_t last = off + size - 1;
	if (unlikely(off < cpu->seg_lo[s] || last > cpu->seg_hi[s] || last < off ||
	             !(cpu->seg_rw[s] & (write ? 2 : 1))))
		seg_fault(cpu, s);
	return cpu->seg[s].base + off;
}

static inline uint32_t rd(struct cpu *cpu, int s, uint32_t off, unsigned size)
{
	return lin_read(cpu, seg_lin(cpu, s, off, size, false), size, cpu_user(cpu));
}
static inline void wr(struct cpu *cpu, int s, uint32_t off, unsigned size, uint32_t val)
{
	lin_write(cpu, seg_lin(cpu, s, off, size, true), size, val, cpu_user(cpu));
}

/* ---- operand helpers (interp.c) ---- */
static inline uint32_t size_mask(unsigned size)
{
	return size == 4 ? 0xffffffffu : size == 2 ? 0xffffu : 0xffu;
}

static inline uint32_t reg_get(const struct cpu *cpu, unsigned r, unsigned size)
{
	if (size == 4)
		return cpu->gpr[r];
	if (size == 2)
		return cpu->gpr[r] & 0xffff;
	return r < 4 ? cpu->gpr[r] & 0xff : (cpu->gpr[r - 4] >> 8) & 0xff;
}

static inline void reg_set(struct cpu *cpu, unsigned r, unsigned size, uint32_t v)
{
	if (size == 4)
		cpu->gpr[r] = v;
	else if (size == 2)
		cpu->gpr[r] = (cpu->gpr[r] & 0xffff0000u) | (v & 0xffff);
	else if (r < 4)
		cpu->gpr[r] = (cpu->gpr[r] & ~0xffu) | (v & 0xff);
	else
		cpu->gpr[r - 4] = (cpu->gpr[r - 4] & ~0xff00u) | ((v & 0xff) << 8);
}

static inline uint32_t ea_of(const struct cpu *cpu, const struct insn *in)
{
	uint32_t a = in->disp;
	if (in->base != REG_NONE)
		a += cpu->gpr[in->base];
	if (in->index != REG_NONE)
		a += cpu->gpr[in->index] << in->scale;
	if (in->asz == 2)
		a &= 0xffff;
	return a;
}

/* Stack helpers: push/pop with SS.B choosing ESP or SP. */
void stack_push(struct cpu *cpu, unsigned size, uint32_t v);
uint32_t stack_pop(struct cpu *cpu, unsigned size);
/* Reads at offset `depth` bytes above the stack pointer without popping. */
uint32_t stack_peek(struct cpu *cpu, unsigned size, uint32_t depth);
static inline uint32_t sp_get(const struct cpu *cpu)
{
	return cpu->stack32 ? cpu->gpr[R_ESP] : cpu->gpr[R_ESP] & 0xffff;
}
static inline void sp_set(struct cpu *cpu, uint32_t v)
{
	if (cpu->stack32)
		cpu->gpr[R_ESP] = v;
	else
		cpu->gpr[R_ESP] = (cpu->gpr[R_ESP] & 0xffff0000u) | (v & 0xffff);
}

/* ---- control flow helpers ---- */
void cpu_jump_near(struct cpu *cpu, uint32_t target, unsigned osz);
void cpu_far_jump(struct cpu *cpu, uint16_t sel, uint32_t off, unsigned osz, bool call, uint32_t ret_eip);
void cpu_far_return(struct cpu *cpu, unsigned osz, uint32_t extra);
void cpu_iret(struct cpu *cpu, unsigned osz);
void cpu_task_switch(struct cpu *cpu, uint16_t sel, const uint32_t desc[2], int reason, uint32_t ret_eip);
enum { TS_JMP, TS_CALL, TS_IRET, TS_INT };
uint32_t cpu_flags_writable(const struct cpu *cpu, unsigned osz, bool iret);
bool cpu_io_allowed(struct cpu *cpu, uint16_t port, unsigned size);

/* ---- translation blocks (tb.c) ---- */
struct tb *tb_find_slow(struct cpu *cpu, struct tb **jc);
/* The block at CS:EIP: the jump cache hit inline, else the hash or a new block. */
static inline struct tb *tb_find(struct cpu *cpu)
{
	uint32_t lin = cpu->seg[S_CS].base + cpu->eip;
	struct tb **jc = &cpu->jc[cpu_user(cpu)][(lin ^ (lin >> 12)) & (JC_SIZE - 1)];
	struct tb *tb = *jc;
	if (likely(tb && tb->lin == lin && tb->valid && tb->code32 == cpu->code32))
		return tb;
	return tb_find_slow(cpu, jc);
}
void tb_flush_all(struct cpu *cpu);
void tb_invalidate_page(struct cpu *cpu, uint32_t ppage);
void tb_jc_flush(struct cpu *cpu);
static inline bool page_has_code(const struct cpu *cpu, uint32_t paddr)
{
	uint32_t pg = paddr >> 12;
	return (cpu->code_pages[pg >> 3] >> (pg & 7)) & 1;
}

/* Every handler named in insns.def. */
#define X(map, op, ext, mnem, fn, arg, o1, o2, o3, fr, fw, fu, attr) \
	void h_##fn(struct cpu *cpu, const struct insn *in);
#include "translator/insns.def"
#undef X
void h_decode_fault(struct cpu *cpu, const struct insn *in);

/* Picks a specialised handler for common forms (fastpath.c), or returns `generic`. */
insn_fn fastpath_select(struct insn *in, insn_fn generic);

/* MSR and CPUID (system.c) */
uint64_t cpu_tsc(struct cpu *cpu);

#endif
