/*
 * i440FX host bridge (82441FX PMC): IDs, PAM, DRB and SMRAM registers.
 */
#include "machine/i440fx.h"

#include <string.h>

#include "lib/log.h"

#define I440FX_REGIONS 13
#define SMRAM_D_OPEN  0x40u
#define SMRAM_D_CLS   0x20u
#define SMRAM_D_LCK   0x10u
#define SMRAM_G_SMRAME 0x08u
#define SMRAM_C_BASE  0x02u   /* compatible SMRAM at 0xA0000, hardwired */

static void region_range(unsigned r, uint32_t *base, uint32_t *size)
{
	if (r == 0) {
		*base = 0xf0000;
		*size = 0x10000;
	} else {
		*base = 0xc0000 + (r - 1) * 0x4000;
		*size = 0x4000;
	}
}

static unsigned region_bits(const uint8_t *config, unsigned r)
{
	if (r == 0)
		return (config[I440FX_PAM0] >> 4) & 3;
	return (config[I440FX_PAM0 + 1 + (r - 1) / 2] >> (((r - 1) & 1) * 4)) & 3;
}

int i440fx_pam_region(uint32_t paddr)
{
	if (paddr >= 0xf0000 && paddr < 0x100000)
		return 0;
	if (paddr >= 0xc0000 && paddr < 0xf0000)
		return 1 + (int)((paddr - 0xc0000) / 0x4000);
	return -1;
}

unsigned i440fx_pam_access(const struct i440fx *h, uint32_t paddr)
{
	int r = i440fx_pam_region(paddr);

	return r < 0 ? 3 : region_bits(h->dev.config, (unsigned)r);
}

static void announce(struct i440fx *h, unsigned r)
{
	uint32_t base, size;
	unsigned bits = region_bits(h->dev.config, r);

	if (!h->set_pam)
		return;
	region_range(r, &base, &size);
	h->set_pam(h->pam_opaque, base, size, bits & 1, bits & 2);
}

static void config_write(struct pci_dev *d, unsigned off, unsigned size, uint32_t old)
{
	struct i440fx *h = d->opaque;
	uint8_t before[256];

	/* Rebuild the bytes as they were to see which regions changed. */
	memcpy(before, d->config, sizeof(before));
	for (unsigned i = 0; i < size && off + i < 256; i++)
		before[off + i] = (uint8_t)(old >> (8 * i));

	if (off <= I440FX_SMRAM && off + size > I440FX_SMRAM) {
		uint8_t prev = before[I440FX_SMRAM];
		uint8_t v = d->config[I440FX_SMRAM];

		if (prev & SMRAM_D_LCK) {
			/* Locked until reset: everything but D_CLS is read-only
			 * and D_OPEN stays off. */
			v = (uint8_t)((prev & ~SMRAM_D_CLS) | (v & SMRAM_D_CLS));
			v &= (uint8_t)~SMRAM_D_OPEN;
		} else if (v & SMRAM_D_LCK) {
			v &= (uint8_t)~SMRAM_D_OPEN;
		}
		d->config[I440FX_SMRAM] = (uint8_t)((v & 0x78) | SMRAM_C_BASE);
	}
	for (unsigned r = 0; r < I440FX_REGIONS; r++)
		if (region_bits(before, r) != region_bits(d->config, r))
			announce(h, r);
}

int i440fx_init(struct i440fx *h, struct pci_bus *bus, uint32_t ram_size,
                i440fx_pam_fn set_pam, void *opaque)
{
	memset(h, 0, sizeof(*h));
	h->set_pam = set_pam;
	h->pam_opaque = opaque;
	h->ram_size = ram_size;
	pci_dev_init(&h->dev, "i440fx", 0x8086, 0x1237, 0x02, 0x060000);
	h->dev.opaque = h;
	h->dev.config_write = config_write;
	/* The host bridge always decodes memory and masters the bus. */
	h->dev.wmask[PCI_COMMAND] = 0;
	h->dev.wmask[PCI_COMMAND + 1] = 0;
	h->dev.wmask[PCI_INTERRUPT_LINE] = 0;
	for (unsigned o = 0x50; o <= 0x58; o++)
		h->dev.wmask[o] = 0xff;
	h->dev.wmask[I440FX_PAM0] = 0x30;
	for (unsigned o = I440FX_PAM0 + 1; o < I440FX_PAM0 + I440FX_NUM_PAM; o++)
		h->dev.wmask[o] = 0x33;
	for (unsigned o = I440FX_DRB0; o < I440FX_DRB0 + 8; o++)
		h->dev.wmask[o] = 0xff;
	h->dev.wmask[I440FX_SMRAM] = 0x78;
	if (pci_bus_add(bus, &h->dev, PCI_DEVFN(0, 0)) < 0)
		return -1;
	bus->mem_floor = ram_size;
	i440fx_reset(h);
	return 0;
}

void i440fx_reset(struct i440fx *h)
{
	struct pci_dev *d = &h->dev;

	pci_set_word(d, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	pci_set_word(d, PCI_STATUS, 0x0280);   /* fast back-to-back, medium DEVSEL */
	for (unsigned o = 0x50; o < 0x100; o++)
		d->config[o] = 0;
	d->config[0x50] = 0x00;   /* PMCCFG */
	d->config[0x57] = 0x01;   /* DRAMC */
	d->config[0x58] = 0x10;   /* DRAMT */
	for (unsigned o = I440FX_DRB0; o < I440FX_DRB0 + 8; o++)
		d->config[o] = 0x01;
	d->config[I440FX_SMRAM] = SMRAM_C_BASE;
	/* At reset the whole BIOS area reads from ROM and writes go nowhere. */
	for (unsigned r = 0; r < I440FX_REGIONS; r++)
		announce(h, r);
}

void i440fx_firmware_setup(struct i440fx *h)
{
	uint32_t rows = h->ram_size / (8u << 20);

	pci_config_write(h->dev.bus, h->dev.devfn, I440FX_PAM0, 0x30, 1);
	for (unsigned o = I440FX_PAM0 + 1; o < I440FX_PAM0 + I440FX_NUM_PAM; o++)
		pci_config_write(h->dev.bus, h->dev.devfn, o, 0x33, 1);
	/* DRB: cumulative 8 MB units; everything in row 0. */
	for (unsigned o = I440FX_DRB0; o < I440FX_DRB0 + 8; o++)
		pci_config_write(h->dev.bus, h->dev.devfn, o, rows > 255 ? 255 : rows, 1);
}

void i440fx_post_load(struct i440fx *h)
{
	uint8_t smram = h->dev.config[I440FX_SMRAM];

	/* A snapshot cannot move the hardwired bits. */
	h->dev.config[I440FX_SMRAM] = (uint8_t)((smram & 0x78) | SMRAM_C_BASE);
	h->dev.config[I440FX_PAM0] &= 0x30;
	for (unsigned o = I440FX_PAM0 + 1; o < I440FX_PAM0 + I440FX_NUM_PAM; o++)
		h->dev.config[o] &= 0x33;
	for (unsigned r = 0; r < I440FX_REGIONS; r++)
		announce(h, r);
}
