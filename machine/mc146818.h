/*
 * The Motorola MC146818A real-time clock and its 128 bytes of CMOS RAM, at
 * the PC's index/data ports 0x70/0x71. Bit 7 of the index written to 0x70
 * is the NMI mask on a PC; the board reads it with mc146818_nmi_masked().
 *
 * The clock starts from the host's wall time (UTC, or local time) and then
 * follows machine time, so a paused machine's clock stands still. The
 * 32.768 kHz divider chain is modelled by its phase in machine time:
 * updates happen once a second of it, periodic interrupts at the rate in
 * register A. UIP reads 1 during the 244 us before each update; the time
 * registers change at the update, which sets UF and checks the alarm
 * (DSE applies the chip's own US daylight-saving rule).
 * Everything is computed lazily from the clock on access; a timer runs
 * only when an enabled interrupt source is armed and IRQF is clear, so a
 * guest that does not read register C gets no more timer work.
 *
 * CMOS layout owned by the board (mc146818_set_cmos): 0x10 floppy types,
 * 0x14 equipment, 0x15-0x16 base memory KiB, 0x17-0x18 and 0x30-0x31
 * extended memory KiB (1-16 MiB), 0x34-0x35 memory above 16 MiB in 64 KiB,
 * 0x5b-0x5d memory above 4 GiB, 0x32 century (BCD) and the checksum.
 */
#ifndef MACHINE_MC146818_H
#define MACHINE_MC146818_H

#include <stdbool.h>
#include <stdint.h>

#include "machine/bus.h"
#include "machine/clock.h"

struct iobus;
struct sbuf;

#define MC146818_NVRAM 128

enum {
	RTC_SEC = 0x00, RTC_SEC_ALARM = 0x01, RTC_MIN = 0x02, RTC_MIN_ALARM = 0x03,
	RTC_HOUR = 0x04, RTC_HOUR_ALARM = 0x05, RTC_DOW = 0x06, RTC_DAY = 0x07,
	RTC_MONTH = 0x08, RTC_YEAR = 0x09,
	RTC_REG_A = 0x0a, RTC_REG_B = 0x0b, RTC_REG_C = 0x0c, RTC_REG_D = 0x0d,
	RTC_CENTURY = 0x32,
};

/* Register bits. */
#define RTC_A_UIP   0x80
#define RTC_A_DV    0x70
#define RTC_A_RS    0x0f
#define RTC_B_SET   0x80
#define RTC_B_PIE   0x40
#define RTC_B_AIE   0x20
#define RTC_B_UIE   0x10
#define RTC_B_SQWE  0x08
#define RTC_B_DM    0x04    /* 1 = binary, 0 = BCD */
#define RTC_B_24H   0x02
#define RTC_B_DSE   0x01
#define RTC_C_IRQF  0x80
#define RTC_C_PF    0x40
#define RTC_C_AF    0x20
#define RTC_C_UF    0x10
#define RTC_D_VRT   0x80

#define RTC_UIP_NS  244000u     /* UIP is set this long before each update */

struct mc146818 {
	uint8_t cmos[MC146818_NVRAM];   /* time, registers A-D (flags in C) and NVRAM */
	uint8_t index;                  /* last index written to 0x70, bit 7 included */
	bool running;                   /* divider at 010: updates and periodic run */
	uint32_t phase_ns;              /* updates happen at phase_ns + k seconds of machine time */
	uint64_t synced_ns;             /* flags and time are current up to here */
	bool dse_fell_back;             /* DSE: this October night's 1 AM hour was repeated */
	struct clock *clk;
	struct irq_line irq;
	bool irq_level;
	struct timer timer;
};

struct mc146818_config {
	bool localtime;         /* start from host local time, else UTC */
	bool fixed_time;        /* start at `start_time` instead of the host clock */
	int64_t start_time;     /* seconds since 1970 (interpreted as UTC) */
};

/* Maps 0x70-0x71; -1 if a port is taken. cfg may be NULL (UTC now). */
int mc146818_init(struct mc146818 *rtc, struct iobus *io, struct clock *clk,
                  struct irq_line irq, const struct mc146818_config *cfg);
/* The RESET pin: clears PIE, AIE, UIE, SQWE and the flags; time and RAM stay. */
void mc146818_reset(struct mc146818 *rtc);

/* Board access to CMOS RAM and the time registers (no side effects; 0-127, not A-D). */
void mc146818_set_cmos(struct mc146818 *rtc, unsigned index, uint8_t value);
uint8_t mc146818_get_cmos(const struct mc146818 *rtc, unsigned index);
/* Sets the clock to `unix_seconds` (UTC) in the current format; the next update is 1 s away. */
void mc146818_set_time(struct mc146818 *rtc, int64_t unix_seconds);
/* Port 0x70 bit 7 as last written: NMIs masked. */
bool mc146818_nmi_masked(const struct mc146818 *rtc);

/* The port handlers (0x70-0x71). */
uint32_t mc146818_io_read(void *rtc, uint32_t port, unsigned size);
void mc146818_io_write(void *rtc, uint32_t port, uint32_t value, unsigned size);

/*
 * Section "mc146818". Load refuses bad input (sb->why) and keeps the old
 * state; restore the clock (clock_set) before loading.
 */
void mc146818_save(const struct mc146818 *rtc, struct sbuf *sb);
int mc146818_load(struct mc146818 *rtc, struct sbuf *sb);

#endif
