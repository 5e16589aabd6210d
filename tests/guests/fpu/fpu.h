/*
 * x87 helpers for the FPU system-test kernels: the protected-mode 32-bit
 * FNSTENV/FNSAVE images and one-instruction wrappers. Everything FP is
 * inline assembly on memory operands (the kernels are built
 * general-register only, so the compiler never uses the x87 behind our back).
 */
#ifndef FPU_TEST_H
#define FPU_TEST_H

#include "rt.h"

/* FNSTENV/FLDENV image, 32-bit protected mode (SDM vol. 1, 8.1.10). */
struct fenv32 {
	uint16_t cw, r0;
	uint16_t sw, r1;
	uint16_t tw, r2;
	uint32_t fip;
	uint16_t fcs;
	uint16_t fop;            /* bits 0-10: the opcode's last 11 bits */
	uint32_t fdp;
	uint16_t fds, r3;
} __attribute__((packed));

/* FNSAVE/FRSTOR image: the environment, then ST(0)..ST(7) in stack order. */
struct fsave {
	struct fenv32 env;
	uint8_t st[8][10];
} __attribute__((packed));

#define FSW_IE 0x0001
#define FSW_ZE 0x0004
#define FSW_PE 0x0020
#define FSW_ES 0x0080
#define FSW_B  0x8000
#define FCW_DEFAULT 0x037f
#define CR0_MP (1u << 1)
#define CR0_EM (1u << 2)
#define CR0_TS (1u << 3)
#define CR0_NE (1u << 5)
#define CR4_OSFXSR (1u << 9)

static inline void fninit(void) { __asm__ volatile("fninit" ::: "memory"); }
static inline void fnclex(void) { __asm__ volatile("fnclex" ::: "memory"); }
static inline void clts(void) { __asm__ volatile("clts" ::: "memory"); }
static inline void fldcw(uint16_t cw) { __asm__ volatile("fldcw %0" : : "m"(cw) : "memory"); }
static inline uint16_t fnstcw(void) { uint16_t v; __asm__ volatile("fnstcw %0" : "=m"(v) : : "memory"); return v; }
static inline uint16_t fnstsw(void) { uint16_t v; __asm__ volatile("fnstsw %0" : "=m"(v) : : "memory"); return v; }
static inline void fnstenv(struct fenv32 *e) { __asm__ volatile("fnstenv %0" : "=m"(*e) : : "memory"); }
static inline void fldenv(const struct fenv32 *e) { __asm__ volatile("fldenv %0" : : "m"(*e) : "memory"); }
static inline void fnsave(struct fsave *s) { __asm__ volatile("fnsave %0" : "=m"(*s) : : "memory"); }
static inline void frstor(const struct fsave *s) { __asm__ volatile("frstor %0" : : "m"(*s) : "memory"); }
/* Pops ST(0) as a double's bits. */
static inline uint64_t fstp_bits(void) { uint64_t v; __asm__ volatile("fstpl %0" : "=m"(v) : : "memory"); return v; }

static inline int bytes_equal(const void *a, const void *b, unsigned n)
{
	const uint8_t *p = a, *q = b;
	for (unsigned i = 0; i < n; i++)
		if (p[i] != q[i])
			return 0;
	return 1;
}

/* Prints a 10-byte extended value as sign/exponent and mantissa. */
static inline void print_ext(const uint8_t *x)
{
	printf_("%02x%02x:", x[9], x[8]);
	for (int i = 7; i >= 0; i--)
		printf_("%02x", x[i]);
}

#endif
