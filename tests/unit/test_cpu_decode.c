/* Decoder tests: instruction lengths, prefixes, addressing forms and the
 * #UD/#GP cases, straight from bytes (no CPU needed). */
#include <string.h>

#include "translator/insn.h"
#include "tests/unit/harness.h"

struct bytes {
	const uint8_t *p;
	unsigned n;
};

static int fetch_bytes(void *ctx, unsigned off)
{
	const struct bytes *b = ctx;
	return off < b->n ? b->p[off] : -1;
}

static enum decode_status dec(const struct decoder *d, bool code32, const uint8_t *p,
                              unsigned n, struct insn *in)
{
	struct bytes b = { p, n };
	return decode_insn(d, code32, fetch_bytes, &b, in);
}

#define DEC(code32, ...) \
	({ static const uint8_t b_[] = { __VA_ARGS__ }; dec(&d, code32, b_, sizeof(b_), &in); })

static void lengths32(struct test *t)
{
	struct decoder d;
	struct insn in;
	decoder_init(&d);
	CHECK_EQ(t, DEC(true, 0x90), DECODE_OK); CHECK_EQ(t, in.len, 1);
	CHECK_EQ(t, DEC(true, 0x01, 0xd8), DECODE_OK); CHECK_EQ(t, in.len, 2);  /* add eax,ebx */
	CHECK(t, !in.is_mem); CHECK_EQ(t, in.reg, R_EBX); CHECK_EQ(t, in.rm, R_EAX);
	CHECK_EQ(t, DEC(true, 0x8b, 0x44, 0x24, 0x08), DECODE_OK); /* mov eax,[esp+8] */
	CHECK_EQ(t, in.len, 4); CHECK_EQ(t, in.base, R_ESP); CHECK_EQ(t, in.seg, S_SS);
	CHECK_EQ(t, in.disp, 8); CHECK_EQ(t, in.index, REG_NONE);
	CHECK_EQ(t, DEC(true, 0x8b, 0x04, 0x8d, 0x78, 0x56, 0x34, 0x12), DECODE_OK); /* [ecx*4+0x12345678] */
	CHECK_EQ(t, in.len, 7); CHECK_EQ(t, in.base, REG_NONE); CHECK_EQ(t, in.index, R_ECX);
	CHECK_EQ(t, in.scale, 2); CHECK_EQ(t, in.disp, 0x12345678);
	CHECK_EQ(t, DEC(true, 0x81, 0x05, 1, 0, 0, 0, 2, 0, 0, 0), DECODE_OK); /* add [1],2 */
	CHECK_EQ(t, in.len, 10); CHECK_EQ(t, in.imm, 2); CHECK_EQ(t, in.disp, 1);
	CHECK_EQ(t, DEC(true, 0x66, 0x81, 0xc0, 0x34, 0x12), DECODE_OK);     /* add ax,0x1234 */
	CHECK_EQ(t, in.len, 5); CHECK_EQ(t, in.osz, 2);
	CHECK_EQ(t, DEC(true, 0x83, 0xc0, 0xff), DECODE_OK);
	CHECK_EQ(t, in.imm, 0xffffffff);
	CHECK_EQ(t, DEC(true, 0xc8, 0x10, 0x00, 0x03), DECODE_OK);           /* enter 16,3 */
	CHECK_EQ(t, in.len, 4); CHECK_EQ(t, in.imm, 16); CHECK_EQ(t, in.imm2, 3);
	CHECK_EQ(t, DEC(true, 0xea, 0x78, 0x56, 0x34, 0x12, 0x08, 0x00), DECODE_OK);
	CHECK_EQ(t, in.len, 7); CHECK_EQ(t, in.imm, 0x12345678); CHECK_EQ(t, in.imm2, 8);
	CHECK_EQ(t, DEC(true, 0xa1, 0x44, 0x33, 0x22, 0x11), DECODE_OK);     /* mov eax,[moffs] */
	CHECK_EQ(t, in.len, 5); CHECK_EQ(t, in.disp, 0x11223344); CHECK(t, in.is_mem);
	CHECK_EQ(t, DEC(true, 0x0f, 0xc7, 0x0e), DECODE_OK);                  /* cmpxchg8b [esi] */
	CHECK_EQ(t, in.len, 3);
	CHECK_EQ(t, DEC(true, 0x0f, 0x20, 0xc0), DECODE_OK);                  /* mov eax,cr0 */
	CHECK_EQ(t, DEC(true, 0x0f, 0x20, 0x00), DECODE_OK);                  /* mod ignored */
	CHECK(t, !in.is_mem);
	CHECK_EQ(t, DEC(true, 0x64, 0xf3, 0xa5), DECODE_OK);                  /* rep movsd fs: */
	CHECK_EQ(t, in.rep, 0xf3); CHECK_EQ(t, in.seg, S_FS); CHECK_EQ(t, in.len, 3);
	CHECK_EQ(t, DEC(true, 0xb8, 1, 2, 3, 4), DECODE_OK); CHECK_EQ(t, in.reg, R_EAX);
	CHECK_EQ(t, DEC(true, 0xbf, 1, 2, 3, 4), DECODE_OK); CHECK_EQ(t, in.reg, R_EDI);
	CHECK_EQ(t, DEC(true, 0x0f, 0xcb), DECODE_OK); CHECK_EQ(t, in.reg, R_EBX);
	CHECK_EQ(t, DEC(true, 0xf7, 0x05, 1, 0, 0, 0, 9, 0, 0, 0), DECODE_OK); /* test [1],9 */
	CHECK_EQ(t, in.len, 10);
	CHECK_EQ(t, DEC(true, 0xf7, 0xd8), DECODE_OK); CHECK_EQ(t, in.len, 2); /* neg eax */
}

static void lengths16(struct test *t)
{
	struct decoder d;
	struct insn in;
	decoder_init(&d);
	CHECK_EQ(t, DEC(false, 0x8b, 0x46, 0xfe), DECODE_OK);                /* mov ax,[bp-2] */
	CHECK_EQ(t, in.len, 3); CHECK_EQ(t, in.seg, S_SS); CHECK_EQ(t, in.base, R_EBP);
	CHECK_EQ(t, in.disp, 0xfffe); CHECK_EQ(t, in.osz, 2);
	CHECK_EQ(t, DEC(false, 0x8b, 0x06, 0x34, 0x12), DECODE_OK);          /* mov ax,[0x1234] */
	CHECK_EQ(t, in.len, 4); CHECK_EQ(t, in.base, REG_NONE); CHECK_EQ(t, in.seg, S_DS);
	CHECK_EQ(t, DEC(false, 0x8b, 0x00), DECODE_OK);                      /* [bx+si] */
	CHECK_EQ(t, in.base, R_EBX); CHECK_EQ(t, in.index, R_ESI);
	CHECK_EQ(t, DEC(false, 0x66, 0xb8, 1, 2, 3, 4), DECODE_OK);          /* mov eax,imm32 */
	CHECK_EQ(t, in.len, 6); CHECK_EQ(t, in.osz, 4);
	CHECK_EQ(t, DEC(false, 0x67, 0x8b, 0x04, 0x24), DECODE_OK);          /* mov ax,[esp] */
	CHECK_EQ(t, in.len, 4); CHECK_EQ(t, in.asz, 4);
	CHECK_EQ(t, DEC(false, 0xe8, 0x10, 0x00), DECODE_OK); CHECK_EQ(t, in.len, 3);
	CHECK_EQ(t, DEC(false, 0x9a, 0x00, 0x01, 0x00, 0xf0), DECODE_OK);    /* call f000:0100 */
	CHECK_EQ(t, in.len, 5); CHECK_EQ(t, in.imm, 0x100); CHECK_EQ(t, in.imm2, 0xf000);
}

static void undefined_and_limits(struct test *t)
{
	struct decoder d;
	struct insn in;
	decoder_init(&d);
	CHECK_EQ(t, DEC(true, 0x0f, 0x0b), DECODE_OK);          /* ud2 decodes; raises #UD when run */
	CHECK_EQ(t, DEC(true, 0x0f, 0xff), DECODE_UD);
	CHECK_EQ(t, DEC(true, 0x0f, 0x04), DECODE_UD);
	CHECK_EQ(t, DEC(true, 0xff, 0xf8), DECODE_UD);          /* ff /7 */
	CHECK_EQ(t, DEC(true, 0x8f, 0xc8), DECODE_UD);          /* 8f /1 */
	CHECK_EQ(t, DEC(true, 0xf0, 0x01, 0xd8), DECODE_UD);    /* lock add reg,reg */
	CHECK_EQ(t, DEC(true, 0xf0, 0x90), DECODE_UD);          /* lock nop */
	CHECK_EQ(t, DEC(true, 0xf0, 0x8b, 0x00), DECODE_UD);    /* lock mov */
	CHECK_EQ(t, DEC(true, 0xf0, 0x01, 0x18), DECODE_OK);    /* lock add [eax],ebx */
	CHECK(t, in.lock);
	CHECK_EQ(t, DEC(true, 0x8d, 0xc0), DECODE_UD);          /* lea eax,eax */
	CHECK_EQ(t, DEC(true, 0x0f, 0xc7, 0xc8), DECODE_UD);    /* cmpxchg8b reg */
	CHECK_EQ(t, DEC(true, 0xc4, 0xc0), DECODE_UD);          /* les reg */
	/* 14 prefixes + nop = 15 bytes is legal, 15 + nop is not */
	CHECK_EQ(t, DEC(true, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	                0x66, 0x66, 0x66, 0x66, 0x90), DECODE_OK);
	CHECK_EQ(t, in.len, 15);
	CHECK_EQ(t, DEC(true, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	                0x66, 0x66, 0x66, 0x66, 0x66, 0x90), DECODE_GP);
	CHECK_EQ(t, DEC(true, 0x81, 0x05, 1, 0, 0), DECODE_FETCH); /* truncated */
}

static void table_is_consistent(struct test *t)
{
	/* Every form of a given (map, opcode) is contiguous, so the decoder's
	 * group scan finds all of them. */
	for (unsigned k = 0; k < insn_form_count; k++)
		for (unsigned j = k + 2; j < insn_form_count; j++)
			if (insn_forms[j].map == insn_forms[k].map && insn_forms[j].op == insn_forms[k].op)
				CHECK(t, insn_forms[j - 1].op == insn_forms[k].op);
	CHECK(t, insn_form_count > 300);
}

int main(int argc, char **argv)
{
	struct harness h;
	harness_init(&h, "cpu_decode", argc, argv);
	RUN(&h, lengths32);
	RUN(&h, lengths16);
	RUN(&h, undefined_and_limits);
	RUN(&h, table_is_consistent);
	return harness_done(&h);
}
