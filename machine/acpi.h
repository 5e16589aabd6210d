/*
 * ACPI hardware of the board and the ACPI tables describing it.
 *
 * The register block follows the PIIX4 power management I/O space (64
 * bytes at PMBA, placed by machine/piix.c):
 *   +0x00 PM1a_STS (16)  +0x02 PM1a_EN (16)  +0x04 PM1a_CNT (16)
 *   +0x08 PM_TMR (32, 24 bits valid)         +0x0C GPE0_STS (16)
 *   +0x0E GPE0_EN (16)   +0x10..+0x3F other PIIX4 registers, kept as RAM
 * The PM timer runs at 3.579545 MHz from machine time (the clock the PIT
 * and TSC follow). SCI_EN is set at reset: the FADT's SMI_CMD is 0, so
 * the guest finds the machine already in ACPI mode. SLP_TYP 0 is S5
 * (soft off), as on the PIIX4; the DSDT's \_S5 says the same.
 *
 * acpi_build_tables() writes RSDP, RSDT, FADT (revision 1), FACS and a
 * DSDT (AML assembled in C, see acpi.c) for the board to copy into guest
 * memory.
 */
#ifndef MACHINE_ACPI_H
#define MACHINE_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/sbuf.h"
#include "machine/bus.h"
#include "machine/clock.h"

#define ACPI_PM_IO_SIZE   64
#define ACPI_PM_TMR_HZ    3579545u

#define ACPI_PM1_STS      0x00
#define ACPI_PM1_EN       0x02
#define ACPI_PM1_CNT      0x04
#define ACPI_PM_TMR       0x08
#define ACPI_GPE0_STS     0x0c
#define ACPI_GPE0_EN      0x0e

/* PM1_STS / PM1_EN bits */
#define ACPI_TMR_STS      0x0001u
#define ACPI_BM_STS       0x0010u
#define ACPI_GBL_STS      0x0020u
#define ACPI_PWRBTN_STS   0x0100u
#define ACPI_SLPBTN_STS   0x0200u
#define ACPI_RTC_STS      0x0400u
#define ACPI_WAK_STS      0x8000u
/* PM1_CNT bits */
#define ACPI_SCI_EN       0x0001u
#define ACPI_BM_RLD       0x0002u
#define ACPI_GBL_RLS      0x0004u
#define ACPI_SLP_TYP_SHIFT 10
#define ACPI_SLP_TYP_MASK 0x1c00u
#define ACPI_SLP_EN       0x2000u

#define ACPI_SLP_TYP_S5   0u

struct acpi_pm_board_ops {
	void (*poweroff)(void *opaque);   /* S5 entered */
	void *opaque;
};

struct acpi_pm {
	struct clock *clk;
	struct irq_line sci;
	struct acpi_pm_board_ops board;
	struct timer tmr_overflow;  /* armed while TMR_EN: bit 23 flips */

	uint16_t pm1_sts, pm1_en, pm1_cnt;
	uint16_t gpe0_sts, gpe0_en;
	uint8_t other[ACPI_PM_IO_SIZE];   /* +0x10..: PIIX4 registers without function here */
	bool sci_level;
	bool powered_off;           /* S5 was entered (until reset) */
	bool warned_sleep;          /* an unsupported sleep type was reported */
};

/* Register access by offset into the block (0..ACPI_PM_IO_SIZE-1); the
 * block is not mapped here: machine/piix.c decodes it at PMBA. */
uint32_t acpi_pm_read(struct acpi_pm *pm, unsigned offset, unsigned size);
void acpi_pm_write(struct acpi_pm *pm, unsigned offset, uint32_t value, unsigned size);

int acpi_pm_init(struct acpi_pm *pm, struct clock *clk, struct irq_line sci,
                 const struct acpi_pm_board_ops *board);
void acpi_pm_reset(struct acpi_pm *pm);
/* The fixed-feature power button was pressed: PWRBTN_STS, SCI if enabled. */
void acpi_press_power_button(struct acpi_pm *pm);
/* The 24-bit PM timer value now. */
uint32_t acpi_pm_timer(const struct acpi_pm *pm);
/* GPE0 status bits set by the board (e.g. hotplug); SCI if enabled. */
void acpi_raise_gpe(struct acpi_pm *pm, unsigned bit);
void acpi_pm_save(const struct acpi_pm *pm, struct sbuf *sb);
int acpi_pm_load(struct acpi_pm *pm, struct sbuf *sb);

/* --- Tables --- */

#define ACPI_RSDP_SIZE 20

struct acpi_table_config {
	uint32_t tables_addr;   /* guest physical address the blob is placed at */
	uint16_t pm_base;       /* PMBA as the firmware set it */
	uint8_t sci_irq;        /* normally 9 */
	uint8_t pirq_irq[4];    /* PIRQ A-D routing (PIIX PIRQRC); 0xFF none */
	uint32_t pci_mem_base;  /* PCI memory window [base, limit] for _CRS */
	uint32_t pci_mem_limit;
	bool have_uart[2];      /* COM1 0x3F8/IRQ4, COM2 0x2F8/IRQ3 in the DSDT */
};

/* Offsets of the tables inside the blob (for tests and the board). */
struct acpi_tables_layout {
	size_t rsdt, fadt, facs, dsdt, len;
};

/* Builds RSDT/FADT/FACS/DSDT into buf (cap bytes; 64-byte aligned FACS
 * assuming tables_addr is 64-byte aligned) and the RSDP, which the board
 * places on a 16-byte boundary in 0xE0000-0xFFFFF. Returns the blob length,
 * or -1 if cap is too small. layout may be NULL. */
long acpi_build_tables(const struct acpi_table_config *cfg, uint8_t *buf, size_t cap,
                       uint8_t rsdp[ACPI_RSDP_SIZE], struct acpi_tables_layout *layout);
/* Sum of bytes mod 256 (0 for a table with a correct checksum). */
uint8_t acpi_checksum(const uint8_t *p, size_t len);

#endif
