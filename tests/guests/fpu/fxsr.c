/*
 * FXSAVE/FXRSTOR as an OS uses them once CPUID.1:EDX.FXSR says they are
 * there (checked at run time): CR4.OSFXSR set, a 512-byte 16-aligned area.
 * The image must agree with FNSAVE of the same state (control, status,
 * pointers, registers in stack order; the abridged tag, one bit per
 * physical register), and FXRSTOR of it after FNINIT must give back the
 * same FNSAVE image, the full tag word rebuilt from the register contents.
 * A misaligned area is #GP(0).
 */
#include "fpu.h"

struct fxarea {
	uint16_t fcw, fsw;
	uint8_t ftw, r0;
	uint16_t fop;
	uint32_t fip;
	uint16_t fcs, r1;
	uint32_t fdp;
	uint16_t fds, r2;
	uint32_t mxcsr, mxcsr_mask;
	struct { uint8_t v[10]; uint8_t pad[6]; } st[8];
	uint8_t rest[512 - 160];
} __attribute__((packed, aligned(16)));

static struct fxarea fx, fx2;
static uint8_t raw[512 + 32] __attribute__((aligned(16)));
static const double vals[5] = { 0.0, 1.5, -2.25e300, 3.0, 7.0 };
static const uint8_t denormal[10] = { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
extern uint8_t fx_last[];

/* A state with every tag kind: valid, zero, special (inf, denormal), empty. */
static __attribute__((noinline)) void make_state(void)
{
	fninit();
	fldcw(0x0e7f);               /* round toward zero, 64-bit, masked; bit 6 reserved set */
	__asm__ volatile(
		"fldt %1\n\t"            /* denormal: special */
		"fldl (%0)\n\t"          /* 0.0: zero */
		"fldl 8(%0)\n\t"
		"fldl 16(%0)\n\t"
		"fmul %%st(0), %%st\n\t" /* overflow (masked): +inf, special; OE, PE */
		"fldl 24(%0)\n\t"
		"fdivl 32(%0)\n\t"       /* 3/7: valid, PE */
		".globl fx_last\nfx_last: faddl 8(%0)\n\t"
		: : "r"(vals), "m"(denormal) : "memory");
}

void test_main(void)
{
	uint32_t a, b, c, d;
	cpuid(1, &a, &b, &c, &d);
	if (!(d & (1u << 24))) {
		check(1, "CPUID.1:EDX.FXSR clear: FXSAVE not offered (nothing more to check)", " ");
		return;
	}
	write_cr0((read_cr0() | CR0_MP | CR0_NE) & ~(CR0_EM | CR0_TS));
	int v = TRY_CLEANUP("movl %%cr4, %%eax\n\torl %0, %%eax\n\tmovl %%eax, %%cr4", "",
			    : : "i"(CR4_OSFXSR) : "eax", "memory");
	/* Linux sets it whenever CPUID has FXSR. (qemu's Pentium II keeps it
	 * clear: without SSE it means nothing.) */
	check(v == -1, "setting CR4.OSFXSR does not fault", "vector %d, cr4 %#x", v, read_cr4());

	static struct fsave before, after;
	make_state();
	__asm__ volatile("fxsave %0" : "=m"(fx) : : "memory");
	/* FXSAVE does not reinitialize, unlike FNSAVE. */
	uint16_t sw_after_fxsave = fnstsw();
	make_state();
	fnsave(&before);
	CHECK_EQ("FXSAVE: FCW", fx.fcw, before.env.cw);
	CHECK_EQ("FXSAVE: FSW", fx.fsw, before.env.sw);
	CHECK_EQ("FXSAVE left the state (FSW as before)", sw_after_fxsave, before.env.sw);
	uint8_t abridged = 0;
	for (int i = 0; i < 8; i++)
		if (((before.env.tw >> (2 * i)) & 3) != 3)
			abridged |= (uint8_t)(1u << i);
	check(fx.ftw == abridged, "FXSAVE: abridged tag (one bit per physical register)",
	      "ftw %#x, full tag %#x gives %#x", fx.ftw, before.env.tw, abridged);
	CHECK_EQ("FXSAVE: FOP", fx.fop & 0x7ff, before.env.fop & 0x7ff);
	CHECK_EQ("FXSAVE: FIP", fx.fip, (uint32_t)fx_last);
	CHECK_EQ("FXSAVE: FCS", fx.fcs, before.env.fcs);
	CHECK_EQ("FXSAVE: FDP", fx.fdp, (uint32_t)&vals[1]);
	CHECK_EQ("FXSAVE: FDS", fx.fds, before.env.fds);
	int bad = -1;
	for (int i = 0; i < 8 && bad < 0; i++)
		if (((before.env.tw >> (2 * ((i + ((before.env.sw >> 11) & 7)) & 7))) & 3) != 3 &&
		    !bytes_equal(fx.st[i].v, before.st[i], 10))
			bad = i;
	check(bad < 0, "FXSAVE: ST(0)-ST(7) as FNSAVE stores them", "ST(%d) differs", bad);

	/* FXRSTOR into a reset FPU gives the same FNSAVE image back. */
	fninit();
	__asm__ volatile("fxrstor %0" : : "m"(fx) : "memory");
	fnsave(&after);
	check(after.env.tw == before.env.tw, "FXRSTOR: full tag word rebuilt from the registers",
	      "tw %#x want %#x", after.env.tw, before.env.tw);
	check(after.env.cw == before.env.cw && after.env.sw == before.env.sw, "FXRSTOR: FCW and FSW",
	      "cw %#x sw %#x, want %#x %#x", after.env.cw, after.env.sw, before.env.cw, before.env.sw);
	check(after.env.fip == before.env.fip && after.env.fdp == before.env.fdp &&
	      (after.env.fop & 0x7ff) == (before.env.fop & 0x7ff), "FXRSTOR: FIP, FDP, FOP",
	      "fip %#x fdp %#x fop %#x", after.env.fip, after.env.fdp, after.env.fop);
	bad = -1;
	for (int i = 0; i < 8 && bad < 0; i++)
		if (((before.env.tw >> (2 * ((i + ((before.env.sw >> 11) & 7)) & 7))) & 3) != 3 &&
		    !bytes_equal(after.st[i], before.st[i], 10))
			bad = i;
	check(bad < 0, "FXRSTOR: the registers", "ST(%d) differs", bad);

	/* Round trip: FXSAVE after FXRSTOR is the same image (the x87 part). */
	fninit();
	__asm__ volatile("fxrstor %1\n\tfxsave %0" : "=m"(fx2) : "m"(fx) : "memory");
	check(bytes_equal(&fx2, &fx, 24) && bytes_equal(fx2.st, fx.st, sizeof(fx.st)),
	      "FXRSTOR then FXSAVE: the same image", "differs");

	/* Arithmetic goes on from the restored state: 3/7 + 1.5 + 1.5, truncated. */
	__asm__ volatile("faddl %0" : : "m"(vals[1]) : "memory");
	fldcw(FCW_DEFAULT);
	uint64_t top = fstp_bits();
	check(top == 0x400b6db6db6db6dbull, "the restored stack computes on", "ST(0) %#x%08x",
	      (uint32_t)(top >> 32), (uint32_t)top);

	v = TRY("fxsave %0", : "=m"(*(struct fxarea *)(raw + 8)) : : "memory");
	check(v == 13 && rt_caught.err == 0, "FXSAVE to a misaligned area: #GP(0)", "vector %d err %#x", v, rt_caught.err);
	v = TRY("fxrstor %0", : : "m"(*(struct fxarea *)(raw + 4)) : "memory");
	check(v == 13 && rt_caught.err == 0, "FXRSTOR from a misaligned area: #GP(0)", "vector %d err %#x", v, rt_caught.err);
	fninit();
	write_cr4(read_cr4() & ~CR4_OSFXSR);
}
