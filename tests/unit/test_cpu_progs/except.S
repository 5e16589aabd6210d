/* Exceptions leave the state as it was before the faulting instruction. */
#include "rt32.inc"
	.code32
	.globl t_de
t_de:
	call rt_setup
	movl $0x11, %eax
	movl $0x22, %ebx
	xorl %ecx, %ecx
	movl $0x44, %edx
de_insn:
	divl %ecx
	hlt

	.globl t_gp
t_gp:
	call rt_setup
	movw $0x1234, %ax
gp_insn:
	movw %ax, %ds
	hlt

	.globl t_ud
t_ud:
	call rt_setup
	nop
ud_insn:
	.byte 0xf0, 0x90        /* lock nop */
	hlt

	.globl t_long
t_long:
	call rt_setup
	nop
long_insn:
	.byte 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66
	.byte 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x90
	hlt

	.globl t_pf
t_pf:
	call rt_setup
	call rt_paging
	andl $~1, PTE(0x301000)
	invlpg 0x301000
	movl $0x01020304, 0x300ffc
	movl $0x99, %ebx
	movl $0x300ffe, %edi
pf_insn:
	addl %ebx, (%edi)       /* crosses into the missing page: nothing may be written */
	hlt

	.globl t_triple
t_triple:
	call rt_setup
	call rt_paging
	movl $0x304000, %esp
	andl $~1, PTE(0x303000)
	invlpg 0x303000
	pushl $1                /* #PF on the stack, then #DF, then shutdown */
	hlt

	.globl t_bound
t_bound:
	call rt_setup
	movl $10, 0x7800
	movl $20, 0x7804
	movl $21, %eax
bound_insn:
	boundl %eax, 0x7800
	hlt
