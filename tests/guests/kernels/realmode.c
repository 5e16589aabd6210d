/* Real mode to protected mode (the way in) and back to real mode and again. */
#include "rt.h"

static volatile uint32_t probe __attribute__((aligned(16)));

void test_main(void)
{
	CHECK_EQ("entered from real mode once", rt_real_entries, 1);
	check(read_cr0() & 1, "protected mode", "CR0 = %#x", read_cr0());
	uint16_t cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	CHECK_EQ("cs after far jump", cs, SEL_CODE32);

	/* Back to real mode: seg:off must address seg * 16 + off again. */
	uint32_t lin = (uint32_t)&probe;
	probe = 0xfeedc0de;
	uint32_t got = rt_visit_real_mode(lin >> 4, lin & 15);
	CHECK_EQ("real-mode read through seg*16+off", got, 0xfeedc0de);
	probe = 0x600df00d;
	got = rt_visit_real_mode((lin >> 4) - 0x100, (lin & 15) + 0x1000);
	CHECK_EQ("real-mode read, other seg:off pair", got, 0x600df00d);
	CHECK_EQ("real-mode stack push/pop", rt_rm_pushpop, 0x1234);
	CHECK_EQ("real-mode SP after push/pop", rt_rm_sp, 0x7000);
	check(read_cr0() & 1, "protected mode again", "CR0 = %#x", read_cr0());
	uint16_t ds;
	__asm__ volatile("mov %%ds, %0" : "=r"(ds));
	CHECK_EQ("ds after return", ds, SEL_DATA32);

	/* Interrupts and exceptions still go through the IDT afterwards. */
	int v = TRY("ud2");
	CHECK_EQ("#UD through the IDT after the round trip", v, 6);
}
