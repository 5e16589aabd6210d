/* Paging: #PF error codes and CR2, retry after the handler fixes the page,
 * TLB staleness until INVLPG, accessed and dirty bits. */
#include "rt32.inc"
	.code32
	.globl start
start:
	call rt_setup
	call rt_paging
	movl $hook_fix_page, HOOKS + 14 * 4
	/* not-present write */
	andl $~1, PTE(0x300000)
	invlpg 0x300000
	movl $0xabcd, %ebx
np_write:
	movl %ebx, 0x300010
	movl REC_ERR, %eax
	movl %eax, OUT + 0
	movl REC_CR2, %eax
	movl %eax, OUT + 4
	/* read-only page, supervisor write with CR0.WP */
	andl $~2, PTE(0x301000)
	invlpg 0x301000
ro_write:
	movl $0x5555, 0x301000
	movl REC_ERR, %eax
	movl %eax, OUT + 8
	movl REC_CR2, %eax
	movl %eax, OUT + 12
	/* TLB: a changed PTE is not seen until INVLPG */
	movl $0x11111111, 0x200000
	movl $0x22222222, 0x201000
	movl $0x200007, PTE(0x302000)
	invlpg 0x302000
	movl 0x302000, %eax
	movl %eax, OUT + 16
	movl $0x201007, PTE(0x302000)
	movl 0x302000, %eax
	movl %eax, OUT + 20
	invlpg 0x302000
	movl 0x302000, %eax
	movl %eax, OUT + 24
	movl PTE(0x302000), %eax
	movl %eax, OUT + 28
	movl $1, 0x302004
	movl PTE(0x302000), %eax
	movl %eax, OUT + 32
	/* CR3 reload flushes too */
	movl $0x200007, PTE(0x302000)
	movl %cr3, %eax
	movl %eax, %cr3
	movl 0x302000, %eax
	movl %eax, OUT + 36
	movl REC_COUNT, %eax
	movl %eax, OUT + 40
	hlt
