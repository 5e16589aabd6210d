/*
 * Port I/O and MMIO dispatch, and interrupt lines: the plumbing every
 * device plugs into. A device registers handlers for its ports or its
 * physical address range with its own state pointer, and is handed
 * struct irq_line values for the interrupt inputs it drives.
 */
#ifndef MACHINE_BUS_H
#define MACHINE_BUS_H

#include <stdbool.h>
#include <stdint.h>

/* `addr` is the port number or the offset into the registered MMIO range. */
struct io_ops {
	uint32_t (*read)(void *dev, uint32_t addr, unsigned size);
	void (*write)(void *dev, uint32_t addr, uint32_t value, unsigned size);
};

#define IOBUS_MAX_HANDLERS 128
#define MMIO_MAX_RANGES 32

struct io_handler {
	const struct io_ops *ops;
	void *dev;
	const char *name;
	uint32_t base;          /* ports: handlers see the absolute port number */
};

struct iobus {
	struct io_handler handlers[IOBUS_MAX_HANDLERS];
	uint32_t slot_ports[IOBUS_MAX_HANDLERS];  /* ports pointing at each slot; 0 = free */
	unsigned nhandlers;         /* slots ever used */
	uint8_t port_map[65536];    /* index+1 into handlers, 0 = unclaimed */
	unsigned long unclaimed;    /* accesses to ports nobody claimed */
};

struct mmio_range {
	uint32_t base, size;
	struct io_handler h;        /* handlers see offsets from base */
};

struct mmiobus {
	struct mmio_range ranges[MMIO_MAX_RANGES];
	unsigned nranges;
};

void iobus_init(struct iobus *bus);
/* Claims ports [base, base+count); fails if any is taken. */
int iobus_map(struct iobus *bus, uint16_t base, uint32_t count,
              const struct io_ops *ops, void *dev, const char *name);
void iobus_unmap(struct iobus *bus, uint16_t base, uint32_t count);
/* Unclaimed ports read as all ones and ignore writes, as on a real ISA bus. */
uint32_t iobus_read(struct iobus *bus, uint16_t port, unsigned size);
void iobus_write(struct iobus *bus, uint16_t port, uint32_t value, unsigned size);

void mmiobus_init(struct mmiobus *bus);
int mmiobus_map(struct mmiobus *bus, uint32_t base, uint32_t size,
                const struct io_ops *ops, void *dev, const char *name);
void mmiobus_unmap(struct mmiobus *bus, uint32_t base);
/* The range holding paddr, or NULL. */
const struct mmio_range *mmiobus_find(const struct mmiobus *bus, uint32_t paddr);
uint32_t mmiobus_read(struct mmiobus *bus, uint32_t paddr, unsigned size);
void mmiobus_write(struct mmiobus *bus, uint32_t paddr, uint32_t value, unsigned size);

/*
 * An interrupt line from a device to a controller input. Devices call
 * irq_set() with the new level; edge-triggered inputs see 0->1 transitions.
 */
struct irq_line {
	void (*set)(void *ctrl, unsigned pin, bool level);
	void *ctrl;
	unsigned pin;
};

static inline void irq_set(const struct irq_line *l, bool level)
{
	if (l->set)
		l->set(l->ctrl, l->pin, level);
}
static inline void irq_raise(const struct irq_line *l) { irq_set(l, true); }
static inline void irq_lower(const struct irq_line *l) { irq_set(l, false); }
static inline void irq_pulse(const struct irq_line *l)
{
	irq_set(l, true);
	irq_set(l, false);
}

#endif
