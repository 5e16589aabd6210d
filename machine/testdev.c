#include "machine/testdev.h"

#include <string.h>

#include "lib/log.h"

static void e9_byte(struct testdev *t, uint8_t c)
{
	t->e9_bytes++;
	if (t->e9_out) {
		/* A full disk or closed pipe must not stop the guest: drop silently. */
		if (fputc(c, t->e9_out) != EOF && c == '\n')
			fflush(t->e9_out);
		return;
	}
	if (c == '\r')
		return;
	if (c == '\n' || t->e9_len == sizeof(t->e9_line) - 1) {
		testdev_flush(t);
		if (c == '\n')
			return;
	}
	t->e9_line[t->e9_len++] = (char)c;
}

void testdev_flush(struct testdev *t)
{
	if (t->e9_out) {
		fflush(t->e9_out);
		return;
	}
	if (!t->e9_len)
		return;
	t->e9_line[t->e9_len] = '\0';
	/* Guest text: print it as data, never as a format. */
	for (unsigned i = 0; i < t->e9_len; i++)
		if ((unsigned char)t->e9_line[i] < 0x20 && t->e9_line[i] != '\t')
			t->e9_line[i] = '.';
	/* Guest-controlled volume: only when asked for (-v), never a blocking flood. */
	log_debug("guest debug console: %s", t->e9_line);
	t->e9_len = 0;
}

static uint32_t testdev_read(void *dev, uint32_t port, unsigned size)
{
	struct testdev *t = dev;

	switch (port) {
	case TESTDEV_E9_PORT:
	case TESTDEV_SEABIOS_PORT:
		return 0xe9;
	case TESTDEV_POST_PORT:
	case TESTDEV_POST_PORT2:
		return t->post_code;
	default:
		return 0xffffffffu;
	}
}

static void testdev_write(void *dev, uint32_t port, uint32_t value, unsigned size)
{
	struct testdev *t = dev;

	switch (port) {
	case TESTDEV_EXIT_PORT:
		if (t->debug_exit && t->board.exit)
			t->board.exit(t->board.opaque, (int)(((value & 0xff) << 1) | 1));
		break;
	case TESTDEV_E9_PORT:
	case TESTDEV_SEABIOS_PORT:
		e9_byte(t, (uint8_t)value);
		break;
	case TESTDEV_POST_PORT:
	case TESTDEV_POST_PORT2:
		t->post_code = (uint8_t)value;
		t->post_writes++;
		/* Linux writes 0x80 as an I/O delay thousands of times: debug only. */
		log_debug("POST code 0x%02x (port 0x%x)", value & 0xff, port);
		break;
	}
}

static const struct io_ops testdev_ops = { .read = testdev_read, .write = testdev_write };

int testdev_init(struct testdev *t, struct iobus *io, bool debug_exit, FILE *e9_out,
                 const struct testdev_board_ops *board)
{
	memset(t, 0, sizeof(*t));
	t->debug_exit = debug_exit;
	t->e9_out = e9_out;
	if (board)
		t->board = *board;
	if (iobus_map(io, TESTDEV_POST_PORT, 1, &testdev_ops, t, "post") != 0 ||
	    iobus_map(io, TESTDEV_POST_PORT2, 1, &testdev_ops, t, "post2") != 0 ||
	    iobus_map(io, TESTDEV_E9_PORT, 1, &testdev_ops, t, "debugcon") != 0 ||
	    iobus_map(io, TESTDEV_SEABIOS_PORT, 1, &testdev_ops, t, "debugcon2") != 0)
		return -1;
	if (debug_exit && iobus_map(io, TESTDEV_EXIT_PORT, 1, &testdev_ops, t, "debug-exit") != 0)
		return -1;
	return 0;
}
