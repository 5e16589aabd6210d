/*
 * CR0.EM and CR0.TS against every x87 escape opcode (D8-DF, all 64
 * register forms and all eight memory forms of each): with EM=1, or with
 * TS=1, each one raises #NM before doing anything, at its own address.
 * WAIT/FWAIT raises #NM only when MP and TS are both set (EM does not
 * matter to it). FXSAVE, when CPUID has FXSR, is #UD under EM and #NM under TS.
 */
#include "fpu.h"

/* The escapes, one after another; the #NM handler steps over each one. */
extern uint8_t esc_reg_start[], esc_reg_end[], esc_mem_start[], esc_mem_end[];
uint8_t esc_buf[512] __attribute__((aligned(16)));   /* what the memory forms address */
__asm__(".text\n.globl esc_reg_start, esc_reg_end, esc_mem_start, esc_mem_end\n"
	"esc_reg_start:\n"
	".irp op, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf\n"
	".set m, 0xc0\n.rept 64\n.byte \\op, m\n.set m, m + 1\n.endr\n"
	".endr\n"
	"esc_reg_end:\n\tret\n"
	"esc_mem_start:\n"
	".irp op, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf\n"
	".irp r, 0, 1, 2, 3, 4, 5, 6, 7\n.byte \\op, (\\r << 3) | 5\n.long esc_buf\n.endr\n"
	".endr\n"
	"esc_mem_end:\n\tret\n");

#define MAX_FAULTS 512
struct em_state {
	int n;                       /* faults recorded */
	uint32_t insn_len;           /* how far the handler steps */
	uint8_t vec[MAX_FAULTS];
	uint32_t eip[MAX_FAULTS];
};
static struct em_state E;

static void step_over(struct frame *f)
{
	if (E.n < MAX_FAULTS) {
		E.vec[E.n] = (uint8_t)f->vector;
		E.eip[E.n] = f->eip;
	}
	E.n++;
	f->eip += E.insn_len;
}

/* Ring 3 under TS: the first x87 instruction traps to ring 0 (#NM), the
 * handler clears TS, the instruction runs. */
extern uint8_t user_fldpi[];
void user_part(void);
__asm__(".text\nuser_part:\n"
	"user_fldpi: fldpi\n"
	"\tint $0x30\n");
struct user_nm { int n; uint32_t eip, cs; };
static struct user_nm U;
static void user_nm_handler(struct frame *f)
{
	U.n++;
	U.eip = f->eip;
	U.cs = f->cs;
	clts();
}

/* Runs one block with the given CR0 bits; checks one #NM per escape, in order. */
static void sweep(const char *name, uint32_t cr0_bits, uint8_t *start, uint8_t *end, uint32_t len)
{
	memset(&E, 0, sizeof(E));
	E.insn_len = len;
	int want = (int)((end - start) / len);
	rt_set_handler(7, step_over);
	rt_set_handler(6, step_over);
	write_cr0((read_cr0() & ~(CR0_EM | CR0_TS | CR0_MP)) | cr0_bits);
	__asm__ volatile("call *%0" : : "r"(start) : "eax", "ecx", "edx", "memory");
	write_cr0(read_cr0() & ~(CR0_EM | CR0_TS));
	rt_set_handler(7, 0);
	rt_set_handler(6, 0);
	fninit();
	int bad = -1;
	for (int i = 0; i < want && i < E.n && bad < 0; i++)
		if (E.vec[i] != 7 || E.eip[i] != (uint32_t)start + (uint32_t)i * len)
			bad = i;
	if (E.n != want && bad < 0)
		bad = E.n < want ? E.n : want;
	if (bad < 0) {
		check(1, name, " ");
		return;
	}
	const uint8_t *insn = start + (uint32_t)bad * len;
	if (bad < E.n && bad < want)
		check(0, name, "%d faults for %d escapes; escape %02x %02x at %#x: vector %d at %#x", E.n,
		      want, insn[0], insn[1], (uint32_t)insn, E.vec[bad], E.eip[bad]);
	else
		check(0, name, "%d faults for %d escapes; first unfaulted near %02x %02x", E.n, want,
		      insn[0], insn[1]);
}

void test_main(void)
{
	fninit();
	sweep("EM=1: #NM at every register-form escape (D8-DF, modrm C0-FF)", CR0_EM,
	      esc_reg_start, esc_reg_end, 2);
	sweep("EM=1: #NM at every memory-form escape (D8-DF, /0-/7)", CR0_EM,
	      esc_mem_start, esc_mem_end, 6);
	sweep("TS=1: #NM at every register-form escape", CR0_TS | CR0_MP,
	      esc_reg_start, esc_reg_end, 2);
	sweep("TS=1: #NM at every memory-form escape", CR0_TS, esc_mem_start, esc_mem_end, 6);
	sweep("EM=1 TS=1 MP=1: #NM at every memory-form escape", CR0_EM | CR0_TS | CR0_MP,
	      esc_mem_start, esc_mem_end, 6);

	/* With prefixes the fault still points at the first prefix byte. */
	write_cr0(read_cr0() | CR0_EM);
	int pv = TRY(".globl em_pfx1\nem_pfx1: .byte 0x26, 0xd9, 0x05\n.long esc_buf", : : : "memory");
	uint32_t pe1 = rt_caught.eip;
	int pv2 = TRY(".globl em_pfx2\nem_pfx2: .byte 0x66, 0x3e, 0xdd, 0x3d\n.long esc_buf", : : : "memory");
	uint32_t pe2 = rt_caught.eip;
	int pv3 = TRY(".globl em_pfx3\nem_pfx3: .byte 0x67, 0xd9, 0x06\n.word 0x1000", : : : "memory");
	uint32_t pe3 = rt_caught.eip;
	write_cr0(read_cr0() & ~CR0_EM);
	extern uint8_t em_pfx1[], em_pfx2[], em_pfx3[];
	check(pv == 7 && pe1 == (uint32_t)em_pfx1, "EM=1: ES: FLD m32: #NM at the prefix", "vector %d at %#x", pv, pe1);
	check(pv2 == 7 && pe2 == (uint32_t)em_pfx2, "EM=1: 66 DS: FNSTSW m16: #NM at the first prefix",
	      "vector %d at %#x", pv2, pe2);
	check(pv3 == 7 && pe3 == (uint32_t)em_pfx3, "EM=1: 67 FLD m32 (16-bit address): #NM at the prefix",
	      "vector %d at %#x", pv3, pe3);

	/* WAIT: #NM exactly when MP and TS are both set; an escape (FNOP) when EM or TS. */
	for (uint32_t bits = 0; bits < 8; bits++) {
		uint32_t cr0 = (bits & 1 ? CR0_MP : 0) | (bits & 2 ? CR0_EM : 0) | (bits & 4 ? CR0_TS : 0);
		write_cr0((read_cr0() & ~(CR0_MP | CR0_EM | CR0_TS)) | cr0);
		int w = TRY("fwait", : : : "memory");
		int e = TRY("fnop", : : : "memory");
		write_cr0(read_cr0() & ~(CR0_EM | CR0_TS));
		int want_w = (bits & 1) && (bits & 4) ? 7 : -1;
		int want_e = (bits & 2) || (bits & 4) ? 7 : -1;
		check(w == want_w && e == want_e, "WAIT and FNOP against MP/EM/TS",
		      "MP=%u EM=%u TS=%u: WAIT vector %d want %d, FNOP vector %d want %d",
		      bits & 1, (bits >> 1) & 1, (bits >> 2) & 1, w, want_w, e, want_e);
	}

	/* The #NM leaves the FPU untouched: a value loaded before survives. */
	fninit();
	static const double seven = 7.0;
	__asm__ volatile("fldl %0" : : "m"(seven) : "memory");
	write_cr0(read_cr0() | CR0_TS);
	int v = TRY("fldpi", : : : "memory");
	clts();
	uint64_t top = fstp_bits();
	check(v == 7 && top == 0x401c000000000000ull, "#NM leaves the x87 stack alone",
	      "vector %d, ST(0) %#x%08x want 7.0", v, (uint32_t)(top >> 32), (uint32_t)top);
	uint16_t sw = fnstsw();
	CHECK_EQ("stack empty again, no flags", sw & 0x3fff, 0);

	fninit();
	rt_set_handler(7, user_nm_handler);
	write_cr0(read_cr0() | CR0_TS | CR0_MP);
	rt_ring3(user_part, (uint32_t)rt_ustack_top);
	rt_set_handler(7, 0);
	check(U.n == 1 && U.cs == SEL_CODE32_U && U.eip == (uint32_t)user_fldpi,
	      "ring 3 under TS: #NM at the user's FLDPI, once", "%d #NM, at %#x:%#x", U.n, U.cs, U.eip);
	top = fstp_bits();
	check(!(read_cr0() & CR0_TS) && top == 0x400921fb54442d18ull, "ring 3: the FLDPI ran after CLTS",
	      "cr0 %#x ST(0) %#x%08x", read_cr0(), (uint32_t)(top >> 32), (uint32_t)top);

	uint32_t a, b, c, d;
	cpuid(1, &a, &b, &c, &d);
	if (!(d & (1u << 24))) {
		printf_("note: CPUID.1:EDX.FXSR clear: no FXSAVE checks\n");
		return;
	}
	static uint8_t area[512] __attribute__((aligned(16)));
	write_cr0(read_cr0() | CR0_EM);
	v = TRY("fxsave %0", : "=m"(area) : : "memory");
	write_cr0(read_cr0() & ~CR0_EM);
	CHECK_EQ("FXSAVE with EM=1: #UD", v, 6);
	write_cr0(read_cr0() | CR0_TS);
	v = TRY("fxrstor %0", : : "m"(area) : "memory");
	clts();
	CHECK_EQ("FXRSTOR with TS=1: #NM", v, 7);
}
