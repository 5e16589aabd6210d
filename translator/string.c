/*
 * String instructions (MOVS, CMPS, SCAS, LODS, STOS, INS, OUTS) with
 * REP/REPE/REPNE in 16- and 32-bit address sizes. Each iteration commits
 * ESI/EDI/ECX after its memory accesses, so a fault mid-way restarts the
 * instruction where it stopped; long repeats yield every REP_CHUNK
 * iterations (by re-executing the instruction) so interrupts and exit
 * requests are seen.
 */
#include "translator/cpu_int.h"

#define REP_CHUNK 1024u

static inline uint32_t areg(const struct cpu *cpu, unsigned r, unsigned asz)
{
	return asz == 4 ? cpu->gpr[r] : cpu->gpr[r] & 0xffff;
}

static inline void areg_set(struct cpu *cpu, unsigned r, unsigned asz, uint32_t v)
{
	if (asz == 4)
		cpu->gpr[r] = v;
	else
		cpu->gpr[r] = (cpu->gpr[r] & 0xffff0000u) | (v & 0xffff);
}

static inline uint32_t step(const struct cpu *cpu, unsigned size)
{
	return (cpu->eflags & F_DF) ? (uint32_t)-(int32_t)size : size;
}

/* One string operation; returns false when a REPE/REPNE condition ends the repeat. */
typedef bool (*string_op)(struct cpu *cpu, const struct insn *in);

static bool op_movs(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz, asz = in->asz;
	uint32_t si = areg(cpu, R_ESI, asz), di = areg(cpu, R_EDI, asz);
	uint32_t v = rd(cpu, in->seg, si, size);
	wr(cpu, S_ES, di, size, v);
	areg_set(cpu, R_ESI, asz, si + step(cpu, size));
	areg_set(cpu, R_EDI, asz, di + step(cpu, size));
	return true;
}

static bool op_stos(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz, asz = in->asz;
	uint32_t di = areg(cpu, R_EDI, asz);
	wr(cpu, S_ES, di, size, reg_get(cpu, R_EAX, size));
	areg_set(cpu, R_EDI, asz, di + step(cpu, size));
	return true;
}

static bool op_lods(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz, asz = in->asz;
	uint32_t si = areg(cpu, R_ESI, asz);
	uint32_t v = rd(cpu, in->seg, si, size);
	reg_set(cpu, R_EAX, size, v);
	areg_set(cpu, R_ESI, asz, si + step(cpu, size));
	return true;
}

static bool repcc_continue(struct cpu *cpu, const struct insn *in)
{
	bool zf = cpu_cond(cpu, 4);
	return in->rep == 0xf3 ? zf : !zf;
}

static bool op_cmps(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz, asz = in->asz;
	uint32_t si = areg(cpu, R_ESI, asz), di = areg(cpu, R_EDI, asz);
	uint32_t a = rd(cpu, in->seg, si, size);
	uint32_t b = rd(cpu, S_ES, di, size);
	areg_set(cpu, R_ESI, asz, si + step(cpu, size));
	areg_set(cpu, R_EDI, asz, di + step(cpu, size));
	cc_set(cpu, CC_SUB, size, a, b, (a - b) & size_mask(size));
	return repcc_continue(cpu, in);
}

static bool op_scas(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz, asz = in->asz;
	uint32_t di = areg(cpu, R_EDI, asz);
	uint32_t a = reg_get(cpu, R_EAX, size);
	uint32_t b = rd(cpu, S_ES, di, size);
	areg_set(cpu, R_EDI, asz, di + step(cpu, size));
	cc_set(cpu, CC_SUB, size, a, b, (a - b) & size_mask(size));
	return repcc_continue(cpu, in);
}

static bool op_ins(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz, asz = in->asz;
	uint16_t port = (uint16_t)cpu->gpr[R_EDX];
	uint32_t di = areg(cpu, R_EDI, asz);
	/* The destination is checked before the port is read: a fault must not lose input. */
	uint32_t lin = seg_lin(cpu, S_ES, di, size, true);
	mmu_probe_write(cpu, lin, size, cpu_user(cpu));
	uint32_t v = cpu->bus.io_in(cpu->bus.opaque, port, size);
	lin_write(cpu, lin, size, v, cpu_user(cpu));
	areg_set(cpu, R_EDI, asz, di + step(cpu, size));
	return true;
}

static bool op_outs(struct cpu *cpu, const struct insn *in)
{
	unsigned size = in->osz, asz = in->asz;
	uint16_t port = (uint16_t)cpu->gpr[R_EDX];
	uint32_t si = areg(cpu, R_ESI, asz);
	uint32_t v = rd(cpu, in->seg, si, size);
	cpu->bus.io_out(cpu->bus.opaque, port, v, size);
	areg_set(cpu, R_ESI, asz, si + step(cpu, size));
	return true;
}

/* Host pointer for `len` bytes at lin through a current TLB entry, or NULL. */
static uint8_t *tlb_span(struct cpu *cpu, uint32_t lin, uint32_t len, bool write)
{
	const struct tlb_entry *e = &cpu->tlb[cpu_user(cpu)][(lin >> 12) & (TLB_SIZE - 1)];
	if ((write ? e->vwrite : e->vread) != (lin & ~0xfffu) || (lin & 0xfff) + len > 4096)
		return NULL;
	return e->host + (lin & 0xfff);
}

/*
 * REP MOVS/STOS forwards with 32-bit addressing: whole runs inside one
 * source and one destination page are done with memmove/memset through
 * the TLB's host pointers. Anything unusual (TLB miss, MMIO, a code page,
 * a segment limit) returns 0 and the per-iteration path does the work,
 * faults included. Returns the iterations done.
 */
static uint32_t rep_bulk(struct cpu *cpu, const struct insn *in, bool movs)
{
	unsigned size = in->osz;
	uint32_t cx = cpu->gpr[R_ECX], di = cpu->gpr[R_EDI], si = cpu->gpr[R_ESI];
	uint32_t n = cx;
	uint32_t room = (4096 - ((cpu->seg[S_ES].base + di) & 0xfff)) / size;
	if (n > room)
		n = room;
	if (movs) {
		room = (4096 - ((cpu->seg[in->seg].base + si) & 0xfff)) / size;
		if (n > room)
			n = room;
	}
	if (n < 2)
		return 0;
	uint32_t bytes = n * size;
	/* Segment checks for the whole run: its first and last byte. */
	if (di > cpu->seg_hi[S_ES] - (bytes - 1) || di < cpu->seg_lo[S_ES] || bytes - 1 > cpu->seg_hi[S_ES] ||
	    !(cpu->seg_rw[S_ES] & 2))
		return 0;
	uint8_t *dst = tlb_span(cpu, cpu->seg[S_ES].base + di, bytes, true);
	if (!dst)
		return 0;
	if (movs) {
		int s = in->seg;
		if (si > cpu->seg_hi[s] - (bytes - 1) || si < cpu->seg_lo[s] || bytes - 1 > cpu->seg_hi[s] ||
		    !(cpu->seg_rw[s] & 1))
			return 0;
		const uint8_t *src = tlb_span(cpu, cpu->seg[s].base + si, bytes, false);
		if (!src)
			return 0;
		/* Overlap where the source runs ahead of the destination must repeat the pattern, byte by byte as the CPU does. */
		if (src < dst && src + bytes > dst)
			return 0;
		memmove(dst, src, bytes);
		cpu->gpr[R_ESI] = si + bytes;
	} else if (size == 1) {
		memset(dst, (int)(cpu->gpr[R_EAX] & 0xff), bytes);
	} else {
		uint32_t v = reg_get(cpu, R_EAX, size);
		for (uint32_t i = 0; i < bytes; i += size)
			memcpy(dst + i, &v, size);
	}
	cpu->gpr[R_EDI] = di + bytes;
	cpu->gpr[R_ECX] = cx - n;
	return n;
}

static void run_string(struct cpu *cpu, const struct insn *in, string_op op, bool conditional)
{
	if (in->rep && in->asz == 4 && !(cpu->eflags & (F_DF | F_TF)) && (op == op_movs || op == op_stos)) {
		/* Bulk runs, a page at a time, up to a chunk's worth before yielding. */
		uint32_t done = 0;
		while (cpu->gpr[R_ECX] && done < 16 * REP_CHUNK) {
			uint32_t n = rep_bulk(cpu, in, op == op_movs);
			if (!n)
				break;
			done += n;
		}
		if (!cpu->gpr[R_ECX])
			return;
	}

	if (!in->rep) {
		op(cpu, in);
		return;
	}
	unsigned asz = in->asz;
	/* Single-stepping traps after every iteration, EIP still on the instruction. */
	unsigned chunk = (cpu->eflags & F_TF) ? 1 : REP_CHUNK;
	for (unsigned n = 0; n < chunk; n++) {
		uint32_t cx = areg(cpu, R_ECX, asz);
		if (!cx)
			return;
		bool go_on = op(cpu, in);
		areg_set(cpu, R_ECX, asz, cx - 1);
		if (conditional && !go_on)
			return;
		if (cpu->stop_block)
			break;      /* an I/O callback asked to stop, or we overwrote our own code */
	}
	if (areg(cpu, R_ECX, asz)) {
		/* Not finished: run the instruction again after checking for interrupts. */
		cpu->eip = cpu->insn_eip;
		cpu->stop_block = true;
	}
}

void h_movs(struct cpu *cpu, const struct insn *in) { run_string(cpu, in, op_movs, false); }
void h_stos(struct cpu *cpu, const struct insn *in) { run_string(cpu, in, op_stos, false); }
void h_lods(struct cpu *cpu, const struct insn *in) { run_string(cpu, in, op_lods, false); }
void h_cmps(struct cpu *cpu, const struct insn *in) { run_string(cpu, in, op_cmps, true); }
void h_scas(struct cpu *cpu, const struct insn *in) { run_string(cpu, in, op_scas, true); }

void h_ins(struct cpu *cpu, const struct insn *in)
{
	if (!cpu_io_allowed(cpu, (uint16_t)cpu->gpr[R_EDX], in->osz))
		cpu_gp(cpu, 0);
	run_string(cpu, in, op_ins, false);
}

void h_outs(struct cpu *cpu, const struct insn *in)
{
	if (!cpu_io_allowed(cpu, (uint16_t)cpu->gpr[R_EDX], in->osz))
		cpu_gp(cpu, 0);
	run_string(cpu, in, op_outs, false);
}
