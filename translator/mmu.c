/*
 * The soft MMU: 2-level i386 paging (4 KiB and, with CR4.PSE, 4 MiB pages),
 * accessed/dirty bits, #PF with error code and CR2, the A20 gate, and a
 * direct-mapped TLB per privilege (user / supervisor) whose entries hold a
 * host pointer and fold in the permission and dirty state, so a hit is a
 * compare and a load (lin_read/lin_write in cpu_int.h). Everything that
 * misses comes here: walks, MMIO, page-crossing accesses, stores to pages
 * that hold translated code.
 */
#include "translator/cpu_int.h"

#define PTE_P   0x001u
#define PTE_RW  0x002u
#define PTE_US  0x004u
#define PTE_A   0x020u
#define PTE_D   0x040u
#define PTE_PS  0x080u
#define PTE_G   0x100u

static uint32_t a20(const struct cpu *cpu, uint32_t paddr)
{
	return cpu->a20 ? paddr : paddr & ~(1u << 20);
}

uint32_t phys_read(struct cpu *cpu, uint32_t paddr, unsigned size)
{
	paddr = a20(cpu, paddr);
	if ((paddr & 0xfff) + size <= 4096) {
		uint8_t *p = cpu->bus.ram_page(cpu->bus.opaque, paddr & ~0xfffu, false);
		if (p) {
			uint32_t v = 0;
			memcpy(&v, p + (paddr & 0xfff), size);
			return v;
		}
		return cpu->bus.mmio_read(cpu->bus.opaque, paddr, size);
	}
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= phys_read(cpu, paddr + i, 1) << (8 * i);
	return v;
}

void phys_write(struct cpu *cpu, uint32_t paddr, unsigned size, uint32_t val)
{
	paddr = a20(cpu, paddr);
	if ((paddr & 0xfff) + size > 4096) {
		for (unsigned i = 0; i < size; i++)
			phys_write(cpu, paddr + i, 1, val >> (8 * i));
		return;
	}
	if (page_has_code(cpu, paddr))
		tb_invalidate_page(cpu, paddr & ~0xfffu);
	uint8_t *p = cpu->bus.ram_page(cpu->bus.opaque, paddr & ~0xfffu, true);
	if (p)
		memcpy(p + (paddr & 0xfff), &val, size);
	else
		cpu->bus.mmio_write(cpu->bus.opaque, paddr, val, size);
}

_Noreturn static void page_fault(struct cpu *cpu, uint32_t lin, uint32_t err)
{
	cpu->cr2 = lin;
	cpu_raise(cpu, EXC_PF, err, true);
}

/*
 * Walks the page tables. On success stores the physical address and
 * returns true; `global`/`dirty_ok` report the TLB-relevant bits.
 */
static bool walk(struct cpu *cpu, uint32_t lin, enum acc acc, bool user, bool fault,
                 uint32_t *phys, bool *writable, bool *global)
{
	bool write = acc == ACC_WRITE;
	uint32_t pde_addr = (cpu->cr3 & ~0xfffu) + ((lin >> 22) << 2);
	uint32_t pde = phys_read(cpu, pde_addr, 4);
	uint32_t err = (write ? 2u : 0u) | (user ? 4u : 0u);
	if (!(pde & PTE_P)) {
		if (fault)
			page_fault(cpu, lin, err);
		return false;
	}
	bool big = (pde & PTE_PS) && (cpu->cr4 & CR4_PSE);
	uint32_t pte, pte_addr = 0, perm;
	if (big) {
		pte = pde;
		perm = pde;
	} else {
		pte_addr = (pde & ~0xfffu) + (((lin >> 12) & 0x3ff) << 2);
		pte = phys_read(cpu, pte_addr, 4);
		if (!(pte & PTE_P)) {
			if (fault)
				page_fault(cpu, lin, err);
			return false;
		}
		perm = pde & pte;
	}
	/* Supervisor writes ignore R/W unless CR0.WP; user accesses need U/S and (for writes) R/W. */
	bool can_write = (perm & PTE_RW) || (!user && !(cpu->cr0 & CR0_WP));
	if ((user && !(perm & PTE_US)) || (write && !can_write)) {
		if (fault)
			page_fault(cpu, lin, err | 1);
		return false;
	}
	if (!fault)
		goto done;  /* debugger peeks leave A/D alone */
	if (!(pde & PTE_A))
		phys_write(cpu, pde_addr, 4, pde | PTE_A);
	if (big) {
		if (write && !(pde & PTE_D))
			phys_write(cpu, pde_addr, 4, pde | PTE_A | PTE_D);
	} else {
		uint32_t npte = pte | PTE_A | (write ? PTE_D : 0);
		if (npte != pte)
			phys_write(cpu, pte_addr, 4, npte);
	}
done:
	*phys = big ? (pde & 0xffc00000u) | (lin & 0x3fffffu) : (pte & ~0xfffu) | (lin & 0xfff);
	/* A write entry is only safe once D is set, so the first write comes back here. */
	*writable = can_write && (write || (pte & PTE_D));
	*global = (pte & PTE_G) && (cpu->cr4 & CR4_PGE);
	return true;
}

bool mmu_translate(struct cpu *cpu, uint32_t lin, enum acc acc, bool user, bool fault, uint32_t *phys)
{
	bool w, g;
	if (!(cpu->cr0 & CR0_PG)) {
		*phys = a20(cpu, lin);
		return true;
	}
	if (!walk(cpu, lin, acc, user, fault, phys, &w, &g))
		return false;
	*phys = a20(cpu, *phys);
	return true;
}

/* Translates and refills the TLB entry for lin's page; returns the physical address. */
static uint32_t fill(struct cpu *cpu, uint32_t lin, enum acc acc, bool user)
{
	uint32_t phys;
	bool writable = true, global = false;
	if (cpu->cr0 & CR0_PG) {
		walk(cpu, lin, acc, user, true, &phys, &writable, &global);
	} else {
		phys = lin;
	}
	phys = a20(cpu, phys);
	struct tlb_entry *e = &cpu->tlb[user][(lin >> 12) & (TLB_SIZE - 1)];
	uint32_t ppage = phys & ~0xfffu;
	uint8_t *host = cpu->bus.ram_page(cpu->bus.opaque, ppage, false);
	e->vread = e->vwrite = TLB_INVALID;
	if (host && !(user && cpu->ac_check)) {
		e->host = host;
		e->phys = ppage;
		e->global = global;
		e->vread = lin & ~0xfffu;
		if (writable && !page_has_code(cpu, ppage) &&
		    cpu->bus.ram_page(cpu->bus.opaque, ppage, true) == host)
			e->vwrite = lin & ~0xfffu;
	}
	return phys;
}

static uint32_t read_page(struct cpu *cpu, uint32_t lin, unsigned size, bool user)
{
	uint32_t phys = fill(cpu, lin, ACC_READ, user);
	const struct tlb_entry *e = &cpu->tlb[user][(lin >> 12) & (TLB_SIZE - 1)];
	if (e->vread == (lin & ~0xfffu)) {
		uint32_t v = 0;
		memcpy(&v, e->host + (lin & 0xfff), size);
		return v;
	}
	uint8_t *host = cpu->bus.ram_page(cpu->bus.opaque, phys & ~0xfffu, false);
	if (host) {     /* RAM not cached in the TLB (alignment checking) */
		uint32_t v = 0;
		memcpy(&v, host + (phys & 0xfff), size);
		return v;
	}
	return cpu->bus.mmio_read(cpu->bus.opaque, phys, size);
}

/* #AC: a misaligned user access with alignment checking on. */
static void check_align(struct cpu *cpu, uint32_t lin, unsigned size, bool user)
{
	if (unlikely(user && cpu->ac_check && (lin & (size - 1))))
		cpu_raise(cpu, EXC_AC, 0, true);
}

uint32_t mmu_read_slow(struct cpu *cpu, uint32_t lin, unsigned size, bool user)
{
	check_align(cpu, lin, size, user);
	if ((lin & 0xfff) + size <= 4096)
		return read_page(cpu, lin, size, user);
	unsigned first = 4096 - (lin & 0xfff);
	uint32_t lo = 0, hi = 0;
	for (unsigned i = 0; i < first; i++)
		lo |= read_page(cpu, lin + i, 1, user) << (8 * i);
	for (unsigned i = first; i < size; i++)
		hi |= read_page(cpu, lin + i, 1, user) << (8 * (i - first));
	return lo | (hi << (8 * first));
}

/* The read half of a read-modify-write: translated for writing, as the
 * hardware does, so a fault reports W=1 and nothing is read twice. */
uint32_t mmu_read_rmw_slow(struct cpu *cpu, uint32_t lin, unsigned size, bool user)
{
	check_align(cpu, lin, size, user);
	if ((lin & 0xfff) + size <= 4096) {
		uint32_t phys = fill(cpu, lin, ACC_WRITE, user);
		const struct tlb_entry *e = &cpu->tlb[user][(lin >> 12) & (TLB_SIZE - 1)];
		if (e->vread == (lin & ~0xfffu)) {
			uint32_t v = 0;
			memcpy(&v, e->host + (lin & 0xfff), size);
			return v;
		}
		return phys_read(cpu, phys, size);
	}
	unsigned first = 4096 - (lin & 0xfff);
	fill(cpu, lin, ACC_WRITE, user);
	fill(cpu, lin + first, ACC_WRITE, user);
	return mmu_read_slow(cpu, lin, size, user);
}

static void write_phys_checked(struct cpu *cpu, uint32_t phys, unsigned size, uint32_t val)
{
	if (page_has_code(cpu, phys))
		tb_invalidate_page(cpu, phys & ~0xfffu);
	uint8_t *p = cpu->bus.ram_page(cpu->bus.opaque, phys & ~0xfffu, true);
	if (p)
		memcpy(p + (phys & 0xfff), &val, size);
	else
		cpu->bus.mmio_write(cpu->bus.opaque, phys, val, size);
}

void mmu_write_slow(struct cpu *cpu, uint32_t lin, unsigned size, uint32_t val, bool user)
{
	check_align(cpu, lin, size, user);
	if ((lin & 0xfff) + size <= 4096) {
		uint32_t phys = fill(cpu, lin, ACC_WRITE, user);
		write_phys_checked(cpu, phys, size, val);
		return;
	}
	/* Both pages must be writable before any byte is written. */
	unsigned first = 4096 - (lin & 0xfff);
	uint32_t p1 = fill(cpu, lin, ACC_WRITE, user);
	uint32_t p2 = fill(cpu, lin + first, ACC_WRITE, user);
	for (unsigned i = 0; i < size; i++) {
		uint32_t p = i < first ? p1 + i : p2 + (i - first);
		write_phys_checked(cpu, p, 1, val >> (8 * i));
	}
}

void mmu_read_buf(struct cpu *cpu, uint32_t lin, void *buf, unsigned len, bool user)
{
	uint8_t *out = buf;
	for (unsigned i = 0; i < len; i++)
		out[i] = (uint8_t)lin_read(cpu, lin + i, 1, user);
}

void mmu_probe_write(struct cpu *cpu, uint32_t lin, unsigned len, bool user)
{
	if (!len)
		return;
	uint32_t last = lin + len - 1;
	for (uint32_t pg = lin & ~0xfffu;; pg += 4096) {
		fill(cpu, pg < lin ? lin : pg, ACC_WRITE, user);
		if (pg == (last & ~0xfffu))
			break;
	}
}

void mmu_write_buf(struct cpu *cpu, uint32_t lin, const void *buf, unsigned len, bool user)
{
	const uint8_t *in = buf;
	mmu_probe_write(cpu, lin, len, user);
	for (unsigned i = 0; i < len; i++)
		lin_write(cpu, lin + i, 1, in[i], user);
}

uint8_t *mmu_rw_ptr(struct cpu *cpu, uint32_t lin, unsigned size, bool user)
{
	if ((lin & 0xfff) + size > 4096)
		return NULL;
	struct tlb_entry *e = &cpu->tlb[user][(lin >> 12) & (TLB_SIZE - 1)];
	if (e->vwrite != (lin & ~0xfffu))
		fill(cpu, lin, ACC_WRITE, user);
	if (e->vwrite != (lin & ~0xfffu))
		return NULL;
	return e->host + (lin & 0xfff);
}

void mmu_flush(struct cpu *cpu, bool keep_global)
{
	for (unsigned u = 0; u < 2; u++)
		for (unsigned i = 0; i < TLB_SIZE; i++) {
			struct tlb_entry *e = &cpu->tlb[u][i];
			if (keep_global && e->global && e->vread != TLB_INVALID)
				continue;
			e->vread = e->vwrite = TLB_INVALID;
			e->global = false;
		}
	tb_jc_flush(cpu);
}

void mmu_invlpg(struct cpu *cpu, uint32_t lin)
{
	for (unsigned u = 0; u < 2; u++) {
		struct tlb_entry *e = &cpu->tlb[u][(lin >> 12) & (TLB_SIZE - 1)];
		e->vread = e->vwrite = TLB_INVALID;
		e->global = false;
	}
	tb_jc_flush(cpu);
}
