/*
 * Differential x87 check: arithmetic, square root, partial remainders,
 * scaling, rounding to integer under each rounding mode, conversions,
 * comparisons and FXAM on pseudo-random operands (normals, zeros,
 * infinities, NaNs, denormals), each group hashed from the 80-bit results
 * and the status word's condition codes ("hash <group> <value>"), for
 * cpu_system.sh to compare with qemu. Transcendentals are left out: no two
 * implementations agree on their last bits.
 */
#include "rt.h"

#define N 2000
/* The first cases of each binary group are printed in full: when a hash
 * differs from qemu's, diffing these lines shows the operation. */
#define SHOW 12

static uint32_t seed = 0x9e3779b9;
static uint32_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 17;
	seed ^= seed << 5;
	return seed;
}

struct f80 { uint64_t m; uint16_t se; } __attribute__((packed));

/* An operand: mostly ordinary numbers of varied magnitude, some specials. */
static struct f80 operand(void)
{
	struct f80 x;
	uint32_t k = rnd() % 16;
	x.m = ((uint64_t)rnd() << 32 | rnd()) | (1ULL << 63);
	x.se = (uint16_t)(0x3fff - 40 + rnd() % 80) | (uint16_t)((rnd() & 1) << 15);
	switch (k) {
	case 0: x.m = 0; x.se &= 0x8000; break;                         /* zero */
	case 1: x.m = 1ULL << 63; x.se |= 0x7fff; break;                /* infinity */
	case 2: x.m |= 1ULL << 62; x.se |= 0x7fff; break;               /* quiet NaN */
	case 3: x.m &= ~(1ULL << 63); x.se &= 0x8000; break;            /* denormal */
	case 4: x.m = 1ULL << 63; x.se = (x.se & 0x8000) | 0x3fff; break; /* +-1 */
	case 5: x.m &= 0xffffffff00000000ULL; break;                    /* short mantissa: exact cases */
	default: break;
	}
	return x;
}

static int is_nan(const struct f80 *x)
{
	return (x->se & 0x7fff) == 0x7fff && (x->m << 1) != 0;
}

static uint32_t h;
static void mix(uint32_t v) { h = (h ^ v) * 16777619u; }
static void mix80(const struct f80 *x) { mix((uint32_t)x->m); mix((uint32_t)(x->m >> 32)); mix(x->se); }
static void report(const char *name)
{
	printf_("hash %s %08x\n", name, h);
	h = 2166136261u;
}

/*
 * Every asm block starts with FNINIT, loads a control word (all exceptions
 * masked, 64-bit precision, rounding mode i & 3) and leaves the register
 * stack empty: the compiler itself uses no x87 (-mgeneral-regs-only).
 *//*
 * The status word is hashed with the condition codes the instruction
 * defines and the exception flags but DE (denormal operand): qemu 7.2 does
 * not set DE (the SDM does, and so do we).
 */

/* OP, then the status word (before any store can touch C1), then AFTER. */
#define BINOP(name, insn, after, ccmask) BINOP_NAN(name, insn, after, ccmask, 0)
/* skip_nan2: leave out the cases with two NaN operands (see FSCALE). */
#define BINOP_NAN(name, insn, after, ccmask, skip_nan2) do { \
	for (int i = 0; i < N; i++) { \
		struct f80 a = operand(), b = operand(), r; uint16_t sw; \
		if ((skip_nan2) && is_nan(&a) && is_nan(&b)) \
			continue; \
		__asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[b]\n\tfldt %[a]\n\t" insn "\n\tfnstsw %%ax\n\tmovw %%ax, %[sw]\n\t" after "\n\tfstpt %[r]\n\tfninit" \
				 : [r] "=m"(r), [sw] "=m"(sw) : [a] "m"(a), [b] "m"(b), [cw] "m"(*(uint16_t[]){ (uint16_t)(0x037f | ((i & 3) << 10)) }) : "eax"); \
		mix80(&r); mix((sw & (ccmask)) | (sw & 0x3d)); \
		if (i < SHOW) \
			printf_("case %s %d: %04x:%08x%08x %04x:%08x%08x -> %04x:%08x%08x sw %04x\n", name, i, \
				a.se, (uint32_t)(a.m >> 32), (uint32_t)a.m, b.se, (uint32_t)(b.m >> 32), (uint32_t)b.m, \
				r.se, (uint32_t)(r.m >> 32), (uint32_t)r.m, sw); \
	} \
	report(name); } while (0)

#define UNOP(name, insn, after, ccmask) do { \
	for (int i = 0; i < N; i++) { \
		struct f80 a = operand(), r; uint16_t sw; \
		__asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\t" insn "\n\tfnstsw %%ax\n\tmovw %%ax, %[sw]\n\t" after "\n\tfstpt %[r]\n\tfninit" \
				 : [r] "=m"(r), [sw] "=m"(sw) : [a] "m"(a), [cw] "m"(*(uint16_t[]){ (uint16_t)(0x037f | ((i & 3) << 10)) }) : "eax"); \
		mix80(&r); mix((sw & (ccmask)) | (sw & 0x3d)); \
		if (i < SHOW) \
			printf_("case %s %d: %04x:%08x%08x -> %04x:%08x%08x sw %04x\n", name, i, \
				a.se, (uint32_t)(a.m >> 32), (uint32_t)a.m, \
				r.se, (uint32_t)(r.m >> 32), (uint32_t)r.m, sw); \
	} \
	report(name); } while (0)

/*
 * The condition codes each instruction defines (the SDM leaves the rest
 * undefined). C1 as "rounded up" is not compared (ROUND): qemu 7.2 never
 * reports it; as FPREM's Q0 or FXAM's sign it is (C0123).
 */
#define ROUND 0
#define C0123 0x4700

void test_main(void)
{
	h = 2166136261u;
	BINOP("fadd", "faddp", "", ROUND);
	BINOP("fsub", "fsubp", "", ROUND);
	BINOP("fsubr", "fsubrp", "", ROUND);
	BINOP("fmul", "fmulp", "", ROUND);
	BINOP("fdiv", "fdivp", "", ROUND);
	BINOP("fdivr", "fdivrp", "", ROUND);
	BINOP("fprem", "fprem", "fstp %%st(1)", C0123);
	/* qemu 7.2 leaves C0-C3 clear after FPREM1: only its result is compared. */
	BINOP("fprem1", "fprem1", "fstp %%st(1)", 0);
	/* With two QNaNs qemu returns ST(1)'s, the SDM the one with the larger significand. */
	BINOP_NAN("fscale", "fscale", "fstp %%st(1)", ROUND, 1);
	UNOP("fsqrt", "fsqrt", "", ROUND);
	UNOP("frndint", "frndint", "", ROUND);
	UNOP("fabs/fchs", "fabs\n\tfchs", "", ROUND);
	UNOP("fxtract", "fxtract", "fstp %%st(1)", ROUND);
	UNOP("fxam", "fxam", "", C0123);

	/* Conversions: FIST(P) of each width under each rounding mode, FILD back. */
	for (int i = 0; i < N; i++) {
		struct f80 a = operand();
		int16_t w; int32_t d; int64_t q; uint16_t sw;
		__asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfists %[w]\n\tfistl %[d]\n\tfistpll %[q]\n\tfnstsw %%ax\n\tmovw %%ax, %[sw]"
				 : [w] "=m"(w), [d] "=m"(d), [q] "=m"(q), [sw] "=m"(sw)
				 : [a] "m"(a), [cw] "m"(*(uint16_t[]){ (uint16_t)(0x037f | ((i & 3) << 10)) }) : "eax");
		mix((uint16_t)w); mix((uint32_t)d); mix((uint32_t)q); mix((uint32_t)((uint64_t)q >> 32)); mix(sw & 0x3d);
		struct f80 r;
		int32_t n = (int32_t)rnd();
		float f; double g;
		__asm__ volatile("fninit\n\tfildl %[n]\n\tfstpt %[r]" : [r] "=m"(r) : [n] "m"(n));
		mix80(&r);
		__asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\tfsts %[f]\n\tfstpl %[g]"
				 : [f] "=m"(f), [g] "=m"(g)
				 : [a] "m"(a), [cw] "m"(*(uint16_t[]){ (uint16_t)(0x037f | ((i & 3) << 10)) }));
		uint32_t fb; uint64_t gb;
		memcpy(&fb, &f, 4); memcpy(&gb, &g, 8);
		mix(fb); mix((uint32_t)gb); mix((uint32_t)(gb >> 32));
	}
	report("conversions");

	/* Comparisons: FCOM/FUCOM condition codes and FCOMI/FUCOMI EFLAGS. */
	for (int i = 0; i < N; i++) {
		struct f80 a = operand(), b = operand();
		uint16_t sw1, sw2; uint32_t fl1, fl2;
		__asm__ volatile("fninit\n\tfldt %[b]\n\tfldt %[a]\n\tfcom %%st(1)\n\tfnstsw %%ax\n\tmovw %%ax, %[s1]\n\t"
				 "fucom %%st(1)\n\tfnstsw %%ax\n\tmovw %%ax, %[s2]\n\t"
				 "fcomi %%st(1), %%st\n\tpushfl\n\tpopl %[f1]\n\tfucomi %%st(1), %%st\n\tpushfl\n\tpopl %[f2]\n\t"
				 "fstp %%st(0)\n\tfstp %%st(0)"
				 : [s1] "=m"(sw1), [s2] "=m"(sw2), [f1] "=r"(fl1), [f2] "=r"(fl2)
				 : [a] "m"(a), [b] "m"(b) : "eax", "cc");
		mix(sw1 & 0x4500); mix(sw2 & 0x4501); mix(fl1 & 0x45); mix(fl2 & 0x45);
	}
	report("compare");
	check(1, "ran every group (the hashes are compared with qemu's by cpu_system.sh)", " ");
}
