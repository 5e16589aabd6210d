/*
 * Decoded instructions: the vocabulary of translator/insns.def (operand
 * kinds, flag bits, attributes) and struct insn, the decoder's output that
 * the interpreter (and later the native backend) consumes. Decoding knows
 * nothing of semantics; handlers know nothing of instruction bytes.
 */
#ifndef TRANSLATOR_INSN_H
#define TRANSLATOR_INSN_H

#include <stdbool.h>
#include <stdint.h>

#include "translator/cpu.h"

/* EFLAGS bits. */
enum {
	F_CF = 1u << 0, F_PF = 1u << 2, F_AF = 1u << 4, F_ZF = 1u << 6,
	F_SF = 1u << 7, F_TF = 1u << 8, F_IF = 1u << 9, F_DF = 1u << 10,
	F_OF = 1u << 11, F_IOPL = 3u << 12, F_NT = 1u << 14, F_RF = 1u << 16,
	F_VM = 1u << 17, F_AC = 1u << 18, F_VIF = 1u << 19, F_VIP = 1u << 20,
	F_ID = 1u << 21,
};

/* Operand kinds, SDM Appendix A notation (see insns.def). */
enum opk {
	NONE, E, Eb, Ev, Ew, Ed, Gb, Gv, Gw, Gd, M, Mp, Mq, Ms, Rd,
	Ib, Ibs, Iw, Iz, Jb, Jz, Ap, Ob, Ov, Sw, Cd, Dd,
	Xb, Xv, Yb, Yv, Zb, Zv, AL, CL, DX, eAX, ONE,
};

enum {
	A_BYTE = 1u << 0, A_LOCK = 1u << 1, A_REP = 1u << 2, A_REPCC = 1u << 3,
	A_MEM = 1u << 4, A_REG = 1u << 5, A_PRIV = 1u << 6, A_IOPL = 1u << 7,
	A_PMODE = 1u << 8, A_END = 1u << 9, A_OPREG = 1u << 10, A_X87 = 1u << 11,
	A_FIXSIZE = 1u << 12, A_SIZE16 = 1u << 13,
};

#define NX 8    /* "no ModRM reg extension" in the table's ext column */

/* One line of insns.def, as data (for the decoder and the coverage lists). */
struct insn_form {
	uint8_t map, op, ext;
	const char *mnem;
	uint8_t arg;
	uint8_t opnd[3];
	uint32_t fread, fwrite, fundef;
	uint32_t attr;
};

/* Every form, in table order, and how many. */
extern const struct insn_form insn_forms[];
extern const unsigned insn_form_count;

struct cpu;
struct insn;
typedef void (*insn_fn)(struct cpu *cpu, const struct insn *in);

/*
 * One decoded instruction. Addressing is kept symbolic (base, index,
 * scale, displacement, segment) because the effective address depends on
 * registers at run time.
 */
struct insn {
	insn_fn fn;
	uint16_t form;          /* index into insn_forms */
	uint8_t len;            /* bytes, prefixes included */
	uint8_t arg;            /* the table's arg column */
	uint8_t osz;            /* operand size in bytes: 1, 2 or 4 */
	uint8_t asz;            /* address size: 2 or 4 */
	uint8_t op;             /* opcode byte */
	uint8_t modrm;
	uint8_t reg;            /* ModRM reg field, or the opcode's register */
	uint8_t rm;             /* ModRM r/m register when !is_mem */
	bool is_mem;
	uint8_t seg;            /* effective segment (override or default) */
	uint8_t base, index;    /* register numbers, or 8 = none */
	uint8_t scale;          /* shift 0-3 */
	uint8_t rep;            /* 0, 0xF2 or 0xF3 */
	bool lock;
	bool seg_override;
	uint32_t disp;          /* displacement, or moffs */
	uint32_t imm;           /* first immediate (sign-extended where the form says so) */
	uint32_t imm2;          /* second immediate: ENTER level, far pointer selector */
};

#define REG_NONE 8

/* Decoder result codes (besides the length). */
enum decode_status {
	DECODE_OK,
	DECODE_UD,              /* undefined opcode or illegal LOCK: #UD */
	DECODE_GP,              /* longer than 15 bytes: #GP(0) */
	DECODE_FETCH,           /* the byte fetcher faulted */
};

/*
 * Fetches the byte at offset `off` from the instruction's start; returns
 * -1 when it cannot be fetched (the fetcher has recorded why).
 */
typedef int (*decode_fetch_fn)(void *ctx, unsigned off);

struct decoder {
	/* First form for each (map, opcode): index+1 into insn_forms, 0 = none. */
	uint16_t first[2][256];
};

void decoder_init(struct decoder *d);
/* Decodes one instruction. `code32`: CS.D (default operand and address size 32). */
enum decode_status decode_insn(const struct decoder *d, bool code32,
                               decode_fetch_fn fetch, void *ctx, struct insn *out);

#endif
