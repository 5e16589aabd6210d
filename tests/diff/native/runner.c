/*
 * The native side of the differential CPU test: a 32-bit program (built
 * with -m32) that runs each test case on the host CPU and reports the
 * registers, flags, memory changes and exception it produced.
 *
 * Reads struct diff_case records on stdin until EOF and writes one struct
 * diff_result per case on stdout. The data block and the code page are
 * mapped at the fixed addresses of tests/diff/diff.h, so the snippets see
 * exactly the addresses they see in the emulator.
 *
 * Exceptions arrive as signals; the handler (on its own stack, since the
 * test's ESP points into the compared data block) records the trap number,
 * error code and registers from the ucontext and siglongjmps back.
 */
#include <asm/ldt.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "tests/diff/diff.h"

#if !defined(__i386__)
#error "the native runner must be built for i386 (-m32)"
#endif

#define CODE_PAGE 4096u
/* EFLAGS bits a test may set: CF PF AF ZF SF DF OF. */
#define USER_FLAGS 0x0CD5u

/* What diff_enter loads; the layout is spelled out in enter.S. */
struct native_in {
	uint32_t gpr[8];
	uint32_t eflags;
	uint32_t ds, es, fs, gs;
};

/* Shared with enter.S and with the code written into the code page; the
 * asm cannot reach a struct passed by pointer once DS is the test's. */
struct native_in diff_in;
struct diff_result diff_out;
uint32_t diff_saved_esp, diff_saved_fs, diff_saved_gs;
/* Far pointer (offset, selector) to the snippet, and to diff_exit. */
uint32_t diff_code_entry[2];
uint32_t diff_exit_ptr[2];
uint32_t diff_scratch[16];

void diff_enter(void);
void diff_exit(void);
void diff_restore_fs(void);

/* The signal handler's only ways back; it runs only while a case does. */
static sigjmp_buf fault_jump;
static volatile sig_atomic_t in_test;
/* EIP at the end of the snippet, and past the code page: offsets in a
 * 16-bit code segment, linear addresses in the flat one. */
static uint32_t code_end, page_end;

static void die(const char *what)
{
	fprintf(stderr, "native_runner: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	/* First of all: glibc reaches its TLS (and siglongjmp its pointer
	 * guard) through GS, which may hold the test's selector. */
	__asm__ volatile("movl %0, %%eax\n\tmovl %%eax, %%gs" : : "m"(diff_saved_gs) : "eax");
	/* And the test may have set EFLAGS.AC: no #AC in the handler. */
	__asm__ volatile("pushfl\n\tandl $~0x40000, (%%esp)\n\tpopfl" : : : "memory", "cc");
	if (!in_test) {
		static const char msg[] = "native_runner: fault outside a test case\n";
		if (write(2, msg, sizeof msg - 1) < 0)
			_exit(3);
		_exit(3);
	}
	const greg_t *g = ((ucontext_t *)ucv)->uc_mcontext.gregs;
	struct diff_result *r = &diff_out;
	r->gpr[0] = (uint32_t)g[REG_EAX];
	r->gpr[1] = (uint32_t)g[REG_ECX];
	r->gpr[2] = (uint32_t)g[REG_EDX];
	r->gpr[3] = (uint32_t)g[REG_EBX];
	r->gpr[4] = (uint32_t)g[REG_UESP];
	r->gpr[5] = (uint32_t)g[REG_EBP];
	r->gpr[6] = (uint32_t)g[REG_ESI];
	r->gpr[7] = (uint32_t)g[REG_EDI];
	r->eip = (uint32_t)g[REG_EIP];
	r->eflags = (uint32_t)g[REG_EFL];
	r->seg[DIFF_ES] = (uint32_t)g[REG_ES] & 0xFFFF;
	r->seg[DIFF_CS] = (uint32_t)g[REG_CS] & 0xFFFF;
	r->seg[DIFF_SS] = (uint32_t)g[REG_SS] & 0xFFFF;
	r->seg[DIFF_DS] = (uint32_t)g[REG_DS] & 0xFFFF;
	r->seg[DIFF_FS] = (uint32_t)g[REG_FS] & 0xFFFF;
	r->seg[DIFF_GS] = (uint32_t)g[REG_GS] & 0xFFFF;
	r->trap = (uint32_t)g[REG_TRAPNO];
	r->err = (uint32_t)g[REG_ERR];
	r->fault_addr = (sig == SIGSEGV || sig == SIGBUS) ? (uint32_t)(uintptr_t)si->si_addr : 0;
	/* A fault in the trailer is ours. Traps (#DB, #BP, #OF) report the
	 * next instruction, which is the trailer's first after the last one. */
	bool trap_class = r->trap == 1 || r->trap == 3 || r->trap == 4;
	if (r->eip < page_end && (r->eip > code_end || (r->eip == code_end && !trap_class)))
		r->trap = DIFF_TRAP_HARNESS;
	siglongjmp(fault_jump, 1);
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
	return p + 4;
}

/*
 * The trailer: stores the GPRs, segment registers and EFLAGS into
 * diff_out without touching the test's stack or flags, then jumps far to
 * diff_exit. Every access is SS-relative because SS stays flat. In a
 * 16-bit code segment the same instructions need 66 (32-bit operands)
 * and 67 (32-bit addresses) prefixes.
 */
static uint8_t *write_trailer(uint8_t *p, bool code16)
{
	static const uint8_t gpr_modrm[8] = { 0x05, 0x0D, 0x15, 0x1D, 0x25, 0x2D, 0x35, 0x3D };
	for (int i = 0; i < 8; i++) {
		*p++ = 0x36;                            /* ss: */
		if (code16) { *p++ = 0x66; *p++ = 0x67; }
		*p++ = 0x89;                            /* mov [disp32], reg */
		*p++ = gpr_modrm[i];
		p = put32(p, (uint32_t)(uintptr_t)&diff_out.gpr[i]);
	}
	for (int s = 0; s < DIFF_NSEG; s++) {
		*p++ = 0x36;
		if (code16) *p++ = 0x67;
		*p++ = 0x8C;                            /* mov [disp32], sreg */
		*p++ = (uint8_t)(0x05 | (s << 3));
		p = put32(p, (uint32_t)(uintptr_t)&diff_out.seg[s]);
	}
	if (code16) *p++ = 0x66;
	*p++ = 0xBC;                                    /* mov esp, scratch top */
	p = put32(p, (uint32_t)(uintptr_t)&diff_scratch[16]);
	if (code16) *p++ = 0x66;
	*p++ = 0x9C;                                    /* pushfd */
	*p++ = 0x36;
	if (code16) { *p++ = 0x66; *p++ = 0x67; }
	*p++ = 0x8F;                                    /* pop [disp32] */
	*p++ = 0x05;
	p = put32(p, (uint32_t)(uintptr_t)&diff_out.eflags);
	*p++ = 0x36;
	if (code16) { *p++ = 0x66; *p++ = 0x67; }
	*p++ = 0xFF;                                    /* jmp far [disp32] */
	*p++ = 0x2D;
	p = put32(p, (uint32_t)(uintptr_t)&diff_exit_ptr);
	return p;
}

static void *map_fixed(uint32_t addr, size_t len, int prot, const char *what)
{
	void *p = mmap((void *)(uintptr_t)addr, len, prot,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)
		die(what);
	if (p != (void *)(uintptr_t)addr) {
		fprintf(stderr, "native_runner: %s mapped at %p, not 0x%x\n", what, p, addr);
		exit(2);
	}
	return p;
}

/* False when the kernel has no modify_ldt (CONFIG_MODIFY_LDT_SYSCALL=n):
 * the cases needing the LDT segments are then reported unsupported. */
static bool setup_ldt(void)
{
	struct user_desc d;
	/* Entry 2: 4 GiB data based at the data block (for FS/GS). */
	memset(&d, 0, sizeof d);
	d.entry_number = DIFF_SEL_BASED >> 3;
	d.base_addr = DIFF_DATA_ADDR;
	d.limit = 0xFFFFF;
	d.seg_32bit = 1;
	d.contents = 0;
	d.read_exec_only = 0;
	d.limit_in_pages = 1;
	d.useable = 1;
	if (syscall(SYS_modify_ldt, 1, &d, sizeof d) != 0) {
		fprintf(stderr, "native_runner: modify_ldt: %s; LDT segment cases skipped\n",
		        strerror(errno));
		return false;
	}
	/* Entry 1: the 16-bit code segment. */
	memset(&d, 0, sizeof d);
	d.entry_number = DIFF_SEL_CODE16 >> 3;
	d.base_addr = DIFF_CODE_ADDR;
	d.limit = 0xFFFF;
	d.seg_32bit = 0;
	d.contents = MODIFY_LDT_CONTENTS_CODE;
	d.read_exec_only = 0;           /* readable */
	d.useable = 1;
	if (syscall(SYS_modify_ldt, 1, &d, sizeof d) != 0) {
		fprintf(stderr, "native_runner: modify_ldt: %s; 16-bit segment cases skipped\n",
		        strerror(errno));
		return false;
	}
	memset(&d, 0, sizeof d);
	d.entry_number = DIFF_SEL_LDT16 >> 3;
	d.base_addr = DIFF_DATA_ADDR;
	d.limit = DIFF_DATA_SIZE - 1;
	d.seg_32bit = 1;
	d.contents = 0;                 /* data, expand-up */
	d.read_exec_only = 0;           /* writable */
	d.limit_in_pages = 0;
	d.seg_not_present = 0;
	d.useable = 1;
	if (syscall(SYS_modify_ldt, 1, &d, sizeof d) != 0) {
		fprintf(stderr, "native_runner: modify_ldt: %s; 16-bit segment cases skipped\n",
		        strerror(errno));
		return false;
	}
	return true;
}

static void setup_signals(void)
{
	stack_t ss;
	ss.ss_size = 1u << 16;
	ss.ss_sp = malloc(ss.ss_size);
	ss.ss_flags = 0;
	if (!ss.ss_sp)
		die("malloc");
	if (sigaltstack(&ss, NULL) != 0)
		die("sigaltstack");
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP };
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (sigaction(sigs[i], &sa, NULL) != 0)
			die("sigaction");
}

/* Reads exactly len bytes; 0 at a clean EOF before the first byte. */
static int read_full(void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(0, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read");
		if (n == 0) {
			if (got == 0)
				return 0;
			fprintf(stderr, "native_runner: truncated case\n");
			exit(2);
		}
		got += (size_t)n;
	}
	return 1;
}

static void write_full(const void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(1, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write");
		done += (size_t)n;
	}
}

static void run_case(const struct diff_case *c, uint8_t *data, uint8_t *initial,
                     const uint8_t *pristine, uint8_t *code)
{
	memcpy(initial + c->patch_off, c->patch, c->patch_len);
	memcpy(data, initial, DIFF_DATA_SIZE);
	memcpy(code, c->code, c->code_len);
	bool code16 = (c->flags & DIFF_F_CODE16) != 0;
	code_end = (code16 ? 0 : DIFF_CODE_ADDR) + c->code_len;
	page_end = (code16 ? 0 : DIFF_CODE_ADDR) + CODE_PAGE;
	diff_code_entry[0] = code16 ? 0 : DIFF_CODE_ADDR;
	diff_code_entry[1] = code16 ? DIFF_SEL_CODE16 : DIFF_SEL_CODE3;
	write_trailer(code + c->code_len, code16);

	memcpy(diff_in.gpr, c->gpr, sizeof diff_in.gpr);
	diff_in.eflags = (c->eflags & USER_FLAGS) | 0x202;
	uint32_t dsel = (c->flags & DIFF_F_LDT16) ? DIFF_SEL_LDT16 : DIFF_SEL_DATA3;
	diff_in.ds = diff_in.fs = diff_in.gs = dsel;
	diff_in.es = (c->flags & DIFF_F_NULL_ES) ? 0 : dsel;
	if (c->flags & DIFF_F_FSGS_BASED)
		diff_in.fs = diff_in.gs = DIFF_SEL_BASED;

	memset(&diff_out, 0, sizeof diff_out);
	in_test = 1;
	if (sigsetjmp(fault_jump, 1) == 0) {
		diff_enter();
		diff_out.eip = code_end;
		diff_out.trap = DIFF_TRAP_NONE;
	} else {
		diff_restore_fs();
	}
	in_test = 0;
	diff_out.magic = DIFF_MAGIC_RESULT;
	diff_out.id = c->id;
	diff_collect_changes(initial, data, &diff_out);
	memcpy(initial + c->patch_off, pristine + c->patch_off, c->patch_len);
}

int main(void)
{
	uint8_t *data = map_fixed(DIFF_DATA_ADDR, DIFF_DATA_SIZE, PROT_READ | PROT_WRITE, "data block");
	uint8_t *code = map_fixed(DIFF_CODE_ADDR, CODE_PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, "code page");
	/* Guards around both: the pagefault cases reach just past them and
	 * must find nothing there (PROT_NONE is not-present to the CPU). */
	map_fixed(DIFF_DATA_ADDR - DIFF_GUARD_SIZE, DIFF_GUARD_SIZE, PROT_NONE, "guard below data");
	map_fixed(DIFF_DATA_ADDR + DIFF_DATA_SIZE, DIFF_GUARD_SIZE, PROT_NONE, "guard above data");
	map_fixed(DIFF_CODE_ADDR + CODE_PAGE, DIFF_GUARD_SIZE, PROT_NONE, "guard above code");
	uint8_t *pristine = malloc(DIFF_DATA_SIZE);
	uint8_t *initial = malloc(DIFF_DATA_SIZE);
	if (!pristine || !initial)
		die("malloc");
	diff_fill_data(pristine);
	memcpy(initial, pristine, DIFF_DATA_SIZE);
	diff_exit_ptr[0] = (uint32_t)(uintptr_t)diff_exit;
	diff_exit_ptr[1] = DIFF_SEL_CODE3;
	bool have_ldt = setup_ldt();
	setup_signals();

	struct diff_case c;
	while (read_full(&c, sizeof c)) {
		if (c.magic != DIFF_MAGIC_CASE || c.code_len > DIFF_CODE_MAX ||
		    c.patch_len > DIFF_PATCH_MAX || c.patch_off > DIFF_DATA_SIZE - c.patch_len) {
			fprintf(stderr, "native_runner: malformed case (id %u)\n", c.id);
			return 2;
		}
		if (!have_ldt && (c.flags & (DIFF_F_LDT16 | DIFF_F_CODE16 | DIFF_F_FSGS_BASED))) {
			memset(&diff_out, 0, sizeof diff_out);
			diff_out.magic = DIFF_MAGIC_RESULT;
			diff_out.id = c.id;
			diff_out.trap = DIFF_TRAP_UNSUPPORTED;
		} else {
			run_case(&c, data, initial, pristine, code);
		}
		write_full(&diff_out, sizeof diff_out);
	}
	return 0;
}
