/* Ring 3: INT 80h through a DPL-3 gate and the TSS stack, IOPL-sensitive
 * CLI, SYSENTER/SYSEXIT, the I/O permission bitmap, a call gate with a
 * parameter, user access to a supervisor page. */
#include "rt32.inc"
	.code32
	.globl t_int80
t_int80:
	call rt_setup
	call rt_tss
	movl $hook_count, HOOKS + 0x80 * 4
	movl $user1, %eax
	movl $2, %edx
	jmp rt_to_user
user1:
	movw $0x23, %ax
	movw %ax, %ds
	movw %ax, %es
	movl $5, %eax
	int $0x80
	movl %cs, %ebx
	movl %ebx, OUT + 4
user_cli:
	cli
	hlt

hook_count:
	incl OUT
	ret

	.globl t_sysenter
t_sysenter:
	call rt_setup
	call rt_tss
	movl $0x174, %ecx
	movl $0x08, %eax
	xorl %edx, %edx
	wrmsr
	movl $0x175, %ecx
	movl $0x1d000, %eax
	wrmsr
	movl $0x176, %ecx
	movl $sysenter_target, %eax
	wrmsr
	movl $user2, %eax
	movl $2, %edx
	jmp rt_to_user
user2:
	movw $0x23, %ax
	movw %ax, %ds
	movl $0x1e000, %ecx
	movl $user2_back, %edx
	sysenter
user2_back:
	movl %cs, %eax
	movl %eax, OUT + 12
	movl %ss, %eax
	movl %eax, OUT + 16
	movl %esp, OUT + 20
	cli                     /* #GP: stop */
sysenter_target:
	movl %cs, %eax
	movl %eax, OUT + 0
	movl %esp, OUT + 4
	movl %ss, %eax
	movl %eax, OUT + 8
	sysexit

	.globl t_iobitmap
t_iobitmap:
	call rt_setup
	call rt_tss
	movl $user3, %eax
	movl $2, %edx
	jmp rt_to_user
user3:
	movw $0x23, %ax
	movw %ax, %ds
	movb $0x11, %al
	outb %al, $0x70
io_denied:
	outb %al, $0x80
	hlt

	.globl t_gate
t_gate:
	call rt_setup
	call rt_tss
	movl $user4, %eax
	movl $2, %edx
	jmp rt_to_user
user4:
	pushl $0x42
	lcall $0x3b, $0
	movw $0x23, %ax
	movw %ax, %ds
	movl %esp, OUT + 12
	hlt                     /* #GP: stop */
	.globl gate_target
gate_target:
	movl 8(%esp), %eax      /* the copied parameter */
	pushl %ds
	movw $0x10, %cx
	movw %cx, %ds
	movl %eax, OUT + 8
	movl %cs, %eax
	movl %eax, OUT + 4
	popl %ds
	lret $4

	.globl t_upf
t_upf:
	call rt_setup
	call rt_tss
	call rt_paging
	andl $~4, PTE(0x300000)         /* supervisor only */
	invlpg 0x300000
	movl $user5, %eax
	movl $2, %edx
	jmp rt_to_user
user5:
	movw $0x23, %ax
	movw %ax, %ds
upf_insn:
	movl 0x300000, %eax
	hlt
