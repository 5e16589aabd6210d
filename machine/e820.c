#include "machine/e820.h"

#include <string.h>

int e820_add(struct e820_map *map, uint64_t addr, uint64_t size, uint32_t type)
{
	unsigned i;

	if (size == 0 || map->n >= E820_MAX || addr + size < addr)
		return -1;
	for (i = 0; i < map->n; i++) {
		const struct e820_entry *e = &map->e[i];
		if (addr < e->addr + e->size && e->addr < addr + size)
			return -1;
	}
	for (i = map->n; i > 0 && map->e[i - 1].addr > addr; i--)
		map->e[i] = map->e[i - 1];
	map->e[i] = (struct e820_entry){ .addr = addr, .size = size, .type = type };
	map->n++;
	return 0;
}

int e820_build_pc(struct e820_map *map, const struct e820_layout *l)
{
	uint64_t high_end = l->ram_size;
	int rc = 0;

	memset(map, 0, sizeof(*map));
	if (l->ram_size <= 0x100000)
		return -1;
	if (l->acpi_size) {
		if (l->acpi_base < 0x100000 || (uint64_t)l->acpi_base + l->acpi_size != l->ram_size)
			return -1;
		high_end = l->acpi_base;
	}
	/* The last KiB below 640 KiB is the EBDA, as a BIOS would leave it. */
	rc |= e820_add(map, 0, 0x9fc00, E820_RAM);
	rc |= e820_add(map, 0x9fc00, 0x400, E820_RESERVED);
	rc |= e820_add(map, 0xe0000, 0x20000, E820_RESERVED);
	rc |= e820_add(map, 0x100000, high_end - 0x100000, E820_RAM);
	if (l->acpi_size)
		rc |= e820_add(map, l->acpi_base, l->acpi_size, E820_ACPI);
	if (l->bios_size)
		rc |= e820_add(map, 0x100000000ull - l->bios_size, l->bios_size, E820_RESERVED);
	return rc ? -1 : 0;
}

uint64_t e820_ram_total(const struct e820_map *map)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < map->n; i++)
		if (map->e[i].type == E820_RAM)
			total += map->e[i].size;
	return total;
}
