/* External interrupts: the STI shadow, HLT wake-up, IRET back. */
#include "rt32.inc"
	.code32
	.globl start
start:
	call rt_setup
	movl $hook_irq, HOOKS + 32 * 4
	xorl %ebx, %ebx
	sti
	incl %ebx
first_hlt:
	hlt
after_hlt:
	movl $0x77, %ecx
	cli
	hlt
hook_irq:
	incl OUT
	ret
