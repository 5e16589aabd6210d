/*
 * Legacy (MS-DOS compatible) x87 error reporting, CR0.NE=0: an unmasked
 * exception pending at the next waiting x87 instruction asserts FERR#,
 * which the board routes to IRQ13 (slave 8259, input 5), not #MF. The
 * handler does what Linux's does: a write to port 0xF0 (drops the IRQ13
 * latch), EOI to both 8259s, FNSTENV for the details, FNCLEX. Without the
 * 0xF0 write the latch stays up, so a second error makes no new edge and no
 * interrupt; after it, the next error interrupts again.
 */
#include "fpu.h"

#define VEC_BASE 0x20               /* master IRQ0-7: 0x20-0x27, slave: 0x28-0x2f */
#define VEC_IRQ13 (VEC_BASE + 8 + 5)

struct irq_state {
	int n_irq, n_mf, write_f0;
	uint32_t eip;
	uint8_t slave_isr, master_isr;
	struct fenv32 env;
};
static struct irq_state Q;

static void pic_init(void)
{
	outb(0x20, 0x11); outb(0xa0, 0x11);           /* ICW1: edge, cascade, ICW4 */
	outb(0x21, VEC_BASE); outb(0xa1, VEC_BASE + 8);
	outb(0x21, 0x04); outb(0xa1, 0x02);           /* slave on IRQ2 */
	outb(0x21, 0x01); outb(0xa1, 0x01);           /* 8086 mode, normal EOI */
	outb(0x21, 0xfb);                             /* master: only IRQ2 (the cascade) */
	outb(0xa1, 0xdf);                             /* slave: only IRQ13 */
}

static uint8_t pic_read(uint16_t cmd, uint8_t ocw3)
{
	outb(cmd, ocw3);
	return inb(cmd);
}

static void irq13_handler(struct frame *f)
{
	Q.n_irq++;
	Q.eip = f->eip;
	Q.slave_isr = pic_read(0xa0, 0x0b);
	Q.master_isr = pic_read(0x20, 0x0b);
	if (Q.write_f0)
		outb(0xf0, 0);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	fnstenv(&Q.env);
	fnclex();
}

static void mf_handler(struct frame *f)
{
	(void)f;
	Q.n_mf++;
	fnclex();
}

extern uint8_t irq_div[], irq_wait[], irq_after[];
static const double zero = 0.0;

/* 1/0 with ZM clear, then FWAIT with interrupts on. */
static void divide_by_zero_then_wait(void)
{
	fninit();
	fldcw(FCW_DEFAULT & ~0x04);
	__asm__ volatile(
		"fld1\n\t"
		".globl irq_div\nirq_div: fdivl %0\n\t"
		"sti\n\t"
		"nop\n\tnop\n\tnop\n\t"                      /* nothing yet: not a waiting insn */
		".globl irq_wait\nirq_wait: fwait\n\t"
		".globl irq_after\nirq_after: nop\n\t"
		"nop\n\tnop\n\tnop\n\t"
		"cli\n\t"
		: : "m"(zero) : "memory");
}

void test_main(void)
{
	rt_set_handler(VEC_IRQ13, irq13_handler);
	rt_set_handler(16, mf_handler);
	write_cr0((read_cr0() | CR0_MP) & ~(CR0_EM | CR0_TS | CR0_NE));
	pic_init();

	Q.write_f0 = 1;
	divide_by_zero_then_wait();
	CHECK_EQ("NE=0: IRQ13 for the pending #Z", Q.n_irq, 1);
	CHECK_EQ("NE=0: no #MF", Q.n_mf, 0);
	/* A P6 freezes at the FWAIT until the interrupt, qemu and we take it
	 * right after the FWAIT: either way, not before the waiting insn. */
	check(Q.eip == (uint32_t)irq_wait || Q.eip == (uint32_t)irq_after,
	      "IRQ13 arrives at the waiting instruction", "at %#x, FWAIT at %#x", Q.eip, (uint32_t)irq_wait);
	check(Q.slave_isr == 0x20 && Q.master_isr == 0x04, "IRQ13 in service on the slave, IRQ2 on the master",
	      "slave ISR %#x master ISR %#x", Q.slave_isr, Q.master_isr);
	check((Q.env.sw & (FSW_ZE | FSW_ES)) == (FSW_ZE | FSW_ES), "FNSTENV in the IRQ13 handler: ZE and ES",
	      "sw %#x", Q.env.sw);
	CHECK_EQ("FNSTENV in the IRQ13 handler: FIP at the FDIV", Q.env.fip, (uint32_t)irq_div);

	/* Interrupts off: the request waits in the slave's IRR. */
	Q.n_irq = 0;
	fninit();
	fldcw(FCW_DEFAULT & ~0x04);
	__asm__ volatile("fld1\n\tfdivl %0\n\tfwait" : : "m"(zero) : "memory");
	uint8_t irr = pic_read(0xa0, 0x0a);
	CHECK_EQ("IF=0: IRQ13 waits in the slave IRR", irr & 0x20, 0x20);
	CHECK_EQ("IF=0: not delivered", Q.n_irq, 0);
	__asm__ volatile("sti\n\tnop\n\tnop\n\tcli" ::: "memory");
	CHECK_EQ("STI: delivered", Q.n_irq, 1);

	/* Without the 0xF0 write the latch stays up: no new edge, no IRQ13. */
	Q.write_f0 = 0;
	Q.n_irq = 0;
	divide_by_zero_then_wait();
	CHECK_EQ("IRQ13 once more (handler without the 0xF0 write)", Q.n_irq, 1);
	divide_by_zero_then_wait();
	CHECK_EQ("latch still up: the next error makes no IRQ13", Q.n_irq, 1);
	fnclex();
	outb(0xf0, 0);
	Q.write_f0 = 1;
	divide_by_zero_then_wait();
	CHECK_EQ("after the 0xF0 write: IRQ13 again", Q.n_irq, 2);
	CHECK_EQ("still no #MF", Q.n_mf, 0);

	/* Masked, nothing at all. */
	Q.n_irq = 0;
	fninit();
	__asm__ volatile("sti\n\tfld1\n\tfdivl %0\n\tfwait\n\tnop\n\tcli" : : "m"(zero) : "memory");
	CHECK_EQ("masked #Z: no IRQ13", Q.n_irq, 0);
	fninit();
	outb(0xa1, 0xff);
	outb(0x21, 0xff);
}
