/*
 * A National Semiconductor PC16550D UART (16550A class): 16-byte transmit
 * and receive FIFOs, the four interrupt sources in IIR priority order
 * (line status, received data / character timeout, THR empty, modem
 * status), the divisor latch, loopback and the scratch register. One
 * struct per port; the board picks the base (COM1 0x3F8/IRQ4, COM2
 * 0x2F8/IRQ3) and the IRQ line.
 *
 * The backend: transmitted bytes go out at once through tx() (the
 * transmitter is never slower than the guest), received bytes come in
 * through ns16550_receive(), which takes only what fits in the receive
 * FIFO, so a caller that waits for ns16550_can_receive() loses nothing.
 * While a backend is connected the modem inputs read CTS, DSR and DCD.
 *
 * As on a PC, MCR.OUT2 gates the interrupt output onto the IRQ line (the
 * OUT2 pin is inactive in loopback, so loopback interrupts show in IIR but
 * do not reach the line).
 */
#ifndef MACHINE_NS16550_H
#define MACHINE_NS16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine/bus.h"
#include "machine/clock.h"

struct iobus;
struct sbuf;

#define NS16550_FIFO 16
#define NS16550_CLOCK_HZ 1843200u   /* the PC's UART crystal: divisor 1 = 115200 baud */

/* Register offsets from the base port. */
enum { UART_RBR = 0, UART_THR = 0, UART_DLL = 0, UART_IER = 1, UART_DLM = 1,
       UART_IIR = 2, UART_FCR = 2, UART_LCR = 3, UART_MCR = 4, UART_LSR = 5,
       UART_MSR = 6, UART_SCR = 7 };

#define UART_IER_RDI   0x01
#define UART_IER_THRI  0x02
#define UART_IER_RLSI  0x04
#define UART_IER_MSI   0x08
#define UART_IIR_NONE  0x01
#define UART_IIR_MSI   0x00
#define UART_IIR_THRI  0x02
#define UART_IIR_RDI   0x04
#define UART_IIR_RLSI  0x06
#define UART_IIR_TOI   0x0c
#define UART_IIR_FIFO  0xc0
#define UART_FCR_ENABLE  0x01
#define UART_FCR_CLR_RX  0x02
#define UART_FCR_CLR_TX  0x04
#define UART_FCR_DMA     0x08
#define UART_FCR_TRIGGER 0xc0
#define UART_LCR_SBC   0x40     /* set break */
#define UART_LCR_DLAB  0x80
#define UART_MCR_DTR   0x01
#define UART_MCR_RTS   0x02
#define UART_MCR_OUT1  0x04
#define UART_MCR_OUT2  0x08
#define UART_MCR_LOOP  0x10
#define UART_LSR_DR    0x01
#define UART_LSR_OE    0x02
#define UART_LSR_PE    0x04
#define UART_LSR_FE    0x08
#define UART_LSR_BI    0x10
#define UART_LSR_THRE  0x20
#define UART_LSR_TEMT  0x40
#define UART_LSR_FIFOE 0x80
#define UART_MSR_DCTS  0x01
#define UART_MSR_DDSR  0x02
#define UART_MSR_TERI  0x04
#define UART_MSR_DDCD  0x08
#define UART_MSR_CTS   0x10
#define UART_MSR_DSR   0x20
#define UART_MSR_RI    0x40
#define UART_MSR_DCD   0x80

struct ns16550_backend {
	void (*tx)(void *opaque, const uint8_t *buf, size_t len);
	/* Optional: ns16550_can_receive() became non-zero after being 0
	 * (the guest read a full FIFO, left loopback, reset the port...). */
	void (*rx_space)(void *opaque);
	void *opaque;
};

struct ns16550 {
	uint16_t base;
	uint8_t ier, lcr, mcr, scr, fcr;
	uint16_t divisor;
	uint8_t lsr_errors;         /* OE/PE/FE/BI latched until LSR is read */
	uint8_t msr;                /* inputs in bits 4-7, deltas in bits 0-3 */

	uint8_t rx[NS16550_FIFO];   /* ring: data */
	uint8_t rx_err[NS16550_FIFO]; /* per-byte PE/FE/BI, shown when it reaches the top */
	uint8_t rx_head, rx_count;
	bool thre_pending;          /* THR-empty interrupt armed, cleared by IIR read or THR write */
	bool timeout_pending;       /* character timeout interrupt */
	bool connected;             /* a backend is attached: CTS/DSR/DCD asserted */

	struct ns16550_backend be;
	struct clock *clk;
	struct irq_line irq;
	bool irq_level;
	struct timer timeout_timer;
};

/* Maps base..base+7; -1 if a port is taken. */
int ns16550_init(struct ns16550 *uart, struct iobus *io, struct clock *clk, uint16_t base,
                 struct irq_line irq, const struct ns16550_backend *be);
/* Master reset: registers to their datasheet reset values, FIFOs empty. */
void ns16550_reset(struct ns16550 *uart);

/* Bytes the receive FIFO can take now (0 when the guest has not read enough). */
size_t ns16550_can_receive(const struct ns16550 *uart);
/* Queues up to len received bytes; returns how many were taken. */
size_t ns16550_receive(struct ns16550 *uart, const uint8_t *buf, size_t len);
/* A backend came or went: CTS, DSR and DCD follow (with their delta bits). */
void ns16550_set_connected(struct ns16550 *uart, bool connected);

/* The port handlers (`port` is absolute). */
uint32_t ns16550_io_read(void *uart, uint32_t port, unsigned size);
void ns16550_io_write(void *uart, uint32_t port, uint32_t value, unsigned size);

/* Section "ns16550". Load refuses bad input (sb->why) and keeps the old state. */
void ns16550_save(const struct ns16550 *uart, struct sbuf *sb);
int ns16550_load(struct ns16550 *uart, struct sbuf *sb);

#endif
