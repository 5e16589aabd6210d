/*
 * The x87 FPU, as a unit the CPU hands whole instructions to.
 *
 * The CPU decodes an escape opcode (D8-DF, and 0F AE /0 /1 for FXSAVE and
 * FXRSTOR), checks CR0.EM/TS (#NM) and, for waiting instructions, a pending
 * unmasked exception (#MF or FERR#), computes the effective address, and
 * calls x87_exec(). The FPU reads and writes its memory operand only through
 * struct x87_mem, whose calls either complete or fault before changing
 * anything; on a fault x87_exec() returns X87_FAULT having changed no FPU
 * state, so the instruction restarts cleanly (precise exceptions).
 *
 * Arithmetic is a portable software implementation of 80-bit extended
 * precision: results do not depend on the host having an x87.
 */
#ifndef TRANSLATOR_X87_H
#define TRANSLATOR_X87_H

#include <stdbool.h>
#include <stdint.h>

struct sbuf;

struct x87_reg {
	uint64_t mant;          /* explicit integer bit in bit 63 */
	uint16_t sign_exp;      /* sign in bit 15, biased exponent in 14:0 */
};

struct x87 {
	struct x87_reg r[8];    /* physical registers R0-R7; ST(i) = r[(TOP+i)&7] */
	uint16_t cw;            /* control word */
	uint16_t sw;            /* status word, TOP in bits 13:11 */
	uint16_t tw;            /* full tag word, 2 bits per physical register */
	uint16_t fop;           /* last non-control opcode, 11 bits */
	uint32_t fip, fdp;      /* last instruction and operand offsets */
	uint16_t fcs, fds;      /* and their selectors */
	uint32_t mxcsr;         /* kept for FXSAVE/FXRSTOR only */
};

/* Memory behind the instruction's effective address. Return 0, or nonzero if
 * the access faulted (the CPU has then already recorded the exception). */
struct x87_mem {
	void *ctx;
	int (*read)(void *ctx, uint32_t offset, void *buf, unsigned len);
	int (*write)(void *ctx, uint32_t offset, const void *buf, unsigned len);
};

struct x87_insn {
	uint16_t opcode;        /* 0xD8-0xDF, or 0x0FAE for FXSAVE/FXRSTOR */
	uint8_t modrm;
	bool op16;              /* 16-bit operand size: FSTENV/FSAVE/FLDENV/FRSTOR layout */
	bool pmode;             /* protected mode (not real or V86): environment layout */
	uint32_t eip;           /* of the instruction (its first prefix), for FIP */
	uint16_t cs;
	uint32_t ea;            /* effective address offset, for FDP */
	uint16_t ds;            /* selector of the operand's segment, for FDS */
	uint32_t eflags;        /* in: for FCMOVcc */
};

struct x87_out {
	bool set_eflags;        /* FCOMI and friends: ZF, PF, CF written, OF SF AF cleared */
	uint32_t eflags;
	bool set_ax;            /* FSTSW AX */
	uint16_t ax;
};

enum x87_result {
	X87_OK,
	X87_FAULT,              /* a memory access faulted; no state changed */
	X87_UD,                 /* not an instruction: the CPU raises #UD */
};

void x87_init(struct x87 *fpu);   /* FNINIT state; also the state at RESET */
enum x87_result x87_exec(struct x87 *fpu, const struct x87_insn *insn,
                         const struct x87_mem *mem, struct x87_out *out);
/* An unmasked exception is pending (SW.ES): the next waiting x87 instruction
 * (or FWAIT) raises #MF if CR0.NE, else asserts FERR#. */
bool x87_error_pending(const struct x87 *fpu);
/* Whether this escape instruction waits (checks pending errors) first. */
bool x87_insn_waits(uint16_t opcode, uint8_t modrm);

void x87_save(const struct x87 *fpu, struct sbuf *sb);
int x87_load(struct x87 *fpu, struct sbuf *sb);

#endif
