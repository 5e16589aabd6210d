/*
 * Guest physical memory of the PC: RAM, the ISA ROM window and the BIOS
 * ROM at the top of 4 GiB.
 *
 *   0x00000000-0x0009FFFF  conventional RAM
 *   0x000A0000-0x000BFFFF  VGA window: never RAM here, MMIO (or 0xFF)
 *   0x000C0000-0x000FFFFF  option ROMs and BIOS: each 16 KiB segment reads
 *                          from ROM or from the shadow RAM below it and
 *                          writes to the shadow RAM or nowhere, as the
 *                          i440FX PAM registers select
 *   0x00100000-ram_size    extended RAM
 *   4 GiB - bios_size      the BIOS image again (reset vector)
 *
 * RAM is one lazily backed mapping (MAP_NORESERVE): pages the guest never
 * touches cost the host nothing. Physical address p of RAM lives at
 * ram + p, so the shadow RAM under the ISA window is simply ram + 0xC0000.
 */
#ifndef MACHINE_MEMORY_H
#define MACHINE_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf;

#define MEM_PAGE_SIZE 4096u
#define MEM_ISA_BASE 0x000C0000u
#define MEM_ISA_END 0x00100000u
#define MEM_ISA_SEGMENTS 16             /* 16 KiB each, like the PAM granules */
#define MEM_VGA_BASE 0x000A0000u
#define MEM_VGA_END 0x000C0000u
#define MEM_HIGH_BASE 0x00100000u
#define MEM_MIN_RAM (2ull << 20)
#define MEM_MAX_RAM 0xE0000000ull       /* 3.5 GiB: above it sit PCI MMIO and the BIOS */
#define MEM_MAX_BIOS (1u << 20)

/* How one ISA window segment behaves (PAM attribute bits). */
enum {
	MEM_ISA_READ_RAM = 1,           /* reads see shadow RAM, else the ROM */
	MEM_ISA_WRITE_RAM = 2,          /* writes go to shadow RAM, else are dropped */
};

struct memory {
	uint8_t *ram;
	uint64_t ram_size;              /* bytes, page multiple */
	uint8_t *isa_rom;               /* contents of 0xC0000-0xFFFFF when read as ROM */
	uint8_t *bios;                  /* the BIOS image, mapped at 4 GiB - bios_size */
	uint32_t bios_size;
	uint8_t isa_mode[MEM_ISA_SEGMENTS];
};

/* Sets up RAM of `ram_size` bytes; refuses sizes outside [2 MiB, 3.5 GiB]. */
int memory_init(struct memory *m, uint64_t ram_size, char *err, size_t errlen);
void memory_destroy(struct memory *m);

/*
 * Installs a BIOS image (64 KiB multiple, at most 1 MiB): mapped just below
 * 4 GiB and its last 128 KiB (or all of it, if smaller) at the top of the
 * ISA window, ending at 0xFFFFF.
 */
int memory_set_bios(struct memory *m, const void *image, size_t size, char *err, size_t errlen);

/*
 * The cpu_bus ram_page callback: the host address of the 4 KiB page
 * holding `paddr`, or NULL if that page is not memory for this kind of
 * access (a hole, MMIO, or ROM being written).
 */
uint8_t *memory_page(struct memory *m, uint32_t paddr, bool write);

/* Whether [paddr, paddr+len) is all plain RAM (not the ISA or VGA windows). */
bool memory_is_ram(const struct memory *m, uint64_t paddr, uint64_t len);

/*
 * Loader access: copies into RAM as firmware would. Returns -1 (writing
 * nothing) unless the whole range is RAM.
 */
int memory_write(struct memory *m, uint32_t paddr, const void *src, size_t len);
int memory_fill(struct memory *m, uint32_t paddr, uint8_t byte, size_t len);
/* Reads what the CPU would read (RAM or ROM); holes read as 0xFF. */
void memory_read(struct memory *m, uint32_t paddr, void *dst, size_t len);
/* Writes the ROM contents of the ISA window (option ROMs, RSDP); -1 if outside. */
int memory_write_rom(struct memory *m, uint32_t paddr, const void *src, size_t len);

/* Sets how ISA window segment `seg` (0 = 0xC0000) reads and writes. */
void memory_set_isa_mode(struct memory *m, unsigned seg, uint8_t mode);
/* Power-on state of the ISA window: everything reads ROM, writes dropped. */
void memory_reset(struct memory *m);

/* Saves RAM (all-zero pages skipped), the ISA ROM and the window modes. */
void memory_save(const struct memory *m, struct sbuf *sb);
int memory_load(struct memory *m, struct sbuf *sb);

/* Parses "256M", "1G", "65536K", "268435456": bytes, or 0 if malformed. */
uint64_t memory_parse_size(const char *s);

#endif
