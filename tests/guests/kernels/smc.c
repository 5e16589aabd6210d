/*
 * Self-modifying code: rewriting code that already ran (a cached
 * translation must go), the very next instruction, an instruction further
 * on in the same straight-line block, a loop that patches its own body,
 * and a write through a second linear alias of the code's physical page.
 */
#include "rt.h"

#define ALIAS 0x360000u

static uint8_t code[4096] __attribute__((aligned(4096)));

typedef uint32_t (*fn_t)(void);

static void emit_mov_ret(volatile uint8_t *p, uint32_t imm)
{
	p[0] = 0xb8;                      /* mov $imm32, %eax */
	p[1] = imm & 0xff;
	p[2] = (imm >> 8) & 0xff;
	p[3] = (imm >> 16) & 0xff;
	p[4] = (imm >> 24) & 0xff;
	p[5] = 0xc3;                      /* ret */
}

void test_main(void)
{
	volatile uint8_t *c = code;
	fn_t f = (fn_t)(uintptr_t)code;
	emit_mov_ret(c, 1);
	uint32_t r1 = f(), r1b = f();
	c[1] = 2;
	uint32_t r2 = f();
	CHECK_EQ("generated code runs", r1, 1);
	CHECK_EQ("... twice (now translated)", r1b, 1);
	CHECK_EQ("rewritten immediate takes effect", r2, 2);
	emit_mov_ret(c + 6, 7);
	c[0] = 0xeb; c[1] = 0x04;         /* jmp +4: now the first instruction jumps to the second */
	CHECK_EQ("rewritten opcode takes effect", f(), 7);

	/* The next instruction, patched by the one before it, three times. */
	int same = 1;
	for (uint32_t val = 0x42; val < 0x45; val++) {
		uint32_t al;
		__asm__ volatile("movb %b1, 1f+1\n\t"
				 "1: movb $0x11, %%al\n\t"
				 "movzbl %%al, %0"
				 : "=r"(al) : "q"(val) : "eax", "memory");
		same &= al == val;
		if (al != val)
			printf_("  next instruction: wrote %#x, executed %#x\n", val, al);
	}
	check(same, "patching the very next instruction", "stale code ran");

	/* Further on in the same straight-line block. */
	uint32_t got;
	__asm__ volatile("movl $0x1234abcd, 2f+1\n\t"
			 "nop\n\tnop\n\taddl $0, %%ecx\n\tnop\n\t"
			 "2: movl $0, %0"
			 : "=a"(got) : : "ecx", "memory");
	CHECK_EQ("patching an instruction later in the same block", got, 0x1234abcd);

	/* A loop that patches the immediate of its own ADD each time round. */
	uint32_t sum;
	__asm__ volatile("xorl %0, %0\n\tmovl $10, %%ecx\n"
			 "3: movb %%cl, 4f+2\n"
			 "4: .byte 0x83, 0xc0, 0x00\n\t"      /* addl $imm8, %eax */
			 "loop 3b"
			 : "=a"(sum) : : "ecx", "memory");
	CHECK_EQ("loop patching its own body (10+9+...+1)", sum, 55);

	/* A write through another linear address of the same physical page. */
	rt_paging_on();
	*rt_pte(ALIAS) = (uint32_t)code | PTE_W | PTE_P;
	invlpg(ALIAS);
	emit_mov_ret(c, 0x100);
	CHECK_EQ("paged: generated code runs", f(), 0x100);
	(void)f();
	((volatile uint8_t *)ALIAS)[1] = 0x55;
	CHECK_EQ("paged: write through an alias page takes effect", f(), 0x155);
	rt_paging_off();
}
