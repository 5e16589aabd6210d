/*
 * The board test kernel: a multiboot guest that exercises what the board
 * provides and reports over COM1 (polled) and the 0xE9 debug console.
 * What it does is chosen by words on its command line:
 *   info        print the multiboot info: magic, memory, command line, mmap, modules
 *   echo        echo COM1 input back until a 'q' arrives (polling)
 *   irqecho     the same, sleeping in HLT until COM1's receive interrupt
 *   reset=port92|cf9|kbd|triple   reset the machine that way (a counter in
 *               CMOS-independent RAM is not kept: the reboot restarts the kernel)
 *   a20         check the A20 gate through port 0x92: wraps at 1 MiB when off
 *   halt        sleep with interrupts off (stops for good: for idle tests)
 *   ticks=N     run the PIT at 100 Hz and sleep (sti; hlt) through N timer interrupts
 *   busyticks=N the same, computing instead of sleeping
 *   spam=N      print N numbered lines of 64 characters (console back-pressure tests)
 *   vgatext     write a line into the VGA text screen at 0xB8000
 *   poweroff    ACPI S5 through PM1a_CNT at 0x604 (where the board puts the PM block)
 *   exit=N      leave through isa-debug-exit with value N (status 2N+1)
 * Words run in order; "done" is printed at the end.
 */
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

#define COM1 0x3f8

static void putc_serial(char c)
{
	/* Bounded wait for THRE: a missing UART must not hang the test forever. */
	for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
		;
	outb(COM1, (uint8_t)c);
	outb(0xe9, (uint8_t)c);
}

static void puts_serial(const char *s)
{
	while (*s) {
		if (*s == '\n')
			putc_serial('\r');
		putc_serial(*s++);
	}
}

static void put_hex(uint32_t v)
{
	static const char digits[] = "0123456789abcdef";
	char buf[11];

	buf[0] = '0';
	buf[1] = 'x';
	for (int i = 0; i < 8; i++)
		buf[2 + i] = digits[(v >> (28 - 4 * i)) & 15];
	buf[10] = 0;
	puts_serial(buf);
}

static void put_dec(uint32_t v)
{
	char buf[12];
	int i = 11;

	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	puts_serial(buf + i);
}

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr, config_table, boot_loader_name;
};

static int word_is(const char *w, const char *end, const char *s)
{
	while (w < end && *s && *w == *s) {
		w++;
		s++;
	}
	return w == end && *s == 0;
}

static uint32_t parse_num(const char *p, const char *end)
{
	uint32_t v = 0;

	while (p < end && *p >= '0' && *p <= '9')
		v = v * 10 + (uint32_t)(*p++ - '0');
	return v;
}

static void show_info(uint32_t magic, const struct mb_info *mbi)
{
	puts_serial("magic ");
	put_hex(magic);
	puts_serial("\nflags ");
	put_hex(mbi->flags);
	puts_serial("\nmem_lower ");
	put_dec(mbi->mem_lower);
	puts_serial("\nmem_upper ");
	put_dec(mbi->mem_upper);
	puts_serial("\ncmdline ");
	puts_serial((const char *)mbi->cmdline);
	puts_serial("\nloader ");
	puts_serial((const char *)mbi->boot_loader_name);
	puts_serial("\n");
	for (uint32_t off = 0; off < mbi->mmap_length;) {
		const uint32_t *e = (const uint32_t *)(mbi->mmap_addr + off);
		puts_serial("mmap ");
		put_hex(e[1]);
		puts_serial(" ");
		put_hex(e[3]);
		puts_serial(" ");
		put_dec(e[5]);
		puts_serial("\n");
		off += e[0] + 4;
	}
	for (uint32_t i = 0; i < mbi->mods_count; i++) {
		const uint32_t *m = (const uint32_t *)(mbi->mods_addr + 16 * i);
		uint32_t sum = 0;
		for (const uint8_t *p = (const uint8_t *)m[0]; p < (const uint8_t *)m[1]; p++)
			sum += *p;
		puts_serial("module ");
		put_dec(m[1] - m[0]);
		puts_serial(" bytes sum ");
		put_dec(sum);
		puts_serial(" aligned ");
		put_dec((m[0] & 0xfff) == 0);
		puts_serial(" ");
		puts_serial((const char *)m[2]);
		puts_serial("\n");
	}
}

static void do_reset(const char *how, const char *end)
{
	puts_serial("resetting\n");
	if (word_is(how, end, "port92")) {
		outb(0x92, inb(0x92) | 1);
	} else if (word_is(how, end, "cf9")) {
		outb(0xcf9, 0x02);
		outb(0xcf9, 0x06);
	} else if (word_is(how, end, "kbd")) {
		outb(0x64, 0xfe);
	} else if (word_is(how, end, "triple")) {
		/* An empty IDT: the breakpoint cannot be delivered, nor the #GP or #DF. */
		static const struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idt = { 0, 0 };
		__asm__ volatile("lidt %0; int3" : : "m"(idt));
	}
	puts_serial("reset did not happen\n");
}

static void kbc_write(uint16_t port, uint8_t v)
{
	for (int i = 0; i < 100000 && (inb(0x64) & 2); i++)
		;
	outb(port, v);
}

/* A20 is on while either gate (port 0x92 bit 1, the 8042 output port bit 1) is on. */
static void check_a20(void)
{
	volatile uint32_t *low = (uint32_t *)0x7f000, *high = (uint32_t *)0x17f000;

	kbc_write(0x64, 0xd1);
	kbc_write(0x60, 0xdd);
	outb(0x92, inb(0x92) & ~2);
	*low = 0x11111111;
	*high = 0x22222222;
	puts_serial(*low == 0x22222222 ? "a20 off wraps\n" : "a20 off does not wrap\n");
	outb(0x92, inb(0x92) | 2);
	*low = 0x33333333;
	*high = 0x44444444;
	puts_serial(*low == 0x33333333 ? "a20 on separate\n" : "a20 on still wraps\n");
	kbc_write(0x64, 0xd1);
	kbc_write(0x60, 0xdf);
}

static void echo(void)
{
	puts_serial("echo ready\n");
	for (;;) {
		char c;
		while (!(inb(COM1 + 5) & 1))
			;
		c = (char)inb(COM1);
		if (c == 'q')
			break;
		putc_serial(c);
	}
	puts_serial("\necho done\n");
}

extern volatile uint32_t ticks;
void irq0_entry(void);
void irq4_entry(void);
void serial_irq(void);

static uint64_t idt[256];
static volatile uint8_t rx_ring[256];
static volatile uint32_t rx_head, rx_tail;

/* A 32-bit ring-0 interrupt gate in the code segment the loader gave us. */
static void set_gate(unsigned vector, void (*handler)(void))
{
	uint32_t h = (uint32_t)handler;
	uint16_t cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	idt[vector] = (h & 0xffff) | (uint64_t)cs << 16 | (uint64_t)0x8e00 << 32 | (uint64_t)(h >> 16) << 48;
}

/* The PICs remapped to vectors 0x20/0x28 with only the given master IRQs open. */
static void setup_interrupts(uint8_t open_mask)
{
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idtr = { sizeof(idt) - 1, (uint32_t)idt };

	__asm__ volatile("lidt %0" : : "m"(idtr));
	outb(0x20, 0x11); outb(0x21, 0x20); outb(0x21, 0x04); outb(0x21, 0x01);
	outb(0xa0, 0x11); outb(0xa1, 0x28); outb(0xa1, 0x02); outb(0xa1, 0x01);
	outb(0x21, (uint8_t)~open_mask);
	outb(0xa1, 0xff);
}

/* The PIT at 100 Hz; sleep (or, busy, keep computing) through n ticks. */
static void count_ticks(uint32_t n, int busy)
{
	uint16_t divisor = 11932;       /* 1193182 Hz / 100 */

	set_gate(0x20, irq0_entry);
	setup_interrupts(0x01);
	outb(0x43, 0x34);
	outb(0x40, (uint8_t)divisor);
	outb(0x40, (uint8_t)(divisor >> 8));
	ticks = 0;
	if (busy) {
		volatile uint32_t work = 0;
		__asm__ volatile("sti");
		while (ticks < n)
			work++;
		__asm__ volatile("cli");
	} else {
		while (ticks < n)
			__asm__ volatile("sti; hlt; cli");
	}
	outb(0x21, 0xff);
	puts_serial("ticks ");
	put_dec(ticks);
	puts_serial("\n");
}

void serial_irq(void)
{
	while (inb(COM1 + 5) & 1) {
		uint8_t c = inb(COM1);
		if (rx_head - rx_tail < sizeof(rx_ring))
			rx_ring[rx_head++ % sizeof(rx_ring)] = c;
	}
	outb(0x20, 0x20);
}

/* Echo driven by the receive interrupt: the CPU sleeps in HLT between bytes. */
static void irq_echo(void)
{
	set_gate(0x24, irq4_entry);
	setup_interrupts(0x10);
	outb(COM1 + 2, 0x07);           /* FIFO on, cleared, interrupt at 1 byte */
	outb(COM1 + 4, 0x0b);           /* DTR, RTS, OUT2 (the IRQ line gate) */
	outb(COM1 + 1, 0x01);           /* receive-data interrupt */
	puts_serial("irq echo ready\n");
	for (;;) {
		char c;
		__asm__ volatile("cli");
		while (rx_head == rx_tail)
			__asm__ volatile("sti; hlt; cli");
		c = (char)rx_ring[rx_tail++ % sizeof(rx_ring)];
		__asm__ volatile("sti");
		if (c == 'q')
			break;
		putc_serial(c);
	}
	outb(COM1 + 1, 0);
	outb(0x21, 0xff);
	puts_serial("\nirq echo done\n");
}

void kmain(uint32_t magic, const struct mb_info *mbi);

void kmain(uint32_t magic, const struct mb_info *mbi)
{
	const char *p = (magic == 0x2BADB002 && (mbi->flags & 4)) ? (const char *)mbi->cmdline : "";

	outb(COM1 + 3, 0x03);   /* 8N1 */
	puts_serial("board test kernel\n");
	while (*p) {
		const char *w = p, *end;
		while (*p && *p != ' ')
			p++;
		end = p;
		while (*p == ' ')
			p++;
		if (word_is(w, end, "info")) {
			show_info(magic, mbi);
		} else if (word_is(w, end, "irqecho")) {
			irq_echo();
		} else if (word_is(w, end, "echo")) {
			echo();
		} else if (word_is(w, end, "a20")) {
			check_a20();
		} else if (end - w > 6 && word_is(w, w + 6, "ticks=")) {
			count_ticks(parse_num(w + 6, end), 0);
		} else if (end - w > 10 && word_is(w, w + 10, "busyticks=")) {
			count_ticks(parse_num(w + 10, end), 1);
		} else if (end - w > 5 && word_is(w, w + 5, "spam=")) {
			uint32_t n = parse_num(w + 5, end);
			for (uint32_t i = 0; i < n; i++) {
				put_hex(i);
				puts_serial(" ..................................................\n");
			}
		} else if (word_is(w, end, "vgatext")) {
			static const char text[] = "vmd board test kernel on the VGA";
			volatile uint16_t *screen = (uint16_t *)0xb8000;
			for (unsigned i = 0; text[i]; i++)
				screen[i] = (uint16_t)(0x1f00 | (uint8_t)text[i]);   /* white on blue */
			puts_serial("vga text written\n");
		} else if (word_is(w, end, "poweroff")) {
			puts_serial("powering off\n");
			outw(0x604, 0x2000);    /* SLP_EN with SLP_TYP 0: S5 on the PIIX4 */
			puts_serial("poweroff did not happen\n");
		} else if (word_is(w, end, "halt")) {
			puts_serial("halting\n");
			for (;;)
				__asm__ volatile("cli; hlt");
		} else if (end - w > 6 && word_is(w, w + 6, "reset=")) {
			do_reset(w + 6, end);
		} else if (end - w > 5 && word_is(w, w + 5, "exit=")) {
			puts_serial("exiting\n");
			outb(0xf4, (uint8_t)parse_num(w + 5, end));
			puts_serial("exit did not happen\n");
		}
	}
	puts_serial("done\n");
}
