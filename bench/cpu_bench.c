/*
 * CPU benchmark: the same 32-bit integer workload (bench/cpu_bench_guest.c)
 * run natively (a 32-bit helper process) and in the emulated CPU on a
 * RAM-only bus, timed in one run. Prints both times, the slowdown and the
 * guest MIPS. Times are process CPU time, so other load on a shared
 * machine does not skew the ratio. Usage: cpu_bench [iterations]
 */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "translator/cpu.h"
#include "cpu_bench_guest.h"

#define RAM_SIZE (16u << 20)
#define LOAD 0x100000u

struct bench_bus {
	uint8_t *ram;
};

static uint8_t *ram_page(void *opaque, uint32_t paddr, bool write)
{
	struct bench_bus *b = opaque;
	(void)write;
	return paddr < RAM_SIZE ? b->ram + (paddr & ~0xfffu) : NULL;
}
static uint32_t mmio_read(void *o, uint32_t a, unsigned s) { (void)o; (void)a; (void)s; return 0xffffffffu; }
static void mmio_write(void *o, uint32_t a, uint32_t v, unsigned s) { (void)o; (void)a; (void)v; (void)s; }
static uint32_t io_in(void *o, uint16_t p, unsigned s) { (void)o; (void)p; (void)s; return 0xffffffffu; }
static void io_out(void *o, uint16_t p, uint32_t v, unsigned s) { (void)o; (void)p; (void)v; (void)s; }
static uint8_t intr_ack(void *o) { (void)o; return 0; }
static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
static uint64_t clock_ns(void *o) { (void)o; return now_ns(); }
static void ferr(void *o, bool l) { (void)o; (void)l; }

static int run_native(const char *self, unsigned iters, uint32_t *sum, double *secs)
{
	char path[PATH_MAX], dir[PATH_MAX], cmd[PATH_MAX + 32];
	if (!realpath(self, path)) {
		fprintf(stderr, "cpu_bench: cannot resolve %s\n", self);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	snprintf(cmd, sizeof(cmd), "%s/cpu_bench_native %u", dirname(dir), iters);
	FILE *p = popen(cmd, "r");
	if (!p) {
		perror("cpu_bench: popen");
		return -1;
	}
	unsigned s;
	long long ns;
	int n = fscanf(p, "%u %lld", &s, &ns);
	if (pclose(p) != 0 || n != 2) {
		fprintf(stderr, "cpu_bench: native run failed (%s)\n", cmd);
		return -1;
	}
	*sum = s;
	*secs = (double)ns / 1e9;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned iters = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 20;
	uint32_t native_sum;
	double native_s;
	if (run_native(argv[0], iters, &native_sum, &native_s) != 0)
		return 1;

	struct bench_bus b = { calloc(1, RAM_SIZE) };
	if (!b.ram)
		return 1;
	memcpy(b.ram + LOAD, bench_guest, sizeof(bench_guest));
	memcpy(b.ram + 0x1000, &iters, 4);
	struct cpu_bus bus = { &b, ram_page, mmio_read, mmio_write, io_in, io_out, intr_ack, clock_ns, ferr };
	struct cpu_config cfg = { 1000000000u, false };
	struct cpu *cpu = cpu_new(&cfg, &bus);
	if (!cpu)
		return 1;
	struct cpu_regs r;
	cpu_get_regs(cpu, &r);
	for (int s = 0; s < 6; s++) {
		r.seg[s].sel = s == S_CS ? 8 : 16;
		r.seg[s].base = 0;
		r.seg[s].limit = 0xffffffffu;
		r.seg[s].attr = s == S_CS ? 0xc9b : 0xc93;
	}
	r.cr0 = 0x11;
	r.eip = LOAD;
	r.eflags = 2;
	cpu_set_regs(cpu, &r);
	uint64_t t0 = cpu_ns();
	enum cpu_exit e;
	do
		e = cpu_run(cpu, 100000000);
	while (e == CPU_EXIT_BUDGET);
	double guest_s = (double)(cpu_ns() - t0) / 1e9;
	uint64_t insns = cpu_insn_count(cpu);
	uint32_t guest_sum;
	memcpy(&guest_sum, b.ram + 0x1004, 4);
	printf("iterations   %u\n", iters);
	printf("native       %.3f s CPU (checksum %08x)\n", native_s, native_sum);
	printf("guest        %.3f s CPU (checksum %08x, exit %d)\n", guest_s, guest_sum, (int)e);
	printf("slowdown     %.1fx\n", guest_s / native_s);
	printf("guest MIPS   %.1f (%llu instructions)\n", (double)insns / guest_s / 1e6,
	       (unsigned long long)insns);
	cpu_free(cpu);
	free(b.ram);
	if (e != CPU_EXIT_HALT || guest_sum != native_sum) {
		fprintf(stderr, "cpu_bench: guest result differs from native\n");
		return 1;
	}
	return 0;
}
