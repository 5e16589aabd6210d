/*
 * A small unit-test harness. Every test program owns one struct harness,
 * runs its tests through harness_run() and returns harness_done().
 * Output is one line per test, "PASS suite/name" / "FAIL suite/name: why" /
 * "SKIP suite/name: why", which tests/run counts into the summary line.
 */
#ifndef TESTS_UNIT_HARNESS_H
#define TESTS_UNIT_HARNESS_H

#include <stdint.h>
#include <stdio.h>

struct test {
	const char *name;
	int failures;       /* CHECK failures so far in this test */
	const char *skip;   /* set by SKIP(): the reason */
};

struct harness {
	const char *suite;
	const char *only;   /* run only this test (argv[1]), or NULL */
	int passed, failed, skipped;
};

void harness_init(struct harness *h, const char *suite, int argc, char **argv);
void harness_run(struct harness *h, const char *name, void (*fn)(struct test *));
int harness_done(const struct harness *h);
void test_fail(struct test *t, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define RUN(h, fn) harness_run((h), #fn, fn)

#define CHECK(t, cond) \
	do { if (!(cond)) test_fail((t), __FILE__, __LINE__, "%s", #cond); } while (0)

/* Compares as 64-bit unsigned, prints both in hex: fits registers and flags. */
#define CHECK_EQ(t, a, b) \
	do { uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b); \
	     if (a_ != b_) test_fail((t), __FILE__, __LINE__, "%s == %s: 0x%llx != 0x%llx", \
	                             #a, #b, (unsigned long long)a_, (unsigned long long)b_); \
	} while (0)

#define CHECK_STR(t, a, b) \
	do { const char *a_ = (a), *b_ = (b); \
	     if (!a_ || !b_ || strcmp(a_, b_) != 0) test_fail((t), __FILE__, __LINE__, \
	         "%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
	} while (0)

/* Stops the test early: a check that later ones depend on failed. */
#define REQUIRE(t, cond) \
	do { if (!(cond)) { test_fail((t), __FILE__, __LINE__, "%s", #cond); return; } } while (0)

#define SKIP(t, why) do { (t)->skip = (why); return; } while (0)

#endif
