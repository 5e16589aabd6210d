/*
 * The minimal test board: the CPU (libtranslator) with RAM and two ports,
 * nothing else, for the freestanding system-test kernels.
 *   port 0xE9  write: a byte of text to stdout; read: 0xE9 (present)
 *   port 0xF4  write: end the run with that exit code (like isa-debug-exit,
 *              but the status is the value itself: 0 = all checks passed)
 * The flat kernel image is loaded at 0x40000 and entered in real mode at
 * CS:IP = 0x4000:0000. Everything else reads as open bus (all ones).
 *
 * Usage: sysboard [-m MiB] [-t SECONDS] [-q] [-g PORT] KERNEL.bin
 * With -g the board waits for a GDB remote debugger (tools/lockstep) on
 * 127.0.0.1:PORT before running anything.
 * Exit: the kernel's code, or 2 on a board error, 3 on a triple fault,
 * a halt with interrupts off or a time-out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "translator/cpu.h"
#include "tests/guests/sysboard/gdbstub.h"

#define LOAD_ADDR 0x40000u   /* IMAGE_BASE of tests/guests/kernels */
#define PORT_TEXT 0xe9
#define PORT_EXIT 0xf4

struct board {
	uint8_t *ram;
	uint32_t ram_size;
	struct cpu *cpu;
	bool exited;
	int exit_code;
	uint64_t start_ns;
	uint64_t deadline_ns;
	unsigned seconds;
};

static uint64_t host_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint8_t *ram_page(void *opaque, uint32_t paddr, bool write)
{
	struct board *b = opaque;
	(void)write;
	if (paddr >= b->ram_size)
		return NULL;
	return b->ram + (paddr & ~0xfffu);
}

static uint32_t mmio_read(void *opaque, uint32_t paddr, unsigned size)
{
	(void)opaque; (void)paddr;
	return size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

static void mmio_write(void *opaque, uint32_t paddr, uint32_t value, unsigned size)
{
	(void)opaque; (void)paddr; (void)value; (void)size;
}

static uint32_t io_in(void *opaque, uint16_t port, unsigned size)
{
	(void)opaque;
	if (port == PORT_TEXT && size == 1)
		return 0xe9;
	return size >= 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

static void io_out(void *opaque, uint16_t port, uint32_t value, unsigned size)
{
	struct board *b = opaque;
	(void)size;
	if (port == PORT_TEXT) {
		putchar((int)(value & 0xff));
		if ((value & 0xff) == '\n')
			fflush(stdout);
	} else if (port == PORT_EXIT) {
		b->exited = true;
		b->exit_code = (int)(value & 0xff);
		cpu_request_exit(b->cpu);
	}
}

/* No interrupt controller: nothing ever raises INTR, but answer sanely. */
static uint8_t intr_ack(void *opaque) { (void)opaque; return 0xff; }

static uint64_t clock_ns(void *opaque)
{
	struct board *b = opaque;
	return host_ns() - b->start_ns;
}

static void ferr(void *opaque, bool level) { (void)opaque; (void)level; }

static int load_image(struct board *b, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "sysboard: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t room = b->ram_size - LOAD_ADDR;
	size_t n = fread(b->ram + LOAD_ADDR, 1, room, f);
	int err = ferror(f);
	int more = !feof(f) && fgetc(f) != EOF;
	fclose(f);
	if (err || n == 0) {
		fprintf(stderr, "sysboard: %s: cannot read the image\n", path);
		return -1;
	}
	if (more) {
		fprintf(stderr, "sysboard: %s: larger than the %zu bytes of RAM above 0x%x\n", path, room, LOAD_ADDR);
		return -1;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: sysboard [-m MiB] [-t SECONDS] [-q] [-g PORT] KERNEL.bin\n");
}

/*
 * Runs the CPU until the kernel exits or the machine is stuck for good
 * (false, *status set), or, when `debug`, until a breakpoint or after one
 * instruction if `step` (true).
 */
static bool board_run(struct board *b, bool debug, bool step, int *status)
{
	struct cpu_regs r;
	cpu_set_single_step(b->cpu, step);
	for (;;) {
		enum cpu_exit why = cpu_run(b->cpu, step ? 1 : 1000000);
		if (b->exited) {
			*status = b->exit_code;
			return false;
		}
		if (why == CPU_EXIT_SHUTDOWN) {
			fflush(stdout);
			fprintf(stderr, "sysboard: triple fault (shutdown)\n");
			*status = 3;
			return false;
		}
		if (why == CPU_EXIT_HALT) {
			cpu_get_regs(b->cpu, &r);
			if (!(r.eflags & 0x200)) {
				fflush(stdout);
				fprintf(stderr, "sysboard: HLT with interrupts off at %04x:%08x\n",
					r.seg[S_CS].sel, r.eip);
				*status = 3;
				return false;
			}
		}
		if (debug && (step || why == CPU_EXIT_DEBUG))
			return true;
		if (host_ns() > b->deadline_ns) {
			cpu_get_regs(b->cpu, &r);
			fflush(stdout);
			fprintf(stderr, "sysboard: no exit after %u s (at %04x:%08x)\n", b->seconds,
				r.seg[S_CS].sel, r.eip);
			*status = 3;
			return false;
		}
	}
}

static bool gdb_run(void *opaque, bool step, int *code)
{
	return board_run(opaque, true, step, code);
}

int main(int argc, char **argv)
{
	unsigned mib = 32, seconds = 20, gdb_port = 0;
	bool quiet = false;
	int opt;
	while ((opt = getopt(argc, argv, "m:t:qg:h")) != -1) {
		switch (opt) {
		case 'g': gdb_port = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'm': mib = (unsigned)strtoul(optarg, NULL, 0); break;
		case 't': seconds = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'q': quiet = true; break;
		default: usage(); return opt == 'h' ? 0 : 2;
		}
	}
	if (optind != argc - 1 || mib < 1 || mib > 1024 || gdb_port > 65535) {
		usage();
		return 2;
	}

	struct board b = { .ram_size = mib << 20, .start_ns = host_ns() };
	b.ram = calloc(1, b.ram_size);
	if (!b.ram) {
		fprintf(stderr, "sysboard: cannot allocate %u MiB of RAM\n", mib);
		return 2;
	}
	if (load_image(&b, argv[optind]) < 0) {
		free(b.ram);
		return 2;
	}

	const struct cpu_bus bus = {
		.opaque = &b, .ram_page = ram_page, .mmio_read = mmio_read, .mmio_write = mmio_write,
		.io_in = io_in, .io_out = io_out, .intr_ack = intr_ack, .clock_ns = clock_ns, .ferr = ferr,
	};
	const struct cpu_config cfg = { .tsc_hz = 1000000000, .fpu = true };
	b.cpu = cpu_new(&cfg, &bus);
	if (!b.cpu) {
		fprintf(stderr, "sysboard: cpu_new failed\n");
		free(b.ram);
		return 2;
	}
	cpu_reset(b.cpu);
	struct cpu_regs r;
	cpu_get_regs(b.cpu, &r);
	r.seg[S_CS].sel = LOAD_ADDR >> 4;
	r.seg[S_CS].base = LOAD_ADDR;
	r.eip = 0;
	cpu_set_regs(b.cpu, &r);
	cpu_phys_written(b.cpu, LOAD_ADDR, b.ram_size - LOAD_ADDR);

	int status = 3;
	b.seconds = seconds;
	b.deadline_ns = host_ns() + (uint64_t)seconds * 1000000000u;
	if (gdb_port) {
		const struct gdbstub_ops ops = { .opaque = &b, .run = gdb_run };
		status = gdbstub_serve(b.cpu, (uint16_t)gdb_port, &ops);
		if (status < 0)
			status = 2;
	} else {
		board_run(&b, false, false, &status);
	}
	fflush(stdout);
	if (!quiet)
		fprintf(stderr, "sysboard: exit %d after %llu instructions\n", status,
			(unsigned long long)cpu_insn_count(b.cpu));
	cpu_free(b.cpu);
	free(b.ram);
	return status;
}
