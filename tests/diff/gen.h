/*
 * Test-case generation for the differential CPU test. The instruction
 * forms come from translator/insns.def; each form is tested with every
 * operand size it has, register and memory operands, edge values, and
 * the counts, prefixes and faults that matter for it. Cases are grouped
 * (alu32, shift16, string_rep32, random, ...) and each group reports one
 * PASS/FAIL line.
 */
#ifndef TESTS_DIFF_GEN_H
#define TESTS_DIFF_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/diff/diff.h"

#define GEN_MAX_GROUPS 64
#define GEN_NO_FORM 0xFFFFu
#define GEN_MAX_STEPS 24

/* One generated case: what is sent to both sides, and what the comparison
 * must know that the wire format does not carry. */
struct gcase {
	struct diff_case w;
	uint16_t group;
	uint16_t form;          /* index into the form table, or GEN_NO_FORM */
	uint32_t undef_flags;   /* EFLAGS bits the SDM leaves undefined here */
	uint8_t undef_regs;     /* GPRs (bit per R_*) whose result is undefined */
	uint32_t fault_undef_flags; /* and those undefined if it faults part way */
	char note[40];          /* what is special about the case, for reports */
	/* Random sequences: where each instruction starts (and the end), its
	 * form, the jump target of a Jcc (an instruction index, else 0xFF),
	 * and the flags undefined before it (and at the end). A fault in
	 * the middle is compared with the flags undefined at that point;
	 * a mismatch is traced to its first instruction by running prefixes. */
	uint8_t nsteps;
	uint8_t step_off[GEN_MAX_STEPS + 1];
	uint8_t step_jump[GEN_MAX_STEPS];
	uint16_t step_form[GEN_MAX_STEPS];
	uint32_t step_undef[GEN_MAX_STEPS + 1];
};

/* The first `k` instructions of sequence `c`, as a case of their own. */
void gen_prefix(const struct gcase *c, unsigned k, struct gcase *out);
/* The undefined flags for a result that stopped at `eip`. */
uint32_t gen_undef_at(const struct gcase *c, uint32_t eip);

struct gen {
	struct gcase *cases;
	size_t n, cap;
	const char *groups[GEN_MAX_GROUPS];
	unsigned ngroups;
	uint64_t rng;
	bool failed;            /* out of memory or a generator inconsistency */
	bool code16;            /* generating for the 16-bit code segment */
	bool based;             /* generating fs:/gs: operands with FS/GS based at the block */
	bool seq_strings;       /* random sequences with string instructions */
	unsigned forms_total;   /* forms in insns.def */
	unsigned forms_tested;  /* forms at least one case exercises */
	bool *form_used;
};

/*
 * Generates every group. nseq: random sequences (a few thousand by
 * default); scale multiplies the cases per form; seq_skip (NULL, or
 * mnemonics separated by commas) leaves forms out of the random
 * sequences, to look past a known bug while diagnosing.
 */
int gen_all(struct gen *g, uint64_t seed, unsigned nseq, unsigned scale, const char *seq_skip);
void gen_free(struct gen *g);

/* Did any case exercise form fi? */
bool gen_form_tested(const struct gen *g, unsigned fi);
/* "add (01)" for a form index. */
const char *gen_form_name(unsigned form, char *buf, size_t len);

#endif
