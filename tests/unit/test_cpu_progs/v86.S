/* V86 mode: entered by IRET, INT n out to the ring-0 handler and back,
 * HLT faulting to the monitor. */
#include "rt32.inc"
	.code32
	.globl t_v86
t_v86:
	call rt_setup
	call rt_tss
	movl $hook_v86int, HOOKS + 0x21 * 4
	movb $0xee, 0x6000 + 0x21 * 8 + 5     /* INT 21h is a software interrupt from CPL 3 */
	pushl $0                /* gs */
	pushl $0                /* fs */
	pushl $0                /* ds */
	pushl $0                /* es */
	pushl $0                /* ss */
	pushl $0x7c00           /* sp */
	pushl $0x23002          /* VM, IOPL 3 */
	pushl $0                /* cs */
	pushl $v86_code
	iret
hook_v86int:
	incl OUT
	movl REC_EFL, %eax
	movl %eax, OUT + 4
	movl REC_CS, %eax
	movl %eax, OUT + 8
	ret
	.code16
v86_code:
	movw $0x1234, %ax
	int $0x21
	movw %ax, %bx
	movw $0x780, %cx
	movw %cx, %ds
	movw %ax, 0x10          /* linear 0x7810 */
v86_hlt:
	hlt
