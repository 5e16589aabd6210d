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

/* One generated case: what is sent to both sides, and what the comparison
 * must know that the wire format does not carry. */
struct gcase {
	struct diff_case w;
	uint16_t group;
	uint16_t form;          /* index into the form table, or GEN_NO_FORM */
	uint32_t undef_flags;   /* EFLAGS bits the SDM leaves undefined here */
	uint8_t undef_regs;     /* GPRs (bit per R_*) whose result is undefined */
	char note[40];          /* what is special about the case, for reports */
};

struct gen {
	struct gcase *cases;
	size_t n, cap;
	const char *groups[GEN_MAX_GROUPS];
	unsigned ngroups;
	uint64_t rng;
	bool failed;            /* out of memory or a generator inconsistency */
	unsigned forms_total;   /* forms in insns.def */
	unsigned forms_tested;  /* forms at least one case exercises */
	bool *form_used;
};

/* Generates every group. nseq: random sequences (a few thousand by default). */
int gen_all(struct gen *g, uint64_t seed, unsigned nseq, unsigned scale);
void gen_free(struct gen *g);

/* "add Ev,Gv" for a form index. */
const char *gen_form_name(unsigned form, char *buf, size_t len);

#endif
