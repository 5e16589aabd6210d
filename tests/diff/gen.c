/*
 * Case generation for the differential CPU test (see gen.h, README.md).
 *
 * Every form of translator/insns.def is classified (ALU, shift, string,
 * privileged, ...) and then encoded here with our own small encoder, with
 * operands that stay inside the data block: the generator picks a target
 * address first and then chooses the base/index registers and
 * displacement that reach it, so every addressing form is exercised
 * without wild accesses (which would fault natively but read open bus in
 * an emulator without paging).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/diff/gen.h"
#include "translator/insn.h"

/* insns.def, with the handler's name kept for classification. */
struct form {
	uint8_t map, op, ext;
	const char *mnem;
	const char *handler;
	uint8_t arg;
	uint8_t opnd[3];
	uint32_t fread, fwrite, fundef, attr;
};

static const struct form forms[] = {
#define X(map, op, ext, mnem, fn, arg, o1, o2, o3, fr, fw, fu, attr) \
	{ map, op, ext, mnem, #fn, arg, { o1, o2, o3 }, fr, fw, fu, attr },
#include "translator/insns.def"
#undef X
};
#define NFORMS (sizeof forms / sizeof forms[0])

#define USER_FLAGS (F_CF | F_PF | F_AF | F_ZF | F_SF | F_DF | F_OF)
#define ARITH_FLAGS (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

enum kind {
	K_SKIP, K_ALU, K_MUL, K_DIV, K_SHIFT, K_SHD, K_BT, K_BSCAN, K_MOV, K_CMOV,
	K_SETCC, K_BRANCH, K_STACK, K_FLAGS, K_BCD, K_ATOMIC, K_STRING, K_SEG,
	K_TRAP, K_PRIV,
};

static bool is(const struct form *f, const char *h) { return strcmp(f->handler, h) == 0; }

static bool is_any(const struct form *f, const char *const *list)
{
	for (; *list; list++)
		if (is(f, *list))
			return true;
	return false;
}

/*
 * What can run in a Linux user process and be compared. Skipped: the
 * FPU (its own differential test), CPUID and RDTSC (ours differ on
 * purpose), SYSENTER/SYSEXIT and INT1, descriptor-table reads that UMIP
 * makes the host kernel emulate. LAR/LSL/VERR/VERW and far transfers
 * only see selectors whose descriptors both tables agree on.
 */
static enum kind classify(const struct form *f)
{
	static const char *const skip[] = {
		"x87", "fwait", "cpuid", "rdtsc", "sysenter", "sysexit", "int1",
		"sldt_str", "sdt", "smsw", NULL };
	static const char *const priv[] = { "cli", "sti", "in", "out", "ins", "outs", "hlt", NULL };
	static const char *const alu[] = { "alu", "test", "inc", "dec", "neg", "not", NULL };
	static const char *const mul[] = { "mul", "imul1", "imul2", "imul3", NULL };
	static const char *const mov[] = { "mov", "movzx", "movsx", "lea", "xchg", "bswap",
	                                   "cbw", "cwd", "xlat", "nop", NULL };
	static const char *const branch[] = { "jcc", "jmp", "loop", "call", "ret", "jmp_ind",
	                                      "call_ind", "callf", "jmpf", "callf_ind", "jmpf_ind",
	                                      "retf", "iret", NULL };
	static const char *const stack[] = { "push", "pop", "pusha", "popa", "enter", "leave",
	                                     "pushf", "popf", NULL };
	static const char *const flags[] = { "setflag", "cmc", "sahf", "lahf", "salc", NULL };
	static const char *const bcd[] = { "daa", "das", "aaa", "aas", "aam", "aad", NULL };
	static const char *const atomic[] = { "cmpxchg", "xadd", "cmpxchg8b", NULL };
	static const char *const string[] = { "movs", "cmps", "stos", "lods", "scas", NULL };
	static const char *const seg[] = { "push_seg", "pop_seg", "mov_from_seg", "mov_to_seg",
	                                   "load_far", "arpl", "lar_lsl", "verrw", NULL };
	static const char *const trap[] = { "bound", "into", "int3", "ud2", "intn", NULL };

	if (is_any(f, skip))
		return K_SKIP;
	if ((f->attr & (A_PRIV | A_IOPL)) || is_any(f, priv))
		return K_PRIV;
	if (is_any(f, alu)) return K_ALU;
	if (is_any(f, mul)) return K_MUL;
	if (is(f, "div") || is(f, "idiv")) return K_DIV;
	if (is(f, "shift")) return K_SHIFT;
	if (is(f, "shld") || is(f, "shrd")) return K_SHD;
	if (is(f, "bt")) return K_BT;
	if (is(f, "bsf") || is(f, "bsr")) return K_BSCAN;
	if (is_any(f, mov)) return K_MOV;
	if (is(f, "cmov")) return K_CMOV;
	if (is(f, "setcc")) return K_SETCC;
	if (is_any(f, branch)) return K_BRANCH;
	if (is_any(f, stack)) return K_STACK;
	if (is_any(f, flags)) return K_FLAGS;
	if (is_any(f, bcd)) return K_BCD;
	if (is_any(f, atomic)) return K_ATOMIC;
	if (is_any(f, string)) return K_STRING;
	if (is_any(f, seg)) return K_SEG;
	if (is_any(f, trap)) return K_TRAP;
	return K_SKIP;
}

/* ---- randomness --------------------------------------------------------- */

static uint32_t r32(struct gen *g)
{
	/* xorshift64*: fixed seed, so a run is reproducible. */
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return (uint32_t)((g->rng * 0x2545F4914F6CDD1DULL) >> 32);
}

static unsigned below(struct gen *g, unsigned n) { return n ? r32(g) % n : 0; }
static bool chance(struct gen *g, unsigned one_in) { return below(g, one_in) == 0; }

static uint32_t edge32(struct gen *g)
{
	static const uint32_t e[] = {
		0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000,
		0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFE, 0xFFFFFFFF,
	};
	static const uint8_t e8[] = { 0, 1, 0x7F, 0x80, 0xFF, 0xFE, 0x0F, 0x10 };
	uint32_t v;
	switch (below(g, 5)) {
	case 0: return e[below(g, sizeof e / sizeof e[0])];
	case 1: return (uint32_t)(int32_t)(below(g, 64) - 32);
	case 2:         /* edge bytes in the low and the second byte */
		v = r32(g);
		v = (v & ~0xFFu) | e8[below(g, 8)];
		if (chance(g, 2))
			v = (v & ~0xFF00u) | (uint32_t)e8[below(g, 8)] << 8;
		return v;
	case 3:         /* edge word in the low half */
		return (r32(g) & 0xFFFF0000u) | (e[below(g, 11)] & 0xFFFF);
	default: return r32(g);
	}
}

/* ---- cases and groups --------------------------------------------------- */

static unsigned group_id(struct gen *g, const char *name)
{
	for (unsigned i = 0; i < g->ngroups; i++)
		if (strcmp(g->groups[i], name) == 0)
			return i;
	if (g->ngroups == GEN_MAX_GROUPS) {
		fprintf(stderr, "cpu_diff: too many groups (%s)\n", name);
		g->failed = true;
		return 0;
	}
	char *copy = strdup(name);
	if (!copy) {
		g->failed = true;
		return 0;
	}
	g->groups[g->ngroups] = copy;
	return g->ngroups++;
}

/* A case under construction. */
struct build {
	struct gen *g;
	struct gcase *c;
	unsigned len;           /* code bytes so far */
	uint8_t fixed;          /* GPRs already given a deliberate value */
	bool overflow;          /* code or patch would not fit: case dropped */
};

static bool begin(struct build *b, struct gen *g, const char *group, unsigned form)
{
	memset(b, 0, sizeof *b);
	b->g = g;
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 4096;
		struct gcase *nc = realloc(g->cases, cap * sizeof *nc);
		if (!nc) {
			g->failed = true;
			return false;
		}
		g->cases = nc;
		g->cap = cap;
	}
	struct gcase *c = &g->cases[g->n];
	memset(c, 0, sizeof *c);
	c->w.magic = DIFF_MAGIC_CASE;
	c->w.id = (uint32_t)g->n;
	c->group = (uint16_t)group_id(g, group);
	c->form = (uint16_t)form;
	for (int r = 0; r < 8; r++)
		c->w.gpr[r] = edge32(g);
	c->w.gpr[R_ESP] = DIFF_STACK_TOP - 4 * below(g, 8);
	c->w.eflags = r32(g) & USER_FLAGS;
	b->c = c;
	b->fixed = 1u << R_ESP;
	if (g->code16)
		c->w.flags |= DIFF_F_CODE16 | DIFF_F_LDT16;
	if (g->based)
		c->w.flags |= DIFF_F_FSGS_BASED;
	if (form != GEN_NO_FORM)
		g->form_used[form] = true;
	return true;
}

static void finish(struct build *b)
{
	if (b->overflow || b->g->failed)
		return;
	/* A third of all cases run with paging on in our CPU: the same
	 * results must come through the paged (TLB) memory path. */
	if (chance(b->g, 3))
		b->c->w.flags |= DIFF_F_PAGING;
	b->c->w.code_len = b->len;
	b->g->n++;
}

static void byte(struct build *b, uint8_t v)
{
	if (b->len >= DIFF_CODE_MAX) {
		b->overflow = true;
		return;
	}
	b->c->w.code[b->len++] = v;
}

static void bytes_le(struct build *b, uint32_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		byte(b, (uint8_t)(v >> (8 * i)));
}

static void set_reg(struct build *b, unsigned r, uint32_t v)
{
	b->c->w.gpr[r] = v;
	b->fixed |= (uint8_t)(1u << r);
}

/* Writes bytes into the case's patch: the data block's starting contents
 * at `addr` (linear, inside the block). Only one patch region per case:
 * a second one that does not fit the first is dropped silently because
 * the values are only there to make operands interesting. */
static void patch(struct build *b, uint32_t addr, const void *src, unsigned n)
{
	struct diff_case *w = &b->c->w;
	uint32_t off = addr - DIFF_DATA_ADDR;
	if (off > DIFF_DATA_SIZE - n)
		return;
	if (w->patch_len == 0) {
		w->patch_off = off;
		w->patch_len = 0;
	}
	if (off < w->patch_off || off + n > w->patch_off + DIFF_PATCH_MAX)
		return;
	memcpy(w->patch + (off - w->patch_off), src, n);
	if (off + n - w->patch_off > w->patch_len)
		w->patch_len = off + n - w->patch_off;
}

static void patch_le(struct build *b, uint32_t addr, uint32_t v, unsigned n)
{
	uint8_t t[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	patch(b, addr, t, n);
}

/* ---- addressing ---------------------------------------------------------- */

struct addr {
	uint8_t mod, rm;
	bool has_sib;
	uint8_t sib;
	uint32_t disp;
	unsigned disp_len;
	uint8_t seg_prefix;     /* 0 or a segment override the form needs */
};

static int free_reg(struct build *b, uint8_t avoid)
{
	uint8_t busy = b->fixed | avoid;
	unsigned nfree = 0;
	for (unsigned r = 0; r < 8; r++)
		nfree += !(busy & (1u << r));
	if (nfree == 0)
		return -1;
	unsigned k = below(b->g, nfree);
	for (unsigned r = 0; r < 8; r++)
		if (!(busy & (1u << r)) && k-- == 0)
			return (int)r;
	return -1;
}

static uint32_t disp8(struct gen *g) { return (uint32_t)(int32_t)(int8_t)r32(g); }

/*
 * Chooses a 32-bit addressing form reaching `target` and gives the base
 * and index registers the values that make it so. `target` may change
 * (for [esp+disp8]); the final effective address is returned.
 */
static uint32_t plan_mem32(struct build *b, struct addr *a, uint32_t target, unsigned size)
{
	struct gen *g = b->g;
	memset(a, 0, sizeof *a);
	int base, index;
	switch (below(g, 8)) {
	case 0:         /* [disp32] */
		a->mod = 0; a->rm = 5; a->disp = target; a->disp_len = 4;
		return target;
	case 1:         /* [base] */
		base = free_reg(b, (1u << R_ESP) | (1u << R_EBP));
		if (base < 0) break;
		a->mod = 0; a->rm = (uint8_t)base;
		set_reg(b, (unsigned)base, target);
		return target;
	case 2:         /* [base + disp8] */
		base = free_reg(b, 1u << R_ESP);
		if (base < 0) break;
		a->mod = 1; a->rm = (uint8_t)base; a->disp = disp8(g); a->disp_len = 1;
		set_reg(b, (unsigned)base, target - a->disp);
		return target;
	case 3:         /* [base + disp32], often wrapping around 4 GiB */
		base = free_reg(b, 1u << R_ESP);
		if (base < 0) break;
		a->mod = 2; a->rm = (uint8_t)base; a->disp = chance(g, 2) ? r32(g) : disp8(g);
		a->disp_len = 4;
		set_reg(b, (unsigned)base, target - a->disp);
		return target;
	case 4: case 5: {       /* [base + index*scale + disp] */
		base = free_reg(b, 1u << R_ESP);
		if (base < 0) break;
		index = free_reg(b, (1u << R_ESP) | (1u << base));
		if (index < 0) break;
		unsigned scale = below(g, 4);
		uint32_t iv = chance(g, 3) ? r32(g) : (uint32_t)(int32_t)(below(g, 128) - 64);
		a->mod = (uint8_t)(1 + below(g, 2));
		a->disp_len = a->mod == 1 ? 1 : 4;
		a->disp = a->mod == 1 ? disp8(g) : r32(g);
		if (a->mod == 1 && base != R_EBP && chance(g, 3)) {
			a->mod = 0; a->disp = 0; a->disp_len = 0;
		}
		a->rm = 4; a->has_sib = true;
		a->sib = (uint8_t)(scale << 6 | (unsigned)index << 3 | (unsigned)base);
		set_reg(b, (unsigned)index, iv);
		set_reg(b, (unsigned)base, target - (iv << scale) - a->disp);
		return target;
	}
	case 6: {       /* [index*scale + disp32], no base */
		index = free_reg(b, 1u << R_ESP);
		if (index < 0) break;
		unsigned scale = below(g, 4);
		uint32_t iv = chance(g, 2) ? r32(g) : below(g, 256);
		a->mod = 0; a->rm = 4; a->has_sib = true;
		a->sib = (uint8_t)(scale << 6 | (unsigned)index << 3 | 5);
		a->disp = target - (iv << scale); a->disp_len = 4;
		set_reg(b, (unsigned)index, iv);
		return target;
	}
	default: {      /* [esp + disp8]: the stack pointer as base */
		uint32_t esp = b->c->w.gpr[R_ESP];
		/* Only while ESP is still the stack (an operand may have
		 * taken ESP's value): a wild address could even land in
		 * the native runner's own memory. */
		if (esp - DIFF_DATA_ADDR - 0x100 > DIFF_DATA_SIZE - 0x200)
			break;
		int32_t d = (int32_t)below(g, 120) - 60 - (int32_t)size;
		a->mod = 1; a->rm = 4; a->has_sib = true; a->sib = 0x24;
		a->disp = (uint32_t)d; a->disp_len = 1;
		return esp + (uint32_t)d;
	}
	}
	a->mod = 0; a->rm = 5; a->disp = target; a->disp_len = 4;
	return target;
}

/*
 * 16-bit addressing (67 prefix) into the 64 KiB LDT segment: any offset
 * is inside it, so the registers can be random and wrap at 64 KiB.
 * BP-based forms default to SS (flat, base 0): they get a DS override.
 */
static uint32_t plan_mem16(struct build *b, struct addr *a)
{
	struct gen *g = b->g;
	static const uint8_t regs_of[8][2] = {
		{ R_EBX, R_ESI }, { R_EBX, R_EDI }, { R_EBP, R_ESI }, { R_EBP, R_EDI },
		{ R_ESI, 8 }, { R_EDI, 8 }, { R_EBP, 8 }, { R_EBX, 8 },
	};
	memset(a, 0, sizeof *a);
	for (int tries = 0; tries < 8; tries++) {
		unsigned rm = below(g, 8), mod = below(g, 3);
		bool clash = false;
		for (int k = 0; k < 2; k++)
			if (regs_of[rm][k] < 8 && (b->fixed & (1u << regs_of[rm][k])))
				clash = true;
		if (clash)
			continue;
		a->rm = (uint8_t)rm; a->mod = (uint8_t)mod;
		/* Now and then right at the 64 KiB limit: a multi-byte access
		 * there is #GP(0), not a wrap. */
		bool at_limit = chance(g, 6);
		if (mod == 0 && rm == 6) {
			a->disp_len = 2;
			a->disp = at_limit ? 0xFFFC + below(g, 4) : below(g, 0x10000);
			return DIFF_DATA_ADDR + a->disp;
		}
		uint32_t ea = 0;
		for (int k = 0; k < 2; k++) {
			if (regs_of[rm][k] < 8) {
				uint32_t v = chance(g, 2) ? r32(g) : (r32(g) & 0xFFFF0000u) | below(g, 0x100);
				set_reg(b, regs_of[rm][k], v);
				ea += v;
			}
		}
		a->disp_len = mod == 1 ? 1 : mod == 2 ? 2 : 0;
		a->disp = mod == 1 ? disp8(g) : mod == 2 ? below(g, 0x10000) : 0;
		if (mod == 2 && at_limit)
			a->disp = (0xFFFC + below(g, 4) - ea) & 0xFFFF;
		if (rm == 2 || rm == 3 || rm == 6)
			a->seg_prefix = 0x3E;
		/* Through a segment based at the data block. */
		return DIFF_DATA_ADDR + ((ea + a->disp) & 0xFFFF);
	}
	a->mod = 0; a->rm = 6; a->disp_len = 2; a->disp = below(g, 0x10000);
	return DIFF_DATA_ADDR + a->disp;
}

static void emit_modrm(struct build *b, const struct addr *a, unsigned regfield)
{
	byte(b, (uint8_t)(a->mod << 6 | (regfield & 7) << 3 | a->rm));
	if (a->has_sib)
		byte(b, a->sib);
	bytes_le(b, a->disp, a->disp_len);
}

/* ---- forms --------------------------------------------------------------- */

static bool opk_modrm(uint8_t k)
{
	switch (k) {
	case E: case Eb: case Ev: case Ew: case Ed: case Gb: case Gv: case Gw: case Gd:
	case M: case Mp: case Mq: case Ms: case Rd: case Sw: case Cd: case Dd:
		return true;
	default:
		return false;
	}
}

static bool has_modrm(const struct form *f)
{
	return f->ext != NX || opk_modrm(f->opnd[0]) || opk_modrm(f->opnd[1]) || opk_modrm(f->opnd[2]);
}

static bool has_opnd(const struct form *f, uint8_t k)
{
	return f->opnd[0] == k || f->opnd[1] == k || f->opnd[2] == k;
}

static bool mem_only(const struct form *f)
{
	return (f->attr & A_MEM) || has_opnd(f, M) || has_opnd(f, Mp) || has_opnd(f, Mq) || has_opnd(f, Ms);
}

static bool reg_only(const struct form *f) { return (f->attr & A_REG) || has_opnd(f, Rd); }

static bool has_rm_operand(const struct form *f)
{
	static const uint8_t k[] = { E, Eb, Ev, Ew, Ed, M, Mp, Mq, Ms, Rd };
	for (size_t i = 0; i < sizeof k; i++)
		if (has_opnd(f, k[i]))
			return true;
	return false;
}

/* Bytes the memory operand covers (for keeping it inside the block). */
static unsigned mem_size(const struct form *f, unsigned osz)
{
	if (has_opnd(f, Mq)) return 8;
	if (has_opnd(f, Mp)) return osz + 2;
	if (has_opnd(f, Ms)) return 6;
	if (has_opnd(f, Ed)) return 4;
	if (has_opnd(f, Ew)) return 2;
	if (has_opnd(f, Eb)) return 1;
	return osz;
}

/* The operand sizes a form has: 1 for byte forms, else 16 and 32. */
static unsigned sizes_of(const struct form *f, unsigned out[2])
{
	if (f->attr & A_BYTE) { out[0] = 1; return 1; }
	if (f->attr & (A_FIXSIZE | A_SIZE16)) { out[0] = 4; return 1; }
	out[0] = 2; out[1] = 4;
	return 2;
}

/* Everything about one instruction to encode. */
struct plan {
	unsigned fi;
	unsigned osz;
	bool a16, mem;
	uint8_t reg;            /* ModRM reg field when the form has no extension */
	uint8_t rm;             /* register r/m when !mem */
	uint8_t opreg;          /* low opcode bits for A_OPREG */
	struct addr addr;
	uint8_t prefix[4];
	unsigned nprefix;
	uint32_t imm[2];
};

/* Immediate lengths, in operand order. */
static unsigned imm_lengths(const struct form *f, unsigned osz, bool a16, unsigned len[3])
{
	unsigned n = 0;
	for (int i = 0; i < 3; i++) {
		switch (f->opnd[i]) {
		case Ib: case Ibs: case Jb: len[n++] = 1; break;
		case Iw: len[n++] = 2; break;
		case Iz: len[n++] = osz == 2 ? 2 : 4; break;
		case Jz: len[n++] = osz == 2 ? 2 : 4; break;
		case Ob: case Ov: len[n++] = a16 ? 2 : 4; break;
		case Ap: len[n++] = osz == 2 ? 2 : 4; len[n++] = 2; break;
		default: break;
		}
	}
	return n;
}

static void emit(struct build *b, const struct plan *p)
{
	const struct form *f = &forms[p->fi];
	for (unsigned i = 0; i < p->nprefix; i++)
		byte(b, p->prefix[i]);
	if (p->mem && p->addr.seg_prefix)
		byte(b, p->addr.seg_prefix);
	/* 66 and 67 select the size that is not the code segment's default. */
	bool code16 = b->g->code16;
	if (p->osz != 1 && (p->osz == 2) != code16 && !(f->attr & (A_FIXSIZE | A_SIZE16)))
		byte(b, 0x66);
	if (p->a16 != code16)
		byte(b, 0x67);
	if (f->map == 2)
		byte(b, 0x0F);
	byte(b, (uint8_t)(f->op + ((f->attr & A_OPREG) ? p->opreg : 0)));
	if (has_modrm(f)) {
		unsigned regfield = f->ext != NX ? f->ext : p->reg;
		if (p->mem) {
			emit_modrm(b, &p->addr, regfield);
		} else {
			byte(b, (uint8_t)(0xC0 | (regfield & 7) << 3 | (p->rm & 7)));
		}
	}
	unsigned len[3];
	unsigned n = imm_lengths(f, p->osz, p->a16, len);
	for (unsigned i = 0; i < n && i < 2; i++)
		bytes_le(b, p->imm[i], len[i]);
}

static const char *size_suffix(unsigned osz) { return osz == 1 ? "8" : osz == 2 ? "16" : "32"; }

/* A random target for a memory operand of `size` bytes, inside the block
 * and clear of the stack area at its top. */
static uint32_t pick_target(struct gen *g, unsigned size)
{
	uint32_t off = 0x100 + below(g, 0xD000);
	if (chance(g, 2))
		off &= ~(uint32_t)(size > 4 ? 3 : size - 1);
	return DIFF_DATA_ADDR + off;
}

static void patch_random(struct build *b, uint32_t addr, unsigned n)
{
	for (unsigned i = 0; i < n; i += 4)
		patch_le(b, addr + i, edge32(b->g), n - i < 4 ? n - i : 4);
}

/* Chooses the memory or register operand of a plan; returns the linear
 * address of a memory operand. */
static uint32_t plan_operand(struct build *b, struct plan *p, unsigned msize)
{
	if (!p->mem) {
		p->rm = (uint8_t)below(b->g, 8);
		return 0;
	}
	if (p->a16) {
		uint32_t ea = plan_mem16(b, &p->addr);
		b->c->w.flags |= DIFF_F_LDT16;
		patch_random(b, ea, msize < 4 ? 4 : msize);
		return ea;
	}
	if (b->g->based) {
		/* fs:/gs: with the segment based at the block: the effective
		 * address is the offset into it. Not [esp+disp8], which would
		 * land a block's distance beyond the stack. */
		uint32_t target = pick_target(b->g, msize);
		uint32_t off;
		do
			off = plan_mem32(b, &p->addr, target - DIFF_DATA_ADDR, msize);
		while (p->addr.rm == 4 && p->addr.sib == 0x24);
		p->addr.seg_prefix = chance(b->g, 2) ? 0x64 : 0x65;
		patch_random(b, DIFF_DATA_ADDR + off, msize < 4 ? 4 : msize);
		return DIFF_DATA_ADDR + off;
	}
	uint32_t ea = plan_mem32(b, &p->addr, pick_target(b->g, msize), msize);
	patch_random(b, ea, msize < 4 ? 4 : msize);
	/* Segment overrides: all flat, so only the encoding changes. CS
	 * (read-only) makes writes #GP, which both sides must agree on. */
	if (!p->addr.seg_prefix && chance(b->g, 6)) {
		static const uint8_t seg[] = { 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65 };
		p->addr.seg_prefix = seg[below(b->g, 6)];
	}
	return ea;
}

/* EFLAGS bits undefined after a shift or rotate by `count` (already
 * masked to 5 bits): none when the count is 0 (flags unchanged). */
static uint32_t shift_undef(unsigned op, unsigned count, unsigned osz)
{
	if (count == 0)
		return 0;
	uint32_t u = count != 1 ? F_OF : 0;
	if (op >= 4) {
		u |= F_AF;
		if (op != 7 && count >= osz * 8)
			u |= F_CF;
	}
	return u;
}

static uint32_t shd_undef(unsigned count, unsigned osz)
{
	if (count == 0)
		return 0;
	if (count > osz * 8)
		return ARITH_FLAGS;
	return F_AF | (count != 1 ? F_OF : 0);
}

/* Selectors a test may load: the ones both sides' descriptor tables
 * agree on (null, our LDT entry, the user code and data segments, and
 * RPL variants of the data segment). */
static uint16_t pick_selector(struct gen *g, bool for_ss)
{
	static const uint16_t any[] = { 0, DIFF_SEL_LDT16, DIFF_SEL_CODE3, DIFF_SEL_DATA3, 0x28, 0x2A, 0x2B,
	                                DIFF_SEL_CODE16, DIFF_SEL_BASED, DIFF_SEL_BASED & ~3u };
	static const uint16_t ss[] = { DIFF_SEL_DATA3, DIFF_SEL_DATA3, 0, DIFF_SEL_CODE3, 0x28, 0x2A };
	return for_ss ? ss[below(g, 6)] : any[below(g, 10)];
}

/* EIP at the current end of the code: an offset in the 16-bit segment. */
static uint32_t code_addr(const struct build *b)
{
	return (b->g->code16 ? 0 : DIFF_CODE_ADDR) + b->len;
}

/* `inc eax` filler after a branch: how many were skipped shows in EAX. */
static void filler(struct build *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		byte(b, 0x40);
}

/*
 * One case of one form. `variant` selects per-kind specifics (the shift
 * count, which divide setup, ...). Returns false if the combination does
 * not exist (then no case is added).
 */
static bool one_case(struct gen *g, unsigned fi, unsigned osz, bool mem, bool a16,
                     unsigned variant, const char *group)
{
	const struct form *f = &forms[fi];
	enum kind k = classify(f);
	struct build bb, *b = &bb;
	struct plan p;
	memset(&p, 0, sizeof p);
	p.fi = fi; p.osz = osz; p.mem = mem; p.a16 = a16;
	if (!begin(b, g, group, fi))
		return false;
	struct gcase *c = b->c;
	unsigned msize = mem_size(f, osz);
	uint32_t ea = 0;
	unsigned width = osz * 8;
	uint32_t omask = osz == 4 ? 0xFFFFFFFFu : (1u << width) - 1;
	c->undef_flags = f->fundef;
	p.reg = (uint8_t)below(g, 8);
	p.opreg = (uint8_t)below(g, 8);

	switch (k) {
	case K_SHIFT: case K_SHD: {
		static const uint8_t counts[] = { 0x3F, 0x40, 0x41, 0x80, 0xFF, 0xE1 };
		unsigned count = variant < 34 ? variant : counts[(variant - 34) % 6];
		if (has_opnd(f, ONE))
			count = 1;
		if (has_opnd(f, CL))
			set_reg(b, R_ECX, (r32(g) & ~0xFFu) | count);
		else
			p.imm[0] = count;
		if (k == K_SHD) {
			if (has_opnd(f, CL) && p.reg == R_ECX)
				p.reg = R_EAX;
			set_reg(b, p.reg, edge32(g));
		}
		ea = plan_operand(b, &p, msize);
		unsigned m = count & 0x1F;
		if (k == K_SHIFT) {
			c->undef_flags = shift_undef(f->arg, m, osz);
		} else {
			c->undef_flags = shd_undef(m, osz);
			if (m > width) {
				if (mem)        /* the stored result would be undefined */
					return false;
				c->undef_regs = (uint8_t)(1u << p.rm);
			}
		}
		snprintf(c->note, sizeof c->note, "count %u", count);
		break;
	}
	case K_DIV: {
		uint32_t d = variant % 3 == 2 ? 0 : edge32(g) & omask;
		if (d == 0 && variant % 3 != 2)
			d = 3;
		bool sgn = is(f, "idiv");
		if (variant % 3 == 1) { /* a quotient that fits */
			if (osz == 1) {
				uint32_t ax = sgn ? (uint32_t)(int32_t)(int8_t)r32(g) & 0xFFFF
				                  : ((r32(g) % d) << 8) | (r32(g) & 0xFF);
				set_reg(b, R_EAX, (r32(g) & 0xFFFF0000u) | ax);
			} else {
				uint32_t lo = r32(g) & omask;
				uint32_t hi = sgn ? ((lo >> (width - 1)) & 1 ? omask : 0) : (r32(g) % d) & omask;
				set_reg(b, R_EAX, (r32(g) & ~omask) | lo);
				set_reg(b, R_EDX, (r32(g) & ~omask) | hi);
			}
		}
		ea = plan_operand(b, &p, msize);
		if (mem)
			patch_le(b, ea, d, osz);
		else if (!(osz == 1 && p.rm >= 4))
			c->w.gpr[p.rm] = (c->w.gpr[p.rm] & ~omask) | d;
		break;
	}
	case K_BT: {
		if (has_opnd(f, Ib)) {
			p.imm[0] = chance(g, 2) ? below(g, width) : r32(g) & 0xFF;
			ea = plan_operand(b, &p, msize);
		} else if (!mem) {
			ea = plan_operand(b, &p, msize);
		} else {
			/* Register bit offsets address memory far from the operand:
			 * keep the byte they reach inside the block. */
			int32_t span = osz == 2 ? 32768 : 8 * 0x6000;
			int32_t off = (int32_t)below(g, 2u * (uint32_t)span) - span;
			if (chance(g, 3))
				off = (int32_t)below(g, 64);
			set_reg(b, p.reg, osz == 2 ? (r32(g) & 0xFFFF0000u) | ((uint32_t)off & 0xFFFF)
			                           : (uint32_t)off);
			struct addr *a = &p.addr;
			uint32_t target = DIFF_DATA_ADDR + 0x7000 + below(g, 0x100) * 2;
			ea = plan_mem32(b, a, target, msize);
			if (a->rm == 4 && a->sib == 0x24)       /* [esp+d8]: too close to the top */
				return false;
			patch_random(b, ea + (uint32_t)(off >> 3), 4);
			snprintf(c->note, sizeof c->note, "bit offset %d", off);
		}
		break;
	}
	case K_BSCAN:
		ea = plan_operand(b, &p, msize);
		if (variant % 4 == 0) { /* zero source: ZF=1, destination kept (P6) */
			if (mem)
				patch_le(b, ea, 0, osz);
			else
				c->w.gpr[p.rm] &= ~omask;
		}
		break;
	case K_MOV:
		if (is(f, "lea")) {
			/* LEA computes without accessing memory: any registers. */
			if (a16)
				plan_mem16(b, &p.addr);
			else
				plan_mem32(b, &p.addr, r32(g), 1);
			break;
		}
		if (is(f, "xlat")) {
			uint32_t t = pick_target(g, 256);
			uint8_t al = (uint8_t)c->w.gpr[R_EAX];
			set_reg(b, R_EBX, t - al);
			patch_random(b, t, 4);
			if (a16) {
				b->c->w.flags |= DIFF_F_LDT16;
				set_reg(b, R_EBX, r32(g));
			}
			break;
		}
		if (has_opnd(f, Ob) || has_opnd(f, Ov)) {
			if (a16) {
				b->c->w.flags |= DIFF_F_LDT16;
				p.imm[0] = p.imm[1] = below(g, 0x10000);
			} else {
				uint32_t t = pick_target(g, 4);
				p.imm[0] = p.imm[1] = t;
				patch_random(b, t, 4);
			}
			break;
		}
		if (is(f, "bswap") && osz == 2)
			c->undef_regs = (uint8_t)(1u << p.opreg);      /* 16-bit BSWAP is undefined */
		if (has_modrm(f))
			ea = plan_operand(b, &p, msize);
		p.imm[0] = edge32(g);
		break;
	case K_ATOMIC:
		ea = plan_operand(b, &p, msize);
		if (is(f, "cmpxchg8b")) {
			if (variant % 2 && mem) {
				patch_le(b, ea, c->w.gpr[R_EAX], 4);
				patch_le(b, ea + 4, c->w.gpr[R_EDX], 4);
			}
		} else if (is(f, "cmpxchg") && variant % 2) {
			if (mem)
				patch_le(b, ea, c->w.gpr[R_EAX], osz);
			else if (osz != 1 || p.rm < 4)
				c->w.gpr[p.rm] = c->w.gpr[R_EAX];
		}
		break;
	case K_STACK: {
		/* The stack's top holds values to pop; popped flags never
		 * include TF (single step) or AC (alignment checks). */
		uint32_t esp = c->w.gpr[R_ESP];
		p.imm[0] = edge32(g);
		patch_random(b, esp, 36);
		if (is(f, "popf"))
			patch_le(b, esp, r32(g) & ~(F_TF | F_AC), 4);
		if (is(f, "enter")) {
			static const uint8_t levels[] = { 0, 1, 2, 3, 31, 32, 33, 255 };
			p.imm[0] = chance(g, 4) ? 0xD000 + below(g, 0x1000) : below(g, 64);
			p.imm[1] = levels[variant % 8];
			set_reg(b, R_EBP, DIFF_DATA_ADDR + 0xE000 + below(g, 64) * 4);
		}
		if (is(f, "leave")) {
			uint32_t ebp = DIFF_DATA_ADDR + 0xE800 + below(g, 256) * 4;
			set_reg(b, R_EBP, ebp);
			patch_random(b, ebp, 8);
		}
		if ((is(f, "push") || is(f, "pop")) && has_modrm(f))
			ea = plan_operand(b, &p, msize);
		break;
	}
	case K_BRANCH: {
		if (is(f, "loop")) {
			bool back = variant % 3 == 0 && f->arg != 3;
			uint32_t cx = back ? 1 + below(g, 20) : below(g, 4);
			if (chance(g, 4) && !back)
				cx = edge32(g);
			if (a16)
				set_reg(b, R_ECX, (r32(g) & 0xFFFF0000u) | cx);
			else
				set_reg(b, R_ECX, cx);
			unsigned skip = 1 + below(g, 4);
			unsigned start = b->len;
			p.imm[0] = skip;
			emit(b, &p);
			if (back)       /* back to itself: minus its own length */
				b->c->w.code[b->len - 1] = (uint8_t)(start - b->len);
			else
				filler(b, skip);
			finish(b);
			return true;
		}
		if (is(f, "jcc") || is(f, "jmp") || is(f, "call")) {
			unsigned skip = below(g, 5);
			p.imm[0] = skip;
			emit(b, &p);
			filler(b, skip);
			finish(b);
			return true;
		}
		if (is(f, "ret")) {
			/* Returns to the end of the snippet: fix the address last. */
			p.imm[0] = chance(g, 2) ? below(g, 64) & ~1u : edge32(g) & 0xFFFF;
			if (p.imm[0] > 0x400)
				p.imm[0] &= 0x3FC;
			emit(b, &p);
			filler(b, 1);
			patch_le(b, c->w.gpr[R_ESP], code_addr(b), 4);
			finish(b);
			return true;
		}
		if (is(f, "callf") || is(f, "jmpf") || is(f, "callf_ind") || is(f, "jmpf_ind") ||
		    is(f, "retf") || is(f, "iret")) {
			/* Far transfers to the end of the snippet, at ring 3.
			 * The selector is mostly our code segment; the others
			 * fault the same way in both descriptor tables. */
			static const uint16_t sels[] = { DIFF_SEL_CODE3, DIFF_SEL_CODE3, DIFF_SEL_CODE3,
			                                 0x20, DIFF_SEL_DATA3, 0, 0x27, 0x08, 0x0B };
			uint16_t sel = sels[variant % 9];
			uint32_t esp = c->w.gpr[R_ESP];
			bool pushes = is(f, "callf") || is(f, "callf_ind");
			if (pushes)     /* CS may be pushed as 2 or 4 bytes: zero the slot */
				patch_le(b, esp - 8, 0, 4), patch_le(b, esp - 4, 0, 4);
			if (is(f, "callf_ind") || is(f, "jmpf_ind"))
				ea = plan_operand(b, &p, 6);
			if (is(f, "retf"))
				p.imm[0] = below(g, 32) * 4;
			emit(b, &p);
			filler(b, 2);
			uint32_t end = code_addr(b);
			if (is(f, "callf") || is(f, "jmpf")) {
				for (int i = 0; i < 4; i++)
					c->w.code[1 + i] = (uint8_t)(end >> (8 * i));
				c->w.code[5] = (uint8_t)sel;
				c->w.code[6] = (uint8_t)(sel >> 8);
			} else if (mem) {
				patch_le(b, ea, end, 4);
				patch_le(b, ea + 4, sel, 2);
			} else {
				patch_le(b, esp, end, 4);
				patch_le(b, esp + 4, sel, 4);
				if (is(f, "iret"))
					patch_le(b, esp + 8, r32(g) & ~(F_TF | F_AC | F_VM | 0x7FC00000u), 4);
			}
			finish(b);
			return true;
		}
		/* call/jmp through a register or memory: target = the end. */
		ea = plan_operand(b, &p, 4);
		if (!mem && p.rm == R_ESP)
			p.rm = R_EAX;   /* CALL would push into the code page */
		emit(b, &p);
		filler(b, 2);
		if (mem)
			patch_le(b, ea, code_addr(b), 4);
		else
			c->w.gpr[p.rm] = code_addr(b);
		finish(b);
		return true;
	}
	case K_BCD:
		if (is(f, "aam") || is(f, "aad")) {
			static const uint8_t bases[] = { 10, 10, 0, 1, 16, 7, 0xFF };
			p.imm[0] = chance(g, 2) ? bases[below(g, 7)] : r32(g) & 0xFF;
		} else {
			/* Exhaustive: every AL with every AF and CF. */
			c->w.gpr[R_EAX] = (c->w.gpr[R_EAX] & ~0xFFu) | (variant & 0xFF);
			c->w.eflags &= ~(F_AF | F_CF);
			c->w.eflags |= (variant & 0x100 ? F_AF : 0) | (variant & 0x200 ? F_CF : 0);
		}
		break;
	case K_SEG:
		if (is(f, "mov_from_seg")) {
			p.reg = (uint8_t)(variant % 8);
			ea = plan_operand(b, &p, 2);
		} else if (is(f, "mov_to_seg")) {
			p.reg = (uint8_t)(variant % 8);
			uint16_t sel = pick_selector(g, p.reg == 2);
			ea = plan_operand(b, &p, 2);
			if (mem)
				patch_le(b, ea, sel, 2);
			else
				c->w.gpr[p.rm] = (c->w.gpr[p.rm] & ~0xFFFFu) | sel;
		} else if (is(f, "pop_seg")) {
			patch_le(b, c->w.gpr[R_ESP], pick_selector(g, f->arg == S_SS), 4);
		} else if (is(f, "push_seg")) {
			/* A 32-bit PUSH of a selector may write 2 or 4 bytes
			 * (implementation-specific): zeroed slot, same result. */
			patch_le(b, c->w.gpr[R_ESP] - 4, 0, 4);
		} else if (is(f, "lar_lsl") || is(f, "verrw")) {
			/* Descriptors both GDTs agree on (the host's user code and
			 * data, the kernel's ring-0 code at 0x08/0x10 which ring 3
			 * cannot see), null, and RPL variants; not the LDT, whose
			 * accessed bits depend on what the runner loaded before. */
			static const uint16_t sels[] = { 0, 1, 3, 0x08, 0x0B, 0x10, 0x13, 0x20, 0x23,
			                                 0x28, 0x2A, 0x2B };
			uint16_t sel = sels[variant % 12];
			ea = plan_operand(b, &p, 2);
			if (mem)
				patch_le(b, ea, sel, 2);
			else
				c->w.gpr[p.rm] = (c->w.gpr[p.rm] & ~0xFFFFu) | sel;
		} else if (is(f, "load_far")) {
			ea = plan_operand(b, &p, msize);
			patch_le(b, ea + osz, pick_selector(g, f->arg == S_SS), 2);
		} else {
			ea = plan_operand(b, &p, msize);
		}
		break;
	case K_TRAP:
		if (is(f, "bound")) {
			ea = plan_operand(b, &p, msize);
			uint32_t lo = edge32(g), hi = edge32(g);
			if (chance(g, 2) && (int32_t)lo > (int32_t)hi) {
				uint32_t t = lo; lo = hi; hi = t;
			}
			patch_le(b, ea, lo, osz);
			patch_le(b, ea + osz, hi, osz);
		} else if (is(f, "intn")) {
			static const uint8_t vec[] = { 0, 3, 4, 5, 6, 13, 14, 0x20, 0x21, 0x7F, 0x81, 0xFF };
			p.imm[0] = vec[variant % 12];
		}
		break;
	case K_PRIV:
		if (has_opnd(f, Cd) || has_opnd(f, Dd))
			p.reg = (uint8_t)(variant % 8);         /* CR1/CR5-7: #UD, not #GP */
		if (has_modrm(f))
			ea = plan_operand(b, &p, msize);
		p.imm[0] = r32(g);
		break;
	default:        /* ALU, MUL, CMOV, SETCC, FLAGS */
		if (has_modrm(f))
			ea = plan_operand(b, &p, msize);
		p.imm[0] = edge32(g);
		p.imm[1] = edge32(g);
		if (k == K_MUL && variant % 4 == 0) {
			/* Small operands: products without overflow (CF=OF=0).
			 * Registers addressing the operand keep their values. */
			if (!(b->fixed & (1u << R_EAX)))
				c->w.gpr[R_EAX] = below(g, 200);
			if (mem)
				patch_le(b, ea, below(g, 200), osz);
			else if (!(b->fixed & (1u << p.rm)))
				c->w.gpr[p.rm] = below(g, 200);
			p.imm[0] = below(g, 100);
		}
		break;
	}
	emit(b, &p);
	finish(b);
	return true;
}

/* ---- string instructions ------------------------------------------------- */

static void string_case(struct gen *g, unsigned fi, unsigned osz, bool a16, uint8_t rep,
                        bool df, uint32_t count, const char *group)
{
	const struct form *f = &forms[fi];
	struct build bb, *b = &bb;
	if (!begin(b, g, group, fi))
		return;
	struct gcase *c = b->c;
	if (df)
		c->w.eflags |= F_DF;
	else
		c->w.eflags &= ~F_DF;
	uint32_t src, dst;
	if (a16) {
		c->w.flags |= DIFF_F_LDT16;
		src = chance(g, 6) ? 0xFFF0 + below(g, 16) : 0x100 + below(g, 0xE000);
		dst = chance(g, 6) ? below(g, 8) : 0x100 + below(g, 0xE000);
		if (chance(g, 3))
			dst = src + below(g, 32) - 16;  /* overlapping copies */
		set_reg(b, R_ESI, (r32(g) & 0xFFFF0000u) | (src & 0xFFFF));
		set_reg(b, R_EDI, (r32(g) & 0xFFFF0000u) | (dst & 0xFFFF));
		set_reg(b, R_ECX, (r32(g) & 0xFFFF0000u) | count);
		src += DIFF_DATA_ADDR;
		dst += DIFF_DATA_ADDR;
	} else {
		src = DIFF_DATA_ADDR + 0x1000 + below(g, 0xC000);
		dst = DIFF_DATA_ADDR + 0x1000 + below(g, 0xC000);
		if (chance(g, 3))
			dst = src + below(g, 32) - 16;
		set_reg(b, R_ESI, src);
		set_reg(b, R_EDI, dst);
		set_reg(b, R_ECX, rep ? count : edge32(g));
	}
	/* CMPS/SCAS: make the first elements equal so REPE/REPNE stop inside. */
	unsigned equal = below(g, 6) * osz;
	if (is(f, "cmps")) {
		if (chance(g, 2))
			set_reg(b, R_EDI, c->w.gpr[R_ESI]);     /* identical: all equal */
	}
	if (is(f, "scas")) {
		uint32_t v = c->w.gpr[R_EAX];
		uint32_t base = df ? dst - equal : dst;
		for (unsigned i = 0; i + osz <= equal; i += osz)
			patch_le(b, base + i, v, osz);
	}
	/* A REPE/REPNE CMPS/SCAS that faults part way: the host leaves the
	 * flags of the completed iterations unwritten (they are written when
	 * the instruction completes), which the SDM does not specify. */
	if (rep && (is(f, "cmps") || is(f, "scas")))
		c->fault_undef_flags = ARITH_FLAGS;
	if (rep)
		byte(b, rep);
	if (chance(g, 5) && (is(f, "movs") || is(f, "cmps") || is(f, "lods") || is(f, "outs"))) {
		static const uint8_t seg32[] = { 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65 };
		static const uint8_t seg16[] = { 0x26, 0x3E, 0x64, 0x65 };
		byte(b, a16 ? seg16[below(g, 4)] : seg32[below(g, 6)]);
	}
	if (osz != 1 && (osz == 2) != g->code16)
		byte(b, 0x66);
	if (a16 != g->code16)
		byte(b, 0x67);
	byte(b, f->op);
	snprintf(c->note, sizeof c->note, "%s count %u DF=%d", rep == 0xF3 ? "rep" : rep == 0xF2 ? "repne" : "once",
	         count, df);
	finish(b);
}

static void gen_strings(struct gen *g, unsigned fi, unsigned scale)
{
	const struct form *f = &forms[fi];
	unsigned sizes[2], ns = sizes_of(f, sizes);
	static const uint32_t counts[] = { 0, 1, 2, 3, 5, 8, 17 };
	for (unsigned s = 0; s < ns; s++) {
		unsigned osz = sizes[s];
		char group[32];
		snprintf(group, sizeof group, "string%s", size_suffix(osz));
		for (unsigned i = 0; i < 16 * scale; i++)
			string_case(g, fi, osz, chance(g, 3), 0, chance(g, 2), 0, group);
		/* ES:EDI through a null ES: #GP(0) before anything moves. */
		if (f->opnd[0] == Yb || f->opnd[0] == Yv || f->opnd[1] == Yb || f->opnd[1] == Yv) {
			for (unsigned i = 0; i < 2 * scale; i++) {
				size_t before = g->n;
				string_case(g, fi, osz, false, chance(g, 2) ? 0xF3 : 0, false, 2, group);
				if (g->n > before)
					g->cases[before].w.flags |= DIFF_F_NULL_ES;
			}
		}
		for (int a16 = 0; a16 < 2; a16++) {
			snprintf(group, sizeof group, "string_rep%s", a16 ? "16" : "32");
			for (unsigned ci = 0; ci < sizeof counts / sizeof counts[0]; ci++)
				for (unsigned r = 0; r < 2; r++)
					for (int df = 0; df < 2; df++)
						string_case(g, fi, osz, a16, r ? 0xF2 : 0xF3, df, counts[ci], group);
		}
	}
}

/* ---- per-form generation ------------------------------------------------- */

static const char *kind_group(enum kind k)
{
	switch (k) {
	case K_ALU: return "alu";
	case K_MUL: return "mul";
	case K_DIV: return "div";
	case K_SHIFT: return "shift";
	case K_SHD: return "shld";
	case K_BT: return "bt";
	case K_BSCAN: return "bitscan";
	case K_MOV: return "mov";
	case K_CMOV: return "cmov";
	case K_SETCC: return "setcc";
	case K_BRANCH: return "branch";
	case K_STACK: return "stack";
	case K_FLAGS: return "flags";
	case K_BCD: return "bcd";
	case K_ATOMIC: return "atomic";
	case K_SEG: return "seg";
	case K_TRAP: return "trap";
	case K_PRIV: return "priv";
	default: return "other";
	}
}

static bool sized_group(enum kind k)
{
	return k == K_ALU || k == K_MUL || k == K_DIV || k == K_SHIFT || k == K_SHD || k == K_BT;
}

/* Cases per (form, size, operand kind), before scaling. */
static unsigned reps_for(enum kind k, const struct form *f)
{
	switch (k) {
	case K_SHIFT: case K_SHD: return has_opnd(f, ONE) ? 8 : 40;
	case K_BCD: return is(f, "aam") || is(f, "aad") ? 48 : 1024;
	case K_SEG: return is(f, "lar_lsl") || is(f, "verrw") ? 24 : 16;
	case K_TRAP: return is(f, "intn") ? 12 : 16;
	case K_PRIV: return has_opnd(f, Cd) || has_opnd(f, Dd) ? 8 : 2;
	case K_FLAGS: return 24;
	case K_BRANCH: return 24;
	case K_STACK: return is(f, "enter") ? 32 : 16;
	default: return 24;
	}
}

static void gen_form(struct gen *g, unsigned fi, unsigned scale)
{
	const struct form *f = &forms[fi];
	enum kind k = classify(f);
	if (k == K_SKIP)
		return;
	if (k == K_STRING) {
		gen_strings(g, fi, scale);
		return;
	}
	unsigned sizes[2], ns = sizes_of(f, sizes);
	/* Branches with a 16-bit operand size would truncate EIP to 16 bits. */
	if (k == K_BRANCH) {
		sizes[0] = 4;
		ns = 1;
	}
	bool can_mem = has_modrm(f) && has_rm_operand(f) && !reg_only(f);
	bool can_reg = !has_modrm(f) || !mem_only(f);
	unsigned reps = reps_for(k, f);
	unsigned scaled = (k == K_BCD || k == K_SHIFT || k == K_SHD) ? reps : reps * scale;
	for (unsigned s = 0; s < ns; s++) {
		unsigned osz = sizes[s];
		char group[32];
		snprintf(group, sizeof group, "%s%s", kind_group(k), sized_group(k) ? size_suffix(osz) : "");
		for (int m = 0; m < 2; m++) {
			bool mem = m == 1;
			if (mem ? !can_mem : !can_reg)
				continue;
			for (unsigned v = 0; v < scaled; v++)
				one_case(g, fi, osz, mem, false, v, group);
		}
		/* 16-bit addressing of the same memory operand (LEA and
		 * LOOP/JCXZ with CX too). */
		bool a16_ok = (can_mem && (k == K_ALU || k == K_MOV || k == K_SHIFT || k == K_MUL ||
		                           k == K_CMOV || k == K_SETCC || k == K_ATOMIC || k == K_BSCAN ||
		                           (k == K_BT && has_opnd(f, Ib))))
		              || is(f, "xlat") || has_opnd(f, Ob) || has_opnd(f, Ov) || is(f, "loop");
		if (a16_ok)
			for (unsigned v = 0; v < 4 * scale; v++)
				one_case(g, fi, osz, can_mem, true, v * 7, "addr16");
	}
}

/* LOCK: allowed with a memory destination on A_LOCK forms; #UD otherwise. */
static void gen_lock(struct gen *g, unsigned fi)
{
	const struct form *f = &forms[fi];
	enum kind k = classify(f);
	if (k == K_SKIP || k == K_PRIV || k == K_BRANCH || k == K_STRING)
		return;
	unsigned sizes[2];
	sizes_of(f, sizes);
	bool can_mem = has_modrm(f) && has_rm_operand(f) && !reg_only(f);
	for (int m = 0; m < 2; m++) {
		bool mem = m == 1;
		if (mem && !can_mem)
			continue;
		if (!mem && has_modrm(f) && mem_only(f))
			continue;
		if (!mem && !(f->attr & A_LOCK) && chance(g, 2))
			continue;
		struct build bb, *b = &bb;
		if (!begin(b, g, "lock", fi))
			return;
		struct plan p;
		memset(&p, 0, sizeof p);
		p.fi = fi; p.osz = sizes[0]; p.mem = mem;
		p.reg = (uint8_t)below(g, 8);
		p.opreg = (uint8_t)below(g, 8);
		if (k == K_SEG && (is(f, "mov_to_seg") || is(f, "pop_seg")))
			continue;       /* the selector would need setting up */
		if (k == K_BT && !has_opnd(f, Ib))      /* keep the bit offset near */
			set_reg(b, p.reg, below(g, 64));
		if (has_modrm(f))
			plan_operand(b, &p, mem_size(f, p.osz));
		p.prefix[p.nprefix++] = 0xF0;
		p.imm[0] = 1;
		if (is(f, "enter"))
			set_reg(b, R_EBP, DIFF_DATA_ADDR + 0xE000);
		if (is(f, "leave"))
			set_reg(b, R_EBP, DIFF_DATA_ADDR + 0xE800);
		b->c->undef_flags = f->fundef;
		snprintf(b->c->note, sizeof b->c->note, "lock %s", mem ? "mem" : "reg");
		emit(b, &p);
		finish(b);
	}
}

/* ---- random sequences ---------------------------------------------------- */

/*
 * Sequences of 5-20 instructions with random operands. Registers stay
 * usable as data: ESP is the stack and EBP the base of every memory
 * operand, and neither is ever a destination. The flags the SDM leaves
 * undefined are tracked along the sequence, so no instruction reads one
 * and the final comparison masks those still undefined.
 */
static bool seq_form_ok(const struct form *f)
{
	enum kind k = classify(f);
	switch (k) {
	case K_ALU: case K_MUL: case K_SHIFT: case K_CMOV: case K_SETCC: case K_FLAGS:
	case K_BSCAN: case K_SHD: case K_BT: case K_DIV: case K_BCD: case K_ATOMIC:
		return true;
	case K_MOV:
		/* XCHG with ESP/EBP (94, 95) name them in the opcode. */
		if (is(f, "xchg") && (f->op == 0x94 || f->op == 0x95))
			return false;
		return !is(f, "xlat") && !has_opnd(f, Ob) && !has_opnd(f, Ov);
	case K_STACK:
		return is(f, "push") || is(f, "pop") || is(f, "pushf");
	case K_BRANCH:
		return is(f, "jcc");
	default:
		return false;
	}
}

/* Does the form write its ModRM reg (G) operand, or its opcode register? */
static bool writes_g(const struct form *f)
{
	uint8_t o = f->opnd[0];
	if (o == Gb || o == Gv || o == Gw || o == Gd || o == Zv || o == Zb)
		return true;
	return is(f, "xchg") || is(f, "xadd") || is(f, "cmpxchg");
}

static uint8_t seq_reg(struct gen *g, unsigned osz)
{
	static const uint8_t ok[] = { R_EAX, R_ECX, R_EDX, R_EBX, R_ESI, R_EDI };
	/* With string instructions in the mix ESI and EDI stay pointers. */
	return osz == 1 ? (uint8_t)below(g, 8) : ok[below(g, g->seq_strings ? 4 : 6)];
}

static void gen_sequence(struct gen *g, unsigned *pool, unsigned npool)
{
	struct build bb, *b = &bb;
	if (!begin(b, g, g->code16 ? "random16" : g->seq_strings ? "random_str" : "random", GEN_NO_FORM))
		return;
	struct gcase *c = b->c;
	if (g->seq_strings) {
		set_reg(b, R_ESI, DIFF_DATA_ADDR + 0x6000 + below(g, 256));
		set_reg(b, R_EDI, DIFF_DATA_ADDR + 0x9000 + below(g, 256));
	}
	set_reg(b, R_EBP, DIFF_DATA_ADDR + 0x8000 + below(g, 64) * 4);
	patch_random(b, c->w.gpr[R_EBP] - 32, 64);
	uint32_t undef = 0;
	int depth = 0;                  /* bytes pushed */
	unsigned n = 5 + below(g, 16);      /* at most 20 < GEN_MAX_STEPS */
	unsigned starts[GEN_MAX_STEPS + 1], njmp = 0;
	struct { unsigned at, from, skip; } jumps[8];
	memset(c->step_jump, 0xFF, sizeof c->step_jump);
	unsigned maybe_skipped_until = 0;       /* instruction index */
	unsigned count = 0;
	for (unsigned i = 0; i < n && b->len + 16 <= DIFF_CODE_MAX; i++) {
		const struct form *f = NULL;
		unsigned fi = 0, osz = 4;
		for (int tries = 0; tries < 50; tries++) {
			fi = pool[below(g, npool)];
			f = &forms[fi];
			unsigned sizes[2], ns = sizes_of(f, sizes);
			osz = sizes[below(g, ns)];
			if (f->fread & undef)
				continue;
			if ((is(f, "push") || is(f, "pop") || is(f, "pushf")) && i < maybe_skipped_until)
				continue;
			if (is(f, "pop") && depth < -64)
				continue;
			if ((is(f, "push") || is(f, "pushf")) && depth > 256)
				continue;
			if (is(f, "jcc") && (i + 1 >= n || njmp == 8 || f->map == 2))
				continue;
			if (is(f, "bswap") && osz == 2)
				continue;
			if (classify(f) == K_SHD && osz == 2)
				continue;
			if (is(f, "aam") || is(f, "aad") || is(f, "salc") || is(f, "setflag") ||
			    is(f, "push") || is(f, "pop") || classify(f) == K_DIV)
				if (chance(g, 2))
					continue;       /* less often */
			if (classify(f) == K_BT && !has_opnd(f, Ib) && chance(g, 2))
				continue;
			/* With strings, ESI and EDI are their pointers. */
			if (g->seq_strings && is(f, "xchg") && (f->op == 0x96 || f->op == 0x97))
				continue;
			f = &forms[fi];
			goto chosen;
		}
		break;
chosen:
		if (is(f, "jcc"))
			osz = g->code16 ? 2 : 4;        /* no 66: the rel8 must follow the opcode */
		starts[i] = b->len;
		count = i + 1;
		c->step_form[i] = (uint16_t)fi;
		c->step_undef[i] = undef;
		g->form_used[fi] = true;
		struct plan p;
		memset(&p, 0, sizeof p);
		p.fi = fi; p.osz = osz;
		p.reg = seq_reg(g, writes_g(f) ? osz : 1);
		p.opreg = seq_reg(g, (f->attr & A_BYTE) ? 1 : 4);
		bool can_mem = has_modrm(f) && has_rm_operand(f) && !reg_only(f);
		bool must_mem = has_modrm(f) && mem_only(f);
		/* BT with a register offset into memory reaches anywhere. */
		if (classify(f) == K_BT && !has_opnd(f, Ib))
			can_mem = false;
		if (is(f, "lea"))
			can_mem = must_mem = true;
		p.mem = must_mem || (can_mem && chance(g, 3));
		/* 32-bit addressing for the memory forms below; none (no 67
		 * prefix) otherwise, so a Jcc's rel8 stays where it is put. */
		p.a16 = !p.mem && g->code16;
		if (p.mem) {
			struct addr *a = &p.addr;
			memset(a, 0, sizeof *a);
			switch (below(g, 3)) {
			case 0:
				a->mod = 1; a->rm = R_EBP; a->disp = (uint32_t)(int32_t)(below(g, 64) - 32);
				a->disp_len = 1;
				break;
			case 1:
				/* In the 16-bit code segment DS is the LDT segment
				 * based at the block: an offset into it. */
				a->mod = 0; a->rm = 5;
				a->disp = (g->code16 ? 0 : DIFF_DATA_ADDR) + 0x4000 + below(g, 256);
				a->disp_len = 4;
				break;
			default:
				a->mod = 1; a->rm = 4; a->has_sib = true; a->sib = 0x24;
				a->disp = below(g, 32); a->disp_len = 1;
				break;
			}
		} else {
			p.rm = seq_reg(g, osz);
			/* An r/m that is only read may be anything but ESP/EBP for
			 * 16/32-bit destinations; keep it simple: never ESP/EBP. */
		}
		if (classify(f) == K_SHIFT || classify(f) == K_SHD) {
			if (has_opnd(f, Ib))
				p.imm[0] = below(g, 34);
		} else if (is(f, "aam") || is(f, "aad")) {
			p.imm[0] = 1 + below(g, 255);
		} else if (classify(f) == K_BT && has_opnd(f, Ib)) {
			p.imm[0] = r32(g) & 0xFF;
		} else {
			p.imm[0] = edge32(g);
			p.imm[1] = edge32(g);
		}
		if (is(f, "jcc")) {
			unsigned skip = 1 + below(g, 3);
			if (i + 1 + skip > n)
				skip = n - i - 1;
			jumps[njmp].at = b->len + 1;
			jumps[njmp].from = i;
			jumps[njmp].skip = skip;
			njmp++;
			p.imm[0] = 0;
			if (i + 1 + skip > maybe_skipped_until)
				maybe_skipped_until = i + 1 + skip;
		}
		if (classify(f) == K_STRING) {
			/* A REP gets its count in the same step: mov ecx, 1-6. */
			uint8_t rep = 0;
			if (chance(g, 2))
				rep = (is(f, "cmps") || is(f, "scas")) && chance(g, 2) ? 0xF2 : 0xF3;
			if (rep) {
				byte(b, 0xB9);
				bytes_le(b, 1 + below(g, 6), 4);
				byte(b, rep);
			}
			if (osz == 2)
				byte(b, 0x66);
			byte(b, f->op);
		} else {
			emit(b, &p);
		}

		/* Flag bookkeeping. */
		uint32_t u = f->fundef, defined = f->fwrite;
		enum kind k = classify(f);
		if (k == K_SHIFT || k == K_SHD) {
			unsigned cnt = has_opnd(f, ONE) ? 1 : has_opnd(f, Ib) ? (p.imm[0] & 0x1F) : 99;
			if (cnt == 99) {        /* CL: unknown, maybe zero */
				u = F_OF | F_AF | (osz < 4 ? F_CF : 0);
				if (k == K_SHD)
					u = ARITH_FLAGS;
				defined = 0;
			} else if (k == K_SHIFT) {
				u = shift_undef(f->arg, cnt, osz);
				defined = cnt ? f->fwrite & ~u : 0;
			} else {
				u = shd_undef(cnt, osz);
				defined = cnt ? f->fwrite & ~u : 0;
			}
		}
		if (i < maybe_skipped_until && !is(f, "jcc"))
			defined = 0;
		undef = (undef & ~defined) | u;
		if (is(f, "push") && !has_modrm(f)) depth += (int)osz;
		if (is(f, "push") && has_modrm(f)) depth += (int)osz;
		if (is(f, "pushf")) depth += (int)osz;
		if (is(f, "pop")) depth -= (int)osz;
	}
	if (count == 0 || b->overflow) {
		return;
	}
	starts[count] = b->len;
	for (unsigned j = 0; j < njmp; j++) {
		unsigned to = jumps[j].from + 1 + jumps[j].skip;
		if (to > count)
			to = count;
		unsigned target = starts[to];
		unsigned next = jumps[j].at + 1;
		c->w.code[jumps[j].at] = (uint8_t)(target - next);
		c->step_jump[jumps[j].from] = (uint8_t)to;
	}
	c->nsteps = (uint8_t)count;
	for (unsigned i = 0; i <= count; i++)
		c->step_off[i] = (uint8_t)starts[i];
	c->step_undef[count] = undef;
	c->undef_flags = undef;
	snprintf(c->note, sizeof c->note, "%u instructions", count);
	finish(b);
}

/* ---- self-modifying code, prefixes, alignment checks ------------------- */

static unsigned find_form(unsigned map, unsigned op, unsigned ext)
{
	for (unsigned fi = 0; fi < NFORMS; fi++) {
		const struct form *f = &forms[fi];
		unsigned span = (f->attr & A_OPREG) ? 8 : 1;
		if (f->map == map && op >= f->op && op < f->op + span && (f->ext == NX || f->ext == ext))
			return fi;
	}
	return GEN_NO_FORM;
}

/*
 * Code that writes its own instruction stream ahead of (or behind) EIP.
 * The host detects such stores and executes the new bytes; a translator
 * must drop the stale translation, even inside the block being run.
 */
static void gen_smc(struct gen *g, unsigned scale)
{
	static const uint8_t repl[] = { 0x48, 0x90, 0x43, 0x4B, 0x40, 0xF8, 0xF9, 0x99 };
	for (unsigned i = 0; i < 24 * scale; i++) {
		struct build bb, *b = &bb;
		/* mov byte [X], new; k x inc ecx; X: inc eax; inc eax */
		if (!begin(b, g, "smc", find_form(1, 0xC6, 0)))
			return;
		unsigned k = below(g, 6);
		uint32_t x = DIFF_CODE_ADDR + 7 + k;
		uint8_t nb = repl[below(g, 8)];
		byte(b, 0xC6); byte(b, 0x05); bytes_le(b, x, 4); byte(b, nb);
		for (unsigned j = 0; j < k; j++)
			byte(b, 0x41);
		byte(b, 0x40); byte(b, 0x40);
		snprintf(b->c->note, sizeof b->c->note, "patch +%u with %02x", k, nb);
		finish(b);
	}
	for (unsigned i = 0; i < 12 * scale; i++) {
		struct build bb, *b = &bb;
		/* mov dword [imm of the next mov], v; mov eax, old */
		if (!begin(b, g, "smc", find_form(1, 0xC7, 0)))
			return;
		uint32_t v = edge32(g);
		byte(b, 0xC7); byte(b, 0x05); bytes_le(b, DIFF_CODE_ADDR + 10 + 1, 4); bytes_le(b, v, 4);
		byte(b, 0xB8); bytes_le(b, 0x11111111, 4);
		snprintf(b->c->note, sizeof b->c->note, "new immediate");
		finish(b);
	}
	for (unsigned i = 0; i < 12 * scale; i++) {
		struct build bb, *b = &bb;
		/* L: add byte [Y+2], 1; Y: add eax, imm8; loop L: the
		 * immediate changes on every pass. */
		if (!begin(b, g, "smc", find_form(1, 0x80, 0)))
			return;
		set_reg(b, R_ECX, 1 + below(g, 6));
		byte(b, 0x80); byte(b, 0x05); bytes_le(b, DIFF_CODE_ADDR + 7 + 2, 4); byte(b, 1);
		byte(b, 0x83); byte(b, 0xC0); byte(b, (uint8_t)below(g, 256));
		byte(b, 0xE2); byte(b, (uint8_t)(0 - 12));
		snprintf(b->c->note, sizeof b->c->note, "loop rewriting itself");
		finish(b);
	}
	for (unsigned i = 0; i < 12 * scale; i++) {
		struct build bb, *b = &bb;
		/* rep movsb new code from the data block over the next bytes. */
		if (!begin(b, g, "smc", find_form(1, 0xA4, NX)))
			return;
		unsigned n = 1 + below(g, 4);
		uint32_t src = DIFF_DATA_ADDR + 0x3000;
		uint8_t code[4];
		for (unsigned j = 0; j < n; j++)
			code[j] = repl[below(g, 8)];
		patch(b, src, code, n);
		set_reg(b, R_ESI, src);
		set_reg(b, R_EDI, DIFF_CODE_ADDR + 3 + below(g, 2));
		set_reg(b, R_ECX, n);
		b->c->w.eflags &= ~F_DF;
		byte(b, 0xF3); byte(b, 0xA4);
		byte(b, 0x90);
		for (unsigned j = 0; j < 5; j++)
			byte(b, 0x40);
		snprintf(b->c->note, sizeof b->c->note, "rep movsb over %u code bytes", n);
		finish(b);
	}
}

/* Redundant and repeated prefixes: the last segment override wins, LOCK
 * may sit anywhere among them, and more than 15 bytes is #GP(0). */
static void gen_prefixes(struct gen *g, unsigned scale)
{
	static const uint8_t seg32[] = { 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65 };
	static const uint8_t seg16[] = { 0x26, 0x3E, 0x64, 0x65 };
	unsigned mov_load = find_form(1, 0x8B, NX), add_store = find_form(1, 0x01, NX);
	for (unsigned i = 0; i < 48 * scale; i++) {
		struct build bb, *b = &bb;
		bool a16 = chance(g, 2), store = chance(g, 2);
		if (!begin(b, g, "prefix", store ? add_store : mov_load))
			return;
		struct plan p;
		memset(&p, 0, sizeof p);
		p.fi = store ? add_store : mov_load;
		p.osz = 4;
		p.mem = true;
		p.a16 = a16;
		p.reg = (uint8_t)below(g, 8);
		plan_operand(b, &p, 4);
		/* In 16-bit addressing only the LDT-based segments reach the
		 * block, so the last override is one of them; the earlier
		 * ones would send the access elsewhere if they won. */
		unsigned n = 1 + below(g, 4);
		for (unsigned j = 0; j + 1 < n; j++)
			p.prefix[p.nprefix++] = seg32[below(g, 6)];
		p.prefix[p.nprefix++] = a16 ? seg16[below(g, 4)] : seg32[below(g, 6)];
		p.addr.seg_prefix = 0;
		if (store && chance(g, 3) && p.nprefix < 4) {
			unsigned at = below(g, p.nprefix + 1);
			memmove(p.prefix + at + 1, p.prefix + at, p.nprefix - at);
			p.prefix[at] = 0xF0;
			p.nprefix++;
		}
		snprintf(b->c->note, sizeof b->c->note, "%u prefixes", p.nprefix);
		emit(b, &p);
		finish(b);
	}
	for (unsigned len = 12; len <= 17; len++) {
		for (unsigned i = 0; i < 2 * scale; i++) {
			struct build bb, *b = &bb;
			if (!begin(b, g, "prefix", add_store))
				return;
			/* add eax, ebx (2 bytes) behind len-2 prefixes */
			for (unsigned j = 0; j + 2 < len; j++)
				byte(b, chance(g, 4) ? 0x66 : seg32[below(g, 6)]);
			byte(b, 0x01); byte(b, 0xD8);
			snprintf(b->c->note, sizeof b->c->note, "%u bytes long", len);
			finish(b);
		}
	}
}

/* EFLAGS.AC with CR0.AM at ring 3: misaligned accesses are #AC(0). */
static void gen_align(struct gen *g, unsigned scale)
{
	unsigned mov_load = find_form(1, 0x8B, NX), mov_store = find_form(1, 0x89, NX);
	unsigned movzw = find_form(2, 0xB7, NX);
	for (unsigned i = 0; i < 32 * scale; i++) {
		struct build bb, *b = &bb;
		unsigned which = below(g, 4);
		unsigned fi = which == 0 ? mov_load : which == 1 ? mov_store : which == 2 ? movzw : mov_load;
		if (!begin(b, g, "align", fi))
			return;
		/* push flags with AC; popf; the access; (and AC stays set) */
		uint32_t fl = (r32(g) & (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)) | F_AC | 0x202;
		byte(b, 0x68); bytes_le(b, fl, 4);
		byte(b, 0x9D);
		if (which == 3) {       /* a push through a misaligned ESP */
			set_reg(b, R_ESP, DIFF_STACK_TOP - 1 - below(g, 3) - 4 * below(g, 4));
			byte(b, 0x50);
		} else {
			unsigned off = below(g, 8);
			uint32_t t = DIFF_DATA_ADDR + 0x2000 + 8 * below(g, 64) + off;
			set_reg(b, R_EBX, t);
			if (which == 2)
				byte(b, 0x0F);
			byte(b, which == 0 ? 0x8B : which == 1 ? 0x89 : 0xB7);
			byte(b, 0x03);                  /* eax, [ebx] */
			snprintf(b->c->note, sizeof b->c->note, "address %% 8 = %u", off);
		}
		finish(b);
	}
}

/*
 * With paging on in our CPU, the host's unmapped neighbourhood of the
 * data block and code page is not-present in both: accesses that straddle
 * the block's ends or leave it must #PF with the same CR2 and error code,
 * having written nothing (a page-split store is all or nothing), and
 * REP string instructions must stop at the fault with their registers
 * part way.
 */
static void gen_paging(struct gen *g, unsigned scale)
{
	static const struct { uint8_t map, op, ext; unsigned size; } mem[] = {
		{ 1, 0x8B, NX, 4 }, { 1, 0x89, NX, 4 }, { 1, 0x01, NX, 4 }, { 1, 0x87, NX, 4 },
		{ 2, 0xB1, NX, 4 }, { 2, 0xC7, 1, 8 }, { 1, 0xFF, 6, 4 }, { 1, 0x8F, 0, 4 },
		{ 1, 0x8A, NX, 1 }, { 2, 0xB7, NX, 2 },
	};
	const uint32_t end = DIFF_DATA_ADDR + DIFF_DATA_SIZE;
	for (unsigned i = 0; i < 64 * scale; i++) {
		unsigned m = below(g, sizeof mem / sizeof mem[0]);
		unsigned fi = find_form(mem[m].map, mem[m].op, mem[m].ext);
		struct build bb, *b = &bb;
		if (fi == GEN_NO_FORM || !begin(b, g, "pagefault", fi))
			return;
		b->c->w.flags |= DIFF_F_PAGING;
		bool o16 = mem[m].size == 4 && chance(g, 3);
		unsigned size = o16 ? 2 : mem[m].size;
		uint32_t ea;
		switch (below(g, 4)) {
		case 0: ea = end - 1 - below(g, size > 1 ? size - 1 : 1); break;   /* straddles the end */
		case 1: ea = end + below(g, 64); break;                         /* past it */
		case 2: ea = DIFF_DATA_ADDR - 1 - below(g, size); break;         /* starts below */
		default: ea = end - size - below(g, 4); break;                   /* just inside */
		}
		set_reg(b, R_EBX, ea);
		if (o16)
			byte(b, 0x66);
		if (mem[m].map == 2)
			byte(b, 0x0F);
		byte(b, mem[m].op);
		byte(b, (uint8_t)(((mem[m].ext == NX ? below(g, 8) : mem[m].ext) & 7) << 3 | R_EBX));
		if (mem[m].op == 0x8F || mem[m].op == 0xFF)
			b->c->w.code[b->len - 1] = (uint8_t)(mem[m].ext << 3 | R_EBX);
		snprintf(b->c->note, sizeof b->c->note, "address %08x", ea);
		finish(b);
	}
	for (unsigned i = 0; i < 24 * scale; i++) {
		struct build bb, *b = &bb;
		unsigned what = below(g, 4);
		static const uint8_t ops[] = { 0x50, 0x58, 0xE8, 0x60 };
		if (!begin(b, g, "pagefault", find_form(1, ops[what], NX)))
			return;
		b->c->w.flags |= DIFF_F_PAGING;
		if (what == 1)          /* pop through the end */
			set_reg(b, R_ESP, end - below(g, 6));
		else                    /* push/call/pusha through the start */
			set_reg(b, R_ESP, DIFF_DATA_ADDR + below(g, what == 3 ? 40 : 8));
		if (chance(g, 3) && what != 2)
			byte(b, 0x66);
		byte(b, ops[what]);
		if (what == 2)
			bytes_le(b, 0, 4);
		snprintf(b->c->note, sizeof b->c->note, "esp %08x", b->c->w.gpr[R_ESP]);
		finish(b);
	}
	for (unsigned i = 0; i < 24 * scale; i++) {
		/* REP STOS/MOVS/LODS running off either end of the block. */
		static const uint8_t ops[] = { 0xAA, 0xAB, 0xA4, 0xA5, 0xAD };
		uint8_t op = ops[below(g, 5)];
		struct build bb, *b = &bb;
		if (!begin(b, g, "pagefault", find_form(1, op, NX)))
			return;
		b->c->w.flags |= DIFF_F_PAGING;
		bool df = chance(g, 2);
		unsigned n = 2 + below(g, 6), osz = (op & 1) ? 4 : 1;
		uint32_t edge = df ? DIFF_DATA_ADDR + osz * below(g, 4) + below(g, osz)
		                   : end - osz * below(g, 4) - 1 - below(g, osz);
		if (df)
			b->c->w.eflags |= F_DF;
		else
			b->c->w.eflags &= ~F_DF;
		set_reg(b, R_ECX, n);
		if (op == 0xAD) {
			set_reg(b, R_ESI, edge);
		} else {
			set_reg(b, R_EDI, edge);
			set_reg(b, R_ESI, DIFF_DATA_ADDR + 0x4000);
		}
		byte(b, 0xF3);
		byte(b, op);
		snprintf(b->c->note, sizeof b->c->note, "rep, edge %08x DF=%d", edge, df);
		finish(b);
	}
	for (unsigned i = 0; i < 8 * scale; i++) {
		/* Jumps to unmapped code: #PF on the fetch, CR2 = EIP = target. */
		static const uint32_t targets[] = {
			DIFF_CODE_ADDR + 0x1000u, DIFF_CODE_ADDR + 0x8000u,
			DIFF_DATA_ADDR - 0x1000u, DIFF_DATA_ADDR + DIFF_DATA_SIZE + 0x2000u,
		};      /* inside the native runner's guards */
		struct build bb, *b = &bb;
		if (!begin(b, g, "pagefault", find_form(1, 0xFF, 4)))
			return;
		b->c->w.flags |= DIFF_F_PAGING;
		set_reg(b, R_EAX, targets[below(g, 4)] + below(g, 16));
		byte(b, 0xFF);
		byte(b, 0xE0);          /* jmp eax */
		finish(b);
	}
}

/*
 * Single-stepping: POPF sets TF, and the #DB trap (vector 1) follows the
 * next instruction; after MOV SS/POP SS one instruction later still; a
 * REP string instruction traps after each iteration; a faulting
 * instruction raises its fault instead; PUSHF pushes TF; a POPF that
 * clears TF still traps.
 */
static void gen_singlestep(struct gen *g, unsigned scale)
{
	unsigned popf = find_form(1, 0x9D, NX);
	for (unsigned i = 0; i < 48 * scale; i++) {
		struct build bb, *b = &bb;
		if (!begin(b, g, "singlestep", popf))
			return;
		struct gcase *c = b->c;
		uint32_t fl = (r32(g) & (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)) | F_TF | 0x202;
		byte(b, 0x68); bytes_le(b, fl, 4);      /* push flags with TF */
		byte(b, 0x9D);                          /* popf */
		const char *what;
		switch (below(g, 9)) {
		case 0: what = "add"; byte(b, 0x01); byte(b, 0xD8); break;
		case 1: what = "mov ss"; set_reg(b, R_EAX, DIFF_SEL_DATA3);
			byte(b, 0x8E); byte(b, 0xD0); break;                       /* mov ss, ax */
		case 2: what = "pop ss"; patch_le(b, c->w.gpr[R_ESP] - 4, DIFF_SEL_DATA3, 4);
			byte(b, 0x83); byte(b, 0xEC); byte(b, 0x04);               /* sub esp, 4 */
			byte(b, 0x17); break;
		case 3: what = "rep movsb";
			set_reg(b, R_ESI, DIFF_DATA_ADDR + 0x3000);
			set_reg(b, R_EDI, DIFF_DATA_ADDR + 0x5000);
			set_reg(b, R_ECX, 1 + below(g, 4));
			byte(b, 0xF3); byte(b, 0xA4); break;
		case 4: what = "jmp"; byte(b, 0xEB); byte(b, 0x01); byte(b, 0x40); break;
		case 5: what = "div by 0"; set_reg(b, R_ECX, 0);
			byte(b, 0xF7); byte(b, 0xF1); break;
		case 6: what = "pushf"; byte(b, 0x9C); break;
		case 7: what = "popf clearing TF";
			byte(b, 0x68); bytes_le(b, 0x202, 4);
			byte(b, 0x9D); break;
		default: what = "int3"; byte(b, 0xCC); break;
		}
		for (unsigned j = 0; j < 3; j++)
			byte(b, 0x40 + (uint8_t)below(g, 4));  /* inc eax..ebx */
		snprintf(c->note, sizeof c->note, "TF, then %s", what);
		finish(b);
	}
}

/*
 * Memory operands through FS and GS based at the data block (a 4 GiB
 * segment with a non-zero base, like Linux's per-CPU and TLS segments),
 * and loading that selector before using it.
 */
static void gen_segbase(struct gen *g, unsigned scale)
{
	g->based = true;
	for (unsigned fi = 0; fi < NFORMS; fi++) {
		const struct form *f = &forms[fi];
		enum kind k = classify(f);
		if (k != K_ALU && k != K_MOV && k != K_SHIFT && k != K_MUL && k != K_CMOV &&
		    k != K_SETCC && k != K_ATOMIC && k != K_BSCAN && !(k == K_BT && has_opnd(f, Ib)) &&
		    !(k == K_STACK && has_modrm(f)))
			continue;
		if (!has_modrm(f) || !has_rm_operand(f) || reg_only(f) || is(f, "xlat"))
			continue;
		unsigned sizes[2], ns = sizes_of(f, sizes);
		for (unsigned s = 0; s < ns; s++)
			for (unsigned v = 0; v < 2 * scale; v++)
				one_case(g, fi, sizes[s], true, false, v, "segbase");
	}
	g->based = false;
	unsigned mov_to_seg = find_form(1, 0x8E, NX);
	for (unsigned i = 0; i < 16 * scale; i++) {
		struct build bb, *b = &bb;
		if (!begin(b, g, "segbase", mov_to_seg))
			return;
		/* mov fs/gs, ax (the based selector); mov ebx, fs/gs:[offset] */
		bool gs = chance(g, 2);
		uint32_t off = 0x100 + below(g, 0xE000);
		set_reg(b, R_EAX, (r32(g) & 0xFFFF0000u) | (chance(g, 4) ? (DIFF_SEL_BASED & ~3u) : DIFF_SEL_BASED));
		byte(b, 0x8E); byte(b, gs ? 0xE8 : 0xE0);
		byte(b, gs ? 0x65 : 0x64); byte(b, 0x8B); byte(b, 0x1D); bytes_le(b, off, 4);
		snprintf(b->c->note, sizeof b->c->note, "load %s, then offset %#x", gs ? "gs" : "fs", off);
		finish(b);
	}
}

/*
 * Register operands where only memory is allowed are #UD. Only forms whose
 * register encoding is undefined on the host too: not BOUND, LES/LDS
 * (EVEX/VEX prefixes there) or the 0F 01 group (VMX, XGETBV...).
 */
static void gen_ud(struct gen *g, unsigned scale)
{
	static const struct { uint8_t map, op, ext; } mem_only_forms[] = {
		{ 1, 0x8D, NX }, { 2, 0xB2, NX }, { 2, 0xB4, NX }, { 2, 0xB5, NX },
		{ 2, 0xC7, 1 }, { 1, 0xFF, 3 }, { 1, 0xFF, 5 },
	};
	for (size_t i = 0; i < sizeof mem_only_forms / sizeof mem_only_forms[0]; i++) {
		unsigned fi = find_form(mem_only_forms[i].map, mem_only_forms[i].op, mem_only_forms[i].ext);
		if (fi == GEN_NO_FORM)
			continue;
		for (unsigned k = 0; k < 8 * scale; k++) {
			struct build bb, *b = &bb;
			if (!begin(b, g, "ud", fi))
				return;
			if (chance(g, 3))
				byte(b, 0x66);
			if (mem_only_forms[i].map == 2)
				byte(b, 0x0F);
			byte(b, mem_only_forms[i].op);
			unsigned reg = mem_only_forms[i].ext == NX ? below(g, 8) : mem_only_forms[i].ext;
			byte(b, (uint8_t)(0xC0 | reg << 3 | below(g, 8)));
			snprintf(b->c->note, sizeof b->c->note, "register operand");
			finish(b);
		}
	}
}

/*
 * The same forms in a 16-bit code segment: operand and address sizes
 * default to 16 (66 and 67 select 32), near branches are rel16 and EIP an
 * offset. Memory operands use 16-bit addressing into the LDT data
 * segment; the stack stays the flat 32-bit one.
 */
static void gen_code16(struct gen *g, unsigned scale)
{
	g->code16 = true;
	for (unsigned fi = 0; fi < NFORMS; fi++) {
		const struct form *f = &forms[fi];
		enum kind k = classify(f);
		if (k == K_SKIP)
			continue;
		if (is(f, "callf") || is(f, "jmpf") || is(f, "callf_ind") || is(f, "jmpf_ind") ||
		    is(f, "retf") || is(f, "iret"))
			continue;       /* would return to a 32-bit segment's offsets */
		unsigned sizes[2], ns = sizes_of(f, sizes);
		if (k == K_BRANCH) {
			sizes[0] = 2;
			ns = 1;
		}
		if (k == K_STRING) {
			for (unsigned s = 0; s < ns; s++)
				for (unsigned i = 0; i < 4 * scale; i++)
					string_case(g, fi, sizes[s], true, chance(g, 2) ? 0xF3 : 0, chance(g, 2),
					            below(g, 6), "code16");
			continue;
		}
		bool can_mem = has_modrm(f) && has_rm_operand(f) && !reg_only(f);
		bool can_reg = !has_modrm(f) || !mem_only(f);
		if (k == K_BT && !has_opnd(f, Ib))
			can_mem = false;        /* its bit offset needs 32-bit addressing */
		for (unsigned s = 0; s < ns; s++) {
			for (int m = 0; m < 2; m++) {
				bool mem = m == 1;
				if (mem ? !can_mem : !can_reg)
					continue;
				unsigned reps = k == K_SHIFT || k == K_SHD ? 12 : 4;
				for (unsigned v = 0; v < reps * scale; v++)
					one_case(g, fi, sizes[s], mem, true, k == K_SHIFT || k == K_SHD ? below(g, 40) : v,
					         "code16");
			}
		}
	}
	g->code16 = false;
}

/* ---- entry points -------------------------------------------------------- */

bool gen_form_tested(const struct gen *g, unsigned fi)
{
	return fi < NFORMS && g->form_used[fi];
}

void gen_prefix(const struct gcase *c, unsigned k, struct gcase *out)
{
	*out = *c;
	if (k >= c->nsteps)
		return;
	out->nsteps = (uint8_t)k;
	out->w.code_len = c->step_off[k];
	out->undef_flags = c->step_undef[k];
	/* Jumps past the cut land on the new end. */
	for (unsigned i = 0; i < k; i++) {
		if (c->step_jump[i] == 0xFF || c->step_jump[i] <= k)
			continue;
		unsigned next = c->step_off[i + 1];
		out->w.code[next - 1] = (uint8_t)(c->step_off[k] - next);
		out->step_jump[i] = (uint8_t)k;
	}
	snprintf(out->note, sizeof out->note, "first %u instructions", k);
}

uint32_t gen_undef_at(const struct gcase *c, uint32_t eip)
{
	uint32_t base = (c->w.flags & DIFF_F_CODE16) ? 0 : DIFF_CODE_ADDR;    /* EIP: an offset */
	for (unsigned i = 0; i < c->nsteps; i++)
		if (eip == base + c->step_off[i])
			return c->step_undef[i];
	return c->undef_flags;
}

const char *gen_form_name(unsigned fi, char *buf, size_t len)
{
	if (fi >= NFORMS) {
		snprintf(buf, len, "sequence");
		return buf;
	}
	const struct form *f = &forms[fi];
	if (f->ext != NX)
		snprintf(buf, len, "%s (%s%02X /%u)", f->mnem, f->map == 2 ? "0F " : "", f->op, f->ext);
	else
		snprintf(buf, len, "%s (%s%02X)", f->mnem, f->map == 2 ? "0F " : "", f->op);
	return buf;
}

/* Is the form's mnemonic in the comma-separated list? */
static bool listed(const struct form *f, const char *list)
{
	size_t n = strlen(f->mnem);
	for (const char *p = list; p && *p; ) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && strncmp(p, f->mnem, n) == 0)
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

int gen_all(struct gen *g, uint64_t seed, unsigned nseq, unsigned scale, const char *seq_skip)
{
	memset(g, 0, sizeof *g);
	g->rng = seed ? seed : 1;
	g->forms_total = (unsigned)NFORMS;
	g->form_used = calloc(NFORMS, sizeof *g->form_used);
	if (!g->form_used)
		return -1;
	if (scale == 0)
		scale = 1;
	for (unsigned fi = 0; fi < NFORMS; fi++)
		gen_form(g, fi, scale);
	for (unsigned fi = 0; fi < NFORMS; fi++)
		gen_lock(g, fi);
	gen_smc(g, scale);
	gen_prefixes(g, scale);
	gen_align(g, scale);
	gen_paging(g, scale);
	gen_code16(g, scale);
	gen_ud(g, scale);
	gen_singlestep(g, scale);
	gen_segbase(g, scale);
	unsigned pool[NFORMS], npool = 0;
	for (unsigned fi = 0; fi < NFORMS; fi++)
		if (seq_form_ok(&forms[fi]) && !listed(&forms[fi], seq_skip))
			pool[npool++] = fi;
	for (unsigned i = 0; i < nseq && npool; i++)
		gen_sequence(g, pool, npool);
	/* A third as many with string instructions (ESI/EDI reserved). */
	unsigned spool[NFORMS * 2], nspool = 0;
	for (unsigned fi = 0; fi < npool; fi++)
		spool[nspool++] = pool[fi];
	for (unsigned fi = 0; fi < NFORMS; fi++)
		if (classify(&forms[fi]) == K_STRING && !listed(&forms[fi], seq_skip))
			for (int w = 0; w < 6 && nspool < NFORMS * 2; w++)     /* about one in five */
				spool[nspool++] = fi;
	g->seq_strings = true;
	for (unsigned i = 0; i < nseq / 3 && npool; i++)
		gen_sequence(g, spool, nspool);
	g->seq_strings = false;
	/* A third as many in the 16-bit code segment (32-bit addressing
	 * through EBP/ESP, which default to the flat SS). */
	g->code16 = true;
	for (unsigned i = 0; i < nseq / 3 && npool; i++)
		gen_sequence(g, pool, npool);
	g->code16 = false;
	for (unsigned fi = 0; fi < NFORMS; fi++)
		g->forms_tested += g->form_used[fi];
	return g->failed ? -1 : 0;
}

void gen_free(struct gen *g)
{
	for (unsigned i = 0; i < g->ngroups; i++)
		free((char *)g->groups[i]);
	free(g->cases);
	free(g->form_used);
	memset(g, 0, sizeof *g);
}
