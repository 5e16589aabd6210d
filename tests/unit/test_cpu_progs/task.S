/* Hardware task switch: CALL to a TSS, IRET back through the back link. */
#include "rt32.inc"
	.code32
	.globl t_task
t_task:
	call rt_setup
	call rt_tss
	/* TSS B at 0x4000: EIP task_b, ESP 0x1c000, flat segments, EBX 0xb0b */
	movl $0x4000, %edi
	xorl %eax, %eax
	movl $(0x68 / 4), %ecx
	cld
	rep stosl
	movl $task_b, 0x4020
	movl $2, 0x4024
	movl $0xb0b, 0x4034
	movl $0x1c000, 0x4038
	movl $0x10, 0x4048
	movl $0x08, 0x404c
	movl $0x10, 0x4050
	movl $0x10, 0x4054
	movl $0x10, 0x4058
	movl $0x10, 0x405c
	movl $0xa0a, %ebx
	lcall $0x30, $0
	movl %ebx, OUT + 8
	str %eax
	movl %eax, OUT + 12
	hlt
task_b:
	incl OUT
	movl %ebx, OUT + 4
	str %eax
	movl %eax, OUT + 16
	pushfl
	popl %eax
	movl %eax, OUT + 20
	iret
