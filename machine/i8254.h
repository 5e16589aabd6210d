/*
 * The Intel 8254 programmable interval timer at ports 0x40-0x43, and the
 * PC's port 0x61 (system control port B) through which software drives
 * channel 2's gate and reads its output.
 *
 * Counters are not ticked: every channel remembers when its counting
 * element was loaded (in 1.193182 MHz PIT clocks of machine time) and
 * derives its value and OUT level from the clock on demand. Channel 0's
 * OUT drives IRQ0 through a timer armed for its next rising edge (the line
 * takes OUT0's level at each rise and on reprogramming); in the periodic
 * modes the timer is never armed closer than 20 us, so a tiny count cannot
 * flood the host.
 *
 * Lost ticks (the host process was descheduled, so the timer fired late):
 * one edge is delivered at once and the others become a backlog that is
 * re-injected later, as KVM's PIT "reinject" and QEMU's lost_tick_policy=
 * delay do, so that a guest counting ticks (Linux's jiffies) stays right.
 * A re-injected edge comes at least 100 us after the previous
 * edge and only when the interrupt controller can take it (the sink probe:
 * IRQ0 not still requested and not masked: Linux masks it at the PIC
 * while its handler runs); IRQ0 still masked when the next period ends
 * drops the backlog (the guest did not want those ticks). The
 * backlog holds at most one second of periods; the excess is dropped and
 * counted. Rates above 5 kHz are not re-injected (their periods are shorter
 * than the pacing); reprogramming channel 0 drops the backlog. A count written in the current PIT clock already reads back
 * (no ISA read is faster than a clock). Channel 1 is the legacy DRAM
 * refresh counter (gate high, output unconnected); port 0x61 bit 4 is the
 * refresh-request toggle, flipping every 15.085 us of machine time.
 * Gates 0 and 1 are tied high as on a PC.
 */
#ifndef MACHINE_I8254_H
#define MACHINE_I8254_H

#include <stdbool.h>
#include <stdint.h>

#include "machine/bus.h"
#include "machine/clock.h"

struct iobus;
struct sbuf;

#define I8254_HZ 1193182u
#define I8254_REFRESH_NS 15085u     /* port 0x61 bit 4 half-period */

struct i8254_channel {
	/* Programming (control word). */
	uint8_t mode;           /* 0-7 as programmed (6 and 7 act as 2 and 3) */
	uint8_t rw;             /* 1 LSB only, 2 MSB only, 3 LSB then MSB */
	bool bcd;
	bool programmed;        /* a control word was written since reset */

	/* Count register, as written by software. */
	uint16_t cr;
	bool cr_msb_next;       /* rw 3: the next write is the MSB */
	bool null_count;        /* CR written but not yet moved into the CE */

	/* Counting element, derived from time. */
	bool loaded;            /* the CE holds a count of this programming */
	bool counting;          /* the CE advances with the clock */
	bool load_pending;      /* CR -> CE at PIT tick load_tick */
	bool load_low_half;     /* mode 3: that load starts in the low half */
	uint64_t load_tick;
	bool cr_valid;          /* a complete count was written since the control word */
	uint32_t n;             /* the count of the current cycle, 1..65536 */
	uint32_t start;         /* CE at base_tick: ticks to terminal count (1..65536), or
	                         * once tc_done, the CE value itself */
	uint64_t base_tick;     /* PIT tick at which the CE held `start` */
	uint32_t phase;         /* mode 3: ticks into the cycle at base_tick */
	bool tc_done;           /* modes 0,1,4,5: terminal count already passed */
	bool out_idle;          /* OUT while the CE is not counting */
	bool gate;

	/* Read side. */
	bool count_latched;     /* counter latch / read-back latched a value */
	uint16_t latch;         /* the latched (or about to be read) value */
	uint8_t latch_bytes;    /* bytes of the latch still to read (rw 3: 2) */
	bool status_latched;
	uint8_t status;
	bool read_msb_next;     /* rw 3, unlatched: the next read is the MSB */
};

/* Whether the interrupt controller can take a new IRQ0 edge now. */
enum i8254_sink {
	I8254_SINK_READY,       /* an edge now becomes a new request */
	I8254_SINK_BUSY,        /* the previous edge is still requested: a new one would merge */
	I8254_SINK_MASKED,      /* IRQ0 is masked */
};

/* Tick accounting, for the log and tests (not saved). */
struct i8254_stats {
	uint64_t edges;         /* IRQ0 rising edges delivered on schedule */
	uint64_t missed;        /* periods that passed while the host ran late */
	uint64_t reinjected;    /* missed periods delivered later */
	uint64_t dropped;       /* missed periods given up (backlog full, masked, reprogrammed) */
};

struct i8254 {
	struct i8254_channel ch[3];
	uint8_t port61;         /* bits 0-3 as written: gate2, speaker, parity/iochk enables */
	struct clock *clk;
	struct irq_line irq0;
	bool irq0_level;        /* last level put on IRQ0 */
	uint64_t irq0_tick;     /* PIT tick at which IRQ0 was last brought up to date */
	struct timer irq0_timer;
	uint32_t irq0_backlog;  /* missed periods still to deliver */
	uint64_t irq0_last_ns;  /* machine ns of the last edge delivered */
	enum i8254_sink (*irq0_sink)(void *opaque);     /* NULL: always ready */
	void *irq0_sink_opaque;
	struct i8254_stats stats;
};

/* Maps 0x40-0x43 and 0x61; -1 if a port is taken. */
int i8254_init(struct i8254 *pit, struct iobus *io, struct clock *clk, struct irq_line irq0);
/* Power-on: no channel programmed, all OUTs low, IRQ0 quiet. */
void i8254_reset(struct i8254 *pit);

/* The port handlers (0x40-0x43 and 0x61), for a board that dispatches itself. */
uint32_t i8254_io_read(void *pit, uint32_t port, unsigned size);
void i8254_io_write(void *pit, uint32_t port, uint32_t value, unsigned size);

/* Sets the probe that says whether IRQ0's interrupt controller can take an edge. */
void i8254_set_irq0_sink(struct i8254 *pit, enum i8254_sink (*probe)(void *opaque), void *opaque);

/* A channel's OUT level now (channel 2 is what port 0x61 bit 5 shows). */
bool i8254_out(struct i8254 *pit, unsigned channel);
/* Whether the speaker is sounding: gate 2 and port 0x61 bit 1 and OUT2. */
bool i8254_speaker(struct i8254 *pit);
/* When IRQ0 may next change (machine ns), CLOCK_NEVER if it will not. */
uint64_t i8254_next_irq0_ns(const struct i8254 *pit);

/* PIT clock conversions: ticks elapsed at machine time ns, and back. */
uint64_t i8254_ns_to_ticks(uint64_t ns);
uint64_t i8254_ticks_to_ns(uint64_t ticks);  /* the first ns at which `ticks` have passed */

/* Section "i8254". Load refuses bad input (sb->why) and keeps the old state. */
void i8254_save(const struct i8254 *pit, struct sbuf *sb);
int i8254_load(struct i8254 *pit, struct sbuf *sb);

#endif
