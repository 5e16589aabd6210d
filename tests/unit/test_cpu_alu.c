/*
 * Integer instruction results and flags, checked against the host CPU:
 * each case runs one instruction in the emulated CPU (flat 32-bit mode,
 * registers and flags set by the test) and the same instruction natively,
 * with many operand values, and compares registers and every flag the SDM
 * defines for it.
 */
#include <stdio.h>
#include <string.h>

#include "tests/unit/harness.h"
#include "tests/unit/test_cpu_bus.h"

#define OSZAPC 0x8d5u
#define F_OF 0x800u
#define F_AF 0x10u
#define F_SZP 0xc4u

/* Memory operand of the memory-form cases: the guest uses [0x30000]. */
static uint32_t hostmem[2] __attribute__((used));

struct st {
	uint64_t eax, ebx, ecx, edx, fl;
};

#define HOSTFN(name, text) \
static void host_##name(struct st *s) \
{ \
	__asm__ volatile("mov 0(%0),%%rax\n\tmov 8(%0),%%rbx\n\tmov 16(%0),%%rcx\n\tmov 24(%0),%%rdx\n\t" \
	                 "pushq 32(%0)\n\tpopfq\n\t" text "\n\tpushfq\n\tpopq 32(%0)\n\t" \
	                 "mov %%rax,0(%0)\n\tmov %%rbx,8(%0)\n\tmov %%rcx,16(%0)\n\tmov %%rdx,24(%0)" \
	                 : : "r"(s) : "rax", "rbx", "rcx", "rdx", "cc", "memory"); \
}

/* Shift-like cases: flags unchanged at count 0, OF defined only at count 1. */
enum { K_PLAIN, K_SHIFT, K_SHIFT_AF, K_SHXD16, K_MUL };

struct alu_case {
	const char *name;
	void (*host)(struct st *);
	uint8_t code[24];
	unsigned len;
	uint32_t undef;         /* flags the SDM leaves undefined */
	int kind;
	unsigned width;         /* operand width for shift counts */
};


#define AF_U 0x10u
#define ALU_CASES(C) \
	C(add32, "addl %%ebx,%%eax", 0, K_PLAIN, 32, 0x01, 0xd8) \
	C(adc32, "adcl %%ebx,%%eax", 0, K_PLAIN, 32, 0x11, 0xd8) \
	C(sub32, "subl %%ebx,%%eax", 0, K_PLAIN, 32, 0x29, 0xd8) \
	C(sbb32, "sbbl %%ebx,%%eax", 0, K_PLAIN, 32, 0x19, 0xd8) \
	C(and32, "andl %%ebx,%%eax", AF_U, K_PLAIN, 32, 0x21, 0xd8) \
	C(or32, "orl %%ebx,%%eax", AF_U, K_PLAIN, 32, 0x09, 0xd8) \
	C(xor32, "xorl %%ebx,%%eax", AF_U, K_PLAIN, 32, 0x31, 0xd8) \
	C(cmp32, "cmpl %%ebx,%%eax", 0, K_PLAIN, 32, 0x39, 0xd8) \
	C(test32, "testl %%ebx,%%eax", AF_U, K_PLAIN, 32, 0x85, 0xd8) \
	C(add8, "addb %%bl,%%al", 0, K_PLAIN, 8, 0x00, 0xd8) \
	C(adc8, "adcb %%bl,%%al", 0, K_PLAIN, 8, 0x10, 0xd8) \
	C(sub8, "subb %%bl,%%al", 0, K_PLAIN, 8, 0x28, 0xd8) \
	C(sbb8, "sbbb %%bl,%%al", 0, K_PLAIN, 8, 0x18, 0xd8) \
	C(cmp8, "cmpb %%bl,%%al", 0, K_PLAIN, 8, 0x38, 0xd8) \
	C(sub8h, "subb %%bh,%%ah", 0, K_PLAIN, 8, 0x28, 0xfc) \
	C(add16, "addw %%bx,%%ax", 0, K_PLAIN, 16, 0x66, 0x01, 0xd8) \
	C(sbb16, "sbbw %%bx,%%ax", 0, K_PLAIN, 16, 0x66, 0x19, 0xd8) \
	C(cmp16, "cmpw %%bx,%%ax", 0, K_PLAIN, 16, 0x66, 0x39, 0xd8) \
	C(addimm, "addl $-5,%%eax", 0, K_PLAIN, 32, 0x83, 0xc0, 0xfb) \
	C(subimm8, "subb $0x80,%%al", 0, K_PLAIN, 8, 0x2c, 0x80) \
	C(inc32, "incl %%eax", 0, K_PLAIN, 32, 0x40) \
	C(dec32, "decl %%eax", 0, K_PLAIN, 32, 0x48) \
	C(inc8, "incb %%al", 0, K_PLAIN, 8, 0xfe, 0xc0) \
	C(dec16, "decw %%ax", 0, K_PLAIN, 16, 0x66, 0x48) \
	C(neg32, "negl %%eax", 0, K_PLAIN, 32, 0xf7, 0xd8) \
	C(neg8, "negb %%al", 0, K_PLAIN, 8, 0xf6, 0xd8) \
	C(not32, "notl %%eax", 0, K_PLAIN, 32, 0xf7, 0xd0) \
	C(shl32, "shll %%cl,%%eax", 0, K_SHIFT_AF, 32, 0xd3, 0xe0) \
	C(shr32, "shrl %%cl,%%eax", 0, K_SHIFT_AF, 32, 0xd3, 0xe8) \
	C(sar32, "sarl %%cl,%%eax", 0, K_SHIFT_AF, 32, 0xd3, 0xf8) \
	C(rol32, "roll %%cl,%%eax", 0, K_SHIFT, 32, 0xd3, 0xc0) \
	C(ror32, "rorl %%cl,%%eax", 0, K_SHIFT, 32, 0xd3, 0xc8) \
	C(rcl32, "rcll %%cl,%%eax", 0, K_SHIFT, 32, 0xd3, 0xd0) \
	C(rcr32, "rcrl %%cl,%%eax", 0, K_SHIFT, 32, 0xd3, 0xd8) \
	C(shl8, "shlb %%cl,%%al", 0, K_SHIFT_AF, 8, 0xd2, 0xe0) \
	C(shr8, "shrb %%cl,%%al", 0, K_SHIFT_AF, 8, 0xd2, 0xe8) \
	C(sar8, "sarb %%cl,%%al", 0, K_SHIFT_AF, 8, 0xd2, 0xf8) \
	C(rol8, "rolb %%cl,%%al", 0, K_SHIFT, 8, 0xd2, 0xc0) \
	C(ror8, "rorb %%cl,%%al", 0, K_SHIFT, 8, 0xd2, 0xc8) \
	C(rcl8, "rclb %%cl,%%al", 0, K_SHIFT, 8, 0xd2, 0xd0) \
	C(rcr8, "rcrb %%cl,%%al", 0, K_SHIFT, 8, 0xd2, 0xd8) \
	C(shl16, "shlw %%cl,%%ax", 0, K_SHIFT_AF, 16, 0x66, 0xd3, 0xe0) \
	C(sar16, "sarw %%cl,%%ax", 0, K_SHIFT_AF, 16, 0x66, 0xd3, 0xf8) \
	C(rcl16, "rclw %%cl,%%ax", 0, K_SHIFT, 16, 0x66, 0xd3, 0xd0) \
	C(rcr16, "rcrw %%cl,%%ax", 0, K_SHIFT, 16, 0x66, 0xd3, 0xd8) \
	C(ror16, "rorw %%cl,%%ax", 0, K_SHIFT, 16, 0x66, 0xd3, 0xc8) \
	C(shl1, "shll $1,%%eax", AF_U, K_PLAIN, 32, 0xd1, 0xe0) \
	C(rcr1, "rcrl $1,%%eax", 0, K_PLAIN, 32, 0xd1, 0xd8) \
	C(shld32, "shldl %%cl,%%ebx,%%eax", AF_U, K_SHIFT, 32, 0x0f, 0xa5, 0xd8) \
	C(shrd32, "shrdl %%cl,%%ebx,%%eax", AF_U, K_SHIFT, 32, 0x0f, 0xad, 0xd8) \
	C(shld16, "shldw %%cl,%%bx,%%ax", AF_U, K_SHXD16, 16, 0x66, 0x0f, 0xa5, 0xd8) \
	C(shrd16, "shrdw %%cl,%%bx,%%ax", AF_U, K_SHXD16, 16, 0x66, 0x0f, 0xad, 0xd8) \
	C(mul32, "mull %%ebx", F_SZP | AF_U, K_PLAIN, 32, 0xf7, 0xe3) \
	C(imul32, "imull %%ebx", F_SZP | AF_U, K_PLAIN, 32, 0xf7, 0xeb) \
	C(mul8, "mulb %%bl", F_SZP | AF_U, K_PLAIN, 8, 0xf6, 0xe3) \
	C(imul8, "imulb %%bl", F_SZP | AF_U, K_PLAIN, 8, 0xf6, 0xeb) \
	C(imul16, "imulw %%bx", F_SZP | AF_U, K_PLAIN, 16, 0x66, 0xf7, 0xeb) \
	C(imul2, "imull %%ebx,%%eax", F_SZP | AF_U, K_PLAIN, 32, 0x0f, 0xaf, 0xc3) \
	C(imul3, "imull $-300,%%ebx,%%eax", F_SZP | AF_U, K_PLAIN, 32, 0x69, 0xc3, 0xd4, 0xfe, 0xff, 0xff) \
	C(bsf32, "bsfl %%ebx,%%eax", OSZAPC & ~0x40u, K_PLAIN, 32, 0x0f, 0xbc, 0xc3) \
	C(bsr32, "bsrl %%ebx,%%eax", OSZAPC & ~0x40u, K_PLAIN, 32, 0x0f, 0xbd, 0xc3) \
	C(bt32, "btl %%ebx,%%eax", F_OF | F_SZP | AF_U, K_PLAIN, 32, 0x0f, 0xa3, 0xd8) \
	C(bts32, "btsl %%ebx,%%eax", F_OF | F_SZP | AF_U, K_PLAIN, 32, 0x0f, 0xab, 0xd8) \
	C(btr32, "btrl %%ebx,%%eax", F_OF | F_SZP | AF_U, K_PLAIN, 32, 0x0f, 0xb3, 0xd8) \
	C(btc16, "btcw %%bx,%%ax", F_OF | F_SZP | AF_U, K_PLAIN, 16, 0x66, 0x0f, 0xbb, 0xd8) \
	C(btsimm, "btsl $35,%%eax", F_OF | F_SZP | AF_U, K_PLAIN, 32, 0x0f, 0xba, 0xe8, 35) \
	C(xadd32, "xaddl %%ebx,%%eax", 0, K_PLAIN, 32, 0x0f, 0xc1, 0xd8) \
	C(cmpxchg32, "cmpxchgl %%edx,%%ebx", 0, K_PLAIN, 32, 0x0f, 0xb1, 0xd3) \
	C(cmpxchg8, "cmpxchgb %%dl,%%bl", 0, K_PLAIN, 8, 0x0f, 0xb0, 0xd3) \
	C(bswap, "bswapl %%eax", 0, K_PLAIN, 32, 0x0f, 0xc8) \
	C(setl, "setl %%al", 0, K_PLAIN, 8, 0x0f, 0x9c, 0xc0) \
	C(setbe, "setbe %%bl", 0, K_PLAIN, 8, 0x0f, 0x96, 0xc3) \
	C(setp, "setp %%dh", 0, K_PLAIN, 8, 0x0f, 0x9a, 0xc6) \
	C(cmovg, "cmovgl %%ebx,%%eax", 0, K_PLAIN, 32, 0x0f, 0x4f, 0xc3) \
	C(cmovo, "cmovol %%ebx,%%eax", 0, K_PLAIN, 32, 0x0f, 0x40, 0xc3) \
	C(cwde, "cwtl", 0, K_PLAIN, 32, 0x98) \
	C(cdq, "cltd", 0, K_PLAIN, 32, 0x99) \
	C(cbw, "cbtw", 0, K_PLAIN, 16, 0x66, 0x98) \
	C(lahf, "lahf", 0, K_PLAIN, 8, 0x9f) \
	C(sahf, "sahf", 0, K_PLAIN, 8, 0x9e) \
	C(cmc, "cmc", 0, K_PLAIN, 8, 0xf5) \
	C(movzx, "movzbl %%bh,%%eax", 0, K_PLAIN, 32, 0x0f, 0xb6, 0xc7) \
	C(movsx, "movswl %%bx,%%eax", 0, K_PLAIN, 32, 0x0f, 0xbf, 0xc3) \
	C(xchg8, "xchgb %%ah,%%bl", 0, K_PLAIN, 8, 0x86, 0xe3) \
	C(lea, "leal 0x10(%%rbx,%%rdx,4),%%eax", 0, K_PLAIN, 32, 0x8d, 0x44, 0x93, 0x10) \
	MEMCASES(C)

/* Memory forms: the value goes to memory (host: hostmem, guest: [0x30000]),
 * the instruction works on it, and it comes back in EAX. */
#define PRE "movl %%eax,hostmem(%%rip)\n\t"
#define POST "\n\tmovl hostmem(%%rip),%%eax"
#define M_IN 0xa3, 0, 0, 3, 0
#define M_OUT 0xa1, 0, 0, 3, 0
#define MEMCASES(C) \
	C(add_mr, PRE "addl %%ebx,hostmem(%%rip)" POST, 0, K_PLAIN, 32, M_IN, 0x01, 0x1d, 0, 0, 3, 0, M_OUT) \
	C(sub_mr, PRE "subl %%ebx,hostmem(%%rip)" POST, 0, K_PLAIN, 32, M_IN, 0x29, 0x1d, 0, 0, 3, 0, M_OUT) \
	C(adc_mr, PRE "adcl %%ebx,hostmem(%%rip)" POST, 0, K_PLAIN, 32, M_IN, 0x11, 0x1d, 0, 0, 3, 0, M_OUT) \
	C(sbb_mr8, PRE "sbbb %%bl,hostmem(%%rip)" POST, 0, K_PLAIN, 8, M_IN, 0x18, 0x1d, 0, 0, 3, 0, M_OUT) \
	C(xor_mr16, PRE "xorw %%bx,hostmem(%%rip)" POST, AF_U, K_PLAIN, 16, M_IN, 0x66, 0x31, 0x1d, 0, 0, 3, 0, M_OUT) \
	C(cmp_mr, PRE "cmpl %%ebx,hostmem(%%rip)" POST, 0, K_PLAIN, 32, M_IN, 0x39, 0x1d, 0, 0, 3, 0, M_OUT) \
	C(sub_rm, PRE "subl hostmem(%%rip),%%ebx" POST, 0, K_PLAIN, 32, M_IN, 0x2b, 0x1d, 0, 0, 3, 0, M_OUT) \
	C(and_rm, PRE "andl hostmem(%%rip),%%ebx" POST, AF_U, K_PLAIN, 32, M_IN, 0x23, 0x1d, 0, 0, 3, 0, M_OUT) \
	C(cmp_rm, PRE "cmpl hostmem(%%rip),%%ebx" POST, 0, K_PLAIN, 32, M_IN, 0x3b, 0x1d, 0, 0, 3, 0, M_OUT) \
	C(or_rm8, PRE "orb hostmem(%%rip),%%bh" POST, AF_U, K_PLAIN, 8, M_IN, 0x0a, 0x3d, 0, 0, 3, 0, M_OUT) \
	C(add_mi, PRE "addl $0x12345678,hostmem(%%rip)" POST, 0, K_PLAIN, 32, M_IN, 0x81, 0x05, 0, 0, 3, 0, 0x78, 0x56, 0x34, 0x12, M_OUT) \
	C(sub_mi8, PRE "subl $-3,hostmem(%%rip)" POST, 0, K_PLAIN, 32, M_IN, 0x83, 0x2d, 0, 0, 3, 0, 0xfd, M_OUT) \
	C(cmp_mi, PRE "cmpl $0x80,hostmem(%%rip)" POST, 0, K_PLAIN, 32, M_IN, 0x81, 0x3d, 0, 0, 3, 0, 0x80, 0, 0, 0, M_OUT) \
	C(inc_m, PRE "incl hostmem(%%rip)" POST, 0, K_PLAIN, 32, M_IN, 0xff, 0x05, 0, 0, 3, 0, M_OUT) \
	C(dec_m8, PRE "decb hostmem(%%rip)" POST, 0, K_PLAIN, 8, M_IN, 0xfe, 0x0d, 0, 0, 3, 0, M_OUT) \
	C(neg_m, PRE "negl hostmem(%%rip)" POST, 0, K_PLAIN, 32, M_IN, 0xf7, 0x1d, 0, 0, 3, 0, M_OUT) \
	C(not_m16, PRE "notw hostmem(%%rip)" POST, 0, K_PLAIN, 16, M_IN, 0x66, 0xf7, 0x15, 0, 0, 3, 0, M_OUT) \
	C(shl_m, PRE "shll %%cl,hostmem(%%rip)" POST, 0, K_SHIFT_AF, 32, M_IN, 0xd3, 0x25, 0, 0, 3, 0, M_OUT) \
	C(rcr_m8, PRE "rcrb %%cl,hostmem(%%rip)" POST, 0, K_SHIFT, 8, M_IN, 0xd2, 0x1d, 0, 0, 3, 0, M_OUT) \
	C(test_m, PRE "testl %%ebx,hostmem(%%rip)" POST, AF_U, K_PLAIN, 32, M_IN, 0x85, 0x1d, 0, 0, 3, 0, M_OUT) \
	C(xchg_m, PRE "xchgl %%ebx,hostmem(%%rip)" POST, 0, K_PLAIN, 32, M_IN, 0x87, 0x1d, 0, 0, 3, 0, M_OUT) \
	C(xadd_m, PRE "xaddl %%ebx,hostmem(%%rip)" POST, 0, K_PLAIN, 32, M_IN, 0x0f, 0xc1, 0x1d, 0, 0, 3, 0, M_OUT) \
	C(cmpxchg_m, PRE "cmpxchgl %%edx,hostmem(%%rip)" POST, 0, K_PLAIN, 32, M_IN, 0x0f, 0xb1, 0x15, 0, 0, 3, 0, M_OUT) \
	C(movzx_m, PRE "movzbl hostmem+1(%%rip),%%ebx" POST, 0, K_PLAIN, 32, M_IN, 0x0f, 0xb6, 0x1d, 1, 0, 3, 0, M_OUT) \
	C(movsx_m, PRE "movswl hostmem+1(%%rip),%%edx" POST, 0, K_PLAIN, 32, M_IN, 0x0f, 0xbf, 0x15, 1, 0, 3, 0, M_OUT) \
	C(imul_rm, PRE "imull hostmem(%%rip),%%ebx" POST, F_SZP | AF_U, K_PLAIN, 32, M_IN, 0x0f, 0xaf, 0x1d, 0, 0, 3, 0, M_OUT) \
	C(bts_m, PRE "btsl $13,hostmem(%%rip)" POST, F_OF | F_SZP | AF_U, K_PLAIN, 32, M_IN, 0x0f, 0xba, 0x2d, 0, 0, 3, 0, 13, M_OUT) \
	C(setg_m, PRE "setg hostmem(%%rip)" POST, 0, K_PLAIN, 8, M_IN, 0x0f, 0x9f, 0x05, 0, 0, 3, 0, M_OUT)

#define HOST_C(name, text, undef, kind, width, ...) HOSTFN(name, text)
ALU_CASES(HOST_C)

static const struct alu_case cases[] = {
#define TABLE_C(name, text, undef, kind, width, ...) \
	{ #name, host_##name, { __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ }), undef, kind, width },
	ALU_CASES(TABLE_C)
};

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static const uint32_t edges[] = {
	0, 1, 2, 7, 8, 9, 0xf, 0x10, 0x7f, 0x80, 0x81, 0xff, 0x100, 0x7fff, 0x8000, 0x8001, 0xffff,
	0x10000, 0x7fffffff, 0x80000000u, 0x80000001u, 0xfffffffeu, 0xffffffffu, 0x99, 0x9a, 0x66,
};

static uint32_t pick(uint64_t *s)
{
	uint64_t r = rng_next(s);
	if ((r & 3) == 0)
		return edges[(r >> 8) % (sizeof(edges) / sizeof(edges[0]))];
	if ((r & 3) == 1)
		return (uint32_t)(r >> 20) & 0xff;
	return (uint32_t)(r >> 16);
}

/* Runs one case in the emulator: mov eax/ebx/ecx/edx, push flags, popf, insn, pushf, hlt. */
static int run_guest(struct tmachine *m, const struct alu_case *c, struct st *s)
{
	uint8_t code[64];
	unsigned n = 0;
	uint32_t vals[4] = { (uint32_t)s->eax, (uint32_t)s->ebx, (uint32_t)s->ecx, (uint32_t)s->edx };
	static const uint8_t movs[4] = { 0xb8, 0xbb, 0xb9, 0xba };
	for (int i = 0; i < 4; i++) {
		code[n++] = movs[i];
		memcpy(code + n, &vals[i], 4);
		n += 4;
	}
	code[n++] = 0x68;
	uint32_t fl = (uint32_t)s->fl;
	memcpy(code + n, &fl, 4);
	n += 4;
	code[n++] = 0x9d;
	memcpy(code + n, c->code, c->len);
	n += c->len;
	code[n++] = 0x9c;
	code[n++] = 0xf4;
	tm_load(m, 0x10000, code, n);
	tm_flat32(m, 0x10000, 0x20000);
	enum cpu_exit e = cpu_run(m->cpu, 1000);
	if (e != CPU_EXIT_HALT)
		return -1;
	struct cpu_regs r;
	cpu_get_regs(m->cpu, &r);
	s->eax = r.gpr[R_EAX];
	s->ebx = r.gpr[R_EBX];
	s->ecx = r.gpr[R_ECX];
	s->edx = r.gpr[R_EDX];
	s->fl = tm_rd32(m, r.gpr[R_ESP]);
	return 0;
}

static void against_host(struct test *t)
{
	struct tmachine *m = tm_new(false);
	REQUIRE(t, m);
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	unsigned failures = 0;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct alu_case *c = &cases[k];
		for (int it = 0; it < 400 && failures < 20; it++) {
			struct st in, h, g;
			in.eax = pick(&seed);
			in.ebx = pick(&seed);
			in.ecx = (rng_next(&seed) & 1) ? pick(&seed) : (rng_next(&seed) % 40);
			in.edx = pick(&seed);
			in.fl = 0x2 | (rng_next(&seed) & OSZAPC);
			h = in;
			g = in;
			c->host(&h);
			if (run_guest(m, c, &g) != 0) {
				test_fail(t, __FILE__, __LINE__, "%s: guest did not halt", c->name);
				failures++;
				break;
			}
			uint32_t mask = OSZAPC & ~c->undef;
			unsigned cnt = (uint32_t)in.ecx & 0x1f;
			if ((c->kind == K_SHIFT || c->kind == K_SHIFT_AF || c->kind == K_SHXD16) && cnt != 1)
				mask &= ~F_OF;
			if (c->kind == K_SHIFT_AF && cnt != 0)
				mask &= ~F_AF;
			bool res_undef = c->kind == K_SHXD16 && cnt > 16;
			if (res_undef)
				mask &= ~OSZAPC;
			bool bad = ((h.fl ^ g.fl) & mask) != 0;
			if (!res_undef)
				bad = bad || (uint32_t)h.eax != (uint32_t)g.eax || (uint32_t)h.edx != (uint32_t)g.edx ||
				      (uint32_t)h.ebx != (uint32_t)g.ebx || (uint32_t)h.ecx != (uint32_t)g.ecx;
			if (bad) {
				test_fail(t, __FILE__, __LINE__,
				          "%s a=%08x b=%08x c=%08x d=%08x f=%03x: host eax=%08x ebx=%08x ecx=%08x edx=%08x f=%03x, "
				          "guest eax=%08x ebx=%08x ecx=%08x edx=%08x f=%03x (mask %03x)",
				          c->name, (uint32_t)in.eax, (uint32_t)in.ebx, (uint32_t)in.ecx, (uint32_t)in.edx,
				          (uint32_t)in.fl, (uint32_t)h.eax, (uint32_t)h.ebx, (uint32_t)h.ecx, (uint32_t)h.edx,
				          (uint32_t)h.fl & OSZAPC, (uint32_t)g.eax, (uint32_t)g.ebx, (uint32_t)g.ecx,
				          (uint32_t)g.edx, (uint32_t)g.fl & OSZAPC, mask);
				failures++;
			}
		}
	}
	tm_free(m);
}

int main(int argc, char **argv)
{
	struct harness h;
	harness_init(&h, "cpu_alu", argc, argv);
	RUN(&h, against_host);
	return harness_done(&h);
}
