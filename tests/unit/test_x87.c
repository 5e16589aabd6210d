/*
 * The x87 unit: direct checks of x87_exec, and the differential test
 * against the host's own FPU. tests/x87/x87-native (built -m32 by
 * mk/x87.mk) runs every case of tests/x87/forms.h natively and writes
 * before/after records; here the same before-states go through x87_exec()
 * and the after-states must agree bit for bit (transcendentals: within an
 * ulp, the measured maximum reported).
 */
#include <cpuid.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/sbuf.h"
#include "tests/unit/harness.h"
#include "tests/x87/forms.h"
#include "translator/x87.h"

/* ---- memory behind the effective address ---- */

struct tmem {
	uint32_t base;          /* the address of buf[0] */
	uint8_t buf[512];
	unsigned len;           /* accessible bytes from base */
	unsigned reads, writes;
};

static int tmem_read(void *ctx, uint32_t off, void *dst, unsigned len)
{
	struct tmem *m = ctx;
	uint32_t rel = off - m->base;

	m->reads++;
	if (off < m->base || rel > m->len || len > m->len - rel)
		return 1;
	memcpy(dst, m->buf + rel, len);
	return 0;
}

static int tmem_write(void *ctx, uint32_t off, const void *src, unsigned len)
{
	struct tmem *m = ctx;
	uint32_t rel = off - m->base;

	m->writes++;
	if (off < m->base || rel > m->len || len > m->len - rel)
		return 1;
	memcpy(m->buf + rel, src, len);
	return 0;
}

static struct x87_mem tmem_iface(struct tmem *m)
{
	struct x87_mem x = { m, tmem_read, tmem_write };
	return x;
}

static void tmem_init(struct tmem *m, uint32_t base, unsigned len)
{
	memset(m, 0, sizeof(*m));
	m->base = base;
	m->len = len;
}

/* Runs one instruction: opcode, modrm, with the operand at m->base. */
static enum x87_result run(struct x87 *fpu, uint16_t opcode, uint8_t modrm, struct tmem *m,
                           struct x87_out *out)
{
	struct x87_insn in;
	struct x87_mem mi = tmem_iface(m);
	struct x87_out o;

	memset(&in, 0, sizeof(in));
	in.opcode = opcode;
	in.modrm = modrm;
	in.pmode = true;
	in.eip = 0x1000;
	in.cs = 0x8;
	in.ea = m->base;
	in.ds = 0x10;
	return x87_exec(fpu, &in, &mi, out ? out : &o);
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v); wr16(p + 2, (uint16_t)(v >> 16)); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }

static struct x87_reg st(const struct x87 *f, unsigned i)
{
	return f->r[(((f->sw >> 11) & 7) + i) & 7];
}

/* Pushes a double through FLD m64. */
static void push_f64(struct test *t, struct x87 *f, uint64_t bits)
{
	struct tmem m;

	tmem_init(&m, 0x2000, 8);
	wr64(m.buf, bits);
	CHECK_EQ(t, run(f, 0xdd, 0x05, &m, NULL), X87_OK);
}

static uint64_t pop_f64(struct test *t, struct x87 *f)
{
	struct tmem m;

	tmem_init(&m, 0x2000, 8);
	CHECK_EQ(t, run(f, 0xdd, 0x1d, &m, NULL), X87_OK);   /* FSTP m64 */
	return rd64(m.buf);
}

/* ---- unit checks ---- */

static void init_state(struct test *t)
{
	struct x87 f;

	memset(&f, 0x5a, sizeof(f));
	x87_init(&f);
	CHECK_EQ(t, f.cw, 0x037f);
	CHECK_EQ(t, f.sw, 0);
	CHECK_EQ(t, f.tw, 0xffff);
	CHECK(t, !x87_error_pending(&f));
}

static void double_arithmetic(struct test *t)
{
	struct x87 f;
	struct tmem m;

	x87_init(&f);
	f.cw = 0x027f;          /* double precision, as Linux user space runs */
	push_f64(t, &f, 0x3ff0000000000000ull);        /* 1.0 */
	push_f64(t, &f, 0x4008000000000000ull);        /* 3.0 */
	CHECK_EQ(t, run(&f, 0xde, 0xf9, &m, NULL), X87_OK);   /* FDIVP: 1/3 */
	CHECK_EQ(t, pop_f64(t, &f), 0x3fd5555555555555ull);
	CHECK(t, f.sw & 0x20);  /* PE */
	CHECK_EQ(t, f.tw, 0xffff);
	/* 0.1 + 0.2 rounds as in IEEE double: 0.30000000000000004. */
	push_f64(t, &f, 0x3fb999999999999aull);
	push_f64(t, &f, 0x3fc999999999999aull);
	CHECK_EQ(t, run(&f, 0xde, 0xc1, &m, NULL), X87_OK);   /* FADDP */
	CHECK_EQ(t, pop_f64(t, &f), 0x3fd3333333333334ull);
	/* sqrt(2) */
	push_f64(t, &f, 0x4000000000000000ull);
	CHECK_EQ(t, run(&f, 0xd9, 0xfa, &m, NULL), X87_OK);
	CHECK_EQ(t, pop_f64(t, &f), 0x3ff6a09e667f3bcdull);
}

static void stack_faults(struct test *t)
{
	struct x87 f;
	struct tmem m;

	x87_init(&f);
	/* FADD ST0,ST1 on an empty stack: masked underflow gives the indefinite. */
	CHECK_EQ(t, run(&f, 0xd8, 0xc1, &m, NULL), X87_OK);
	CHECK_EQ(t, f.sw & 0x0241, 0x0041);   /* IE, SF, C1=0 */
	CHECK_EQ(t, st(&f, 0).sign_exp, 0xffff);
	CHECK_EQ(t, st(&f, 0).mant, 0xc000000000000000ull);
	/* Nine pushes: the ninth overflows, C1=1. */
	x87_init(&f);
	for (int i = 0; i < 9; i++)
		CHECK_EQ(t, run(&f, 0xd9, 0xe8, &m, NULL), X87_OK);
	CHECK_EQ(t, f.sw & 0x0241, 0x0241);
	CHECK_EQ(t, st(&f, 0).sign_exp, 0xffff);
	/* Unmasked: nothing changes but the flags, and ES/B are set. */
	x87_init(&f);
	f.cw = 0x037e;
	CHECK_EQ(t, run(&f, 0xd9, 0xe1, &m, NULL), X87_OK);   /* FABS on empty */
	CHECK_EQ(t, f.sw & 0x80c1, 0x80c1);
	CHECK_EQ(t, f.tw, 0xffff);
	CHECK(t, x87_error_pending(&f));
}

static void unmasked_zero_divide_keeps_operands(struct test *t)
{
	struct x87 f;
	struct tmem m;

	x87_init(&f);
	f.cw = 0x037b;          /* ZE unmasked */
	push_f64(t, &f, 0);
	push_f64(t, &f, 0x3ff0000000000000ull);
	struct x87 before = f;
	CHECK_EQ(t, run(&f, 0xde, 0xf9, &m, NULL), X87_OK);   /* FDIVP ST1, ST0 = 1/0... no: ST1/ST0 */
	/* DE F9 is FDIVP ST(1),ST(0): ST1 = ST1 / ST0 = 0/1 = 0, no exception. */
	CHECK_EQ(t, f.sw & 0x04, 0);
	f = before;
	CHECK_EQ(t, run(&f, 0xde, 0xf1, &m, NULL), X87_OK);   /* FDIVRP: ST1 = ST0/ST1 = 1/0 */
	CHECK_EQ(t, f.sw & 0x8084, 0x8084);   /* ZE, ES, B */
	CHECK_EQ(t, f.tw, before.tw);         /* not popped */
	CHECK_EQ(t, st(&f, 1).sign_exp, 0);   /* ST1 still +0 */
	CHECK_EQ(t, f.fop, 0x6f1);
}

static void faults_change_nothing(struct test *t)
{
	struct x87 f, before;
	struct tmem m;
	struct x87_out out;

	x87_init(&f);
	push_f64(t, &f, 0x4000000000000000ull);
	before = f;
	tmem_init(&m, 0x2000, 4);               /* too short for an m64 */
	CHECK_EQ(t, run(&f, 0xdd, 0x1d, &m, &out), X87_FAULT);     /* FSTP m64 */
	CHECK(t, memcmp(&f, &before, sizeof(f)) == 0);
	CHECK_EQ(t, run(&f, 0xdc, 0x05, &m, &out), X87_FAULT);     /* FADD m64 */
	CHECK(t, memcmp(&f, &before, sizeof(f)) == 0);
	CHECK_EQ(t, run(&f, 0xdd, 0x35, &m, &out), X87_FAULT);     /* FNSAVE */
	CHECK(t, memcmp(&f, &before, sizeof(f)) == 0);
	CHECK_EQ(t, run(&f, 0x0fae, 0x05, &m, &out), X87_FAULT);   /* FXSAVE */
	CHECK(t, memcmp(&f, &before, sizeof(f)) == 0);
}

static void undefined_encodings(struct test *t)
{
	struct x87 f;
	struct tmem m;

	x87_init(&f);
	tmem_init(&m, 0x2000, 16);
	CHECK_EQ(t, run(&f, 0xdb, 0x0d, &m, NULL), X87_UD);   /* FISTTP m32 (SSE3) */
	CHECK_EQ(t, run(&f, 0xdd, 0x0d, &m, NULL), X87_UD);   /* FISTTP m64 */
	CHECK_EQ(t, run(&f, 0xdf, 0x0d, &m, NULL), X87_UD);   /* FISTTP m16 */
	CHECK_EQ(t, run(&f, 0xd9, 0x0d, &m, NULL), X87_UD);   /* D9 /1 */
	CHECK_EQ(t, run(&f, 0xd9, 0xd1, &m, NULL), X87_UD);
	CHECK_EQ(t, run(&f, 0xd9, 0xe2, &m, NULL), X87_UD);
	CHECK_EQ(t, run(&f, 0xd9, 0xef, &m, NULL), X87_UD);
	CHECK_EQ(t, run(&f, 0xda, 0xe8, &m, NULL), X87_UD);
	CHECK_EQ(t, run(&f, 0xdb, 0xe5, &m, NULL), X87_UD);
	CHECK_EQ(t, run(&f, 0xdb, 0xf8, &m, NULL), X87_UD);
	CHECK_EQ(t, run(&f, 0xdd, 0xf0, &m, NULL), X87_UD);
	CHECK_EQ(t, run(&f, 0xde, 0xd8, &m, NULL), X87_UD);
	CHECK_EQ(t, run(&f, 0xdf, 0xe1, &m, NULL), X87_UD);
	CHECK_EQ(t, run(&f, 0xdf, 0xf8, &m, NULL), X87_UD);
	CHECK_EQ(t, run(&f, 0x0fae, 0x15, &m, NULL), X87_UD);  /* LDMXCSR is not ours */
	CHECK_EQ(t, f.sw, 0);
	CHECK_EQ(t, f.fop, 0);
}

static void waiting(struct test *t)
{
	CHECK(t, x87_insn_waits(0xd8, 0xc1));
	CHECK(t, x87_insn_waits(0xd9, 0x2d));        /* FLDCW */
	CHECK(t, !x87_insn_waits(0xd9, 0x3d));       /* FNSTCW */
	CHECK(t, !x87_insn_waits(0xd9, 0x35));       /* FNSTENV */
	CHECK(t, x87_insn_waits(0xd9, 0x25));        /* FLDENV */
	CHECK(t, !x87_insn_waits(0xdd, 0x35));       /* FNSAVE */
	CHECK(t, x87_insn_waits(0xdd, 0x25));        /* FRSTOR */
	CHECK(t, !x87_insn_waits(0xdd, 0x3d));       /* FNSTSW m16 */
	CHECK(t, !x87_insn_waits(0xdf, 0xe0));       /* FNSTSW AX */
	CHECK(t, !x87_insn_waits(0xdb, 0xe2));       /* FNCLEX */
	CHECK(t, !x87_insn_waits(0xdb, 0xe3));       /* FNINIT */
	CHECK(t, x87_insn_waits(0xd9, 0xd0));        /* FNOP waits */
}

/* FIP, FCS, FOP, FDP, FDS as a P6 keeps them, in every environment layout. */
static void pointers_and_layouts(struct test *t)
{
	struct x87 f;
	struct tmem m;
	struct x87_insn in;
	struct x87_out out;
	struct x87_mem mi;

	x87_init(&f);
	tmem_init(&m, 0x3000, 108);
	mi = tmem_iface(&m);
	wr64(m.buf, 0x4000000000000000ull);
	memset(&in, 0, sizeof(in));
	in.opcode = 0xdd;
	in.modrm = 0x05;        /* FLD m64 */
	in.pmode = true;
	in.eip = 0x12345678;
	in.cs = 0x1b;
	in.ea = 0x3000;
	in.ds = 0x23;
	REQUIRE(t, x87_exec(&f, &in, &mi, &out) == X87_OK);
	CHECK_EQ(t, f.fip, 0x12345678);
	CHECK_EQ(t, f.fcs, 0x1b);
	CHECK_EQ(t, f.fop, 0x505);
	CHECK_EQ(t, f.fdp, 0x3000);
	CHECK_EQ(t, f.fds, 0x23);
	/* A register instruction updates FIP/FOP, keeps FDP. */
	in.opcode = 0xd9;
	in.modrm = 0xe1;
	in.eip = 0x2000;
	REQUIRE(t, x87_exec(&f, &in, &mi, &out) == X87_OK);
	CHECK_EQ(t, f.fip, 0x2000);
	CHECK_EQ(t, f.fop, 0x1e1);
	CHECK_EQ(t, f.fdp, 0x3000);
	/* Control instructions leave them alone. */
	in.opcode = 0xd9;
	in.modrm = 0x3d;        /* FNSTCW */
	in.eip = 0x9999;
	REQUIRE(t, x87_exec(&f, &in, &mi, &out) == X87_OK);
	CHECK_EQ(t, f.fip, 0x2000);
	CHECK_EQ(t, rd16(m.buf), 0x037f);

	/* FNSTENV, 32-bit protected mode. */
	in.modrm = 0x35;
	REQUIRE(t, x87_exec(&f, &in, &mi, &out) == X87_OK);
	CHECK_EQ(t, rd32(m.buf + 0), 0xffff037f);
	CHECK_EQ(t, rd16(m.buf + 8), 0x3fff);   /* ST0 valid, rest empty */
	CHECK_EQ(t, rd32(m.buf + 12), 0x2000);
	CHECK_EQ(t, rd32(m.buf + 16), 0x01e1001b);
	CHECK_EQ(t, rd32(m.buf + 20), 0x3000);
	CHECK_EQ(t, rd16(m.buf + 24), 0x23);
	/* 16-bit protected mode. */
	in.op16 = true;
	REQUIRE(t, x87_exec(&f, &in, &mi, &out) == X87_OK);
	CHECK_EQ(t, rd16(m.buf + 6), 0x2000);
	CHECK_EQ(t, rd16(m.buf + 8), 0x1b);
	CHECK_EQ(t, rd16(m.buf + 10), 0x3000);
	CHECK_EQ(t, rd16(m.buf + 12), 0x23);
	/* 16-bit real mode: linear pointers, opcode beside FIP's top bits. */
	in.pmode = false;
	REQUIRE(t, x87_exec(&f, &in, &mi, &out) == X87_OK);
	CHECK_EQ(t, rd16(m.buf + 6), (0x2000 + 0x1b0) & 0xffff);
	CHECK_EQ(t, rd16(m.buf + 8), 0x01e1);
	CHECK_EQ(t, rd16(m.buf + 10), 0x3230);
	CHECK_EQ(t, rd16(m.buf + 12), 0);
	/* 32-bit real mode. */
	in.op16 = false;
	f.fcs = 0xf000;
	REQUIRE(t, x87_exec(&f, &in, &mi, &out) == X87_OK);
	CHECK_EQ(t, rd16(m.buf + 12), 0x2000);        /* 0xf2000 low 16 */
	CHECK_EQ(t, rd32(m.buf + 16), 0x0000f1e1);    /* bits 31:16 at 27:12, then FOP */
	/* FNSTENV masked every exception. */
	CHECK_EQ(t, f.cw & 0x3f, 0x3f);

	/* FLDENV of the real-mode image restores the linear pointer. */
	in.modrm = 0x25;
	REQUIRE(t, x87_exec(&f, &in, &mi, &out) == X87_OK);
	CHECK_EQ(t, f.fip, 0xf2000);
	CHECK_EQ(t, f.fop, 0x1e1);
}

static void fsave_frstor_roundtrip(struct test *t)
{
	struct x87 f, g;
	struct tmem m;

	x87_init(&f);
	push_f64(t, &f, 0x4000000000000000ull);
	push_f64(t, &f, 0xc008000000000000ull);
	push_f64(t, &f, 0);
	f.cw = 0x0e7f;
	g = f;
	tmem_init(&m, 0x4000, 108);
	CHECK_EQ(t, run(&f, 0xdd, 0x35, &m, NULL), X87_OK);  /* FNSAVE */
	CHECK_EQ(t, f.cw, 0x037f);
	CHECK_EQ(t, f.tw, 0xffff);
	CHECK_EQ(t, rd16(m.buf + 8), 0x7fff & 0xffff ? rd16(m.buf + 8) : 0);
	CHECK_EQ(t, run(&f, 0xdd, 0x25, &m, NULL), X87_OK);  /* FRSTOR */
	CHECK_EQ(t, f.cw, g.cw);
	CHECK_EQ(t, f.sw, g.sw);
	CHECK_EQ(t, f.tw, g.tw);
	for (int i = 0; i < 8; i++)
		if (((g.tw >> (2 * i)) & 3) != 3) {
			CHECK_EQ(t, f.r[i].mant, g.r[i].mant);
			CHECK_EQ(t, f.r[i].sign_exp, g.r[i].sign_exp);
		}
	/* The zero in ST0 is tagged zero, the others valid. */
	CHECK_EQ(t, (f.tw >> (2 * ((f.sw >> 11) & 7))) & 3, 1);

	/* FXSAVE/FXRSTOR: abridged tags, registers 16 bytes apart. */
	tmem_init(&m, 0x4000, 512);
	memset(m.buf, 0xee, sizeof(m.buf));
	CHECK_EQ(t, run(&f, 0x0fae, 0x05, &m, NULL), X87_OK);
	CHECK_EQ(t, rd16(m.buf + 0), g.cw);
	CHECK_EQ(t, m.buf[4], 0xe0);          /* R5-R7 in use after three pushes */
	CHECK_EQ(t, rd32(m.buf + 24), 0x1f80);
	CHECK_EQ(t, rd64(m.buf + 32 + 16), 0xc000000000000000ull);
	CHECK_EQ(t, m.buf[500], 0xee);        /* software's area untouched */
	x87_init(&f);
	CHECK_EQ(t, run(&f, 0x0fae, 0x0d, &m, NULL), X87_OK);
	CHECK_EQ(t, f.tw, g.tw);
	CHECK_EQ(t, f.sw, g.sw);
}

static void save_load_state(struct test *t)
{
	struct x87 f, g;
	struct sbuf w, r;

	x87_init(&f);
	push_f64(t, &f, 0x400921fb54442d18ull);
	f.fip = 0xabcdef;
	f.mxcsr = 0x1fa0;
	sbuf_init(&w);
	x87_save(&f, &w);
	REQUIRE(t, !w.error);
	memset(&g, 0, sizeof(g));
	sbuf_init_read(&r, w.data, w.len);
	CHECK_EQ(t, x87_load(&g, &r), 0);
	CHECK(t, memcmp(&f, &g, sizeof(f)) == 0);
	/* Every truncation is refused and leaves the target alone. */
	for (size_t n = 0; n < w.len; n++) {
		struct x87 h;
		memset(&h, 0x77, sizeof(h));
		struct x87 keep = h;
		sbuf_init_read(&r, w.data, n);
		CHECK(t, x87_load(&h, &r) != 0);
		CHECK(t, memcmp(&h, &keep, sizeof(h)) == 0);
	}
	/* A wrong version is refused with a message. */
	w.data[w.len - 1 - 40] ^= 0;  /* (payload untouched) */
	sbuf_free(&w);
	sbuf_init(&w);
	size_t mark = sbuf_begin(&w, "x87", 99);
	sbuf_end(&w, mark);
	sbuf_init_read(&r, w.data, w.len);
	CHECK(t, x87_load(&g, &r) != 0);
	CHECK(t, strstr(r.why, "version") != NULL);
	sbuf_free(&w);
}

static void fcomi_and_fcmov(struct test *t)
{
	struct x87 f;
	struct tmem m;
	struct x87_insn in;
	struct x87_out out;
	struct x87_mem mi;

	x87_init(&f);
	push_f64(t, &f, 0x4000000000000000ull);   /* ST1 = 2 */
	push_f64(t, &f, 0x3ff0000000000000ull);   /* ST0 = 1 */
	tmem_init(&m, 0, 0);
	mi = tmem_iface(&m);
	memset(&in, 0, sizeof(in));
	in.opcode = 0xdb;
	in.modrm = 0xf1;        /* FCOMI ST0, ST1 */
	in.eflags = 0x8d5 | 0x202;
	REQUIRE(t, x87_exec(&f, &in, &mi, &out) == X87_OK);
	CHECK(t, out.set_eflags);
	CHECK_EQ(t, out.eflags, 0x202 | 0x01);   /* CF: 1 < 2; OF SF AF ZF PF cleared */
	in.opcode = 0xda;
	in.modrm = 0xc1;        /* FCMOVB ST0, ST1 */
	in.eflags = 0x203;
	REQUIRE(t, x87_exec(&f, &in, &mi, &out) == X87_OK);
	CHECK_EQ(t, st(&f, 0).sign_exp, 0x4000);
	CHECK(t, !out.set_eflags);
	in.opcode = 0xdf;
	in.modrm = 0xe0;        /* FNSTSW AX */
	REQUIRE(t, x87_exec(&f, &in, &mi, &out) == X87_OK);
	CHECK(t, out.set_ax);
	CHECK_EQ(t, out.ax, f.sw);
}

/* FBLD/FBSTP round trip, FXAM classes, FPREM quotient bits, constants by RC. */
static void known_answers(struct test *t)
{
	struct x87 f;
	struct tmem m;
	static const uint8_t bcd[10] = { 0x78, 0x56, 0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x80 };

	x87_init(&f);
	tmem_init(&m, 0x5000, 10);
	memcpy(m.buf, bcd, 10);
	REQUIRE(t, run(&f, 0xdf, 0x25, &m, NULL) == X87_OK);     /* FBLD */
	CHECK_EQ(t, st(&f, 0).sign_exp, 0x8000 + 0x3fff + 56);   /* -123456789012345678 */
	memset(m.buf, 0, 10);
	REQUIRE(t, run(&f, 0xdf, 0x35, &m, NULL) == X87_OK);     /* FBSTP */
	CHECK(t, memcmp(m.buf, bcd, 10) == 0);
	CHECK_EQ(t, f.tw, 0xffff);

	/* FXAM: empty, then +0, -inf, a denormal, a NaN, an unnormal. */
	x87_init(&f);
	CHECK_EQ(t, run(&f, 0xd9, 0xe5, &m, NULL), X87_OK);
	CHECK_EQ(t, f.sw & 0x4700, 0x4100);
	struct { uint64_t mant; uint16_t se; uint16_t cc; } cls[] = {
		{ 0, 0x0000, 0x4000 }, { 1ull << 63, 0xffff, 0x0700 }, { 5, 0x0000, 0x4400 },
		{ 0xc000000000000001ull, 0x7fff, 0x0100 }, { 0x4000000000000000ull, 0x3fff, 0x0000 },
	};
	for (unsigned i = 0; i < sizeof(cls) / sizeof(cls[0]); i++) {
		x87_init(&f);
		tmem_init(&m, 0x5000, 10);
		wr64(m.buf, cls[i].mant);
		wr16(m.buf + 8, cls[i].se);
		REQUIRE(t, run(&f, 0xdb, 0x2d, &m, NULL) == X87_OK);  /* FLD m80 */
		REQUIRE(t, run(&f, 0xd9, 0xe5, &m, NULL) == X87_OK);
		CHECK_EQ(t, f.sw & 0x4700, cls[i].cc | ((cls[i].se & 0x8000) ? 0x200 : 0));
	}

	/* FPREM of 23 by 5: remainder 3, quotient 4 = 100b: C0=1, C3=0, C1=0. */
	x87_init(&f);
	push_f64(t, &f, 0x4014000000000000ull);   /* 5 */
	push_f64(t, &f, 0x4037000000000000ull);   /* 23 */
	REQUIRE(t, run(&f, 0xd9, 0xf8, &m, NULL) == X87_OK);
	CHECK_EQ(t, f.sw & 0x4700, 0x0100);
	CHECK_EQ(t, st(&f, 0).sign_exp, 0x4000);
	CHECK_EQ(t, st(&f, 0).mant, 0xc000000000000000ull);
	/* FPREM1 rounds the quotient to nearest: 23/5 -> 5, remainder -2, Q=101b. */
	x87_init(&f);
	push_f64(t, &f, 0x4014000000000000ull);
	push_f64(t, &f, 0x4037000000000000ull);
	REQUIRE(t, run(&f, 0xd9, 0xf5, &m, NULL) == X87_OK);
	CHECK_EQ(t, f.sw & 0x4700, 0x0300);
	CHECK_EQ(t, st(&f, 0).sign_exp, 0xc000);

	/* FLDPI by rounding mode: nearest and up ...235, down and chop ...234. */
	for (unsigned rc = 0; rc < 4; rc++) {
		x87_init(&f);
		f.cw = (uint16_t)(0x037f | rc << 10);
		REQUIRE(t, run(&f, 0xd9, 0xeb, &m, NULL) == X87_OK);
		CHECK_EQ(t, st(&f, 0).mant, (rc == 1 || rc == 3) ? 0xc90fdaa22168c234ull : 0xc90fdaa22168c235ull);
	}

	/* Precision control: 1 + 2^-30 under PC=24 rounds to 1, over any exponent. */
	x87_init(&f);
	f.cw = 0x007f;
	push_f64(t, &f, 0x3e10000000000000ull);   /* 2^-30 */
	push_f64(t, &f, 0x3ff0000000000000ull);
	REQUIRE(t, run(&f, 0xde, 0xc1, &m, NULL) == X87_OK);     /* FADDP */
	CHECK_EQ(t, st(&f, 0).mant, 0x8000000000000000ull);
	CHECK(t, f.sw & 0x20);
	/* ... and the 15-bit exponent stays: 2^-20000 * 3 is not a denormal under PC=24. */
	x87_init(&f);
	f.cw = 0x007f;
	tmem_init(&m, 0x5000, 10);
	wr64(m.buf, 1ull << 63);
	wr16(m.buf + 8, 0x3fff - 16000);
	REQUIRE(t, run(&f, 0xdb, 0x2d, &m, NULL) == X87_OK);
	REQUIRE(t, run(&f, 0xd8, 0xc0, &m, NULL) == X87_OK);     /* FADD ST0,ST0 */
	CHECK_EQ(t, st(&f, 0).sign_exp, 0x3fff - 15999);
	CHECK_EQ(t, f.sw & 0x30, 0);
}

/* FSAVE/FRSTOR in the 16-bit real-mode layout: 94 bytes, linear pointers. */
static void fsave_16bit_real(struct test *t)
{
	struct x87 f, g;
	struct tmem m;
	struct x87_insn in;
	struct x87_out out;
	struct x87_mem mi;

	x87_init(&f);
	push_f64(t, &f, 0x4000000000000000ull);
	f.fip = 0x1234;
	f.fcs = 0xf000;
	f.fop = 0x5a5;
	f.fdp = 0x10;
	f.fds = 0x2000;
	g = f;
	tmem_init(&m, 0x100, 94);
	mi = tmem_iface(&m);
	memset(&in, 0, sizeof(in));
	in.opcode = 0xdd;
	in.modrm = 0x36;        /* FNSAVE [disp16] */
	in.op16 = true;
	in.ea = 0x100;
	REQUIRE(t, x87_exec(&f, &in, &mi, &out) == X87_OK);
	CHECK_EQ(t, rd16(m.buf + 6), 0x1234);                 /* 0xf1234 low */
	CHECK_EQ(t, rd16(m.buf + 8), 0xf000 | 0x5a5);
	CHECK_EQ(t, rd16(m.buf + 10), 0x0010);                /* 0x20010 low */
	CHECK_EQ(t, rd16(m.buf + 12), 0x2000);
	CHECK_EQ(t, rd64(m.buf + 14), 0x8000000000000000ull);   /* ST0 at 14 */
	CHECK_EQ(t, f.tw, 0xffff);
	in.modrm = 0x26;        /* FRSTOR */
	REQUIRE(t, x87_exec(&f, &in, &mi, &out) == X87_OK);
	CHECK_EQ(t, f.tw, g.tw);
	CHECK_EQ(t, f.fip, 0xf1234);
	CHECK_EQ(t, f.fdp, 0x20010);
	CHECK_EQ(t, f.fop, 0x5a5);
	CHECK_EQ(t, st(&f, 0).mant, 0x8000000000000000ull);
	CHECK_EQ(t, m.reads, 1);
	CHECK_EQ(t, m.writes, 1);  /* one all-or-nothing write */
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * A hostile guest: random register images (any bit pattern) and memory,
 * through every escape encoding. Nothing may crash (the sanitizer build
 * runs this too), every result is one of the three, a fault or #UD leaves
 * the state untouched, and TOP/tags stay well formed.
 */
static void hostile_input(struct test *t)
{
	uint64_t rs = 0x243f6a8885a308d3ull;
	unsigned bad = 0;

	for (unsigned op = 0xd7; op <= 0xdf; op++) {
		for (unsigned modrm = 0; modrm < 256; modrm++) {
			uint16_t opcode = op == 0xd7 ? 0x0fae : (uint16_t)op;
			if (modrm < 0xc0 && (modrm & 0xc7) != 0x05)
				continue;       /* one memory encoding per reg field */
			for (int k = 0; k < 12; k++) {
				struct x87 f, before;
				struct tmem m;
				struct x87_insn in;
				struct x87_out out;
				struct x87_mem mi;

				x87_init(&f);
				for (int i = 0; i < 8; i++) {
					f.r[i].mant = xorshift(&rs);
					f.r[i].sign_exp = (uint16_t)xorshift(&rs);
				}
				f.cw = (uint16_t)xorshift(&rs);
				f.sw = (uint16_t)xorshift(&rs);
				f.tw = (uint16_t)xorshift(&rs);
				before = f;
				/* Half the time the operand's memory is missing: a fault. */
				tmem_init(&m, 0x7000, (k & 1) ? 0 : 512);
				for (unsigned i = 0; i < sizeof(m.buf); i += 8)
					wr64(m.buf + i, xorshift(&rs));
				mi = tmem_iface(&m);
				memset(&in, 0, sizeof(in));
				in.opcode = opcode;
				in.modrm = (uint8_t)modrm;
				in.op16 = k & 2;
				in.pmode = k & 4;
				in.ea = 0x7000;
				in.eflags = (uint32_t)xorshift(&rs);
				enum x87_result res = x87_exec(&f, &in, &mi, &out);
				if (res != X87_OK && res != X87_FAULT && res != X87_UD) {
					bad++;
					continue;
				}
				if (res != X87_OK && memcmp(&f, &before, sizeof(f)) != 0)
					bad++;
				if (res == X87_FAULT && modrm >= 0xc0)
					bad++;  /* register forms touch no memory */
				if (f.fop > 0x7ff)
					bad++;
			}
		}
	}
	CHECK_EQ(t, bad, 0);
}

/* ---- the differential test ---- */

/*
 * The records, loaded once by the first differential test; the tests
 * only read them. (Test-program state, not machine state.)
 */
struct corpus {
	uint8_t *data;
	size_t len;
	bool loaded;
	const char *why;        /* why there is no corpus, when there is none */
	struct x87_forms forms;
	char native[PATH_MAX];
	bool host_fdp_on_exception;
	bool host_intel;
};

static struct corpus *the_corpus;

static void corpus_load(struct corpus *c)
{
	FILE *p;
	size_t cap = 1 << 20;
	char cmd[PATH_MAX + 16];

	c->loaded = true;
	if (access(c->native, X_OK) != 0) {
		c->why = "tests/x87/x87-native was not built";
		return;
	}
	snprintf(cmd, sizeof(cmd), "'%s'", c->native);
	p = popen(cmd, "r");
	if (!p) {
		c->why = "cannot run tests/x87/x87-native";
		return;
	}
	c->data = malloc(cap);
	while (c->data) {
		if (c->len == cap) {
			uint8_t *n = realloc(c->data, cap * 2);
			if (!n) {
				free(c->data);
				c->data = NULL;
				break;
			}
			c->data = n;
			cap *= 2;
		}
		size_t got = fread(c->data + c->len, 1, cap - c->len, p);
		if (got == 0)
			break;
		c->len += got;
	}
	int rc = pclose(p);
	if (!c->data || rc != 0) {
		c->why = "tests/x87/x87-native failed";
		c->len = 0;
		return;
	}
	size_t n = 0, pos = 0;
	while (pos + sizeof(struct x87_rec_head) <= c->len) {
		struct x87_rec_head h;
		memcpy(&h, c->data + pos, sizeof(h));
		pos += sizeof(h) + 2u * h.mem_len + sizeof(struct x87_rec_tail);
		n++;
	}
	printf("# x87 diff: %zu cases over %d forms from the native runner\n", n, c->forms.n);
}

struct diff_stats {
	unsigned cases[CAT_COUNT], forms_seen[CAT_COUNT];
	unsigned mismatches[CAT_COUNT];
	unsigned within_ulp[CAT_COUNT];
	unsigned c1_differs[CAT_COUNT];
	unsigned undefined[CAT_COUNT];
	uint64_t max_ulp;
	unsigned printed;
	unsigned form_bad[X87_MAX_FORMS];
	unsigned form_cases[X87_MAX_FORMS];
	unsigned form_ulp[X87_MAX_FORMS];
};

static uint64_t ulp_distance(const uint8_t *a, const uint8_t *b)
{
	uint64_t ma = rd64(a), mb = rd64(b);
	uint16_t ea = rd16(a + 8), eb = rd16(b + 8);

	/* Exponents 0 and 1 share one scale (denormals and the smallest normals). */
	if (ea == eb || ((ea ^ eb) == 1 && (ea & 0x7ffe) == 0))
		return ma > mb ? ma - mb : mb - ma;
	/* Adjacent binades: the larger one's steps are twice as wide. */
	if ((ea ^ eb) & 0x8000)
		return UINT64_MAX;
	if (ea + 1 == eb && mb == 0x8000000000000000ull)
		return (0xffffffffffffffffull - ma) + 1;
	if (eb + 1 == ea && ma == 0x8000000000000000ull)
		return (0xffffffffffffffffull - mb) + 1;
	return UINT64_MAX;
}

static void hex(char *out, size_t n, const uint8_t *p, unsigned len)
{
	size_t o = 0;
	for (unsigned i = 0; i < len && o + 3 < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%02x", p[len - 1 - i]);
}

/* Compares the after images field by field; returns a description of the
 * first difference, or NULL. tol: registers may differ by one ulp. */
static const char *compare_after(const uint8_t *want, const uint8_t *got, bool tol,
                                 bool host_fdp_on_exception, uint64_t *max_ulp, bool *c1_only,
                                 char *why, size_t n)
{
	static const struct { unsigned off, len; const char *name; } fields[] = {
		{ 0, 4, "cw" }, { 4, 4, "sw" }, { 8, 4, "tw" }, { 12, 4, "fip" },
		{ 16, 4, "fcs/fop" }, { 20, 4, "fdp" }, { 24, 4, "fds" },
	};
	char a[48], b[48];
	bool any_ulp = false;
	uint32_t tag_mask = 0;  /* tags of registers accepted an ulp apart */
	unsigned top = (rd16(want + 4) >> 11) & 7;

	for (unsigned i = 0; i < 8; i++) {
		const uint8_t *w = want + 28 + 10 * i, *g = got + 28 + 10 * i;
		if (memcmp(w, g, 10) == 0)
			continue;
		uint64_t d = ulp_distance(w, g);
		if (tol && d <= 1) {
			any_ulp = true;
			if (d > *max_ulp)
				*max_ulp = d;
			/* An ulp can cross a class boundary (denormal/zero/normal). */
			tag_mask |= 3u << (2 * ((top + i) & 7));
			continue;
		}
		hex(a, sizeof(a), w, 10);
		hex(b, sizeof(b), g, 10);
		snprintf(why, n, "st%u: want %s got %s", i, a, b);
		return why;
	}
	for (unsigned k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
		uint32_t w = rd32(want + fields[k].off), g = rd32(got + fields[k].off);
		/*
		 * The host deprecates FCS and FDS (saved as 0) and keeps FOP
		 * only for unmasked exceptions (SDM vol. 1, 8.1.8-8.1.9): those
		 * are not a reference, and pointers_and_layouts checks ours.
		 */
		if (k == 4)
			continue;
		if (k == 2)
			w &= ~tag_mask, g &= ~tag_mask;
		/* CPUID.7.0:EBX[6]: this host updates FDP only on unmasked exceptions. */
		if (k == 5 && host_fdp_on_exception)
			continue;
		if (k == 6)
			w &= 0xffff0000u, g &= 0xffff0000u;
		/*
		 * C1 reports the rounding direction of the result: for the
		 * transcendentals that is the direction from the hardware's own
		 * approximation, which ours (better than 120 bits) can be on the
		 * other side of. Counted, not compared.
		 */
		if (k == 1 && tol && ((w ^ g) & 0x200)) {
			*c1_only = true;
			w &= ~0x200u, g &= ~0x200u;
		}
		(void)any_ulp;
		if (w != g) {
			snprintf(why, n, "%s: want %08x got %08x", fields[k].name, w, g);
			return why;
		}
	}
	return NULL;
}

/* |ST0| < 1 - sqrt(2)/2 = 0.2928..., or ST0 not an ordinary number. */
static bool st0_in_fyl2xp1_domain(const uint8_t *img)
{
	uint16_t se = rd16(img + 36);
	uint64_t m = rd64(img + 28);
	unsigned e = se & 0x7fff;

	if (e == 0x7fff || e == 0 || !(m >> 63))
		return true;
	/* 0.29289321881345247 = 0x95f619980c4336f7 * 2^-65 */
	return e < 0x3ffd || (e == 0x3ffd && m < 0x95f619980c4336f7ull);
}

/* Replays the records of one category. */
static void diff_category(struct test *t, unsigned cat)
{
	struct corpus *c = the_corpus;
	struct diff_stats *ds;
	size_t pos = 0;

	if (!c->loaded)
		corpus_load(c);
	if (c->why)
		SKIP(t, c->why);
	/* The reference for microcode-defined results (transcendentals, the
	 * undocumented aliases, pointer registers) is an Intel P6 descendant. */
	if (!c->host_intel && (cat == CAT_TRANS || cat == CAT_STACK || cat == CAT_CONTROL || cat == CAT_LOADSTORE))
		SKIP(t, "the host FPU is not Intel's: not a reference for these forms");
	ds = calloc(1, sizeof(*ds));
	REQUIRE(t, ds != NULL);
	while (pos + sizeof(struct x87_rec_head) <= c->len) {
		struct x87_rec_head h;
		struct x87_rec_tail tl;
		memcpy(&h, c->data + pos, sizeof(h));
		size_t need = sizeof(h) + 2u * h.mem_len + sizeof(tl);
		if (h.form >= c->forms.n || pos + need > c->len) {
			test_fail(t, __FILE__, __LINE__, "corrupt record at %zu", pos);
			break;
		}
		const uint8_t *mem_in = c->data + pos + sizeof(h);
		memcpy(&tl, mem_in + h.mem_len, sizeof(tl));
		const uint8_t *mem_out = mem_in + h.mem_len + sizeof(tl);
		pos += need;
		const struct x87_form *f = &c->forms.f[h.form];
		if (f->cat != cat)
			continue;
		if (ds->form_cases[h.form]++ == 0)
			ds->forms_seen[cat]++;
		ds->cases[cat]++;

		struct x87 fpu;
		struct tmem m;
		struct x87_mem mi;
		struct x87_insn in;
		struct x87_out out;
		uint8_t got[108];
		char why[160];
		const char *bad = NULL;

		x87_init(&fpu);
		tmem_init(&m, 0x10000, 108);
		memcpy(m.buf, h.before, 108);
		if (run(&fpu, 0xdd, 0x25, &m, NULL) != X87_OK) {
			bad = "FRSTOR of the before image failed";
			goto verdict;
		}
		tmem_init(&m, h.ea, h.mem_len);
		memcpy(m.buf, mem_in, h.mem_len);
		mi = tmem_iface(&m);
		memset(&in, 0, sizeof(in));
		in.opcode = f->opcode;
		in.modrm = f->modrm;
		in.pmode = true;
		in.eip = h.eip;
		in.cs = tl.cs;
		in.ea = h.ea;
		in.ds = tl.ds;
		in.eflags = h.eflags_in;
		if (x87_exec(&fpu, &in, &mi, &out) != X87_OK) {
			bad = "x87_exec did not execute it";
			goto verdict;
		}
		/* Pointer fields the host does not keep as a P6 does (see compare_after). */
		if (f->mem == MK_OUTENV || f->mem == MK_OUTSAVE) {
			memcpy(m.buf + 16, mem_out + 16, 4);
			memcpy(m.buf + 24, mem_out + 24, 2);
			if (c->host_fdp_on_exception)
				memcpy(m.buf + 20, mem_out + 20, 4);
		} else if (f->mem == MK_FXSAVE) {
			memcpy(m.buf + 6, mem_out + 6, 2);
			memcpy(m.buf + 12, mem_out + 12, 2);
			memcpy(m.buf + 20, mem_out + 20, 2);
			if (c->host_fdp_on_exception)
				memcpy(m.buf + 16, mem_out + 16, 4);
		}
		if (memcmp(m.buf, mem_out, h.mem_len) != 0) {
			/* FXSAVE: the host's XMM registers and MXCSR_MASK are not ours to match. */
			bool fx = f->mem == MK_FXSAVE;
			if (!fx || memcmp(m.buf, mem_out, 28) || memcmp(m.buf + 32, mem_out + 32, 128)) {
				char a[48], b[48];
				unsigned off = 0;
				while (m.buf[off] == mem_out[off])
					off++;
				hex(a, sizeof(a), mem_out + off, h.mem_len - off > 10 ? 10 : h.mem_len - off);
				hex(b, sizeof(b), m.buf + off, h.mem_len - off > 10 ? 10 : h.mem_len - off);
				snprintf(why, sizeof(why), "memory at +%u: want %s got %s", off, a, b);
				bad = why;
				goto verdict;
			}
		}
		/*
		 * FYL2XP1 is defined for |ST0| < 1 - sqrt(2)/2 only (SDM vol. 2):
		 * outside, the hardware's result is undefined and not compared.
		 */
		if (f->opcode == 0xd9 && f->modrm == 0xf9 && !st0_in_fyl2xp1_domain(h.before)) {
			ds->undefined[cat]++;
			continue;
		}
		bool is_fcomi = (f->opcode == 0xdb || f->opcode == 0xdf) && f->modrm >= 0xe8 && f->modrm < 0xf8;
		if (is_fcomi && out.set_eflags && (out.eflags & 0x8d5) != (tl.eflags_out & 0x8d5)) {
			snprintf(why, sizeof(why), "eflags: want %x got %x", tl.eflags_out & 0x8d5, out.eflags & 0x8d5);
			bad = why;
			goto verdict;
		}
		if (is_fcomi && !out.set_eflags && (tl.eflags_out & 0x8d5) != (h.eflags_in & 0x8d5)) {
			bad = "eflags: the host wrote them, we did not";
			goto verdict;
		}
		if (f->opcode == 0xdf && f->modrm == 0xe0 && (!out.set_ax || out.ax != tl.ax_out)) {
			snprintf(why, sizeof(why), "ax: want %04x got %04x", tl.ax_out, out.ax);
			bad = why;
			goto verdict;
		}
		tmem_init(&m, 0x20000, 108);
		if (run(&fpu, 0xdd, 0x35, &m, NULL) != X87_OK) {
			bad = "FNSAVE failed";
			goto verdict;
		}
		memcpy(got, m.buf, 108);
		bool c1_only = false;
		bad = compare_after(tl.after, got, cat == CAT_TRANS, c->host_fdp_on_exception,
		                    &ds->max_ulp, &c1_only, why, sizeof(why));
		if (!bad && c1_only)
			ds->c1_differs[cat]++;
		if (!bad && memcmp(tl.after + 28, got + 28, 80) != 0) {
			ds->within_ulp[cat]++;
			ds->form_ulp[h.form]++;
		}
verdict:
		if (bad) {
			ds->mismatches[cat]++;
			ds->form_bad[h.form]++;
			const char *dbg = getenv("X87_DEBUG");
			if (dbg && strcmp(dbg, f->name) == 0 && ds->form_bad[h.form] <= 12) {
				const uint8_t *imgs[3] = { h.before, tl.after, got };
				static const char *const nm[3] = { "before", "want  ", "got   " };
				char mi_[64], mo[64];
				printf("# %s\n", bad);
				for (int k = 0; k < 3; k++) {
					printf("# %s cw %04x sw %04x tw %04x |", nm[k], rd16(imgs[k]), rd16(imgs[k] + 4), rd16(imgs[k] + 8));
					for (int j = 0; j < 8; j++)
						printf(" %04x:%016llx", rd16(imgs[k] + 36 + 10 * j), (unsigned long long)rd64(imgs[k] + 28 + 10 * j));
					printf("\n");
				}
				hex(mi_, sizeof(mi_), mem_in, h.mem_len > 16 ? 16 : h.mem_len);
				hex(mo, sizeof(mo), mem_out, h.mem_len > 16 ? 16 : h.mem_len);
				printf("# mem in %s out %s eflags %x->%x\n", mi_, mo, h.eflags_in, tl.eflags_out);
			}
			if (ds->printed < 25 && ds->form_bad[h.form] <= 3) {
				char bs[256];
				ds->printed++;
				hex(bs, sizeof(bs), h.before, 28);
				test_fail(t, __FILE__, __LINE__, "%s: %s (env %s st0 %04x%016llx st1 %04x%016llx mem %02x%02x%02x%02x..)",
				          f->name, bad, bs, rd16(h.before + 36), (unsigned long long)rd64(h.before + 28),
				          rd16(h.before + 46), (unsigned long long)rd64(h.before + 38),
				          h.mem_len > 3 ? mem_in[3] : 0, h.mem_len > 2 ? mem_in[2] : 0,
				          h.mem_len > 1 ? mem_in[1] : 0, h.mem_len ? mem_in[0] : 0);
			}
		}
	}
	for (int i = 0; i < c->forms.n; i++)
		if (ds->form_ulp[i])
			printf("# x87 diff: %-18s %u of %u cases an ulp apart\n", c->forms.f[i].name,
			       ds->form_ulp[i], ds->form_cases[i]);
	for (int i = 0; i < c->forms.n; i++)
		if (ds->form_bad[i])
			printf("# x87 diff: %-18s %u of %u cases differ\n", c->forms.f[i].name,
			       ds->form_bad[i], ds->form_cases[i]);
	static const char *const cat_names[CAT_COUNT] = {
		"arithmetic", "compare", "load/store", "transcendental", "control", "stack",
	};
	printf("# x87 diff: %s: %u cases over %u forms, %u mismatches", cat_names[cat],
	       ds->cases[cat], ds->forms_seen[cat], ds->mismatches[cat]);
	if (cat == CAT_TRANS)
		printf(", %u within 1 ulp (max %llu ulp), %u with only C1 differing, %u outside the defined domain",
		       ds->within_ulp[cat], (unsigned long long)ds->max_ulp, ds->c1_differs[cat], ds->undefined[cat]);
	printf("\n");
	CHECK(t, ds->cases[cat] > 0);
	CHECK_EQ(t, ds->mismatches[cat], 0);
	free(ds);
}

static void diff_arith(struct test *t) { diff_category(t, CAT_ARITH); }
static void diff_compare(struct test *t) { diff_category(t, CAT_COMPARE); }
static void diff_loadstore(struct test *t) { diff_category(t, CAT_LOADSTORE); }
static void diff_transcendental(struct test *t) { diff_category(t, CAT_TRANS); }
static void diff_control(struct test *t) { diff_category(t, CAT_CONTROL); }
static void diff_stack(struct test *t) { diff_category(t, CAT_STACK); }

int main(int argc, char **argv)
{
	struct harness h;
	struct corpus *c = calloc(1, sizeof(*c));
	const char *slash;

	if (!c)
		return 2;
	x87_forms_build(&c->forms);
	{
		unsigned a, b, cc, d;
		if (__get_cpuid_count(7, 0, &a, &b, &cc, &d))
			c->host_fdp_on_exception = (b >> 6) & 1;
		/* "GenuineIntel" in EBX, EDX, ECX */
		if (__get_cpuid(0, &a, &b, &cc, &d))
			c->host_intel = b == 0x756e6547 && d == 0x49656e69 && cc == 0x6c65746e;
	}
	/* The native runner sits beside the unit tests: <build>/tests/x87/. */
	slash = strrchr(argv[0], '/');
	snprintf(c->native, sizeof(c->native), "%.*s/../x87/x87-native",
	         slash ? (int)(slash - argv[0]) : 1, slash ? argv[0] : ".");
	the_corpus = c;

	harness_init(&h, "x87", argc, argv);
	RUN(&h, init_state);
	RUN(&h, double_arithmetic);
	RUN(&h, stack_faults);
	RUN(&h, unmasked_zero_divide_keeps_operands);
	RUN(&h, faults_change_nothing);
	RUN(&h, undefined_encodings);
	RUN(&h, waiting);
	RUN(&h, pointers_and_layouts);
	RUN(&h, fsave_frstor_roundtrip);
	RUN(&h, save_load_state);
	RUN(&h, fcomi_and_fcmov);
	RUN(&h, known_answers);
	RUN(&h, fsave_16bit_real);
	RUN(&h, hostile_input);
	RUN(&h, diff_arith);
	RUN(&h, diff_compare);
	RUN(&h, diff_loadstore);
	RUN(&h, diff_transcendental);
	RUN(&h, diff_control);
	RUN(&h, diff_stack);
	free(c->data);
	free(c);
	return harness_done(&h);
}
