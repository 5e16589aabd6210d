#include <stdlib.h>
#include <string.h>

#include "lib/sbuf.h"
#include "machine/bus.h"
#include "machine/i8259.h"
#include "tests/unit/devtest.h"
#include "tests/unit/harness.h"

struct rig {
	struct iobus io;
	struct i8259 pic;
	bool intr;              /* what the CPU's INTR input sees */
	unsigned intr_calls;
};

static void cpu_intr(void *opaque, bool level)
{
	struct rig *r = opaque;

	r->intr = level;
	r->intr_calls++;
}

static void out8(struct rig *r, uint16_t port, uint8_t v) { iobus_write(&r->io, port, v, 1); }
static uint8_t in8(struct rig *r, uint16_t port) { return (uint8_t)iobus_read(&r->io, port, 1); }

/* Linux's init_8259A(): master at 0x30, slave at 0x38, cascade on IR2. */
static void linux_init(struct rig *r, uint8_t icw4)
{
	out8(r, 0x21, 0xff);
	out8(r, 0xa1, 0xff);
	out8(r, 0x20, 0x11);
	out8(r, 0x21, 0x30);
	out8(r, 0x21, 0x04);
	out8(r, 0x21, icw4);
	out8(r, 0xa0, 0x11);
	out8(r, 0xa1, 0x38);
	out8(r, 0xa1, 0x02);
	out8(r, 0xa1, 0x01);
	out8(r, 0x21, 0x00);
	out8(r, 0xa1, 0x00);
}

static struct rig *rig_new(struct test *t)
{
	struct rig *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	iobus_init(&r->io);
	if (i8259_init(&r->pic, &r->io, cpu_intr, r) != 0) {
		test_fail(t, __FILE__, __LINE__, "i8259_init failed");
		free(r);
		return NULL;
	}
	linux_init(r, 0x01);
	return r;
}

static void eoi_master(struct rig *r) { out8(r, 0x20, 0x20); }

static void init_and_vectors(struct test *t)
{
	struct rig *r = rig_new(t);

	REQUIRE(t, r);
	CHECK(t, !r->intr);
	i8259_set_irq(&r->pic, 0, true);
	CHECK(t, r->intr);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x30);
	CHECK(t, !r->intr);
	out8(r, 0x20, 0x0b);            /* OCW3: read ISR */
	CHECK_EQ(t, in8(r, 0x20), 0x01);
	out8(r, 0x20, 0x0a);            /* OCW3: read IRR */
	CHECK_EQ(t, in8(r, 0x20), 0x00);
	eoi_master(r);
	out8(r, 0x20, 0x0b);
	CHECK_EQ(t, in8(r, 0x20), 0x00);
	/* The edge was consumed: a line still high does not request again. */
	CHECK(t, !r->intr);
	i8259_set_irq(&r->pic, 0, false);
	i8259_set_irq(&r->pic, 0, true);
	CHECK(t, r->intr);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x30);
	/* IMR reads back; a masked request is held in IRR. */
	out8(r, 0x21, 0xa5);
	CHECK_EQ(t, in8(r, 0x21), 0xa5);
	eoi_master(r);
	i8259_set_irq(&r->pic, 5, true);
	CHECK(t, !r->intr);
	out8(r, 0x20, 0x0a);
	CHECK_EQ(t, in8(r, 0x20) & 0x20, 0x20);
	out8(r, 0x21, 0x00);
	CHECK(t, r->intr);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x35);
	free(r);
}

static void fixed_priority_and_nesting(struct test *t)
{
	struct rig *r = rig_new(t);

	REQUIRE(t, r);
	i8259_set_irq(&r->pic, 3, true);
	i8259_set_irq(&r->pic, 1, true);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x31);
	/* IR3 is lower than IR1 in service: no INTR. */
	CHECK(t, !r->intr);
	/* IR0 is higher: it nests. */
	i8259_set_irq(&r->pic, 0, true);
	CHECK(t, r->intr);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x30);
	out8(r, 0x20, 0x0b);
	CHECK_EQ(t, in8(r, 0x20), 0x03);
	eoi_master(r);                  /* non-specific: clears IR0, the highest */
	CHECK_EQ(t, in8(r, 0x20), 0x02);
	CHECK(t, !r->intr);
	eoi_master(r);
	CHECK(t, r->intr);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x33);
	free(r);
}

static void cascade(struct test *t)
{
	struct rig *r = rig_new(t);

	REQUIRE(t, r);
	i8259_set_irq(&r->pic, 12, true);
	CHECK(t, r->intr);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x3c);
	out8(r, 0x20, 0x0b);
	CHECK_EQ(t, in8(r, 0x20), 0x04);
	out8(r, 0xa0, 0x0b);
	CHECK_EQ(t, in8(r, 0xa0), 0x10);
	/* A higher slave request waits: master IR2 is in service (not SFNM). */
	i8259_set_irq(&r->pic, 8, true);
	CHECK(t, !r->intr);
	/* A master request above IR2 gets through. */
	i8259_set_irq(&r->pic, 1, true);
	CHECK(t, r->intr);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x31);
	eoi_master(r);                  /* ends IR1 */
	CHECK(t, !r->intr);
	out8(r, 0xa0, 0x20);            /* slave EOI: IR8 now beats the finished IR12 */
	out8(r, 0x20, 0x20);            /* master EOI for IR2 */
	CHECK(t, r->intr);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x38);
	/* Masking IR2 on the master hides every slave request. */
	out8(r, 0xa0, 0x20);
	out8(r, 0x20, 0x20);
	i8259_set_irq(&r->pic, 8, false);
	out8(r, 0x21, 0x04);
	i8259_set_irq(&r->pic, 8, true);
	CHECK(t, !r->intr);
	out8(r, 0x21, 0x00);
	CHECK(t, r->intr);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x38);
	free(r);
}

static void single_mode_has_no_slave(struct test *t)
{
	struct rig *r = rig_new(t);

	REQUIRE(t, r);
	out8(r, 0x20, 0x13);            /* ICW1: single, ICW4 */
	out8(r, 0x21, 0x08);
	out8(r, 0x21, 0x01);            /* ICW4 directly: no ICW3 in single mode */
	CHECK_EQ(t, in8(r, 0x21), 0x00);
	/* The slave's INT on IR2 is now an ordinary input: vector base+2. */
	i8259_set_irq(&r->pic, 9, true);
	CHECK(t, r->intr);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x0a);
	free(r);
}

static void eoi_kinds_and_rotation(struct test *t)
{
	struct rig *r = rig_new(t);

	REQUIRE(t, r);
	i8259_set_irq(&r->pic, 4, true);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x34);
	i8259_set_irq(&r->pic, 3, true);   /* IR3 nests above IR4 */
	CHECK_EQ(t, i8259_ack(&r->pic), 0x33);
	out8(r, 0x20, 0x0b);
	CHECK_EQ(t, in8(r, 0x20), 0x18);
	out8(r, 0x20, 0x64);            /* specific EOI for IR4, not the highest */
	CHECK_EQ(t, in8(r, 0x20), 0x08);
	out8(r, 0x20, 0xa0);            /* rotate on non-specific EOI: IR3 becomes lowest */
	CHECK_EQ(t, in8(r, 0x20), 0x00);
	/* Priority now 4,5,6,7,0,1,2,3: IR7 beats IR0. */
	i8259_set_irq(&r->pic, 0, true);
	i8259_set_irq(&r->pic, 7, true);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x37);
	CHECK(t, !r->intr);             /* IR0 is below IR7 now */
	out8(r, 0x20, 0xe7);            /* rotate on specific EOI 7: IR7 lowest */
	CHECK(t, r->intr);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x30);
	out8(r, 0x20, 0x60);            /* specific EOI 0 */
	/* Set priority: IR5 lowest, so IR6 is highest. */
	out8(r, 0x20, 0xc5);
	i8259_set_irq(&r->pic, 5, true);
	i8259_set_irq(&r->pic, 6, true);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x36);
	out8(r, 0x20, 0x40);            /* no operation */
	out8(r, 0x20, 0x0b);
	CHECK_EQ(t, in8(r, 0x20), 0x40);
	free(r);
}

static void auto_eoi(struct test *t)
{
	struct rig *r = rig_new(t);

	REQUIRE(t, r);
	linux_init(r, 0x03);            /* ICW4: 8086, AEOI */
	i8259_set_irq(&r->pic, 1, true);
	i8259_set_irq(&r->pic, 4, true);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x31);
	out8(r, 0x20, 0x0b);
	CHECK_EQ(t, in8(r, 0x20), 0x00);
	CHECK(t, r->intr);              /* nothing in service: IR4 follows at once */
	CHECK_EQ(t, i8259_ack(&r->pic), 0x34);
	/* Rotate in AEOI mode: the acknowledged level becomes the lowest. */
	out8(r, 0x20, 0x80);
	i8259_set_irq(&r->pic, 1, false);
	i8259_set_irq(&r->pic, 1, true);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x31);
	i8259_set_irq(&r->pic, 0, true);
	i8259_set_irq(&r->pic, 3, true);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x33); /* after IR1 comes 2,3,...,0 */
	out8(r, 0x20, 0x00);            /* clear rotate in AEOI */
	CHECK_EQ(t, i8259_ack(&r->pic), 0x30);
	free(r);
}

static void elcr_level_vs_edge(struct test *t)
{
	struct rig *r = rig_new(t);

	REQUIRE(t, r);
	/* IRQ0-2 (master) and 8, 13 (slave) cannot be level-triggered. */
	out8(r, 0x4d0, 0xff);
	out8(r, 0x4d1, 0xff);
	CHECK_EQ(t, in8(r, 0x4d0), 0xf8);
	CHECK_EQ(t, in8(r, 0x4d1), 0xde);
	out8(r, 0x4d0, 0x20);           /* IRQ5 level, the rest edge */
	out8(r, 0x4d1, 0x08);           /* IRQ11 level */

	/* Level: still requesting after EOI while the line stays high. */
	i8259_set_irq(&r->pic, 5, true);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x35);
	CHECK(t, !r->intr);
	eoi_master(r);
	CHECK(t, r->intr);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x35);
	i8259_set_irq(&r->pic, 5, false);
	eoi_master(r);
	CHECK(t, !r->intr);

	/* Edge: a pulse is latched and delivered once. */
	i8259_set_irq(&r->pic, 6, true);
	i8259_set_irq(&r->pic, 6, false);
	CHECK(t, r->intr);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x36);
	eoi_master(r);
	CHECK(t, !r->intr);

	/* Level on the slave through the cascade. */
	i8259_set_irq(&r->pic, 11, true);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x3b);
	out8(r, 0xa0, 0x20);
	out8(r, 0x20, 0x20);
	CHECK(t, r->intr);
	i8259_set_irq(&r->pic, 11, false);
	CHECK(t, !r->intr);
	free(r);
}

static void spurious(struct test *t)
{
	struct rig *r = rig_new(t);

	REQUIRE(t, r);
	out8(r, 0x4d0, 0x08);           /* IRQ3 level */
	i8259_set_irq(&r->pic, 3, true);
	CHECK(t, r->intr);
	i8259_set_irq(&r->pic, 3, false);   /* gone before INTA */
	CHECK_EQ(t, i8259_ack(&r->pic), 0x37);
	out8(r, 0x20, 0x0b);
	CHECK_EQ(t, in8(r, 0x20), 0x00);    /* spurious IR7 is not put in service */

	/* The slave's request vanishes: its INT drops, and with it master IR2. */
	out8(r, 0x4d1, 0x02);           /* IRQ9 level */
	i8259_set_irq(&r->pic, 9, true);
	CHECK(t, r->intr);
	i8259_set_irq(&r->pic, 9, false);
	CHECK(t, !r->intr);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x37);
	CHECK_EQ(t, in8(r, 0x20), 0x00);

	/* A slave told the wrong ID (ICW3) does not answer: the bus floats. */
	out8(r, 0xa0, 0x11);
	out8(r, 0xa1, 0x38);
	out8(r, 0xa1, 0x03);
	out8(r, 0xa1, 0x01);
	i8259_set_irq(&r->pic, 9, true);
	CHECK(t, r->intr);
	CHECK_EQ(t, i8259_ack(&r->pic), 0xff);
	out8(r, 0x20, 0x0b);
	CHECK_EQ(t, in8(r, 0x20), 0x04);    /* the master still put IR2 in service */
	free(r);
}

static void special_mask_mode(struct test *t)
{
	struct rig *r = rig_new(t);

	REQUIRE(t, r);
	i8259_set_irq(&r->pic, 3, true);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x33);
	i8259_set_irq(&r->pic, 5, true);
	CHECK(t, !r->intr);
	/* Mask IR3 and enter special mask mode: lower IR5 is enabled. */
	out8(r, 0x21, 0x08);
	out8(r, 0x20, 0x68);
	CHECK(t, r->intr);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x35);
	out8(r, 0x20, 0x65);            /* specific EOI 5 */
	out8(r, 0x20, 0x48);            /* leave special mask mode */
	i8259_set_irq(&r->pic, 5, false);
	i8259_set_irq(&r->pic, 5, true);
	CHECK(t, !r->intr);             /* IR3 in service blocks again */
	free(r);
}

static void poll_mode(struct test *t)
{
	struct rig *r = rig_new(t);

	REQUIRE(t, r);
	out8(r, 0x20, 0x0c);            /* poll, nothing pending */
	CHECK_EQ(t, in8(r, 0x20), 0x00);
	i8259_set_irq(&r->pic, 6, true);
	i8259_set_irq(&r->pic, 4, true);
	out8(r, 0x20, 0x0c);
	CHECK_EQ(t, in8(r, 0x20), 0x84);
	/* The poll acknowledged IR4; the next read is IRR again. */
	CHECK_EQ(t, in8(r, 0x20), 0x40);
	out8(r, 0x20, 0x0b);
	CHECK_EQ(t, in8(r, 0x20), 0x10);
	free(r);
}

static void special_fully_nested(struct test *t)
{
	struct rig *r = rig_new(t);

	REQUIRE(t, r);
	linux_init(r, 0x11);            /* master ICW4: SFNM, 8086 */
	i8259_set_irq(&r->pic, 12, true);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x3c);
	/* A higher request on the same slave is recognised while IR2 is in service. */
	i8259_set_irq(&r->pic, 9, true);
	CHECK(t, r->intr);
	CHECK_EQ(t, i8259_ack(&r->pic), 0x39);
	out8(r, 0xa0, 0x0b);
	CHECK_EQ(t, in8(r, 0xa0), 0x12);
	free(r);
}

/* The controller under the shared save/load checks (devtest.h). */
struct loaded_pic {
	struct rig *r;
	struct i8259 before;    /* what a refused load must leave */
};

static int load_pic(void *ctx, struct sbuf *sb)
{
	struct loaded_pic *lp = ctx;

	return i8259_load(&lp->r->pic, sb);
}

static void pic_untouched(struct test *t, void *ctx)
{
	struct loaded_pic *lp = ctx;

	CHECK(t, memcmp(&lp->before, &lp->r->pic, sizeof(lp->before)) == 0);
}

/* Whatever was loaded, the controller still works. */
static void pic_still_works(struct test *t, void *ctx)
{
	struct rig *r = ((struct loaded_pic *)ctx)->r;

	(void)in8(r, 0x20);
	if (r->intr)
		(void)i8259_ack(&r->pic);
}

static void save_load(struct test *t)
{
	struct rig *a = rig_new(t), *b = rig_new(t);
	struct sbuf sb, rd;

	REQUIRE(t, a && b);
	out8(a, 0x4d0, 0x20);
	out8(a, 0x20, 0xc4);            /* IR4 lowest */
	i8259_set_irq(&a->pic, 13, true);
	CHECK_EQ(t, i8259_ack(&a->pic), 0x3d);
	i8259_set_irq(&a->pic, 5, true);    /* level, and above IR2 with IR4 lowest */
	i8259_set_irq(&a->pic, 7, true);
	out8(a, 0x21, 0x80);
	out8(a, 0x20, 0x0b);
	sbuf_init(&sb);
	i8259_save(&a->pic, &sb);
	REQUIRE(t, !sb.error);

	sbuf_init_read(&rd, sb.data, sb.len);
	b->intr_calls = 0;
	REQUIRE(t, i8259_load(&b->pic, &rd) == 0);
	CHECK(t, b->intr_calls > 0);        /* the CPU was told the INTR level */
	CHECK_EQ(t, b->intr, a->intr);
	CHECK(t, memcmp(&a->pic.chip, &b->pic.chip, sizeof(a->pic.chip)) == 0);
	/* Both continue identically. */
	CHECK_EQ(t, in8(b, 0x20), in8(a, 0x20));
	CHECK_EQ(t, in8(b, 0x4d0), 0x20);
	CHECK_EQ(t, i8259_ack(&b->pic), i8259_ack(&a->pic));
	out8(a, 0xa0, 0x20);
	out8(b, 0xa0, 0x20);
	out8(a, 0x20, 0x20);
	out8(b, 0x20, 0x20);
	CHECK_EQ(t, b->intr, a->intr);
	CHECK_EQ(t, i8259_ack(&b->pic), i8259_ack(&a->pic));

	/* Corrupt: a lowest priority of 9; then every truncation. Refused,
	 * state untouched. */
	{
		struct loaded_pic lp = { .r = b, .before = b->pic };
		struct devtest_ops ops = { .ctx = &lp, .load = load_pic,
		                           .check_untouched = pic_untouched };
		size_t off = sb.len - 2 - 19 - 19 + 7;   /* master's `lowest` */

		sb.data[off] = 9;
		devtest_refuses(t, &ops, sb.data, sb.len, NULL);
		devtest_truncations(t, &ops, sb.data, sb.len, 1);
	}
	sbuf_free(&sb);
	free(a);
	free(b);
}

static void bad_irq_number_ignored(struct test *t)
{
	struct rig *r = rig_new(t);

	REQUIRE(t, r);
	i8259_set_irq(&r->pic, 16, true);
	i8259_set_irq(&r->pic, 0xffffffffu, true);
	CHECK(t, !r->intr);
	out8(r, 0x20, 0x0a);
	CHECK_EQ(t, in8(r, 0x20), 0);
	free(r);
}

/* A hostile guest: random writes everywhere, random lines, acks; then corrupt saves. */
static void hostile_guest(struct test *t)
{
	static const uint16_t ports[] = { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1 };
	struct rig *r = rig_new(t);
	uint32_t x = 12345;
	struct loaded_pic lp = { .r = r };
	struct devtest_ops ops = { .ctx = &lp, .load = load_pic, .exercise = pic_still_works };
	struct sbuf sb;

	REQUIRE(t, r);
	for (unsigned i = 0; i < 200000; i++) {
		uint32_t v = devtest_rand(&x);

		switch (v % 4) {
		case 0:
			out8(r, ports[(v >> 8) % 6], (uint8_t)(v >> 16));
			break;
		case 1:
			(void)in8(r, ports[(v >> 8) % 6]);
			break;
		case 2:
			i8259_set_irq(&r->pic, (v >> 8) % 16, (v >> 12) & 1);
			break;
		default:
			if (r->intr)
				(void)i8259_ack(&r->pic);
			break;
		}
		/* The CPU's view always matches the controller's. */
		if (r->intr != i8259_intr_pending(&r->pic)) {
			CHECK(t, r->intr == i8259_intr_pending(&r->pic));
			break;
		}
	}
	sbuf_init(&sb);
	i8259_save(&r->pic, &sb);
	REQUIRE(t, !sb.error);
	devtest_flip_bits(t, &ops, sb.data, sb.len, 2000, &x);
	sbuf_free(&sb);
	free(r);
}

int main(int argc, char **argv)
{
	struct harness h;

	harness_init(&h, "i8259", argc, argv);
	RUN(&h, init_and_vectors);
	RUN(&h, fixed_priority_and_nesting);
	RUN(&h, cascade);
	RUN(&h, single_mode_has_no_slave);
	RUN(&h, eoi_kinds_and_rotation);
	RUN(&h, auto_eoi);
	RUN(&h, elcr_level_vs_edge);
	RUN(&h, spurious);
	RUN(&h, special_mask_mode);
	RUN(&h, poll_mode);
	RUN(&h, special_fully_nested);
	RUN(&h, save_load);
	RUN(&h, bad_irq_number_ignored);
	RUN(&h, hostile_guest);
	return harness_done(&h);
}
