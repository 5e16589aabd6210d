/*
 * Direct boot of a Linux bzImage through the 32-bit boot protocol
 * (Documentation/arch/x86/boot.rst): the loader plays the part of the
 * real-mode setup code. It fills a zero page (struct boot_params) with the
 * image's setup header, the command line, the initrd and the e820 map,
 * loads the protected-mode kernel at 1 MiB and describes the CPU state to
 * enter it in: flat 32-bit protected mode, paging and interrupts off,
 * ESI = zero page.
 *
 * struct boot_entry is shared with the multiboot loader: both start the
 * guest the same way, through a small GDT the loader writes into RAM.
 */
#ifndef MACHINE_LINUX_BOOT_H
#define MACHINE_LINUX_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct memory;
struct e820_map;

/* Low-memory layout used by the loaders. */
#define BOOT_GDT_ADDR 0x6000u           /* 4 descriptors, selectors 0x10 code and 0x18 data */
#define BOOT_GDT_SIZE 32u
#define BOOT_ZERO_PAGE 0x7000u
#define BOOT_CMDLINE_ADDR 0x20000u
#define BOOT_CMDLINE_MAX 0x10000u       /* the area ends at 0x30000 */
#define BOOT_KERNEL_ADDR 0x100000u
#define BOOT_CS 0x10
#define BOOT_DS 0x18

/* The CPU state a loader asks for: flat 32-bit protected mode, IF=0. */
struct boot_entry {
	uint32_t eip;
	uint32_t gpr[8];                /* indexed by R_* of translator/cpu.h */
	uint32_t gdt_base;
	uint16_t gdt_limit;
};

/* Writes the flat GDT at BOOT_GDT_ADDR and fills the GDTR of `entry`. */
int boot_write_gdt(struct memory *m, struct boot_entry *entry);

struct linux_boot_config {
	const uint8_t *kernel;
	size_t kernel_size;
	const uint8_t *initrd;          /* NULL for none */
	size_t initrd_size;
	const char *cmdline;            /* NULL for empty */
	const struct e820_map *e820;
	uint64_t acpi_rsdp;             /* physical address of the RSDP, 0 if none */
	bool vga_text;                  /* a VGA in 80x25 colour text: tell vgacon (screen_info) */
};

/* What the loader placed where (for logs and tests). */
struct linux_boot_result {
	uint16_t protocol;              /* e.g. 0x020f */
	uint32_t kernel_size;           /* the protected-mode part */
	uint32_t kernel_end;            /* highest address the kernel may use while booting */
	uint32_t initrd_addr;
	uint32_t initrd_size;
};

/* Whether the image has a Linux setup header ("HdrS"). */
bool linux_boot_probe(const uint8_t *image, size_t size);

/*
 * Checks the image and loads it. On error nothing useful is in memory and
 * `err` says what is wrong with which field.
 */
int linux_boot_load(struct memory *m, const struct linux_boot_config *cfg,
                    struct boot_entry *entry, struct linux_boot_result *res,
                    char *err, size_t errlen);

#endif
