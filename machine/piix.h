/*
 * The Intel PIIX3 south bridge functions this board models:
 *  - 00:01.0 PCI-to-ISA bridge, 8086:7000: PIRQ route control (0x60-0x63)
 *    steering the four PCI interrupt lines to ISA IRQs, the top of memory
 *    register, and the reset control register at port 0xCF9;
 *  - 00:01.3 power management function, 8086:7113, in the style of the
 *    PIIX4: PMBA (0x40) and PMREGMISC (0x80 bit 0) place the ACPI register
 *    block of machine/acpi.h in I/O space.
 * The SCI from the ACPI block is wired to ISA IRQ 9 here, and shares the
 * line with any PIRQ routed to 9 (level, wired-OR).
 */
#ifndef MACHINE_PIIX_H
#define MACHINE_PIIX_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/sbuf.h"
#include "machine/acpi.h"
#include "machine/bus.h"
#include "machine/pci.h"

#define PIIX_PIRQRC      0x60    /* PIRQRC[A:D] at 0x60-0x63 */
#define PIIX_PIRQ_DISABLE 0x80u
#define PIIX_TOM         0x69
#define PIIX_RC_PORT     0xcf9
#define PIIX_RC_SRST     0x02u   /* 1 = hard (system) reset */
#define PIIX_RC_RCPU     0x04u   /* 0 -> 1 starts the reset */

#define PIIX_PM_PMBA     0x40
#define PIIX_PM_PMREGMISC 0x80
#define PIIX_PM_SMBBA    0x90
#define PIIX_SCI_IRQ     9
#define PIIX_ISA_IRQS    16

struct piix_board_ops {
	void (*reset)(void *opaque, bool hard);  /* 0xCF9 RCPU; NULL allowed */
	void *opaque;
};

struct piix {
	struct pci_dev isa;     /* 00:01.0 */
	struct pci_dev pm;      /* 00:01.3 */
	struct pci_bus *bus;
	struct iobus *io;
	struct acpi_pm *acpi;
	struct irq_line isa_irq[PIIX_ISA_IRQS];   /* PIC inputs; unset = unwired */
	struct piix_board_ops board;

	uint8_t rc;             /* 0xCF9 */
	bool sci_level;
	uint16_t irq_levels;    /* what we drive on each ISA IRQ */
	bool pm_mapped;
	uint16_t pm_base;       /* while pm_mapped */
	bool pm_warned;         /* a failed PM block mapping was reported */
};

/* Adds 00:01.0 and 00:01.3 (slot 1), maps 0xCF9, becomes the bus's PIRQ
 * router, and drives acpi's SCI (pass piix_sci_line() to acpi_pm_init
 * before, or call this first: the line is a pointer into *p). */
int piix_init(struct piix *p, struct pci_bus *bus, struct iobus *io, struct acpi_pm *acpi,
              const struct irq_line isa_irq[PIIX_ISA_IRQS], const struct piix_board_ops *board);
void piix_reset(struct piix *p);
/* The interrupt line the ACPI block's SCI should use. */
struct irq_line piix_sci_line(struct piix *p);
/* Firmware help for a board without a BIOS: routes PIRQ A-D to
 * pirq_irq[] (0xFF = disabled), sets TOM, and enables the PM block at
 * pm_base. Returns -1 if the PM block cannot be mapped there. */
int piix_firmware_setup(struct piix *p, const uint8_t pirq_irq[PCI_NUM_PIRQ],
                        uint32_t ram_size, uint16_t pm_base);
/* Config space is saved by pci_bus_save; this saves 0xCF9 and the SCI
 * level, and load re-applies the PM block mapping and IRQ levels. */
void piix_save(const struct piix *p, struct sbuf *sb);
int piix_load(struct piix *p, struct sbuf *sb);

#endif
