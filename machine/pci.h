/*
 * PCI bus 0 with configuration mechanism #1 (0xCF8 address, 0xCFC-0xCFF
 * data), 256-byte configuration spaces with write masks, BARs mapped onto
 * the port and MMIO buses as the command register allows, and INTx lines
 * routed to the board's PIRQ lines.
 *
 * A device model embeds or points to a struct pci_dev, fills its header
 * with pci_dev_init()/pci_set_*() and pci_dev_add_bar(), and registers it
 * with pci_bus_add(). Configuration writes go through the masks; a device
 * that needs to react to its own registers sets the `config_write` hook,
 * which runs after the masked write (e.g. PAM, PIRQ route, PMBA).
 */
#ifndef MACHINE_PCI_H
#define MACHINE_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/sbuf.h"
#include "machine/bus.h"

/* Configuration space offsets */
#define PCI_VENDOR_ID       0x00
#define PCI_DEVICE_ID       0x02
#define PCI_COMMAND         0x04
#define PCI_STATUS          0x06
#define PCI_REVISION_ID     0x08
#define PCI_CLASS_PROG      0x09
#define PCI_CLASS_DEVICE    0x0a    /* sub-class, base class */
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER   0x0d
#define PCI_HEADER_TYPE     0x0e
#define PCI_BAR0            0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID    0x2e
#define PCI_ROM_ADDRESS     0x30
#define PCI_INTERRUPT_LINE  0x3c
#define PCI_INTERRUPT_PIN   0x3d

#define PCI_COMMAND_IO      0x0001u
#define PCI_COMMAND_MEMORY  0x0002u
#define PCI_COMMAND_MASTER  0x0004u
#define PCI_COMMAND_INTX_DISABLE 0x0400u
#define PCI_STATUS_INTERRUPT 0x0008u

#define PCI_HEADER_MULTIFUNCTION 0x80u

#define PCI_NUM_BARS 6
#define PCI_DEVFN(slot, fn) ((uint8_t)(((slot) << 3) | (fn)))
#define PCI_SLOT(devfn)     (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn)     ((devfn) & 7)

/* INTx pins as in PCI_INTERRUPT_PIN: 1 = INTA .. 4 = INTD, 0 = none */
#define PCI_NUM_PIRQ 4

enum pci_bar_type { PCI_BAR_NONE, PCI_BAR_IO, PCI_BAR_MEM };

/* I/O BAR ops receive the absolute port number, as on the iobus (subtract
 * mapped_base); memory BAR ops receive the offset into the BAR. */
struct pci_bar {
	uint8_t type;           /* enum pci_bar_type */
	bool prefetchable;
	uint32_t size;          /* power of two; I/O >= 4, memory >= 16 */
	const struct io_ops *ops;
	void *opaque;           /* passed to ops as `dev` */
	const char *name;
	bool mapped;
	uint32_t mapped_base;   /* where it is mapped while `mapped` */
	bool warned;            /* a failed mapping was reported (once, the
	                         * guest can retry as often as it likes) */
};

struct pci_bus;

struct pci_dev {
	struct pci_bus *bus;
	uint8_t devfn;
	const char *name;
	uint8_t config[256];
	uint8_t wmask[256];     /* 1 = guest-writable bit */
	uint8_t w1cmask[256];   /* 1 = write-one-to-clear bit (status) */
	struct pci_bar bars[PCI_NUM_BARS];
	bool irq_level;         /* INTx as the device drives it */
	bool irq_asserted;      /* counted on its PIRQ (level and not disabled) */
	/* Runs after a configuration write of `size` bytes at `off` (already
	 * masked and stored), with the bytes' previous contents in `old`. */
	void (*config_write)(struct pci_dev *d, unsigned off, unsigned size,
	                     uint32_t old);
	void *opaque;           /* the device model owning this function */
};

/* Called when a PIRQ line's level (the OR of the devices on it) changes. */
typedef void (*pci_pirq_fn)(void *opaque, unsigned pirq, bool level);

struct pci_bus {
	struct iobus *io;
	struct mmiobus *mmio;
	struct pci_dev *devs[256];  /* by devfn */
	uint32_t config_address;    /* 0xCF8 */
	/* Memory below this goes to DRAM (the host bridge decodes it first),
	 * so memory BARs placed there are not decoded. Set by i440fx_init. */
	uint32_t mem_floor;
	uint8_t pirq_count[PCI_NUM_PIRQ];   /* devices asserting each PIRQ */
	pci_pirq_fn pirq_set;
	void *pirq_opaque;
};

/* Maps 0xCF8-0xCFF on `io`; BARs will be mapped on io and mmio. */
int pci_bus_init(struct pci_bus *bus, struct iobus *io, struct mmiobus *mmio);
/* Sets who receives PIRQ level changes (the PIIX3). */
void pci_bus_set_pirq_router(struct pci_bus *bus, pci_pirq_fn fn, void *opaque);
/* The PIRQ (0..3 = A..D) a slot's INTx pin (1..4) drives: the i440FX
 * board's rotation, which the DSDT's _PRT must describe the same way. */
unsigned pci_slot_pirq(unsigned slot, unsigned pin);
/* Whether PIRQ `pirq` is asserted by any device. */
bool pci_bus_pirq_level(const struct pci_bus *bus, unsigned pirq);
/* Device reset of every function: unmaps BARs, command register 0. Device
 * models reset their own registers afterwards. */
void pci_bus_reset(struct pci_bus *bus);

/* Clears d, sets the IDs and class; everything else read-only zero except
 * the command register's IO/MEM/MASTER/INTX_DISABLE bits, the latency
 * timer, cache line size and interrupt line, and the status W1C bits. */
void pci_dev_init(struct pci_dev *d, const char *name, uint16_t vendor, uint16_t device,
                  uint8_t revision, uint32_t class_code /* base<<16|sub<<8|prog */);
/* Adds d at devfn; -1 if taken or out of range. */
int pci_bus_add(struct pci_bus *bus, struct pci_dev *d, uint8_t devfn);
/* Declares BAR n (size a power of two). The BAR is (un)mapped as the
 * guest programs it and the command register's enable bits. */
int pci_dev_add_bar(struct pci_dev *d, unsigned n, enum pci_bar_type type, uint32_t size,
                    bool prefetchable, const struct io_ops *ops, void *opaque,
                    const char *name);
/* Sets the interrupt pin (1..4; read-only to the guest). */
void pci_dev_set_irq_pin(struct pci_dev *d, unsigned pin);
/* Drives the function's INTx line; honours COMMAND.INTX_DISABLE and sets
 * STATUS.INTERRUPT. */
void pci_set_irq(struct pci_dev *d, bool level);

/* Raw config space helpers for device models (no masks applied). */
uint8_t pci_get_byte(const struct pci_dev *d, unsigned off);
uint16_t pci_get_word(const struct pci_dev *d, unsigned off);
uint32_t pci_get_long(const struct pci_dev *d, unsigned off);
void pci_set_byte(struct pci_dev *d, unsigned off, uint8_t v);
void pci_set_word(struct pci_dev *d, unsigned off, uint16_t v);
void pci_set_long(struct pci_dev *d, unsigned off, uint32_t v);

/* Configuration access as the guest does it (masks, hooks, BAR mapping).
 * Any offset and width 1, 2 or 4; accesses wrap nowhere: bytes past 0xFF
 * are dropped. Absent devices read all ones. */
uint32_t pci_config_read(struct pci_bus *bus, uint8_t devfn, unsigned off, unsigned size);
void pci_config_write(struct pci_bus *bus, uint8_t devfn, unsigned off, uint32_t value,
                      unsigned size);

/* Firmware help for a board without a BIOS: gives every unassigned BAR an
 * address (I/O from io_base, memory from mem_base, naturally aligned),
 * enables decoding and sets the interrupt line from the PIRQ routing
 * (`pirq_irq[4]`, 0xFF = none). Returns -1 if a window runs out. */
int pci_bus_assign_resources(struct pci_bus *bus, uint32_t io_base, uint32_t io_limit,
                             uint32_t mem_base, uint32_t mem_limit,
                             const uint8_t pirq_irq[PCI_NUM_PIRQ]);

/* Saves every function's config space and INTx level, one section;
 * load remaps BARs to match. Devices must already be added, and the board
 * calls the models' own post-load steps (i440fx_post_load, piix_load)
 * after this one. */
void pci_bus_save(const struct pci_bus *bus, struct sbuf *sb);
int pci_bus_load(struct pci_bus *bus, struct sbuf *sb);

#endif
