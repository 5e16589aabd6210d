/*
 * PIIX3 ISA bridge (00:01.0) with PIRQ routing and the 0xCF9 reset
 * control register, and the PIIX4-style power management function
 * (00:01.3) that decodes the ACPI register block at PMBA.
 * References: Intel 82371FB/SB (PIIX/PIIX3) and 82371AB (PIIX4) datasheets.
 */
#include "machine/piix.h"

#include <string.h>

#include "lib/log.h"

/* IRQs a PIRQRC register may name; 0-2, 8 and 13 are reserved. */
#define PIIX_PIRQ_IRQ_OK 0xdef8u

static uint16_t wanted_levels(const struct piix *p)
{
	uint16_t lv = 0;

	for (unsigned pirq = 0; pirq < PCI_NUM_PIRQ; pirq++) {
		uint8_t r = p->isa.config[PIIX_PIRQRC + pirq];
		unsigned irq = r & 0x0f;

		if ((r & PIIX_PIRQ_DISABLE) || !(PIIX_PIRQ_IRQ_OK & (1u << irq)))
			continue;
		if (pci_bus_pirq_level(p->bus, pirq))
			lv |= (uint16_t)(1u << irq);
	}
	if (p->sci_level)
		lv |= 1u << PIIX_SCI_IRQ;
	return lv;
}

/* Drives every ISA IRQ whose wired-OR level changed. */
static void update_irqs(struct piix *p)
{
	uint16_t lv = wanted_levels(p);
	uint16_t changed = lv ^ p->irq_levels;

	p->irq_levels = lv;
	for (unsigned irq = 0; irq < PIIX_ISA_IRQS; irq++)
		if (changed & (1u << irq))
			irq_set(&p->isa_irq[irq], lv & (1u << irq));
}

static void pirq_set(void *opaque, unsigned pirq, bool level)
{
	update_irqs(opaque);
}

static void sci_set(void *ctrl, unsigned pin, bool level)
{
	struct piix *p = ctrl;

	p->sci_level = level;
	update_irqs(p);
}

struct irq_line piix_sci_line(struct piix *p)
{
	return (struct irq_line){ .set = sci_set, .ctrl = p, .pin = PIIX_SCI_IRQ };
}

/* ---- 0xCF9 reset control ---- */

static uint32_t rc_read(void *dev, uint32_t port, unsigned size)
{
	struct piix *p = dev;

	return size == 1 ? p->rc : 0xffffffffu;
}

static void rc_write(void *dev, uint32_t port, uint32_t value, unsigned size)
{
	struct piix *p = dev;
	uint8_t v = (uint8_t)value;
	bool start;

	/* Only byte accesses reach the register; dword accesses at 0xCF8
	 * belong to the PCI address register and never arrive here. */
	if (size != 1)
		return;
	start = !(p->rc & PIIX_RC_RCPU) && (v & PIIX_RC_RCPU);
	p->rc = v & (PIIX_RC_SRST | PIIX_RC_RCPU);
	if (start) {
		log_info("piix: reset requested through 0xcf9 (%s)",
		         (v & PIIX_RC_SRST) ? "hard" : "soft");
		if (p->board.reset)
			p->board.reset(p->board.opaque, v & PIIX_RC_SRST);
	}
}

static const struct io_ops rc_ops = { .read = rc_read, .write = rc_write };

/* ---- ISA bridge config ---- */

static void isa_config_write(struct pci_dev *d, unsigned off, unsigned size, uint32_t old)
{
	struct piix *p = d->opaque;

	if (off < PIIX_PIRQRC + PCI_NUM_PIRQ && off + size > PIIX_PIRQRC)
		update_irqs(p);
}

static void isa_reset(struct piix *p)
{
	struct pci_dev *d = &p->isa;

	pci_set_word(d, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	pci_set_word(d, PCI_STATUS, 0x0200);
	for (unsigned o = 0x40; o < 0x100; o++)
		d->config[o] = 0;
	d->config[0x4c] = 0x4d;           /* IORT */
	pci_set_word(d, 0x4e, 0x0003);    /* XBCS */
	for (unsigned i = 0; i < PCI_NUM_PIRQ; i++)
		d->config[PIIX_PIRQRC + i] = PIIX_PIRQ_DISABLE;
	d->config[PIIX_TOM] = 0x02;
	d->config[0x70] = 0x80;           /* MBIRQ0: disabled */
	d->config[0x76] = 0x0c;           /* MBDMA0/1: disabled */
	d->config[0x77] = 0x0c;
	d->config[0xa0] = 0x08;           /* SMICNTL */
	d->config[0xa8] = 0x0f;           /* FTMR */
}

/* ---- power management function ---- */

static uint32_t pm_io_read(void *dev, uint32_t port, unsigned size)
{
	struct piix *p = dev;

	return acpi_pm_read(p->acpi, port - p->pm_base, size);
}

static void pm_io_write(void *dev, uint32_t port, uint32_t value, unsigned size)
{
	struct piix *p = dev;

	acpi_pm_write(p->acpi, port - p->pm_base, value, size);
}

static const struct io_ops pm_io_ops = { .read = pm_io_read, .write = pm_io_write };

/* Decodes the PM block where PMBA and PMIOSE say. */
static void pm_update_mapping(struct piix *p)
{
	uint16_t base = pci_get_word(&p->pm, PIIX_PM_PMBA) & 0xffc0;
	bool want = (p->pm.config[PIIX_PM_PMREGMISC] & 1) && base != 0;

	if (p->pm_mapped && want && base == p->pm_base)
		return;
	if (p->pm_mapped) {
		iobus_unmap(p->io, p->pm_base, ACPI_PM_IO_SIZE);
		p->pm_mapped = false;
	}
	if (!want)
		return;
	if (iobus_map(p->io, base, ACPI_PM_IO_SIZE, &pm_io_ops, p, "acpi-pm") < 0) {
		if (!p->pm_warned)
			log_warn("piix: PM block at 0x%x overlaps another device; not decoded", base);
		p->pm_warned = true;
		return;
	}
	p->pm_warned = false;
	p->pm_mapped = true;
	p->pm_base = base;
}

static void pm_config_write(struct pci_dev *d, unsigned off, unsigned size, uint32_t old)
{
	struct piix *p = d->opaque;

	if ((off < PIIX_PM_PMBA + 4 && off + size > PIIX_PM_PMBA) ||
	    (off <= PIIX_PM_PMREGMISC && off + size > PIIX_PM_PMREGMISC))
		pm_update_mapping(p);
}

static void pm_reset(struct piix *p)
{
	struct pci_dev *d = &p->pm;

	pci_set_word(d, PCI_COMMAND, 0);
	pci_set_word(d, PCI_STATUS, 0x0280);
	for (unsigned o = 0x40; o < 0x100; o++)
		d->config[o] = 0;
	pci_set_long(d, PIIX_PM_PMBA, 0x00000001);    /* I/O space indicator */
	pci_set_long(d, PIIX_PM_SMBBA, 0x00000001);
	pm_update_mapping(p);
}

int piix_init(struct piix *p, struct pci_bus *bus, struct iobus *io, struct acpi_pm *acpi,
              const struct irq_line isa_irq[PIIX_ISA_IRQS], const struct piix_board_ops *board)
{
	memset(p, 0, sizeof(*p));
	p->bus = bus;
	p->io = io;
	p->acpi = acpi;
	if (isa_irq)
		memcpy(p->isa_irq, isa_irq, sizeof(p->isa_irq));
	if (board)
		p->board = *board;

	pci_dev_init(&p->isa, "piix3-isa", 0x8086, 0x7000, 0x00, 0x060100);
	p->isa.config[PCI_HEADER_TYPE] = PCI_HEADER_MULTIFUNCTION;
	p->isa.opaque = p;
	p->isa.config_write = isa_config_write;
	p->isa.wmask[PCI_INTERRUPT_LINE] = 0;
	p->isa.wmask[0x4c] = 0x7f;
	p->isa.wmask[0x4e] = 0xff;
	p->isa.wmask[0x4f] = 0x03;
	for (unsigned i = 0; i < PCI_NUM_PIRQ; i++)
		p->isa.wmask[PIIX_PIRQRC + i] = 0x8f;
	p->isa.wmask[PIIX_TOM] = 0xfe;
	p->isa.wmask[0x6a] = 0xff;
	p->isa.wmask[0x70] = 0xcf;
	p->isa.wmask[0x76] = 0x8f;
	p->isa.wmask[0x77] = 0x8f;
	p->isa.wmask[0x80] = 0x3f;
	p->isa.wmask[0x82] = 0x0f;
	for (unsigned o = 0xa0; o <= 0xab; o++)
		p->isa.wmask[o] = 0xff;

	pci_dev_init(&p->pm, "piix4-pm", 0x8086, 0x7113, 0x03, 0x068000);
	p->pm.opaque = p;
	p->pm.config_write = pm_config_write;
	/* Its registers are decoded by PMIOSE, not by the command register. */
	p->pm.wmask[PCI_INTERRUPT_LINE] = 0;
	p->pm.wmask[PIIX_PM_PMBA] = 0xc0;
	p->pm.wmask[PIIX_PM_PMBA + 1] = 0xff;
	p->pm.wmask[PIIX_PM_PMREGMISC] = 0x01;

	if (pci_bus_add(bus, &p->isa, PCI_DEVFN(1, 0)) < 0 ||
	    pci_bus_add(bus, &p->pm, PCI_DEVFN(1, 3)) < 0)
		return -1;
	if (iobus_map(io, PIIX_RC_PORT, 1, &rc_ops, p, "piix-rc") < 0) {
		log_err("piix: port 0xcf9 is taken");
		return -1;
	}
	pci_bus_set_pirq_router(bus, pirq_set, p);
	piix_reset(p);
	return 0;
}

void piix_reset(struct piix *p)
{
	p->rc = 0;
	isa_reset(p);
	pm_reset(p);
	update_irqs(p);
}

int piix_firmware_setup(struct piix *p, const uint8_t pirq_irq[PCI_NUM_PIRQ],
                        uint32_t ram_size, uint16_t pm_base)
{
	uint8_t devfn_isa = p->isa.devfn, devfn_pm = p->pm.devfn;
	uint32_t mb = ram_size >> 20;

	for (unsigned i = 0; i < PCI_NUM_PIRQ; i++) {
		uint8_t irq = pirq_irq[i];
		uint8_t v = irq < 16 && (PIIX_PIRQ_IRQ_OK & (1u << irq)) ? irq : PIIX_PIRQ_DISABLE;
		pci_config_write(p->bus, devfn_isa, PIIX_PIRQRC + i, v, 1);
	}
	/* TOM: top of memory in MB, bits 7:4 hold (MB - 1); 16 MB at most. */
	if (mb > 16)
		mb = 16;
	if (mb >= 1)
		pci_config_write(p->bus, devfn_isa, PIIX_TOM,
		                 (uint32_t)(((mb - 1) << 4) | (p->isa.config[PIIX_TOM] & 0x0e)), 1);
	pci_config_write(p->bus, devfn_pm, PIIX_PM_PMBA, pm_base, 4);
	pci_config_write(p->bus, devfn_pm, PIIX_PM_PMREGMISC, 1, 1);
	if (!p->pm_mapped || p->pm_base != (pm_base & 0xffc0))
		return -1;
	return 0;
}

#define PIIX_VERSION 1

void piix_save(const struct piix *p, struct sbuf *sb)
{
	size_t mark = sbuf_begin(sb, "piix", PIIX_VERSION);

	sbuf_put_u8(sb, p->rc);
	sbuf_put_bool(sb, p->sci_level);
	sbuf_end(sb, mark);
}

int piix_load(struct piix *p, struct sbuf *sb)
{
	uint32_t ver;
	uint8_t rc;
	bool sci;

	if (!sbuf_open(sb, "piix", &ver))
		return -1;
	if (ver != PIIX_VERSION) {
		sbuf_fail(sb, "piix: version %u, expected %u", ver, PIIX_VERSION);
		return -1;
	}
	rc = sbuf_get_u8(sb);
	sci = sbuf_get_bool(sb);
	if (!sbuf_close(sb))
		return -1;
	if (rc & ~(PIIX_RC_SRST | PIIX_RC_RCPU)) {
		sbuf_fail(sb, "piix: bad reset control value 0x%02x", rc);
		return -1;
	}
	p->rc = rc;
	p->sci_level = sci;
	/* The config space came with pci_bus_load: decode and drive as it says. */
	p->pm.config[PIIX_PM_PMBA] = (uint8_t)((p->pm.config[PIIX_PM_PMBA] & 0xc0) | 1);
	pm_update_mapping(p);
	update_irqs(p);
	return 0;
}
