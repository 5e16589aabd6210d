/*
 * System instructions: port I/O with IOPL and the TSS I/O bitmap, the
 * interrupt flag and HLT, PUSHF/POPF, descriptor-table and task registers,
 * LAR/LSL/VERR/VERW/ARPL, control and debug registers, INVLPG, MSRs, TSC,
 * CPUID, SYSENTER/SYSEXIT, and the glue that hands x87 instructions to the
 * FPU unit (translator/x87.h).
 */
#include "translator/cpu_int.h"

static unsigned iopl(const struct cpu *cpu)
{
	return (cpu->eflags >> 12) & 3;
}

static void need_cpl0(struct cpu *cpu)
{
	if (cpu->pe && (cpu->vm86 || cpu->cpl != 0))
		cpu_gp(cpu, 0);
}

static void need_pmode(struct cpu *cpu)
{
	if (!cpu->pe || cpu->vm86)
		cpu_ud(cpu);
}

bool cpu_io_allowed(struct cpu *cpu, uint16_t port, unsigned size)
{
	if (!cpu->pe || (!cpu->vm86 && cpu->cpl <= iopl(cpu)))
		return true;
	/* The I/O permission bitmap of a 32-bit TSS decides. */
	const struct cpu_seg *tr = &cpu->seg[S_TR];
	unsigned type = tr->attr & 0xf;
	if ((type != 9 && type != 0xb) || tr->limit < 0x67)
		return false;
	uint32_t base = lin_read(cpu, tr->base + 0x66, 2, false);
	uint32_t off = base + port / 8;
	if (off + 1 > tr->limit)
		return false;
	uint32_t bits = lin_read(cpu, tr->base + off, 2, false);
	uint32_t mask = ((1u << size) - 1) << (port & 7);
	return (bits & mask) == 0;
}

void h_in(struct cpu *cpu, const struct insn *in)
{
	uint16_t port = (in->op == 0xe4 || in->op == 0xe5) ? (uint16_t)(in->imm & 0xff)
	                                                    : (uint16_t)cpu->gpr[R_EDX];
	if (!cpu_io_allowed(cpu, port, in->osz))
		cpu_gp(cpu, 0);
	uint32_t v = cpu->bus.io_in(cpu->bus.opaque, port, in->osz);
	reg_set(cpu, R_EAX, in->osz, v);
}

void h_out(struct cpu *cpu, const struct insn *in)
{
	uint16_t port = (in->op == 0xe6 || in->op == 0xe7) ? (uint16_t)(in->imm & 0xff)
	                                                    : (uint16_t)cpu->gpr[R_EDX];
	if (!cpu_io_allowed(cpu, port, in->osz))
		cpu_gp(cpu, 0);
	cpu->bus.io_out(cpu->bus.opaque, port, reg_get(cpu, R_EAX, in->osz), in->osz);
	/* A device may have raised an interrupt or asked us to stop: see it now. */
	cpu->stop_block = true;
}

void h_cli(struct cpu *cpu, const struct insn *in)
{
	if (cpu->pe && (cpu->vm86 ? iopl(cpu) < 3 : cpu->cpl > iopl(cpu)))
		cpu_gp(cpu, 0);
	cpu->eflags &= ~F_IF;
}

void h_sti(struct cpu *cpu, const struct insn *in)
{
	if (cpu->pe && (cpu->vm86 ? iopl(cpu) < 3 : cpu->cpl > iopl(cpu)))
		cpu_gp(cpu, 0);
	if (!(cpu->eflags & F_IF))
		cpu->inhibit_irq = true;        /* one more instruction before interrupts */
	cpu->eflags |= F_IF;
}

void h_hlt(struct cpu *cpu, const struct insn *in)
{
	need_cpl0(cpu);
	cpu->halted = true;
	cpu->stop_block = true;
}

void h_pushf(struct cpu *cpu, const struct insn *in)
{
	if (cpu->vm86 && iopl(cpu) < 3)
		cpu_gp(cpu, 0);
	stack_push(cpu, in->osz, cpu_get_flags(cpu) & ~(F_VM | F_RF));
}

void h_popf(struct cpu *cpu, const struct insn *in)
{
	if (cpu->vm86 && iopl(cpu) < 3)
		cpu_gp(cpu, 0);
	uint32_t v = stack_peek(cpu, in->osz, 0);
	uint32_t old = cpu->eflags;
	sp_set(cpu, sp_get(cpu) + in->osz);
	cpu_set_flags(cpu, v, cpu_flags_writable(cpu, in->osz, false));
	if ((old ^ cpu->eflags) & F_AC)
		cpu_update_mode(cpu);
}

/* ---- descriptor tables and task register ---- */

void h_sdt(struct cpu *cpu, const struct insn *in)
{
	uint32_t ea = ea_of(cpu, in);
	uint32_t base = in->arg ? cpu->idtr_base : cpu->gdtr_base;
	uint32_t limit = in->arg ? cpu->idtr_limit : cpu->gdtr_limit;
	if (in->osz == 2)
		base &= 0x00ffffffu;    /* 16-bit form stores 24 bits of base, then 0 */
	uint32_t lin = seg_lin(cpu, in->seg, ea, 6, true);
	mmu_probe_write(cpu, lin, 6, cpu_user(cpu));
	lin_write(cpu, lin, 2, limit, cpu_user(cpu));
	lin_write(cpu, lin + 2, 4, base, cpu_user(cpu));
}

void h_ldt_reg(struct cpu *cpu, const struct insn *in)
{
	need_cpl0(cpu);
	uint32_t ea = ea_of(cpu, in);
	uint32_t limit = rd(cpu, in->seg, ea, 2);
	uint32_t ea2 = ea + 2;
	if (in->asz == 2)
		ea2 &= 0xffff;
	uint32_t base = rd(cpu, in->seg, ea2, 4);
	if (in->osz == 2)
		base &= 0x00ffffffu;
	if (in->arg) {
		cpu->idtr_base = base;
		cpu->idtr_limit = limit;
	} else {
		cpu->gdtr_base = base;
		cpu->gdtr_limit = limit;
	}
}

void h_sldt_str(struct cpu *cpu, const struct insn *in)
{
	need_pmode(cpu);
	uint32_t v = cpu->seg[in->arg].sel;
	if (in->is_mem)
		wr(cpu, in->seg, ea_of(cpu, in), 2, v);
	else
		reg_set(cpu, in->rm, in->osz, v);
}

static uint16_t read_sel(struct cpu *cpu, const struct insn *in)
{
	if (in->is_mem)
		return (uint16_t)rd(cpu, in->seg, ea_of(cpu, in), 2);
	return (uint16_t)cpu->gpr[in->rm];
}

void h_lldt(struct cpu *cpu, const struct insn *in)
{
	need_pmode(cpu);
	need_cpl0(cpu);
	uint16_t sel = read_sel(cpu, in);
	if ((sel & ~3u) == 0) {
		cpu->seg[S_LDTR].sel = sel;
		cpu->seg[S_LDTR].attr = 0;
		cpu->seg[S_LDTR].base = 0;
		cpu->seg[S_LDTR].limit = 0;
		return;
	}
	uint32_t desc[2];
	if ((sel & 4) || !seg_read_desc(cpu, sel, desc) || ((desc[1] >> 8) & 0x1f) != 2)
		cpu_gp(cpu, sel & 0xfffc);
	if (!(desc[1] & 0x8000))
		cpu_raise(cpu, EXC_NP, sel & 0xfffc, true);
	seg_from_desc(&cpu->seg[S_LDTR], sel, desc);
}

void h_ltr(struct cpu *cpu, const struct insn *in)
{
	need_pmode(cpu);
	need_cpl0(cpu);
	uint16_t sel = read_sel(cpu, in);
	uint32_t desc[2];
	if ((sel & ~3u) == 0)
		cpu_gp(cpu, 0);
	unsigned type;
	if ((sel & 4) || !seg_read_desc(cpu, sel, desc))
		cpu_gp(cpu, sel & 0xfffc);
	type = (desc[1] >> 8) & 0x1f;
	if (type != 1 && type != 9)
		cpu_gp(cpu, sel & 0xfffc);
	if (!(desc[1] & 0x8000))
		cpu_raise(cpu, EXC_NP, sel & 0xfffc, true);
	desc[1] |= 0x200;       /* busy */
	lin_write(cpu, cpu->gdtr_base + (sel & ~7u) + 4, 4, desc[1], false);
	seg_from_desc(&cpu->seg[S_TR], sel, desc);
}

/* Whether the descriptor for `sel` is visible at the current CPL for LAR/LSL/VERR/VERW. */
static bool desc_visible(struct cpu *cpu, uint16_t sel, uint32_t desc[2])
{
	if ((sel & ~3u) == 0 || !seg_read_desc(cpu, sel, desc))
		return false;
	unsigned dpl = (desc[1] >> 13) & 3, type = (desc[1] >> 8) & 0x1f;
	bool conforming_code = (type & 0x1c) == 0x1c;
	if (!conforming_code && (dpl < cpu->cpl || dpl < (sel & 3u)))
		return false;
	return true;
}

void h_lar_lsl(struct cpu *cpu, const struct insn *in)
{
	need_pmode(cpu);
	uint16_t sel = (uint16_t)(in->is_mem ? rd(cpu, in->seg, ea_of(cpu, in), 2) : cpu->gpr[in->rm]);
	uint32_t desc[2];
	bool ok = desc_visible(cpu, sel, desc);
	if (ok && !(desc[1] & 0x1000)) {
		unsigned type = (desc[1] >> 8) & 0xf;
		/* System types LAR accepts; LSL only those with a limit. */
		static const uint16_t lar_ok = 0x3eaeu, lsl_ok = 0x0a0eu;
		ok = ((in->arg ? lsl_ok : lar_ok) >> type) & 1;
	}
	if (!ok) {
		cpu_set_flags(cpu, 0, F_ZF);
		return;
	}
	uint32_t v;
	if (in->arg) {
		struct cpu_seg sc;
		seg_from_desc(&sc, sel, desc);
		v = sc.limit;
	} else {
		v = desc[1] & 0x00ffff00u;
	}
	reg_set(cpu, in->reg, in->osz, v);
	cpu_set_flags(cpu, F_ZF, F_ZF);
}

void h_verrw(struct cpu *cpu, const struct insn *in)
{
	need_pmode(cpu);
	uint16_t sel = read_sel(cpu, in);
	uint32_t desc[2];
	bool ok = desc_visible(cpu, sel, desc) && (desc[1] & 0x1000);
	if (ok) {
		unsigned type = (desc[1] >> 8) & 0xf;
		if (in->arg)
			ok = !(type & 8) && (type & 2);
		else
			ok = !(type & 8) || (type & 2);
	}
	cpu_set_flags(cpu, ok ? F_ZF : 0, F_ZF);
}

void h_arpl(struct cpu *cpu, const struct insn *in)
{
	need_pmode(cpu);
	struct { bool mem; uint32_t lin; } d = { in->is_mem, 0 };
	uint32_t dst;
	if (in->is_mem) {
		/* The destination is written only when the RPL is raised: a
		 * read-only segment faults only then (as the host CPU does). */
		d.lin = seg_lin(cpu, in->seg, ea_of(cpu, in), 2, false);
		dst = lin_read(cpu, d.lin, 2, cpu_user(cpu));
	} else {
		dst = cpu->gpr[in->rm] & 0xffff;
	}
	uint32_t src = cpu->gpr[in->reg] & 0xffff;
	if ((dst & 3) < (src & 3)) {
		dst = (dst & ~3u) | (src & 3);
		if (d.mem)
			lin_write(cpu, seg_lin(cpu, in->seg, ea_of(cpu, in), 2, true), 2, dst, cpu_user(cpu));
		else
			reg_set(cpu, in->rm, 2, dst);
		cpu_set_flags(cpu, F_ZF, F_ZF);
	} else {
		cpu_set_flags(cpu, 0, F_ZF);
	}
}

/* ---- control registers ---- */

static void write_cr0(struct cpu *cpu, uint32_t v)
{
	v |= CR0_ET;
	if ((v & CR0_PG) && !(v & CR0_PE))
		cpu_gp(cpu, 0);
	if ((v & CR0_NW) && !(v & CR0_CD))
		cpu_gp(cpu, 0);
	uint32_t changed = cpu->cr0 ^ v;
	cpu->cr0 = v;
	if (changed & (CR0_PG | CR0_WP | CR0_PE))
		mmu_flush(cpu, false);
	cpu_update_mode(cpu);
	cpu->stop_block = true;
}

void h_clts(struct cpu *cpu, const struct insn *in)
{
	need_cpl0(cpu);
	cpu->cr0 &= ~CR0_TS;
}

void h_lmsw(struct cpu *cpu, const struct insn *in)
{
	need_cpl0(cpu);
	uint32_t v = read_sel(cpu, in) & 0xf;
	/* LMSW can set PE but never clear it. */
	write_cr0(cpu, (cpu->cr0 & ~0xeu) | v | (cpu->cr0 & CR0_PE));
}

void h_smsw(struct cpu *cpu, const struct insn *in)
{
	if (in->is_mem)
		wr(cpu, in->seg, ea_of(cpu, in), 2, cpu->cr0 & 0xffff);
	else
		reg_set(cpu, in->rm, in->osz, cpu->cr0);
}

void h_mov_from_cr(struct cpu *cpu, const struct insn *in)
{
	if (in->reg == 1 || in->reg > 4)
		cpu_ud(cpu);
	need_cpl0(cpu);
	uint32_t v;
	switch (in->reg) {
	case 0: v = cpu->cr0; break;
	case 2: v = cpu->cr2; break;
	case 3: v = cpu->cr3; break;
	case 4: v = cpu->cr4; break;
	default: cpu_ud(cpu);
	}
	cpu->gpr[in->rm] = v;
}

/* CR4 bits a P6 has and we honour (MCE and PCE have nothing to enable here:
 * no machine checks are ever raised, RDPMC is not implemented); OSFXSR
 * only with the FPU, which provides FXSAVE/FXRSTOR. PAE is refused. */
#define CR4_MCE (1u << 6)
#define CR4_PCE (1u << 8)
#define CR4_OSFXSR (1u << 9)
#define CR4_VALID (CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_MCE | CR4_PGE | CR4_PCE)

void h_mov_to_cr(struct cpu *cpu, const struct insn *in)
{
	if (in->reg == 1 || in->reg > 4)
		cpu_ud(cpu);
	need_cpl0(cpu);
	uint32_t v = cpu->gpr[in->rm];
	switch (in->reg) {
	case 0:
		write_cr0(cpu, v);
		break;
	case 2:
		cpu->cr2 = v;
		break;
	case 3:
		cpu->cr3 = v & ~0xfe7u;
		mmu_flush(cpu, true);
		break;
	case 4:
		if (v & ~(CR4_VALID | (cpu->cfg.fpu ? CR4_OSFXSR : 0)))
			cpu_gp(cpu, 0);
		if ((v ^ cpu->cr4) & (CR4_PSE | CR4_PGE))
			mmu_flush(cpu, false);
		cpu->cr4 = v;
		break;
	default:
		cpu_ud(cpu);
	}
}

/* The debug register a MOV names: DR4/DR5 are DR6/DR7 unless CR4.DE makes
 * them #UD (checked before the privilege). */
static unsigned dr_index(struct cpu *cpu, const struct insn *in)
{
	unsigned r = in->reg;
	if ((r == 4 || r == 5) && (cpu->cr4 & CR4_DE))
		cpu_ud(cpu);
	need_cpl0(cpu);
	return r == 4 || r == 5 ? r + 2 : r;
}

void h_mov_from_dr(struct cpu *cpu, const struct insn *in)
{
	unsigned r = dr_index(cpu, in);
	cpu->gpr[in->rm] = cpu->dr[r];
}

void h_mov_to_dr(struct cpu *cpu, const struct insn *in)
{
	unsigned r = dr_index(cpu, in);
	uint32_t v = cpu->gpr[in->rm];
	if (r == 6)
		v = (v & 0xe00f) | 0xffff0ff0u;
	else if (r == 7)
		v = (v & 0xffff2fffu) | 0x400;
	cpu->dr[r] = v;
}

void h_invlpg(struct cpu *cpu, const struct insn *in)
{
	need_cpl0(cpu);
	mmu_invlpg(cpu, cpu->seg[in->seg].base + ea_of(cpu, in));
}

void h_nop_priv(struct cpu *cpu, const struct insn *in)
{
	need_cpl0(cpu);     /* INVD/WBINVD: no caches to manage */
}

void h_ud2(struct cpu *cpu, const struct insn *in)
{
	cpu_ud(cpu);
}

/* ---- MSRs, TSC, CPUID ---- */

#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1b
#define MSR_BIOS_SIGN_ID 0x8b   /* microcode revision: a write clears it, CPUID(1) loads it (0: none) */
#define MSR_PERFCTR0 0xc1       /* and PERFCTR1 at 0xc2 */
#define MSR_EVNTSEL0 0x186      /* and EVNTSEL1 at 0x187 */
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176

uint64_t cpu_tsc(struct cpu *cpu)
{
	uint64_t ns = cpu->bus.clock_ns(cpu->bus.opaque);
	return (uint64_t)((unsigned __int128)ns * cpu->cfg.tsc_hz / 1000000000u) + cpu->tsc_offset;
}

void h_rdtsc(struct cpu *cpu, const struct insn *in)
{
	if ((cpu->cr4 & CR4_TSD) && cpu->pe && (cpu->vm86 || cpu->cpl != 0))
		cpu_gp(cpu, 0);
	uint64_t t = cpu_tsc(cpu);
	cpu->gpr[R_EAX] = (uint32_t)t;
	cpu->gpr[R_EDX] = (uint32_t)(t >> 32);
}

/* The P6 counters read back what was written to them (they count nothing). */
void h_rdpmc(struct cpu *cpu, const struct insn *in)
{
	bool allowed = !cpu->pe || (!cpu->vm86 && cpu->cpl == 0) || (cpu->cr4 & CR4_PCE);
	if (!allowed || cpu->gpr[R_ECX] > 1)
		cpu_gp(cpu, 0);
	uint64_t v = cpu->perfctr[cpu->gpr[R_ECX]];
	cpu->gpr[R_EAX] = (uint32_t)v;
	cpu->gpr[R_EDX] = (uint32_t)(v >> 32) & 0xff;
}

void h_rdmsr(struct cpu *cpu, const struct insn *in)
{
	need_cpl0(cpu);
	uint64_t v;
	switch (cpu->gpr[R_ECX]) {
	case MSR_TSC: v = cpu_tsc(cpu); break;
	case MSR_APIC_BASE: v = cpu->apic_base; break;
	case MSR_BIOS_SIGN_ID: v = 0; break;
	case MSR_PERFCTR0: case MSR_PERFCTR0 + 1: v = cpu->perfctr[cpu->gpr[R_ECX] - MSR_PERFCTR0]; break;
	case MSR_EVNTSEL0: case MSR_EVNTSEL0 + 1: v = cpu->evntsel[cpu->gpr[R_ECX] - MSR_EVNTSEL0]; break;
	case MSR_SYSENTER_CS: v = cpu->sysenter_cs; break;
	case MSR_SYSENTER_ESP: v = cpu->sysenter_esp; break;
	case MSR_SYSENTER_EIP: v = cpu->sysenter_eip; break;
	default: cpu_gp(cpu, 0);
	}
	cpu->gpr[R_EAX] = (uint32_t)v;
	cpu->gpr[R_EDX] = (uint32_t)(v >> 32);
}

void h_wrmsr(struct cpu *cpu, const struct insn *in)
{
	need_cpl0(cpu);
	uint64_t v = ((uint64_t)cpu->gpr[R_EDX] << 32) | cpu->gpr[R_EAX];
	switch (cpu->gpr[R_ECX]) {
	case MSR_TSC:
		cpu->tsc_offset = v - (cpu_tsc(cpu) - cpu->tsc_offset);
		break;
	case MSR_APIC_BASE:
		if (v >> 32)
			cpu_gp(cpu, 0);
		cpu->apic_base = (uint32_t)v & 0xfffff900u;
		break;
	case MSR_BIOS_SIGN_ID: break;   /* no microcode to report */
	/* A P6 sign-extends the low 32 bits written to a counter into its 40. */
	case MSR_PERFCTR0: case MSR_PERFCTR0 + 1:
		cpu->perfctr[cpu->gpr[R_ECX] - MSR_PERFCTR0] = (uint64_t)(int64_t)(int32_t)v & PERFCTR_MASK;
		break;
	case MSR_EVNTSEL0: case MSR_EVNTSEL0 + 1:
		if (v >> 32)
			cpu_gp(cpu, 0);
		cpu->evntsel[cpu->gpr[R_ECX] - MSR_EVNTSEL0] = (uint32_t)v;
		break;
	case MSR_SYSENTER_CS: cpu->sysenter_cs = (uint32_t)v & 0xffff; break;
	case MSR_SYSENTER_ESP: cpu->sysenter_esp = (uint32_t)v; break;
	case MSR_SYSENTER_EIP: cpu->sysenter_eip = (uint32_t)v; break;
	default: cpu_gp(cpu, 0);
	}
}

/* CPUID.1:EDX bits we implement. */
enum {
	CPUID_FPU = 1u << 0, CPUID_PSE = 1u << 3, CPUID_TSC = 1u << 4, CPUID_MSR = 1u << 5,
	CPUID_CX8 = 1u << 8, CPUID_SEP = 1u << 11, CPUID_PGE = 1u << 13, CPUID_CMOV = 1u << 15,
	CPUID_FXSR = 1u << 24,
};

void h_cpuid(struct cpu *cpu, const struct insn *in)
{
	uint32_t leaf = cpu->gpr[R_EAX];
	/* Out-of-range leaves (extended ones included) answer as the highest basic leaf, as Intel parts do. */
	if (leaf > 1)
		leaf = 1;
	if (leaf == 0) {
		cpu->gpr[R_EAX] = 1;
		cpu->gpr[R_EBX] = 0x756e6547u;  /* "Genu" */
		cpu->gpr[R_EDX] = 0x49656e69u;  /* "ineI" */
		cpu->gpr[R_ECX] = 0x6c65746eu;  /* "ntel" */
		return;
	}
	uint32_t edx = CPUID_PSE | CPUID_TSC | CPUID_MSR | CPUID_CX8 | CPUID_SEP |
	               CPUID_PGE | CPUID_CMOV;
	if (cpu->cfg.fpu)
		edx |= CPUID_FPU | CPUID_FXSR;
	cpu->gpr[R_EAX] = 0x0633;      /* family 6 model 3 stepping 3: Pentium II */
	cpu->gpr[R_EBX] = 0;
	cpu->gpr[R_ECX] = 0;
	cpu->gpr[R_EDX] = edx;
}

/* ---- SYSENTER / SYSEXIT ---- */

static void flat_seg(struct cpu_seg *sc, uint16_t sel, bool code, unsigned dpl)
{
	sc->sel = sel;
	sc->base = 0;
	sc->limit = 0xffffffffu;
	sc->attr = (uint16_t)(0xc00 | 0x90 | (dpl << 5) | (code ? 0xb : 0x3));
}

void h_sysenter(struct cpu *cpu, const struct insn *in)
{
	if (!cpu->pe || (cpu->sysenter_cs & 0xfffc) == 0)
		cpu_gp(cpu, 0);
	cpu_get_flags(cpu);
	cpu->eflags &= ~(F_VM | F_IF | F_RF);
	uint16_t cs = (uint16_t)(cpu->sysenter_cs & 0xfffc);
	flat_seg(&cpu->seg[S_CS], cs, true, 0);
	flat_seg(&cpu->seg[S_SS], (uint16_t)(cs + 8), false, 0);
	cpu->cpl = 0;
	cpu->gpr[R_ESP] = cpu->sysenter_esp;
	cpu->eip = cpu->sysenter_eip;
	cpu_update_mode(cpu);
}

void h_sysexit(struct cpu *cpu, const struct insn *in)
{
	if (!cpu->pe || cpu->vm86 || cpu->cpl != 0 || (cpu->sysenter_cs & 0xfffc) == 0)
		cpu_gp(cpu, 0);
	uint16_t cs = (uint16_t)(cpu->sysenter_cs & 0xfffc);
	flat_seg(&cpu->seg[S_CS], (uint16_t)((cs + 16) | 3), true, 3);
	flat_seg(&cpu->seg[S_SS], (uint16_t)((cs + 24) | 3), false, 3);
	cpu->cpl = 3;
	cpu->gpr[R_ESP] = cpu->gpr[R_ECX];
	cpu->eip = cpu->gpr[R_EDX];
	cpu_update_mode(cpu);
}

/* ---- x87 ---- */

struct x87_glue {
	struct cpu *cpu;
	int seg;
};

/* The FPU's memory accesses: a fault is caught here and reported as nonzero,
 * so the unit can return X87_FAULT unchanged; the exception is then raised.
 * One of INTO (a read) and FROM (a write) is given. */
static int x87_mem_access(struct x87_glue *g, uint32_t off, void *into, const void *from,
                          unsigned len)
{
	struct cpu *cpu = g->cpu;
	jmp_buf *outer = cpu->jmp;
	jmp_buf jb;
	cpu->jmp = &jb;
	if (setjmp(jb)) {
		cpu->jmp = outer;
		return 1;
	}
	uint32_t lin = seg_lin(cpu, g->seg, off, len, from != NULL);
	if (from)
		mmu_write_buf(cpu, lin, from, len, cpu_user(cpu));
	else
		mmu_read_buf(cpu, lin, into, len, cpu_user(cpu));
	cpu->jmp = outer;
	return 0;
}

static int x87_mem_read(void *ctx, uint32_t off, void *buf, unsigned len)
{
	return x87_mem_access(ctx, off, buf, NULL, len);
}

static int x87_mem_write(void *ctx, uint32_t off, const void *buf, unsigned len)
{
	return x87_mem_access(ctx, off, NULL, buf, len);
}

/* A waiting x87 instruction found an unmasked exception pending. */
static void x87_pending(struct cpu *cpu)
{
	if (!x87_error_pending(&cpu->fpu))
		return;
	if (cpu->cr0 & CR0_NE)
		cpu_raise(cpu, EXC_MF, 0, false);
	if (!cpu->ferr_asserted) {
		cpu->ferr_asserted = true;
		if (cpu->bus.ferr)
			cpu->bus.ferr(cpu->bus.opaque, true);
	}
}

void h_fwait(struct cpu *cpu, const struct insn *in)
{
	if ((cpu->cr0 & (CR0_TS | CR0_MP)) == (CR0_TS | CR0_MP))
		cpu_raise(cpu, EXC_NM, 0, false);
	x87_pending(cpu);
}

void h_x87(struct cpu *cpu, const struct insn *in)
{
	uint16_t opcode = in->op == 0xae ? 0x0fae : in->op;
	if (opcode == 0x0fae) {
		if (!cpu->cfg.fpu || (cpu->cr0 & CR0_EM))
			cpu_ud(cpu);
		if (cpu->cr0 & CR0_TS)
			cpu_raise(cpu, EXC_NM, 0, false);
		/* The 512-byte area must be 16-byte aligned in the linear
		 * address space, whatever the segment: #GP(0) otherwise. */
		if (in->is_mem && ((in->modrm >> 3) & 7) <= 1 &&
		    ((cpu->seg[in->seg].base + ea_of(cpu, in)) & 15))
			cpu_gp(cpu, 0);
	} else if (cpu->cr0 & (CR0_EM | CR0_TS)) {
		cpu_raise(cpu, EXC_NM, 0, false);
	}
	if (!cpu->cfg.fpu) {
		/* No FPU: the escape does nothing visible (as on a board with an empty socket, CR0.EM clear). */
		return;
	}
	if (x87_insn_waits(opcode, in->modrm))
		x87_pending(cpu);
	struct x87_insn xi = {
		.opcode = opcode,
		.modrm = in->modrm,
		.op16 = in->osz == 2,
		.pmode = cpu->pe && !cpu->vm86,
		.eip = cpu->insn_eip,
		.cs = cpu->seg[S_CS].sel,
		.ea = in->is_mem ? ea_of(cpu, in) : 0,
		.ds = in->is_mem ? cpu->seg[in->seg].sel : 0,
		.eflags = cpu_get_flags(cpu),
	};
	struct x87_glue g = { cpu, in->seg };
	struct x87_mem mem = { &g, x87_mem_read, x87_mem_write };
	struct x87_out out = { 0 };
	switch (x87_exec(&cpu->fpu, &xi, &mem, &out)) {
	case X87_FAULT:
		cpu_raise(cpu, cpu->exc_vec, cpu->exc_err, cpu->exc_has_err);
	case X87_UD:
		cpu_ud(cpu);
	case X87_OK:
		break;
	}
	if (out.set_eflags)
		cpu_set_flags(cpu, out.eflags, F_ZF | F_PF | F_CF | F_OF | F_SF | F_AF);
	if (out.set_ax)
		reg_set(cpu, R_EAX, 2, out.ax);
}
