#include "tests/unit/harness.h"

#include <stdarg.h>
#include <string.h>

void harness_init(struct harness *h, const char *suite, int argc, char **argv)
{
	memset(h, 0, sizeof(*h));
	h->suite = suite;
	h->only = argc > 1 ? argv[1] : NULL;
}

void test_fail(struct test *t, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	/* Report only the first few: one broken invariant tends to cascade. */
	if (t->failures++ >= 5)
		return;
	fprintf(stdout, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

void harness_run(struct harness *h, const char *name, void (*fn)(struct test *))
{
	struct test t = { .name = name };

	if (h->only && strcmp(h->only, name) != 0)
		return;
	fn(&t);
	if (t.failures) {
		printf("FAIL %s/%s: %d check(s) failed\n", h->suite, name, t.failures);
		h->failed++;
	} else if (t.skip) {
		printf("SKIP %s/%s: %s\n", h->suite, name, t.skip);
		h->skipped++;
	} else {
		printf("PASS %s/%s\n", h->suite, name);
		h->passed++;
	}
	fflush(stdout);
}

int harness_done(const struct harness *h)
{
	return h->failed ? 1 : 0;
}
