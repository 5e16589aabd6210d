/*
 * Differential ALU check: integer instructions on pseudo-random operands
 * and flags, each group folded into a hash of its results and its defined
 * flags ("hash <group> <value>" lines). The kernel cannot know the right
 * hash itself: cpu_system.sh compares our CPU's lines with qemu's for the
 * same binary. Flags the SDM leaves undefined for an instruction are
 * masked out, so only architectural behaviour is compared.
 */
#include "rt.h"

#define CF 0x001u
#define PF 0x004u
#define AF 0x010u
#define ZF 0x040u
#define SF 0x080u
#define OF 0x800u
#define ARITH (CF | PF | AF | ZF | SF | OF)
#define N 3000

static uint32_t seed = 0x12345678;
static uint32_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 17;
	seed ^= seed << 5;
	return seed;
}
/* Operands with many edge values: 0, ~0, sign bits, small numbers. */
static uint32_t operand(void)
{
	uint32_t r = rnd();
	switch (r & 7) {
	case 0: return 0;
	case 1: return 0xffffffffu;
	case 2: return 0x80000000u ^ (rnd() & 3);
	case 3: return 0x7fffffffu - (rnd() & 3);
	case 4: return rnd() & 0xff;
	default: return rnd();
	}
}
static uint32_t in_flags(void) { return (rnd() & ARITH) | 2; }

static uint32_t h;
static void mix(uint32_t v) { h = (h ^ v) * 16777619u; }
static void report(const char *name)
{
	printf_("hash %s %08x\n", name, h);
	h = 2166136261u;
}

#define BIN32(insn, mask) do { \
	for (int i = 0; i < N; i++) { \
		uint32_t a = operand(), b = operand(), fi = in_flags(), r, fo; \
		__asm__ volatile("pushl %[fi]\n\tpopfl\n\t" insn " %[b], %[r]\n\tpushfl\n\tpopl %[fo]" \
				 : [r] "=&r"(r), [fo] "=&r"(fo) : "0"(a), [b] "r"(b), [fi] "r"(fi) : "cc"); \
		mix(r); mix(fo & (mask)); \
	} \
	report(insn "32"); } while (0)

#define BIN8(insn, mask) do { \
	for (int i = 0; i < N; i++) { \
		uint32_t a = operand(), b = operand(), fi = in_flags(), r, fo; \
		__asm__ volatile("pushl %[fi]\n\tpopfl\n\t" insn " %b[b], %b[r]\n\tpushfl\n\tpopl %[fo]" \
				 : [r] "=&q"(r), [fo] "=&r"(fo) : "0"(a), [b] "q"(b), [fi] "r"(fi) : "cc"); \
		mix(r); mix(fo & (mask)); \
	} \
	report(insn "8"); } while (0)

#define BIN16(insn, mask) do { \
	for (int i = 0; i < N; i++) { \
		uint32_t a = operand(), b = operand(), fi = in_flags(), r, fo; \
		__asm__ volatile("pushl %[fi]\n\tpopfl\n\t" insn " %w[b], %w[r]\n\tpushfl\n\tpopl %[fo]" \
				 : [r] "=&r"(r), [fo] "=&r"(fo) : "0"(a), [b] "r"(b), [fi] "r"(fi) : "cc"); \
		mix(r); mix(fo & (mask)); \
	} \
	report(insn "16"); } while (0)

#define UN32(insn, mask) do { \
	for (int i = 0; i < N; i++) { \
		uint32_t a = operand(), fi = in_flags(), r, fo; \
		__asm__ volatile("pushl %[fi]\n\tpopfl\n\t" insn " %[r]\n\tpushfl\n\tpopl %[fo]" \
				 : [r] "=&r"(r), [fo] "=&r"(fo) : "0"(a), [fi] "r"(fi) : "cc"); \
		mix(r); mix(fo & (mask)); \
	} \
	report(insn); } while (0)

/* Shifts and rotates by CL: count 0 leaves flags; OF defined for count 1 only; AF never. */
#define SHIFT(insn, width, suffix, mask1, maskn) do { \
	for (int i = 0; i < N; i++) { \
		uint32_t a = operand(), fi = in_flags(), r, fo, c = rnd() & 63; \
		__asm__ volatile("pushl %[fi]\n\tpopfl\n\t" insn " %%cl, %" width "[r]\n\tpushfl\n\tpopl %[fo]" \
				 : [r] "=&q"(r), [fo] "=&r"(fo) : "0"(a), "c"(c), [fi] "r"(fi) : "cc"); \
		mix(r); mix(fo & ((c & 31) == 1 ? (mask1) : (maskn))); \
	} \
	report(insn suffix); } while (0)

#define SHXD(insn) do { \
	for (int i = 0; i < N; i++) { \
		uint32_t a = operand(), b = operand(), fi = in_flags(), r, fo, c = rnd() & 31; \
		__asm__ volatile("pushl %[fi]\n\tpopfl\n\t" insn " %%cl, %[b], %[r]\n\tpushfl\n\tpopl %[fo]" \
				 : [r] "=&r"(r), [fo] "=&r"(fo) : "0"(a), [b] "r"(b), "c"(c), [fi] "r"(fi) : "cc"); \
		mix(r); mix(fo & (c == 1 ? (CF | PF | ZF | SF | OF) : c ? (CF | PF | ZF | SF) : ARITH)); \
	} \
	report(insn); } while (0)

static void conditions(void)
{
	/* SETcc and CMOVcc for all 16 conditions on random flags. */
	for (int i = 0; i < N; i++) {
		uint32_t fi = in_flags(), s = 0, t, a = operand(), b = operand();
#define CC(cc) \
		__asm__ volatile("pushl %[fi]\n\tpopfl\n\tset" cc " %b[t]\n\t" : [t] "=q"(t) : "0"(0), [fi] "r"(fi) : "cc"); \
		s = s * 2 + (t & 1); \
		__asm__ volatile("pushl %[fi]\n\tpopfl\n\tcmov" cc " %[b], %[r]" : [r] "=r"(t) : "0"(a), [b] "r"(b), [fi] "r"(fi) : "cc"); \
		mix(t);
		CC("o") CC("no") CC("b") CC("ae") CC("e") CC("ne") CC("be") CC("a")
		CC("s") CC("ns") CC("p") CC("np") CC("l") CC("ge") CC("le") CC("g")
#undef CC
		mix(s);
	}
	report("setcc+cmovcc");
}

static void muldiv(void)
{
	for (int i = 0; i < N; i++) {
		uint32_t a = operand(), b = operand(), lo, hi, fo;
		__asm__ volatile("mull %[b]\n\tpushfl\n\tpopl %[fo]" : "=a"(lo), "=d"(hi), [fo] "=r"(fo) : "0"(a), [b] "r"(b) : "cc");
		mix(lo); mix(hi); mix(fo & (CF | OF));
		__asm__ volatile("imull %[b]\n\tpushfl\n\tpopl %[fo]" : "=a"(lo), "=d"(hi), [fo] "=r"(fo) : "0"(a), [b] "r"(b) : "cc");
		mix(lo); mix(hi); mix(fo & (CF | OF));
		__asm__ volatile("imull %[b], %[r]\n\tpushfl\n\tpopl %[fo]" : [r] "=r"(lo), [fo] "=r"(fo) : "0"(a), [b] "r"(b) : "cc");
		mix(lo); mix(fo & (CF | OF));
		__asm__ volatile("imull $-77, %[b], %[r]\n\tpushfl\n\tpopl %[fo]" : [r] "=r"(lo), [fo] "=r"(fo) : [b] "r"(b) : "cc");
		mix(lo); mix(fo & (CF | OF));
		__asm__ volatile("mulb %b[b]\n\tpushfl\n\tpopl %[fo]" : "=a"(lo), [fo] "=r"(fo) : "0"(a), [b] "q"(b) : "cc");
		mix(lo & 0xffff); mix(fo & (CF | OF));
		__asm__ volatile("imulw %w[b]\n\tpushfl\n\tpopl %[fo]" : "=a"(lo), "=d"(hi), [fo] "=r"(fo) : "0"(a), [b] "r"(b) : "cc");
		mix(lo & 0xffff); mix(hi & 0xffff); mix(fo & (CF | OF));
		/* Divisions that cannot fault: divisor > the high half. */
		uint32_t d = b | 1, dh = a % d;
		__asm__ volatile("divl %[d]" : "=a"(lo), "=d"(hi) : "0"(a), "1"(dh), [d] "r"(d) : "cc");
		mix(lo); mix(hi);
		int32_t sd = (int32_t)(b | 1), sa = (int32_t)a;
		int32_t sh = sa < 0 ? -1 : 0;
		if (!(sd == -1 && (uint32_t)sa == 0x80000000u)) {
			__asm__ volatile("idivl %[d]" : "=a"(lo), "=d"(hi) : "0"(sa), "1"(sh), [d] "r"(sd) : "cc");
			mix(lo); mix(hi);
		}
		uint32_t a16 = a & 0xffff, d8 = (b & 0xff) | 1;
		if ((a16 >> 8) < d8) {
			__asm__ volatile("divb %b[d]" : "=a"(lo) : "0"(a16), [d] "q"(d8) : "cc");
			mix(lo & 0xffff);
		}
	}
	report("mul/div");
}

static void bits(void)
{
	for (int i = 0; i < N; i++) {
		uint32_t a = operand(), b = rnd(), r, fo;
		__asm__ volatile("bswap %0" : "=r"(r) : "0"(a));
		mix(r);
#define BT(insn) \
		__asm__ volatile(insn " %[b], %[r]\n\tpushfl\n\tpopl %[fo]" : [r] "=r"(r), [fo] "=r"(fo) : "0"(a), [b] "r"(b) : "cc"); \
		mix(r); mix(fo & CF);
		BT("btl") BT("btsl") BT("btrl") BT("btcl")
#undef BT
		if (a) {
			__asm__ volatile("bsfl %[a], %[r]" : [r] "=r"(r) : [a] "r"(a) : "cc");
			mix(r);
			__asm__ volatile("bsrl %[a], %[r]" : [r] "=r"(r) : [a] "r"(a) : "cc");
			mix(r);
		}
		__asm__ volatile("bsfl %[a], %[r]\n\tpushfl\n\tpopl %[fo]" : [r] "=&r"(r), [fo] "=r"(fo) : [a] "r"(a) : "cc");
		mix(fo & ZF);
		mix((uint32_t)(int32_t)(int8_t)a); mix((uint32_t)(int32_t)(int16_t)a);
		uint32_t x;
		__asm__ volatile("movsbl %b1, %0" : "=r"(x) : "q"(a)); mix(x);
		__asm__ volatile("movswl %w1, %0" : "=r"(x) : "r"(a)); mix(x);
		__asm__ volatile("movzbl %h1, %0" : "=r"(x) : "Q"(a)); mix(x);
		__asm__ volatile("movzwl %w1, %0" : "=r"(x) : "r"(a)); mix(x);
		/* XADD, CMPXCHG, CMPXCHG8B on memory. */
		volatile uint32_t m = a;
		uint32_t v = b;
		__asm__ volatile("xaddl %0, %1" : "+r"(v), "+m"(m) : : "cc"); mix(v); mix(m);
		uint32_t expect = (rnd() & 1) ? m : b;
		__asm__ volatile("cmpxchgl %[n], %[m]\n\tpushfl\n\tpopl %[fo]"
				 : "+a"(expect), [m] "+m"(m), [fo] "=r"(fo) : [n] "r"(a ^ b) : "cc");
		mix(expect); mix(m); mix(fo & ARITH);
		volatile uint64_t q = ((uint64_t)a << 32) | b;
		uint32_t elo = (rnd() & 1) ? (uint32_t)q : 1, ehi = (uint32_t)(q >> 32);
		__asm__ volatile("cmpxchg8b %[q]\n\tpushfl\n\tpopl %[fo]"
				 : "+a"(elo), "+d"(ehi), [q] "+m"(q), [fo] "=r"(fo) : "b"(~a), "c"(~b) : "cc");
		mix(elo); mix(ehi); mix((uint32_t)q); mix((uint32_t)(q >> 32)); mix(fo & ZF);
	}
	report("bits+atomics");
}

static void bcd(void)
{
	for (int i = 0; i < N; i++) {
		uint32_t a = operand(), fi = in_flags(), r, fo;
#define BCD(insn, mask) \
		__asm__ volatile("pushl %[fi]\n\tpopfl\n\t" insn "\n\tpushfl\n\tpopl %[fo]" : "=a"(r), [fo] "=r"(fo) : "0"(a), [fi] "r"(fi) : "cc"); \
		mix(r); mix(fo & (mask));
		BCD("daa", CF | AF | SF | ZF | PF) BCD("das", CF | AF | SF | ZF | PF)
		BCD("aaa", CF | AF) BCD("aas", CF | AF)
		BCD("aam", SF | ZF | PF) BCD("aad", SF | ZF | PF)
#undef BCD
	}
	report("bcd");
}

void test_main(void)
{
	h = 2166136261u;
	BIN32("addl", ARITH); BIN32("adcl", ARITH); BIN32("subl", ARITH); BIN32("sbbl", ARITH);
	BIN32("andl", ARITH & ~AF); BIN32("orl", ARITH & ~AF); BIN32("xorl", ARITH & ~AF);
	BIN32("cmpl", ARITH); BIN32("testl", ARITH & ~AF);
	BIN8("addb", ARITH); BIN8("adcb", ARITH); BIN8("sbbb", ARITH); BIN8("xorb", ARITH & ~AF);
	BIN16("addw", ARITH); BIN16("sbbw", ARITH); BIN16("andw", ARITH & ~AF);
	UN32("incl", ARITH); UN32("decl", ARITH); UN32("negl", ARITH); UN32("notl", ARITH);
	SHIFT("shll", "", "", CF | PF | ZF | SF | OF, CF | PF | ZF | SF);
	SHIFT("shrl", "", "", CF | PF | ZF | SF | OF, CF | PF | ZF | SF);
	SHIFT("sarl", "", "", CF | PF | ZF | SF | OF, CF | PF | ZF | SF);
	SHIFT("roll", "", "", CF | OF, CF);
	SHIFT("rorl", "", "", CF | OF, CF);
	SHIFT("rcll", "", "", CF | OF, CF);
	SHIFT("rcrl", "", "", CF | OF, CF);
	SHIFT("shlb", "b", "", CF | PF | ZF | SF | OF, CF | PF | ZF | SF);
	SHIFT("rclb", "b", "", CF | OF, CF);
	SHIFT("rcrw", "w", "", CF | OF, CF);
	SHIFT("sarw", "w", "", CF | PF | ZF | SF | OF, CF | PF | ZF | SF);
	SHXD("shldl"); SHXD("shrdl");
	conditions();
	muldiv();
	bits();
	bcd();
	check(1, "ran every group (the hashes are compared with qemu's by cpu_system.sh)", " ");
}
