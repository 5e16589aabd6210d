/*
 * Unmasked x87 exceptions with CR0.NE=1 (native error reporting): the
 * faulting instruction only records the error (FSW.ES and B set, result
 * not stored for #Z/#I); #MF comes at the NEXT waiting x87 instruction,
 * as a fault at that instruction, and FNSTENV inside the handler shows
 * the FSW and the pointers (FIP/FCS/FOP, FDP/FDS) of the instruction that
 * failed. Non-waiting control instructions do not raise it. After the
 * handler clears the error, the waiting instruction runs once.
 */
#include "fpu.h"

struct mf_state {
	int n;
	uint32_t eip, cs;
	struct fenv32 env;
};
static struct mf_state M;

/* What Linux's do_coprocessor_error needs: the environment, then a clear FSW. */
static void mf_handler(struct frame *f)
{
	M.n++;
	M.eip = f->eip;
	M.cs = f->cs;
	fnstenv(&M.env);
	fnclex();
}

extern uint8_t mf_rs_div[], mf_rs_wait[], mf_fsave[];
extern uint8_t mf_div[], mf_wait[], mf_sqrt[], mf_sqrt2[], mf_fld[], mf_pe[], mf_pe_wait[];
static const double zero = 0.0, three = 3.0, minus_one = -1.0;

/* Ring 3: 1/0 (ZM clear), FWAIT, store the top, back to ring 0. */
extern uint8_t user_div[], user_wait[];
void user_part(void);
uint64_t user_result;                 /* a double's bits */
const double user_zero = 0.0;
uint32_t user_done;
__asm__(".text\nuser_part:\n"
	"\tfld1\n"
	"user_div: fdivl user_zero\n"
	"\tnop\n"
	"user_wait: fwait\n"
	"\tfstpl user_result\n"
	"\tmovl $1, user_done\n"
	"\tint $0x30\n");

void test_main(void)
{
	rt_set_handler(16, mf_handler);
	write_cr0((read_cr0() | CR0_NE | CR0_MP) & ~(CR0_EM | CR0_TS));

	/* 1 / 0 with ZM clear, FWAIT later. */
	fninit();
	fldcw(FCW_DEFAULT & ~0x04);
	uint16_t sw_before, cw_before;
	__asm__ volatile(
		"fld1\n\t"
		".globl mf_div\nmf_div: fdivl %2\n\t"
		"movl $5, %%ecx\n1: decl %%ecx\n\tjnz 1b\n\t"   /* integer code runs on */
		"fnstsw %0\n\t"                                  /* non-waiting: no #MF */
		"fnstcw %1\n\t"
		".globl mf_wait\nmf_wait: fwait\n\t"
		: "=m"(sw_before), "=m"(cw_before) : "m"(zero) : "eax", "ecx", "memory");
	CHECK_EQ("#MF once, at the next waiting instruction", M.n, 1);
	CHECK_EQ("#MF is a fault at the FWAIT", M.eip, (uint32_t)mf_wait);
	check((sw_before & (FSW_ZE | FSW_ES | FSW_B)) == (FSW_ZE | FSW_ES | FSW_B),
	      "after 1/0: FSW has ZE, ES, B (FNSTSW did not fault)", "sw %#x", sw_before);
	check((M.env.sw & 0x3f) == FSW_ZE && (M.env.sw & (FSW_ES | FSW_B)) == (FSW_ES | FSW_B),
	      "FNSTENV in the handler: FSW = ZE|ES|B", "sw %#x", M.env.sw);
	CHECK_EQ("FNSTENV in the handler: FIP at the FDIV", M.env.fip, (uint32_t)mf_div);
	CHECK_EQ("FNSTENV in the handler: FCS", M.env.fcs, SEL_CODE32);
	CHECK_EQ("FNSTENV in the handler: FOP of FDIV m64 (DC /6)", M.env.fop & 0x7ff, 0x435);
	CHECK_EQ("FNSTENV in the handler: FDP at the divisor", M.env.fdp, (uint32_t)&zero);
	CHECK_EQ("FNSTENV in the handler: FDS", M.env.fds, SEL_DATA32);
	CHECK_EQ("FNSTENV in the handler: CW as the program set it", M.env.cw, FCW_DEFAULT & ~0x04);
	CHECK_EQ("FNSTCW with an error pending: no #MF, the CW", cw_before, FCW_DEFAULT & ~0x04);
	uint64_t top = fstp_bits();
	check(top == 0x3ff0000000000000ull, "an unmasked #Z leaves the destination alone",
	      "ST(0) %#x%08x, want 1.0", (uint32_t)(top >> 32), (uint32_t)top);
	sw_before = fnstsw();
	CHECK_EQ("handler's FNCLEX cleared the error", sw_before & (FSW_ES | FSW_B | 0x3f), 0);

	/* sqrt(-1) with IM clear; the next waiting instruction is an FLD,
	 * which runs once the handler has cleared the error. */
	M.n = 0;
	memset(&M.env, 0, sizeof(M.env));
	memset(&M.env, 0, sizeof(M.env));
	struct fenv32 scratch;
	fninit();
	fldcw(FCW_DEFAULT & ~0x01);
	__asm__ volatile(
		"fldl %1\n\t"
		".globl mf_sqrt\nmf_sqrt: fsqrt\n\t"
		"fnclex\n\t" "fldl %1\n\t" ".globl mf_sqrt2\nmf_sqrt2: fsqrt\n\t"             /* cleared, then again */
		"fnstenv %0\n\t" "fldcw %2\n\t"                   /* non-waiting, then CW back */
		".globl mf_fld\nmf_fld: fld1\n\t"
		: "=m"(scratch) : "m"(minus_one), "m"((uint16_t){ FCW_DEFAULT & ~0x01 }) : "memory");
	CHECK_EQ("#I: one #MF (FNCLEX, FNSTENV, FLDCW do not raise it)", M.n, 1);
	CHECK_EQ("#I: #MF at the FLD1 after them", M.eip, (uint32_t)mf_fld);
	check((M.env.sw & 0x3f) == FSW_IE && (M.env.sw & FSW_ES), "#I: FSW has IE and ES", "sw %#x", M.env.sw);
	CHECK_EQ("#I: FIP at the second FSQRT", M.env.fip, (uint32_t)mf_sqrt2);
	CHECK_EQ("#I: FOP of FSQRT (D9 FA)", M.env.fop & 0x7ff, 0x1fa);
	/* The FLD1 ran after the handler: 1.0 on top of the -1 the #I left. */
	top = fstp_bits();
	check(top == 0x3ff0000000000000ull, "the FLD1 ran once after the handler", "ST(0) %#x%08x",
	      (uint32_t)(top >> 32), (uint32_t)top);
	top = fstp_bits();
	check(top == 0xbff0000000000000ull, "an unmasked #I leaves the operand alone", "ST(0) %#x%08x",
	      (uint32_t)(top >> 32), (uint32_t)top);
	(void)mf_sqrt;

	/* 1/3 with PM clear: the rounded result is stored, #MF follows anyway. */
	M.n = 0;
	memset(&M.env, 0, sizeof(M.env));
	fninit();
	fldcw(FCW_DEFAULT & ~0x20);
	__asm__ volatile(
		"fld1\n\t"
		".globl mf_pe\nmf_pe: fdivl %0\n\t"
		".globl mf_pe_wait\nmf_pe_wait: fwait\n\t"
		: : "m"(three) : "memory");
	CHECK_EQ("#P: one #MF", M.n, 1);
	CHECK_EQ("#P: at the FWAIT", M.eip, (uint32_t)mf_pe_wait);
	check((M.env.sw & 0x3f) == FSW_PE, "#P: FSW has PE", "sw %#x", M.env.sw);
	CHECK_EQ("#P: FIP at the FDIV", M.env.fip, (uint32_t)mf_pe);
	fldcw(FCW_DEFAULT);
	top = fstp_bits();
	check(top == 0x3fd5555555555555ull, "#P: the rounded quotient was stored", "ST(0) %#x%08x",
	      (uint32_t)(top >> 32), (uint32_t)top);

	/* A context saved with its error pending (a task switched out right
	 * after the error): FNSAVE does not raise it and reinitializes; FRSTOR
	 * brings it back, and the next waiting instruction raises #MF with the
	 * pointers from the image. */
	static struct fsave img;
	M.n = 0;
	memset(&M.env, 0, sizeof(M.env));
	fninit();
	fldcw(FCW_DEFAULT & ~0x04);
	__asm__ volatile("fld1\n\t.globl mf_rs_div\nmf_rs_div: fdivl %0" : : "m"(zero) : "memory");
	fnsave(&img);
	__asm__ volatile("fwait" ::: "memory");
	CHECK_EQ("FNSAVE with an error pending: no #MF, and it reinitializes", M.n, 0);
	check((img.env.sw & (FSW_ZE | FSW_ES)) == (FSW_ZE | FSW_ES), "the FNSAVE image keeps ZE and ES",
	      "sw %#x", img.env.sw);
	frstor(&img);
	CHECK_EQ("FRSTOR itself: no #MF (nothing was pending before it)", M.n, 0);
	__asm__ volatile(".globl mf_rs_wait\nmf_rs_wait: fwait" ::: "memory");
	CHECK_EQ("FRSTOR of a pending error: #MF at the next FWAIT", M.n, 1);
	CHECK_EQ("FRSTOR of a pending error: at the FWAIT", M.eip, (uint32_t)mf_rs_wait);
	CHECK_EQ("FRSTOR of a pending error: FIP from the image", M.env.fip, (uint32_t)mf_rs_div);

	/* FSAVE is FWAIT + FNSAVE: the FWAIT raises #MF first; after the
	 * handler's FNCLEX the save goes through with the error cleared. */
	M.n = 0;
	fninit();
	fldcw(FCW_DEFAULT & ~0x04);
	__asm__ volatile("fld1\n\tfdivl %1\n\t.globl mf_fsave\nmf_fsave: fsave %0"
			 : "=m"(img) : "m"(zero) : "memory");
	CHECK_EQ("FSAVE (waiting form): one #MF", M.n, 1);
	CHECK_EQ("FSAVE: #MF at its FWAIT byte", M.eip, (uint32_t)mf_fsave);
	CHECK_EQ("FSAVE: the image saved after the handler has no error", img.env.sw & (FSW_ES | 0x3f), 0);

	/* FNINIT drops a pending error. */
	M.n = 0;
	fninit();
	fldcw(FCW_DEFAULT & ~0x04);
	__asm__ volatile("fld1\n\tfdivl %0\n\tfninit\n\tfwait" : : "m"(zero) : "memory");
	CHECK_EQ("FNINIT after the error: FWAIT raises nothing", M.n, 0);

	/* An error made in ring 3: #MF goes to the ring-0 handler, from the
	 * user's FWAIT, and FNSTENV there shows the user's code selector. */
	M.n = 0;
	memset(&M.env, 0, sizeof(M.env));
	fninit();
	fldcw(FCW_DEFAULT & ~0x04);
	rt_ring3(user_part, (uint32_t)rt_ustack_top);
	CHECK_EQ("ring 3: one #MF", M.n, 1);
	check(M.eip == (uint32_t)user_wait && M.cs == SEL_CODE32_U, "ring 3: #MF at the user's FWAIT",
	      "at %#x:%#x, want %#x:%#x", M.cs, M.eip, SEL_CODE32_U, (uint32_t)user_wait);
	CHECK_EQ("ring 3: FIP at the user's FDIV", M.env.fip, (uint32_t)user_div);
	CHECK_EQ("ring 3: FCS is the user's code selector", M.env.fcs, SEL_CODE32_U);
	CHECK_EQ("ring 3: the FWAIT went on after the handler", user_done, 1);
	check(user_result == 0x3ff0000000000000ull, "ring 3: the unmasked #Z left the destination alone",
	      "result %#x%08x, want 1.0", (uint32_t)(user_result >> 32), (uint32_t)user_result);

	/* Masked: the same 1/0 raises nothing and gives +inf. */
	M.n = 0;
	memset(&M.env, 0, sizeof(M.env));
	fninit();
	__asm__ volatile("fld1\n\tfdivl %0\n\tfwait" : : "m"(zero) : "memory");
	top = fstp_bits();
	check(M.n == 0 && top == 0x7ff0000000000000ull, "masked #Z: no #MF, +inf",
	      "%d #MF, ST(0) %#x%08x", M.n, (uint32_t)(top >> 32), (uint32_t)top);
	rt_set_handler(16, 0);
}
