/*
 * Shared checks for a device's save/load: every device test feeds its own
 * snapshot through the same hostile inputs (truncations, flipped bits,
 * single corrupted fields) and states what "refused" and "still working"
 * mean for its device through a struct devtest_ops.
 *
 * A test program that uses it is linked with devtest.o (mk/devtest.mk).
 */
#ifndef TESTS_UNIT_DEVTEST_H
#define TESTS_UNIT_DEVTEST_H

#include <stddef.h>
#include <stdint.h>

#include "lib/sbuf.h"
#include "tests/unit/harness.h"

struct devtest_ops {
	void *ctx;
	/* Loads the snapshot in SB into the device; 0, or nonzero if refused. */
	int (*load)(void *ctx, struct sbuf *sb);
	/* Optional: puts a fresh device in place before each attempt;
	 * 0 on success. Without it attempts follow one another on one device. */
	int (*reset)(void *ctx);
	/* Optional: after a refused load, checks the device was left as it was. */
	void (*check_untouched)(struct test *t, void *ctx);
	/* Optional: after any attempt, drives the device: whatever was loaded,
	 * it must not crash and must keep its invariants. */
	void (*exercise)(struct test *t, void *ctx);
};

/* xorshift32: the tests' reproducible pseudo-random stream (nonzero state). */
uint32_t devtest_rand(uint32_t *state);

/* Every cut of the snapshot shorter than LEN, STEP bytes apart, from 0:
 * refused with a reason, device untouched. */
void devtest_truncations(struct test *t, const struct devtest_ops *ops,
                         const uint8_t *data, size_t len, size_t step);

/* ROUNDS copies with one random bit flipped each (drawn from *SEED): a
 * refusal gives a reason, the device is exercised after every attempt, and
 * at least one copy must be refused (the format is checked at all). */
void devtest_flip_bits(struct test *t, const struct devtest_ops *ops,
                       const uint8_t *data, size_t len, unsigned rounds, uint32_t *seed);

/* Each byte from FIRST to the end inverted in turn: never a crash, and the
 * device is exercised after every attempt, accepted or not. */
void devtest_invert_bytes(struct test *t, const struct devtest_ops *ops,
                          const uint8_t *data, size_t len, size_t first);

/* One corrupted snapshot: refused, with a reason that contains WHY_HAS (any
 * reason if NULL), device untouched. */
void devtest_refuses(struct test *t, const struct devtest_ops *ops,
                     const uint8_t *data, size_t len, const char *why_has);

#endif
