/*
 * Test ports other emulators provide, so existing guest test suites run
 * unchanged:
 *   0xF4         QEMU isa-debug-exit: writing v ends the machine with exit
 *                status (v << 1) | 1 (only when enabled: a normal guest
 *                must not be able to kill its VM through a stray write)
 *   0x80, 0x190  POST code ports: the last code is kept and logged (debug)
 *   0xE9         Bochs debug console: bytes go to a file or the debug log;
 *                reading it returns 0xE9 so a guest can detect it
 *   0x402        the same console where SeaBIOS writes its messages
 */
#ifndef MACHINE_TESTDEV_H
#define MACHINE_TESTDEV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "machine/bus.h"

#define TESTDEV_EXIT_PORT 0xf4
#define TESTDEV_POST_PORT 0x80
#define TESTDEV_POST_PORT2 0x190
#define TESTDEV_E9_PORT 0xe9
#define TESTDEV_SEABIOS_PORT 0x402

struct testdev_board_ops {
	/* isa-debug-exit was written: stop the machine with this exit status. */
	void (*exit)(void *opaque, int status);
	void *opaque;
};

struct testdev {
	struct testdev_board_ops board;
	bool debug_exit;        /* port 0xF4 enabled */
	FILE *e9_out;           /* NULL: lines to the log */
	char e9_line[256];      /* pending log line */
	unsigned e9_len;
	uint64_t e9_bytes;
	uint8_t post_code;      /* last POST code written */
	uint64_t post_writes;
};

/* Claims the ports (0xF4 only when debug_exit). */
int testdev_init(struct testdev *t, struct iobus *io, bool debug_exit, FILE *e9_out,
                 const struct testdev_board_ops *board);
/* Flushes a partial 0xE9 line to the log. */
void testdev_flush(struct testdev *t);

#endif
