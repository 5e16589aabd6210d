/*
 * Specialised handlers for the forms that dominate real code (32-bit ALU
 * on registers, loads and stores, conditional branches, INC/DEC), chosen
 * once when a block is built so the hot path skips the generic handlers'
 * operand-form switches. Each must behave exactly like the generic one;
 * the ALU test against the host covers both (blocks use these).
 */
#include "translator/cpu_int.h"

/* ALU op bodies: result and lazy-flag kind, for 32-bit operands. */
#define ALU_OPS(X) \
	X(add, a + b, CC_ADD, 1) \
	X(sub, a - b, CC_SUB, 1) \
	X(cmp, a - b, CC_SUB, 0) \
	X(and, a & b, CC_LOGIC, 1) \
	X(or,  a | b, CC_LOGIC, 1) \
	X(xor, a ^ b, CC_LOGIC, 1)

/* reg, reg: destination in in->rm, source in in->reg (set up by fastpath_select). */
#define RR(name, expr, op, store) \
static void h_##name##_rr32(struct cpu *cpu, const struct insn *in) \
{ \
	uint32_t a = cpu->gpr[in->rm], b = cpu->gpr[in->reg], r = expr; \
	if (store) \
		cpu->gpr[in->rm] = r; \
	cc_set(cpu, op, 4, a, b, r); \
}
ALU_OPS(RR)

/* reg, imm: destination in in->rm. */
#define RI(name, expr, op, store) \
static void h_##name##_ri32(struct cpu *cpu, const struct insn *in) \
{ \
	uint32_t a = cpu->gpr[in->rm], b = in->imm, r = expr; \
	if (store) \
		cpu->gpr[in->rm] = r; \
	cc_set(cpu, op, 4, a, b, r); \
}
ALU_OPS(RI)

/* reg, mem: destination in in->reg. */
#define RM(name, expr, op, store) \
static void h_##name##_rm32(struct cpu *cpu, const struct insn *in) \
{ \
	uint32_t b = rd(cpu, in->seg, ea_of(cpu, in), 4), a = cpu->gpr[in->reg], r = expr; \
	if (store) \
		cpu->gpr[in->reg] = r; \
	cc_set(cpu, op, 4, a, b, r); \
}
ALU_OPS(RM)

static void h_test_rr32(struct cpu *cpu, const struct insn *in)
{
	uint32_t a = cpu->gpr[in->rm], b = cpu->gpr[in->reg];
	cc_set(cpu, CC_LOGIC, 4, a, b, a & b);
}

static void h_mov_rr32(struct cpu *cpu, const struct insn *in)
{
	cpu->gpr[in->rm] = cpu->gpr[in->reg];
}

static void h_mov_ri32(struct cpu *cpu, const struct insn *in)
{
	cpu->gpr[in->reg] = in->imm;
}

static void h_load32(struct cpu *cpu, const struct insn *in)
{
	cpu->gpr[in->reg] = rd(cpu, in->seg, ea_of(cpu, in), 4);
}

static void h_store32(struct cpu *cpu, const struct insn *in)
{
	wr(cpu, in->seg, ea_of(cpu, in), 4, cpu->gpr[in->reg]);
}

static void h_store_imm32(struct cpu *cpu, const struct insn *in)
{
	wr(cpu, in->seg, ea_of(cpu, in), 4, in->imm);
}

static void h_load8_zx32(struct cpu *cpu, const struct insn *in)
{
	cpu->gpr[in->reg] = rd(cpu, in->seg, ea_of(cpu, in), 1);
}

static void h_load8(struct cpu *cpu, const struct insn *in)
{
	reg_set(cpu, in->reg, 1, rd(cpu, in->seg, ea_of(cpu, in), 1));
}

static void h_store8(struct cpu *cpu, const struct insn *in)
{
	wr(cpu, in->seg, ea_of(cpu, in), 1, reg_get(cpu, in->reg, 1));
}

static void h_store_imm8(struct cpu *cpu, const struct insn *in)
{
	wr(cpu, in->seg, ea_of(cpu, in), 1, in->imm);
}

static void h_lea32(struct cpu *cpu, const struct insn *in)
{
	cpu->gpr[in->reg] = ea_of(cpu, in);
}

static void h_inc_r32(struct cpu *cpu, const struct insn *in)
{
	uint32_t cf = cpu_get_cf(cpu), a = cpu->gpr[in->reg], r = a + 1;
	cpu->gpr[in->reg] = r;
	cc_set(cpu, CC_INC, 4, a, 1, r);
	cpu->cc_cf = cf;
}

static void h_dec_r32(struct cpu *cpu, const struct insn *in)
{
	uint32_t cf = cpu_get_cf(cpu), a = cpu->gpr[in->reg], r = a - 1;
	cpu->gpr[in->reg] = r;
	cc_set(cpu, CC_DEC, 4, a, 1, r);
	cpu->cc_cf = cf;
}

static void h_push_r32(struct cpu *cpu, const struct insn *in)
{
	if (unlikely(!cpu->stack32)) {
		h_push(cpu, in);
		return;
	}
	uint32_t sp = cpu->gpr[R_ESP] - 4;
	wr(cpu, S_SS, sp, 4, cpu->gpr[in->reg]);
	cpu->gpr[R_ESP] = sp;
}

static void h_pop_r32(struct cpu *cpu, const struct insn *in)
{
	if (unlikely(!cpu->stack32)) {
		h_pop(cpu, in);
		return;
	}
	uint32_t sp = cpu->gpr[R_ESP];
	uint32_t v = rd(cpu, S_SS, sp, 4);
	cpu->gpr[R_ESP] = sp + 4;
	cpu->gpr[in->reg] = v;
}

/* Shifts of a 32-bit register by an immediate (in->imm; 1 for the D1 forms) or by CL. */
#define SHIFT(name, cnt, expr, op) \
static void h_##name(struct cpu *cpu, const struct insn *in) \
{ \
	uint32_t c = (cnt) & 31, a = cpu->gpr[in->rm]; \
	if (!c) \
		return; \
	uint32_t r = expr; \
	cpu->gpr[in->rm] = r; \
	cc_set(cpu, op, 4, a, c, r); \
}
SHIFT(shl_ri32, in->imm, a << c, CC_SHL)
SHIFT(shr_ri32, in->imm, a >> c, CC_SHR)
SHIFT(sar_ri32, in->imm, (uint32_t)((int32_t)a >> c), CC_SAR)
SHIFT(shl_rc32, cpu->gpr[R_ECX], a << c, CC_SHL)
SHIFT(shr_rc32, cpu->gpr[R_ECX], a >> c, CC_SHR)
SHIFT(sar_rc32, cpu->gpr[R_ECX], (uint32_t)((int32_t)a >> c), CC_SAR)

/* Jcc with a 32-bit operand size, one per condition so it inlines. */
#define JCC(cc) \
static void h_jcc_##cc(struct cpu *cpu, const struct insn *in) \
{ \
	if (cond_fast(cpu, cc)) { \
		uint32_t target = cpu->eip + in->imm; \
		if (unlikely(target > cpu->seg[S_CS].limit)) \
			cpu_gp(cpu, 0); \
		cpu->eip = target; \
	} \
}
JCC(0) JCC(1) JCC(2) JCC(3) JCC(4) JCC(5) JCC(6) JCC(7)
JCC(8) JCC(9) JCC(10) JCC(11) JCC(12) JCC(13) JCC(14) JCC(15)

static const insn_fn jcc_fns[16] = {
	h_jcc_0, h_jcc_1, h_jcc_2, h_jcc_3, h_jcc_4, h_jcc_5, h_jcc_6, h_jcc_7,
	h_jcc_8, h_jcc_9, h_jcc_10, h_jcc_11, h_jcc_12, h_jcc_13, h_jcc_14, h_jcc_15,
};

/* ALU operation number (table arg) to the specialised handlers; NULL where none. */
static const insn_fn alu_rr[8] = { h_add_rr32, h_or_rr32, NULL, NULL, h_and_rr32, h_sub_rr32, h_xor_rr32, h_cmp_rr32 };
static const insn_fn alu_ri[8] = { h_add_ri32, h_or_ri32, NULL, NULL, h_and_ri32, h_sub_ri32, h_xor_ri32, h_cmp_ri32 };
static const insn_fn alu_rm[8] = { h_add_rm32, h_or_rm32, NULL, NULL, h_and_rm32, h_sub_rm32, h_xor_rm32, h_cmp_rm32 };

insn_fn fastpath_select(struct insn *in, insn_fn generic)
{
	const struct insn_form *f = &insn_forms[in->form];
	if (generic == h_mov && in->is_mem && in->osz == 1) {
		switch (in->op) {
		case 0x88: return h_store8;
		case 0x8a: return h_load8;
		case 0xc6: return h_store_imm8;
		default: return generic;
		}
	}
	if (in->osz != 4 || in->lock)
		return generic;
	if (generic == h_alu) {
		insn_fn fn;
		if (in->op < 0x40 && (in->op & 7) <= 1) {
			fn = in->is_mem ? NULL : alu_rr[in->arg];      /* E, G */
		} else if (in->op < 0x40 && (in->op & 7) >= 2 && (in->op & 7) <= 3) {
			if (in->is_mem) {
				fn = alu_rm[in->arg];
			} else {
				fn = alu_rr[in->arg];   /* G, E(reg): swap into rm=dest, reg=src */
				if (fn) {
					uint8_t t = in->rm;
					in->rm = in->reg;
					in->reg = t;
				}
			}
		} else if (in->op < 0x40) {
			fn = alu_ri[in->arg];           /* eAX, imm */
			if (fn)
				in->rm = R_EAX;
		} else if (!in->is_mem) {
			fn = alu_ri[in->arg];           /* group 1 on a register */
		} else {
			fn = NULL;
		}
		return fn ? fn : generic;
	}
	if (generic == h_test && !in->is_mem && (in->op == 0x85))
		return h_test_rr32;
	if (generic == h_mov) {
		switch (in->op) {
		case 0x89: return in->is_mem ? h_store32 : h_mov_rr32;
		case 0x8b:
			if (in->is_mem)
				return h_load32;
			{
				uint8_t t = in->rm;
				in->rm = in->reg;
				in->reg = t;
			}
			return h_mov_rr32;
		case 0xc7: return in->is_mem ? h_store_imm32 : generic;
		default:
			if (in->op >= 0xb8 && in->op <= 0xbf)
				return h_mov_ri32;
			return generic;
		}
	}
	if (generic == h_movzx && in->arg == 0 && in->is_mem)
		return h_load8_zx32;
	if (generic == h_lea)
		return h_lea32;
	if (generic == h_shift && !in->is_mem && in->arg >= 4) {
		static const insn_fn by_imm[4] = { h_shl_ri32, h_shr_ri32, h_shl_ri32, h_sar_ri32 };
		static const insn_fn by_cl[4] = { h_shl_rc32, h_shr_rc32, h_shl_rc32, h_sar_rc32 };
		switch (in->op) {
		case 0xc1: return by_imm[in->arg - 4];
		case 0xd1: in->imm = 1; return by_imm[in->arg - 4];
		case 0xd3: return by_cl[in->arg - 4];
		default: return generic;
		}
	}
	if (generic == h_jcc && f->opnd[0] != NONE)
		return jcc_fns[in->arg];
	if (generic == h_inc && in->op >= 0x40 && in->op < 0x48)
		return h_inc_r32;
	if (generic == h_dec && in->op >= 0x48 && in->op < 0x50)
		return h_dec_r32;
	if (generic == h_push && in->op >= 0x50 && in->op < 0x58)
		return h_push_r32;
	if (generic == h_pop && in->op >= 0x58 && in->op < 0x60)
		return h_pop_r32;
	return generic;
}

