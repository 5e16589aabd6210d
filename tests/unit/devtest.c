#include "tests/unit/devtest.h"

#include <stdlib.h>
#include <string.h>

uint32_t devtest_rand(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

/* One attempt: a fresh device if the test asked for one, then the load. */
static int attempt(struct test *t, const struct devtest_ops *ops, struct sbuf *rd,
                   const uint8_t *data, size_t len, int *loaded)
{
	if (ops->reset && ops->reset(ops->ctx) != 0) {
		test_fail(t, __FILE__, __LINE__, "the device could not be set up again");
		return -1;
	}
	sbuf_init_read(rd, data, len);
	*loaded = ops->load(ops->ctx, rd);
	return 0;
}

/* A refusal must say why, and leave the device as it was. */
static void check_refusal(struct test *t, const struct devtest_ops *ops,
                          const struct sbuf *rd, int loaded, const char *why_has)
{
	CHECK(t, loaded != 0);
	if (loaded == 0)
		return;
	CHECK(t, rd->why[0] != 0);
	if (why_has && !strstr(rd->why, why_has))
		test_fail(t, __FILE__, __LINE__, "reason \"%s\" does not mention \"%s\"",
		          rd->why, why_has);
	if (ops->check_untouched)
		ops->check_untouched(t, ops->ctx);
}

void devtest_truncations(struct test *t, const struct devtest_ops *ops,
                         const uint8_t *data, size_t len, size_t step)
{
	struct sbuf rd;
	int loaded;

	for (size_t cut = 0; cut < len; cut += step ? step : 1) {
		if (attempt(t, ops, &rd, data, cut, &loaded) != 0)
			return;
		check_refusal(t, ops, &rd, loaded, NULL);
		if (t->failures)
			return;     /* one broken cut says enough */
	}
}

void devtest_flip_bits(struct test *t, const struct devtest_ops *ops,
                       const uint8_t *data, size_t len, unsigned rounds, uint32_t *seed)
{
	uint8_t *copy = malloc(len ? len : 1);
	unsigned refused = 0;
	struct sbuf rd;
	int loaded;

	REQUIRE(t, copy && len > 0);
	for (unsigned i = 0; i < rounds; i++) {
		memcpy(copy, data, len);
		copy[devtest_rand(seed) % len] ^= (uint8_t)(1u << (devtest_rand(seed) % 8));
		if (attempt(t, ops, &rd, copy, len, &loaded) != 0)
			break;
		if (loaded != 0) {
			CHECK(t, rd.why[0] != 0);
			refused++;
		}
		if (ops->exercise)
			ops->exercise(t, ops->ctx);
	}
	CHECK(t, refused > 0);
	free(copy);
}

void devtest_invert_bytes(struct test *t, const struct devtest_ops *ops,
                          const uint8_t *data, size_t len, size_t first)
{
	uint8_t *copy = malloc(len ? len : 1);
	struct sbuf rd;
	int loaded;

	REQUIRE(t, copy);
	for (size_t i = first; i < len; i++) {
		memcpy(copy, data, len);
		copy[i] ^= 0xff;
		if (attempt(t, ops, &rd, copy, len, &loaded) != 0)
			break;
		if (loaded != 0)
			CHECK(t, rd.why[0] != 0);
		if (ops->exercise)
			ops->exercise(t, ops->ctx);
	}
	free(copy);
}

void devtest_refuses(struct test *t, const struct devtest_ops *ops,
                     const uint8_t *data, size_t len, const char *why_has)
{
	struct sbuf rd;
	int loaded;

	if (attempt(t, ops, &rd, data, len, &loaded) != 0)
		return;
	check_refusal(t, ops, &rd, loaded, why_has);
}
