/*
 * The x87 instruction forms the differential test compares, shared by the
 * 32-bit native runner (tests/x87/native.c) and the 64-bit replay in
 * tests/unit/test_x87.c, and the record format between them.
 *
 * The runner writes, per case: struct x87_rec_head, mem_len bytes of the
 * memory operand before, struct x87_rec_tail, mem_len bytes after. State
 * images are 108-byte FNSAVE/FRSTOR images in the 32-bit protected layout.
 */
#ifndef TESTS_X87_FORMS_H
#define TESTS_X87_FORMS_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum x87_mem_kind {
	MK_NONE, MK_F32, MK_F64, MK_F80, MK_I16, MK_I32, MK_I64, MK_BCD,
	MK_ENV, MK_SAVE, MK_CW, MK_OUT2, MK_OUT4, MK_OUT8, MK_OUT10, MK_OUTENV,
	MK_OUTSAVE, MK_FXSAVE, MK_FXRSTOR,
	/* Stores: the operand's size, but its bytes before do not matter. */
	MK_ST_F32 = MK_OUT4, MK_ST_F64 = MK_OUT8,
};

/* What kinds of operands a form reads, for case generation. */
enum x87_shape {
	SH_BINARY,      /* ST0 and ST(i), or ST0 and a memory value */
	SH_UNARY,       /* ST0 (and ST1 for a few): edge values one at a time */
	SH_STATE,       /* stack manipulation and control: random states */
};

enum x87_cat { CAT_ARITH, CAT_COMPARE, CAT_LOADSTORE, CAT_TRANS, CAT_CONTROL, CAT_STACK, CAT_COUNT };

struct x87_form {
	char name[24];
	uint16_t opcode;        /* 0xD8-0xDF or 0x0FAE */
	uint8_t modrm;          /* for memory forms: mod 00, r/m 101 (disp32) */
	uint8_t mem;            /* enum x87_mem_kind */
	uint8_t shape;
	uint8_t cat;
	uint8_t full_pairs;     /* binary forms compared over every pair of edge values */
};

static inline unsigned x87_mem_len(unsigned kind)
{
	switch (kind) {
	case MK_F32: case MK_I32: case MK_OUT4: return 4;
	case MK_F64: case MK_I64: case MK_OUT8: return 8;
	case MK_F80: case MK_BCD: case MK_OUT10: return 10;
	case MK_I16: case MK_CW: case MK_OUT2: return 2;
	case MK_ENV: case MK_OUTENV: return 28;
	case MK_SAVE: case MK_OUTSAVE: return 108;
	case MK_FXSAVE: case MK_FXRSTOR: return 512;
	default: return 0;
	}
}

#define X87_MAX_FORMS 320

struct x87_forms {
	struct x87_form f[X87_MAX_FORMS];
	int n;
};

static inline void x87_form_add(struct x87_forms *t, const char *name, unsigned opcode,
                                unsigned modrm, unsigned mem, unsigned shape, unsigned cat,
                                unsigned full)
{
	struct x87_form *f;

	if (t->n >= X87_MAX_FORMS)
		return;
	f = &t->f[t->n++];
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->opcode = (uint16_t)opcode;
	f->modrm = (uint8_t)modrm;
	f->mem = (uint8_t)mem;
	f->shape = (uint8_t)shape;
	f->cat = (uint8_t)cat;
	f->full_pairs = (uint8_t)full;
}

#define MEMRM(reg) ((unsigned)(((reg) << 3) | 5))

static inline void x87_forms_build(struct x87_forms *t)
{
	static const char *const arith[8] = { "fadd", "fmul", "fcom", "fcomp", "fsub", "fsubr", "fdiv", "fdivr" };
	/* DC/DE register forms name the operation the hardware does. */
	static const char *const arith_r[8] = { "fadd", "fmul", "fcom2", "fcomp3", "fsubr", "fsub", "fdivr", "fdiv" };
	static const char *const arithp[8] = { "faddp", "fmulp", "fcomp5", "fcompp", "fsubrp", "fsubp", "fdivrp", "fdivp" };
	static const char *const iarith[8] = { "fiadd", "fimul", "ficom", "ficomp", "fisub", "fisubr", "fidiv", "fidivr" };
	static const unsigned regs_i[3] = { 1, 0, 5 };
	char nm[24];

	memset(t, 0, sizeof(*t));
	for (unsigned r = 0; r < 8; r++) {
		unsigned cat = (r == 2 || r == 3) ? CAT_COMPARE : CAT_ARITH;
		snprintf(nm, sizeof(nm), "%s_m32", arith[r]);
		x87_form_add(t, nm, 0xd8, MEMRM(r), MK_F32, SH_BINARY, cat, 1);
		snprintf(nm, sizeof(nm), "%s_m64", arith[r]);
		x87_form_add(t, nm, 0xdc, MEMRM(r), MK_F64, SH_BINARY, cat, 1);
		snprintf(nm, sizeof(nm), "%s_m32int", iarith[r]);
		x87_form_add(t, nm, 0xda, MEMRM(r), MK_I32, SH_BINARY, cat, 0);
		snprintf(nm, sizeof(nm), "%s_m16int", iarith[r]);
		x87_form_add(t, nm, 0xde, MEMRM(r), MK_I16, SH_BINARY, cat, 0);
		for (unsigned k = 0; k < 3; k++) {
			unsigned i = regs_i[k];
			snprintf(nm, sizeof(nm), "%s_st0_st%u", arith[r], i);
			x87_form_add(t, nm, 0xd8, 0xc0 | r << 3 | i, MK_NONE, SH_BINARY, cat, i == 1);
			snprintf(nm, sizeof(nm), "%s_st%u_st0", arith_r[r], i);
			x87_form_add(t, nm, 0xdc, 0xc0 | r << 3 | i, MK_NONE, SH_BINARY, cat, 0);
			if (r == 3 && i != 1)
				continue;       /* DE D8+i other than D9 is not an instruction */
			snprintf(nm, sizeof(nm), "%s_st%u", arithp[r], i);
			x87_form_add(t, nm, 0xde, 0xc0 | r << 3 | i, MK_NONE, SH_BINARY, cat, i == 1 && r != 2 && r != 3);
		}
	}
	/* Loads and stores. */
	x87_form_add(t, "fld_m32", 0xd9, MEMRM(0), MK_F32, SH_UNARY, CAT_LOADSTORE, 0);
	x87_form_add(t, "fst_m32", 0xd9, MEMRM(2), MK_ST_F32, SH_UNARY, CAT_LOADSTORE, 0);
	x87_form_add(t, "fstp_m32", 0xd9, MEMRM(3), MK_ST_F32, SH_UNARY, CAT_LOADSTORE, 0);
	x87_form_add(t, "fld_m64", 0xdd, MEMRM(0), MK_F64, SH_UNARY, CAT_LOADSTORE, 0);
	x87_form_add(t, "fst_m64", 0xdd, MEMRM(2), MK_ST_F64, SH_UNARY, CAT_LOADSTORE, 0);
	x87_form_add(t, "fstp_m64", 0xdd, MEMRM(3), MK_ST_F64, SH_UNARY, CAT_LOADSTORE, 0);
	x87_form_add(t, "fld_m80", 0xdb, MEMRM(5), MK_F80, SH_UNARY, CAT_LOADSTORE, 0);
	x87_form_add(t, "fstp_m80", 0xdb, MEMRM(7), MK_OUT10, SH_UNARY, CAT_LOADSTORE, 0);
	x87_form_add(t, "fild_m16", 0xdf, MEMRM(0), MK_I16, SH_UNARY, CAT_LOADSTORE, 0);
	x87_form_add(t, "fist_m16", 0xdf, MEMRM(2), MK_OUT2, SH_UNARY, CAT_LOADSTORE, 0);
	x87_form_add(t, "fistp_m16", 0xdf, MEMRM(3), MK_OUT2, SH_UNARY, CAT_LOADSTORE, 0);
	x87_form_add(t, "fild_m32", 0xdb, MEMRM(0), MK_I32, SH_UNARY, CAT_LOADSTORE, 0);
	x87_form_add(t, "fist_m32", 0xdb, MEMRM(2), MK_OUT4, SH_UNARY, CAT_LOADSTORE, 0);
	x87_form_add(t, "fistp_m32", 0xdb, MEMRM(3), MK_OUT4, SH_UNARY, CAT_LOADSTORE, 0);
	x87_form_add(t, "fild_m64", 0xdf, MEMRM(5), MK_I64, SH_UNARY, CAT_LOADSTORE, 0);
	x87_form_add(t, "fistp_m64", 0xdf, MEMRM(7), MK_OUT8, SH_UNARY, CAT_LOADSTORE, 0);
	x87_form_add(t, "fbld", 0xdf, MEMRM(4), MK_BCD, SH_UNARY, CAT_LOADSTORE, 0);
	x87_form_add(t, "fbstp", 0xdf, MEMRM(6), MK_OUT10, SH_UNARY, CAT_LOADSTORE, 0);
	for (unsigned k = 0; k < 3; k++) {
		unsigned i = (unsigned[]){ 1, 0, 7 }[k];
		snprintf(nm, sizeof(nm), "fld_st%u", i);
		x87_form_add(t, nm, 0xd9, 0xc0 | i, MK_NONE, SH_UNARY, CAT_LOADSTORE, 0);
		snprintf(nm, sizeof(nm), "fst_st%u", i);
		x87_form_add(t, nm, 0xdd, 0xd0 | i, MK_NONE, SH_UNARY, CAT_LOADSTORE, 0);
		snprintf(nm, sizeof(nm), "fstp_st%u", i);
		x87_form_add(t, nm, 0xdd, 0xd8 | i, MK_NONE, SH_UNARY, CAT_LOADSTORE, 0);
		snprintf(nm, sizeof(nm), "fstp1_st%u", i);
		x87_form_add(t, nm, 0xd9, 0xd8 | i, MK_NONE, SH_UNARY, CAT_LOADSTORE, 0);
		snprintf(nm, sizeof(nm), "fstp8_st%u", i);
		x87_form_add(t, nm, 0xdf, 0xd0 | i, MK_NONE, SH_UNARY, CAT_LOADSTORE, 0);
		snprintf(nm, sizeof(nm), "fstp9_st%u", i);
		x87_form_add(t, nm, 0xdf, 0xd8 | i, MK_NONE, SH_UNARY, CAT_LOADSTORE, 0);
	}
	/* Constants. */
	static const char *const consts[7] = { "fld1", "fldl2t", "fldl2e", "fldpi", "fldlg2", "fldln2", "fldz" };
	for (unsigned k = 0; k < 7; k++)
		x87_form_add(t, consts[k], 0xd9, 0xe8 + k, MK_NONE, SH_STATE, CAT_LOADSTORE, 0);
	/* One-operand arithmetic and tests. */
	x87_form_add(t, "fchs", 0xd9, 0xe0, MK_NONE, SH_UNARY, CAT_ARITH, 0);
	x87_form_add(t, "fabs", 0xd9, 0xe1, MK_NONE, SH_UNARY, CAT_ARITH, 0);
	x87_form_add(t, "ftst", 0xd9, 0xe4, MK_NONE, SH_UNARY, CAT_COMPARE, 0);
	x87_form_add(t, "fxam", 0xd9, 0xe5, MK_NONE, SH_UNARY, CAT_COMPARE, 0);
	x87_form_add(t, "fsqrt", 0xd9, 0xfa, MK_NONE, SH_UNARY, CAT_ARITH, 0);
	x87_form_add(t, "frndint", 0xd9, 0xfc, MK_NONE, SH_UNARY, CAT_ARITH, 0);
	x87_form_add(t, "fxtract", 0xd9, 0xf4, MK_NONE, SH_UNARY, CAT_ARITH, 0);
	x87_form_add(t, "fprem", 0xd9, 0xf8, MK_NONE, SH_BINARY, CAT_ARITH, 1);
	x87_form_add(t, "fprem1", 0xd9, 0xf5, MK_NONE, SH_BINARY, CAT_ARITH, 1);
	x87_form_add(t, "fscale", 0xd9, 0xfd, MK_NONE, SH_BINARY, CAT_ARITH, 1);
	/* Transcendentals. */
	x87_form_add(t, "f2xm1", 0xd9, 0xf0, MK_NONE, SH_UNARY, CAT_TRANS, 0);
	x87_form_add(t, "fyl2x", 0xd9, 0xf1, MK_NONE, SH_BINARY, CAT_TRANS, 1);
	x87_form_add(t, "fptan", 0xd9, 0xf2, MK_NONE, SH_UNARY, CAT_TRANS, 0);
	x87_form_add(t, "fpatan", 0xd9, 0xf3, MK_NONE, SH_BINARY, CAT_TRANS, 1);
	x87_form_add(t, "fyl2xp1", 0xd9, 0xf9, MK_NONE, SH_BINARY, CAT_TRANS, 1);
	x87_form_add(t, "fsincos", 0xd9, 0xfb, MK_NONE, SH_UNARY, CAT_TRANS, 0);
	x87_form_add(t, "fsin", 0xd9, 0xfe, MK_NONE, SH_UNARY, CAT_TRANS, 0);
	x87_form_add(t, "fcos", 0xd9, 0xff, MK_NONE, SH_UNARY, CAT_TRANS, 0);
	/* Compares and conditional moves. */
	for (unsigned k = 0; k < 3; k++) {
		unsigned i = (unsigned[]){ 1, 0, 3 }[k];
		snprintf(nm, sizeof(nm), "fucom_st%u", i);
		x87_form_add(t, nm, 0xdd, 0xe0 | i, MK_NONE, SH_BINARY, CAT_COMPARE, i == 1);
		snprintf(nm, sizeof(nm), "fucomp_st%u", i);
		x87_form_add(t, nm, 0xdd, 0xe8 | i, MK_NONE, SH_BINARY, CAT_COMPARE, 0);
		snprintf(nm, sizeof(nm), "fucomi_st%u", i);
		x87_form_add(t, nm, 0xdb, 0xe8 | i, MK_NONE, SH_BINARY, CAT_COMPARE, i == 1);
		snprintf(nm, sizeof(nm), "fcomi_st%u", i);
		x87_form_add(t, nm, 0xdb, 0xf0 | i, MK_NONE, SH_BINARY, CAT_COMPARE, i == 1);
		snprintf(nm, sizeof(nm), "fucomip_st%u", i);
		x87_form_add(t, nm, 0xdf, 0xe8 | i, MK_NONE, SH_BINARY, CAT_COMPARE, 0);
		snprintf(nm, sizeof(nm), "fcomip_st%u", i);
		x87_form_add(t, nm, 0xdf, 0xf0 | i, MK_NONE, SH_BINARY, CAT_COMPARE, 0);
		for (unsigned c = 0; c < 4; c++) {
			static const char *const cc[4] = { "b", "e", "be", "u" };
			snprintf(nm, sizeof(nm), "fcmov%s_st%u", cc[c], i);
			x87_form_add(t, nm, 0xda, 0xc0 | c << 3 | i, MK_NONE, SH_STATE, CAT_COMPARE, 0);
			snprintf(nm, sizeof(nm), "fcmovn%s_st%u", cc[c], i);
			x87_form_add(t, nm, 0xdb, 0xc0 | c << 3 | i, MK_NONE, SH_STATE, CAT_COMPARE, 0);
		}
	}
	x87_form_add(t, "fucompp", 0xda, 0xe9, MK_NONE, SH_BINARY, CAT_COMPARE, 0);
	/* Stack and control. */
	for (unsigned k = 0; k < 3; k++) {
		unsigned i = (unsigned[]){ 1, 0, 6 }[k];
		snprintf(nm, sizeof(nm), "fxch_st%u", i);
		x87_form_add(t, nm, 0xd9, 0xc8 | i, MK_NONE, SH_STATE, CAT_STACK, 0);
		snprintf(nm, sizeof(nm), "fxch4_st%u", i);
		x87_form_add(t, nm, 0xdd, 0xc8 | i, MK_NONE, SH_STATE, CAT_STACK, 0);
		snprintf(nm, sizeof(nm), "fxch7_st%u", i);
		x87_form_add(t, nm, 0xdf, 0xc8 | i, MK_NONE, SH_STATE, CAT_STACK, 0);
		snprintf(nm, sizeof(nm), "ffree_st%u", i);
		x87_form_add(t, nm, 0xdd, 0xc0 | i, MK_NONE, SH_STATE, CAT_STACK, 0);
		snprintf(nm, sizeof(nm), "ffreep_st%u", i);
		x87_form_add(t, nm, 0xdf, 0xc0 | i, MK_NONE, SH_STATE, CAT_STACK, 0);
	}
	x87_form_add(t, "fnop", 0xd9, 0xd0, MK_NONE, SH_STATE, CAT_STACK, 0);
	x87_form_add(t, "fdecstp", 0xd9, 0xf6, MK_NONE, SH_STATE, CAT_STACK, 0);
	x87_form_add(t, "fincstp", 0xd9, 0xf7, MK_NONE, SH_STATE, CAT_STACK, 0);
	x87_form_add(t, "fneni", 0xdb, 0xe0, MK_NONE, SH_STATE, CAT_CONTROL, 0);
	x87_form_add(t, "fndisi", 0xdb, 0xe1, MK_NONE, SH_STATE, CAT_CONTROL, 0);
	x87_form_add(t, "fnclex", 0xdb, 0xe2, MK_NONE, SH_STATE, CAT_CONTROL, 0);
	x87_form_add(t, "fninit", 0xdb, 0xe3, MK_NONE, SH_STATE, CAT_CONTROL, 0);
	x87_form_add(t, "fnsetpm", 0xdb, 0xe4, MK_NONE, SH_STATE, CAT_CONTROL, 0);
	x87_form_add(t, "fnstsw_ax", 0xdf, 0xe0, MK_NONE, SH_STATE, CAT_CONTROL, 0);
	x87_form_add(t, "fnstsw_m16", 0xdd, MEMRM(7), MK_OUT2, SH_STATE, CAT_CONTROL, 0);
	x87_form_add(t, "fnstcw", 0xd9, MEMRM(7), MK_OUT2, SH_STATE, CAT_CONTROL, 0);
	x87_form_add(t, "fldcw", 0xd9, MEMRM(5), MK_CW, SH_STATE, CAT_CONTROL, 0);
	x87_form_add(t, "fnstenv", 0xd9, MEMRM(6), MK_OUTENV, SH_STATE, CAT_CONTROL, 0);
	x87_form_add(t, "fldenv", 0xd9, MEMRM(4), MK_ENV, SH_STATE, CAT_CONTROL, 0);
	x87_form_add(t, "fnsave", 0xdd, MEMRM(6), MK_OUTSAVE, SH_STATE, CAT_CONTROL, 0);
	x87_form_add(t, "frstor", 0xdd, MEMRM(4), MK_SAVE, SH_STATE, CAT_CONTROL, 0);
	x87_form_add(t, "fxsave", 0x0fae, MEMRM(0), MK_FXSAVE, SH_STATE, CAT_CONTROL, 0);
	x87_form_add(t, "fxrstor", 0x0fae, MEMRM(1), MK_FXRSTOR, SH_STATE, CAT_CONTROL, 0);
}

/* One case, as the runner writes it. */
struct x87_rec_head {
	uint16_t form;
	uint16_t mem_len;
	uint32_t eflags_in;
	uint32_t eip;           /* linear address of the instruction, for FIP */
	uint32_t ea;            /* of the memory operand, for FDP */
	uint8_t before[108];
} __attribute__((packed));

struct x87_rec_tail {
	uint8_t after[108];
	uint32_t eflags_out;
	uint16_t ax_out;
	uint16_t cs, ds;
} __attribute__((packed));

#endif
