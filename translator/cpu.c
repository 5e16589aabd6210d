/*
 * The CPU object and its public API (cpu.h): creation, RESET, the run loop
 * (interrupt checks, translation-block lookup, the threaded interpreter
 * over a block's handler pointers, exception re-entry), register access,
 * debugger hooks and save/load.
 */
#include <stdlib.h>

#include "lib/log.h"
#include "lib/sbuf.h"
#include "translator/cpu_int.h"

struct cpu *cpu_new(const struct cpu_config *cfg, const struct cpu_bus *bus)
{
	struct cpu *cpu = calloc(1, sizeof(*cpu));
	if (!cpu)
		return NULL;
	cpu->cfg = *cfg;
	cpu->bus = *bus;
	cpu->tbs = calloc(TB_POOL, sizeof(*cpu->tbs));
	cpu->insn_pool = calloc(TB_INSN_POOL, sizeof(*cpu->insn_pool));
	cpu->code_pages = calloc((1u << 20) / 8, 1);
	if (!cpu->tbs || !cpu->insn_pool || !cpu->code_pages) {
		cpu_free(cpu);
		return NULL;
	}
	decoder_init(&cpu->dec);
	cpu_reset(cpu);
	return cpu;
}

void cpu_free(struct cpu *cpu)
{
	if (!cpu)
		return;
	free(cpu->tbs);
	free(cpu->insn_pool);
	free(cpu->code_pages);
	free(cpu);
}

void cpu_reset(struct cpu *cpu)
{
	memset(cpu->gpr, 0, sizeof(cpu->gpr));
	cpu->gpr[R_EDX] = 0x0633;       /* family 6, model 3, stepping 3 */
	cpu->eip = 0xfff0;
	cpu->eflags = 2;
	cpu->cc_op = CC_EFLAGS;
	cpu->cc_size = 4;
	for (int s = 0; s < 8; s++) {
		cpu->seg[s].sel = 0;
		cpu->seg[s].base = 0;
		cpu->seg[s].limit = 0xffff;
		cpu->seg[s].attr = 0x93;        /* present, writable data, accessed */
	}
	cpu->seg[S_CS].sel = 0xf000;
	cpu->seg[S_CS].base = 0xffff0000u;
	cpu->seg[S_CS].attr = 0x9b;
	cpu->seg[S_LDTR].attr = 0x82;
	cpu->seg[S_TR].attr = 0x8b;
	cpu->gdtr_base = cpu->idtr_base = 0;
	cpu->gdtr_limit = cpu->idtr_limit = 0xffff;
	cpu->cr0 = CR0_ET | CR0_CD | CR0_NW;
	cpu->cr2 = cpu->cr3 = cpu->cr4 = 0;
	memset(cpu->dr, 0, sizeof(cpu->dr));
	cpu->dr[6] = 0xffff0ff0u;
	cpu->dr[7] = 0x400;
	cpu->tsc_offset = 0;
	cpu->sysenter_cs = cpu->sysenter_esp = cpu->sysenter_eip = 0;
	memset(cpu->perfctr, 0, sizeof(cpu->perfctr));
	memset(cpu->evntsel, 0, sizeof(cpu->evntsel));
	cpu->apic_base = 0xfee00900u;
	cpu->a20 = true;
	cpu->nmi_pending = cpu->nmi_blocked = false;
	cpu->inhibit_irq = false;
	cpu->halted = false;
	cpu->exit_request = false;
	cpu->exc_depth = 0;
	cpu->shutdown = false;
	x87_init(&cpu->fpu);
	cpu_update_mode(cpu);
	mmu_flush(cpu, false);
	tb_flush_all(cpu);
}

static bool irq_deliverable(const struct cpu *cpu)
{
	if (cpu->inhibit_irq)
		return false;
	if (cpu->nmi_pending && !cpu->nmi_blocked)
		return true;
	return cpu->irq_line && (cpu->eflags & F_IF);
}

/* Takes a pending NMI or INTR if one can be taken now; true if it did. */
static bool take_interrupt(struct cpu *cpu)
{
	if (!irq_deliverable(cpu))
		return false;
	cpu->halted = false;
	cpu->insn_eip = cpu->eip;
	cpu->insn_esp = cpu->gpr[R_ESP];
	if (cpu->nmi_pending && !cpu->nmi_blocked) {
		cpu->nmi_pending = false;
		cpu->nmi_blocked = true;
		if (cpu->trace)
			fprintf(cpu->trace, "nmi\n");
		cpu_deliver(cpu, EXC_NMI, 0, false, false, cpu->eip);
		return true;
	}
	uint8_t vec = cpu->bus.intr_ack(cpu->bus.opaque);
	if (cpu->trace)
		fprintf(cpu->trace, "irq vector 0x%02x at %04x:%08x\n", vec, cpu->seg[S_CS].sel, cpu->eip);
	cpu_deliver(cpu, vec, 0, false, false, cpu->eip);
	return true;
}

static bool at_breakpoint(const struct cpu *cpu)
{
	uint32_t lin = cpu->seg[S_CS].base + cpu->eip;
	for (unsigned i = 0; i < cpu->nbp; i++)
		if (cpu->bp[i] == lin)
			return true;
	return false;
}

static void trace_insn(struct cpu *cpu, const struct insn *in)
{
	fprintf(cpu->trace, "%04x:%08x %-10s eax=%08x ecx=%08x edx=%08x ebx=%08x esp=%08x ebp=%08x esi=%08x edi=%08x\n",
	        cpu->seg[S_CS].sel, cpu->eip, insn_forms[in->form].mnem,
	        cpu->gpr[0], cpu->gpr[1], cpu->gpr[2], cpu->gpr[3],
	        cpu->gpr[4], cpu->gpr[5], cpu->gpr[6], cpu->gpr[7]);
}

/*
 * State that must survive the longjmp of an exception lives in struct cpu,
 * not in locals, so nothing here needs `volatile`.
 */
enum cpu_exit cpu_run(struct cpu *cpu, uint64_t budget)
{
	/* Deliveries count against the budget too: a guest whose handlers
	 * fault before completing an instruction must still give the host
	 * its thread back. */
	uint64_t end = cpu->icount + cpu->events + budget;
	jmp_buf jb;
	cpu->exit_request = false;
	cpu->jmp = &jb;
	if (setjmp(jb)) {
		cpu->jmp = &jb;
		cpu->stop_block = false;
		cpu_handle_exception(cpu);
		if (cpu->shutdown)
			return CPU_EXIT_SHUTDOWN;
		/* A debugger's step ends at the handler's first instruction,
		 * as on hardware and in QEMU: the fault was the step. */
		if (cpu->single_step)
			return CPU_EXIT_DEBUG;
	}
	while (cpu->icount + cpu->events < end) {
		if (cpu->exit_request) {
			cpu->exit_request = false;
			return CPU_EXIT_REQUEST;
		}
		if (take_interrupt(cpu))
			continue;
		if (cpu->halted)
			return CPU_EXIT_HALT;
		bool shadow = cpu->inhibit_irq;
		cpu->inhibit_irq = false;
		bool trap = (cpu->eflags & F_TF) != 0;
		bool one = shadow || trap || cpu->single_step || cpu->nbp || cpu->trace;
		if (cpu->nbp && at_breakpoint(cpu)) {
			if (!cpu->bp_resume) {
				cpu->bp_resume = true;
				return CPU_EXIT_DEBUG;
			}
		}
		cpu->bp_resume = false;
		cpu->insn_eip = cpu->eip;
		cpu->insn_esp = cpu->gpr[R_ESP];
		cpu->delivered = false;
		struct tb *tb = tb_find(cpu);
		if (unlikely(one)) {
			cpu->cur_tb = tb;
			const struct insn *in = tb->insns;
			if (cpu->trace)
				trace_insn(cpu, in);
			cpu->eip += in->len;
			cpu->icount++;
			in->fn(cpu, in);
			cpu->stop_block = false;
		} else {
			/*
			 * Blocks chain directly while they end in plain near
			 * branches (which change neither mode nor interrupt
			 * state): interrupts, exit requests and SMC all set
			 * stop_block, which sends us back to the checks above.
			 */
			for (;;) {
				cpu->cur_tb = tb;
				const struct insn *in = tb->insns, *last = in + tb->n;
				/* Counted per block (an exception mid-block leaves
				 * that block's completed instructions uncounted). */
				for (; in < last; in++) {
					cpu->insn_eip = cpu->eip;
					cpu->insn_esp = cpu->gpr[R_ESP];
					cpu->eip += in->len;
					in->fn(cpu, in);
					if (unlikely(cpu->stop_block))
						break;
				}
				if (cpu->stop_block) {
					cpu->icount += (uint64_t)(in - tb->insns) + 1;
					cpu->stop_block = false;
					break;
				}
				cpu->icount += tb->n;
				if (!tb->chain || cpu->icount + cpu->events >= end)
					break;
				cpu->insn_eip = cpu->eip;
				cpu->insn_esp = cpu->gpr[R_ESP];
				tb = tb_find(cpu);
			}
		}
		cpu->cur_tb = NULL;
		/* The single-step trap follows the instruction, unless it was
		 * INT n/INT3/INTO (the handler starts with TF clear) or a MOV SS. */
		if (trap && !cpu->inhibit_irq && !cpu->delivered) {
			cpu->dr[6] |= 0x4000;   /* BS */
			cpu->insn_eip = cpu->eip;
			cpu->insn_esp = cpu->gpr[R_ESP];
			cpu_deliver(cpu, EXC_DB, 0, false, false, cpu->eip);
		}
		if (cpu->single_step)
			return CPU_EXIT_DEBUG;
		if (cpu->shutdown)
			return CPU_EXIT_SHUTDOWN;
	}
	return CPU_EXIT_BUDGET;
}

void cpu_request_exit(struct cpu *cpu)
{
	cpu->exit_request = true;
	cpu->stop_block = true;
}

void cpu_set_irq(struct cpu *cpu, bool level)
{
	cpu->irq_line = level;
	if (level)
		cpu->stop_block = true;
}

void cpu_nmi(struct cpu *cpu)
{
	cpu->nmi_pending = true;
	cpu->stop_block = true;
}

void cpu_ignne(struct cpu *cpu)
{
	if (cpu->ferr_asserted) {
		cpu->ferr_asserted = false;
		if (cpu->bus.ferr)
			cpu->bus.ferr(cpu->bus.opaque, false);
	}
}

void cpu_set_a20(struct cpu *cpu, bool enabled)
{
	if (cpu->a20 == enabled)
		return;
	cpu->a20 = enabled;
	mmu_flush(cpu, false);
}

void cpu_get_regs(const struct cpu *cpu, struct cpu_regs *r)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->gpr, cpu->gpr, sizeof(r->gpr));
	r->eip = cpu->eip;
	r->eflags = cpu_get_flags((struct cpu *)cpu);
	memcpy(r->seg, cpu->seg, sizeof(r->seg));
	r->gdtr_base = cpu->gdtr_base;
	r->gdtr_limit = cpu->gdtr_limit;
	r->idtr_base = cpu->idtr_base;
	r->idtr_limit = cpu->idtr_limit;
	r->cr0 = cpu->cr0;
	r->cr2 = cpu->cr2;
	r->cr3 = cpu->cr3;
	r->cr4 = cpu->cr4;
	memcpy(r->dr, cpu->dr, sizeof(r->dr));
	r->tsc_offset = cpu->tsc_offset;
	r->sysenter_cs = cpu->sysenter_cs;
	r->sysenter_esp = cpu->sysenter_esp;
	r->sysenter_eip = cpu->sysenter_eip;
	r->apic_base = cpu->apic_base;
}

void cpu_set_regs(struct cpu *cpu, const struct cpu_regs *r)
{
	memcpy(cpu->gpr, r->gpr, sizeof(r->gpr));
	cpu->eip = r->eip;
	cpu->eflags = (r->eflags | 2) & 0x003f7fd7u;
	cpu->cc_op = CC_EFLAGS;
	memcpy(cpu->seg, r->seg, sizeof(cpu->seg));
	cpu->gdtr_base = r->gdtr_base;
	cpu->gdtr_limit = r->gdtr_limit;
	cpu->idtr_base = r->idtr_base;
	cpu->idtr_limit = r->idtr_limit;
	cpu->cr0 = r->cr0;
	cpu->cr2 = r->cr2;
	cpu->cr3 = r->cr3;
	cpu->cr4 = r->cr4;
	memcpy(cpu->dr, r->dr, sizeof(cpu->dr));
	cpu->tsc_offset = r->tsc_offset;
	cpu->sysenter_cs = r->sysenter_cs;
	cpu->sysenter_esp = r->sysenter_esp;
	cpu->sysenter_eip = r->sysenter_eip;
	cpu->apic_base = r->apic_base;
	cpu->halted = false;
	cpu->cpl = cpu->seg[S_CS].sel & 3;
	cpu_update_mode(cpu);
	mmu_flush(cpu, false);
}

void cpu_phys_written(struct cpu *cpu, uint32_t paddr, uint32_t len)
{
	if (!len)
		return;
	uint64_t last = (uint64_t)paddr + len - 1;
	if (last > 0xffffffffu)
		last = 0xffffffffu;
	for (uint64_t pg = paddr & ~0xfffu; pg <= last; pg += 4096)
		if (page_has_code(cpu, (uint32_t)pg))
			tb_invalidate_page(cpu, (uint32_t)pg);
}

void cpu_flush_tlb(struct cpu *cpu)
{
	mmu_flush(cpu, false);
}

int cpu_add_breakpoint(struct cpu *cpu, uint32_t linear)
{
	for (unsigned i = 0; i < cpu->nbp; i++)
		if (cpu->bp[i] == linear)
			return 0;
	if (cpu->nbp >= sizeof(cpu->bp) / sizeof(cpu->bp[0]))
		return -1;
	cpu->bp[cpu->nbp++] = linear;
	return 0;
}

int cpu_remove_breakpoint(struct cpu *cpu, uint32_t linear)
{
	for (unsigned i = 0; i < cpu->nbp; i++)
		if (cpu->bp[i] == linear) {
			cpu->bp[i] = cpu->bp[--cpu->nbp];
			return 0;
		}
	return -1;
}

void cpu_set_single_step(struct cpu *cpu, bool on)
{
	cpu->single_step = on;
}

/* Debugger access: walks the tables without faulting or touching A/D bits. */
static int linear_access(struct cpu *cpu, uint32_t linear, void *buf, size_t len, bool write)
{
	uint8_t *p = buf;
	while (len) {
		uint32_t phys;
		if (!mmu_translate(cpu, linear, write ? ACC_WRITE : ACC_READ, false, false, &phys))
			return -1;
		size_t n = 4096 - (linear & 0xfff);
		if (n > len)
			n = len;
		for (size_t i = 0; i < n; i++) {
			if (write)
				phys_write(cpu, phys + (uint32_t)i, 1, p[i]);
			else
				p[i] = (uint8_t)phys_read(cpu, phys + (uint32_t)i, 1);
		}
		p += n;
		len -= n;
		linear += (uint32_t)n;
	}
	return 0;
}

int cpu_read_linear(struct cpu *cpu, uint32_t linear, void *buf, size_t len)
{
	return linear_access(cpu, linear, buf, len, false);
}

int cpu_write_linear(struct cpu *cpu, uint32_t linear, const void *buf, size_t len)
{
	return linear_access(cpu, linear, (void *)buf, len, true);
}

void cpu_set_trace(struct cpu *cpu, void *stream, bool on)
{
	cpu->trace = on ? stream : NULL;
}

uint64_t cpu_insn_count(const struct cpu *cpu)
{
	return cpu->icount;
}

#define CPU_SAVE_VERSION 2   /* 2: the P6 performance-monitoring MSRs */

void cpu_save(const struct cpu *ccpu, struct sbuf *sb)
{
	struct cpu *cpu = (struct cpu *)ccpu;   /* materializing lazy flags changes no state */
	size_t mark = sbuf_begin(sb, "cpu", CPU_SAVE_VERSION);
	for (int i = 0; i < 8; i++)
		sbuf_put_u32(sb, cpu->gpr[i]);
	sbuf_put_u32(sb, cpu->eip);
	sbuf_put_u32(sb, cpu_get_flags(cpu));
	for (int s = 0; s < 8; s++) {
		sbuf_put_u16(sb, cpu->seg[s].sel);
		sbuf_put_u32(sb, cpu->seg[s].base);
		sbuf_put_u32(sb, cpu->seg[s].limit);
		sbuf_put_u16(sb, cpu->seg[s].attr);
	}
	sbuf_put_u32(sb, cpu->gdtr_base);
	sbuf_put_u32(sb, cpu->gdtr_limit);
	sbuf_put_u32(sb, cpu->idtr_base);
	sbuf_put_u32(sb, cpu->idtr_limit);
	sbuf_put_u32(sb, cpu->cr0);
	sbuf_put_u32(sb, cpu->cr2);
	sbuf_put_u32(sb, cpu->cr3);
	sbuf_put_u32(sb, cpu->cr4);
	for (int i = 0; i < 8; i++)
		sbuf_put_u32(sb, cpu->dr[i]);
	sbuf_put_u64(sb, cpu->tsc_offset);
	sbuf_put_u32(sb, cpu->sysenter_cs);
	sbuf_put_u32(sb, cpu->sysenter_esp);
	sbuf_put_u32(sb, cpu->sysenter_eip);
	sbuf_put_u32(sb, cpu->apic_base);
	sbuf_put_bool(sb, cpu->a20);
	sbuf_put_bool(sb, cpu->irq_line);
	sbuf_put_bool(sb, cpu->nmi_pending);
	sbuf_put_bool(sb, cpu->nmi_blocked);
	sbuf_put_bool(sb, cpu->inhibit_irq);
	sbuf_put_bool(sb, cpu->halted);
	sbuf_put_bool(sb, cpu->ferr_asserted);
	sbuf_put_u64(sb, cpu->icount);
	sbuf_put_u8(sb, cpu->cpl);
	for (int i = 0; i < 2; i++) {
		sbuf_put_u64(sb, cpu->perfctr[i]);
		sbuf_put_u32(sb, cpu->evntsel[i]);
	}
	sbuf_end(sb, mark);
	x87_save(&cpu->fpu, sb);
}

int cpu_load(struct cpu *cpu, struct sbuf *sb)
{
	uint32_t version;
	if (!sbuf_open(sb, "cpu", &version))
		return -1;
	if (version != CPU_SAVE_VERSION) {
		sbuf_fail(sb, "cpu: unsupported state version %u", version);
		return -1;
	}
	struct cpu_regs r;
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < 8; i++)
		r.gpr[i] = sbuf_get_u32(sb);
	r.eip = sbuf_get_u32(sb);
	r.eflags = sbuf_get_u32(sb);
	for (int s = 0; s < 8; s++) {
		r.seg[s].sel = sbuf_get_u16(sb);
		r.seg[s].base = sbuf_get_u32(sb);
		r.seg[s].limit = sbuf_get_u32(sb);
		r.seg[s].attr = sbuf_get_u16(sb);
	}
	r.gdtr_base = sbuf_get_u32(sb);
	r.gdtr_limit = sbuf_get_u32(sb);
	r.idtr_base = sbuf_get_u32(sb);
	r.idtr_limit = sbuf_get_u32(sb);
	r.cr0 = sbuf_get_u32(sb);
	r.cr2 = sbuf_get_u32(sb);
	r.cr3 = sbuf_get_u32(sb);
	r.cr4 = sbuf_get_u32(sb);
	for (int i = 0; i < 8; i++)
		r.dr[i] = sbuf_get_u32(sb);
	r.tsc_offset = sbuf_get_u64(sb);
	r.sysenter_cs = sbuf_get_u32(sb);
	r.sysenter_esp = sbuf_get_u32(sb);
	r.sysenter_eip = sbuf_get_u32(sb);
	r.apic_base = sbuf_get_u32(sb);
	bool a20 = sbuf_get_bool(sb);
	bool irq_line = sbuf_get_bool(sb);
	bool nmi_pending = sbuf_get_bool(sb);
	bool nmi_blocked = sbuf_get_bool(sb);
	bool inhibit = sbuf_get_bool(sb);
	bool halted = sbuf_get_bool(sb);
	bool ferr = sbuf_get_bool(sb);
	uint64_t icount = sbuf_get_u64(sb);
	uint8_t cpl = sbuf_get_u8(sb);
	uint64_t perfctr[2];
	uint32_t evntsel[2];
	for (int i = 0; i < 2; i++) {
		perfctr[i] = sbuf_get_u64(sb) & PERFCTR_MASK;
		evntsel[i] = sbuf_get_u32(sb);
	}
	if (!sbuf_close(sb) || sb->error)
		return -1;
	if (cpl > 3) {
		sbuf_fail(sb, "cpu: bad CPL %u", cpl);
		return -1;
	}
	struct x87 fpu;
	if (x87_load(&fpu, sb) != 0 || sb->error)
		return -1;
	/* Everything read and checked: only now change the CPU. */
	cpu_set_regs(cpu, &r);
	cpu->a20 = a20;
	cpu->irq_line = irq_line;
	cpu->nmi_pending = nmi_pending;
	cpu->nmi_blocked = nmi_blocked;
	cpu->inhibit_irq = inhibit;
	cpu->halted = halted;
	cpu->ferr_asserted = ferr;
	cpu->icount = icount;
	cpu->fpu = fpu;
	cpu->cpl = cpl;
	memcpy(cpu->perfctr, perfctr, sizeof(perfctr));
	memcpy(cpu->evntsel, evntsel, sizeof(evntsel));
	cpu_update_mode(cpu);
	mmu_flush(cpu, false);
	tb_flush_all(cpu);
	return 0;
}
