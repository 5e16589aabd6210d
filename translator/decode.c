/*
 * The instruction decoder: bytes to struct insn, driven by insns.def.
 * Handles every legacy prefix, the one-byte and 0F maps, ModRM/SIB in 16-
 * and 32-bit addressing, immediates, the 15-byte limit and the #UD cases
 * (undefined forms, illegal LOCK, register operands where only memory is
 * allowed). It does not know what instructions do.
 */
#include <string.h>

#include "translator/insn.h"

const struct insn_form insn_forms[] = {
#define X(map, op, ext, mnem, fn, arg, o1, o2, o3, fr, fw, fu, attr) \
	{ map, op, ext, mnem, arg, { o1, o2, o3 }, fr, fw, fu, attr },
#include "translator/insns.def"
#undef X
};
const unsigned insn_form_count = sizeof(insn_forms) / sizeof(insn_forms[0]);

void decoder_init(struct decoder *d)
{
	memset(d, 0, sizeof(*d));
	for (unsigned k = 0; k < insn_form_count; k++) {
		const struct insn_form *f = &insn_forms[k];
		unsigned span = (f->attr & A_OPREG) ? 8 : 1;
		for (unsigned r = 0; r < span; r++) {
			uint16_t *slot = &d->first[f->map - 1][(uint8_t)(f->op + r)];
			if (*slot == 0)
				*slot = (uint16_t)(k + 1);
		}
	}
}

static bool opk_has_modrm(uint8_t k)
{
	switch (k) {
	case E: case Eb: case Ev: case Ew: case Ed: case Gb: case Gv: case Gw: case Gd:
	case M: case Mp: case Mq: case Ms: case Rd: case Sw: case Cd: case Dd:
		return true;
	default:
		return false;
	}
}

static bool form_matches(const struct insn_form *f, unsigned map, uint8_t op)
{
	if (f->map != map)
		return false;
	if (f->attr & A_OPREG)
		return op >= f->op && op - f->op < 8;
	return f->op == op;
}

struct cursor {
	decode_fetch_fn fetch;
	void *ctx;
	unsigned pos;
	enum decode_status status;
};

/* Next byte, or -1 with the status set (fetch fault or the 15-byte limit). */
static int next_byte(struct cursor *c)
{
	if (c->pos >= 15) {
		c->status = DECODE_GP;
		return -1;
	}
	int b = c->fetch(c->ctx, c->pos);
	if (b < 0) {
		c->status = DECODE_FETCH;
		return -1;
	}
	c->pos++;
	return b;
}

static bool next_n(struct cursor *c, unsigned n, uint32_t *out)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < n; i++) {
		int b = next_byte(c);
		if (b < 0)
			return false;
		v |= (uint32_t)b << (8 * i);
	}
	*out = v;
	return true;
}

static uint32_t sext(uint32_t v, unsigned bytes)
{
	if (bytes == 1)
		return (uint32_t)(int32_t)(int8_t)v;
	if (bytes == 2)
		return (uint32_t)(int32_t)(int16_t)v;
	return v;
}

static bool decode_modrm(struct cursor *c, struct insn *in, bool reg_only)
{
	int m = next_byte(c);
	if (m < 0)
		return false;
	in->modrm = (uint8_t)m;
	unsigned mod = (unsigned)m >> 6, rm = (unsigned)m & 7;
	in->reg = ((unsigned)m >> 3) & 7;
	in->base = in->index = REG_NONE;
	in->scale = 0;
	in->disp = 0;
	if (mod == 3 || reg_only) {
		in->is_mem = false;
		in->rm = (uint8_t)rm;
		return true;
	}
	in->is_mem = true;
	uint8_t defseg = S_DS;
	unsigned dispsz = 0;
	if (in->asz == 2) {
		static const uint8_t base16[8] = { R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI, R_EBP, R_EBX };
		static const uint8_t index16[8] = { R_ESI, R_EDI, R_ESI, R_EDI, REG_NONE, REG_NONE, REG_NONE, REG_NONE };
		if (mod == 0 && rm == 6) {
			dispsz = 2;
		} else {
			in->base = base16[rm];
			in->index = index16[rm];
			if (in->base == R_EBP)
				defseg = S_SS;
			dispsz = mod == 1 ? 1 : mod == 2 ? 2 : 0;
		}
	} else {
		if (rm == 4) {
			int sib = next_byte(c);
			if (sib < 0)
				return false;
			unsigned b = (unsigned)sib & 7, idx = ((unsigned)sib >> 3) & 7;
			in->scale = (uint8_t)((unsigned)sib >> 6);
			in->index = idx == 4 ? REG_NONE : (uint8_t)idx;
			if (b == 5 && mod == 0) {
				dispsz = 4;
			} else {
				in->base = (uint8_t)b;
				if (b == R_ESP || b == R_EBP)
					defseg = S_SS;
			}
		} else if (mod == 0 && rm == 5) {
			dispsz = 4;
		} else {
			in->base = (uint8_t)rm;
			if (rm == R_EBP)
				defseg = S_SS;
		}
		if (mod == 1)
			dispsz = 1;
		else if (mod == 2)
			dispsz = 4;
	}
	if (dispsz) {
		uint32_t d;
		if (!next_n(c, dispsz, &d))
			return false;
		in->disp = sext(d, dispsz);
		if (in->asz == 2)
			in->disp &= 0xffff;
	}
	if (!in->seg_override)
		in->seg = defseg;
	return true;
}

/* Bytes of immediate an operand kind takes. */
static unsigned imm_bytes(uint8_t k, const struct insn *in)
{
	switch (k) {
	case Ib: case Ibs: case Jb: return 1;
	case Iw: return 2;
	case Iz: case Jz: return in->osz == 1 ? 4 : in->osz;
	default: return 0;
	}
}

enum decode_status decode_insn(const struct decoder *d, bool code32,
                               decode_fetch_fn fetch, void *ctx, struct insn *out)
{
	struct cursor c = { fetch, ctx, 0, DECODE_OK };
	struct insn in;
	memset(&in, 0, sizeof(in));
	bool opsize_pfx = false, addrsize_pfx = false;
	in.seg = S_DS;
	int b;
	for (;;) {
		b = next_byte(&c);
		if (b < 0)
			return c.status;
		switch (b) {
		case 0x66: opsize_pfx = true; continue;
		case 0x67: addrsize_pfx = true; continue;
		case 0x26: in.seg = S_ES; in.seg_override = true; continue;
		case 0x2e: in.seg = S_CS; in.seg_override = true; continue;
		case 0x36: in.seg = S_SS; in.seg_override = true; continue;
		case 0x3e: in.seg = S_DS; in.seg_override = true; continue;
		case 0x64: in.seg = S_FS; in.seg_override = true; continue;
		case 0x65: in.seg = S_GS; in.seg_override = true; continue;
		case 0xf0: in.lock = true; continue;
		case 0xf2: case 0xf3: in.rep = (uint8_t)b; continue;
		default: break;
		}
		break;
	}
	unsigned map = 1;
	if (b == 0x0f) {
		map = 2;
		b = next_byte(&c);
		if (b < 0)
			return c.status;
	}
	in.op = (uint8_t)b;
	in.asz = (code32 ^ addrsize_pfx) ? 4 : 2;
	unsigned dflt = (code32 ^ opsize_pfx) ? 4 : 2;

	unsigned k = d->first[map - 1][in.op];
	if (k == 0)
		return DECODE_UD;
	k--;
	const struct insn_form *f = &insn_forms[k];
	bool group = f->ext != NX;
	bool need_modrm = group || opk_has_modrm(f->opnd[0]) ||
	                  opk_has_modrm(f->opnd[1]) || opk_has_modrm(f->opnd[2]);
	if (need_modrm) {
		if (!decode_modrm(&c, &in, (f->attr & A_REG) != 0))
			return c.status;
		if (group) {
			while (k < insn_form_count && form_matches(&insn_forms[k], map, in.op) &&
			       insn_forms[k].ext != in.reg)
				k++;
			if (k >= insn_form_count || !form_matches(&insn_forms[k], map, in.op))
				return DECODE_UD;
			f = &insn_forms[k];
		}
	}
	in.form = (uint16_t)k;
	in.arg = f->arg;
	if ((f->attr & A_OPREG) || f->opnd[0] == Zv || f->opnd[0] == Zb)
		in.reg = in.op & 7;
	if (f->attr & A_BYTE)
		in.osz = 1;
	else if (f->attr & A_FIXSIZE)
		in.osz = 4;
	else if (f->attr & A_SIZE16)
		in.osz = 2;
	else
		in.osz = (uint8_t)dflt;
	/* LOCK is legal only on the listed read-modify-write forms with a memory destination. */
	if (in.lock && (!(f->attr & A_LOCK) || !in.is_mem))
		return DECODE_UD;
	if ((f->attr & A_MEM) && !in.is_mem)
		return DECODE_UD;

	/* Immediates, in operand order. */
	for (unsigned o = 0; o < 3; o++) {
		uint8_t kind = f->opnd[o];
		uint32_t v;
		if (kind == Ap) {
			/* offset (16/32 by operand size) then selector */
			unsigned n = dflt;
			if (!next_n(&c, n, &v))
				return c.status;
			in.imm = v;
			if (!next_n(&c, 2, &v))
				return c.status;
			in.imm2 = v;
			in.osz = (uint8_t)dflt;
			continue;
		}
		if (kind == Ob || kind == Ov) {
			if (!next_n(&c, in.asz, &v))
				return c.status;
			in.disp = v;
			in.is_mem = true;
			in.base = in.index = REG_NONE;
			continue;
		}
		unsigned n = imm_bytes(kind, &in);
		if (!n)
			continue;
		if (kind == Iz && in.osz == 1)
			n = dflt;
		if (!next_n(&c, n, &v))
			return c.status;
		if (kind == Ibs || kind == Jb || kind == Jz)
			v = sext(v, n);
		if (o > 0 && (kind == Ib) && f->opnd[0] == Iw)
			in.imm2 = v;    /* ENTER's nesting level */
		else
			in.imm = v;
	}
	in.len = (uint8_t)c.pos;
	*out = in;
	return DECODE_OK;
}
