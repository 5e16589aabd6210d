/*
 * Exception delivery and error codes: faults vs traps (the saved EIP),
 * IDT-related error codes (IDT bit), a not-present gate, and a double fault
 * from a contributory exception raised while delivering another.
 */
#include "rt.h"

extern uint8_t at_int3[], after_int3[], at_ud[], at_div[], at_into_after[], at_bound[];

void test_main(void)
{
	int v = TRY("xorl %%ecx, %%ecx\n\tmovl $1, %%eax\n\txorl %%edx, %%edx\n\t"
		    ".globl at_div\n\t" ".set at_div, . \n\tdivl %%ecx", : : : "eax", "ecx", "edx");
	check(v == 0 && rt_caught.eip == (uint32_t)at_div, "#DE is a fault at the DIV",
	      "vector %d eip %#x want %#x", v, rt_caught.eip, (uint32_t)at_div);

	v = TRY(".globl at_int3, after_int3\n\tat_int3: int3\n\tafter_int3: nop", : : : "memory");
	check(v == 3 && rt_caught.eip == (uint32_t)after_int3, "#BP is a trap after INT3",
	      "vector %d eip %#x want %#x", v, rt_caught.eip, (uint32_t)after_int3);

	v = TRY("movl $0x7fffffff, %%eax\n\taddl $1, %%eax\n\tinto\n\t.globl at_into_after\n\t"
		"at_into_after: nop", : : : "eax");
	check(v == 4 && rt_caught.eip == (uint32_t)at_into_after, "#OF from INTO is a trap",
	      "vector %d eip %#x want %#x", v, rt_caught.eip, (uint32_t)at_into_after);

	static int32_t bounds[2] = { 0, 10 };
	v = TRY("movl $11, %%eax\n\t.globl at_bound\n\tat_bound: boundl %%eax, (%0)", : : "r"(bounds) : "eax");
	check(v == 5 && rt_caught.eip == (uint32_t)at_bound, "#BR from BOUND is a fault",
	      "vector %d eip %#x want %#x", v, rt_caught.eip, (uint32_t)at_bound);
	v = TRY("movl $10, %%eax\n\tboundl %%eax, (%0)", : : "r"(bounds) : "eax");
	CHECK_EQ("BOUND inside the bounds: no fault", v, -1);

	v = TRY(".globl at_ud\n\tat_ud: ud2", : : : "memory");
	check(v == 6 && rt_caught.eip == (uint32_t)at_ud && rt_caught.err == 0, "#UD at UD2, no error code",
	      "vector %d eip %#x err %#x", v, rt_caught.eip, rt_caught.err);
	v = TRY(".byte 0xf0, 0x90", : : : "memory");
	CHECK_EQ("LOCK NOP: #UD", v, 6);

	/* INT n through a DPL 0 gate from ring 0 is fine; past the IDT limit it is #GP(n*8+2). */
	v = TRY("int $0x50", : : : "memory");
	check(v == 13 && rt_caught.err == 0x50 * 8 + 2, "INT past the IDT limit: #GP(vec*8+2)",
	      "vector %d err %#x", v, rt_caught.err);

	uint64_t saved = rt_idt[0x35];
	rt_idt[0x35] &= ~(1ULL << 47);    /* not present */
	v = TRY("int $0x35", : : : "memory");
	check(v == 11 && rt_caught.err == 0x35 * 8 + 2, "INT through a not-present gate: #NP(vec*8+2)",
	      "vector %d err %#x", v, rt_caught.err);
	rt_idt[0x35] = saved;

	/* #GP while its own gate is not present: #NP during #GP delivery = #DF(0). */
	saved = rt_idt[13];
	rt_idt[13] &= ~(1ULL << 47);
	v = TRY_CLEANUP("movw %w0, %%ds", RESTORE_DS, : : "r"(0x1f8) : "eax", "memory");
	rt_idt[13] = saved;
	check(v == 8 && rt_caught.err == 0, "contributory fault while delivering #GP: #DF(0)",
	      "vector %d err %#x", v, rt_caught.err);

	/*
	 * Error code EXT bit: a benign exception (#UD) meeting a not-present
	 * gate is #NP(6*8+2+1). (A contributory one, #DE say, would be #DF.)
	 */
	saved = rt_idt[6];
	rt_idt[6] &= ~(1ULL << 47);
	v = TRY("ud2", : : : "memory");
	rt_idt[6] = saved;
	check(v == 11 && rt_caught.err == (6 * 8 + 2 + 1), "#UD through a not-present gate: #NP(vec*8+2+EXT)",
	      "vector %d err %#x", v, rt_caught.err);
}
