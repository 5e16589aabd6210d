/*
 * PCI bus 0: configuration mechanism #1, config spaces with write masks,
 * BAR decoding onto the port and MMIO buses, INTx to PIRQ.
 */
#include "machine/pci.h"

#include <string.h>

#include "lib/log.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA    0xcfc
#define PCI_ADDR_ENABLE    0x80000000u

/* Status bits software clears by writing 1: parity, SERR, master/target aborts. */
#define PCI_STATUS_W1C 0xf900u

uint8_t pci_get_byte(const struct pci_dev *d, unsigned off)
{
	return off < 256 ? d->config[off] : 0xff;
}

uint16_t pci_get_word(const struct pci_dev *d, unsigned off)
{
	return (uint16_t)(pci_get_byte(d, off) | pci_get_byte(d, off + 1) << 8);
}

uint32_t pci_get_long(const struct pci_dev *d, unsigned off)
{
	return (uint32_t)pci_get_word(d, off) | (uint32_t)pci_get_word(d, off + 2) << 16;
}

void pci_set_byte(struct pci_dev *d, unsigned off, uint8_t v)
{
	if (off < 256)
		d->config[off] = v;
}

void pci_set_word(struct pci_dev *d, unsigned off, uint16_t v)
{
	pci_set_byte(d, off, (uint8_t)v);
	pci_set_byte(d, off + 1, (uint8_t)(v >> 8));
}

void pci_set_long(struct pci_dev *d, unsigned off, uint32_t v)
{
	pci_set_word(d, off, (uint16_t)v);
	pci_set_word(d, off + 2, (uint16_t)(v >> 16));
}

static void set_wmask_long(struct pci_dev *d, unsigned off, uint32_t m)
{
	for (unsigned i = 0; i < 4; i++)
		d->wmask[off + i] = (uint8_t)(m >> (8 * i));
}

unsigned pci_slot_pirq(unsigned slot, unsigned pin)
{
	/* Slot 1 INTA is PIRQA, slot 2 INTA is PIRQB, ... rotating by pin. */
	return (slot + pin + 2) & 3;
}

bool pci_bus_pirq_level(const struct pci_bus *bus, unsigned pirq)
{
	return pirq < PCI_NUM_PIRQ && bus->pirq_count[pirq] > 0;
}

/* ---- INTx ---- */

static void update_intx(struct pci_dev *d)
{
	struct pci_bus *bus = d->bus;
	unsigned pin = d->config[PCI_INTERRUPT_PIN];
	bool assert = d->irq_level && pin >= 1 && pin <= 4 &&
	              !(pci_get_word(d, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
	unsigned pirq;

	if (assert == d->irq_asserted || !bus)
		return;
	d->irq_asserted = assert;
	pirq = pci_slot_pirq(PCI_SLOT(d->devfn), pin);
	if (assert) {
		if (bus->pirq_count[pirq]++ == 0 && bus->pirq_set)
			bus->pirq_set(bus->pirq_opaque, pirq, true);
	} else if (bus->pirq_count[pirq] > 0) {
		if (--bus->pirq_count[pirq] == 0 && bus->pirq_set)
			bus->pirq_set(bus->pirq_opaque, pirq, false);
	}
}

void pci_set_irq(struct pci_dev *d, bool level)
{
	uint16_t st = pci_get_word(d, PCI_STATUS);

	d->irq_level = level;
	pci_set_word(d, PCI_STATUS, level ? (uint16_t)(st | PCI_STATUS_INTERRUPT)
	                                  : (uint16_t)(st & ~PCI_STATUS_INTERRUPT));
	update_intx(d);
}

/* ---- BARs ---- */

static uint32_t bar_address(const struct pci_dev *d, unsigned n)
{
	const struct pci_bar *b = &d->bars[n];
	uint32_t v = pci_get_long(d, PCI_BAR0 + 4 * n);

	return b->type == PCI_BAR_IO ? v & ~3u : v & ~15u;
}

static void bar_unmap(struct pci_dev *d, unsigned n)
{
	struct pci_bar *b = &d->bars[n];

	if (!b->mapped)
		return;
	if (b->type == PCI_BAR_IO)
		iobus_unmap(d->bus->io, (uint16_t)b->mapped_base, b->size);
	else
		mmiobus_unmap(d->bus->mmio, b->mapped_base);
	b->mapped = false;
}

/* Maps or unmaps BAR n to follow its register and the command register. */
static void bar_update(struct pci_dev *d, unsigned n)
{
	struct pci_bar *b = &d->bars[n];
	uint16_t cmd = pci_get_word(d, PCI_COMMAND);
	uint32_t addr = bar_address(d, n);
	bool want;
	int rc;

	if (b->type == PCI_BAR_NONE || !d->bus)
		return;
	if (b->type == PCI_BAR_IO)
		want = (cmd & PCI_COMMAND_IO) && addr != 0 && (uint64_t)addr + b->size <= 0x10000;
	else
		want = (cmd & PCI_COMMAND_MEMORY) && addr != 0 && addr >= d->bus->mem_floor &&
		       (uint64_t)addr + b->size <= 0x100000000ull;
	/* While sizing, the register holds the size mask: not an address. */
	if (want && addr == ((b->type == PCI_BAR_IO ? 0xfffffffcu : 0xfffffff0u) & ~(b->size - 1)))
		want = false;
	if (b->mapped && want && b->mapped_base == addr)
		return;
	bar_unmap(d, n);
	if (!want)
		return;
	if (b->type == PCI_BAR_IO)
		rc = iobus_map(d->bus->io, (uint16_t)addr, b->size, b->ops, b->opaque, b->name);
	else
		rc = mmiobus_map(d->bus->mmio, addr, b->size, b->ops, b->opaque, b->name);
	if (rc < 0) {
		if (b->warned)
			return;
		b->warned = true;
		log_warn("pci %02x.%u: BAR%u of %s at 0x%x+0x%x overlaps another device; not decoded",
		         PCI_SLOT(d->devfn), PCI_FUNC(d->devfn), n, d->name, addr, b->size);
		return;
	}
	b->mapped = true;
	b->mapped_base = addr;
	b->warned = false;
}

static void bars_update(struct pci_dev *d)
{
	for (unsigned n = 0; n < PCI_NUM_BARS; n++)
		bar_update(d, n);
}

int pci_dev_add_bar(struct pci_dev *d, unsigned n, enum pci_bar_type type, uint32_t size,
                    bool prefetchable, const struct io_ops *ops, void *opaque,
                    const char *name)
{
	struct pci_bar *b;
	uint32_t flags;

	if (n >= PCI_NUM_BARS || (size & (size - 1)) || ops == NULL ||
	    (type == PCI_BAR_IO && (size < 4 || size > 256)) ||
	    (type == PCI_BAR_MEM && size < 16) || type == PCI_BAR_NONE) {
		log_err("pci: bad BAR%u for %s (size 0x%x)", n, d->name, size);
		return -1;
	}
	b = &d->bars[n];
	*b = (struct pci_bar){ .type = (uint8_t)type, .prefetchable = prefetchable, .size = size,
	                       .ops = ops, .opaque = opaque, .name = name };
	flags = type == PCI_BAR_IO ? 1u : (prefetchable ? 8u : 0u);
	pci_set_long(d, PCI_BAR0 + 4 * n, flags);
	set_wmask_long(d, PCI_BAR0 + 4 * n,
	               ~(size - 1) & (type == PCI_BAR_IO ? 0xfffffffcu : 0xfffffff0u));
	return 0;
}

/* ---- devices ---- */

void pci_dev_init(struct pci_dev *d, const char *name, uint16_t vendor, uint16_t device,
                  uint8_t revision, uint32_t class_code)
{
	memset(d, 0, sizeof(*d));
	d->name = name;
	pci_set_word(d, PCI_VENDOR_ID, vendor);
	pci_set_word(d, PCI_DEVICE_ID, device);
	d->config[PCI_REVISION_ID] = revision;
	d->config[PCI_CLASS_PROG] = (uint8_t)class_code;
	pci_set_word(d, PCI_CLASS_DEVICE, (uint16_t)(class_code >> 8));
	d->wmask[PCI_COMMAND] = (uint8_t)(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	d->wmask[PCI_COMMAND + 1] = (uint8_t)(PCI_COMMAND_INTX_DISABLE >> 8);
	d->w1cmask[PCI_STATUS] = (uint8_t)PCI_STATUS_W1C;
	d->w1cmask[PCI_STATUS + 1] = (uint8_t)(PCI_STATUS_W1C >> 8);
	d->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	d->wmask[PCI_LATENCY_TIMER] = 0xff;
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

void pci_dev_set_irq_pin(struct pci_dev *d, unsigned pin)
{
	d->config[PCI_INTERRUPT_PIN] = pin <= 4 ? (uint8_t)pin : 0;
}

int pci_bus_add(struct pci_bus *bus, struct pci_dev *d, uint8_t devfn)
{
	if (bus->devs[devfn]) {
		log_err("pci: %02x.%u is taken; cannot add %s", PCI_SLOT(devfn), PCI_FUNC(devfn),
		        d->name);
		return -1;
	}
	d->bus = bus;
	d->devfn = devfn;
	bus->devs[devfn] = d;
	return 0;
}

/* ---- configuration access ---- */

uint32_t pci_config_read(struct pci_bus *bus, uint8_t devfn, unsigned off, unsigned size)
{
	const struct pci_dev *d = bus->devs[devfn];
	uint32_t v = 0;

	if (size != 1 && size != 2 && size != 4)
		return 0xffffffffu;
	if (!d)
		return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)pci_get_byte(d, off + i) << (8 * i);
	return v;
}

void pci_config_write(struct pci_bus *bus, uint8_t devfn, unsigned off, uint32_t value,
                      unsigned size)
{
	struct pci_dev *d = bus->devs[devfn];
	uint32_t old = 0;
	bool touches_bars = false, touches_cmd = false;

	if (!d || (size != 1 && size != 2 && size != 4) || off >= 256)
		return;
	for (unsigned i = 0; i < size && off + i < 256; i++) {
		unsigned o = off + i;
		uint8_t b = (uint8_t)(value >> (8 * i));
		uint8_t cur = d->config[o];

		old |= (uint32_t)cur << (8 * i);
		cur = (uint8_t)((cur & ~d->wmask[o]) | (b & d->wmask[o]));
		cur &= (uint8_t)~(b & d->w1cmask[o]);
		d->config[o] = cur;
		if (o >= PCI_BAR0 && o < PCI_BAR0 + 4 * PCI_NUM_BARS)
			touches_bars = true;
		if (o == PCI_COMMAND || o == PCI_COMMAND + 1)
			touches_cmd = true;
	}
	if (touches_bars || touches_cmd)
		bars_update(d);
	if (touches_cmd)
		update_intx(d);
	if (d->config_write)
		d->config_write(d, off, size, old);
}

static uint32_t pci_io_read(void *dev, uint32_t port, unsigned size)
{
	struct pci_bus *bus = dev;
	uint32_t a = bus->config_address;

	if (port == PCI_CONFIG_ADDRESS)
		return size == 4 ? a : 0xffffffffu;
	if (!(a & PCI_ADDR_ENABLE) || ((a >> 16) & 0xff) != 0)
		return 0xffffffffu;
	return pci_config_read(bus, (uint8_t)(a >> 8), (a & 0xfc) + (port - PCI_CONFIG_DATA), size);
}

static void pci_io_write(void *dev, uint32_t port, uint32_t value, unsigned size)
{
	struct pci_bus *bus = dev;
	uint32_t a = bus->config_address;

	if (port == PCI_CONFIG_ADDRESS) {
		/* Only dword accesses reach the address register; bits 30:24
		 * are reserved and bits 1:0 select type 0/1 (read as 0). */
		if (size == 4)
			bus->config_address = value & 0x80fffffcu;
		return;
	}
	if (!(a & PCI_ADDR_ENABLE) || ((a >> 16) & 0xff) != 0)
		return;
	pci_config_write(bus, (uint8_t)(a >> 8), (a & 0xfc) + (port - PCI_CONFIG_DATA), value,
	                 size);
}

static const struct io_ops pci_io_ops = {
	.read = pci_io_read,
	.write = pci_io_write,
};

int pci_bus_init(struct pci_bus *bus, struct iobus *io, struct mmiobus *mmio)
{
	memset(bus, 0, sizeof(*bus));
	bus->io = io;
	bus->mmio = mmio;
	if (iobus_map(io, PCI_CONFIG_ADDRESS, 1, &pci_io_ops, bus, "pci-addr") < 0) {
		log_err("pci: port 0xcf8 is taken");
		return -1;
	}
	if (iobus_map(io, PCI_CONFIG_DATA, 4, &pci_io_ops, bus, "pci-data") < 0) {
		iobus_unmap(io, PCI_CONFIG_ADDRESS, 1);
		log_err("pci: ports 0xcfc-0xcff are taken");
		return -1;
	}
	return 0;
}

void pci_bus_set_pirq_router(struct pci_bus *bus, pci_pirq_fn fn, void *opaque)
{
	bus->pirq_set = fn;
	bus->pirq_opaque = opaque;
}

void pci_bus_reset(struct pci_bus *bus)
{
	bus->config_address = 0;
	for (unsigned devfn = 0; devfn < 256; devfn++) {
		struct pci_dev *d = bus->devs[devfn];

		if (!d)
			continue;
		pci_set_word(d, PCI_COMMAND, 0);
		pci_set_word(d, PCI_STATUS, pci_get_word(d, PCI_STATUS) & ~PCI_STATUS_W1C);
		for (unsigned n = 0; n < PCI_NUM_BARS; n++) {
			if (d->bars[n].type == PCI_BAR_NONE)
				continue;
			uint32_t v = pci_get_long(d, PCI_BAR0 + 4 * n);
			pci_set_long(d, PCI_BAR0 + 4 * n, v & (d->bars[n].type == PCI_BAR_IO ? 3u : 15u));
		}
		d->config[PCI_INTERRUPT_LINE] = 0;
		d->config[PCI_LATENCY_TIMER] = 0;
		d->config[PCI_CACHE_LINE_SIZE] = 0;
		bars_update(d);
		update_intx(d);
	}
}

static uint32_t align_up(uint32_t v, uint32_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int pci_bus_assign_resources(struct pci_bus *bus, uint32_t io_base, uint32_t io_limit,
                             uint32_t mem_base, uint32_t mem_limit,
                             const uint8_t pirq_irq[PCI_NUM_PIRQ])
{
	uint64_t io_next = io_base, mem_next = mem_base;

	for (unsigned devfn = 0; devfn < 256; devfn++) {
		struct pci_dev *d = bus->devs[devfn];
		uint16_t cmd;
		unsigned pin;

		if (!d)
			continue;
		cmd = pci_get_word(d, PCI_COMMAND);
		for (unsigned n = 0; n < PCI_NUM_BARS; n++) {
			struct pci_bar *b = &d->bars[n];
			uint64_t *next = b->type == PCI_BAR_IO ? &io_next : &mem_next;
			uint64_t limit = b->type == PCI_BAR_IO ? io_limit : mem_limit;
			uint64_t at;

			if (b->type == PCI_BAR_NONE || bar_address(d, n) != 0)
				continue;
			at = align_up((uint32_t)*next, b->size);
			if (at < *next || at + b->size - 1 > limit) {
				log_err("pci: no room for BAR%u of %s (0x%x bytes)", n, d->name, b->size);
				return -1;
			}
			*next = at + b->size;
			pci_set_long(d, PCI_BAR0 + 4 * n,
			             (uint32_t)at | (pci_get_long(d, PCI_BAR0 + 4 * n) & 15u));
			cmd |= b->type == PCI_BAR_IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
		}
		pci_set_word(d, PCI_COMMAND, cmd);
		bars_update(d);
		pin = d->config[PCI_INTERRUPT_PIN];
		if (pin >= 1 && pin <= 4 && pirq_irq) {
			uint8_t irq = pirq_irq[pci_slot_pirq(PCI_SLOT(devfn), pin)];
			d->config[PCI_INTERRUPT_LINE] = irq < 16 ? irq : 0xff;
		}
	}
	return 0;
}

/* ---- state ---- */

#define PCI_VERSION 1

void pci_bus_save(const struct pci_bus *bus, struct sbuf *sb)
{
	size_t mark = sbuf_begin(sb, "pci", PCI_VERSION);
	unsigned n = 0;

	for (unsigned devfn = 0; devfn < 256; devfn++)
		n += bus->devs[devfn] != NULL;
	sbuf_put_u32(sb, bus->config_address);
	sbuf_put_u16(sb, (uint16_t)n);
	for (unsigned devfn = 0; devfn < 256; devfn++) {
		const struct pci_dev *d = bus->devs[devfn];

		if (!d)
			continue;
		sbuf_put_u8(sb, (uint8_t)devfn);
		sbuf_put_bytes(sb, d->config, sizeof(d->config));
		sbuf_put_bool(sb, d->irq_level);
	}
	sbuf_end(sb, mark);
}

int pci_bus_load(struct pci_bus *bus, struct sbuf *sb)
{
	static const unsigned fixed[] = { PCI_VENDOR_ID, PCI_VENDOR_ID + 1, PCI_DEVICE_ID,
	                                  PCI_DEVICE_ID + 1, PCI_HEADER_TYPE, PCI_INTERRUPT_PIN };
	uint8_t config[256][256];   /* indexed by the order saved */
	uint8_t devfns[256];
	bool levels[256];
	bool seen[256] = { false };
	uint32_t ver, addr;
	unsigned n, present = 0;

	if (!sbuf_open(sb, "pci", &ver))
		return -1;
	if (ver != PCI_VERSION) {
		sbuf_fail(sb, "pci: version %u, expected %u", ver, PCI_VERSION);
		return -1;
	}
	addr = sbuf_get_u32(sb);
	n = sbuf_get_u16(sb);
	for (unsigned devfn = 0; devfn < 256; devfn++)
		present += bus->devs[devfn] != NULL;
	if (n != present) {
		sbuf_fail(sb, "pci: %u functions saved, this machine has %u", n, present);
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		devfns[i] = sbuf_get_u8(sb);
		sbuf_get_bytes(sb, config[i], 256);
		levels[i] = sbuf_get_bool(sb);
		if (sb->error)
			return -1;
		const struct pci_dev *d = bus->devs[devfns[i]];
		if (seen[devfns[i]]) {
			sbuf_fail(sb, "pci: function %02x.%u saved twice", PCI_SLOT(devfns[i]),
			          PCI_FUNC(devfns[i]));
			return -1;
		}
		seen[devfns[i]] = true;
		if (!d) {
			sbuf_fail(sb, "pci: saved function %02x.%u is not on this machine",
			          PCI_SLOT(devfns[i]), PCI_FUNC(devfns[i]));
			return -1;
		}
		for (unsigned k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++) {
			if (config[i][fixed[k]] != d->config[fixed[k]]) {
				sbuf_fail(sb, "pci: saved %02x.%u is a different device",
				          PCI_SLOT(devfns[i]), PCI_FUNC(devfns[i]));
				return -1;
			}
		}
	}
	if (!sbuf_close(sb))
		return -1;
	if (addr & ~0x80fffffcu) {
		sbuf_fail(sb, "pci: bad config address 0x%x", addr);
		return -1;
	}
	bus->config_address = addr;
	for (unsigned i = 0; i < n; i++) {
		struct pci_dev *d = bus->devs[devfns[i]];

		memcpy(d->config, config[i], 256);
		d->irq_level = levels[i];
		bars_update(d);
		update_intx(d);
	}
	return 0;
}
