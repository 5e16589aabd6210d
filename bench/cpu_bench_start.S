/* Entry of the benchmark's guest binary: iterations at 0x1000, result to 0x1004. */
	.code32
	.globl bench_start
bench_start:
	movl $0xff000, %esp
	pushl 0x1000
	call bench_work
	movl %eax, 0x1004
	hlt
	.section .note.GNU-stack,"",@progbits
