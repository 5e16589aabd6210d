/* The host side of the differential test: tests/diff/native/runner.c, run
 * as a child process. */
#ifndef TESTS_DIFF_NATIVE_H
#define TESTS_DIFF_NATIVE_H

#include <stddef.h>

#include "tests/diff/diff.h"

/* Runs n cases; results[i] belongs to cases[i]. 0, or -1 with *why set;
 * -2 if the host cannot execute the (32-bit) runner at all. */
int native_run(const char *runner, const struct diff_case *const *cases, size_t n,
               struct diff_result *results, char *why, size_t whylen);

#endif
