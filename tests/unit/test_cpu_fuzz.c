/*
 * A hostile guest must not crash the host: random code, random descriptor
 * tables, random page tables and random modes, run for a bounded number of
 * instructions. The check is that every run ends with a valid exit reason
 * (under ASan/UBSan in `make test`, also that nothing invalid happened),
 * and that the CPU still works afterwards.
 */
#include <stdio.h>
#include <string.h>

#include "lib/sbuf.h"
#include "tests/unit/harness.h"
#include "tests/unit/test_cpu_bus.h"

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void fill_random(struct tmachine *m, uint64_t *s, uint32_t addr, uint32_t len)
{
	for (uint32_t i = 0; i < len; i += 8) {
		uint64_t v = rng(s);
		memcpy(m->ram + addr + i, &v, len - i < 8 ? len - i : 8);
	}
	cpu_phys_written(m->cpu, addr, len);
}

static void random_runs(struct test *t)
{
	struct tmachine *m = tm_new(true);
	REQUIRE(t, m);
	uint64_t seed = 0x243f6a8885a308d3ull;
	unsigned exits[5] = { 0 };
	for (int run = 0; run < 2000; run++) {
		/* Code, stack, tables: everything the guest sees is noise. */
		fill_random(m, &seed, 0, 0x40000);
		struct cpu_regs r;
		cpu_reset(m->cpu);
		cpu_get_regs(m->cpu, &r);
		for (int i = 0; i < 8; i++)
			r.gpr[i] = (uint32_t)rng(&seed) & 0x3ffff;
		r.eip = (uint32_t)rng(&seed) & 0xffff;
		r.eflags = 2 | ((uint32_t)rng(&seed) & 0x8d5);
		unsigned mode = run % 5;        /* real, 16/32-bit prot, paged, V86 */
		for (int s = 0; s < 6; s++) {
			r.seg[s].sel = (uint16_t)rng(&seed);
			bool real = mode == 0 || mode == 4;
			r.seg[s].base = real ? (uint32_t)r.seg[s].sel << 4 : 0;
			r.seg[s].limit = real ? 0xffff : 0xffffffffu;
			r.seg[s].attr = s == S_CS ? (mode == 2 || mode == 3 ? 0xc9b : 0x9b)
			                          : (mode == 2 || mode == 3 ? 0xc93 : 0x93);
		}
		r.seg[S_CS].base = 0;
		r.gdtr_base = (uint32_t)rng(&seed) & 0x3f000;
		r.gdtr_limit = (uint32_t)rng(&seed) & 0xffff;
		r.idtr_base = (uint32_t)rng(&seed) & 0x3f000;
		r.idtr_limit = (uint32_t)rng(&seed) & 0x7ff;
		r.cr0 = 0x10 | (mode >= 1 ? 1 : 0) | (mode == 3 || (mode == 4 && (run & 32)) ? 0x80000000u : 0);
		r.cr3 = (uint32_t)rng(&seed) & 0x3f000;
		r.cr4 = (uint32_t)rng(&seed) & 0x90;
		if (mode == 4)
			r.eflags |= 0x20000 | ((uint32_t)rng(&seed) & 0x3200);
		if (mode == 2 || mode == 3) {
			r.seg[S_CS].sel = 0x08 | (run & 8 ? 3 : 0);
			r.seg[S_SS].sel = 0x10 | (run & 8 ? 3 : 0);
		}
		cpu_set_regs(m->cpu, &r);
		cpu_set_irq(m->cpu, (run & 16) != 0);
		m->vector = (uint8_t)rng(&seed);
		enum cpu_exit e = cpu_run(m->cpu, 20000);
		CHECK(t, e <= CPU_EXIT_DEBUG);
		if (e <= CPU_EXIT_DEBUG)
			exits[e]++;
		/* A snapshot of whatever state that left must load back. */
		struct sbuf sb;
		sbuf_init(&sb);
		cpu_save(m->cpu, &sb);
		struct sbuf rd;
		sbuf_init_read(&rd, sb.data, sb.len);
		CHECK(t, cpu_load(m->cpu, &rd) == 0);
		sbuf_free(&sb);
	}
	cpu_set_irq(m->cpu, false);
	/* Still a working CPU: mov eax, 42; hlt */
	memset(m->ram, 0, 0x40000);
	static const uint8_t code[] = { 0xb8, 42, 0, 0, 0, 0xf4 };
	cpu_reset(m->cpu);
	tm_load(m, 0x8000, code, sizeof(code));
	tm_flat32(m, 0x8000, 0x20000);
	CHECK_EQ(t, cpu_run(m->cpu, 100), CPU_EXIT_HALT);
	CHECK_EQ(t, tm_reg(m, R_EAX), 42);
	/* The runs must have gone somewhere: not all shut down at once. */
	CHECK(t, exits[CPU_EXIT_BUDGET] + exits[CPU_EXIT_HALT] > 0);
	tm_free(m);
}

int main(int argc, char **argv)
{
	struct harness h;
	harness_init(&h, "cpu_fuzz", argc, argv);
	RUN(&h, random_runs);
	return harness_done(&h);
}
