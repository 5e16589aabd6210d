/*
 * System-level CPU tests with small assembled programs
 * (tests/unit/test_cpu_progs/, one .S each): real to protected mode, paging and #PF,
 * TLB flushing, self-modifying code, REP resumption after a fault,
 * interrupts with the STI shadow and HLT, precise exceptions, double and
 * triple faults, save/load.
 */
#include <stdio.h>
#include <string.h>

#include "lib/sbuf.h"
#include "tests/unit/harness.h"
#include "tests/unit/test_cpu_bus.h"
#include "test_cpu_progs.h"

#define LOAD 0x8000
#define REC_VEC 0x7000
#define REC_ERR 0x7004
#define REC_EIP 0x7008
#define REC_COUNT 0x700c
#define REC_CR2 0x7010
#define REC_REGS 0x7020
#define OUT 0x7400
#define REC_CS 0x7040
#define REC_EFL 0x7044
#define REC_UESP 0x7048

#define START32(m, prog, entry) \
	do { tm_load((m), LOAD, prog, sizeof(prog)); tm_flat32((m), (entry), 0x20000); } while (0)

/* Runs another entry of the program already loaded, in flat 32-bit mode,
 * with the exception record (0x7000-0x7fff) cleared first. */
static enum cpu_exit rerun32(struct tmachine *m, uint32_t entry, uint64_t budget)
{
	memset(m->ram + REC_VEC, 0, 0x1000);
	tm_flat32(m, entry, 0x20000);
	return cpu_run(m->cpu, budget);
}

static void real_to_protected(struct test *t)
{
	struct tmachine *m = tm_new(false);
	REQUIRE(t, m);
	tm_load(m, LOAD, prog_pmode, sizeof(prog_pmode));
	tm_real(m, PROG_pmode_start, 0x7c00);
	CHECK_EQ(t, cpu_run(m->cpu, 10000), CPU_EXIT_HALT);
	struct cpu_regs r;
	cpu_get_regs(m->cpu, &r);
	CHECK_EQ(t, m->ram[OUT] | m->ram[OUT + 1] << 8, 0x4242);      /* INT 40h through the IVT */
	CHECK_EQ(t, r.gpr[R_EAX], 0x12345678);
	CHECK_EQ(t, r.seg[S_CS].sel, 0x08);
	CHECK_EQ(t, r.seg[S_SS].sel, 0x10);
	CHECK_EQ(t, r.seg[S_CS].limit, 0xffffffffu);
	CHECK(t, r.cr0 & 1);
	CHECK_EQ(t, r.gpr[R_ESP], 0x9000);
	/* the descriptors got their accessed bits */
	uint32_t gdt = PROG_pmode_gdt;
	CHECK(t, tm_rd32(m, gdt + 8 + 4) & 0x100);
	CHECK(t, tm_rd32(m, gdt + 16 + 4) & 0x100);
	tm_free(m);
}

static void paging_faults_and_tlb(struct test *t)
{
	struct tmachine *m = tm_new(false);
	REQUIRE(t, m);
	START32(m, prog_paging, PROG_paging_start);
	CHECK_EQ(t, cpu_run(m->cpu, 100000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(m, OUT + 0), 2);            /* supervisor write, not present */
	CHECK_EQ(t, tm_rd32(m, OUT + 4), 0x300010);
	CHECK_EQ(t, tm_rd32(m, 0x300010), 0xabcd);      /* retried after the fix */
	CHECK_EQ(t, tm_rd32(m, OUT + 8), 3);            /* protection, write */
	CHECK_EQ(t, tm_rd32(m, OUT + 12), 0x301000);
	CHECK_EQ(t, tm_rd32(m, 0x301000), 0x5555);
	CHECK_EQ(t, tm_rd32(m, OUT + 16), 0x11111111);
	CHECK_EQ(t, tm_rd32(m, OUT + 20), 0x11111111);  /* stale until INVLPG */
	CHECK_EQ(t, tm_rd32(m, OUT + 24), 0x22222222);
	CHECK_EQ(t, tm_rd32(m, OUT + 28) & 0x60, 0x20); /* accessed, not dirty */
	CHECK_EQ(t, tm_rd32(m, OUT + 32) & 0x60, 0x60); /* dirty after a write */
	CHECK_EQ(t, tm_rd32(m, OUT + 36), 0x11111111);  /* CR3 reload flushed */
	CHECK_EQ(t, tm_rd32(m, OUT + 40), 2);           /* exactly two page faults */
	tm_free(m);
}

static void self_modifying_code(struct test *t)
{
	struct tmachine *m = tm_new(false);
	REQUIRE(t, m);
	START32(m, prog_smc, PROG_smc_start);
	CHECK_EQ(t, cpu_run(m->cpu, 100000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_reg(m, R_EAX), 1);       /* the rewritten next instruction ran */
	CHECK_EQ(t, tm_reg(m, R_EBX), 21);      /* 1 + 10 + 10: the cached block was dropped */
	tm_free(m);
}

static void dma_write_invalidates(struct test *t)
{
	struct tmachine *m = tm_new(false);
	REQUIRE(t, m);
	/* mov eax, 1; hlt  -- run, then patch by "DMA" and run again */
	static const uint8_t code[] = { 0xb8, 1, 0, 0, 0, 0xf4 };
	START32(m, code, 0x8000);
	CHECK_EQ(t, cpu_run(m->cpu, 100), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_reg(m, R_EAX), 1);
	m->ram[0x8001] = 7;
	cpu_phys_written(m->cpu, 0x8001, 1);
	tm_flat32(m, 0x8000, 0x20000);
	CHECK_EQ(t, cpu_run(m->cpu, 100), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_reg(m, R_EAX), 7);
	tm_free(m);
}

static void rep_fault_resumes(struct test *t)
{
	struct tmachine *m = tm_new(false);
	REQUIRE(t, m);
	START32(m, prog_repfault, PROG_repfault_start);
	CHECK_EQ(t, cpu_run(m->cpu, 1000000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(m, REC_COUNT), 1);
	CHECK_EQ(t, tm_rd32(m, REC_EIP), PROG_repfault_rep_insn);
	CHECK_EQ(t, tm_rd32(m, REC_CR2), 0x311000);
	CHECK_EQ(t, tm_rd32(m, REC_REGS + 4), 0x800);   /* ECX at the fault: half done */
	struct cpu_regs r;
	cpu_get_regs(m->cpu, &r);
	CHECK_EQ(t, r.gpr[R_ECX], 0);
	CHECK_EQ(t, r.gpr[R_ESI], 0x101000);
	CHECK_EQ(t, r.gpr[R_EDI], 0x311800);
	bool all = true;
	for (uint32_t a = 0x310800; a < 0x311800; a++)
		all = all && m->ram[a] == 0x5a;
	CHECK(t, all);
	CHECK_EQ(t, m->ram[0x311800], 0);
	tm_free(m);
}

static void interrupts_sti_shadow_hlt(struct test *t)
{
	struct tmachine *m = tm_new(false);
	REQUIRE(t, m);
	START32(m, prog_irq, PROG_irq_start);
	m->vector = 0x20;
	cpu_set_irq(m->cpu, true);
	/* IF=0 at first: the interrupt waits for STI plus one instruction */
	CHECK_EQ(t, cpu_run(m->cpu, 100000), CPU_EXIT_HALT);
	CHECK_EQ(t, m->acks, 1);
	CHECK_EQ(t, tm_rd32(m, REC_VEC), 0x20);
	CHECK_EQ(t, tm_rd32(m, REC_REGS + 12), 1);       /* EBX: the shadowed INC ran first */
	CHECK_EQ(t, tm_rd32(m, REC_EIP), PROG_irq_first_hlt);
	CHECK_EQ(t, tm_rd32(m, OUT), 1);
	/* now halted with nothing pending: stays halted */
	CHECK_EQ(t, cpu_run(m->cpu, 1000), CPU_EXIT_HALT);
	CHECK(t, tm_reg(m, R_ECX) != 0x77);
	cpu_set_irq(m->cpu, true);
	CHECK_EQ(t, cpu_run(m->cpu, 100000), CPU_EXIT_HALT);
	CHECK_EQ(t, m->acks, 2);
	CHECK_EQ(t, tm_rd32(m, REC_EIP), PROG_irq_after_hlt);
	CHECK_EQ(t, tm_reg(m, R_ECX), 0x77);
	/* IF=0 now: a raised line is not taken */
	cpu_set_irq(m->cpu, true);
	CHECK_EQ(t, cpu_run(m->cpu, 1000), CPU_EXIT_HALT);
	CHECK_EQ(t, m->acks, 2);
	tm_free(m);
}

static void exceptions_are_precise(struct test *t)
{
	struct tmachine *m = tm_new(false);
	REQUIRE(t, m);

	START32(m, prog_except, PROG_except_t_de);
	CHECK_EQ(t, cpu_run(m->cpu, 10000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(m, REC_VEC), 0);
	CHECK_EQ(t, tm_rd32(m, REC_EIP), PROG_except_de_insn);
	CHECK_EQ(t, tm_rd32(m, REC_REGS + 0), 0x11);
	CHECK_EQ(t, tm_rd32(m, REC_REGS + 8), 0x44);

	CHECK_EQ(t, rerun32(m, PROG_except_t_gp, 10000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(m, REC_VEC), 13);
	CHECK_EQ(t, tm_rd32(m, REC_ERR), 0x1234);     /* TI=1: the (absent) LDT */
	CHECK_EQ(t, tm_rd32(m, REC_EIP), PROG_except_gp_insn);

	CHECK_EQ(t, rerun32(m, PROG_except_t_ud, 10000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(m, REC_VEC), 6);
	CHECK_EQ(t, tm_rd32(m, REC_EIP), PROG_except_ud_insn);

	CHECK_EQ(t, rerun32(m, PROG_except_t_long, 10000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(m, REC_VEC), 13);
	CHECK_EQ(t, tm_rd32(m, REC_ERR), 0);
	CHECK_EQ(t, tm_rd32(m, REC_EIP), PROG_except_long_insn);

	CHECK_EQ(t, rerun32(m, PROG_except_t_pf, 100000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(m, REC_VEC), 14);
	CHECK_EQ(t, tm_rd32(m, REC_ERR), 2);            /* RMW: reported as a write */
	CHECK_EQ(t, tm_rd32(m, REC_CR2), 0x301000);
	CHECK_EQ(t, tm_rd32(m, REC_EIP), PROG_except_pf_insn);
	CHECK_EQ(t, tm_rd32(m, 0x300ffc), 0x01020304);  /* no byte of the split write landed */
	CHECK_EQ(t, tm_rd32(m, REC_REGS + 12), 0x99);

	CHECK_EQ(t, rerun32(m, PROG_except_t_bound, 10000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(m, REC_VEC), 5);
	CHECK_EQ(t, tm_rd32(m, REC_EIP), PROG_except_bound_insn);
	tm_free(m);
}

static void triple_fault_shuts_down(struct test *t)
{
	struct tmachine *m = tm_new(false);
	REQUIRE(t, m);
	START32(m, prog_except, PROG_except_t_triple);
	CHECK_EQ(t, cpu_run(m->cpu, 100000), CPU_EXIT_SHUTDOWN);
	tm_free(m);
}

static void save_load_roundtrip(struct test *t)
{
	struct tmachine *a = tm_new(true), *b = tm_new(true);
	REQUIRE(t, a && b);
	START32(a, prog_smc, PROG_smc_start);
	cpu_run(a->cpu, 40);            /* somewhere in the middle */
	struct sbuf sb;
	sbuf_init(&sb);
	cpu_save(a->cpu, &sb);
	REQUIRE(t, !sb.error);
	memcpy(b->ram, a->ram, TM_RAM);
	struct sbuf rd;
	sbuf_init_read(&rd, sb.data, sb.len);
	REQUIRE(t, cpu_load(b->cpu, &rd) == 0);
	struct cpu_regs ra, rb;
	cpu_get_regs(a->cpu, &ra);
	cpu_get_regs(b->cpu, &rb);
	CHECK(t, memcmp(&ra, &rb, sizeof(ra)) == 0);
	CHECK_EQ(t, cpu_run(a->cpu, 100000), CPU_EXIT_HALT);
	CHECK_EQ(t, cpu_run(b->cpu, 100000), CPU_EXIT_HALT);
	cpu_get_regs(a->cpu, &ra);
	cpu_get_regs(b->cpu, &rb);
	CHECK(t, memcmp(&ra, &rb, sizeof(ra)) == 0);
	CHECK_EQ(t, rb.gpr[R_EBX], 21);
	/* a corrupt image is refused and changes nothing */
	sb.data[20] ^= 0xff;
	sbuf_init_read(&rd, sb.data, sb.len / 2);
	CHECK(t, cpu_load(b->cpu, &rd) != 0);
	struct cpu_regs rc;
	cpu_get_regs(b->cpu, &rc);
	CHECK(t, memcmp(&rb, &rc, sizeof(rb)) == 0);
	sbuf_free(&sb);
	tm_free(a);
	tm_free(b);
}

static void request_exit_from_io(struct test *t)
{
	struct tmachine *m = tm_new(false);
	REQUIRE(t, m);
	/* out 0xe9, al; mov ebx, 5; hlt */
	static const uint8_t code[] = { 0xb0, 0x41, 0xe6, 0xe9, 0xbb, 5, 0, 0, 0, 0xf4 };
	START32(m, code, 0x8000);
	m->exit_on_out = true;
	CHECK_EQ(t, cpu_run(m->cpu, 1000), CPU_EXIT_REQUEST);
	CHECK_EQ(t, m->nio, 1);
	CHECK_EQ(t, m->io[0].port, 0xe9);
	CHECK_EQ(t, m->io[0].value, 0x41);
	CHECK_EQ(t, tm_reg(m, R_EBX), 0);       /* stopped right after the OUT */
	CHECK_EQ(t, cpu_run(m->cpu, 1000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_reg(m, R_EBX), 5);
	tm_free(m);
}

static void budget_and_count(struct test *t)
{
	struct tmachine *m = tm_new(false);
	REQUIRE(t, m);
	static const uint8_t code[] = { 0x40, 0xeb, 0xfd };     /* 1: inc eax; jmp 1b */
	START32(m, code, 0x8000);
	uint64_t c0 = cpu_insn_count(m->cpu);
	CHECK_EQ(t, cpu_run(m->cpu, 1000), CPU_EXIT_BUDGET);
	uint64_t ran = cpu_insn_count(m->cpu) - c0;
	CHECK(t, ran >= 1000 && ran < 1000 + 64);
	CHECK_EQ(t, tm_reg(m, R_EAX), (ran + 1) / 2);
	tm_free(m);
}

static void mmio_access(struct test *t)
{
	struct tmachine *m = tm_new(false);
	REQUIRE(t, m);
	/* mov eax, [0xfe000010]; mov [0xfe000020], ebx; hlt */
	static const uint8_t code[] = { 0xa1, 0x10, 0, 0, 0xfe, 0xbb, 0xcd, 0xab, 0, 0,
	                                0x89, 0x1d, 0x20, 0, 0, 0xfe, 0xf4 };
	START32(m, code, 0x8000);
	CHECK_EQ(t, cpu_run(m->cpu, 100), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_reg(m, R_EAX), 0x12345678);
	CHECK_EQ(t, m->mmio_reads, 1);
	CHECK_EQ(t, m->mmio_writes, 1);
	CHECK_EQ(t, m->mmio_last_addr, 0xfe000020);
	CHECK_EQ(t, m->mmio_last_value, 0xabcd);
	tm_free(m);
}

static void breakpoints_and_single_step(struct test *t)
{
	struct tmachine *m = tm_new(false);
	REQUIRE(t, m);
	static const uint8_t code[] = { 0x40, 0x40, 0x40, 0x40, 0xf4 };
	START32(m, code, 0x8000);
	CHECK_EQ(t, cpu_add_breakpoint(m->cpu, 0x8002), 0);
	CHECK_EQ(t, cpu_run(m->cpu, 100), CPU_EXIT_DEBUG);
	CHECK_EQ(t, tm_reg(m, R_EAX), 2);
	cpu_set_single_step(m->cpu, true);
	CHECK_EQ(t, cpu_run(m->cpu, 100), CPU_EXIT_DEBUG);
	CHECK_EQ(t, tm_reg(m, R_EAX), 3);
	cpu_set_single_step(m->cpu, false);
	CHECK_EQ(t, cpu_remove_breakpoint(m->cpu, 0x8002), 0);
	CHECK_EQ(t, cpu_run(m->cpu, 100), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_reg(m, R_EAX), 4);
	uint8_t buf[4];
	CHECK_EQ(t, cpu_read_linear(m->cpu, 0x8000, buf, 4), 0);
	CHECK_EQ(t, buf[0], 0x40);
	tm_free(m);
}

static void user_mode_int80_and_iopl(struct test *t)
{
	struct tmachine *m = tm_new(false);
	REQUIRE(t, m);
	START32(m, prog_user, PROG_user_t_int80);
	CHECK_EQ(t, cpu_run(m->cpu, 100000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(m, OUT), 1);                /* INT 80h reached the ring-0 hook */
	CHECK_EQ(t, tm_rd32(m, OUT + 4), 0x1b);         /* and IRET came back to ring 3 */
	CHECK_EQ(t, tm_rd32(m, REC_VEC), 13);           /* CLI with IOPL 0 */
	CHECK_EQ(t, tm_rd32(m, REC_EIP), PROG_user_user_cli);
	CHECK_EQ(t, tm_rd32(m, REC_CS), 0x1b);
	CHECK_EQ(t, tm_rd32(m, REC_UESP), 0x1e000);
	uint32_t kesp = tm_rd32(m, REC_REGS + 16);      /* on the TSS ring-0 stack */
	CHECK(t, kesp < 0x1f000 && kesp > 0x1ef00);
	tm_free(m);
}

static void sysenter_sysexit(struct test *t)
{
	struct tmachine *m = tm_new(false);
	REQUIRE(t, m);
	START32(m, prog_user, PROG_user_t_sysenter);
	CHECK_EQ(t, cpu_run(m->cpu, 100000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(m, OUT + 0), 0x08);
	CHECK_EQ(t, tm_rd32(m, OUT + 4), 0x1d000);
	CHECK_EQ(t, tm_rd32(m, OUT + 8), 0x10);
	CHECK_EQ(t, tm_rd32(m, OUT + 12), 0x1b);
	CHECK_EQ(t, tm_rd32(m, OUT + 16), 0x23);
	CHECK_EQ(t, tm_rd32(m, OUT + 20), 0x1e000);
	CHECK_EQ(t, tm_rd32(m, REC_VEC), 13);
	tm_free(m);
}

static void io_permission_bitmap(struct test *t)
{
	struct tmachine *m = tm_new(false);
	REQUIRE(t, m);
	START32(m, prog_user, PROG_user_t_iobitmap);
	CHECK_EQ(t, cpu_run(m->cpu, 100000), CPU_EXIT_HALT);
	CHECK_EQ(t, m->nio, 1);                         /* port 0x70 allowed */
	CHECK_EQ(t, m->io[0].port, 0x70);
	CHECK_EQ(t, tm_rd32(m, REC_VEC), 13);           /* port 0x80 denied */
	CHECK_EQ(t, tm_rd32(m, REC_EIP), PROG_user_io_denied);
	tm_free(m);
}

static void call_gate_with_parameter(struct test *t)
{
	struct tmachine *m = tm_new(false);
	REQUIRE(t, m);
	START32(m, prog_user, PROG_user_t_gate);
	CHECK_EQ(t, cpu_run(m->cpu, 100000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(m, OUT + 4), 0x08);         /* ran in ring 0 */
	CHECK_EQ(t, tm_rd32(m, OUT + 8), 0x42);         /* the parameter was copied */
	CHECK_EQ(t, tm_rd32(m, OUT + 12), 0x1e000);     /* RETF 4 popped it from the user stack */
	CHECK_EQ(t, tm_rd32(m, REC_CS), 0x1b);
	tm_free(m);
}

static void user_page_protection(struct test *t)
{
	struct tmachine *m = tm_new(false);
	REQUIRE(t, m);
	START32(m, prog_user, PROG_user_t_upf);
	CHECK_EQ(t, cpu_run(m->cpu, 100000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(m, REC_VEC), 14);
	CHECK_EQ(t, tm_rd32(m, REC_ERR), 5);            /* present, read, user */
	CHECK_EQ(t, tm_rd32(m, REC_CR2), 0x300000);
	CHECK_EQ(t, tm_rd32(m, REC_EIP), PROG_user_upf_insn);
	tm_free(m);
}

static void v86_mode(struct test *t)
{
	struct tmachine *m = tm_new(false);
	REQUIRE(t, m);
	START32(m, prog_v86, PROG_v86_t_v86);
	CHECK_EQ(t, cpu_run(m->cpu, 100000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(m, OUT), 1);                /* INT 21h left V86 for the handler */
	CHECK(t, tm_rd32(m, OUT + 4) & 0x20000);        /* with VM in the pushed EFLAGS */
	CHECK_EQ(t, tm_rd32(m, OUT + 8), 0);            /* and the V86 CS */
	CHECK_EQ(t, tm_rd32(m, 0x7810) & 0xffff, 0x1234); /* back in V86: DS=0x780 addressing */
	CHECK_EQ(t, tm_rd32(m, REC_VEC), 13);           /* HLT in V86 */
	CHECK_EQ(t, tm_rd32(m, REC_EIP), PROG_v86_v86_hlt);
	CHECK(t, tm_rd32(m, REC_EFL) & 0x20000);
	CHECK_EQ(t, tm_rd32(m, REC_REGS + 12) & 0xffff, 0x1234);
	tm_free(m);
}

static void task_switch_call_and_iret(struct test *t)
{
	struct tmachine *m = tm_new(false);
	REQUIRE(t, m);
	START32(m, prog_task, PROG_task_t_task);
	CHECK_EQ(t, cpu_run(m->cpu, 100000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(m, OUT), 1);
	CHECK_EQ(t, tm_rd32(m, OUT + 4), 0xb0b);        /* task B's registers */
	CHECK_EQ(t, tm_rd32(m, OUT + 16), 0x30);        /* TR in task B */
	CHECK(t, tm_rd32(m, OUT + 20) & 0x4000);        /* NT set by CALL */
	CHECK_EQ(t, tm_rd32(m, OUT + 8), 0xa0a);        /* back in A, its EBX restored */
	CHECK_EQ(t, tm_rd32(m, OUT + 12), 0x28);
	CHECK_EQ(t, tm_rd32(m, 0x4000), 0x28);          /* back link */
	tm_free(m);
}

static void x87_through_the_cpu(struct test *t)
{
	struct tmachine *m = tm_new(true);
	REQUIRE(t, m);
	START32(m, prog_x87, PROG_x87_t_basic);
	CHECK_EQ(t, cpu_run(m->cpu, 10000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(m, OUT), 2);
	CHECK_EQ(t, m->ram[OUT + 4], 1);                /* FCOMI: pi > 1 */
	CHECK_EQ(t, (tm_rd32(m, OUT + 8) >> 11) & 7, 0);        /* stack balanced */

	CHECK_EQ(t, rerun32(m, PROG_x87_t_em, 10000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(m, REC_VEC), 7);
	CHECK_EQ(t, tm_rd32(m, REC_EIP), PROG_x87_em_insn);

	CHECK_EQ(t, rerun32(m, PROG_x87_t_ts, 10000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(m, REC_VEC), 7);
	CHECK_EQ(t, tm_rd32(m, REC_EIP), PROG_x87_ts_insn);

	CHECK_EQ(t, rerun32(m, PROG_x87_t_mf, 10000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(m, REC_VEC), 16);
	CHECK_EQ(t, tm_rd32(m, REC_EIP), PROG_x87_mf_insn);

	CHECK_EQ(t, rerun32(m, PROG_x87_t_ferr, 10000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(m, REC_COUNT), 0);          /* CR0.NE clear: no #MF ... */
	CHECK_EQ(t, tm_rd32(m, OUT + 20), 1);
	CHECK_EQ(t, m->ferr, 1);                        /* ... but FERR# */
	cpu_ignne(m->cpu);
	CHECK_EQ(t, m->ferr, 0);

	CHECK_EQ(t, rerun32(m, PROG_x87_t_pf, 100000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(m, REC_COUNT), 1);
	CHECK_EQ(t, tm_rd32(m, REC_ERR), 2);
	CHECK_EQ(t, tm_rd32(m, REC_CR2), 0x301000);
	CHECK_EQ(t, tm_rd32(m, REC_EIP), PROG_x87_pf_insn);
	CHECK_EQ(t, tm_rd32(m, 0x300ffc), 0);           /* double 1.0 after the retry */
	CHECK_EQ(t, tm_rd32(m, 0x301000), 0x3ff00000);
	CHECK_EQ(t, (tm_rd32(m, OUT + 24) >> 11) & 7, 0);       /* popped exactly once */
	tm_free(m);
}

static void cpuid_msr_tsc(struct test *t)
{
	struct tmachine *m = tm_new(true), *n = tm_new(false);
	REQUIRE(t, m && n);
	/* cpuid(0) -> [0x7800..], cpuid(1) -> [0x7810..], rdtsc -> [0x7820], rdmsr 0x10 after wrmsr */
	static const uint8_t code[] = {
		0x31, 0xc0, 0x0f, 0xa2,                         /* xor eax,eax; cpuid */
		0xa3, 0x00, 0x78, 0, 0, 0x89, 0x1d, 0x04, 0x78, 0, 0,
		0x89, 0x15, 0x08, 0x78, 0, 0, 0x89, 0x0d, 0x0c, 0x78, 0, 0,
		0xb8, 1, 0, 0, 0, 0x0f, 0xa2,                   /* mov eax,1; cpuid */
		0xa3, 0x10, 0x78, 0, 0, 0x89, 0x15, 0x14, 0x78, 0, 0,
		0x0f, 0x31,                                     /* rdtsc */
		0xa3, 0x20, 0x78, 0, 0, 0x89, 0x15, 0x24, 0x78, 0, 0,
		0xb9, 0x10, 0, 0, 0, 0x31, 0xc0, 0xba, 1, 0, 0, 0, 0x0f, 0x30,  /* wrmsr TSC = 1<<32 */
		0x0f, 0x32,                                     /* rdmsr */
		0xa3, 0x28, 0x78, 0, 0, 0x89, 0x15, 0x2c, 0x78, 0, 0,
		0xf4,
	};
	m->now_ns = 2000000000u;
	START32(m, code, 0x8000);
	CHECK_EQ(t, cpu_run(m->cpu, 1000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(m, 0x7804), 0x756e6547);    /* "Genu" */
	CHECK_EQ(t, tm_rd32(m, 0x7808), 0x49656e69);    /* "ineI" */
	CHECK_EQ(t, tm_rd32(m, 0x780c), 0x6c65746e);    /* "ntel" */
	CHECK_EQ(t, (tm_rd32(m, 0x7810) >> 8) & 0xf, 6);        /* family 6 */
	uint32_t edx = tm_rd32(m, 0x7814);
	uint32_t need = (1u << 0) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 8) | (1u << 11) |
	                (1u << 13) | (1u << 15) | (1u << 24);
	CHECK_EQ(t, edx & need, need);
	CHECK_EQ(t, edx & ~need, 0);                    /* nothing we do not implement */
	CHECK_EQ(t, tm_rd32(m, 0x7820), 2000000000u);   /* 2 s at 1 GHz */
	CHECK_EQ(t, tm_rd32(m, 0x7824), 0);
	CHECK_EQ(t, tm_rd32(m, 0x782c), 1);             /* WRMSR TSC took */
	CHECK_EQ(t, tm_rd32(m, 0x7828), 0);

	START32(n, code, 0x8000);
	CHECK_EQ(t, cpu_run(n->cpu, 1000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(n, 0x7814) & ((1u << 0) | (1u << 24)), 0);  /* no FPU, no FXSR */
	tm_free(m);
	tm_free(n);
}

static void unknown_msr_faults(struct test *t)
{
	struct tmachine *m = tm_new(false);
	REQUIRE(t, m);
	tm_load(m, LOAD, prog_except, sizeof(prog_except));
	/* rt_setup, then rdmsr 0x12345: the test uses t_ud's setup by patching its UD bytes */
	uint32_t at = PROG_except_ud_insn - LOAD;
	static const uint8_t rdmsr[] = { 0xb9, 0x45, 0x23, 0x01, 0x00, 0x0f, 0x32, 0xf4 };
	memcpy(m->ram + LOAD + at, rdmsr, sizeof(rdmsr));
	cpu_phys_written(m->cpu, LOAD + at, sizeof(rdmsr));
	tm_flat32(m, PROG_except_t_ud, 0x20000);
	CHECK_EQ(t, cpu_run(m->cpu, 10000), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_rd32(m, REC_VEC), 13);
	CHECK_EQ(t, tm_rd32(m, REC_EIP), PROG_except_ud_insn + 5);
	tm_free(m);
}

static void a20_gate(struct test *t)
{
	struct tmachine *m = tm_new(false);
	REQUIRE(t, m);
	/* mov ax,0xffff; mov ds,ax; mov byte [0x10],0x55; hlt  (FFFF:0010 = 0x100000) */
	static const uint8_t code[] = { 0xb8, 0xff, 0xff, 0x8e, 0xd8, 0xc6, 0x06, 0x10, 0x00, 0x55, 0xf4 };
	tm_load(m, LOAD, code, sizeof(code));
	tm_real(m, LOAD, 0x7c00);
	cpu_set_a20(m->cpu, false);
	CHECK_EQ(t, cpu_run(m->cpu, 100), CPU_EXIT_HALT);
	CHECK_EQ(t, m->ram[0], 0x55);                   /* wrapped to 0 */
	CHECK_EQ(t, m->ram[0x100000], 0);
	m->ram[0] = 0;
	tm_real(m, LOAD, 0x7c00);
	cpu_set_a20(m->cpu, true);
	CHECK_EQ(t, cpu_run(m->cpu, 100), CPU_EXIT_HALT);
	CHECK_EQ(t, m->ram[0], 0);
	CHECK_EQ(t, m->ram[0x100000], 0x55);
	tm_free(m);
}

/* MOV to/from DR: DR4/DR5 are DR6/DR7 while CR4.DE is clear, the reserved
 * bits of DR6/DR7 read as fixed; with CR4.DE, DR4 is #UD (no IDT here:
 * the #UD ends in a triple fault). */
static void debug_registers(struct test *t)
{
	static const uint8_t code[] = {
		0xb8, 0x78, 0x56, 0x34, 0x12,   /* mov eax, 0x12345678 */
		0x0f, 0x23, 0xc0,               /* mov dr0, eax */
		0x0f, 0x21, 0xc3,               /* mov ebx, dr0 */
		0xb8, 0xff, 0xff, 0xff, 0xff,   /* mov eax, -1 */
		0x0f, 0x23, 0xe8,               /* mov dr5, eax (DR7) */
		0x0f, 0x21, 0xf9,               /* mov ecx, dr7 */
		0x31, 0xc0,                     /* xor eax, eax */
		0x0f, 0x23, 0xe0,               /* mov dr4, eax (DR6) */
		0x0f, 0x21, 0xf2,               /* mov edx, dr6 */
		0xf4,                           /* hlt */
	};
	struct tmachine *m = tm_new(false);
	struct cpu_regs r;

	REQUIRE(t, m);
	tm_load(m, LOAD, code, sizeof(code));
	tm_flat32(m, LOAD, 0x20000);
	CHECK_EQ(t, cpu_run(m->cpu, 100), CPU_EXIT_HALT);
	cpu_get_regs(m->cpu, &r);
	CHECK_EQ(t, r.gpr[R_EBX], 0x12345678);
	CHECK_EQ(t, r.gpr[R_ECX], 0xffff2fffu);     /* bits 12, 14, 15 clear, 10 set */
	CHECK_EQ(t, r.gpr[R_EDX], 0xffff0ff0u);     /* the fixed ones of DR6 */

	tm_flat32(m, LOAD + 24, 0x20000);           /* the mov dr4 */
	cpu_get_regs(m->cpu, &r);
	r.cr4 |= 1u << 3;                           /* CR4.DE */
	r.gpr[R_EDX] = 0;
	cpu_set_regs(m->cpu, &r);
	CHECK_EQ(t, cpu_run(m->cpu, 100), CPU_EXIT_SHUTDOWN);
	cpu_get_regs(m->cpu, &r);
	CHECK_EQ(t, r.gpr[R_EDX], 0);               /* never reached the read */
	tm_free(m);
}

int main(int argc, char **argv)
{
	struct harness h;
	harness_init(&h, "cpu_sys", argc, argv);
	RUN(&h, real_to_protected);
	RUN(&h, paging_faults_and_tlb);
	RUN(&h, self_modifying_code);
	RUN(&h, dma_write_invalidates);
	RUN(&h, rep_fault_resumes);
	RUN(&h, interrupts_sti_shadow_hlt);
	RUN(&h, exceptions_are_precise);
	RUN(&h, triple_fault_shuts_down);
	RUN(&h, save_load_roundtrip);
	RUN(&h, request_exit_from_io);
	RUN(&h, budget_and_count);
	RUN(&h, mmio_access);
	RUN(&h, breakpoints_and_single_step);
	RUN(&h, user_mode_int80_and_iopl);
	RUN(&h, sysenter_sysexit);
	RUN(&h, io_permission_bitmap);
	RUN(&h, call_gate_with_parameter);
	RUN(&h, user_page_protection);
	RUN(&h, v86_mode);
	RUN(&h, task_switch_call_and_iret);
	RUN(&h, x87_through_the_cpu);
	RUN(&h, cpuid_msr_tsc);
	RUN(&h, unknown_msr_faults);
	RUN(&h, a20_gate);
	RUN(&h, debug_registers);
	return harness_done(&h);
}
