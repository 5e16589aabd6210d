#include <stdlib.h>
#include <string.h>

#include "proto/base64.h"
#include "tests/unit/harness.h"

/* RFC 4648 section 10 test vectors, both ways. */
static void rfc_vectors(struct test *t)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const coded[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		char *e = base64_encode((const uint8_t *)plain[i], strlen(plain[i]));
		uint8_t *d = NULL;
		size_t n = 0;

		REQUIRE(t, e != NULL);
		CHECK_STR(t, e, coded[i]);
		REQUIRE(t, base64_decode(coded[i], &d, &n) == 0);
		CHECK_EQ(t, n, strlen(plain[i]));
		CHECK(t, memcmp(d, plain[i], n) == 0);
		free(e);
		free(d);
	}
}

static void binary_roundtrip(struct test *t)
{
	uint8_t buf[256], *d = NULL;
	size_t n = 0;

	for (int i = 0; i < 256; i++)
		buf[i] = (uint8_t)(255 - i);
	for (size_t len = 0; len <= sizeof(buf); len += 37) {
		char *e = base64_encode(buf, len);
		REQUIRE(t, e != NULL);
		REQUIRE(t, base64_decode(e, &d, &n) == 0);
		CHECK_EQ(t, n, len);
		CHECK(t, memcmp(d, buf, len) == 0);
		free(e);
		free(d);
	}
}

static void malformed_refused(struct test *t)
{
	static const char *const bad[] = { "Z", "Zg=", "Z===", "=Zg=", "Zg==Zg==", "Zm9v!A==", "Zm 9v" };
	uint8_t *d = NULL;
	size_t n = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(t, base64_decode(bad[i], &d, &n) != 0);
}

int main(int argc, char **argv)
{
	struct harness h;

	harness_init(&h, "base64", argc, argv);
	RUN(&h, rfc_vectors);
	RUN(&h, binary_roundtrip);
	RUN(&h, malformed_refused);
	return harness_done(&h);
}
