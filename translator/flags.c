/*
 * Lazy arithmetic flags: the last flag-setting operation is remembered
 * (operation, size, operands, result) and OF/SF/ZF/AF/PF/CF are computed
 * only when something reads them (Jcc, SETcc, PUSHF, an interrupt...).
 */
#include "translator/cpu_int.h"

#define ARITH (F_OF | F_SF | F_ZF | F_AF | F_PF | F_CF)

static uint32_t parity(uint32_t v)
{
	return (__builtin_popcount(v & 0xff) & 1) ? 0 : F_PF;
}

static uint32_t szp(uint32_t res, unsigned size)
{
	uint32_t m = size_mask(size), sb = 1u << (size * 8 - 1);
	uint32_t f = parity(res);
	if ((res & m) == 0)
		f |= F_ZF;
	if (res & sb)
		f |= F_SF;
	return f;
}

static uint32_t lazy_flags(const struct cpu *cpu)
{
	if (cpu->cc_op == CC_EFLAGS)
		return cpu->eflags & ARITH;
	uint32_t a = cpu->cc_a, b = cpu->cc_b, r = cpu->cc_res;
	unsigned size = cpu->cc_size;
	uint32_t sb = 1u << (size * 8 - 1);
	uint32_t f = szp(r, size) | ((a ^ b ^ r) & F_AF);
	switch (cpu->cc_op) {
	case CC_ADD:
		if (((a & b) | ((a | b) & ~r)) & sb)
			f |= F_CF;
		if ((a ^ r) & (b ^ r) & sb)
			f |= F_OF;
		return f;
	case CC_SUB:
	case CC_SBB:
		if (((~a & b) | ((~a | b) & r)) & sb)
			f |= F_CF;
		if ((a ^ b) & (a ^ r) & sb)
			f |= F_OF;
		return f;
	case CC_LOGIC:
		return szp(r, size);
	case CC_INC:
		f |= cpu->cc_cf;
		if ((r & size_mask(size)) == sb)
			f |= F_OF;
		return f;
	case CC_DEC:
		f |= cpu->cc_cf;
		if ((r & size_mask(size)) == sb - 1)
			f |= F_OF;
		return f;
	case CC_SHL: {
		unsigned bits = size * 8;
		uint32_t cf = (uint32_t)(((uint64_t)a << b) >> bits) & 1;
		return szp(r, size) | cf | ((((r & sb) != 0) ^ cf) ? F_OF : 0);
	}
	case CC_SHR: {
		uint32_t cf = b > size * 8u ? 0 : (a >> (b - 1)) & 1;
		return szp(r, size) | cf | ((a & sb) ? F_OF : 0);
	}
	case CC_SAR: {
		unsigned bits = size * 8;
		int64_t v = sext_size(a, size);
		return szp(r, size) | ((uint32_t)(v >> (b >= bits ? bits - 1 : b - 1)) & 1);
	}
	case CC_EFLAGS:
	default:
		return cpu->eflags & ARITH;
	}
}

uint32_t cpu_get_flags(struct cpu *cpu)
{
	if (cpu->cc_op != CC_EFLAGS) {
		cpu->eflags = (cpu->eflags & ~ARITH) | lazy_flags(cpu);
		cpu->cc_op = CC_EFLAGS;
	}
	return cpu->eflags | 2;
}

uint32_t cpu_get_cf(struct cpu *cpu)
{
	switch (cpu->cc_op) {
	case CC_LOGIC:
		return 0;
	case CC_INC:
	case CC_DEC:
		return cpu->cc_cf;
	case CC_EFLAGS:
		return cpu->eflags & F_CF;
	default:
		return lazy_flags(cpu) & F_CF;
	}
}

void cpu_set_flags(struct cpu *cpu, uint32_t value, uint32_t mask)
{
	cpu_get_flags(cpu);
	cpu->eflags = ((cpu->eflags & ~mask) | (value & mask)) | 2;
}

bool cpu_cond_slow(struct cpu *cpu, unsigned cc)
{
	uint32_t f = cpu->cc_op == CC_EFLAGS ? cpu->eflags : lazy_flags(cpu);
	bool r;
	switch (cc >> 1) {
	case 0: r = f & F_OF; break;
	case 1: r = f & F_CF; break;
	case 2: r = f & F_ZF; break;
	case 3: r = f & (F_CF | F_ZF); break;
	case 4: r = f & F_SF; break;
	case 5: r = f & F_PF; break;
	case 6: r = !(f & F_SF) != !(f & F_OF); break;
	default: r = (f & F_ZF) || (!(f & F_SF) != !(f & F_OF)); break;
	}
	return (cc & 1) ? !r : r;
}

bool cpu_cond(struct cpu *cpu, unsigned cc)
{
	return cond_fast(cpu, cc);
}
