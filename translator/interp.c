/*
 * The interpreter's integer handlers: arithmetic and logic, shifts and
 * rotates, multiply and divide, BCD adjusts, bit operations, data movement
 * and the stack. Each handler gets the decoded instruction; EIP already
 * points past it. A handler reads its operands, computes, performs its
 * memory writes, and only then commits registers and flags, so a fault
 * anywhere leaves the architectural state as it was.
 */
#include "translator/cpu_int.h"

/* ---- operands ---- */

static inline uint32_t e_read(struct cpu *cpu, const struct insn *in, unsigned size)
{
	if (!in->is_mem)
		return reg_get(cpu, in->rm, size);
	return rd(cpu, in->seg, ea_of(cpu, in), size);
}

static inline void e_write(struct cpu *cpu, const struct insn *in, unsigned size, uint32_t v)
{
	if (!in->is_mem)
		reg_set(cpu, in->rm, size, v);
	else
		wr(cpu, in->seg, ea_of(cpu, in), size, v);
}

/* A read-modify-write destination: the linear address is checked for writing once. */
struct rmw {
	bool mem;
	uint32_t lin;
};

static inline uint32_t rmw_read(struct cpu *cpu, const struct insn *in, unsigned size, struct rmw *d,
                                bool write)
{
	d->mem = in->is_mem;
	d->lin = 0;
	if (!in->is_mem)
		return reg_get(cpu, in->rm, size);
	d->lin = seg_lin(cpu, in->seg, ea_of(cpu, in), size, write);
	if (write)
		return lin_read_rmw(cpu, d->lin, size, cpu_user(cpu));
	return lin_read(cpu, d->lin, size, cpu_user(cpu));
}

static inline void rmw_write(struct cpu *cpu, const struct insn *in, unsigned size,
                             const struct rmw *d, uint32_t v)
{
	if (!d->mem)
		reg_set(cpu, in->rm, size, v);
	else
		lin_write(cpu, d->lin, size, v, cpu_user(cpu));
}

/* ---- stack ---- */

void stack_push(struct cpu *cpu, unsigned size, uint32_t v)
{
	uint32_t sp = sp_get(cpu) - size;
	if (!cpu->stack32)
		sp &= 0xffff;
	wr(cpu, S_SS, sp, size, v);
	sp_set(cpu, sp);
}

uint32_t stack_pop(struct cpu *cpu, unsigned size)
{
	uint32_t sp = sp_get(cpu);
	uint32_t v = rd(cpu, S_SS, sp, size);
	sp_set(cpu, sp + size);
	return v;
}

uint32_t stack_peek(struct cpu *cpu, unsigned size, uint32_t depth)
{
	uint32_t sp = sp_get(cpu) + depth;
	if (!cpu->stack32)
		sp &= 0xffff;
	return rd(cpu, S_SS, sp, size);
}

/* ---- ALU ---- */

static inline void alu_flags(struct cpu *cpu, unsigned op, unsigned size, uint32_t a, uint32_t b, uint32_t r)
{
	switch (op) {
	case 0: case 2: cc_set(cpu, CC_ADD, size, a, b, r); break;
	case 3: cc_set(cpu, CC_SBB, size, a, b, r); break;
	case 5: case 7: cc_set(cpu, CC_SUB, size, a, b, r); break;
	default: cc_set(cpu, CC_LOGIC, size, a, b, r); break;
	}
}

static inline uint32_t alu_compute(struct cpu *cpu, unsigned op, unsigned size, uint32_t a, uint32_t b)
{
	uint32_t m = size_mask(size);
	switch (op) {
	case 0: return (a + b) & m;
	case 1: return a | b;
	case 2: return (a + b + cpu_get_cf(cpu)) & m;
	case 3: return (a - b - cpu_get_cf(cpu)) & m;
	case 4: return a & b;
	case 5: case 7: return (a - b) & m;
	default: return a ^ b;
	}
}

void h_alu(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz, op = in->arg;
	uint32_t a, b, r;
	if (in->op < 0x40) {
		switch (in->op & 7) {
		case 0: case 1: {       /* E, G */
			struct rmw d;
			b = reg_get(cpu, in->reg, size);
			a = rmw_read(cpu, in, size, &d, op != 7);
			r = alu_compute(cpu, op, size, a, b);
			if (op != 7)
				rmw_write(cpu, in, size, &d, r);
			break;
		}
		case 2: case 3:         /* G, E */
			b = e_read(cpu, in, size);
			a = reg_get(cpu, in->reg, size);
			r = alu_compute(cpu, op, size, a, b);
			if (op != 7)
				reg_set(cpu, in->reg, size, r);
			break;
		default:                /* AL/eAX, imm */
			b = in->imm & size_mask(size);
			a = reg_get(cpu, R_EAX, size);
			r = alu_compute(cpu, op, size, a, b);
			if (op != 7)
				reg_set(cpu, R_EAX, size, r);
			break;
		}
	} else {                        /* group 1: E, imm */
		struct rmw d;
		b = in->imm & size_mask(size);
		a = rmw_read(cpu, in, size, &d, op != 7);
		r = alu_compute(cpu, op, size, a, b);
		if (op != 7)
			rmw_write(cpu, in, size, &d, r);
	}
	alu_flags(cpu, op, size, a, b, r);
}

void h_test(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz;
	uint32_t a, b;
	if (in->op == 0xa8 || in->op == 0xa9) {
		a = reg_get(cpu, R_EAX, size);
		b = in->imm & size_mask(size);
	} else if (in->op == 0x84 || in->op == 0x85) {
		a = e_read(cpu, in, size);
		b = reg_get(cpu, in->reg, size);
	} else {
		a = e_read(cpu, in, size);
		b = in->imm & size_mask(size);
	}
	cc_set(cpu, CC_LOGIC, size, a, b, a & b);
}

void h_inc(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz;
	uint32_t cf = cpu_get_cf(cpu), a, r;
	if (in->op >= 0x40 && in->op < 0x48) {
		a = reg_get(cpu, in->reg, size);
		r = (a + 1) & size_mask(size);
		reg_set(cpu, in->reg, size, r);
	} else {
		struct rmw d;
		a = rmw_read(cpu, in, size, &d, true);
		r = (a + 1) & size_mask(size);
		rmw_write(cpu, in, size, &d, r);
	}
	cc_set(cpu, CC_INC, size, a, 1, r);
	cpu->cc_cf = cf;
}

void h_dec(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz;
	uint32_t cf = cpu_get_cf(cpu), a, r;
	if (in->op >= 0x48 && in->op < 0x50) {
		a = reg_get(cpu, in->reg, size);
		r = (a - 1) & size_mask(size);
		reg_set(cpu, in->reg, size, r);
	} else {
		struct rmw d;
		a = rmw_read(cpu, in, size, &d, true);
		r = (a - 1) & size_mask(size);
		rmw_write(cpu, in, size, &d, r);
	}
	cc_set(cpu, CC_DEC, size, a, 1, r);
	cpu->cc_cf = cf;
}

void h_not(struct cpu *cpu, const struct insn *in)
{
	struct rmw d;
	uint32_t a = rmw_read(cpu, in, in->osz, &d, true);
	rmw_write(cpu, in, in->osz, &d, ~a & size_mask(in->osz));
}

void h_neg(struct cpu *cpu, const struct insn *in)
{
	struct rmw d;
	unsigned size = in->osz;
	uint32_t a = rmw_read(cpu, in, size, &d, true);
	uint32_t r = (0 - a) & size_mask(size);
	rmw_write(cpu, in, size, &d, r);
	cc_set(cpu, CC_SUB, size, 0, a, r);
}

/* Sets OSZAPC from explicit values (multiply, shifts, BCD). */
static void set_arith(struct cpu *cpu, uint32_t f)
{
	cpu_set_flags(cpu, f, F_OF | F_SF | F_ZF | F_AF | F_PF | F_CF);
}

static uint32_t szp_of(uint32_t r, unsigned size)
{
	uint32_t f = (__builtin_popcount(r & 0xff) & 1) ? 0 : F_PF;
	if (!(r & size_mask(size)))
		f |= F_ZF;
	if (r & (1u << (size * 8 - 1)))
		f |= F_SF;
	return f;
}

void h_mul(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz;
	uint32_t src = e_read(cpu, in, size), hi, lo;
	if (size == 1) {
		uint32_t r = (cpu->gpr[R_EAX] & 0xff) * src;
		reg_set(cpu, R_EAX, 2, r);
		lo = r & 0xff;
		hi = r >> 8;
	} else if (size == 2) {
		uint32_t r = (cpu->gpr[R_EAX] & 0xffff) * src;
		lo = r & 0xffff;
		hi = r >> 16;
		reg_set(cpu, R_EAX, 2, lo);
		reg_set(cpu, R_EDX, 2, hi);
	} else {
		uint64_t r = (uint64_t)cpu->gpr[R_EAX] * src;
		lo = (uint32_t)r;
		hi = (uint32_t)(r >> 32);
		cpu->gpr[R_EAX] = lo;
		cpu->gpr[R_EDX] = hi;
	}
	set_arith(cpu, szp_of(lo, size) | (hi ? F_CF | F_OF : 0));
}

static int32_t sx(uint32_t v, unsigned size)
{
	return size == 1 ? (int8_t)v : size == 2 ? (int16_t)v : (int32_t)v;
}

/* Signed product with CF=OF set when it does not fit the destination size. */
static uint32_t imul_flags(int64_t r, unsigned size)
{
	bool fits = r == (int64_t)sx((uint32_t)r, size);
	return szp_of((uint32_t)r, size) | (fits ? 0 : F_CF | F_OF);
}

void h_imul1(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz;
	int64_t src = sx(e_read(cpu, in, size), size);
	int64_t r = src * sx(cpu->gpr[R_EAX], size);
	if (size == 1) {
		reg_set(cpu, R_EAX, 2, (uint32_t)r);
	} else if (size == 2) {
		reg_set(cpu, R_EAX, 2, (uint32_t)r);
		reg_set(cpu, R_EDX, 2, (uint32_t)(r >> 16));
	} else {
		cpu->gpr[R_EAX] = (uint32_t)r;
		cpu->gpr[R_EDX] = (uint32_t)((uint64_t)r >> 32);
	}
	set_arith(cpu, imul_flags(r, size));
}

void h_imul2(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz;
	int64_t r = (int64_t)sx(e_read(cpu, in, size), size) * sx(reg_get(cpu, in->reg, size), size);
	reg_set(cpu, in->reg, size, (uint32_t)r);
	set_arith(cpu, imul_flags(r, size));
}

void h_imul3(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz;
	int64_t r = (int64_t)sx(e_read(cpu, in, size), size) * sx(in->imm, size);
	reg_set(cpu, in->reg, size, (uint32_t)r);
	set_arith(cpu, imul_flags(r, size));
}

void h_div(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz;
	uint32_t src = e_read(cpu, in, size);
	if (!src)
		cpu_raise(cpu, EXC_DE, 0, false);
	if (size == 1) {
		uint32_t n = cpu->gpr[R_EAX] & 0xffff, q = n / src;
		if (q > 0xff)
			cpu_raise(cpu, EXC_DE, 0, false);
		reg_set(cpu, R_EAX, 2, ((n % src) << 8) | q);
	} else if (size == 2) {
		uint32_t n = ((cpu->gpr[R_EDX] & 0xffff) << 16) | (cpu->gpr[R_EAX] & 0xffff);
		uint32_t q = n / src;
		if (q > 0xffff)
			cpu_raise(cpu, EXC_DE, 0, false);
		reg_set(cpu, R_EAX, 2, q);
		reg_set(cpu, R_EDX, 2, n % src);
	} else {
		uint64_t n = ((uint64_t)cpu->gpr[R_EDX] << 32) | cpu->gpr[R_EAX];
		uint64_t q = n / src;
		if (q > 0xffffffffu)
			cpu_raise(cpu, EXC_DE, 0, false);
		cpu->gpr[R_EAX] = (uint32_t)q;
		cpu->gpr[R_EDX] = (uint32_t)(n % src);
	}
}

void h_idiv(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz;
	int64_t src = sx(e_read(cpu, in, size), size);
	if (!src)
		cpu_raise(cpu, EXC_DE, 0, false);
	int64_t n;
	if (size == 1)
		n = (int16_t)cpu->gpr[R_EAX];
	else if (size == 2)
		n = (int32_t)(((cpu->gpr[R_EDX] & 0xffff) << 16) | (cpu->gpr[R_EAX] & 0xffff));
	else
		n = (int64_t)(((uint64_t)cpu->gpr[R_EDX] << 32) | cpu->gpr[R_EAX]);
	/* INT64_MIN / -1 cannot happen: n fits in 2*size bytes <= 64 bits but
	 * the quotient check below rejects it before it would overflow. */
	if (size == 4 && n == INT64_MIN && src == -1)
		cpu_raise(cpu, EXC_DE, 0, false);
	int64_t q = n / src, r = n % src;
	if (q != (int64_t)sx((uint32_t)q, size))
		cpu_raise(cpu, EXC_DE, 0, false);
	if (size == 1) {
		reg_set(cpu, R_EAX, 2, (((uint32_t)r & 0xff) << 8) | ((uint32_t)q & 0xff));
	} else if (size == 2) {
		reg_set(cpu, R_EAX, 2, (uint32_t)q);
		reg_set(cpu, R_EDX, 2, (uint32_t)r);
	} else {
		cpu->gpr[R_EAX] = (uint32_t)q;
		cpu->gpr[R_EDX] = (uint32_t)r;
	}
}

/* ---- shifts and rotates ---- */

static uint32_t shift_count(struct cpu *cpu, const struct insn *in)
{
	if (in->op == 0xd0 || in->op == 0xd1)
		return 1;
	if (in->op == 0xd2 || in->op == 0xd3)
		return cpu->gpr[R_ECX] & 0x1f;
	return in->imm & 0x1f;
}

void h_shift(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz, bits = size * 8;
	uint32_t count = shift_count(cpu, in);
	uint32_t m = size_mask(size), sb = 1u << (bits - 1);
	struct rmw d;
	uint32_t a = rmw_read(cpu, in, size, &d, true);
	if (!count)
		return;
	uint32_t r, f, cf;
	if (in->arg >= 4) {
		/* Shifts: flags stay lazy. */
		enum cc_op op;
		if (in->arg == 5) {
			r = count >= bits ? 0 : (a >> count);
			op = CC_SHR;
		} else if (in->arg == 7) {
			r = (uint32_t)(sx(a, size) >> (count >= bits ? bits - 1 : count)) & m;
			op = CC_SAR;
		} else {
			r = (uint32_t)((uint64_t)a << count) & m;
			op = CC_SHL;
		}
		rmw_write(cpu, in, size, &d, r);
		cc_set(cpu, op, size, a, count, r);
		return;
	}
	cf = cpu_get_cf(cpu) ? 1 : 0;
	uint32_t old = cpu_get_flags(cpu);
	switch (in->arg) {
	case 0: {       /* ROL */
		unsigned c = count & (bits - 1);
		r = c ? ((a << c) | (a >> (bits - c))) & m : a;
		cf = r & 1;
		f = (old & ~(F_CF | F_OF)) | cf | ((((r & sb) != 0) ^ cf) ? F_OF : 0);
		break;
	}
	case 1: {       /* ROR */
		unsigned c = count & (bits - 1);
		r = c ? ((a >> c) | (a << (bits - c))) & m : a;
		cf = (r & sb) ? 1 : 0;
		f = (old & ~(F_CF | F_OF)) | cf | ((((r >> (bits - 1)) ^ (r >> (bits - 2))) & 1) ? F_OF : 0);
		break;
	}
	case 2: {       /* RCL: a bits+1 wide rotation through CF */
		unsigned c = count % (bits + 1);
		uint64_t v = ((uint64_t)cf << bits) | a;
		for (unsigned i = 0; i < c; i++)
			v = ((v << 1) | (v >> bits)) & ((2ull << (bits)) - 1);
		r = (uint32_t)v & m;
		cf = (uint32_t)(v >> bits) & 1;
		f = (old & ~(F_CF | F_OF)) | cf | ((((r & sb) != 0) ^ cf) ? F_OF : 0);
		break;
	}
	default: {      /* RCR */
		unsigned c = count % (bits + 1);
		uint32_t of = (((a & sb) != 0) ^ cf) ? F_OF : 0;
		uint64_t v = ((uint64_t)cf << bits) | a;
		for (unsigned i = 0; i < c; i++)
			v = ((v >> 1) | ((v & 1) << bits));
		r = (uint32_t)v & m;
		cf = (uint32_t)(v >> bits) & 1;
		f = (old & ~(F_CF | F_OF)) | cf | of;
		break;
	}
	}
	rmw_write(cpu, in, size, &d, r);
	cpu_set_flags(cpu, f, F_CF | F_OF);
}

void h_shld(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz, bits = size * 8;
	unsigned count = (in->op == 0xa5 ? cpu->gpr[R_ECX] : in->imm) & 0x1f;
	struct rmw d;
	uint32_t a = rmw_read(cpu, in, size, &d, true);
	uint32_t b = reg_get(cpu, in->reg, size);
	if (!count)
		return;
	uint64_t v;
	uint32_t r, cf;
	if (size == 4) {
		v = ((uint64_t)a << 32) | b;
		r = (uint32_t)((v << count) >> 32);
		cf = (uint32_t)(v >> (64 - count)) & 1;
	} else {
		/* Counts above 16 shift through a:b:a, as Intel parts do. */
		v = ((uint64_t)a << 32) | ((uint64_t)b << 16) | a;
		r = (uint32_t)((v << count) >> 32) & 0xffff;
		cf = (uint32_t)(v >> (48 - count)) & 1;
	}
	rmw_write(cpu, in, size, &d, r);
	uint32_t sb = 1u << (bits - 1);
	set_arith(cpu, szp_of(r, size) | cf | (((r ^ a) & sb) ? F_OF : 0));
}

void h_shrd(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz, bits = size * 8;
	unsigned count = (in->op == 0xad ? cpu->gpr[R_ECX] : in->imm) & 0x1f;
	struct rmw d;
	uint32_t a = rmw_read(cpu, in, size, &d, true);
	uint32_t b = reg_get(cpu, in->reg, size);
	if (!count)
		return;
	uint64_t v;
	if (size == 4)
		v = ((uint64_t)b << 32) | a;
	else
		v = ((uint64_t)a << 32) | ((uint64_t)b << 16) | a;
	uint32_t r = (uint32_t)(v >> count) & size_mask(size);
	uint32_t cf = (uint32_t)(v >> (count - 1)) & 1;
	rmw_write(cpu, in, size, &d, r);
	uint32_t sb = 1u << (bits - 1);
	set_arith(cpu, szp_of(r, size) | cf | (((r ^ a) & sb) ? F_OF : 0));
}

/* ---- BCD ---- */

void h_daa(struct cpu *cpu, const struct insn *in)
{
	uint32_t fl = cpu_get_flags(cpu);
	uint32_t al = cpu->gpr[R_EAX] & 0xff, old = al, cf = 0, af = 0;
	if ((al & 0xf) > 9 || (fl & F_AF)) {
		al = (al + 6) & 0xff;
		af = F_AF;
	}
	if (old > 0x99 || (fl & F_CF)) {
		al = (al + 0x60) & 0xff;
		cf = F_CF;
	}
	reg_set(cpu, R_EAX, 1, al);
	set_arith(cpu, szp_of(al, 1) | af | cf);
}

void h_das(struct cpu *cpu, const struct insn *in)
{
	uint32_t fl = cpu_get_flags(cpu);
	uint32_t al = cpu->gpr[R_EAX] & 0xff, old = al, cf = 0, af = 0;
	if ((al & 0xf) > 9 || (fl & F_AF)) {
		cf = (fl & F_CF) | (al < 6 ? F_CF : 0);
		al = (al - 6) & 0xff;
		af = F_AF;
	}
	if (old > 0x99 || (fl & F_CF)) {
		al = (al - 0x60) & 0xff;
		cf = F_CF;
	}
	reg_set(cpu, R_EAX, 1, al);
	set_arith(cpu, szp_of(al, 1) | af | cf);
}

void h_aaa(struct cpu *cpu, const struct insn *in)
{
	uint32_t fl = cpu_get_flags(cpu);
	uint32_t ax = cpu->gpr[R_EAX] & 0xffff, f = 0;
	if ((ax & 0xf) > 9 || (fl & F_AF)) {
		ax = (ax + 0x106) & 0xffff;
		f = F_AF | F_CF;
	}
	ax &= 0xff0f;
	reg_set(cpu, R_EAX, 2, ax);
	set_arith(cpu, szp_of(ax & 0xff, 1) | f);
}

void h_aas(struct cpu *cpu, const struct insn *in)
{
	uint32_t fl = cpu_get_flags(cpu);
	uint32_t ax = cpu->gpr[R_EAX] & 0xffff, f = 0;
	if ((ax & 0xf) > 9 || (fl & F_AF)) {
		ax = (ax - 6) & 0xffff;
		ax = (ax - 0x100) & 0xffff;
		f = F_AF | F_CF;
	}
	ax &= 0xff0f;
	reg_set(cpu, R_EAX, 2, ax);
	set_arith(cpu, szp_of(ax & 0xff, 1) | f);
}

void h_aam(struct cpu *cpu, const struct insn *in)
{
	uint32_t base = in->imm & 0xff, al = cpu->gpr[R_EAX] & 0xff;
	if (!base)
		cpu_raise(cpu, EXC_DE, 0, false);
	uint32_t r = al % base;
	reg_set(cpu, R_EAX, 2, ((al / base) << 8) | r);
	set_arith(cpu, szp_of(r, 1));
}

void h_aad(struct cpu *cpu, const struct insn *in)
{
	uint32_t base = in->imm & 0xff;
	uint32_t al = cpu->gpr[R_EAX] & 0xff, ah = (cpu->gpr[R_EAX] >> 8) & 0xff;
	uint32_t r = (al + ah * base) & 0xff;
	reg_set(cpu, R_EAX, 2, r);
	/* OF/AF/CF are undefined; P6 leaves what the internal add produced. */
	uint32_t b = (ah * base) & 0xff, f = szp_of(r, 1);
	if (((al & b) | ((al | b) & ~r)) & 0x80)
		f |= F_CF;
	if ((al ^ r) & (b ^ r) & 0x80)
		f |= F_OF;
	f |= (al ^ b ^ r) & F_AF;
	set_arith(cpu, f);
}

void h_salc(struct cpu *cpu, const struct insn *in)
{
	reg_set(cpu, R_EAX, 1, cpu_get_cf(cpu) ? 0xff : 0);
}

/* ---- bits ---- */

void h_bt(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz, bits = size * 8;
	bool imm = in->op == 0xba;
	uint32_t off = imm ? in->imm : reg_get(cpu, in->reg, size);
	uint32_t a, bit, r;
	struct rmw d;
	bool write = in->arg != 0;
	if (!in->is_mem || imm) {
		bit = off & (bits - 1);
		a = rmw_read(cpu, in, size, &d, write);
	} else {
		/* A register bit offset reaches beyond the operand: signed, in operand-size units. */
		int32_t soff = sx(off, size);
		int32_t units = soff >> (size == 4 ? 5 : 4);
		uint32_t ea = ea_of(cpu, in) + (uint32_t)(units * (int32_t)size);
		if (in->asz == 2)
			ea &= 0xffff;
		bit = off & (bits - 1);
		d.mem = true;
		d.lin = seg_lin(cpu, in->seg, ea, size, write);
		a = write ? lin_read_rmw(cpu, d.lin, size, cpu_user(cpu))
		          : lin_read(cpu, d.lin, size, cpu_user(cpu));
	}
	uint32_t cf = (a >> bit) & 1;
	switch (in->arg) {
	case 1: r = a | (1u << bit); break;
	case 2: r = a & ~(1u << bit); break;
	case 3: r = a ^ (1u << bit); break;
	default: r = a; break;
	}
	if (write)
		rmw_write(cpu, in, size, &d, r);
	cpu_set_flags(cpu, cf, F_CF);
}

void h_bsf(struct cpu *cpu, const struct insn *in)
{
	uint32_t v = e_read(cpu, in, in->osz);
	if (!v) {
		cpu_set_flags(cpu, F_ZF, F_ZF);
		return;
	}
	reg_set(cpu, in->reg, in->osz, (uint32_t)__builtin_ctz(v));
	cpu_set_flags(cpu, 0, F_ZF);
}

void h_bsr(struct cpu *cpu, const struct insn *in)
{
	uint32_t v = e_read(cpu, in, in->osz);
	if (!v) {
		cpu_set_flags(cpu, F_ZF, F_ZF);
		return;
	}
	reg_set(cpu, in->reg, in->osz, 31u - (uint32_t)__builtin_clz(v));
	cpu_set_flags(cpu, 0, F_ZF);
}

void h_setcc(struct cpu *cpu, const struct insn *in)
{
	e_write(cpu, in, 1, cpu_cond(cpu, in->arg));
}

void h_cmov(struct cpu *cpu, const struct insn *in)
{
	/* The source is read (and may fault) whether or not the move happens. */
	uint32_t v = e_read(cpu, in, in->osz);
	if (cpu_cond(cpu, in->arg))
		reg_set(cpu, in->reg, in->osz, v);
}

void h_bswap(struct cpu *cpu, const struct insn *in)
{
	if (in->osz == 4)
		cpu->gpr[in->reg] = __builtin_bswap32(cpu->gpr[in->reg]);
	else
		reg_set(cpu, in->reg, 2, 0);    /* undefined; P6 and later give 0 */
}

/* ---- exchange and compare ---- */

void h_xchg(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz;
	if (in->op >= 0x91 && in->op <= 0x97) {
		uint32_t t = reg_get(cpu, in->reg, size);
		reg_set(cpu, in->reg, size, reg_get(cpu, R_EAX, size));
		reg_set(cpu, R_EAX, size, t);
		return;
	}
	struct rmw d;
	uint32_t a = rmw_read(cpu, in, size, &d, true);
	uint32_t b = reg_get(cpu, in->reg, size);
	rmw_write(cpu, in, size, &d, b);
	reg_set(cpu, in->reg, size, a);
}

void h_xadd(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz;
	struct rmw d;
	uint32_t a = rmw_read(cpu, in, size, &d, true);
	uint32_t b = reg_get(cpu, in->reg, size);
	uint32_t r = (a + b) & size_mask(size);
	if (in->is_mem) {
		rmw_write(cpu, in, size, &d, r);
		reg_set(cpu, in->reg, size, a);
	} else {
		reg_set(cpu, in->reg, size, a);
		rmw_write(cpu, in, size, &d, r);
	}
	cc_set(cpu, CC_ADD, size, a, b, r);
}

void h_cmpxchg(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz;
	struct rmw d;
	uint32_t dest = rmw_read(cpu, in, size, &d, true);
	uint32_t acc = reg_get(cpu, R_EAX, size);
	uint32_t r = (acc - dest) & size_mask(size);
	if (acc == dest) {
		rmw_write(cpu, in, size, &d, reg_get(cpu, in->reg, size));
	} else {
		/* The locked cycle writes the old value back. */
		rmw_write(cpu, in, size, &d, dest);
		reg_set(cpu, R_EAX, size, dest);
	}
	cc_set(cpu, CC_SUB, size, acc, dest, r);
}

void h_cmpxchg8b(struct cpu *cpu, const struct insn *in)
{
	uint32_t ea = ea_of(cpu, in);
	uint32_t lin = seg_lin(cpu, in->seg, ea, 8, true);
	bool user = cpu_user(cpu);
	mmu_probe_write(cpu, lin, 8, user);
	uint32_t lo = lin_read(cpu, lin, 4, user), hi = lin_read(cpu, lin + 4, 4, user);
	if (lo == cpu->gpr[R_EAX] && hi == cpu->gpr[R_EDX]) {
		lin_write(cpu, lin, 4, cpu->gpr[R_EBX], user);
		lin_write(cpu, lin + 4, 4, cpu->gpr[R_ECX], user);
		cpu_set_flags(cpu, F_ZF, F_ZF);
	} else {
		lin_write(cpu, lin, 4, lo, user);
		lin_write(cpu, lin + 4, 4, hi, user);
		cpu->gpr[R_EAX] = lo;
		cpu->gpr[R_EDX] = hi;
		cpu_set_flags(cpu, 0, F_ZF);
	}
}

/* ---- moves ---- */

void h_mov(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz;
	switch (in->op) {
	case 0x88: case 0x89:
		e_write(cpu, in, size, reg_get(cpu, in->reg, size));
		return;
	case 0x8a: case 0x8b:
		reg_set(cpu, in->reg, size, e_read(cpu, in, size));
		return;
	case 0xa0: case 0xa1:
		reg_set(cpu, R_EAX, size, rd(cpu, in->seg, in->disp, size));
		return;
	case 0xa2: case 0xa3:
		wr(cpu, in->seg, in->disp, size, reg_get(cpu, R_EAX, size));
		return;
	case 0xc6: case 0xc7:
		e_write(cpu, in, size, in->imm);
		return;
	default:        /* B0-BF */
		reg_set(cpu, in->reg, size, in->imm);
		return;
	}
}

void h_movzx(struct cpu *cpu, const struct insn *in)
{
	reg_set(cpu, in->reg, in->osz, e_read(cpu, in, in->arg ? 2 : 1));
}

void h_movsx(struct cpu *cpu, const struct insn *in)
{
	unsigned ss = in->arg ? 2 : 1;
	reg_set(cpu, in->reg, in->osz, (uint32_t)sx(e_read(cpu, in, ss), ss));
}

void h_lea(struct cpu *cpu, const struct insn *in)
{
	reg_set(cpu, in->reg, in->osz, ea_of(cpu, in));
}

void h_mov_from_seg(struct cpu *cpu, const struct insn *in)
{
	if (in->reg > 5)
		cpu_ud(cpu);
	uint32_t v = cpu->seg[in->reg].sel;
	if (in->is_mem)
		e_write(cpu, in, 2, v);
	else
		reg_set(cpu, in->rm, in->osz, v);
}

void h_mov_to_seg(struct cpu *cpu, const struct insn *in)
{
	if (in->reg > 5 || in->reg == S_CS)
		cpu_ud(cpu);
	uint16_t v = (uint16_t)e_read(cpu, in, 2);
	seg_load(cpu, in->reg, v);
	if (in->reg == S_SS)
		cpu->inhibit_irq = true;
}

void h_load_far(struct cpu *cpu, const struct insn *in)
{
	uint32_t ea = ea_of(cpu, in);
	uint32_t off = rd(cpu, in->seg, ea, in->osz);
	uint32_t ea2 = ea + in->osz;
	if (in->asz == 2)
		ea2 &= 0xffff;
	uint16_t sel = (uint16_t)rd(cpu, in->seg, ea2, 2);
	seg_load(cpu, in->arg, sel);
	reg_set(cpu, in->reg, in->osz, off);
	if (in->arg == S_SS)
		cpu->inhibit_irq = true;
}

void h_cbw(struct cpu *cpu, const struct insn *in)
{
	if (in->osz == 4)
		cpu->gpr[R_EAX] = (uint32_t)(int32_t)(int16_t)cpu->gpr[R_EAX];
	else
		reg_set(cpu, R_EAX, 2, (uint32_t)(int16_t)(int8_t)cpu->gpr[R_EAX]);
}

void h_cwd(struct cpu *cpu, const struct insn *in)
{
	if (in->osz == 4)
		cpu->gpr[R_EDX] = (cpu->gpr[R_EAX] & 0x80000000u) ? 0xffffffffu : 0;
	else
		reg_set(cpu, R_EDX, 2, (cpu->gpr[R_EAX] & 0x8000) ? 0xffff : 0);
}

void h_xlat(struct cpu *cpu, const struct insn *in)
{
	uint32_t off = cpu->gpr[R_EBX] + (cpu->gpr[R_EAX] & 0xff);
	if (in->asz == 2)
		off &= 0xffff;
	reg_set(cpu, R_EAX, 1, rd(cpu, in->seg, off, 1));
}

void h_lahf(struct cpu *cpu, const struct insn *in)
{
	reg_set(cpu, R_EAX + 4, 1, cpu_get_flags(cpu) & 0xd7);
	(void)in;
}

void h_sahf(struct cpu *cpu, const struct insn *in)
{
	uint32_t ah = (cpu->gpr[R_EAX] >> 8) & 0xff;
	cpu_set_flags(cpu, ah, F_SF | F_ZF | F_AF | F_PF | F_CF);
}

void h_setflag(struct cpu *cpu, const struct insn *in)
{
	switch (in->arg) {
	case 0: cpu_set_flags(cpu, 0, F_CF); break;
	case 1: cpu_set_flags(cpu, F_CF, F_CF); break;
	case 2: cpu->eflags &= ~F_DF; break;
	default: cpu->eflags |= F_DF; break;
	}
}

void h_cmc(struct cpu *cpu, const struct insn *in)
{
	cpu_set_flags(cpu, cpu_get_cf(cpu) ^ F_CF, F_CF);
}

void h_nop(struct cpu *cpu, const struct insn *in)
{
	(void)cpu;
	(void)in;
}

/* ---- stack instructions ---- */

void h_push(struct cpu *cpu, const struct insn *in)
{
	uint32_t v;
	if (in->op >= 0x50 && in->op < 0x58)
		v = reg_get(cpu, in->reg, in->osz);
	else if (in->op == 0x68 || in->op == 0x6a)
		v = in->imm;
	else
		v = e_read(cpu, in, in->osz);
	stack_push(cpu, in->osz, v);
}

void h_pop(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz;
	if (in->op >= 0x58 && in->op < 0x60) {
		uint32_t v = stack_pop(cpu, size);
		reg_set(cpu, in->reg, size, v);
		return;
	}
	/* POP to memory: the address uses ESP after the increment. */
	uint32_t v = stack_peek(cpu, size, 0);
	uint32_t old = cpu->gpr[R_ESP];
	sp_set(cpu, sp_get(cpu) + size);
	if (!in->is_mem) {
		reg_set(cpu, in->rm, size, v);
		return;
	}
	uint32_t ea = ea_of(cpu, in);
	uint32_t lin = seg_lin(cpu, in->seg, ea, size, true);
	uint32_t now = cpu->gpr[R_ESP];
	cpu->gpr[R_ESP] = old;  /* a fault below must see the old ESP (the run loop restores it too) */
	lin_write(cpu, lin, size, v, cpu_user(cpu));
	cpu->gpr[R_ESP] = now;
}

void h_push_seg(struct cpu *cpu, const struct insn *in)
{
	stack_push(cpu, in->osz, cpu->seg[in->arg].sel);
}

void h_pop_seg(struct cpu *cpu, const struct insn *in)
{
	uint16_t sel = (uint16_t)stack_peek(cpu, in->osz, 0);
	seg_load(cpu, in->arg, sel);
	sp_set(cpu, sp_get(cpu) + in->osz);
	if (in->arg == S_SS)
		cpu->inhibit_irq = true;
}

void h_pusha(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz;
	uint32_t sp = sp_get(cpu);
	uint32_t regs[8];
	memcpy(regs, cpu->gpr, sizeof(regs));
	for (int r = 0; r < 8; r++) {
		sp -= size;
		if (!cpu->stack32)
			sp &= 0xffff;
		wr(cpu, S_SS, sp, size, regs[r]);
	}
	sp_set(cpu, sp);
}

void h_popa(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz;
	uint32_t v[8];
	for (int i = 0; i < 8; i++)
		v[7 - i] = stack_peek(cpu, size, (uint32_t)i * size);
	for (int r = 0; r < 8; r++)
		if (r != R_ESP)
			reg_set(cpu, r, size, v[r]);
	sp_set(cpu, sp_get(cpu) + 8 * size);
}

void h_enter(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz;
	uint32_t alloc = in->imm & 0xffff, level = in->imm2 & 31;
	uint32_t sp = sp_get(cpu), bp = cpu->gpr[R_EBP];
	uint32_t smask = cpu->stack32 ? 0xffffffffu : 0xffff;
	sp = (sp - size) & smask;
	wr(cpu, S_SS, sp, size, bp);
	uint32_t frame = sp;
	if (level > 0) {
		uint32_t b = bp;
		for (uint32_t i = 1; i < level; i++) {
			b = (b - size) & smask;
			uint32_t v = rd(cpu, S_SS, b, size);
			sp = (sp - size) & smask;
			wr(cpu, S_SS, sp, size, v);
		}
		sp = (sp - size) & smask;
		wr(cpu, S_SS, sp, size, frame);
	}
	sp = (sp - alloc) & smask;
	/* The final stack pointer must be usable, as the P6 checks. */
	seg_lin(cpu, S_SS, sp, 1, true);
	reg_set(cpu, R_EBP, size, frame);
	sp_set(cpu, sp);
}

void h_leave(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz;
	uint32_t bp = cpu->stack32 ? cpu->gpr[R_EBP] : cpu->gpr[R_EBP] & 0xffff;
	uint32_t v = rd(cpu, S_SS, bp, size);
	sp_set(cpu, bp + size);
	reg_set(cpu, R_EBP, size, v);
}

void h_bound(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz;
	uint32_t ea = ea_of(cpu, in);
	uint32_t ea2 = ea + size;
	if (in->asz == 2)
		ea2 &= 0xffff;
	int32_t lo = sx(rd(cpu, in->seg, ea, size), size);
	int32_t hi = sx(rd(cpu, in->seg, ea2, size), size);
	int32_t v = sx(reg_get(cpu, in->reg, size), size);
	if (v < lo || v > hi)
		cpu_raise(cpu, EXC_BR, 0, false);
}
