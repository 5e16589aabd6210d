/*
 * Exceptions and interrupts: raising (longjmp back to the run loop), the
 * double-fault rules and triple-fault shutdown, and delivery through the
 * real-mode IVT or the protected-mode IDT (interrupt, trap and task gates,
 * privilege changes with the TSS stack switch, exits from V86 mode).
 * Delivery computes and checks everything, and pushes the frame, before
 * it changes any register, so a fault while delivering leaves the state
 * as it was and becomes a double fault cleanly.
 */
#include "lib/log.h"
#include "translator/cpu_int.h"

_Noreturn void cpu_raise(struct cpu *cpu, int vec, uint32_t err, bool has_err)
{
	cpu->exc_vec = vec;
	cpu->exc_err = err;
	cpu->exc_has_err = has_err;
	longjmp(*cpu->jmp, 1);
}

_Noreturn void cpu_gp(struct cpu *cpu, uint32_t err)
{
	cpu_raise(cpu, EXC_GP, err, true);
}

_Noreturn void cpu_ud(struct cpu *cpu)
{
	cpu_raise(cpu, EXC_UD, 0, false);
}

static bool contributory(int vec)
{
	return vec == EXC_DE || (vec >= EXC_TS && vec <= EXC_GP);
}

/* Faults that are reported with EIP pointing at the faulting instruction vs traps. */
void cpu_handle_exception(struct cpu *cpu)
{
	int vec = cpu->exc_vec;
	uint32_t err = cpu->exc_err;
	bool has_err = cpu->exc_has_err;
	cpu->eip = cpu->insn_eip;
	cpu->gpr[R_ESP] = cpu->insn_esp;
	cpu->inhibit_irq = false;
	if (cpu->exc_depth > 0) {
		int prev = cpu->exc_depth_vec;
		if (prev == EXC_DF) {
			if (cpu->trace)
				fprintf(cpu->trace, "triple fault\n");
			cpu->shutdown = true;
			cpu->exc_depth = 0;
			return;
		}
		if ((contributory(prev) && contributory(vec)) ||
		    (prev == EXC_PF && (contributory(vec) || vec == EXC_PF))) {
			vec = EXC_DF;
			err = 0;
			has_err = true;
		}
	}
	if (cpu->trace)
		fprintf(cpu->trace, "exception %d err=%x at %04x:%08x\n", vec, err,
		        cpu->seg[S_CS].sel, cpu->eip);
	cpu_deliver(cpu, vec, err, has_err, false, cpu->eip);
}

/* A stack being built by delivery, before it becomes SS:ESP. */
struct frame {
	struct cpu *cpu;
	uint32_t base, lo, hi;
	uint32_t sp;
	bool big;               /* 32-bit stack pointer */
	bool user;
	bool ss_fault;          /* limit faults are #SS (else #GP: the old stack is ours) */
	uint16_t err_sel;
};

static void frame_push(struct frame *f, unsigned size, uint32_t v)
{
	uint32_t sp = f->sp - size;
	if (!f->big)
		sp &= 0xffff;
	if (sp < f->lo || sp + size - 1 > f->hi || sp + size - 1 < sp)
		cpu_raise(f->cpu, EXC_SS, f->err_sel, true);
	lin_write(f->cpu, f->base + sp, size, v, f->user);
	f->sp = sp;
}

static void frame_from_seg(struct frame *f, struct cpu *cpu, const struct cpu_seg *ss,
                           uint32_t sp, bool user)
{
	f->cpu = cpu;
	f->base = ss->base;
	f->big = (ss->attr & 0x400) != 0;
	if ((ss->attr & 0xc) == 0x4) {     /* expand-down data */
		f->lo = ss->limit + 1;
		f->hi = f->big ? 0xffffffffu : 0xffff;
	} else {
		f->lo = 0;
		f->hi = ss->limit;
	}
	f->sp = f->big ? sp : sp & 0xffff;
	f->user = user;
	f->err_sel = 0;
}

static void deliver_real(struct cpu *cpu, int vec, uint32_t ret_eip)
{
	uint32_t off = (uint32_t)vec * 4;
	if (off + 3 > cpu->idtr_limit)
		cpu_gp(cpu, 0);
	uint32_t ent = lin_read(cpu, cpu->idtr_base + off, 4, false);
	struct frame f;
	frame_from_seg(&f, cpu, &cpu->seg[S_SS], cpu->gpr[R_ESP], false);
	f.big = false;
	f.lo = 0;
	f.hi = cpu->seg[S_SS].limit;
	f.sp = cpu->gpr[R_ESP] & 0xffff;
	frame_push(&f, 2, cpu_get_flags(cpu));
	frame_push(&f, 2, cpu->seg[S_CS].sel);
	frame_push(&f, 2, ret_eip);
	sp_set(cpu, f.sp);
	cpu->eflags &= ~(F_IF | F_TF | F_AC | F_RF);
	seg_load_real(cpu, S_CS, (uint16_t)(ent >> 16));
	cpu->eip = ent & 0xffff;
}

/* Reads SS:ESP for privilege level `dpl` from the current TSS. */
static void tss_stack(struct cpu *cpu, unsigned dpl, uint16_t *ss, uint32_t *esp)
{
	const struct cpu_seg *tr = &cpu->seg[S_TR];
	unsigned type = tr->attr & 0xf;
	uint16_t err = tr->sel & 0xfffc;
	if (type == 9 || type == 0xb) {
		uint32_t off = 4 + dpl * 8;
		if (off + 5 > tr->limit)
			cpu_raise(cpu, EXC_TS, err, true);
		*esp = lin_read(cpu, tr->base + off, 4, false);
		*ss = (uint16_t)lin_read(cpu, tr->base + off + 4, 2, false);
	} else {
		uint32_t off = 2 + dpl * 4;
		if (off + 3 > tr->limit)
			cpu_raise(cpu, EXC_TS, err, true);
		*esp = lin_read(cpu, tr->base + off, 2, false);
		*ss = (uint16_t)lin_read(cpu, tr->base + off + 2, 2, false);
	}
}

/* Checks and reads a stack segment for privilege `dpl` (from the TSS): faults are #TS. */
void load_inner_ss(struct cpu *cpu, uint16_t ss, unsigned dpl, struct cpu_seg *out)
{
	uint32_t desc[2];
	uint16_t err = ss & 0xfffc;
	if ((ss & ~3u) == 0 || !seg_read_desc(cpu, ss, desc))
		cpu_raise(cpu, EXC_TS, err, true);
	unsigned type = (desc[1] >> 8) & 0xf, sdpl = (desc[1] >> 13) & 3;
	if ((ss & 3) != dpl || sdpl != dpl || !(desc[1] & 0x1000) || (type & 8) || !(type & 2))
		cpu_raise(cpu, EXC_TS, err, true);
	if (!(desc[1] & 0x8000))
		cpu_raise(cpu, EXC_SS, err, true);
	seg_set_accessed(cpu, ss, desc);
	seg_from_desc(out, ss, desc);
}

static void deliver_prot(struct cpu *cpu, int vec, uint32_t err, bool has_err, bool soft,
                         uint32_t ret_eip)
{
	uint32_t ext = soft ? 0 : 1;
	uint32_t idx = (uint32_t)vec * 8;
	uint32_t gerr = idx | 2 | ext;
	if (idx + 7 > cpu->idtr_limit)
		cpu_gp(cpu, gerr);
	uint32_t g0 = lin_read(cpu, cpu->idtr_base + idx, 4, false);
	uint32_t g1 = lin_read(cpu, cpu->idtr_base + idx + 4, 4, false);
	unsigned type = (g1 >> 8) & 0x1f, gdpl = (g1 >> 13) & 3;
	if (type != 0x05 && type != 0x06 && type != 0x07 && type != 0x0e && type != 0x0f)
		cpu_gp(cpu, gerr);
	if (soft && gdpl < cpu->cpl)
		cpu_gp(cpu, gerr);
	if (!(g1 & 0x8000))
		cpu_raise(cpu, EXC_NP, gerr, true);
	if (type == 0x05) {
		uint16_t tsel = (uint16_t)(g0 >> 16);
		uint32_t tdesc[2];
		if ((tsel & 4) || !seg_read_desc(cpu, tsel, tdesc))
			cpu_raise(cpu, EXC_TS, (tsel & 0xfffc) | ext, true);
		cpu_task_switch(cpu, tsel, tdesc, TS_INT, ret_eip);
		if (has_err) {
			unsigned size = (cpu->seg[S_TR].attr & 8) ? 4 : 2;
			stack_push(cpu, size, err);
		}
		return;
	}
	bool gate32 = type & 8;
	unsigned psize = gate32 ? 4 : 2;
	uint16_t csel = (uint16_t)(g0 >> 16);
	uint32_t target = (g0 & 0xffff) | (gate32 ? (g1 & 0xffff0000u) : 0);
	uint32_t cdesc[2];
	if ((csel & ~3u) == 0)
		cpu_gp(cpu, ext);
	if (!seg_read_desc(cpu, csel, cdesc))
		cpu_gp(cpu, (csel & 0xfffc) | ext);
	unsigned ctype = (cdesc[1] >> 8) & 0x1f, cdpl = (cdesc[1] >> 13) & 3;
	if (!(ctype & 0x18) || (ctype & 0x18) != 0x18 || cdpl > cpu->cpl)
		cpu_gp(cpu, (csel & 0xfffc) | ext);
	if (!(cdesc[1] & 0x8000))
		cpu_raise(cpu, EXC_NP, (csel & 0xfffc) | ext, true);
	bool conforming = ctype & 4;
	uint32_t flags = cpu_get_flags(cpu);
	struct cpu_seg ncs, nss;
	seg_from_desc(&ncs, (uint16_t)((csel & 0xfffc) | (conforming ? cpu->cpl : cdpl)), cdesc);
	unsigned ncpl = conforming ? cpu->cpl : cdpl;
	struct frame f;
	bool stack_switch = !conforming && cdpl < cpu->cpl;
	if (cpu->vm86 && (!stack_switch || cdpl != 0))
		cpu_gp(cpu, (csel & 0xfffc) | ext);
	if (ncs.limit < target)
		cpu_gp(cpu, ext);
	if (stack_switch) {
		uint16_t ss;
		uint32_t esp;
		tss_stack(cpu, cdpl, &ss, &esp);
		load_inner_ss(cpu, ss, cdpl, &nss);
		frame_from_seg(&f, cpu, &nss, esp, ncpl == 3);
		f.err_sel = ss & 0xfffc;
		if (cpu->vm86) {
			frame_push(&f, psize, cpu->seg[S_GS].sel);
			frame_push(&f, psize, cpu->seg[S_FS].sel);
			frame_push(&f, psize, cpu->seg[S_DS].sel);
			frame_push(&f, psize, cpu->seg[S_ES].sel);
		}
		frame_push(&f, psize, cpu->seg[S_SS].sel);
		frame_push(&f, psize, cpu->gpr[R_ESP]);
	} else {
		nss = cpu->seg[S_SS];
		frame_from_seg(&f, cpu, &nss, cpu->gpr[R_ESP], ncpl == 3);
	}
	frame_push(&f, psize, flags);
	frame_push(&f, psize, cpu->seg[S_CS].sel);
	frame_push(&f, psize, ret_eip);
	if (has_err)
		frame_push(&f, psize, err);
	/* Everything is on the new stack: commit. */
	seg_set_accessed(cpu, csel, cdesc);
	if (cpu->vm86) {
		for (int s = S_ES; s <= S_GS; s++) {
			if (s == S_CS || s == S_SS)
				continue;
			cpu->seg[s].sel = 0;
			cpu->seg[s].base = 0;
			cpu->seg[s].limit = 0;
			cpu->seg[s].attr = 0;
		}
	}
	cpu->seg[S_SS] = nss;
	cpu->seg[S_CS] = ncs;
	if (f.big)
		cpu->gpr[R_ESP] = f.sp;
	else
		cpu->gpr[R_ESP] = (cpu->gpr[R_ESP] & 0xffff0000u) | f.sp;
	cpu->eip = target;
	cpu->cpl = (uint8_t)ncpl;
	cpu->eflags = flags & ~(F_TF | F_NT | F_VM | F_RF);
	if (!(type & 1))
		cpu->eflags &= ~F_IF;
	cpu_update_mode(cpu);
}

void cpu_deliver(struct cpu *cpu, int vec, uint32_t err, bool has_err, bool soft, uint32_t ret_eip)
{
	/* A fault while delivering a software interrupt is just that
	 * instruction's fault; only exceptions and external interrupts can
	 * turn a second fault into #DF. */
	cpu->exc_depth = soft ? 0 : 1;
	cpu->exc_depth_vec = vec;
	if (cpu->pe)
		deliver_prot(cpu, vec, err, has_err, soft, ret_eip);
	else
		deliver_real(cpu, vec, ret_eip);
	cpu->exc_depth = 0;
	cpu->halted = false;
	cpu->stop_block = true;
	cpu->delivered = true;
	cpu->events++;
}
