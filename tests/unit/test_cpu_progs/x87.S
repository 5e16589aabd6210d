/* The x87 glue: execution through the FPU unit, FCOMI flags, #NM for
 * CR0.EM/TS, #MF or FERR# for pending errors, a faulting FPU store that
 * restarts cleanly. */
#include "rt32.inc"
	.code32
	.globl t_basic
t_basic:
	call rt_setup
	fninit
	fld1
	fadd %st(0), %st
	fistpl OUT
	fld1
	fldpi
	fcomip %st(1), %st
	seta OUT + 4
	fstp %st(0)
	fnstsw OUT + 8
	hlt

	.globl t_em
t_em:
	call rt_setup
	movl %cr0, %eax
	orl $4, %eax
	movl %eax, %cr0
em_insn:
	fld1
	hlt

	.globl t_ts
t_ts:
	call rt_setup
	movl %cr0, %eax
	orl $0xa, %eax          /* TS, MP */
	movl %eax, %cr0
ts_insn:
	fwait
	hlt

	.globl t_mf
t_mf:
	call rt_setup
	movl %cr0, %eax
	orl $0x20, %eax         /* NE */
	movl %eax, %cr0
	fninit
	movw $0x37e, OUT + 16   /* invalid operation unmasked */
	fldcw OUT + 16
	fld1
	fchs
	fsqrt
mf_insn:
	fwait
	hlt

	.globl t_ferr
t_ferr:
	call rt_setup
	fninit
	movw $0x37e, OUT + 16
	fldcw OUT + 16
	fld1
	fchs
	fsqrt
	fwait
	movl $1, OUT + 20
	fnclex
	hlt

	.globl t_pf
t_pf:
	call rt_setup
	call rt_paging
	movl $hook_fix_page, HOOKS + 14 * 4
	andl $~1, PTE(0x301000)
	invlpg 0x301000
	fninit
	fld1
pf_insn:
	fstpl 0x300ffc
	fnstsw OUT + 24
	hlt
