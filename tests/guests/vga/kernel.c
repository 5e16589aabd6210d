/*
 * The VGA test kernel (multiboot, freestanding): writes known text into
 * the 80x25 text screen at 0xB8000 as a VGA BIOS-less kernel would, hides
 * the cursor, then echoes every keyboard byte (the i8042's translated set
 * 1) as hex on line 12: "KEY 1E 9E ...". tests/integration/vnc_guest.sh
 * reads the screen back through a VNC client.
 */
#include <stdint.h>

#define MB_MAGIC 0x1BADB002u
#define MB_FLAGS 0x00000000u

__attribute__((section(".multiboot"), used, aligned(4)))
static const uint32_t multiboot_header[3] = { MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS) };

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
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

void kmain(void);
void kmain(void)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned col = 4;

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
