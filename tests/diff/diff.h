/*
 * The differential CPU test's wire format, shared by the 64-bit driver
 * (the .c files in tests/diff) and the 32-bit native runner (tests/diff/native/).
 * Both sides are little-endian x86 and the structs hold only uint32_t and
 * byte arrays of multiples of four, so the layout is identical under -m32
 * and -m64 (checked by the static asserts below).
 *
 * A case is: the 8 GPRs, EFLAGS, a code snippet placed at DIFF_CODE_ADDR,
 * and a 64 KiB data block at DIFF_DATA_ADDR filled with a fixed pattern
 * (diff_fill_data) plus a small per-case patch. The stack lives inside the
 * data block, so PUSH/POP/CALL write memory that is compared.
 */
#ifndef TESTS_DIFF_DIFF_H
#define TESTS_DIFF_DIFF_H

#include <stdint.h>
#include <string.h>

#define DIFF_DATA_ADDR   0x20000000u
#define DIFF_DATA_SIZE   0x10000u
#define DIFF_CODE_ADDR   0x30000000u
#define DIFF_CODE_MAX    224u           /* snippet bytes; the end marker follows */
#define DIFF_STACK_TOP   (DIFF_DATA_ADDR + 0xF000u)
#define DIFF_PATCH_MAX   64u
#define DIFF_CHANGES_MAX 48u            /* changed data bytes reported in full */
/* Inaccessible guards the native runner maps below and above the data
 * block and above the code page: the pagefault cases aim only there. */
#define DIFF_GUARD_SIZE  0x10000u

/* Selectors: the ones a 32-bit process has on an x86-64 Linux host, so
 * PUSH CS / MOV r, DS give the same values natively and emulated. */
#define DIFF_SEL_CODE3   0x23u
#define DIFF_SEL_DATA3   0x2Bu
/* LDT entry 0, RPL 3: a 64 KiB data segment based at DIFF_DATA_ADDR, for
 * 16-bit addressing (whose offsets cannot reach a flat 0x20000000). */
#define DIFF_SEL_LDT16   0x07u
/* LDT entry 1, RPL 3: the 16-bit code segment for DIFF_F_CODE16. */
#define DIFF_SEL_CODE16  0x0Fu
/* LDT entry 2, RPL 3: 32-bit data, base DIFF_DATA_ADDR, limit 4 GiB (G=1). */
#define DIFF_SEL_BASED   0x17u

#define DIFF_MAGIC_CASE   0x43464944u   /* "DIFC" */
#define DIFF_MAGIC_RESULT 0x52464944u   /* "DIFR" */

/* diff_case.flags */
#define DIFF_F_LDT16     1u             /* DS, ES, FS, GS = DIFF_SEL_LDT16 */
#define DIFF_F_NULL_ES   2u             /* ES = 0 (null selector) */
/* Paging on in the emulator (natively it always is): accesses outside the
 * data block and code page are #PF there too, with CR2 and an error code
 * to compare. */
#define DIFF_F_PAGING    4u
/* The snippet runs in a 16-bit code segment (LDT entry 1, base
 * DIFF_CODE_ADDR, limit 64 KiB): operand and address sizes default to 16
 * and EIP is an offset into the code page. Used with DIFF_F_LDT16. */
#define DIFF_F_CODE16    8u
/* FS = GS = DIFF_SEL_BASED: a 4 GiB data segment whose base is the data
 * block, as Linux's per-CPU and TLS segments have a non-zero base. */
#define DIFF_F_FSGS_BASED 16u

/* diff_result.trap when the snippet reached its end. */
#define DIFF_TRAP_NONE   0xFFFFFFFFu
/* diff_result.trap when the runner itself failed (harness bug). */
#define DIFF_TRAP_HARNESS 0xFFFFFFFEu
/* diff_result.trap when the host cannot run the case (no modify_ldt for
 * the LDT segments): the case is skipped, not compared. */
#define DIFF_TRAP_UNSUPPORTED 0xFFFFFFFDu

struct diff_case {
	uint32_t magic;
	uint32_t id;
	uint32_t gpr[8];                /* EAX ECX EDX EBX ESP EBP ESI EDI */
	uint32_t eflags;                /* only CF PF AF ZF SF DF OF are taken */
	uint32_t flags;                 /* DIFF_F_* */
	uint32_t code_len;
	uint32_t patch_off;             /* offset of patch[] in the data block */
	uint32_t patch_len;
	uint8_t patch[DIFF_PATCH_MAX];
	uint8_t code[DIFF_CODE_MAX];
};

/* Segment registers in the result, in cpu.h S_* order. */
enum { DIFF_ES, DIFF_CS, DIFF_SS, DIFF_DS, DIFF_FS, DIFF_GS, DIFF_NSEG };

struct diff_result {
	uint32_t magic;
	uint32_t id;
	uint32_t gpr[8];
	uint32_t eip;
	uint32_t eflags;
	uint32_t seg[DIFF_NSEG];
	uint32_t trap;                  /* vector, DIFF_TRAP_NONE or _HARNESS */
	uint32_t err;                   /* error code (0 for vectors without one) */
	uint32_t fault_addr;            /* #PF: the faulting linear address */
	uint32_t nchanges;              /* data bytes that differ from the start */
	uint32_t change_hash;           /* over every (offset, value) changed */
	uint32_t change_off[DIFF_CHANGES_MAX];
	uint8_t change_val[DIFF_CHANGES_MAX];
};

_Static_assert(sizeof(struct diff_case) == 4 * 15 + DIFF_PATCH_MAX + DIFF_CODE_MAX,
               "diff_case must have no padding");
_Static_assert(sizeof(struct diff_result) == 4 * (2 + 8 + 2 + DIFF_NSEG + 5)
               + 5 * DIFF_CHANGES_MAX, "diff_result must have no padding");

/* The data block's starting contents: a fixed pseudo-random pattern, so
 * memory operands read varied values. xorshift32 from a fixed seed. */
static inline void diff_fill_data(uint8_t *data)
{
	uint32_t x = 0x9E3779B9u;
	for (uint32_t i = 0; i < DIFF_DATA_SIZE; i += 4) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		data[i] = (uint8_t)x;
		data[i + 1] = (uint8_t)(x >> 8);
		data[i + 2] = (uint8_t)(x >> 16);
		data[i + 3] = (uint8_t)(x >> 24);
	}
}

/*
 * Compares the data block with its starting contents and fills the
 * result's change list and hash. Scans a word at a time: the common case
 * is a handful of changed bytes in 64 KiB.
 */
static inline void diff_collect_changes(const uint8_t *start, const uint8_t *now,
                                        struct diff_result *r)
{
	uint32_t hash = 2166136261u;
	r->nchanges = 0;
	for (uint32_t w = 0; w < DIFF_DATA_SIZE; w += 8) {
		if (memcmp(start + w, now + w, 8) == 0)
			continue;
		for (uint32_t i = w; i < w + 8; i++) {
			if (start[i] == now[i])
				continue;
			if (r->nchanges < DIFF_CHANGES_MAX) {
				r->change_off[r->nchanges] = i;
				r->change_val[r->nchanges] = now[i];
			}
			r->nchanges++;
			hash = (hash ^ i) * 16777619u;
			hash = (hash ^ now[i]) * 16777619u;
		}
	}
	r->change_hash = hash;
}

#endif
