/* From real mode: an INT through the IVT, then the switch to protected mode. */
	.code16
	.globl start
start:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %ss
	movw $0x7c00, %sp
	movw $int_handler, 0x40 * 4
	movw $0, 0x40 * 4 + 2
	movw $0, %bx
	int $0x40
	movw %bx, 0x7400
	lgdtl gdt_desc
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x08, $pm32
int_handler:
	movw $0x4242, %bx
	iret
	.code32
pm32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $0x9000, %esp
	pushl $0x12345678
	popl %eax
	hlt
	.align 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff
	.quad 0x00cf92000000ffff
gdt_desc:
	.word 23
	.long gdt
