#include <string.h>

#include "lib/sbuf.h"
#include "tests/unit/harness.h"

static void roundtrip(struct test *t)
{
	struct sbuf w, r;
	size_t mark;
	uint32_t ver;
	uint8_t bytes[3];

	sbuf_init(&w);
	mark = sbuf_begin(&w, "dev", 7);
	sbuf_put_u8(&w, 0xab);
	sbuf_put_u16(&w, 0x1234);
	sbuf_put_u32(&w, 0xdeadbeef);
	sbuf_put_u64(&w, 0x0102030405060708ull);
	sbuf_put_bool(&w, true);
	sbuf_put_bytes(&w, "xyz", 3);
	sbuf_end(&w, mark);
	REQUIRE(t, !w.error);

	sbuf_init_read(&r, w.data, w.len);
	REQUIRE(t, sbuf_open(&r, "dev", &ver));
	CHECK_EQ(t, ver, 7);
	CHECK_EQ(t, sbuf_get_u8(&r), 0xab);
	CHECK_EQ(t, sbuf_get_u16(&r), 0x1234);
	CHECK_EQ(t, sbuf_get_u32(&r), 0xdeadbeef);
	CHECK_EQ(t, sbuf_get_u64(&r), 0x0102030405060708ull);
	CHECK(t, sbuf_get_bool(&r));
	sbuf_get_bytes(&r, bytes, 3);
	CHECK(t, memcmp(bytes, "xyz", 3) == 0);
	CHECK(t, sbuf_close(&r));
	CHECK(t, !r.error);
	sbuf_free(&w);
}

static void wrong_section_and_truncation(struct test *t)
{
	struct sbuf w, r;
	size_t mark;
	uint32_t ver;

	sbuf_init(&w);
	mark = sbuf_begin(&w, "pit", 1);
	sbuf_put_u32(&w, 5);
	sbuf_end(&w, mark);

	sbuf_init_read(&r, w.data, w.len);
	CHECK(t, !sbuf_open(&r, "pic", &ver));
	CHECK(t, r.error);
	CHECK(t, strstr(r.why, "pic") != NULL);

	/* Every prefix of the state must be refused, never read past. */
	for (size_t n = 0; n < w.len; n++) {
		sbuf_init_read(&r, w.data, n);
		if (sbuf_open(&r, "pit", &ver))
			(void)sbuf_get_u32(&r);
		CHECK(t, !sbuf_close(&r) || r.error);
	}

	/* Reading fewer bytes than saved is a format mismatch. */
	sbuf_init_read(&r, w.data, w.len);
	REQUIRE(t, sbuf_open(&r, "pit", &ver));
	(void)sbuf_get_u16(&r);
	CHECK(t, !sbuf_close(&r));
	sbuf_free(&w);
}

int main(int argc, char **argv)
{
	struct harness h;

	harness_init(&h, "sbuf", argc, argv);
	RUN(&h, roundtrip);
	RUN(&h, wrong_section_and_truncation);
	return harness_done(&h);
}
