/*
 * SYSENTER/SYSEXIT: the MSRs, SYSEXIT to ring 3 (CS/SS derived from
 * SYSENTER_CS, ESP = ECX, EIP = EDX), SYSENTER back (IF and VM cleared,
 * ESP/EIP from the MSRs), and the #GP(0) for a null SYSENTER_CS.
 */
#include "rt.h"

#define SEL_SE_CS 0x60   /* 0x60 code 0, 0x68 data 0, 0x70 code 3, 0x78 data 3 */
#define MSR_CS 0x174
#define MSR_ESP 0x175
#define MSR_EIP 0x176

static uint8_t kstack[1024] __attribute__((aligned(16)));
static uint8_t ustack[1024] __attribute__((aligned(16)));
volatile uint32_t u_cs, u_ss, u_esp, u_eflags, k_cs, k_ss, k_esp, k_eflags, k_esi, se_saved_esp;

/*
 * se_roundtrip(user_esp): SYSEXIT to se_user (ring 3), which records and
 * does SYSENTER; se_target (ring 0) records and returns to our caller.
 */
__asm__(".globl se_roundtrip, se_user, se_target\n"
	"se_roundtrip:\n"
	"	pushl %ebp\n	pushl %ebx\n	pushl %esi\n	pushl %edi\n"
	"	movl %esp, se_saved_esp\n"
	"	movl 20(%esp), %ecx\n"
	"	movl $se_user, %edx\n"
	"	movw $0x7b, %ax\n	movw %ax, %ds\n	movw %ax, %es\n"
	"	sti\n"
	"	sysexit\n"
	"se_user:\n"
	"	xorl %eax, %eax\n	movw %cs, %ax\n	movl %eax, u_cs\n"
	"	movw %ss, %ax\n	movl %eax, u_ss\n"
	"	movl %esp, u_esp\n"
	"	pushfl\n	popl u_eflags\n"
	"	movl $0x5e5e, %esi\n"
	"	sysenter\n"
	"se_target:\n"
	"	xorl %eax, %eax\n	movw %cs, %ax\n	movl %eax, k_cs\n"
	"	movw %ss, %ax\n	movl %eax, k_ss\n"
	"	movl %esp, k_esp\n"
	"	pushfl\n	popl k_eflags\n"
	"	movl %esi, k_esi\n"
	"	movw $0x10, %ax\n	movw %ax, %ds\n	movw %ax, %es\n	movw %ax, %ss\n"
	"	movl se_saved_esp, %esp\n"
	"	popl %edi\n	popl %esi\n	popl %ebx\n	popl %ebp\n"
	"	ret\n");
extern uint8_t se_user[], se_target[];
void se_roundtrip(uint32_t user_esp);

void test_main(void)
{
	uint32_t a, b, c, d;
	cpuid(1, &a, &b, &c, &d);
	uint32_t family = (a >> 8) & 0xf, model = (a >> 4) & 0xf, stepping = a & 0xf;
	/* SEP on a Pentium Pro (family 6, model < 3, stepping < 3) is bogus. */
	if (!(d & (1u << 11)) || (family == 6 && model < 3 && stepping < 3)) {
		check(0, "SYSENTER advertised (CPUID.1:EDX.SEP)", "CPUID.1 eax %#x edx %#x", a, d);
		return;
	}
	gdt_set(SEL_SE_CS >> 3, 0, 0xfffff, ACC_PRESENT | ACC_CODE | FLAG_G | FLAG_DB);
	gdt_set((SEL_SE_CS >> 3) + 1, 0, 0xfffff, ACC_PRESENT | ACC_DATA | FLAG_G | FLAG_DB);
	gdt_set((SEL_SE_CS >> 3) + 2, 0, 0xfffff, ACC_PRESENT | ACC_DPL(3) | ACC_CODE | FLAG_G | FLAG_DB);
	gdt_set((SEL_SE_CS >> 3) + 3, 0, 0xfffff, ACC_PRESENT | ACC_DPL(3) | ACC_DATA | FLAG_G | FLAG_DB);

	wrmsr(MSR_CS, 0);
	int v = TRY("sysenter", : : : "memory");
	check(v == 13 && rt_caught.err == 0, "SYSENTER with SYSENTER_CS = 0: #GP(0)", "vector %d err %#x", v, rt_caught.err);
	v = TRY("sysexit", : : "c"(0), "d"(0) : "memory");
	check(v == 13 && rt_caught.err == 0, "SYSEXIT with SYSENTER_CS = 0: #GP(0)", "vector %d err %#x", v, rt_caught.err);

	wrmsr(MSR_CS, SEL_SE_CS);
	wrmsr(MSR_ESP, (uint32_t)(kstack + sizeof(kstack)));
	wrmsr(MSR_EIP, (uint32_t)se_target);
	CHECK_EQ("SYSENTER_CS reads back", rdmsr(MSR_CS), SEL_SE_CS);
	CHECK_EQ("SYSENTER_ESP reads back", rdmsr(MSR_ESP), (uint32_t)(kstack + sizeof(kstack)));
	CHECK_EQ("SYSENTER_EIP reads back", rdmsr(MSR_EIP), (uint32_t)se_target);

	uint32_t uesp = (uint32_t)(ustack + sizeof(ustack) - 16);
	se_roundtrip(uesp);
	__asm__ volatile("cli");
	CHECK_EQ("SYSEXIT: CS = SYSENTER_CS + 16 | 3", u_cs, SEL_SE_CS + 16 + 3);
	CHECK_EQ("SYSEXIT: SS = SYSENTER_CS + 24 | 3", u_ss, SEL_SE_CS + 24 + 3);
	CHECK_EQ("SYSEXIT: ESP = ECX", u_esp, uesp);
	check(u_eflags & 0x200, "SYSEXIT leaves EFLAGS (IF still set)", "eflags %#x", u_eflags);
	CHECK_EQ("SYSENTER: CS = SYSENTER_CS", k_cs, SEL_SE_CS);
	CHECK_EQ("SYSENTER: SS = SYSENTER_CS + 8", k_ss, SEL_SE_CS + 8);
	CHECK_EQ("SYSENTER: ESP = SYSENTER_ESP", k_esp, (uint32_t)(kstack + sizeof(kstack)));
	check(!(k_eflags & 0x20200), "SYSENTER clears IF and VM", "eflags %#x", k_eflags);
	CHECK_EQ("SYSENTER keeps the other registers", k_esi, 0x5e5e);
}
