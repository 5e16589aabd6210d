/* Entry of the VGA test kernel: a stack, then kmain(info) (never returns). */
	.text
	.globl _start
_start:
	cli
	movl $stack_top, %esp
	pushl %ebx              /* multiboot information */
	call kmain
1:	hlt
	jmp 1b

	.bss
	.align 16
	.space 8192
stack_top:
