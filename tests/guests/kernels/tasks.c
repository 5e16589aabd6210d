/*
 * Hardware task switches: INT through a task gate (nested: link, NT, busy
 * bits) and IRET back, far JMP to a TSS and back, a JMP to a busy TSS,
 * and a double fault handled by its own task (as Linux/i386 does).
 */
#include "rt.h"

#define SEL_TSS_B 0x50
#define SEL_TSS_C 0x58
#define VEC_TASK 0x36

static struct tss tss_b __attribute__((aligned(128)));
static struct tss tss_c __attribute__((aligned(128)));
static uint8_t stack_b[4096] __attribute__((aligned(16)));
static uint8_t stack_c[4096] __attribute__((aligned(16)));
volatile uint32_t b_tr1, b_eflags1, b_tr2, b_eflags2, c_err, c_tr, c_runs, c_link;
volatile uint32_t a_esi_after, a_edi_after;

/*
 * Task B: first entered through the task gate (nested), returns with IRET;
 * entered again by a far JMP, it resumes after that IRET and JMPs back to A.
 */
__asm__(".globl task_b_entry, b_after_iret\n"
	"task_b_entry:\n"
	"	xorl %eax, %eax\n	str %ax\n	movl %eax, b_tr1\n"
	"	pushfl\n	popl b_eflags1\n"
	"	movl $0xb0b0, %ebx\n"
	"	iret\n"
	"b_after_iret:\n"
	"	xorl %eax, %eax\n	str %ax\n	movl %eax, b_tr2\n"
	"	pushfl\n	popl b_eflags2\n"
	"	ljmp $0x38, $0\n"
	"	jmp task_b_entry\n");
extern uint8_t task_b_entry[], b_after_iret[];

/*
 * Task C: the double-fault task. Its error code is on its stack; it makes
 * the #GP gate present again, points A's saved EIP past the faulting
 * instruction and returns to A through the back link.
 */
__asm__(".globl task_c_entry\n"
	"task_c_entry:\n"
	"	popl c_err\n"
	"	incl c_runs\n"
	"	xorl %eax, %eax\n	str %ax\n	movl %eax, c_tr\n"
	"	movzwl tss_c_link, %eax\n	movl %eax, c_link\n"
	"	call task_c_fix\n"
	"	iret\n"
	"	jmp task_c_entry\n");
extern uint8_t task_c_entry[];
extern uint8_t df_resume[];
static uint64_t saved_gp_gate;
void task_c_fix(void);
void task_c_fix(void)
{
	rt_idt[13] = saved_gp_gate;
	rt_tss.eip = (uint32_t)df_resume;
}
__asm__(".globl tss_c_link\n.set tss_c_link, tss_c\n");

static void init_tss(struct tss *t, void *entry, uint8_t *stack_top_)
{
	memset(t, 0, sizeof(*t));
	t->eip = (uint32_t)entry;
	t->eflags = 2;
	t->esp = (uint32_t)stack_top_;
	t->cs = SEL_CODE32;
	t->ss = t->ds = t->es = t->fs = t->gs = SEL_DATA32;
	t->cr3 = read_cr3();
	t->iomap = sizeof(*t);
}

static unsigned tss_type(uint16_t sel) { return (unsigned)(rt_gdt[sel >> 3] >> 40) & 0xf; }

void test_main(void)
{
	init_tss(&tss_b, task_b_entry, stack_b + sizeof(stack_b));
	init_tss(&tss_c, task_c_entry, stack_c + sizeof(stack_c));
	gdt_set(SEL_TSS_B >> 3, (uint32_t)&tss_b, sizeof(tss_b) - 1, ACC_PRESENT | 0x09);
	gdt_set(SEL_TSS_C >> 3, (uint32_t)&tss_c, sizeof(tss_c) - 1, ACC_PRESENT | 0x09);
	rt_idt[VEC_TASK] = ((uint64_t)SEL_TSS_B << 16) | ((uint64_t)GATE_TASK << 40);

	CHECK_EQ("our TSS is busy", tss_type(SEL_TSS), 0xb);
	uint32_t esi, edi;
	__asm__ volatile("movl $0x5151, %%esi\n\tmovl $0xd1d1, %%edi\n\tint $0x36"
			 : "=S"(esi), "=D"(edi) : : "eax", "ebx", "ecx", "edx", "memory");
	CHECK_EQ("task gate: B runs with TR = B", b_tr1, SEL_TSS_B);
	check(b_eflags1 & 0x4000, "task gate: NT set in B", "eflags %#x", b_eflags1);
	CHECK_EQ("task gate: B's back link is A", tss_b.link, SEL_TSS);
	CHECK_EQ("IRET with NT: back in A, ESI restored", esi, 0x5151);
	CHECK_EQ("IRET with NT: EDI restored", edi, 0xd1d1);
	CHECK_EQ("B's state saved at its IRET: EIP", tss_b.eip, (uint32_t)b_after_iret);
	CHECK_EQ("B's state saved: EBX", tss_b.ebx, 0xb0b0);
	CHECK_EQ("B not busy after its IRET", tss_type(SEL_TSS_B), 0x9);
	CHECK_EQ("A still busy", tss_type(SEL_TSS), 0xb);
	uint16_t tr;
	__asm__ volatile("str %0" : "=r"(tr));
	CHECK_EQ("TR = A again", tr, SEL_TSS);

	__asm__ volatile("ljmp $0x50, $0" : : : "eax", "ebx", "ecx", "edx", "memory");
	CHECK_EQ("JMP to B: B resumed after its IRET", b_tr2, SEL_TSS_B);
	check(!(b_eflags2 & 0x4000), "JMP to B: NT clear", "eflags %#x", b_eflags2);
	CHECK_EQ("JMP back to A: B not busy", tss_type(SEL_TSS_B), 0x9);
	CHECK_EQ("JMP back to A: A busy", tss_type(SEL_TSS), 0xb);

	int v = TRY("ljmp $0x38, $0", : : : "memory");
	check(v == 13 && rt_caught.err == SEL_TSS, "JMP to the busy current TSS: #GP(sel)",
	      "vector %d err %#x", v, rt_caught.err);

	/* Double fault through a task gate. */
	rt_idt[8] = ((uint64_t)SEL_TSS_C << 16) | ((uint64_t)GATE_TASK << 40);
	saved_gp_gate = rt_idt[13];
	rt_idt[13] &= ~(1ULL << 47);
	__asm__ volatile("movw %w0, %%ds\n\t.globl df_resume\ndf_resume:\n\t" RESTORE_DS
			 : : "r"(0x1f8) : "eax", "memory");
	CHECK_EQ("#DF task ran once", c_runs, 1);
	CHECK_EQ("#DF task: TR = C", c_tr, SEL_TSS_C);
	CHECK_EQ("#DF task: error code 0 on its stack", c_err, 0);
	CHECK_EQ("#DF task: back link to A", c_link, SEL_TSS);
	CHECK_EQ("after the #DF task: C not busy", tss_type(SEL_TSS_C), 0x9);
	rt_idt[8] = ((uint64_t)SEL_CODE32 << 16) | ((uint64_t)GATE_INT32 << 40) |
		    (rt_stub(8) & 0xffff) | ((uint64_t)(rt_stub(8) >> 16) << 48);
}
