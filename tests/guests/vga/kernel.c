/*
 * The VGA test kernel (multiboot, freestanding): writes known text into
 * the 80x25 text screen at 0xB8000 as a VGA BIOS-less kernel would, hides
 * the cursor, then echoes every keyboard byte (the i8042's translated set
 * 1) as hex on line 12: "KEY 1E 9E ...". With "vbe" on its command line
 * it instead sets the Bochs VBE mode 800x600x32, finds the linear
 * framebuffer in the VGA's PCI BAR0 and draws (x, y, x ^ y) as (R, G, B)
 * there; every key press then paints the square (100..199, 100..199)
 * magenta, into pages the CPU already holds as RAM (the device must still
 * notice). tests/integration/vnc_capture.sh reads the screen through VNC.
 */
#include <stdint.h>

#define MB_MAGIC 0x1BADB002u
#define MB_FLAGS 0x00000000u

__attribute__((section(".multiboot"), used, aligned(4)))
static const uint32_t multiboot_header[3] = { MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS) };

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static volatile uint16_t *const screen = (volatile uint16_t *)0xb8000;

static void put(unsigned row, unsigned col, const char *s, uint8_t attr)
{
	while (*s && col < 80)
		screen[row * 80 + col++] = (uint16_t)(attr << 8 | (uint8_t)*s++);
}

static void vbe(uint16_t index, uint16_t value)
{
	outw(0x1ce, index);
	outw(0x1cf, value);
}

static int has_word(const char *s, const char *w)
{
	for (; *s; s++) {
		const char *a = s, *b = w;
		while (*b && *a == *b)
			a++, b++;
		if (!*b)
			return 1;
	}
	return 0;
}

static void vbe_demo(void)
{
	/* BAR0 of the VGA at 00:02.0 (configuration mechanism #1). */
	outl(0xcf8, 0x80000000u | (2u << 11) | 0x10);
	volatile uint32_t *lfb = (volatile uint32_t *)(inl(0xcfc) & ~0xfu);

	vbe(4, 0);                      /* disable */
	vbe(1, 800);
	vbe(2, 600);
	vbe(3, 32);
	vbe(4, 0x41);                   /* enabled, LFB */
	for (uint32_t y = 0; y < 600; y++)
		for (uint32_t x = 0; x < 800; x++)
			lfb[y * 800 + x] = (x & 0xff) << 16 | (y & 0xff) << 8 | ((x ^ y) & 0xff);
	for (;;) {
		if ((inb(0x64) & 0x01) && !(inb(0x60) & 0x80))
			for (uint32_t y = 500; y < 600; y++)
				for (uint32_t x = 100; x < 200; x++)
					lfb[y * 800 + x] = 0xff00ff;
		__asm__ volatile("pause");
	}
}

void kmain(const uint32_t *info);
void kmain(const uint32_t *info)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned col = 4;

	if ((info[0] & 0x04) && has_word((const char *)info[4], "vbe"))
		vbe_demo();

	for (unsigned i = 0; i < 80 * 25; i++)
		screen[i] = 0x0720;
	outb(0x3d4, 0x0a);      /* cursor off */
	outb(0x3d5, 0x20);
	put(0, 0, "VMD VGA TEST KERNEL", 0x0f);
	put(2, 0, "Hello from the guest through 0xB8000", 0x07);
	put(4, 0, "Colours:", 0x07);
	for (unsigned c = 0; c < 16; c++)
		put(4, 10 + c * 2, "##", (uint8_t)c);
	put(12, 0, "KEY", 0x07);
	for (;;) {
		if (inb(0x64) & 0x01) {
			uint8_t b = inb(0x60);
			if (col + 3 <= 80) {
				char s[3] = { hex[b >> 4], hex[b & 15], 0 };
				put(12, col, s, 0x07);
				col += 3;
			}
		}
		__asm__ volatile("pause");
	}
}
