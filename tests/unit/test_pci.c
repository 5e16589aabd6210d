/* PCI configuration mechanism #1, BARs, i440FX PAM, PIIX3 PIRQ routing and 0xCF9. */
#include <stdlib.h>
#include <string.h>

#include "machine/acpi.h"
#include "machine/bus.h"
#include "machine/clock.h"
#include "machine/i440fx.h"
#include "machine/pci.h"
#include "machine/piix.h"
#include "tests/unit/devtest.h"
#include "tests/unit/harness.h"

/* A PCI function with one I/O and one memory BAR, recording accesses. */
struct tdev {
	struct pci_dev pci;
	uint32_t last_io_port, last_mem_off, last_val;
};

static uint32_t tdev_read(void *dev, uint32_t addr, unsigned size)
{
	struct tdev *t = dev;

	t->last_io_port = addr;
	return 0x1234abcd;
}

static void tdev_write(void *dev, uint32_t addr, uint32_t value, unsigned size)
{
	struct tdev *t = dev;

	t->last_mem_off = addr;
	t->last_val = value;
}

static const struct io_ops tdev_ops = { .read = tdev_read, .write = tdev_write };

struct pam_event {
	uint32_t base, size;
	bool r, w;
};

struct rig {
	struct iobus io;
	struct mmiobus mmio;
	struct clock clk;
	struct pci_bus bus;
	struct i440fx host;
	struct acpi_pm acpi;
	struct piix piix;
	struct tdev dev;
	int level[16];
	int resets, hard_resets;
	struct pam_event pam[32];
	unsigned npam;
};

static void rig_irq(void *ctrl, unsigned pin, bool level)
{
	((struct rig *)ctrl)->level[pin] = level;
}

static void rig_reset(void *opaque, bool hard)
{
	struct rig *r = opaque;

	r->resets++;
	r->hard_resets += hard;
}

static void rig_pam(void *opaque, uint32_t base, uint32_t size, bool rd, bool wr)
{
	struct rig *r = opaque;

	if (r->npam < 32)
		r->pam[r->npam++] = (struct pam_event){ base, size, rd, wr };
}

static int rig_init(struct rig *r, bool with_dev)
{
	struct irq_line isa[PIIX_ISA_IRQS];
	struct piix_board_ops ops = { .reset = rig_reset, .opaque = r };

	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < PIIX_ISA_IRQS; i++)
		isa[i] = (struct irq_line){ rig_irq, r, i };
	iobus_init(&r->io);
	mmiobus_init(&r->mmio);
	clock_init_manual(&r->clk);
	if (pci_bus_init(&r->bus, &r->io, &r->mmio) < 0 ||
	    i440fx_init(&r->host, &r->bus, 128u << 20, rig_pam, r) < 0 ||
	    acpi_pm_init(&r->acpi, &r->clk, piix_sci_line(&r->piix), NULL) < 0 ||
	    piix_init(&r->piix, &r->bus, &r->io, &r->acpi, isa, &ops) < 0)
		return -1;
	if (with_dev) {
		pci_dev_init(&r->dev.pci, "tdev", 0x1af4, 0x1000, 0x01, 0x020000);
		pci_dev_set_irq_pin(&r->dev.pci, 1);
		if (pci_dev_add_bar(&r->dev.pci, 0, PCI_BAR_IO, 32, false, &tdev_ops, &r->dev, "tdev-io") < 0 ||
		    pci_dev_add_bar(&r->dev.pci, 1, PCI_BAR_MEM, 4096, false, &tdev_ops, &r->dev, "tdev-mem") < 0 ||
		    pci_bus_add(&r->bus, &r->dev.pci, PCI_DEVFN(3, 0)) < 0)
			return -1;
	}
	return 0;
}

static uint32_t addr_of(unsigned devfn, unsigned off)
{
	return 0x80000000u | devfn << 8 | (off & 0xfc);
}

static uint32_t cfg_read(struct rig *r, unsigned devfn, unsigned off, unsigned size)
{
	iobus_write(&r->io, 0xcf8, addr_of(devfn, off), 4);
	return iobus_read(&r->io, (uint16_t)(0xcfc + (off & 3)), size);
}

static void cfg_write(struct rig *r, unsigned devfn, unsigned off, uint32_t v, unsigned size)
{
	iobus_write(&r->io, 0xcf8, addr_of(devfn, off), 4);
	iobus_write(&r->io, (uint16_t)(0xcfc + (off & 3)), v, size);
}

static void config_mechanism(struct test *t)
{
	struct rig r;

	REQUIRE(t, rig_init(&r, false) == 0);
	/* The address register holds dwords only, reserved bits read 0. */
	iobus_write(&r.io, 0xcf8, 0xffffffff, 4);
	CHECK_EQ(t, iobus_read(&r.io, 0xcf8, 4), 0x80fffffc);
	iobus_write(&r.io, 0xcf8, 0x12, 1);
	CHECK_EQ(t, iobus_read(&r.io, 0xcf8, 4), 0x80fffffc);
	/* Host bridge IDs at every width and offset. */
	CHECK_EQ(t, cfg_read(&r, 0, 0, 4), 0x12378086);
	CHECK_EQ(t, cfg_read(&r, 0, 0, 2), 0x8086);
	CHECK_EQ(t, cfg_read(&r, 0, 2, 2), 0x1237);
	CHECK_EQ(t, cfg_read(&r, 0, 1, 1), 0x80);
	CHECK_EQ(t, cfg_read(&r, 0, 3, 1), 0x12);
	CHECK_EQ(t, cfg_read(&r, 0, 8, 4) >> 8, 0x060000);
	/* PIIX3 ISA bridge and PM function. */
	CHECK_EQ(t, cfg_read(&r, PCI_DEVFN(1, 0), 0, 4), 0x70008086);
	CHECK_EQ(t, cfg_read(&r, PCI_DEVFN(1, 0), 0x0e, 1), 0x80);
	CHECK_EQ(t, cfg_read(&r, PCI_DEVFN(1, 0), 0x0a, 2), 0x0601);
	CHECK_EQ(t, cfg_read(&r, PCI_DEVFN(1, 3), 0, 4), 0x71138086);
	/* Absent functions, other buses, and the enable bit off: all ones. */
	CHECK_EQ(t, cfg_read(&r, PCI_DEVFN(5, 0), 0, 4), 0xffffffff);
	CHECK_EQ(t, cfg_read(&r, PCI_DEVFN(5, 0), 2, 2), 0xffff);
	CHECK_EQ(t, cfg_read(&r, PCI_DEVFN(5, 0), 3, 1), 0xff);
	iobus_write(&r.io, 0xcf8, 0x80010000, 4);
	CHECK_EQ(t, iobus_read(&r.io, 0xcfc, 4), 0xffffffff);
	iobus_write(&r.io, 0xcf8, 0x00000000, 4);
	CHECK_EQ(t, iobus_read(&r.io, 0xcfc, 4), 0xffffffff);
	/* Read-only fields stay. */
	cfg_write(&r, 0, 0, 0xdeadbeef, 4);
	CHECK_EQ(t, cfg_read(&r, 0, 0, 4), 0x12378086);
	/* Writable bytes at any width: latency timer via a byte at 0xCFD. */
	cfg_write(&r, PCI_DEVFN(1, 0), 0x0d, 0x40, 1);
	CHECK_EQ(t, cfg_read(&r, PCI_DEVFN(1, 0), 0x0c, 4) & 0xff00, 0x4000);
	cfg_write(&r, PCI_DEVFN(1, 0), 0x60, 0x0b0a0b0a, 4);
	CHECK_EQ(t, cfg_read(&r, PCI_DEVFN(1, 0), 0x60, 4), 0x0b0a0b0a);
	cfg_write(&r, PCI_DEVFN(1, 0), 0x62, 0x8080, 2);
	CHECK_EQ(t, cfg_read(&r, PCI_DEVFN(1, 0), 0x60, 4), 0x80800b0a);
	/* PIRQRC bits 6:4 are reserved (read 0). */
	cfg_write(&r, PCI_DEVFN(1, 0), 0x60, 0x7f, 1);
	CHECK_EQ(t, cfg_read(&r, PCI_DEVFN(1, 0), 0x60, 1), 0x0f);
}

static void status_write_one_to_clear(struct test *t)
{
	struct rig r;

	REQUIRE(t, rig_init(&r, true) == 0);
	r.dev.pci.config[PCI_STATUS + 1] |= 0x20;  /* received master abort */
	cfg_write(&r, PCI_DEVFN(3, 0), PCI_STATUS, 0x0000, 2);
	CHECK_EQ(t, cfg_read(&r, PCI_DEVFN(3, 0), PCI_STATUS, 2) & 0x2000, 0x2000);
	cfg_write(&r, PCI_DEVFN(3, 0), PCI_STATUS, 0x2000, 2);
	CHECK_EQ(t, cfg_read(&r, PCI_DEVFN(3, 0), PCI_STATUS, 2) & 0x2000, 0);
}

static void bar_sizing_and_mapping(struct test *t)
{
	struct rig r;
	unsigned fn = PCI_DEVFN(3, 0);

	REQUIRE(t, rig_init(&r, true) == 0);
	cfg_write(&r, fn, 0x10, 0xffffffff, 4);
	CHECK_EQ(t, cfg_read(&r, fn, 0x10, 4), 0xffffffe1);
	cfg_write(&r, fn, 0x14, 0xffffffff, 4);
	CHECK_EQ(t, cfg_read(&r, fn, 0x14, 4), 0xfffff000);
	CHECK_EQ(t, cfg_read(&r, fn, 0x18, 4), 0);     /* no BAR2 */
	cfg_write(&r, fn, 0x18, 0xffffffff, 4);
	CHECK_EQ(t, cfg_read(&r, fn, 0x18, 4), 0);
	cfg_write(&r, fn, 0x10, 0xc040, 4);
	cfg_write(&r, fn, 0x14, 0xfebf0000, 4);
	CHECK_EQ(t, cfg_read(&r, fn, 0x10, 4), 0xc041);
	/* Not decoded until the command register says so. */
	CHECK_EQ(t, iobus_read(&r.io, 0xc044, 4), 0xffffffff);
	CHECK(t, mmiobus_find(&r.mmio, 0xfebf0010) == NULL);
	cfg_write(&r, fn, PCI_COMMAND, PCI_COMMAND_IO, 2);
	CHECK_EQ(t, iobus_read(&r.io, 0xc044, 4), 0x1234abcd);
	CHECK_EQ(t, r.dev.last_io_port, 0xc044);
	CHECK(t, mmiobus_find(&r.mmio, 0xfebf0010) == NULL);
	cfg_write(&r, fn, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
	mmiobus_write(&r.mmio, 0xfebf0010, 77, 4);
	CHECK_EQ(t, r.dev.last_mem_off, 0x10);
	CHECK_EQ(t, r.dev.last_val, 77);
	/* Moving the BAR moves the decode. */
	cfg_write(&r, fn, 0x10, 0xd000, 4);
	CHECK_EQ(t, iobus_read(&r.io, 0xc044, 4), 0xffffffff);
	CHECK_EQ(t, iobus_read(&r.io, 0xd01c, 2), 0xabcd);
	/* Sizing with decode on must not decode at the mask. */
	cfg_write(&r, fn, 0x14, 0xffffffff, 4);
	CHECK(t, mmiobus_find(&r.mmio, 0xfffff000) == NULL);
	CHECK(t, mmiobus_find(&r.mmio, 0xfebf0010) == NULL);
	cfg_write(&r, fn, 0x14, 0xfebf0000, 4);
	CHECK(t, mmiobus_find(&r.mmio, 0xfebf0010) != NULL);
	/* Below the top of RAM the host bridge sends accesses to DRAM. */
	cfg_write(&r, fn, 0x14, 0x00100000, 4);
	CHECK(t, mmiobus_find(&r.mmio, 0x00100000) == NULL);
	cfg_write(&r, fn, 0x14, 0xfebf0000, 4);
	cfg_write(&r, fn, PCI_COMMAND, 0, 2);
	CHECK(t, mmiobus_find(&r.mmio, 0xfebf0010) == NULL);
	CHECK_EQ(t, iobus_read(&r.io, 0xd01c, 2), 0xffff);
	/* Bad BAR declarations are refused. */
	struct pci_dev bad;
	pci_dev_init(&bad, "bad", 1, 2, 0, 0);
	CHECK(t, pci_dev_add_bar(&bad, 0, PCI_BAR_IO, 24, false, &tdev_ops, NULL, "x") < 0);
	CHECK(t, pci_dev_add_bar(&bad, 6, PCI_BAR_IO, 16, false, &tdev_ops, NULL, "x") < 0);
	CHECK(t, pci_bus_add(&r.bus, &bad, PCI_DEVFN(3, 0)) < 0);
}

static void pirq_routing(struct test *t)
{
	struct rig r;
	unsigned fn = PCI_DEVFN(3, 0);
	unsigned pirq = pci_slot_pirq(3, 1);

	REQUIRE(t, rig_init(&r, true) == 0);
	CHECK_EQ(t, pirq, 2);       /* slot 3 INTA -> PIRQC */
	CHECK_EQ(t, cfg_read(&r, fn, PCI_INTERRUPT_PIN, 1), 1);
	/* Routing disabled at reset: nothing reaches the PIC. */
	pci_set_irq(&r.dev.pci, true);
	for (unsigned i = 0; i < 16; i++)
		CHECK_EQ(t, r.level[i], 0);
	CHECK(t, cfg_read(&r, fn, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	cfg_write(&r, PCI_DEVFN(1, 0), PIIX_PIRQRC + pirq, 11, 1);
	CHECK_EQ(t, r.level[11], 1);
	/* Re-routing moves the level. */
	cfg_write(&r, PCI_DEVFN(1, 0), PIIX_PIRQRC + pirq, 5, 1);
	CHECK_EQ(t, r.level[11], 0);
	CHECK_EQ(t, r.level[5], 1);
	/* Reserved IRQ numbers route nowhere. */
	cfg_write(&r, PCI_DEVFN(1, 0), PIIX_PIRQRC + pirq, 2, 1);
	CHECK_EQ(t, r.level[5], 0);
	CHECK_EQ(t, r.level[2], 0);
	cfg_write(&r, PCI_DEVFN(1, 0), PIIX_PIRQRC + pirq, 11, 1);
	CHECK_EQ(t, r.level[11], 1);
	/* INTX_DISABLE masks it. */
	cfg_write(&r, fn, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
	CHECK_EQ(t, r.level[11], 0);
	cfg_write(&r, fn, PCI_COMMAND, 0, 2);
	CHECK_EQ(t, r.level[11], 1);
	pci_set_irq(&r.dev.pci, false);
	CHECK_EQ(t, r.level[11], 0);
	CHECK_EQ(t, cfg_read(&r, fn, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);

	/* Two devices sharing a PIRQ: the line stays up until both drop. */
	struct tdev other;
	pci_dev_init(&other.pci, "other", 0x1af4, 0x1001, 0, 0x020000);
	pci_dev_set_irq_pin(&other.pci, 1);
	REQUIRE(t, pci_bus_add(&r.bus, &other.pci, PCI_DEVFN(7, 0)) == 0);
	CHECK_EQ(t, pci_slot_pirq(7, 1), pirq);
	pci_set_irq(&r.dev.pci, true);
	pci_set_irq(&other.pci, true);
	pci_set_irq(&r.dev.pci, false);
	CHECK_EQ(t, r.level[11], 1);
	pci_set_irq(&other.pci, false);
	CHECK_EQ(t, r.level[11], 0);

	/* The SCI and a PIRQ on IRQ 9 are wired-OR. */
	cfg_write(&r, PCI_DEVFN(1, 0), PIIX_PIRQRC + pirq, 9, 1);
	pci_set_irq(&r.dev.pci, true);
	CHECK_EQ(t, r.level[9], 1);
	acpi_pm_write(&r.acpi, ACPI_PM1_EN, ACPI_PWRBTN_STS, 2);
	acpi_press_power_button(&r.acpi);
	pci_set_irq(&r.dev.pci, false);
	CHECK_EQ(t, r.level[9], 1);     /* SCI still asserted */
	acpi_pm_write(&r.acpi, ACPI_PM1_STS, ACPI_PWRBTN_STS, 2);
	CHECK_EQ(t, r.level[9], 0);
}

static void reset_control(struct test *t)
{
	struct rig r;

	REQUIRE(t, rig_init(&r, false) == 0);
	iobus_write(&r.io, 0xcf9, 0x02, 1);
	CHECK_EQ(t, r.resets, 0);
	CHECK_EQ(t, iobus_read(&r.io, 0xcf9, 1), 0x02);
	iobus_write(&r.io, 0xcf9, 0x06, 1);
	CHECK_EQ(t, r.resets, 1);
	CHECK_EQ(t, r.hard_resets, 1);
	iobus_write(&r.io, 0xcf9, 0x06, 1);     /* no 0 -> 1 edge */
	CHECK_EQ(t, r.resets, 1);
	piix_reset(&r.piix);
	CHECK_EQ(t, iobus_read(&r.io, 0xcf9, 1), 0);
	iobus_write(&r.io, 0xcf9, 0x04, 1);     /* soft reset */
	CHECK_EQ(t, r.resets, 2);
	CHECK_EQ(t, r.hard_resets, 1);
	/* The dword config address register is unaffected by 0xCF9. */
	iobus_write(&r.io, 0xcf8, 0x80000000, 4);
	CHECK_EQ(t, iobus_read(&r.io, 0xcf8, 4), 0x80000000);
}

static void pam_registers(struct test *t)
{
	struct rig r;

	REQUIRE(t, rig_init(&r, false) == 0);
	CHECK_EQ(t, r.npam, 13);        /* all regions announced at reset */
	CHECK(t, !r.pam[0].r && !r.pam[0].w);
	r.npam = 0;
	cfg_write(&r, 0, 0x5a, 0x31, 1);        /* C0000 read-only DRAM, C4000 RW */
	REQUIRE(t, r.npam == 2);
	CHECK_EQ(t, r.pam[0].base, 0xc0000);
	CHECK_EQ(t, r.pam[0].size, 0x4000);
	CHECK(t, r.pam[0].r && !r.pam[0].w);
	CHECK_EQ(t, r.pam[1].base, 0xc4000);
	CHECK(t, r.pam[1].r && r.pam[1].w);
	CHECK_EQ(t, i440fx_pam_access(&r.host, 0xc5000), 3);
	CHECK_EQ(t, i440fx_pam_access(&r.host, 0xc1000), 1);
	CHECK_EQ(t, i440fx_pam_access(&r.host, 0xf8000), 0);
	r.npam = 0;
	cfg_write(&r, 0, 0x58, 0x3000, 2);      /* PAM0 via a word at 0x58 */
	REQUIRE(t, r.npam == 1);
	CHECK_EQ(t, r.pam[0].base, 0xf0000);
	CHECK_EQ(t, r.pam[0].size, 0x10000);
	CHECK_EQ(t, i440fx_pam_region(0xeffff), 12);
	CHECK_EQ(t, i440fx_pam_region(0xbffff), -1);
	/* Reserved PAM bits stay 0. */
	cfg_write(&r, 0, 0x5b, 0xff, 1);
	CHECK_EQ(t, cfg_read(&r, 0, 0x5b, 1), 0x33);
	/* SMRAM: C_BASE_SEG hardwired, D_LCK locks D_OPEN off. */
	CHECK_EQ(t, cfg_read(&r, 0, 0x72, 1), 0x02);
	cfg_write(&r, 0, 0x72, 0x48, 1);
	CHECK_EQ(t, cfg_read(&r, 0, 0x72, 1), 0x4a);
	cfg_write(&r, 0, 0x72, 0x18, 1);
	CHECK_EQ(t, cfg_read(&r, 0, 0x72, 1), 0x1a);
	cfg_write(&r, 0, 0x72, 0x40, 1);
	CHECK_EQ(t, cfg_read(&r, 0, 0x72, 1), 0x1a);
	i440fx_reset(&r.host);
	CHECK_EQ(t, cfg_read(&r, 0, 0x72, 1), 0x02);
}

static void pm_function_and_firmware_setup(struct test *t)
{
	struct rig r;
	static const uint8_t pirqs[4] = { 10, 10, 11, 11 };

	REQUIRE(t, rig_init(&r, true) == 0);
	/* PMBA reads as an I/O BAR-like register; not decoded at reset. */
	CHECK_EQ(t, cfg_read(&r, PCI_DEVFN(1, 3), 0x40, 4), 1);
	CHECK_EQ(t, iobus_read(&r.io, 0x608, 4), 0xffffffff);
	cfg_write(&r, PCI_DEVFN(1, 3), 0x40, 0xb001, 4);
	CHECK_EQ(t, iobus_read(&r.io, 0xb008, 4), 0xffffffff);
	cfg_write(&r, PCI_DEVFN(1, 3), 0x80, 1, 1);
	CHECK_EQ(t, iobus_read(&r.io, 0xb004, 2), ACPI_SCI_EN);
	cfg_write(&r, PCI_DEVFN(1, 3), 0x80, 0, 1);
	CHECK_EQ(t, iobus_read(&r.io, 0xb004, 2), 0xffff);

	REQUIRE(t, piix_firmware_setup(&r.piix, pirqs, 128u << 20, 0x600) == 0);
	CHECK_EQ(t, iobus_read(&r.io, 0x604, 2), ACPI_SCI_EN);
	CHECK_EQ(t, cfg_read(&r, PCI_DEVFN(1, 0), 0x60, 4), 0x0b0b0a0a);
	i440fx_firmware_setup(&r.host);
	CHECK_EQ(t, i440fx_pam_access(&r.host, 0xf0000), 3);
	CHECK_EQ(t, i440fx_pam_access(&r.host, 0xc0000), 3);
	CHECK_EQ(t, cfg_read(&r, 0, 0x67, 1), 16);
	REQUIRE(t, pci_bus_assign_resources(&r.bus, 0xc000, 0xfeff, 0xe0000000, 0xfebfffff, pirqs) == 0);
	CHECK_EQ(t, cfg_read(&r, PCI_DEVFN(3, 0), 0x10, 4), 0xc001);
	CHECK_EQ(t, cfg_read(&r, PCI_DEVFN(3, 0), 0x14, 4), 0xe0000000);
	CHECK_EQ(t, cfg_read(&r, PCI_DEVFN(3, 0), PCI_COMMAND, 2) & 3, 3);
	CHECK_EQ(t, cfg_read(&r, PCI_DEVFN(3, 0), PCI_INTERRUPT_LINE, 1), 11);
	CHECK_EQ(t, iobus_read(&r.io, 0xc000, 1), 0xcd);
	/* The window can run out. */
	REQUIRE(t, rig_init(&r, true) == 0);
	CHECK(t, pci_bus_assign_resources(&r.bus, 0xc000, 0xc00f, 0xe0000000, 0xfebfffff, pirqs) < 0);
}

/*
 * A guest may switch decoding on and off as often as it likes (Linux
 * turns BAR decoding off around every sizing): the device must keep
 * working however many times that happens.
 */
static void decode_toggling_has_no_limit(struct test *t)
{
	struct rig r;
	unsigned fn = PCI_DEVFN(3, 0);

	REQUIRE(t, rig_init(&r, true) == 0);
	cfg_write(&r, PCI_DEVFN(1, 3), 0x40, 0xb001, 4);
	cfg_write(&r, fn, 0x10, 0xc040, 4);
	for (int i = 0; i < 300; i++) {
		cfg_write(&r, PCI_DEVFN(1, 3), 0x80, 1, 1);
		cfg_write(&r, PCI_DEVFN(1, 3), 0x80, 0, 1);
		cfg_write(&r, fn, PCI_COMMAND, PCI_COMMAND_IO, 2);
		cfg_write(&r, fn, PCI_COMMAND, 0, 2);
	}
	cfg_write(&r, PCI_DEVFN(1, 3), 0x80, 1, 1);
	cfg_write(&r, fn, PCI_COMMAND, PCI_COMMAND_IO, 2);
	CHECK_EQ(t, iobus_read(&r.io, 0xb004, 2), ACPI_SCI_EN);
	CHECK_EQ(t, iobus_read(&r.io, 0xc044, 2), 0xabcd);
}

/* The bus and the PIIX3 under the shared save/load checks (devtest.h);
 * ctx is a rig with the test device. */
static int load_bus(void *ctx, struct sbuf *sb)
{
	struct rig *r = ctx;

	if (pci_bus_load(&r->bus, sb) < 0)
		return -1;
	return piix_load(&r->piix, sb);
}

static int fresh_bus(void *ctx)
{
	return rig_init(ctx, true);
}

static void save_load(struct test *t)
{
	struct rig r, r2;
	struct devtest_ops ops = { .ctx = &r2, .load = load_bus, .reset = fresh_bus };
	struct sbuf sb, rd;
	static const uint8_t pirqs[4] = { 10, 10, 11, 11 };

	REQUIRE(t, rig_init(&r, true) == 0);
	REQUIRE(t, piix_firmware_setup(&r.piix, pirqs, 128u << 20, 0x600) == 0);
	REQUIRE(t, pci_bus_assign_resources(&r.bus, 0xc000, 0xfeff, 0xe0000000, 0xfebfffff, pirqs) == 0);
	cfg_write(&r, 0, 0x5a, 0x33, 1);
	pci_set_irq(&r.dev.pci, true);
	iobus_write(&r.io, 0xcf9, 0x02, 1);
	iobus_write(&r.io, 0xcf8, addr_of(PCI_DEVFN(3, 0), 0x10), 4);
	sbuf_init(&sb);
	pci_bus_save(&r.bus, &sb);
	piix_save(&r.piix, &sb);
	REQUIRE(t, !sb.error);

	REQUIRE(t, rig_init(&r2, true) == 0);
	sbuf_init_read(&rd, sb.data, sb.len);
	REQUIRE(t, pci_bus_load(&r2.bus, &rd) == 0);
	REQUIRE(t, piix_load(&r2.piix, &rd) == 0);
	r2.npam = 0;
	i440fx_post_load(&r2.host);
	CHECK_EQ(t, i440fx_pam_access(&r2.host, 0xc0000), 3);
	CHECK_EQ(t, r2.npam, 13);
	CHECK_EQ(t, r2.level[11], 1);
	CHECK_EQ(t, iobus_read(&r2.io, 0xcfc, 4), 0xc001);
	CHECK_EQ(t, iobus_read(&r2.io, 0xc010, 2), 0xabcd);
	CHECK_EQ(t, iobus_read(&r2.io, 0x604, 2), ACPI_SCI_EN);
	CHECK_EQ(t, iobus_read(&r2.io, 0xcf9, 1), 0x02);
	pci_set_irq(&r2.dev.pci, false);
	CHECK_EQ(t, r2.level[11], 0);

	/* A machine without the test device refuses the snapshot. */
	REQUIRE(t, rig_init(&r2, false) == 0);
	sbuf_init_read(&rd, sb.data, sb.len);
	CHECK(t, pci_bus_load(&r2.bus, &rd) < 0);
	CHECK(t, strstr(rd.why, "pci") != NULL);
	/* Truncated input is refused. */
	devtest_truncations(t, &ops, sb.data, sb.len, 97);
	/* A different device in the same slot (vendor ID changed) is refused. */
	for (size_t i = 0; i + 4 < sb.len; i++) {
		if (sb.data[i] == PCI_DEVFN(3, 0) && sb.data[i + 1] == 0xf4 && sb.data[i + 2] == 0x1a) {
			sb.data[i + 1] = 0xf5;
			break;
		}
	}
	devtest_refuses(t, &ops, sb.data, sb.len, "different");
	sbuf_free(&sb);
}

int main(int argc, char **argv)
{
	struct harness h;

	harness_init(&h, "pci", argc, argv);
	RUN(&h, config_mechanism);
	RUN(&h, status_write_one_to_clear);
	RUN(&h, bar_sizing_and_mapping);
	RUN(&h, pirq_routing);
	RUN(&h, reset_control);
	RUN(&h, pam_registers);
	RUN(&h, pm_function_and_firmware_setup);
	RUN(&h, decode_toggling_has_no_limit);
	RUN(&h, save_load);
	return harness_done(&h);
}
