/* Self-modifying code: a store rewriting the next instruction of the
 * running block, and a loop patching an immediate of a cached block. */
#include "rt32.inc"
	.code32
	.globl start
start:
	call rt_setup
	xorl %eax, %eax
	movb $0x40, target      /* nop -> inc %eax */
target:
	nop
	movl $3, %ecx
	xorl %ebx, %ebx
loop1:
patched:
	addl $1, %ebx
	movb $10, patched + 2
	decl %ecx
	jnz loop1
	hlt
