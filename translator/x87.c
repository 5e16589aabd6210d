/*
 * The x87 FPU: instruction semantics over the software extended-precision
 * arithmetic. This first version holds the state, its save/load and the
 * wait classification; instructions are filled in behind x87_exec().
 */
#include "translator/x87.h"

#include <string.h>

#include "lib/sbuf.h"

#define X87_SAVE_VERSION 1

void x87_init(struct x87 *fpu)
{
	memset(fpu, 0, sizeof(*fpu));
	fpu->cw = 0x037f;
	fpu->sw = 0;
	fpu->tw = 0xffff;
	fpu->mxcsr = 0x1f80;
}

bool x87_error_pending(const struct x87 *fpu)
{
	return (fpu->sw & 0x0080) != 0;
}

bool x87_insn_waits(uint16_t opcode, uint8_t modrm)
{
	unsigned reg = (modrm >> 3) & 7;
	bool mem = modrm < 0xc0;

	if (opcode == 0x0fae)
		return false;           /* FXSAVE/FXRSTOR do not check pending errors */
	if (opcode == 0xd9 && mem && (reg == 6 || reg == 7))
		return false;           /* FNSTENV, FNSTCW */
	if (opcode == 0xdd && mem && (reg == 6 || reg == 7))
		return false;           /* FNSAVE, FNSTSW m16 */
	if (opcode == 0xdb && !mem && (modrm == 0xe0 || modrm == 0xe1 ||
	                               modrm == 0xe2 || modrm == 0xe3 || modrm == 0xe4))
		return false;           /* FNENI, FNDISI, FNCLEX, FNINIT, FNSETPM */
	if (opcode == 0xdf && modrm == 0xe0)
		return false;           /* FNSTSW AX */
	return true;
}

enum x87_result x87_exec(struct x87 *fpu, const struct x87_insn *insn,
                         const struct x87_mem *mem, struct x87_out *out)
{
	(void)fpu; (void)insn; (void)mem;
	memset(out, 0, sizeof(*out));
	return X87_UD;
}

void x87_save(const struct x87 *fpu, struct sbuf *sb)
{
	size_t mark = sbuf_begin(sb, "x87", X87_SAVE_VERSION);

	for (int i = 0; i < 8; i++) {
		sbuf_put_u64(sb, fpu->r[i].mant);
		sbuf_put_u16(sb, fpu->r[i].sign_exp);
	}
	sbuf_put_u16(sb, fpu->cw);
	sbuf_put_u16(sb, fpu->sw);
	sbuf_put_u16(sb, fpu->tw);
	sbuf_put_u16(sb, fpu->fop);
	sbuf_put_u32(sb, fpu->fip);
	sbuf_put_u32(sb, fpu->fdp);
	sbuf_put_u16(sb, fpu->fcs);
	sbuf_put_u16(sb, fpu->fds);
	sbuf_put_u32(sb, fpu->mxcsr);
	sbuf_end(sb, mark);
}

int x87_load(struct x87 *fpu, struct sbuf *sb)
{
	struct x87 s;
	uint32_t version;

	if (!sbuf_open(sb, "x87", &version))
		return -1;
	if (version != X87_SAVE_VERSION) {
		sbuf_fail(sb, "x87: unsupported state version %u", (unsigned)version);
		return -1;
	}
	memset(&s, 0, sizeof(s));
	for (int i = 0; i < 8; i++) {
		s.r[i].mant = sbuf_get_u64(sb);
		s.r[i].sign_exp = sbuf_get_u16(sb);
	}
	s.cw = sbuf_get_u16(sb);
	s.sw = sbuf_get_u16(sb);
	s.tw = sbuf_get_u16(sb);
	s.fop = sbuf_get_u16(sb);
	s.fip = sbuf_get_u32(sb);
	s.fdp = sbuf_get_u32(sb);
	s.fcs = sbuf_get_u16(sb);
	s.fds = sbuf_get_u16(sb);
	s.mxcsr = sbuf_get_u32(sb);
	if (!sbuf_close(sb) || sb->error)
		return -1;
	if (s.fop > 0x7ff) {
		sbuf_fail(sb, "x87: opcode field 0x%x wider than 11 bits", s.fop);
		return -1;
	}
	*fpu = s;
	return 0;
}
