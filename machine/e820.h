/*
 * The BIOS memory map (INT 15h E820), as the boot loaders hand it to a
 * kernel: Linux's zero page and the multiboot mmap both carry it.
 */
#ifndef MACHINE_E820_H
#define MACHINE_E820_H

#include <stdint.h>

enum e820_type {
	E820_RAM = 1,
	E820_RESERVED = 2,
	E820_ACPI = 3,          /* ACPI tables: reclaimable once parsed */
	E820_NVS = 4,
};

#define E820_MAX 32

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
};

struct e820_map {
	unsigned n;
	struct e820_entry e[E820_MAX];
};

/* What the board looks like, for the standard PC map. */
struct e820_layout {
	uint64_t ram_size;      /* bytes of RAM, low 640 KiB included */
	uint32_t acpi_base;     /* ACPI tables carved from the top of RAM, or 0 */
	uint32_t acpi_size;
	uint32_t bios_size;     /* the BIOS ROM below 4 GiB, or 0 */
};

/* Appends an entry, keeping the map sorted; -1 if full, empty or overlapping. */
int e820_add(struct e820_map *map, uint64_t addr, uint64_t size, uint32_t type);
/*
 * The PC map: [0, 0x9FC00) RAM, the EBDA and 0xE0000-0xFFFFF reserved,
 * [1 MiB, top) RAM, the ACPI tables, the BIOS below 4 GiB reserved.
 */
int e820_build_pc(struct e820_map *map, const struct e820_layout *layout);
/* Bytes of RAM the map gives the guest. */
uint64_t e820_ram_total(const struct e820_map *map);

#endif
