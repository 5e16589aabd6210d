/*
 * Segmentation: descriptor tables, segment register loads with the
 * protected-mode checks (null selectors, types, privilege, present bit,
 * accessed bit), the cached limits and rights that every memory access
 * checks (seg_lin in cpu_int.h), and the mode bits derived from CR0, CS,
 * SS and EFLAGS.VM.
 */
#include "translator/cpu_int.h"

_Noreturn void seg_fault(struct cpu *cpu, int s)
{
	if (s == S_SS)
		cpu_raise(cpu, EXC_SS, 0, true);
	cpu_gp(cpu, 0);
}

void seg_update(struct cpu *cpu, int s)
{
	const struct cpu_seg *sc = &cpu->seg[s];
	cpu->seg_lo[s] = 0;
	cpu->seg_hi[s] = sc->limit;
	if (!cpu->pe || cpu->vm86) {
		cpu->seg_rw[s] = 3;
		return;
	}
	if (s != S_CS && !(sc->attr & 0x80)) {
		cpu->seg_rw[s] = 0;     /* null or not present: unusable */
		return;
	}
	unsigned type = sc->attr & 0xf;
	if (type & 8) {
		cpu->seg_rw[s] = (type & 2) ? 1 : 0;
		if (s == S_CS)
			cpu->seg_rw[s] |= 4;    /* executable; reads need bit 0 */
		return;
	}
	cpu->seg_rw[s] = (type & 2) ? 3 : 1;
	if (type & 4) {
		cpu->seg_lo[s] = sc->limit + 1;
		cpu->seg_hi[s] = (sc->attr & 0x400) ? 0xffffffffu : 0xffffu;
		if (sc->limit == 0xffffffffu)
			cpu->seg_rw[s] = 0;     /* expand-down with no valid offsets */
	}
}

void cpu_update_mode(struct cpu *cpu)
{
	cpu->pe = (cpu->cr0 & CR0_PE) != 0;
	cpu->vm86 = cpu->pe && (cpu->eflags & F_VM);
	cpu->paging = (cpu->cr0 & CR0_PG) != 0;
	bool prot = cpu->pe && !cpu->vm86;
	cpu->code32 = prot && (cpu->seg[S_CS].attr & 0x400);
	cpu->stack32 = prot && (cpu->seg[S_SS].attr & 0x400);
	/* In protected mode CPL changes only with the CS loads that set it
	 * (setting CR0.PE keeps CPL 0 until the far jump). */
	if (!cpu->pe)
		cpu->cpl = 0;
	else if (cpu->vm86)
		cpu->cpl = 3;
	for (int s = 0; s < 6; s++)
		seg_update(cpu, s);
	bool ac = (cpu->cr0 & CR0_AM) && (cpu->eflags & F_AC) && cpu->cpl == 3 && cpu->pe;
	if (ac != cpu->ac_check) {
		/* User TLB entries would bypass the check: drop them (AC is rare). */
		cpu->ac_check = ac;
		for (unsigned i = 0; i < TLB_SIZE; i++)
			cpu->tlb[1][i].vread = cpu->tlb[1][i].vwrite = TLB_INVALID;
	}
}

bool seg_read_desc(struct cpu *cpu, uint16_t sel, uint32_t desc[2])
{
	uint32_t base, limit;
	if (sel & 4) {
		if (!(cpu->seg[S_LDTR].attr & 0x80) || (cpu->seg[S_LDTR].sel & ~3) == 0)
			return false;
		base = cpu->seg[S_LDTR].base;
		limit = cpu->seg[S_LDTR].limit;
	} else {
		base = cpu->gdtr_base;
		limit = cpu->gdtr_limit;
	}
	uint32_t idx = sel & ~7u;
	if (idx + 7 > limit)
		return false;
	desc[0] = lin_read(cpu, base + idx, 4, false);
	desc[1] = lin_read(cpu, base + idx + 4, 4, false);
	return true;
}

void seg_from_desc(struct cpu_seg *sc, uint16_t sel, const uint32_t desc[2])
{
	uint32_t limit = (desc[0] & 0xffff) | (desc[1] & 0xf0000);
	if (desc[1] & 0x800000)
		limit = (limit << 12) | 0xfff;
	sc->sel = sel;
	sc->base = (desc[0] >> 16) | ((desc[1] & 0xff) << 16) | (desc[1] & 0xff000000u);
	sc->limit = limit;
	sc->attr = (uint16_t)(((desc[1] >> 8) & 0xff) | ((desc[1] >> 12) & 0xf00));
}

void seg_set_accessed(struct cpu *cpu, uint16_t sel, uint32_t desc[2])
{
	if (desc[1] & 0x100)
		return;
	desc[1] |= 0x100;
	uint32_t base = (sel & 4) ? cpu->seg[S_LDTR].base : cpu->gdtr_base;
	lin_write(cpu, base + (sel & ~7u) + 4, 4, desc[1], false);
}

void seg_load_real(struct cpu *cpu, int s, uint16_t sel)
{
	struct cpu_seg *sc = &cpu->seg[s];
	sc->sel = sel;
	sc->base = (uint32_t)sel << 4;
	if (cpu->vm86) {
		sc->limit = 0xffff;
		sc->attr = s == S_CS ? 0xfb : 0xf3;
	}
	if (s == S_CS || s == S_SS)
		cpu_update_mode(cpu);
	else
		seg_update(cpu, s);
}

void seg_load(struct cpu *cpu, int s, uint16_t sel)
{
	if (!cpu->pe || cpu->vm86) {
		seg_load_real(cpu, s, sel);
		return;
	}
	uint32_t desc[2];
	uint16_t err = sel & 0xfffc;
	unsigned rpl = sel & 3, cpl = cpu->cpl;
	if ((sel & ~3u) == 0) {
		if (s == S_SS)
			cpu_gp(cpu, 0);
		cpu->seg[s].sel = sel;
		cpu->seg[s].base = 0;
		cpu->seg[s].limit = 0;
		cpu->seg[s].attr = 0;
		seg_update(cpu, s);
		return;
	}
	if (!seg_read_desc(cpu, sel, desc))
		cpu_gp(cpu, err);
	unsigned type = (desc[1] >> 8) & 0xf, dpl = (desc[1] >> 13) & 3;
	bool sbit = desc[1] & 0x1000, present = desc[1] & 0x8000;
	if (s == S_SS) {
		if (rpl != cpl || dpl != cpl || !sbit || (type & 8) || !(type & 2))
			cpu_gp(cpu, err);
		if (!present)
			cpu_raise(cpu, EXC_SS, err, true);
	} else {
		if (!sbit || ((type & 8) && !(type & 2)))
			cpu_gp(cpu, err);
		bool conforming_code = (type & 0xc) == 0xc;
		if (!conforming_code && (dpl < cpl || dpl < rpl))
			cpu_gp(cpu, err);
		if (!present)
			cpu_raise(cpu, EXC_NP, err, true);
	}
	seg_set_accessed(cpu, sel, desc);
	seg_from_desc(&cpu->seg[s], sel, desc);
	if (s == S_SS)
		cpu_update_mode(cpu);
	else
		seg_update(cpu, s);
}
