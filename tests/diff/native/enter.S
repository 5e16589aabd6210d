/*
 * Entering and leaving a test snippet natively (i386, AT&T syntax).
 *
 * diff_enter() saves the harness's callee-saved registers, ESP, FS and GS,
 * loads the test's segments, EFLAGS and all eight GPRs from diff_in, and
 * jumps to the snippet. The snippet's trailer (written by runner.c) stores
 * the registers through SS (the one segment a test never changes) and
 * jumps to diff_exit, which restores the harness and returns from
 * diff_enter() as if it were an ordinary call.
 *
 * diff_in layout (runner.c struct native_in): gpr[8] at 0, eflags 32,
 * ds 36, es 40, fs 44, gs 48.
 */
	.text
	.globl	diff_enter
	.type	diff_enter, @function
diff_enter:
	push	%ebp
	push	%ebx
	push	%esi
	push	%edi
	mov	%esp, diff_saved_esp
	mov	%fs, %eax
	mov	%eax, diff_saved_fs
	mov	%gs, %eax
	mov	%eax, diff_saved_gs
	pushl	diff_in+32
	mov	diff_in+40, %eax
	mov	%eax, %es
	mov	diff_in+44, %eax
	mov	%eax, %fs
	mov	diff_in+48, %eax
	mov	%eax, %gs
	mov	diff_in+36, %eax
	mov	%eax, %ds
	/* From here on DS may not be flat: address the harness through SS. */
	popfl
	mov	%ss:diff_in+4, %ecx
	mov	%ss:diff_in+8, %edx
	mov	%ss:diff_in+12, %ebx
	mov	%ss:diff_in+20, %ebp
	mov	%ss:diff_in+24, %esi
	mov	%ss:diff_in+28, %edi
	mov	%ss:diff_in+16, %esp
	mov	%ss:diff_in+0, %eax
	/* Far, so the same path enters 32-bit and 16-bit code segments. */
	ljmp	*%ss:diff_code_entry
	.size	diff_enter, .-diff_enter

	.globl	diff_exit
	.type	diff_exit, @function
diff_exit:
	mov	%ss, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	diff_saved_fs, %eax
	mov	%eax, %fs
	mov	diff_saved_gs, %eax
	mov	%eax, %gs
	mov	diff_saved_esp, %esp
	cld
	/* A test may leave EFLAGS.AC set: the harness's own misaligned
	 * accesses must not raise #AC. */
	pushfl
	andl	$~0x40000, (%esp)
	popfl
	pop	%edi
	pop	%esi
	pop	%ebx
	pop	%ebp
	ret
	.size	diff_exit, .-diff_exit

	.globl	diff_restore_fs
	.type	diff_restore_fs, @function
/* After a fault: the kernel gave the handler flat DS/ES; FS is still the
 * test's, and EFLAGS.AC may be. */
diff_restore_fs:
	mov	diff_saved_fs, %eax
	mov	%eax, %fs
	pushfl
	andl	$~0x40000, (%esp)
	popfl
	ret
	.size	diff_restore_fs, .-diff_restore_fs

	.section .note.GNU-stack, "", @progbits
