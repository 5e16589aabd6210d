/*
 * Virtual-8086 mode: entered by IRET with EFLAGS.VM, real-mode style
 * addressing inside, INT n with IOPL < 3 trapping to the ring-0 monitor as
 * #GP(0) with the V86 segment registers on the stack, the monitor
 * emulating it and IRETting back, and HLT trapping the same way.
 */
#include "rt.h"

#define V86_SEG 0x2000
#define V86_BASE (V86_SEG << 4)

/* The V86 program, copied to V86_SEG:0000. */
__asm__(".section .rodata\n"
	".globl v86_code, v86_code_end\n"
	"v86_code:\n"
	".code16\n"
	"	movw $0x1234, %ax\n"
	"	movw %cs, %bx\n"
	"	movw %ax, 0x100\n"          /* DS = V86_SEG: linear V86_BASE + 0x100 */
	"	movw %bx, 0x104\n"
	"	int $0x40\n"                /* #GP(0) to the monitor, which sets AX = 0x5678 */
	"	movw %ax, 0x102\n"
	"	pushw $0x7777\n"            /* the V86 stack: SS = V86_SEG, SP from the IRET frame */
	"	popw %dx\n"
	"	movw %dx, 0x106\n"
	"	movw %sp, 0x108\n"
	"	hlt\n"                      /* #GP(0) again: the monitor ends the visit */
	".code32\n"
	"v86_code_end:\n"
	".text\n");
extern uint8_t v86_code[], v86_code_end[];

volatile uint32_t v86_saved_esp;
static volatile int ints, hlts;
static volatile uint32_t int_vec, int_ax, int_err, int_eflags, int_ds, int_es, int_fs, int_gs, int_cs, int_ss;

/* v86_visit(): IRET into V86 mode; returns when the monitor sees HLT. */
__asm__(".globl v86_visit, v86_exit\n"
	"v86_visit:\n"
	"	pushl %ebp\n	pushl %ebx\n	pushl %esi\n	pushl %edi\n"
	"	movl %esp, v86_saved_esp\n"
	"	leal -256(%esp), %eax\n	movl %eax, rt_tss+4\n"
	"	pushl $0\n"                 /* GS */
	"	pushl $0\n"                 /* FS */
	"	pushl $0x2000\n"            /* DS */
	"	pushl $0x2000\n"            /* ES */
	"	pushl $0x2000\n"            /* SS */
	"	pushl $0x0f00\n"            /* ESP */
	"	pushl $0x20002\n"           /* EFLAGS: VM, IOPL 0 */
	"	pushl $0x2000\n"            /* CS */
	"	pushl $0\n"                 /* EIP */
	"	iret\n"
	"v86_exit:\n"
	"	movw $0x10, %ax\n	movw %ax, %ds\n	movw %ax, %es\n	movw %ax, %fs\n	movw %ax, %gs\n"
	"	movl v86_saved_esp, %esp\n"
	"	popl %edi\n	popl %esi\n	popl %ebx\n	popl %ebp\n"
	"	ret\n");
void v86_visit(void);
extern uint8_t v86_exit[];

static void monitor(struct frame *f)
{
	if (!(f->eflags & 0x20000)) {
		printf_("FAIL #GP outside V86 mode at %x:%#x error %#x\n", f->cs, f->eip, f->err);
		rt_exit(1);
	}
	volatile uint8_t *ip = (volatile uint8_t *)((f->cs << 4) + (f->eip & 0xffff));
	if (ip[0] == 0xcd) {
		ints++;
		int_vec = ip[1];
		int_ax = f->eax & 0xffff;
		int_err = f->err;
		int_eflags = f->eflags;
		int_ds = f->v86_ds; int_es = f->v86_es; int_fs = f->v86_fs; int_gs = f->v86_gs;
		int_cs = f->cs; int_ss = f->ss;
		f->eax = (f->eax & ~0xffffu) | 0x5678;
		f->eip += 2;
		return;
	}
	if (ip[0] == 0xf4) {
		hlts++;
		/* Leave V86 for good: a same-privilege IRET to v86_exit. */
		f->eip = (uint32_t)v86_exit;
		f->cs = SEL_CODE32;
		f->eflags = 2;
		return;
	}
	printf_("FAIL unexpected #GP in V86 mode at %x:%x (opcode %x)\n", f->cs, f->eip, ip[0]);
	rt_exit(1);
}

void test_main(void)
{
	memcpy((void *)V86_BASE, v86_code, (unsigned)(v86_code_end - v86_code));
	rt_set_handler(13, monitor);
	v86_visit();
	rt_set_handler(13, 0);
	volatile uint16_t *mem = (volatile uint16_t *)V86_BASE;
	CHECK_EQ("V86: store through DS = seg * 16", mem[0x100 / 2], 0x1234);
	CHECK_EQ("V86: CS reads as the segment", mem[0x104 / 2], V86_SEG);
	CHECK_EQ("INT n in V86 with IOPL 0: one #GP to the monitor", ints, 1);
	CHECK_EQ("... error code 0", int_err, 0);
	CHECK_EQ("... it was INT 0x40", int_vec, 0x40);
	CHECK_EQ("... with AX from V86", int_ax, 0x1234);
	check(int_eflags & 0x20000, "... saved EFLAGS has VM", "eflags %#x", int_eflags);
	CHECK_EQ("... saved CS", int_cs, V86_SEG);
	CHECK_EQ("... saved SS", int_ss, V86_SEG);
	check(int_ds == V86_SEG && int_es == V86_SEG && int_fs == 0 && int_gs == 0,
	      "... saved DS, ES, FS, GS on the ring-0 stack", "ds %#x es %#x fs %#x gs %#x",
	      int_ds, int_es, int_fs, int_gs);
	CHECK_EQ("IRET back to V86: the monitor's AX", mem[0x102 / 2], 0x5678);
	CHECK_EQ("V86 stack push/pop", mem[0x106 / 2], 0x7777);
	CHECK_EQ("V86 SP after push/pop", mem[0x108 / 2], 0x0f00);
	CHECK_EQ("HLT in V86: #GP to the monitor", hlts, 1);
	uint16_t ds;
	__asm__ volatile("mov %%ds, %0" : "=r"(ds));
	CHECK_EQ("back in protected mode", ds, SEL_DATA32);
}
