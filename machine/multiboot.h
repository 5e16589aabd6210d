/*
 * Multiboot (version 1) kernels: ELF images, or any image whose header
 * gives its load addresses (the "a.out kludge", flag bit 16). The loader
 * copies the kernel and its modules into RAM, builds the multiboot
 * information structure (memory sizes, command line, modules, the e820
 * memory map, the boot loader's name) and asks for the entry state of the
 * specification: flat protected mode, EAX = 0x2BADB002, EBX = the info.
 *
 * The info structure, the module list and the memory map live at
 * MB_INFO_ADDR..MB_INFO_END (where QEMU puts them too, so kernels written
 * for it fit around them); the command lines follow the last module. A
 * kernel loaded over the tables or the GDT is refused.
 */
#ifndef MACHINE_MULTIBOOT_H
#define MACHINE_MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine/linux_boot.h"

struct memory;
struct e820_map;

#define MB_BOOTLOADER_MAGIC 0x2BADB002u
#define MB_INFO_ADDR 0x9000u
#define MB_INFO_END 0xa000u
#define MB_MAX_MODULES 32

struct multiboot_module {
	const uint8_t *data;
	size_t size;
	const char *cmdline;            /* NULL for none */
};

struct multiboot_config {
	const uint8_t *kernel;
	size_t kernel_size;
	const char *cmdline;            /* NULL for none */
	const struct multiboot_module *modules;
	unsigned nmodules;
	const struct e820_map *e820;
};

struct multiboot_result {
	bool elf;                       /* loaded from ELF program headers, else by the address fields */
	uint32_t header_flags;
	uint32_t load_start, load_end;  /* what the kernel occupies, bss included */
	uint32_t mods_start, mods_end;
	uint32_t strings_end;           /* the command lines end here */
	uint32_t info_addr;
};

/* Whether the first 8 KiB hold a valid multiboot header (magic and checksum). */
bool multiboot_probe(const uint8_t *image, size_t size);

int multiboot_load(struct memory *m, const struct multiboot_config *cfg,
                   struct boot_entry *entry, struct multiboot_result *res,
                   char *err, size_t errlen);

#endif
