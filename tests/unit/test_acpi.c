/* ACPI PM block (timer, PM1 events, S5) and the ACPI tables built for the guest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "machine/acpi.h"
#include "machine/clock.h"
#include "tests/unit/devtest.h"
#include "tests/unit/harness.h"

struct rig {
	struct clock clk;
	struct acpi_pm pm;
	int sci;
	int sci_edges;
	int poweroffs;
};

static void rig_sci(void *ctrl, unsigned pin, bool level)
{
	struct rig *r = ctrl;

	if (level && !r->sci)
		r->sci_edges++;
	r->sci = level;
}

static void rig_poweroff(void *opaque)
{
	((struct rig *)opaque)->poweroffs++;
}

static int rig_init(struct rig *r)
{
	struct acpi_pm_board_ops ops = { .poweroff = rig_poweroff, .opaque = r };

	memset(r, 0, sizeof(*r));
	clock_init_manual(&r->clk);
	return acpi_pm_init(&r->pm, &r->clk, (struct irq_line){ rig_sci, r, 9 }, &ops);
}

static void advance(struct rig *r, uint64_t ns)
{
	clock_advance(&r->clk, ns);
	timers_run(&r->clk, clock_now(&r->clk));
}

static void pm_timer_rate(struct test *t)
{
	struct rig r;
	uint32_t a, b;

	REQUIRE(t, rig_init(&r) == 0);
	CHECK_EQ(t, acpi_pm_read(&r.pm, ACPI_PM_TMR, 4), 0);
	advance(&r, 1000000000);        /* one second */
	CHECK_EQ(t, acpi_pm_read(&r.pm, ACPI_PM_TMR, 4), 3579545);
	advance(&r, 1000);              /* 1 us = 3.58 ticks */
	CHECK_EQ(t, acpi_pm_read(&r.pm, ACPI_PM_TMR, 4), 3579548);
	/* Byte reads see the same counter. */
	CHECK_EQ(t, acpi_pm_read(&r.pm, ACPI_PM_TMR + 2, 1), (3579548 >> 16) & 0xff);
	/* Monotonic in small steps, 24 bits wide, wraps after 2^24 ticks. */
	a = acpi_pm_timer(&r.pm);
	for (int i = 0; i < 1000; i++) {
		advance(&r, 777);
		b = acpi_pm_timer(&r.pm);
		CHECK(t, ((b - a) & 0xffffff) <= 3);
		a = b;
	}
	advance(&r, 4686968875ull);     /* 2^24 ticks at 3.579545 MHz, give or take one */
	b = acpi_pm_timer(&r.pm);
	CHECK(t, ((b - a) & 0xffffff) <= 1 || ((a - b) & 0xffffff) <= 1);
	CHECK(t, b <= 0xffffff);
	/* Writes do not move it. */
	acpi_pm_write(&r.pm, ACPI_PM_TMR, 0, 4);
	CHECK_EQ(t, acpi_pm_timer(&r.pm), b);
}

static void timer_overflow_status(struct test *t)
{
	struct rig r;
	uint64_t half = (uint64_t)(((1ull << 23) * 1000000000ull) / ACPI_PM_TMR_HZ);

	REQUIRE(t, rig_init(&r) == 0);
	advance(&r, half - 1000);
	CHECK_EQ(t, acpi_pm_read(&r.pm, ACPI_PM1_STS, 2) & ACPI_TMR_STS, 0);
	advance(&r, 2000);
	CHECK_EQ(t, acpi_pm_read(&r.pm, ACPI_PM1_STS, 2) & ACPI_TMR_STS, ACPI_TMR_STS);
	CHECK_EQ(t, r.sci, 0);          /* not enabled */
	acpi_pm_write(&r.pm, ACPI_PM1_EN, ACPI_TMR_STS, 2);
	CHECK_EQ(t, r.sci, 1);
	acpi_pm_write(&r.pm, ACPI_PM1_STS, ACPI_TMR_STS, 2);
	CHECK_EQ(t, r.sci, 0);
	advance(&r, half);              /* next flip of bit 23 */
	CHECK_EQ(t, r.sci, 1);
}

static void power_button(struct test *t)
{
	struct rig r;

	REQUIRE(t, rig_init(&r) == 0);
	CHECK_EQ(t, acpi_pm_read(&r.pm, ACPI_PM1_CNT, 2) & ACPI_SCI_EN, ACPI_SCI_EN);
	/* Not enabled: status only. */
	acpi_press_power_button(&r.pm);
	CHECK_EQ(t, acpi_pm_read(&r.pm, ACPI_PM1_STS, 2) & ACPI_PWRBTN_STS, ACPI_PWRBTN_STS);
	CHECK_EQ(t, r.sci, 0);
	/* Enabling with the status pending raises the SCI. */
	acpi_pm_write(&r.pm, ACPI_PM1_EN, ACPI_PWRBTN_STS, 2);
	CHECK_EQ(t, acpi_pm_read(&r.pm, ACPI_PM1_EN, 2), ACPI_PWRBTN_STS);
	CHECK_EQ(t, r.sci, 1);
	/* Writing 0 leaves it; writing 1 clears it and drops the SCI. */
	acpi_pm_write(&r.pm, ACPI_PM1_STS, 0, 2);
	CHECK_EQ(t, r.sci, 1);
	acpi_pm_write(&r.pm, ACPI_PM1_STS + 1, ACPI_PWRBTN_STS >> 8, 1);
	CHECK_EQ(t, r.sci, 0);
	CHECK_EQ(t, acpi_pm_read(&r.pm, ACPI_PM1_STS, 2) & ACPI_PWRBTN_STS, 0);
	/* A second press: another SCI edge. */
	int edges = r.sci_edges;
	acpi_press_power_button(&r.pm);
	CHECK_EQ(t, r.sci_edges, edges + 1);
	acpi_pm_write(&r.pm, ACPI_PM1_STS, ACPI_PWRBTN_STS, 2);
	/* Without SCI_EN the event does not reach the SCI. */
	acpi_pm_write(&r.pm, ACPI_PM1_CNT, 0, 2);
	acpi_press_power_button(&r.pm);
	CHECK_EQ(t, r.sci, 0);
	acpi_pm_write(&r.pm, ACPI_PM1_CNT, ACPI_SCI_EN, 2);
	CHECK_EQ(t, r.sci, 1);
	/* Reserved enable bits stay 0. */
	acpi_pm_write(&r.pm, ACPI_PM1_EN, 0xffff, 2);
	CHECK_EQ(t, acpi_pm_read(&r.pm, ACPI_PM1_EN, 2), 0x0521);
	/* GPE0: status W1C, enable gates SCI. */
	acpi_pm_write(&r.pm, ACPI_PM1_EN, 0, 2);
	acpi_pm_write(&r.pm, ACPI_PM1_STS, 0xffff, 2);
	CHECK_EQ(t, r.sci, 0);
	acpi_raise_gpe(&r.pm, 3);
	CHECK_EQ(t, r.sci, 0);
	acpi_pm_write(&r.pm, ACPI_GPE0_EN, 0x08, 2);
	CHECK_EQ(t, r.sci, 1);
	acpi_pm_write(&r.pm, ACPI_GPE0_STS, 0x08, 2);
	CHECK_EQ(t, r.sci, 0);
}

static void sleep_states(struct test *t)
{
	struct rig r;

	REQUIRE(t, rig_init(&r) == 0);
	/* As Linux does it: SLP_TYP first, then SLP_TYP with SLP_EN. */
	acpi_pm_write(&r.pm, ACPI_PM1_CNT, ACPI_SCI_EN | (ACPI_SLP_TYP_S5 << ACPI_SLP_TYP_SHIFT), 2);
	CHECK_EQ(t, r.poweroffs, 0);
	acpi_pm_write(&r.pm, ACPI_PM1_CNT,
	              ACPI_SCI_EN | (ACPI_SLP_TYP_S5 << ACPI_SLP_TYP_SHIFT) | ACPI_SLP_EN, 2);
	CHECK_EQ(t, r.poweroffs, 1);
	CHECK(t, r.pm.powered_off);
	/* SLP_EN is write-only. */
	CHECK_EQ(t, acpi_pm_read(&r.pm, ACPI_PM1_CNT, 2) & ACPI_SLP_EN, 0);
	acpi_pm_reset(&r.pm);
	CHECK(t, !r.pm.powered_off);
	/* Another sleep type is not S5: no power-off, WAK_STS at once. */
	acpi_pm_write(&r.pm, ACPI_PM1_CNT, ACPI_SCI_EN | (1u << ACPI_SLP_TYP_SHIFT) | ACPI_SLP_EN, 2);
	CHECK_EQ(t, r.poweroffs, 1);
	CHECK_EQ(t, acpi_pm_read(&r.pm, ACPI_PM1_STS, 2) & ACPI_WAK_STS, ACPI_WAK_STS);
	/* Byte write of the high half alone also works (SLP_TYP 0 + SLP_EN). */
	acpi_pm_write(&r.pm, ACPI_PM1_CNT + 1, ACPI_SLP_EN >> 8, 1);
	CHECK_EQ(t, r.poweroffs, 2);
}

/* The PM block under the shared save/load checks (devtest.h); ctx is the rig. */
static int load_pm(void *ctx, struct sbuf *sb)
{
	return acpi_pm_load(&((struct rig *)ctx)->pm, sb);
}

static int fresh_pm(void *ctx)
{
	return rig_init(ctx);
}

/* A refused load leaves the fresh block's enables clear. */
static void pm_untouched(struct test *t, void *ctx)
{
	CHECK_EQ(t, acpi_pm_read(&((struct rig *)ctx)->pm, ACPI_GPE0_EN, 2), 0);
}

static void pm_save_load(struct test *t)
{
	struct rig r, r2;
	struct devtest_ops ops = { .ctx = &r2, .load = load_pm, .reset = fresh_pm,
	                           .check_untouched = pm_untouched };
	struct sbuf sb, rd;

	REQUIRE(t, rig_init(&r) == 0);
	acpi_pm_write(&r.pm, ACPI_PM1_EN, ACPI_PWRBTN_STS, 2);
	acpi_press_power_button(&r.pm);
	acpi_pm_write(&r.pm, ACPI_GPE0_EN, 0x1234, 2);
	sbuf_init(&sb);
	acpi_pm_save(&r.pm, &sb);
	REQUIRE(t, !sb.error);
	REQUIRE(t, rig_init(&r2) == 0);
	sbuf_init_read(&rd, sb.data, sb.len);
	REQUIRE(t, acpi_pm_load(&r2.pm, &rd) == 0);
	CHECK_EQ(t, r2.sci, 1);
	CHECK_EQ(t, acpi_pm_read(&r2.pm, ACPI_GPE0_EN, 2), 0x1234);
	CHECK_EQ(t, acpi_pm_read(&r2.pm, ACPI_PM1_STS, 2), ACPI_PWRBTN_STS);
	devtest_truncations(t, &ops, sb.data, sb.len, 1);
	/* Reserved bits in PM1_CNT are refused. The section ends with
	 * PM1_CNT, GPE0_STS, GPE0_EN, the 64 other bytes and a bool. */
	sb.data[sb.len - 1 - ACPI_PM_IO_SIZE - 2 - 2 - 2] = 0xc1;  /* PM1_CNT low byte */
	devtest_refuses(t, &ops, sb.data, sb.len, "acpi");
	sbuf_free(&sb);
}

/* ---- tables ---- */

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static const struct acpi_table_config test_cfg = {
	.tables_addr = 0x07ff0000, .pm_base = 0x600, .sci_irq = 9,
	.pirq_irq = { 10, 10, 11, 11 }, .pci_mem_base = 0xe0000000u,
	.pci_mem_limit = 0xfebfffffu, .have_uart = { true, false },
};

/* The table at guest address `addr`, checked for bounds. */
static const uint8_t *at(const uint8_t *buf, long len, uint32_t addr, uint32_t base)
{
	if (addr < base || addr - base + 36 > (uint32_t)len)
		return NULL;
	return buf + (addr - base);
}

static bool contains(const uint8_t *p, size_t n, const void *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(p + i, needle, m) == 0)
			return true;
	return false;
}

static void tables_parse_back(struct test *t)
{
	static uint8_t buf[65536];
	uint8_t rsdp[ACPI_RSDP_SIZE];
	struct acpi_tables_layout l;
	const struct acpi_table_config *c = &test_cfg;
	long len = acpi_build_tables(c, buf, sizeof(buf), rsdp, &l);

	REQUIRE(t, len > 0);
	CHECK(t, memcmp(rsdp, "RSD PTR ", 8) == 0);
	CHECK_EQ(t, acpi_checksum(rsdp, ACPI_RSDP_SIZE), 0);
	CHECK_EQ(t, rsdp[15], 0);

	const uint8_t *rsdt = at(buf, len, get32(rsdp + 16), c->tables_addr);
	REQUIRE(t, rsdt != NULL);
	CHECK(t, memcmp(rsdt, "RSDT", 4) == 0);
	REQUIRE(t, get32(rsdt + 4) == 40);
	CHECK_EQ(t, acpi_checksum(rsdt, 40), 0);

	const uint8_t *fadt = at(buf, len, get32(rsdt + 36), c->tables_addr);
	REQUIRE(t, fadt != NULL);
	CHECK(t, memcmp(fadt, "FACP", 4) == 0);
	REQUIRE(t, get32(fadt + 4) == 116);
	CHECK_EQ(t, acpi_checksum(fadt, 116), 0);
	CHECK_EQ(t, get16(fadt + 46), 9);               /* SCI_INT */
	CHECK_EQ(t, get32(fadt + 48), 0);               /* SMI_CMD */
	CHECK_EQ(t, get32(fadt + 56), 0x600);           /* PM1a_EVT_BLK */
	CHECK_EQ(t, get32(fadt + 64), 0x604);           /* PM1a_CNT_BLK */
	CHECK_EQ(t, get32(fadt + 76), 0x608);           /* PM_TMR_BLK */
	CHECK_EQ(t, get32(fadt + 80), 0x60c);           /* GPE0_BLK */
	CHECK_EQ(t, fadt[88], 4);
	CHECK_EQ(t, fadt[89], 2);
	CHECK_EQ(t, fadt[91], 4);
	CHECK_EQ(t, fadt[92], 4);
	CHECK_EQ(t, get32(fadt + 112) & 0x11, 0x01);    /* WBINVD, fixed power button */
	CHECK_EQ(t, (get32(fadt + 112) >> 8) & 1, 0);   /* 24-bit timer */

	uint32_t facs_addr = get32(fadt + 36);
	const uint8_t *facs = at(buf, len, facs_addr, c->tables_addr);
	REQUIRE(t, facs != NULL);
	CHECK_EQ(t, facs_addr & 63, 0);
	CHECK(t, memcmp(facs, "FACS", 4) == 0);
	CHECK_EQ(t, get32(facs + 4), 64);

	const uint8_t *dsdt = at(buf, len, get32(fadt + 40), c->tables_addr);
	REQUIRE(t, dsdt != NULL);
	CHECK(t, memcmp(dsdt, "DSDT", 4) == 0);
	uint32_t dlen = get32(dsdt + 4);
	REQUIRE(t, (size_t)(dsdt - buf) + dlen == (size_t)len);
	CHECK_EQ(t, acpi_checksum(dsdt, dlen), 0);
	/* Name(\_S5, Package(4){0, 0, ...}) and the PCI root's EISA ID. */
	static const uint8_t s5[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0, 0 };
	CHECK(t, contains(dsdt, dlen, s5, sizeof(s5)));
	static const uint8_t pnp0a03[] = { 0x0c, 0x41, 0xd0, 0x0a, 0x03 };
	CHECK(t, contains(dsdt, dlen, pnp0a03, sizeof(pnp0a03)));
	/* _PRT follows the bus's rotation: slot 3 INTA is PIRQC (routed to
	 * 11), slot 4 INTB and slot 5 INTA are PIRQA (10). */
	static const uint8_t s3a[] = { 0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x03, 0x00, 0x00, 0x00, 0x0a, 0x0b };
	static const uint8_t s5a[] = { 0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x05, 0x00, 0x00, 0x00, 0x0a, 0x0a };
	static const uint8_t s4b[] = { 0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x04, 0x00, 0x01, 0x00, 0x0a, 0x0a };
	CHECK(t, contains(dsdt, dlen, s3a, sizeof(s3a)));
	CHECK(t, contains(dsdt, dlen, s5a, sizeof(s5a)));
	CHECK(t, contains(dsdt, dlen, s4b, sizeof(s4b)));

	/* Too small a buffer and a misaligned address are refused. */
	CHECK(t, acpi_build_tables(c, buf, 200, rsdp, NULL) < 0);
	struct acpi_table_config odd = *c;
	odd.tables_addr += 16;
	CHECK(t, acpi_build_tables(&odd, buf, sizeof(buf), rsdp, NULL) < 0);
}

/* For ACPICA's tools: builds the tables and writes the DSDT alone to
 * DIR/dsdt.dat, DIR being a mkdtemp() template. False after a failed check. */
static bool write_dsdt(struct test *t, char *dir)
{
	static uint8_t buf[65536];
	uint8_t rsdp[ACPI_RSDP_SIZE];
	struct acpi_tables_layout l;
	char path[128];
	long len;
	FILE *f;

	len = acpi_build_tables(&test_cfg, buf, sizeof(buf), rsdp, &l);
	CHECK(t, len > 0);
	if (len <= 0)
		return false;
	if (!mkdtemp(dir)) {
		test_fail(t, __FILE__, __LINE__, "mkdtemp %s failed", dir);
		return false;
	}
	snprintf(path, sizeof(path), "%s/dsdt.dat", dir);
	f = fopen(path, "wb");
	if (!f) {
		test_fail(t, __FILE__, __LINE__, "cannot create %s", path);
		return false;
	}
	CHECK_EQ(t, fwrite(buf + l.dsdt, 1, (size_t)len - l.dsdt, f), (size_t)len - l.dsdt);
	CHECK_EQ(t, fclose(f), 0);
	return true;
}

static void remove_dir(struct test *t, const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		test_fail(t, __FILE__, __LINE__, "cannot remove %s", dir);
}

/* Runs iasl's disassembler on the DSDT: proves it is well-formed AML. */
static void dsdt_disassembles(struct test *t)
{
	char dir[] = "/tmp/vmd-acpi-XXXXXX", path[128], cmd[512], line[512];
	FILE *f;
	bool s5 = false, pci = false, kbd = false, prt = false, com1 = false;
	int rc;

	if (system("command -v iasl >/dev/null 2>&1") != 0)
		SKIP(t, "iasl (acpica-tools) not installed");
	REQUIRE(t, write_dsdt(t, dir));
	snprintf(cmd, sizeof(cmd), "cd %s && iasl -d dsdt.dat >iasl.log 2>&1", dir);
	rc = system(cmd);
	CHECK_EQ(t, rc, 0);
	snprintf(path, sizeof(path), "%s/dsdt.dsl", dir);
	f = fopen(path, "r");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			s5 |= strstr(line, "Name (\\_S5, Package (0x04)") != NULL;
			pci |= strstr(line, "EisaId (\"PNP0A03\")") != NULL;
			kbd |= strstr(line, "EisaId (\"PNP0303\")") != NULL;
			com1 |= strstr(line, "EisaId (\"PNP0501\")") != NULL;
			prt |= strstr(line, "Name (_PRT, Package (0x7C)") != NULL;
		}
		fclose(f);
	} else {
		test_fail(t, __FILE__, __LINE__, "iasl wrote no dsdt.dsl");
	}
	CHECK(t, s5);
	CHECK(t, pci);
	CHECK(t, kbd);
	CHECK(t, com1);
	CHECK(t, prt);      /* 31 slots x 4 pins, all routed */
	remove_dir(t, dir);
}

/* Runs the DSDT in ACPICA's own interpreter (acpiexec): the objects the
 * guest evaluates must give what the board implements. */
static void dsdt_executes(struct test *t)
{
	char dir[] = "/tmp/vmd-acpi-XXXXXX", path[128], cmd[768], line[512];
	FILE *f;
	int s5_elements = -1, prt_elements = -1, zeros = 0, gsi10 = 0, gsi11 = 0;
	bool in_s5 = false, hid_ok = false, com1_crs = false, errors = false;

	if (system("command -v acpiexec >/dev/null 2>&1") != 0)
		SKIP(t, "acpiexec (acpica-tools) not installed");
	REQUIRE(t, write_dsdt(t, dir));
	snprintf(cmd, sizeof(cmd),
	         "cd %s && timeout 60 acpiexec -b 'evaluate \\_S5; evaluate \\_SB.PCI0._HID; "
	         "evaluate \\_SB.PCI0._PRT; evaluate \\_SB.PCI0.ISA.COM1._CRS' dsdt.dat "
	         ">out.txt 2>&1", dir);
	CHECK_EQ(t, system(cmd), 0);
	snprintf(path, sizeof(path), "%s/out.txt", dir);
	f = fopen(path, "r");
	REQUIRE(t, f != NULL);
	while (fgets(line, sizeof(line), f)) {
		int n;

		if (strstr(line, "Evaluating \\_S5"))
			in_s5 = true;
		else if (strstr(line, "Evaluating "))
			in_s5 = false;
		if (sscanf(line, " [Package] Contains %d Elements", &n) == 1) {
			if (in_s5 && s5_elements < 0)
				s5_elements = n;
			else if (!in_s5 && n > 4)
				prt_elements = n;
		}
		if (in_s5 && strstr(line, "[Integer] = 0000000000000000"))
			zeros++;
		if (!in_s5 && strstr(line, "[Integer] = 000000000000000A"))
			gsi10++;
		if (!in_s5 && strstr(line, "[Integer] = 000000000000000B"))
			gsi11++;
		hid_ok |= strstr(line, "[Integer] = 00000000030AD041") != NULL;
		/* IO(Decode16, 0x3F8, 0x3F8, 1, 8), IRQNoFlags(){4} */
		com1_crs |= strstr(line, "47 01 F8 03 F8 03 01 08 22 10 00 79 00") != NULL;
		errors |= strstr(line, "AE_") != NULL && strstr(line, "AE_OK") == NULL;
	}
	fclose(f);
	CHECK_EQ(t, s5_elements, 4);
	CHECK(t, zeros >= 2);           /* SLP_TYPa = SLP_TYPb = 0 (S5 on the PIIX4) */
	CHECK(t, hid_ok);
	CHECK_EQ(t, prt_elements, 124);
	/* PIRQ A,B -> 10 and C,D -> 11: each slot has two pins on each. */
	CHECK_EQ(t, gsi10, 62);
	CHECK_EQ(t, gsi11, 62);
	CHECK(t, com1_crs);
	CHECK(t, !errors);
	remove_dir(t, dir);
}

int main(int argc, char **argv)
{
	struct harness h;

	harness_init(&h, "acpi", argc, argv);
	RUN(&h, pm_timer_rate);
	RUN(&h, timer_overflow_status);
	RUN(&h, power_button);
	RUN(&h, sleep_states);
	RUN(&h, pm_save_load);
	RUN(&h, tables_parse_back);
	RUN(&h, dsdt_disassembles);
	RUN(&h, dsdt_executes);
	return harness_done(&h);
}
