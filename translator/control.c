/*
 * Control transfers: near and far jumps, calls and returns (with call
 * gates and privilege changes), LOOP/JCXZ, INT/INTO/IRET (real, V86 and
 * protected mode, nested-task returns) and the hardware task switch.
 */
#include "translator/cpu_int.h"

/* A near target: 16 bits for a 16-bit operand, and within CS's limit in
 * protected mode (#GP(0) before anything else of the instruction is done). */
static uint32_t near_target(struct cpu *cpu, uint32_t target, unsigned osz)
{
	if (osz == 2)
		target &= 0xffff;
	if (target > cpu->seg[S_CS].limit && (cpu->pe && !cpu->vm86))
		cpu_gp(cpu, 0);
	return target;
}

void cpu_jump_near(struct cpu *cpu, uint32_t target, unsigned osz)
{
	cpu->eip = near_target(cpu, target, osz);
}

static void call_near(struct cpu *cpu, uint32_t target, unsigned osz)
{
	target = near_target(cpu, target, osz);
	stack_push(cpu, osz, cpu->eip);
	cpu->eip = target;
}

/* The r/m operand of an indirect near JMP or CALL. */
static uint32_t rm_target(struct cpu *cpu, const struct insn *in)
{
	if (in->is_mem)
		return rd(cpu, in->seg, ea_of(cpu, in), in->osz);
	return reg_get(cpu, in->rm, in->osz);
}

void h_jcc(struct cpu *cpu, const struct insn *in)
{
	if (cpu_cond(cpu, in->arg))
		cpu_jump_near(cpu, cpu->eip + in->imm, in->osz);
}

void h_jmp(struct cpu *cpu, const struct insn *in)
{
	cpu_jump_near(cpu, cpu->eip + in->imm, in->osz);
}

void h_call(struct cpu *cpu, const struct insn *in)
{
	call_near(cpu, cpu->eip + in->imm, in->osz);
}

void h_call_ind(struct cpu *cpu, const struct insn *in)
{
	call_near(cpu, rm_target(cpu, in), in->osz);
}

void h_jmp_ind(struct cpu *cpu, const struct insn *in)
{
	cpu_jump_near(cpu, rm_target(cpu, in), in->osz);
}

void h_ret(struct cpu *cpu, const struct insn *in)
{
	uint32_t target = near_target(cpu, stack_peek(cpu, in->osz, 0), in->osz);
	uint32_t extra = in->op == 0xc2 ? (in->imm & 0xffff) : 0;
	sp_set(cpu, sp_get(cpu) + in->osz + extra);
	cpu->eip = target;
}

void h_loop(struct cpu *cpu, const struct insn *in)
{
	uint32_t cx = in->asz == 4 ? cpu->gpr[R_ECX] : cpu->gpr[R_ECX] & 0xffff;
	bool take;
	if (in->arg == 3) {
		take = cx == 0;
	} else {
		cx = (cx - 1) & (in->asz == 4 ? 0xffffffffu : 0xffff);
		take = cx != 0;
		if (in->arg == 1)
			take = take && !cpu_cond(cpu, 4);
		else if (in->arg == 2)
			take = take && cpu_cond(cpu, 4);
	}
	uint32_t target = cpu->eip + in->imm;
	if (take && in->osz == 2)
		target &= 0xffff;
	if (take && cpu->pe && !cpu->vm86 && target > cpu->seg[S_CS].limit)
		cpu_gp(cpu, 0);
	if (in->arg != 3)
		reg_set(cpu, R_ECX, in->asz, cx);
	if (take)
		cpu->eip = target;
}

/* ---- far transfers ---- */

static void load_cs_desc(struct cpu *cpu, uint16_t sel, const uint32_t desc[2], unsigned cpl)
{
	seg_from_desc(&cpu->seg[S_CS], (uint16_t)((sel & 0xfffc) | cpl), desc);
	cpu->cpl = (uint8_t)cpl;
}

/* Checks a code segment descriptor for a far JMP/CALL/RET target at privilege `cpl`. */
static void check_code(struct cpu *cpu, uint16_t sel, const uint32_t desc[2], unsigned cpl, bool ret)
{
	uint16_t err = sel & 0xfffc;
	unsigned type = (desc[1] >> 8) & 0x1f, dpl = (desc[1] >> 13) & 3, rpl = sel & 3;
	if ((type & 0x18) != 0x18)
		cpu_gp(cpu, err);
	if (ret) {
		if (rpl < cpu->cpl || ((type & 4) ? dpl > rpl : dpl != rpl))
			cpu_gp(cpu, err);
	} else if (type & 4) {
		if (dpl > cpl)
			cpu_gp(cpu, err);
	} else if (rpl > cpl || dpl != cpl) {
		cpu_gp(cpu, err);
	}
	if (!(desc[1] & 0x8000))
		cpu_raise(cpu, EXC_NP, err, true);
}

static void call_gate(struct cpu *cpu, uint16_t gsel, const uint32_t gate[2], bool call,
                      unsigned osz, uint32_t ret_eip)
{
	unsigned gdpl = (gate[1] >> 13) & 3, rpl = gsel & 3;
	bool gate32 = ((gate[1] >> 8) & 0xf) == 0xc;
	if (gdpl < cpu->cpl || gdpl < rpl)
		cpu_gp(cpu, gsel & 0xfffc);
	if (!(gate[1] & 0x8000))
		cpu_raise(cpu, EXC_NP, gsel & 0xfffc, true);
	uint16_t csel = (uint16_t)(gate[0] >> 16);
	uint32_t target = (gate[0] & 0xffff) | (gate32 ? (gate[1] & 0xffff0000u) : 0);
	uint32_t desc[2];
	if ((csel & ~3u) == 0)
		cpu_gp(cpu, 0);
	if (!seg_read_desc(cpu, csel, desc))
		cpu_gp(cpu, csel & 0xfffc);
	unsigned type = (desc[1] >> 8) & 0x1f, dpl = (desc[1] >> 13) & 3;
	if ((type & 0x18) != 0x18 || dpl > cpu->cpl)
		cpu_gp(cpu, csel & 0xfffc);
	if (!call && !(type & 4) && dpl != cpu->cpl)
		cpu_gp(cpu, csel & 0xfffc);
	if (!(desc[1] & 0x8000))
		cpu_raise(cpu, EXC_NP, csel & 0xfffc, true);
	unsigned psize = gate32 ? 4 : 2;
	struct cpu_seg ncs;
	if (call && !(type & 4) && dpl < cpu->cpl) {
		/* More privilege: new stack from the TSS, parameters copied. */
		uint16_t ss;
		uint32_t esp;
		const struct cpu_seg *tr = &cpu->seg[S_TR];
		if ((tr->attr & 0xf) == 9 || (tr->attr & 0xf) == 0xb) {
			if (4 + dpl * 8 + 5 > tr->limit)
				cpu_raise(cpu, EXC_TS, tr->sel & 0xfffc, true);
			esp = lin_read(cpu, tr->base + 4 + dpl * 8, 4, false);
			ss = (uint16_t)lin_read(cpu, tr->base + 8 + dpl * 8, 2, false);
		} else {
			if (2 + dpl * 4 + 3 > tr->limit)
				cpu_raise(cpu, EXC_TS, tr->sel & 0xfffc, true);
			esp = lin_read(cpu, tr->base + 2 + dpl * 4, 2, false);
			ss = (uint16_t)lin_read(cpu, tr->base + 4 + dpl * 4, 2, false);
		}
		struct cpu_seg nss;
		load_inner_ss(cpu, ss, dpl, &nss);
		unsigned nparams = gate[1] & 0x1f;
		uint32_t params[32];
		for (unsigned i = 0; i < nparams; i++)
			params[i] = stack_peek(cpu, psize, i * psize);
		bool big = nss.attr & 0x400;
		uint32_t sp = big ? esp : esp & 0xffff;
		uint32_t smask = big ? 0xffffffffu : 0xffff;
		uint32_t vals[36];
		unsigned n = 0;
		vals[n++] = cpu->seg[S_SS].sel;
		vals[n++] = cpu->gpr[R_ESP];
		for (unsigned i = nparams; i-- > 0;)
			vals[n++] = params[i];
		vals[n++] = cpu->seg[S_CS].sel;
		vals[n++] = ret_eip;
		for (unsigned i = 0; i < n; i++) {
			sp = (sp - psize) & smask;
			if (sp + psize - 1 > nss.limit && !((nss.attr & 0xc) == 4))
				cpu_raise(cpu, EXC_SS, ss & 0xfffc, true);
			lin_write(cpu, nss.base + sp, psize, vals[i], dpl == 3);
		}
		seg_set_accessed(cpu, csel, desc);
		cpu->seg[S_SS] = nss;
		if (big)
			cpu->gpr[R_ESP] = sp;
		else
			cpu->gpr[R_ESP] = (cpu->gpr[R_ESP] & 0xffff0000u) | sp;
		load_cs_desc(cpu, csel, desc, dpl);
		cpu->eip = target;
		cpu_update_mode(cpu);
		return;
	}
	seg_from_desc(&ncs, csel, desc);
	if (target > ncs.limit)
		cpu_gp(cpu, 0);
	if (call) {
		stack_push(cpu, psize, cpu->seg[S_CS].sel);
		stack_push(cpu, psize, ret_eip);
	}
	seg_set_accessed(cpu, csel, desc);
	load_cs_desc(cpu, csel, desc, cpu->cpl);
	cpu->eip = target;
	cpu_update_mode(cpu);
	(void)osz;
}

/* The descriptor a far transfer goes through: a null selector is #GP(0),
 * one outside its table #GP(selector). */
static void read_target_desc(struct cpu *cpu, uint16_t sel, uint32_t desc[2])
{
	if ((sel & ~3u) == 0)
		cpu_gp(cpu, 0);
	if (!seg_read_desc(cpu, sel, desc))
		cpu_gp(cpu, sel & 0xfffc);
}

/* A far CALL's return address, CS then EIP; SP moves only once both are
 * written, so a fault on the second leaves the stack as it was. */
static void push_far_return(struct cpu *cpu, unsigned osz, uint32_t ret_eip)
{
	uint32_t sp = sp_get(cpu);
	uint32_t smask = cpu->stack32 ? 0xffffffffu : 0xffff;
	wr(cpu, S_SS, (sp - osz) & smask, osz, cpu->seg[S_CS].sel);
	wr(cpu, S_SS, (sp - 2 * osz) & smask, osz, ret_eip);
	sp_set(cpu, sp - 2 * osz);
}

void cpu_far_jump(struct cpu *cpu, uint16_t sel, uint32_t off, unsigned osz, bool call, uint32_t ret_eip)
{
	if (!cpu->pe || cpu->vm86) {
		if (osz == 2)
			off &= 0xffff;
		if (call)
			push_far_return(cpu, osz, ret_eip);
		seg_load_real(cpu, S_CS, sel);
		cpu->eip = off;
		return;
	}
	uint32_t desc[2];
	read_target_desc(cpu, sel, desc);
	if (desc[1] & 0x1000) {
		check_code(cpu, sel, desc, cpu->cpl, false);
		struct cpu_seg ncs;
		seg_from_desc(&ncs, sel, desc);
		if (osz == 2)
			off &= 0xffff;
		if (off > ncs.limit)
			cpu_gp(cpu, 0);
		if (call)
			push_far_return(cpu, osz, ret_eip);
		seg_set_accessed(cpu, sel, desc);
		load_cs_desc(cpu, sel, desc, cpu->cpl);
		cpu->eip = off;
		cpu_update_mode(cpu);
		return;
	}
	unsigned type = (desc[1] >> 8) & 0xf, dpl = (desc[1] >> 13) & 3;
	switch (type) {
	case 0x4: case 0xc:
		call_gate(cpu, sel, desc, call, osz, ret_eip);
		return;
	case 0x1: case 0x9:     /* available TSS */
		if (dpl < cpu->cpl || dpl < (sel & 3u))
			cpu_gp(cpu, sel & 0xfffc);
		if (!(desc[1] & 0x8000))
			cpu_raise(cpu, EXC_NP, sel & 0xfffc, true);
		cpu_task_switch(cpu, sel, desc, call ? TS_CALL : TS_JMP, ret_eip);
		return;
	case 0x5: {             /* task gate */
		if (dpl < cpu->cpl || dpl < (sel & 3u))
			cpu_gp(cpu, sel & 0xfffc);
		if (!(desc[1] & 0x8000))
			cpu_raise(cpu, EXC_NP, sel & 0xfffc, true);
		uint16_t tsel = (uint16_t)(desc[0] >> 16);
		uint32_t tdesc[2];
		if ((tsel & 4) || !seg_read_desc(cpu, tsel, tdesc))
			cpu_gp(cpu, tsel & 0xfffc);
		cpu_task_switch(cpu, tsel, tdesc, call ? TS_CALL : TS_JMP, ret_eip);
		return;
	}
	default:
		cpu_gp(cpu, sel & 0xfffc);
	}
}

void h_jmpf(struct cpu *cpu, const struct insn *in)
{
	cpu_far_jump(cpu, (uint16_t)in->imm2, in->imm, in->osz, false, cpu->eip);
}

void h_callf(struct cpu *cpu, const struct insn *in)
{
	cpu_far_jump(cpu, (uint16_t)in->imm2, in->imm, in->osz, true, cpu->eip);
}

static void far_ptr(struct cpu *cpu, const struct insn *in, uint16_t *sel, uint32_t *off)
{
	uint32_t ea = ea_of(cpu, in);
	*off = rd(cpu, in->seg, ea, in->osz);
	uint32_t ea2 = ea + in->osz;
	if (in->asz == 2)
		ea2 &= 0xffff;
	*sel = (uint16_t)rd(cpu, in->seg, ea2, 2);
}

void h_jmpf_ind(struct cpu *cpu, const struct insn *in)
{
	uint16_t sel;
	uint32_t off;
	far_ptr(cpu, in, &sel, &off);
	cpu_far_jump(cpu, sel, off, in->osz, false, cpu->eip);
}

void h_callf_ind(struct cpu *cpu, const struct insn *in)
{
	uint16_t sel;
	uint32_t off;
	far_ptr(cpu, in, &sel, &off);
	cpu_far_jump(cpu, sel, off, in->osz, true, cpu->eip);
}

/* After a return to an outer level: data segments the new CPL may not use become null. */
static void null_inaccessible(struct cpu *cpu)
{
	static const int segs[4] = { S_ES, S_DS, S_FS, S_GS };
	for (int i = 0; i < 4; i++) {
		struct cpu_seg *sc = &cpu->seg[segs[i]];
		unsigned dpl = (sc->attr >> 5) & 3;
		bool conforming_code = (sc->attr & 0x1c) == 0x1c;
		if ((sc->sel & ~3u) == 0 || !(sc->attr & 0x10))
			continue;
		if (!conforming_code && dpl < cpu->cpl) {
			sc->sel = 0;
			sc->attr = 0;
			sc->base = 0;
			sc->limit = 0;
		}
	}
}
/* The stack a far RET or IRET to an outer level switches to: a present,
 * writable data segment whose RPL and DPL are the new CPL (RPL); #GP
 * otherwise, #SS if it is not present. Reads its descriptor into SDESC. */
static void read_outer_ss(struct cpu *cpu, uint16_t nss_sel, unsigned rpl, uint32_t sdesc[2])
{
	uint16_t serr = nss_sel & 0xfffc;
	if ((nss_sel & ~3u) == 0)
		cpu_gp(cpu, 0);
	if (!seg_read_desc(cpu, nss_sel, sdesc))
		cpu_gp(cpu, serr);
	unsigned stype = (sdesc[1] >> 8) & 0x1f, sdpl = (sdesc[1] >> 13) & 3;
	if ((nss_sel & 3) != rpl || sdpl != rpl || (stype & 0x1a) != 0x12)
		cpu_gp(cpu, serr);
	if (!(sdesc[1] & 0x8000))
		cpu_raise(cpu, EXC_SS, serr, true);
}


void cpu_far_return(struct cpu *cpu, unsigned osz, uint32_t extra)
{
	uint32_t off = stack_peek(cpu, osz, 0);
	uint16_t sel = (uint16_t)stack_peek(cpu, osz, osz);
	if (!cpu->pe || cpu->vm86) {
		if (osz == 2)
			off &= 0xffff;
		seg_load_real(cpu, S_CS, sel);
		sp_set(cpu, sp_get(cpu) + 2 * osz + extra);
		cpu->eip = off;
		return;
	}
	uint32_t desc[2];
	read_target_desc(cpu, sel, desc);
	check_code(cpu, sel, desc, cpu->cpl, true);
	if (osz == 2)
		off &= 0xffff;
	unsigned rpl = sel & 3;
	struct cpu_seg ncs;
	seg_from_desc(&ncs, sel, desc);
	if (off > ncs.limit)
		cpu_gp(cpu, 0);
	if (rpl == cpu->cpl) {
		seg_set_accessed(cpu, sel, desc);
		load_cs_desc(cpu, sel, desc, rpl);
		sp_set(cpu, sp_get(cpu) + 2 * osz + extra);
		cpu->eip = off;
		cpu_update_mode(cpu);
		return;
	}
	/* Return to an outer privilege level: SS:ESP follow the parameters. */
	uint32_t nesp = stack_peek(cpu, osz, 2 * osz + extra);
	uint16_t nss_sel = (uint16_t)stack_peek(cpu, osz, 3 * osz + extra);
	uint32_t sdesc[2];
	read_outer_ss(cpu, nss_sel, rpl, sdesc);
	seg_set_accessed(cpu, sel, desc);
	seg_set_accessed(cpu, nss_sel, sdesc);
	load_cs_desc(cpu, sel, desc, rpl);
	seg_from_desc(&cpu->seg[S_SS], nss_sel, sdesc);
	cpu_update_mode(cpu);
	sp_set(cpu, (osz == 2 ? nesp & 0xffff : nesp) + extra);
	if (!cpu->stack32 && osz == 4)
		cpu->gpr[R_ESP] = (cpu->gpr[R_ESP] & 0xffff0000u) | ((nesp + extra) & 0xffff);
	cpu->eip = off;
	null_inaccessible(cpu);
	cpu_update_mode(cpu);
}

void h_retf(struct cpu *cpu, const struct insn *in)
{
	cpu_far_return(cpu, in->osz, in->op == 0xca ? (in->imm & 0xffff) : 0);
}

/* ---- interrupts ---- */

void h_intn(struct cpu *cpu, const struct insn *in)
{
	if (cpu->vm86 && ((cpu->eflags >> 12) & 3) < 3)
		cpu_gp(cpu, 0);
	cpu_deliver(cpu, in->imm & 0xff, 0, false, true, cpu->eip);
}

void h_int3(struct cpu *cpu, const struct insn *in)
{
	cpu_deliver(cpu, EXC_BP, 0, false, true, cpu->eip);
}

void h_into(struct cpu *cpu, const struct insn *in)
{
	if (cpu_cond(cpu, 0))
		cpu_deliver(cpu, EXC_OF, 0, false, true, cpu->eip);
}

void h_int1(struct cpu *cpu, const struct insn *in)
{
	cpu_deliver(cpu, EXC_DB, 0, false, false, cpu->eip);
}

/* EFLAGS bits a POPF/IRET may change, given the privilege rules. */
uint32_t cpu_flags_writable(const struct cpu *cpu, unsigned osz, bool iret)
{
	uint32_t m = F_CF | F_PF | F_AF | F_ZF | F_SF | F_TF | F_DF | F_OF | F_NT;
	if (osz == 4)
		m |= F_AC | F_ID | (iret ? F_RF : 0);
	if (cpu->pe && !cpu->vm86 && cpu->cpl == 0) {
		m |= F_IOPL | F_IF;
		if (iret && osz == 4)
			m |= F_VIF | F_VIP;
	} else if (cpu->vm86 || cpu->cpl <= ((cpu->eflags >> 12) & 3) || !cpu->pe) {
		m |= F_IF;
		if (!cpu->pe)
			m |= F_IOPL;
	}
	return m;
}

static void iret_task(struct cpu *cpu)
{
	uint16_t back = (uint16_t)lin_read(cpu, cpu->seg[S_TR].base, 2, false);
	uint32_t desc[2];
	if ((back & 4) || !seg_read_desc(cpu, back, desc))
		cpu_raise(cpu, EXC_TS, back & 0xfffc, true);
	unsigned type = (desc[1] >> 8) & 0x1f;
	if (type != 0x0b && type != 0x03)
		cpu_raise(cpu, EXC_TS, back & 0xfffc, true);
	if (!(desc[1] & 0x8000))
		cpu_raise(cpu, EXC_NP, back & 0xfffc, true);
	cpu_task_switch(cpu, back, desc, TS_IRET, cpu->eip);
}

void cpu_iret(struct cpu *cpu, unsigned osz)
{
	cpu->nmi_blocked = false;
	if (!cpu->pe) {
		uint32_t ip = stack_peek(cpu, osz, 0);
		uint16_t cs = (uint16_t)stack_peek(cpu, osz, osz);
		uint32_t fl = stack_peek(cpu, osz, 2 * osz);
		sp_set(cpu, sp_get(cpu) + 3 * osz);
		seg_load_real(cpu, S_CS, cs);
		cpu->eip = osz == 2 ? ip & 0xffff : ip;
		cpu_set_flags(cpu, fl, cpu_flags_writable(cpu, osz, true));
		return;
	}
	if (cpu->vm86) {
		if (((cpu->eflags >> 12) & 3) < 3)
			cpu_gp(cpu, 0);
		uint32_t ip = stack_peek(cpu, osz, 0);
		uint16_t cs = (uint16_t)stack_peek(cpu, osz, osz);
		uint32_t fl = stack_peek(cpu, osz, 2 * osz);
		if (osz == 2)
			ip &= 0xffff;
		if (ip > 0xffff)
			cpu_gp(cpu, 0);
		sp_set(cpu, sp_get(cpu) + 3 * osz);
		seg_load_real(cpu, S_CS, cs);
		cpu->eip = ip;
		cpu_set_flags(cpu, fl, cpu_flags_writable(cpu, osz, true));
		return;
	}
	if (cpu->eflags & F_NT) {
		iret_task(cpu);
		return;
	}
	uint32_t ip = stack_peek(cpu, osz, 0);
	uint16_t sel = (uint16_t)stack_peek(cpu, osz, osz);
	uint32_t fl = stack_peek(cpu, osz, 2 * osz);
	if (osz == 4 && (fl & F_VM) && cpu->cpl == 0) {
		/* Back to V86 mode: the frame holds ESP, SS, ES, DS, FS, GS too. */
		uint32_t v[6];
		for (int i = 0; i < 6; i++)
			v[i] = stack_peek(cpu, 4, 12 + 4 * (uint32_t)i);
		cpu->eflags = (fl & 0x003f7fd7u) | 2;
		cpu->cc_op = CC_EFLAGS;
		cpu->cpl = 3;
		cpu_update_mode(cpu);
		seg_load_real(cpu, S_CS, sel);
		seg_load_real(cpu, S_SS, (uint16_t)v[1]);
		seg_load_real(cpu, S_ES, (uint16_t)v[2]);
		seg_load_real(cpu, S_DS, (uint16_t)v[3]);
		seg_load_real(cpu, S_FS, (uint16_t)v[4]);
		seg_load_real(cpu, S_GS, (uint16_t)v[5]);
		cpu->gpr[R_ESP] = v[0];
		cpu->eip = ip & 0xffff;
		cpu_update_mode(cpu);
		return;
	}
	uint32_t desc[2];
	read_target_desc(cpu, sel, desc);
	check_code(cpu, sel, desc, cpu->cpl, true);
	unsigned rpl = sel & 3;
	if (osz == 2)
		ip &= 0xffff;
	struct cpu_seg ncs;
	seg_from_desc(&ncs, sel, desc);
	if (ip > ncs.limit)
		cpu_gp(cpu, 0);
	uint32_t wmask = cpu_flags_writable(cpu, osz, true);
	if (rpl == cpu->cpl) {
		seg_set_accessed(cpu, sel, desc);
		sp_set(cpu, sp_get(cpu) + 3 * osz);
		load_cs_desc(cpu, sel, desc, rpl);
		cpu->eip = ip;
		cpu_set_flags(cpu, fl, wmask);
		cpu_update_mode(cpu);
		return;
	}
	uint32_t nesp = stack_peek(cpu, osz, 3 * osz);
	uint16_t nss_sel = (uint16_t)stack_peek(cpu, osz, 4 * osz);
	uint32_t sdesc[2];
	read_outer_ss(cpu, nss_sel, rpl, sdesc);
	seg_set_accessed(cpu, sel, desc);
	seg_set_accessed(cpu, nss_sel, sdesc);
	cpu_set_flags(cpu, fl, wmask);
	load_cs_desc(cpu, sel, desc, rpl);
	seg_from_desc(&cpu->seg[S_SS], nss_sel, sdesc);
	cpu_update_mode(cpu);
	if (cpu->stack32)
		cpu->gpr[R_ESP] = osz == 2 ? nesp & 0xffff : nesp;
	else
		cpu->gpr[R_ESP] = (cpu->gpr[R_ESP] & 0xffff0000u) | (nesp & 0xffff);
	cpu->eip = ip;
	null_inaccessible(cpu);
	cpu_update_mode(cpu);
}

void h_iret(struct cpu *cpu, const struct insn *in)
{
	cpu_iret(cpu, in->osz);
}

/* ---- hardware task switch ---- */

void cpu_task_switch(struct cpu *cpu, uint16_t sel, const uint32_t cdesc[2], int reason, uint32_t ret_eip)
{
	uint32_t desc[2] = { cdesc[0], cdesc[1] };
	unsigned type = (desc[1] >> 8) & 0xf;
	uint16_t err = sel & 0xfffc;
	bool new32 = type & 8;
	struct cpu_seg nt;
	seg_from_desc(&nt, sel, desc);
	if (!(desc[1] & 0x8000))
		cpu_raise(cpu, EXC_NP, err, true);
	if ((type & 7) != 1 && (type & 7) != 3)
		cpu_gp(cpu, err);
	if (reason == TS_IRET ? !(type & 2) : (type & 2))
		cpu_gp(cpu, err);       /* IRET needs a busy target, the others an available one */
	if (nt.limit < (new32 ? 0x67u : 0x2bu))
		cpu_raise(cpu, EXC_TS, err, true);
	struct cpu_seg *ot = &cpu->seg[S_TR];
	bool old32 = (ot->attr & 8) != 0;
	uint32_t flags = cpu_get_flags(cpu);
	if (reason == TS_IRET)
		flags &= ~F_NT;

	/* Read the whole new state before writing anything. */
	uint32_t n_eip, n_fl, n_gpr[8], n_cr3 = cpu->cr3;
	uint16_t n_seg[6], n_ldt;
	if (new32) {
		n_cr3 = lin_read(cpu, nt.base + 0x1c, 4, false);
		n_eip = lin_read(cpu, nt.base + 0x20, 4, false);
		n_fl = lin_read(cpu, nt.base + 0x24, 4, false);
		for (int i = 0; i < 8; i++)
			n_gpr[i] = lin_read(cpu, nt.base + 0x28 + 4 * (uint32_t)i, 4, false);
		for (int i = 0; i < 6; i++)
			n_seg[i] = (uint16_t)lin_read(cpu, nt.base + 0x48 + 4 * (uint32_t)i, 2, false);
		n_ldt = (uint16_t)lin_read(cpu, nt.base + 0x60, 2, false);
	} else {
		n_eip = lin_read(cpu, nt.base + 0x0e, 2, false);
		n_fl = lin_read(cpu, nt.base + 0x10, 2, false) | (flags & 0xffff0000u & ~F_VM);
		for (int i = 0; i < 8; i++)
			n_gpr[i] = (cpu->gpr[i] & 0xffff0000u) |
			           lin_read(cpu, nt.base + 0x12 + 2 * (uint32_t)i, 2, false);
		for (int i = 0; i < 4; i++)
			n_seg[i] = (uint16_t)lin_read(cpu, nt.base + 0x22 + 2 * (uint32_t)i, 2, false);
		n_seg[S_FS] = n_seg[S_GS] = 0;
		n_ldt = (uint16_t)lin_read(cpu, nt.base + 0x2a, 2, false);
	}
	/* Save the outgoing state into the current TSS. */
	if (old32) {
		mmu_probe_write(cpu, ot->base + 0x20, 0x48, false);
		lin_write(cpu, ot->base + 0x20, 4, ret_eip, false);
		lin_write(cpu, ot->base + 0x24, 4, flags, false);
		for (int i = 0; i < 8; i++)
			lin_write(cpu, ot->base + 0x28 + 4 * (uint32_t)i, 4, cpu->gpr[i], false);
		for (int i = 0; i < 6; i++)
			lin_write(cpu, ot->base + 0x48 + 4 * (uint32_t)i, 2, cpu->seg[i].sel, false);
	} else {
		mmu_probe_write(cpu, ot->base + 0x0e, 0x1c, false);
		lin_write(cpu, ot->base + 0x0e, 2, ret_eip, false);
		lin_write(cpu, ot->base + 0x10, 2, flags, false);
		for (int i = 0; i < 8; i++)
			lin_write(cpu, ot->base + 0x12 + 2 * (uint32_t)i, 2, cpu->gpr[i], false);
		for (int i = 0; i < 4; i++)
			lin_write(cpu, ot->base + 0x22 + 2 * (uint32_t)i, 2, cpu->seg[i].sel, false);
	}
	/* Busy bits: the old task stays busy only when nested (CALL/INT). */
	if (reason == TS_JMP || reason == TS_IRET) {
		uint32_t od[2];
		if (seg_read_desc(cpu, ot->sel, od)) {
			od[1] &= ~0x200u;
			lin_write(cpu, ((ot->sel & 4) ? cpu->seg[S_LDTR].base : cpu->gdtr_base) +
			          (ot->sel & ~7u) + 4, 4, od[1], false);
		}
	}
	if (reason == TS_CALL || reason == TS_INT) {
		lin_write(cpu, nt.base, 2, ot->sel, false);
		n_fl |= F_NT;
	}
	if (reason != TS_IRET) {
		desc[1] |= 0x200;
		lin_write(cpu, cpu->gdtr_base + (sel & ~7u) + 4, 4, desc[1], false);
	}
	seg_from_desc(&cpu->seg[S_TR], sel, desc);
	cpu->cr0 |= CR0_TS;
	/* Load the new task: registers first, then the checked segments. */
	if (new32 && (cpu->cr0 & CR0_PG) && n_cr3 != cpu->cr3) {
		cpu->cr3 = n_cr3;
		mmu_flush(cpu, true);
	}
	memcpy(cpu->gpr, n_gpr, sizeof(n_gpr));
	cpu->eip = n_eip;
	cpu->eflags = (n_fl & 0x003f7fd7u) | 2;
	cpu->cc_op = CC_EFLAGS;
	/* The new selectors are loaded into the caches; a bad one faults in the new task. */
	cpu->seg[S_LDTR].sel = n_ldt;
	if ((n_ldt & ~3u) != 0) {
		uint32_t ld[2];
		if ((n_ldt & 4) || !seg_read_desc(cpu, n_ldt, ld) || ((ld[1] >> 8) & 0x1f) != 2)
			cpu_raise(cpu, EXC_TS, n_ldt & 0xfffc, true);
		seg_from_desc(&cpu->seg[S_LDTR], n_ldt, ld);
	} else {
		cpu->seg[S_LDTR].attr = 0;
	}
	if (cpu->eflags & F_VM) {
		cpu->cpl = 3;
		cpu_update_mode(cpu);
		for (int s = 0; s < 6; s++)
			seg_load_real(cpu, s, n_seg[s]);
	} else {
		uint32_t cd[2];
		uint16_t cs = n_seg[S_CS];
		if ((cs & ~3u) == 0 || !seg_read_desc(cpu, cs, cd) || !(cd[1] & 0x1000) || !(cd[1] & 0x800))
			cpu_raise(cpu, EXC_TS, cs & 0xfffc, true);
		if (!(cd[1] & 0x8000))
			cpu_raise(cpu, EXC_NP, cs & 0xfffc, true);
		seg_from_desc(&cpu->seg[S_CS], cs, cd);
		cpu->cpl = cs & 3;
		cpu_update_mode(cpu);
		uint32_t sd[2];
		uint16_t ss = n_seg[S_SS];
		if ((ss & ~3u) == 0 || !seg_read_desc(cpu, ss, sd))
			cpu_raise(cpu, EXC_TS, ss & 0xfffc, true);
		seg_from_desc(&cpu->seg[S_SS], ss, sd);
		cpu_update_mode(cpu);
		static const int ds[4] = { S_ES, S_DS, S_FS, S_GS };
		for (int i = 0; i < 4; i++)
			seg_load(cpu, ds[i], n_seg[ds[i]]);
	}
	cpu_update_mode(cpu);
}
