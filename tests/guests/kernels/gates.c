/*
 * Privilege transitions: ring 3 entered by IRET, ring 3 -> 0 through an
 * interrupt gate with the TSS stack switch, a call gate with parameter
 * copy and its far return, the privilege checks on INT n, IOPL-sensitive
 * and privileged instructions, and interrupt vs trap gates on IF.
 */
#include "rt.h"

#define SEL_CALLGATE 0x48     /* GDT index 9: 32-bit call gate, DPL 3, 2 parameters */
#define VEC_USER_INT 0x31     /* interrupt gate, DPL 3 */
#define VEC_KERN_INT 0x32     /* interrupt gate, DPL 0 */
#define VEC_IF_INT   0x33     /* interrupt gate, DPL 0 */
#define VEC_IF_TRAP  0x34     /* trap gate, DPL 0 */

static volatile uint32_t u_cs, u_ss, u_esp_at_int, u_esp_before_call, u_esp_after_call;
static volatile int u_vec_kern_int, u_vec_cli, u_vec_in, u_vec_hlt, u_vec_cr0, u_vec_ds;
static volatile uint32_t u_err_kern_int, u_err_ds;
static volatile uint32_t h_cs, h_ss, h_esp, h_eflags, h_eip_slot, h_handler_cs;
static volatile uint32_t if_in_int_gate, if_in_trap_gate;
volatile uint32_t cg_eip, cg_cs, cg_p0, cg_p1, cg_uesp, cg_uss, cg_ss0, cg_esp;

/* The call gate's ring-0 target: records its stack, returns releasing 2 parameters. */
__asm__(".globl cg_target\n"
	"cg_target:\n"
	"	movl %esp, cg_esp\n"
	"	movl (%esp), %eax\n	movl %eax, cg_eip\n"
	"	movl 4(%esp), %eax\n	movl %eax, cg_cs\n"
	"	movl 8(%esp), %eax\n	movl %eax, cg_p0\n"
	"	movl 12(%esp), %eax\n	movl %eax, cg_p1\n"
	"	movl 16(%esp), %eax\n	movl %eax, cg_uesp\n"
	"	movl 20(%esp), %eax\n	movl %eax, cg_uss\n"
	"	xorl %eax, %eax\n	movw %ss, %ax\n	movl %eax, cg_ss0\n"
	"	lret $8\n");
extern uint8_t cg_target[];

static void user_int_handler(struct frame *f)
{
	uint16_t cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	h_handler_cs = cs;
	h_cs = f->cs;
	h_ss = f->ss;
	h_esp = f->esp;
	h_eflags = f->eflags;
	h_eip_slot = (uint32_t)&f->eip;
}

static void if_handler(struct frame *f)
{
	uint32_t fl = read_eflags() & 0x200;
	if (f->vector == VEC_IF_INT)
		if_in_int_gate = fl;
	else
		if_in_trap_gate = fl;
}

static void __attribute__((noreturn)) user_part(void)
{
	uint16_t cs, ss;
	__asm__ volatile("mov %%cs, %0\n\tmov %%ss, %1" : "=r"(cs), "=r"(ss));
	u_cs = cs;
	u_ss = ss;
	uint32_t esp;
	__asm__ volatile("movl %%esp, %0\n\tint $0x31" : "=&r"(esp) : : "memory");
	u_esp_at_int = esp;

	u_vec_kern_int = TRY("int $0x32", : : : "memory");
	u_err_kern_int = rt_caught.err;
	u_vec_cli = TRY("cli", : : : "memory");
	u_vec_in = TRY("inb $0x80, %%al", : : : "eax", "memory");
	u_vec_hlt = TRY("hlt", : : : "memory");
	u_vec_cr0 = TRY("movl %%cr0, %%eax", : : : "eax", "memory");
	u_vec_ds = TRY_CLEANUP("movw $0x10, %%ax\n\tmovw %%ax, %%ds", "movw $0x33, %%ax\n\tmovw %%ax, %%ds",
			       : : : "eax", "memory");
	u_err_ds = rt_caught.err;

	uint32_t before, after;
	__asm__ volatile("movl %%esp, %0\n\t"
			 "pushl $0x11111111\n\tpushl $0x22222222\n\t"
			 "lcall $0x4b, $0\n\t"
			 "movl %%esp, %1"
			 : "=&r"(before), "=&r"(after) : : "eax", "memory");
	u_esp_before_call = before;
	u_esp_after_call = after;
	__asm__ volatile("int $0x30");
	for (;;)
		;
}

void test_main(void)
{
	idt_set_gate(VEC_USER_INT, SEL_CODE32, rt_stub(VEC_USER_INT), GATE_INT32 | ACC_DPL(3));
	idt_set_gate(VEC_IF_TRAP, SEL_CODE32, rt_stub(VEC_IF_TRAP), GATE_TRAP32);
	rt_set_handler(VEC_USER_INT, user_int_handler);
	rt_set_handler(VEC_IF_INT, if_handler);
	rt_set_handler(VEC_IF_TRAP, if_handler);
	uint32_t off = (uint32_t)cg_target;
	rt_gdt[SEL_CALLGATE >> 3] = (off & 0xffff) | ((uint64_t)SEL_CODE32 << 16) | (2ULL << 32) |
				    ((uint64_t)(GATE_CALL32 | ACC_DPL(3)) << 40) | ((uint64_t)(off >> 16) << 48);

	rt_ring3(user_part, (uint32_t)rt_ustack_top);
	uint32_t esp0 = rt_tss.esp0;

	CHECK_EQ("IRET to ring 3: CS", u_cs, SEL_CODE32_U);
	CHECK_EQ("IRET to ring 3: SS", u_ss, SEL_DATA32_U);
	CHECK_EQ("int gate from ring 3: handler runs in ring 0", h_handler_cs, SEL_CODE32);
	CHECK_EQ("int gate from ring 3: saved CS", h_cs, SEL_CODE32_U);
	CHECK_EQ("int gate from ring 3: saved SS", h_ss, SEL_DATA32_U);
	CHECK_EQ("int gate from ring 3: saved ESP", h_esp, u_esp_at_int);
	CHECK_EQ("TSS stack switch: frame at ESP0 - 20", h_eip_slot, esp0 - 20);
	CHECK_EQ("INT to a DPL 0 gate from ring 3: #GP", u_vec_kern_int, 13);
	CHECK_EQ("... error code vec*8+2", u_err_kern_int, VEC_KERN_INT * 8 + 2);
	CHECK_EQ("CLI in ring 3 with IOPL 0: #GP", u_vec_cli, 13);
	CHECK_EQ("IN in ring 3 with IOPL 0 and no I/O bitmap: #GP", u_vec_in, 13);
	CHECK_EQ("HLT in ring 3: #GP", u_vec_hlt, 13);
	CHECK_EQ("MOV from CR0 in ring 3: #GP", u_vec_cr0, 13);
	check(u_vec_ds == 13 && u_err_ds == SEL_DATA32, "ring 3 loading a DPL 0 data segment: #GP(sel)",
	      "vector %d err %#x", u_vec_ds, u_err_ds);

	CHECK_EQ("call gate: caller CS on the new stack", cg_cs, SEL_CODE32_U);
	CHECK_EQ("call gate: caller SS on the new stack", cg_uss, SEL_DATA32_U);
	CHECK_EQ("call gate: caller ESP (after its pushes)", cg_uesp, u_esp_before_call - 8);
	CHECK_EQ("call gate: parameter 0 copied (last pushed)", cg_p0, 0x22222222);
	CHECK_EQ("call gate: parameter 1 copied", cg_p1, 0x11111111);
	CHECK_EQ("call gate: SS from the TSS", cg_ss0, SEL_DATA32);
	CHECK_EQ("call gate: new stack at ESP0 - 24", cg_esp, esp0 - 24);
	CHECK_EQ("RET 8 to ring 3 released the parameters", u_esp_after_call, u_esp_before_call);

	__asm__ volatile("sti\n\tint $0x33\n\tint $0x34\n\tcli" : : : "memory");
	CHECK_EQ("interrupt gate clears IF", if_in_int_gate, 0);
	CHECK_EQ("trap gate keeps IF", if_in_trap_gate, 0x200);
}
