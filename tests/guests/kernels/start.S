/*
 * The shared runtime's entry and mode switches.
 *
 * Two ways in, one way on:
 *   - real mode at 0x4000:0000 (the first byte of the flat binary; the
 *     minimal test board starts the CPU there),
 *   - multiboot (qemu -kernel): flat 32-bit protected mode; we drop back to
 *     real mode first, so both emulators run the same path from rm_entry.
 * rm_entry loads the GDT and IDT, enters protected mode and calls rt_start().
 */
#include "rt_layout.h"

/*
 * RM(sym): the symbol's offset in real-mode segment 0x4000. The assembler
 * cannot encode "sym - 0x40000" in a 16-bit field, so kernel.ld defines
 * sym_rm for each symbol used this way.
 */
#define RM(sym) sym##_rm

	.globl gdt_ptr, idt_ptr, mb_to16, rm_entry, rm_ivt_ptr, rt_real_entries, rt_rm_idt_seen, rt_rm_pushpop, rt_rm_sp, rt_rm_value, rt_saved_idt, visit16, visit_rm
	.section .entry, "ax"
	.code16
	.globl image_start
image_start:
	jmp	rm_entry
	.balign 8
multiboot_header:
	.long	0x1BADB002
	.long	0
	.long	-0x1BADB002

rm_entry:
	cli
	cld
	xorw	%ax, %ax
	movw	%ax, %ss
	movw	$0x7c00, %sp
	movw	$(IMAGE_BASE >> 4), %ax
	movw	%ax, %ds
	movw	%ax, %es
	incl	RM(rt_real_entries)
	lgdtl	RM(gdt_ptr)
	lidtl	RM(idt_ptr)
	/* A known CR0 whatever ran before (a BIOS clears CD/NW, RESET sets
	 * them): PE and ET only, caches on, WP/AM/NE off. */
	movl	$0x11, %eax
	movl	%eax, %cr0
	ljmpl	$SEL_CODE32, $pm_entry

	.code32
pm_entry:
	movw	$SEL_DATA32, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %fs
	movw	%ax, %gs
	movw	%ax, %ss
	movl	$stack_top, %esp
	call	rt_start
1:	cli
	hlt
	jmp	1b

/* Multiboot: 32-bit flat, paging off, EAX = magic. Back to real mode. */
	.globl mb_entry
mb_entry:
	cli
	movl	%eax, rt_multiboot_magic
	lgdt	gdt_ptr
	ljmp	$SEL_CODE16, $RM(mb_to16)
	.code16
mb_to16:
	movw	$SEL_DATA16, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	%ax, %fs
	movw	%ax, %gs
	movl	%cr0, %eax
	andl	$~1, %eax
	movl	%eax, %cr0
	ljmp	$(IMAGE_BASE >> 4), $RM(rm_entry)

/*
 * uint32_t rt_visit_real_mode(uint32_t seg, uint32_t off): from 32-bit
 * protected mode, back to real mode, read the 32-bit word at seg:off
 * through a real-mode segment register, and come back. Returns the word;
 * the real-mode stack pointer used is checked by the caller via rt_rm_sp.
 */
	.code32
	.globl rt_visit_real_mode
rt_visit_real_mode:
	pushl	%ebx
	pushl	%esi
	pushl	%edi
	pushl	%ebp
	movl	20(%esp), %ebx          /* seg */
	movl	24(%esp), %esi          /* off */
	movl	%esp, rt_saved_esp
	sidt	rt_saved_idt
	ljmp	$SEL_CODE16, $RM(visit16)
	.code16
visit16:
	movw	$SEL_DATA16, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movl	%cr0, %eax
	andl	$~1, %eax
	movl	%eax, %cr0
	ljmp	$(IMAGE_BASE >> 4), $RM(visit_rm)
visit_rm:
	/* Real mode: a segment's base is its value times 16 again. */
	xorw	%ax, %ax
	movw	%ax, %ss
	movw	$0x7000, %sp
	pushw	$0x1234                 /* the real-mode stack works */
	popw	%cx
	movw	$(IMAGE_BASE >> 4), %ax
	movw	%ax, %ds
	movw	%cx, RM(rt_rm_pushpop)
	movw	%sp, RM(rt_rm_sp)
	movw	%bx, %es
	movl	%es:(%si), %edi
	movl	%edi, RM(rt_rm_value)
	lidtl	RM(rm_ivt_ptr)          /* real-mode IVT while here */
	sidtl	RM(rt_rm_idt_seen)
	lgdtl	RM(gdt_ptr)
	lidtl	RM(rt_saved_idt)
	movl	%cr0, %eax
	orl	$1, %eax
	movl	%eax, %cr0
	ljmpl	$SEL_CODE32, $visit_back
	.code32
visit_back:
	movw	$SEL_DATA32, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %fs
	movw	%ax, %gs
	movw	%ax, %ss
	movl	rt_saved_esp, %esp
	movl	rt_rm_value, %eax
	popl	%ebp
	popl	%edi
	popl	%esi
	popl	%ebx
	ret

/* Exception and interrupt entry: one stub per vector, one common path. */
	.macro	stub vec
	.balign 16
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17)
	pushl	$\vec
	.else
	pushl	$0
	pushl	$\vec
	.endif
	jmp	trap_common
	.endm

	.balign 16
	.globl rt_stubs
rt_stubs:
	.set	v, 0
	.rept	RT_NVEC
	stub	v
	.set	v, v + 1
	.endr

trap_common:
	pushl	%ds
	pushl	%es
	pushl	%fs
	pushl	%gs
	pushal
	movw	$SEL_DATA32, %ax
	movw	%ax, %ds
	movw	%ax, %es
	pushl	%esp
	call	rt_trap
	addl	$4, %esp
	.globl rt_trap_return
rt_trap_return:
	popal
	popl	%gs
	popl	%fs
	popl	%es
	popl	%ds
	addl	$8, %esp
	iret

	.data
	.balign 8
gdt_ptr:
	.word	RT_NGDT * 8 - 1
	.long	rt_gdt
idt_ptr:
	.word	RT_NVEC * 8 - 1
	.long	rt_idt
rm_ivt_ptr:
	.word	0x3ff
	.long	0
	.globl rt_saved_idt, rt_rm_idt_seen
rt_saved_idt:
	.word	0
	.long	0
rt_rm_idt_seen:
	.word	0
	.long	0
	.globl rt_real_entries, rt_multiboot_magic, rt_rm_value, rt_rm_sp, rt_rm_pushpop
rt_real_entries:	.long 0
rt_multiboot_magic:	.long 0
rt_saved_esp:		.long 0
rt_rm_value:		.long 0
rt_rm_sp:		.word 0
rt_rm_pushpop:		.word 0

	.bss
	.balign 16
	.space	16384
	.globl stack_top
stack_top:
