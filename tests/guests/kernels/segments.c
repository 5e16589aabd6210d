/*
 * Segment checks in protected mode: limits, rights, presence and the error
 * codes of the faults they raise (#GP, #SS, #NP), expand-down segments.
 */
#include <stddef.h>
#include "rt.h"

#define SEL_LIM    0x40   /* data, base 2 MiB, limit 0xfff */
#define SEL_NP     0x48   /* data, not present */
#define SEL_XO     0x50   /* code, execute-only */
#define SEL_RO     0x58   /* data, read-only */
#define SEL_ED32   0x60   /* data, expand-down, limit 0xfff, B=1 */
#define SEL_ED16   0x68   /* data, expand-down, limit 0xfff, B=0 */
#define SEL_SSLIM  0x70   /* stack data, base 0, limit 1 MiB - 1 (byte granular) */
#define SEL_SSNP   0x78   /* stack data, not present */

static int try_load_ds(uint16_t sel)
{
	return TRY_CLEANUP("movw %w0, %%ds", RESTORE_DS, : : "r"(sel) : "eax", "memory");
}

static int try_read(uint16_t sel, uint32_t off, uint32_t *out)
{
	uint32_t v = 0xdeadbeef;
	int vec = TRY_CLEANUP("movw %w1, %%ds\n\tmovl (%2), %0", RESTORE_DS,
			      : "+r"(v) : "r"(sel), "r"(off) : "eax", "memory");
	if (out)
		*out = v;
	return vec;
}

static int try_write(uint16_t sel, uint32_t off)
{
	return TRY_CLEANUP("movw %w0, %%ds\n\tmovl $0x5a5a5a5a, (%1)", RESTORE_DS,
			   : : "r"(sel), "r"(off) : "eax", "memory");
}

static void expect(const char *name, int vec, int want_vec, uint32_t want_err)
{
	check(vec == want_vec && (want_vec < 0 || rt_caught.err == want_err), name,
	      "vector %d error %#x, want vector %d error %#x", vec, vec >= 0 ? rt_caught.err : 0,
	      want_vec, want_err);
}

void test_main(void)
{
	gdt_set(SEL_LIM >> 3, 0x200000, 0xfff, ACC_PRESENT | ACC_DATA | FLAG_DB);
	gdt_set(SEL_NP >> 3, 0, 0xfffff, ACC_DATA | FLAG_G | FLAG_DB);
	gdt_set(SEL_XO >> 3, 0, 0xfffff, ACC_PRESENT | 0x18 | FLAG_G | FLAG_DB);
	gdt_set(SEL_RO >> 3, 0, 0xfffff, ACC_PRESENT | ACC_DATA_RO | FLAG_G | FLAG_DB);
	gdt_set(SEL_ED32 >> 3, 0, 0xfff, ACC_PRESENT | ACC_DATA | ACC_EXPDOWN | FLAG_DB);
	gdt_set(SEL_ED16 >> 3, 0, 0xfff, ACC_PRESENT | ACC_DATA | ACC_EXPDOWN);
	gdt_set(SEL_SSLIM >> 3, 0, 0xfffff, ACC_PRESENT | ACC_DATA | FLAG_DB);
	gdt_set(SEL_SSNP >> 3, 0, 0xfffff, ACC_DATA | FLAG_G | FLAG_DB);

	uint32_t v;
	*(volatile uint32_t *)0x200ffc = 0x11223344;
	expect("read at limit-3 (dword inside)", try_read(SEL_LIM, 0xffc, &v), -1, 0);
	CHECK_EQ("value read through base 2 MiB", v, 0x11223344);
	expect("dword read crossing the limit: #GP(0)", try_read(SEL_LIM, 0xffd, NULL), 13, 0);
	expect("read past the limit: #GP(0)", try_read(SEL_LIM, 0x1000, NULL), 13, 0);
	expect("null DS load is fine", try_load_ds(0), -1, 0);
	expect("access through null DS: #GP(0)", try_read(0, 0x1000, NULL), 13, 0);
	expect("not-present DS: #NP(sel)", try_load_ds(SEL_NP), 11, SEL_NP);
	expect("execute-only code into DS: #GP(sel)", try_load_ds(SEL_XO), 13, SEL_XO);
	expect("selector past the GDT limit: #GP(sel)", try_load_ds(0x1f8), 13, 0x1f8);
	expect("RPL 3 for a DPL 0 segment: #GP(sel)", try_load_ds(SEL_LIM | 3), 13, SEL_LIM);
	expect("TI=1 with an empty LDT: #GP(sel)", try_load_ds(0x44), 13, 0x44);
	expect("read-only segment: reads work", try_read(SEL_RO, 0x200ffc, &v), -1, 0);
	expect("read-only segment: write #GP(0)", try_write(SEL_RO, 0x200ff0), 13, 0);

	/* Expand-down: valid offsets are limit+1 .. 0xffffffff (B=1) or 0xffff (B=0). */
	expect("expand-down: offset above the limit is valid",
	       try_read(SEL_ED32, 0x200ffc, &v), -1, 0);
	CHECK_EQ("expand-down read value", v, 0x11223344);
	expect("expand-down: offset at/below the limit #GP(0)", try_read(SEL_ED32, 0x800, NULL), 13, 0);
	expect("expand-down B=0: offset 0xfff0 is valid", try_read(SEL_ED16, 0xfff0, NULL), -1, 0);
	expect("expand-down B=0: offset past 0xffff #GP(0)", try_read(SEL_ED16, 0xfffe, NULL), 13, 0);

	/* Stack segment faults are #SS, with SS itself still usable for the handler. */
	int vec = TRY_CLEANUP("movw %%ss, %%dx\n\tmovw %w0, %%ss\n\tmovl %%ss:0x200000, %%eax",
			      "movw %%dx, %%ss", : : "r"(SEL_SSLIM) : "eax", "edx", "memory");
	expect("SS-relative access past the limit: #SS(0)", vec, 12, 0);
	vec = TRY_CLEANUP("movw %%ss, %%dx\n\tmovw %w0, %%ss", "movw %%dx, %%ss",
			  : : "r"(SEL_SSNP) : "eax", "edx", "memory");
	expect("not-present SS: #SS(sel)", vec, 12, SEL_SSNP);
	vec = TRY_CLEANUP("movw %%ss, %%dx\n\tmovw %w0, %%ss", "movw %%dx, %%ss",
			  : : "r"(SEL_RO) : "eax", "edx", "memory");
	expect("read-only SS: #GP(sel)", vec, 13, SEL_RO);
	vec = TRY_CLEANUP("movw %%ss, %%dx\n\tmovw %w0, %%ss", "movw %%dx, %%ss",
			  : : "r"(0) : "eax", "edx", "memory");
	expect("null SS in ring 0: #GP(0)", vec, 13, 0);

	/* LSL/LAR/VERR/VERW: the checks without the faults. */
	uint32_t lim = 0, ar = 0;
	uint8_t zf;
	__asm__ volatile("lsl %2, %0\n\tsetz %1" : "=r"(lim), "=q"(zf) : "r"((uint32_t)SEL_LIM));
	check(zf && lim == 0xfff, "LSL of a byte-granular segment", "zf %u limit %#x", zf, lim);
	__asm__ volatile("lar %2, %0\n\tsetz %1" : "=r"(ar), "=q"(zf) : "r"((uint32_t)SEL_ED32));
	check(zf && (ar & 0xfffe00) == 0x409600, "LAR of an expand-down segment (accessed bit aside)", "zf %u ar %#x", zf, ar);
	__asm__ volatile("verw %w1\n\tsetz %0" : "=q"(zf) : "r"(SEL_RO));
	CHECK_EQ("VERW of a read-only segment clears ZF", zf, 0);
	__asm__ volatile("verr %w1\n\tsetz %0" : "=q"(zf) : "r"(SEL_XO));
	CHECK_EQ("VERR of an execute-only segment clears ZF", zf, 0);
}
