/*
 * The host's own x87 as the reference: a 32-bit program that, for every
 * form in tests/x87/forms.h and a fixed-seed table of cases, loads a state
 * with FRSTOR, executes the one instruction natively and saves the state
 * with FNSAVE, writing before/after records (forms.h) to stdout. The 64-bit
 * unit test replays the same before-states through x87_exec() and compares.
 *
 * The instruction is assembled at run time into an executable page, from
 * its opcode bytes, with its memory operand as an absolute disp32: no
 * assembler mnemonic quirks (AT&T's swapped fsub/fsubr) can get in between.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tests/x87/forms.h"

#if !defined(__i386__)
#error "the native x87 runner is a 32-bit x86 program (gcc -m32)"
#endif

/* Everything the generated code reads or writes, at absolute addresses. */
struct io {
	uint8_t mem[512] __attribute__((aligned(16)));
	uint8_t before[108];
	uint8_t after[108];
	uint32_t eflags_in, eflags_out;
	uint16_t ax_out;
};

struct v80 {
	uint64_t m;
	uint16_t se;
};

/* Extended-precision edge values: every class and the rounding boundaries. */
static const struct v80 edges[] = {
	{ 0, 0 }, { 0, 0x8000 },                                        /* +-0 */
	{ 1ull << 63, 0x3fff }, { 1ull << 63, 0xbfff },                 /* +-1 */
	{ 1, 0 }, { 1, 0x8000 }, { 0x7fffffffffffffffull, 0 },          /* denormals */
	{ 0x8000000000000000ull, 0 }, { 0x8000000000000123ull, 0x8000 }, /* pseudo-denormals */
	{ 1ull << 63, 1 }, { 0xffffffffffffffffull, 1 },                /* smallest normals */
	{ 0xffffffffffffffffull, 0x7ffe }, { 0xffffffffffffffffull, 0xfffe }, /* largest */
	{ 1ull << 63, 0x7fff }, { 1ull << 63, 0xffff },                 /* +-inf */
	{ 0xc000000000000000ull, 0x7fff }, { 0xc000000000000000ull, 0xffff }, /* QNaN, indefinite */
	{ 0xc000000000001234ull, 0x7fff }, { 0xffffffffffffffffull, 0xffff },
	{ 0x8000000000000001ull, 0x7fff }, { 0xa000000000000000ull, 0xffff }, /* SNaN */
	{ 0xbfffffffffffffffull, 0x7fff },
	{ 0x4000000000000000ull, 0x3fff }, { 0, 0x4001 },               /* unnormals */
	{ 0x4000000000000001ull, 0x7fff }, { 0, 0x7fff },               /* pseudo-NaN, pseudo-inf */
	{ 1ull << 63, 0x3ffe }, { 0xc000000000000000ull, 0x3fff },      /* 0.5, 1.5 */
	{ 1ull << 63, 0x4000 }, { 0xc000000000000000ull, 0x4000 },      /* 2, 3 */
	{ 0xa000000000000000ull, 0x4002 }, { 0xa000000000000000ull, 0xc000 }, /* 10, -2.5 */
	{ 0xc90fdaa22168c235ull, 0x4000 }, { 0xc90fdaa22168c235ull, 0x3fff }, /* pi, pi/2 */
	{ 0xc90fdaa22168c235ull, 0x3ffe }, { 0xaaaaaaaaaaaaaaabull, 0x3ffd }, /* pi/4, 1/3 */
	{ 0x8000000000000001ull, 0x3fff }, { 0xffffffffffffffffull, 0x3ffe }, /* 1 +- ulp */
	{ 0x8000008000000000ull, 0x3fff }, { 0x8000008000000001ull, 0x3fff }, /* PC24 ties */
	{ 0x8000007fffffffffull, 0x3fff }, { 0x8000018000000000ull, 0xbfff },
	{ 0x8000000000000400ull, 0x3fff }, { 0x8000000000000c00ull, 0x3fff }, /* PC53 ties */
	{ 0x80000000000003ffull, 0xbfff }, { 0x8000000000000401ull, 0x3fff },
	{ 1ull << 63, 0x3fff + 63 }, { 1ull << 63, 0xbfff + 63 },       /* +-2^63 */
	{ 0xfffffffffffffffeull, 0x3fff + 62 }, { 1ull << 63, 0x3fff + 64 },
	{ 0xde0b6b3a76400000ull, 0x3fff + 59 }, { 0xde0b6b3a763ffff8ull, 0xbfff + 59 }, /* 1e18 */
	{ 0xffff000000000000ull, 0x3fff + 14 }, { 0x8000800000000000ull, 0xbfff + 15 }, /* 32767.5, -32768.5 */
	{ 0xffffffff00000000ull, 0x3fff + 30 }, { 0x8000000080000000ull, 0xbfff + 31 },
	{ 0xffffff0000000000ull, 0x407e }, { 1ull << 63, 0x3f81 },      /* FLT_MAX, FLT_MIN */
	{ 0xfffffffffffff800ull, 0x43fe }, { 1ull << 63, 0x3c01 },      /* DBL_MAX, DBL_MIN */
	{ 0xffffff8000000000ull, 0x407e }, { 0xc000000000000000ull, 0x3f6a }, /* rounding over FLT_MAX, tiny float */
	{ 1ull << 63, 0x3bcd }, { 0xc000000000000000ull, 0x3bcc },      /* 2^-1074, 1.5*2^-1075 */
	{ 0x8000000000000000ull, 0x3fff + 40 }, { 0xb17217f7d1cf79acull, 0x3fff + 61 }, /* huge trig */
	{ 0xc90fdaa22168c234ull, 0x3fff + 20 }, { 0x9000000000000000ull, 0x3ffb },
};
#define N_EDGES (sizeof(edges) / sizeof(edges[0]))

static const uint32_t f32_edges[] = {
	0, 0x80000000, 0x3f800000, 0xbf800000, 0x00000001, 0x007fffff, 0x80400000,
	0x00800000, 0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00000,
	0xffc00000, 0x7fc12345, 0x7f800001, 0xff812345, 0x7fbfffff, 0x3f000000,
	0x40490fdb, 0x4b000000, 0x3f800001, 0x40400000, 0x41200000, 0x3eaaaaab,
};
static const uint64_t f64_edges[] = {
	0, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
	1, 0x000fffffffffffffull, 0x8008000000000000ull, 0x0010000000000000ull,
	0x7fefffffffffffffull, 0xffefffffffffffffull, 0x7ff0000000000000ull,
	0xfff0000000000000ull, 0x7ff8000000000000ull, 0xfff8000000000000ull,
	0x7ff8123456789abcull, 0x7ff0000000000001ull, 0xfff4000000000000ull,
	0x3fe0000000000000ull, 0x400921fb54442d18ull, 0x4330000000000000ull,
	0x3ff0000000000001ull, 0x4008000000000000ull, 0x4024000000000000ull,
	0x3fd5555555555555ull, 0x43e0000000000000ull,
};
static const int64_t int_edges[] = {
	0, 1, -1, 3, 10, -5, 0x7fff, -0x8000, 0x1234, 0x7fffffff, -0x7fffffff - 1,
	0x12345678, 16777217, 9007199254740993ll, 0x7fffffffffffffffll,
	-0x7fffffffffffffffll - 1, 1000000000000000000ll, 0x123456789abcdefll,
};

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static struct v80 random_v80(uint64_t *rs)
{
	struct v80 v;
	uint64_t r = rng_next(rs);

	v.m = rng_next(rs) | 1ull << 63;
	switch (r % 8) {
	case 0:         /* anywhere in the exponent range */
		v.se = (uint16_t)(rng_next(rs) % 0x7fff);
		break;
	case 1:         /* few significant bits: exact and tie cases */
		v.m &= ~0ull << (64 - 1 - rng_next(rs) % 60);
		v.se = (uint16_t)(0x3fff - 20 + rng_next(rs) % 80);
		break;
	default:
		v.se = (uint16_t)(0x3fff - 70 + rng_next(rs) % 140);
		break;
	}
	if ((r >> 8) & 1)
		v.se |= 0x8000;
	return v;
}

/*
 * An argument where the transcendental is defined and interesting:
 * F2XM1 |x| <= 1, FYL2XP1 |x| < 1 - sqrt(2)/2, the trigonometric ones
 * near multiples of pi/2 (argument reduction) or anywhere below 2^63.
 */
static struct v80 transcendental_arg(uint64_t *rs, unsigned modrm)
{
	struct v80 v;
	uint64_t r = rng_next(rs);

	v.m = rng_next(rs) | 1ull << 63;
	v.se = (uint16_t)(0x3fff - 1 - r % 64);
	switch (modrm) {
	case 0xf0:      /* F2XM1 */
		break;
	case 0xf9:      /* FYL2XP1: exponent -3 and below, or 0.25..0.29 */
		v.se = (uint16_t)(0x3fff - 3 - r % 64);
		if ((r >> 8) % 4 == 0) {
			v.se = 0x3ffd;
			v.m = 0x8000000000000000ull + (rng_next(rs) % 0x15f619980c4336f7ull);
		}
		break;
	case 0xf2: case 0xfb: case 0xfe: case 0xff:
		if ((r >> 8) % 2) {
			/* k * pi/2 +- a few ulps, k up to 2^20 */
			/* pi/2 = 0xc90fdaa22168c235 * 2^-63; k * its top 43 bits fits 64. */
			uint64_t k = 1 + rng_next(rs) % (1u << (1 + (r >> 9) % 20));
			uint64_t p = k * (0xc90fdaa22168c235ull >> 21);
			int sh = __builtin_clzll(p);
			v.m = ((p << sh) + (rng_next(rs) % 16) - 8) | 1ull << 63;
			v.se = (uint16_t)(0x3fff + 21 - sh);
		} else {
			v.se = (uint16_t)(0x3fff - 20 + r % 84);
		}
		break;
	default:
		v.se = (uint16_t)(0x3fff - 40 + r % 80);
		break;
	}
	if ((r >> 40) & 1)
		v.se |= 0x8000;
	return v;
}

static struct v80 pick_v80(uint64_t *rs)
{
	if (rng_next(rs) % 3 == 0)
		return edges[rng_next(rs) % N_EDGES];
	return random_v80(rs);
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

/* A machine state to FRSTOR: registers in stack order. */
struct state {
	uint16_t cw, sw;
	uint8_t empty[8];       /* by stack position ST(i) */
	struct v80 st[8];
	uint32_t fip, fdp, fcs_fop, fds;
};

static void random_state(uint64_t *rs, struct state *s, bool unmasked_pending)
{
	uint16_t masks = 0x3f;

	if (rng_next(rs) % 6 == 0)
		masks = (uint16_t)(rng_next(rs) & 0x3f);
	unsigned pc = (unsigned[]){ 3, 0, 2, 3, 1, 3, 2, 0 }[rng_next(rs) % 8];
	s->cw = (uint16_t)(0x0040 | masks | pc << 8 | (rng_next(rs) % 4) << 10);
	uint16_t flags = (uint16_t)(rng_next(rs) & 0x7f);
	if (!unmasked_pending)
		flags &= (uint16_t)(masks | 0x40);
	if (rng_next(rs) % 2)
		flags = 0;
	s->sw = (uint16_t)(flags | (rng_next(rs) & 0x4700) | (rng_next(rs) % 8) << 11);
	if (flags & ~masks & 0x3f)
		s->sw |= 0x8080;
	for (int i = 0; i < 8; i++) {
		s->st[i] = pick_v80(rs);
		s->empty[i] = rng_next(rs) % 8 == 0;
	}
	s->empty[0] = rng_next(rs) % 16 == 0;
	s->empty[7] = rng_next(rs) % 4 != 0;
	s->fip = (uint32_t)rng_next(rs);
	s->fdp = (uint32_t)rng_next(rs);
	s->fcs_fop = (uint32_t)rng_next(rs) & 0x07ffffff;
	s->fds = (uint32_t)rng_next(rs) & 0xffff;
}

static void state_image(const struct state *s, uint8_t *p)
{
	unsigned top = (s->sw >> 11) & 7;
	uint16_t tw = 0;

	for (unsigned i = 0; i < 8; i++)
		if (s->empty[i])
			tw |= (uint16_t)(3u << (2 * ((top + i) & 7)));
	put32(p + 0, 0xffff0000u | s->cw);
	put32(p + 4, 0xffff0000u | s->sw);
	put32(p + 8, 0xffff0000u | tw);
	put32(p + 12, s->fip);
	put32(p + 16, s->fcs_fop);
	put32(p + 20, s->fdp);
	put32(p + 24, 0xffff0000u | s->fds);
	for (unsigned i = 0; i < 8; i++) {
		put64(p + 28 + 10 * i, s->st[i].m);
		put16(p + 36 + 10 * i, s->st[i].se);
	}
}

static void fxsave_image(const struct state *s, uint8_t *p)
{
	unsigned top = (s->sw >> 11) & 7;
	uint8_t abridged = 0;

	memset(p, 0, 512);
	for (unsigned i = 0; i < 8; i++)
		if (!s->empty[i])
			abridged |= (uint8_t)(1u << ((top + i) & 7));
	put16(p + 0, s->cw);
	put16(p + 2, s->sw);
	p[4] = abridged;
	put16(p + 6, (uint16_t)((s->fcs_fop >> 16) & 0x7ff));
	put32(p + 8, s->fip);
	put16(p + 12, (uint16_t)s->fcs_fop);
	put32(p + 16, s->fdp);
	put16(p + 20, (uint16_t)s->fds);
	put32(p + 24, 0x1f80);
	for (unsigned i = 0; i < 8; i++) {
		put64(p + 32 + 16 * i, s->st[i].m);
		put16(p + 40 + 16 * i, s->st[i].se);
	}
}

/* The memory operand for a load-type kind; value index k into its edge
 * table, or random when k < 0. */
static void fill_mem(uint64_t *rs, unsigned kind, int k, uint8_t *m)
{
	struct state st;

	switch (kind) {
	case MK_F32:
		put32(m, k >= 0 ? f32_edges[k] : (uint32_t)rng_next(rs));
		break;
	case MK_F64:
		put64(m, k >= 0 ? f64_edges[k] : rng_next(rs));
		break;
	case MK_F80: {
		struct v80 v = k >= 0 ? edges[k] : pick_v80(rs);
		put64(m, v.m);
		put16(m + 8, v.se);
		break;
	}
	case MK_I16: case MK_I32: case MK_I64: {
		int64_t v = k >= 0 ? int_edges[k] : (int64_t)rng_next(rs) >> (rng_next(rs) % 64);
		put64(m, (uint64_t)v);
		break;
	}
	case MK_BCD: {
		uint64_t r = rng_next(rs);
		unsigned ndig = k >= 0 ? (unsigned)k % 19 : (unsigned)(r % 19);
		memset(m, 0, 10);
		for (unsigned d = 0; d < ndig; d++) {
			unsigned dig = k >= 0 && k % 3 == 0 ? 9 : (unsigned)(rng_next(rs) % 10);
			m[d / 2] |= (uint8_t)(dig << (4 * (d % 2)));
		}
		m[9] = (r >> 40) & 1 ? 0x80 : 0;
		break;
	}
	case MK_CW:
		put16(m, (uint16_t)rng_next(rs));
		break;
	case MK_ENV:
		random_state(rs, &st, true);
		state_image(&st, m);
		break;
	case MK_SAVE:
		random_state(rs, &st, true);
		state_image(&st, m);
		break;
	case MK_FXRSTOR:
		random_state(rs, &st, true);
		fxsave_image(&st, m);
		break;
	default:
		memset(m, 0xa5, x87_mem_len(kind));
		break;
	}
}

static unsigned mem_edge_count(unsigned kind)
{
	switch (kind) {
	case MK_F32: return sizeof(f32_edges) / sizeof(f32_edges[0]);
	case MK_F64: return sizeof(f64_edges) / sizeof(f64_edges[0]);
	case MK_F80: return N_EDGES;
	case MK_I16: case MK_I32: case MK_I64: return sizeof(int_edges) / sizeof(int_edges[0]);
	case MK_BCD: return 40;
	default: return 0;
	}
}

static bool is_load_kind(unsigned kind)
{
	return kind == MK_F32 || kind == MK_F64 || kind == MK_F80 || kind == MK_I16 ||
	       kind == MK_I32 || kind == MK_I64 || kind == MK_BCD;
}

/* Builds the stub: load EFLAGS and the state, run the instruction, save. */
static unsigned emit(uint8_t *c, const struct io *io, const struct x87_form *f, unsigned *insn_off)
{
	unsigned n = 0;
#define B(x) (c[n++] = (uint8_t)(x))
#define A(p) (put32(c + n, (uint32_t)(uintptr_t)(p)), n += 4)
	B(0xb8); A(0);                          /* mov eax, 0 */
	B(0xff); B(0x35); A(&io->eflags_in);    /* push dword [eflags_in] */
	B(0x9d);                                /* popfd */
	B(0xdd); B(0x25); A(io->before);        /* frstor [before] */
	*insn_off = n;
	if (f->opcode == 0x0fae) {
		B(0x0f); B(0xae);
	} else {
		B(f->opcode);
	}
	B(f->modrm);
	if (f->modrm < 0xc0)
		A(io->mem);
	B(0x9c);                                /* pushfd */
	B(0x8f); B(0x05); A(&io->eflags_out);   /* pop dword [eflags_out] */
	B(0x66); B(0xa3); A(&io->ax_out);       /* mov [ax_out], ax */
	B(0xdd); B(0x35); A(io->after);         /* fnsave [after] */
	B(0xc3);
#undef B
#undef A
	return n;
}

static void run_case(struct io *io, uint8_t *code, unsigned insn_off, unsigned form,
                     const struct x87_form *f, uint16_t cs, uint16_t ds, FILE *out)
{
	struct x87_rec_head h;
	struct x87_rec_tail t;
	unsigned len = x87_mem_len(f->mem);

	memset(&h, 0, sizeof(h));
	h.form = (uint16_t)form;
	h.mem_len = (uint16_t)len;
	h.eflags_in = io->eflags_in;
	h.eip = (uint32_t)(uintptr_t)(code + insn_off);
	h.ea = (uint32_t)(uintptr_t)io->mem;
	memcpy(h.before, io->before, 108);
	fwrite(&h, sizeof(h), 1, out);
	fwrite(io->mem, 1, len, out);

	((void (*)(void))(void *)code)();

	memset(&t, 0, sizeof(t));
	memcpy(t.after, io->after, 108);
	t.eflags_out = io->eflags_out;
	t.ax_out = io->ax_out;
	t.cs = cs;
	t.ds = ds;
	fwrite(&t, sizeof(t), 1, out);
	fwrite(io->mem, 1, len, out);
}

int main(void)
{
	static struct x87_forms forms;
	uint16_t cs, ds;
	struct io *io;
	uint8_t *code;
	unsigned long ncases = 0;

	x87_forms_build(&forms);
	io = aligned_alloc(64, sizeof(*io));
	code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!io || code == MAP_FAILED) {
		perror("x87-native: memory");
		return 2;
	}
	__asm__ volatile("movw %%cs, %0; movw %%ds, %1" : "=r"(cs), "=r"(ds));
	static char obuf[1 << 16];
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));

	for (int fi = 0; fi < forms.n; fi++) {
		const struct x87_form *f = &forms.f[fi];
		uint64_t rs = 0x9e3779b97f4a7c15ull ^ (uint64_t)(fi + 1) * 0x100000001b3ull;
		unsigned insn_off;
		struct state s;
		emit(code, io, f, &insn_off);
		unsigned i = f->modrm & 7;      /* ST(i) of register forms */
		unsigned nmem = mem_edge_count(f->mem);
		unsigned npairs = 0, nsingles = 0;

		if (f->shape == SH_BINARY && f->full_pairs)
			npairs = (unsigned)N_EDGES * (nmem ? nmem : (unsigned)N_EDGES);
		if (f->shape == SH_UNARY)
			nsingles = (nmem && is_load_kind(f->mem) ? nmem : (unsigned)N_EDGES) * 8;
		unsigned nrand = f->shape == SH_STATE ? 600 : 400;
		if (f->cat == CAT_TRANS)
			nrand = 2000;
		for (unsigned k = 0; k < npairs + nsingles + nrand; k++) {
			rng_next(&rs);
			random_state(&rs, &s, false);
			int memk = -1;
			if (k < npairs) {
				unsigned nb = nmem ? nmem : (unsigned)N_EDGES;
				s.st[0] = edges[k / nb];
				s.empty[0] = 0;
				if (nmem) {
					memk = (int)(k % nb);
				} else {
					s.st[f->opcode == 0xd9 ? 1 : i] = edges[k % nb];
					s.empty[f->opcode == 0xd9 ? 1 : i] = 0;
				}
				if (i == 0 && !nmem && f->opcode != 0xd9)
					s.st[0] = edges[k % nb];
			} else if (k < npairs + nsingles) {
				unsigned kk = k - npairs;
				if (nmem && is_load_kind(f->mem)) {
					memk = (int)(kk / 8);
				} else {
					s.st[0] = edges[kk / 8];
					s.empty[0] = 0;
				}
			}
			if (k >= npairs + nsingles && f->cat == CAT_TRANS && rng_next(&rs) % 4 != 0) {
				/* Most random transcendental cases inside the defined domains. */
				s.st[0] = transcendental_arg(&rs, f->modrm);
				s.empty[0] = 0;
				s.empty[1] = 0;
			}
			fill_mem(&rs, f->mem, memk, io->mem);
			io->eflags_in = 0x202 | (uint32_t)(rng_next(&rs) & 0x8d5);
			state_image(&s, io->before);
			run_case(io, code, insn_off, (unsigned)fi, f, cs, ds, stdout);
			ncases++;
		}
	}
	if (fflush(stdout) != 0) {
		perror("x87-native: write");
		return 2;
	}
	(void)ncases;
	return 0;
}
