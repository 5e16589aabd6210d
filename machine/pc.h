/*
 * The PC board: an i440FX/PIIX3 machine with one i686 CPU. It owns the
 * memory map, the port and MMIO buses, the clock, every device and the
 * wiring between them (interrupt lines, A20, reset and power-off), and
 * implements the CPU's struct cpu_bus.
 *
 * Everything lives in struct pc; two boards in one process share nothing.
 *
 * Guest requests that end or restart the machine (a reset through 0xCF9,
 * the keyboard controller, port 0x92 or a triple fault; ACPI S5; the
 * isa-debug-exit port) arrive in the middle of an instruction. The board
 * records them in `request` and stops the CPU; the caller of pc_run()
 * acts on them (pc_reset(), or ending the process).
 */
#ifndef MACHINE_PC_H
#define MACHINE_PC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "machine/acpi.h"
#include "machine/bus.h"
#include "machine/clock.h"
#include "machine/e820.h"
#include "machine/i440fx.h"
#include "machine/i8042.h"
#include "machine/i8254.h"
#include "machine/i8259.h"
#include "machine/linux_boot.h"
#include "machine/mc146818.h"
#include "machine/memory.h"
#include "machine/ns16550.h"
#include "machine/pci.h"
#include "machine/piix.h"
#include "machine/testdev.h"
#include "machine/vga.h"
#include "translator/cpu.h"

struct sbuf;

#define PC_MAX_MODULES 32
#define PC_COM1_BASE 0x3f8
#define PC_COM1_IRQ 4
#define PC_ACPI_SIZE 0x10000            /* ACPI tables at the top of RAM */
#define PC_PM_BASE 0x600                /* ACPI PM block, where SeaBIOS puts it too */
#define PC_PCI_IO_BASE 0xc000
#define PC_PCI_IO_LIMIT 0xfeff
#define PC_PCI_MEM_BASE 0xe0000000u
#define PC_PCI_MEM_LIMIT 0xfebfffffu
#define PC_RSDP_ADDR 0xf0000            /* in the ISA ROM window, found by a scan too */
#define PC_VGA_DEVFN PCI_DEVFN(2, 0)    /* where QEMU's standard VGA sits too */

struct pc_config {
	uint64_t ram_size;              /* bytes */
	const char *bios;               /* ROM image, or NULL */
	const char *kernel;             /* bzImage or multiboot image, or NULL */
	const char *initrd[PC_MAX_MODULES]; /* the initrd (Linux) or the modules (multiboot) */
	unsigned ninitrd;
	const char *cmdline;
	bool debug_exit;                /* enable isa-debug-exit at 0xF4 */
	FILE *debugcon;                 /* 0xE9 output, NULL for the log */
	struct ns16550_backend com1;    /* COM1's host side (tx may be NULL) */
	bool manual_clock;              /* tests: time moves only by clock_advance */
	uint64_t tsc_hz;                /* 0: 1 GHz */
	bool rtc_fixed_time;            /* tests: the RTC starts at rtc_start */
	int64_t rtc_start;
};

/* Why the machine wants to stop or restart; set during pc_run(). */
enum pc_request {
	PC_REQ_NONE,
	PC_REQ_RESET,                   /* reason "reset" or "triple-fault" */
	PC_REQ_POWEROFF,                /* ACPI S5 */
	PC_REQ_DEBUG_EXIT,              /* isa-debug-exit: exit_status set */
};

enum pc_boot { PC_BOOT_BIOS, PC_BOOT_LINUX, PC_BOOT_MULTIBOOT };

struct pc {
	struct pc_config cfg;
	struct clock clock;
	struct memory mem;
	struct iobus io;
	struct mmiobus mmio;
	struct cpu *cpu;
	struct cpu_bus cpu_bus;

	struct i8259 pic;
	struct i8254 pit;
	struct mc146818 rtc;
	struct ns16550 com1;
	struct i8042 kbc;
	struct pci_bus pci;
	struct i440fx host;
	struct piix piix;
	struct acpi_pm acpi;
	struct testdev testdev;
	struct vga vga;
	bool vga_ready;                 /* vga_init succeeded: vga_free is due */

	/* Boot images, kept to load them again after a reset. */
	enum pc_boot boot;
	uint8_t *kernel;
	size_t kernel_size;
	uint8_t *initrd[PC_MAX_MODULES];
	size_t initrd_size[PC_MAX_MODULES];
	struct e820_map e820;
	struct boot_entry entry;

	/* A20: either source enables it (the chipset ORs them). */
	bool a20_kbc, a20_port92;
	uint8_t port92;

	enum pc_request request;
	const char *request_reason;     /* for the shutdown notification */
	int exit_status;                /* PC_REQ_DEBUG_EXIT */
	uint64_t resets;                /* how many times the machine was reset */
};

/* Builds the board, loads the firmware or kernel and leaves it at its start. */
struct pc *pc_new(const struct pc_config *cfg, char *err, size_t errlen);
void pc_free(struct pc *pc);

/*
 * Runs the CPU for about `budget` instructions. A triple fault turns into
 * a reset request; check pc->request afterwards.
 */
enum cpu_exit pc_run(struct pc *pc, uint64_t budget);

/* Power-on reset of the CPU and every device; boots the kernel again. */
int pc_reset(struct pc *pc, char *err, size_t errlen);
/* Presses the ACPI power button (the guest decides what to do). */
void pc_power_button(struct pc *pc);

/* Machine state (CPU, memory and devices). Load refuses corrupt input. */
void pc_save(const struct pc *pc, struct sbuf *sb);
int pc_load(struct pc *pc, struct sbuf *sb);

#endif
