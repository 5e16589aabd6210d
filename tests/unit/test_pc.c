/* The board: wiring, memory map through the cpu_bus, A20, reset and stop paths, CMOS, state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/sbuf.h"
#include "machine/multiboot.h"
#include "machine/pc.h"
#include "tests/unit/harness.h"

static char err[1024];
static char kernel_path[512];

struct console {
	char buf[4096];
	size_t len;
};

static void console_tx(void *opaque, const uint8_t *b, size_t n)
{
	struct console *c = opaque;
	for (size_t i = 0; i < n && c->len < sizeof(c->buf) - 1; i++)
		c->buf[c->len++] = (char)b[i];
	c->buf[c->len] = 0;
}

static const char *board_kernel(void)
{
	const char *b = getenv("VMD_BUILD");
	snprintf(kernel_path, sizeof(kernel_path), "%s/tests/guests/board/kernel.elf", b && *b ? b : "build");
	return kernel_path;
}

static struct pc *new_pc(struct test *t, const char *cmdline, bool debug_exit, struct console *con)
{
	struct pc_config cfg = {
		.ram_size = 64 << 20, .kernel = board_kernel(), .cmdline = cmdline,
		.debug_exit = debug_exit, .manual_clock = true,
		.com1 = { .tx = con ? console_tx : NULL, .opaque = con },
	};
	struct pc *pc = pc_new(&cfg, err, sizeof(err));

	if (!pc)
		test_fail(t, __FILE__, __LINE__, "pc_new: %s", err);
	return pc;
}

static uint8_t inb(struct pc *pc, uint16_t port) { return (uint8_t)pc->cpu_bus.io_in(pc, port, 1); }
static void outb(struct pc *pc, uint16_t port, uint8_t v) { pc->cpu_bus.io_out(pc, port, v, 1); }

static void multiboot_entry_state(struct test *t)
{
	struct pc *pc = new_pc(t, "info", false, NULL);
	struct cpu_regs r;

	REQUIRE(t, pc != NULL);
	CHECK_EQ(t, pc->boot, PC_BOOT_MULTIBOOT);
	cpu_get_regs(pc->cpu, &r);
	CHECK_EQ(t, r.gpr[R_EAX], MB_BOOTLOADER_MAGIC);
	CHECK_EQ(t, r.gpr[R_EBX], MB_INFO_ADDR);
	CHECK(t, r.eip >= 0x200000 && r.eip < 0x210000);
	CHECK_EQ(t, r.cr0 & 0x80000001u, 1);              /* protected mode, paging off */
	CHECK_EQ(t, r.eflags & 0x200, 0);                  /* interrupts off */
	CHECK_EQ(t, r.seg[S_CS].sel, BOOT_CS);
	CHECK_EQ(t, r.seg[S_CS].attr & 0x400, 0x400);      /* 32-bit code */
	CHECK_EQ(t, r.seg[S_CS].limit, 0xffffffffu);
	CHECK_EQ(t, r.seg[S_SS].sel, BOOT_DS);
	CHECK_EQ(t, r.seg[S_DS].base, 0);
	CHECK_EQ(t, r.gdtr_base, BOOT_GDT_ADDR);
	/* The kernel's first bytes (the multiboot header) are in RAM at 2 MiB. */
	CHECK_EQ(t, pc->mem.ram[0x200000], 0x02);
	pc_free(pc);
}

static void memory_through_bus(struct test *t)
{
	struct pc *pc = new_pc(t, NULL, false, NULL);

	REQUIRE(t, pc != NULL);
	CHECK(t, pc->cpu_bus.ram_page(pc, 0x1000, true) == pc->mem.ram + 0x1000);
	CHECK(t, pc->cpu_bus.ram_page(pc, 0xb8000, false) == NULL);
	/* The VGA window: 80x25 text memory, blank (space, grey on black) after reset. */
	CHECK_EQ(t, pc->cpu_bus.mmio_read(pc, 0xb8000, 2), 0x0720);
	pc->cpu_bus.mmio_write(pc, 0xb8000, 0x1f41, 2);
	CHECK_EQ(t, pc->cpu_bus.mmio_read(pc, 0xb8000, 2), 0x1f41);
	/* Nothing decodes here (no HPET): reads float high. */
	CHECK_EQ(t, pc->cpu_bus.mmio_read(pc, 0xfed00000, 4), 0xffffffffu);
	/* The firmware setup placed the VGA's linear framebuffer in the PCI window: memory. */
	const struct pci_bar *lfb = &pc->vga.pci.bars[0];
	REQUIRE(t, lfb->mapped);
	CHECK(t, lfb->mapped_base >= PC_PCI_MEM_BASE);
	CHECK(t, pc->cpu_bus.ram_page(pc, lfb->mapped_base + 0x1234, true) == pc->vga.vram + 0x1000);
	CHECK(t, pc->cpu_bus.ram_page(pc, lfb->mapped_base + VGA_VRAM_SIZE, true) == NULL);
	CHECK(t, pc->cpu_bus.ram_page(pc, 0xf0000, true) == NULL);
	/* Direct boot: ACPI tables at the top of RAM, the RSDP in the F segment. */
	CHECK(t, memcmp(pc->cpu_bus.ram_page(pc, PC_RSDP_ADDR, false), "RSD PTR ", 8) == 0);
	CHECK(t, memcmp(pc->mem.ram + (64 << 20) - PC_ACPI_SIZE, "RSDT", 4) == 0 ||
	         memcmp(pc->mem.ram + (64 << 20) - PC_ACPI_SIZE, "FACS", 4) == 0 ||
	         memcmp(pc->mem.ram + (64 << 20) - PC_ACPI_SIZE, "DSDT", 4) == 0 ||
	         memcmp(pc->mem.ram + (64 << 20) - PC_ACPI_SIZE, "FACP", 4) == 0);
	/* Unclaimed ports read all ones. */
	CHECK_EQ(t, pc->cpu_bus.io_in(pc, 0x2e8, 1), 0xff);
	pc_free(pc);
}

static void cmos_memory_size(struct test *t)
{
	struct pc *pc = new_pc(t, NULL, false, NULL);

	REQUIRE(t, pc != NULL);
	outb(pc, 0x70, 0x15);
	CHECK_EQ(t, inb(pc, 0x71), 0x80);                  /* 640 KiB = 0x280 */
	outb(pc, 0x70, 0x16);
	CHECK_EQ(t, inb(pc, 0x71), 0x02);
	outb(pc, 0x70, 0x30);
	CHECK_EQ(t, inb(pc, 0x71), (63 * 1024) & 0xff);     /* 63 MiB above 1 MiB, in KiB */
	outb(pc, 0x70, 0x31);
	CHECK_EQ(t, inb(pc, 0x71), (63 * 1024) >> 8);
	outb(pc, 0x70, 0x34);
	CHECK_EQ(t, inb(pc, 0x71), 0x00);                   /* 48 MiB above 16 MiB = 0x300 x 64 KiB */
	outb(pc, 0x70, 0x35);
	CHECK_EQ(t, inb(pc, 0x71), 0x03);
	pc_free(pc);
}

static void a20_gates(struct test *t)
{
	struct pc *pc = new_pc(t, NULL, false, NULL);

	REQUIRE(t, pc != NULL);
	/* A kernel is entered with A20 on (port 0x92 bit 1). */
	CHECK_EQ(t, inb(pc, 0x92) & 2, 2);
	CHECK(t, pc->a20_port92);
	outb(pc, 0x92, 0);
	CHECK(t, !pc->a20_port92);
	/* The keyboard controller's output port is the other gate: D1 with bit 1. */
	outb(pc, 0x64, 0xd1);
	outb(pc, 0x60, 0xdd);                               /* bit 1 clear: A20 off */
	CHECK(t, !pc->a20_kbc);
	outb(pc, 0x64, 0xd1);
	outb(pc, 0x60, 0xdf);
	CHECK(t, pc->a20_kbc);
	CHECK_EQ(t, pc->request, PC_REQ_NONE);
	/* What the CPU sees (paging off: linear = physical) with both gates off: wrap at 1 MiB. */
	uint32_t v = 0;
	memcpy(pc->mem.ram + 0x7f000, "\x11\x22\x33\x44", 4);
	memcpy(pc->mem.ram + 0x17f000, "\x55\x66\x77\x88", 4);
	outb(pc, 0x64, 0xd1);
	outb(pc, 0x60, 0xdd);
	REQUIRE(t, cpu_read_linear(pc->cpu, 0x17f000, &v, 4) == 0);
	CHECK_EQ(t, v, 0x44332211);
	outb(pc, 0x92, 2);
	REQUIRE(t, cpu_read_linear(pc->cpu, 0x17f000, &v, 4) == 0);
	CHECK_EQ(t, v, 0x88776655);
	pc_free(pc);
}

static void reset_requests(struct test *t)
{
	struct pc *pc = new_pc(t, NULL, false, NULL);
	char e[256];
	uint64_t resets;

	REQUIRE(t, pc != NULL);
	resets = pc->resets;
	/* Port 0x92 bit 0. */
	outb(pc, 0x92, 0x03);
	CHECK_EQ(t, pc->request, PC_REQ_RESET);
	CHECK_STR(t, pc->request_reason, "reset");
	/* pc_run refuses to run past a pending request. */
	CHECK_EQ(t, pc_run(pc, 100), CPU_EXIT_REQUEST);
	/* Reset restores the kernel the guest may have overwritten. */
	memset(pc->mem.ram + 0x200000, 0xcc, 64);
	REQUIRE(t, pc_reset(pc, e, sizeof(e)) == 0);
	CHECK_EQ(t, pc->request, PC_REQ_NONE);
	CHECK_EQ(t, pc->resets, resets + 1);
	CHECK_EQ(t, pc->mem.ram[0x200000], 0x02);
	/* PIIX reset control: SRST then RCPU. */
	outb(pc, 0xcf9, 0x02);
	CHECK_EQ(t, pc->request, PC_REQ_NONE);
	outb(pc, 0xcf9, 0x06);
	CHECK_EQ(t, pc->request, PC_REQ_RESET);
	REQUIRE(t, pc_reset(pc, e, sizeof(e)) == 0);
	/* Keyboard controller pulse. */
	outb(pc, 0x64, 0xfe);
	CHECK_EQ(t, pc->request, PC_REQ_RESET);
	pc_free(pc);
}

static void poweroff_and_debug_exit(struct test *t)
{
	struct pc *pc = new_pc(t, NULL, true, NULL);
	struct pc *plain = new_pc(t, NULL, false, NULL);

	REQUIRE(t, pc && plain);
	/* ACPI S5: SLP_TYP 0 with SLP_EN in PM1a_CNT of the PM block at 0x600. */
	pc->cpu_bus.io_out(pc, PC_PM_BASE + ACPI_PM1_CNT,
	                   ACPI_SCI_EN | (ACPI_SLP_TYP_S5 << ACPI_SLP_TYP_SHIFT) | ACPI_SLP_EN, 2);
	CHECK_EQ(t, pc->request, PC_REQ_POWEROFF);
	pc->request = PC_REQ_NONE;
	/* isa-debug-exit: status (v << 1) | 1, and a power-off is not downgraded by a reset. */
	outb(pc, 0xf4, 3);
	CHECK_EQ(t, pc->request, PC_REQ_DEBUG_EXIT);
	CHECK_EQ(t, pc->exit_status, 7);
	outb(pc, 0x92, 1);
	CHECK_EQ(t, pc->request, PC_REQ_DEBUG_EXIT);
	/* Not enabled: port 0xf4 is nobody's. */
	outb(plain, 0xf4, 3);
	CHECK_EQ(t, plain->request, PC_REQ_NONE);
	/* POST codes and the Bochs port. */
	outb(plain, 0x80, 0x42);
	CHECK_EQ(t, plain->testdev.post_code, 0x42);
	outb(plain, 0x190, 0x43);
	CHECK_EQ(t, plain->testdev.post_code, 0x43);
	CHECK_EQ(t, inb(plain, 0xe9), 0xe9);
	CHECK_EQ(t, inb(plain, 0x402), 0xe9);
	pc_free(pc);
	pc_free(plain);
}

static void bad_configs(struct test *t)
{
	struct pc_config cfg = { .ram_size = 64 << 20, .manual_clock = true };
	char path[] = "/tmp/vmd-test-pc-XXXXXX";
	int fd;

	CHECK(t, pc_new(&cfg, err, sizeof(err)) == NULL);
	CHECK(t, strstr(err, "nothing to boot") != NULL);
	cfg.kernel = "/nonexistent/kernel";
	CHECK(t, pc_new(&cfg, err, sizeof(err)) == NULL);
	CHECK(t, strstr(err, "/nonexistent/kernel") != NULL);
	cfg.kernel = board_kernel();
	cfg.ram_size = 4ull << 30;
	CHECK(t, pc_new(&cfg, err, sizeof(err)) == NULL);
	CHECK(t, strstr(err, "out of range") != NULL);
	/* A file that is neither kind of kernel. */
	fd = mkstemp(path);
	REQUIRE(t, fd >= 0);
	REQUIRE(t, write(fd, "just some bytes, not a kernel", 29) == 29);
	close(fd);
	cfg.ram_size = 64 << 20;
	cfg.kernel = path;
	CHECK(t, pc_new(&cfg, err, sizeof(err)) == NULL);
	CHECK(t, strstr(err, "neither") != NULL);
	/* A BIOS image of the wrong size. */
	cfg.kernel = NULL;
	cfg.bios = path;
	CHECK(t, pc_new(&cfg, err, sizeof(err)) == NULL);
	CHECK(t, strstr(err, "64 KiB") != NULL);
	unlink(path);
}

static void bios_reset_vector(struct test *t)
{
	char path[] = "/tmp/vmd-test-bios-XXXXXX";
	uint8_t *rom = calloc(1, 65536);
	struct pc_config cfg = { .ram_size = 16 << 20, .manual_clock = true, .bios = path };
	struct cpu_regs r;
	struct pc *pc;
	int fd = mkstemp(path);

	REQUIRE(t, fd >= 0 && rom);
	rom[0xfff0] = 0xea;                                 /* the reset vector's far jump */
	rom[0] = 0x5a;
	REQUIRE(t, write(fd, rom, 65536) == 65536);
	close(fd);
	pc = pc_new(&cfg, err, sizeof(err));
	unlink(path);
	free(rom);
	if (!pc) {
		test_fail(t, __FILE__, __LINE__, "pc_new: %s", err);
		return;
	}
	CHECK_EQ(t, pc->boot, PC_BOOT_BIOS);
	cpu_get_regs(pc->cpu, &r);
	CHECK_EQ(t, r.eip, 0xfff0);
	CHECK_EQ(t, r.seg[S_CS].base, 0xffff0000u);
	CHECK_EQ(t, pc->cpu_bus.ram_page(pc, 0xfffffff0, false)[0xff0], 0xea);
	CHECK_EQ(t, pc->cpu_bus.ram_page(pc, 0xffff0, false)[0xff0], 0xea);
	CHECK_EQ(t, pc->cpu_bus.ram_page(pc, 0xf0000, false)[0], 0x5a);
	/* No direct boot: the e820 map has no ACPI region, the BIOS builds its own. */
	for (unsigned i = 0; i < pc->e820.n; i++)
		CHECK(t, pc->e820.e[i].type != E820_ACPI);
	/* The BIOS shadows itself through the i440FX PAM registers (0x59: F segment). */
	pci_config_write(&pc->pci, 0, I440FX_PAM0, 0x30, 1);  /* read and write DRAM */
	CHECK(t, pc->cpu_bus.ram_page(pc, 0xf0000, true) == pc->mem.ram + 0xf0000);
	CHECK(t, pc->cpu_bus.ram_page(pc, 0xf0000, false) == pc->mem.ram + 0xf0000);
	pci_config_write(&pc->pci, 0, I440FX_PAM0, 0x00, 1);
	CHECK(t, pc->cpu_bus.ram_page(pc, 0xf0000, true) == NULL);
	pc_free(pc);
}

static void two_machines(struct test *t)
{
	struct pc *a = new_pc(t, NULL, true, NULL), *b = new_pc(t, NULL, true, NULL);

	REQUIRE(t, a && b);
	outb(a, 0xf4, 1);
	outb(a, 0x80, 0x11);
	CHECK_EQ(t, a->request, PC_REQ_DEBUG_EXIT);
	CHECK_EQ(t, b->request, PC_REQ_NONE);
	CHECK(t, b->testdev.post_code != 0x11);
	a->mem.ram[0x5000] = 1;
	CHECK_EQ(t, b->mem.ram[0x5000], 0);
	pc_free(a);
	pc_free(b);
}

static void save_load(struct test *t)
{
	struct pc *a = new_pc(t, NULL, false, NULL), *b = new_pc(t, NULL, false, NULL);
	struct sbuf sb, rd;

	REQUIRE(t, a && b);
	outb(a, 0x92, 0);                                   /* A20 off */
	a->mem.ram[0x123456] = 0x77;
	outb(a, 0x70, 0x40);
	outb(a, 0x71, 0x99);                                /* CMOS RAM byte */
	sbuf_init(&sb);
	pc_save(a, &sb);
	if (sb.error) {
		test_fail(t, __FILE__, __LINE__, "save: %s", sb.why);
	} else {
		sbuf_init_read(&rd, sb.data, sb.len);
		if (pc_load(b, &rd) != 0) {
			test_fail(t, __FILE__, __LINE__, "load: %s", rd.why);
		} else {
			CHECK(t, !b->a20_port92);
			CHECK_EQ(t, b->mem.ram[0x123456], 0x77);
			outb(b, 0x70, 0x40);
			CHECK_EQ(t, inb(b, 0x71), 0x99);
		}
		/* Truncated: refused with a message, and the machine is as it was. */
		b->mem.ram[0x123456] = 0x55;
		outb(b, 0x92, 2);
		sbuf_init_read(&rd, sb.data, sb.len - 10);
		CHECK(t, pc_load(b, &rd) != 0);
		CHECK(t, rd.why[0] != 0);
		CHECK_EQ(t, b->mem.ram[0x123456], 0x55);
		CHECK(t, b->a20_port92);
		outb(b, 0x70, 0x40);
		CHECK_EQ(t, inb(b, 0x71), 0x99);
	}
	sbuf_free(&sb);
	pc_free(a);
	pc_free(b);
}

/* Runs the CPU until the board asks to stop, at most `max` instructions. */
static enum pc_request run_until_request(struct pc *pc, uint64_t max)
{
	for (uint64_t done = 0; done < max && pc->request == PC_REQ_NONE; done += 10000) {
		enum cpu_exit why = pc_run(pc, 10000);
		clock_advance(&pc->clock, 10000);
		timers_run(&pc->clock, clock_now(&pc->clock));
		if (why == CPU_EXIT_HALT)
			break;
	}
	return pc->request;
}

/* End to end with the CPU: the test kernel prints on COM1 and leaves through 0xf4. */
static void kernel_runs(struct test *t)
{
	struct console con = { .len = 0 };
	struct pc *pc = new_pc(t, "info exit=5", true, &con);

	REQUIRE(t, pc != NULL);
	CHECK_EQ(t, run_until_request(pc, 50000000), PC_REQ_DEBUG_EXIT);
	CHECK_EQ(t, pc->exit_status, 11);
	CHECK(t, strstr(con.buf, "board test kernel") != NULL);
	CHECK(t, strstr(con.buf, "magic 0x2badb002") != NULL);
	CHECK(t, strstr(con.buf, "cmdline info exit=5") != NULL);
	CHECK(t, strstr(con.buf, "exiting") != NULL);
	pc_free(pc);
}

static void kernel_resets(struct test *t)
{
	static const char *const ways[] = { "reset=port92", "reset=cf9", "reset=kbd", "reset=triple" };

	for (unsigned i = 0; i < 4; i++) {
		struct console con = { .len = 0 };
		struct pc *pc = new_pc(t, ways[i], false, &con);
		char e[256];
		REQUIRE(t, pc != NULL);
		if (run_until_request(pc, 20000000) != PC_REQ_RESET)
			test_fail(t, __FILE__, __LINE__, "%s: no reset request (output: %s)", ways[i], con.buf);
		else
			CHECK_STR(t, pc->request_reason, i == 3 ? "triple-fault" : "reset");
		CHECK(t, strstr(con.buf, "did not happen") == NULL);
		/* After the reset the kernel starts over and prints its banner again. */
		REQUIRE(t, pc_reset(pc, e, sizeof(e)) == 0);
		con.len = 0;
		run_until_request(pc, 20000000);
		CHECK(t, strstr(con.buf, "board test kernel") != NULL);
		pc_free(pc);
	}
}

static void kernel_a20(struct test *t)
{
	struct console con = { .len = 0 };
	struct pc *pc = new_pc(t, "a20 exit=1", true, &con);

	REQUIRE(t, pc != NULL);
	CHECK_EQ(t, run_until_request(pc, 20000000), PC_REQ_DEBUG_EXIT);
	CHECK(t, strstr(con.buf, "a20 off wraps") != NULL);
	CHECK(t, strstr(con.buf, "a20 on separate") != NULL);
	pc_free(pc);
}

int main(int argc, char **argv)
{
	struct harness h;

	harness_init(&h, "pc", argc, argv);
	RUN(&h, multiboot_entry_state);
	RUN(&h, memory_through_bus);
	RUN(&h, cmos_memory_size);
	RUN(&h, a20_gates);
	RUN(&h, reset_requests);
	RUN(&h, poweroff_and_debug_exit);
	RUN(&h, bad_configs);
	RUN(&h, bios_reset_vector);
	RUN(&h, two_machines);
	RUN(&h, save_load);
	RUN(&h, kernel_runs);
	RUN(&h, kernel_resets);
	RUN(&h, kernel_a20);
	return harness_done(&h);
}
