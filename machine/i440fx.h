/*
 * The Intel 82441FX PCI and memory controller (i440FX host bridge) at
 * 00:00.0, 8086:1237. What a guest sees of it: the IDs, DRAM row
 * boundaries (informational), the SMRAM register (kept, SMM itself is not
 * emulated), and the PAM registers 0x59-0x5F that decide whether reads and
 * writes of 0xC0000-0xFFFFF go to DRAM or to the ISA/PCI side (the BIOS
 * ROM). The board applies PAM settings through a callback.
 */
#ifndef MACHINE_I440FX_H
#define MACHINE_I440FX_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/sbuf.h"
#include "machine/pci.h"

#define I440FX_PAM0   0x59
#define I440FX_NUM_PAM 7
#define I440FX_DRB0   0x60
#define I440FX_SMRAM  0x72

/* One PAM region: [base, base+size) reads/writes go to DRAM when set,
 * else to the ROM/ISA side (writes then are dropped by the board). */
typedef void (*i440fx_pam_fn)(void *opaque, uint32_t base, uint32_t size,
                              bool read_dram, bool write_dram);

struct i440fx {
	struct pci_dev dev;
	i440fx_pam_fn set_pam;
	void *pam_opaque;
	uint32_t ram_size;      /* for the DRB registers */
};

/* Adds 00:00.0 to the bus. set_pam may be NULL; it is called for all 13
 * regions at reset and then for every region whose bits change. */
int i440fx_init(struct i440fx *h, struct pci_bus *bus, uint32_t ram_size,
                i440fx_pam_fn set_pam, void *opaque);
void i440fx_reset(struct i440fx *h);
/* Firmware help: PAM all DRAM read/write, as a BIOS leaves it after
 * shadowing itself (for a board loading the kernel directly). */
void i440fx_firmware_setup(struct i440fx *h);
/* The region index i (0..12) covering paddr in 0xC0000-0xFFFFF, -1 else. */
int i440fx_pam_region(uint32_t paddr);
/* The current access rights of paddr's region: bit 0 read DRAM, 1 write DRAM. */
unsigned i440fx_pam_access(const struct i440fx *h, uint32_t paddr);
/* Register state lives in the PCI config space: pci_bus_save covers it,
 * i440fx_post_load re-announces the PAM regions. */
void i440fx_post_load(struct i440fx *h);

#endif
