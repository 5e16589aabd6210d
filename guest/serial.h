/*
 * COM1's host side: bytes between the 16550 and stdio, an inherited fd,
 * or a Unix socket the process listens on. Never blocks the loop: fds are
 * non-blocking, input is read only while the UART has room, and output
 * waits in a bounded ring that drops its oldest bytes (counted) when the
 * reader falls behind, rather than stalling the guest.
 */
#ifndef GUEST_SERIAL_H
#define GUEST_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine/ns16550.h"

struct event_base;
struct serial;

#define SERIAL_OUT_MAX (256u << 10)

/* spec: "stdio", "fd:N" or "unix:PATH". */
struct serial *serial_new(struct event_base *base, const char *spec, char *err, size_t errlen);
/* The backend to give the UART (valid as long as the serial exists). */
struct ns16550_backend serial_backend(struct serial *s);
/* Connects the UART once the board exists; `wake` is called when input arrived. */
void serial_attach(struct serial *s, struct ns16550 *uart, void (*wake)(void *), void *opaque);
/* Starts writing what the guest sent (the loop calls it after each CPU slice). */
void serial_push(struct serial *s);
/* Writes what is buffered, waiting at most timeout_ms (at exit). */
void serial_flush(struct serial *s, int timeout_ms);
uint64_t serial_dropped(const struct serial *s);
void serial_free(struct serial *s);

#endif
