/* A REP MOVSB that faults half-way resumes where it stopped. */
#include "rt32.inc"
	.code32
	.globl start
start:
	call rt_setup
	call rt_paging
	movl $0x100000, %edi
	movb $0x5a, %al
	movl $8192, %ecx
	cld
	rep stosb
	andl $~1, PTE(0x311000)
	invlpg 0x311000
	movl $hook_fix_page, HOOKS + 14 * 4
	movl $0x100000, %esi
	movl $0x310800, %edi
	movl $0x1000, %ecx
rep_insn:
	rep movsb
	hlt
