/*
 * ACPI fixed hardware (PM1 event/control, PM timer, GPE0) in the PIIX4
 * register layout, and the ACPI tables (RSDP, RSDT, FADT, FACS, DSDT).
 *
 * The DSDT's AML is assembled here in C rather than compiled from ASL with
 * iasl: its contents depend on the board's configuration (PIRQ routing,
 * PCI window, UARTs) and the build then needs no extra tool. The unit test
 * disassembles the result with iasl when it is installed.
 * References: ACPI specification 1.0b/2.0 (tables, fixed hardware, AML
 * grammar, resource descriptors), Intel 82371AB PIIX4 datasheet.
 */
#include "machine/acpi.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "machine/pci.h"

#define PM1_EN_MASK   (ACPI_TMR_STS | ACPI_GBL_STS | ACPI_PWRBTN_STS | ACPI_RTC_STS)
#define PM1_STS_MASK  (ACPI_TMR_STS | ACPI_BM_STS | ACPI_GBL_STS | ACPI_PWRBTN_STS | \
                       ACPI_RTC_STS | 0x0800u /* PWRBTNOR_STS */ | ACPI_WAK_STS)
#define PM1_CNT_MASK  (ACPI_SCI_EN | ACPI_BM_RLD | ACPI_SLP_TYP_MASK)
#define TMR_PERIOD    (1ull << 23)      /* TMR_STS: bit 23 of the counter flips */

/* ---- PM timer ---- */

static uint64_t pm_ticks(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * ACPI_PM_TMR_HZ / 1000000000u);
}

/* First machine time at which the tick count reaches `ticks`. */
static uint64_t pm_ticks_to_ns(uint64_t ticks)
{
	unsigned __int128 n = (unsigned __int128)ticks * 1000000000u + ACPI_PM_TMR_HZ - 1;

	return (uint64_t)(n / ACPI_PM_TMR_HZ);
}

uint32_t acpi_pm_timer(const struct acpi_pm *pm)
{
	return (uint32_t)(pm_ticks(clock_now(pm->clk)) & 0xffffff);
}

static void update_sci(struct acpi_pm *pm)
{
	bool level = (pm->pm1_cnt & ACPI_SCI_EN) &&
	             ((pm->pm1_sts & pm->pm1_en & PM1_EN_MASK) || (pm->gpe0_sts & pm->gpe0_en));

	if (level != pm->sci_level) {
		pm->sci_level = level;
		irq_set(&pm->sci, level);
	}
}

static void arm_overflow(struct acpi_pm *pm)
{
	uint64_t next = (pm_ticks(clock_now(pm->clk)) / TMR_PERIOD + 1) * TMR_PERIOD;

	timer_mod(pm->clk, &pm->tmr_overflow, pm_ticks_to_ns(next));
}

static void overflow_fired(void *opaque, uint64_t now)
{
	struct acpi_pm *pm = opaque;

	pm->pm1_sts |= ACPI_TMR_STS;
	update_sci(pm);
	arm_overflow(pm);
}

/* ---- registers ---- */

static uint8_t reg_read_byte(struct acpi_pm *pm, unsigned off, uint32_t tmr)
{
	switch (off) {
	case ACPI_PM1_STS:     return (uint8_t)pm->pm1_sts;
	case ACPI_PM1_STS + 1: return (uint8_t)(pm->pm1_sts >> 8);
	case ACPI_PM1_EN:      return (uint8_t)pm->pm1_en;
	case ACPI_PM1_EN + 1:  return (uint8_t)(pm->pm1_en >> 8);
	case ACPI_PM1_CNT:     return (uint8_t)pm->pm1_cnt;
	case ACPI_PM1_CNT + 1: return (uint8_t)(pm->pm1_cnt >> 8);
	case ACPI_PM_TMR: case ACPI_PM_TMR + 1: case ACPI_PM_TMR + 2: case ACPI_PM_TMR + 3:
		return (uint8_t)(tmr >> (8 * (off - ACPI_PM_TMR)));
	case ACPI_GPE0_STS:     return (uint8_t)pm->gpe0_sts;
	case ACPI_GPE0_STS + 1: return (uint8_t)(pm->gpe0_sts >> 8);
	case ACPI_GPE0_EN:      return (uint8_t)pm->gpe0_en;
	case ACPI_GPE0_EN + 1:  return (uint8_t)(pm->gpe0_en >> 8);
	default:
		return off < ACPI_PM_IO_SIZE ? pm->other[off] : 0xff;
	}
}

uint32_t acpi_pm_read(struct acpi_pm *pm, unsigned offset, unsigned size)
{
	uint32_t tmr = acpi_pm_timer(pm);   /* one sample for the whole access */
	uint32_t v = 0;

	if (size != 1 && size != 2 && size != 4)
		return 0xffffffffu;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)reg_read_byte(pm, offset + i, tmr) << (8 * i);
	return v;
}

static void sleep_request(struct acpi_pm *pm, unsigned typ)
{
	if (typ == ACPI_SLP_TYP_S5) {
		log_info("acpi: S5 (soft off) requested by the guest");
		pm->powered_off = true;
		if (pm->board.poweroff)
			pm->board.poweroff(pm->board.opaque);
		return;
	}
	/* Only \_S5 is in the DSDT; a guest entering another state wakes at
	 * once, with WAK_STS telling it so. */
	if (!pm->warned_sleep)
		log_warn("acpi: sleep type %u requested; not supported, waking at once", typ);
	pm->warned_sleep = true;
	pm->pm1_sts |= ACPI_WAK_STS;
}

static void reg_write_byte(struct acpi_pm *pm, unsigned off, uint8_t b)
{
	switch (off) {
	case ACPI_PM1_STS:
		pm->pm1_sts &= (uint16_t)~(b & PM1_STS_MASK);
		break;
	case ACPI_PM1_STS + 1:
		pm->pm1_sts &= (uint16_t)~((b << 8) & PM1_STS_MASK);
		break;
	case ACPI_PM1_EN:
		pm->pm1_en = (uint16_t)((pm->pm1_en & 0xff00) | (b & PM1_EN_MASK));
		break;
	case ACPI_PM1_EN + 1:
		pm->pm1_en = (uint16_t)((pm->pm1_en & 0x00ff) | ((b << 8) & PM1_EN_MASK));
		break;
	case ACPI_PM1_CNT:
		/* GBL_RLS (bit 2) would tell a BIOS the lock is free; there is
		 * no BIOS, so it is write-only and without effect. */
		pm->pm1_cnt = (uint16_t)((pm->pm1_cnt & 0xff00) | (b & PM1_CNT_MASK));
		break;
	case ACPI_PM1_CNT + 1:
		pm->pm1_cnt = (uint16_t)((pm->pm1_cnt & 0x00ff) | ((b << 8) & PM1_CNT_MASK));
		if ((b << 8) & ACPI_SLP_EN)
			sleep_request(pm, (pm->pm1_cnt & ACPI_SLP_TYP_MASK) >> ACPI_SLP_TYP_SHIFT);
		break;
	case ACPI_PM_TMR: case ACPI_PM_TMR + 1: case ACPI_PM_TMR + 2: case ACPI_PM_TMR + 3:
		break;  /* read-only */
	case ACPI_GPE0_STS:
		pm->gpe0_sts &= (uint16_t)~b;
		break;
	case ACPI_GPE0_STS + 1:
		pm->gpe0_sts &= (uint16_t)~(b << 8);
		break;
	case ACPI_GPE0_EN:
		pm->gpe0_en = (uint16_t)((pm->gpe0_en & 0xff00) | b);
		break;
	case ACPI_GPE0_EN + 1:
		pm->gpe0_en = (uint16_t)((pm->gpe0_en & 0x00ff) | (b << 8));
		break;
	default:
		if (off < ACPI_PM_IO_SIZE)
			pm->other[off] = b;
		break;
	}
}

void acpi_pm_write(struct acpi_pm *pm, unsigned offset, uint32_t value, unsigned size)
{
	if (size != 1 && size != 2 && size != 4)
		return;
	for (unsigned i = 0; i < size; i++)
		reg_write_byte(pm, offset + i, (uint8_t)(value >> (8 * i)));
	update_sci(pm);
}

int acpi_pm_init(struct acpi_pm *pm, struct clock *clk, struct irq_line sci,
                 const struct acpi_pm_board_ops *board)
{
	if (!clk)
		return -1;
	memset(pm, 0, sizeof(*pm));
	pm->clk = clk;
	pm->sci = sci;
	if (board)
		pm->board = *board;
	timer_init(&pm->tmr_overflow, overflow_fired, pm, "acpi-pm-timer");
	acpi_pm_reset(pm);
	return 0;
}

void acpi_pm_reset(struct acpi_pm *pm)
{
	pm->pm1_sts = 0;
	pm->pm1_en = 0;
	pm->pm1_cnt = ACPI_SCI_EN;  /* SMI_CMD is 0: always in ACPI mode */
	pm->gpe0_sts = 0;
	pm->gpe0_en = 0;
	memset(pm->other, 0, sizeof(pm->other));
	pm->powered_off = false;
	update_sci(pm);
	arm_overflow(pm);
}

void acpi_press_power_button(struct acpi_pm *pm)
{
	pm->pm1_sts |= ACPI_PWRBTN_STS;
	update_sci(pm);
}

void acpi_raise_gpe(struct acpi_pm *pm, unsigned bit)
{
	if (bit >= 16)
		return;
	pm->gpe0_sts |= (uint16_t)(1u << bit);
	update_sci(pm);
}

#define ACPI_PM_VERSION 1

void acpi_pm_save(const struct acpi_pm *pm, struct sbuf *sb)
{
	size_t mark = sbuf_begin(sb, "acpi-pm", ACPI_PM_VERSION);

	sbuf_put_u16(sb, pm->pm1_sts);
	sbuf_put_u16(sb, pm->pm1_en);
	sbuf_put_u16(sb, pm->pm1_cnt);
	sbuf_put_u16(sb, pm->gpe0_sts);
	sbuf_put_u16(sb, pm->gpe0_en);
	sbuf_put_bytes(sb, pm->other, sizeof(pm->other));
	sbuf_put_bool(sb, pm->powered_off);
	sbuf_end(sb, mark);
}

int acpi_pm_load(struct acpi_pm *pm, struct sbuf *sb)
{
	uint16_t sts, en, cnt, gsts, gen;
	uint8_t other[ACPI_PM_IO_SIZE];
	bool off;
	uint32_t ver;

	if (!sbuf_open(sb, "acpi-pm", &ver))
		return -1;
	if (ver != ACPI_PM_VERSION) {
		sbuf_fail(sb, "acpi-pm: version %u, expected %u", ver, ACPI_PM_VERSION);
		return -1;
	}
	sts = sbuf_get_u16(sb);
	en = sbuf_get_u16(sb);
	cnt = sbuf_get_u16(sb);
	gsts = sbuf_get_u16(sb);
	gen = sbuf_get_u16(sb);
	sbuf_get_bytes(sb, other, sizeof(other));
	off = sbuf_get_bool(sb);
	if (!sbuf_close(sb))
		return -1;
	if ((sts & ~PM1_STS_MASK) || (en & ~PM1_EN_MASK) || (cnt & ~PM1_CNT_MASK)) {
		sbuf_fail(sb, "acpi-pm: reserved bits set in PM1 registers");
		return -1;
	}
	pm->pm1_sts = sts;
	pm->pm1_en = en;
	pm->pm1_cnt = cnt;
	pm->gpe0_sts = gsts;
	pm->gpe0_en = gen;
	memcpy(pm->other, other, sizeof(other));
	pm->powered_off = off;
	update_sci(pm);
	arm_overflow(pm);
	return 0;
}

/* ==== Tables ==== */

uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

#define ACPI_HDR 36
#define OEM_ID "VMD   "
#define OEM_TABLE_ID "VMDBOARD"

static void table_header(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	t[9] = 0;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	put32(t + 24, 1);               /* OEM revision */
	memcpy(t + 28, "VMD ", 4);      /* creator */
	put32(t + 32, 1);
}

static void table_checksum(uint8_t *t, size_t len)
{
	t[9] = 0;
	t[9] = (uint8_t)(0 - acpi_checksum(t, len));
}

/* ---- AML assembler ---- */

#define AML_MAX 8192
#define AML_DEPTH 8

struct aml {
	uint8_t buf[AML_MAX];
	size_t len;
	size_t open[AML_DEPTH];   /* where each open PkgLength goes */
	unsigned depth;
	bool overflow;
};

static void aml_byte(struct aml *a, uint8_t b)
{
	if (a->len >= AML_MAX) {
		a->overflow = true;
		return;
	}
	a->buf[a->len++] = b;
}

static void aml_bytes(struct aml *a, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		aml_byte(a, ((const uint8_t *)p)[i]);
}

static void aml_word(struct aml *a, uint16_t v)
{
	aml_byte(a, (uint8_t)v);
	aml_byte(a, (uint8_t)(v >> 8));
}

static void aml_dword(struct aml *a, uint32_t v)
{
	aml_word(a, (uint16_t)v);
	aml_word(a, (uint16_t)(v >> 16));
}

/* Starts a PkgLength-framed object; aml_close() fills the length in. */
static void aml_open(struct aml *a)
{
	if (a->depth >= AML_DEPTH) {
		a->overflow = true;
		return;
	}
	a->open[a->depth++] = a->len;
}

static void aml_close(struct aml *a)
{
	size_t start, body;
	unsigned n;
	uint32_t total;

	if (a->depth == 0 || a->overflow) {
		a->overflow = true;
		return;
	}
	start = a->open[--a->depth];
	body = a->len - start;
	/* The encoded length counts its own bytes too. */
	if (body + 1 <= 0x3f)
		n = 1;
	else if (body + 2 <= 0xfff)
		n = 2;
	else if (body + 3 <= 0xfffff)
		n = 3;
	else
		n = 4;
	if (a->len + n > AML_MAX) {
		a->overflow = true;
		return;
	}
	memmove(a->buf + start + n, a->buf + start, body);
	a->len += n;
	total = (uint32_t)(body + n);
	if (n == 1) {
		a->buf[start] = (uint8_t)total;
	} else {
		a->buf[start] = (uint8_t)(((n - 1) << 6) | (total & 0x0f));
		for (unsigned i = 1; i < n; i++)
			a->buf[start + i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	}
}

/* A name path like "\\_SB_.PCI0" or "_HID"; segments shorter than four
 * characters are padded with '_'. */
static void aml_name(struct aml *a, const char *path)
{
	const char *segs[8];
	size_t lens[8];
	unsigned nseg = 0;
	const char *p = path;

	if (*p == '\\') {
		aml_byte(a, '\\');
		p++;
	}
	while (*p && nseg < 8) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		segs[nseg] = p;
		lens[nseg++] = l > 4 ? 4 : l;
		p += l;
		if (*p == '.')
			p++;
	}
	if (nseg == 0) {
		aml_byte(a, 0x00);      /* NullName */
		return;
	}
	if (nseg == 2) {
		aml_byte(a, 0x2e);      /* DualNamePrefix */
	} else if (nseg > 2) {
		aml_byte(a, 0x2f);      /* MultiNamePrefix */
		aml_byte(a, (uint8_t)nseg);
	}
	for (unsigned i = 0; i < nseg; i++)
		for (unsigned j = 0; j < 4; j++)
			aml_byte(a, j < lens[i] ? (uint8_t)segs[i][j] : '_');
}

static void aml_int(struct aml *a, uint32_t v)
{
	if (v == 0) {
		aml_byte(a, 0x00);      /* ZeroOp */
	} else if (v == 1) {
		aml_byte(a, 0x01);      /* OneOp */
	} else if (v <= 0xff) {
		aml_byte(a, 0x0a);
		aml_byte(a, (uint8_t)v);
	} else if (v <= 0xffff) {
		aml_byte(a, 0x0b);
		aml_word(a, (uint16_t)v);
	} else {
		aml_byte(a, 0x0c);
		aml_dword(a, v);
	}
}

static uint32_t eisa_id(const char *id)
{
	uint32_t hex = (uint32_t)strtoul(id + 3, NULL, 16);
	uint8_t b0 = (uint8_t)(((id[0] - 0x40) << 2) | ((id[1] - 0x40) >> 3));
	uint8_t b1 = (uint8_t)((((id[1] - 0x40) & 7) << 5) | (id[2] - 0x40));

	return b0 | (uint32_t)b1 << 8 | ((hex >> 8) & 0xff) << 16 | (hex & 0xff) << 24;
}

static void aml_name_int(struct aml *a, const char *name, uint32_t v)
{
	aml_byte(a, 0x08);          /* NameOp */
	aml_name(a, name);
	aml_int(a, v);
}

/* Name(_HID, EisaId(id)) always as a DWord, as compilers emit it. */
static void aml_name_eisaid(struct aml *a, const char *name, const char *id)
{
	aml_byte(a, 0x08);
	aml_name(a, name);
	aml_byte(a, 0x0c);
	aml_dword(a, eisa_id(id));
}

static void aml_scope_open(struct aml *a, const char *name)
{
	aml_byte(a, 0x10);          /* ScopeOp */
	aml_open(a);
	aml_name(a, name);
}

static void aml_device_open(struct aml *a, const char *name)
{
	aml_byte(a, 0x5b);          /* ExtOpPrefix */
	aml_byte(a, 0x82);          /* DeviceOp */
	aml_open(a);
	aml_name(a, name);
}

static void aml_package_open(struct aml *a, unsigned elements)
{
	aml_byte(a, 0x12);          /* PackageOp */
	aml_open(a);
	aml_byte(a, (uint8_t)elements);
}

/* Name(name, Buffer(){ bytes }) for resource templates. */
static void aml_name_buffer(struct aml *a, const char *name, const uint8_t *bytes, size_t n)
{
	aml_byte(a, 0x08);
	aml_name(a, name);
	aml_byte(a, 0x11);          /* BufferOp */
	aml_open(a);
	aml_int(a, (uint32_t)n);
	aml_bytes(a, bytes, n);
	aml_close(a);
}

/* ---- resource descriptors ---- */

struct res {
	uint8_t b[256];
	size_t n;
};

static void res_byte(struct res *r, uint8_t v)
{
	if (r->n < sizeof(r->b))
		r->b[r->n++] = v;
}

static void res_word(struct res *r, uint16_t v)
{
	res_byte(r, (uint8_t)v);
	res_byte(r, (uint8_t)(v >> 8));
}

static void res_dword(struct res *r, uint32_t v)
{
	res_word(r, (uint16_t)v);
	res_word(r, (uint16_t)(v >> 16));
}

/* IO(Decode16, base, base, 1, len) */
static void res_io(struct res *r, uint16_t base, uint8_t len)
{
	res_byte(r, 0x47);
	res_byte(r, 0x01);
	res_word(r, base);
	res_word(r, base);
	res_byte(r, 0x01);
	res_byte(r, len);
}

/* IRQNoFlags(){irq}: edge, active high, exclusive (ISA style) */
static void res_irq(struct res *r, unsigned irq)
{
	res_byte(r, 0x22);
	res_word(r, (uint16_t)(1u << irq));
}

/* Word address space: ResourceProducer, MinFixed, MaxFixed, PosDecode. */
static void res_word_space(struct res *r, uint8_t type, uint8_t tflags, uint16_t min, uint16_t max)
{
	res_byte(r, 0x88);
	res_word(r, 13);
	res_byte(r, type);
	res_byte(r, 0x0c);
	res_byte(r, tflags);
	res_word(r, 0);
	res_word(r, min);
	res_word(r, max);
	res_word(r, 0);
	res_word(r, (uint16_t)(max - min + 1));
}

/* DWordMemory: ResourceProducer, MinFixed, MaxFixed, PosDecode. */
static void res_dword_mem(struct res *r, uint8_t tflags, uint32_t min, uint32_t max)
{
	res_byte(r, 0x87);
	res_word(r, 23);
	res_byte(r, 0x00);
	res_byte(r, 0x0c);
	res_byte(r, tflags);
	res_dword(r, 0);
	res_dword(r, min);
	res_dword(r, max);
	res_dword(r, 0);
	res_dword(r, max - min + 1);
}

static void res_end(struct res *r)
{
	res_byte(r, 0x79);
	res_byte(r, 0x00);          /* checksum 0: treated as valid */
}

static void aml_isa_device(struct aml *a, const char *name, const char *hid, int uid,
                           const struct res *crs)
{
	aml_device_open(a, name);
	aml_name_eisaid(a, "_HID", hid);
	if (uid >= 0)
		aml_name_int(a, "_UID", (uint32_t)uid);
	aml_name_buffer(a, "_CRS", crs->b, crs->n);
	aml_close(a);
}

static int build_dsdt(const struct acpi_table_config *cfg, struct aml *a)
{
	struct res r;

	a->len = ACPI_HDR;          /* header filled in by the caller */

	/* \_S5: SLP_TYP for PM1a and PM1b, as PM1_CNT implements it. */
	aml_byte(a, 0x08);
	aml_name(a, "\\_S5");
	aml_package_open(a, 4);
	aml_int(a, ACPI_SLP_TYP_S5);
	aml_int(a, ACPI_SLP_TYP_S5);
	aml_int(a, 0);
	aml_int(a, 0);
	aml_close(a);

	aml_scope_open(a, "\\_SB");
	aml_device_open(a, "PCI0");
	aml_name_eisaid(a, "_HID", "PNP0A03");
	aml_name_int(a, "_ADR", 0);
	aml_name_int(a, "_UID", 0);

	memset(&r, 0, sizeof(r));
	res_word_space(&r, 2, 0x00, 0x0000, 0x00ff);           /* bus numbers 0-255 */
	res_io(&r, 0x0cf8, 8);                                  /* config mechanism #1 */
	res_word_space(&r, 1, 0x03, 0x0000, 0x0cf7);           /* I/O window below it */
	res_word_space(&r, 1, 0x03, 0x0d00, 0xffff);           /* and above */
	res_dword_mem(&r, 0x03, 0x000a0000, 0x000bffff);       /* VGA memory */
	if (cfg->pci_mem_limit > cfg->pci_mem_base)
		res_dword_mem(&r, 0x01, cfg->pci_mem_base, cfg->pci_mem_limit);
	res_end(&r);
	aml_name_buffer(a, "_CRS", r.b, r.n);

	/*
	 * _PRT: each slot's INTA-D to the IRQ its PIRQ is routed to, given
	 * as a GSI (no link devices: the routing is fixed by the firmware
	 * setup and the guest does not reprogram it).
	 */
	unsigned entries = 0;
	for (unsigned slot = 1; slot < 32; slot++)
		for (unsigned pin = 0; pin < 4; pin++)
			entries += cfg->pirq_irq[pci_slot_pirq(slot, pin + 1)] < 16;
	aml_byte(a, 0x08);
	aml_name(a, "_PRT");
	aml_package_open(a, entries);
	for (unsigned slot = 1; slot < 32; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			/* _PRT pins are 0-based (INTA = 0), config space's 1-based. */
			uint8_t irq = cfg->pirq_irq[pci_slot_pirq(slot, pin + 1)];

			if (irq >= 16)
				continue;
			aml_package_open(a, 4);
			aml_int(a, (slot << 16) | 0xffff);
			aml_int(a, pin);
			aml_int(a, 0);
			aml_int(a, irq);
			aml_close(a);
		}
	}
	aml_close(a);

	aml_device_open(a, "ISA");
	aml_name_int(a, "_ADR", 0x00010000);

	memset(&r, 0, sizeof(r));
	res_io(&r, 0x60, 1);
	res_io(&r, 0x64, 1);
	res_irq(&r, 1);
	res_end(&r);
	aml_isa_device(a, "KBD", "PNP0303", -1, &r);

	memset(&r, 0, sizeof(r));
	res_irq(&r, 12);
	res_end(&r);
	aml_isa_device(a, "MOU", "PNP0F13", -1, &r);

	memset(&r, 0, sizeof(r));
	res_io(&r, 0x70, 2);
	res_irq(&r, 8);
	res_end(&r);
	aml_isa_device(a, "RTC", "PNP0B00", -1, &r);

	static const struct { const char *name; uint16_t port; uint8_t irq; } uarts[2] = {
		{ "COM1", 0x3f8, 4 }, { "COM2", 0x2f8, 3 },
	};
	for (unsigned i = 0; i < 2; i++) {
		if (!cfg->have_uart[i])
			continue;
		memset(&r, 0, sizeof(r));
		res_io(&r, uarts[i].port, 8);
		res_irq(&r, uarts[i].irq);
		res_end(&r);
		aml_isa_device(a, uarts[i].name, "PNP0501", (int)i + 1, &r);
	}

	aml_close(a);   /* ISA */
	aml_close(a);   /* PCI0 */
	aml_close(a);   /* \_SB */
	if (a->overflow || a->depth != 0)
		return -1;
	return 0;
}

/* FADT revision 1 field offsets (ACPI 1.0b table 5-6) */
#define FADT_LEN          116
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT         40
#define FADT_INT_MODEL    44
#define FADT_SCI_INT      46
#define FADT_SMI_CMD      48
#define FADT_PM1A_EVT     56
#define FADT_PM1A_CNT     64
#define FADT_PM_TMR       76
#define FADT_GPE0         80
#define FADT_PM1_EVT_LEN  88
#define FADT_PM1_CNT_LEN  89
#define FADT_PM_TMR_LEN   91
#define FADT_GPE0_LEN     92
#define FADT_P_LVL2_LAT   96
#define FADT_P_LVL3_LAT   98
#define FADT_CENTURY      108
#define FADT_FLAGS        112

#define FADT_F_WBINVD     (1u << 0)
#define FADT_F_PROC_C1    (1u << 2)
#define FADT_F_SLP_BUTTON (1u << 5)   /* 1 = no fixed-feature sleep button */

#define FACS_LEN 64

static size_t align(size_t v, size_t a)
{
	return (v + a - 1) & ~(a - 1);
}

long acpi_build_tables(const struct acpi_table_config *cfg, uint8_t *buf, size_t cap,
                       uint8_t rsdp[ACPI_RSDP_SIZE], struct acpi_tables_layout *layout)
{
	struct acpi_tables_layout l;
	struct aml *dsdt;
	uint8_t *t;

	if (cfg->tables_addr & 63) {
		log_err("acpi: tables address 0x%x is not 64-byte aligned", cfg->tables_addr);
		return -1;
	}
	dsdt = calloc(1, sizeof(*dsdt));
	if (!dsdt)
		return -1;
	if (build_dsdt(cfg, dsdt) < 0) {
		log_err("acpi: DSDT does not fit in %u bytes", AML_MAX);
		free(dsdt);
		return -1;
	}
	l.rsdt = 0;
	l.fadt = align(ACPI_HDR + 4, 64);
	l.facs = align(l.fadt + FADT_LEN, 64);
	l.dsdt = align(l.facs + FACS_LEN, 64);
	l.len = l.dsdt + dsdt->len;
	if (l.len > cap || (uint64_t)cfg->tables_addr + l.len > 0x100000000ull) {
		log_err("acpi: tables need %zu bytes, %zu available", l.len, cap);
		free(dsdt);
		return -1;
	}
	memset(buf, 0, l.len);

	/* DSDT */
	t = buf + l.dsdt;
	memcpy(t, dsdt->buf, dsdt->len);
	table_header(t, "DSDT", (uint32_t)dsdt->len, 1);
	table_checksum(t, dsdt->len);
	free(dsdt);

	/* FACS: no checksum, firmware waking vector unused (no S3). */
	t = buf + l.facs;
	memcpy(t, "FACS", 4);
	put32(t + 4, FACS_LEN);

	/* FADT */
	t = buf + l.fadt;
	table_header(t, "FACP", FADT_LEN, 1);
	put32(t + FADT_FIRMWARE_CTRL, cfg->tables_addr + (uint32_t)l.facs);
	put32(t + FADT_DSDT, cfg->tables_addr + (uint32_t)l.dsdt);
	t[FADT_INT_MODEL] = 0;          /* dual 8259 */
	put16(t + FADT_SCI_INT, cfg->sci_irq);
	put32(t + FADT_SMI_CMD, 0);     /* no SMI: ACPI mode from reset */
	put32(t + FADT_PM1A_EVT, cfg->pm_base + ACPI_PM1_STS);
	put32(t + FADT_PM1A_CNT, cfg->pm_base + ACPI_PM1_CNT);
	put32(t + FADT_PM_TMR, cfg->pm_base + ACPI_PM_TMR);
	put32(t + FADT_GPE0, cfg->pm_base + ACPI_GPE0_STS);
	t[FADT_PM1_EVT_LEN] = 4;
	t[FADT_PM1_CNT_LEN] = 2;
	t[FADT_PM_TMR_LEN] = 4;
	t[FADT_GPE0_LEN] = 4;
	put16(t + FADT_P_LVL2_LAT, 101);    /* > 100: no C2 */
	put16(t + FADT_P_LVL3_LAT, 1001);   /* > 1000: no C3 */
	t[FADT_CENTURY] = 0x32;             /* RTC CMOS century byte */
	/* PWR_BUTTON (bit 4) clear: the power button is a fixed feature. */
	put32(t + FADT_FLAGS, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON);
	table_checksum(t, FADT_LEN);

	/* RSDT */
	t = buf + l.rsdt;
	table_header(t, "RSDT", ACPI_HDR + 4, 1);
	put32(t + ACPI_HDR, cfg->tables_addr + (uint32_t)l.fadt);
	table_checksum(t, ACPI_HDR + 4);

	/* RSDP (revision 0: ACPI 1.0, RSDT only) */
	memset(rsdp, 0, ACPI_RSDP_SIZE);
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, OEM_ID, 6);
	rsdp[15] = 0;
	put32(rsdp + 16, cfg->tables_addr + (uint32_t)l.rsdt);
	rsdp[8] = (uint8_t)(0 - acpi_checksum(rsdp, ACPI_RSDP_SIZE));

	if (layout)
		*layout = l;
	return (long)l.len;
}
