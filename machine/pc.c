#include "machine/pc.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/sbuf.h"
#include "machine/bios.h"
#include "machine/multiboot.h"

#define PC_SAVE_VERSION 2               /* 2: the VGA section follows the ACPI one */
#define MAX_KERNEL (256u << 20)
#define MAX_INITRD (1u << 30)

/* PIRQ A-D as a BIOS routes them on this board when there is no BIOS. */
static const uint8_t pirq_irqs[PCI_NUM_PIRQ] = { 10, 10, 11, 11 };

/* --- struct cpu_bus --- */

static uint8_t *bus_ram_page(void *opaque, uint32_t paddr, bool write)
{
	struct pc *pc = opaque;
	uint8_t *page = memory_page(&pc->mem, paddr, write);

	/* The VGA's linear framebuffer is memory too, wherever its BAR points. */
	if (!page && paddr >= PC_PCI_MEM_BASE)
		page = vga_lfb_page(&pc->vga, paddr, write);
	return page;
}

static uint32_t bus_mmio_read(void *opaque, uint32_t paddr, unsigned size)
{
	struct pc *pc = opaque;
	return mmiobus_read(&pc->mmio, paddr, size);
}

static void bus_mmio_write(void *opaque, uint32_t paddr, uint32_t value, unsigned size)
{
	struct pc *pc = opaque;
	mmiobus_write(&pc->mmio, paddr, value, size);
}

static uint32_t bus_io_in(void *opaque, uint16_t port, unsigned size)
{
	struct pc *pc = opaque;
	return iobus_read(&pc->io, port, size);
}

static void bus_io_out(void *opaque, uint16_t port, uint32_t value, unsigned size)
{
	struct pc *pc = opaque;
	iobus_write(&pc->io, port, value, size);
}

static uint8_t bus_intr_ack(void *opaque)
{
	struct pc *pc = opaque;
	return i8259_ack(&pc->pic);
}

static uint64_t bus_clock_ns(void *opaque)
{
	struct pc *pc = opaque;
	return clock_now(&pc->clock);
}

static void bus_ferr(void *opaque, bool level)
{
	struct pc *pc = opaque;
	/* FERR# is the PC's IRQ13 (the 486-style x87 error reporting). */
	i8259_set_irq(&pc->pic, 13, level);
}

/* --- wiring --- */

static void pic_intr(void *opaque, bool level)
{
	struct pc *pc = opaque;
	if (pc->cpu)
		cpu_set_irq(pc->cpu, level);
}

/* The PIT re-injects missed ticks only when the PIC can take a new IRQ0 edge. */
static enum i8254_sink pit_irq0_sink(void *opaque)
{
	switch (i8259_input_state(&((struct pc *)opaque)->pic, 0)) {
	case I8259_INPUT_MASKED: return I8254_SINK_MASKED;
	case I8259_INPUT_PENDING: return I8254_SINK_BUSY;
	default: return I8254_SINK_READY;
	}
}

static struct irq_line pic_line(struct pc *pc, unsigned irq)
{
	return (struct irq_line){ .set = i8259_set_irq, .ctrl = &pc->pic, .pin = irq };
}

/* Stops the CPU at the next instruction boundary with a request for the caller. */
static void request(struct pc *pc, enum pc_request req, const char *reason)
{
	/* A power-off or exit outranks a reset asked for in the same slice. */
	if (pc->request == PC_REQ_NONE || req != PC_REQ_RESET) {
		pc->request = req;
		pc->request_reason = reason;
	}
	if (pc->cpu)
		cpu_request_exit(pc->cpu);
}

static void update_a20(struct pc *pc)
{
	if (pc->cpu)
		cpu_set_a20(pc->cpu, pc->a20_kbc || pc->a20_port92);
}

static void kbc_reset(void *opaque)
{
	request(opaque, PC_REQ_RESET, "reset");
}

static void kbc_set_a20(void *opaque, bool enabled)
{
	struct pc *pc = opaque;
	pc->a20_kbc = enabled;
	update_a20(pc);
}

static void piix_reset_cb(void *opaque, bool hard)
{
	request(opaque, PC_REQ_RESET, "reset");
}

static void acpi_poweroff(void *opaque)
{
	request(opaque, PC_REQ_POWEROFF, "poweroff");
}

static void testdev_exit(void *opaque, int status)
{
	struct pc *pc = opaque;
	pc->exit_status = status;
	request(pc, PC_REQ_DEBUG_EXIT, "debug-exit");
}

static void set_pam(void *opaque, uint32_t base, uint32_t size, bool read_dram, bool write_dram)
{
	struct pc *pc = opaque;
	uint8_t mode = (read_dram ? MEM_ISA_READ_RAM : 0) | (write_dram ? MEM_ISA_WRITE_RAM : 0);

	if (base < MEM_ISA_BASE || base >= MEM_ISA_END || size > MEM_ISA_END - base)
		return;
	for (uint32_t a = base; a < base + size; a += (MEM_ISA_END - MEM_ISA_BASE) / MEM_ISA_SEGMENTS)
		memory_set_isa_mode(&pc->mem, (a - MEM_ISA_BASE) / ((MEM_ISA_END - MEM_ISA_BASE) / MEM_ISA_SEGMENTS),
		                    mode);
	/* Cached host pointers for the window now point at the wrong side. */
	if (pc->cpu)
		cpu_flush_tlb(pc->cpu);
}

/* Port 0x92 (PS/2 system control port A): bit 1 fast A20, bit 0 fast reset. */
static uint32_t port92_read(void *dev, uint32_t port, unsigned size)
{
	struct pc *pc = dev;
	return pc->port92;
}

static void port92_write(void *dev, uint32_t port, uint32_t value, unsigned size)
{
	struct pc *pc = dev;
	uint8_t old = pc->port92;

	pc->port92 = (uint8_t)(value & 0x02);
	pc->a20_port92 = (value & 0x02) != 0;
	update_a20(pc);
	if ((value & 1) && !(old & 1))
		request(pc, PC_REQ_RESET, "reset");
}

static const struct io_ops port92_ops = { .read = port92_read, .write = port92_write };

/* Port 0xF0: clears the x87 error latch (IGNNE#), lowering IRQ13. */
static void port_f0_write(void *dev, uint32_t port, uint32_t value, unsigned size)
{
	struct pc *pc = dev;
	i8259_set_irq(&pc->pic, 13, false);
	if (pc->cpu)
		cpu_ignne(pc->cpu);
}

static const struct io_ops port_f0_ops = { .write = port_f0_write };

/* --- CMOS and firmware tables --- */

static void put_cmos16(struct pc *pc, unsigned index, uint32_t value)
{
	if (value > 0xffff)
		value = 0xffff;
	mc146818_set_cmos(&pc->rtc, index, (uint8_t)value);
	mc146818_set_cmos(&pc->rtc, index + 1, (uint8_t)(value >> 8));
}

/* What a BIOS (and BIOS-less Linux through the RTC driver) reads from NVRAM. */
static void setup_cmos(struct pc *pc)
{
	uint64_t ram = pc->cfg.ram_size;
	uint64_t ext_k = (ram - 0x100000) >> 10;
	uint64_t above16 = ram > (16u << 20) ? (ram - (16u << 20)) >> 16 : 0;
	unsigned sum = 0;

	put_cmos16(pc, 0x15, 640);                       /* base memory, KiB */
	put_cmos16(pc, 0x17, (uint32_t)(ext_k > 0xffff ? 0xffff : ext_k));   /* 1 MiB..64 MiB */
	put_cmos16(pc, 0x30, (uint32_t)(ext_k > 0xffff ? 0xffff : ext_k));
	put_cmos16(pc, 0x34, (uint32_t)(above16 > 0xffff ? 0xffff : above16)); /* 64 KiB units */
	mc146818_set_cmos(&pc->rtc, 0x5b, 0);            /* nothing above 4 GiB */
	mc146818_set_cmos(&pc->rtc, 0x5c, 0);
	mc146818_set_cmos(&pc->rtc, 0x5d, 0);
	mc146818_set_cmos(&pc->rtc, 0x10, 0);            /* no floppies */
	mc146818_set_cmos(&pc->rtc, 0x12, 0);            /* no legacy hard disk types */
	mc146818_set_cmos(&pc->rtc, 0x14, 0x06);         /* equipment: FPU, VGA (80 columns) */
	mc146818_set_cmos(&pc->rtc, 0x0f, 0);            /* shutdown status: normal */
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += mc146818_get_cmos(&pc->rtc, i);
	mc146818_set_cmos(&pc->rtc, 0x2e, (uint8_t)(sum >> 8));
	mc146818_set_cmos(&pc->rtc, 0x2f, (uint8_t)sum);
}

/* For a kernel booted without a BIOS: what the BIOS would have set up. */
static int firmware_setup(struct pc *pc, uint64_t *rsdp, char *err, size_t errlen)
{
	uint8_t *blob, rsdp_bytes[ACPI_RSDP_SIZE];
	uint32_t tables = (uint32_t)(pc->cfg.ram_size - PC_ACPI_SIZE);
	struct acpi_table_config acfg = {
		.tables_addr = tables,
		.pm_base = PC_PM_BASE,
		.sci_irq = PIIX_SCI_IRQ,
		.pci_mem_base = PC_PCI_MEM_BASE,
		.pci_mem_limit = PC_PCI_MEM_LIMIT,
		.have_uart = { true, false },
	};
	long len;

	memcpy(acfg.pirq_irq, pirq_irqs, sizeof(acfg.pirq_irq));
	if (piix_firmware_setup(&pc->piix, pirq_irqs, (uint32_t)pc->cfg.ram_size, PC_PM_BASE) != 0) {
		snprintf(err, errlen, "cannot place the ACPI PM block at 0x%x", PC_PM_BASE);
		return -1;
	}
	if (pci_bus_assign_resources(&pc->pci, PC_PCI_IO_BASE, PC_PCI_IO_LIMIT, PC_PCI_MEM_BASE,
	                             PC_PCI_MEM_LIMIT, pirq_irqs) != 0) {
		snprintf(err, errlen, "PCI devices do not fit their address windows");
		return -1;
	}
	blob = calloc(1, PC_ACPI_SIZE);
	if (!blob) {
		snprintf(err, errlen, "out of memory building ACPI tables");
		return -1;
	}
	len = acpi_build_tables(&acfg, blob, PC_ACPI_SIZE, rsdp_bytes, NULL);
	if (len < 0 || memory_write(&pc->mem, tables, blob, (size_t)len) != 0 ||
	    memory_write_rom(&pc->mem, PC_RSDP_ADDR, rsdp_bytes, sizeof(rsdp_bytes)) != 0) {
		snprintf(err, errlen, "cannot place the ACPI tables (%ld bytes) at 0x%x", len, tables);
		free(blob);
		return -1;
	}
	free(blob);
	*rsdp = PC_RSDP_ADDR;
	return 0;
}

/* Puts the CPU in the flat 32-bit state the loaders ask for. */
static void enter_flat32(struct pc *pc, const struct boot_entry *e)
{
	struct cpu_regs r;
	/* Descriptor bits 40-47 in the low byte, G and D/B in bits 11 and 10. */
	const struct cpu_seg code = { .sel = BOOT_CS, .base = 0, .limit = 0xffffffffu, .attr = 0xc9b };
	const struct cpu_seg data = { .sel = BOOT_DS, .base = 0, .limit = 0xffffffffu, .attr = 0xc93 };

	cpu_get_regs(pc->cpu, &r);
	memcpy(r.gpr, e->gpr, sizeof(r.gpr));
	r.eip = e->eip;
	r.eflags = 0x2;                         /* IF clear */
	r.seg[S_CS] = code;
	r.seg[S_DS] = r.seg[S_ES] = r.seg[S_SS] = r.seg[S_FS] = r.seg[S_GS] = data;
	r.gdtr_base = e->gdt_base;
	r.gdtr_limit = e->gdt_limit;
	r.idtr_base = 0;
	r.idtr_limit = 0x3ff;
	r.cr0 = 0x11;                           /* PE, ET; paging and caches as after a BIOS */
	cpu_set_regs(pc->cpu, &r);
}

static int load_kernel(struct pc *pc, char *err, size_t errlen)
{
	uint64_t rsdp = 0;
	char why[400];

	if (firmware_setup(pc, &rsdp, err, errlen) != 0)
		return -1;
	if (pc->boot == PC_BOOT_LINUX) {
		struct linux_boot_result res;
		struct linux_boot_config lc = {
			.kernel = pc->kernel, .kernel_size = pc->kernel_size,
			.initrd = pc->initrd[0], .initrd_size = pc->initrd_size[0],
			.cmdline = pc->cfg.cmdline, .e820 = &pc->e820, .acpi_rsdp = rsdp,
			.vga_text = true,       /* vga_reset leaves mode 3, as a VGA BIOS would */
		};
		if (linux_boot_load(&pc->mem, &lc, &pc->entry, &res, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s: %s", pc->cfg.kernel, why);
			return -1;
		}
		log_debug("Linux boot protocol %u.%02u: kernel %u bytes, initrd at 0x%x (%u bytes)",
		          res.protocol >> 8, res.protocol & 0xff, res.kernel_size, res.initrd_addr,
		          res.initrd_size);
	} else {
		struct multiboot_module mods[PC_MAX_MODULES];
		struct multiboot_result res;
		struct multiboot_config mc = {
			.kernel = pc->kernel, .kernel_size = pc->kernel_size, .cmdline = pc->cfg.cmdline,
			.modules = mods, .nmodules = pc->cfg.ninitrd, .e820 = &pc->e820,
		};
		for (unsigned i = 0; i < pc->cfg.ninitrd; i++) {
			/* The module's command line is its path and any words after it. */
			mods[i] = (struct multiboot_module){ pc->initrd[i], pc->initrd_size[i], pc->cfg.initrd[i] };
		}
		if (multiboot_load(&pc->mem, &mc, &pc->entry, &res, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s: %s", pc->cfg.kernel, why);
			return -1;
		}
		log_debug("multiboot %s kernel at 0x%x-0x%x, entry 0x%x, modules up to 0x%x",
		          res.elf ? "ELF" : "a.out", res.load_start, res.load_end, pc->entry.eip, res.mods_end);
	}
	cpu_phys_written(pc->cpu, 0, (uint32_t)(pc->cfg.ram_size > UINT32_MAX ? UINT32_MAX : pc->cfg.ram_size));
	enter_flat32(pc, &pc->entry);
	return 0;
}

static int read_images(struct pc *pc, char *err, size_t errlen)
{
	const struct pc_config *c = &pc->cfg;

	if (c->ninitrd > PC_MAX_MODULES) {
		snprintf(err, errlen, "at most %d initrd/module files", PC_MAX_MODULES);
		return -1;
	}
	if (c->bios && bios_load_file(&pc->mem, c->bios, err, errlen) != 0)
		return -1;
	if (!c->kernel) {
		if (!c->bios) {
			snprintf(err, errlen, "nothing to boot: give a kernel or a BIOS");
			return -1;
		}
		if (c->ninitrd || c->cmdline) {
			snprintf(err, errlen, "an initrd or command line needs a kernel");
			return -1;
		}
		pc->boot = PC_BOOT_BIOS;
		return 0;
	}
	if (image_read_file(c->kernel, MAX_KERNEL, &pc->kernel, &pc->kernel_size, err, errlen) != 0)
		return -1;
	if (linux_boot_probe(pc->kernel, pc->kernel_size)) {
		pc->boot = PC_BOOT_LINUX;
		if (c->ninitrd > 1) {
			snprintf(err, errlen, "a Linux kernel takes one initrd, not %u", c->ninitrd);
			return -1;
		}
	} else if (multiboot_probe(pc->kernel, pc->kernel_size)) {
		pc->boot = PC_BOOT_MULTIBOOT;
	} else {
		snprintf(err, errlen, "%s: neither a Linux bzImage nor a multiboot kernel", c->kernel);
		return -1;
	}
	for (unsigned i = 0; i < c->ninitrd; i++) {
		/* "path args": a multiboot module's command line follows its path. */
		char path[4096];
		size_t n = strcspn(c->initrd[i], " ");
		if (n >= sizeof(path)) {
			snprintf(err, errlen, "initrd path too long");
			return -1;
		}
		memcpy(path, c->initrd[i], n);
		path[n] = '\0';
		if (image_read_file(path, MAX_INITRD, &pc->initrd[i], &pc->initrd_size[i], err, errlen) != 0)
			return -1;
	}
	return 0;
}

struct pc *pc_new(const struct pc_config *cfg, char *err, size_t errlen)
{
	struct pc *pc = calloc(1, sizeof(*pc));
	struct irq_line isa[PIIX_ISA_IRQS];
	struct cpu_config cc;
	struct mc146818_config rc = { .fixed_time = cfg->rtc_fixed_time, .start_time = cfg->rtc_start };
	const struct i8042_board_ops kbc_ops = { .reset = kbc_reset, .set_a20 = kbc_set_a20, .opaque = pc };
	const struct piix_board_ops piix_ops = { .reset = piix_reset_cb, .opaque = pc };
	const struct acpi_pm_board_ops acpi_ops = { .poweroff = acpi_poweroff, .opaque = pc };
	const struct testdev_board_ops test_ops = { .exit = testdev_exit, .opaque = pc };
	struct e820_layout layout;

	if (!pc) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pc->cfg = *cfg;
	if (cfg->manual_clock)
		clock_init_manual(&pc->clock);
	else
		clock_init(&pc->clock);
	iobus_init(&pc->io);
	mmiobus_init(&pc->mmio);
	if (memory_init(&pc->mem, cfg->ram_size, err, errlen) != 0) {
		free(pc);
		return NULL;
	}
	if (cfg->ram_size > PC_PCI_MEM_BASE) {
		snprintf(err, errlen, "memory size %llu MiB overlaps the PCI window at 0x%x",
		         (unsigned long long)(cfg->ram_size >> 20), PC_PCI_MEM_BASE);
		goto fail;
	}
	if (read_images(pc, err, errlen) != 0)
		goto fail;

	pc->cpu_bus = (struct cpu_bus){
		.opaque = pc, .ram_page = bus_ram_page, .mmio_read = bus_mmio_read,
		.mmio_write = bus_mmio_write, .io_in = bus_io_in, .io_out = bus_io_out,
		.intr_ack = bus_intr_ack, .clock_ns = bus_clock_ns, .ferr = bus_ferr,
	};
	cc = (struct cpu_config){ .tsc_hz = cfg->tsc_hz ? cfg->tsc_hz : 1000000000ull, .fpu = true };
	pc->cpu = cpu_new(&cc, &pc->cpu_bus);
	if (!pc->cpu) {
		snprintf(err, errlen, "cannot create the CPU");
		goto fail;
	}
	for (unsigned i = 0; i < PIIX_ISA_IRQS; i++)
		isa[i] = pic_line(pc, i);
	if (i8259_init(&pc->pic, &pc->io, pic_intr, pc) != 0 ||
	    i8254_init(&pc->pit, &pc->io, &pc->clock, pic_line(pc, 0)) != 0 ||
	    mc146818_init(&pc->rtc, &pc->io, &pc->clock, pic_line(pc, 8), &rc) != 0 ||
	    ns16550_init(&pc->com1, &pc->io, &pc->clock, PC_COM1_BASE, pic_line(pc, PC_COM1_IRQ),
	                 &cfg->com1) != 0 ||
	    i8042_init(&pc->kbc, &pc->io, pic_line(pc, 1), pic_line(pc, 12), &kbc_ops) != 0 ||
	    pci_bus_init(&pc->pci, &pc->io, &pc->mmio) != 0 ||
	    i440fx_init(&pc->host, &pc->pci, (uint32_t)cfg->ram_size, set_pam, pc) != 0 ||
	    acpi_pm_init(&pc->acpi, &pc->clock, piix_sci_line(&pc->piix), &acpi_ops) != 0 ||
	    piix_init(&pc->piix, &pc->pci, &pc->io, &pc->acpi, isa, &piix_ops) != 0 ||
	    testdev_init(&pc->testdev, &pc->io, cfg->debug_exit, cfg->debugcon, &test_ops) != 0 ||
	    iobus_map(&pc->io, 0x92, 1, &port92_ops, pc, "port92") != 0 ||
	    iobus_map(&pc->io, 0xf0, 1, &port_f0_ops, pc, "fpu-ignne") != 0) {
		snprintf(err, errlen, "device wiring failed: an I/O port is claimed twice");
		goto fail;
	}
	i8254_set_irq0_sink(&pc->pit, pit_irq0_sink, pc);
	if (vga_init(&pc->vga, &pc->clock, &pc->io, &pc->mmio, &pc->pci, PC_VGA_DEVFN) != 0) {
		snprintf(err, errlen, "cannot create the VGA (video memory, ports or window)");
		goto fail;
	}
	pc->vga_ready = true;
	layout = (struct e820_layout){
		.ram_size = cfg->ram_size,
		.acpi_base = pc->boot == PC_BOOT_BIOS ? 0 : (uint32_t)(cfg->ram_size - PC_ACPI_SIZE),
		.acpi_size = pc->boot == PC_BOOT_BIOS ? 0 : PC_ACPI_SIZE,
		.bios_size = pc->mem.bios_size,
	};
	if (e820_build_pc(&pc->e820, &layout) != 0) {
		snprintf(err, errlen, "cannot build the memory map");
		goto fail;
	}
	if (pc_reset(pc, err, errlen) != 0)
		goto fail;
	return pc;
fail:
	pc_free(pc);
	return NULL;
}

void pc_free(struct pc *pc)
{
	if (!pc)
		return;
	testdev_flush(&pc->testdev);
	if (pc->cpu)
		cpu_free(pc->cpu);
	if (pc->vga_ready)
		vga_free(&pc->vga);
	memory_destroy(&pc->mem);
	free(pc->kernel);
	for (unsigned i = 0; i < PC_MAX_MODULES; i++)
		free(pc->initrd[i]);
	free(pc);
}

int pc_reset(struct pc *pc, char *err, size_t errlen)
{
	pc->request = PC_REQ_NONE;
	pc->request_reason = NULL;
	pc->a20_kbc = pc->a20_port92 = false;
	pc->port92 = 0;
	memory_reset(&pc->mem);
	cpu_reset(pc->cpu);
	i8259_reset(&pc->pic);
	i8254_reset(&pc->pit);
	mc146818_reset(&pc->rtc);
	ns16550_reset(&pc->com1);
	i8042_reset(&pc->kbc);
	pci_bus_reset(&pc->pci);
	i440fx_reset(&pc->host);
	piix_reset(&pc->piix);
	acpi_pm_reset(&pc->acpi);
	vga_reset(&pc->vga);
	setup_cmos(pc);
	/* The keyboard controller's output port comes out of reset with A20 on. */
	pc->a20_kbc = (pc->kbc.outport & I8042_OUT_A20) != 0;
	if (pc->boot != PC_BOOT_BIOS) {
		/* Kernels are entered with A20 on, as a BIOS would leave it. */
		pc->a20_port92 = true;
		pc->port92 = 0x02;
	}
	update_a20(pc);
	cpu_flush_tlb(pc->cpu);
	pc->resets++;
	if (pc->boot != PC_BOOT_BIOS)
		return load_kernel(pc, err, errlen);
	return 0;
}

enum cpu_exit pc_run(struct pc *pc, uint64_t budget)
{
	enum cpu_exit why;

	if (pc->request != PC_REQ_NONE)
		return CPU_EXIT_REQUEST;
	why = cpu_run(pc->cpu, budget);
	if (why == CPU_EXIT_SHUTDOWN)
		request(pc, PC_REQ_RESET, "triple-fault");
	return why;
}

void pc_power_button(struct pc *pc)
{
	acpi_press_power_button(&pc->acpi);
}

/* --- state --- */

void pc_save(const struct pc *pc, struct sbuf *sb)
{
	size_t mark = sbuf_begin(sb, "pc", PC_SAVE_VERSION);

	sbuf_put_u64(sb, pc->cfg.ram_size);
	sbuf_put_u8(sb, (uint8_t)pc->boot);
	sbuf_put_bool(sb, pc->a20_kbc);
	sbuf_put_bool(sb, pc->a20_port92);
	sbuf_put_u8(sb, pc->port92);
	sbuf_put_u64(sb, clock_now(&pc->clock));
	sbuf_end(sb, mark);
	memory_save(&pc->mem, sb);
	cpu_save(pc->cpu, sb);
	i8259_save(&pc->pic, sb);
	i8254_save(&pc->pit, sb);
	mc146818_save(&pc->rtc, sb);
	ns16550_save(&pc->com1, sb);
	i8042_save(&pc->kbc, sb);
	pci_bus_save(&pc->pci, sb);
	piix_save(&pc->piix, sb);
	acpi_pm_save(&pc->acpi, sb);
	vga_save(&pc->vga, sb);
}

static int load_state(struct pc *pc, struct sbuf *sb);

/*
 * Loads a snapshot. The sections are checked as they are applied, so a
 * corrupt one can be found after earlier ones changed the machine: the
 * state from before is saved first and put back on failure.
 */
int pc_load(struct pc *pc, struct sbuf *sb)
{
	struct sbuf backup, restore;
	int rc;

	sbuf_init(&backup);
	pc_save(pc, &backup);
	if (backup.error) {
		sbuf_fail(sb, "cannot keep the current state while loading: %s", backup.why);
		sbuf_free(&backup);
		return -1;
	}
	rc = load_state(pc, sb);
	if (rc != 0) {
		sbuf_init_read(&restore, backup.data, backup.len);
		if (load_state(pc, &restore) != 0)
			log_err("snapshot load failed and the previous state did not come back: %s", restore.why);
	}
	sbuf_free(&backup);
	return rc;
}

static int load_state(struct pc *pc, struct sbuf *sb)
{
	uint32_t version;
	uint64_t ram, now;
	uint8_t boot, port92;
	bool a20_kbc, a20_port92;

	if (!sbuf_open(sb, "pc", &version))
		return -1;
	if (version != PC_SAVE_VERSION) {
		sbuf_fail(sb, "pc: unsupported version %u", version);
		return -1;
	}
	ram = sbuf_get_u64(sb);
	boot = sbuf_get_u8(sb);
	a20_kbc = sbuf_get_bool(sb);
	a20_port92 = sbuf_get_bool(sb);
	port92 = sbuf_get_u8(sb);
	now = sbuf_get_u64(sb);
	if (!sbuf_close(sb))
		return -1;
	if (ram != pc->cfg.ram_size || boot > PC_BOOT_MULTIBOOT || (port92 & ~2u)) {
		sbuf_fail(sb, "pc: snapshot of a different machine (%llu MiB, boot %u)",
		          (unsigned long long)(ram >> 20), boot);
		return -1;
	}
	/* Time first: the devices' timers are re-armed relative to it. */
	clock_set(&pc->clock, now);
	if (memory_load(&pc->mem, sb) != 0 || cpu_load(pc->cpu, sb) != 0 ||
	    i8259_load(&pc->pic, sb) != 0 || i8254_load(&pc->pit, sb) != 0 ||
	    mc146818_load(&pc->rtc, sb) != 0 || ns16550_load(&pc->com1, sb) != 0 ||
	    i8042_load(&pc->kbc, sb) != 0 || pci_bus_load(&pc->pci, sb) != 0 ||
	    piix_load(&pc->piix, sb) != 0 || acpi_pm_load(&pc->acpi, sb) != 0 ||
	    vga_load(&pc->vga, sb) != 0)
		return -1;
	i440fx_post_load(&pc->host);
	pc->a20_kbc = a20_kbc;
	pc->a20_port92 = a20_port92;
	pc->port92 = port92;
	pc->request = PC_REQ_NONE;
	update_a20(pc);
	cpu_flush_tlb(pc->cpu);
	return 0;
}
