/*
 * The x87 FPU: the register stack, tags, status and control words, the
 * instruction and operand pointers, and every escape instruction of a
 * Pentium II, over the software extended precision of x87_float.c.
 *
 * x87_exec() works on a copy of the state and commits it only after its
 * memory write (if any) succeeded, so a faulting access changes nothing.
 */
#include "translator/x87.h"

#include <string.h>

#include "lib/sbuf.h"
#include "translator/x87_float.h"

#define X87_SAVE_VERSION 1

/* Status word bits. */
enum {
	SW_SF = 0x0040, SW_ES = 0x0080,
	SW_C0 = 0x0100, SW_C1 = 0x0200, SW_C2 = 0x0400, SW_C3 = 0x4000,
	SW_B = 0x8000, SW_TOP = 0x3800,
	SW_CC = SW_C0 | SW_C1 | SW_C2 | SW_C3,
	SW_EXC = 0x003f,
};

enum { TAG_VALID, TAG_ZERO, TAG_SPECIAL, TAG_EMPTY };

/* EFLAGS bits FCOMI writes and FCMOVcc reads. */
enum { FL_CF = 0x01, FL_PF = 0x04, FL_AF = 0x10, FL_ZF = 0x40, FL_SF = 0x80, FL_OF = 0x800 };

/* One instruction in flight: the working copy of the state and its I/O. */
struct run {
	struct x87 s;
	const struct x87_insn *insn;
	const struct x87_mem *mem;
	struct x87_out *out;
	struct fx_env env;
	uint8_t wbuf[512];
	unsigned wlen;          /* a pending memory write of wlen bytes, or 0 */
	bool control;           /* a control instruction: FIP/FDP/FOP unchanged */
	bool has_mem;           /* a memory operand: FDP/FDS updated */
};

/* ---- state helpers ---- */

static unsigned top_of(const struct x87 *s)
{
	return (s->sw >> 11) & 7;
}

static void set_top(struct x87 *s, unsigned top)
{
	s->sw = (uint16_t)((s->sw & ~SW_TOP) | ((top & 7) << 11));
}

static unsigned phys(const struct x87 *s, unsigned i)
{
	return (top_of(s) + i) & 7;
}

static unsigned tag_for(fx v)
{
	unsigned e = fx_exp(v);

	if (e == 0)
		return v.mant == 0 ? TAG_ZERO : TAG_SPECIAL;
	if (e == FX_EXP_MAX || !(v.mant & FX_INT_BIT))
		return TAG_SPECIAL;
	return TAG_VALID;
}

static unsigned tag_get(const struct x87 *s, unsigned p)
{
	return (s->tw >> (2 * p)) & 3;
}

static void tag_set(struct x87 *s, unsigned p, unsigned tag)
{
	s->tw = (uint16_t)((s->tw & ~(3u << (2 * p))) | (tag << (2 * p)));
}

static bool st_empty(const struct x87 *s, unsigned i)
{
	return tag_get(s, phys(s, i)) == TAG_EMPTY;
}

static fx st_get(const struct x87 *s, unsigned i)
{
	return s->r[phys(s, i)];
}

static void st_set(struct x87 *s, unsigned i, fx v)
{
	unsigned p = phys(s, i);
	s->r[p] = v;
	tag_set(s, p, tag_for(v));
}

static void pop(struct x87 *s)
{
	tag_set(s, phys(s, 0), TAG_EMPTY);
	set_top(s, top_of(s) + 1);
}

/* Recomputes every non-empty tag from its register (after FLDENV and the like). */
static void retag(struct x87 *s)
{
	for (unsigned p = 0; p < 8; p++)
		if (tag_get(s, p) != TAG_EMPTY)
			tag_set(s, p, tag_for(s->r[p]));
}

static void set_cc(struct run *r, uint16_t cc)
{
	r->s.sw = (uint16_t)((r->s.sw & ~SW_CC) | cc);
}

static void set_c1(struct run *r, bool c1)
{
	r->s.sw = (uint16_t)((r->s.sw & ~SW_C1) | (c1 ? SW_C1 : 0));
}

/* ---- exceptions ---- */

/* Folds the operation's flags into SW; true when an unmasked IE, DE or ZE
 * means the instruction must leave its destination and the stack alone. */
static bool raise_flags(struct run *r)
{
	r->s.sw |= r->env.exc;
	return (r->env.exc & ~r->s.cw & (FX_IE | FX_DE | FX_ZE)) != 0;
}

static void stack_fault(struct run *r, bool overflow)
{
	r->env.exc |= FX_IE;
	r->s.sw |= SW_SF | FX_IE;
	set_c1(r, overflow);
}

/* Whether a stack fault's masked response (an indefinite result) applies. */
static bool ie_masked(const struct run *r)
{
	return (r->s.cw & FX_IE) != 0;
}

/* Begins an operation: fresh flags from the current control word. */
static void env_reset(struct run *r)
{
	r->env.cw = r->s.cw;
	r->env.exc = 0;
	r->env.c1 = false;
}

/* Pushes v; on overflow the masked response pushes the indefinite. */
static void push(struct run *r, fx v)
{
	unsigned p = (top_of(&r->s) - 1) & 7;

	if (tag_get(&r->s, p) != TAG_EMPTY) {
		stack_fault(r, true);
		if (!ie_masked(r))
			return;
		v = fx_indefinite();
	}
	set_top(&r->s, top_of(&r->s) - 1);
	st_set(&r->s, 0, v);
}

/* ---- memory ---- */

static int mem_read(struct run *r, void *buf, unsigned len)
{
	return r->mem->read(r->mem->ctx, r->insn->ea, buf, len);
}

static void mem_stage(struct run *r, const void *buf, unsigned len)
{
	memcpy(r->wbuf, buf, len);
	r->wlen = len;
}

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16; }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

static fx get80(const uint8_t *p)
{
	fx v = { .mant = le64(p), .sign_exp = le16(p + 8) };
	return v;
}

static void put80(uint8_t *p, fx v)
{
	put64(p, v.mant);
	put16(p + 8, v.sign_exp);
}

/* ---- arithmetic ---- */

/* The binary operation selected by a D8/DC-style reg field (FCOM excluded). */
static fx binop(struct run *r, unsigned op, fx a, fx b)
{
	int prec = fx_pc_bits(r->s.cw);

	switch (op) {
	case 0: return fx_add(&r->env, a, b, prec);
	case 1: return fx_mul(&r->env, a, b, prec);
	case 4: return fx_sub(&r->env, a, b, prec);
	case 5: return fx_sub(&r->env, b, a, prec);
	case 6: return fx_div(&r->env, a, b, prec);
	default: return fx_div(&r->env, b, a, prec);
	}
}

static uint16_t cc_for_compare(int rel)
{
	switch (rel) {
	case -1: return SW_C0;
	case 0: return SW_C3;
	case 1: return 0;
	default: return SW_C3 | SW_C2 | SW_C0;
	}
}

/* FCOM family on ST0 and a value; pops `pops` times when allowed. */
static void compare_cc(struct run *r, fx b, bool b_empty, bool quiet, unsigned pops)
{
	/* The condition codes are written even when an exception is unmasked. */
	if (st_empty(&r->s, 0) || b_empty) {
		stack_fault(r, false);
		set_cc(r, SW_C3 | SW_C2 | SW_C0);
		if (!ie_masked(r))
			return;
	} else {
		int rel = fx_compare(&r->env, st_get(&r->s, 0), b, quiet);
		set_cc(r, cc_for_compare(rel));
		if (raise_flags(r))
			return;
	}
	while (pops--)
		pop(&r->s);
}

/* FCOMI family: EFLAGS instead of condition codes. */
static void compare_eflags(struct run *r, unsigned i, bool quiet, bool popping)
{
	uint32_t fl;

	bool stop;

	/* EFLAGS are written even when an exception is unmasked. */
	if (st_empty(&r->s, 0) || st_empty(&r->s, i)) {
		stack_fault(r, false);
		stop = !ie_masked(r);
		fl = FL_ZF | FL_PF | FL_CF;
	} else {
		int rel = fx_compare(&r->env, st_get(&r->s, 0), st_get(&r->s, i), quiet);
		stop = raise_flags(r);
		fl = rel == -1 ? FL_CF : rel == 0 ? FL_ZF : rel == 1 ? 0 : FL_ZF | FL_PF | FL_CF;
	}
	r->out->set_eflags = true;
	r->out->eflags = (r->insn->eflags & ~(uint32_t)(FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)) | fl;
	if (stop)
		return;
	if (popping)
		pop(&r->s);
}

/* dest = op(ST(dst), src) with src another register or a memory value. */
static void arith(struct run *r, unsigned op, unsigned dst, fx src, bool src_empty, unsigned pops)
{
	fx res;

	if (st_empty(&r->s, dst) || src_empty) {
		stack_fault(r, false);
		if (!ie_masked(r))
			return;
		res = fx_indefinite();
	} else {
		res = binop(r, op, st_get(&r->s, dst), src);
		if (raise_flags(r))
			return;
		set_c1(r, r->env.c1);
	}
	st_set(&r->s, dst, res);
	while (pops--)
		pop(&r->s);
}

/* A one-operand operation on ST0 in place (FSQRT, FRNDINT, FABS ...). */
static void unary(struct run *r, fx (*fn)(struct run *, fx))
{
	fx res;

	if (st_empty(&r->s, 0)) {
		stack_fault(r, false);
		if (!ie_masked(r))
			return;
		res = fx_indefinite();
	} else {
		res = fn(r, st_get(&r->s, 0));
		if (raise_flags(r))
			return;
		set_c1(r, r->env.c1);
	}
	st_set(&r->s, 0, res);
}

static fx op_chs(struct run *r, fx a) { (void)r; return fx_neg(a); }
static fx op_abs(struct run *r, fx a) { (void)r; return fx_abs(a); }
static fx op_sqrt(struct run *r, fx a) { return fx_sqrt(&r->env, a, fx_pc_bits(r->s.cw)); }
static fx op_rndint(struct run *r, fx a) { return fx_round_int(&r->env, a); }

/* FLD m32/m64/m80, FILD and FBLD: push a converted memory value. */
static void load_push(struct run *r, fx v)
{
	/* A full stack is found first; then an unmasked IE (SNaN source)
	 * loads nothing, while a denormal source is loaded whatever DE's mask. */
	if (tag_get(&r->s, (top_of(&r->s) - 1) & 7) != TAG_EMPTY) {
		r->env.exc = 0;
		push(r, v);
		return;
	}
	r->s.sw |= r->env.exc;
	if (r->env.exc & ~r->s.cw & FX_IE)
		return;
	push(r, v);
}

static fx bcd_to_fx(const uint8_t *p)
{
	int64_t v = 0;

	/* Invalid digits give an undefined result; use them as they come. */
	for (int i = 8; i >= 0; i--)
		v = v * 100 + (p[i] >> 4) * 10 + (p[i] & 15);
	fx r = fx_from_int64(v);
	if (p[9] & 0x80)
		r = fx_neg(r);
	return r;
}

/* The memory formats the FPU loads as extended values. */
enum mem_format { MEM_F32, MEM_F64, MEM_F80, MEM_I16, MEM_I32, MEM_I64, MEM_BCD };

/* Reads a memory operand of format F as an extended value; -1 if the read
 * faulted. KEEP_SNAN goes to the float conversions: an arithmetic operand
 * keeps a signalling NaN for the operation to see, a load does not. */
static int read_value(struct run *r, enum mem_format f, bool keep_snan, fx *v)
{
	static const uint8_t size[] = {
		[MEM_F32] = 4, [MEM_F64] = 8, [MEM_F80] = 10,
		[MEM_I16] = 2, [MEM_I32] = 4, [MEM_I64] = 8, [MEM_BCD] = 10,
	};
	uint8_t b[10];

	if (mem_read(r, b, size[f]))
		return -1;
	switch (f) {
	case MEM_F32: *v = fx_from_f32(&r->env, le32(b), keep_snan); break;
	case MEM_F64: *v = fx_from_f64(&r->env, le64(b), keep_snan); break;
	case MEM_F80: *v = get80(b); break;
	case MEM_I16: *v = fx_from_int64((int16_t)le16(b)); break;
	case MEM_I32: *v = fx_from_int64((int32_t)le32(b)); break;
	case MEM_I64: *v = fx_from_int64((int64_t)le64(b)); break;
	default:      *v = bcd_to_fx(b); break;
	}
	return 0;
}

/* The memory operand of a D8-DF arithmetic form. */
static int read_operand(struct run *r, unsigned opcode, fx *v)
{
	switch (opcode) {
	case 0xd8: return read_value(r, MEM_F32, true, v);
	case 0xdc: return read_value(r, MEM_F64, true, v);
	case 0xda: return read_value(r, MEM_I32, true, v);
	default:   return read_value(r, MEM_I16, true, v);
	}
}

/* FLD m32/m64/m80, FILD m16/m32/m64 and FBLD. */
static enum x87_result load_mem(struct run *r, enum mem_format f)
{
	fx v;

	if (read_value(r, f, false, &v))
		return X87_FAULT;
	load_push(r, v);
	return X87_OK;
}

/* FBSTP: rounds ST0 to an integer by RC and stores 18 BCD digits. */
static bool fx_to_bcd(struct run *r, fx a, uint8_t *p)
{
	int64_t v;
	fx t;
	static const uint8_t indefinite[10] = { 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff };

	memcpy(p, indefinite, 10);
	if (fx_is_unsupported(a) || fx_is_nan(a) || fx_is_inf(a)) {
		r->env.exc |= FX_IE;
		return ie_masked(r);
	}
	/* Stores raise no DE: round as if it were masked. */
	struct fx_env e2 = r->env;
	e2.cw |= FX_DE;
	t = fx_round_int(&e2, a);
	r->env.exc |= e2.exc & (uint16_t)~FX_DE;
	bool up = e2.c1;
	if (!fx_to_int(&r->env, t, 64, &v) || v > 999999999999999999ll || v < -999999999999999999ll) {
		r->env.exc = (uint16_t)((r->env.exc & ~FX_PE) | FX_IE);
		r->env.c1 = false;
		return ie_masked(r);
	}
	uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	for (int i = 0; i < 9; i++) {
		p[i] = (uint8_t)((m % 10) | ((m / 10 % 10) << 4));
		m /= 100;
	}
	p[9] = fx_sign(a) ? 0x80 : 0;
	r->env.c1 = up;
	return true;
}

/* ---- constants ---- */

/*
 * The ROM constants, each as its round-to-nearest 64-bit significand and
 * the rounding modes in which the hardware delivers one ulp less (the true
 * value lies below that significand) or more.
 */
static fx load_constant(const struct run *r, unsigned which)
{
	int rc = (r->s.cw >> 10) & 3;
	bool down_or_chop = rc == FX_RC_DOWN || rc == FX_RC_ZERO;

	switch (which) {
	case 0: return fx_make(false, FX_BIAS, FX_INT_BIT);                                 /* 1 */
	case 1: return fx_make(false, FX_BIAS + 1, 0xd49a784bcd1b8afeull + (rc == FX_RC_UP)); /* log2(10) */
	case 2: return fx_make(false, FX_BIAS, 0xb8aa3b295c17f0bcull - down_or_chop);      /* log2(e) */
	case 3: return fx_make(false, FX_BIAS + 1, 0xc90fdaa22168c235ull - down_or_chop);  /* pi */
	case 4: return fx_make(false, FX_BIAS - 2, 0x9a209a84fbcff799ull - down_or_chop);  /* log10(2) */
	case 5: return fx_make(false, FX_BIAS - 1, 0xb17217f7d1cf79acull - down_or_chop);  /* ln(2) */
	default: return fx_zero(false);
	}
}

/* ---- environment images ---- */

static uint16_t image_tag_word(const struct x87 *s)
{
	uint16_t tw = 0;

	for (unsigned p = 0; p < 8; p++) {
		unsigned t = tag_get(s, p) == TAG_EMPTY ? TAG_EMPTY : tag_for(s->r[p]);
		tw |= (uint16_t)(t << (2 * p));
	}
	return tw;
}

/* Writes the 14- or 28-byte environment for the instruction's mode; returns its size. */
static unsigned store_env(const struct run *r, const struct x87 *s, uint8_t *p)
{
	bool op16 = r->insn->op16, pmode = r->insn->pmode;
	uint16_t tw = image_tag_word(s);

	if (op16) {
		put16(p + 0, s->cw);
		put16(p + 2, s->sw);
		put16(p + 4, tw);
		if (pmode) {
			put16(p + 6, (uint16_t)s->fip);
			put16(p + 8, s->fcs);
			put16(p + 10, (uint16_t)s->fdp);
			put16(p + 12, s->fds);
		} else {
			uint32_t ip = s->fip + ((uint32_t)s->fcs << 4);
			uint32_t dp = s->fdp + ((uint32_t)s->fds << 4);
			put16(p + 6, (uint16_t)ip);
			put16(p + 8, (uint16_t)(((ip >> 16) & 0xf) << 12 | (s->fop & 0x7ff)));
			put16(p + 10, (uint16_t)dp);
			put16(p + 12, (uint16_t)(((dp >> 16) & 0xf) << 12));
		}
		return 14;
	}
	put32(p + 0, 0xffff0000u | s->cw);
	put32(p + 4, 0xffff0000u | s->sw);
	put32(p + 8, 0xffff0000u | tw);
	if (pmode) {
		put32(p + 12, s->fip);
		put32(p + 16, (uint32_t)(s->fop & 0x7ff) << 16 | s->fcs);
		put32(p + 20, s->fdp);
		put32(p + 24, 0xffff0000u | s->fds);
	} else {
		uint32_t ip = s->fip + ((uint32_t)s->fcs << 4);
		uint32_t dp = s->fdp + ((uint32_t)s->fds << 4);
		put32(p + 12, 0xffff0000u | (ip & 0xffff));
		put32(p + 16, (ip >> 16) << 12 | (s->fop & 0x7ff));
		put32(p + 20, 0xffff0000u | (dp & 0xffff));
		put32(p + 24, (dp >> 16) << 12);
	}
	return 28;
}

static unsigned env_size(const struct x87_insn *insn)
{
	return insn->op16 ? 14 : 28;
}

/* Loads an environment image into s (tags recomputed from the registers later). */
static void load_env(const struct x87_insn *insn, struct x87 *s, const uint8_t *p)
{
	if (insn->op16) {
		s->cw = le16(p + 0);
		s->sw = le16(p + 2);
		s->tw = le16(p + 4);
		if (insn->pmode) {
			s->fip = le16(p + 6);
			s->fcs = le16(p + 8);
			s->fdp = le16(p + 10);
			s->fds = le16(p + 12);
			/* The 16-bit protected layout has no opcode field. */
		} else {
			s->fip = le16(p + 6) | (uint32_t)(le16(p + 8) >> 12) << 16;
			s->fop = le16(p + 8) & 0x7ff;
			s->fdp = le16(p + 10) | (uint32_t)(le16(p + 12) >> 12) << 16;
			s->fcs = 0;
			s->fds = 0;
		}
		return;
	}
	s->cw = le16(p + 0);
	s->sw = le16(p + 4);
	s->tw = le16(p + 8);
	if (insn->pmode) {
		s->fip = le32(p + 12);
		s->fcs = le16(p + 16);
		s->fop = le16(p + 18) & 0x7ff;
		s->fdp = le32(p + 20);
		s->fds = le16(p + 24);
	} else {
		s->fip = le16(p + 12) | (le32(p + 16) >> 12) << 16;
		s->fop = le16(p + 16) & 0x7ff;
		s->fdp = le16(p + 20) | (le32(p + 24) >> 12) << 16;
		s->fcs = 0;
		s->fds = 0;
	}
}

/* ES and B follow the flags: set while any unmasked exception flag is. */
static void update_es(struct x87 *s)
{
	if (s->sw & ~s->cw & SW_EXC)
		s->sw |= SW_ES | SW_B;
	else
		s->sw &= (uint16_t)~(SW_ES | SW_B);
}

/* The control word's reserved bits: bit 6 reads as 1, 13-15 as 0. */
static uint16_t clean_cw(uint16_t cw)
{
	return (uint16_t)((cw & 0x1f7f) | 0x0040);
}

/* FNINIT: like RESET, but the registers' contents and MXCSR stay. */
static void finit(struct x87 *s)
{
	struct x87 keep = *s;

	x87_init(s);
	memcpy(s->r, keep.r, sizeof(s->r));
	s->mxcsr = keep.mxcsr;
}

/* ---- instruction groups ---- */

static void fxam(struct run *r)
{
	fx v = st_get(&r->s, 0);
	uint16_t cc;

	if (st_empty(&r->s, 0))
		cc = SW_C3 | SW_C0;
	else if (fx_is_unsupported(v))
		cc = 0;
	else if (fx_is_nan(v))
		cc = SW_C0;
	else if (fx_is_inf(v))
		cc = SW_C2 | SW_C0;
	else if (fx_is_zero(v))
		cc = SW_C3;
	else if (fx_is_denormal(v))
		cc = SW_C3 | SW_C2;
	else
		cc = SW_C2;
	set_cc(r, (uint16_t)(cc | (fx_sign(v) ? SW_C1 : 0)));
}

static bool fcmov_condition(unsigned opcode, unsigned reg, uint32_t fl)
{
	bool c;

	switch (reg & 3) {
	case 0: c = fl & FL_CF; break;
	case 1: c = fl & FL_ZF; break;
	case 2: c = fl & (FL_CF | FL_ZF); break;
	default: c = fl & FL_PF; break;
	}
	return opcode == 0xda ? c : !c;
}

static void fxch(struct run *r, unsigned i)
{
	fx a = st_get(&r->s, 0), b = st_get(&r->s, i);

	set_c1(r, false);
	if (st_empty(&r->s, 0) || st_empty(&r->s, i)) {
		stack_fault(r, false);
		if (!ie_masked(r))
			return;
		if (st_empty(&r->s, 0))
			a = fx_indefinite();
		if (st_empty(&r->s, i))
			b = fx_indefinite();
	}
	st_set(&r->s, 0, b);
	st_set(&r->s, i, a);
}

/* FST/FSTP ST(i) and their aliases. */
static void fst_reg(struct run *r, unsigned i, bool popping)
{
	fx v = st_get(&r->s, 0);

	set_c1(r, false);
	if (st_empty(&r->s, 0)) {
		stack_fault(r, false);
		if (!ie_masked(r))
			return;
		v = fx_indefinite();
	}
	st_set(&r->s, i, v);
	if (popping)
		pop(&r->s);
}

/* FIST/FISTP m16/m32/m64. */
static void fist(struct run *r, int bits, bool popping)
{
	uint8_t b[8];
	int64_t v;
	bool store;

	if (st_empty(&r->s, 0)) {
		stack_fault(r, false);
		if (!ie_masked(r))
			return;
		v = (int64_t)(~0ull << (bits - 1));
		store = true;
	} else {
		store = fx_to_int(&r->env, st_get(&r->s, 0), bits, &v);
		if (raise_flags(r) || !store)
			return;
		set_c1(r, r->env.c1);
	}
	put64(b, (uint64_t)v);
	mem_stage(r, b, (unsigned)bits / 8);
	if (popping)
		pop(&r->s);
}

/* FST/FSTP m32/m64. */
static void fst_mem(struct run *r, bool dbl, bool popping)
{
	uint8_t b[8];
	bool store;

	if (st_empty(&r->s, 0)) {
		stack_fault(r, false);
		if (!ie_masked(r))
			return;
		if (dbl)
			put64(b, 0xfff8000000000000ull);
		else
			put32(b, 0xffc00000u);
	} else {
		fx v = st_get(&r->s, 0);
		if (dbl) {
			uint64_t o;
			store = fx_to_f64(&r->env, v, &o);
			put64(b, o);
		} else {
			uint32_t o;
			store = fx_to_f32(&r->env, v, &o);
			put32(b, o);
		}
		if (raise_flags(r) || !store)
			return;
		set_c1(r, r->env.c1);
	}
	mem_stage(r, b, dbl ? 8 : 4);
	if (popping)
		pop(&r->s);
}

/* FPREM / FPREM1. */
static void fprem(struct run *r, bool nearest)
{
	unsigned q;
	bool partial;

	r->s.sw &= (uint16_t)~SW_C2;
	if (st_empty(&r->s, 0) || st_empty(&r->s, 1)) {
		stack_fault(r, false);
		if (ie_masked(r))
			st_set(&r->s, 0, fx_indefinite());
		return;
	}
	fx res = fx_rem(&r->env, st_get(&r->s, 0), st_get(&r->s, 1), nearest, &q, &partial);
	if (raise_flags(r))
		return;
	st_set(&r->s, 0, res);
	if ((r->env.exc & FX_IE) || fx_is_nan(res))
		return;         /* no quotient: C0 and C3 are left alone */
	set_cc(r, (uint16_t)((partial ? SW_C2 : 0) | ((q & 4) ? SW_C0 : 0) |
	                     ((q & 2) ? SW_C3 : 0) | ((q & 1) ? SW_C1 : 0)));
}

static void fscale(struct run *r)
{
	if (st_empty(&r->s, 0) || st_empty(&r->s, 1)) {
		stack_fault(r, false);
		if (ie_masked(r))
			st_set(&r->s, 0, fx_indefinite());
		return;
	}
	fx res = fx_scale(&r->env, st_get(&r->s, 0), st_get(&r->s, 1));
	if (raise_flags(r))
		return;
	set_c1(r, r->env.c1);
	st_set(&r->s, 0, res);
}

static void fxtract(struct run *r)
{
	fx ex, sig;

	if (st_empty(&r->s, 0)) {
		stack_fault(r, false);
		if (!ie_masked(r))
			return;
		st_set(&r->s, 0, fx_indefinite());
		set_top(&r->s, top_of(&r->s) - 1);
		st_set(&r->s, 0, fx_indefinite());
		return;
	}
	if (!st_empty(&r->s, 7)) {
		stack_fault(r, true);
		if (!ie_masked(r))
			return;
		st_set(&r->s, 0, fx_indefinite());
		set_top(&r->s, top_of(&r->s) - 1);
		st_set(&r->s, 0, fx_indefinite());
		return;
	}
	fx_extract(&r->env, st_get(&r->s, 0), &ex, &sig);
	if (raise_flags(r))
		return;
	set_c1(r, false);
	st_set(&r->s, 0, ex);
	push(r, sig);
}

/* FSIN, FCOS, FSINCOS, FPTAN: C2 reports an operand out of range (|x| >= 2^63). */
static void trig(struct run *r, unsigned modrm)
{
	bool two = modrm == 0xfb || modrm == 0xf2;      /* FSINCOS and FPTAN push */
	fx a, b;

	r->s.sw &= (uint16_t)~SW_C2;

	if (st_empty(&r->s, 0)) {
		stack_fault(r, false);
		if (!ie_masked(r))
			return;
		st_set(&r->s, 0, fx_indefinite());
		if (two) {
			set_top(&r->s, top_of(&r->s) - 1);
			st_set(&r->s, 0, fx_indefinite());
		}
		return;
	}
	if (two && !st_empty(&r->s, 7)) {
		stack_fault(r, true);
		if (!ie_masked(r))
			return;
		st_set(&r->s, 0, fx_indefinite());
		push(r, fx_indefinite());
		return;
	}
	fx x = st_get(&r->s, 0);
	bool in_range;
	switch (modrm) {
	case 0xfe: in_range = fx_sincos(&r->env, x, &a, NULL); break;
	case 0xff: in_range = fx_sincos(&r->env, x, NULL, &a); break;
	case 0xfb: in_range = fx_sincos(&r->env, x, &a, &b); break;
	default: in_range = fx_tan(&r->env, x, &a); b = fx_make(false, FX_BIAS, FX_INT_BIT); break;
	}
	if (!in_range) {
		set_cc(r, (uint16_t)((r->s.sw & (SW_C0 | SW_C3)) | SW_C2));
		return;
	}
	if (raise_flags(r))
		return;
	r->s.sw &= (uint16_t)~SW_C2;
	set_c1(r, r->env.c1);
	st_set(&r->s, 0, a);
	if (two) {
		if (fx_is_nan(a) && modrm == 0xfb)
			b = a;
		if (fx_is_nan(a) && modrm == 0xf2)
			b = a;
		push(r, b);
	}
}

/* FPATAN, FYL2X, FYL2XP1: ST1 = f(ST1, ST0), then pop. */
static void binary_pop(struct run *r, unsigned modrm)
{
	fx res;

	if (st_empty(&r->s, 0) || st_empty(&r->s, 1)) {
		stack_fault(r, false);
		if (!ie_masked(r))
			return;
		res = fx_indefinite();
	} else {
		fx x = st_get(&r->s, 0), y = st_get(&r->s, 1);
		switch (modrm) {
		case 0xf3: res = fx_atan2(&r->env, y, x); break;
		case 0xf1: res = fx_yl2x(&r->env, x, y); break;
		default: res = fx_yl2xp1(&r->env, x, y); break;
		}
		if (raise_flags(r))
			return;
		set_c1(r, r->env.c1);
	}
	st_set(&r->s, 1, res);
	pop(&r->s);
}

static fx op_2xm1(struct run *r, fx a) { return fx_2xm1(&r->env, a); }

static void transcendental(struct run *r, unsigned modrm)
{
	switch (modrm) {
	case 0xf0: unary(r, op_2xm1); break;
	case 0xf1: case 0xf3: case 0xf9: binary_pop(r, modrm); break;
	default: trig(r, modrm); break;
	}
}

/* ---- the decoder ---- */

static enum x87_result exec_mem(struct run *r)
{
	unsigned op = r->insn->opcode, reg = (r->insn->modrm >> 3) & 7;
	uint8_t b[512];
	fx v;

	r->has_mem = true;
	switch (op) {
	case 0xd8: case 0xda: case 0xdc: case 0xde:
		if (read_operand(r, op, &v))
			return X87_FAULT;
		/*
		 * A denormal single/double operand is normal once extended: its
		 * DE is decided here, and only counts when ST0 is an ordinary
		 * operand (a NaN or invalid ST0 takes precedence).
		 */
		if (r->env.exc & FX_DE) {
			fx a = st_get(&r->s, 0);
			r->env.exc &= (uint16_t)~FX_DE;
			if (!st_empty(&r->s, 0) && !fx_is_nan(a) && !fx_is_unsupported(a)) {
				r->env.exc |= FX_DE;
				if (!(r->s.cw & FX_DE) && reg != 2 && reg != 3) {
					raise_flags(r);
					return X87_OK;
				}
			}
		}
		if (reg == 2 || reg == 3) {
			compare_cc(r, v, false, false, reg == 3);
			return X87_OK;
		}
		arith(r, reg, 0, v, false, 0);
		return X87_OK;
	case 0xd9:
		switch (reg) {
		case 0:
			return load_mem(r, MEM_F32);
		case 1:
			return X87_UD;
		case 2: case 3:
			fst_mem(r, false, reg == 3);
			return X87_OK;
		case 4:
			if (mem_read(r, b, env_size(r->insn)))
				return X87_FAULT;
			load_env(r->insn, &r->s, b);
			r->s.cw = clean_cw(r->s.cw);
			retag(&r->s);
			update_es(&r->s);
			return X87_OK;
		case 5:
			if (mem_read(r, b, 2))
				return X87_FAULT;
			r->s.cw = clean_cw(le16(b));
			update_es(&r->s);
			return X87_OK;
		case 6:
			mem_stage(r, b, store_env(r, &r->s, b));
			/* FNSTENV masks all exceptions after storing. */
			r->s.cw |= 0x3f;
			update_es(&r->s);
			return X87_OK;
		default:
			put16(b, r->s.cw);
			mem_stage(r, b, 2);
			return X87_OK;
		}
	case 0xdb:
		switch (reg) {
		case 0:
			return load_mem(r, MEM_I32);
		case 2: case 3:
			fist(r, 32, reg == 3);
			return X87_OK;
		case 5:
			return load_mem(r, MEM_F80);
		case 7:
			if (st_empty(&r->s, 0)) {
				stack_fault(r, false);
				if (!ie_masked(r))
					return X87_OK;
				put80(b, fx_indefinite());
			} else {
				set_c1(r, false);
				put80(b, st_get(&r->s, 0));
			}
			mem_stage(r, b, 10);
			pop(&r->s);
			return X87_OK;
		default:
			return X87_UD;  /* FISTTP (SSE3) and the reserved encodings */
		}
	case 0xdd:
		switch (reg) {
		case 0:
			return load_mem(r, MEM_F64);
		case 2: case 3:
			fst_mem(r, true, reg == 3);
			return X87_OK;
		case 4: {
			unsigned n = env_size(r->insn);
			if (mem_read(r, b, n + 80))
				return X87_FAULT;
			load_env(r->insn, &r->s, b);
			r->s.cw = clean_cw(r->s.cw);
			for (unsigned i = 0; i < 8; i++)
				r->s.r[phys(&r->s, i)] = get80(b + n + 10 * i);
			retag(&r->s);
			update_es(&r->s);
			return X87_OK;
		}
		case 6: {
			unsigned n = store_env(r, &r->s, b);
			for (unsigned i = 0; i < 8; i++)
				put80(b + n + 10 * i, st_get(&r->s, i));
			mem_stage(r, b, n + 80);
			finit(&r->s);
			return X87_OK;
		}
		case 7:
			put16(b, r->s.sw);
			mem_stage(r, b, 2);
			return X87_OK;
		default:
			return X87_UD;
		}
	default: /* 0xdf */
		switch (reg) {
		case 0:
			return load_mem(r, MEM_I16);
		case 2: case 3:
			fist(r, 16, reg == 3);
			return X87_OK;
		case 4:
			return load_mem(r, MEM_BCD);
		case 5:
			return load_mem(r, MEM_I64);
		case 6:
			if (st_empty(&r->s, 0)) {
				stack_fault(r, false);
				if (!ie_masked(r))
					return X87_OK;
				static const uint8_t ind[10] = { 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff };
				memcpy(b, ind, 10);
			} else {
				bool store = fx_to_bcd(r, st_get(&r->s, 0), b);
				if (raise_flags(r) || !store)
					return X87_OK;
				set_c1(r, r->env.c1);
			}
			mem_stage(r, b, 10);
			pop(&r->s);
			return X87_OK;
		case 7:
			fist(r, 64, true);
			return X87_OK;
		default:
			return X87_UD;
		}
	}
}

static enum x87_result exec_reg(struct run *r)
{
	unsigned op = r->insn->opcode, modrm = r->insn->modrm;
	unsigned reg = (modrm >> 3) & 7, i = modrm & 7;

	switch (op) {
	case 0xd8:
		if (reg == 2 || reg == 3) {
			set_c1(r, false);
			compare_cc(r, st_get(&r->s, i), st_empty(&r->s, i), false, reg == 3);
		} else {
			arith(r, reg, 0, st_get(&r->s, i), st_empty(&r->s, i), 0);
		}
		return X87_OK;
	case 0xdc: case 0xde: {
		if (reg == 2 || reg == 3) {
			/* DC D0/D8: FCOM2/FCOMP3; DE D0: FCOMP5; DE D9: FCOMPP. */
			unsigned pops = op == 0xdc ? (reg == 3) : reg == 2 ? 1 : 2;
			if (op == 0xde && reg == 3 && i != 1)
				return X87_UD;
			set_c1(r, false);
			compare_cc(r, st_get(&r->s, i), st_empty(&r->s, i), false, pops);
			return X87_OK;
		}
		/* Register-destination forms: SUB/SUBR and DIV/DIVR swap. */
		unsigned o = reg >= 4 ? reg ^ 1 : reg;
		arith(r, o, i, st_get(&r->s, 0), st_empty(&r->s, 0), op == 0xde);
		return X87_OK;
	}
	case 0xd9:
		switch (modrm) {
		case 0xd0:          /* FNOP */
			return X87_OK;
		case 0xe0:
			unary(r, op_chs);
			return X87_OK;
		case 0xe1:
			unary(r, op_abs);
			return X87_OK;
		case 0xe4:          /* FTST */
			set_c1(r, false);
			compare_cc(r, fx_zero(false), false, false, 0);
			return X87_OK;
		case 0xe5:
			fxam(r);
			return X87_OK;
		case 0xe8: case 0xe9: case 0xea: case 0xeb: case 0xec: case 0xed: case 0xee:
			set_c1(r, false);
			push(r, load_constant(r, modrm - 0xe8));
			return X87_OK;
		case 0xf4:
			fxtract(r);
			return X87_OK;
		case 0xf5:
			fprem(r, true);
			return X87_OK;
		case 0xf6:
			set_c1(r, false);
			set_top(&r->s, top_of(&r->s) - 1);
			return X87_OK;
		case 0xf7:
			set_c1(r, false);
			set_top(&r->s, top_of(&r->s) + 1);
			return X87_OK;
		case 0xf8:
			fprem(r, false);
			return X87_OK;
		case 0xfa:
			unary(r, op_sqrt);
			return X87_OK;
		case 0xfc:
			unary(r, op_rndint);
			return X87_OK;
		case 0xfd:
			fscale(r);
			return X87_OK;
		case 0xf0: case 0xf1: case 0xf2: case 0xf3:
		case 0xf9: case 0xfb: case 0xfe: case 0xff:
			transcendental(r, modrm);
			return X87_OK;
		default:
			break;
		}
		switch (reg) {
		case 0: {           /* FLD ST(i) */
			fx v = st_get(&r->s, i);
			if (st_empty(&r->s, i)) {
				/* Underflow is reported, not a full stack too. */
				stack_fault(r, false);
				if (!ie_masked(r))
					return X87_OK;
				set_top(&r->s, top_of(&r->s) - 1);
				st_set(&r->s, 0, fx_indefinite());
				return X87_OK;
			}
			push(r, v);
			return X87_OK;
		}
		case 1:
			fxch(r, i);
			return X87_OK;
		case 3:             /* FSTP1: with ST0 empty, only the pop happens */
			if (st_empty(&r->s, 0))
				set_top(&r->s, top_of(&r->s) + 1);
			else
				fst_reg(r, i, true);
			return X87_OK;
		default:
			return X87_UD;
		}
	case 0xda: case 0xdb:
		if (reg <= 3) {     /* FCMOVcc */
			if (st_empty(&r->s, 0) || st_empty(&r->s, i)) {
				stack_fault(r, false);
				if (ie_masked(r))
					st_set(&r->s, 0, fx_indefinite());
				return X87_OK;
			}
			if (fcmov_condition(op, reg, r->insn->eflags))
				st_set(&r->s, 0, st_get(&r->s, i));
			return X87_OK;
		}
		if (op == 0xda) {
			if (modrm != 0xe9)
				return X87_UD;
			set_c1(r, false);
			compare_cc(r, st_get(&r->s, 1), st_empty(&r->s, 1), true, 2);   /* FUCOMPP */
			return X87_OK;
		}
		switch (modrm) {
		case 0xe0: case 0xe1: case 0xe4:    /* FNENI, FNDISI, FNSETPM: no-ops since the 387 */
			return X87_OK;
		case 0xe2:
			r->s.sw &= (uint16_t)~(SW_EXC | SW_SF | SW_ES | SW_B);
			return X87_OK;
		case 0xe3:
			finit(&r->s);
			return X87_OK;
		default:
			break;
		}
		if (reg == 5 || reg == 6) {
			compare_eflags(r, i, reg == 5, false);
			return X87_OK;
		}
		return X87_UD;
	case 0xdd:
		switch (reg) {
		case 0:             /* FFREE */
			tag_set(&r->s, phys(&r->s, i), TAG_EMPTY);
			return X87_OK;
		case 1:             /* FXCH4 */
			fxch(r, i);
			return X87_OK;
		case 2: case 3:
			fst_reg(r, i, reg == 3);
			return X87_OK;
		case 4: case 5:
			set_c1(r, false);
			compare_cc(r, st_get(&r->s, i), st_empty(&r->s, i), true, reg == 5);
			return X87_OK;
		default:
			return X87_UD;
		}
	default: /* 0xdf */
		switch (reg) {
		case 0:             /* FFREEP: free ST(i), then pop (freeing ST0) */
			tag_set(&r->s, phys(&r->s, i), TAG_EMPTY);
			pop(&r->s);
			return X87_OK;
		case 1:             /* FXCH7 */
			fxch(r, i);
			return X87_OK;
		case 2: case 3:     /* FSTP8, FSTP9 */
			fst_reg(r, i, true);
			return X87_OK;
		case 4:
			if (modrm != 0xe0)
				return X87_UD;
			r->out->set_ax = true;
			r->out->ax = r->s.sw;
			return X87_OK;
		case 5: case 6:
			compare_eflags(r, i, reg == 5, true);
			return X87_OK;
		default:
			return X87_UD;
		}
	}
}

/* FXSAVE / FXRSTOR: the 512-byte image with the abridged tag byte. */
static enum x87_result exec_fxsr(struct run *r)
{
	unsigned reg = (r->insn->modrm >> 3) & 7;
	uint8_t b[512];

	if (r->insn->modrm >= 0xc0 || reg > 1)
		return X87_UD;
	if (reg == 0) {
		memset(b, 0, sizeof(b));
		uint8_t abridged = 0;
		for (unsigned p = 0; p < 8; p++)
			if (tag_get(&r->s, p) != TAG_EMPTY)
				abridged |= (uint8_t)(1u << p);
		put16(b + 0, r->s.cw);
		put16(b + 2, r->s.sw);
		b[4] = abridged;
		put16(b + 6, r->s.fop & 0x7ff);
		put32(b + 8, r->s.fip);
		put16(b + 12, r->s.fcs);
		put32(b + 16, r->s.fdp);
		put16(b + 20, r->s.fds);
		put32(b + 24, r->s.mxcsr);
		put32(b + 28, 0x0000ffbf);
		for (unsigned i = 0; i < 8; i++)
			put80(b + 32 + 16 * i, st_get(&r->s, i));
		/* Bytes 464-511 belong to software: not written. */
		mem_stage(r, b, 464);
		return X87_OK;
	}
	if (mem_read(r, b, 512))
		return X87_FAULT;
	r->s.cw = clean_cw(le16(b + 0));
	r->s.sw = le16(b + 2);
	r->s.fop = le16(b + 6) & 0x7ff;
	r->s.fip = le32(b + 8);
	r->s.fcs = le16(b + 12);
	r->s.fdp = le32(b + 16);
	r->s.fds = le16(b + 20);
	r->s.mxcsr = le32(b + 24) & 0xffbf;
	for (unsigned i = 0; i < 8; i++)
		r->s.r[phys(&r->s, i)] = get80(b + 32 + 16 * i);
	r->s.tw = 0;
	for (unsigned p = 0; p < 8; p++)
		tag_set(&r->s, p, (b[4] >> p) & 1 ? tag_for(r->s.r[p]) : TAG_EMPTY);
	update_es(&r->s);
	return X87_OK;
}

/* The control instructions: FIP, FOP and FDP stay as they were. */
static bool is_control(unsigned opcode, unsigned modrm)
{
	unsigned reg = (modrm >> 3) & 7;

	if (opcode == 0x0fae)
		return true;
	if (modrm < 0xc0)
		return (opcode == 0xd9 || opcode == 0xdd) && reg >= 4;   /* env, CW, SW, save */
	return (opcode == 0xdb && modrm >= 0xe0 && modrm <= 0xe4) || (opcode == 0xdf && modrm == 0xe0);
}

/*
 * Every other instruction starts by clearing C1; results, stack faults or
 * its own rules set it again. FCOMI, FCMOVcc and FNOP leave it alone (as
 * measured on the host: the SDM says "undefined" or "set to 0").
 */
static bool clears_c1(unsigned opcode, unsigned modrm)
{
	if (is_control(opcode, modrm))
		return false;
	if ((opcode == 0xdb || opcode == 0xdf) && modrm >= 0xe8 && modrm < 0xf8)
		return false;   /* FUCOMI, FCOMI and their pops */
	if ((opcode == 0xda || opcode == 0xdb) && modrm >= 0xc0 && modrm < 0xe0)
		return false;   /* FCMOVcc */
	return !(opcode == 0xd9 && modrm == 0xd0);
}

void x87_init(struct x87 *fpu)
{
	memset(fpu, 0, sizeof(*fpu));
	fpu->cw = 0x037f;
	fpu->sw = 0;
	fpu->tw = 0xffff;
	fpu->mxcsr = 0x1f80;
}

bool x87_error_pending(const struct x87 *fpu)
{
	return (fpu->sw & SW_ES) != 0;
}

bool x87_insn_waits(uint16_t opcode, uint8_t modrm)
{
	unsigned reg = (modrm >> 3) & 7;
	bool mem = modrm < 0xc0;

	if (opcode == 0x0fae)
		return false;           /* FXSAVE/FXRSTOR do not check pending errors */
	if (opcode == 0xd9 && mem && (reg == 6 || reg == 7))
		return false;           /* FNSTENV, FNSTCW */
	if (opcode == 0xdd && mem && (reg == 6 || reg == 7))
		return false;           /* FNSAVE, FNSTSW m16 */
	if (opcode == 0xdb && !mem && (modrm == 0xe0 || modrm == 0xe1 ||
	                               modrm == 0xe2 || modrm == 0xe3 || modrm == 0xe4))
		return false;           /* FNENI, FNDISI, FNCLEX, FNINIT, FNSETPM */
	if (opcode == 0xdf && modrm == 0xe0)
		return false;           /* FNSTSW AX */
	return true;
}

enum x87_result x87_exec(struct x87 *fpu, const struct x87_insn *insn,
                         const struct x87_mem *mem, struct x87_out *out)
{
	struct run r;
	enum x87_result res;

	memset(out, 0, sizeof(*out));
	/* Every field but the write buffer (filled before use, wlen bytes). */
	r.s = *fpu;
	r.insn = insn;
	r.mem = mem;
	r.out = out;
	r.wlen = 0;
	r.control = is_control(insn->opcode, insn->modrm);
	r.has_mem = false;
	env_reset(&r);

	if (clears_c1(insn->opcode, insn->modrm))
		r.s.sw &= (uint16_t)~SW_C1;
	if (insn->opcode == 0x0fae)
		res = exec_fxsr(&r);
	else if (insn->opcode < 0xd8 || insn->opcode > 0xdf)
		res = X87_UD;
	else if (insn->modrm < 0xc0)
		res = exec_mem(&r);
	else
		res = exec_reg(&r);
	if (res != X87_OK) {
		memset(out, 0, sizeof(*out));
		return res;
	}
	if (r.wlen && mem->write(mem->ctx, insn->ea, r.wbuf, r.wlen)) {
		memset(out, 0, sizeof(*out));
		return X87_FAULT;
	}
	if (!r.control) {
		r.s.fop = (uint16_t)(((insn->opcode & 7) << 8) | insn->modrm);
		r.s.fip = insn->eip;
		r.s.fcs = insn->cs;
		if (r.has_mem) {
			r.s.fdp = insn->ea;
			r.s.fds = insn->ds;
		}
		update_es(&r.s);
	}
	*fpu = r.s;
	return X87_OK;
}

void x87_save(const struct x87 *fpu, struct sbuf *sb)
{
	size_t mark = sbuf_begin(sb, "x87", X87_SAVE_VERSION);

	for (int i = 0; i < 8; i++) {
		sbuf_put_u64(sb, fpu->r[i].mant);
		sbuf_put_u16(sb, fpu->r[i].sign_exp);
	}
	sbuf_put_u16(sb, fpu->cw);
	sbuf_put_u16(sb, fpu->sw);
	sbuf_put_u16(sb, fpu->tw);
	sbuf_put_u16(sb, fpu->fop);
	sbuf_put_u32(sb, fpu->fip);
	sbuf_put_u32(sb, fpu->fdp);
	sbuf_put_u16(sb, fpu->fcs);
	sbuf_put_u16(sb, fpu->fds);
	sbuf_put_u32(sb, fpu->mxcsr);
	sbuf_end(sb, mark);
}

int x87_load(struct x87 *fpu, struct sbuf *sb)
{
	struct x87 s;
	uint32_t version;

	if (!sbuf_open(sb, "x87", &version))
		return -1;
	if (version != X87_SAVE_VERSION) {
		sbuf_fail(sb, "x87: unsupported state version %u", (unsigned)version);
		return -1;
	}
	memset(&s, 0, sizeof(s));
	for (int i = 0; i < 8; i++) {
		s.r[i].mant = sbuf_get_u64(sb);
		s.r[i].sign_exp = sbuf_get_u16(sb);
	}
	s.cw = sbuf_get_u16(sb);
	s.sw = sbuf_get_u16(sb);
	s.tw = sbuf_get_u16(sb);
	s.fop = sbuf_get_u16(sb);
	s.fip = sbuf_get_u32(sb);
	s.fdp = sbuf_get_u32(sb);
	s.fcs = sbuf_get_u16(sb);
	s.fds = sbuf_get_u16(sb);
	s.mxcsr = sbuf_get_u32(sb);
	if (!sbuf_close(sb) || sb->error)
		return -1;
	if (s.fop > 0x7ff) {
		sbuf_fail(sb, "x87: opcode field 0x%x wider than 11 bits", s.fop);
		return -1;
	}
	*fpu = s;
	return 0;
}
