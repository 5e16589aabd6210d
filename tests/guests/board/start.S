/*
 * Entry of the board test kernel: a multiboot v1 header (ELF, so no
 * address fields), a stack, and a call to kmain(magic, info).
 */
	.set MB_MAGIC, 0x1BADB002
	.set MB_FLAGS, 0x00000003          /* page-aligned modules, memory info */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.text
	.globl _start
_start:
	cli
	movl $stack_top, %esp
	pushl %ebx
	pushl %eax
	call kmain
1:	hlt
	jmp 1b

/* IRQ0 after the PIC is remapped to 0x20: count the tick, EOI. */
	.globl irq0_entry
irq0_entry:
	pushl %eax
	incl ticks
	movb $0x20, %al
	outb %al, $0x20
	popl %eax
	iret

/* IRQ4 (COM1) at vector 0x24: the C handler drains the UART and sends the EOI. */
	.globl irq4_entry
irq4_entry:
	pushal
	cld
	call serial_irq
	popal
	iret

	.bss
	.globl ticks
	.align 4
ticks:
	.long 0
	.align 16
	.space 16384
stack_top:
