#include "machine/bus.h"

#include <string.h>

static uint32_t ones(unsigned size)
{
	return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

void iobus_init(struct iobus *bus)
{
	memset(bus, 0, sizeof(*bus));
}

int iobus_map(struct iobus *bus, uint16_t base, uint32_t count,
              const struct io_ops *ops, void *dev, const char *name)
{
	unsigned slot;

	if (count == 0 || base + count > 65536)
		return -1;
	for (uint32_t p = base; p < base + count; p++)
		if (bus->port_map[p])
			return -1;
	/*
	 * Reuse a slot whose ports were all unmapped: guests toggle PCI
	 * decoding at will (BAR sizing does), so slots must not run out.
	 */
	for (slot = 0; slot < bus->nhandlers && bus->slot_ports[slot]; slot++)
		;
	if (slot == bus->nhandlers) {
		if (bus->nhandlers >= IOBUS_MAX_HANDLERS)
			return -1;
		bus->nhandlers++;
	}
	bus->handlers[slot] = (struct io_handler){ .ops = ops, .dev = dev, .name = name, .base = base };
	bus->slot_ports[slot] = count;
	for (uint32_t p = base; p < base + count; p++)
		bus->port_map[p] = (uint8_t)(slot + 1);
	return 0;
}

void iobus_unmap(struct iobus *bus, uint16_t base, uint32_t count)
{
	for (uint32_t p = base; p < base + count && p < 65536; p++) {
		unsigned i = bus->port_map[p];

		if (i) {
			bus->slot_ports[i - 1]--;
			bus->port_map[p] = 0;
		}
	}
}

uint32_t iobus_read(struct iobus *bus, uint16_t port, unsigned size)
{
	unsigned i = bus->port_map[port];
	const struct io_handler *h;

	if (!i) {
		bus->unclaimed++;
		return ones(size);
	}
	h = &bus->handlers[i - 1];
	return h->ops->read ? h->ops->read(h->dev, port, size) & ones(size) : ones(size);
}

void iobus_write(struct iobus *bus, uint16_t port, uint32_t value, unsigned size)
{
	unsigned i = bus->port_map[port];
	const struct io_handler *h;

	if (!i) {
		bus->unclaimed++;
		return;
	}
	h = &bus->handlers[i - 1];
	if (h->ops->write)
		h->ops->write(h->dev, port, value & ones(size), size);
}

void mmiobus_init(struct mmiobus *bus)
{
	memset(bus, 0, sizeof(*bus));
}

int mmiobus_map(struct mmiobus *bus, uint32_t base, uint32_t size,
                const struct io_ops *ops, void *dev, const char *name)
{
	if (size == 0 || (uint64_t)base + size > 0x100000000ull || bus->nranges >= MMIO_MAX_RANGES)
		return -1;
	for (unsigned i = 0; i < bus->nranges; i++) {
		const struct mmio_range *r = &bus->ranges[i];
		if (base < r->base + (uint64_t)r->size && r->base < base + (uint64_t)size)
			return -1;
	}
	bus->ranges[bus->nranges++] = (struct mmio_range){
		.base = base, .size = size,
		.h = { .ops = ops, .dev = dev, .name = name, .base = base },
	};
	return 0;
}

void mmiobus_unmap(struct mmiobus *bus, uint32_t base)
{
	for (unsigned i = 0; i < bus->nranges; i++) {
		if (bus->ranges[i].base == base) {
			bus->ranges[i] = bus->ranges[--bus->nranges];
			return;
		}
	}
}

const struct mmio_range *mmiobus_find(const struct mmiobus *bus, uint32_t paddr)
{
	for (unsigned i = 0; i < bus->nranges; i++) {
		const struct mmio_range *r = &bus->ranges[i];
		if (paddr - r->base < r->size)
			return r;
	}
	return NULL;
}

uint32_t mmiobus_read(struct mmiobus *bus, uint32_t paddr, unsigned size)
{
	const struct mmio_range *r = mmiobus_find(bus, paddr);

	if (!r || !r->h.ops->read)
		return ones(size);
	return r->h.ops->read(r->h.dev, paddr - r->base, size) & ones(size);
}

void mmiobus_write(struct mmiobus *bus, uint32_t paddr, uint32_t value, unsigned size)
{
	const struct mmio_range *r = mmiobus_find(bus, paddr);

	if (r && r->h.ops->write)
		r->h.ops->write(r->h.dev, paddr - r->base, value & ones(size), size);
}
