/*
 * Translation blocks: runs of decoded instructions, cached by the guest
 * physical address of their first byte and CS.D (the only mode bit that
 * changes decoding; everything else is checked when the instruction runs).
 * A jump cache indexed by linear address (one per privilege, since the
 * user/supervisor page check is folded into finding the block) makes the
 * common lookup a compare; it is dropped whenever the TLB is.
 *
 * Self-modifying code: every physical page holding a block is marked in a
 * bitmap; the TLB never holds a write entry for a marked page, so a store
 * to it takes the slow path, which invalidates the page's blocks (found
 * through a per-page hash) and, if the running block was one of them,
 * makes the interpreter leave it after the storing instruction.
 */
#include <stdlib.h>

#include "translator/cpu_int.h"

static const insn_fn handlers[] = {
#define X(map, op, ext, mnem, fn, arg, o1, o2, o3, fr, fw, fu, attr) h_##fn,
#include "translator/insns.def"
#undef X
};

void tb_jc_flush(struct cpu *cpu)
{
	memset(cpu->jc, 0, sizeof(cpu->jc));
}

void tb_flush_all(struct cpu *cpu)
{
	cpu->ntbs = 0;
	cpu->ninsns = 0;
	memset(cpu->tb_hash, 0, sizeof(cpu->tb_hash));
	memset(cpu->page_tbs, 0, sizeof(cpu->page_tbs));
	memset(cpu->code_pages, 0, (1u << 20) / 8);
	tb_jc_flush(cpu);
	cpu->cur_tb = NULL;
}

static unsigned page_bucket(uint32_t ppage)
{
	return ((ppage >> 12) * 2654435761u) >> (32 - 12);
}

static void mark_code_page(struct cpu *cpu, uint32_t ppage)
{
	uint32_t pg = ppage >> 12;
	if (page_has_code(cpu, ppage))
		return;
	cpu->code_pages[pg >> 3] |= (uint8_t)(1u << (pg & 7));
	/* Stores to this page must now take the slow path. */
	for (unsigned u = 0; u < 2; u++)
		for (unsigned i = 0; i < TLB_SIZE; i++)
			if (cpu->tlb[u][i].phys == ppage)
				cpu->tlb[u][i].vwrite = TLB_INVALID;
}

static void link_page(struct cpu *cpu, struct tb *tb, unsigned slot)
{
	unsigned b = page_bucket(tb->page[slot]);
	tb->page_next[slot] = cpu->page_tbs[b];
	cpu->page_tbs[b] = (uintptr_t)tb | slot;
	mark_code_page(cpu, tb->page[slot]);
}

void tb_invalidate_page(struct cpu *cpu, uint32_t ppage)
{
	unsigned b = page_bucket(ppage);
	uintptr_t *link = &cpu->page_tbs[b];
	while (*link) {
		struct tb *tb = (struct tb *)(*link & ~(uintptr_t)1);
		unsigned slot = *link & 1;
		if (tb->page[slot] == ppage || !tb->valid) {
			if (tb->valid) {
				tb->valid = false;
				if (tb == cpu->cur_tb)
					cpu->stop_block = true;
			}
			*link = tb->page_next[slot];
			continue;
		}
		link = &tb->page_next[slot];
	}
	uint32_t pg = ppage >> 12;
	cpu->code_pages[pg >> 3] &= (uint8_t)~(1u << (pg & 7));
	tb_jc_flush(cpu);
}

struct fetch_ctx {
	struct cpu *cpu;
	uint32_t lin;           /* linear address of the instruction */
	uint32_t eip;
	uint32_t page_lin[2];   /* linear pages seen, and their physical pages */
	uint32_t page_phys[2];
	unsigned npages;
	bool first;             /* decoding the block's first instruction: faults are raised */
	bool failed;
};

static int fetch_byte(void *opaque, unsigned off)
{
	struct fetch_ctx *c = opaque;
	struct cpu *cpu = c->cpu;
	uint32_t eip = c->eip + off;
	if (!cpu->code32)
		eip &= 0xffff;
	if (eip > cpu->seg[S_CS].limit) {
		if (c->first)
			cpu_gp(cpu, 0);
		c->failed = true;
		return -1;
	}
	uint32_t lin = cpu->seg[S_CS].base + eip;
	uint32_t lpage = lin & ~0xfffu, phys = 0;
	unsigned k;
	for (k = 0; k < c->npages; k++)
		if (c->page_lin[k] == lpage)
			break;
	if (k == c->npages) {
		if (c->npages == 2) {
			c->failed = true;       /* a third page: end the block before this insn */
			return -1;
		}
		if (!mmu_translate(cpu, lpage, ACC_EXEC, cpu_user(cpu), c->first, &phys)) {
			c->failed = true;
			return -1;
		}
		c->page_lin[k] = lpage;
		c->page_phys[k] = phys & ~0xfffu;
		c->npages++;
	}
	return (int)phys_read(cpu, c->page_phys[k] | (lin & 0xfff), 1);
}

static struct tb *tb_create(struct cpu *cpu, uint32_t lin, uint32_t phys)
{
	if (cpu->ntbs >= TB_POOL || cpu->ninsns + TB_MAX_INSNS > TB_INSN_POOL)
		tb_flush_all(cpu);
	struct tb *tb = &cpu->tbs[cpu->ntbs];
	struct insn *insns = &cpu->insn_pool[cpu->ninsns];
	struct fetch_ctx c = { .cpu = cpu, .eip = cpu->eip, .npages = 1, .first = true };
	c.page_lin[0] = lin & ~0xfffu;
	c.page_phys[0] = phys & ~0xfffu;
	unsigned n = 0;
	uint32_t off = 0;
	while (n < TB_MAX_INSNS) {
		struct insn *in = &insns[n];
		c.failed = false;
		enum decode_status st = decode_insn(&cpu->dec, cpu->code32, fetch_byte, &c, in);
		if (st == DECODE_FETCH || c.failed) {
			if (n == 0) {
				/* A fetch failure that did not raise (a third page?): let the slow path fault. */
				cpu_gp(cpu, 0);
			}
			break;
		}
		if (st != DECODE_OK) {
			/* Undefined or too long: the fault is raised when execution gets here. */
			memset(in, 0, sizeof(*in));
			in->fn = h_decode_fault;
			in->arg = st == DECODE_GP ? EXC_GP : EXC_UD;
			in->len = 0;
			n++;
			break;
		}
		in->fn = fastpath_select(in, handlers[in->form]);
		n++;
		off += in->len;
		c.eip += in->len;
		c.first = false;
		if (insn_forms[in->form].attr & A_END)
			break;
		/* Only the last instruction may reach into a second page. */
		if (((lin + off) & ~0xfffu) != (lin & ~0xfffu) || c.npages > 1)
			break;
	}
	/* Which endings may chain: near branches and blocks cut by size or page. */
	tb->chain = false;
	if (n > 0 && insns[n - 1].fn != h_decode_fault) {
		const struct insn_form *lf = &insn_forms[insns[n - 1].form];
		insn_fn g = handlers[insns[n - 1].form];
		tb->chain = !(lf->attr & A_END) || g == h_jcc || g == h_jmp || g == h_call ||
		            g == h_ret || g == h_loop || g == h_call_ind || g == h_jmp_ind;
	}
	tb->phys = phys;
	tb->lin = lin;
	tb->code32 = cpu->code32;
	tb->valid = true;
	tb->n = (uint16_t)n;
	tb->insns = insns;
	tb->page[0] = phys & ~0xfffu;
	tb->page[1] = c.npages > 1 ? c.page_phys[1] : TB_NOPAGE;
	cpu->ntbs++;
	cpu->ninsns += n;
	unsigned h = (phys ^ (phys >> 13) ^ tb->code32) & (TB_HASH - 1);
	tb->hash_next = cpu->tb_hash[h];
	cpu->tb_hash[h] = tb;
	link_page(cpu, tb, 0);
	if (tb->page[1] != TB_NOPAGE)
		link_page(cpu, tb, 1);
	return tb;
}

struct tb *tb_find_slow(struct cpu *cpu, struct tb **jc)
{
	uint32_t eip = cpu->eip;
	uint32_t lin = cpu->seg[S_CS].base + eip;
	bool user = cpu_user(cpu);
	struct tb *tb;
	if (eip > cpu->seg[S_CS].limit)
		cpu_gp(cpu, 0);
	uint32_t phys;
	mmu_translate(cpu, lin, ACC_EXEC, user, true, &phys);
	unsigned h = (phys ^ (phys >> 13) ^ cpu->code32) & (TB_HASH - 1);
	for (tb = cpu->tb_hash[h]; tb; tb = tb->hash_next) {
		if (tb->phys != phys || !tb->valid || tb->code32 != cpu->code32 || tb->lin != lin)
			continue;
		if (tb->page[1] != TB_NOPAGE) {
			uint32_t p2;
			if (!mmu_translate(cpu, (lin & ~0xfffu) + 4096, ACC_EXEC, user, false, &p2) ||
			    (p2 & ~0xfffu) != tb->page[1])
				continue;
		}
		*jc = tb;
		return tb;
	}
	tb = tb_create(cpu, lin, phys);
	*jc = tb;
	return tb;
}

void h_decode_fault(struct cpu *cpu, const struct insn *in)
{
	if (in->arg == EXC_GP)
		cpu_gp(cpu, 0);
	cpu_ud(cpu);
}
