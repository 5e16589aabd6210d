/*
 * 32-bit paging: #PF error codes and CR2 (not present, write protection
 * with and without CR0.WP, user/supervisor), accessed/dirty bits, INVLPG,
 * CR3 reloads, 4 MiB pages (PSE) and global pages (PGE).
 */
#include "rt.h"

#define PG 0x1000u
#define T0 0x300000u          /* test pages, identity-mapped 4 KiB pages */
#define PHYS_A 0x310000u
#define PHYS_B 0x311000u

static inline uint32_t rd(uint32_t a) { return *(volatile uint32_t *)a; }
static inline void wr(uint32_t a, uint32_t v) { *(volatile uint32_t *)a = v; }

static void set_pte(uint32_t lin, uint32_t val)
{
	*rt_pte(lin) = val;
	invlpg(lin);
}

static int try_rd(uint32_t a)
{
	uint32_t v;
	return TRY("movl (%1), %0", : "=r"(v) : "r"(a) : "memory");
}

static int try_wr(uint32_t a)
{
	return TRY("movl $0x77, (%0)", : : "r"(a) : "memory");
}

static void expect_pf(const char *name, int vec, uint32_t err, uint32_t cr2)
{
	check(vec == 14 && rt_caught.err == err && rt_caught.cr2 == cr2, name,
	      "vector %d err %#x cr2 %#x, want #PF err %#x cr2 %#x", vec, rt_caught.err, rt_caught.cr2, err, cr2);
}

/* Ring-3 part: results in memory, no I/O. */
static volatile int u_vec[4];
static volatile uint32_t u_err[4], u_cr2[4];
static void __attribute__((noreturn)) user_part(void)
{
	u_vec[0] = try_rd(T0 + 4 * PG + 8);       /* supervisor page */
	u_err[0] = rt_caught.err; u_cr2[0] = rt_caught.cr2;
	u_vec[1] = try_wr(T0 + 5 * PG + 12);      /* user read-only page */
	u_err[1] = rt_caught.err; u_cr2[1] = rt_caught.cr2;
	u_vec[2] = try_rd(T0 + 2 * PG + 16);      /* not present */
	u_err[2] = rt_caught.err; u_cr2[2] = rt_caught.cr2;
	u_vec[3] = try_rd(T0 + 5 * PG);           /* user read-only: reads are fine */
	__asm__ volatile("int $0x30");
	for (;;)
		;
}

void test_main(void)
{
	uint32_t a, b, c, d;
	cpuid(1, &a, &b, &c, &d);
	for (uint32_t p = T0; p < T0 + 16 * PG; p += 4)
		wr(p, p);
	wr(PHYS_A, 0xaaaa);
	wr(PHYS_B, 0xbbbb);

	rt_paging_on();
	check(read_cr0() & 0x80000000u, "paging enabled", "CR0 = %#x", read_cr0());
	CHECK_EQ("identity read through paging", rd(T0 + 12), T0 + 12);

	/* Accessed and dirty bits. */
	set_pte(T0 + PG, (T0 + PG) | PTE_U | PTE_W | PTE_P);
	(void)rd(T0 + PG);
	check((*rt_pte(T0 + PG) & (PTE_A | PTE_D)) == PTE_A, "read sets A, not D", "PTE %#x", *rt_pte(T0 + PG));
	wr(T0 + PG, 1);
	check((*rt_pte(T0 + PG) & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "write sets D", "PTE %#x", *rt_pte(T0 + PG));
	check((*rt_pde(T0) & PTE_A) != 0, "walk sets A in the PDE", "PDE %#x", *rt_pde(T0));

	/* Not present. */
	set_pte(T0 + 2 * PG, (T0 + 2 * PG) | PTE_U | PTE_W);
	expect_pf("not-present read: err 0, CR2", try_rd(T0 + 2 * PG + 4), 0, T0 + 2 * PG + 4);
	expect_pf("not-present write: err 2", try_wr(T0 + 2 * PG + 8), 2, T0 + 2 * PG + 8);
	expect_pf("dword crossing into a not-present page: CR2 = its first byte",
		  try_rd(T0 + 2 * PG - 2), 0, T0 + 2 * PG);
	CHECK_EQ("the faulting write changed nothing", rd(T0 + PG + PG - 4), T0 + 2 * PG - 4);

	/* Write protection for the supervisor: only with CR0.WP. */
	set_pte(T0 + 3 * PG, (T0 + 3 * PG) | PTE_P);
	CHECK_EQ("supervisor write to a read-only page, WP=0: allowed", try_wr(T0 + 3 * PG), -1);
	CHECK_EQ("... and it wrote", rd(T0 + 3 * PG), 0x77);
	write_cr0(read_cr0() | 0x10000u);
	expect_pf("supervisor write, WP=1: err 3", try_wr(T0 + 3 * PG + 4), 3, T0 + 3 * PG + 4);
	write_cr0(read_cr0() & ~0x10000u);

	/* User/supervisor, from ring 3. */
	set_pte(T0 + 4 * PG, (T0 + 4 * PG) | PTE_W | PTE_P);
	set_pte(T0 + 5 * PG, (T0 + 5 * PG) | PTE_U | PTE_P);
	rt_ring3(user_part, (uint32_t)rt_ustack_top);
	check(u_vec[0] == 14 && u_err[0] == 5 && u_cr2[0] == T0 + 4 * PG + 8, "user read of a supervisor page: err 5",
	      "vector %d err %#x cr2 %#x", u_vec[0], u_err[0], u_cr2[0]);
	check(u_vec[1] == 14 && u_err[1] == 7 && u_cr2[1] == T0 + 5 * PG + 12, "user write to a read-only page: err 7",
	      "vector %d err %#x cr2 %#x", u_vec[1], u_err[1], u_cr2[1]);
	check(u_vec[2] == 14 && u_err[2] == 4 && u_cr2[2] == T0 + 2 * PG + 16, "user read, not present: err 4",
	      "vector %d err %#x cr2 %#x", u_vec[2], u_err[2], u_cr2[2]);
	CHECK_EQ("user read of a user read-only page", u_vec[3], -1);

	/* INVLPG and CR3 reloads drop (non-global) translations. */
	set_pte(T0 + 6 * PG, PHYS_A | PTE_W | PTE_P);
	CHECK_EQ("mapped to A", rd(T0 + 6 * PG), 0xaaaa);
	*rt_pte(T0 + 6 * PG) = PHYS_B | PTE_W | PTE_P;
	invlpg(T0 + 6 * PG);
	CHECK_EQ("INVLPG: remapped to B", rd(T0 + 6 * PG), 0xbbbb);
	set_pte(T0 + 7 * PG, PHYS_A | PTE_W | PTE_P);
	(void)rd(T0 + 7 * PG);
	*rt_pte(T0 + 7 * PG) = PHYS_B | PTE_W | PTE_P;
	write_cr3(read_cr3());
	CHECK_EQ("CR3 reload: non-global entry remapped", rd(T0 + 7 * PG), 0xbbbb);

	/* 4 MiB pages. */
	if (d & (1u << 3)) {
		write_cr4(read_cr4() | 0x10u);
		*rt_pde(0x800000) = 0xc00000 | PDE_PS | PTE_W | PTE_P;
		*rt_pde(0xc00000) = 0xc00000 | PDE_PS | PTE_W | PTE_P;
		*rt_pde(0x1000000) = 0;
		write_cr3(read_cr3());
		wr(0x800000 + 0x123450, 0x4d4d4d4d);
		CHECK_EQ("PSE: 4 MiB page maps 0x800000 to 0xc00000", rd(0xc00000 + 0x123450), 0x4d4d4d4d);
		check((*rt_pde(0x800000) & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "PSE: A and D set in the PDE",
		      "PDE %#x", *rt_pde(0x800000));
		expect_pf("PSE: not-present 4 MiB region", try_rd(0x1000000 + 0x3456), 0, 0x1003456);
		*rt_pde(0x800000) = 0xc00000 | PDE_PS | PTE_P;
		write_cr3(read_cr3());
		write_cr0(read_cr0() | 0x10000u);
		expect_pf("PSE: read-only 4 MiB page, WP=1: err 3", try_wr(0x800000 + 0x10), 3, 0x800010);
		write_cr0(read_cr0() & ~0x10000u);
	} else {
		printf_("skip PSE: not advertised in CPUID\n");
	}

	/* Global pages. */
	if (d & (1u << 13)) {
		write_cr4(read_cr4() | 0x80u);
		set_pte(T0 + 8 * PG, PHYS_A | PTE_G | PTE_W | PTE_P);
		CHECK_EQ("PGE: global page mapped to A", rd(T0 + 8 * PG), 0xaaaa);
		*rt_pte(T0 + 8 * PG) = PHYS_B | PTE_G | PTE_W | PTE_P;
		write_cr3(read_cr3());
		/* A TLB may always drop an entry: keeping it is allowed, not required. */
		printf_("info: global entry %s a CR3 reload\n",
			rd(T0 + 8 * PG) == 0xaaaa ? "survived" : "did not survive");
		write_cr4(read_cr4() & ~0x80u);
		write_cr4(read_cr4() | 0x80u);
		CHECK_EQ("PGE: toggling CR4.PGE flushes global entries", rd(T0 + 8 * PG), 0xbbbb);
		*rt_pte(T0 + 8 * PG) = PHYS_A | PTE_G | PTE_W | PTE_P;
		invlpg(T0 + 8 * PG);
		CHECK_EQ("PGE: INVLPG flushes a global entry", rd(T0 + 8 * PG), 0xaaaa);
		write_cr4(read_cr4() & ~0x80u);
	} else {
		printf_("skip PGE: not advertised in CPUID\n");
	}

	rt_paging_off();
	write_cr4(0);
	check(!(read_cr0() & 0x80000000u), "paging disabled again", "CR0 = %#x", read_cr0());
	CHECK_EQ("physical view after paging off", rd(0xc00000 + 0x123450), 0x4d4d4d4d);
}
