/*
 * A RAM-only machine for the CPU unit tests: a few MiB of RAM, an MMIO
 * window that counts accesses, port I/O that is recorded, an interrupt
 * vector to hand out, and a clock the test controls. Header-only so every
 * test_cpu*.c program can embed it.
 */
#ifndef TESTS_UNIT_TEST_CPU_BUS_H
#define TESTS_UNIT_TEST_CPU_BUS_H

#include <stdlib.h>
#include <string.h>

#include "translator/cpu.h"

#define TM_RAM (4u << 20)
#define TM_MMIO_BASE 0xfe000000u
#define TM_MAX_IO 64

struct tm_io {
	uint16_t port;
	uint32_t value;
	unsigned size;
	int dir;                /* 'i' or 'o' */
};

struct tmachine {
	uint8_t *ram;
	struct cpu *cpu;
	struct tm_io io[TM_MAX_IO];
	unsigned nio;
	uint32_t io_in_value;
	unsigned mmio_reads, mmio_writes;
	uint32_t mmio_last_addr, mmio_last_value;
	uint8_t vector;
	unsigned acks;
	uint64_t now_ns;
	int ferr;
	bool exit_on_out;       /* an OUT to port 0xE9 calls cpu_request_exit */
};

static inline uint8_t *tm_ram_page(void *opaque, uint32_t paddr, bool write)
{
	struct tmachine *m = opaque;
	(void)write;
	return paddr < TM_RAM ? m->ram + (paddr & ~0xfffu) : NULL;
}

static inline uint32_t tm_mmio_read(void *opaque, uint32_t paddr, unsigned size)
{
	struct tmachine *m = opaque;
	m->mmio_reads++;
	m->mmio_last_addr = paddr;
	(void)size;
	return 0x12345678u & (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1);
}

static inline void tm_mmio_write(void *opaque, uint32_t paddr, uint32_t value, unsigned size)
{
	struct tmachine *m = opaque;
	(void)size;
	m->mmio_writes++;
	m->mmio_last_addr = paddr;
	m->mmio_last_value = value;
}

static inline uint32_t tm_io_in(void *opaque, uint16_t port, unsigned size)
{
	struct tmachine *m = opaque;
	if (m->nio < TM_MAX_IO)
		m->io[m->nio++] = (struct tm_io){ port, m->io_in_value, size, 'i' };
	return m->io_in_value & (size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1);
}

static inline void tm_io_out(void *opaque, uint16_t port, uint32_t value, unsigned size)
{
	struct tmachine *m = opaque;
	if (m->nio < TM_MAX_IO)
		m->io[m->nio++] = (struct tm_io){ port, value, size, 'o' };
	if (m->exit_on_out && port == 0xe9)
		cpu_request_exit(m->cpu);
}

static inline uint8_t tm_intr_ack(void *opaque)
{
	struct tmachine *m = opaque;
	m->acks++;
	cpu_set_irq(m->cpu, false);
	return m->vector;
}

static inline uint64_t tm_clock(void *opaque)
{
	return ((struct tmachine *)opaque)->now_ns;
}

static inline void tm_ferr(void *opaque, bool level)
{
	((struct tmachine *)opaque)->ferr = level;
}

static inline struct tmachine *tm_new(bool fpu)
{
	struct tmachine *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->ram = calloc(1, TM_RAM);
	struct cpu_bus bus = { m, tm_ram_page, tm_mmio_read, tm_mmio_write, tm_io_in, tm_io_out,
	                       tm_intr_ack, tm_clock, tm_ferr };
	struct cpu_config cfg = { 1000000000u, fpu };
	m->cpu = m->ram ? cpu_new(&cfg, &bus) : NULL;
	if (!m->cpu) {
		free(m->ram);
		free(m);
		return NULL;
	}
	return m;
}

static inline void tm_free(struct tmachine *m)
{
	if (!m)
		return;
	cpu_free(m->cpu);
	free(m->ram);
	free(m);
}

static inline void tm_load(struct tmachine *m, uint32_t addr, const void *p, size_t n)
{
	memcpy(m->ram + addr, p, n);
	cpu_phys_written(m->cpu, addr, (uint32_t)n);
}

static inline uint32_t tm_rd32(const struct tmachine *m, uint32_t addr)
{
	uint32_t v;
	memcpy(&v, m->ram + addr, 4);
	return v;
}

static inline void tm_wr32(struct tmachine *m, uint32_t addr, uint32_t v)
{
	memcpy(m->ram + addr, &v, 4);
	cpu_phys_written(m->cpu, addr, 4);
}

/* A flat 32-bit ring-0 protected-mode state (no GDT in memory needed until a segment is reloaded). */
static inline void tm_flat32(struct tmachine *m, uint32_t eip, uint32_t esp)
{
	struct cpu_regs r;
	cpu_get_regs(m->cpu, &r);
	for (int s = 0; s < 6; s++) {
		r.seg[s].sel = s == S_CS ? 0x08 : 0x10;
		r.seg[s].base = 0;
		r.seg[s].limit = 0xffffffffu;
		r.seg[s].attr = s == S_CS ? 0xc9b : 0xc93;
	}
	r.cr0 = 0x11;   /* PE, ET */
	r.eip = eip;
	r.gpr[R_ESP] = esp;
	r.eflags = 2;
	cpu_set_regs(m->cpu, &r);
}

/* Real mode with CS=DS=ES=SS=0. */
static inline void tm_real(struct tmachine *m, uint16_t ip, uint16_t sp)
{
	struct cpu_regs r;
	cpu_get_regs(m->cpu, &r);
	for (int s = 0; s < 6; s++) {
		r.seg[s].sel = 0;
		r.seg[s].base = 0;
		r.seg[s].limit = 0xffff;
		r.seg[s].attr = s == S_CS ? 0x9b : 0x93;
	}
	r.cr0 = 0x10;
	r.eip = ip;
	r.gpr[R_ESP] = sp;
	r.eflags = 2;
	cpu_set_regs(m->cpu, &r);
}

static inline uint32_t tm_reg(const struct tmachine *m, int r)
{
	struct cpu_regs regs;
	cpu_get_regs(m->cpu, &regs);
	return regs.gpr[r];
}

#endif
