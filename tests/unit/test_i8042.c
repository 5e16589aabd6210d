/* i8042 controller, PS/2 keyboard and mouse: what a driver sees on 0x60/0x64. */
#include <stdlib.h>
#include <string.h>

#include "machine/bus.h"
#include "machine/i8042.h"
#include "tests/unit/devtest.h"
#include "tests/unit/harness.h"

struct rig {
	struct iobus io;
	struct i8042 kbc;
	int irq_level[16];
	int irq_edges[16];
	int resets;
	int a20;        /* last value given, -1 never */
};

static void rig_irq(void *ctrl, unsigned pin, bool level)
{
	struct rig *r = ctrl;

	if (level && !r->irq_level[pin])
		r->irq_edges[pin]++;
	r->irq_level[pin] = level;
}

static void rig_reset(void *opaque)
{
	((struct rig *)opaque)->resets++;
}

static void rig_a20(void *opaque, bool on)
{
	((struct rig *)opaque)->a20 = on;
}

static int rig_init(struct rig *r)
{
	struct i8042_board_ops ops = { .reset = rig_reset, .set_a20 = rig_a20, .opaque = r };

	memset(r, 0, sizeof(*r));
	r->a20 = -1;
	iobus_init(&r->io);
	return i8042_init(&r->kbc, &r->io, (struct irq_line){ rig_irq, r, 1 },
	                  (struct irq_line){ rig_irq, r, 12 }, &ops);
}

static uint8_t status(struct rig *r) { return (uint8_t)iobus_read(&r->io, 0x64, 1); }
static void cmd(struct rig *r, uint8_t c) { iobus_write(&r->io, 0x64, c, 1); }
static void data(struct rig *r, uint8_t d) { iobus_write(&r->io, 0x60, d, 1); }

/* A key pressed and released on the keyboard. */
static void tap(struct rig *r, unsigned key)
{
	ps2_kbd_key(&r->kbc.kbd, key, true);
	ps2_kbd_key(&r->kbc.kbd, key, false);
}

/* Reads one byte if the output buffer is full; -1 if it is empty. */
static int rd(struct rig *r)
{
	if (!(status(r) & I8042_STR_OBF))
		return -1;
	return (int)iobus_read(&r->io, 0x60, 1);
}

/* Reads everything pending into buf; returns the count. */
static unsigned drain(struct rig *r, uint8_t *buf, unsigned max)
{
	unsigned n = 0;
	int b;

	while (n < max && (b = rd(r)) >= 0)
		buf[n++] = (uint8_t)b;
	return n;
}

static void init_state(struct test *t)
{
	struct rig r;

	REQUIRE(t, rig_init(&r) == 0);
	CHECK_EQ(t, r.a20, 1);
	CHECK_EQ(t, status(&r) & (I8042_STR_OBF | I8042_STR_SYS), I8042_STR_SYS);
	cmd(&r, 0x20);
	CHECK_EQ(t, rd(&r), 0x65);
	CHECK_EQ(t, rd(&r), -1);
	/* Ports taken: a second controller on the same bus is refused. */
	struct i8042 other;
	CHECK(t, i8042_init(&other, &r.io, (struct irq_line){ 0 }, (struct irq_line){ 0 }, NULL) < 0);
}

static void controller_commands(struct test *t)
{
	struct rig r;

	REQUIRE(t, rig_init(&r) == 0);
	cmd(&r, 0xaa);
	CHECK(t, status(&r) & I8042_STR_CMD);
	CHECK_EQ(t, rd(&r), 0x55);
	cmd(&r, 0xab);
	CHECK_EQ(t, rd(&r), 0x00);
	cmd(&r, 0xa9);
	CHECK_EQ(t, rd(&r), 0x00);
	/* Command byte round trip, and the SYS flag following it. */
	cmd(&r, 0x60);
	data(&r, 0x03);
	CHECK(t, !(status(&r) & I8042_STR_CMD));
	cmd(&r, 0x20);
	CHECK_EQ(t, rd(&r), 0x03);
	CHECK(t, !(status(&r) & I8042_STR_SYS));
	/* A7/A8, AD/AE flip the disable bits. */
	cmd(&r, 0xa7);
	cmd(&r, 0xad);
	cmd(&r, 0x20);
	CHECK_EQ(t, rd(&r), 0x33);
	cmd(&r, 0xa8);
	cmd(&r, 0xae);
	cmd(&r, 0x20);
	CHECK_EQ(t, rd(&r), 0x03);
	/* Controller RAM beyond byte 0. */
	cmd(&r, 0x65);
	data(&r, 0x5a);
	cmd(&r, 0x25);
	CHECK_EQ(t, rd(&r), 0x5a);
	cmd(&r, 0xc0);
	CHECK_EQ(t, rd(&r) & 0x80, 0x80);
	/* D2 and D3 echo bytes as if from the keyboard / mouse, with IRQs. */
	int e1 = r.irq_edges[1], e12 = r.irq_edges[12];
	cmd(&r, 0xd2);
	data(&r, 0x42);
	CHECK_EQ(t, status(&r) & (I8042_STR_OBF | I8042_STR_AUXDATA), I8042_STR_OBF);
	CHECK_EQ(t, r.irq_edges[1], e1 + 1);
	CHECK_EQ(t, rd(&r), 0x42);
	CHECK_EQ(t, r.irq_level[1], 0);
	cmd(&r, 0xd3);
	data(&r, 0x43);
	CHECK_EQ(t, status(&r) & (I8042_STR_OBF | I8042_STR_AUXDATA),
	         I8042_STR_OBF | I8042_STR_AUXDATA);
	CHECK_EQ(t, r.irq_edges[12], e12 + 1);
	CHECK_EQ(t, rd(&r), 0x43);
}

static void output_port_a20_reset(struct test *t)
{
	struct rig r;

	REQUIRE(t, rig_init(&r) == 0);
	cmd(&r, 0xd0);
	CHECK_EQ(t, rd(&r) & 3, 3);
	cmd(&r, 0xd1);
	data(&r, 0x01);
	CHECK_EQ(t, r.a20, 0);
	cmd(&r, 0xd0);
	CHECK_EQ(t, rd(&r) & 3, 1);
	cmd(&r, 0xdf);
	CHECK_EQ(t, r.a20, 1);
	cmd(&r, 0xdd);
	CHECK_EQ(t, r.a20, 0);
	CHECK_EQ(t, r.resets, 0);
	cmd(&r, 0xff);          /* pulses nothing */
	CHECK_EQ(t, r.resets, 0);
	cmd(&r, 0xfe);
	CHECK_EQ(t, r.resets, 1);
	cmd(&r, 0xd1);
	data(&r, 0x02);         /* reset line low through the output port */
	CHECK_EQ(t, r.resets, 2);
	CHECK_EQ(t, r.a20, 1);
}

static void keyboard_commands(struct test *t)
{
	struct rig r;
	uint8_t b[16];

	REQUIRE(t, rig_init(&r) == 0);
	cmd(&r, 0x60);
	data(&r, 0x01);         /* no translation: raw keyboard bytes */
	data(&r, 0xff);
	REQUIRE(t, drain(&r, b, 16) == 2);
	CHECK_EQ(t, b[0], 0xfa);
	CHECK_EQ(t, b[1], 0xaa);
	data(&r, 0xf2);
	REQUIRE(t, drain(&r, b, 16) == 3);
	CHECK_EQ(t, b[1], 0xab);
	CHECK_EQ(t, b[2], 0x83);
	data(&r, 0xee);
	CHECK_EQ(t, rd(&r), 0xee);
	data(&r, 0xf0);
	CHECK_EQ(t, rd(&r), 0xfa);
	data(&r, 0x00);
	REQUIRE(t, drain(&r, b, 16) == 2);
	CHECK_EQ(t, b[1], 2);
	data(&r, 0xf0);
	data(&r, 0x01);
	CHECK_EQ(t, drain(&r, b, 16), 2);
	CHECK_EQ(t, r.kbc.kbd.scancode_set, 1);
	data(&r, 0xf0);
	data(&r, 0x04);         /* there is no set 4 */
	REQUIRE(t, drain(&r, b, 16) == 2);
	CHECK_EQ(t, b[1], 0xfe);
	CHECK_EQ(t, r.kbc.kbd.scancode_set, 1);
	data(&r, 0xf0);
	data(&r, 0x03);
	CHECK_EQ(t, drain(&r, b, 16), 2);
	data(&r, 0xf0);
	data(&r, 0x00);         /* ACK for F0, ACK for 00, then the set */
	REQUIRE(t, drain(&r, b, 16) == 3);
	CHECK_EQ(t, b[2], 3);
	data(&r, 0xed);
	data(&r, 0x05);
	CHECK_EQ(t, drain(&r, b, 16), 2);
	CHECK_EQ(t, r.kbc.kbd.leds, 5);
	data(&r, 0xf3);
	data(&r, 0x20);
	CHECK_EQ(t, drain(&r, b, 16), 2);
	CHECK_EQ(t, r.kbc.kbd.typematic, 0x20);
	/* Disabled keyboard drops keys; F4 brings it back. */
	data(&r, 0xf5);
	CHECK_EQ(t, rd(&r), 0xfa);
	ps2_kbd_key(&r.kbc.kbd, 0x1e, true);
	CHECK_EQ(t, rd(&r), -1);
	data(&r, 0xf4);
	CHECK_EQ(t, rd(&r), 0xfa);
	CHECK_EQ(t, r.kbc.kbd.scancode_set, 2);   /* F5 restored defaults */
	data(&r, 0xfe);         /* resend */
	CHECK_EQ(t, rd(&r), 0xfa);
	data(&r, 0x12);         /* not a command */
	CHECK_EQ(t, rd(&r), 0xfe);
}

static void keyboard_set2_and_translation(struct test *t)
{
	struct rig r;
	uint8_t b[32];
	unsigned n;

	REQUIRE(t, rig_init(&r) == 0);
	/* Raw set 2: A press/release, right ctrl, keypad enter. */
	cmd(&r, 0x60);
	data(&r, 0x01);
	tap(&r, 0x1e);
	tap(&r, 0xe01d);
	n = drain(&r, b, 32);
	REQUIRE(t, n == 8);
	static const uint8_t raw[] = { 0x1c, 0xf0, 0x1c, 0xe0, 0x14, 0xe0, 0xf0, 0x14 };
	CHECK(t, memcmp(b, raw, 8) == 0);

	/* With translation the guest sees set 1, F0 folded into bit 7. */
	cmd(&r, 0x60);
	data(&r, 0x41);
	tap(&r, 0x1e);
	tap(&r, 0xe048);    /* cursor up */
	ps2_kbd_key(&r.kbc.kbd, 0x41, true);      /* F7: set 2 code 0x83 */
	n = drain(&r, b, 32);
	static const uint8_t xl[] = { 0x1e, 0x9e, 0xe0, 0x48, 0xe0, 0xc8, 0x41 };
	REQUIRE(t, n == sizeof(xl));
	CHECK(t, memcmp(b, xl, n) == 0);

	/* Every set-1 key survives set 2 + translation unchanged. */
	for (unsigned k = 1; k < 0x80; k++) {
		tap(&r, k);
		n = drain(&r, b, 32);
		if (n != 2 || b[0] != k || b[1] != (k | 0x80)) {
			test_fail(t, __FILE__, __LINE__, "key 0x%02x -> %u bytes %02x %02x", k, n,
			          b[0], b[1]);
			break;
		}
	}
	/* Through the translation the set number reads 41 for set 2. */
	data(&r, 0xf0);
	data(&r, 0x00);
	n = drain(&r, b, 32);
	REQUIRE(t, n == 3);
	CHECK_EQ(t, b[2], 0x41);
	/* The translated ID reply is AB 41, as Linux's atkbd expects. */
	data(&r, 0xf2);
	n = drain(&r, b, 32);
	REQUIRE(t, n == 3);
	CHECK_EQ(t, b[1], 0xab);
	CHECK_EQ(t, b[2], 0x41);
}

static void keyboard_special_keys(struct test *t)
{
	struct rig r;
	uint8_t b[32];
	unsigned n;

	REQUIRE(t, rig_init(&r) == 0);
	cmd(&r, 0x60);
	data(&r, 0x01);
	tap(&r, PS2_KEY_PAUSE);
	n = drain(&r, b, 32);
	static const uint8_t pause2[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };
	REQUIRE(t, n == sizeof(pause2));
	CHECK(t, memcmp(b, pause2, n) == 0);
	tap(&r, PS2_KEY_PRINT_SCREEN);
	n = drain(&r, b, 32);
	static const uint8_t prt2[] = { 0xe0, 0x12, 0xe0, 0x7c, 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12 };
	REQUIRE(t, n == sizeof(prt2));
	CHECK(t, memcmp(b, prt2, n) == 0);

	/* Set 1 straight from the keyboard. */
	data(&r, 0xf0);
	data(&r, 0x01);
	CHECK_EQ(t, drain(&r, b, 32), 2);
	ps2_kbd_key(&r.kbc.kbd, PS2_KEY_PAUSE, true);
	n = drain(&r, b, 32);
	static const uint8_t pause1[] = { 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 };
	REQUIRE(t, n == sizeof(pause1));
	CHECK(t, memcmp(b, pause1, n) == 0);
	tap(&r, PS2_KEY_PRINT_SCREEN);
	n = drain(&r, b, 32);
	static const uint8_t prt1[] = { 0xe0, 0x2a, 0xe0, 0x37, 0xe0, 0xb7, 0xe0, 0xaa };
	REQUIRE(t, n == sizeof(prt1));
	CHECK(t, memcmp(b, prt1, n) == 0);
	/* Bad key codes are ignored. */
	ps2_kbd_key(&r.kbc.kbd, 0x1234, true);
	ps2_kbd_key(&r.kbc.kbd, 0x9e, true);
	CHECK_EQ(t, rd(&r), -1);
}

static void keyboard_set3(struct test *t)
{
	struct rig r;
	uint8_t b[32];
	unsigned n;

	REQUIRE(t, rig_init(&r) == 0);
	cmd(&r, 0x60);
	data(&r, 0x01);
	data(&r, 0xf0);
	data(&r, 0x03);
	CHECK_EQ(t, drain(&r, b, 32), 2);
	/* Default: make/break, typematic; no prefixes in set 3. */
	ps2_kbd_key(&r.kbc.kbd, 0x1e, true);        /* A */
	ps2_kbd_key(&r.kbc.kbd, 0x1e, true);        /* host auto-repeat */
	ps2_kbd_key(&r.kbc.kbd, 0x1e, false);
	ps2_kbd_key(&r.kbc.kbd, 0xe048, true);      /* Up */
	ps2_kbd_key(&r.kbc.kbd, 0x3b, true);        /* F1 */
	ps2_kbd_key(&r.kbc.kbd, PS2_KEY_PAUSE, true);
	ps2_kbd_key(&r.kbc.kbd, 0x59, true);        /* no set-3 code: nothing */
	n = drain(&r, b, 32);
	static const uint8_t s3[] = { 0x1c, 0x1c, 0xf0, 0x1c, 0x63, 0x07, 0x62 };
	REQUIRE(t, n == sizeof(s3));
	CHECK(t, memcmp(b, s3, n) == 0);
	/* F9: every key make-only; FC then marks A make/break, F8 keys
	 * do not repeat. The key list ends at the next command. */
	/* A host waits for each ACK (F4 empties the keyboard's buffer). */
	static const uint8_t prog[] = { 0xf9, 0xfc, 0x1c, 0xf4 };
	for (unsigned i = 0; i < sizeof(prog); i++) {
		data(&r, prog[i]);
		CHECK_EQ(t, rd(&r), 0xfa);
	}
	ps2_kbd_key(&r.kbc.kbd, 0x1f, true);        /* S: make only, typematic off */
	ps2_kbd_key(&r.kbc.kbd, 0x1f, true);
	ps2_kbd_key(&r.kbc.kbd, 0x1f, false);
	ps2_kbd_key(&r.kbc.kbd, 0x1e, true);
	ps2_kbd_key(&r.kbc.kbd, 0x1e, true);
	ps2_kbd_key(&r.kbc.kbd, 0x1e, false);
	n = drain(&r, b, 32);
	static const uint8_t s3b[] = { 0x1b, 0x1c, 0xf0, 0x1c };
	REQUIRE(t, n == sizeof(s3b));
	CHECK(t, memcmp(b, s3b, n) == 0);
	/* FB: typematic make-only for the listed key. */
	data(&r, 0xfb);
	data(&r, 0x1b);
	data(&r, 0xee);                             /* echo ends the list */
	CHECK_EQ(t, drain(&r, b, 32), 3);
	CHECK_EQ(t, b[2], 0xee);
	ps2_kbd_key(&r.kbc.kbd, 0x1f, true);
	ps2_kbd_key(&r.kbc.kbd, 0x1f, true);
	ps2_kbd_key(&r.kbc.kbd, 0x1f, false);
	n = drain(&r, b, 32);
	REQUIRE(t, n == 2);
	CHECK_EQ(t, b[0], 0x1b);
	CHECK_EQ(t, b[1], 0x1b);
	/* Defaults come back with F6. */
	data(&r, 0xf6);
	CHECK_EQ(t, rd(&r), 0xfa);
	CHECK_EQ(t, r.kbc.kbd.key_type[0x1b], PS2_KEY_BREAK | PS2_KEY_TYPEMATIC);
}

static void keyboard_overrun(struct test *t)
{
	struct rig r;
	uint8_t b[PS2_QUEUE_SIZE + 8];
	unsigned n;

	REQUIRE(t, rig_init(&r) == 0);
	cmd(&r, 0x60);
	data(&r, 0x00);         /* no IRQ, no translation */
	for (unsigned i = 0; i < PS2_QUEUE_SIZE + 5; i++)
		ps2_kbd_key(&r.kbc.kbd, 0x1e, true);
	n = drain(&r, b, sizeof(b));
	/* One byte sits in the output buffer, the queue holds the rest, the
	 * last slot of which reports the overrun (00 in set 2). */
	CHECK_EQ(t, n, PS2_QUEUE_SIZE + 1);
	CHECK_EQ(t, b[n - 1], 0x00);
	CHECK_EQ(t, b[n - 2], 0x1c);
}

static void interface_disable_holds_bytes(struct test *t)
{
	struct rig r;

	REQUIRE(t, rig_init(&r) == 0);
	cmd(&r, 0xad);
	ps2_kbd_key(&r.kbc.kbd, 0x1e, true);
	CHECK_EQ(t, rd(&r), -1);
	int e = r.irq_edges[1];
	cmd(&r, 0xae);
	CHECK_EQ(t, r.irq_edges[1], e + 1);
	CHECK_EQ(t, rd(&r), 0x1e);
}

static void mouse_basic_and_packets(struct test *t)
{
	struct rig r;
	uint8_t b[64];
	unsigned n;

	REQUIRE(t, rig_init(&r) == 0);
	cmd(&r, 0x60);
	data(&r, 0x47);         /* both IRQs, translation, mouse clock on */
	cmd(&r, 0xd4);
	data(&r, 0xff);
	n = drain(&r, b, 64);
	REQUIRE(t, n == 3);
	CHECK_EQ(t, b[0], 0xfa);
	CHECK_EQ(t, b[1], 0xaa);
	CHECK_EQ(t, b[2], 0x00);
	cmd(&r, 0xd4);
	data(&r, 0xf2);
	n = drain(&r, b, 64);
	REQUIRE(t, n == 2);
	CHECK_EQ(t, b[1], 0x00);
	/* Not reporting yet: motion is not sent. */
	ps2_mouse_move(&r.kbc.mouse, 5, 5, 0, 0);
	CHECK_EQ(t, rd(&r), -1);
	cmd(&r, 0xd4);
	data(&r, 0xf4);
	CHECK_EQ(t, rd(&r), 0xfa);
	int e12 = r.irq_edges[12];
	ps2_mouse_move(&r.kbc.mouse, 10, -3, 0, PS2_MOUSE_LEFT);
	CHECK(t, r.irq_edges[12] > e12);
	CHECK(t, status(&r) & I8042_STR_AUXDATA);
	n = drain(&r, b, 64);
	REQUIRE(t, n == 3);
	CHECK_EQ(t, b[0], 0x08 | 0x20 | 0x01);
	CHECK_EQ(t, b[1], 10);
	CHECK_EQ(t, b[2], 0xfd);
	/* A big move is split into packets of at most 9 bits each. */
	ps2_mouse_move(&r.kbc.mouse, 600, 0, 0, 0);
	n = drain(&r, b, 64);
	REQUIRE(t, n == 9);
	int sum = 0;
	for (unsigned i = 0; i < n; i += 3) {
		int dx = b[i + 1] | ((b[i] & 0x10) ? -256 : 0);
		CHECK_EQ(t, b[i] & 0xc0, 0);
		sum += dx;
	}
	CHECK_EQ(t, sum, 600);
	CHECK_EQ(t, b[0] & 7, 0);   /* left released */
	/* Status request: stream, enabled, scaling 1:1, res 2, rate 100. */
	cmd(&r, 0xd4);
	data(&r, 0xe9);
	n = drain(&r, b, 64);
	REQUIRE(t, n == 4);
	CHECK_EQ(t, b[1], 0x20);
	CHECK_EQ(t, b[2], 2);
	CHECK_EQ(t, b[3], 100);
	/* A bad sample rate is an error (FC). */
	cmd(&r, 0xd4);
	data(&r, 0xf3);
	cmd(&r, 0xd4);
	data(&r, 77);
	n = drain(&r, b, 64);
	REQUIRE(t, n == 2);
	CHECK_EQ(t, b[1], 0xfc);
}

static void mouse_send_cmd(struct rig *r, uint8_t c)
{
	cmd(r, 0xd4);
	data(r, c);
}

static void mouse_wheel(struct test *t)
{
	struct rig r;
	uint8_t b[64];
	unsigned n;

	REQUIRE(t, rig_init(&r) == 0);
	cmd(&r, 0x60);
	data(&r, 0x47);
	static const uint8_t knock[] = { 200, 100, 80 };
	for (unsigned i = 0; i < 3; i++) {
		mouse_send_cmd(&r, 0xf3);
		mouse_send_cmd(&r, knock[i]);
	}
	CHECK_EQ(t, drain(&r, b, 64), 6);
	mouse_send_cmd(&r, 0xf2);
	n = drain(&r, b, 64);
	REQUIRE(t, n == 2);
	CHECK_EQ(t, b[1], 3);
	mouse_send_cmd(&r, 0xf4);
	CHECK_EQ(t, rd(&r), 0xfa);
	ps2_mouse_move(&r.kbc.mouse, 1, 2, -1, PS2_MOUSE_MIDDLE | PS2_MOUSE_RIGHT);
	n = drain(&r, b, 64);
	REQUIRE(t, n == 4);
	CHECK_EQ(t, b[0], 0x08 | 0x06);
	CHECK_EQ(t, b[1], 1);
	CHECK_EQ(t, b[2], 2);
	CHECK_EQ(t, b[3], 0xff);
	/* Reset forgets the wheel. */
	mouse_send_cmd(&r, 0xff);
	CHECK_EQ(t, drain(&r, b, 64), 3);
	mouse_send_cmd(&r, 0xf2);
	n = drain(&r, b, 64);
	REQUIRE(t, n == 2);
	CHECK_EQ(t, b[1], 0);
}

static void mouse_remote_scaling_wrap(struct test *t)
{
	struct rig r;
	uint8_t b[64];
	unsigned n;

	REQUIRE(t, rig_init(&r) == 0);
	cmd(&r, 0x60);
	data(&r, 0x47);
	mouse_send_cmd(&r, 0xf0);       /* remote */
	CHECK_EQ(t, rd(&r), 0xfa);
	ps2_mouse_move(&r.kbc.mouse, 300, -2, 0, 0);
	CHECK_EQ(t, rd(&r), -1);        /* nothing until asked */
	mouse_send_cmd(&r, 0xeb);
	n = drain(&r, b, 64);
	REQUIRE(t, n == 4);
	CHECK_EQ(t, b[1] & 0xc0, 0x40); /* X overflow */
	CHECK_EQ(t, b[1] & 0x20, 0x20);
	mouse_send_cmd(&r, 0xeb);       /* counters were reset */
	n = drain(&r, b, 64);
	REQUIRE(t, n == 4);
	CHECK_EQ(t, b[2], 0);
	CHECK_EQ(t, b[3], 0);
	/* Stream with 2:1 scaling: 3 stays 3 (the table), 10 doubles. */
	mouse_send_cmd(&r, 0xea);
	mouse_send_cmd(&r, 0xe7);
	mouse_send_cmd(&r, 0xf4);
	CHECK_EQ(t, drain(&r, b, 64), 3);
	ps2_mouse_move(&r.kbc.mouse, 3, 10, 0, 0);
	n = drain(&r, b, 64);
	REQUIRE(t, n == 3);
	CHECK_EQ(t, b[1], 3);
	CHECK_EQ(t, b[2], 20);
	/* Wrap mode echoes until EC. */
	mouse_send_cmd(&r, 0xee);
	CHECK_EQ(t, rd(&r), 0xfa);
	mouse_send_cmd(&r, 0x12);
	CHECK_EQ(t, rd(&r), 0x12);
	mouse_send_cmd(&r, 0xec);
	CHECK_EQ(t, rd(&r), 0xfa);
	mouse_send_cmd(&r, 0xf2);
	CHECK_EQ(t, drain(&r, b, 64), 2);
}

static void keyboard_and_mouse_interleave(struct test *t)
{
	struct rig r;

	REQUIRE(t, rig_init(&r) == 0);
	cmd(&r, 0x60);
	data(&r, 0x07);         /* no translation */
	mouse_send_cmd(&r, 0xf4);
	CHECK_EQ(t, rd(&r), 0xfa);
	ps2_mouse_move(&r.kbc.mouse, 1, 1, 0, 0);
	ps2_kbd_key(&r.kbc.kbd, 0x1e, true);
	/* Each byte comes with the right AUX flag. */
	unsigned kbd = 0, aux = 0;
	for (int i = 0; i < 8; i++) {
		uint8_t s = status(&r);
		if (!(s & I8042_STR_OBF))
			break;
		if (s & I8042_STR_AUXDATA) {
			aux++;
			CHECK_EQ(t, r.irq_level[12], 1);
		} else {
			kbd++;
			CHECK_EQ(t, iobus_read(&r.io, 0x60, 1), 0x1c);
			continue;
		}
		(void)iobus_read(&r.io, 0x60, 1);
	}
	CHECK_EQ(t, kbd, 1);
	CHECK_EQ(t, aux, 3);
}

/* The controller under the shared save/load checks (devtest.h); ctx is the rig. */
static int load_kbc(void *ctx, struct sbuf *sb)
{
	return i8042_load(&((struct rig *)ctx)->kbc, sb);
}

static int fresh_kbc(void *ctx)
{
	return rig_init(ctx);
}

/* A refused load leaves the fresh controller's command byte. */
static void kbc_untouched(struct test *t, void *ctx)
{
	CHECK_EQ(t, ((struct rig *)ctx)->kbc.ctr, 0x65);
}

static void kbc_drains(struct test *t, void *ctx)
{
	uint8_t b[16];

	(void)drain(ctx, b, sizeof(b));
}

static void save_load(struct test *t)
{
	struct rig r, r2;
	struct devtest_ops ops = { .ctx = &r2, .load = load_kbc, .reset = fresh_kbc,
	                           .check_untouched = kbc_untouched, .exercise = kbc_drains };
	struct sbuf sb, rd_sb;
	uint8_t b[16];

	REQUIRE(t, rig_init(&r) == 0);
	cmd(&r, 0x60);
	data(&r, 0x07);
	mouse_send_cmd(&r, 0xf3);
	mouse_send_cmd(&r, 40);
	mouse_send_cmd(&r, 0xf4);
	ps2_kbd_key(&r.kbc.kbd, 0x1e, true);
	ps2_kbd_key(&r.kbc.kbd, 0x1f, true);
	cmd(&r, 0xd1);          /* half-done controller command */
	sbuf_init(&sb);
	i8042_save(&r.kbc, &sb);
	REQUIRE(t, !sb.error);

	REQUIRE(t, rig_init(&r2) == 0);
	sbuf_init_read(&rd_sb, sb.data, sb.len);
	REQUIRE(t, i8042_load(&r2.kbc, &rd_sb) == 0);
	CHECK_EQ(t, r2.kbc.mouse.sample_rate, 40);
	data(&r2, 0x03);        /* completes D1 */
	CHECK_EQ(t, r2.kbc.outport, 0x03);
	unsigned n1 = drain(&r2, b, 16);
	data(&r, 0x03);
	uint8_t b2[16];
	unsigned n2 = drain(&r, b2, 16);
	CHECK_EQ(t, n1, n2);
	CHECK(t, memcmp(b, b2, n1) == 0);

	/* Truncations are refused, state untouched. */
	devtest_truncations(t, &ops, sb.data, sb.len, 7);
	/* Invert every byte after the keyboard section's name in turn, on one
	 * device: never a crash; a load that succeeds must leave a usable device. */
	size_t kpos = 0;
	for (size_t i = 0; i + 6 < sb.len; i++)
		if (memcmp(sb.data + i, "ps2kbd", 6) == 0)
			kpos = i;
	REQUIRE(t, kpos != 0);
	REQUIRE(t, rig_init(&r2) == 0);
	ops.reset = NULL;
	devtest_invert_bytes(t, &ops, sb.data, sb.len, kpos);
	sbuf_free(&sb);
}

/* Each byte of a multi-byte burst is a new IRQ1 edge: the PIC input is
 * edge triggered and Linux's handler takes one byte per interrupt. */
static void irq_edge_per_byte(struct test *t)
{
	struct rig r;
	uint8_t buf[8];

	REQUIRE(t, rig_init(&r) == 0);
	drain(&r, buf, sizeof(buf));
	r.irq_edges[1] = 0;
	tap(&r, 0x1e);          /* 'a': make and break, two bytes */
	tap(&r, 0x30);          /* 'b' */
	CHECK_EQ(t, r.irq_edges[1], 1);
	CHECK_EQ(t, drain(&r, buf, sizeof(buf)), 4);
	CHECK_EQ(t, r.irq_edges[1], 4);
	CHECK_EQ(t, r.irq_level[1], 0);
}

int main(int argc, char **argv)
{
	struct harness h;

	harness_init(&h, "i8042", argc, argv);
	RUN(&h, init_state);
	RUN(&h, irq_edge_per_byte);
	RUN(&h, controller_commands);
	RUN(&h, output_port_a20_reset);
	RUN(&h, keyboard_commands);
	RUN(&h, keyboard_set2_and_translation);
	RUN(&h, keyboard_special_keys);
	RUN(&h, keyboard_set3);
	RUN(&h, keyboard_overrun);
	RUN(&h, interface_disable_holds_bytes);
	RUN(&h, mouse_basic_and_packets);
	RUN(&h, mouse_wheel);
	RUN(&h, mouse_remote_scaling_wrap);
	RUN(&h, keyboard_and_mouse_interleave);
	RUN(&h, save_load);
	return harness_done(&h);
}
