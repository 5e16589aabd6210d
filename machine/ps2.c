/*
 * PS/2 keyboard and mouse: command interpreters and byte queues.
 * References: IBM PS/2 Keyboard and Auxiliary Device technical reference,
 * Microsoft IntelliMouse PS/2 protocol notes.
 */
#include "machine/ps2.h"

#include <string.h>

#include "lib/log.h"

/* Replies shared by both devices */
#define PS2_ACK      0xfa
#define PS2_RESEND   0xfe
#define PS2_ERROR    0xfc
#define PS2_BAT_OK   0xaa
#define PS2_ECHO     0xee

/* ---- queue ---- */

static unsigned queue_free(const struct ps2_queue *q)
{
	return PS2_QUEUE_SIZE - q->count;
}

static bool queue_put(struct ps2_queue *q, uint8_t b)
{
	if (q->count >= PS2_QUEUE_SIZE)
		return false;
	q->data[(q->head + q->count) % PS2_QUEUE_SIZE] = b;
	q->count++;
	return true;
}

static uint8_t queue_get(struct ps2_queue *q)
{
	uint8_t b;

	if (q->count == 0)
		return 0;
	b = q->data[q->head];
	q->head = (q->head + 1) % PS2_QUEUE_SIZE;
	q->count--;
	return b;
}

static void queue_clear(struct ps2_queue *q)
{
	q->head = 0;
	q->count = 0;
}

static void queue_save(const struct ps2_queue *q, struct sbuf *sb)
{
	sbuf_put_u16(sb, (uint16_t)q->count);
	for (unsigned i = 0; i < q->count; i++)
		sbuf_put_u8(sb, q->data[(q->head + i) % PS2_QUEUE_SIZE]);
}

static int queue_load(struct ps2_queue *q, struct sbuf *sb)
{
	unsigned n = sbuf_get_u16(sb);

	if (n > PS2_QUEUE_SIZE) {
		sbuf_fail(sb, "ps2: queue of %u bytes (max %u)", n, PS2_QUEUE_SIZE);
		return -1;
	}
	queue_clear(q);
	for (unsigned i = 0; i < n; i++)
		q->data[i] = sbuf_get_u8(sb);
	q->count = n;
	return sb->error ? -1 : 0;
}

/* ---- keyboard ---- */

/*
 * Set 1 make code -> set 2 make code for codes 0x00-0x7F. The same table
 * read backwards is the i8042's set 2 -> set 1 translation, so keys with
 * the E0 prefix use it for their second byte too.
 */
static const uint8_t set1_to_set2[128] = {
	0x00, 0x76, 0x16, 0x1e, 0x26, 0x25, 0x2e, 0x36, /* 00 -, Esc, 1-6 */
	0x3d, 0x3e, 0x46, 0x45, 0x4e, 0x55, 0x66, 0x0d, /* 08 7-0, -, =, BS, Tab */
	0x15, 0x1d, 0x24, 0x2d, 0x2c, 0x35, 0x3c, 0x43, /* 10 Q W E R T Y U I */
	0x44, 0x4d, 0x54, 0x5b, 0x5a, 0x14, 0x1c, 0x1b, /* 18 O P [ ] Enter LCtrl A S */
	0x23, 0x2b, 0x34, 0x33, 0x3b, 0x42, 0x4b, 0x4c, /* 20 D F G H J K L ; */
	0x52, 0x0e, 0x12, 0x5d, 0x1a, 0x22, 0x21, 0x2a, /* 28 ' ` LShift \ Z X C V */
	0x32, 0x31, 0x3a, 0x41, 0x49, 0x4a, 0x59, 0x7c, /* 30 B N M , . / RShift KP* */
	0x11, 0x29, 0x58, 0x05, 0x06, 0x04, 0x0c, 0x03, /* 38 LAlt Space Caps F1-F5 */
	0x0b, 0x83, 0x0a, 0x01, 0x09, 0x77, 0x7e, 0x6c, /* 40 F6-F10 Num Scroll KP7 */
	0x75, 0x7d, 0x7b, 0x6b, 0x73, 0x74, 0x79, 0x69, /* 48 KP8 KP9 KP- KP4 KP5 KP6 KP+ KP1 */
	0x72, 0x7a, 0x70, 0x71, 0x84, 0x60, 0x61, 0x78, /* 50 KP2 KP3 KP0 KP. SysRq - 102nd F11 */
	0x07, 0x0f, 0x17, 0x1f, 0x27, 0x2f, 0x37, 0x3f, /* 58 F12, then the rarer keys */
	0x47, 0x4f, 0x56, 0x5e, 0x08, 0x10, 0x18, 0x20, /* 60 */
	0x28, 0x30, 0x38, 0x40, 0x48, 0x50, 0x57, 0x6f, /* 68 */
	0x13, 0x19, 0x39, 0x51, 0x53, 0x5c, 0x5f, 0x62, /* 70 */
	0x63, 0x64, 0x65, 0x67, 0x68, 0x6a, 0x6d, 0x6e, /* 78 */
};

/*
 * Set 1 make code -> set 3 code (IBM PS/2 scan code set 3), 0 where the
 * key has no set-3 code. Keys with the E0 prefix are in set1e0_to_set3.
 */
static const uint8_t set1_to_set3[0x59] = {
	0x00, 0x08, 0x16, 0x1e, 0x26, 0x25, 0x2e, 0x36, /* 00 -, Esc, 1-6 */
	0x3d, 0x3e, 0x46, 0x45, 0x4e, 0x55, 0x66, 0x0d, /* 08 7-0, -, =, BS, Tab */
	0x15, 0x1d, 0x24, 0x2d, 0x2c, 0x35, 0x3c, 0x43, /* 10 Q W E R T Y U I */
	0x44, 0x4d, 0x54, 0x5b, 0x5a, 0x11, 0x1c, 0x1b, /* 18 O P [ ] Enter LCtrl A S */
	0x23, 0x2b, 0x34, 0x33, 0x3b, 0x42, 0x4b, 0x4c, /* 20 D F G H J K L ; */
	0x52, 0x0e, 0x12, 0x5d, 0x1a, 0x22, 0x21, 0x2a, /* 28 ' ` LShift \ Z X C V */
	0x32, 0x31, 0x3a, 0x41, 0x49, 0x4a, 0x59, 0x7e, /* 30 B N M , . / RShift KP* */
	0x19, 0x29, 0x14, 0x07, 0x0f, 0x17, 0x1f, 0x27, /* 38 LAlt Space Caps F1-F5 */
	0x2f, 0x37, 0x3f, 0x47, 0x4f, 0x76, 0x5f, 0x6c, /* 40 F6-F10 Num Scroll KP7 */
	0x75, 0x7d, 0x84, 0x6b, 0x73, 0x74, 0x7c, 0x69, /* 48 KP8 KP9 KP- KP4 KP5 KP6 KP+ KP1 */
	0x72, 0x7a, 0x70, 0x71, 0x57, 0x00, 0x13, 0x56, /* 50 KP2 KP3 KP0 KP. SysRq - 102nd F11 */
	0x5e,                                           /* 58 F12 */
};

static uint8_t set1e0_to_set3(uint8_t code)
{
	switch (code) {
	case 0x1c: return 0x79;     /* keypad Enter */
	case 0x1d: return 0x58;     /* right Ctrl */
	case 0x35: return 0x77;     /* keypad / */
	case 0x37: return 0x57;     /* Print Screen */
	case 0x38: return 0x39;     /* right Alt */
	case 0x47: return 0x6e;     /* Home */
	case 0x48: return 0x63;     /* Up */
	case 0x49: return 0x6f;     /* Page Up */
	case 0x4b: return 0x61;     /* Left */
	case 0x4d: return 0x6a;     /* Right */
	case 0x4f: return 0x65;     /* End */
	case 0x50: return 0x60;     /* Down */
	case 0x51: return 0x6d;     /* Page Down */
	case 0x52: return 0x67;     /* Insert */
	case 0x53: return 0x64;     /* Delete */
	case 0x5b: return 0x8b;     /* left Windows */
	case 0x5c: return 0x8c;     /* right Windows */
	case 0x5d: return 0x8d;     /* Menu */
	default:   return 0;
	}
}

#define SET3_PAUSE 0x62

uint8_t ps2_set2_to_set1(uint8_t code)
{
	if (code == 0x00)
		return 0xff;    /* overrun/error code of set 2 is 0xFF in set 1 */
	/* The 8042's table sends 02 to 41 as well as 83 (F7): the scan code
	 * set numbers 1, 2, 3 read back as 43, 41, 3F when translated. */
	if (code == 0x02)
		return 0x41;
	for (unsigned i = 1; i < 128; i++)
		if (set1_to_set2[i] == code)
			return (uint8_t)i;
	/* Replies (FA, AA, EE, FE), prefixes (E0, E1) and the ID byte AB pass
	 * through unchanged. */
	return code;
}

static void kbd_send(struct ps2_kbd *k, uint8_t b)
{
	/* Keep one slot for the overrun marker so the guest learns of loss. */
	if (queue_free(&k->q) == 1) {
		(void)queue_put(&k->q, k->scancode_set == 1 ? 0xff : 0x00);
		log_debug("ps2 kbd: queue overrun");
	} else if (queue_free(&k->q) > 1) {
		(void)queue_put(&k->q, b);
	} else {
		return;
	}
	k->last_sent = b;
	if (k->notify)
		k->notify(k->opaque);
}

void ps2_kbd_init(struct ps2_kbd *k, void (*notify)(void *opaque), void *opaque)
{
	memset(k, 0, sizeof(*k));
	k->notify = notify;
	k->opaque = opaque;
	ps2_kbd_reset(k);
}

/* Defaults (F6 and part of FF): set 2, typematic 10.9 cps / 500 ms. */
static void kbd_defaults(struct ps2_kbd *k)
{
	k->scancode_set = 2;
	k->typematic = 0x2b;
	k->pending_cmd = 0;
	k->list_cmd = 0;
	/* Set-3 key types differ between keyboard makes; this one starts
	 * with every key typematic make/break (what F6/FA also give). */
	memset(k->key_type, PS2_KEY_BREAK | PS2_KEY_TYPEMATIC, sizeof(k->key_type));
	memset(k->down, 0, sizeof(k->down));
}

void ps2_kbd_reset(struct ps2_kbd *k)
{
	queue_clear(&k->q);
	kbd_defaults(k);
	k->scanning = true;
	k->leds = 0;
	k->last_sent = 0;
}

bool ps2_kbd_has_data(const struct ps2_kbd *k)
{
	return k->q.count > 0;
}

uint8_t ps2_kbd_read(struct ps2_kbd *k)
{
	return queue_get(&k->q);
}

static void kbd_param(struct ps2_kbd *k, uint8_t cmd, uint8_t byte)
{
	switch (cmd) {
	case 0xed: /* set LEDs */
		k->leds = byte & 7;
		kbd_send(k, PS2_ACK);
		break;
	case 0xf3: /* typematic rate/delay: bit 7 must be 0 */
		if (byte & 0x80) {
			kbd_send(k, PS2_RESEND);
			return;
		}
		k->typematic = byte;
		kbd_send(k, PS2_ACK);
		break;
	case 0xf0: /* scan code set: 0 asks, 1 and 2 select */
		if (byte == 0) {
			kbd_send(k, PS2_ACK);
			kbd_send(k, k->scancode_set);
		} else if (byte >= 1 && byte <= 3) {
			k->scancode_set = byte;
			queue_clear(&k->q);
			memset(k->down, 0, sizeof(k->down));
			kbd_send(k, PS2_ACK);
		} else {
			kbd_send(k, PS2_RESEND);
			return;
		}
		break;
	}
	k->pending_cmd = 0;
}

static void set_all_types(struct ps2_kbd *k, uint8_t type)
{
	memset(k->key_type, type, sizeof(k->key_type));
}

void ps2_kbd_write(struct ps2_kbd *k, uint8_t byte)
{
	if (k->list_cmd) {
		/* FB/FC/FD are followed by set-3 key codes until a command. */
		if (byte < 0xed) {
			k->key_type[byte] = k->list_cmd == 0xfb ? PS2_KEY_TYPEMATIC :
			                    k->list_cmd == 0xfc ? PS2_KEY_BREAK : 0;
			kbd_send(k, PS2_ACK);
			return;
		}
		k->list_cmd = 0;
	}
	if (k->pending_cmd) {
		/* A command byte in place of a parameter aborts the wait and
		 * runs as a command, as real keyboards do. */
		if (byte < 0xed) {
			kbd_param(k, k->pending_cmd, byte);
			return;
		}
		k->pending_cmd = 0;
	}
	switch (byte) {
	case 0xed: case 0xf3: case 0xf0:
		k->pending_cmd = byte;
		kbd_send(k, PS2_ACK);
		break;
	case 0xee:
		kbd_send(k, PS2_ECHO);
		break;
	case 0xf2: /* identify: MF2 keyboard */
		kbd_send(k, PS2_ACK);
		kbd_send(k, 0xab);
		kbd_send(k, 0x83);
		break;
	case 0xf4:
		queue_clear(&k->q);
		k->scanning = true;
		kbd_send(k, PS2_ACK);
		break;
	case 0xf5: /* disable and restore defaults */
		queue_clear(&k->q);
		kbd_defaults(k);
		k->scanning = false;
		kbd_send(k, PS2_ACK);
		break;
	case 0xf6: /* restore defaults, keep scanning state */
		queue_clear(&k->q);
		kbd_defaults(k);
		kbd_send(k, PS2_ACK);
		break;
	/* Set-3 key types; sets 1 and 2 always send make and break and
	 * repeat, whatever these say. */
	case 0xf7:
		set_all_types(k, PS2_KEY_TYPEMATIC);
		kbd_send(k, PS2_ACK);
		break;
	case 0xf8:
		set_all_types(k, PS2_KEY_BREAK);
		kbd_send(k, PS2_ACK);
		break;
	case 0xf9:
		set_all_types(k, 0);
		kbd_send(k, PS2_ACK);
		break;
	case 0xfa:
		set_all_types(k, PS2_KEY_BREAK | PS2_KEY_TYPEMATIC);
		kbd_send(k, PS2_ACK);
		break;
	case 0xfb: case 0xfc: case 0xfd:
		k->list_cmd = byte;
		kbd_send(k, PS2_ACK);
		break;
	case 0xfe: { /* resend the last byte */
		uint8_t last = k->last_sent;
		kbd_send(k, last);
		break;
	}
	case 0xff:
		queue_clear(&k->q);
		kbd_defaults(k);
		k->scanning = true;
		k->leds = 0;
		kbd_send(k, PS2_ACK);
		kbd_send(k, PS2_BAT_OK);
		break;
	default:
		kbd_send(k, PS2_RESEND);
		break;
	}
}

static void kbd_code(struct ps2_kbd *k, bool ext, uint8_t set1, bool down)
{
	if (ext)
		kbd_send(k, 0xe0);
	if (k->scancode_set == 1) {
		kbd_send(k, down ? set1 : (uint8_t)(set1 | 0x80));
	} else {
		if (!down)
			kbd_send(k, 0xf0);
		kbd_send(k, set1_to_set2[set1 & 0x7f]);
	}
}

/* Set 3: one code per key, F0 before it on release, no prefixes. */
static void kbd_key_set3(struct ps2_kbd *k, unsigned keycode, bool down)
{
	uint8_t code = 0, bit;
	bool was_down;

	if (keycode == PS2_KEY_PAUSE)
		code = SET3_PAUSE;
	else if ((keycode & 0xff00) == 0xe000)
		code = set1e0_to_set3((uint8_t)keycode);
	else if ((keycode & 0xff00) == 0 && keycode < sizeof(set1_to_set3))
		code = set1_to_set3[keycode];
	if (code == 0) {
		log_debug("ps2 kbd: key code 0x%x has no set 3 code", keycode);
		return;
	}
	bit = (uint8_t)(1u << (code & 7));
	was_down = k->down[code >> 3] & bit;
	if (down) {
		k->down[code >> 3] |= bit;
		if (!was_down || (k->key_type[code] & PS2_KEY_TYPEMATIC))
			kbd_send(k, code);
	} else {
		k->down[code >> 3] &= (uint8_t)~bit;
		if (k->key_type[code] & PS2_KEY_BREAK) {
			kbd_send(k, 0xf0);
			kbd_send(k, code);
		}
	}
}

void ps2_kbd_key(struct ps2_kbd *k, unsigned keycode, bool down)
{
	if (!k->scanning)
		return;
	if (k->scancode_set == 3) {
		kbd_key_set3(k, keycode, down);
		return;
	}
	if (keycode == PS2_KEY_PAUSE) {
		/* Pause has no break code; it is all sent on press. */
		if (!down)
			return;
		if (k->scancode_set == 1) {
			static const uint8_t s1[] = { 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 };
			for (unsigned i = 0; i < sizeof(s1); i++)
				kbd_send(k, s1[i]);
		} else {
			static const uint8_t s2[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };
			for (unsigned i = 0; i < sizeof(s2); i++)
				kbd_send(k, s2[i]);
		}
		return;
	}
	if (keycode == PS2_KEY_PRINT_SCREEN) {
		/* Sent with the fake left shift that plain (unmodified) Print
		 * Screen has: E0 2A E0 37 in set 1, E0 12 E0 7C in set 2. */
		if (down) {
			kbd_code(k, true, 0x2a, true);
			kbd_code(k, true, 0x37, true);
		} else {
			kbd_code(k, true, 0x37, false);
			kbd_code(k, true, 0x2a, false);
		}
		return;
	}
	if ((keycode & 0xff00) != 0 && (keycode & 0xff00) != 0xe000) {
		log_debug("ps2 kbd: unknown key code 0x%x", keycode);
		return;
	}
	if ((keycode & 0x7f) == 0 || (keycode & 0x80)) {
		log_debug("ps2 kbd: key code 0x%x is not a make code", keycode);
		return;
	}
	kbd_code(k, (keycode & 0xff00) == 0xe000, (uint8_t)(keycode & 0x7f), down);
}

#define PS2_KBD_VERSION 1

void ps2_kbd_save(const struct ps2_kbd *k, struct sbuf *sb)
{
	size_t mark = sbuf_begin(sb, "ps2kbd", PS2_KBD_VERSION);

	queue_save(&k->q, sb);
	sbuf_put_u8(sb, k->scancode_set);
	sbuf_put_bool(sb, k->scanning);
	sbuf_put_u8(sb, k->leds);
	sbuf_put_u8(sb, k->typematic);
	sbuf_put_u8(sb, k->pending_cmd);
	sbuf_put_u8(sb, k->last_sent);
	sbuf_put_bytes(sb, k->key_type, sizeof(k->key_type));
	sbuf_put_bytes(sb, k->down, sizeof(k->down));
	sbuf_put_u8(sb, k->list_cmd);
	sbuf_end(sb, mark);
}

int ps2_kbd_load(struct ps2_kbd *k, struct sbuf *sb)
{
	struct ps2_kbd n = *k;
	uint32_t ver;

	if (!sbuf_open(sb, "ps2kbd", &ver))
		return -1;
	if (ver != PS2_KBD_VERSION) {
		sbuf_fail(sb, "ps2kbd: version %u, expected %u", ver, PS2_KBD_VERSION);
		return -1;
	}
	if (queue_load(&n.q, sb) < 0)
		return -1;
	n.scancode_set = sbuf_get_u8(sb);
	n.scanning = sbuf_get_bool(sb);
	n.leds = sbuf_get_u8(sb);
	n.typematic = sbuf_get_u8(sb);
	n.pending_cmd = sbuf_get_u8(sb);
	n.last_sent = sbuf_get_u8(sb);
	sbuf_get_bytes(sb, n.key_type, sizeof(n.key_type));
	sbuf_get_bytes(sb, n.down, sizeof(n.down));
	n.list_cmd = sbuf_get_u8(sb);
	if (!sbuf_close(sb))
		return -1;
	for (unsigned i = 0; i < sizeof(n.key_type); i++) {
		if (n.key_type[i] & ~(PS2_KEY_BREAK | PS2_KEY_TYPEMATIC)) {
			sbuf_fail(sb, "ps2kbd: bad key type 0x%02x", n.key_type[i]);
			return -1;
		}
	}
	if (n.list_cmd && (n.list_cmd < 0xfb || n.list_cmd > 0xfd)) {
		sbuf_fail(sb, "ps2kbd: pending key list command 0x%02x", n.list_cmd);
		return -1;
	}
	if (n.scancode_set < 1 || n.scancode_set > 3) {
		sbuf_fail(sb, "ps2kbd: scan code set %u", n.scancode_set);
		return -1;
	}
	if (n.pending_cmd && n.pending_cmd != 0xed && n.pending_cmd != 0xf0 &&
	    n.pending_cmd != 0xf3) {
		sbuf_fail(sb, "ps2kbd: pending command 0x%02x", n.pending_cmd);
		return -1;
	}
	*k = n;
	return 0;
}

/* ---- mouse ---- */

/* Queues a byte without telling the controller (packets are announced
 * once they are whole, so the controller's pull cannot re-enter). */
static void mouse_put(struct ps2_mouse *m, uint8_t b)
{
	if (queue_put(&m->q, b))
		m->last_sent = b;
}

static void mouse_notify(struct ps2_mouse *m)
{
	if (m->notify && m->q.count)
		m->notify(m->opaque);
}

static void mouse_send(struct ps2_mouse *m, uint8_t b)
{
	mouse_put(m, b);
	mouse_notify(m);
}

static unsigned mouse_packet_size(const struct ps2_mouse *m)
{
	return m->id == 3 ? 4 : 3;
}

static int32_t clamp32(int32_t v, int32_t lo, int32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* 2:1 scaling as the IBM reference gives it (stream mode only). */
static int32_t scale21(int32_t d)
{
	static const int32_t small[6] = { 0, 1, 1, 3, 6, 9 };
	int32_t a = d < 0 ? -d : d;
	int32_t r = a <= 5 ? small[a] : 2 * a;

	return d < 0 ? -r : r;
}

/*
 * Queues one packet from the accumulated motion. A stream packet carries
 * at most 9 bits of motion per axis and leaves the rest for the next one;
 * a remote (read-data) packet reports everything, with the overflow bits
 * set when that does not fit.
 */
static void mouse_packet(struct ps2_mouse *m, bool remote)
{
	uint8_t b0 = 0x08 | (m->buttons & 7);
	int32_t px, py, pz;

	if (remote) {
		px = clamp32(m->dx, -256, 255);
		py = clamp32(m->dy, -256, 255);
		if (px != m->dx)
			b0 |= 0x40;
		if (py != m->dy)
			b0 |= 0x80;
		pz = clamp32(m->dz, -8, 7);
		m->dx = m->dy = m->dz = 0;
	} else {
		int32_t cx = clamp32(m->dx, -256, 255), cy = clamp32(m->dy, -256, 255);

		m->dx -= cx;
		m->dy -= cy;
		pz = clamp32(m->dz, -8, 7);
		m->dz -= pz;
		px = cx;
		py = cy;
		if (m->scaling21) {
			px = scale21(cx);
			py = scale21(cy);
			if (px != clamp32(px, -256, 255))
				b0 |= 0x40;
			if (py != clamp32(py, -256, 255))
				b0 |= 0x80;
			px = clamp32(px, -256, 255);
			py = clamp32(py, -256, 255);
		}
	}
	if (px < 0)
		b0 |= 0x10;
	if (py < 0)
		b0 |= 0x20;
	m->sent_buttons = m->buttons;
	if (m->id != 3)
		m->dz = 0;
	mouse_put(m, b0);
	mouse_put(m, (uint8_t)(px & 0xff));
	mouse_put(m, (uint8_t)(py & 0xff));
	if (m->id == 3)
		mouse_put(m, (uint8_t)(pz & 0xff));
}

/* Stream mode: send what is pending while whole packets fit. */
static void mouse_flush(struct ps2_mouse *m)
{
	bool sent = false;

	if (m->mode != PS2_MOUSE_STREAM || !m->reporting)
		return;
	while ((m->dx || m->dy || m->dz || m->buttons != m->sent_buttons) &&
	       queue_free(&m->q) >= mouse_packet_size(m)) {
		mouse_packet(m, false);
		sent = true;
	}
	if (sent)
		mouse_notify(m);
}

static void mouse_defaults(struct ps2_mouse *m)
{
	m->mode = PS2_MOUSE_STREAM;
	m->reporting = false;
	m->scaling21 = false;
	m->resolution = 2;
	m->sample_rate = 100;
	m->pending_cmd = 0;
	m->dx = m->dy = m->dz = 0;
}

void ps2_mouse_init(struct ps2_mouse *m, void (*notify)(void *opaque), void *opaque)
{
	memset(m, 0, sizeof(*m));
	m->notify = notify;
	m->opaque = opaque;
	ps2_mouse_reset(m);
}

void ps2_mouse_reset(struct ps2_mouse *m)
{
	queue_clear(&m->q);
	mouse_defaults(m);
	m->prev_mode = PS2_MOUSE_STREAM;
	m->id = 0;
	memset(m->rate_hist, 0, sizeof(m->rate_hist));
	m->last_sent = 0;
	m->buttons = m->sent_buttons = 0;
}

bool ps2_mouse_has_data(const struct ps2_mouse *m)
{
	return m->q.count > 0;
}

uint8_t ps2_mouse_read(struct ps2_mouse *m)
{
	uint8_t b = queue_get(&m->q);

	mouse_flush(m);
	return b;
}

static void mouse_status(struct ps2_mouse *m)
{
	uint8_t b0 = 0;

	/* Byte 1: remote mode, enable, scaling, then the buttons as the
	 * reference orders them: left in bit 2, middle in bit 1, right in 0. */
	if (m->mode == PS2_MOUSE_REMOTE)
		b0 |= 0x40;
	if (m->reporting)
		b0 |= 0x20;
	if (m->scaling21)
		b0 |= 0x10;
	if (m->buttons & PS2_MOUSE_LEFT)
		b0 |= 0x04;
	if (m->buttons & PS2_MOUSE_MIDDLE)
		b0 |= 0x02;
	if (m->buttons & PS2_MOUSE_RIGHT)
		b0 |= 0x01;
	mouse_send(m, b0);
	mouse_send(m, m->resolution);
	mouse_send(m, m->sample_rate);
}

static bool valid_rate(uint8_t r)
{
	switch (r) {
	case 10: case 20: case 40: case 60: case 80: case 100: case 200:
		return true;
	default:
		return false;
	}
}

static void mouse_param(struct ps2_mouse *m, uint8_t cmd, uint8_t byte)
{
	m->pending_cmd = 0;
	if (cmd == 0xe8) {
		if (byte > 3) {
			mouse_send(m, PS2_ERROR);
			return;
		}
		m->resolution = byte;
		mouse_send(m, PS2_ACK);
		return;
	}
	/* 0xF3 sample rate */
	if (!valid_rate(byte)) {
		mouse_send(m, PS2_ERROR);
		return;
	}
	m->sample_rate = byte;
	m->rate_hist[0] = m->rate_hist[1];
	m->rate_hist[1] = m->rate_hist[2];
	m->rate_hist[2] = byte;
	/* The IntelliMouse knock: rates 200, 100, 80 in a row enable the wheel. */
	if (m->rate_hist[0] == 200 && m->rate_hist[1] == 100 && m->rate_hist[2] == 80)
		m->id = 3;
	mouse_send(m, PS2_ACK);
}

void ps2_mouse_write(struct ps2_mouse *m, uint8_t byte)
{
	if (m->mode == PS2_MOUSE_WRAP && byte != 0xec && byte != 0xff) {
		mouse_send(m, byte);
		return;
	}
	if (m->pending_cmd) {
		mouse_param(m, m->pending_cmd, byte);
		return;
	}
	switch (byte) {
	case 0xe6:
		m->scaling21 = false;
		mouse_send(m, PS2_ACK);
		break;
	case 0xe7:
		m->scaling21 = true;
		mouse_send(m, PS2_ACK);
		break;
	case 0xe8: case 0xf3:
		m->pending_cmd = byte;
		mouse_send(m, PS2_ACK);
		break;
	case 0xe9:
		mouse_send(m, PS2_ACK);
		mouse_status(m);
		break;
	case 0xea:
		m->mode = PS2_MOUSE_STREAM;
		m->dx = m->dy = m->dz = 0;
		mouse_send(m, PS2_ACK);
		break;
	case 0xeb: /* read data: one packet, in any mode */
		mouse_put(m, PS2_ACK);
		if (queue_free(&m->q) >= mouse_packet_size(m))
			mouse_packet(m, true);
		mouse_notify(m);
		break;
	case 0xec:
		m->mode = m->prev_mode;
		mouse_send(m, PS2_ACK);
		break;
	case 0xee:
		m->prev_mode = m->mode;
		m->mode = PS2_MOUSE_WRAP;
		m->dx = m->dy = m->dz = 0;
		mouse_send(m, PS2_ACK);
		break;
	case 0xf0:
		m->mode = PS2_MOUSE_REMOTE;
		m->dx = m->dy = m->dz = 0;
		mouse_send(m, PS2_ACK);
		break;
	case 0xf2:
		mouse_send(m, PS2_ACK);
		mouse_send(m, m->id);
		break;
	case 0xf4:
		m->reporting = true;
		m->dx = m->dy = m->dz = 0;
		m->sent_buttons = m->buttons;
		mouse_send(m, PS2_ACK);
		break;
	case 0xf5:
		m->reporting = false;
		m->dx = m->dy = m->dz = 0;
		mouse_send(m, PS2_ACK);
		break;
	case 0xf6:
		mouse_defaults(m);
		mouse_send(m, PS2_ACK);
		break;
	case 0xfe: {
		uint8_t last = m->last_sent;
		mouse_send(m, last);
		break;
	}
	case 0xff:
		queue_clear(&m->q);
		mouse_defaults(m);
		m->id = 0;
		memset(m->rate_hist, 0, sizeof(m->rate_hist));
		mouse_send(m, PS2_ACK);
		mouse_send(m, PS2_BAT_OK);
		mouse_send(m, 0x00);
		break;
	default:
		mouse_send(m, PS2_RESEND);
		break;
	}
}

void ps2_mouse_move(struct ps2_mouse *m, int dx, int dy, int dz, unsigned buttons)
{
	/* Bound the accumulation so a flood of host events cannot overflow. */
	m->dx = clamp32(m->dx + clamp32(dx, -65536, 65536), -65536, 65536);
	m->dy = clamp32(m->dy + clamp32(dy, -65536, 65536), -65536, 65536);
	m->dz = clamp32(m->dz + clamp32(dz, -65536, 65536), -65536, 65536);
	m->buttons = (uint8_t)(buttons & 7);
	mouse_flush(m);
}

#define PS2_MOUSE_VERSION 1

void ps2_mouse_save(const struct ps2_mouse *m, struct sbuf *sb)
{
	size_t mark = sbuf_begin(sb, "ps2mouse", PS2_MOUSE_VERSION);

	queue_save(&m->q, sb);
	sbuf_put_u8(sb, m->mode);
	sbuf_put_u8(sb, m->prev_mode);
	sbuf_put_bool(sb, m->reporting);
	sbuf_put_bool(sb, m->scaling21);
	sbuf_put_u8(sb, m->resolution);
	sbuf_put_u8(sb, m->sample_rate);
	sbuf_put_u8(sb, m->id);
	sbuf_put_bytes(sb, m->rate_hist, sizeof(m->rate_hist));
	sbuf_put_u8(sb, m->pending_cmd);
	sbuf_put_u8(sb, m->last_sent);
	sbuf_put_u32(sb, (uint32_t)m->dx);
	sbuf_put_u32(sb, (uint32_t)m->dy);
	sbuf_put_u32(sb, (uint32_t)m->dz);
	sbuf_put_u8(sb, m->buttons);
	sbuf_put_u8(sb, m->sent_buttons);
	sbuf_end(sb, mark);
}

int ps2_mouse_load(struct ps2_mouse *m, struct sbuf *sb)
{
	struct ps2_mouse n = *m;
	uint32_t ver;

	if (!sbuf_open(sb, "ps2mouse", &ver))
		return -1;
	if (ver != PS2_MOUSE_VERSION) {
		sbuf_fail(sb, "ps2mouse: version %u, expected %u", ver, PS2_MOUSE_VERSION);
		return -1;
	}
	if (queue_load(&n.q, sb) < 0)
		return -1;
	n.mode = sbuf_get_u8(sb);
	n.prev_mode = sbuf_get_u8(sb);
	n.reporting = sbuf_get_bool(sb);
	n.scaling21 = sbuf_get_bool(sb);
	n.resolution = sbuf_get_u8(sb);
	n.sample_rate = sbuf_get_u8(sb);
	n.id = sbuf_get_u8(sb);
	sbuf_get_bytes(sb, n.rate_hist, sizeof(n.rate_hist));
	n.pending_cmd = sbuf_get_u8(sb);
	n.last_sent = sbuf_get_u8(sb);
	n.dx = (int32_t)sbuf_get_u32(sb);
	n.dy = (int32_t)sbuf_get_u32(sb);
	n.dz = (int32_t)sbuf_get_u32(sb);
	n.buttons = sbuf_get_u8(sb);
	n.sent_buttons = sbuf_get_u8(sb);
	if (!sbuf_close(sb))
		return -1;
	if (n.mode > PS2_MOUSE_WRAP || n.prev_mode > PS2_MOUSE_REMOTE || n.resolution > 3 ||
	    (n.id != 0 && n.id != 3) || (n.pending_cmd && n.pending_cmd != 0xe8 &&
	    n.pending_cmd != 0xf3) || n.buttons > 7 || n.sent_buttons > 7 ||
	    n.dx < -65536 || n.dx > 65536 || n.dy < -65536 || n.dy > 65536 ||
	    n.dz < -65536 || n.dz > 65536) {
		sbuf_fail(sb, "ps2mouse: inconsistent state");
		return -1;
	}
	*m = n;
	return 0;
}
