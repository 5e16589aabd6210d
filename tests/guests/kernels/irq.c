/*
 * External interrupts through the PC's 8259A and 8254 (so only where a PC
 * is: qemu, vmd-guest; the bare test board has neither and the kernel says
 * "needs: pc"): IF gating, STI's one-instruction shadow, HLT woken by an
 * interrupt, the vector and frame, the 8259's mask and EOI.
 */
#include "rt.h"

#define VEC_BASE 0x20
static volatile uint32_t ticks, last_eflags, last_eip, last_cs;

static void timer(struct frame *f)
{
	ticks++;
	last_eflags = f->eflags;
	last_eip = f->eip;
	last_cs = f->cs;
	outb(0x20, 0x20);          /* non-specific EOI */
}

static void timer_no_eoi(struct frame *f)
{
	(void)f;
	ticks++;
}

static int pic_present(void)
{
	outb(0x21, 0x5a);
	int ok = inb(0x21) == 0x5a;
	outb(0x21, 0xa5);
	ok = ok && inb(0x21) == 0xa5;
	outb(0x21, 0xff);
	return ok;
}

static void pic_init(void)
{
	outb(0x20, 0x11); outb(0xa0, 0x11);          /* ICW1: edge, cascade, ICW4 */
	outb(0x21, VEC_BASE); outb(0xa1, VEC_BASE + 8);
	outb(0x21, 0x04); outb(0xa1, 0x02);
	outb(0x21, 0x01); outb(0xa1, 0x01);          /* 8086 mode */
	outb(0x21, 0xff); outb(0xa1, 0xff);
}

static uint8_t pic_irr(void) { outb(0x20, 0x0a); return inb(0x20); }
static uint8_t pic_isr(void) { outb(0x20, 0x0b); return inb(0x20); }

/* Waits (IF=0) until IRQ0 is requested at the 8259, at most ~forever/2^24. */
static int wait_irr0(void)
{
	for (uint32_t i = 0; i < (1u << 24); i++)
		if (pic_irr() & 1)
			return 1;
	return 0;
}

extern uint8_t after_hlt[];

void test_main(void)
{
	if (!pic_present()) {
		printf_("needs: pc (no 8259A at port 0x21)\n");
		return;
	}
	pic_init();
	for (int v = VEC_BASE; v < VEC_BASE + 16; v++)
		rt_set_handler(v, timer);
	/* 8254 channel 0, mode 2 (rate generator), ~1 kHz. */
	outb(0x43, 0x34);
	outb(0x40, 1193 & 0xff);
	outb(0x40, 1193 >> 8);
	outb(0x21, 0xfe);          /* unmask IRQ0 only */

	check(wait_irr0(), "8254 raises IRQ0 at the 8259 (IRR)", "IRR %#x", pic_irr());
	CHECK_EQ("IF=0: the request is not taken", ticks, 0);

	/* STI's shadow: nothing between STI and the CLI right after it. */
	__asm__ volatile("sti\n\tcli" : : : "memory");
	CHECK_EQ("STI; CLI with a request pending: none taken in the shadow", ticks, 0);
	__asm__ volatile("sti\n\tnop\n\tcli" : : : "memory");
	CHECK_EQ("STI; NOP; CLI: taken after the NOP", ticks, 1);
	check((last_eflags & 0x200) != 0, "the frame's EFLAGS has IF", "eflags %#x", last_eflags);
	CHECK_EQ("the frame's CS", last_cs, SEL_CODE32);
	CHECK_EQ("ISR clear after EOI", pic_isr() & 1, 0);

	/* HLT wakes on the interrupt; the frame's EIP is after the HLT. */
	uint32_t before = ticks;
	__asm__ volatile("sti\n\thlt\n\t.globl after_hlt\nafter_hlt:\n\tcli" : : : "memory");
	CHECK_EQ("STI; HLT woken by IRQ0", ticks, before + 1);
	CHECK_EQ("... with the return address after the HLT", last_eip, (uint32_t)after_hlt);

	/* Masked at the 8259: nothing arrives. */
	outb(0x21, 0xff);
	before = ticks;
	__asm__ volatile("sti" : : : "memory");
	for (volatile uint32_t i = 0; i < 200000; i++)
		;
	__asm__ volatile("cli" : : : "memory");
	CHECK_EQ("IRQ0 masked in the IMR: none taken", ticks, before);

	/* Without an EOI the 8259 holds IRQ0 in service: exactly one arrives. */
	rt_set_handler(VEC_BASE, timer_no_eoi);
	outb(0x21, 0xfe);
	before = ticks;
	check(wait_irr0(), "IRQ0 requested again", "IRR %#x", pic_irr());
	__asm__ volatile("sti" : : : "memory");
	for (volatile uint32_t i = 0; i < 200000; i++)
		;
	__asm__ volatile("cli" : : : "memory");
	CHECK_EQ("no EOI: one interrupt, then none", ticks, before + 1);
	CHECK_EQ("... and ISR bit 0 stays set", pic_isr() & 1, 1);
	outb(0x20, 0x60);          /* specific EOI for IRQ0 */
	CHECK_EQ("specific EOI clears ISR bit 0", pic_isr() & 1, 0);
	outb(0x21, 0xff);
	outb(0x43, 0x30);          /* channel 0 to mode 0, stopped until a count is written */
}
