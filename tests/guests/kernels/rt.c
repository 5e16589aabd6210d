/* The system-test kernels' runtime (see rt.h). */
#include "rt.h"

#define DESC(base, limit, attr) \
	(((limit) & 0xffffULL) | (((uint64_t)(base) & 0xffffff) << 16) | \
	 ((uint64_t)((attr) & 0xff) << 40) | ((uint64_t)(((limit) >> 16) & 0xf) << 48) | \
	 ((uint64_t)(((attr) >> 8) & 0xf) << 52) | ((uint64_t)((base) >> 24) << 56))

/* Static: start.S loads it before any C runs, on both ways in. */
uint64_t rt_gdt[RT_NGDT] __attribute__((aligned(8))) = {
	[SEL_CODE32 >> 3] = DESC(0, 0xfffff, ACC_PRESENT | ACC_CODE | FLAG_G | FLAG_DB),
	[SEL_DATA32 >> 3] = DESC(0, 0xfffff, ACC_PRESENT | ACC_DATA | FLAG_G | FLAG_DB),
	[SEL_CODE16 >> 3] = DESC(IMAGE_BASE, 0xffff, ACC_PRESENT | ACC_CODE),
	[SEL_DATA16 >> 3] = DESC(0, 0xffff, ACC_PRESENT | ACC_DATA),
	[SEL_CODE32_U >> 3] = DESC(0, 0xfffff, ACC_PRESENT | ACC_DPL(3) | ACC_CODE | FLAG_G | FLAG_DB),
	[SEL_DATA32_U >> 3] = DESC(0, 0xfffff, ACC_PRESENT | ACC_DPL(3) | ACC_DATA | FLAG_G | FLAG_DB),
};
uint64_t rt_idt[RT_NVEC] __attribute__((aligned(8)));
struct tss rt_tss __attribute__((aligned(128)));
volatile struct caught rt_caught;
volatile uint32_t rt_armed, rt_resume;
static trap_handler handlers[RT_NVEC];
static int n_ok, n_fail;
extern uint8_t rt_stubs[];

void *memset(void *d, int c, unsigned n)
{
	uint8_t *p = d;
	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *memcpy(void *d, const void *s, unsigned n)
{
	uint8_t *p = d;
	const uint8_t *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

void putch(char c) { outb(0xe9, (uint8_t)c); }

void puts_(const char *s)
{
	while (*s)
		putch(*s++);
}

static void put_num(uint32_t v, unsigned base, int width, char pad)
{
	char buf[12];
	int n = 0;
	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (width-- > n)
		putch(pad);
	while (n)
		putch(buf[--n]);
}

void vprintf_(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			putch(*fmt);
			continue;
		}
		int alt = 0, width = 0;
		char pad = ' ';
		fmt++;
		if (*fmt == '#') { alt = 1; fmt++; }
		if (*fmt == '0') { pad = '0'; fmt++; }
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		switch (*fmt) {
		case 'x': if (alt) puts_("0x"); put_num(va_arg(ap, uint32_t), 16, width, pad); break;
		case 'u': put_num(va_arg(ap, uint32_t), 10, width, pad); break;
		case 'd': { int v = va_arg(ap, int); if (v < 0) { putch('-'); v = -v; }
			    put_num((uint32_t)v, 10, width, pad); break; }
		case 's': puts_(va_arg(ap, const char *)); break;
		case 'c': putch((char)va_arg(ap, int)); break;
		case '%': putch('%'); break;
		default: putch('?'); break;
		}
	}
}

void printf_(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf_(fmt, ap);
	va_end(ap);
}

void check(int cond, const char *name, const char *fmt, ...)
{
	if (cond) {
		n_ok++;
		printf_("ok %s\n", name);
		return;
	}
	n_fail++;
	printf_("FAIL %s: ", name);
	va_list ap;
	va_start(ap, fmt);
	vprintf_(fmt, ap);
	va_end(ap);
	putch('\n');
}

_Noreturn void rt_exit(int code)
{
	outb(0xf4, (uint8_t)code);
	/* No exit port: stop here, interrupts off. */
	for (;;)
		__asm__ volatile("cli; hlt");
}

void gdt_set(int index, uint32_t base, uint32_t limit, uint16_t attr)
{
	rt_gdt[index] = DESC(base, limit, attr);
}

void idt_set_gate(int vec, uint16_t sel, uint32_t offset, uint8_t type_attr)
{
	rt_idt[vec] = (offset & 0xffff) | ((uint64_t)sel << 16) | ((uint64_t)type_attr << 40) |
		      ((uint64_t)(offset >> 16) << 48);
}

uint32_t rt_stub(int vec) { return (uint32_t)(rt_stubs + 16 * vec); }

void rt_set_handler(int vec, trap_handler h) { handlers[vec] = h; }

void rt_trap(struct frame *f);
void rt_trap(struct frame *f)
{
	if (rt_armed) {
		rt_armed = 0;
		rt_caught.vector = (int)f->vector;
		rt_caught.err = f->err;
		rt_caught.eip = f->eip;
		rt_caught.cs = f->cs;
		rt_caught.cr2 = read_cr2();
		f->eip = rt_resume;
		return;
	}
	if (f->vector < RT_NVEC && handlers[f->vector]) {
		handlers[f->vector](f);
		return;
	}
	printf_("FAIL unexpected exception %u error %#x at %x:%#x eflags %#x cr2 %#x\n",
		f->vector, f->err, f->cs, f->eip, f->eflags, read_cr2());
	printf_("done: %u ok, %u failed\n", n_ok, n_fail + 1);
	rt_exit(1);
}

static uint32_t *const page_dir = (uint32_t *)RT_PD_ADDR;
static uint32_t *const page_tables = (uint32_t *)(RT_PD_ADDR + 0x1000);   /* two, 0-8 MiB */

void rt_paging_on(void)
{
	memset(page_dir, 0, 4096);
	for (uint32_t i = 0; i < 2048; i++)
		page_tables[i] = (i << 12) | PTE_U | PTE_W | PTE_P;
	page_dir[0] = (uint32_t)page_tables | PTE_U | PTE_W | PTE_P;
	page_dir[1] = (uint32_t)(page_tables + 1024) | PTE_U | PTE_W | PTE_P;
	write_cr3(RT_PD_ADDR);
	write_cr0(read_cr0() | 0x80000000u);
}

void rt_paging_off(void)
{
	write_cr0(read_cr0() & ~0x80000000u);
	write_cr3(0);
}

volatile uint32_t *rt_pte(uint32_t linear) { return &page_tables[linear >> 12]; }
volatile uint32_t *rt_pde(uint32_t linear) { return &page_dir[linear >> 22]; }

/* Ring 3 and back: see rt.h. The TSS's ESP0 is set below the caller's frame. */
uint8_t rt_ustack[8192] __attribute__((aligned(16)));
__asm__(
	".globl rt_ring3, rt_ustack_top\n"
	".set rt_ustack_top, rt_ustack + 8192\n"
	"rt_ring3:\n"
	"	pushl %ebp\n	pushl %ebx\n	pushl %esi\n	pushl %edi\n"
	"	movl 20(%esp), %ecx\n"              /* fn */
	"	movl 24(%esp), %edx\n"              /* ustack */
	"	movl %esp, rt_ring3_saved_esp\n"
	"	leal -256(%esp), %eax\n"
	"	movl %eax, rt_tss+4\n"              /* ESP0 */
	"	pushl $0x33\n	pushl %edx\n"
	"	pushfl\n"
	"	pushl $0x2b\n	pushl %ecx\n"
	"	movw $0x33, %ax\n	movw %ax, %ds\n	movw %ax, %es\n	movw %ax, %fs\n	movw %ax, %gs\n"
	"	iret\n"
	"rt_ring3_exit:\n"                       /* int $0x30 from ring 3 lands here */
	"	movw $0x10, %cx\n	movw %cx, %ds\n	movw %cx, %es\n	movw %cx, %fs\n	movw %cx, %gs\n"
	"	movl rt_ring3_saved_esp, %esp\n"
	"	popl %edi\n	popl %esi\n	popl %ebx\n	popl %ebp\n"
	"	ret\n"
	".data\n"
	"rt_ring3_saved_esp: .long 0\n"
	".text\n");
extern uint8_t rt_ring3_exit[];

void rt_start(void);
void rt_start(void)
{
	/* A BIOS may have left the 8259s unmasked: no stray IRQ while IF is set. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	for (int v = 0; v < RT_NVEC; v++)
		idt_set_gate(v, SEL_CODE32, rt_stub(v), GATE_INT32);
	idt_set_gate(RT_RING3_EXIT_VEC, SEL_CODE32, (uint32_t)rt_ring3_exit, GATE_INT32 | ACC_DPL(3));
	rt_tss.ss0 = SEL_DATA32;
	rt_tss.esp0 = (uint32_t)stack_top;
	rt_tss.iomap = sizeof(rt_tss);
	gdt_set(SEL_TSS >> 3, (uint32_t)&rt_tss, sizeof(rt_tss) - 1, ACC_PRESENT | 0x09);
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
	printf_("start: %s\n", rt_multiboot_magic == 0x2BADB002 ? "multiboot" : "real mode");
	test_main();
	printf_("done: %u ok, %u failed\n", n_ok, n_fail);
	rt_exit(n_fail ? 1 : 0);
}
